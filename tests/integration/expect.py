"""Checks shared by the integration tests: error answers, log lines,
cookies, and login forms built by hand (to send what no browser would).

Every refusal of the gateway is checked three ways: the HTTP status, the
stable error code (X-Edugate-Error, and "error" of the JSON body when the
client asked for JSON), and the `edugate: <code>: ...` line of error.log.
"""

import hashlib
import json
import re
import urllib.parse

from servers import form_inputs

JSON = {"Accept": "application/json"}
FORM = "application/x-www-form-urlencoded"

SID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

# The test-only plugins (tests/plugins/test_plugin.c) that the loader
# refuses, with its reason: nginx -t and edugate-plugin-check say the same
# (init_fail is loaded with mode=loose).
LOADER_REFUSALS = [
    ("no_entry", 'no "edugate_plugin_entry" symbol: not an EduGate plugin'),
    ("abi_major", "built for ABI 2.0, the gateway has ABI 1.0 (the major "
                  "versions must be equal)"),
    ("abi_minor", "built for ABI 1.99, newer than the gateway's ABI 1.0"),
    ("size", "descriptor is 88 bytes, ABI 1.0 has 80 (built with another "
             "edugate_plugin.h?)"),
    ("host_size", "host table is 256 bytes for the plugin, ABI 1.0 has 264 "
                  "(built with another edugate_plugin.h?)"),
    ("null_name", "descriptor has no name"),
    ("init_fail", 'init failed: mode must be "strict" or "lax", not '
                  '"loose"'),
]


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def set_cookies(resp):
    """{name: (value, [attributes])} of the Set-Cookie headers."""
    out = {}
    for line in resp.header_all("Set-Cookie"):
        parts = [p.strip() for p in line.split(";")]
        name, _, value = parts[0].partition("=")
        out[name] = (value, parts[1:])
    return out


def cookie_attrs(attrs):
    """Attribute list -> {lower-case name: value or True}."""
    out = {}
    for a in attrs:
        k, eq, v = a.partition("=")
        out[k.strip().lower()] = v.strip() if eq else True
    return out


def expect_error(resp, status, code, want_json=False):
    """Status and code of a refusal; returns the JSON body, if any."""
    assert resp.status == status, (
        "expected %d %s, got %d (X-Edugate-Error %r):\n%s"
        % (status, code, resp.status, resp.header("X-Edugate-Error"),
           resp.text[:1500]))
    assert resp.header("X-Edugate-Error") == code, (
        "X-Edugate-Error is %r, expected %r"
        % (resp.header("X-Edugate-Error"), code))
    # refusals are never cached, sniffed or framed
    assert resp.header("Cache-Control") == "no-store", resp.headers
    assert resp.header("X-Content-Type-Options") == "nosniff"
    assert resp.header("X-Frame-Options") == "DENY"
    ctype = resp.header("Content-Type", "")
    if want_json:
        assert ctype.startswith("application/json"), ctype
    if not ctype.startswith("application/json"):
        assert code in resp.text, "error page does not name " + code
        return None
    doc = resp.json()
    assert doc["error"] == code, doc
    assert isinstance(doc.get("message"), str) and doc["message"], doc
    return doc


def expect_log(watch, code, detail="", level=None, timeout=3.0):
    """The `edugate: <code>: <detail>` line in error.log (detail: regex)."""
    pattern = r"\[%s\] \d+#\d+: (?:\*\d+ )?edugate: %s: %s" % (
        level or r"[a-z]+", re.escape(code), detail)
    return watch.wait_for(pattern, timeout=timeout)


def login_page(client, query="", headers=None):
    """GET the login form; (response, {field: value})."""
    page = client.get("/edugate/login" + query, headers=headers)
    assert page.status == 200, "login page: %r\n%s" % (page, page.text)
    return page, form_inputs(page.text)


def csrf_token(client):
    """A fresh form token; its cookie is now in the client's jar."""
    _, fields = login_page(client)
    assert fields.get("csrf"), "no csrf in the login form"
    return fields["csrf"]


def post_raw(client, body, cookies=None, headers=None,
             content_type=FORM, query=""):
    """POSTs body as it is; cookies: a Cookie header value, or None to use
    the client's jar."""
    h = dict(headers or {})
    if cookies is not None:
        h["Cookie"] = cookies
    return client.post("/edugate/login" + query, body, content_type,
                       headers=h, cookies=cookies is None)


def post_fields(client, fields, **kw):
    """fields: dict or list of pairs, url-encoded here."""
    return post_raw(client, urllib.parse.urlencode(fields), **kw)


def attempt(client, user, password, headers=None, return_to=None):
    """A complete login attempt through a fresh form, as a browser does."""
    token = csrf_token(client)
    fields = {"username": user, "password": password, "csrf": token}
    if return_to is not None:
        fields["return"] = return_to
    return post_fields(client, fields, headers=headers)


def echo_identity(client, path="/apps/echo/", headers=None):
    """GET a protected echo path; the echoed document (must be 200)."""
    r = client.get(path, headers=headers)
    assert r.status == 200, "%s: %r %s\n%s" % (
        path, r, r.header("X-Edugate-Error"), r.text[:800])
    return r.json()


def redis_dump(client):
    """{key: every value held under it, as text}, for the whole Redis."""
    out = {}
    for key in client.scan_iter("*"):
        kind = client.type(key).decode()
        if kind == "string":
            vals = [client.get(key)]
        elif kind == "hash":
            vals = [x for kv in client.hgetall(key).items() for x in kv]
        elif kind == "list":
            vals = client.lrange(key, 0, -1)
        elif kind == "set":
            vals = list(client.smembers(key))
        elif kind == "zset":
            vals = client.zrange(key, 0, -1)
        elif kind == "none":
            continue
        else:
            vals = [client.dump(key)]
        out[key.decode("utf-8", "replace")] = [
            v.decode("utf-8", "replace") if isinstance(v, bytes)
            else json.dumps(v) for v in vals if v is not None]
    return out
