/*
 * The demo single-page app: an OpenID Connect public client (demo-spa)
 * that runs in the browser alone.  Authorization code flow with PKCE
 * S256, the code exchanged by fetch() at the token endpoint (CORS), the
 * ID token's signature checked with WebCrypto against the gateway's JWKS,
 * userinfo with the access token, revocation and RP-initiated logout.
 *
 * The page's <body> carries the configuration as data-* attributes,
 * filled in by the server from the gateway's discovery document.
 */
'use strict';

(function () {
    const cfg = document.body.dataset;
    const LOGIN_KEY = 'demo-spa-login';
    const TOKENS_KEY = 'demo-spa-tokens';
    const LOGOUT_KEY = 'demo-spa-logout';
    const LEEWAY = 30;

    function $(id) {
        return document.getElementById(id);
    }

    function b64url(bytes) {
        let text = '';
        bytes.forEach(function (b) { text += String.fromCharCode(b); });
        return btoa(text).replace(/\+/g, '-').replace(/\//g, '_')
            .replace(/=+$/, '');
    }

    function fromB64url(text) {
        if (!/^[A-Za-z0-9_-]*$/.test(text)) {
            throw new Error('not base64url');
        }
        const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
        const bin = atob(b64 + '==='.slice((b64.length + 3) % 4));
        return Uint8Array.from(bin, function (c) { return c.charCodeAt(0); });
    }

    function jsonPart(part) {
        return JSON.parse(new TextDecoder().decode(fromB64url(part)));
    }

    function randomString() {
        return b64url(crypto.getRandomValues(new Uint8Array(32)));
    }

    async function s256(text) {
        const digest = await crypto.subtle.digest(
            'SHA-256', new TextEncoder().encode(text));
        return b64url(new Uint8Array(digest));
    }

    function readJson(key) {
        try {
            return JSON.parse(sessionStorage.getItem(key) || 'null');
        } catch (e) {
            return null;
        }
    }

    /* ---- login ---------------------------------------------------------- */

    async function login() {
        const pending = {
            state: randomString(),
            nonce: randomString(),
            verifier: randomString()
        };
        sessionStorage.setItem(LOGIN_KEY, JSON.stringify(pending));
        const url = new URL(cfg.authorizationEndpoint);
        url.search = new URLSearchParams({
            response_type: 'code',
            client_id: cfg.clientId,
            redirect_uri: cfg.redirectUri,
            scope: cfg.scope,
            state: pending.state,
            nonce: pending.nonce,
            code_challenge: await s256(pending.verifier),
            code_challenge_method: 'S256'
        }).toString();
        location.assign(url.href);
    }

    /* The JWKS key the token names, imported for WebCrypto. */
    async function verificationKey(header) {
        const resp = await fetch(cfg.jwksUri, { credentials: 'omit' });
        if (!resp.ok) {
            throw new Error('JWKS: HTTP ' + resp.status);
        }
        const jwks = await resp.json();
        const jwk = (jwks.keys || []).find(function (k) {
            return k.kid === header.kid;
        });
        if (!jwk) {
            throw new Error('no key ' + header.kid + ' in the JWKS');
        }
        if (header.alg === 'RS256' && jwk.kty === 'RSA') {
            return {
                algorithm: { name: 'RSASSA-PKCS1-v1_5' },
                key: await crypto.subtle.importKey(
                    'jwk', { kty: 'RSA', n: jwk.n, e: jwk.e },
                    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
                    false, ['verify'])
            };
        }
        if (header.alg === 'ES256' && jwk.kty === 'EC' &&
                jwk.crv === 'P-256') {
            return {
                algorithm: { name: 'ECDSA', hash: 'SHA-256' },
                key: await crypto.subtle.importKey(
                    'jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y },
                    { name: 'ECDSA', namedCurve: 'P-256' },
                    false, ['verify'])
            };
        }
        throw new Error('algorithm ' + header.alg + ' not allowed');
    }

    /* OIDC Core 3.1.3.7: signature, iss, aud, azp, nonce, exp. */
    async function verifyIdToken(idToken, nonce) {
        const parts = String(idToken).split('.');
        if (parts.length !== 3) {
            throw new Error('the ID token is not a JWS');
        }
        const header = jsonPart(parts[0]);
        const claims = jsonPart(parts[1]);
        const v = await verificationKey(header);
        const ok = await crypto.subtle.verify(
            v.algorithm, v.key, fromB64url(parts[2]),
            new TextEncoder().encode(parts[0] + '.' + parts[1]));
        if (!ok) {
            throw new Error('the ID token signature is wrong');
        }
        const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
        const now = Date.now() / 1000;
        if (claims.iss !== cfg.issuer) {
            throw new Error('ID token from ' + claims.iss);
        }
        if (aud.indexOf(cfg.clientId) < 0 ||
                (aud.length > 1 && claims.azp !== cfg.clientId)) {
            throw new Error('ID token not for ' + cfg.clientId);
        }
        if (claims.nonce !== nonce) {
            throw new Error('ID token nonce mismatch');
        }
        if (typeof claims.exp !== 'number' || claims.exp + LEEWAY < now) {
            throw new Error('ID token expired');
        }
        return claims;
    }

    async function callback() {
        const params = new URLSearchParams(location.search);
        /* the code and state leave the address bar and history at once */
        history.replaceState(null, '', new URL(cfg.postLogoutRedirectUri));
        const pending = readJson(LOGIN_KEY);
        sessionStorage.removeItem(LOGIN_KEY);
        if (!pending || params.get('state') !== pending.state) {
            throw new Error('state mismatch: not the login this tab started');
        }
        if (params.has('iss') && params.get('iss') !== cfg.issuer) {
            throw new Error('answer from ' + params.get('iss'));
        }
        if (params.has('error')) {
            throw new Error(params.get('error') + ': ' +
                            (params.get('error_description') || ''));
        }
        const resp = await fetch(cfg.tokenEndpoint, {
            method: 'POST',
            credentials: 'omit',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
                grant_type: 'authorization_code',
                code: params.get('code') || '',
                redirect_uri: cfg.redirectUri,
                client_id: cfg.clientId,
                code_verifier: pending.verifier
            })
        });
        const doc = await resp.json();
        if (!resp.ok) {
            throw new Error('token endpoint: ' + doc.error + ' ' +
                            (doc.error_description || ''));
        }
        const claims = await verifyIdToken(doc.id_token, pending.nonce);
        sessionStorage.setItem(TOKENS_KEY, JSON.stringify({
            access_token: doc.access_token,
            id_token: doc.id_token,
            claims: claims
        }));
    }

    /* ---- showing who is logged in --------------------------------------- */

    function fillTable(table, doc) {
        table.replaceChildren();
        Object.keys(doc).sort().forEach(function (name) {
            const row = table.insertRow();
            const th = document.createElement('th');
            th.textContent = name;
            row.appendChild(th);
            const value = doc[name];
            row.insertCell().textContent =
                typeof value === 'string' ? value : JSON.stringify(value);
        });
    }

    async function userinfo(tokens) {
        const resp = await fetch(cfg.userinfoEndpoint, {
            credentials: 'omit',
            headers: { Authorization: 'Bearer ' + tokens.access_token }
        });
        const doc = await resp.json();
        if (!resp.ok) {
            throw new Error('userinfo: ' + doc.error + ' ' +
                            (doc.error_description || ''));
        }
        if (doc.sub !== tokens.claims.sub) {
            throw new Error('userinfo is about someone else');
        }
        fillTable($('userinfo'), doc);
    }

    async function show() {
        const tokens = readJson(TOKENS_KEY);
        $('anonymous').hidden = tokens !== null;
        $('authenticated').hidden = tokens === null;
        if (tokens === null) {
            if ($('status').dataset.keep !== 'yes') {
                $('status').textContent = 'Not logged in.';
            }
            return;
        }
        $('status').textContent = 'Logged in.';
        $('who').textContent = (tokens.claims.name || tokens.claims.sub) +
            ' (' + tokens.claims.sub + ')';
        fillTable($('claims'), tokens.claims);
        await userinfo(tokens);
    }

    /* ---- logout --------------------------------------------------------- */

    async function logout() {
        const tokens = readJson(TOKENS_KEY);
        sessionStorage.removeItem(TOKENS_KEY);
        if (tokens && cfg.revocationEndpoint) {
            try {
                const resp = await fetch(cfg.revocationEndpoint, {
                    method: 'POST',
                    credentials: 'omit',
                    body: new URLSearchParams({
                        token: tokens.access_token,
                        token_type_hint: 'access_token',
                        client_id: cfg.clientId
                    })
                });
                await resp.text();
            } catch (e) {
                /* the access token expires soon anyway */
            }
        }
        if (!cfg.endSessionEndpoint || !tokens) {
            location.assign(cfg.postLogoutRedirectUri);
            return;
        }
        const state = randomString();
        sessionStorage.setItem(LOGOUT_KEY, state);
        const url = new URL(cfg.endSessionEndpoint);
        url.search = new URLSearchParams({
            id_token_hint: tokens.id_token,
            post_logout_redirect_uri: cfg.postLogoutRedirectUri,
            state: state,
            client_id: cfg.clientId
        }).toString();
        location.assign(url.href);
    }

    function loggedOutReturn() {
        const params = new URLSearchParams(location.search);
        const expected = sessionStorage.getItem(LOGOUT_KEY);
        sessionStorage.removeItem(LOGOUT_KEY);
        history.replaceState(null, '', new URL(cfg.postLogoutRedirectUri));
        if (expected && params.get('state') === expected) {
            $('status').textContent =
                'You are logged out of this app and of EduGate.';
            $('status').dataset.keep = 'yes';
        }
    }

    function fail(err) {
        $('error').textContent = String(err && err.message || err);
        $('error').hidden = false;
    }

    async function main() {
        $('login').addEventListener('click', function () {
            login().catch(fail);
        });
        $('logout').addEventListener('click', function () {
            logout().catch(fail);
        });
        $('reload').addEventListener('click', function () {
            show().catch(fail);
        });
        try {
            if (location.pathname.endsWith('/callback')) {
                await callback();
            } else if (location.search) {
                loggedOutReturn();
            }
        } catch (e) {
            fail(e);
        }
        await show();
    }

    main().catch(fail);
}());
