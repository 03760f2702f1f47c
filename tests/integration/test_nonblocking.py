"""Pins that a stalled backend never stalls the event loop: with one
nginx worker and a frozen directory, a pending login waits in the thread
pool while requests holding a session are answered at once, and the login
ends with 503 directory_unavailable after edugate_ldap_timeout; with a
frozen Redis a protected request ends after edugate_redis_timeout."""

import threading
import time
import urllib.parse

from servers import HttpClient, LogWatch
from expect import (FORM, JSON, csrf_token, echo_identity, expect_error,
                    expect_log)


def test_frozen_directory_blocks_only_the_login(gateway_factory,
                                                slapd_factory, client,
                                                login):
    s = slapd_factory()
    n = gateway_factory("    edugate_ldap_timeout 2s;\n", slapd=s,
                        workers=1)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    echo_identity(c)

    # the form is fetched first: it needs Redis, not the directory
    waiting = HttpClient(n.port, timeout=30)
    token = csrf_token(waiting)
    body = urllib.parse.urlencode({"username": "tea01",
                                   "password": "Tea01-Passw0rd",
                                   "csrf": token})
    result = {}

    def pending_login():
        start = time.monotonic()
        try:
            result["resp"] = waiting.post("/edugate/login", body, FORM,
                                          headers=JSON)
        except Exception as e:      # reported by the main thread
            result["error"] = e
        result["took"] = time.monotonic() - start

    watch = LogWatch(n.error_log)
    s.pause()
    try:
        t = threading.Thread(target=pending_login, daemon=True)
        t.start()
        time.sleep(0.3)             # the login is now in the thread pool
        assert t.is_alive(), "the login did not wait for the directory"

        times = []
        for i in range(20):
            start = time.monotonic()
            r = c.get("/apps/echo/while-frozen/%d" % i)
            times.append(time.monotonic() - start)
            assert r.status == 200, (i, r.status, r.text[:300])
            assert r.json()["identity"]["user"] == "stu01"
        assert t.is_alive(), "the login ended before the 20 requests"
        slow = [(i, round(x, 3)) for i, x in enumerate(times) if x >= 0.1]
        assert not slow, "requests slower than 100 ms: %s" % slow

        t.join(15)
        assert not t.is_alive(), "the login never ended"
    finally:
        s.resume()

    assert "error" not in result, result.get("error")
    expect_error(result["resp"], 503, "directory_unavailable",
                 want_json=True)
    assert 1.5 <= result["took"] < 10, result["took"]
    # the thread that takes the login may hold a bound connection already:
    # then it is the search, not the service bind, that times out
    expect_log(watch, "directory_unavailable",
               r'(?:service bind|search) on "ldap://127\.0\.0\.1:%d/" '
               r"failed: Timed out" % s.port, level="error")

    # the directory answers again: so do logins
    r = login(client(n), "tea01", "Tea01-Passw0rd")
    assert r.status == 302, r.text


def test_frozen_directory_fails_over(gateway_factory, slapd_factory, slapd,
                                     client, login):
    s = slapd_factory()
    n = gateway_factory("    edugate_ldap_timeout 1s;\n",
                        ldap_uris=[s.uri, slapd.uri])
    s.pause()
    try:
        start = time.monotonic()
        c = client(n)
        r = login(c, "stu02", "Stu02-Passw0rd")
        took = time.monotonic() - start
    finally:
        s.resume()
    assert r.status == 302, r.text
    assert 0.8 <= took < 5, took
    assert echo_identity(c)["identity"]["user"] == "stu02"


def test_frozen_redis_answers_503_in_time(gateway_factory, redis_factory,
                                          client, login, echo):
    r = redis_factory()
    n = gateway_factory("    edugate_redis_timeout 500ms;\n"
                        "    edugate_session_cache 0;\n",
                        redis=r, workers=1)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    echo_identity(c)

    watch = LogWatch(n.error_log)
    app = LogWatch(echo.log)
    r.pause()
    try:
        start = time.monotonic()
        resp = c.get("/apps/echo/frozen-redis", headers=JSON)
        took = time.monotonic() - start
        # and a browser, too
        start = time.monotonic()
        page = client(n).get("/edugate/login")
        took_page = time.monotonic() - start
    finally:
        r.resume()
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    assert 0.4 <= took < 1.5, took
    expect_error(page, 503, "session_store_unavailable")
    assert took_page < 1.5, took_page
    expect_log(watch, "session_store_unavailable",
               "redis command timed out after 500ms", level="error")
    assert "frozen-redis" not in app.text()

    # after the stall, the same session works again
    deadline = time.monotonic() + 5
    while True:
        resp = c.get("/apps/echo/")
        if resp.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert resp.status == 200, resp.text
