// t5508.mjs URL OUTDIR RUN: the runs page while a webhook push arrives —
// the run shows up (the list is reloaded as a person would), its build
// job's log streams lines without reload; then cancel it from the page.
import { launch, newPage, login, shot, axe, check, noProblems } from './lib.mjs';

const [base, out, run] = process.argv.slice(2);
const browser = await launch();
try {
	const page = await newPage(browser);
	await login(page, base, 'dev', 'dev-pass-123');
	let found = false;
	for (let i = 0; i < 150 && !found; i++) {
		await page.goto(base + '/runs', { waitUntil: 'load' });
		found = !!(await page.$(`a[href="/runs/${run}"]`));
		if (!found)
			await new Promise(r => setTimeout(r, 200));
	}
	check(found, `run ${run} never appeared on /runs`);
	await shot(page, out, 'runs-after-push');
	await Promise.all([page.waitForNavigation(), page.click(`a[href="/runs/${run}"]`)]);
	let job = null;
	for (let i = 0; i < 100 && !job; i++) {
		job = await page.$$eval('table a[href*="/jobs/"]', as => (as.find(a => a.textContent === 'build') || {}).href);
		if (!job) {
			await new Promise(r => setTimeout(r, 200));
			await page.reload({ waitUntil: 'load' });
		}
	}
	check(job, 'no build job on the run page');
	await page.goto(job, { waitUntil: 'load' });
	check(await page.$('#log[data-stream]'), 'the running job page does not stream');
	const n0 = await page.$$eval('#log .l', l => l.length);
	await page.waitForFunction(n => document.querySelectorAll('#log .l').length >= n + 10, { timeout: 30000 }, n0);
	const text = await page.$eval('#log', l => l.textContent);
	check(text.includes('<script>x</script>'), 'the log line with <script> is not shown as text');
	await shot(page, out, 'job-streaming');
	await axe(page, 'job-streaming');
	// cancel from the run page
	await page.goto(`${base}/runs/${run}`, { waitUntil: 'load' });
	await Promise.all([page.waitForNavigation(), page.click('form[action$="/cancel"] button')]);
	let cancelled = false;
	for (let i = 0; i < 60 && !cancelled; i++) {
		cancelled = /cancelled/.test(await page.$eval('.facts', f => f.textContent));
		if (!cancelled) {
			await new Promise(r => setTimeout(r, 500));
			await page.reload({ waitUntil: 'load' });
		}
	}
	check(cancelled, 'the run was not cancelled from its page');
	await shot(page, out, 'run-cancelled');
	noProblems(page, 'serve');
} finally {
	await browser.close();
}
console.log('ok');
