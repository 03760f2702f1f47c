#!/usr/bin/env python3
"""The demo OpenID Connect relying parties of EduGate, on one port.

/           the "portal", a confidential client (demo-portal): server-side
            authorization code flow with state, nonce and PKCE S256, the
            code exchanged with client_secret_basic, the ID token verified
            with PyJWT against the gateway's JWKS, userinfo, refresh,
            RP-initiated logout, and a back-channel logout endpoint that
            ends the local sessions of a gateway session.
/spa/       a public client (demo-spa) that runs in the browser only:
            static HTML and JavaScript (WebCrypto PKCE, fetch to the token
            and userinfo endpoints across origins).
/me         the portal session of the caller as JSON, for scripts.

    python3 oidc_portal.py --port 8081 --issuer http://127.0.0.1:8080

The client secret is read from $DEMO_PORTAL_SECRET, by default the
published demo secret "demo-portal-secret".  Never use it elsewhere.
"""

import argparse
import base64
import hashlib
import os
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_web import (Handler, OutboundError, Store, call_json,  # noqa: E402
                      claims_table, clear_cookie, esc, new_secret, serve,
                      set_cookie)

SPA_DIR = Path(__file__).resolve().parent / "spa"

DEMO_SECRET = "demo-portal-secret"
SESSION_COOKIE = "demo_portal_session"
LOGIN_COOKIE = "demo_portal_login"
LOGOUT_COOKIE = "demo_portal_logout"

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = ("RS256", "ES256")
LEEWAY = 30
KEY_REFETCH_INTERVAL = 10.0
METADATA_LIFETIME = 3600.0


class TokenError(Exception):
    """A token or an answer of the provider that the portal refuses."""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier):
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def jwk_algorithm(jwk):
    """The one algorithm a signing key of the JWKS may be used with."""
    if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
        return None
    if "alg" in jwk:
        alg = jwk["alg"]
    elif jwk.get("kty") == "RSA":
        alg = "RS256"
    elif jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        alg = "ES256"
    else:
        return None
    return alg if alg in ALGORITHMS else None


