"""Pins the unified ids of pushed records (README, State in Redis): a
natural key gives the UUIDv5 of the district's namespace (Python's own
uuid5 agrees); an L 学籍号 gets a registry id, which survives its
replacement by a G number (supersession) and which every vendor naming
either number then resolves to; ids are stable across pushes and
gateways; two batches pushed at the same moment naming the same new
student get one id."""

import copy
import json
import threading

from test_bearer import keys  # noqa: F401  (fixture)
from std_world import std_gateway  # noqa: F401  (fixture)
import std_world as W

L_NO = "L510104201603067394"
G_NO = "G510104201603061585"


def roster(students, fix_birthday=True):
    doc = json.loads(W.ROSTER.read_text(encoding="utf-8"))
    doc["students"] = students
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def aygul(uid="u_88214", regno=L_NO):
    """u_88214 of 5.1 with the birthday of her ID card: accepted."""
    doc = json.loads(W.ROSTER.read_text(encoding="utf-8"))
    s = copy.deepcopy(doc["students"][1])
    s["birthday"] = "2016-03-06"
    s["uid"] = uid
    s["xjh"] = regno
    return s


def unified(report, local):
    ids = {r["unifiedId"] for r in report["records"]
           if r["vendorLocalId"] == local}
    ids |= {v["unifiedId"] for v in report["violations"]
            if v["vendorLocalId"] == local}
    assert len(ids) == 1, (local, report)
    return ids.pop()


def forwarded_students(n, i):
    batch = json.loads(n.datacenter.wait_requests(i + 1)[i]["body"])
    return {s["source"]["vendorLocalId"]: s for s in batch["students"]}


def test_natural_keys_and_stability(std_gateway, client, redis):
    W.seed_district(redis)
    n = std_gateway()
    c = client(n)

    for i in range(2):
        r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
        assert r.status == 200, r.text
        s = forwarded_students(n, i)
        assert s["u_88213"]["id"] == W.uid("student|G510104201605120323")

    # the registry keeps the binding the next push found
    rc = redis.client()
    assert rc.get("eg:std:nk:student|G510104201605120323").decode() == \
        W.uid("student|G510104201605120323")
    assert rc.get("eg:std:nkof:" + W.uid("student|G510104201605120323")) \
        == b"eg:std:nk:student|G510104201605120323"
    assert rc.get("eg:std:nk:org|school|2151049901").decode() == W.SCHOOL


def test_l_number_superseded_by_g(std_gateway, client, redis):
    W.seed_district(redis)
    W.seed_exam_world(redis, l_student=None)
    n = std_gateway()
    c = client(n)

    # first known by her temporary number: a registry id, version 4
    r = W.push(c, "smartcampus", roster([aygul()]))
    assert r.status == 200, r.text
    first = forwarded_students(n, 0)["u_88214"]["id"]
    assert first[14] == "4"
    assert ("u_88214", "studentRegNo", "R11", "I") in W.violations(r.json())
    rc = redis.client()
    assert rc.get("eg:std:nk:student|" + L_NO).decode() == first

    # then by her national number: same person, same id
    r = W.push(c, "smartcampus", roster([aygul(regno=G_NO)]))
    assert r.status == 200, r.text
    assert forwarded_students(n, 1)["u_88214"]["id"] == first
    assert rc.get("eg:std:nk:student|" + G_NO).decode() == first
    assert first != W.uid("student|" + G_NO)

    # a score export naming either number lands on her
    scores = W.SCORES.read_bytes()
    for number in (L_NO, G_NO):
        body = scores.replace(L_NO.encode(), number.encode())
        r = W.push(c, "yuejuan", body)
        assert r.status == 200, r.text
        results = json.loads(n.datacenter.requests()[-1]["body"])["results"]
        mine = [x for x in results
                if x["source"]["vendorLocalId"] == "250302018"]
        assert mine and mine[0]["studentId"] == first, results


def test_concurrent_batches_agree(std_gateway, client, redis):
    """Eight pushes at once, each naming the same new student under its
    own vendor id: the registry hands out one id."""
    W.seed_district(redis)
    n = std_gateway()
    bodies = [roster([aygul(uid="u_x%d" % i)]) for i in range(8)]
    tok = W.token(client(n), "smartcampus")
    reports = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def run(i):
        c = client(n)
        start.wait()
        reports[i] = W.push(c, "smartcampus", bodies[i], tok=tok)

    threads = [threading.Thread(target=run, args=(i,))
               for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    ids = set()
    for i, r in enumerate(reports):
        assert r is not None and r.status == 200, r and r.text
        ids.add(unified(r.json(), "u_x%d" % i))
    assert len(ids) == 1, ids
    assert redis.client().get("eg:std:nk:student|" + L_NO).decode() in ids
