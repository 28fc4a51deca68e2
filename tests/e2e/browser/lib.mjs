// lib.mjs: what the browser tests share — Debian's chromium through
// puppeteer-core, sign-in like a person, screenshots, axe-core, page
// weights, and a check that no Content-Security-Policy violation happened.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export function fail(msg) {
	console.error('FAIL: ' + msg);
	process.exit(1);
}

export function check(cond, msg) {
	if (!cond)
		fail(msg);
}

// exit 77 when the browser cannot start (the shell test skips)
export async function launch() {
	try {
		return await puppeteer.launch({
			executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
			headless: true,
			args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
			       '--no-first-run', '--no-default-browser-check'],
			timeout: 30000,
		});
	} catch (e) {
		console.error('chromium cannot start: ' + e.message);
		process.exit(77);
	}
}

// a page that records CSP violations and uncaught errors
export async function newPage(browser) {
	const page = await browser.newPage();
	await page.setViewport({ width: 1280, height: 900 });
	page.problems = [];
	page.on('console', m => {
		if (/Content Security Policy|Refused to/.test(m.text()))
			page.problems.push('CSP: ' + m.text());
	});
	page.on('pageerror', e => page.problems.push('script error: ' + e.message));
	return page;
}

export function noProblems(page, where) {
	check(page.problems.length === 0, where + ': ' + page.problems.join('; '));
}

export async function login(page, base, user, password) {
	await page.goto(base + '/login', { waitUntil: 'load' });
	await page.type('#user', user);
	await page.type('#password', password);
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type=submit]')]);
	check(!page.url().includes('/login'), `sign-in of ${user} failed: still at ${page.url()}`);
}

export async function shot(page, dir, name) {
	fs.mkdirSync(dir, { recursive: true });
	await page.screenshot({ path: path.join(dir, name + '.png'), fullPage: true });
}

// axe-core in the page (evaluated over the DevTools protocol, so the
// page's CSP is not loosened for it); fails on serious/critical findings
export async function axe(page, where) {
	await page.evaluate(axeSource);
	const r = await page.evaluate(async () => {
		const res = await window.axe.run(document, { resultTypes: ['violations'] });
		return res.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }));
	});
	const bad = r.filter(v => v.impact === 'serious' || v.impact === 'critical');
	check(bad.length === 0, where + ': accessibility: ' + JSON.stringify(bad));
	return r;
}

// bytes of the document and of everything it loaded (uncompressed)
export async function weight(page) {
	return page.evaluate(() => {
		const nav = performance.getEntriesByType('navigation')[0];
		let total = nav ? nav.decodedBodySize : 0;
		for (const e of performance.getEntriesByType('resource'))
			total += e.decodedBodySize;
		return { document: nav ? nav.decodedBodySize : 0, total };
	});
}
