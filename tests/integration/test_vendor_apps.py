"""Pins single sign-on into the two reference vendors, as the demo wires
them: after one login, /apps/smartcampus/ (signed headers) and
/apps/yuejuan/ (HS256 token argument) each recognise the person under the
vendor's own id from Redis, or under a pairwise id that differs between
the vendors; the vendors' demo applications really check what they
receive (a forged, stale or missing identity is refused), and client
attempts to pass one through the gateway never arrive."""

import hashlib
import hmac
import time
import urllib.parse

import pytest

import servers
from servers import HttpClient, VendorBackend, free_port, seed_idmap
from expect import JSON, expect_error


@pytest.fixture(scope="module")
def vendors(tmp_path_factory):
    started = {}
    try:
        for vendor in ("smartcampus", "yuejuan"):
            b = VendorBackend(tmp_path_factory.mktemp(vendor), free_port(),
                              vendor)
            started[vendor] = b.start()
        yield started
    finally:
        for b in started.values():
            b.stop()


@pytest.fixture
def demo_gateway(gateway_factory, vendors, redis, plugin_path):
    plugin_path("smartcampus")
    plugin_path("yuejuan")
    seed_idmap(redis.client())
    http, server = servers.vendor_demo_conf(
        {v: b.port for v, b in vendors.items()})
    return gateway_factory(http, server)


def pairwise(vendor, uid):
    return hmac.new(servers.DEMO_PAIRWISE_SECRET.encode(),
                    ("%s|%s" % (vendor, uid)).encode(),
                    hashlib.sha256).hexdigest()[:32]


def app(c, path, **kw):
    r = c.get(path, **kw)
    assert r.status == 200, "%s: %r %s\n%s" % (
        path, r, r.header("X-Edugate-Error"), r.text[:500])
    return r.json()


def test_one_login_both_apps_known_ids(demo_gateway, client, login):
    c = client(demo_gateway)
    assert login(c, "stu01", "Stu01-Passw0rd",
                 "/apps/smartcampus/").status == 302

    sc = app(c, "/apps/smartcampus/")
    assert (sc["app"], sc["user"], sc["known"]) == \
        ("smartcampus", "sc-10001", True)
    assert sc["display"] == "张小明"

    yj = app(c, "/apps/yuejuan/home")
    assert (yj["app"], yj["user"], yj["known"]) == \
        ("yuejuan", "yj-250302017", True)


def test_unknown_person_gets_pairwise_ids(demo_gateway, client, login):
    c = client(demo_gateway)
    login(c, "stu02", "Stu02-Passw0rd")
    sc = app(c, "/apps/smartcampus/")
    yj = app(c, "/apps/yuejuan/")
    assert sc["user"] == pairwise("smartcampus", "stu02")
    assert yj["user"] == pairwise("yuejuan", "stu02")
    assert sc["user"] != yj["user"]
    assert not sc["known"] and not yj["known"]

    # the same ids the next time, from another login
    c2 = client(demo_gateway)
    login(c2, "stu02", "Stu02-Passw0rd")
    assert app(c2, "/apps/smartcampus/")["user"] == sc["user"]


def test_vendor_data_through_the_gateway(demo_gateway, client, login):
    c = client(demo_gateway)
    login(c, "tea01", "Tea01-Passw0rd")
    r = c.get("/apps/smartcampus/api/v2/roster?orgId=SCH00871")
    assert r.status == 200, r.text
    assert r.json()["school"]["moeCode"] == "2151049901"

    r = c.get("/apps/yuejuan/export/scores.xml?examId=EX-2025-0107-G3")
    assert r.status == 200, r.text
    assert r.header("Content-Type") == "application/xml; charset=GBK"
    assert "李思雨".encode("gbk") in r.body


def test_forged_identity_never_arrives(demo_gateway, client, login):
    c = client(demo_gateway)
    login(c, "stu02", "Stu02-Passw0rd")
    ts = str(int(time.time()))
    forged = hmac.new(servers.plugin_args("smartcampus")["secret"].encode(),
                      ("sc-10001|" + ts).encode(), hashlib.sha256).hexdigest()
    sc = app(c, "/apps/smartcampus/", headers={
        "X-SmartCampus-User": "sc-10001", "X-SmartCampus-Ts": ts,
        "X-SmartCampus-Sign": forged})
    assert sc["user"] == pairwise("smartcampus", "stu02")

    yj = app(c, "/apps/yuejuan/?yj_token=forged&%79j_token=forged")
    assert yj["user"] == pairwise("yuejuan", "stu02")
    assert "forged" not in yj["path"]


