"""Pins what a push does with hostile or broken payloads (SECURITY-
CHECKLIST rows 63-66): XML with a DTD, external entities or entity
expansion (billion laughs), deep nesting, invalid UTF-8, GBK without a
declaration, JSON with duplicate keys or NaN, a body over
edugate_standardize_max_body, a wrong or missing Content-Type, a plugin
that makes records the standard cannot take.  Each is refused whole with
a 4xx and a stable code, logged as "edugate: <code>: ...", nothing
reaches the data center, the registry learns nothing, and the worker
goes on serving the next good push."""

import http.client

import pytest

from servers import Response
from expect import expect_error, expect_log
from test_bearer import keys  # noqa: F401  (fixture)
from std_world import std_gateway  # noqa: F401  (fixture)
import std_world as W

GOOD_XML = W.SCORES.read_bytes()

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ScoreExport [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
<ScoreExport xmlns="http://www.example-yuejuan.cn/export/v3">
  <Exam examId="&x;"/></ScoreExport>"""

DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ScoreExport SYSTEM "http://127.0.0.1:1/export.dtd">
<ScoreExport xmlns="http://www.example-yuejuan.cn/export/v3"/>"""

LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n'
          b' <!ENTITY lol "lol">\n'
          + b"".join(b' <!ENTITY lol%d "%s">\n'
                     % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b']>\n<ScoreExport xmlns="http://www.example-yuejuan.cn/export/'
            b'v3"><Exam examId="&lol9;"/></ScoreExport>')


@pytest.fixture
def gw(std_gateway, redis):
    W.seed_district(redis)
    W.seed_exam_world(redis)
    return std_gateway(extra_server="""
        location = /std/v1/push/small {
            edugate_standardize smartcampus * mode=enforce;
            edugate_standardize_max_body 1k;
            edugate_standardize_forward /_datacenter/small;
        }""")


def refused(n, r, status, code, detail=""):
    expect_error(r, status, code, want_json=True)
    expect_log(n.watch, code, detail)
    assert n.datacenter.requests() == []


def still_serving(n, c):
    r = W.push(c, "yuejuan", GOOD_XML)
    assert r.status == 200, r.text
    assert len(n.datacenter.wait_requests(1)) == 1


@pytest.mark.parametrize("name,body,code", [
    ("xxe", XXE, "xml_dtd_refused"),
    ("dtd", DTD, "xml_dtd_refused"),
    ("billion laughs", LAUGHS, "xml_dtd_refused"),
    ("not xml", b"<ScoreExport><Exam></ScoreExport>", "invalid_xml"),
    ("deep", b'<?xml version="1.0"?>' + b"<a>" * 3000 + b"</a>" * 3000,
     "invalid_xml"),
    ("deep for us", b"<a>" * 100 + b"</a>" * 100, "payload_too_deep"),
])
def test_hostile_xml(gw, client, redis, name, body, code):
    n = gw
    c = client(n)
    r = W.push(c, "yuejuan", body)
    refused(n, r, 400, code, "batch yuejuan-")
    assert "root:" not in r.text
    assert not list(redis.client().scan_iter("eg:std:xw:yuejuan:*"))
    still_serving(n, c)


def test_gbk_with_and_without_declaration(gw, client):
    n = gw
    c = client(n)
    undeclared = GOOD_XML.replace(b' encoding="GBK"', b"")
    assert undeclared != GOOD_XML

    # the bytes are GBK, the document says nothing: not UTF-8, refused
    r = W.push(c, "yuejuan", undeclared)
    refused(n, r, 400, "invalid_encoding")

    # the Content-Type names the charset: read as GBK
    r = W.push(c, "yuejuan", undeclared,
               content_type="application/xml; charset=GBK")
    assert r.status == 200, r.text
    assert r.json()["totals"]["records"] == 4

    # an unknown charset is the client's mistake
    r = W.push(c, "yuejuan", undeclared,
               content_type="application/xml; charset=x-klingon")
    expect_error(r, 400, "invalid_encoding", want_json=True)


def test_schema_location_and_xinclude_are_ignored(gw, client):
    n = gw
    c = client(n)
    body = GOOD_XML.replace(
        b'sys="YJ-Cloud"',
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:schemaLocation="http://127.0.0.1:1/x.xsd" '
        b'xmlns:xi="http://www.w3.org/2001/XInclude" sys="YJ-Cloud"')
    body = body.replace(b"<Records>", b'<Records><xi:include '
                        b'href="file:///etc/passwd" parse="text"/>')
    r = W.push(c, "yuejuan", body)
    assert r.status == 200, r.text
    assert r.json()["totals"]["forwarded"] == 3, r.text
    assert "root:" not in r.text
    assert "root:" not in n.datacenter.wait_requests(1)[0]["body"]


@pytest.mark.parametrize("name,body,code", [
    ("duplicate key", b'{"school": {"orgId": "A"}, "school": {}}',
     "json_duplicate_key"),
    ("NaN", b'{"school": {"orgId": "A"}, "students": [NaN]}',
     "invalid_json"),
    ("invalid UTF-8", b'{"school": {"orgName": "\xe9\x94\x21"}}',
     "invalid_encoding"),
    ("deep", b"[" * 10000 + b"]" * 10000, "payload_too_deep"),
    ("NUL", b'{"school": {"orgId": "A\\u0000B"}}', "invalid_json"),
    ("not json", b"school=1", "invalid_json"),
])
def test_hostile_json(gw, client, name, body, code):
    n = gw
    c = client(n)
    r = W.push(c, "smartcampus", body)
    refused(n, r, 400, code)
    still_serving(n, c)


def test_payload_the_plugin_refuses(gw, client):
    n = gw
    c = client(n)
    r = W.push(c, "smartcampus", b'{"students": []}')
    refused(n, r, 422, "vendor_payload_rejected",
            r'batch smartcampus-\S+ of "smartcampus" refused whole: plugin '
            r'"smartcampus" refused the payload')


def test_body_limits(gw, client):
    n = gw
    c = client(n)
    tok = W.token(c, "smartcampus")
    big = W.ROSTER.read_bytes()
    assert len(big) > 1024

    r = c.post("/std/v1/push/small", big, "application/json",
               headers={"Authorization": "Bearer " + tok})
    refused(n, r, 413, "payload_too_large")

    # chunked: no Content-Length to judge by, the body itself is measured
    conn = http.client.HTTPConnection("127.0.0.1", n.port, timeout=15)
    conn.request("POST", "/std/v1/push/small",
                 body=(big[i:i + 500] for i in range(0, len(big), 500)),
                 headers={"Authorization": "Bearer " + tok,
                          "Content-Type": "application/json",
                          "Transfer-Encoding": "chunked"},
                 encode_chunked=True)
    resp = conn.getresponse()
    r = Response(resp.status, resp.reason, resp.headers, resp.read())
    conn.close()
    refused(n, r, 413, "payload_too_large")
    still_serving(n, c)


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/xml",
                                   "application/jsonx", "multipart/form-data"])
