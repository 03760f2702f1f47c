"""Pins signing keys, the JWKS endpoint and bearer access tokens in
edugate_protect: PyJWT, an independent JWT library, verifies our JWKS and
mints the tokens; valid RS256 and ES256 access tokens reach the
application with the identity of their claims; every forged, expired,
misdirected or revoked token is 401 invalid_token with the RFC 6750
challenge and a log line, never a login redirect; Redis down is 503;
the token never travels upstream while other Authorization headers do;
keys rotate without a gap; a broken key configuration fails `nginx -t`
with file and line."""

import base64
import hashlib
import hmac
import json
import re
import shutil
import socket
import subprocess
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from servers import (DEMO_ACCOUNTS, HttpClient, LogWatch, Nginx, free_port,
                     nginx_demo_conf)
from expect import JSON, expect_error, expect_log, set_cookies

ISSUER = "https://edugate.test"
API_AUDIENCE = "https://api.edugate.test"
JWKS_PATH = "/.well-known/jwks.json"
IDENTITY_FIELDS = ("name", "roles", "org", "org_path", "level", "school",
                   "grade", "class")


# ---- keys, generated for this run only -------------------------------------

class Key:
    """A key pair made by openssl; kid is learnt from our JWKS."""

    def __init__(self, path, alg):
        self.path = path
        self.alg = alg
        self.pem = path.read_bytes()
        self.private = serialization.load_pem_private_key(self.pem, None)
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = None

    def public_numbers(self):
        return self.private.public_key().public_numbers()


