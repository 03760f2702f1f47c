"""Pins the standard pull (edugate_std_pull) through real nginx, Redis and
slapd: GET /std/v1/<entity> asks the smartcampus backend (the demo's
vendor application) for what the plugin's to_vendor hook builds, and the
answer is standardized as a push would be (unified ids equal to a push's,
rules, XSD, enforce and observe), rendered as OneRoster 1.2 JSON with
metadata.cn.* fields or as XML valid against schemas/std/v1/batch.xsd
(lxml), with the masked report; the conformance counters move.  Policy:
district IT and the data center's client token only; bad queries, unknown
entities, unacceptable formats and every way a vendor can fail get their
codes; a slow vendor holds no other request.  Paging as OneRoster 1.2
has it: limit and offset are the gateway's (never the vendor's), the
page cut in the vendor's order, X-Total-Count and the Link header's
first/prev/next/last, the report of the whole collection on every
page."""

import json
import re
import socket
import urllib.parse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lxml import etree

from expect import expect_error, expect_log
from servers import (REPO, VendorBackend, free_port, std_pull_conf)
from test_bearer import keys  # noqa: F401  (fixture)
from std_world import std_gateway  # noqa: F401  (fixture)
import std_world as W

SCHOOL_CODE = "2151049901"
STUDENTS = "/std/v1/students?school=%s" % SCHOOL_CODE
ITADMIN = ("itadmin", "ItAdmin-Passw0rd")
STU = ("stu01", "Stu01-Passw0rd")


@pytest.fixture(scope="module")
def smartcampus(tmp_path_factory):
    b = VendorBackend(tmp_path_factory.mktemp("smartcampus"), free_port(),
                      "smartcampus")
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def yuejuan(tmp_path_factory):
    b = VendorBackend(tmp_path_factory.mktemp("yuejuan"), free_port(),
                      "yuejuan")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def pull_gateway(std_gateway, smartcampus, yuejuan, plugin_path):  # noqa
    """pull_gateway(mode="enforce", port=<the smartcampus backend>,
    max_body=None, upstream_extra="") -> a gateway with the demo's pull
    locations (smartcampus, and yuejuan's results) next to the push
    locations."""

    def make(mode="enforce", port=None, max_body=None, upstream_extra="",
             extra_http="", extra_server=""):
        http, server = std_pull_conf(port or smartcampus.port, mode=mode,
                                     max_body=max_body,
                                     upstream_extra=upstream_extra,
                                     yuejuan_port=yuejuan.port)
        return std_gateway(extra_http=http + extra_http,
                           extra_server=server + extra_server)

    return make


def bearer(c, client_id="datacenter"):
    return {"Authorization": "Bearer " + W.token(c, client_id)}


def pull(c, path=STUDENTS, accept=None, headers=None):
    h = dict(headers or {})
    if accept is not None:
        h["Accept"] = accept
    if "Authorization" not in h:
        h.update(bearer(c))
    return c.get(path, headers=h)


def report_of(body):
    return body["metadata"]["cn"]


class _Backend(BaseHTTPRequestHandler):
    """A vendor backend that fails in the way the test asks."""

    def do_GET(self):
        how = self.server.how
        if how == "slow":
            time.sleep(self.server.delay)
            how = "ok"
        if how == "500":
            body = b'{"error": "database down"}'
            status = 500
        elif how == "garbage":
            body = b"<html><body>maintenance</body></html>"
            status = 200
        elif how == "huge":
            body = (b'{"school": {"moeCode": "2151049901"}, "pad": "'
                    + b"x" * (3 * 1024 * 1024) + b'"}')
            status = 200
        elif how == "short":
            # announces more than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(W.ROSTER.read_bytes()[:500])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        elif how == "people":
            body = b'{"people": [{"id": "p1"}]}'
            status = 200
        elif how == "not-a-roster":
            body = b'{"code": 0, "data": []}'
            status = 200
        else:
            body = W.ROSTER.read_bytes()
            status = 200
        self.server.seen.append(self.path)
        self.server.headers.append({k.lower(): v
                                    for k, v in self.headers.items()})
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        pass


