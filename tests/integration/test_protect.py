"""Pins edugate_protect: requests without a session are sent to the login
page (browsers) or answered 401 JSON (programs), broken or unknown cookies
are refused and logged, identity headers sent by clients never reach an
application, and the gateway's own cookies are cut from what is proxied."""

import http.client
import json
import re
import secrets
import socket
import urllib.parse

import pytest

from servers import LogWatch
from expect import JSON, echo_identity, expect_error, expect_log, set_cookies


def login_location(original):
    return "/edugate/login?return=" + urllib.parse.quote(original, safe="")


@pytest.mark.parametrize("path", [
    "/apps/echo/",
    "/apps/echo/sub/page?x=1&y=%2F2",
    "/apps/teachers/",
])
def test_no_cookie_redirects_to_login(gateway, client, path):
    r = client(gateway).get(path)
    assert r.status == 302
    assert r.location == login_location(path)
    # the return target is one encoded query argument
    q = urllib.parse.urlsplit(r.location)
    assert q.path == "/edugate/login"
    assert urllib.parse.parse_qs(q.query) == {"return": [path]}
    assert r.header("Cache-Control") == "no-store"
    assert not set_cookies(r), "nothing to clear without a cookie"


def test_no_cookie_json_gets_401(gateway, client):
    path = "/apps/echo/data?id=7"
    r = client(gateway).get(path, headers=JSON)
    doc = expect_error(r, 401, "login_required", want_json=True)
    assert doc["login_url"] == login_location(path)
    assert r.location is None


def test_xhr_gets_401_json(gateway, client):
    r = client(gateway).get("/apps/echo/",
                            headers={"X-Requested-With": "XMLHttpRequest"})
    expect_error(r, 401, "login_required", want_json=True)


def test_other_cookies_are_no_session(gateway, client):
    r = client(gateway).get("/apps/echo/", headers=dict(
        JSON, Cookie="other=1; edugate_sessionx=" + "A" * 43), cookies=False)
    expect_error(r, 401, "login_required", want_json=True)


MALFORMED = [
    "",
    "short",
    "A" * 42,
    "A" * 44,
    "A" * 42 + "+",
    "A" * 42 + "/",
    "A" * 42 + "=",
    "A" * 42 + ".",
    "A" * 41 + "%41",
    "A" * 200,
]


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_cookie_json(gateway, client, value):
    watch = LogWatch(gateway.error_log)
    r = client(gateway).get("/apps/echo/", headers=dict(
        JSON, Cookie="edugate_session=" + value), cookies=False)
    doc = expect_error(r, 401, "invalid_session", want_json=True)
    assert doc["login_url"] == login_location("/apps/echo/")
    cleared = set_cookies(r)["edugate_session"]
    assert cleared[0] == "" and "Max-Age=0" in cleared[1]
    expect_log(watch, "invalid_session",
               r"malformed session cookie \(%d bytes\)" % len(value),
               level="warn")


def test_malformed_cookie_browser(gateway, client):
    watch = LogWatch(gateway.error_log)
    r = client(gateway).get("/apps/echo/x", headers={
        "Cookie": "edugate_session=not-a-session"}, cookies=False)
    assert r.status == 302
    assert r.location == login_location("/apps/echo/x")
    assert set_cookies(r)["edugate_session"][0] == ""
    expect_log(watch, "invalid_session", level="warn")


def test_redirect_names_the_error_code(gateway, client):
    r = client(gateway).get("/apps/echo/", headers={
        "Cookie": "edugate_session=not-a-session"}, cookies=False)
    assert r.status == 302
    assert r.header("X-Edugate-Error") == "invalid_session"


def test_forged_cookie_is_unknown(gateway, client, redis):
    forged = secrets.token_urlsafe(32)
    watch = LogWatch(gateway.error_log)
    r = client(gateway).get("/apps/echo/", headers=dict(
        JSON, Cookie="edugate_session=" + forged), cookies=False)
    expect_error(r, 401, "session_expired", want_json=True)
    assert set_cookies(r)["edugate_session"][0] == ""
    expect_log(watch, "session_expired", "no session for the cookie",
               level="info")


