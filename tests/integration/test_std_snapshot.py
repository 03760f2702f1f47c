"""Pins R29's second half through real nginx and Redis: a bulk push that
leaves out a record the data center accepted before deletes it, at a
location configured bulk=snapshot only.  The deletion is forwarded
(status tobedeleted, the unified id, valid against batch.xsd) and
reported (status "deleted", R29 W, totals.deleted); the registry's set of
seen vendor ids forgets it only once the data center answered 2xx.  Then
too, and only then, the registry's copy says tobedeleted (later pushes
see it deleted: R21a for a class) and the conformance figures count the
deletion as an R29 W of its vendor and school.  A record sent again is
active again.  A partial location deletes nothing, a delta feed deletes
nothing, a rejected record is still present, an entity the batch does
not carry is not touched."""

import json

from prometheus_client.parser import text_string_to_metric_families

from expect import JSON, expect_error, expect_log
from test_bearer import keys  # noqa: F401  (fixture)
from std_world import std_gateway  # noqa: F401  (fixture)
import std_world as W

SNAP = "/std/v1/snap/smartcampus"
SNAP_LOCATION = """
        location = %s {
            edugate_standardize          smartcampus %s bulk=snapshot;
            edugate_standardize_forward  /_datacenter/smartcampus;
        }
""" % (SNAP, W.ROSTER_5_1)

SEEN = "eg:std:seen:smartcampus:JJQJYJ:"
GONE = "u_88213"
GONE_REG = "G510104201605120323"
GONE_ID = W.uid("student|" + GONE_REG)
SCHOOL_CODE = "2151049901"
CONF = "eg:std:conf:smartcampus:" + SCHOOL_CODE


def roster(drop=(), fix_u_88214=False, no_students=False, no_class=False):
    """The 5.1 roster without some students; u_88214's birthday fixed
    (then she is accepted); with no student at all; or with another class
    in place of C202102, which its students still name."""
    d = json.loads(W.ROSTER.read_bytes())
    d["students"] = [s for s in d["students"] if s["uid"] not in drop]
    if no_class:
        d["classes"] = [dict(d["classes"][0], clsId="C202109",
                             clsName="三年级(9)班")]
    if fix_u_88214:
        for s in d["students"]:
            if s["uid"] == "u_88214":
                s["birthday"] = "2016-03-06"
    if no_students:
        del d["students"]
    return json.dumps(d, ensure_ascii=False).encode()


def post(c, path, body, query=""):
    return c.post(path + query, body, "application/json", headers={
        "Authorization": "Bearer " + W.token(c, "smartcampus")})


def seen(redis, coll="students"):
    return {k.decode(): v.decode() for k, v in
            redis.client().hgetall(SEEN + coll).items()}


def gateway(std_gateway, dc_status=200):
    return std_gateway(dc_status=dc_status, extra_server=SNAP_LOCATION)


def registry(redis, coll, id):
    """The registry's copy of a record, or None."""
    v = redis.client().get("eg:std:rec:%s:%s" % (coll, id))
    return None if v is None else json.loads(v)


def r29(n, client, login):
    """smartcampus's R29 W at the school, as /edugate/conformance (district
    IT) and /edugate/metrics show it."""
    it = client(n)
    assert login(it, "itadmin", "ItAdmin-Passw0rd").status == 302
    r = it.get("/edugate/conformance?vendor=smartcampus", headers=JSON)
    assert r.status == 200, r.text
    [v] = r.json()["vendors"]
    [school] = [s for s in v["schools"] if s["school"] == SCHOOL_CODE]
    conf = (v["rules"].get("R29:W", 0), school["rules"].get("R29:W", 0))

    r = client(n).get("/edugate/metrics")
    assert r.status == 200, r.text
    want = (("rule", "R29"), ("school", SCHOOL_CODE), ("severity", "W"),
            ("vendor", "smartcampus"))
    metric = 0
    for fam in text_string_to_metric_families(r.text):
        for smp in fam.samples:
            if (smp.name == "edugate_std_violations_total"
                    and tuple(sorted(smp.labels.items())) == want):
                metric = smp.value
    return conf + (metric,)


