"""What the tests of the data standard in flight share: a gateway with the
smartcampus and yuejuan adapters, their OAuth2 clients, push locations and
a data center (a recording service); the district's master data seeded
into Redis in the registry's documented format (README, Redis keys); and
helpers to push and to read reports.

The ids of the seeded records are computed here with Python's own
uuid.uuid5 under the same namespace as the gateway's, so a test also
checks that the gateway derives UUIDv5 names as documented."""

import base64
import json
import uuid
import urllib.parse

import pytest

from servers import REPO, LogWatch, free_port, plugin_args

NS = uuid.UUID("bbb642f3-9b1c-4e0a-8f3d-5a7e2c6d1f40")
STD_SECRET = "district-hmac-demo-secret-0123"

# demo clients; the gateway wants secrets of 16 characters or more
CLIENTS = {
    "smartcampus": "smartcampus-secret-demo",
    "yuejuan": "yuejuan-secret-demo-0001",
}

CODES = "%s %s" % (REPO / "schemas" / "std" / "v1" / "codes",
                   REPO / "build" / "std" / "codes")

ROSTER = (REPO / "plugins" / "smartcampus" / "fixtures" / "students" /
          "roster-5.1.json")
SCORES = (REPO / "plugins" / "yuejuan" / "fixtures" / "results" /
          "scores-5.2.xml")


def uid(name):
    return str(uuid.uuid5(NS, name))


SCHOOL = uid("org|school|2151049901")
DISTRICT = uid("org|district|510104")
CITY = uid("org|city|510100")
PROVINCE = uid("org|province|510000")
YEAR = uid("session|%s|2024-2025|Y" % SCHOOL)
TERM = uid("session|%s|2024-2025|1" % SCHOOL)
COURSE_YW3 = uid("course|%s|grade|03|13" % SCHOOL)


def std_http(plugin_path, keys, issuer, extra=""):
    sc = plugin_args("smartcampus")
    yj = plugin_args("yuejuan")
    lines = [
        "edugate_issuer %s;" % issuer,
        "edugate_signing_key %s;" % keys["rsa1"].path,
        "edugate_oidc_client smartcampus secret=%s "
        "grant_types=client_credentials;" % CLIENTS["smartcampus"],
        "edugate_oidc_client yuejuan secret=%s "
        "grant_types=client_credentials;" % CLIENTS["yuejuan"],
        "edugate_plugin smartcampus %s secret=%s tenant=%s;"
        % (plugin_path("smartcampus"), sc["secret"], sc["tenant"]),
        "edugate_plugin yuejuan %s secret=%s;"
        % (plugin_path("yuejuan"), yj["secret"]),
        "edugate_std_codes %s;" % CODES,
        "edugate_std_namespace %s;" % NS,
        "edugate_std_secret %s;" % STD_SECRET,
    ]
    return "".join("    %s\n" % l for l in lines) + extra


def std_server(datacenter_port, roster="orgs,academicSessions,classes,"
               "students", mode="enforce", extra=""):
    return """
        location = /oauth2/token { edugate_oidc_token; }
        location = /std/v1/push/smartcampus {
            edugate_standardize smartcampus %s mode=%s;
            edugate_standardize_forward /_datacenter/smartcampus;
        }
        location = /std/v1/push/yuejuan {
            edugate_standardize yuejuan lineItems,results mode=%s;
            edugate_standardize_forward /_datacenter/yuejuan;
        }
        location /_datacenter/ {
            internal;
            proxy_pass http://127.0.0.1:%d/ingest/;
        }
%s""" % (roster, mode, mode, datacenter_port, extra)


def token(client, vendor, secret=None):
    cred = "%s:%s" % (vendor, secret or CLIENTS[vendor])
    r = client.post("/oauth2/token", "grant_type=client_credentials",
                    "application/x-www-form-urlencoded",
                    headers={"Authorization": "Basic " + base64.b64encode(
                        cred.encode()).decode()})
    assert r.status == 200, r.text
    return json.loads(r.text)["access_token"]


def push(client, vendor, body, content_type=None, tok=None, headers=None):
    if content_type is None:
        content_type = ("application/json" if vendor == "smartcampus"
                        else "application/xml")
    h = {"Authorization": "Bearer " + (tok or token(client, vendor))}
    h.update(headers or {})
    return client.post("/std/v1/push/" + vendor, body, content_type,
                       headers=h)


def violations(report):
    """{(vendorLocalId, field, ruleId, severity)} of a report."""
    return {(v["vendorLocalId"], v["field"], v["ruleId"], v["severity"])
            for v in report["violations"]}


