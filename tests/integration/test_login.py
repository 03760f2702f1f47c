"""Pins the login endpoint's happy path: the form (languages, fields,
CSRF cookie, security headers), a successful login of every demo account
with its session cookie, the identity that reaches the application, and
the $edugate_* variables."""

import http.client
import ssl
import subprocess
import urllib.parse

import pytest

from servers import DEMO_ACCOUNTS, HttpClient, LogWatch, free_port
from expect import (SID_RE, cookie_attrs, echo_identity, form_inputs,
                    login_page, set_cookies)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def check_security_headers(resp):
    for name, value in SECURITY_HEADERS.items():
        assert resp.header(name) == value, (name, resp.header(name))
    csp = resp.header("Content-Security-Policy") or ""
    assert "frame-ancestors 'none'" in csp, csp


def test_form_is_chinese_by_default(gateway, client):
    c = client(gateway)
    page, fields = login_page(c, "?return=%2Fapps%2Fecho%2F")
    assert page.header("Content-Type").startswith("text/html")
    assert '<html lang="zh-CN">' in page.text
    assert "统一身份认证" in page.text
    assert "用户名" in page.text and "密码" in page.text
    assert "Sign in" not in page.text
    assert set(fields) >= {"username", "password", "csrf", "return"}
    assert fields["return"] == "/apps/echo/"
    assert fields["username"] == "" and fields["password"] == ""
    assert 'type="hidden" name="csrf"' in page.text
    assert 'type="hidden" name="return"' in page.text
    assert 'type="password" id="password" name="password"' in page.text
    check_security_headers(page)


def test_form_csrf_cookie_matches_hidden_field(gateway, client):
    c = client(gateway)
    page, fields = login_page(c)
    cookies = set_cookies(page)
    assert "edugate_csrf" in cookies, page.header_all("Set-Cookie")
    value, attrs = cookies["edugate_csrf"]
    assert value == fields["csrf"]
    assert SID_RE.match(value), value
    a = cookie_attrs(attrs)
    assert a.get("httponly") is True
    assert a.get("path") == "/edugate/login"
    assert "secure" not in a
    # two forms, two tokens
    _, again = login_page(c)
    assert again["csrf"] != fields["csrf"]


def test_form_without_return_goes_home(gateway, client):
    _, fields = login_page(client(gateway))
    assert fields["return"] == "/"


@pytest.mark.parametrize("query,headers", [
    ("?lang=en", {}),
    ("", {"Accept-Language": "en"}),
    ("", {"Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.5"}),
    ("?lang=en", {"Accept-Language": "zh-CN,zh;q=0.9"}),
])
def test_form_in_english(gateway, client, query, headers):
    page, fields = login_page(client(gateway), query, headers=headers)
    assert '<html lang="en">' in page.text
    assert "Sign in" in page.text and "Username" in page.text
    assert "统一身份认证" not in page.text
    assert "csrf" in fields
    check_security_headers(page)


@pytest.mark.parametrize("query,headers", [
    ("?lang=zh", {"Accept-Language": "en"}),
    ("", {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}),
])
def test_form_stays_chinese(gateway, client, query, headers):
    page, _ = login_page(client(gateway), query, headers=headers)
    assert '<html lang="zh-CN">' in page.text
    assert "Sign in" not in page.text


def test_return_target_is_escaped_in_the_form(gateway, client):
    target = '/apps/echo/?q="><b>x</b>'
    page, fields = login_page(
        client(gateway), "?return=" + urllib.parse.quote(target, safe=""))
    assert fields["return"] == target
    assert '"><b>' not in page.text
    assert "&quot;&gt;&lt;b&gt;" in page.text


