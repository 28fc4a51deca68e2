// t5506.mjs URL OUTDIR ADMIN_TOKEN: approvals, deployments, DORA in the
// browser — screenshots, axe, weights; the viewer has no Approve button;
// the wait timer counts down (kiln.js); the reviewer approves with a
// comment through the form; the DORA page's figures equal the API's.
import fs from 'node:fs';
import path from 'node:path';
import { launch, newPage, login, shot, axe, weight, check, noProblems } from './lib.mjs';

const [base, out, token] = process.argv.slice(2);
const browser = await launch();
const weights = {};
try {
	const viewer = await newPage(await browser.createBrowserContext());
	await login(viewer, base, 'vic', 'vic-pass-123');
	await viewer.goto(base + '/approvals', { waitUntil: 'load' });
	check(await viewer.$('section.approval'), 'viewer: no waiting deployment shown');
	check(!(await viewer.$('button[value=approve]')), 'viewer sees an Approve button');
	const t1 = await viewer.$eval('.timer[data-until]', e => e.textContent);
	await new Promise(r => setTimeout(r, 1500));
	const t2 = await viewer.$eval('.timer[data-until]', e => e.textContent);
	check(/left$/.test(t1) && t1 !== t2, `timer does not count down: ${t1} / ${t2}`);
	const deadline = await viewer.$$eval('.timer[data-until]', es => es[es.length - 1].textContent);
	check(/^(29d 23h|30d 0h) left$/.test(deadline), `30-day deadline not in days: ${deadline}`);
	noProblems(viewer, 'viewer approvals');

	const bob = await newPage(await browser.createBrowserContext());
	await login(bob, base, 'bob', 'bob-pass-123');
	for (const [name, p] of [['approvals', '/approvals'], ['deployments', '/deployments'],
				 ['dora-30', '/dora?days=30'], ['dora-90', '/dora?days=90']]) {
		await bob.goto(base + p, { waitUntil: 'load' });
		await shot(bob, out, name);
		await axe(bob, name);
		weights[name] = await weight(bob);
		noProblems(bob, name);
	}

	// DORA: every figure on the page equals the API's, for 7/30/90 days
	for (const days of [7, 30, 90]) {
		await bob.goto(`${base}/dora?days=${days}`, { waitUntil: 'load' });
		const api = await (await fetch(`${base}/api/v1/dora?days=${days}`,
			{ headers: { Authorization: 'Bearer ' + token } })).json();
		const page = await bob.$$eval('section.dora', ss => ss.map(s => {
			const v = c => { const e = s.querySelector('.' + c); return e ? e.getAttribute('value') : null; };
			const d = c => { const e = s.querySelector('.' + c + ' data'); return e ? Number(e.value) : null; };
			return { repo: s.dataset.repo, env: s.dataset.environment, deployments: Number(v('deployments')),
				 failed: Number(v('failed')), perDay: Number(v('per-day')),
				 rate: v('rate') === null ? null : Number(v('rate')),
				 lead: d('lead-median'), recovery: d('recovery-median') };
		}));
		check(page.length === api.length, `${days}d: ${page.length} sections, API ${api.length}`);
		for (const a of api) {
			const p = page.find(x => x.repo === a.repo && x.env === a.environment);
			check(p, `${days}d: no section for ${a.repo}/${a.environment}`);
			const df = a.deployment_frequency;
			check(p.deployments === df.deployments && p.failed === df.failed_deployments &&
			      Math.abs(p.perDay - df.per_day) < 1e-6, `${days}d frequency ${JSON.stringify(p)} vs ${JSON.stringify(df)}`);
			check((p.rate === null) === (a.change_failure_rate.rate === null) &&
			      (p.rate === null || Math.abs(p.rate - a.change_failure_rate.rate) < 1e-6), `${days}d rate`);
			check(p.lead === a.lead_time.median_ms, `${days}d lead ${p.lead} vs ${a.lead_time.median_ms}`);
			check(p.recovery === a.recovery_time.median_ms, `${days}d recovery ${p.recovery} vs ${a.recovery_time.median_ms}`);
		}
	}

	// the reviewer approves through the form
	await bob.goto(base + '/approvals', { waitUntil: 'load' });
	await bob.type('textarea[name=comment]', 'ship it');
	await Promise.all([bob.waitForNavigation(), bob.click('button[value=approve]')]);
	check(bob.url() === base + '/approvals', 'after approving: ' + bob.url());
	const txt = await bob.$eval('main', m => m.textContent);
	check(txt.includes('Approved by bob'), 'not approved: ' + txt.slice(0, 300));
	await shot(bob, out, 'approvals-approved');
	noProblems(bob, 'approve');
} finally {
	await browser.close();
}
fs.writeFileSync(path.join(out, 'weights.json'), JSON.stringify(weights, null, 1));
console.log('ok');
