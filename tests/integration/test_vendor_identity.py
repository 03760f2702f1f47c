"""Pins the identity hook of vendor locations (edugate_vendor): after the
session is checked, the vendor's id of the person comes from Redis
(eg:idmap:<vendor>:uid:<uid>) or, when the vendor has none, is a pairwise
id (HMAC of edugate_pairwise_secret, vendor and uid) that differs per
vendor; the plugin's headers, arguments and cookies reach the upstream,
copies sent by the client never do; a failing plugin, a broken mapping
or an unreachable Redis end the request with a clear code."""

import hashlib
import hmac
import json
import re
import time
import urllib.parse

import pytest

from servers import LogWatch
from expect import JSON, expect_error, expect_log

SECRET = "pairwise-demo-secret-0123456789"


def pairwise(vendor, uid):
    return hmac.new(SECRET.encode(), ("%s|%s" % (vendor, uid)).encode(),
                    hashlib.sha256).hexdigest()[:32]


def vendor_conf(test_plugin, echo, plugins=(("tp", "good"),), extra=""):
    http = "    edugate_pairwise_secret %s;\n" % SECRET
    server = ""
    for name, variant in plugins:
        http += "    edugate_plugin %s %s;\n" % (name, test_plugin(variant))
        server += ("        location /apps/%s/ {\n"
                   "            edugate_vendor %s;\n"
                   "            proxy_pass http://127.0.0.1:%d;\n"
                   "        }\n" % (name, name, echo.port))
    return http + extra, server


@pytest.fixture
def vendor_gateway(gateway_factory, test_plugin, echo):
    def make(plugins=(("tp", "good"),), extra="", **kw):
        http, server = vendor_conf(test_plugin, echo, plugins, extra)
        return gateway_factory(http, server, **kw)
    return make


