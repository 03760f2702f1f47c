"""Pins the OpenID Connect provider: discovery from configuration only,
the authorization code flow with PKCE S256 on the EduGate session, the
token endpoint (single-use codes, refresh rotation with reuse detection,
client authentication), userinfo, revocation, RP-initiated logout, and
the refusals of SECURITY-CHECKLIST rows 21-26, 31-36, 38, 40 and 70.
Tokens are checked with PyJWT against our JWKS (a verifier we did not
write)."""

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse

import jwt
import pytest

from servers import HttpClient, LogWatch, free_port
from expect import expect_error, expect_log, set_cookies
from test_bearer import keys  # noqa: F401  (fixture)

PORTAL = "demo-portal"
PORTAL_SECRET = "demo-portal-secret"
PORTAL_CB = "http://127.0.0.1:8081/callback"
PORTAL_HOME = "http://127.0.0.1:8081/"
SPA = "demo-spa"
SPA_CB = "http://127.0.0.1:8081/spa/callback"
NARROW = "narrow"
NARROW_SECRET = "narrow-client-secret"
NARROW_CB = "https://narrow.example/cb"

JSON_ACCEPT = {"Accept": "application/json"}
FORM = "application/x-www-form-urlencoded"


def oidc_http(issuer, key_path, extra=""):
    return """
    edugate_issuer %s;
    edugate_signing_key %s;
    edugate_oidc_client %s secret=%s redirect_uri=%s
        scopes=openid,profile,edu,offline_access post_logout_uri=%s;
    edugate_oidc_client %s public redirect_uri=%s
        scopes=openid,profile,offline_access;
    edugate_oidc_client %s secret=%s redirect_uri=%s;
%s""" % (issuer, key_path, PORTAL, PORTAL_SECRET, PORTAL_CB, PORTAL_HOME,
         SPA, SPA_CB, NARROW, NARROW_SECRET, NARROW_CB, extra)


OIDC_SERVER = """
        location = /.well-known/openid-configuration {
            edugate_oidc_discovery;
        }
        location = /.well-known/jwks.json { edugate_jwks; }
        location = /oauth2/authorize { edugate_oidc_authorize; }
        location = /oauth2/token     { edugate_oidc_token; }
        location = /oauth2/userinfo  { edugate_oidc_userinfo; }
        location = /oauth2/revoke    { edugate_oidc_revoke; }
        location = /oauth2/logout    { edugate_oidc_end_session; }
        location /apps/api/ {
            edugate_protect on;
            proxy_pass http://127.0.0.1:%d;
        }
"""


class Provider:
    """A gateway with the provider on, and the helpers of a relying party
    (the parts a browser and an RP server would do)."""

    def __init__(self, nginx, issuer):
        self.nginx = nginx
        self.issuer = issuer
        self.port = nginx.port
        self.watch = LogWatch(nginx.error_log)

    def browser(self):
        return HttpClient(self.port)

    def jwks(self):
        r = self.browser().get("/.well-known/jwks.json")
        assert r.status == 200, r.text
        return json.loads(r.text)

    def verify(self, token, audience, typ="JWT"):
        """PyJWT, with the key picked by kid from our JWKS."""
        header = jwt.get_unverified_header(token)
        assert header["typ"] == typ, header
        keys = {k["kid"]: k for k in self.jwks()["keys"]}
        key = jwt.PyJWK(keys[header["kid"]]).key
        return jwt.decode(token, key, algorithms=["RS256", "ES256"],
                          audience=audience, issuer=self.issuer)

    def authorize(self, browser, client_id=PORTAL, redirect_uri=PORTAL_CB,
                  scope="openid profile edu offline_access", extra=None,
                  pkce=True):
        verifier = secrets.token_urlsafe(48)
        q = {"client_id": client_id, "redirect_uri": redirect_uri,
             "response_type": "code", "scope": scope,
             "state": "st-" + secrets.token_hex(4),
             "nonce": "n-" + secrets.token_hex(4)}
        if pkce:
            q["code_challenge"] = challenge(verifier)
            q["code_challenge_method"] = "S256"
        q.update(extra or {})
        q = {k: v for k, v in q.items() if v is not None}
        r = browser.get("/oauth2/authorize?" + urllib.parse.urlencode(q))
        return r, q, verifier

    def code_for(self, browser, **kw):
        r, q, verifier = self.authorize(browser, **kw)
        assert r.status == 302, (r.status, r.text)
        loc = urllib.parse.urlsplit(r.location)
        params = dict(urllib.parse.parse_qsl(loc.query))
        assert "code" in params, r.location
        return params["code"], q, verifier, params

    def token(self, fields, client=(PORTAL, PORTAL_SECRET), how="basic",
              headers=None):
        h = dict(headers or {})
        fields = dict(fields)
        if client and how == "basic":
            cred = "%s:%s" % (urllib.parse.quote(client[0], safe=""),
                              urllib.parse.quote(client[1], safe=""))
            h["Authorization"] = "Basic " + base64.b64encode(
                cred.encode()).decode()
        elif client and how == "post":
            fields["client_id"] = client[0]
            if client[1] is not None:
                fields["client_secret"] = client[1]
        return self.browser().post_form("/oauth2/token", fields, headers=h)

    def exchange(self, code, verifier, redirect_uri=PORTAL_CB, **kw):
        return self.token({"grant_type": "authorization_code", "code": code,
                           "redirect_uri": redirect_uri,
                           "code_verifier": verifier}, **kw)

    def tokens(self, browser, **kw):
        """A full flow: (token response JSON, authorize query)."""
        client = kw.pop("client", (PORTAL, PORTAL_SECRET))
        how = kw.pop("how", "basic")
        code, q, verifier, _ = self.code_for(browser, **kw)
        r = self.exchange(code, verifier,
                          redirect_uri=q["redirect_uri"], client=client,
                          how=how)
        assert r.status == 200, (r.status, r.text)
        assert r.header("Cache-Control") == "no-store"
        return json.loads(r.text), q

    def refresh(self, rt, client=(PORTAL, PORTAL_SECRET), **fields):
        f = {"grant_type": "refresh_token", "refresh_token": rt}
        f.update(fields)
        return self.token(f, client=client)

    def userinfo(self, at):
        return self.browser().get("/oauth2/userinfo", headers={
            "Authorization": "Bearer " + at, "Accept": "application/json"})


