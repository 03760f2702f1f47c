"""Pins the session: a fresh random id at every login (no fixation), the
record kept in Redis only under the SHA-256 of the cookie and never with
the password, the idle timeout that slides with use, the absolute
timeout that does not, and one session shared by several nginx nodes."""

import base64
import json
import secrets
import time

from servers import LogWatch
from expect import (JSON, SID_RE, echo_identity, expect_error, expect_log,
                    login_page, redis_dump, set_cookies, sha256_hex)


def random_sid():
    return secrets.token_urlsafe(32)


def test_every_login_gets_a_fresh_id(gateway, client, login):
    c = client(gateway)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    first = c.cookie("edugate_session")
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    second = c.cookie("edugate_session")
    assert SID_RE.match(first) and SID_RE.match(second)
    assert first != second
    assert echo_identity(c)["identity"]["user"] == "stu01"


def test_relogin_ends_the_replaced_session(gateway, client, login, redis):
    c = client(gateway)
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    old = c.cookie("edugate_session")
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    # the replaced record is deleted along with the answer, not before it
    key = "eg:sess:" + sha256_hex(old)
    deadline = time.monotonic() + 1
    while redis.client().exists(key) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert redis.client().exists(key) == 0
    watch = LogWatch(gateway.error_log)
    r = c.get("/apps/echo/", headers=dict(JSON, Cookie="edugate_session="
                                          + old), cookies=False)
    expect_error(r, 401, "session_expired", want_json=True)
    expect_log(watch, "session_expired", "no session for the cookie",
               level="info")


def test_planted_cookie_is_never_authenticated(gateway, client, login,
                                               redis):
    planted = random_sid()
    c = client(gateway)
    c.set_cookie("edugate_session", planted)
    r = login(c, "stu02", "Stu02-Passw0rd")
    assert r.status == 302
    issued = set_cookies(r)["edugate_session"][0]
    assert issued != planted
    assert c.cookie("edugate_session") == issued
    assert redis.client().exists("eg:sess:" + sha256_hex(planted)) == 0
    assert echo_identity(c)["identity"]["user"] == "stu02"

    # the attacker who planted the value still holds nothing
    attacker = client(gateway)
    watch = LogWatch(gateway.error_log)
    r = attacker.get("/apps/echo/", headers=dict(
        JSON, Cookie="edugate_session=" + planted), cookies=False)
    expect_error(r, 401, "session_expired", want_json=True)
    expect_log(watch, "session_expired", level="info")


def test_record_is_keyed_by_hash_and_holds_no_secret(gateway, client, login,
                                                     redis):
    rc = redis.client()
    wrong = "Wrong-Marker-Passw0rd-7731"
    c = client(gateway)
    # a failed attempt first: its password must not be kept either
    r = login(c, "stu01", wrong)
    assert r.status == 401
    r = login(c, "stu01", "Stu01-Passw0rd")
    assert r.status == 302
    sid = c.cookie("edugate_session")
    key = "eg:sess:" + sha256_hex(sid)

    record = rc.get(key)
    assert record is not None, "no %s in Redis" % key
    doc = json.loads(record)
    assert doc["uid"] == "stu01"
    assert doc["expires"] > time.time()

    # a form is pending: its token too is stored only as a hash
    _, fields = login_page(c)
    token = fields["csrf"]
    assert rc.get("eg:csrf:" + sha256_hex(token)) is not None

    dump = redis_dump(rc)
    assert key in dump
    for secret in (sid, token, "Stu01-Passw0rd", wrong):
        for k, values in dump.items():
            assert secret not in k, "%r in key %s" % (secret, k)
            for v in values:
                assert secret not in v, "%r in the value of %s" % (secret, k)


def test_record_ttl_is_the_idle_timeout(gateway, client, login, redis):
    c = client(gateway)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    key = "eg:sess:" + sha256_hex(c.cookie("edugate_session"))
    # the demo config: edugate_session_idle 30m
    ttl = redis.client().ttl(key)
    assert 1790 <= ttl <= 1800, ttl
    redis.client().expire(key, 100)
    time.sleep(2.1)   # past the worker cache: the next use reaches Redis
    echo_identity(c)
    ttl = redis.client().ttl(key)
    assert 1790 <= ttl <= 1800, "use did not slide the TTL: %d" % ttl


