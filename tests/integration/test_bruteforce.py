"""Pins login throttling: after edugate_login_max_failures wrong passwords
an account is locked (429 account_locked with Retry-After, even for the
right password), each further failure doubles the lockout, a success
clears the count, a client address is throttled on its own
(too_many_attempts), and every count lives in Redis, shared by nodes."""

import time

import pytest

from servers import LogWatch
from expect import JSON, attempt, expect_error, expect_log, set_cookies

LIMITS = ("    edugate_login_max_failures 3;\n"
          "    edugate_login_lockout 2s;\n")


def fail(c, user="stu02", password="Wrong-Passw0rd"):
    watch = LogWatch(c.nginx.error_log)
    r = attempt(c, user, password, headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    expect_log(watch, "invalid_credentials",
               r'login for "%s" failed' % user, level="warn")
    return r


@pytest.fixture
def client(client):
    """Clients that know their nginx, for the log checks."""

    def make(nginx):
        c = client(nginx)
        c.nginx = nginx
        return c

    return make


def locked(c, nginx, user="stu02", password="Stu02-Passw0rd",
           code="account_locked"):
    watch = LogWatch(nginx.error_log)
    r = attempt(c, user, password, headers=JSON)
    expect_error(r, 429, code, want_json=True)
    assert "edugate_session" not in set_cookies(r)
    retry = int(r.header("Retry-After"))
    if code == "account_locked":
        expect_log(watch, code, r'login for "%s" refused for another \d+s'
                   % user, level="warn")
    else:
        expect_log(watch, code,
                   r"logins from 127\.0\.0\.1 refused for another \d+s",
                   level="warn")
    return retry


def wait_gone(rc, key, timeout=10.0):
    deadline = time.monotonic() + timeout
    while rc.exists(key):
        assert time.monotonic() < deadline, "%s still there" % key
        time.sleep(0.1)


def test_account_locks_after_max_failures(gateway_factory, client, redis):
    n = gateway_factory(LIMITS)
    c = client(n)
    for _ in range(3):
        fail(c)
    rc = redis.client()
    assert int(rc.get("eg:fail:u:stu02")) == 3
    first = rc.ttl("eg:lock:u:stu02")
    assert 1 <= first <= 2, first
    # the right password does not help while locked
    retry = locked(c, n)
    assert 1 <= retry <= 2, retry
    # nor another spelling of the same account
    locked(c, n, user="STU02")

    # the lockout ends by itself ...
    wait_gone(rc, "eg:lock:u:stu02")
    # ... and the next failure locks again, for twice as long
    fail(c)
    second = rc.ttl("eg:lock:u:stu02")
    assert 3 <= second <= 4, second
    assert second > first
    retry = locked(c, n)
    assert 3 <= retry <= 4, retry


def test_lockout_doubles_each_time(gateway_factory, client, redis):
    n = gateway_factory("    edugate_login_max_failures 1;\n"
                        "    edugate_login_lockout 1s;\n"
                        "    edugate_login_lockout_max 3s;\n")
    c = client(n)
    rc = redis.client()
    seen = []
    for _ in range(3):
        wait_gone(rc, "eg:lock:u:stu02")
        fail(c)
        seen.append(rc.ttl("eg:lock:u:stu02"))
    # 1 s, 2 s, then capped at edugate_login_lockout_max
    assert seen[0] == 1 and seen[1] == 2 and seen[2] == 3, seen


def test_lockout_is_per_account(gateway_factory, client):
    n = gateway_factory(LIMITS)
    c = client(n)
    for user in ("STU02", "Stu02", "stu02"):
        fail(c, user=user)
    locked(c, n)
    r = attempt(c, "stu01", "Stu01-Passw0rd")
    assert r.status == 302, r.text


def test_success_clears_the_count(gateway_factory, client, redis):
    n = gateway_factory(LIMITS)
    c = client(n)
    rc = redis.client()
    fail(c, "stu01")
    fail(c, "stu01")
    assert int(rc.get("eg:fail:u:stu01")) == 2
    r = attempt(c, "stu01", "Stu01-Passw0rd")
    assert r.status == 302, r.text
    # the DEL is sent along with the answer, not before it
    wait_gone(rc, "eg:fail:u:stu01", timeout=1.0)
    fail(c, "stu01")
    fail(c, "stu01")
    # four failures in all, but never three in a row: not locked
    r = attempt(c, "stu01", "Stu01-Passw0rd")
    assert r.status == 302, r.text


def test_unknown_accounts_lock_too(gateway_factory, client):
    n = gateway_factory(LIMITS)
    c = client(n)
    for _ in range(3):
        fail(c, user="ghost")
    locked(c, n, user="ghost", password="anything")


def test_address_is_throttled(gateway_factory, client, redis):
    n = gateway_factory("    edugate_login_ip_max_failures 4;\n"
                        "    edugate_login_lockout 2s;\n")
    c = client(n)
    for i in range(4):
        fail(c, user="nobody%d" % i)
    assert int(redis.client().get("eg:fail:ip:127.0.0.1")) == 4
    # a fifth account, and even a right password: refused by address
    retry = locked(c, n, user="stu01", password="Stu01-Passw0rd",
                   code="too_many_attempts")
    assert 1 <= retry <= 2
    locked(c, n, user="nobody9", password="x", code="too_many_attempts")
    wait_gone(redis.client(), "eg:lock:ip:127.0.0.1")
    r = attempt(c, "stu01", "Stu01-Passw0rd")
    assert r.status == 302, r.text


def test_counts_are_shared_by_nodes(gateway_factory, client):
    a = gateway_factory(LIMITS)
    b = gateway_factory(LIMITS)
    ca, cb = client(a), client(b)
    fail(ca)
    fail(cb)
    fail(ca)
    locked(cb, b)
    locked(ca, a)


def test_counters_expire_with_the_window(gateway_factory, client, redis):
    n = gateway_factory("    edugate_login_fail_window 40s;\n")
    c = client(n)
    fail(c, "stu01")
    rc = redis.client()
    assert int(rc.get("eg:fail:u:stu01")) == 1
    assert int(rc.get("eg:fail:ip:127.0.0.1")) == 1
    assert 35 <= rc.ttl("eg:fail:u:stu01") <= 40
    assert 35 <= rc.ttl("eg:fail:ip:127.0.0.1") <= 40
    assert rc.exists("eg:lock:u:stu01") == 0


@pytest.mark.parametrize("variant", ["stu02 ", " stu02", "ｓｔｕ０２"])
def test_lockout_holds_for_spelling_variants(gateway_factory, client,
                                             variant):
    n = gateway_factory(LIMITS.replace("2s", "30s"))
    c = client(n)
    for _ in range(3):
        fail(c)
    locked(c, n)
    watch = LogWatch(n.error_log)
    r = attempt(c, variant, "Stu02-Passw0rd", headers=JSON)
    assert "edugate_session" not in set_cookies(r), \
        "locked account stu02 logged in as %r" % variant
    code = r.header("X-Edugate-Error")
    assert (r.status, code) in ((429, "account_locked"),
                                (400, "invalid_username")), (r.status, code)
    expect_log(watch, code, level="warn")