def challenge(verifier):
    return base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query,
                                       keep_blank_values=True))


@pytest.fixture
def provider(gateway_factory, keys, echo):  # noqa: F811
    def make(extra_http="", **kw):
        port = free_port()
        issuer = "http://127.0.0.1:%d" % port
        n = gateway_factory(
            extra_http=oidc_http(issuer, keys["rsa1"].path, extra_http),
            extra_server=OIDC_SERVER % echo.port, port=port, **kw)
        return Provider(n, issuer)

    return make


@pytest.fixture
def op(provider):
    return provider()


@pytest.fixture
def signed_in(op, login):
    """A browser with a session of stu01."""
    b = op.browser()
    r = login(b, "stu01", "Stu01-Passw0rd")
    assert r.status == 302, r.text
    return b


# ---- discovery ---------------------------------------------------------------

def test_discovery_from_configuration_only(op):
    r = op.browser().get("/.well-known/openid-configuration")
    assert r.status == 200, r.text
    doc = json.loads(r.text)
    base = op.issuer
    assert doc["issuer"] == base
    assert doc["authorization_endpoint"] == base + "/oauth2/authorize"
    assert doc["token_endpoint"] == base + "/oauth2/token"
    assert doc["userinfo_endpoint"] == base + "/oauth2/userinfo"
    assert doc["revocation_endpoint"] == base + "/oauth2/revoke"
    assert doc["end_session_endpoint"] == base + "/oauth2/logout"
    assert doc["jwks_uri"] == base + "/.well-known/jwks.json"
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert set(doc["grant_types_supported"]) == {"authorization_code",
                                                 "refresh_token"}


def test_host_and_forwarded_headers_change_nothing(op):
    """Checklist row 31."""
    plain = op.browser().get("/.well-known/openid-configuration").text
    for h in ({"Host": "evil.example"},
              {"X-Forwarded-Host": "evil.example",
               "X-Forwarded-Proto": "https"},
              {"Forwarded": "host=evil.example;proto=https"}):
        r = op.browser().get("/.well-known/openid-configuration", headers=h)
        assert r.status == 200
        assert r.text == plain
        assert "evil" not in r.text


def test_discovery_lists_only_what_is_configured(provider, gateway_factory,
                                                 keys, echo):
    port = free_port()
    issuer = "http://127.0.0.1:%d" % port
    n = gateway_factory(
        extra_http=oidc_http(issuer, keys["rsa1"].path),
        extra_server="""
        location = /.well-known/openid-configuration {
            edugate_oidc_discovery;
        }
        location = /authz { edugate_oidc_authorize; }
        location = /tok { edugate_oidc_token; }
""", port=port)
    doc = json.loads(HttpClient(n.port).get(
        "/.well-known/openid-configuration").text)
    assert doc["authorization_endpoint"] == issuer + "/authz"
    assert doc["token_endpoint"] == issuer + "/tok"
    for absent in ("userinfo_endpoint", "revocation_endpoint",
                   "end_session_endpoint", "jwks_uri"):
        assert absent not in doc


# ---- the code flow ---------------------------------------------------------

def test_code_flow_id_token_and_access_token(op, signed_in):
    doc, q = op.tokens(signed_in)
    assert doc["token_type"] == "Bearer"
    assert doc["expires_in"] == 600
    assert doc["scope"] == "openid profile edu offline_access"
    assert doc["refresh_token"] and doc["refresh_token"] != doc["access_token"]

    idt = op.verify(doc["id_token"], PORTAL)
    assert idt["sub"] == "stu01"
    assert idt["nonce"] == q["nonce"]
    assert idt["azp"] == PORTAL
    assert idt["name"] == "张小明" or idt["name"]
    assert idt["roles"] == ["student"]
    assert idt["org_path"].startswith("370000/370100/370112")
    assert idt["school"] and idt["grade"] and idt["class"]
    assert len(idt["sid"]) == 32
    assert abs(idt["auth_time"] - time.time()) < 60

    at = op.verify(doc["access_token"], op.issuer, typ="at+jwt")
    assert at["client_id"] == PORTAL
    assert at["scope"] == "openid profile edu offline_access"
    assert "." in at["jti"]

    # the access token opens edugate_protect locations and userinfo
    api = op.browser().get("/apps/api/", headers={
        "Authorization": "Bearer " + doc["access_token"]})
    assert api.status == 200, api.text
    info = op.userinfo(doc["access_token"])
    assert info.status == 200, info.text
    u = json.loads(info.text)
    assert u["sub"] == "stu01" and u["roles"] == ["student"]
    assert "jti" not in u and "aud" not in u


def test_authorization_response_has_state_and_iss(op, signed_in):
    """RFC 9207: iss in every authorization response."""
    code, q, _, params = op.code_for(signed_in)
    assert params["state"] == q["state"]
    assert params["iss"] == op.issuer
    r, q, _ = op.authorize(signed_in, extra={"response_type": "token",
                                             "state": "xyz"})
    p = query_of(r.location)
    assert p["error"] == "unsupported_response_type"
    assert p["state"] == "xyz" and p["iss"] == op.issuer


def test_state_returned_verbatim(op, signed_in):
    _, _, _, params = op.code_for(signed_in,
                                  extra={"state": "x=1&y=2 ~!*'()%"})
    assert params["state"] == "x=1&y=2 ~!*'()%"
    # RFC 6749 A.5: state is printable ASCII; anything else is refused
    for bad in ("é", "a\tb", "s" * 513):
        r, q, _ = op.authorize(signed_in, extra={"state": bad})
        p = query_of(r.location)
        assert p["error"] == "invalid_request" and "state" not in p


