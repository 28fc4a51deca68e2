// t5504.mjs URL OUTDIR: the runs pages in the browser — screenshots, axe,
// weights; text with <script> stays text (no dialog, no extra script
// element); the annotation of a failed job is at its line; a 50,000-line
// log: time to first render, measured in the browser.
import fs from 'node:fs';
import path from 'node:path';
import { launch, newPage, login, shot, axe, weight, check, noProblems } from './lib.mjs';

const [base, out] = process.argv.slice(2);
const browser = await launch();
const weights = {}, timings = {};
try {
	const page = await newPage(browser);
	page.on('dialog', async d => { page.problems.push('a dialog opened: ' + d.message()); await d.dismiss(); });
	await login(page, base, 'alice', 'alice-pass-1');

	const pages = [['runs', '/runs'], ['run', '/runs/1']];
	await page.goto(base + '/runs/1', { waitUntil: 'load' });
	const jobs = await page.$$eval('table a[href*="/jobs/"]', as => as.map(a => [a.textContent, a.getAttribute('href')]));
	const job = name => (jobs.find(j => j[0] === name) || [])[1];
	check(job('build (linux)') && job('test') && job('big'), 'jobs on the run page: ' + JSON.stringify(jobs));
	pages.push(['job', job('build (linux)')], ['job-failed', job('test')]);
	for (const [name, p] of pages) {
		await page.goto(base + p, { waitUntil: 'load' });
		await shot(page, out, name);
		await axe(page, name);
		weights[name] = await weight(page);
		noProblems(page, name);
		const scripts = await page.$$eval('script', s => s.map(x => x.getAttribute('src')));
		check(scripts.length === 1 && scripts[0].startsWith('/static/kiln.js'),
		      name + ': unexpected script elements ' + JSON.stringify(scripts));
	}

	// the branch name is text
	await page.goto(base + '/runs', { waitUntil: 'load' });
	const branch = await page.$eval('tbody tr td:nth-child(4) code', c => c.textContent);
	check(branch === 'x<script>alert(1)</script>', 'branch shown as ' + branch);

	// the failed job's annotation links to its line, which is marked
	await page.goto(base + job('test'), { waitUntil: 'load' });
	const ann = await page.$eval('ul.annotations a', a => [a.getAttribute('href'), a.textContent]);
	await Promise.all([page.waitForNavigation(), page.click('ul.annotations a')]);
	const target = await page.evaluate(() => {
		const t = document.querySelector(':target');
		return t ? [t.id, t.className, t.textContent] : null;
	});
	check(target && target[0] === ann[0].split('#')[1] && target[1].includes('ann-error') &&
	      target[2].includes('src/x.c:2: boom'), 'annotation target ' + JSON.stringify(target));

	// the 50,000-line log: fresh page, cold navigation, first paint
	const big = await newPage(browser);
	const t0 = Date.now();
	await big.goto(base + job('big'), { waitUntil: 'load' });
	const loaded = Date.now() - t0;
	const perf = await big.evaluate(async () => {
		await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
		const nav = performance.getEntriesByType('navigation')[0];
		const fcp = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
		return { ttfb: nav.responseStart, domContentLoaded: nav.domContentLoadedEventEnd,
			 fcp: fcp ? fcp.startTime : null, bytes: nav.decodedBodySize,
			 lines: document.querySelectorAll('#log .l').length };
	});
	check(perf.lines === 2000, '50k log: lines rendered ' + perf.lines);
	await big.screenshot({ path: path.join(out, 'job-50k-lines.png') }); // the first screen
	timings.log50k = { ...perf, loadMs: loaded };
	weights['job-50k-lines'] = await weight(big);
	noProblems(page, 'runs pages');
} finally {
	await browser.close();
}
fs.writeFileSync(path.join(out, 'weights.json'), JSON.stringify(weights, null, 1));
fs.writeFileSync(path.join(out, 'timings.json'), JSON.stringify(timings, null, 1));
console.log(JSON.stringify(timings));
