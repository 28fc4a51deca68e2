// t6203.mjs URL OUTDIR: the Apps page of a server running the GitOps
// controller — a viewer sees sync, health and releases but no Sync
// button; a deployer syncs the OutOfSync manual app `api` with its
// button and sees it Synced on v1 without leaving the page's flow.
import { launch, newPage, login, shot, axe, check, noProblems } from './lib.mjs';

const [base, out] = process.argv.slice(2);
const cell = (page, app, col) => page.$eval(`tr[data-app="${app}"]`,
	(tr, col) => tr.children[col].textContent.trim(), col);
const browser = await launch();
try {
	const viewer = await newPage(browser);
	await login(viewer, base, 'vic', 'vic-pass-123');
	await viewer.goto(base + '/apps', { waitUntil: 'load' });
	check(/^OutOfSync/.test(await cell(viewer, 'api', 1)), 'api sync: ' + await cell(viewer, 'api', 1));
	check(/^Synced/.test(await cell(viewer, 'web', 1)), 'web sync: ' + await cell(viewer, 'web', 1));
	check(/^Healthy/.test(await cell(viewer, 'web', 2)), 'web health: ' + await cell(viewer, 'web', 2));
	check(await viewer.$('form[action="/apps/api/sync"]') === null, 'a viewer has a Sync button');
	check(await viewer.$('nav a[href="/apps"][aria-current="page"]') !== null, 'Apps is not the current nav item');
	await axe(viewer, 'apps (viewer)');
	await shot(viewer, out, 'apps-viewer');
	noProblems(viewer, 'apps (viewer)');
	await viewer.close();

	const page = await newPage(browser);
	await login(page, base, 'dep', 'dep-pass-123');
	await page.goto(base + '/apps', { waitUntil: 'load' });
	check(await cell(page, 'api', 3) === 'v1' && await cell(page, 'api', 4) === 'v2',
	      'api desired/live: ' + await cell(page, 'api', 3) + '/' + await cell(page, 'api', 4));
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
			   page.click('tr[data-app="api"] button[type=submit]')]);
	check(page.url() === base + '/apps', 'after Sync: ' + page.url());
	// the rollout runs in the controller: reload until it is done
	for (let i = 0; i < 120; i++) {
		if (/^Synced/.test(await cell(page, 'api', 1)) && /^Healthy/.test(await cell(page, 'api', 2)) &&
		    await cell(page, 'api', 4) === 'v1')
			break;
		await new Promise(r => setTimeout(r, 500));
		await page.reload({ waitUntil: 'load' });
	}
	check(/^Synced/.test(await cell(page, 'api', 1)) && await cell(page, 'api', 4) === 'v1',
	      'api after Sync: ' + await cell(page, 'api', 1) + ' live ' + await cell(page, 'api', 4));
	await axe(page, 'apps (deployer)');
	await shot(page, out, 'apps-deployer');
	noProblems(page, 'apps (deployer)');
} finally {
	await browser.close();
}
console.log('ok');
