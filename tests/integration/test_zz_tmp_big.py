import sys, time
sys.path.insert(0, "tests/bench")
import std_roster
from std_world import std_gateway  # noqa
from test_bearer import keys  # noqa
import std_world as W


def test_big(std_gateway, client, redis):  # noqa
    n = std_gateway(extra_http="    edugate_redis_timeout 30s;\n")
    import std_registry
    rc = redis.client()
    W.seed_district(rc)
    for g in range(1, 7):
        std_registry.seed(rc, "courses", {
            "id": std_registry.uid("course|%s|grade|%02d|homeroom"
                                   % (std_registry.SCHOOL, g)),
            "status": "active", "title": "%s班级"
            % std_roster.GRADES[g - 1], "subjectCode": "60",
            "gradeLevels": ["%02d" % g], "orgId": std_registry.SCHOOL})
    c = client(n)
    rc.config_set("slowlog-log-slower-than", 50000)
    rc.slowlog_reset()
    c.timeout = 120
    body = std_roster.roster(std_roster.students(34500))
    print("bytes", len(body))
    t0 = time.monotonic()
    r = W.push(c, "smartcampus", body)
    print("status", r.status, time.monotonic() - t0, r.text[:300])
    for e in rc.slowlog_get(20):
        print("SLOW", e["duration"] / 1000.0, "ms", str(e["command"])[:120])
    import collections, json
    rep = json.loads(r.text)
    cnt = collections.Counter()
    ex = {}
    for v in rep.get("violations", []):
        cnt[(v["ruleId"], v.get("field"))] += 1
        ex.setdefault((v["ruleId"], v.get("field")), v)
    print(cnt.most_common(10))
    for k, v in list(ex.items())[:5]:
        print(v)