def test_claims_follow_scopes(op, signed_in):
    doc, _ = op.tokens(signed_in, scope="openid")
    idt = op.verify(doc["id_token"], PORTAL)
    assert idt["sub"] == "stu01"
    for c in ("name", "roles", "org_path", "school", "grade", "class"):
        assert c not in idt
    assert "refresh_token" not in doc
    u = json.loads(op.userinfo(doc["access_token"]).text)
    assert set(u) == {"sub"}

    doc, _ = op.tokens(signed_in, scope="openid profile")
    idt = op.verify(doc["id_token"], PORTAL)
    assert idt["preferred_username"] == "stu01" and "roles" not in idt


def test_no_session_goes_to_login_and_back(op, login):
    b = op.browser()
    r, q, verifier = op.authorize(b)
    assert r.status == 302
    assert r.location.startswith("/edugate/login?return=")
    back = urllib.parse.unquote(r.location.split("return=", 1)[1])
    assert back.startswith("/oauth2/authorize?")
    r = login(b, "tea01", "Tea01-Passw0rd", return_to=back)
    assert r.status == 302 and r.location == back
    r = b.get(back)
    assert r.status == 302 and r.location.startswith(PORTAL_CB + "?code=")
    code = query_of(r.location)["code"]
    t = op.exchange(code, verifier)
    assert t.status == 200, t.text
    assert op.verify(json.loads(t.text)["id_token"], PORTAL)["sub"] == "tea01"


def test_prompt_none_without_session(op):
    r, q, _ = op.authorize(op.browser(), extra={"prompt": "none"})
    assert r.status == 302
    p = query_of(r.location)
    assert r.location.startswith(PORTAL_CB + "?")
    assert p["error"] == "login_required" and p["iss"] == op.issuer


def test_prompt_login_asks_again(op, signed_in, login):
    time.sleep(1.1)   # login times have a one-second resolution
    r, q, verifier = op.authorize(signed_in, extra={"prompt": "login"})
    assert r.status == 302
    assert r.location.startswith("/edugate/login?return=")
    back = urllib.parse.unquote(r.location.split("return=", 1)[1])
    assert "prompt" not in back and "edugate_auth_after=" in back
    # the old session does not satisfy the way back either
    again = signed_in.get(back)
    assert again.location.startswith("/edugate/login"), again.location
    time.sleep(1.1)
    login(signed_in, "stu01", "Stu01-Passw0rd", return_to=back)
    r = signed_in.get(back)
    assert r.location.startswith(PORTAL_CB + "?code="), r.location
    t = json.loads(op.exchange(query_of(r.location)["code"], verifier).text)
    assert abs(op.verify(t["id_token"], PORTAL)["auth_time"]
               - time.time()) < 5


def test_max_age(op, signed_in):
    time.sleep(1.2)
    r, _, _ = op.authorize(signed_in, extra={"max_age": "0"})
    assert r.location.startswith("/edugate/login?return="), r.location
    r, _, _ = op.authorize(signed_in, extra={"max_age": "3600"})
    assert r.location.startswith(PORTAL_CB + "?code=")
    r, _, _ = op.authorize(signed_in, extra={"max_age": "-1"})
    assert query_of(r.location)["error"] == "invalid_request"


# ---- refusals before the redirect URI is trusted (rows 21-24) -------------

def test_unknown_client_never_redirects(op, signed_in):
    r, _, _ = op.authorize(signed_in, client_id="nobody")
    expect_error(r, 400, "invalid_client")
    assert r.location is None
    expect_log(op.watch, "invalid_client")


@pytest.mark.parametrize("uri", [
    PORTAL_CB + "/",
    PORTAL_CB.upper(),
    PORTAL_CB + "?x=1",
    PORTAL_CB + "#frag",
    "http://127.0.0.1:8081/callbac",
    "http://127.0.0.1:8081/callback@evil.example",
    "http://evil.example/callback",
    "http://127.0.0.1:8081/%63allback",
    "http://127.0.0.1:8081/callback/../callback",
    "http://127.0.0.1:8081//callback",
    "http://127.0.0.1:80811/callback",
    PORTAL_CB + "%00",
    SPA_CB,
    "",
])
def test_redirect_uri_mismatch_never_redirects(op, signed_in, uri):
    r, _, _ = op.authorize(signed_in, redirect_uri=uri)
    expect_error(r, 400, "invalid_redirect_uri")
    assert r.location is None
    expect_log(op.watch, "invalid_redirect_uri")


def test_missing_redirect_uri(op, signed_in):
    r, _, _ = op.authorize(signed_in, redirect_uri=None)
    expect_error(r, 400, "invalid_redirect_uri")


def test_duplicate_parameter_is_refused(op, signed_in):
    r = signed_in.get("/oauth2/authorize?client_id=%s&client_id=%s"
                      "&redirect_uri=%s" % (PORTAL, NARROW,
                                            urllib.parse.quote(PORTAL_CB)))
    expect_error(r, 400, "invalid_request")
    assert r.location is None


# ---- refusals sent back to the client (rows 25, 26, 32, 33) -----------------

