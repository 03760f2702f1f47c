"""Pins vendor pushes (edugate_standardize) through real nginx and Redis:
the worked examples of the data standard (section 5) pushed as the
vendors send them (smartcampus JSON, yuejuan GBK XML) give exactly the
violations the standard lists; enforce mode forwards the accepted
records only, observe mode everything; the data center gets the
standardized batch (unified ids, no identity number in clear), valid
against schemas/std/v1/batch.xsd as lxml reads it; only the named
vendor's client_credentials token may push."""

import json

from expect import expect_error, expect_log
from test_bearer import keys  # noqa: F401  (fixture)
from std_world import std_gateway  # noqa: F401  (fixture)
import std_world as W


def test_vendor_a_roster(std_gateway, client, redis):
    """DATA-STANDARD 5.1: the smartcampus roster, exactly its violations."""
    W.seed_district(redis)
    n = std_gateway()
    c = client(n)

    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    assert r.status == 200, r.text
    report = r.json()

    assert W.violations(report) == {
        ("u_88214", "name", "R26", "I"),
        ("u_88214", "birthDate", "R06", "E"),
        ("u_88214", "studentRegNo", "R11", "I"),
        ("u_88214", "enrolmentStatus", "R20", "I"),
        ("u_88215", "idNumber", "R02", "E"),
        ("u_88215", "studentRegNo", "R09", "W"),
        ("u_88215", "homeroomClassId", "R21a", "E"),
    }, json.dumps(report, ensure_ascii=False, indent=1)
    assert len(report["violations"]) == 7
    t = report["totals"]
    assert (t["records"], t["accepted"], t["rejected"]) == (6, 4, 2)
    assert (t["E"], t["W"], t["I"]) == (3, 1, 3)
    assert (t["forwarded"], t["dropped"]) == (4, 2)
    assert report["mode"] == "enforce" and report["vendor"] == "smartcampus"
    assert report["forward"] == "accepted"

    # every field of the report format, personal values masked
    v = {x["ruleId"]: x for x in report["violations"]}
    assert set(v["R02"]) == {"vendorLocalId", "unifiedId", "entity", "field",
                             "ruleId", "severity", "actual", "expected",
                             "message_zh", "message_en"}
    assert v["R02"]["actual"] == "5101**********2116"
    assert v["R21a"]["actual"] == "C202103"
    assert v["R26"]["message_zh"] and v["R26"]["message_en"]
    assert "510112201602182116" not in r.text

    # the data center got the accepted records, standardized
    got = n.datacenter.wait_requests(1)
    assert len(got) == 1, got
    req = got[0]
    assert req["method"] == "POST" and req["path"] == "/ingest/smartcampus"
    assert req["headers"]["content-type"].startswith("application/json")
    assert req["headers"]["x-edugate-vendor"] == "smartcampus"
    assert "authorization" not in req["headers"]
    batch = json.loads(req["body"])
    assert req["headers"]["x-edugate-batch-id"] == batch["batchId"]
    assert req["headers"]["x-edugate-mode"] == "enforce"
    assert batch["feed"] == "bulk" and "mode" not in batch
    assert [s["id"] for s in batch["orgs"]] == [W.SCHOOL]
    assert batch["orgs"][0]["parentId"] == W.DISTRICT
    assert [s["id"] for s in batch["academicSessions"]] == [W.TERM]
    # completed from the district's calendar
    assert batch["academicSessions"][0]["startDate"] == "2024-09-01"
    students = batch["students"]
    assert [s["source"]["vendorLocalId"] for s in students] == ["u_88213"]
    s = students[0]
    assert s["id"] == W.uid("student|G510104201605120323")
    assert s["schoolId"] == W.SCHOOL
    assert s["homeroomClassId"] == batch["classes"][0]["id"]
    assert batch["classes"][0]["id"] == W.uid(
        "class|%s|2024-2025|homeroom|03|02" % W.SCHOOL)
    assert "idNumber" not in s and len(s["idNumberHmac"]) == 64
    assert W.xsd_errors(batch) == []
    assert "510104201605120323" not in req["body"].replace(
        "G510104201605120323", "")

    # the registry learned the accepted records, without personal data
    rc = redis.client()
    stored = json.loads(rc.get("eg:std:rec:students:" + s["id"]))
    assert stored["studentRegNo"] == "G510104201605120323"
    assert "name" not in stored and "birthDate" not in stored
    assert rc.get("eg:std:xw:smartcampus:JJQJYJ:students:u_88213") == \
        s["id"].encode()
    n.watch.wait_for(r'edugate: batch smartcampus-\d{14}-[0-9a-f]{8} of '
                     r'"smartcampus": 6 records, 2 rejected, 4 forwarded')


