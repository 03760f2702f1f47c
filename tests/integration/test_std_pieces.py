"""A big vendor push talks to Redis in pieces: the id mapping, the fetch
of known records and the store go as several commands of at most 4096
arguments after the script, each a bounded stretch of work for Redis, so
that every other client of Redis (session lookups of every node) is
served between them and no single command of a big batch outlasts
edugate_redis_timeout.  The pieces' replies together are the reply of the
whole: a roster of 3000 students comes out exactly as a small one does,
with the gateway's default settings.

Redis's SLOWLOG, told to log every command, shows how many arguments each
command had (it keeps 31 and says how many more there were)."""

import json
import re
import sys

from servers import REPO
from test_bearer import keys  # noqa: F401  (fixture)
from std_world import std_gateway  # noqa: F401  (fixture)
import std_registry
import std_world as W

sys.path.insert(0, str(REPO / "tests" / "bench"))
import std_roster  # noqa: E402

STUDENTS = 3000
PIECE_ARGS = 4096
MORE = re.compile(rb"\.\.\. \((\d+) more arguments\)$")


def seed_courses(rc):
    """every grade's homeroom course, which the roster's classes name"""
    for g in range(1, 7):
        std_registry.seed(rc, "courses", {
            "id": std_registry.uid("course|%s|grade|%02d|homeroom"
                                   % (std_registry.SCHOOL, g)),
            "status": "active", "title": "%s班级" % std_roster.GRADES[g - 1],
            "subjectCode": "60", "gradeLevels": ["%02d" % g],
            "orgId": std_registry.SCHOOL})


def eval_sizes(rc):
    """(script's first line, argument count) of every EVAL logged"""
    out = []
    for e in rc.execute_command("SLOWLOG", "GET", "-1"):
        args = e[3]
        if not args or args[0].upper() != b"EVAL":
            continue
        m = MORE.match(args[-1])
        n = len(args) - 1 + int(m.group(1)) if m else len(args)
        out.append((args[1].split(b"\n")[0], n))
    return out


def test_big_push_in_pieces(std_gateway, client, redis):  # noqa: F811
    n = std_gateway()
    rc = redis.client()
    W.seed_district(rc)
    seed_courses(rc)
    c = client(n)
    c.timeout = 120
    roster = std_roster.roster(std_roster.students(STUDENTS))

    old = rc.config_get("slowlog-*")
    rc.config_set("slowlog-log-slower-than", 0)
    rc.config_set("slowlog-max-len", 100000)
    rc.slowlog_reset()
    try:
        r = W.push(c, "smartcampus", roster)
        sizes = eval_sizes(rc)
    finally:
        rc.config_set("slowlog-log-slower-than",
                      old["slowlog-log-slower-than"])
        rc.config_set("slowlog-max-len", old["slowlog-max-len"])

    assert r.status == 200, r.text[:500]
    totals = r.json()["totals"]
    records = totals["records"]
    assert records > STUDENTS  # the classes, the school, the semester
    assert totals["accepted"] == records and totals["rejected"] == 0, totals
    assert totals["forwarded"] == records

    # every command within the bound, and the big ones split
    assert sizes, "no EVAL in the slowlog"
    assert max(k for _, k in sizes) <= 3 + PIECE_ARGS, sorted(
        k for _, k in sizes)[-5:]
    firsts = [line for line, _ in sizes]
    assert sum(1 for f in firsts if f.startswith(b"local out = {}")) >= 3
    assert sum(1 for f in firsts if f.startswith(b"for i = 1, #ARGV, 4")) \
        >= 3

    # the whole batch, as one command would have left it
    stored = list(rc.scan_iter("eg:std:rec:students:*", count=1000))
    assert len(stored) == STUDENTS
    known = {json.loads(rc.get(k))["source"]["vendorLocalId"]:
             json.loads(rc.get(k))["id"] for k in stored}
    assert len(known) == STUDENTS
    assert len(set(known.values())) == STUDENTS
    assert len(n.datacenter.requests()) == 1

    # and the same roster again: every student found under its id
    r = W.push(c, "smartcampus", roster)
    assert r.status == 200, r.text[:500]
    assert r.json()["totals"]["accepted"] == records
    again = list(rc.scan_iter("eg:std:rec:students:*", count=1000))
    assert sorted(again) == sorted(stored)
    assert {json.loads(rc.get(k))["source"]["vendorLocalId"]:
            json.loads(rc.get(k))["id"] for k in again} == known