@pytest.fixture
def backend():
    """backend(how, delay=0) -> a loopback server answering every GET
    the way named: "500", "garbage", "huge", "short", "not-a-roster",
    "people" (the test plugin's format), "slow"."""
    servers = []

    def make(how, delay=0.0):
        srv = ThreadingHTTPServer(("127.0.0.1", free_port()), _Backend)
        srv.daemon_threads = True
        srv.how, srv.delay, srv.seen, srv.headers = how, delay, [], []
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_students_json_oneroster(pull_gateway, client, redis):
    """The demo's pull: the 5.1 roster from the backend, OneRoster users
    of the accepted students, the report of all three."""
    W.seed_district(redis)
    n = pull_gateway()
    c = client(n)

    r = pull(c)
    assert r.status == 200, r.text
    assert r.header("Content-Type").startswith("application/json")
    body = r.json()

    users = body["users"]
    assert [u["metadata"]["cn"]["src"]["vendorLocalId"] for u in users] \
        == ["u_88213"]
    u = users[0]
    assert list(u)[:2] == ["sourcedId", "status"]
    assert u["sourcedId"] == W.uid("student|G510104201605120323")
    assert u["dateLastModified"].endswith("Z")
    assert u["status"] == "active" and u["enabledUser"] is True
    assert (u["familyName"], u["givenName"]) == ("李", "思雨")
    assert u["identifier"] == "G510104201605120323"
    assert {"type": "XJH", "identifier": "G510104201605120323"} \
        in u["userIds"]
    assert {"type": "XH", "identifier": "2022020117"} in u["userIds"]
    assert u["grades"] == ["03"]
    assert u["roles"] == [{"roleType": "primary", "role": "student",
                           "org": {"href": "/std/v1/orgs/" + W.SCHOOL,
                                   "sourcedId": W.SCHOOL, "type": "org"}}]
    assert u["primaryOrg"]["sourcedId"] == W.SCHOOL
    cn = u["metadata"]["cn"]
    assert cn["xm"] == "李思雨" and cn["mzm"] == "01" and cn["xbm"] == "2"
    assert cn["csrq"] == "2016-05-12" and cn["xsdqztm"] == "01"
    assert len(cn["sfzjhHmac"]) == 64
    assert cn["bj"]["type"] == "class"
    assert "idNumber" not in json.dumps(users)
    assert "510104201605120323" not in r.text.replace(
        "G510104201605120323", "")

    rep = report_of(body)
    assert rep["vendor"] == "smartcampus" and rep["mode"] == "enforce"
    assert rep["entity"] == "students"
    assert rep["batchId"] == r.header("X-Edugate-Batch-Id")
    t = rep["totals"]
    assert (t["records"], t["accepted"], t["rejected"], t["returned"]) \
        == (3, 1, 2, 1)
    assert W.violations(rep) == {
        ("u_88214", "name", "R26", "I"),
        ("u_88214", "birthDate", "R06", "E"),
        ("u_88214", "studentRegNo", "R11", "I"),
        ("u_88214", "enrolmentStatus", "R20", "I"),
        ("u_88215", "idNumber", "R02", "E"),
        ("u_88215", "studentRegNo", "R09", "W"),
        ("u_88215", "homeroomClassId", "R21a", "E"),
    }
    v = {x["ruleId"]: x for x in rep["violations"]}
    assert v["R02"]["actual"] == "5101**********2116"
    assert "510112201602182116" not in r.text


def test_students_xml_valid(pull_gateway, client, redis):
    """Accept: application/xml: the canonical batch of batch.xsd with the
    report element, valid as lxml reads the schema."""
    W.seed_district(redis)
    n = pull_gateway()
    c = client(n)

    for accept in ("application/xml", "text/xml",
                   "application/json;q=0.5, application/xml"):
        r = pull(c, accept=accept)
        assert r.status == 200, r.text
        assert r.header("Content-Type").startswith("application/xml")
        assert r.header("Vary") == "Accept"

    doc = etree.fromstring(r.body)
    schema = etree.XMLSchema(etree.parse(
        str(REPO / "schemas" / "std" / "v1" / "batch.xsd")))
    assert schema.validate(doc), schema.error_log

    ns = {"s": W.STD_NS}
    ids = doc.xpath("/s:batch/s:students/s:item/s:id/text()", namespaces=ns)
    assert ids == [W.uid("student|G510104201605120323")]
    assert doc.xpath("/s:batch/s:vendorId/text()", namespaces=ns) \
        == ["smartcampus"]
    assert doc.xpath("//s:idNumber", namespaces=ns) == []
    assert len(doc.xpath("//s:students/s:item/s:idNumberHmac/text()",
                         namespaces=ns)[0]) == 64
    rules = doc.xpath("/s:batch/s:report/s:violations/s:item/s:ruleId"
                      "/text()", namespaces=ns)
    assert sorted(rules) == sorted(["R26", "R06", "R11", "R20", "R02",
                                    "R09", "R21a"])
    assert doc.xpath("/s:batch/s:report/s:totals/s:returned/text()",
                     namespaces=ns) == ["1"]
    assert "510112201602182116" not in r.text