def test_vendor_b_scores(std_gateway, client, redis):
    """DATA-STANDARD 5.2: the yuejuan GBK export, exactly its violations,
    with the student of record 2 registered before (default policy)."""
    W.seed_district(redis)
    W.seed_exam_world(redis)
    n = std_gateway()
    c = client(n)

    r = W.push(c, "yuejuan", W.SCORES.read_bytes())
    assert r.status == 200, r.text
    report = r.json()
    assert W.violations(report) == {
        ("250302018", "examStatus", "R20", "W"),
        ("250302031", "score", "R23", "E"),
        ("250302031", "studentId", "R21f", "E"),
    }, json.dumps(report, ensure_ascii=False, indent=1)

    batch = json.loads(n.datacenter.wait_requests(1)[0]["body"])
    assert W.xsd_errors(batch) == []
    li = batch["lineItems"][0]
    assert li["courseId"] == W.COURSE_YW3 and li["termId"] == W.TERM
    assert "schoolCode" not in li and "gradeLevel" not in li
    results = {x["source"]["vendorLocalId"]: x for x in batch["results"]}
    assert set(results) == {"250302017", "250302018"}
    assert results["250302018"]["studentId"] == \
        "55065013-546c-485f-8c37-daf5bf973096"
    assert "studentName" not in results["250302017"]


def test_roster_then_scores_strict(std_gateway, client, redis):
    """5.1 then 5.2 on one registry: the student rejected in 5.1 never
    registered, so her result gets R21f too (the strict policy)."""
    W.seed_district(redis)
    W.seed_exam_world(redis, l_student=None)
    n = std_gateway()
    c = client(n)

    assert W.push(c, "smartcampus", W.ROSTER.read_bytes()).status == 200
    r = W.push(c, "yuejuan", W.SCORES.read_bytes())
    assert r.status == 200, r.text
    assert W.violations(r.json()) == {
        ("250302018", "examStatus", "R20", "W"),
        ("250302018", "studentId", "R21f", "E"),
        ("250302031", "score", "R23", "E"),
        ("250302031", "studentId", "R21f", "E"),
    }, r.text
    # one unified id for the L number, whoever names it
    l_id = redis.client().get("eg:std:nk:student|L510104201603067394")
    assert any(v["unifiedId"] and v["vendorLocalId"] == "250302018"
               for v in r.json()["violations"])
    assert redis.client().get(
        "eg:std:xw:smartcampus:JJQJYJ:students:u_88214") == l_id


def test_observe_forwards_everything(std_gateway, client, redis):
    W.seed_district(redis)
    n = std_gateway(mode="observe")
    c = client(n)

    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    assert r.status == 200, r.text
    report = r.json()
    assert report["mode"] == "observe"
    assert report["totals"]["rejected"] == 2
    assert report["totals"]["forwarded"] == 6
    batch = json.loads(n.datacenter.wait_requests(1)[0]["body"])
    assert len(batch["students"]) == 3
    # the registry keeps accepted records only, whatever the mode
    keys = list(redis.client().scan_iter("eg:std:rec:students:*"))
    assert len(keys) == 1


def test_data_center_failure_imports_nothing(std_gateway, client, redis):
    W.seed_district(redis)
    n = std_gateway(dc_status=500)
    c = client(n)

    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    expect_error(r, 502, "forward_failed", want_json=True)
    assert r.json()["forward"] == "failed"
    expect_log(n.watch, "forward_failed", "the data center answered 500")
    rc = redis.client()
    assert not list(rc.scan_iter("eg:std:rec:students:*"))
    assert not list(rc.scan_iter("eg:std:conf:*"))