def test_no_session_no_vendor(demo_gateway, client, vendors):
    r = client(demo_gateway).get("/apps/yuejuan/", headers=JSON)
    expect_error(r, 401, "login_required", want_json=True)
    app_log = servers.LogWatch(vendors["yuejuan"].log)
    r = client(demo_gateway).get("/apps/smartcampus/x")
    assert r.status == 302
    assert "/apps/smartcampus/x" not in app_log.text()


# The vendor applications themselves, asked directly: they refuse what
# the gateway would never send, so the tests above prove something.

def sc_headers(secret, user, ts):
    return {"X-SmartCampus-User": user, "X-SmartCampus-Ts": str(ts),
            "X-SmartCampus-Sign": hmac.new(
                secret.encode(), ("%s|%s" % (user, ts)).encode(),
                hashlib.sha256).hexdigest()}


def test_smartcampus_app_checks_signatures(vendors):
    b = vendors["smartcampus"]
    c = HttpClient(b.port)
    now = int(time.time())
    assert c.get("/apps/smartcampus/", headers=sc_headers(
        b.secret, "sc-10001", now)).json()["user"] == "sc-10001"

    cases = {
        "bad_signature": sc_headers("another-secret-0123456789", "sc-10001",
                                    now),
        "stale_timestamp": sc_headers(b.secret, "sc-10001", now - 600),
        "missing_identity": {"X-SmartCampus-User": "sc-10001"},
    }
    for code, headers in cases.items():
        r = c.get("/apps/smartcampus/", headers=headers)
        assert (r.status, r.json()["error"]) == (401, code)

    h = sc_headers(b.secret, "sc-10001", now)
    h["X-SmartCampus-User"] = "sc-T0001"
    assert c.get("/apps/smartcampus/", headers=h).json()["error"] == \
        "bad_signature"


def test_yuejuan_app_checks_tokens(vendors):
    import jwt
    b = vendors["yuejuan"]
    c = HttpClient(b.port)
    now = int(time.time())

    def get(token):
        return c.get("/apps/yuejuan/?yj_token=" + urllib.parse.quote(token))

    good = {"sub": "yj-250302017", "iss": "edugate", "iat": now,
            "exp": now + 60}
    assert get(jwt.encode(good, b.secret, "HS256")).json()["known"]

    bad = [
        jwt.encode(good, "another-key-0123456789", "HS256"),
        jwt.encode(dict(good, exp=now - 60, iat=now - 120), b.secret,
                   "HS256"),
        jwt.encode(dict(good, iss="elsewhere"), b.secret, "HS256"),
        jwt.encode(dict(good, exp=now + 3600), b.secret, "HS256"),
        jwt.encode({"iss": "edugate", "iat": now, "exp": now + 60},
                   b.secret, "HS256"),
        "not.a.token",
    ]
    for token in bad:
        r = get(token)
        assert (r.status, r.json()["error"]) == (401, "bad_token"), token
    assert c.get("/apps/yuejuan/").json()["error"] == "missing_identity"


def test_yuejuan_token_from_the_gateway(demo_gateway, client, login,
                                        vendors):
    """The token the plugin built passes an independent JWT library."""
    import jwt
    c = client(demo_gateway)
    login(c, "stu01", "Stu01-Passw0rd")
    watch = servers.LogWatch(vendors["yuejuan"].log)
    app(c, "/apps/yuejuan/peek")
    line = watch.wait_for(r'"GET (/apps/yuejuan/peek\?yj_token=[^ ]+) ')
    token = urllib.parse.parse_qs(
        urllib.parse.urlsplit(line.group(1)).query)["yj_token"][0]
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, vendors["yuejuan"].secret,
                        algorithms=["HS256"], issuer="edugate")
    assert claims["sub"] == "yj-250302017"
    assert claims["exp"] - claims["iat"] == 60
    assert abs(claims["iat"] - time.time()) < 5