def test_results_from_yuejuan(pull_gateway, client, redis):
    """The marking system's GBK XML export, pulled by exam: its results
    as OneRoster results with the violations of DATA-STANDARD 5.2, ids
    as a push of the export gets them."""
    W.seed_district(redis)
    W.seed_exam_world(redis)
    n = pull_gateway()
    c = client(n)

    r = pull(c, "/std/v1/results?examId=EX-2025-0107-G3&subjectCode=YW")
    assert r.status == 200, r.text
    body = r.json()
    results = {x["metadata"]["cn"]["src"]["vendorLocalId"]: x
               for x in body["results"]}
    assert set(results) == {"250302017", "250302018"}
    x = results["250302017"]
    assert x["score"] == 92.5 and x["scoreStatus"] == "fully graded"
    assert x["student"]["type"] == "user"
    assert x["student"]["sourcedId"] == W.uid("student|G510104201605120323")
    assert x["lineItem"]["type"] == "lineItem"
    assert x["metadata"]["cn"]["ksxzm"] == "01"
    assert W.violations(report_of(body)) == {
        ("250302018", "examStatus", "R20", "W"),
        ("250302031", "score", "R23", "E"),
        ("250302031", "studentId", "R21f", "E"),
    }

    r = pull(c, "/std/v1/lineItems?examId=EX-2025-0107-G3")
    assert r.status == 200, r.text
    li = r.json()["lineItems"][0]
    assert li["sourcedId"] == x["lineItem"]["sourcedId"]
    assert li["academicSession"]["sourcedId"] == W.TERM
    assert li["metadata"]["cn"]["kcm"] == "13"
    assert li["resultValueMax"] == 100

    # the push of the same export names the results alike
    r = W.push(c, "yuejuan", W.SCORES.read_bytes())
    assert r.status == 200, r.text
    batch = json.loads(n.datacenter.wait_requests(1)[0]["body"])
    assert {x["id"] for x in batch["results"]} == \
        {x["sourcedId"] for x in results.values()}

    r = pull(c, "/std/v1/results?examId=EX-2099")
    expect_error(r, 502, "vendor_failed")
    r = pull(c, "/std/v1/results")
    expect_error(r, 400, "invalid_query")
    assert "examId" in r.json()["message"]


def test_ids_equal_a_push(pull_gateway, client, redis):
    """A pull and a push of the same records name them with the same
    unified ids, whichever comes first; the pull teaches the registry
    nothing."""
    W.seed_district(redis)
    n = pull_gateway()
    c = client(n)
    before = set(redis.client().keys("eg:std:rec:*"))

    r = pull(c, "/std/v1/classes?school=%s" % SCHOOL_CODE)
    assert r.status == 200, r.text
    pulled_class = r.json()["classes"][0]["sourcedId"]
    r = pull(c, "/std/v1/orgs?school=%s" % SCHOOL_CODE)
    assert [o["sourcedId"] for o in r.json()["orgs"]] == [W.SCHOOL]
    assert r.json()["orgs"][0]["identifier"] == SCHOOL_CODE
    assert r.json()["orgs"][0]["metadata"]["cn"]["xzqhm"] == "510104"
    assert r.json()["orgs"][0]["type"] == "school"
    assert set(redis.client().keys("eg:std:rec:*")) == before

    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    assert r.status == 200, r.text
    batch = json.loads(n.datacenter.wait_requests(1)[0]["body"])
    assert batch["classes"][0]["id"] == pulled_class
    assert batch["students"][0]["id"] == W.uid(
        "student|G510104201605120323")

    r = pull(c)
    assert [u["sourcedId"] for u in r.json()["users"]] \
        == [batch["students"][0]["id"]]
    r = pull(c, "/std/v1/enrollments?school=%s" % SCHOOL_CODE)
    e = r.json()["enrollments"]
    assert [x["class"]["sourcedId"] for x in e] == [pulled_class]
    assert e[0]["user"]["href"] == "/std/v1/users/" + \
        batch["students"][0]["id"]
    assert e[0]["role"] == "student"


