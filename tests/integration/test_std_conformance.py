"""Pins the conformance figures: every push counts its records, its
rejected records and its violations per vendor, school and rule in Redis
(eg:std:conf:*); GET /edugate/conformance shows them as JSON to district
IT only (edugate_allow_roles itadmin); /edugate/metrics exposes the same
as Prometheus text, read back here with the Prometheus project's own
Python parser."""

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from expect import JSON, expect_error
from test_bearer import keys  # noqa: F401  (fixture)
from std_world import std_gateway  # noqa: F401  (fixture)
import std_world as W

@pytest.fixture
def gw(std_gateway, redis):
    W.seed_district(redis)
    W.seed_exam_world(redis)
    return std_gateway()


def pushed(n, client):
    c = client(n)
    for _ in range(2):
        assert W.push(c, "smartcampus", W.ROSTER.read_bytes()).status == 200
    assert W.push(c, "yuejuan", W.SCORES.read_bytes()).status == 200


def test_conformance_for_district_it(gw, client, login):
    n = gw
    pushed(n, client)

    it = client(n)
    assert login(it, "itadmin", "ItAdmin-Passw0rd").status == 302
    r = it.get("/edugate/conformance", headers=JSON)
    assert r.status == 200, r.text
    assert r.header("Cache-Control") == "no-store"
    doc = r.json()
    vendors = {v["vendor"]: v for v in doc["vendors"]}
    assert set(vendors) == {"smartcampus", "yuejuan"}

    sc = vendors["smartcampus"]
    assert (sc["batches"], sc["records"], sc["rejected"]) == (2, 12, 4)
    assert sc["rules"] == {"R26:I": 2, "R06:E": 2, "R11:I": 2, "R20:I": 2,
                           "R02:E": 2, "R09:W": 2, "R21a:E": 2}
    [school] = sc["schools"]
    assert school["school"] == "2151049901"
    assert school["rules"] == sc["rules"]

    yj = vendors["yuejuan"]
    assert (yj["records"], yj["rejected"]) == (4, 1)
    assert yj["rules"] == {"R20:W": 1, "R23:E": 1, "R21f:E": 1}
    assert [s["school"] for s in yj["schools"]] == ["2151049901"]

    r = it.get("/edugate/conformance?vendor=yuejuan", headers=JSON)
    assert [v["vendor"] for v in r.json()["vendors"]] == ["yuejuan"]


def test_conformance_is_for_district_it_only(gw, client, login):
    n = gw
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302
    expect_error(c.get("/edugate/conformance", headers=JSON), 403,
                 "access_denied", want_json=True)

    # a vendor's token is no district IT either
    tok = W.token(client(n), "smartcampus")
    r = client(n).get("/edugate/conformance",
                      headers={"Authorization": "Bearer " + tok})
    expect_error(r, 403, "client_not_allowed", want_json=True)

    r = client(n).get("/edugate/conformance", headers=JSON)
    expect_error(r, 401, "login_required", want_json=True)


def test_metrics(gw, client):
    n = gw
    pushed(n, client)

    r = client(n).get("/edugate/metrics")
    assert r.status == 200, r.text
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    got = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            got[(s.name, tuple(sorted(s.labels.items())))] = s.value

    sc = (("school", "2151049901"), ("vendor", "smartcampus"))
    assert got[("edugate_std_records_total", sc)] == 12
    assert got[("edugate_std_rejected_total", sc)] == 4
    assert got[("edugate_std_batches_total", sc)] == 2
    assert got[("edugate_std_violations_total",
                tuple(sorted(sc + (("rule", "R06"), ("severity", "E")))))] \
        == 2
    yj = (("rule", "R21f"), ("school", "2151049901"), ("severity", "E"),
          ("vendor", "yuejuan"))
    assert got[("edugate_std_violations_total", yj)] == 1


def test_no_figures_yet(gw, client, login):
    n = gw
    it = client(n)
    assert login(it, "itadmin", "ItAdmin-Passw0rd").status == 302
    r = it.get("/edugate/conformance", headers=JSON)
    assert r.status == 200 and json.loads(r.text) == {"vendors": []}
    r = client(n).get("/edugate/metrics")
    assert r.status == 200
    assert list(text_string_to_metric_families(r.text))