@pytest.mark.parametrize("extra,error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": "id_token"}, "unsupported_response_type"),
    ({"response_type": "code id_token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"scope": "openid admin"}, "invalid_scope"),
    ({"scope": "openid  profile"}, "invalid_scope"),
    ({"scope": None}, "invalid_scope"),
    ({"code_challenge": None, "code_challenge_method": None},
     "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "s256"}, "invalid_request"),
    ({"code_challenge": "short"}, "invalid_request"),
    ({"response_mode": "fragment"}, "invalid_request"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ({"request_uri": "https://evil.example/r"}, "request_uri_not_supported"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"prompt": "bogus"}, "invalid_request"),
    ({"nonce": "bad\x01nonce"}, "invalid_request"),
    ({"max_age": "soon"}, "invalid_request"),
])
def test_authorization_errors_go_back_with_iss(op, signed_in, extra, error):
    r, q, _ = op.authorize(signed_in, extra=extra)
    assert r.status == 302, (r.status, r.text)
    assert r.location.startswith(PORTAL_CB + "?"), r.location
    p = query_of(r.location)
    assert p["error"] == error, p
    assert p["iss"] == op.issuer
    assert p["state"] == q["state"]
    assert "code" not in p
    expect_log(op.watch, error)


def test_scope_not_allowed_for_client(op, signed_in):
    r, _, _ = op.authorize(signed_in, client_id=NARROW,
                           redirect_uri=NARROW_CB, scope="openid edu")
    p = query_of(r.location)
    assert r.location.startswith(NARROW_CB) and p["error"] == "invalid_scope"


# ---- the token endpoint ----------------------------------------------------

def test_client_secret_post_and_public_client(op, signed_in):
    doc, _ = op.tokens(signed_in, how="post")
    assert op.verify(doc["id_token"], PORTAL)["sub"] == "stu01"
    doc, _ = op.tokens(signed_in, client_id=SPA, redirect_uri=SPA_CB,
                       scope="openid profile", client=(SPA, None),
                       how="post")
    assert op.verify(doc["id_token"], SPA)["aud"] == SPA


@pytest.mark.parametrize("client,how", [
    ((PORTAL, "wrong-secret-value"), "basic"),
    ((PORTAL, "wrong-secret-value"), "post"),
    ((PORTAL, PORTAL_SECRET[:-1]), "basic"),
    (("nobody", "whatever-secret-x"), "basic"),
    ((SPA, "a-secret-for-public"), "post"),
    ((PORTAL, None), "post"),
])
def test_client_authentication_failures(op, signed_in, client, how):
    code, q, verifier, _ = op.code_for(signed_in)
    r = op.exchange(code, verifier, client=client, how=how)
    expect_error(r, 401, "invalid_client", want_json=True)
    assert json.loads(r.text)["error"] == "invalid_client"
    if how == "basic":
        assert r.header("WWW-Authenticate") == 'Basic realm="edugate"'
    expect_log(op.watch, "invalid_client")


def test_two_authentication_methods_refused(op, signed_in):
    code, q, verifier, _ = op.code_for(signed_in)
    cred = base64.b64encode(("%s:%s" % (PORTAL, PORTAL_SECRET)).encode())
    r = op.token({"grant_type": "authorization_code", "code": code,
                  "redirect_uri": PORTAL_CB, "code_verifier": verifier,
                  "client_secret": PORTAL_SECRET}, client=None,
                 headers={"Authorization": "Basic " + cred.decode()})
    expect_error(r, 400, "invalid_request", want_json=True)


@pytest.mark.parametrize("grant", ["password", "implicit",
                                   "urn:ietf:params:oauth:"
                                   "grant-type:jwt-bearer", ""])
def test_unsupported_grant_types(op, grant):
    r = op.token({"grant_type": grant, "username": "stu01",
                  "password": "Stu01-Passw0rd"})
    expect_error(r, 400, "unsupported_grant_type", want_json=True)


def test_token_endpoint_bad_requests(op, signed_in):
    r = op.browser().get("/oauth2/token")
    expect_error(r, 405, "invalid_request", want_json=True)
    r = op.browser().post("/oauth2/token", '{"grant_type":"x"}',
                          "application/json")
    expect_error(r, 400, "invalid_request", want_json=True)
    r = op.token({})
    expect_error(r, 400, "invalid_request", want_json=True)
    r = op.browser().post("/oauth2/token", "grant_type=%zz", FORM)
    expect_error(r, 400, "invalid_request", want_json=True)
    r = op.browser().post("/oauth2/token", "a=" + "x" * 20000, FORM)
    expect_error(r, 400, "invalid_request", want_json=True)
    code, q, verifier, _ = op.code_for(signed_in)
    for missing in ("code", "redirect_uri", "code_verifier"):
        f = {"grant_type": "authorization_code", "code": code,
             "redirect_uri": PORTAL_CB, "code_verifier": verifier}
        del f[missing]
        expect_error(op.token(f), 400, "invalid_request", want_json=True)


@pytest.mark.parametrize("verifier", [
    "wrong-" + "v" * 50,
    "short",
    "x" * 129,
    "bad verifier with spaces and more than forty-three chars",
])
def test_wrong_pkce_verifier(op, signed_in, verifier):
    """Checklist row 33; the code is spent after the failure."""
    code, q, good, _ = op.code_for(signed_in)
    r = op.exchange(code, verifier)
    expect_error(r, 400, "invalid_grant", want_json=True)
    expect_log(op.watch, "invalid_grant")
    r = op.exchange(code, good)
    expect_error(r, 400, "invalid_grant", want_json=True)


def test_code_replay_revokes_the_first_tokens(op, signed_in):
    """Checklist row 34."""
    code, q, verifier, _ = op.code_for(signed_in)
    first = op.exchange(code, verifier)
    assert first.status == 200
    doc = json.loads(first.text)
    assert op.userinfo(doc["access_token"]).status == 200
    second = op.exchange(code, verifier)
    expect_error(second, 400, "invalid_grant", want_json=True)
    expect_log(op.watch, "invalid_grant", "authorization code replayed")
    assert op.userinfo(doc["access_token"]).status == 401
    api = op.browser().get("/apps/api/", headers={
        "Authorization": "Bearer " + doc["access_token"]})
    assert api.status == 401
    expect_error(op.refresh(doc["refresh_token"]), 400, "invalid_grant",
                 want_json=True)


def test_code_parallel_redemption_exactly_one(op, signed_in):
    """Checklist row 35: 50 redemptions at once, one success."""
    code, q, verifier, _ = op.code_for(signed_in)
    results = []
    lock = threading.Lock()
    start = threading.Event()

    def redeem():
        start.wait()
        r = op.exchange(code, verifier)
        with lock:
            results.append(r.status)

    threads = [threading.Thread(target=redeem) for _ in range(50)]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(30)
    assert len(results) == 50
    assert results.count(200) == 1, results
    assert results.count(400) == 49, results


def test_code_bound_to_client_and_redirect_uri(op, signed_in):
    """Checklist row 36."""
    code, q, verifier, _ = op.code_for(signed_in)
    r = op.exchange(code, verifier, client=(NARROW, NARROW_SECRET),
                    redirect_uri=PORTAL_CB)
    expect_error(r, 400, "invalid_grant", want_json=True)
    expect_log(op.watch, "invalid_grant", "code of client .* presented by")
    code, q, verifier, _ = op.code_for(signed_in)
    r = op.exchange(code, verifier, redirect_uri=PORTAL_CB + "/")
    expect_error(r, 400, "invalid_grant", want_json=True)


def test_code_expires(provider, login):
    p = provider("    edugate_oidc_code_ttl 1s;\n")
    b = p.browser()
    login(b, "stu01", "Stu01-Passw0rd")
    code, q, verifier, _ = p.code_for(b)
    time.sleep(2.2)
    expect_error(p.exchange(code, verifier), 400, "invalid_grant",
                 want_json=True)


def test_code_after_logout_is_dead(op, signed_in):
    code, q, verifier, _ = op.code_for(signed_in)
    assert signed_in.get("/edugate/logout").status == 200
    r = op.exchange(code, verifier)
    expect_error(r, 400, "invalid_grant", want_json=True)
    expect_log(op.watch, "invalid_grant", "the session of .* ended before")


def test_artifact_confusion(op, signed_in):
    """Checklist row 38: a code, refresh token, access token or CAS
    ticket is only ever accepted as what it is."""
    doc, _ = op.tokens(signed_in)
    code, q, verifier, _ = op.code_for(signed_in)
    for fake in (doc["refresh_token"], doc["access_token"],
                 "ST-" + "a" * 32):
        r = op.exchange(fake, verifier)
        expect_error(r, 400, "invalid_grant", want_json=True)
    for fake in (code, doc["access_token"], "ST-" + "a" * 32):
        expect_error(op.refresh(fake), 400, "invalid_grant", want_json=True)
    # the genuine code still works: confusion attempts consumed nothing
    assert op.exchange(code, verifier).status == 200


# ---- refresh tokens (row 40) -----------------------------------------------

def test_refresh_rotates_and_reuse_revokes_the_family(op, signed_in):
    doc, _ = op.tokens(signed_in)
    rt1 = doc["refresh_token"]
    r = op.refresh(rt1)
    assert r.status == 200, r.text
    d2 = json.loads(r.text)
    rt2 = d2["refresh_token"]
    assert rt2 != rt1
    idt = op.verify(d2["id_token"], PORTAL)
    assert idt["sub"] == "stu01" and "nonce" not in idt
    assert op.userinfo(d2["access_token"]).status == 200

    # rt1 again: someone holds a copy; the whole family goes
    expect_error(op.refresh(rt1), 400, "invalid_grant", want_json=True)
    expect_log(op.watch, "invalid_grant", "refresh token reused")
    expect_error(op.refresh(rt2), 400, "invalid_grant", want_json=True)
    assert op.userinfo(d2["access_token"]).status == 401
    assert op.userinfo(doc["access_token"]).status == 401


def test_refresh_scope_narrowing(op, signed_in):
    doc, _ = op.tokens(signed_in)
    r = op.refresh(doc["refresh_token"], scope="openid")
    assert r.status == 200, r.text
    d = json.loads(r.text)
    assert d["scope"] == "openid"
    assert "roles" not in op.verify(d["id_token"], PORTAL)
    wide = op.tokens(signed_in, scope="openid offline_access")[0]
    r = op.refresh(wide["refresh_token"], scope="openid edu")
    expect_error(r, 400, "invalid_scope", want_json=True)
    # a refused widening does not spend the token
    assert op.refresh(wide["refresh_token"]).status == 200


def test_refresh_token_of_another_client(op, signed_in):
    doc, _ = op.tokens(signed_in)
    r = op.refresh(doc["refresh_token"], client=(NARROW, NARROW_SECRET))
    expect_error(r, 400, "invalid_grant", want_json=True)
    # the rightful client still can
    assert op.refresh(doc["refresh_token"]).status == 200


def test_logout_anywhere_ends_oidc_grants(op, signed_in):
    doc, _ = op.tokens(signed_in)
    assert signed_in.get("/edugate/logout").status == 200
    expect_error(op.refresh(doc["refresh_token"]), 400, "invalid_grant",
                 want_json=True)
    assert op.userinfo(doc["access_token"]).status == 401


# ---- userinfo and revocation -----------------------------------------------

def test_userinfo_refusals(op, signed_in, keys):  # noqa: F811
    r = op.browser().get("/oauth2/userinfo")
    assert r.status == 401 and r.header("X-Edugate-Error") == "invalid_token"
    assert r.header("WWW-Authenticate").startswith("Bearer")
    none = (base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}')
            .rstrip(b"=").decode() + "."
            + base64.urlsafe_b64encode(json.dumps(
                {"sub": "stu01", "iss": op.issuer, "aud": op.issuer,
                 "exp": int(time.time()) + 60, "scope": "openid"}).encode())
            .rstrip(b"=").decode() + ".")
    assert op.userinfo(none).status == 401
    hs = jwt.encode({"sub": "stu01", "iss": op.issuer, "aud": op.issuer,
                     "exp": int(time.time()) + 60, "scope": "openid"},
                    "secret", algorithm="HS256",
                    headers={"typ": "at+jwt"})
    assert op.userinfo(hs).status == 401
    doc, _ = op.tokens(signed_in)
    assert op.userinfo(doc["id_token"]).status == 401
    oauth_only = op.tokens(signed_in, scope="profile")[0]
    assert "id_token" not in oauth_only
    r = op.userinfo(oauth_only["access_token"])
    assert r.status == 403 and r.header("X-Edugate-Error") == \
        "insufficient_scope"


