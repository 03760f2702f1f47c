"""Pins the OpenID provider against client libraries we did not write.

npm's openid-client (tests/clients/oidc_flow.js) discovers the provider,
runs the authorization code flow with PKCE through our login form,
exchanges the code and validates the ID token, reads userinfo, refreshes,
revokes and builds the end-session URL; jose verifies the ID and access
tokens against our JWKS.  Both libraries must refuse what a relying party
has to refuse: a wrong nonce, state or iss, a tampered or unsigned ID
token, a replayed code, a wrong verifier or secret.  The access token the
provider issued opens a protected location of the gateway, and only the
origins of public clients get CORS answers."""

import re
import urllib.parse

import pytest

import relying_parties as rp
from clients import rsa_key, run_node
from servers import DEMO_ACCOUNTS, HttpClient, Nginx, free_port, \
    nginx_demo_conf

RP_ID = "node-rp"
RP_SECRET = "node-rp-secret-for-tests-only"
SPA_ID = "node-spa"
KID = "test-rs256"
EDU_CLAIMS = ("roles", "org", "org_path", "level", "school", "grade",
              "class")


class Provider:
    """The gateway as an OpenID provider, and where its clients live."""

    def __init__(self, nginx, rp_port, spa_port):
        self.nginx = nginx
        self.port = nginx.port
        self.issuer = "http://127.0.0.1:%d" % nginx.port
        self.rp_origin = "http://127.0.0.1:%d" % rp_port
        self.spa_origin = "http://127.0.0.1:%d" % spa_port
        self.redirect_uri = self.rp_origin + "/cb"
        self.post_logout_uri = self.rp_origin + "/logged-out"
        self.spa_redirect_uri = self.spa_origin + "/spa/cb"


@pytest.fixture(scope="module")
def provider(module_path, redis, slapd, echo, tmp_path_factory):
    """A gateway with two clients registered: node-rp (confidential) and
    node-spa (public); nothing listens at their redirect URIs, the script
    reads the redirects."""
    d = tmp_path_factory.mktemp("oidc-clients")
    key = rsa_key(d / "signing.pem")
    port, rp_port, spa_port = free_port(), free_port(), free_port()
    issuer = "http://127.0.0.1:%d" % port
    rp_origin = "http://127.0.0.1:%d" % rp_port
    spa_origin = "http://127.0.0.1:%d" % spa_port
    http = """
    edugate_issuer       {issuer};
    edugate_signing_key  {key} kid={kid};
    edugate_oidc_client  {rp} secret={secret}
                         redirect_uri={rpo}/cb
                         scopes=openid,profile,edu,offline_access
                         post_logout_uri={rpo}/logged-out;
    edugate_oidc_client  {spa} public redirect_uri={spao}/spa/cb
                         scopes=openid,profile,edu;
""".format(issuer=issuer, key=key, kid=KID, rp=RP_ID, secret=RP_SECRET,
           rpo=rp_origin, spa=SPA_ID, spao=spa_origin)
    n = Nginx(d / "nginx", port, module_path,
              nginx_demo_conf(redis.port, slapd.port, echo.port, port,
                              http, rp.OIDC_SERVER), workers=2)
    n.start()
    yield Provider(n, rp_port, spa_port)
    n.stop()
    problems = n.check_log()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def flow(provider):
    """What oidc_flow.js found, run once for the module (as stu01)."""
    cfg = {
        "issuer": provider.issuer,
        "resource_url": provider.issuer + "/apps/echo/api",
        "user": {"username": "stu01",
                 "password": DEMO_ACCOUNTS["stu01"]["password"]},
        "confidential": {
            "client_id": RP_ID, "client_secret": RP_SECRET,
            "redirect_uri": provider.redirect_uri,
            "post_logout_redirect_uri": provider.post_logout_uri,
            "scope": "openid profile edu offline_access"},
        "public": {"client_id": SPA_ID,
                   "redirect_uri": provider.spa_redirect_uri,
                   "scope": "openid profile edu"},
    }
    doc = run_node("oidc_flow.js", cfg, ("openid-client", "jose"))
    if "fatal" in doc:
        pytest.fail("oidc_flow.js stopped: %s\n%s\ngateway log:\n%s"
                    % (doc["fatal"], doc.get("stack", ""),
                       provider.nginx.error_log_text()[-3000:]),
                    pytrace=False)
    return doc


