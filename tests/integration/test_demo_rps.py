"""Pins the demo relying parties against the gateway, driven like a
browser: the OIDC portal logs in through authorize, the login form and its
callback and shows the verified claims; it refreshes and logs out through
end_session; a logout at the gateway ends its session by back-channel
logout, and its back-channel endpoint refuses every logout token that is
not the gateway's, for it, and fresh.  The CAS application logs in on the
same session, shows the released attributes, refuses bad tickets, and
ends its session on a single-logout request for its ticket."""

import json
import subprocess
import sys
import time
import urllib.parse
import uuid

import jwt
import pytest

import relying_parties as rp
from browser import Browser
from clients import chromium_or_fail, rsa_key, run_node
from servers import (DEMO_ACCOUNTS, REPO, CasApp, HttpClient, Nginx,
                     OidcPortal, free_port, nginx_demo_conf)

KID = "demo-rs256"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


class Demo:
    """The gateway and its two demo relying parties."""

    def __init__(self, nginx, portal, cas_app, key):
        self.nginx = nginx
        self.issuer = "http://127.0.0.1:%d" % nginx.port
        self.portal = portal
        self.cas_app = cas_app
        self.key_pem = key.read_bytes()
        self.cas_service = cas_app.url + rp.CAS_APP_PATH

    def portal_me(self, browser):
        r = browser.request("GET", self.portal.url + "/me")
        assert r.status == 200, r.text
        return r.json()

    def cas_session(self, browser):
        r = browser.request("GET", self.cas_service + "session.json")
        assert r.status == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def demo(module_path, redis, slapd, echo, tmp_path_factory):
    d = tmp_path_factory.mktemp("demo-rps")
    key = rsa_key(d / "signing.pem")
    port = free_port()
    issuer = "http://127.0.0.1:%d" % port
    portal = OidcPortal(d / "portal", free_port(), issuer)
    cas_app = CasApp(d / "cas-app", free_port(), issuer + "/cas")
    conf = nginx_demo_conf(
        redis.port, slapd.port, echo.port, port,
        rp.oidc_http(issuer, key, portal.url, kid=KID)
        + rp.cas_http(cas_app.url, options="slo=on"),
        rp.OIDC_SERVER + rp.CAS_SERVER)
    n = Nginx(d / "nginx", port, module_path, conf, workers=2)
    started = []
    try:
        for daemon in (n, portal, cas_app):
            daemon.start()
            started.append(daemon)
        yield Demo(n, portal, cas_app, key)
    finally:
        for daemon in reversed(started):
            daemon.stop()
    problems = n.check_log()
    assert not problems, "\n".join(problems)