def test_revocation(op, signed_in):
    doc, _ = op.tokens(signed_in)
    r = op.token({"token": doc["refresh_token"],
                  "token_type_hint": "refresh_token"})
    assert r.status == 400  # the token endpoint is not the revocation one
    b = op.browser()
    cred = base64.b64encode(("%s:%s" % (PORTAL, PORTAL_SECRET)).encode())
    auth = {"Authorization": "Basic " + cred.decode()}

    r = b.post_form("/oauth2/revoke", {"token": doc["access_token"]},
                    headers=auth)
    assert r.status == 200, r.text
    assert op.userinfo(doc["access_token"]).status == 401
    assert op.refresh(doc["refresh_token"]).status == 200

    doc, _ = op.tokens(signed_in)
    r = b.post_form("/oauth2/revoke", {"token": doc["refresh_token"],
                                       "token_type_hint": "refresh_token"},
                    headers=auth)
    assert r.status == 200
    expect_error(op.refresh(doc["refresh_token"]), 400, "invalid_grant",
                 want_json=True)
    assert op.userinfo(doc["access_token"]).status == 401

    # unknown tokens: 200 and nothing learnt (RFC 7009 2.2)
    for t in ("nonsense", "a" * 43, "x.y.z"):
        assert b.post_form("/oauth2/revoke", {"token": t},
                           headers=auth).status == 200

    # another client's token
    doc, _ = op.tokens(signed_in)
    cred = base64.b64encode(("%s:%s" % (NARROW, NARROW_SECRET)).encode())
    r = b.post_form("/oauth2/revoke", {"token": doc["refresh_token"]},
                    headers={"Authorization": "Basic " + cred.decode()})
    expect_error(r, 400, "unauthorized_client", want_json=True)
    assert op.refresh(doc["refresh_token"]).status == 200

    r = b.post_form("/oauth2/revoke", {"token": doc["access_token"]})
    expect_error(r, 401, "invalid_client", want_json=True)