def test_snapshot_deletes_what_it_omits(std_gateway, client, redis):
    W.seed_district(redis)
    n = gateway(std_gateway)
    c = client(n)

    r = post(c, SNAP, roster(fix_u_88214=True))
    assert r.status == 200, r.text
    assert r.json()["totals"]["deleted"] == 0
    first = json.loads(n.datacenter.wait_requests(1)[0]["body"])
    assert "deletions" not in first
    # what the data center accepted, vendor id -> unified id
    s = seen(redis)
    assert set(s) == {"u_88213", "u_88214"} and s[GONE] == GONE_ID
    assert set(seen(redis, "classes")) == {"C202102"}

    # u_88213 left; u_88214 is rejected (R06) but still in the feed
    r = post(c, SNAP, roster(drop=[GONE]))
    assert r.status == 200, r.text
    report = r.json()
    assert report["totals"]["deleted"] == 1
    assert (W.violations(report) - {
        ("u_88214", "birthDate", "R06", "E"),
        ("u_88214", "name", "R26", "I"),
        ("u_88214", "studentRegNo", "R11", "I"),
        ("u_88214", "enrolmentStatus", "R20", "I"),
        ("u_88215", "idNumber", "R02", "E"),
        ("u_88215", "studentRegNo", "R09", "W"),
        ("u_88215", "homeroomClassId", "R21a", "E")}) == {
        (GONE, "status", "R29", "W")}, json.dumps(report, ensure_ascii=False)
    rec = [x for x in report["records"] if x["vendorLocalId"] == GONE]
    assert rec == [{"entity": "student", "vendorLocalId": GONE,
                    "unifiedId": GONE_ID, "status": "deleted", "errors": 0,
                    "warnings": 1, "infos": 0}]
    v = [x for x in report["violations"] if x["ruleId"] == "R29"][0]
    assert v["message_en"] == "omitted from a full snapshot: deleted"
    # the deletion is no record of the batch
    t = report["totals"]
    assert (t["records"], t["rejected"], t["forwarded"]) == (5, 2, 3)

    batch = json.loads(n.datacenter.wait_requests(2)[1]["body"])
    assert batch["feed"] == "bulk"
    assert GONE not in [x["source"]["vendorLocalId"]
                        for x in batch.get("students", [])]
    [d] = batch["deletions"]
    assert (d["entity"], d["id"], d["vendorLocalId"], d["status"]) == \
        ("students", GONE_ID, GONE, "tobedeleted")
    assert d["dateLastModified"].endswith("Z")
    assert W.xsd_errors(batch) == []
    assert set(seen(redis)) == {"u_88214"}
    n.watch.wait_for(r'"smartcampus": 5 records, 2 rejected, 3 forwarded, '
                     r'1 deleted')

    # gone is gone: the next snapshot deletes nothing more
    r = post(c, SNAP, roster(drop=[GONE]))
    assert r.status == 200 and r.json()["totals"]["deleted"] == 0
    assert "deletions" not in json.loads(
        n.datacenter.wait_requests(3)[2]["body"])


def test_partial_location_deletes_nothing(std_gateway, client, redis):
    W.seed_district(redis)
    n = gateway(std_gateway)
    c = client(n)

    assert W.push(c, "smartcampus", roster()).status == 200
    # learnt at a partial location too, so that snapshot may follow
    assert set(seen(redis)) == {GONE}

    r = W.push(c, "smartcampus", roster(drop=[GONE]))
    assert r.status == 200, r.text
    assert r.json()["totals"]["deleted"] == 0
    assert not [x for x in r.json()["records"] if x["status"] == "deleted"]
    batch = json.loads(n.datacenter.wait_requests(2)[1]["body"])
    assert "deletions" not in batch
    assert set(seen(redis)) == {GONE}


def test_failed_forward_keeps_the_set(std_gateway, client, redis, login):
    W.seed_district(redis)
    n = gateway(std_gateway)
    c = client(n)
    assert post(c, SNAP, roster()).status == 200
    before = seen(redis)
    assert set(before) == {GONE}
    copy = redis.client().get("eg:std:rec:students:" + GONE_ID)
    assert json.loads(copy).get("status") != "tobedeleted"
    counters = redis.client().hgetall(CONF)
    assert counters

    n2 = gateway(std_gateway, dc_status=500)
    c2 = client(n2)
    r = post(c2, SNAP, roster(drop=[GONE]))
    expect_error(r, 502, "forward_failed", want_json=True)
    assert r.json()["totals"]["deleted"] == 1
    expect_log(n2.watch, "forward_failed", "the data center answered 500")
    # the data center was told, refused: the set still holds the record
    batch = json.loads(n2.datacenter.wait_requests(1)[0]["body"])
    assert [d["id"] for d in batch["deletions"]] == [GONE_ID]
    assert seen(redis) == before
    # nor does the registry's copy change, nor is anything counted
    assert redis.client().get("eg:std:rec:students:" + GONE_ID) == copy
    assert redis.client().hgetall(CONF) == counters
    assert r29(n2, client, login) == (0, 0, 0)


def test_delta_feed_deletes_nothing(std_gateway, client, redis):
    W.seed_district(redis)
    n = gateway(std_gateway)
    c = client(n)
    assert post(c, SNAP, roster()).status == 200

    r = post(c, SNAP, roster(drop=[GONE]), "?feed=delta")
    assert r.status == 200, r.text
    report = r.json()
    assert report["totals"]["deleted"] == 0
    # a delta record says its status and when it changed (R29, E)
    r29 = {(v["vendorLocalId"], v["field"], v["severity"])
           for v in report["violations"] if v["ruleId"] == "R29"}
    assert ("u_88214", "status", "E") in r29
    assert ("u_88214", "dateLastModified", "E") in r29
    assert GONE not in {v["vendorLocalId"] for v in report["violations"]}
    assert set(seen(redis)) == {GONE}
    # no record says its status: nothing to forward, not even a deletion
    assert report["totals"]["forwarded"] == 0
    assert len(n.datacenter.requests()) == 1

    r = post(c, SNAP, roster(), "?feed=weekly")
    expect_error(r, 400, "invalid_feed", want_json=True)
    expect_log(n.watch, "invalid_feed", 'feed="weekly"')