def wait_until(predicate, timeout=5.0, what="condition"):
    """Polls predicate() until it is true; bounded."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("%s not reached within %.1fs (last: %r)"
                                 % (what, timeout, value))
        time.sleep(0.1)


def portal_login(demo, user="stu01"):
    """A fresh browser logged in to the portal; (browser, final page)."""
    b = Browser()
    form = b.open(demo.portal.url + "/login")
    assert form.url.startswith(demo.issuer + "/edugate/login"), (
        form.url, b.hops)
    page = b.login(form, user, DEMO_ACCOUNTS[user]["password"])
    assert page.status == 200 and page.url == demo.portal.url + "/", (
        page.status, page.url, b.hops, page.text[:1500])
    return b, page


def cas_login(demo, browser=None, user="stu02"):
    """(browser, final page, service ticket) of a CAS app login."""
    b = browser or Browser()
    start = len(b.hops)
    page = b.open(demo.cas_service)
    if "csrf" in page.text and page.url.startswith(demo.issuer):
        page = b.login(page, user, DEMO_ACCOUNTS[user]["password"])
    tickets = [urllib.parse.parse_qs(urllib.parse.urlsplit(h.url).query)
               .get("ticket", [None])[0] for h in b.hops[start:]
               if h.url.startswith(demo.cas_service)]
    tickets = [t for t in tickets if t]
    assert len(tickets) == 1, b.hops[start:]
    return b, page, tickets[0]


# ---- the OIDC portal --------------------------------------------------------

def test_portal_login_shows_claims(demo):
    b, page = portal_login(demo)
    acct = DEMO_ACCOUNTS["stu01"]
    # the way there: authorize with PKCE S256, state and nonce; back with
    # code, state and iss
    auth = [h for h in b.hops if "/oauth2/authorize?" in h.url][0]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(auth.url).query)
    assert q["client_id"] == [rp.PORTAL_CLIENT_ID]
    assert q["code_challenge_method"] == ["S256"]
    assert q["redirect_uri"] == [demo.portal.url + "/callback"]
    assert len(q["state"][0]) >= 32 and len(q["nonce"][0]) >= 32
    cb = [h for h in b.hops if h.url.startswith(demo.portal.url
                                                + "/callback?")]
    assert len(cb) == 1, b.hops
    cq = urllib.parse.parse_qs(urllib.parse.urlsplit(cb[0].url).query)
    assert cq["state"] == q["state"] and cq["iss"] == [demo.issuer]
    assert cb[0].status == 302 and cb[0].location == "/"
    # the page shows the verified claims
    for text in ("stu01", acct["name"], acct["school"], "Userinfo"):
        assert text in page.text, text
    me = demo.portal_me(b)
    assert me["logged_in"] and me["sub"] == "stu01"
    assert me["claims"]["nonce"] == q["nonce"][0]
    assert me["claims"]["roles"] == ["student"]
    assert me["userinfo"]["sub"] == "stu01"
    assert me["userinfo"]["org_path"] == acct["org_path"]
    assert me["sid"] and me["has_refresh_token"]
    # the portal's cookie: HttpOnly, SameSite=Lax
    assert b.cookie("demo_portal_session")


def test_portal_refresh(demo):
    b, page = portal_login(demo, "tea01")
    before = demo.portal_me(b)
    page = b.submit(page, {}, action="/refresh")
    assert page.status == 200 and page.url == demo.portal.url + "/", (
        page.status, page.text[:800])
    after = demo.portal_me(b)
    assert after["logged_in"] and after["sub"] == "tea01"
    assert after["has_refresh_token"]
    assert after["claims"]["sub"] == before["claims"]["sub"]


def test_portal_form_needs_its_token(demo):
    b, page = portal_login(demo)
    r = b.request("POST", demo.portal.url + "/logout", b"csrf=wrong",
                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 403
    assert demo.portal_me(b)["logged_in"]


def test_portal_rp_initiated_logout(demo):
    b, page = portal_login(demo)
    mark = len(b.hops)
    page = b.submit(page, {}, action="/logout")
    hops = b.hops[mark:]
    end = [h for h in hops if "/oauth2/logout?" in h.url]
    assert len(end) == 1, hops
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(end[0].url).query)
    assert q["post_logout_redirect_uri"] == [demo.portal.url + "/"]
    assert q["client_id"] == [rp.PORTAL_CLIENT_ID] and q["id_token_hint"]
    # back at the portal with the state it sent
    assert end[0].location.startswith(demo.portal.url + "/?")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(
        end[0].location).query)["state"] == q["state"]
    assert "logged out of the portal and of EduGate" in page.text
    assert not demo.portal_me(b)["logged_in"]
    # and the gateway session is gone
    r = b.request("GET", demo.issuer + "/apps/echo/")
    assert r.status == 302 and "/edugate/login" in r.location


def test_portal_callback_checks(demo):
    b = Browser()
    r = b.request("GET", demo.portal.url + "/callback?code=x&state=y")
    assert r.status == 400 and "login_expired" in r.text
    # a login started in this browser, answered for another one
    r = b.request("GET", demo.portal.url + "/login")
    assert r.status == 302
    r = b.request("GET", demo.portal.url + "/callback?code=x&state=y&iss="
                  + urllib.parse.quote(demo.issuer))
    assert r.status == 400 and "state_mismatch" in r.text
    assert not demo.portal_me(b)["logged_in"]


# ---- back-channel logout ----------------------------------------------------

def test_gateway_logout_ends_portal_session(demo):
    b, _ = portal_login(demo)
    before = demo.portal_me(b)
    r = b.request("GET", demo.issuer + "/edugate/logout")
    assert r.status in (200, 302)
    wait_until(lambda: not demo.portal_me(b)["logged_in"], 5.0,
               "the portal session ending by back-channel logout")
    after = demo.portal_me(b)
    assert after["backchannel_accepted"] > before["backchannel_accepted"]


def logout_token(demo, key_pem=None, kid=KID, typ="logout+jwt",
                 alg="RS256", **claims):
    now = int(time.time())
    body = {"iss": demo.issuer, "aud": rp.PORTAL_CLIENT_ID, "iat": now,
            "exp": now + 120, "jti": uuid.uuid4().hex,
            "events": {BACKCHANNEL_EVENT: {}}}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    headers = {"kid": kid}
    if typ is not None:
        headers["typ"] = typ
    return jwt.encode(body, key_pem or demo.key_pem, algorithm=alg,
                      headers=headers)


def post_backchannel(demo, token=None, raw=None):
    body = raw if raw is not None else urllib.parse.urlencode(
        {"logout_token": token})
    return HttpClient(demo.portal.port).post(
        "/backchannel-logout", body, "application/x-www-form-urlencoded")


@pytest.fixture(scope="module")
def other_key(tmp_path_factory):
    return rsa_key(tmp_path_factory.mktemp("other") / "k.pem") \
        .read_bytes()


BAD_LOGOUT_TOKENS = {
    "typ_jwt": dict(typ="JWT"),
    "no_typ": dict(typ=None),
    "wrong_aud": dict(aud="another-client"),
    "wrong_iss": dict(iss="http://127.0.0.1:1"),
    "no_events": dict(events=None),
    "other_event": dict(events={"http://example.com/other": {}}),
    "nonce": dict(nonce="n-0S6_WzA2Mj"),
    "no_sid_no_sub": dict(sid=None),
    "expired": dict(exp=int(time.time()) - 3600, iat=int(time.time())
                    - 4000),
    "no_jti": dict(jti=None),
    "foreign_key": "foreign_key",
    "unknown_kid": "unknown_kid",
    "hs256_with_public_key": "hs256",
}


@pytest.mark.parametrize("case", sorted(BAD_LOGOUT_TOKENS))
def test_backchannel_refuses(demo, other_key, case):
    b, _ = portal_login(demo)
    sid = demo.portal_me(b)["sid"]
    spec = BAD_LOGOUT_TOKENS[case]
    if spec == "foreign_key":
        token = logout_token(demo, key_pem=other_key, sid=sid)
    elif spec == "unknown_kid":
        token = logout_token(demo, kid="no-such-kid", sid=sid)
    elif spec == "hs256":
        # the public JWK turned into an HMAC secret (RFC 8725 2.1)
        public = HttpClient(demo.nginx.port).get(
            "/.well-known/jwks.json").body
        token = jwt.api_jws.PyJWS().encode(
            json.dumps(dict(iss=demo.issuer, aud=rp.PORTAL_CLIENT_ID,
                            iat=int(time.time()), sid=sid,
                            jti=uuid.uuid4().hex,
                            events={BACKCHANNEL_EVENT: {}})).encode(),
            public, algorithm="HS256",
            headers={"kid": KID, "typ": "logout+jwt"})
    else:
        kw = dict(spec)
        kw.setdefault("sid", sid)
        token = logout_token(demo, **kw)
    r = post_backchannel(demo, token)
    assert r.status == 400, (case, r.status, r.text)
    assert r.json()["error"] == "invalid_request"
    assert r.header("Cache-Control") == "no-store"
    assert demo.portal_me(b)["logged_in"], case


def test_backchannel_accepts_gateway_token_once(demo):
    b, _ = portal_login(demo)
    other, _ = portal_login(demo, "tea01")
    me = demo.portal_me(b)
    token = logout_token(demo, sid=me["sid"], sub=me["sub"])
    r = post_backchannel(demo, token)
    assert r.status == 200, r.text
    assert r.header("Cache-Control") == "no-store"
    assert not demo.portal_me(b)["logged_in"]
    # another gateway session is not touched
    assert demo.portal_me(other)["logged_in"]
    # the same token again is a replay
    assert post_backchannel(demo, token).status == 400


def test_backchannel_by_sub_alone(demo):
    b, _ = portal_login(demo, "itadmin")
    token = logout_token(demo, sub="itadmin")
    assert post_backchannel(demo, token).status == 200
    assert not demo.portal_me(b)["logged_in"]


@pytest.mark.parametrize("raw", ["", "logout_token=", "logout_token=a&"
                                 "logout_token=b", "logout_token=x.y.z"])
def test_backchannel_malformed(demo, raw):
    r = post_backchannel(demo, raw=raw)
    assert r.status == 400, (raw, r.text)


# ---- the CAS application ----------------------------------------------------

def test_cas_app_login_shows_attributes(demo):
    b, page, ticket = cas_login(demo)
    acct = DEMO_ACCOUNTS["stu02"]
    assert page.status == 200 and page.url == demo.cas_service, (
        page.url, b.hops)
    assert "stu02" in page.text and acct["name"] in page.text
    doc = demo.cas_session(b)
    assert doc["logged_in"] and doc["user"] == "stu02"
    a = doc["attributes"]
    assert a["name"] == [acct["name"]]
    assert a["roles"] == ["student"]
    assert a["orgPath"] == [acct["org_path"]]
    assert a["school"] == [acct["school"]] and a["grade"] == [acct["grade"]]
    # the spent ticket is out of the address bar
    assert "ticket=" not in page.url


def test_cas_app_single_sign_on(demo):
    b, _ = portal_login(demo, "tea01")
    mark = len(b.hops)
    b, page, _ = cas_login(demo, b)
    assert not any("/edugate/login" in h.url for h in b.hops[mark:])
    assert demo.cas_session(b)["user"] == "tea01"


def test_cas_app_refuses_bad_ticket(demo):
    b = Browser()
    r = b.request("GET", demo.cas_service + "?ticket=ST-" + "A" * 32)
    assert r.status == 403 and "INVALID_TICKET" in r.text
    assert not demo.cas_session(b)["logged_in"]


def logout_request(ticket, doctype=""):
    return ("""<?xml version="1.0" encoding="UTF-8"?>%s