def ok(flow, name):
    """A step that must have worked: its result."""
    got = flow.get(name)
    assert isinstance(got, dict), "step %s did not run: %r" % (name, got)
    assert "error" not in got, "step %s failed: %s\nhops: %s" % (
        name, got["error"], flow.get("hops"))
    return got


# ---- discovery -------------------------------------------------------------

def test_discovery(flow, provider):
    meta = flow["discovery"]
    iss = provider.issuer
    assert flow["discovery_issuer_matches"], meta
    assert meta["issuer"] == iss
    for name, path in (("authorization_endpoint", "/oauth2/authorize"),
                       ("token_endpoint", "/oauth2/token"),
                       ("userinfo_endpoint", "/oauth2/userinfo"),
                       ("revocation_endpoint", "/oauth2/revoke"),
                       ("end_session_endpoint", "/oauth2/logout"),
                       ("jwks_uri", "/.well-known/jwks.json")):
        assert meta[name] == iss + path, (name, meta)
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert "none" not in meta["id_token_signing_alg_values_supported"]
    assert {"authorization_code", "refresh_token"} <= set(
        meta["grant_types_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= set(
        meta["token_endpoint_auth_methods_supported"])
    assert meta["authorization_response_iss_parameter_supported"] is True


# ---- the code flow ----------------------------------------------------------

def test_callback_names_issuer(flow, provider):
    # RFC 9207: openid-client compared it with the issuer already
    assert flow["callback_iss"] == provider.issuer
    assert set(flow["callback_params"]) == {"code", "state", "iss"}


def test_id_token(flow, provider):
    c = flow["id_token_claims"]
    acct = DEMO_ACCOUNTS["stu01"]
    assert c["iss"] == provider.issuer
    assert c["sub"] == "stu01"
    assert c["aud"] in (RP_ID, [RP_ID])
    assert c["azp"] == RP_ID
    assert isinstance(c["nonce"], str) and c["nonce"]
    assert isinstance(c["sid"], str) and c["sid"]
    assert c["exp"] > c["iat"] and c["auth_time"] <= c["iat"]
    assert c["name"] == acct["name"]
    assert c["preferred_username"] == "stu01"
    for f in EDU_CLAIMS:
        assert c[f] == acct[f], (f, c)
    header = flow["tokens"]["id_token_header"]
    assert header["alg"] == "RS256" and header["kid"] == KID


def test_token_response(flow):
    t = flow["tokens"]
    assert t["token_type"].lower() == "bearer"
    assert set(t["scope"].split()) == {"openid", "profile", "edu",
                                       "offline_access"}
    assert 0 < t["expires_in"] <= 600
    assert t["has_refresh_token"]
    assert t["access_token_header"]["typ"] == "at+jwt"


def test_userinfo(flow):
    u = ok(flow, "userinfo")
    acct = DEMO_ACCOUNTS["stu01"]
    assert u["sub"] == "stu01"
    assert u["name"] == acct["name"]
    for f in EDU_CLAIMS:
        assert u[f] == acct[f], (f, u)


def test_jose_verifies_tokens(flow, provider):
    idt = ok(flow, "jose_id_token")
    assert idt["payload"]["sub"] == "stu01"
    assert idt["header"]["kid"] == KID
    at = ok(flow, "jose_access_token")
    assert at["header"]["typ"] == "at+jwt"
    assert at["payload"]["iss"] == provider.issuer
    assert at["payload"]["sub"] == "stu01"
    assert at["payload"]["client_id"] == RP_ID


def test_access_token_opens_protected_location(flow):
    """The gateway's own bearer check accepts what its provider issued."""
    r = ok(flow, "protected_resource")
    assert r["status"] == 200, r
    assert r["body"]["identity"]["user"] == "stu01", r
    assert r["body"]["authorization_present"] is False


def test_access_token_dead_after_logout(flow):
    """Logging out revokes the grant, and with it its access tokens."""
    r = ok(flow, "resource_after_logout")
    assert r["status"] == 401, r
    assert r["body"]["error"] == "invalid_token", r


def test_refresh(flow):
    r = ok(flow, "refresh")
    assert r["new_access_token"]
    if r["id_token_claims"] is not None:
        assert r["id_token_claims"]["sub"] == "stu01"
    ok(flow, "revoke")


def test_public_client(flow):
    r = ok(flow, "public_client")
    assert r["claims"]["sub"] == "stu01"
    assert r["claims"]["aud"] in (SPA_ID, [SPA_ID])
    assert not r["has_refresh_token"]


def test_end_session(flow, provider):
    r = ok(flow, "end_session")
    assert r["status"] in (302, 303), r
    assert r["back_to_client"], r
    assert r["state_returned"], r


# ---- what the libraries must refuse -----------------------------------------

REFUSALS = {
    # name: (error name, error code or None, regex of the message)
    "reject_tampered_id_token_jose": ("JWSSignatureVerificationFailed", None,
                                      "signature"),
    "reject_tampered_id_token_client": ("RPError", None, "signature"),
    "reject_alg_none": (None, None, ""),
    "reject_wrong_audience": ("JWTClaimValidationFailed", None, "aud"),
    "reject_id_token_as_access_token": ("JWTClaimValidationFailed", None,
                                        "typ"),
    "reject_wrong_nonce": ("RPError", None, "nonce mismatch"),
    "reject_wrong_state": ("RPError", None, "state mismatch"),
    "reject_wrong_iss": ("RPError", None, "iss mismatch"),
    "reject_code_replay": ("OPError", "invalid_grant", ""),
    "reject_refresh_after_code_replay": ("OPError", "invalid_grant", ""),
    "reject_wrong_verifier": ("OPError", "invalid_grant", ""),
    "reject_wrong_secret": ("OPError", "invalid_client", ""),
    "reject_revoked_refresh_token": ("OPError", "invalid_grant", ""),
    "reject_public_client_without_pkce": ("OPError", "invalid_request", ""),
    "reject_prompt_none_after_logout": ("OPError", "login_required", ""),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused(flow, case):
    got = flow.get(case)
    assert got is not None, "check %s did not run (hops %s)" % (
        case, flow.get("hops"))
    assert got["rejected"], "%s was accepted: %s" % (case, got)
    name, code, message = REFUSALS[case]
    err = got["error"]
    if name is not None:
        assert err["name"] == name, err
    if code is not None:
        assert err["code"] == code, err
    assert re.search(message, err["message"]), err


def test_unregistered_redirect_uri_gets_no_redirect(flow):
    got = flow["reject_unregistered_redirect_uri"]
    assert got["rejected"], "the provider redirected: %s" % got
    assert got["error"]["status"] == 400, got


def test_rotated_refresh_token_is_dead(flow):
    r = ok(flow, "refresh")
    if not r["rotated"]:
        pytest.fail("the refresh token was not rotated (RFC 9700 4.14.2 "
                    "wants rotation or sender constraint for refresh "
                    "tokens)")
    got = flow["reject_rotated_refresh_token"]
    assert got["rejected"] and got["error"]["code"] == "invalid_grant", got


# ---- CORS -------------------------------------------------------------------

def cors(provider, path, origin, method="OPTIONS", body=None, headers=None):
    h = {"Origin": origin}
    h.update(headers or {})
    c = HttpClient(provider.port)
    if method == "OPTIONS":
        h["Access-Control-Request-Method"] = "POST"
        h["Access-Control-Request-Headers"] = "authorization"
        return c.request("OPTIONS", path, headers=h)
    return c.post(path, body or "", "application/x-www-form-urlencoded",
                  headers=h)


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/userinfo",
                                  "/oauth2/revoke"])