def test_observe_returns_all(pull_gateway, client, redis):
    """mode=observe returns the rejected records too, with the same
    report; XML leaves out what the schema refuses and counts it."""
    W.seed_district(redis)
    n = pull_gateway(mode="observe")
    c = client(n)

    r = pull(c)
    assert r.status == 200, r.text
    body = r.json()
    assert sorted(u["metadata"]["cn"]["src"]["vendorLocalId"]
                  for u in body["users"]) == ["u_88213", "u_88214",
                                              "u_88215"]
    rep = report_of(body)
    assert rep["mode"] == "observe"
    assert (rep["totals"]["rejected"], rep["totals"]["returned"]) == (2, 3)
    # 阿依古丽·买买提: given name first
    aygul = [u for u in body["users"]
             if u["metadata"]["cn"]["src"]["vendorLocalId"] == "u_88214"][0]
    assert (aygul["givenName"], aygul["familyName"]) == ("阿依古丽", "买买提")

    r = pull(c, accept="application/xml")
    assert r.status == 200, r.text
    doc = etree.fromstring(r.body)
    schema = etree.XMLSchema(etree.parse(
        str(REPO / "schemas" / "std" / "v1" / "batch.xsd")))
    assert schema.validate(doc), schema.error_log
    ns = {"s": W.STD_NS}
    got = len(doc.xpath("//s:students/s:item", namespaces=ns))
    omitted = doc.xpath("//s:report/s:totals/s:omitted/text()",
                        namespaces=ns)
    assert got + int(omitted[0]) == 3


def test_counters_move(pull_gateway, client, redis, login):
    """Each pull counts for its vendor and school, as a push does; the
    pages after the first of a paged pull do not count again."""
    W.seed_district(redis)
    n = pull_gateway()
    c = client(n)

    key = "eg:std:conf:smartcampus:%s" % SCHOOL_CODE
    assert redis.client().hget(key, "batches") is None
    assert pull(c).status == 200
    assert pull(c).status == 200
    h = {k.decode(): int(v) for k, v in redis.client().hgetall(key).items()}
    assert h["batches"] == 2 and h["R02:E"] == 2 and h["R06:E"] == 2

    # the pages after the first are the same pull again: not counted
    assert pull(c, STUDENTS + "&limit=1").status == 200
    assert pull(c, STUDENTS + "&limit=1&offset=1").status == 200
    assert pull(c, STUDENTS + "&limit=1&offset=5").status == 200
    h = {k.decode(): int(v) for k, v in redis.client().hgetall(key).items()}
    assert h["batches"] == 3 and h["R02:E"] == 3 and h["R06:E"] == 3

    a = client(n)
    assert login(a, *ITADMIN).status == 302
    r = a.get("/edugate/conformance?vendor=smartcampus",
              headers={"Accept": "application/json"})
    assert r.status == 200, r.text
    assert r.json()["vendors"][0]["rules"]["R02:E"] == 3


def test_policy(pull_gateway, client, login, redis):
    """District IT's session and the data center's token are let in; a
    student is refused, nobody at all asked to authenticate (never sent
    to a login page: this is an API), a vendor's token is refused."""
    W.seed_district(redis)
    n = pull_gateway()

    c = client(n)
    r = c.get(STUDENTS)
    expect_error(r, 401, "login_required")
    assert r.header("Location") is None
    assert r.json()["error"] == "login_required"
    r = c.get(STUDENTS, headers={"Accept": "application/xml"})
    expect_error(r, 401, "login_required")

    s = client(n)
    assert login(s, *STU).status == 302
    r = s.get(STUDENTS)
    expect_error(r, 403, "access_denied")

    a = client(n)
    assert login(a, *ITADMIN).status == 302
    r = a.get(STUDENTS)
    assert r.status == 200, r.text
    assert r.json()["users"]

    v = client(n)
    r = pull(v, headers=bearer(v, "smartcampus"))
    expect_error(r, 403, "client_not_allowed")

    r = pull(v, headers={"Authorization": "Bearer abc.def.ghi"})
    assert r.status == 401 and r.header("X-Edugate-Error") == \
        "invalid_token"

    assert pull(v).status == 200


