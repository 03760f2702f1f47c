#!/usr/bin/env node
/*
 * Drives the EduGate OpenID provider with client libraries we did not
 * write: openid-client (discovery, authorization URL, callback checks,
 * code exchange, ID token validation, userinfo, refresh, revocation, end
 * session URL) and jose (ID and access tokens verified against the JWKS).
 * The browser's part (authorize, the login form, the redirects back) is
 * plain HTTP with a cookie jar of our own.
 *
 * Reads its configuration as JSON on stdin:
 *   {"issuer": "http://127.0.0.1:PORT",
 *    "access_token_audience": "...",            (default: the issuer)
 *    "resource_url": "...",          a protected location of the gateway
 *    "user": {"username": "...", "password": "..."},
 *    "confidential": {"client_id", "client_secret", "redirect_uri",
 *                     "post_logout_redirect_uri", "scope"},
 *    "public": {"client_id", "redirect_uri", "scope"}}
 * and prints one JSON document: what each step found, or the error that
 * stopped it ({"error": {"name", "message", "code"}}).  Steps named
 * reject_* are checks that must fail; their result says how.
 */
'use strict';

const http = require('node:http');
const { Issuer, TokenSet, generators } = require('openid-client');
const jose = require('jose');

const MAX_HOPS = 10;

/* ---- the browser's part ------------------------------------------------ */

class Browser {
    constructor() {
        this.cookies = new Map();
        this.hops = [];
    }

    cookieHeader() {
        return Array.from(this.cookies, ([k, v]) => k + '=' + v).join('; ');
    }

    keepCookies(setCookie) {
        for (const line of setCookie || []) {
            const parts = line.split(';').map((p) => p.trim());
            const eq = parts[0].indexOf('=');
            if (eq < 1) {
                continue;
            }
            const name = parts[0].slice(0, eq);
            const value = parts[0].slice(eq + 1);
            const gone = parts.slice(1).some((p) => /^max-age=0$/i.test(p) ||
                (/^expires=/i.test(p) &&
                 Date.parse(p.slice(8)) < Date.now()));
            if (gone || value === '') {
                this.cookies.delete(name);
            } else {
                this.cookies.set(name, value);
            }
        }
    }

    request(method, url, body, headers) {
        const u = new URL(url);
        if (u.protocol !== 'http:') {
            return Promise.reject(new Error('http only: ' + url));
        }
        const h = Object.assign({}, headers || {});
        if (this.cookies.size) {
            h.Cookie = this.cookieHeader();
        }
        if (body !== undefined) {
            h['Content-Length'] = Buffer.byteLength(body);
        }
        return new Promise((resolve, reject) => {
            const req = http.request({
                method: method,
                hostname: u.hostname,
                port: u.port,
                path: u.pathname + u.search,
                headers: h,
                timeout: 15000
            }, (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => {
                    this.keepCookies(res.headers['set-cookie']);
                    const location = res.headers.location;
                    this.hops.push(method + ' ' + u.pathname + ' -> ' +
                                   res.statusCode);
                    resolve({
                        status: res.statusCode,
                        headers: res.headers,
                        location: location ? new URL(location, url).href
                                           : null,
                        body: Buffer.concat(chunks).toString('utf8'),
                        url: url
                    });
                });
            });
            req.on('timeout', () => req.destroy(new Error('timeout')));
            req.on('error', reject);
            if (body !== undefined) {
                req.write(body);
            }
            req.end();
        });
    }

    /* The <input name=... value=...> pairs and the action of a form. */
    static form(page) {
        const fields = {};
        const inputs = page.match(/<input\b[^>]*>/gi) || [];
        for (const tag of inputs) {
            const name = /\bname="([^"]*)"/i.exec(tag);
            const value = /\bvalue="([^"]*)"/i.exec(tag);
            if (name) {
                fields[unescapeHtml(name[1])] =
                    value ? unescapeHtml(value[1]) : '';
            }
        }
        const action = /<form\b[^>]*\baction="([^"]*)"/i.exec(page);
        return { fields: fields, action: action ? unescapeHtml(action[1])
                                                : null };
    }

    /*
     * GET url and follow redirects like a browser, logging in on the
     * gateway's form when it shows up, until a redirect to a URL starting
     * with `until`: returns that URL.  Throws if the flow ends elsewhere.
     */
    async navigate(url, until, user) {
        let res = await this.request('GET', url);
        let loggedIn = false;
        for (let i = 0; i < MAX_HOPS; i++) {
            if (res.location && res.location.startsWith(until)) {
                return res.location;
            }
            if (res.status >= 300 && res.status < 400 && res.location) {
                res = await this.request('GET', res.location);
                continue;
            }
            const form = Browser.form(res.body);
            if (res.status === 200 && 'csrf' in form.fields && user &&
                    !loggedIn) {
                form.fields.username = user.username;
                form.fields.password = user.password;
                loggedIn = true;
                res = await this.request(
                    'POST', new URL(form.action || res.url, res.url).href,
                    new URLSearchParams(form.fields).toString(),
                    { 'Content-Type': 'application/x-www-form-urlencoded' });
                continue;
            }
            const err = new Error('the flow stopped at ' + res.url + ' (' +
                                  res.status + ')');
            err.status = res.status;
            err.page = res.body.slice(0, 500);
            throw err;
        }
        throw new Error('too many redirects');
    }
}