# ---- RP-initiated logout ---------------------------------------------------

def test_end_session_with_hint_goes_back(op, signed_in):
    doc, _ = op.tokens(signed_in)
    q = urllib.parse.urlencode({"id_token_hint": doc["id_token"],
                                "post_logout_redirect_uri": PORTAL_HOME,
                                "state": "bye"})
    r = signed_in.get("/oauth2/logout?" + q)
    assert r.status == 302, r.text
    assert r.location == PORTAL_HOME + "?state=bye"
    assert set_cookies(r)["edugate_session"][0] == ""
    expect_error(op.refresh(doc["refresh_token"]), 400, "invalid_grant",
                 want_json=True)
    r = signed_in.get("/apps/echo/")
    assert r.status == 302 and r.location.startswith("/edugate/login")


def test_end_session_unregistered_uri(op, signed_in):
    doc, _ = op.tokens(signed_in)
    q = urllib.parse.urlencode({"id_token_hint": doc["id_token"],
                                "post_logout_redirect_uri":
                                "https://evil.example/"})
    r = signed_in.get("/oauth2/logout?" + q)
    expect_error(r, 400, "invalid_post_logout_redirect_uri")
    assert r.location is None
    expect_log(op.watch, "invalid_post_logout_redirect_uri")
    assert signed_in.get("/apps/echo/").status == 302


def test_end_session_bad_hint_still_logs_out(op, signed_in):
    q = urllib.parse.urlencode({"id_token_hint": "x.y.z",
                                "post_logout_redirect_uri": PORTAL_HOME})
    r = signed_in.get("/oauth2/logout?" + q)
    expect_error(r, 400, "invalid_post_logout_redirect_uri")
    expect_log(op.watch, "invalid_id_token_hint")
    r = signed_in.get("/oauth2/logout")
    assert r.status == 200 and r.header("X-Edugate-Error") == "logged_out"


# ---- browsers and the store -------------------------------------------------