def test_entity_absent_from_the_batch_untouched(std_gateway, client, redis):
    W.seed_district(redis)
    n = gateway(std_gateway)
    c = client(n)
    assert post(c, SNAP, roster()).status == 200
    assert set(seen(redis)) == {GONE}

    r = post(c, SNAP, roster(no_students=True))
    assert r.status == 200, r.text
    assert r.json()["totals"]["deleted"] == 0
    batch = json.loads(n.datacenter.wait_requests(2)[1]["body"])
    assert "students" not in batch and "deletions" not in batch
    assert set(seen(redis)) == {GONE}


def test_deletion_marks_the_copy_and_counts(std_gateway, client, redis,
                                            login):
    W.seed_district(redis)
    n = gateway(std_gateway)
    c = client(n)
    idx = "eg:std:idx:students:studentRegNo:" + GONE_REG

    assert post(c, SNAP, roster(fix_u_88214=True)).status == 200
    before = registry(redis, "students", GONE_ID)
    assert before is not None and before.get("status") != "tobedeleted"
    assert r29(n, client, login) == (0, 0, 0)

    r = post(c, SNAP, roster(drop=[GONE], fix_u_88214=True))
    assert r.status == 200, r.text
    assert r.json()["totals"]["deleted"] == 1
    [d] = json.loads(n.datacenter.wait_requests(2)[1]["body"])["deletions"]

    # the copy says what the data center was told, the rest as it was
    after = registry(redis, "students", GONE_ID)
    assert after["status"] == "tobedeleted"
    assert after["dateLastModified"] == d["dateLastModified"]
    assert {k: v for k, v in after.items()
            if k not in ("status", "dateLastModified")} == \
        {k: v for k, v in before.items()
         if k not in ("status", "dateLastModified")}
    # its index entry stays: the rules skip holders that are not active
    assert GONE_ID.encode() in redis.client().smembers(idx)
    # the others are untouched
    other = registry(redis, "students", seen(redis)["u_88214"])
    assert other is not None and other.get("status") != "tobedeleted"

    # one R29 W for smartcampus at the school, as for any violation
    assert r29(n, client, login) == (1, 1, 1)
    assert int(redis.client().hget(CONF, "R29:W")) == 1
    assert int(redis.client().hget(CONF, "batches")) == 2

    # gone is gone: nothing more deleted, nothing more counted
    r = post(c, SNAP, roster(drop=[GONE], fix_u_88214=True))
    assert r.status == 200 and r.json()["totals"]["deleted"] == 0
    assert r29(n, client, login) == (1, 1, 1)
    assert registry(redis, "students", GONE_ID)["status"] == "tobedeleted"

    # sent again, she is back: active, in the set, forwarded as such
    r = post(c, SNAP, roster(fix_u_88214=True))
    assert r.status == 200, r.text
    report = r.json()
    assert report["totals"]["deleted"] == 0
    assert GONE not in [x["vendorLocalId"] for x in report["records"]
                        if x["status"] == "deleted"]
    batch = json.loads(n.datacenter.wait_requests(4)[3]["body"])
    [back] = [x for x in batch["students"]
              if x["source"]["vendorLocalId"] == GONE]
    assert back.get("status") != "tobedeleted"
    assert "deletions" not in batch
    assert registry(redis, "students", GONE_ID).get("status") != \
        "tobedeleted"
    assert seen(redis)[GONE] == GONE_ID


def test_reference_to_a_deleted_class(std_gateway, client, redis):
    W.seed_district(redis)
    n = gateway(std_gateway)
    c = client(n)

    assert post(c, SNAP, roster(fix_u_88214=True)).status == 200
    assert set(seen(redis, "classes")) == {"C202102"}

    # the class left the snapshot (another came); its students, still in
    # it, refer to it
    r = post(c, SNAP, roster(fix_u_88214=True, no_class=True))
    assert r.status == 200, r.text
    assert r.json()["totals"]["deleted"] == 1
    [d] = json.loads(n.datacenter.wait_requests(2)[1]["body"])["deletions"]
    assert d["entity"] == "classes"
    assert registry(redis, "classes", d["id"])["status"] == "tobedeleted"

    # the next push sees a class being deleted: R21a, as the standard says
    r = post(c, SNAP, roster(fix_u_88214=True, no_class=True))
    assert r.status == 200, r.text
    hits = [v for v in r.json()["violations"]
            if v["ruleId"] == "R21a" and v["vendorLocalId"] == GONE]
    assert hits and hits[0]["field"] == "homeroomClassId", r.text
    assert hits[0]["message_en"] == "the class is being deleted"