def test_forged_cookie_browser(gateway, client):
    watch = LogWatch(gateway.error_log)
    r = client(gateway).get("/apps/echo/", headers={
        "Cookie": "edugate_session=" + secrets.token_urlsafe(32)},
        cookies=False)
    assert r.status == 302
    assert r.location == login_location("/apps/echo/")
    expect_log(watch, "session_expired", level="info")


SPOOFED = {
    "X-Edugate-User": "itadmin",
    "X-Edugate-Roles": "itadmin,teacher",
    "X-Edugate-Org-Path": "370000",
    "X-Edugate-School": "9999999999",
    "X-Edugate-Forged": "1",
}


def test_spoofed_headers_replaced_for_logged_in_user(gateway, client,
                                                     login):
    c = client(gateway)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    watch = LogWatch(gateway.error_log)
    doc = echo_identity(c, headers=SPOOFED)
    h = doc["headers"]
    # one value each: a spoofed copy next to the real one would be joined
    assert h["x-edugate-user"] == "stu01"
    assert h["x-edugate-roles"] == "student"
    assert h["x-edugate-org-path"] == "370000/370100/370112/3137000001"
    assert h["x-edugate-school"] == "3137000001"
    assert "x-edugate-forged" not in h
    for name in SPOOFED:
        expect_log(watch, "spoofed_header",
                   # the client library capitalizes header names its way
                   r'client sent "(?i:%s)", removed' % re.escape(name),
                   level="warn")


def test_spoofed_headers_removed_without_session(gateway_factory, client,
                                                 echo):
    n = gateway_factory(extra_server="""
        location /open/ {
            proxy_pass http://127.0.0.1:%d/apps/echo/;
        }
""" % echo.port)
    watch = LogWatch(n.error_log)
    r = client(n).get("/open/x", headers=SPOOFED)
    # echo answers 500 no_identity when no X-Edugate-User arrives
    assert r.status == 500, r.text
    doc = r.json()
    assert doc["error"] == "no_identity"
    assert doc["headers"] == {}
    expect_log(watch, "spoofed_header",
               r'client sent "(?i:X-Edugate-User)", removed', level="warn")
    # a spoofing client on an unprotected path is not asked to log in
    assert r.header("X-Edugate-Error") is None


def test_spoofed_header_blocks_nothing_else(gateway, client, login):
    """A header that merely resembles ours is passed on."""
    c = client(gateway)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    doc = echo_identity(c, headers={"X-Edugatex": "1",
                                    "X-Other-Edugate-User": "2"})
    assert doc["identity"]["user"] == "stu01"


def test_gateway_cookies_not_proxied(gateway, client, login):
    c = client(gateway)
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    sid = c.cookie("edugate_session")
    cookie = ("app=1; edugate_session=%s; my_edugate_session=2; "
              "edugate_csrf=%s; theme=dark" % (sid, "C" * 43))
    r = c.get("/apps/echo/", headers={"Cookie": cookie}, cookies=False)
    assert r.status == 200, r.text
    doc = r.json()
    assert doc["identity"]["user"] == "tea01"
    assert doc["cookies"] == ["app", "my_edugate_session", "theme"]


def test_only_gateway_cookies_means_no_cookie_header(gateway, client,
                                                     login):
    c = client(gateway)
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    doc = echo_identity(c)
    assert doc["cookies"] == []


