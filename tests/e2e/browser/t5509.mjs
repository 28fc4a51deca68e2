// t5509.mjs URL OUTDIR: the live rollout page of `web` — the status text
// refreshes by itself; it shows the canary at 20%, and after the test
// promotes it (once OUTDIR/at-20 exists), the new weights without reload.
import fs from 'node:fs';
import path from 'node:path';
import { launch, newPage, login, shot, axe, check, noProblems } from './lib.mjs';

const [base, out] = process.argv.slice(2);
const browser = await launch();
try {
	const page = await newPage(browser);
	await login(page, base, 'alice', 'alice-pass-1');
	await page.goto(base + '/deployments/app/web', { waitUntil: 'load' });
	await page.waitForFunction(() => /canary/i.test(document.getElementById('rollout').textContent) &&
		/20%/.test(document.getElementById('rollout').textContent), { timeout: 30000 });
	const before = await page.$eval('#rollout', p => p.textContent);
	// the graph of release 2 at 20% (server-rendered, no reload needed)
	await page.waitForSelector('#rollout-graph .rg[data-release="2"][data-share="20"]', { timeout: 30000 });
	const desc = await page.$eval('#rollout-graph svg desc', d => d.textContent);
	check(/v2 now receives 20% of the traffic, the stable release 80%/.test(desc), 'graph desc: ' + desc);
	await shot(page, out, 'rollout-20');
	await axe(page, 'rollout');
	fs.mkdirSync(out, { recursive: true });
	fs.writeFileSync(path.join(out, 'at-20'), before);
	// the test promotes now; the page changes by itself
	await page.waitForFunction(() => /60%/.test(document.getElementById('rollout').textContent), { timeout: 30000 });
	const after = await page.$eval('#rollout', p => p.textContent);
	check(after !== before, 'the rollout text did not change');
	// the graph follows without a reload: 60%, step 4 current, and the
	// new version's area reaches higher
	await page.waitForSelector('#rollout-graph .rg[data-release="2"][data-share="60"]', { timeout: 30000 });
	const cur = await page.$eval('.rg-steps [aria-current="step"]', li => li.textContent);
	check(/^4 pause current$/.test(cur.trim()), 'current step ' + cur);
	check(await page.evaluate(() => performance.getEntriesByType('navigation').length) === 1 &&
	      await page.evaluate(() => performance.getEntriesByType('navigation')[0].type) === 'navigate',
	      'the page was reloaded');
	await shot(page, out, 'rollout-60');
	noProblems(page, 'rollout');
} finally {
	await browser.close();
}
console.log('ok');