def test_cors_for_public_client_origin(provider, path):
    r = cors(provider, path, provider.spa_origin)
    assert r.status in (200, 204), (r, r.text)
    assert r.header("Access-Control-Allow-Origin") == provider.spa_origin
    assert "POST" in r.header("Access-Control-Allow-Methods", "")
    assert "authorization" in r.header("Access-Control-Allow-Headers",
                                       "").lower()
    # a real request from that origin is answered with the header too
    r = cors(provider, path, provider.spa_origin, method="POST",
             body=urllib.parse.urlencode({"client_id": SPA_ID}))
    assert r.header("Access-Control-Allow-Origin") == provider.spa_origin


@pytest.mark.parametrize("origin_of", ["rp", "other"])
def test_no_cors_for_other_origins(provider, origin_of):
    """A confidential client's origin, or any other, gets no CORS grant:
    its secret must never sit in a browser."""
    origin = (provider.rp_origin if origin_of == "rp"
              else "http://127.0.0.1:1")
    for path in ("/oauth2/token", "/oauth2/userinfo", "/oauth2/revoke"):
        r = cors(provider, path, origin)
        assert r.header("Access-Control-Allow-Origin") is None, (path, r)
        r = cors(provider, path, origin, method="POST", body="x=1")
        assert r.header("Access-Control-Allow-Origin") is None, (path, r)