def test_content_type(gw, client, ctype):
    n = gw
    c = client(n)
    h = {"Authorization": "Bearer " + W.token(c, "smartcampus")}
    if ctype:
        h["Content-Type"] = ctype
    r = c.request("POST", "/std/v1/push/smartcampus",
                  body=W.ROSTER.read_bytes(), headers=h)
    refused(n, r, 415, "unsupported_media_type")


def test_wrong_method(gw, client):
    n = gw
    c = client(n)
    r = c.get("/std/v1/push/smartcampus",
              headers={"Authorization": "Bearer " + W.token(c,
                                                            "smartcampus")})
    refused(n, r, 405, "method_not_allowed")
    assert r.header("Allow") == "POST"


def test_plugin_that_makes_bad_records(std_gateway, test_plugin, client,
                                       redis):
    n = std_gateway(extra_http="""
    edugate_plugin badrecord %s;
    edugate_oidc_client badrecord secret=badrecord-secret-demo
        grant_types=client_credentials;
""" % test_plugin("badrecord"), extra_server="""
        location = /std/v1/push/badrecord {
            edugate_standardize badrecord students;
            edugate_standardize_forward /_datacenter/badrecord;
        }""")
    c = client(n)
    tok = W.token(c, "badrecord", "badrecord-secret-demo")
    r = c.post("/std/v1/push/badrecord", b'{"people": [{"id": "p1"}]}',
               "application/json", headers={"Authorization": "Bearer " + tok})
    refused(n, r, 422, "plugin_output_invalid",
            r'batch badrecord-\S+ of "badrecord" refused whole: plugin '
            r'"badrecord": to_standard\(students\) made a record the '
            r'standard cannot take')
    assert "badrecord" in r.json()["message"]
    assert not list(redis.client().scan_iter("eg:std:*"))

    # the gateway goes on
    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    assert r.status == 200, r.text
