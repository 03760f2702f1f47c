"""Pins R29's second half through real nginx and Redis: a bulk push that
leaves out a record the data center accepted before deletes it, at a
location configured bulk=snapshot only.  The deletion is forwarded
(status tobedeleted, the unified id, valid against batch.xsd) and
reported (status "deleted", R29 W, totals.deleted); the registry's set of
seen vendor ids forgets it only once the data center answered 2xx.  A
partial location deletes nothing, a delta feed deletes nothing, a
rejected record is still present, an entity the batch does not carry is
not touched."""

import json

from expect import expect_error, expect_log
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
GONE_ID = W.uid("student|G510104201605120323")


def roster(drop=(), fix_u_88214=False, no_students=False):
    """The 5.1 roster without some students; u_88214's birthday fixed
    (then she is accepted); or with no student at all."""
    d = json.loads(W.ROSTER.read_bytes())
    d["students"] = [s for s in d["students"] if s["uid"] not in drop]
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


def test_failed_forward_keeps_the_set(std_gateway, client, redis):
    W.seed_district(redis)
    n = gateway(std_gateway)
    c = client(n)
    assert post(c, SNAP, roster()).status == 200
    before = seen(redis)
    assert set(before) == {GONE}

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