function unescapeHtml(s) {
    return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/* ---- result recording --------------------------------------------------- */

function describe(err) {
    return {
        name: err.name || err.constructor.name,
        message: String(err.message),
        code: err.error || err.code || null,
        status: (err.response && err.response.statusCode) || err.status ||
                null
    };
}

async function step(out, name, fn) {
    try {
        out[name] = await fn();
    } catch (err) {
        out[name] = { error: describe(err) };
    }
    return out[name];
}

/* A check that must fail: how it failed, or that it did not. */
async function reject(out, name, fn) {
    try {
        const r = await fn();
        out[name] = { rejected: false, result: r === undefined ? null : r };
    } catch (err) {
        out[name] = { rejected: true, error: describe(err) };
    }
}

function b64urlJson(obj) {
    return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

function decodePart(token, i) {
    return JSON.parse(Buffer.from(token.split('.')[i], 'base64url'));
}

/* ---- the flows ---------------------------------------------------------- */

function pkce() {
    const verifier = generators.codeVerifier();
    return {
        verifier: verifier,
        challenge: generators.codeChallenge(verifier),
        state: generators.state(),
        nonce: generators.nonce()
    };
}

/* Authorize through the browser; the callback parameters. */
async function authorize(browser, client, cfg, user, p, extra) {
    const url = client.authorizationUrl(Object.assign({
        scope: cfg.scope,
        state: p.state,
        nonce: p.nonce,
        code_challenge: p.challenge,
        code_challenge_method: 'S256'
    }, extra || {}));
    const back = await browser.navigate(url, cfg.redirect_uri, user);
    return client.callbackParams(back);
}

/* A request to an API behind the gateway with the access token. */
async function resource(client, url, tokens) {
    const res = await client.requestResource(url, tokens.access_token, {
        headers: { Accept: 'application/json' }
    });
    const text = res.body ? res.body.toString('utf8') : '';
    let doc = null;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        doc = { text: text.slice(0, 300) };
    }
    return { status: res.statusCode, body: doc };
}

async function main(cfg) {
    const out = { hops: null };
    const browser = new Browser();
    const conf = cfg.confidential;
    const pub = cfg.public;
    const atAudience = cfg.access_token_audience || cfg.issuer;

    const issuer = await Issuer.discover(cfg.issuer);
    out.discovery = issuer.metadata;
    out.discovery_issuer_matches = issuer.issuer === cfg.issuer;

    const client = new issuer.Client({
        client_id: conf.client_id,
        client_secret: conf.client_secret,
        redirect_uris: [conf.redirect_uri],
        post_logout_redirect_uris: [conf.post_logout_redirect_uri],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256'
    });
    const jwks = jose.createRemoteJWKSet(new URL(issuer.metadata.jwks_uri));

    /* the authorization code flow, start to end */
    const p = pkce();
    const params = await authorize(browser, client, conf, cfg.user, p);
    out.callback_params = Object.keys(params).sort();
    out.callback_iss = params.iss || null;
    const tokens = await client.callback(conf.redirect_uri, params, {
        state: p.state, nonce: p.nonce, code_verifier: p.verifier });
    out.tokens = {
        token_type: tokens.token_type,
        scope: tokens.scope,
        expires_in: tokens.expires_in,
        has_refresh_token: Boolean(tokens.refresh_token),
        id_token_header: decodePart(tokens.id_token, 0),
        access_token_header: decodePart(tokens.access_token, 0),
        access_token: tokens.access_token
    };
    out.id_token_claims = tokens.claims();

    await step(out, 'userinfo', () => client.userinfo(tokens));
    await step(out, 'protected_resource',
               () => resource(client, cfg.resource_url, tokens));

    await step(out, 'jose_id_token', async () => {
        const r = await jose.jwtVerify(tokens.id_token, jwks, {
            issuer: cfg.issuer,
            audience: conf.client_id,
            algorithms: ['RS256', 'ES256'],
            requiredClaims: ['sub', 'exp', 'iat', 'nonce']
        });
        return { header: r.protectedHeader, payload: r.payload };
    });
    await step(out, 'jose_access_token', async () => {
        const r = await jose.jwtVerify(tokens.access_token, jwks, {
            issuer: cfg.issuer,
            audience: atAudience,
            typ: 'at+jwt',
            algorithms: ['RS256', 'ES256'],
            requiredClaims: ['sub', 'exp', 'iat']
        });
        return { header: r.protectedHeader, payload: r.payload };
    });

    /* what the libraries must refuse */
    await reject(out, 'reject_tampered_id_token_jose', () => {
        const parts = tokens.id_token.split('.');
        const claims = decodePart(tokens.id_token, 1);
        claims.sub = 'tea01';
        return jose.jwtVerify(parts[0] + '.' + b64urlJson(claims) + '.' +
                              parts[2], jwks, { issuer: cfg.issuer,
                                                audience: conf.client_id });
    });
    await reject(out, 'reject_tampered_id_token_client', () => {
        const parts = tokens.id_token.split('.');
        const claims = decodePart(tokens.id_token, 1);
        claims.name = 'someone else';
        return client.validateIdToken(new TokenSet({
            id_token: parts[0] + '.' + b64urlJson(claims) + '.' + parts[2]
        }), p.nonce, 'token');
    });
    await reject(out, 'reject_alg_none', () => {
        const claims = decodePart(tokens.id_token, 1);
        return jose.jwtVerify(b64urlJson({ alg: 'none' }) + '.' +
                              b64urlJson(claims) + '.', jwks,
                              { issuer: cfg.issuer,
                                audience: conf.client_id });
    });
    await reject(out, 'reject_wrong_audience', () => jose.jwtVerify(
        tokens.id_token, jwks, { issuer: cfg.issuer,
                                 audience: 'another-client' }));
    await reject(out, 'reject_id_token_as_access_token', () => jose.jwtVerify(
        tokens.id_token, jwks, { issuer: cfg.issuer, typ: 'at+jwt' }));
    /*
     * A code used twice: refused, and (RFC 6749 4.1.2) what the first use
     * gave is revoked, so that grant's refresh token is dead too.
     */
    await reject(out, 'reject_code_replay', async () => {
        const q = pkce();
        const ps = await authorize(browser, client, conf, null, q);
        const checks = { state: q.state, nonce: q.nonce,
                         code_verifier: q.verifier };
        out.replayed_grant = await client.callback(conf.redirect_uri, ps,
                                                   checks);
        return client.callback(conf.redirect_uri, ps, checks);
    });
    if (out.replayed_grant) {
        const first = out.replayed_grant;
        delete out.replayed_grant;
        await reject(out, 'reject_refresh_after_code_replay',
                     () => client.refresh(first.refresh_token));
    }

    /* each needs a code of its own: the session makes it without a form */
    await reject(out, 'reject_wrong_nonce', async () => {
        const q = pkce();
        const ps = await authorize(browser, client, conf, null, q);
        return client.callback(conf.redirect_uri, ps, {
            state: q.state, nonce: generators.nonce(),
            code_verifier: q.verifier });
    });
    await reject(out, 'reject_wrong_state', async () => {
        const q = pkce();
        const ps = await authorize(browser, client, conf, null, q);
        return client.callback(conf.redirect_uri, ps, {
            state: generators.state(), nonce: q.nonce,
            code_verifier: q.verifier });
    });
    await reject(out, 'reject_wrong_iss', async () => {
        const q = pkce();
        const ps = await authorize(browser, client, conf, null, q);
        ps.iss = 'http://127.0.0.1:1';
        return client.callback(conf.redirect_uri, ps, {
            state: q.state, nonce: q.nonce, code_verifier: q.verifier });
    });
    await reject(out, 'reject_wrong_verifier', async () => {
        const q = pkce();
        const ps = await authorize(browser, client, conf, null, q);
        return client.callback(conf.redirect_uri, ps, {
            state: q.state, nonce: q.nonce,
            code_verifier: generators.codeVerifier() });
    });
    await reject(out, 'reject_wrong_secret', async () => {
        const q = pkce();
        const ps = await authorize(browser, client, conf, null, q);
        const wrong = new issuer.Client({
            client_id: conf.client_id,
            client_secret: conf.client_secret + '-wrong',
            redirect_uris: [conf.redirect_uri],
            token_endpoint_auth_method: 'client_secret_basic'
        });
        return wrong.callback(conf.redirect_uri, ps, {
            state: q.state, nonce: q.nonce, code_verifier: q.verifier });
    });
    await reject(out, 'reject_unregistered_redirect_uri', async () => {
        const q = pkce();
        const url = client.authorizationUrl({
            scope: conf.scope, state: q.state, nonce: q.nonce,
            code_challenge: q.challenge, code_challenge_method: 'S256',
            redirect_uri: conf.redirect_uri + 'x'
        });
        const res = await browser.request('GET', url);
        if (res.location) {
            return { status: res.status, location: res.location };
        }
        const err = new Error('no redirect: ' + res.status);
        err.status = res.status;
        throw err;
    });

    /* refresh, rotation, revocation */
    const refreshed = await step(out, 'refresh', async () => {
        const t = await client.refresh(tokens);
        out.refreshed_tokens = t;
        return {
            new_access_token: t.access_token !== tokens.access_token,
            has_refresh_token: Boolean(t.refresh_token),
            rotated: Boolean(t.refresh_token) &&
                     t.refresh_token !== tokens.refresh_token,
            id_token_claims: t.id_token ? t.claims() : null
        };
    });
    const latest = out.refreshed_tokens || tokens;
    delete out.refreshed_tokens;
    if (refreshed && refreshed.rotated) {
        await reject(out, 'reject_rotated_refresh_token',
                     () => client.refresh(tokens.refresh_token));
    }
    if (latest.refresh_token) {
        await step(out, 'revoke', async () => {
            await client.revoke(latest.refresh_token, 'refresh_token');
            return { revoked: true };
        });
        await reject(out, 'reject_revoked_refresh_token',
                     () => client.refresh(latest.refresh_token));
    }

    /* a public client: PKCE, no secret */
    await step(out, 'public_client', async () => {
        const spa = new issuer.Client({
            client_id: pub.client_id,
            redirect_uris: [pub.redirect_uri],
            response_types: ['code'],
            token_endpoint_auth_method: 'none'
        });
        const q = pkce();
        const ps = await authorize(browser, spa, pub, null, q);
        const t = await spa.callback(pub.redirect_uri, ps, {
            state: q.state, nonce: q.nonce, code_verifier: q.verifier });
        return { claims: t.claims(), scope: t.scope,
                 has_refresh_token: Boolean(t.refresh_token) };
    });
    await reject(out, 'reject_public_client_without_pkce', async () => {
        const spa = new issuer.Client({
            client_id: pub.client_id,
            redirect_uris: [pub.redirect_uri],
            token_endpoint_auth_method: 'none'
        });
        const state = generators.state();
        const url = spa.authorizationUrl({ scope: pub.scope, state: state,
                                           nonce: generators.nonce() });
        const back = await browser.navigate(url, pub.redirect_uri, null);
        return spa.callback(pub.redirect_uri, spa.callbackParams(back),
                            { state: state });
    });

    /* RP-initiated logout, then the session is gone */
    await step(out, 'end_session', async () => {
        const state = generators.state();
        const url = client.endSessionUrl({
            id_token_hint: latest.id_token || tokens.id_token,
            post_logout_redirect_uri: conf.post_logout_redirect_uri,
            state: state
        });
        const res = await browser.request('GET', url);
        const back = res.location ? new URL(res.location) : null;
        return {
            url: url,
            status: res.status,
            location: res.location,
            back_to_client: back !== null && res.location.startsWith(
                conf.post_logout_redirect_uri),
            state_returned: back !== null &&
                            back.searchParams.get('state') === state
        };
    });
    await reject(out, 'reject_prompt_none_after_logout', async () => {
        const q = pkce();
        const ps = await authorize(browser, client, conf, null, q,
                                   { prompt: 'none' });
        return client.callback(conf.redirect_uri, ps, {
            state: q.state, nonce: q.nonce, code_verifier: q.verifier });
    });

    await step(out, 'resource_after_logout',
               () => resource(client, cfg.resource_url, tokens));

    out.hops = browser.hops;
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
    .then((out) => {
        process.stdout.write(JSON.stringify(out, null, 1) + '\n');
    })
    .catch((err) => {
        process.stdout.write(JSON.stringify({ fatal: describe(err),
                                              stack: err.stack }) + '\n');
        process.exitCode = 1;
    });