def test_forward_location_too_small(std_gateway, client, redis):
    """nginx holds the forwarded batch to the forward location's
    client_max_body_size: the push fails whole, and the log says where
    to look."""
    W.seed_district(redis)
    n = std_gateway(forward_max_body="1k")
    c = client(n)

    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    expect_error(r, 502, "forward_failed", want_json=True)
    expect_log(n.watch, "forward_failed", "the data center answered 413")
    n.watch.wait_for(r"client_max_body_size is below the batch")
    assert n.datacenter.requests() == []
    assert not list(redis.client().scan_iter("eg:std:rec:students:*"))


def test_only_the_vendors_token(std_gateway, client, login):
    n = std_gateway()
    c = client(n)
    body = W.ROSTER.read_bytes()

    # no token: 401, never the login page
    r = c.post("/std/v1/push/smartcampus", body, "application/json")
    expect_error(r, 401, "token_required", want_json=True)
    assert r.header("WWW-Authenticate", "").startswith("Bearer")
    expect_log(n.watch, "token_required")

    # another vendor's token
    r = W.push(c, "smartcampus", body, tok=W.token(c, "yuejuan"))
    expect_error(r, 403, "client_not_allowed", want_json=True)
    expect_log(n.watch, "client_not_allowed", 'the token of client "yuejuan"')

    # a token that is not one
    r = W.push(c, "smartcampus", body, tok="not.a.token")
    expect_error(r, 401, "invalid_token", want_json=True)

    # a person's session is no vendor
    assert login(c, "itadmin", "ItAdmin-Passw0rd").status == 302
    r = c.post("/std/v1/push/smartcampus", body, "application/json",
               headers={"Accept": "application/json"})
    expect_error(r, 403, "access_denied", want_json=True)

    assert n.datacenter.requests() == []


def test_whole_roster_enrollments_follow_their_students(std_gateway, client,
                                                         redis):
    """The whole roster (`*`, enrollments too): the enrollment of a
    rejected student is rejected with her, so the data center gets the
    one enrollment of the canonical result of 5.1."""
    W.seed_district(redis)
    n = std_gateway(roster="*")
    c = client(n)

    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    assert r.status == 200, r.text
    got = W.violations(r.json())
    assert got - {
        ("u_88214", "name", "R26", "I"),
        ("u_88214", "birthDate", "R06", "E"),
        ("u_88214", "studentRegNo", "R11", "I"),
        ("u_88214", "enrolmentStatus", "R20", "I"),
        ("u_88215", "idNumber", "R02", "E"),
        ("u_88215", "studentRegNo", "R09", "W"),
        ("u_88215", "homeroomClassId", "R21a", "E"),
    } == {
        ("C202102|u_88214", "personId", "R21c", "E"),
        ("C202103|u_88215", "classId", "R21a", "E"),
    }, r.text

    batch = json.loads(n.datacenter.wait_requests(1)[0]["body"])
    assert W.xsd_errors(batch) == []
    [enr] = batch["enrollments"]
    assert enr["personId"] == W.uid("student|G510104201605120323")
    assert enr["classId"] == batch["classes"][0]["id"]
    assert enr["schoolId"] == W.SCHOOL
    assert enr["id"] == W.uid("enr|%s|%s|student|" % (enr["classId"],
                                                      enr["personId"]))


def test_xsd_layer(std_gateway, client, redis):
    """A record the rules accept and the standard's XSD refuses (a 学号
    over 30 characters) is rejected with rule XSD and libxml2's reason."""
    W.seed_district(redis)
    n = std_gateway()
    c = client(n)

    doc = json.loads(W.ROSTER.read_text(encoding="utf-8"))
    doc["students"][0]["stuNo"] = "2022020117" + "-x" * 15
    r = W.push(c, "smartcampus", json.dumps(doc).encode())
    assert r.status == 200, r.text
    [xsd] = [v for v in r.json()["violations"] if v["ruleId"] == "XSD"]
    assert (xsd["vendorLocalId"], xsd["field"], xsd["severity"]) == \
        ("u_88213", "studentNo", "E")
    assert "maxLength" in xsd["message_en"] and xsd["message_zh"]
    batch = json.loads(n.datacenter.wait_requests(1)[0]["body"])
    assert "students" not in batch or batch["students"] == []