def test_bad_requests(pull_gateway, client):
    """Filters, entity, Accept and method are checked before the vendor
    is asked."""
    n = pull_gateway()
    c = client(n)
    h = bearer(c)

    bad = [
        "/std/v1/students?school=1&school=2",
        "/std/v1/students?sch%20ool=1",
        "/std/v1/students?school=%ZZ",
        "/std/v1/students?school=a%00b",
        "/std/v1/students?school=%ff%fe",
        "/std/v1/students?school=" + "9" * 300,
        "/std/v1/students?" + "&".join("f%d=1" % i for i in range(17)),
        "/std/v1/students?" + "x" * 40 + "=1",
        # the plugin's own verdict: no school named
        "/std/v1/students?semester=2024-2025-1",
    ]
    for path in bad:
        r = pull(c, path, headers=h)
        expect_error(r, 400, "invalid_query")
        assert r.json()["error"] == "invalid_query"
    expect_log(n.watch, "invalid_query", "filter \"school\" is given twice")

    for path in ("/std/v1/teachers", "/std/v1/courses",
                 "/std/v1/students/extra", "/std/v1/"):
        r = pull(c, path + "?school=" + SCHOOL_CODE, headers=h)
        expect_error(r, 404, "unknown_entity")
    expect_log(n.watch, "unknown_entity")

    for accept in ("text/html", "application/xml;q=0, text/csv",
                   "image/png"):
        r = pull(c, accept=accept, headers=h)
        expect_error(r, 406, "not_acceptable")
    expect_log(n.watch, "not_acceptable")

    r = c.post(STUDENTS, "{}", "application/json", headers=h)
    expect_error(r, 405, "method_not_allowed")
    assert "GET" in r.header("Allow")



def links(r):
    """The Link header as {rel: (path, {arg: value})}: one header, each
    target the request's path with its arguments."""
    assert len(r.header_all("Link")) == 1, r.headers
    value = r.header("Link")
    out = {}
    for part in value.split(", "):
        m = re.fullmatch(r'<(/[^>?]*)\?([^>]*)>; rel="(first|prev|next|last)"',
                         part)
        assert m, value
        assert m.group(3) not in out, value
        args = urllib.parse.parse_qs(m.group(2), keep_blank_values=True,
                                     strict_parsing=True)
        assert all(len(v) == 1 for v in args.values()), value
        out[m.group(3)] = (m.group(1), {k: v[0] for k, v in args.items()})
    return out


def target(link):
    path, args = link
    return path + "?" + urllib.parse.urlencode(args)


def ids(r):
    return [u["sourcedId"] for u in r.json()["users"]]


def test_paging_default(pull_gateway, client, redis):
    """No limit, no offset: OneRoster's first page of 100, the whole
    collection here; the headers say so, the filters stay in the links."""
    W.seed_district(redis)
    n = pull_gateway()
    c = client(n)

    r = pull(c)
    assert r.status == 200, r.text
    assert len(ids(r)) == 1
    assert r.header("X-Total-Count") == "1"
    page = {"school": SCHOOL_CODE, "limit": "100", "offset": "0"}
    assert links(r) == {"first": ("/std/v1/students", page),
                        "last": ("/std/v1/students", page)}
    assert r.header("Link").startswith(
        "</std/v1/students?school=%s&limit=100&offset=0>; rel=\"first\""
        % SCHOOL_CODE)
    rep = report_of(r.json())
    assert rep["totals"]["returned"] == 1

    # an answer that is not the pull's own carries no paging
    r = pull(c, "/std/v1/teachers?school=" + SCHOOL_CODE)
    expect_error(r, 404, "unknown_entity")
    assert r.header("X-Total-Count") is None and r.header("Link") is None


