"""Pins behaviour when a backend fails: without Redis the gateway fails
closed (503 session_store_unavailable, nothing reaches the application)
and recovers by itself when Redis returns; without the directory logins
answer 503 directory_unavailable, and a second edugate_ldap_uri takes
over when the first is unreachable."""

import time
import uuid

import pytest

from servers import LogWatch, free_port
from expect import (JSON, attempt, echo_identity, expect_error, expect_log,
                    login_page, set_cookies, sha256_hex)


def poll(check, timeout, step=0.2):
    """Seconds until check() is true; fails after timeout."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, \
            "not recovered within %.0fs" % timeout
        time.sleep(step)
    return time.monotonic() - start


# ---- Redis -----------------------------------------------------------------

def test_redis_down_fails_closed_and_recovers(gateway_factory, redis_factory,
                                              client, login, echo):
    r = redis_factory()
    n = gateway_factory(redis=r)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    echo_identity(c)
    sid = c.cookie("edugate_session")

    r.stop()
    marker = "/apps/echo/redis-down-" + uuid.uuid4().hex
    watch = LogWatch(n.error_log)
    app = LogWatch(echo.log)

    # a valid session is no pass while the store is down
    resp = c.get(marker, headers=JSON)
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    resp = c.get(marker)
    expect_error(resp, 503, "session_store_unavailable")
    assert resp.location is None
    expect_log(watch, "session_store_unavailable", "redis is not connected",
               level="error")

    # nor can anyone log in
    watch.move_on()
    resp = client(n).get("/edugate/login", headers=JSON)
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    resp = client(n).get("/edugate/login")
    expect_error(resp, 503, "session_store_unavailable")
    expect_log(watch, "session_store_unavailable", "redis is not connected",
               level="error")
    time.sleep(0.2)
    assert marker not in app.text(), "the application was reached"

    # a logout cannot be recorded: said so, and the browser forgets anyway
    watch.move_on()
    resp = c.get("/edugate/logout", headers=JSON)
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    assert set_cookies(resp)["edugate_session"][0] == ""
    expect_log(watch, "session_store_unavailable", "logout not recorded",
               level="error")

    # Redis back on the same address: no reload, no restart
    r.start()
    took = poll(lambda: client(n).get("/edugate/login").status == 200, 10)
    assert took < 5, took
    c2 = client(n)
    assert login(c2, "stu02", "Stu02-Passw0rd").status == 302
    assert echo_identity(c2, marker)["identity"]["user"] == "stu02"
    # the application does log the paths it serves: now it saw the marker
    app.wait_for(marker)
    # the restarted Redis is empty: the old session is gone, not revived
    resp = client(n).get("/apps/echo/", headers=dict(
        JSON, Cookie="edugate_session=" + sid), cookies=False)
    expect_error(resp, 401, "session_expired", want_json=True)


def test_redis_down_at_start(gateway_factory, redis_factory, client, login):
    port = free_port()
    n = gateway_factory(redis=port, wait_redis=False)
    watch = LogWatch(n.error_log)
    resp = client(n).get("/edugate/login", headers=JSON)
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    expect_log(watch, "session_store_unavailable", level="error")

    redis_factory(port=port)
    took = poll(lambda: client(n).get("/edugate/login").status == 200, 10)
    assert took < 5, took
    c = client(n)
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    assert echo_identity(c)["identity"]["user"] == "tea01"


def test_redis_refusing_commands_is_unavailable(gateway_factory,
                                                redis_factory, client):
    r = redis_factory()
    r.client().config_set("requirepass", "Demo-Redis-Passw0rd")
    n = gateway_factory(redis=r)
    watch = LogWatch(n.error_log)
    resp = client(n).get("/apps/echo/", headers=dict(
        JSON, Cookie="edugate_session=" + "A" * 43), cookies=False)
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    expect_log(watch, "session_store_unavailable", "NOAUTH",
               level="error")


def test_redis_refusing_commands_at_login_is_logged(gateway_factory,
                                                    redis_factory, client):
    r = redis_factory()
    r.client().config_set("requirepass", "Demo-Redis-Passw0rd")
    n = gateway_factory(redis=r)
    watch = LogWatch(n.error_log)
    resp = client(n).get("/edugate/login", headers=JSON)
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    expect_log(watch, "session_store_unavailable", timeout=1.0)


def test_redis_password(gateway_factory, redis_factory, client, login):
    r = redis_factory()
    r.client().config_set("requirepass", "Demo-Redis-Passw0rd")
    n = gateway_factory("    edugate_redis_password Demo-Redis-Passw0rd;\n",
                        redis=r)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    assert echo_identity(c)["identity"]["user"] == "stu01"


def test_redis_db(gateway_factory, redis_factory, client, login):
    r = redis_factory()
    n = gateway_factory("    edugate_redis_db 3;\n", redis=r)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    key = "eg:sess:" + sha256_hex(c.cookie("edugate_session"))
    assert r.client(db=3).exists(key) == 1
    assert r.client(db=0).exists(key) == 0
    # a logout in db 3 still reaches every worker's cache
    assert echo_identity(c)["identity"]["user"] == "stu01"
    sid = c.cookie("edugate_session")
    assert c.get("/edugate/logout").status == 200
    resp = client(n).get("/apps/echo/", headers=dict(
        JSON, Cookie="edugate_session=" + sid), cookies=False)
    expect_error(resp, 401, "session_expired", want_json=True)


# ---- directory -------------------------------------------------------------

def test_directory_down(gateway_factory, slapd_factory, client, login):
    s = slapd_factory()
    n = gateway_factory(slapd=s)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    echo_identity(c)

    s.stop()
    watch = LogWatch(n.error_log)
    resp = attempt(client(n), "tea01", "Tea01-Passw0rd", headers=JSON)
    expect_error(resp, 503, "directory_unavailable", want_json=True)
    assert "edugate_session" not in set_cookies(resp)
    expect_log(watch, "directory_unavailable",
               r'service bind on "ldap://127\.0\.0\.1:%d/" failed: '
               r"Can't contact LDAP server" % s.port, level="error")
    # the form is shown again, to retry later
    resp = attempt(client(n), "tea01", "Tea01-Passw0rd")
    expect_error(resp, 503, "directory_unavailable")
    assert 'name="csrf"' in resp.text
    # who is logged in stays logged in
    assert echo_identity(c)["identity"]["user"] == "stu01"

    s.start()
    resp = attempt(client(n), "tea01", "Tea01-Passw0rd")
    assert resp.status == 302, resp.text


def test_directory_failover(gateway_factory, slapd, client, login):
    dead = "ldap://127.0.0.1:%d/" % free_port()
    n = gateway_factory(ldap_uris=[dead, slapd.uri])
    c = client(n)
    r = login(c, "itadmin", "ItAdmin-Passw0rd")
    assert r.status == 302, r.text
    assert echo_identity(c)["identity"]["user"] == "itadmin"
    # a wrong password on the live one is an answer, not a failover case
    r = attempt(client(n), "itadmin", "nope", headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)


def test_directory_all_down(gateway_factory, client):
    dead = ["ldap://127.0.0.1:%d/" % free_port() for _ in range(2)]
    n = gateway_factory(ldap_uris=dead)
    watch = LogWatch(n.error_log)
    r = attempt(client(n), "stu01", "Stu01-Passw0rd", headers=JSON)
    expect_error(r, 503, "directory_unavailable", want_json=True)
    # the last one tried is named
    expect_log(watch, "directory_unavailable",
               r'service bind on "%s" failed' % dead[1], level="error")


def test_wrong_service_password(gateway_factory, client):
    n = gateway_factory("    edugate_ldap_bind_password Not-The-Passw0rd;\n")
    watch = LogWatch(n.error_log)
    r = attempt(client(n), "stu01", "Stu01-Passw0rd", headers=JSON)
    expect_error(r, 503, "directory_unavailable", want_json=True)
    expect_log(watch, "directory_unavailable",
               r'service bind on "ldap://[^"]+" failed: Invalid credentials',
               level="error")


def test_login_page_needs_no_directory(gateway_factory, slapd_factory,
                                       client):
    s = slapd_factory()
    n = gateway_factory(slapd=s)
    s.stop()
    page, fields = login_page(client(n))
    assert fields["csrf"]