@pytest.mark.parametrize("user", sorted(DEMO_ACCOUNTS))
def test_login_each_demo_account(gateway, client, login, user):
    account = DEMO_ACCOUNTS[user]
    c = client(gateway)
    watch = LogWatch(gateway.error_log)
    r = login(c, user, account["password"], return_to="/apps/echo/here?x=1")
    assert r.status == 302, "%r %s\n%s" % (r, r.header("X-Edugate-Error"),
                                           r.text)
    assert r.location == "/apps/echo/here?x=1"
    check_security_headers(r)

    cookies = set_cookies(r)
    value, attrs = cookies["edugate_session"]
    assert len(value) == 43 and SID_RE.match(value), value
    a = cookie_attrs(attrs)
    assert a.get("path") == "/"
    assert a.get("httponly") is True
    assert a.get("samesite") == "Lax"
    assert "secure" not in a, "Secure over plain http: " + str(attrs)
    assert "domain" not in a
    # the form token is spent: its cookie goes too
    assert cookies["edugate_csrf"][0] == ""

    watch.wait_for(r'edugate: login of "%s" \(uid=%s,' % (user, user))

    doc = echo_identity(c, "/apps/echo/who?y=2")
    assert doc["path"] == "/apps/echo/who?y=2"
    ident = doc["identity"]
    assert ident["user"] == user
    assert ident["name"] == account["name"]
    assert ident["roles"] == account["roles"]
    assert ident["org"] == account["org"]
    assert ident["org_path"] == account["org_path"]
    assert ident["level"] == account["level"]
    assert ident["school"] == account["school"]
    assert ident["grade"] == account["grade"]
    assert ident["class"] == account["class"]
    # the name travels percent-encoded (header values are ASCII)
    assert doc["headers"]["x-edugate-name"] == urllib.parse.quote(
        account["name"], safe="")


def test_login_without_return_goes_home(gateway, client, login):
    c = client(gateway)
    page, fields = login_page(c)
    r = c.post_form("/edugate/login", {
        "username": "stu01", "password": "Stu01-Passw0rd",
        "csrf": fields["csrf"]})
    assert r.status == 302
    assert r.location == "/"
    assert SID_RE.match(c.cookie("edugate_session") or "")


def test_username_case_does_not_matter(gateway, client, login):
    c = client(gateway)
    r = login(c, "STU01", "Stu01-Passw0rd")
    assert r.status == 302, r.text
    assert echo_identity(c)["identity"]["user"] == "stu01"


def test_cookie_secure_on(gateway_factory, client, login):
    n = gateway_factory("    edugate_cookie_secure on;\n")
    c = client(n)
    page, _ = login_page(c)
    _, csrf_attrs = set_cookies(page)["edugate_csrf"]
    assert "secure" in cookie_attrs(csrf_attrs)
    # the jar would not send a Secure cookie over http: post by hand
    token = set_cookies(page)["edugate_csrf"][0]
    r = c.post("/edugate/login", urllib.parse.urlencode({
        "username": "tea01", "password": "Tea01-Passw0rd", "csrf": token,
        "return": "/apps/echo/"}),
        "application/x-www-form-urlencoded",
        headers={"Cookie": "edugate_csrf=" + token}, cookies=False)
    assert r.status == 302, r.text
    value, attrs = set_cookies(r)["edugate_session"]
    a = cookie_attrs(attrs)
    assert SID_RE.match(value)
    assert a.get("secure") is True
    assert a.get("httponly") is True and a.get("samesite") == "Lax"


def _self_signed(dir_):
    key, crt = dir_ / "tls.key", dir_ / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    return key, crt