def clear_registry(redis):
    c = redis.client()
    for key in c.scan_iter("eg:std:*"):
        c.delete(key)


def seed(redis, coll, rec, keys=()):
    """A record the registry knows, as a push stores it, and the natural
    keys it answers to."""
    c = redis.client()
    c.set("eg:std:rec:%s:%s" % (coll, rec["id"]), json.dumps(rec))
    for k in keys:
        c.set("eg:std:nk:" + k, rec["id"])
    for field in ("studentRegNo", "studentNo", "schoolId", "personId",
                  "classId", "lineItemId", "parentId"):
        if isinstance(rec.get(field), str):
            c.sadd("eg:std:idx:%s:%s:%s" % (coll, field, rec[field]),
                   rec["id"])


def seed_district(redis):
    """The org tree above the school and the school's calendar."""
    seed(redis, "orgs", {"id": PROVINCE, "status": "active",
                         "level": "province", "name": "四川省教育厅",
                         "divisionCode": "510000"})
    seed(redis, "orgs", {"id": CITY, "status": "active", "level": "city",
                         "name": "成都市教育局", "divisionCode": "510100",
                         "parentId": PROVINCE})
    seed(redis, "orgs", {"id": DISTRICT, "status": "active",
                         "level": "district", "name": "成都市锦江区教育局",
                         "divisionCode": "510104", "parentId": CITY},
         keys=["org|district|510104"])
    seed(redis, "academicSessions", {
        "id": YEAR, "status": "active", "type": "schoolYear",
        "schoolYear": "2024-2025", "title": "2024-2025学年",
        "startDate": "2024-09-01", "endDate": "2025-08-31",
        "orgId": SCHOOL})
    seed(redis, "academicSessions", {
        "id": TERM, "status": "active", "type": "semester",
        "schoolYear": "2024-2025", "termCode": "1",
        "title": "2024-2025学年第一学期", "startDate": "2024-09-01",
        "endDate": "2025-01-19", "parentId": YEAR, "orgId": SCHOOL})


def seed_exam_world(redis, l_student="55065013-546c-485f-8c37-daf5bf973096"):
    """What 5.2 assumes is known: the school, the grade-3 语文 course and
    the students registered earlier; with l_student, 阿依古丽 under the
    identity registered before the rejected roster of 5.1."""
    seed(redis, "orgs", {"id": SCHOOL, "status": "active",
                         "level": "school", "name": "锦江区示例实验小学",
                         "schoolCode": "2151049901",
                         "divisionCode": "510104", "schoolType": "211",
                         "stages": ["2"], "parentId": DISTRICT},
         keys=["org|school|2151049901"])
    seed(redis, "courses", {"id": COURSE_YW3, "status": "active",
                            "title": "三年级语文", "subjectCode": "13",
                            "gradeLevels": ["03"], "orgId": SCHOOL})
    seed(redis, "students", {"id": uid("student|G510104201605120323"),
                             "status": "active",
                             "studentRegNo": "G510104201605120323",
                             "schoolId": SCHOOL, "gradeLevel": "03",
                             "enrolmentStatus": "01"},
         keys=["student|G510104201605120323"])
    if l_student:
        seed(redis, "students", {"id": l_student, "status": "active",
                                 "studentRegNo": "L510104201603067394",
                                 "schoolId": SCHOOL, "gradeLevel": "03",
                                 "enrolmentStatus": "01"},
             keys=["student|L510104201603067394"])


def quote(s):
    return urllib.parse.quote(s, safe="")


@pytest.fixture
def std_gateway(gateway_factory, plugin_path, keys, notify_factory, redis):
    """std_gateway(mode="enforce", dc_status=200, roster=None,
    extra_http="", extra_server="") -> the gateway, with .datacenter (a
    recording service) and .watch (its error log).  The registry is
    cleared before and after the test."""
    clear_registry(redis)

    def make(mode="enforce", dc_status=200, roster=None, extra_http="",
             extra_server=""):
        dc = notify_factory(status=dc_status)
        port = free_port()
        issuer = "http://127.0.0.1:%d" % port
        kw = {"mode": mode, "extra": extra_server}
        if roster:
            kw["roster"] = roster
        n = gateway_factory(
            extra_http=std_http(plugin_path, keys, issuer, extra_http),
            extra_server=std_server(dc.port, **kw), port=port)
        n.datacenter = dc
        n.watch = LogWatch(n.error_log)
        return n

    yield make
    clear_registry(redis)