def raw_get(port, path, header_lines):
    """GET with header lines exactly as given (repeats included)."""
    req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % path
    req += "".join(line + "\r\n" for line in header_lines) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(req.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


def test_cookies_cut_from_every_cookie_line(gateway, client, login):
    c = client(gateway)
    assert login(c, "stu02", "Stu02-Passw0rd").status == 302
    sid = c.cookie("edugate_session")
    watch = LogWatch(gateway.error_log)
    status, head, body = raw_get(gateway.port, "/apps/echo/", [
        "Cookie: a=1; edugate_csrf=" + "C" * 43,
        "X-Edugate-User: itadmin",
        "Cookie: edugate_session=%s; b=2" % sid,
        "X-EDUGATE-USER: tea01",
        "Cookie: edugate_session=%s" % sid,
    ])
    assert status == 200, head
    doc = json.loads(body)
    assert doc["identity"]["user"] == "stu02"
    assert doc["headers"]["x-edugate-user"] == "stu02"
    assert doc["cookies"] == ["a", "b"]
    # logged under the name the client sent, once per copy
    expect_log(watch, "spoofed_header", r'client sent "X-Edugate-User"')
    expect_log(watch, "spoofed_header", r'client sent "X-EDUGATE-USER"')


def test_internal_redirect_keeps_one_identity(gateway_factory, client,
                                              login, echo):
    n = gateway_factory(extra_server="""
        location /apps/tf/ {
            edugate_protect on;
            try_files /nonexistent @app;
        }
        location @app {
            edugate_protect on;
            proxy_pass http://127.0.0.1:%d;
        }
""" % echo.port)
    c = client(n)
    assert login(c, "tea01", "Tea01-Passw0rd").status == 302
    watch = LogWatch(n.error_log)
    doc = echo_identity(c, "/apps/tf/x")
    # our own headers, met again after the redirect, are not doubled
    assert doc["headers"]["x-edugate-user"] == "tea01"
    assert doc["headers"]["x-edugate-roles"] == "teacher"
    assert "spoofed_header" not in watch.text()


def test_bodies_and_keepalive_pass_through(gateway_factory, client, login):
    # no cache: every request waits for Redis in the access phase
    n = gateway_factory("    edugate_session_cache 0;\n")
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    sid = c.cookie("edugate_session")
    conn = http.client.HTTPConnection("127.0.0.1", n.port, timeout=10)
    try:
        for i, size in enumerate([0, 50000, 0, 300000, 10]):
            conn.request("POST" if size else "GET", "/apps/echo/k%d" % i,
                         body=b"b" * size if size else None,
                         headers={"Cookie": "edugate_session=" + sid})
            resp = conn.getresponse()
            doc = json.loads(resp.read())
            assert resp.status == 200, doc
            assert doc["path"] == "/apps/echo/k%d" % i
            assert doc["body_length"] == size
            assert doc["identity"]["user"] == "stu01"
        # a refused request with a body leaves the connection usable
        conn.request("POST", "/apps/echo/anon", body=b"z" * 30000)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 302
        conn.request("GET", "/apps/echo/again",
                     headers={"Cookie": "edugate_session=" + sid})
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read())["path"] == "/apps/echo/again"
    finally:
        conn.close()


def test_underscore_spoof_removed(gateway_factory, client, login, echo):
    n = gateway_factory(extra_server="""
        underscores_in_headers on;
        location /apps/seen/ {
            edugate_protect on;
            add_header X-Seen-User "$http_x_edugate_user" always;
            add_header X-Seen-Roles "$http_x_edugate_roles" always;
            proxy_pass http://127.0.0.1:%d;
        }
""" % echo.port)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    sid = c.cookie("edugate_session")
    watch = LogWatch(n.error_log)
    status, head, body = raw_get(n.port, "/apps/seen/", [
        "Cookie: edugate_session=" + sid,
        "X_Edugate_User: itadmin",
        "X_Edugate_Roles: itadmin",
    ])
    assert status == 200, head
    assert json.loads(body)["identity"]["user"] == "stu01"
    assert "X-Seen-User: stu01\r\n" in head + "\r\n", head
    assert "X-Seen-Roles: student\r\n" in head + "\r\n", head
    expect_log(watch, "spoofed_header", r'client sent "X_Edugate_User"',
               timeout=1.0)