def test_idle_timeout(gateway_factory, client, login, redis):
    n = gateway_factory("    edugate_session_idle 2s;\n"
                        "    edugate_session_cache 0;\n")
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    key = "eg:sess:" + sha256_hex(c.cookie("edugate_session"))
    assert 1 <= redis.client().ttl(key) <= 2
    echo_identity(c)
    time.sleep(3)
    watch = LogWatch(n.error_log)
    r = c.get("/apps/echo/")
    assert r.status == 302
    assert r.location == "/edugate/login?return=%2Fapps%2Fecho%2F"
    cleared = set_cookies(r).get("edugate_session")
    assert cleared is not None and cleared[0] == "", \
        "dead cookie not cleared: %s" % r.header_all("Set-Cookie")
    expect_log(watch, "session_expired", "no session for the cookie",
               level="info")


def test_idle_timeout_slides_with_use(gateway_factory, client, login):
    n = gateway_factory("    edugate_session_idle 2s;\n"
                        "    edugate_session_cache 0;\n")
    c = client(n)
    assert login(c, "stu02", "Stu02-Passw0rd").status == 302
    for _ in range(4):          # 4 s in all, twice the idle timeout
        time.sleep(1)
        assert echo_identity(c)["identity"]["user"] == "stu02"


def test_absolute_timeout(gateway_factory, client, login):
    n = gateway_factory("    edugate_session_idle 60s;\n"
                        "    edugate_session_max 3s;\n")
    c = client(n)
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    start = time.monotonic()
    sid = c.cookie("edugate_session")
    watch = LogWatch(n.error_log)
    ok = 0
    while True:
        r = c.get("/apps/echo/", headers=JSON)
        elapsed = time.monotonic() - start
        if r.status != 200:
            break
        ok += 1
        assert elapsed < 5, "session still valid after %.1fs" % elapsed
        time.sleep(0.5)
    expect_error(r, 401, "session_expired", want_json=True)
    # the lifetime counts in whole seconds from the login
    assert 1.9 <= elapsed < 4.5, elapsed
    assert ok >= 3
    expect_log(watch, "session_expired",
               r'absolute lifetime of session of "tea01" reached',
               level="info")
    # still dead afterwards, however it is asked
    r = c.get("/apps/echo/", headers=dict(JSON, Cookie="edugate_session="
                                          + sid), cookies=False)
    expect_error(r, 401, "session_expired", want_json=True)


def test_session_shared_by_two_nodes(gateway_factory, client, login):
    a = gateway_factory()
    b = gateway_factory()
    ca = client(a)
    assert login(ca, "itadmin", "ItAdmin-Passw0rd").status == 302
    sid = ca.cookie("edugate_session")
    cb = client(b)
    cb.set_cookie("edugate_session", sid)
    doc = echo_identity(cb)
    assert doc["identity"]["user"] == "itadmin"
    assert doc["identity"]["org_path"] == "370000/370100/370112"
    # and back on A
    assert echo_identity(ca)["identity"]["user"] == "itadmin"


def test_unreadable_record_is_refused_and_dropped(gateway_factory, client,
                                                  login, redis):
    n = gateway_factory("    edugate_session_cache 0;\n")
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    key = "eg:sess:" + sha256_hex(c.cookie("edugate_session"))
    rc = redis.client()
    rc.set(key, '{"uid": "itadmin", "roles": "itadmin"')
    watch = LogWatch(n.error_log)
    r = c.get("/apps/echo/", headers=JSON)
    expect_error(r, 401, "invalid_session", want_json=True)
    expect_log(watch, "invalid_session",
               "unreadable session record, discarded", level="error")
    deadline = time.monotonic() + 1
    while rc.exists(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rc.exists(key) == 0


def test_record_past_its_lifetime_is_refused(gateway_factory, client,
                                             login, redis):
    n = gateway_factory("    edugate_session_cache 0;\n")
    c = client(n)
    assert login(c, "stu02", "Stu02-Passw0rd").status == 302
    sid = c.cookie("edugate_session")
    key = "eg:sess:" + sha256_hex(sid)
    rc = redis.client()
    doc = json.loads(rc.get(key))
    # a record whose TTL was stretched (by hand, or a bug) still ends
    doc["expires"] = int(time.time()) - 1
    rc.set(key, json.dumps(doc), ex=600)
    watch = LogWatch(n.error_log)
    r = c.get("/apps/echo/", headers=JSON)
    expect_error(r, 401, "session_expired", want_json=True)
    expect_log(watch, "session_expired",
               r'absolute lifetime of session of "stu02" reached',
               level="info")


def test_csrf_tokens_are_random_and_expire(gateway, client, redis):
    c = client(gateway)
    seen = set()
    for _ in range(100):
        token = set_cookies(c.get("/edugate/login"))["edugate_csrf"][0]
        assert SID_RE.match(token), token
        assert len(base64.urlsafe_b64decode(token + "=")) == 32
        seen.add(token)
    assert len(seen) == 100
    ttl = redis.client().ttl("eg:csrf:" + sha256_hex(token))
    assert 890 <= ttl <= 900, ttl
