// t5502.mjs URL OUTDIR: sign in as an admin and a viewer through the real
// form; every main page: screenshot, axe, weight, no CSP violation; a
// request without the CSRF token is refused from inside the browser.
import fs from 'node:fs';
import path from 'node:path';
import { launch, newPage, login, shot, axe, weight, check, noProblems } from './lib.mjs';

const [base, out] = process.argv.slice(2);
const browser = await launch();
const weights = {};
try {
	const page = await newPage(browser);
	await page.goto(base + '/settings', { waitUntil: 'load' });
	check(page.url().includes('/login?next=%2Fsettings'), 'anonymous: not sent to sign-in: ' + page.url());
	await shot(page, out, 'login');
	await axe(page, 'login');
	weights.login = await weight(page);

	await page.type('#user', 'alice');
	await page.type('#password', 'alice-pass-1');
	await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
	check(page.url() === base + '/settings', 'sign-in did not go back to /settings: ' + page.url());
	const cookies = await page.cookies();
	const sess = cookies.find(c => c.name === 'kiln_session');
	check(sess && sess.httpOnly && sess.sameSite === 'Strict', 'session cookie: ' + JSON.stringify(sess));
	check(await page.evaluate(() => document.cookie.includes('kiln_session')) === false,
	      'the session cookie is readable by scripts');

	for (const [name, p] of [['settings', '/settings'], ['repositories', '/']]) {
		await page.goto(base + p, { waitUntil: 'load' });
		await shot(page, out, name);
		await axe(page, name);
		weights[name] = await weight(page);
		noProblems(page, name);
	}

	// a forged POST (no CSRF token) from the page's own origin is refused
	const forged = await page.evaluate(async () => {
		const r = await fetch('/settings/users', { method: 'POST',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: 'name=mallory&role=admin&password=mallory-pass-1' });
		return r.status;
	});
	check(forged === 403, 'CSRF-less POST answered ' + forged);
	await page.goto(base + '/settings', { waitUntil: 'load' });
	check(!(await page.content()).includes('mallory'), 'the forged POST created a user');

	// the keyboard reaches the sign-out button
	await page.goto(base + '/', { waitUntil: 'load' });
	await page.keyboard.press('Tab');
	const first = await page.evaluate(() => document.activeElement.textContent);
	check(first === 'Skip to content', 'first Tab stop: ' + first);

	// the viewer: no settings link, settings refused
	const v = await newPage(await browser.createBrowserContext());
	await login(v, base, 'vic', 'vic-pass-12');
	check(!(await v.$('a[href="/settings"]')), 'viewer sees the settings link');
	const resp = await v.goto(base + '/settings', { waitUntil: 'load' });
	check(resp.status() === 403, 'viewer got settings: ' + resp.status());
	noProblems(v, 'viewer');
} finally {
	await browser.close();
}
fs.writeFileSync(path.join(out, 'weights.json'), JSON.stringify(weights, null, 1));
console.log('ok');