<samlp:LogoutRequest xmlns:samlp="%s" xmlns:saml="%s" ID="LR-%s"
 Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
<saml:NameID>@NOT_USED@</saml:NameID>
<samlp:SessionIndex>%s</samlp:SessionIndex>
</samlp:LogoutRequest>""" % (doctype, SAMLP, SAML, uuid.uuid4().hex, ticket))


def post_slo(demo, body):
    return HttpClient(demo.cas_app.port).post(
        rp.CAS_APP_PATH, urllib.parse.urlencode({"logoutRequest": body}),
        "application/x-www-form-urlencoded")


def test_cas_app_single_logout_request(demo):
    b, _, ticket = cas_login(demo)
    # another ticket ends nothing
    r = post_slo(demo, logout_request("ST-" + "B" * 32))
    assert r.status == 200
    assert demo.cas_session(b)["logged_in"]
    # a document with a DTD is refused before anything is read from it
    bomb = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b '
            '"&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    r = post_slo(demo, logout_request(ticket, bomb))
    assert r.status == 400 and "DTD" in r.json()["error_description"]
    assert demo.cas_session(b)["logged_in"]
    r = post_slo(demo, "<samlp:LogoutRequest")
    assert r.status == 400
    # the right ticket ends the session
    r = post_slo(demo, logout_request(ticket))
    assert r.status == 200
    assert not demo.cas_session(b)["logged_in"]


def test_gateway_logout_ends_cas_app_session(demo):
    b, _, _ = cas_login(demo)
    r = b.request("GET", demo.issuer + "/edugate/logout")
    assert r.status in (200, 302)
    wait_until(lambda: not demo.cas_session(b)["logged_in"], 5.0,
               "the CAS application's session ending by single logout")


def test_logout_everywhere(demo):
    """One login, two applications, one logout: both sessions end."""
    b, _ = portal_login(demo, "tea01")
    b, _, _ = cas_login(demo, b)
    assert demo.portal_me(b)["logged_in"]
    assert demo.cas_session(b)["logged_in"]
    r = b.request("GET", demo.issuer + "/cas/logout")
    assert r.status in (200, 302)
    wait_until(lambda: not demo.portal_me(b)["logged_in"]
               and not demo.cas_session(b)["logged_in"], 5.0,
               "both application sessions ending")



# ---- the single-page app, in a real browser ---------------------------------

def test_spa_in_chromium(demo):
    """demo-spa's own JavaScript in Chromium: PKCE login, the code
    exchanged and userinfo read across origins, the ID token's signature
    checked with WebCrypto, then revocation and RP-initiated logout."""
    acct = DEMO_ACCOUNTS["stu02"]
    spa = demo.portal.url + "/spa/"
    got = run_node("spa_flow.js", {
        "spa_url": spa, "chromium": chromium_or_fail(),
        "username": "stu02", "password": acct["password"]},
        ("puppeteer-core",))
    assert "fatal" not in got, json.dumps(got, ensure_ascii=False,
                                          indent=1)[:4000]
    assert not got["before"]["logged_in"]
    assert got["login_form_url"].startswith(demo.issuer + "/edugate/login")
    after = got["after_login"]
    assert after["logged_in"] and after["error"] is None, after
    assert after["url"] == spa
    assert after["who"] == "%s (stu02)" % acct["name"]
    assert after["claims"]["sub"] == "stu02"
    assert after["claims"]["aud"] == rp.SPA_CLIENT_ID
    assert after["claims"]["iss"] == demo.issuer
    assert after["userinfo"]["sub"] == "stu02"
    assert after["userinfo"]["school"] == acct["school"]
    # the page itself called the provider, across origins
    for call in ("POST %s/oauth2/token", "GET %s/oauth2/userinfo",
                 "GET %s/.well-known/jwks.json", "POST %s/oauth2/revoke"):
        assert call % demo.issuer in got["requests"], got["requests"]
    assert got["failures"] == [], got["failures"]
    assert got["storage"] == ["demo-spa-tokens"]
    out = got["after_logout"]
    assert out["url"] == spa and not out["logged_in"], out
    assert out["status"] == ("You are logged out of this app and of "
                             "EduGate."), out
    assert got["storage_after_logout"] == []


# ---- make demo -------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_check(module_path, tmp_path_factory):
    """(exit code, report) of `make demo`'s runner in its --check mode, on
    free ports: it logs in through the gateway and every demo application
    and logs out everywhere."""
    args = [sys.executable, str(REPO / "tests" / "harness" / "demo.py"),
            "--module", str(module_path), "--check", "--workers", "1",
            "--run-dir", str(tmp_path_factory.mktemp("demo") / "run")]
    for opt in ("--listen", "--redis-port", "--slapd-port", "--echo-port",
                "--portal-port", "--cas-app-port"):
        args += [opt, str(free_port())]
    r = subprocess.run(args, capture_output=True, text=True, timeout=180,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout + r.stderr


DEMO_STEPS = ("GET /apps/echo/ after logout", "portal: OIDC login as tea01",
              "CAS app: single sign-on", "gateway logout: portal logged out",
              "portal: RP-initiated logout", "GET /std/v1/students")


def test_demo_runner_check(demo_check):
    rc, report = demo_check
    lines = report.splitlines()
    for step in DEMO_STEPS:
        assert any(line.strip().startswith(step) and " ok " in line + " "
                   for line in lines), "%s:\n%s" % (step, report)
    failed = [line for line in lines if "FAILED" in line
              and "gateway logout: CAS app logged out" not in line]
    assert not failed, report


def test_demo_runner_logout_everywhere(demo_check):
    rc, report = demo_check
    assert any("gateway logout: CAS app logged out" in line
               and " ok " in line for line in report.splitlines()), report
    assert rc == 0, report
