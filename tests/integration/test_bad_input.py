"""Pins how the login endpoint refuses bad input: every wrong credential
looks the same, empty or NUL-bearing passwords never reach a bind,
usernames are escaped in LDAP filters and logs and never echoed, and
forms that are too big, mistyped, forged, replayed, duplicated or that
name a foreign return target get their own status, code and log line."""

import json
import os
import re
import secrets
import socket
import time
import urllib.parse

import pytest

from servers import DEMO_ACCOUNTS, LogWatch
from expect import (FORM, JSON, attempt, csrf_token, expect_error,
                    expect_log, form_inputs, login_page, post_fields,
                    post_raw, set_cookies)

STU01_DN = DEMO_ACCOUNTS["stu01"]["dn"]


def bind_line(dn):
    return r'BIND dn="%s" method=128' % re.escape(dn)


def no_session(resp):
    assert "edugate_session" not in set_cookies(resp), \
        resp.header_all("Set-Cookie")


# ---- wrong credentials ---------------------------------------------------

def test_wrong_password(gateway, client, slapd):
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    ldap = LogWatch(slapd.log)
    r = attempt(c, "stu01", "Wrong-Passw0rd", headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    no_session(r)
    expect_log(watch, "invalid_credentials",
               r'login for "stu01" failed: bind as "%s" refused'
               % re.escape(STU01_DN), level="warn")
    ldap.wait_for(bind_line(STU01_DN))


def _masked(page):
    return re.sub(r'name="csrf" value="[^"]*"', 'name="csrf" value=""', page)


def test_unknown_user_looks_like_wrong_password(gateway, client, slapd):
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    ldap = LogWatch(slapd.log)
    wrong = attempt(c, "stu01", "Wrong-Passw0rd")
    unknown = attempt(c, "nosuchuser", "Wrong-Passw0rd")
    for r in (wrong, unknown):
        expect_error(r, 401, "invalid_credentials")
        no_session(r)
    assert _masked(unknown.text) == _masked(wrong.text)
    assert sorted(set_cookies(unknown)) == sorted(set_cookies(wrong))
    assert "nosuchuser" not in unknown.text
    expect_log(watch, "invalid_credentials",
               r'login for "nosuchuser" failed: no entry matches '
               r'\(&\(objectClass=eduPerson\)\(uid=nosuchuser\)\)',
               level="warn")
    # an unknown user costs a bind too, so timing does not tell them apart
    ldap.wait_for(bind_line("cn=edugate-no-such-entry,dc=edu,dc=cn"))
    # and for programs
    j1 = attempt(c, "stu01", "Wrong-Passw0rd", headers=JSON)
    j2 = attempt(c, "nosuchuser", "Wrong-Passw0rd", headers=JSON)
    assert j1.status == j2.status == 401
    assert j1.json() == j2.json()
    assert j1.json()["error"] == "invalid_credentials"


def test_wrong_password_form_is_shown_again(gateway, client):
    c = client(gateway)
    token = csrf_token(c)
    watch = LogWatch(gateway.error_log)
    r = post_fields(c, {"username": "stu01", "password": "nope",
                        "csrf": token, "return": "/apps/echo/"},
                    query="?lang=en")
    expect_error(r, 401, "invalid_credentials")
    expect_log(watch, "invalid_credentials", r'login for "stu01" failed')
    assert "Wrong username or password." in r.text
    fields = form_inputs(r.text)
    assert fields["return"] == "/apps/echo/"
    assert fields["csrf"] and fields["csrf"] != token
    assert set_cookies(r)["edugate_csrf"][0] == fields["csrf"]


def test_empty_password_never_binds(gateway, client, slapd):
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    ldap = LogWatch(slapd.log)
    r = attempt(c, "stu01", "", headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    no_session(r)
    expect_log(watch, "invalid_credentials",
               r'empty password for "stu01" refused before bind',
               level="warn")
    text = ldap.text()
    assert not re.search(bind_line(STU01_DN), text), text
    assert "uid=stu01)" not in text, "searched for an empty password"
    # the slapd log does show binds: a wrong password leaves one
    ldap.move_on()
    attempt(c, "stu01", "x")
    ldap.wait_for(bind_line(STU01_DN))


@pytest.mark.parametrize("password", [
    "Stu01%00junk",
    # if the password were cut at the NUL, this one would log in
    "Stu01-Passw0rd%00junk",
    "%00",
])
def test_nul_in_password(gateway, client, slapd, password):
    c = client(gateway)
    token = csrf_token(c)
    watch = LogWatch(gateway.error_log)
    ldap = LogWatch(slapd.log)
    r = post_raw(c, "username=stu01&password=%s&csrf=%s" % (password, token),
                 headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    no_session(r)
    expect_log(watch, "invalid_credentials",
               "NUL byte in a login field, refused before bind",
               level="warn")
    assert not re.search(bind_line(STU01_DN), ldap.text())


def test_nul_in_username(gateway, client, slapd):
    c = client(gateway)
    token = csrf_token(c)
    watch = LogWatch(gateway.error_log)
    ldap = LogWatch(slapd.log)
    r = post_raw(c, "username=stu01%%00x&password=Stu01-Passw0rd&csrf=%s"
                 % token, headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    no_session(r)
    expect_log(watch, "invalid_credentials", "NUL byte in a login field")
    assert "uid=stu01" not in ldap.text()


@pytest.mark.parametrize("user,logged", [
    ("*)(uid=*", r"(&(objectClass=eduPerson)(uid=\2A\29\28uid=\2A))"),
    ("*", r"(&(objectClass=eduPerson)(uid=\2A))"),
    ("stu01)(|(uid=*",
     r"(&(objectClass=eduPerson)(uid=stu01\29\28|\28uid=\2A))"),
    # slapd logs uid values case-folded
    ("*)(objectclass=*",
     r"(&(objectClass=eduPerson)(uid=\2A\29\28objectclass=\2A))"),
    ("stu0\\31", r"(&(objectClass=eduPerson)(uid=stu0\5C31))"),
])
def test_filter_injection_is_escaped(gateway, client, slapd, user, logged):
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    ldap = LogWatch(slapd.log)
    r = attempt(c, user, "Stu01-Passw0rd", headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    no_session(r)
    ldap.wait_for(re.escape('filter="%s"' % logged))
    assert " BIND dn=\"uid=" not in ldap.text(), "bound as a person"
    expect_log(watch, "invalid_credentials",
               r'login for "%s" failed: no entry matches '
               % re.escape(user.replace("\\", "\\x5c")), level="warn")


# ---- usernames -----------------------------------------------------------

@pytest.mark.parametrize("user,shown", [
    ("stu\x01", r"stu\\x01"),
    ("stu01\t", r"stu01\\x09"),
    ("a" * 200, "a" * 200),
    ("a" * 129, "a" * 129),
    ("", ""),
])
def test_invalid_username(gateway, client, user, shown):
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    r = attempt(c, user, "whatever", headers=JSON)
    expect_error(r, 400, "invalid_username", want_json=True)
    no_session(r)
    expect_log(watch, "invalid_username",
               r'refused username "%s" \(%d bytes\)'
               % (shown, len(user.encode())), level="warn")


def test_invalid_utf8_username(gateway, client):
    c = client(gateway)
    token = csrf_token(c)
    watch = LogWatch(gateway.error_log)
    r = post_raw(c, "username=stu%%FF%%FE01&password=x&csrf=%s" % token,
                 headers=JSON)
    expect_error(r, 400, "invalid_username", want_json=True)
    expect_log(watch, "invalid_username",
               r'refused username "stu\\xff\\xfe01" \(7 bytes\)')


def test_longest_username_reaches_the_directory(gateway, client, slapd):
    ldap = LogWatch(slapd.log)
    watch = LogWatch(gateway.error_log)
    r = attempt(client(gateway), "b" * 128, "x", headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    ldap.wait_for(r"\(uid=b{128}\)")
    expect_log(watch, "invalid_credentials",
               r'login for "b{128}" failed: no entry matches')


def test_crlf_and_html_username_not_reflected(gateway, client):
    user = 'a"<b>\r\nFORGED edugate: login of "itadmin" succeeded'
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    r = attempt(c, user, "x")
    expect_error(r, 400, "invalid_username")
    for piece in ("<b>", "FORGED", "\r\n"):
        assert piece not in r.text
    expect_log(watch, "invalid_username",
               r'refused username "a\\x22<b>\\x0d\\x0aFORGED edugate: '
               r'login of \\x22itadmin\\x22 succeeded"', level="warn")
    # still one line: nothing in the log starts where the CR/LF was
    assert not re.search(r"(?m)^FORGED", watch.text())


def test_html_username_not_reflected(gateway, client):
    user = '<img src=x onerror=alert(1)>'
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    for headers in (None, JSON):
        r = attempt(c, user, "x", headers=headers)
        expect_error(r, 401, "invalid_credentials")
        assert "<img" not in r.text and "onerror" not in r.text
    expect_log(watch, "invalid_credentials",
               r'login for "<img src=x onerror=alert\(1\)>" failed')


# ---- form shape ----------------------------------------------------------

def _padded(token, size, password="Stu01-Passw0rd"):
    head = "username=stu01&password=%s&csrf=%s&return=%%2F&pad=" % (
        password, token)
    assert size >= len(head)
    return head + "x" * (size - len(head))


def test_form_of_4096_bytes_is_accepted(gateway, client):
    c = client(gateway)
    r = post_raw(c, _padded(csrf_token(c), 4096))
    assert r.status == 302, r.text


@pytest.mark.parametrize("size", [4097, 10000, 40000])
def test_form_too_large(gateway, client, size):
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    r = post_raw(c, _padded(csrf_token(c), size), headers=JSON)
    expect_error(r, 413, "form_too_large", want_json=True)
    no_session(r)
    expect_log(watch, "form_too_large", "login form over 4096 bytes",
               level="warn")


@pytest.mark.parametrize("ctype", [
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "application/json",
    "application/x-www-form-urlencodedx",
    None,
])
def test_unsupported_media_type(gateway, client, ctype):
    c = client(gateway)
    token = csrf_token(c)
    body = "username=stu01&password=Stu01-Passw0rd&csrf=" + token
    headers = dict(JSON)
    if ctype is not None:
        headers["Content-Type"] = ctype
    watch = LogWatch(gateway.error_log)
    r = c.request("POST", "/edugate/login", body=body.encode(),
                  headers=headers)
    expect_error(r, 415, "unsupported_media_type", want_json=True)
    no_session(r)
    expect_log(watch, "unsupported_media_type",
               r'login form sent as "%s"' % re.escape(ctype or "(none)"))


def test_form_type_with_charset_is_accepted(gateway, client):
    c = client(gateway)
    token = csrf_token(c)
    r = c.post("/edugate/login",
               "username=stu01&password=Stu01-Passw0rd&csrf=" + token,
               "Application/X-WWW-Form-Urlencoded; charset=UTF-8")
    assert r.status == 302, r.text


@pytest.mark.parametrize("body,why", [
    ("username=stu01&username=tea01&password=Tea01-Passw0rd&csrf={t}",
     "duplicate field"),
    ("username=stu01&password=x&pass%77ord=Stu01-Passw0rd&csrf={t}",
     "duplicate field"),
    ("username=stu01&password=Stu01-Passw0rd&csrf={t}&csrf={t}",
     "duplicate field"),
    ("username=stu01&password=Stu01-Passw0rd&csrf={t}&return=/a&return=/b",
     "duplicate field"),
    ("username=stu01&password=Stu01-Passw0rd%zz&csrf={t}",
     "broken percent escape"),
    ("username=stu01&password=Stu01-Passw0rd&csrf={t}&other=%4",
     "broken percent escape"),
])
def test_malformed_form(gateway, client, body, why):
    c = client(gateway)
    token = csrf_token(c)
    watch = LogWatch(gateway.error_log)
    r = post_raw(c, body.format(t=token), headers=JSON)
    expect_error(r, 400, "invalid_request", want_json=True)
    no_session(r)
    expect_log(watch, "invalid_request", "login form: " + why)


def test_put_not_allowed(gateway, client):
    c = client(gateway)
    access = LogWatch(gateway.access_log)
    r = c.request("PUT", "/edugate/login", body=b"username=stu01",
                  headers=dict(JSON, **{"Content-Type": FORM}))
    expect_error(r, 405, "method_not_allowed", want_json=True)
    access.wait_for(r'"PUT /edugate/login HTTP/1\.1" 405 ')


def test_put_not_allowed_is_logged(gateway, client):
    watch = LogWatch(gateway.error_log)
    r = client(gateway).request("PUT", "/edugate/login", headers=JSON)
    assert r.status == 405
    expect_log(watch, "method_not_allowed", timeout=1.0)


# ---- CSRF ----------------------------------------------------------------

CREDS = {"username": "stu01", "password": "Stu01-Passw0rd"}


def test_missing_csrf_field(gateway, client):
    c = client(gateway)
    csrf_token(c)
    watch = LogWatch(gateway.error_log)
    r = post_fields(c, CREDS, headers=JSON)
    expect_error(r, 403, "bad_csrf", want_json=True)
    no_session(r)
    expect_log(watch, "bad_csrf", "login form token missing or not matching",
               level="warn")


def test_missing_csrf_cookie(gateway, client):
    c = client(gateway)
    token = csrf_token(c)
    watch = LogWatch(gateway.error_log)
    r = post_fields(c, dict(CREDS, csrf=token), cookies="", headers=JSON)
    expect_error(r, 403, "bad_csrf", want_json=True)
    no_session(r)
    expect_log(watch, "bad_csrf", "login form token missing or not matching")


def test_csrf_not_matching_cookie(gateway, client):
    c = client(gateway)
    mine = csrf_token(c)
    other = csrf_token(client(gateway))
    watch = LogWatch(gateway.error_log)
    r = post_fields(c, dict(CREDS, csrf=other),
                    cookies="edugate_csrf=" + mine, headers=JSON)
    expect_error(r, 403, "bad_csrf", want_json=True)
    no_session(r)
    expect_log(watch, "bad_csrf", "login form token missing or not matching")


def test_forged_csrf_pair(gateway, client):
    forged = secrets.token_urlsafe(32)
    watch = LogWatch(gateway.error_log)
    r = post_fields(client(gateway), dict(CREDS, csrf=forged),
                    cookies="edugate_csrf=" + forged, headers=JSON)
    expect_error(r, 403, "bad_csrf", want_json=True)
    no_session(r)
    expect_log(watch, "bad_csrf",
               "login form token unknown, expired or already used",
               level="warn")


def test_csrf_is_single_use_after_failure(gateway, client):
    c = client(gateway)
    token = csrf_token(c)
    r = post_fields(c, {"username": "stu01", "password": "nope",
                        "csrf": token})
    assert r.status == 401
    watch = LogWatch(gateway.error_log)
    r = post_fields(c, dict(CREDS, csrf=token),
                    cookies="edugate_csrf=" + token, headers=JSON)
    expect_error(r, 403, "bad_csrf", want_json=True)
    no_session(r)
    expect_log(watch, "bad_csrf",
               "login form token unknown, expired or already used")


def test_csrf_is_single_use_after_success(gateway, client):
    c = client(gateway)
    token = csrf_token(c)
    r = post_fields(c, dict(CREDS, csrf=token))
    assert r.status == 302
    watch = LogWatch(gateway.error_log)
    r = post_fields(client(gateway), dict(CREDS, csrf=token),
                    cookies="edugate_csrf=" + token)
    expect_error(r, 403, "bad_csrf")
    no_session(r)
    # the form comes back with a new token to try again
    fresh = form_inputs(r.text)["csrf"]
    assert fresh and fresh != token
    expect_log(watch, "bad_csrf",
               "login form token unknown, expired or already used")


# ---- return targets ------------------------------------------------------

BAD_RETURNS = [
    "//evil.example/",
    "https://evil.example/",
    "http://evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/apps/echo/\r\nSet-Cookie: x=1",
    "https://127.0.0.1@evil.example/",
    "evil.example",
]


@pytest.mark.parametrize("target", BAD_RETURNS)
def test_bad_return_on_get(gateway, client, target):
    watch = LogWatch(gateway.error_log)
    r = client(gateway).get(
        "/edugate/login?return=" + urllib.parse.quote(target, safe=""),
        headers=JSON)
    expect_error(r, 400, "invalid_return", want_json=True)
    assert r.location is None
    expect_log(watch, "invalid_return", r'refused return target "',
               level="warn")


@pytest.mark.parametrize("target", BAD_RETURNS[:5])
def test_bad_return_on_post(gateway, client, target):
    c = client(gateway)
    token = csrf_token(c)
    watch = LogWatch(gateway.error_log)
    r = post_fields(c, dict(CREDS, csrf=token, **{"return": target}),
                    headers=JSON)
    expect_error(r, 400, "invalid_return", want_json=True)
    no_session(r)
    assert r.location is None
    expect_log(watch, "invalid_return", r'refused return target "',
               level="warn")


def test_bad_return_logged_escaped(gateway, client):
    watch = LogWatch(gateway.error_log)
    client(gateway).get("/edugate/login?return=" + urllib.parse.quote(
        '/\\"x', safe=""))
    expect_log(watch, "invalid_return",
               r'refused return target "/\\x5c\\x22x"')


def test_allowed_return_host(gateway_factory, client):
    n = gateway_factory("    edugate_return_hosts app.example:8443 "
                        "portal.example;\n")
    target = "https://app.example:8443/portal?tab=1"
    c = client(n)
    page, fields = login_page(
        c, "?return=" + urllib.parse.quote(target, safe=""))
    assert fields["return"] == target
    r = post_fields(c, dict(CREDS, csrf=fields["csrf"],
                            **{"return": target}))
    assert r.status == 302, r.text
    assert r.location == target
    assert "edugate_session" in set_cookies(r)

    r = client(n).get("/edugate/login?return=" + urllib.parse.quote(
        "HTTP://Portal.Example/x", safe=""))
    assert r.status == 200

    for bad in ("https://app.example/portal",
                "https://app.example:8443.evil.example/",
                "https://evil.example@app.example:8443/",
                "https://app.example:84430/",
                "ftp://app.example:8443/"):
        watch = LogWatch(n.error_log)
        r = client(n).get("/edugate/login?return=" + urllib.parse.quote(
            bad, safe=""), headers=JSON)
        expect_error(r, 400, "invalid_return", want_json=True)
        expect_log(watch, "invalid_return")


def test_broken_query_string(gateway, client):
    watch = LogWatch(gateway.error_log)
    r = client(gateway).get("/edugate/login?return=%zz", headers=JSON)
    expect_error(r, 400, "invalid_request", want_json=True)
    expect_log(watch, "invalid_request", "query string: broken percent")


def _chunked_post(port, body, token, pause=0.2):
    """POSTs body chunked, in two chunks with a pause between them."""
    head = ("POST /edugate/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: %s\r\nTransfer-Encoding: chunked\r\n"
            "Accept: application/json\r\n"
            "Cookie: edugate_csrf=%s\r\nConnection: close\r\n\r\n"
            % (FORM, token)).encode()
    half = len(body) // 2
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + b"%x\r\n" % half + body[:half] + b"\r\n")
        time.sleep(pause)
        s.sendall(b"%x\r\n" % (len(body) - half) + body[half:]
                  + b"\r\n0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data:
        return 0, {}, b""       # the connection closed without an answer
    head, _, payload = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        headers.setdefault(name, []).append(value)
    return int(lines[0].split()[1]), headers, payload


def test_chunked_form_in_parts(gateway_factory, client):
    # a private nginx: a crash must not take the shared gateway's worker
    n = gateway_factory()
    token = csrf_token(client(n))
    status, headers, _ = _chunked_post(
        n.port, ("username=stu01&password=Stu01-Passw0rd&csrf=%s"
                 % token).encode(), token)
    assert n.check_log() == []
    assert status == 302
    assert any(v.startswith("edugate_session=")
               for v in headers["Set-Cookie"]), headers


def test_chunked_form_too_large(gateway, client):
    token = csrf_token(client(gateway))
    watch = LogWatch(gateway.error_log)
    status, headers, payload = _chunked_post(
        gateway.port, _padded(token, 6000).encode(), token)
    assert status == 413
    assert headers.get("X-Edugate-Error") == ["form_too_large"]
    assert json.loads(payload)["error"] == "form_too_large"
    expect_log(watch, "form_too_large", "login form over 4096 bytes")


def test_empty_body(gateway_factory, client):
    n = gateway_factory()
    c = client(n)
    csrf_token(c)
    watch = LogWatch(n.error_log)
    try:
        r = post_raw(c, "", headers=JSON)
    finally:
        assert n.check_log() == []
    expect_error(r, 400, "invalid_username", want_json=True)
    expect_log(watch, "invalid_username", r'refused username "" \(0 bytes\)')
