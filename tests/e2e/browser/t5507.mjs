// t5507.mjs URL OUTDIR JOBPATH: a running job's page; new lines arrive
// without reload; scrolled to the end it follows; scrolled up it stays.
import { launch, newPage, login, shot, check, noProblems } from './lib.mjs';

const [base, out, job] = process.argv.slice(2);
const browser = await launch();
try {
	const page = await newPage(browser);
	await page.setViewport({ width: 1000, height: 500 });
	await login(page, base, 'alice', 'alice-pass-1');
	await page.goto(base + job, { waitUntil: 'load' });
	const first = await page.$$eval('#log .l', l => l.length);
	check(await page.$('#log[data-stream]'), 'the page does not stream (job already over?)');
	// "Show timestamps": hidden at first, shown by a click, and on the
	// lines that arrive live too
	const shown = () => page.evaluate(() => {
		const t = document.querySelectorAll('#log .l .t');
		return t.length ? getComputedStyle(t[t.length - 1]).display !== 'none' : null;
	});
	check(await shown() === false, 'timestamps shown before the toggle');
	// (a click without scrolling the page: following the end is tested next)
	await page.$eval('#ts-toggle', a => a.click());
	check(await shown() === true, 'timestamps not shown after the toggle');
	check(await page.$eval('#ts-toggle', a => a.getAttribute('aria-pressed')) === 'true', 'aria-pressed');
	check(!page.url().includes('timestamps'), 'the toggle navigated: ' + page.url());
	// new lines come in without a reload
	await page.waitForFunction(n => document.querySelectorAll('#log .l').length > n + 10, { timeout: 20000 }, first);
	check(await shown() === true, 'a live line has no visible timestamp');
	const stamp = await page.$eval('#log .l:last-child .t', t => [t.getAttribute('datetime'), t.textContent]);
	check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(stamp[0]) && stamp[0].slice(11, 23) === stamp[1],
	      'live line time ' + JSON.stringify(stamp));
	await shot(page, out, 'job-live-timestamps');
	const followed = await page.evaluate(() =>
		window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 60);
	check(followed, 'the page did not follow the end of the log');
	// the reader scrolls up: the position stays while lines keep coming
	await page.evaluate(() => window.scrollTo(0, 0));
	await new Promise(r => setTimeout(r, 300));
	const n1 = await page.$$eval('#log .l', l => l.length);
	await page.waitForFunction(n => document.querySelectorAll('#log .l').length > n + 5, { timeout: 20000 }, n1);
	check(await page.evaluate(() => window.scrollY) === 0, 'auto-scroll went on after scrolling up');
	// the end
	await page.waitForFunction(() => /The job finished: success/.test(document.getElementById('live-status').textContent), { timeout: 60000 });
	const text = await page.$eval('#log', l => l.textContent);
	check(text.includes('tick 200 <b>'), 'last line missing');
	const nums = await page.$$eval('#log .l .n', a => a.map(x => Number(x.textContent)));
	check(nums.every((v, i) => v === i + 1), 'line numbers not 1..N in order: ' + nums.slice(0, 80).join(','));
	// keyboard: Space on the focused toggle hides them again
	await page.focus('#ts-toggle');
	await page.keyboard.press('Space');
	check(await shown() === false, 'Space did not hide the timestamps');
	await shot(page, out, 'job-live');
	noProblems(page, 'live');
} finally {
	await browser.close();
}
console.log('ok');
