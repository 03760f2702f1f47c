"""What the tests of the data standard in flight share: a gateway with the
smartcampus and yuejuan adapters, their OAuth2 clients, push locations, the
conformance figures and a data center (a recording service), as the demo
sets them up (servers.std_demo_conf); the district's master data seeded
into Redis (std_registry); helpers to push and to read reports.

The ids of the seeded records are computed with Python's own uuid.uuid5
under the same namespace as the gateway's, so a test also checks that the
gateway derives UUIDv5 names as documented."""

import base64
import json

import pytest
from lxml import etree

import std_registry as R
from servers import (DEMO_STD_CLIENTS, REPO, LogWatch, STD_CODES,
                     free_port, plugin_args, std_demo_conf)

NS = R.DEMO_NS
uid = R.uid
SCHOOL, DISTRICT, TERM, COURSE_YW3 = R.SCHOOL, R.DISTRICT, R.TERM, \
    R.COURSE_YW3
CLIENTS = DEMO_STD_CLIENTS
CODES = "%s %s" % STD_CODES

ROSTER = (REPO / "plugins" / "smartcampus" / "fixtures" / "students" /
          "roster-5.1.json")
SCORES = (REPO / "plugins" / "yuejuan" / "fixtures" / "results" /
          "scores-5.2.xml")

# the records 5.1 lists violations for (its enrollments come apart)
ROSTER_5_1 = "orgs,academicSessions,classes,students"


def std_http(plugin_path, keys, issuer, extra=""):
    sc = plugin_args("smartcampus")
    yj = plugin_args("yuejuan")
    lines = [
        "edugate_issuer %s;" % issuer,
        "edugate_signing_key %s;" % keys["rsa1"].path,
        "edugate_plugin smartcampus %s secret=%s tenant=%s;"
        % (plugin_path("smartcampus"), sc["secret"], sc["tenant"]),
        "edugate_plugin yuejuan %s secret=%s;"
        % (plugin_path("yuejuan"), yj["secret"]),
    ]
    return "".join("    %s\n" % l for l in lines) + extra


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


STD_NS = "urn:edugate:std:v1"
_schema = []


def std_xml(name, value):
    """The XML rendering of a JSON value (schemas/README.md: element names
    are the keys, a list's members are <item>, null is absent)."""
    e = etree.Element("{%s}%s" % (STD_NS, name))
    if isinstance(value, dict):
        for k, v in value.items():
            if v is not None:
                e.append(std_xml(k, v))
    elif isinstance(value, list):
        for v in value:
            e.append(std_xml("item", v))
    elif isinstance(value, bool):
        e.text = "true" if value else "false"
    else:
        e.text = str(value)
    return e


def xsd_errors(batch):
    """What schemas/std/v1/batch.xsd (read by lxml) says of a batch, one
    record at a time so that every record is judged."""
    if not _schema:
        _schema.append(etree.XMLSchema(etree.parse(
            str(REPO / "schemas" / "std" / "v1" / "batch.xsd"))))
    schema = _schema[0]
    errors = []
    head = {k: v for k, v in batch.items() if not isinstance(v, list)}
    if not schema.validate(std_xml("batch", head)):
        errors += [("batch", e.message) for e in schema.error_log]
    for coll, records in batch.items():
        if not isinstance(records, list):
            continue
        for rec in records:
            if not schema.validate(std_xml("batch", {coll: [rec]})):
                errors += [(rec.get("source", {}).get("vendorLocalId"),
                            e.message) for e in schema.error_log]
    return errors


def seed_district(redis):
    R.seed_district(redis.client())


def seed_exam_world(redis, **kw):
    R.seed_exam_world(redis.client(), **kw)


@pytest.fixture
def std_gateway(gateway_factory, plugin_path, keys, notify_factory, redis):
    """std_gateway(mode="enforce", dc_status=200, roster=ROSTER_5_1,
    extra_http="", extra_server="", forward_max_body="0") -> the gateway, with .datacenter (a
    recording service) and .watch (its error log).  The registry is
    cleared before and after the test."""
    R.clear(redis.client())

    def make(mode="enforce", dc_status=200, roster=ROSTER_5_1,
             extra_http="", extra_server="", forward_max_body="0"):
        dc = notify_factory(status=dc_status)
        port = free_port()
        issuer = "http://127.0.0.1:%d" % port
        http, server = std_demo_conf(dc.port, mode=mode, roster=roster,
                                     entities="lineItems,results",
                                     forward_max_body=forward_max_body)
        n = gateway_factory(
            extra_http=std_http(plugin_path, keys, issuer, http + extra_http),
            extra_server="        location = /oauth2/token "
                         "{ edugate_oidc_token; }\n" + server + extra_server,
            port=port)
        n.datacenter = dc
        n.watch = LogWatch(n.error_log)
        return n

    yield make
    R.clear(redis.client())
