"""Pins the test bed itself, without the module: Redis answers, the demo
directory is loaded with its access rules, and the echo application
reports the identity headers it receives (and refuses requests without)."""

import urllib.parse

import ldap
import pytest

from servers import (DEMO_ACCOUNTS, LDAP_SERVICE_DN, LDAP_SERVICE_PASSWORD,
                     LDAP_SUFFIX, HttpClient)


def test_redis_answers_ping(redis):
    assert redis.client().ping() is True


def test_stu01_binds_with_demo_password(slapd):
    stu01 = DEMO_ACCOUNTS["stu01"]
    conn = slapd.bind(stu01["dn"], stu01["password"])
    try:
        assert conn.whoami_s() == "dn:" + stu01["dn"]
    finally:
        conn.unbind_s()


def test_wrong_password_is_refused(slapd):
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        slapd.bind(DEMO_ACCOUNTS["stu01"]["dn"], "wrong")


def test_service_account_finds_people_but_no_passwords(slapd):
    conn = slapd.bind(LDAP_SERVICE_DN, LDAP_SERVICE_PASSWORD)
    try:
        found = conn.search_s(LDAP_SUFFIX, ldap.SCOPE_SUBTREE,
                              "(&(objectClass=eduPerson)(uid=stu01))",
                              ["*", "entryUUID", "userPassword"])
        people = conn.search_s(LDAP_SUFFIX, ldap.SCOPE_SUBTREE,
                               "(objectClass=eduPerson)", ["uid"])
    finally:
        conn.unbind_s()
    assert len(found) == 1
    dn, attrs = found[0]
    assert dn == DEMO_ACCOUNTS["stu01"]["dn"]
    assert attrs["cn"] == ["张小明".encode("utf-8")]
    assert attrs["eduGrade"] == [b"07"]
    assert "entryUUID" in attrs
    assert "userPassword" not in attrs
    assert sorted(a["uid"][0].decode() for _, a in people) == \
        sorted(DEMO_ACCOUNTS)


def test_anonymous_sees_nothing(slapd):
    conn = ldap.initialize(slapd.uri)
    try:
        res = conn.search_s(LDAP_SUFFIX, ldap.SCOPE_SUBTREE, "(uid=*)")
    except ldap.NO_SUCH_OBJECT:
        res = []
    finally:
        conn.unbind_s()
    assert res == []


def test_slapd_log_shows_search_filters(slapd):
    conn = slapd.bind(LDAP_SERVICE_DN, LDAP_SERVICE_PASSWORD)
    try:
        conn.search_s(LDAP_SUFFIX, ldap.SCOPE_SUBTREE,
                      "(uid=a\\2ab\\28c\\29)", ["uid"])
    finally:
        conn.unbind_s()
    # slapd logs the filter re-encoded, with upper-case hex escapes
    assert 'filter="(uid=a\\2Ab\\28c\\29)"' in slapd.log_text()


def test_echo_reports_identity(echo):
    c = HttpClient(echo.port)
    r = c.get("/apps/echo/x?y=1", headers={
        "X-Edugate-User": "stu01",
        "X-Edugate-Name": urllib.parse.quote("张小明"),
        "X-Edugate-Roles": "student,monitor",
        "X-Edugate-Org-Path": "370000/370100/370112/3137000001",
        "Cookie": "edugate_session=x; other=y",
    })
    assert r.status == 200
    doc = r.json()
    assert doc["path"] == "/apps/echo/x?y=1"
    assert doc["identity"]["name"] == "张小明"
    assert doc["identity"]["roles"] == ["student", "monitor"]
    assert doc["identity"]["grade"] is None
    assert doc["headers"]["x-edugate-user"] == "stu01"
    assert doc["cookies"] == ["edugate_session", "other"]


def test_echo_refuses_anonymous_requests(echo):
    r = HttpClient(echo.port).post("/apps/echo/", "a=1",
                                   "application/x-www-form-urlencoded")
    assert r.status == 500
    assert r.json()["error"] == "no_identity"