def openssl(*args):
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("openssl is not installed (tests/tools/install-deps.sh)")
    subprocess.run([exe] + [str(a) for a in args], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    for name, bits in (("rsa1", 2048), ("rsa2", 2048), ("rsa1024", 1024)):
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:%d" % bits, "-out", d / (name + ".pem"))
    for name in ("ec1", "ec2"):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-out", d / (name + ".pem"))
    openssl("pkey", "-in", d / "rsa2.pem", "-pubout",
            "-out", d / "rsa2.pub.pem")
    return {
        "rsa1": Key(d / "rsa1.pem", "RS256"),
        "rsa2": Key(d / "rsa2.pem", "RS256"),
        "ec1": Key(d / "ec1.pem", "ES256"),
        "ec2": Key(d / "ec2.pem", "ES256"),
        "rsa1024": d / "rsa1024.pem",
        "rsa2_pub": d / "rsa2.pub.pem",
        "dir": d,
    }


# ---- tokens ----------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims_for(user, **changes):
    """Access token claims of a demo person; a value None drops a claim."""
    acct = DEMO_ACCOUNTS[user]
    now = int(time.time())
    c = {"iss": ISSUER, "aud": ISSUER, "sub": user, "iat": now,
         "exp": now + 300, "jti": uuid.uuid4().hex, "client_id": "tests"}
    for f in IDENTITY_FIELDS:
        if acct[f] is not None:
            c[f] = acct[f]
    c.update(changes)
    return {k: v for k, v in c.items() if v is not None}


def mint(key, claims, typ="at+jwt", kid=None, alg=None):
    return jwt.encode(claims, key.pem, algorithm=alg or key.alg,
                      headers={"kid": kid or key.kid, "typ": typ})


def hand_made(header, claims, sign=None):
    """A token built without a JWT library; sign(signing_input) -> bytes."""
    si = (b64url(json.dumps(header).encode()) + "."
          + b64url(json.dumps(claims).encode()))
    sig = sign(si.encode()) if sign else b""
    return si + "." + b64url(sig)


def bearer(token, **more):
    h = {"Authorization": "Bearer " + token}
    h.update(more)
    return h


def jwks_of(target):
    r = HttpClient(target.port).get(JWKS_PATH)
    assert r.status == 200, r.text
    return r.json()


def learn_kids(target, keys):
    """Sets key.kid from the JWKS entry holding the key's public part."""
    doc = jwks_of(target)
    for key in (keys["rsa1"], keys["rsa2"], keys["ec1"], keys["ec2"]):
        key.kid = None
        for jwk in doc["keys"]:
            if jwt.PyJWK(jwk).key.public_numbers() == key.public_numbers():
                key.kid = jwk["kid"]
    return doc


def expect_identity(doc, user):
    acct = DEMO_ACCOUNTS[user]
    ident = doc["identity"]
    assert ident["user"] == user, doc
    for f in IDENTITY_FIELDS:
        want = acct[f] if acct[f] is not None else (
            [] if f == "roles" else None)
        assert ident[f] == want, (f, doc)


def expect_invalid_token(resp, reason):
    """401 invalid_token with the RFC 6750 challenge, JSON, no redirect."""
    doc = expect_error(resp, 401, "invalid_token", want_json=True)
    assert resp.header("WWW-Authenticate") == (
        'Bearer error="invalid_token", error_description="%s"' % reason)
    assert doc["error_description"] == reason, doc
    assert resp.location is None
    assert not set_cookies(resp), "a token refusal touches no cookie"
    return doc


# ---- gateways --------------------------------------------------------------

def key_lines(*entries):
    return "".join("    edugate_signing_key %s;\n" % e for e in entries)


def server_conf(echo):
    return """
        location = %s { edugate_jwks; }

        location /open/ {
            proxy_pass http://127.0.0.1:%d/apps/echo/;
        }

        location /apps/vars/ {
            edugate_protect on;
            add_header X-Seen-User "$edugate_user" always;
            add_header X-Seen-Roles "$edugate_roles" always;
            add_header X-Seen-Error "$edugate_error" always;
            proxy_pass http://127.0.0.1:%d;
        }
""" % (JWKS_PATH, echo.port, echo.port)


@pytest.fixture
def gw(gateway_factory, keys, echo):
    """gw(extra_http="", keys_conf=None, **kw): a gateway that trusts
    rsa1 (kid from its thumbprint) and ec1 (kid=ec-1), with the kids
    learnt from its JWKS."""

    def make(extra_http="", keys_conf=None, **kw):
        if keys_conf is None:
            keys_conf = key_lines(
                str(keys["rsa1"].path),
                "%s kid=ec-1 alg=ES256" % keys["ec1"].path)
        n = gateway_factory(
            extra_http="    edugate_issuer %s;\n" % ISSUER + keys_conf
            + extra_http, extra_server=server_conf(echo), **kw)
        learn_kids(n, keys)
        return n

    return make


# ---- JWKS ------------------------------------------------------------------

def test_jwks_published_and_verifiable(gw, client, keys):
    n = gw()
    r = client(n).get(JWKS_PATH)
    assert r.status == 200
    assert r.header("Content-Type") == "application/json"
    assert r.header("Cache-Control") == "public, max-age=300"
    doc = r.json()
    assert len(doc["keys"]) == 2
    rsa, ec = keys["rsa1"], keys["ec1"]
    assert ec.kid == "ec-1" and rsa.kid, doc
    for jwk in doc["keys"]:
        assert jwk["use"] == "sig"
        # public members only
        assert not set(jwk) & {"d", "p", "q", "dp", "dq", "qi"}, jwk
    by_kid = {j["kid"]: j for j in doc["keys"]}
    assert by_kid[rsa.kid]["alg"] == "RS256"
    assert by_kid[rsa.kid]["kty"] == "RSA"
    assert by_kid["ec-1"]["alg"] == "ES256"
    assert by_kid["ec-1"]["crv"] == "P-256"

    # without kid= the kid is the RFC 7638 thumbprint of the key
    j = by_kid[rsa.kid]
    canon = json.dumps({"e": j["e"], "kty": "RSA", "n": j["n"]},
                       separators=(",", ":"), sort_keys=True)
    assert rsa.kid == b64url(hashlib.sha256(canon.encode()).digest())

    # PyJWT takes the public keys from the JWKS and checks our key files'
    # tokens with them
    url = "http://127.0.0.1:%d%s" % (n.port, JWKS_PATH)
    jwks_client = jwt.PyJWKClient(url, cache_keys=False)
    for key in (rsa, ec):
        token = mint(key, claims_for("stu01"))
        signing = jwks_client.get_signing_key_from_jwt(token)
        got = jwt.decode(token, signing.key, algorithms=[key.alg],
                         audience=ISSUER, issuer=ISSUER)
        assert got["sub"] == "stu01"
        pub = jwt.PyJWK(by_kid[key.kid]).key
        jwt.decode(token, pub, algorithms=[key.alg], audience=ISSUER)

    head = client(n).request("HEAD", JWKS_PATH)
    assert head.status == 200 and head.body == b""
    post = client(n).post(JWKS_PATH, "x", "text/plain", headers=JSON)
    expect_error(post, 405, "method_not_allowed", want_json=True)


# ---- valid tokens ----------------------------------------------------------

@pytest.mark.parametrize("key_name,user", [
    ("rsa1", "stu01"),
    ("ec1", "tea01"),
    ("rsa1", "itadmin"),
])
def test_valid_token_reaches_app(gw, client, keys, key_name, user):
    n = gw()
    token = mint(keys[key_name], claims_for(user))
    r = client(n).get("/apps/echo/api?x=1", headers=bearer(token))
    assert r.status == 200, (r.header("X-Edugate-Error"), r.text)
    doc = r.json()
    expect_identity(doc, user)
    assert doc["path"] == "/apps/echo/api?x=1"
    # the token stays at the gateway
    assert doc["authorization_present"] is False


def test_identity_variables(gw, client, keys):
    n = gw()
    token = mint(keys["ec1"], claims_for("stu02"))
    r = client(n).get("/apps/vars/", headers=bearer(token))
    assert r.status == 200, r.text
    assert r.header("X-Seen-User") == "stu02"
    assert r.header("X-Seen-Roles") == "student"
    expect_identity(r.json(), "stu02")


def test_scheme_is_case_insensitive(gw, client, keys):
    n = gw()
    token = mint(keys["rsa1"], claims_for("stu01"))
    for scheme in ("bearer", "BEARER", "BeArEr"):
        r = client(n).get("/apps/echo/", headers={
            "Authorization": "%s  %s" % (scheme, token)})
        assert r.status == 200, (scheme, r.text)


def test_leeway(gw, client, keys):
    n = gw("    edugate_token_leeway 20s;\n")
    now = int(time.time())
    inside = mint(keys["rsa1"], claims_for("stu01", exp=now - 5))
    r = client(n).get("/apps/echo/", headers=bearer(inside))
    assert r.status == 200, r.text
    outside = mint(keys["rsa1"], claims_for("stu01", exp=now - 40))
    expect_invalid_token(client(n).get("/apps/echo/",
                                       headers=bearer(outside)), "expired")


def test_audience_directive(gw, client, keys):
    n = gw("    edugate_access_token_audience %s;\n" % API_AUDIENCE)
    ok = mint(keys["rsa1"], claims_for(
        "stu01", aud=["https://other.example", API_AUDIENCE]))
    assert client(n).get("/apps/echo/", headers=bearer(ok)).status == 200
    issuer_aud = mint(keys["rsa1"], claims_for("stu01"))
    expect_invalid_token(client(n).get("/apps/echo/",
                                       headers=bearer(issuer_aud)),
                         "wrong_audience")


def test_policy_applies_to_tokens(gw, client, keys):
    n = gw()
    tea = mint(keys["rsa1"], claims_for("tea01"))
    r = client(n).get("/apps/teachers/", headers=bearer(tea))
    assert r.status == 200, r.text
    stu = mint(keys["rsa1"], claims_for("stu01"))
    r = client(n).get("/apps/teachers/", headers=bearer(stu, **JSON))
    expect_error(r, 403, "access_denied", want_json=True)
    assert r.location is None


def test_token_wins_over_cookie(gw, client, keys, login):
    n = gw()
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    token = mint(keys["ec1"], claims_for("tea01"))
    r = c.get("/apps/echo/", headers=bearer(token))
    assert r.status == 200
    doc = r.json()
    expect_identity(doc, "tea01")
    assert doc["cookies"] == []
    # a bad token is refused, not made good by the session next to it
    bad = mint(keys["ec1"], claims_for("tea01", iss="https://evil.test"))
    expect_invalid_token(c.get("/apps/echo/", headers=bearer(bad)),
                         "wrong_issuer")
    # the session path is unchanged
    r = c.get("/apps/echo/")
    assert r.status == 200
    expect_identity(r.json(), "stu01")


# ---- refused tokens --------------------------------------------------------

def _bad_token(case, keys):
    rsa, ec = keys["rsa1"], keys["ec1"]
    now = int(time.time())
    good = claims_for("stu01")
    if case == "alg_none":
        return hand_made({"alg": "none", "typ": "at+jwt", "kid": rsa.kid},
                         good), "alg_not_allowed"
    if case == "alg_None":
        return hand_made({"alg": "None", "typ": "at+jwt", "kid": rsa.kid},
                         good), "alg_not_allowed"
    if case == "alg_rs256_lowercase":
        return hand_made({"alg": "rs256", "typ": "at+jwt", "kid": rsa.kid},
                         good, lambda si: b"x" * 256), "alg_not_allowed"
    if case == "hs256_public_pem":
        return hand_made(
            {"alg": "HS256", "typ": "at+jwt", "kid": rsa.kid}, good,
            lambda si: hmac.new(rsa.public_pem, si, "sha256").digest()), \
            "alg_not_allowed"
    if case == "wrong_kid":
        return mint(rsa, good, kid="no-such-key"), "unknown_kid"
    if case == "kid_of_other_alg":
        return mint(rsa, good, kid=ec.kid), "unknown_kid"
    if case == "foreign_key_our_kid":
        return mint(keys["rsa2"], good, kid=rsa.kid), "bad_signature"
    if case == "tampered":
        token = mint(rsa, good)
        h, _, s = token.split(".")
        forged = dict(good, sub="itadmin", roles=["itadmin"])
        return ".".join([h, b64url(json.dumps(forged).encode()), s]), \
            "bad_signature"
    if case == "wrong_iss":
        return mint(rsa, dict(good, iss="https://other.test")), \
            "wrong_issuer"
    if case == "wrong_aud":
        return mint(rsa, dict(good, aud="https://other.test")), \
            "wrong_audience"
    if case == "expired":
        return mint(rsa, dict(good, exp=now - 120, iat=now - 400)), \
            "expired"
    if case == "no_exp":
        return mint(rsa, claims_for("stu01", exp=None)), "malformed"
    if case == "not_yet_valid":
        return mint(ec, dict(good, nbf=now + 600)), "not_yet_valid"
    if case == "typ_jwt":
        return mint(rsa, good, typ="JWT"), "wrong_type"
    if case == "no_sub":
        return mint(rsa, claims_for("stu01", sub=None)), "malformed"
    if case == "roles_string":
        return mint(rsa, dict(good, roles="student")), "malformed"
    if case == "role_with_comma":
        return mint(ec, dict(good, roles=["student,itadmin"])), "malformed"
    if case == "garbage":
        return "not-a-token", "malformed"
    if case == "empty":
        return "", "malformed"
    raise AssertionError(case)


BAD_CASES = ["alg_none", "alg_None", "alg_rs256_lowercase",
             "hs256_public_pem", "wrong_kid", "kid_of_other_alg",
             "foreign_key_our_kid", "tampered", "wrong_iss", "wrong_aud",
             "expired", "no_exp", "not_yet_valid", "typ_jwt", "no_sub",
             "roles_string", "role_with_comma", "garbage", "empty"]


@pytest.fixture(scope="module")
def bad_gateway(module_path, redis, slapd, echo, keys, tmp_path_factory):
    """One gateway for the whole matrix of refused tokens (none of them
    gets as far as Redis)."""
    port = free_port()
    http = ("    edugate_issuer %s;\n" % ISSUER
            + key_lines(str(keys["rsa1"].path),
                        "%s kid=ec-1 alg=ES256" % keys["ec1"].path))
    n = Nginx(tmp_path_factory.mktemp("bearer-bad"), port, module_path,
              nginx_demo_conf(redis.port, slapd.port, echo.port, port,
                              http, server_conf(echo)))
    n.start()
    learn_kids(n, keys)
    yield n
    n.stop()
    problems = n.check_log()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_token_refused(bad_gateway, client, keys, echo, case):
    n = bad_gateway
    learn_kids(n, keys)
    token, reason = _bad_token(case, keys)
    marker = "/apps/echo/bad-%s-%s" % (case, uuid.uuid4().hex)
    watch = LogWatch(n.error_log)
    app = LogWatch(echo.log)
    r = client(n).get(marker, headers=bearer(token))
    expect_invalid_token(r, reason)
    # browsers and programs alike: a token is never answered with a page
    r = client(n).get(marker, headers=bearer(token, **JSON))
    expect_invalid_token(r, reason)
    expect_log(watch, "invalid_token", re.escape(reason), level="warn")
    time.sleep(0.1)
    assert marker not in app.text(), "the application was reached"


def test_refusal_sets_error_variable(gw, client, keys):
    n = gw()
    token = mint(keys["rsa1"], claims_for("stu01"), typ="JWT")
    r = client(n).get("/apps/vars/", headers=bearer(token))
    expect_invalid_token(r, "wrong_type")
    assert r.header("X-Seen-Error") == "invalid_token"
    assert r.header("X-Seen-User") is None


def raw_request(port, lines):
    req = "GET /apps/echo/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" \
          "Connection: close\r\n" + "".join(x + "\r\n" for x in lines) \
          + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(req.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_two_authorization_headers_refused(gw, keys):
    n = gw()
    token = mint(keys["rsa1"], claims_for("stu01"))
    status = raw_request(n.port, ["Authorization: Bearer " + token,
                                  "Authorization: Basic dXNlcjpwdw=="])
    # nginx itself refuses a repeated Authorization header
    assert status == 400, status


def test_token_survives_internal_redirect(gateway_factory, client, keys,
                                          echo):
    n = gateway_factory(
        extra_http="    edugate_issuer %s;\n" % ISSUER
        + key_lines(str(keys["ec1"].path) + " kid=ec-1 alg=ES256"),
        extra_server="""
        location /apps/tf/ {
            edugate_protect on;
            try_files /nonexistent @app;
        }
        location @app {
            edugate_protect on;
            proxy_pass http://127.0.0.1:%d;
        }
""" % echo.port)
    keys["ec1"].kid = "ec-1"
    token = mint(keys["ec1"], claims_for("tea01"))
    watch = LogWatch(n.error_log)
    r = client(n).get("/apps/tf/x", headers=bearer(token))
    assert r.status == 200, r.text
    doc = r.json()
    expect_identity(doc, "tea01")
    assert doc["headers"]["x-edugate-user"] == "tea01"
    assert doc["authorization_present"] is False
    assert "spoofed_header" not in watch.text()


# ---- revocation and Redis --------------------------------------------------

def test_revoked_jti(gw, client, keys, redis):
    n = gw()
    jti = uuid.uuid4().hex
    token = mint(keys["rsa1"], claims_for("stu01", jti=jti))
    other = mint(keys["rsa1"], claims_for("stu01"))
    assert client(n).get("/apps/echo/", headers=bearer(token)).status == 200
    rc = redis.client()
    rc.set("eg:revoked:jti:" + jti, "1", ex=600)
    try:
        watch = LogWatch(n.error_log)
        expect_invalid_token(client(n).get("/apps/echo/",
                                           headers=bearer(token)),
                             "revoked")
        expect_log(watch, "invalid_token", r'revoked: access token of '
                   r'"stu01"', level="warn")
        # other tokens of the same person are not affected
        r = client(n).get("/apps/echo/", headers=bearer(other))
        assert r.status == 200
    finally:
        rc.delete("eg:revoked:jti:" + jti)


def test_odd_jti_refused(gw, client, keys):
    n = gw()
    for jti in ("", "x" * 129, "a b", "\u00e9t\u00e9", 42):
        token = mint(keys["rsa1"], claims_for("stu01", jti=jti))
        expect_invalid_token(client(n).get("/apps/echo/",
                                           headers=bearer(token)),
                             "malformed")


def test_redis_down_fails_closed(gw, client, keys, redis_factory, echo):
    r = redis_factory()
    n = gw(redis=r)
    token = mint(keys["ec1"], claims_for("stu01"))
    assert client(n).get("/apps/echo/", headers=bearer(token)).status == 200
    r.stop()
    marker = "/apps/echo/bearer-redis-down-" + uuid.uuid4().hex
    watch = LogWatch(n.error_log)
    app = LogWatch(echo.log)
    resp = client(n).get(marker, headers=bearer(token, **JSON))
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    assert resp.header("WWW-Authenticate") is None
    resp = client(n).get(marker, headers=bearer(token))
    expect_error(resp, 503, "session_store_unavailable")
    assert resp.location is None
    expect_log(watch, "session_store_unavailable", "redis is not connected",
               level="error")
    time.sleep(0.2)
    assert marker not in app.text(), "the application was reached"


# ---- what goes upstream ----------------------------------------------------

def test_authorization_headers_upstream(gw, client, keys, login):
    n = gw()
    basic = {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}
    # unprotected: every Authorization header is the application's
    r = client(n).get("/open/x", headers=basic)
    assert r.status == 500 and r.json()["authorization_present"] is True
    token = mint(keys["rsa1"], claims_for("stu01"))
    r = client(n).get("/open/x", headers=bearer(token))
    assert r.status == 500 and r.json()["authorization_present"] is True
    # protected, with a session: Basic is not ours, so it is passed on
    c = client(n)
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    r = c.get("/apps/echo/", headers=basic)
    assert r.status == 200
    assert r.json()["authorization_present"] is True
    # protected, with a token: the token is not
    r = c.get("/apps/echo/", headers=bearer(token))
    assert r.status == 200
    assert r.json()["authorization_present"] is False


# ---- keys ------------------------------------------------------------------

def test_no_signing_keys(gateway_factory, client, keys, echo, login):
    n = gateway_factory(extra_server=server_conf(echo))
    assert jwks_of(n) == {"keys": []}
    watch = LogWatch(n.error_log)
    token = mint(keys["rsa1"], claims_for("stu01"), kid="anything")
    expect_invalid_token(client(n).get("/apps/echo/", headers=bearer(token)),
                         "unknown_kid")
    expect_log(watch, "invalid_token", "unknown_kid: no signing keys "
               "configured", level="warn")
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    assert c.get("/apps/echo/").status == 200


def test_key_rotation(gw, client, keys):
    rsa1, rsa2, ec1 = keys["rsa1"], keys["rsa2"], keys["ec1"]
    n = gw(keys_conf=key_lines(str(rsa1.path)))
    assert [k["kid"] for k in jwks_of(n)["keys"]] == [rsa1.kid]
    old = mint(rsa1, claims_for("stu01"))
    assert client(n).get("/apps/echo/", headers=bearer(old)).status == 200

    # the new key is added and made active; the old one stays published
    line = key_lines(str(rsa1.path))
    n.reload(n.conf_text.replace(line, line + key_lines(
        "%s kid=rsa-2026 active" % rsa2.path,
        "%s kid=ec-1 alg=ES256" % ec1.path)))
    doc = learn_kids(n, keys)
    assert [k["kid"] for k in doc["keys"]] == [rsa1.kid, "rsa-2026", "ec-1"]
    new = mint(rsa2, claims_for("tea01"))
    for token, user in ((old, "stu01"), (new, "tea01")):
        r = client(n).get("/apps/echo/", headers=bearer(token))
        assert r.status == 200, r.text
        expect_identity(r.json(), user)


def test_retired_public_key_still_verifies(gw, client, keys):
    rsa1, rsa2 = keys["rsa1"], keys["rsa2"]
    n = gw(keys_conf=key_lines(str(rsa1.path),
                               "%s kid=retired" % keys["rsa2_pub"]))
    assert [k["kid"] for k in jwks_of(n)["keys"]] == [rsa1.kid, "retired"]
    token = mint(rsa2, claims_for("stu02"), kid="retired")
    r = client(n).get("/apps/echo/", headers=bearer(token))
    assert r.status == 200, r.text
    expect_identity(r.json(), "stu02")


# ---- configuration ---------------------------------------------------------

CONF = """
http {
    edugate_redis  127.0.0.1:6379;
    # @HTTP@
    server {
        listen 127.0.0.1:{port};
        location = /.well-known/jwks.json { edugate_jwks; }
        location /api/ {
            edugate_protect on;
            return 204;
        }
    }
}
"""


@pytest.fixture
def nginx_t(module_path, tmp_path):
    n = Nginx(tmp_path / "nginx-t", free_port(), module_path, "http {}")

    def run(http):
        text = CONF.replace("{port}", str(n.port)).replace("# @HTTP@", http)
        rc, out = n.test_config(text)
        return rc, out, n.test_conf

    return run


def _config_case(case, keys):
    rsa1, ec1 = keys["rsa1"].path, keys["ec1"].path
    iss = "edugate_issuer %s;\n" % ISSUER
    if case == "missing_file":
        bad = "edugate_signing_key %s/missing.pem;" % keys["dir"]
        return iss + bad, bad, "missing.pem\": cannot open"
    if case == "rsa_1024":
        bad = "edugate_signing_key %s;" % keys["rsa1024"]
        return iss + bad, bad, "RSA key has 1024 bits"
    if case == "rsa_as_es256":
        bad = "edugate_signing_key %s alg=ES256;" % rsa1
        return iss + bad, bad, "an RSA key cannot be used for ES256"
    if case == "ec_as_rs256":
        bad = "edugate_signing_key %s;" % ec1
        return iss + bad, bad, "an EC key cannot be used for RS256"
    if case == "two_active":
        bad = "edugate_signing_key %s alg=ES256 active;" % ec1
        return (iss + "edugate_signing_key %s active;\n" % rsa1 + bad, bad,
                "only one edugate_signing_key can be \"active\"")
    if case == "public_active":
        bad = "edugate_signing_key %s active;" % keys["rsa2_pub"]
        return (iss + "edugate_signing_key %s;\n" % rsa1 + bad, bad,
                "only a private key can be \"active\"")
    if case == "duplicate_kid":
        bad = "edugate_signing_key %s kid=k1 alg=ES256;" % ec1
        return (iss + "edugate_signing_key %s kid=k1;\n" % rsa1 + bad, bad,
                "duplicate kid \"k1\"")
    if case == "bad_kid":
        bad = "edugate_signing_key %s kid=../../x;" % rsa1
        return iss + bad, bad, "kid must be"
    if case == "hs256":
        bad = "edugate_signing_key %s alg=HS256;" % rsa1
        return iss + bad, bad, "alg must be RS256 or ES256"
    if case == "unknown_parameter":
        bad = "edugate_signing_key %s primary;" % rsa1
        return iss + bad, bad, "invalid parameter \"primary\""
    if case == "leeway_too_long":
        bad = "edugate_token_leeway 61s;"
        return iss + bad, bad, "edugate_token_leeway must be at most 60s"
    if case == "http_issuer":
        bad = "edugate_issuer http://edugate.test;"
        return bad, bad, "invalid edugate_issuer"
    if case == "issuer_with_query":
        bad = "edugate_issuer https://edugate.test/?a=1;"
        return bad, bad, "invalid edugate_issuer"
    if case == "key_without_issuer":
        return ("edugate_signing_key %s;" % rsa1, None,
                "edugate_signing_key needs edugate_issuer")
    raise AssertionError(case)


CONFIG_CASES = ["missing_file", "rsa_1024", "rsa_as_es256", "ec_as_rs256",
                "two_active", "public_active", "duplicate_kid", "bad_kid",
                "hs256", "unknown_parameter", "leeway_too_long",
                "http_issuer", "issuer_with_query", "key_without_issuer"]


@pytest.mark.parametrize("case", CONFIG_CASES)
def test_bad_key_config_fails(nginx_t, keys, case):
    http, at, message = _config_case(case, keys)
    rc, out, path = nginx_t(http)
    assert rc != 0, "nginx -t accepted:\n" + out
    m = re.search(r"\[emerg\] (.*) in (\S+):(\d+)", out)
    assert m, out
    assert message in m.group(1), out
    assert m.group(2) == str(path), out
    if at is not None:
        lines = path.read_text().splitlines()
        assert lines[int(m.group(3)) - 1].strip() == at, out


def test_good_key_config_passes(nginx_t, keys):
    for http in (
        "",
        "edugate_issuer %s;\n" % ISSUER,
        "edugate_issuer http://127.0.0.1:8080;\n"
        "edugate_signing_key %s kid=rs-1;\n"
        "edugate_signing_key %s alg=ES256 active;\n"
        "edugate_signing_key %s kid=old;\n"
        "edugate_access_token_audience %s;\n"
        "edugate_token_leeway 60s;\n" % (
            keys["rsa1"].path, keys["ec1"].path, keys["rsa2_pub"],
            API_AUDIENCE),
    ):
        rc, out, _ = nginx_t(http)
        assert rc == 0, out
