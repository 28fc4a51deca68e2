// t5510.mjs URL OUTDIR: the run page's Re-run buttons — absent for a
// viewer; a developer clicks "Re-run all jobs" (the form carries its CSRF
// token), lands on the repository's runs, and the new attempt runs.
import { launch, newPage, login, shot, axe, check, noProblems } from './lib.mjs';

const [base, out] = process.argv.slice(2);
const browser = await launch();
try {
	const viewer = await newPage(browser);
	await login(viewer, base, 'vic', 'vic-pass-123');
	await viewer.goto(base + '/runs/1', { waitUntil: 'load' });
	check(!(await viewer.$('form[action$="/rerun"]')), 'a viewer sees a re-run button');
	noProblems(viewer, 'viewer run page');
	await viewer.close();

	const ctx = await browser.createBrowserContext();
	const ctx2 = await browser.createBrowserContext();
	const page = await newPage(ctx);
	await login(page, base, 'dev', 'dev-pass-123');
	await page.goto(base + '/runs/1', { waitUntil: 'load' });
	const buttons = await page.$$eval('.actions button', b => b.map(x => x.textContent));
	check(buttons.includes('Re-run all jobs') && buttons.includes('Re-run failed jobs'),
	      'buttons: ' + JSON.stringify(buttons));
	await shot(page, out, 'run-rerun-buttons');
	await axe(page, 'run page with re-run buttons');
	// keyboard: the button is reachable and submits with Enter
	await page.focus('form[action$="/rerun"] button');
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
	check(page.url().includes('/runs?repo=acme%2Fapp'), 'after re-run at ' + page.url());
	let found = false;
	for (let i = 0; i < 150 && !found; i++) {
		found = !!(await page.$('a[href="/runs/5"]'));
		if (!found) {
			await new Promise(r => setTimeout(r, 200));
			await page.reload({ waitUntil: 'load' });
		}
	}
	check(found, 'the re-run never appeared as run 5');
	await page.goto(base + '/runs/5', { waitUntil: 'load' });
	const facts = await page.$eval('.facts', f => f.textContent);
	check(/Attempt\s*5 \(re-run by dev\)/.test(facts), 'the re-run page facts: ' + facts);
	await shot(page, out, 'run-attempt-5');
	noProblems(page, 'rerun');

	// "Re-run this job" on the job page, once run 5 ended (it fails: no flag)
	const testHref = await page.$$eval('a[href^="/runs/5/jobs/"]', as => {
		const a = as.find(x => x.textContent.trim() === 'test' &&
				  /\/jobs\/\d+$/.test(x.getAttribute('href')));
		return a ? a.getAttribute('href') : null;
	});
	check(testHref, 'no link to the test job on run 5');
	let button = null;
	for (let i = 0; i < 300 && !button; i++) {
		await page.goto(base + testHref, { waitUntil: 'load' });
		button = await page.$('form[action="/runs/5/rerun"] input[name="job"] + button');
		if (!button)
			await new Promise(r => setTimeout(r, 200));
	}
	check(button, 'no Re-run this job button once run 5 ended');
	check((await page.evaluate(b => b.textContent, button)) === 'Re-run this job', 'button label');
	await shot(page, out, 'job-rerun-button');
	await axe(page, 'job page with its re-run button');
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
	check(page.url().includes('/runs?repo=acme%2Fapp'), 'after job re-run at ' + page.url());
	found = false;
	for (let i = 0; i < 150 && !found; i++) {
		found = !!(await page.$('a[href="/runs/6"]'));
		if (!found) {
			await new Promise(r => setTimeout(r, 200));
			await page.reload({ waitUntil: 'load' });
		}
	}
	check(found, 'the job re-run never appeared as run 6');
	noProblems(page, 'job rerun');

	const vjob = await newPage(ctx2);
	await login(vjob, base, 'vic', 'vic-pass-123');
	await vjob.goto(base + testHref, { waitUntil: 'load' });
	check(!(await vjob.$('form[action$="/rerun"]')), 'a viewer sees Re-run this job');
	noProblems(vjob, 'viewer job page');
} finally {
	await browser.close();
}
console.log('ok');
