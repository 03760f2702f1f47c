"""Pins logout: the session ends in Redis and in the browser, a replayed
cookie is refused at once on every node and worker (the revocation is
published, so per-worker caches cannot keep it alive), and the return
target after logout is checked like the login's."""

import time
import urllib.parse

import pytest

from servers import LogWatch
from expect import (JSON, echo_identity, expect_error, expect_log,
                    set_cookies, sha256_hex)


def replay(client, sid, path="/apps/echo/"):
    return client.get(path, headers=dict(
        JSON, Cookie="edugate_session=" + sid), cookies=False)


def refused(nginx, client, sid):
    """The old cookie is refused by nginx: status, code and log line."""
    watch = LogWatch(nginx.error_log)
    r = replay(client(nginx), sid)
    expect_error(r, 401, "session_expired", want_json=True)
    expect_log(watch, "session_expired", "no session for the cookie",
               level="info")


def test_logout_ends_the_session(gateway, client, login, redis):
    c = client(gateway)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    sid = c.cookie("edugate_session")
    key = "eg:sess:" + sha256_hex(sid)
    assert redis.client().exists(key) == 1
    echo_identity(c)

    watch = LogWatch(gateway.error_log)
    r = c.get("/edugate/logout")
    assert r.status == 200
    assert "您已安全退出所有应用" in r.text
    value, attrs = set_cookies(r)["edugate_session"]
    assert value == "" and "Max-Age=0" in attrs and "Path=/" in attrs
    assert c.cookie("edugate_session") is None
    assert redis.client().exists(key) == 0
    watch.wait_for(r"\[info\] .*edugate: logout: session ended")

    # replayed on the same node (on either of its workers)
    for _ in range(4):
        refused(gateway, client, sid)


def test_logout_by_post(gateway, client, login, redis):
    c = client(gateway)
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    sid = c.cookie("edugate_session")
    r = c.post("/edugate/logout", "", "application/x-www-form-urlencoded")
    assert r.status == 200
    assert redis.client().exists("eg:sess:" + sha256_hex(sid)) == 0
    refused(gateway, client, sid)


def test_logout_without_session_still_clears_cookie(gateway, client):
    r = client(gateway).get("/edugate/logout", headers={
        "Cookie": "edugate_session=garbage"}, cookies=False)
    assert r.status == 200
    assert set_cookies(r)["edugate_session"][0] == ""


def test_logout_return_redirects(gateway, client, login):
    c = client(gateway)
    assert login(c, "stu02", "Stu02-Passw0rd").status == 302
    sid = c.cookie("edugate_session")
    r = c.get("/edugate/logout?return=%2Fapps%2Fecho%2F")
    assert r.status == 302
    assert r.location == "/apps/echo/"
    assert set_cookies(r)["edugate_session"][0] == ""
    refused(gateway, client, sid)


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
])
def test_logout_return_elsewhere_refused(gateway, client, login, target):
    c = client(gateway)
    assert login(c, "stu02", "Stu02-Passw0rd").status == 302
    watch = LogWatch(gateway.error_log)
    r = c.get("/edugate/logout?return=" + urllib.parse.quote(target,
                                                             safe=""),
              headers=JSON)
    expect_error(r, 400, "invalid_return", want_json=True)
    assert r.location is None
    expect_log(watch, "invalid_return", r'refused return target "',
               level="warn")


def test_logout_method_not_allowed(gateway, client):
    access = LogWatch(gateway.access_log)
    r = client(gateway).request("DELETE", "/edugate/logout", headers=JSON)
    expect_error(r, 405, "method_not_allowed", want_json=True)
    access.wait_for(r'"DELETE /edugate/logout HTTP/1\.1" 405 ')


def test_session_cache_outlives_a_silent_delete(gateway_factory, client,
                                                login, redis):
    """Why revocation must be published: a key deleted in Redis without a
    message stays usable on a node that cached it, up to
    edugate_session_cache (2 s by default)."""
    a = gateway_factory()
    b = gateway_factory()
    ca = client(a)
    assert login(ca, "stu01", "Stu01-Passw0rd").status == 302
    sid = ca.cookie("edugate_session")
    assert replay(client(b), sid).status == 200      # B caches it
    assert redis.client().delete("eg:sess:" + sha256_hex(sid)) == 1
    assert replay(client(b), sid).status == 200      # served from cache
    time.sleep(2.2)
    refused(b, client, sid)


def test_logout_on_one_node_refuses_replay_on_another(gateway_factory,
                                                      client, login):
    a = gateway_factory()
    b = gateway_factory()
    ca = client(a)
    assert login(ca, "stu01", "Stu01-Passw0rd").status == 302
    sid = ca.cookie("edugate_session")
    cb = client(b)
    # warm B's cache, and check it answers for the session
    for _ in range(2):
        assert replay(cb, sid).status == 200

    watch = LogWatch(b.error_log)
    r = ca.get("/edugate/logout")
    assert r.status == 200
    done = time.monotonic()
    r = replay(cb, sid)
    took = time.monotonic() - done
    assert took < 0.1, "replay took %.3fs" % took
    expect_error(r, 401, "session_expired", want_json=True)
    expect_log(watch, "session_expired", level="info")
    # and it stays refused on A too
    refused(a, client, sid)


def test_logout_reaches_every_worker(gateway_factory, client, login):
    a = gateway_factory()
    b = gateway_factory(workers=4)
    ca = client(a)
    assert login(ca, "tea01", "Tea01-Passw0rd").status == 302
    sid = ca.cookie("edugate_session")
    # each connection may land on another worker: warm as many as we can
    for _ in range(16):
        assert replay(client(b), sid).status == 200
    assert ca.get("/edugate/logout").status == 200
    for _ in range(16):
        refused(b, client, sid)