def headers_of(doc):
    out = {}
    for k, v in doc["all_headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def upstream(client, path, headers=None):
    r = client.get(path, headers=headers)
    assert r.status == 200, "%s: %r %s\n%s" % (
        path, r, r.header("X-Edugate-Error"), r.text[:800])
    doc = r.json()
    return doc, headers_of(doc)


def test_pairwise_when_unmapped(vendor_gateway, client, login, redis):
    redis.client().delete("eg:idmap:tp:uid:stu02")
    n = vendor_gateway()
    c = client(n)
    assert login(c, "stu02", "Stu02-Passw0rd", "/apps/tp/").status == 302

    watch = LogWatch(n.error_log)
    doc, h = upstream(c, "/apps/tp/page?a=1")
    want = pairwise("tp", "stu02")

    # the plugin's log line, with its name, its newline escaped
    watch.wait_for(r'\[info\] \d+#\d+: \*\d+ edugate: plugin "tp": '
                   r"presenting stu02 as %s\\x0a, client" % want)
    assert h["x-test-user"] == [want]
    assert h["x-test-flags"] == ["pairwise=1 uid=stu02 school=2137000002"]
    assert h["x-edugate-user"] == ["stu02"]
    assert doc["path"] == "/apps/tp/page?a=1&tp_user=" + want
    assert doc["cookie_lines"] == ["tp_user=" + want]

    # stable: the same id on the next request and after a new login
    _, h2 = upstream(c, "/apps/tp/")
    assert h2["x-test-user"] == [want]


def test_mapped_vendor_id(vendor_gateway, client, login, redis):
    r = redis.client()
    r.set("eg:idmap:tp:uid:stu02", "u_88213")
    try:
        n = vendor_gateway()
        c = client(n)
        login(c, "stu02", "Stu02-Passw0rd")
        doc, h = upstream(c, "/apps/tp/")
        assert h["x-test-user"] == ["u_88213"]
        assert h["x-test-flags"][0].startswith("pairwise=0 uid=stu02")
        assert doc["path"] == "/apps/tp/?tp_user=u_88213"
    finally:
        r.delete("eg:idmap:tp:uid:stu02")


def test_vendors_get_different_ids(vendor_gateway, client, login):
    n = vendor_gateway(plugins=(("tpa", "good"), ("tpb", "good")))
    c = client(n)
    login(c, "stu01", "Stu01-Passw0rd")
    _, a = upstream(c, "/apps/tpa/")
    _, b = upstream(c, "/apps/tpb/")
    assert a["x-test-user"] == [pairwise("tpa", "stu01")]
    assert b["x-test-user"] == [pairwise("tpb", "stu01")]
    assert a["x-test-user"] != b["x-test-user"]


def test_client_copies_removed(vendor_gateway, client, login):
    n = vendor_gateway()
    c = client(n)
    login(c, "stu02", "Stu02-Passw0rd")
    watch = LogWatch(n.error_log)
    c.set_cookie("tp_user", "forged")
    c.set_cookie("other_app", "kept")
    doc, h = upstream(c, "/apps/tp/x?tp_user=forged&%74p_user=forged2&"
                         "TP_USER=forged3&keep=1",
                      headers={"X-Test-User": "forged",
                               "x-test-flags": "forged"})
    want = pairwise("tp", "stu02")
    assert h["x-test-user"] == [want]
    assert h["x-test-flags"][0].startswith("pairwise=1")
    assert doc["path"] == "/apps/tp/x?keep=1&tp_user=" + want
    assert doc["cookie_lines"] == ["other_app=kept; tp_user=" + want]
    assert "forged" not in json.dumps(doc)
    expect_log(watch, "spoofed_header",
               r'client sent "X-[Tt]est-[Uu]ser", which plugin "tp" sets; '
               r'removed',
               level="warn")


def test_vendor_location_needs_a_session(vendor_gateway, client):
    n = vendor_gateway()
    r = client(n).get("/apps/tp/", headers=JSON)
    expect_error(r, 401, "login_required", want_json=True)
    r = client(n).get("/apps/tp/")
    assert r.status == 302
    assert r.location.startswith("/edugate/login?return=")


def test_broken_mapping(vendor_gateway, client, login, redis):
    r = redis.client()
    r.set("eg:idmap:tp:uid:stu01", "has space")
    try:
        n = vendor_gateway()
        c = client(n)
        login(c, "stu01", "Stu01-Passw0rd")
        watch = LogWatch(n.error_log)
        expect_error(c.get("/apps/tp/", headers=JSON), 500, "internal_error",
                     want_json=True)
        expect_log(watch, "internal_error", r"eg:idmap:tp:uid:stu01 holds no "
                   r"vendor id", level="error")
    finally:
        r.delete("eg:idmap:tp:uid:stu01")


def test_plugin_error(vendor_gateway, client, login, echo):
    n = vendor_gateway(plugins=(("bad", "badout"),))
    c = client(n)
    login(c, "stu01", "Stu01-Passw0rd")
    watch = LogWatch(n.error_log)
    app = LogWatch(echo.log)
    expect_error(c.get("/apps/bad/x", headers=JSON), 502, "plugin_error",
                 want_json=True)
    expect_log(watch, "plugin_error", r'plugin "bad": identity hook failed '
               r'\(code -1\): set_header\("X-Not-Declared"\): not a header '
               r'describe\(\) lists', level="error")
    assert "/apps/bad/x" not in app.text()


def test_redis_down_fails_closed(vendor_gateway, client, login,
                                 redis_factory):
    r = redis_factory()
    # the worker's session cache answers, so only the vendor id lookup
    # meets the frozen Redis
    n = vendor_gateway(extra="    edugate_redis_timeout 500ms;\n"
                             "    edugate_session_cache 30s;\n",
                       redis=r)
    c = client(n)
    login(c, "stu02", "Stu02-Passw0rd")
    upstream(c, "/apps/tp/")
    watch = LogWatch(n.error_log)
    r.pause()
    try:
        start = time.monotonic()
        resp = c.get("/apps/tp/", headers=JSON)
        took = time.monotonic() - start
    finally:
        r.resume()
    expect_error(resp, 503, "session_store_unavailable", want_json=True)
    assert 0.4 <= took < 2, took
    expect_log(watch, "session_store_unavailable", r'the vendor id lookup '
               r'for plugin "tp" failed or timed out', level="error")


def test_subrequest_carries_no_client_identity(gateway_factory, test_plugin,
                                               echo, client, login):
    http, server = vendor_conf(test_plugin, echo)
    server += ("        location = /page {\n"
               "            ssi on;\n"
               "            default_type text/html;\n"
               "            return 200 '<!--# include virtual=\"/apps/tp/"
               "sub?tp_user=forged\" -->';\n"
               "        }\n")
    n = gateway_factory(http, server)
    c = client(n)
    login(c, "stu02", "Stu02-Passw0rd")
    r = c.get("/page", headers={"X-Test-User": "forged"})
    assert r.status == 200, r.text
    doc = json.loads(r.body)
    h = headers_of(doc)
    # the vendor sees neither the client's copy nor a person
    assert doc["error"] == "no_identity", doc
    assert "x-test-user" not in h, h
    assert doc["path"] == "/apps/tp/sub", doc["path"]