def test_cookie_secure_auto_follows_tls(gateway_factory, tmp_path):
    key, crt = _self_signed(tmp_path)
    tls_port = free_port()
    n = gateway_factory(extra_http="""
    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        location = /edugate/login { edugate_login; }
    }
""" % (tls_port, crt, key))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def fetch(method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", tls_port,
                                           context=ctx, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers.get_all("Set-Cookie") or [], \
                resp.read().decode()
        finally:
            conn.close()

    status, cookies, page = fetch("GET", "/edugate/login")
    assert status == 200
    csrf = [c for c in cookies if c.startswith("edugate_csrf=")][0]
    assert "; Secure" in csrf
    token = csrf.split(";")[0].split("=", 1)[1]
    status, cookies, _ = fetch(
        "POST", "/edugate/login",
        body=urllib.parse.urlencode({"username": "stu02",
                                     "password": "Stu02-Passw0rd",
                                     "csrf": token}),
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Cookie": "edugate_csrf=" + token})
    assert status == 302
    sess = [c for c in cookies if c.startswith("edugate_session=")][0]
    assert "; Secure" in sess and "; HttpOnly" in sess
    # the same gateway over plain http: no Secure
    plain = HttpClient(n.port).get("/edugate/login")
    assert "; Secure" not in plain.header("Set-Cookie")


def test_variables_name_the_user(gateway_factory, client, login, echo):
    n = gateway_factory(
        extra_http="""
    log_format edugate_who escape=none
        '$edugate_user|$edugate_roles|$edugate_org|$edugate_org_path|'
        '$edugate_level|$edugate_school|$edugate_grade|$edugate_class|'
        '$edugate_name|$request_uri';
""",
        extra_server="""
        location /whoami/ {
            edugate_protect on;
            access_log who.log edugate_who;
            add_header X-Who $edugate_user always;
            add_header X-Who-Roles $edugate_roles always;
            add_header X-Who-Path $edugate_org_path always;
            proxy_pass http://127.0.0.1:%d/apps/echo/;
        }
        location /anon/ {
            add_header X-Who "[$edugate_user]" always;
            return 204;
        }
""" % echo.port)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    r = c.get("/whoami/x")
    assert r.status == 200, r.text
    assert r.header("X-Who") == "stu01"
    assert r.header("X-Who-Roles") == "student"
    assert r.header("X-Who-Path") == "370000/370100/370112/3137000001"
    assert r.json()["identity"]["user"] == "stu01"

    line = LogWatch(n.dir / "who.log")
    line.offset = 0
    m = line.wait_for(r"(?m)^(.*)\|/whoami/x$")
    assert m.group(1).split("|") == [
        "stu01", "student", "3137000001", "370000/370100/370112/3137000001",
        "school", "3137000001", "07", "1", "张小明"]

    # an unprotected location resolves no session: the variable is empty
    anon = c.get("/anon/")
    assert anon.status == 204
    assert anon.header("X-Who") == "[]"


def test_cookie_name_and_login_url(gateway_factory, client, echo):
    n = gateway_factory(
        "    edugate_cookie_name sid;\n"
        "    edugate_login_url /auth/login;\n",
        extra_server="        location = /auth/login { edugate_login; }\n")
    c = client(n)
    r = c.get("/apps/echo/x")
    assert r.status == 302
    assert r.location == "/auth/login?return=%2Fapps%2Fecho%2Fx"
    page = c.get("/auth/login?return=%2Fapps%2Fecho%2Fx")
    assert page.status == 200
    assert '<form method="post" action="/auth/login">' in page.text
    value, attrs = set_cookies(page)["edugate_csrf"]
    assert cookie_attrs(attrs).get("path") == "/auth/login"
    fields = form_inputs(page.text)
    r = c.post_form("/auth/login", {"username": "stu01",
                                    "password": "Stu01-Passw0rd",
                                    "csrf": fields["csrf"],
                                    "return": fields["return"]})
    assert r.status == 302 and r.location == "/apps/echo/x"
    cookies = set_cookies(r)
    assert "edugate_session" not in cookies
    assert SID_RE.match(cookies["sid"][0])
    # the new name is cut from what goes upstream; the old one is not ours
    r = c.get("/apps/echo/", headers={
        "Cookie": "sid=%s; edugate_session=x; app=1" % cookies["sid"][0]},
        cookies=False)
    assert r.status == 200, r.text
    assert r.json()["cookies"] == ["edugate_session", "app"]
