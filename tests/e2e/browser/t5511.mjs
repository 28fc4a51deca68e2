// t5511.mjs URL OUTDIR: a run with artifacts and annotations — the run
// page passes axe; its annotation "Bad <call>" leads to the job log's
// line, marked and targeted; the report artifact downloads from its link.
import { launch, newPage, login, shot, axe, check, noProblems } from './lib.mjs';

const [base, out] = process.argv.slice(2);
const browser = await launch();
try {
	const page = await newPage(browser);
	page.on('dialog', async d => { page.problems.push('a dialog opened: ' + d.message()); await d.dismiss(); });
	await login(page, base, 'vic', 'vic-pass-123');
	await page.goto(base + '/runs/1', { waitUntil: 'load' });
	await shot(page, out, 'run-annotations-artifacts');
	await axe(page, 'run page with annotations and artifacts');
	const titles = await page.$$eval('ul.annotations strong', s => s.map(x => x.textContent));
	check(titles.includes('Bad <call>'), 'annotation titles ' + JSON.stringify(titles));
	// the report artifact: its link answers the blob to the session
	const dl = await page.$eval('a[href="/runs/1/artifacts/report"]', a => a.href);
	const r = await page.evaluate(async u => {
		const x = await fetch(u, { credentials: 'same-origin' });
		return [x.status, x.headers.get('content-type'), (await x.arrayBuffer()).byteLength];
	}, dl);
	check(r[0] === 200 && r[1] === 'application/zstd' && r[2] > 0, 'download ' + JSON.stringify(r));
	// the annotation's link: through the redirect to the marked line
	const link = await page.$$eval('ul.annotations li', lis => {
		const li = lis.find(l => l.querySelector('strong') && l.querySelector('strong').textContent === 'Bad <call>');
		return li.querySelector('a').getAttribute('href');
	});
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`a[href="${link}"]`)]);
	const target = await page.evaluate(() => {
		const t = document.querySelector(':target');
		return t ? [t.className, t.textContent] : null;
	});
	check(target && target[0].includes('ann-error') && target[1].includes('undefined <script>foo</script>'),
	      'the annotation target ' + JSON.stringify(target) + ' at ' + page.url());
	await shot(page, out, 'job-annotation-target');
	await axe(page, 'job page with annotations');
	noProblems(page, 'artifacts and annotations');
} finally {
	await browser.close();
}
console.log('ok');