class Provider:
    """The OpenID provider as its discovery document and JWKS describe it,
    both fetched when first needed (the gateway may start after us)."""

    def __init__(self, issuer):
        self.issuer = issuer
        self.lock = threading.Lock()
        self.meta = None
        self.meta_at = 0.0
        self.keys_lock = threading.Lock()
        self.keys = {}
        self.keys_at = None

    def metadata(self):
        with self.lock:
            now = time.monotonic()
            if self.meta is None or now - self.meta_at > METADATA_LIFETIME:
                url = self.issuer + "/.well-known/openid-configuration"
                status, doc = call_json("GET", url)
                if status != 200:
                    raise OutboundError("%s: status %d" % (url, status))
                # OIDC Discovery 4.3: the document must name our issuer
                if doc.get("issuer") != self.issuer:
                    raise OutboundError("%s names the issuer %r, not %r"
                                        % (url, doc.get("issuer"),
                                           self.issuer))
                for name in ("authorization_endpoint", "token_endpoint",
                             "jwks_uri"):
                    if not isinstance(doc.get(name), str):
                        raise OutboundError("%s has no %s" % (url, name))
                self.meta, self.meta_at = doc, now
            return self.meta

    def endpoint(self, name):
        value = self.metadata().get(name)
        return value if isinstance(value, str) else None

    def key(self, kid):
        """(algorithm, public key) of the JWKS key named kid, or None.

        An unknown kid may be a key rotated in since the last fetch, so
        the JWKS is fetched again, though not more often than every
        KEY_REFETCH_INTERVAL."""
        with self.keys_lock:
            key = self.keys.get(kid)
            if key is not None or (
                    self.keys_at is not None and
                    time.monotonic() - self.keys_at < KEY_REFETCH_INTERVAL):
                return key
            status, doc = call_json("GET", self.metadata()["jwks_uri"])
            if status != 200 or not isinstance(doc.get("keys"), list):
                raise OutboundError("JWKS: status %d" % status)
            keys = {}
            for jwk in doc["keys"]:
                alg = jwk_algorithm(jwk)
                if alg is None:
                    continue
                try:
                    keys[jwk.get("kid")] = (alg, jwt.PyJWK(jwk, alg).key)
                except jwt.PyJWTError:
                    continue
            self.keys, self.keys_at = keys, time.monotonic()
            return keys.get(kid)

    def verify(self, token, audience, typ=None, require=()):
        """The claims of a JWS signed by the provider, for audience.

        The algorithm must be one we allow and the one the key is for;
        iss, aud, exp and iat are checked by PyJWT; typ (if given) is the
        header's, compared without case as RFC 7515 allows.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise TokenError("malformed token: %s" % e) from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise TokenError("algorithm %r not allowed" % alg)
        if typ is not None and str(header.get("typ", "")).lower() != typ:
            raise TokenError("typ is %r, not %r" % (header.get("typ"), typ))
        entry = self.key(header.get("kid"))
        if entry is None:
            raise TokenError("no key %r in the JWKS" % header.get("kid"))
        if entry[0] != alg:
            raise TokenError("key %r is for %s, token says %s"
                             % (header.get("kid"), entry[0], alg))
        try:
            return jwt.decode(
                token, entry[1], algorithms=[alg], audience=audience,
                issuer=self.issuer, leeway=LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat"]
                         + list(require)})
        except jwt.PyJWTError as e:
            raise TokenError("%s: %s" % (type(e).__name__, e)) from None


class Portal:
    """The state of the portal: configuration, sessions, pending logins."""

    def __init__(self, base_url, issuer, client_id, client_secret,
                 spa_client_id, scope):
        self.base_url = base_url
        self.redirect_uri = base_url + "/callback"
        self.post_logout_uri = base_url + "/"
        self.spa_redirect_uri = base_url + "/spa/callback"
        self.spa_post_logout_uri = base_url + "/spa/"
        self.client_id = client_id
        self.client_secret = client_secret
        self.spa_client_id = spa_client_id
        self.scope = scope
        self.provider = Provider(issuer)
        self.sessions = Store(ttl=8 * 3600)
        self.pending = Store(ttl=600)
        self.logouts = Store(ttl=600)
        self.seen_jti = Store(ttl=600, limit=100000)
        self.stats_lock = threading.Lock()
        self.stats = {"backchannel_received": 0, "backchannel_accepted": 0,
                      "sessions_ended_by_backchannel": 0}

    def count(self, name, n=1):
        with self.stats_lock:
            self.stats[name] += n

    def basic_auth(self):
        # RFC 6749 2.3.1: id and secret are form-encoded before base64
        pair = "%s:%s" % (urllib.parse.quote_plus(self.client_id),
                          urllib.parse.quote_plus(self.client_secret))
        return "Basic " + base64.b64encode(pair.encode()).decode("ascii")

    def token_request(self, fields):
        status, doc = call_json(
            "POST", self.provider.endpoint("token_endpoint"),
            urllib.parse.urlencode(fields),
            {"Content-Type": "application/x-www-form-urlencoded",
             "Authorization": self.basic_auth()})
        if status != 200:
            raise TokenError("token endpoint: %d %s: %s"
                             % (status, doc.get("error"),
                                doc.get("error_description", "")))
        if not isinstance(doc.get("access_token"), str) or \
                str(doc.get("token_type", "")).lower() != "bearer":
            raise TokenError("token endpoint: no bearer access token")
        return doc

    def check_id_token(self, id_token, access_token, nonce=None, sub=None):
        claims = self.provider.verify(id_token, self.client_id,
                                      require=["sub"])
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and \
                claims.get("azp") != self.client_id:
            raise TokenError("several audiences and azp is not us")
        if nonce is not None and claims.get("nonce") != nonce:
            raise TokenError("nonce mismatch")
        if sub is not None and claims["sub"] != sub:
            raise TokenError("sub changed from %r to %r"
                             % (sub, claims["sub"]))
        if "at_hash" in claims:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            if claims["at_hash"] != b64url(digest[:16]):
                raise TokenError("at_hash does not match the access token")
        return claims

    def userinfo(self, access_token, sub):
        url = self.provider.endpoint("userinfo_endpoint")
        if url is None:
            return None
        status, doc = call_json("GET", url, headers={
            "Authorization": "Bearer " + access_token})
        if status != 200:
            raise TokenError("userinfo: %d %s" % (status, doc.get("error")))
        # OIDC Core 5.3.2: a userinfo answer for someone else is refused
        if doc.get("sub") != sub:
            raise TokenError("userinfo sub %r is not %r"
                             % (doc.get("sub"), sub))
        return doc

    def end_sessions(self, sid, sub):
        def match(s):
            if sid is not None and s["sid"] != sid:
                return False
            return sub is None or s["sub"] == sub
        return self.sessions.remove_where(match)


class PortalHandler(Handler):
    app_name = "portal"
    app = None

    def session(self):
        sid = self.cookies().get(SESSION_COOKIE)
        return sid, self.app.sessions.get(sid)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path, query = self.split_path()
        routes = {
            "/": self.home,
            "/me": self.me,
            "/login": self.login,
            "/callback": self.callback,
            "/spa": lambda q: self.redirect("/spa/"),
            "/spa/": self.spa_page,
            "/spa/callback": self.spa_page,
            "/spa/app.js": self.spa_script,
        }
        handler = routes.get(path)
        if handler is None:
            self.send_error_page(404, "not_found", path)
            return
        try:
            handler(query)
        except OutboundError as e:
            self.send_error_page(502, "provider_unreachable", str(e))

    def do_POST(self):
        path, _ = self.split_path()
        routes = {
            "/logout": self.logout,
            "/refresh": self.refresh,
            "/backchannel-logout": self.backchannel_logout,
        }
        handler = routes.get(path)
        if handler is None:
            self.send_error_page(404, "not_found", path)
            return
        fields = self.read_form()
        if fields is None:
            return
        try:
            handler(fields)
        except OutboundError as e:
            self.send_error_page(502, "provider_unreachable", str(e))

    # ---- the portal ---------------------------------------------------------

    def home(self, query):
        _, s = self.session()
        app = self.app
        if s is None:
            note = ""
            state = self.single(query, "state")
            expected = self.cookies().get(LOGOUT_COOKIE)
            cookies = []
            if state is not None and expected:
                cookies.append(clear_cookie(LOGOUT_COOKIE))
                if app.logouts.pop(expected) == state:
                    note = ("<p>You are logged out of the portal and of "
                            "EduGate.</p>")
            body = note + """
