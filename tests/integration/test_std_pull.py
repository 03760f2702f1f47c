"""Pins the standard pull (edugate_std_pull) through real nginx, Redis and
slapd: GET /std/v1/<entity> asks the smartcampus backend (the demo's
vendor application) for what the plugin's to_vendor hook builds, and the
answer is standardized as a push would be (unified ids equal to a push's,
rules, XSD, enforce and observe), rendered as OneRoster 1.2 JSON with
metadata.cn.* fields or as XML valid against schemas/std/v1/batch.xsd
(lxml), with the masked report; the conformance counters move.  Policy:
district IT and the data center's client token only; bad queries, unknown
entities, unacceptable formats and every way a vendor can fail get their
codes; a slow vendor holds no other request."""

import json
import socket
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


@pytest.fixture
def pull_gateway(std_gateway, smartcampus, plugin_path):  # noqa: F811
    """pull_gateway(mode="enforce", port=<the smartcampus backend>,
    max_body=None, upstream_extra="") -> a gateway with the demo's pull
    location next to the push locations."""

    def make(mode="enforce", port=None, max_body=None, upstream_extra="",
             extra_http="", extra_server=""):
        http, server = std_pull_conf(port or smartcampus.port, mode=mode,
                                     max_body=max_body,
                                     upstream_extra=upstream_extra)
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
        elif how == "not-a-roster":
            body = b'{"code": 0, "data": []}'
            status = 200
        else:
            body = W.ROSTER.read_bytes()
            status = 200
        self.server.seen.append(self.path)
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
    the way named: "500", "garbage", "huge", "not-a-roster", "slow"."""
    servers = []

    def make(how, delay=0.0):
        srv = ThreadingHTTPServer(("127.0.0.1", free_port()), _Backend)
        srv.daemon_threads = True
        srv.how, srv.delay, srv.seen = how, delay, []
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
    assert u["sourcedId"] == W.uid("student|G510104201605120323")
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