def test_paging_walk(pull_gateway, client, redis):
    """Following next from the first page, at any page size, gives every
    record once, in the vendor's order; each page counts the whole
    collection and reports on all of it."""
    W.seed_district(redis)
    n = pull_gateway(mode="observe")
    c = client(n)

    r = pull(c)
    assert r.status == 200, r.text
    everything = ids(r)
    assert len(everything) == 3 and len(set(everything)) == 3
    assert r.header("X-Total-Count") == "3"

    for limit in (1, 2, 3, 5):
        got = []
        path = "%s&limit=%d" % (STUDENTS, limit)
        pages = 0
        while path:
            r = pull(c, path)
            assert r.status == 200, r.text
            pages += 1
            page = ids(r)
            assert 0 < len(page) <= limit
            got += page
            assert r.header("X-Total-Count") == "3"
            rep = report_of(r.json())
            assert rep["totals"]["records"] == 3
            assert rep["totals"]["returned"] == 3
            assert len(rep["records"]) == 2 and len(rep["violations"]) == 7
            rel = links(r)
            assert rel["first"][1]["offset"] == "0"
            assert rel["last"][1]["offset"] == str((3 - 1) // limit * limit)
            for _, args in rel.values():
                assert args["limit"] == str(limit)
                assert args["school"] == SCHOOL_CODE
            if len(got) > len(page):
                assert int(rel["prev"][1]["offset"]) == len(got) - len(page) \
                    - limit
            else:
                assert "prev" not in rel
            path = target(rel["next"]) if "next" in rel else None
            assert pages <= 3
        assert got == everything, (limit, got)
        assert pages == -(-3 // limit)

    # offset on its own, and off the grid of the page size
    r = pull(c, STUDENTS + "&offset=1")
    assert ids(r) == everything[1:]
    assert links(r)["prev"][1] == {"school": SCHOOL_CODE, "limit": "100",
                                   "offset": "0"}
    r = pull(c, STUDENTS + "&offset=1&limit=1")
    assert ids(r) == everything[1:2]
    rel = links(r)
    assert (rel["prev"][1]["offset"], rel["next"][1]["offset"],
            rel["last"][1]["offset"]) == ("0", "2", "2")

    # the XML answer pages alike, valid against the schema
    schema = etree.XMLSchema(etree.parse(
        str(REPO / "schemas" / "std" / "v1" / "batch.xsd")))
    ns = {"s": W.STD_NS}
    got = []
    path = STUDENTS + "&limit=2"
    while path:
        r = pull(c, path, accept="application/xml")
        assert r.status == 200, r.text
        assert r.header("Content-Type").startswith("application/xml")
        doc = etree.fromstring(r.body)
        assert schema.validate(doc), schema.error_log
        got += doc.xpath("/s:batch/s:students/s:item/s:id/text()",
                         namespaces=ns)
        assert doc.xpath("//s:report/s:totals/s:records/text()",
                         namespaces=ns) == ["3"]
        omitted = int(doc.xpath("//s:report/s:totals/s:omitted/text()",
                                namespaces=ns)[0])
        assert r.header("X-Total-Count") == str(3 - omitted)
        rel = links(r)
        path = target(rel["next"]) if "next" in rel else None
    assert len(got) == len(set(got)) == 3 - omitted
    assert set(got) <= set(everything)


def test_paging_past_end(pull_gateway, client, redis):
    """An offset past the end is an empty collection, not an error; prev
    leads back to the last page."""
    W.seed_district(redis)
    n = pull_gateway(mode="observe")
    c = client(n)

    for offset in (3, 10, 1000000000):
        r = pull(c, "%s&offset=%d&limit=2" % (STUDENTS, offset))
        assert r.status == 200, r.text
        assert r.json()["users"] == []
        assert r.header("X-Total-Count") == "3"
        rel = links(r)
        assert "next" not in rel
        # the page before, or the last page when that is past the end too
        assert rel["prev"][1]["offset"] == str(min(offset - 2, 2))
        assert rel["last"][1]["offset"] == "2"
        assert report_of(r.json())["totals"]["records"] == 3

    r = pull(c, STUDENTS + "&offset=3", accept="application/xml")
    assert r.status == 200, r.text
    doc = etree.fromstring(r.body)
    assert doc.xpath("//s:students/s:item", namespaces={"s": W.STD_NS}) \
        == []


def test_paging_links_encoded(pull_gateway, client, redis):
    """Every other filter stays in the links, percent-encoded (RFC 3986
    unreserved characters only), whatever way the client wrote it."""
    W.seed_district(redis)
    n = pull_gateway(mode="observe")
    c = client(n)

    r = pull(c, STUDENTS + "&semester=2024-2025-1&x.y=%E4%B8%80+b%26c%3D"
             "&limit=1&offset=1&flag")
    assert r.status == 200, r.text
    raw = r.header("Link")
    assert ("</std/v1/students?school=%s&semester=2024-2025-1"
            "&x.y=%%E4%%B8%%80%%20b%%26c%%3D&flag=&limit=1&offset=2>; "
            "rel=\"next\"" % SCHOOL_CODE) in raw
    for _, args in links(r).values():
        assert args["x.y"] == "一 b&c="
        assert args["semester"] == "2024-2025-1"
        assert args["flag"] == ""
    # a link is a request the gateway takes as it is
    r2 = pull(c, target(links(r)["prev"]))
    assert r2.status == 200, r2.text
    assert len(ids(r2)) == 1 and r2.header("X-Total-Count") == "3"


def test_paging_bad(pull_gateway, client):
    """A limit or offset that is not a bounded non-negative integer (a
    limit of 1 to 1000) is refused before the vendor is asked."""
    n = pull_gateway()
    c = client(n)
    h = bearer(c)

    bad = [
        ("limit=0", "limit"), ("limit=1001", "limit"),
        ("limit=-1", "limit"), ("limit=abc", "limit"), ("limit=", "limit"),
        ("limit", "limit"), ("limit=%2B5", "limit"), ("limit=1e2", "limit"),
        ("limit=10%20", "limit"),
        ("limit=99999999999999999999999999", "limit"),
        ("offset=-1", "offset"), ("offset=1.5", "offset"),
        ("offset=0x10", "offset"), ("offset=1000000001", "offset"),
    ]
    for arg, name in bad:
        r = pull(c, STUDENTS + "&" + arg, headers=h)
        doc = expect_error(r, 400, "invalid_query")
        assert name in doc["message"], (arg, doc)
        assert r.header("Link") is None
    expect_log(n.watch, "invalid_query",
               r'"limit" must be an integer from 1 to 1000')
    expect_log(n.watch, "invalid_query",
               r'"offset" must be an integer from 0 to 1000000000')

    r = pull(c, STUDENTS + "&limit=1&limit=2", headers=h)
    expect_error(r, 400, "invalid_query")

    # the bounds themselves are taken
    r = pull(c, STUDENTS + "&limit=1000&offset=1000000000", headers=h)
    assert r.status == 200, r.text

    # limit and offset are not filters: 16 filters and both are taken,
    # and so is every link of that page
    path = STUDENTS + "".join("&f%d=1" % i for i in range(15))
    r = pull(c, path + "&limit=1&offset=0", headers=h)
    assert r.status == 200, r.text
    for link in links(r).values():
        assert len(link[1]) == 18
        assert pull(c, target(link), headers=h).status == 200
    r = pull(c, path + "&f15=1&limit=1", headers=h)
    expect_error(r, 400, "invalid_query")


def test_paging_not_forwarded(std_gateway, test_plugin, client,  # noqa
                              backend):
    """The plugin never sees limit or offset: the test plugin asks the
    vendor with every filter it gets, and the vendor gets the others
    only; a bad page is refused before the vendor is asked."""
    srv = backend("people")
    http, _ = std_pull_conf(srv.server_address[1])
    n = std_gateway(extra_http=http + """
    edugate_plugin badrecord %s;
""" % test_plugin("badrecord"), extra_server="""
        location /std/v1/ {
            edugate_allow_clients        datacenter;
            edugate_std_pull             badrecord students;
            edugate_std_pull_upstream    /_vendor/badrecord;
        }
        location /_vendor/badrecord/ {
            internal;
            proxy_pass  http://127.0.0.1:%d/;
        }
""" % srv.server_address[1])
    c = client(n)
    h = bearer(c)

    # the plugin's records break the standard: the vendor was asked
    r = pull(c, "/std/v1/students?a=1&limit=5&b=2&offset=7", headers=h)
    expect_error(r, 502, "plugin_output_invalid")
    r = pull(c, "/std/v1/students?limit=5&offset=0", headers=h)
    expect_error(r, 502, "plugin_output_invalid")
    r = pull(c, "/std/v1/students?Limit=5", headers=h)
    expect_error(r, 502, "plugin_output_invalid")
    assert srv.seen == ["/people?a=1&b=2", "/people", "/people?Limit=5"]

    r = pull(c, "/std/v1/students?a=1&limit=0", headers=h)
    expect_error(r, 400, "invalid_query")
    assert len(srv.seen) == 3


def test_vendor_request_no_paging(pull_gateway, client, backend, redis):
    """With smartcampus's plugin too, the vendor's request has no paging
    arguments."""
    W.seed_district(redis)
    srv = backend("ok")
    n = pull_gateway(port=srv.server_address[1])
    c = client(n)
    r = pull(c, STUDENTS + "&semester=2024-2025-1&limit=1&offset=0")
    assert r.status == 200, r.text
    assert srv.seen == ["/api/v2/roster?moeCode=2151049901"
                        "&semester=2024-2025-1"]
    assert r.header("X-Total-Count") == "1"


def test_vendor_failures(pull_gateway, client, backend, redis):
    """Whatever the vendor does wrong is a 502 with its code; nothing is
    counted."""
    cases = [
        ("500", "vendor_failed", r".*vendor \"smartcampus\" answered 500"),
        ("garbage", "invalid_json", ""),
        ("not-a-roster", "vendor_payload_rejected", ""),
        ("huge", "vendor_answer_too_large", ""),
        ("short", "vendor_failed", r".*answered 200, incomplete"),
    ]
    for how, code, log in cases:
        srv = backend(how)
        n = pull_gateway(port=srv.server_address[1], max_body="1m")
        c = client(n)
        r = pull(c)
        expect_error(r, 502, code)
        assert r.json()["error"] == code
        expect_log(n.watch, code, log)
        n.stop()

    # nobody listening
    port = free_port()
    n = pull_gateway(port=port)
    c = client(n)
    r = pull(c)
    expect_error(r, 502, "vendor_failed")
    expect_log(n.watch, "vendor_failed", r".*vendor \"smartcampus\" answered "
               r"502")
    assert not redis.client().keys("eg:std:conf:*")


def test_vendor_request(pull_gateway, client, backend, login):
    """The vendor gets the plugin's request: its path below the upstream
    location, its arguments percent-encoded, its signature headers; none
    of the client's headers."""
    srv = backend("ok")
    n = pull_gateway(port=srv.server_address[1])
    c = client(n)
    r = pull(c, STUDENTS + "&semester=2024-2025-1&x.y=%E4%B8%80%20b")
    assert r.status == 200, r.text
    assert srv.seen == ["/api/v2/roster?moeCode=2151049901"
                        "&semester=2024-2025-1"]
    h = srv.headers[0]
    assert h["x-smartcampus-user"] == "edugate-gateway"
    assert len(h["x-smartcampus-sign"]) == 64
    assert abs(int(h["x-smartcampus-ts"]) - time.time()) < 60
    assert h["accept"] == "application/json"
    for private in ("authorization", "cookie", "x-edugate-user"):
        assert private not in h, h

    # a session's cookie stays here too
    a = client(n)
    assert login(a, *ITADMIN).status == 302
    assert a.get(STUDENTS).status == 200
    assert "cookie" not in srv.headers[1], srv.headers[1]


def test_slow_vendor_blocks_nothing(pull_gateway, client, backend, redis):
    """A vendor that takes 2 s holds its own pull, not the others'."""
    W.seed_district(redis)
    srv = backend("slow", delay=2.0)
    n = pull_gateway(port=srv.server_address[1])
    c = client(n)
    tok = bearer(c)

    done = {}

    def slow():
        done["r"] = pull(client(n), headers=tok)

    t = threading.Thread(target=slow)
    start = time.monotonic()
    t.start()
    time.sleep(0.3)
    worst = 0.0
    for _ in range(10):
        t0 = time.monotonic()
        r = client(n).get("/edugate/login")
        worst = max(worst, time.monotonic() - t0)
        assert r.status == 200
    t.join(10)
    assert done["r"].status == 200, done["r"].text
    assert time.monotonic() - start >= 2.0
    assert worst < 0.5, worst



def test_plugin_faults(std_gateway, test_plugin, client, backend):  # noqa
    """to_vendor runs in the thread pool under edugate_standardize_timeout
    (504 plugin_timeout, the late answer dropped); records the plugin
    makes from the vendor's answer that the standard cannot take are the
    vendor side's fault: 502 plugin_output_invalid."""
    srv = backend("people")
    http, _ = std_pull_conf(srv.server_address[1])
    n = std_gateway(extra_http=http + """
    edugate_plugin badrecord %s;
""" % test_plugin("badrecord"), extra_server="""
        location /std/v1/ {
            edugate_allow_clients        datacenter;
            edugate_std_pull             badrecord students;
            edugate_std_pull_upstream    /_vendor/badrecord;
            edugate_standardize_timeout  1s;
        }
        location /_vendor/badrecord/ {
            internal;
            proxy_pass  http://127.0.0.1:%d/;
        }
""" % srv.server_address[1])
    c = client(n)
    h = bearer(c)

    r = pull(c, "/std/v1/students", headers=h)
    expect_error(r, 502, "plugin_output_invalid")
    expect_log(n.watch, "plugin_output_invalid",
               r'pull \S+ of "badrecord" refused whole: plugin "badrecord": '
               r'to_standard\(students\) made a record the standard cannot '
               r'take')
    assert srv.seen == ["/people"]

    t0 = time.monotonic()
    r = pull(c, "/std/v1/students?sleep_ms=2500", headers=h)
    expect_error(r, 504, "plugin_timeout")
    assert time.monotonic() - t0 < 2.0
    expect_log(n.watch, "plugin_timeout")
    assert len(srv.seen) == 1

    # the gateway goes on
    time.sleep(1.6)
    r = pull(c, "/std/v1/students", headers=h)
    expect_error(r, 502, "plugin_output_invalid")
