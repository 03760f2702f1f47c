#!/usr/bin/env node
/*
 * Runs the demo single-page app (demo-spa) in a real browser: Debian's
 * Chromium, driven by puppeteer-core.  The page's own JavaScript does the
 * PKCE login, the cross-origin code exchange, the WebCrypto signature
 * check, userinfo, revocation and logout; this script only clicks and
 * types like a person, and reads what the page shows.
 *
 * Reads JSON on stdin:
 *   {"spa_url": "http://127.0.0.1:PORT/spa/", "chromium": "/usr/bin/chromium",
 *    "username": "...", "password": "..."}
 * and prints one JSON document of what it saw ("fatal" says where it
 * stopped, if it did).
 */
'use strict';

const puppeteer = require('puppeteer-core');

const TIMEOUT = 15000;

async function shown(page) {
    return page.evaluate(() => {
        const table = (id) => {
            const out = {};
            for (const row of document.querySelectorAll('#' + id + ' tr')) {
                out[row.cells[0].textContent] = row.cells[1].textContent;
            }
            return out;
        };
        const el = (id) => document.getElementById(id);
        return {
            url: location.href,
            status: el('status').textContent,
            error: el('error').hidden ? null : el('error').textContent,
            logged_in: !el('authenticated').hidden,
            who: el('who').textContent,
            claims: table('claims'),
            userinfo: table('userinfo')
        };
    });
}

/* Waits until the page has settled on something other than "Loading…"
 * and, when logged in, has filled in the userinfo table. */
async function settled(page) {
    await page.waitForFunction(() => {
        const status = document.getElementById('status');
        const auth = document.getElementById('authenticated');
        const error = document.getElementById('error');
        if (!status || status.textContent === 'Loading…') {
            return false;
        }
        return auth.hidden || !error.hidden ||
               document.querySelectorAll('#userinfo tr').length > 0;
    }, { timeout: TIMEOUT });
}

async function main(cfg) {
    const out = { requests: [], failures: [], console: [] };
    const browser = await puppeteer.launch({
        executablePath: cfg.chromium,
        headless: true,
        args: ['--no-sandbox', '--no-first-run', '--disable-gpu']
    });
    try {
        const page = await browser.newPage();
        page.setDefaultTimeout(TIMEOUT);
        const spaOrigin = new URL(cfg.spa_url).origin;
        page.on('request', (r) => {
            if (r.resourceType() === 'fetch' || r.resourceType() === 'xhr') {
                out.requests.push(r.method() + ' ' + r.url().split('?')[0]);
            }
        });
        page.on('requestfailed', (r) => {
            out.failures.push(r.url().split('?')[0] + ': ' +
                              r.failure().errorText);
        });
        page.on('console', (m) => out.console.push(m.text()));

        await page.goto(cfg.spa_url);
        await settled(page);
        out.before = await shown(page);

        await Promise.all([page.waitForNavigation(), page.click('#login')]);
        out.login_form_url = page.url();
        await page.type('input[name=username]', cfg.username);
        await page.type('input[name=password]', cfg.password);
        await Promise.all([
            page.waitForNavigation(),
            page.$eval('form', (f) => f.submit())
        ]);
        await page.waitForFunction(
            (origin) => location.origin === origin &&
                        location.pathname.endsWith('/spa/'),
            {}, spaOrigin);
        await settled(page);
        out.after_login = await shown(page);
        out.storage = await page.evaluate(() => Object.keys(sessionStorage));

        await Promise.all([page.waitForNavigation(), page.click('#logout')]);
        await page.waitForFunction(
            (origin) => location.origin === origin, {}, spaOrigin);
        await settled(page);
        out.after_logout = await shown(page);
        out.storage_after_logout =
            await page.evaluate(() => Object.keys(sessionStorage));
    } catch (err) {
        out.fatal = { name: err.name, message: String(err.message) };
        out.stopped_at = (await browser.pages()).map((p) => p.url());
    } finally {
        await browser.close();
    }
    return out;
}

function readStdin() {
    return new Promise((resolve, reject) => {
        const chunks = [];
        process.stdin.on('data', (c) => chunks.push(c));
        process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
        process.stdin.on('error', reject);
    });
}

readStdin()
    .then((data) => main(JSON.parse(data.toString('utf8'))))
    .then((out) => process.stdout.write(JSON.stringify(out, null, 1) + '\n'))
    .catch((err) => {
        process.stdout.write(JSON.stringify({
            fatal: { name: err.name, message: String(err.message) },
            stack: err.stack
        }) + '\n');
        process.exitCode = 1;
    });