def test_cors_for_public_client_origin_only(op):
    b = op.browser()
    r = b.request("OPTIONS", "/oauth2/token", headers={
        "Origin": "http://127.0.0.1:8081",
        "Access-Control-Request-Method": "POST"})
    assert r.status == 204
    assert r.header("Access-Control-Allow-Origin") == "http://127.0.0.1:8081"
    r = b.request("OPTIONS", "/oauth2/token", headers={
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST"})
    assert r.header("Access-Control-Allow-Origin") is None


def test_redis_down_is_never_a_success(provider, redis_factory, login):
    """Checklist row 70."""
    rs = redis_factory()
    p = provider(redis=rs)
    b = p.browser()
    login(b, "stu01", "Stu01-Passw0rd")
    code, q, verifier, _ = p.code_for(b)
    rs.pause()
    try:
        r = p.exchange(code, verifier)
        expect_error(r, 503, "temporarily_unavailable", want_json=True)
    finally:
        rs.resume()
    rs.stop()
    r, _, _ = p.authorize(b)
    assert r.status in (302, 503)
    if r.status == 302:
        assert "code=" not in r.location
    r = p.exchange(code, verifier)
    expect_error(r, 503, "temporarily_unavailable", want_json=True)


# ---- configuration ----------------------------------------------------------

@pytest.mark.parametrize("extra,message", [
    ("    edugate_oidc_client x secret=short redirect_uri=%s;\n" % PORTAL_CB,
     "at least 16 characters"),
    ("    edugate_oidc_client x public;\n", "at least one"),
    ("    edugate_oidc_client x public redirect_uri=http://school.example/cb;"
     "\n", "loopback hosts only"),
    ("    edugate_oidc_client x public redirect_uri=%s#f;\n" % PORTAL_CB,
     "fragment"),
    ("    edugate_oidc_client %s public redirect_uri=%s;\n" % (PORTAL,
                                                              PORTAL_CB),
     "registered twice"),
    ("    edugate_oidc_client x public redirect_uri=%s scopes=openid,admin;"
     "\n" % PORTAL_CB, "the scopes are"),
    ("    edugate_oidc_code_ttl 11m;\n", "edugate_oidc_code_ttl"),
])
def test_configuration_errors(module_path, tmp_path, keys, extra,  # noqa
                              message, demo_conf):
    from servers import Nginx
    port = free_port()
    conf = demo_conf(port, oidc_http("http://127.0.0.1:%d" % port,
                                     keys["rsa1"].path, extra),
                     OIDC_SERVER % 1)
    n = Nginx(tmp_path / "t", port, module_path, conf)
    rc, out = n.test_config(conf)
    assert rc != 0
    assert message in out, out


# ---- back-channel logout ------------------------------------------------------

class Receiver:
    """A relying party's back-channel logout endpoint on loopback: records
    every POST it gets."""

    def __init__(self, status=200):
        import http.server

        self.posts = []
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                with outer.cond:
                    outer.posts.append((self.path, dict(self.headers),
                                        body))
                    outer.cond.notify_all()
                self.send_response(status)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def wait(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.posts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.posts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(status=200):
        r = Receiver(status)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def bc_provider(provider, rcv, extra=""):
    return provider(
        "    edugate_oidc_client bc-app secret=bc-app-secret-0123 "
        "redirect_uri=http://127.0.0.1:8083/cb "
        "backchannel_logout_uri=http://127.0.0.1:%d/bcl?x=1;\n" % rcv.port
        + extra)


BC = ("bc-app", "bc-app-secret-0123")
BC_CB = "http://127.0.0.1:8083/cb"


@pytest.mark.parametrize("how", ["edugate", "end_session", "relogin"])
def test_backchannel_logout_token(provider, receiver, login, how):
    rcv = receiver()
    p = bc_provider(provider, rcv)
    b = p.browser()
    login(b, "stu01", "Stu01-Passw0rd")
    doc, _ = p.tokens(b, client_id="bc-app", redirect_uri=BC_CB,
                      scope="openid", client=BC)
    sid = p.verify(doc["id_token"], "bc-app")["sid"]
    portal, _ = p.tokens(b)          # demo-portal has no back-channel URI

    if how == "edugate":
        assert b.get("/edugate/logout").status == 200
    elif how == "end_session":
        assert b.get("/oauth2/logout").status == 200
    else:
        login(b, "stu02", "Stu02-Passw0rd")

    posts = rcv.wait(1)
    assert len(posts) == 1, posts
    path, headers, body = posts[0]
    assert path == "/bcl?x=1"
    assert headers["Content-Type"] == FORM
    fields = dict(urllib.parse.parse_qsl(body))
    assert set(fields) == {"logout_token"}
    claims = p.verify(fields["logout_token"], "bc-app", typ="logout+jwt")
    assert claims["sid"] == sid
    assert claims["events"] == {
        "http://schemas.openid.net/event/backchannel-logout": {}}
    assert "nonce" not in claims
    assert claims["exp"] - claims["iat"] <= 120 and claims["jti"]
    expect_log(p.watch, "logout", 'back-channel logout token sent to '
               'client "bc-app"')

    # the grants of the session went too
    expect_error(p.refresh(portal["refresh_token"]), 400, "invalid_grant",
                 want_json=True)
    time.sleep(0.3)
    assert len(rcv.posts) == 1, "one token per client and session"


def test_backchannel_receiver_down_does_not_hold_logout(provider, receiver,
                                                       login):
    rcv = receiver()
    p = bc_provider(provider, rcv, "    edugate_fetch_timeout 1s;\n")
    rcv.close()
    b = p.browser()
    login(b, "stu01", "Stu01-Passw0rd")
    p.tokens(b, client_id="bc-app", redirect_uri=BC_CB, scope="openid",
             client=BC)
    t0 = time.monotonic()
    r = b.get("/edugate/logout")
    assert r.status == 200
    assert time.monotonic() - t0 < 0.5
    expect_log(p.watch, "notify", r"POST http://127\.0\.0\.1:%d/bcl"
               % rcv.port, timeout=5)


def test_backchannel_uri_is_resolved_at_startup(provider, module_path,
                                                tmp_path, keys, demo_conf):
    from servers import Nginx
    port = free_port()
    extra = ("    edugate_oidc_client x secret=0123456789abcdef0 "
             "redirect_uri=%s backchannel_logout_uri="
             "https://no-such-host.invalid/bcl;\n" % PORTAL_CB)
    conf = demo_conf(port, oidc_http("http://127.0.0.1:%d" % port,
                                     keys["rsa1"].path, extra),
                     OIDC_SERVER % 1)
    rc, out = Nginx(tmp_path / "t", port, module_path, conf).test_config(
        conf)
    assert rc != 0
    assert "no-such-host.invalid" in out, out


def test_authorize_by_post_is_the_same(op, signed_in, login):
    """Checklist row 24: GET and POST behave the same."""
    verifier = secrets.token_urlsafe(48)
    fields = {"client_id": PORTAL, "redirect_uri": PORTAL_CB,
              "response_type": "code", "scope": "openid", "state": "p1",
              "code_challenge": challenge(verifier),
              "code_challenge_method": "S256", "unknown_param": "ignored"}
    r = signed_in.post_form("/oauth2/authorize", fields)
    assert r.status == 302 and r.location.startswith(PORTAL_CB + "?code=")
    assert op.exchange(query_of(r.location)["code"], verifier).status == 200

    # without a session: the way back after the login is a GET
    b = op.browser()
    r = b.post_form("/oauth2/authorize", fields)
    assert r.location.startswith("/edugate/login?return=")
    back = urllib.parse.unquote(r.location.split("return=", 1)[1])
    assert back.startswith("/oauth2/authorize?client_id=")
    login(b, "stu01", "Stu01-Passw0rd", return_to=back)
    r = b.get(back)
    assert r.location.startswith(PORTAL_CB + "?code="), r.location
    assert query_of(r.location)["state"] == "p1"

    r = signed_in.post("/oauth2/authorize", json.dumps(fields),
                       "application/json")
    expect_error(r, 400, "invalid_request", want_json=True)


def test_parallel_refresh_is_strict(op, signed_in):
    """Checklist row 41: two refreshes of one token at once.  The policy
    is strict: one gets new tokens, the other is a reuse, and the reuse
    revokes the family, the winner's new tokens included."""
    doc, _ = op.tokens(signed_in)
    rt = doc["refresh_token"]
    results = []
    start = threading.Event()

    def go():
        start.wait()
        results.append(op.refresh(rt))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(15)
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 400], statuses
    won = json.loads([r for r in results if r.status == 200][0].text)
    expect_error(op.refresh(won["refresh_token"]), 400, "invalid_grant",
                 want_json=True)


def test_login_refusals_inside_an_oidc_flow(op, login):
    """Checklist rows 1-3 on the OIDC path: the only login entry point is
    the EduGate login page, with its refusals; no code without a login."""
    from expect import csrf_token
    b = op.browser()
    r, q, verifier = op.authorize(b)
    back = urllib.parse.unquote(r.location.split("return=", 1)[1])
    for user, password in (("stu01", ""), ("stu01", "Stu01-Passw0rd\x00x"),
                           ("*", "x"), ("stu01)(uid=*", "x")):
        token = csrf_token(b)
        r = b.post("/edugate/login", urllib.parse.urlencode({
            "username": user, "password": password, "csrf": token,
            "return": back}), FORM)
        assert r.status in (400, 401), (user, r.status)
        assert r.location is None
    r = b.get(back)
    assert r.location.startswith("/edugate/login"), r.location


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_wrong_token_as_id_token_hint(op, signed_in, which):
    """Checklist row 46: an access token is not an id_token_hint."""
    doc, _ = op.tokens(signed_in)
    q = urllib.parse.urlencode({"id_token_hint": doc[which],
                                "post_logout_redirect_uri": PORTAL_HOME})
    r = signed_in.get("/oauth2/logout?" + q)
    expect_error(r, 400, "invalid_post_logout_redirect_uri")
    assert r.location is None
    expect_log(op.watch, "invalid_id_token_hint")


# ---- client_credentials ----------------------------------------------------------

VENDOR = ("vendor-a", "vendor-a-secret-0123")

CLIENT_HTTP = """
    edugate_oidc_client vendor-a secret=vendor-a-secret-0123
        grant_types=client_credentials;
    edugate_oidc_client vendor-b secret=vendor-b-secret-0123
        grant_types=client_credentials,authorization_code
        redirect_uri=http://127.0.0.1:8084/cb;
"""

CLIENT_SERVER = """
        location /vendor-api/ {
            edugate_allow_clients vendor-a;
            proxy_pass http://127.0.0.1:%d;
        }
        location /both/ {
            edugate_protect on;
            edugate_allow_clients vendor-a;
            proxy_pass http://127.0.0.1:%d;
        }
"""


@pytest.fixture
def cc_op(gateway_factory, keys, echo):  # noqa: F811
    port = free_port()
    issuer = "http://127.0.0.1:%d" % port
    n = gateway_factory(
        extra_http=oidc_http(issuer, keys["rsa1"].path, CLIENT_HTTP),
        extra_server=OIDC_SERVER % echo.port
        + CLIENT_SERVER % (echo.port, echo.port), port=port)
    return Provider(n, issuer)


def client_token(p, client=VENDOR, **fields):
    f = {"grant_type": "client_credentials"}
    f.update(fields)
    return p.token(f, client=client)


def test_client_credentials_token(cc_op, login):
    r = client_token(cc_op)
    assert r.status == 200, r.text
    doc = json.loads(r.text)
    assert set(doc) == {"access_token", "token_type", "expires_in"}
    claims = cc_op.verify(doc["access_token"], cc_op.issuer, typ="at+jwt")
    assert claims["sub"] == "vendor-a" and claims["client_id"] == "vendor-a"
    assert claims["gty"] == "client_credentials"
    assert "scope" not in claims and "name" not in claims
    at = {"Authorization": "Bearer " + doc["access_token"]}

    b = cc_op.browser()
    r = b.get("/vendor-api/x", headers=at)
    assert r.status == 200, r.text
    assert json.loads(r.text)["headers"]["x-edugate-user"] == "vendor-a"
    assert b.get("/both/x", headers=at).status == 200

    # never taken for a person
    r = b.get("/apps/api/x", headers=dict(at, Accept="application/json"))
    expect_error(r, 403, "client_not_allowed", want_json=True)
    expect_log(cc_op.watch, "client_not_allowed", 'the token of client '
               '"vendor-a"')
    assert cc_op.userinfo(doc["access_token"]).status == 403

    # a person's session: fine where people are welcome, not elsewhere
    login(b, "stu01", "Stu01-Passw0rd")
    assert b.get("/both/x").status == 200
    r = b.get("/vendor-api/x", headers={"Accept": "application/json"})
    expect_error(r, 403, "access_denied", want_json=True)

    # revocable like any access token of ours
    cred = base64.b64encode(("%s:%s" % VENDOR).encode()).decode()
    r = b.post_form("/oauth2/revoke", {"token": doc["access_token"]},
                    headers={"Authorization": "Basic " + cred})
    assert r.status == 200
    r = b.get("/vendor-api/x", headers=dict(at, Accept="application/json"))
    assert r.status == 401


def test_client_credentials_refusals(cc_op):
    """Checklist row 25: clients without the grant, public clients."""
    r = client_token(cc_op, client=(PORTAL, PORTAL_SECRET))
    expect_error(r, 400, "unauthorized_client", want_json=True)
    expect_log(cc_op.watch, "unauthorized_client")
    r = cc_op.token({"grant_type": "client_credentials"},
                    client=(SPA, None), how="post")
    expect_error(r, 400, "unauthorized_client", want_json=True)
    r = client_token(cc_op, scope="openid")
    expect_error(r, 400, "invalid_scope", want_json=True)
    r = client_token(cc_op, client=(VENDOR[0], "wrong-secret-000000"))
    expect_error(r, 401, "invalid_client", want_json=True)
    # a client_credentials-only client has no code flow
    r = cc_op.token({"grant_type": "refresh_token",
                     "refresh_token": "a" * 43}, client=VENDOR)
    expect_error(r, 400, "unauthorized_client", want_json=True)
    # one with both grants gets its token
    assert client_token(cc_op, client=("vendor-b",
                                       "vendor-b-secret-0123")).status == 200
    doc = json.loads(cc_op.browser().get(
        "/.well-known/openid-configuration").text)
    assert "client_credentials" in doc["grant_types_supported"]


def test_client_credentials_needs_a_confidential_client(module_path,
                                                        tmp_path, keys,
                                                        demo_conf):
    from servers import Nginx
    port = free_port()
    conf = demo_conf(port, oidc_http(
        "http://127.0.0.1:%d" % port, keys["rsa1"].path,
        "    edugate_oidc_client pub public grant_types=client_credentials;"
        "\n"), OIDC_SERVER % 1)
    rc, out = Nginx(tmp_path / "t", port, module_path, conf).test_config(
        conf)
    assert rc != 0 and "cannot use client_credentials" in out, out