<p>Not logged in.</p>
<p><a href="/login">Log in with EduGate</a></p>
<p class="note">demo-portal is a confidential OpenID Connect client: the
browser only carries the authorization code; this server exchanges it.
The browser-only client is at <a href="/spa/">/spa/</a>.</p>"""
            self.send_page(200, "Demo portal", body, headers=[
                ("Set-Cookie", c) for c in cookies])
            return
        claims, info = s["claims"], s["userinfo"] or {}
        body = """
<p>Logged in as <strong>{name}</strong> ({sub}) through {issuer}.</p>
<h2>ID token (verified with PyJWT against the JWKS)</h2>
{claims}
<h2>Userinfo</h2>
{info}
<h2>Tokens</h2>
<p>scope <code>{scope}</code>; access token valid for about {left} s;
refresh token: {refresh}.</p>
<form class="inline" method="post" action="/refresh">
<input type="hidden" name="csrf" value="{csrf}">
<button{disabled}>Refresh tokens</button></form>
<form class="inline" method="post" action="/logout">
<input type="hidden" name="csrf" value="{csrf}">
<button>Log out (here and at EduGate)</button></form>
<p class="note">Logging out at <a href="{issuer}/edugate/logout">EduGate</a>
ends this session too: the gateway calls this portal's back-channel
logout endpoint.</p>
""".format(name=esc(claims.get("name", claims["sub"])),
           sub=esc(claims["sub"]), issuer=esc(app.provider.issuer),
           claims=claims_table(claims), info=claims_table(info),
           scope=esc(s["scope"]),
           left=max(0, int(s["expires_at"] - time.time())),
           refresh="yes" if s["refresh_token"] else "no",
           csrf=esc(s["csrf"]),
           disabled="" if s["refresh_token"] else " disabled")
        self.send_page(200, "Demo portal", body)

    def me(self, query):
        _, s = self.session()
        doc = {"logged_in": s is not None,
               "sessions": self.app.sessions.count()}
        with self.app.stats_lock:
            doc.update(self.app.stats)
        if s is not None:
            doc.update({k: s[k] for k in ("sub", "sid", "claims", "userinfo",
                                          "scope", "login_at")})
            doc["has_refresh_token"] = bool(s["refresh_token"])
        self.send_json(200, doc)

    def login(self, query):
        app = self.app
        authorize = app.provider.endpoint("authorization_endpoint")
        login_id = new_secret()
        pending = {"state": new_secret(), "nonce": new_secret(),
                   "verifier": new_secret()}
        app.pending.put(login_id, pending)
        params = {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "scope": app.scope,
            "state": pending["state"],
            "nonce": pending["nonce"],
            "code_challenge": pkce_challenge(pending["verifier"]),
            "code_challenge_method": "S256",
        }
        prompt = self.single(query, "prompt")
        if prompt in ("login", "none"):
            params["prompt"] = prompt
        self.redirect(authorize + "?" + urllib.parse.urlencode(params),
                      [set_cookie(LOGIN_COOKIE, login_id, max_age=600)])

    def callback(self, query):
        app = self.app
        login_id = self.cookies().get(LOGIN_COOKIE)
        pending = app.pending.pop(login_id)
        if pending is None:
            self.send_error_page(400, "login_expired",
                                 "no login in progress in this browser "
                                 "(or it took over 10 minutes)")
            return
        state = self.single(query, "state")
        if state != pending["state"]:
            self.send_error_page(400, "state_mismatch",
                                 "the answer is not for the login this "
                                 "browser started")
            return
        # RFC 9207: who answered must be our issuer
        iss = self.single(query, "iss")
        meta = app.provider.metadata()
        if iss is None and meta.get(
                "authorization_response_iss_parameter_supported"):
            self.send_error_page(400, "iss_missing", "no iss in the answer")
            return
        if iss is not None and iss != app.provider.issuer:
            self.send_error_page(400, "iss_mismatch",
                                 "answer from %r" % iss)
            return
        error = self.single(query, "error")
        if error is not None:
            self.send_error_page(400, error, self.single(
                query, "error_description") or "refused by the provider")
            return
        code = self.single(query, "code")
        if not code:
            self.send_error_page(400, "invalid_request", "no code")
            return
        try:
            tokens = app.token_request({
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": app.redirect_uri,
                "code_verifier": pending["verifier"]})
            if not isinstance(tokens.get("id_token"), str):
                raise TokenError("no ID token in the token answer")
            claims = app.check_id_token(tokens["id_token"],
                                        tokens["access_token"],
                                        nonce=pending["nonce"])
            info = app.userinfo(tokens["access_token"], claims["sub"])
        except TokenError as e:
            self.send_error_page(502, "token_refused", str(e))
            return
        local = new_secret()
        app.sessions.put(local, {
            "sub": claims["sub"], "sid": claims.get("sid"),
            "claims": claims, "userinfo": info,
            "id_token": tokens["id_token"],
            "access_token": tokens["access_token"],
            "refresh_token": tokens.get("refresh_token"),
            "expires_at": time.time() + int(tokens.get("expires_in", 0)),
            "scope": tokens.get("scope", app.scope),
            "csrf": new_secret(), "login_at": int(time.time())})
        self.log("login: sub %s sid %s" % (claims["sub"], claims.get("sid")))
        self.redirect("/", [set_cookie(SESSION_COOKIE, local),
                            clear_cookie(LOGIN_COOKIE)])

    def _session_for_form(self, fields):
        local, s = self.session()
        if s is None:
            self.redirect("/")
            return None, None
        if self.single(fields, "csrf") != s["csrf"]:
            self.send_error_page(403, "bad_csrf", "form token mismatch")
            return None, None
        return local, s

    def refresh(self, fields):
        app = self.app
        local, s = self._session_for_form(fields)
        if s is None:
            return
        if not s["refresh_token"]:
            self.send_error_page(400, "no_refresh_token",
                                 "this session has no refresh token")
            return
        try:
            tokens = app.token_request({
                "grant_type": "refresh_token",
                "refresh_token": s["refresh_token"]})
            if isinstance(tokens.get("id_token"), str):
                s["claims"] = app.check_id_token(
                    tokens["id_token"], tokens["access_token"],
                    sub=s["sub"])
                s["id_token"] = tokens["id_token"]
        except TokenError as e:
            app.sessions.pop(local)
            self.send_error_page(502, "refresh_refused", str(e))
            return
        s["access_token"] = tokens["access_token"]
        s["refresh_token"] = tokens.get("refresh_token", s["refresh_token"])
        s["expires_at"] = time.time() + int(tokens.get("expires_in", 0))
        s["scope"] = tokens.get("scope", s["scope"])
        self.redirect("/")

    def logout(self, fields):
        app = self.app
        local, s = self._session_for_form(fields)
        if s is None:
            return
        app.sessions.pop(local)
        end_session = app.provider.endpoint("end_session_endpoint")
        if end_session is None:
            self.redirect("/", [clear_cookie(SESSION_COOKIE)])
            return
        marker, state = new_secret(), new_secret()
        app.logouts.put(marker, state)
        params = {"id_token_hint": s["id_token"],
                  "post_logout_redirect_uri": app.post_logout_uri,
                  "state": state, "client_id": app.client_id}
        self.redirect(end_session + "?" + urllib.parse.urlencode(params), [
            clear_cookie(SESSION_COOKIE),
            set_cookie(LOGOUT_COOKIE, marker, max_age=600)])

    # ---- OpenID Connect Back-Channel Logout 1.0 -----------------------------

    def backchannel_logout(self, fields):
        app = self.app
        app.count("backchannel_received")
        token = self.single(fields, "logout_token")
        if token is None:
            self._backchannel_refuse("exactly one logout_token expected")
            return
        try:
            claims = app.provider.verify(token, app.client_id,
                                         typ="logout+jwt", require=["jti"])
        except TokenError as e:
            self._backchannel_refuse(str(e))
            return
        events = claims.get("events")
        if not isinstance(events, dict) or \
                not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            self._backchannel_refuse("no back-channel logout event")
            return
        sid, sub = claims.get("sid"), claims.get("sub")
        if sid is None and sub is None:
            self._backchannel_refuse("neither sid nor sub")
            return
        if not isinstance(sid, (str, type(None))) or \
                not isinstance(sub, (str, type(None))):
            self._backchannel_refuse("sid and sub must be strings")
            return
        # a logout token must never pass for an ID token, and the other
        # way round: the spec forbids a nonce in it
        if "nonce" in claims:
            self._backchannel_refuse("a logout token holds no nonce")
            return
        jti = claims["jti"]
        if not isinstance(jti, str) or app.seen_jti.get(jti) is not None:
            self._backchannel_refuse("jti missing or replayed")
            return
        app.seen_jti.put(jti, True)
        ended = app.end_sessions(sid, sub)
        app.count("backchannel_accepted")
        app.count("sessions_ended_by_backchannel", ended)
        self.log("backchannel-logout: sid %s sub %s: %d session(s) ended"
                 % (sid, sub, ended))
        self.send_bytes(200, "text/plain; charset=utf-8", b"")

    def _backchannel_refuse(self, detail):
        self.log("backchannel-logout refused: %s" % detail)
        self.send_json(400, {"error": "invalid_request",
                             "error_description": detail})

    # ---- the browser-only client -------------------------------------------

    def spa_page(self, query):
        app = self.app
        meta = app.provider.metadata()
        issuer = app.provider.issuer
        config = {
            "issuer": issuer,
            "client_id": app.spa_client_id,
            "redirect_uri": app.spa_redirect_uri,
            "post_logout_redirect_uri": app.spa_post_logout_uri,
            "scope": "openid profile edu",
        }
        for name in ("authorization_endpoint", "token_endpoint",
                     "userinfo_endpoint", "revocation_endpoint",
                     "end_session_endpoint", "jwks_uri"):
            config[name] = meta.get(name) or ""
        attrs = " ".join('data-%s="%s"' % (k.replace("_", "-"), esc(v))
                         for k, v in sorted(config.items()))
        text = (SPA_DIR / "index.html").read_text(encoding="utf-8")
        body = text.replace("<body>", "<body %s>" % attrs, 1)
        origin = "{0.scheme}://{0.netloc}".format(
            urllib.parse.urlsplit(issuer))
        self.send_bytes(200, "text/html; charset=utf-8",
                        body.encode("utf-8"), [
            ("Content-Security-Policy",
             "default-src 'none'; script-src 'self'; "
             "style-src 'unsafe-inline'; connect-src %s; "
             "base-uri 'none'; form-action 'none'; "
             "frame-ancestors 'none'" % origin)])

    def spa_script(self, query):
        body = (SPA_DIR / "app.js").read_bytes()
        self.send_bytes(200, "text/javascript; charset=utf-8", body)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--issuer", default="http://127.0.0.1:8080",
                    help="the gateway's edugate_issuer")
    ap.add_argument("--client-id", default="demo-portal")
    ap.add_argument("--spa-client-id", default="demo-spa")
    ap.add_argument("--scope", default="openid profile edu offline_access")
    args = ap.parse_args(argv)
    base = "http://%s:%d" % (args.host, args.port)
    portal = Portal(base, args.issuer, args.client_id,
                    os.environ.get("DEMO_PORTAL_SECRET", DEMO_SECRET),
                    args.spa_client_id, args.scope)
    return serve(PortalHandler, args.host, args.port, portal)


if __name__ == "__main__":
    sys.exit(main())
