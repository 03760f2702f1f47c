"""Pins the location policies: edugate_allow_roles admits only the listed
roles, edugate_allow_org only people inside the listed organisations (a
whole subtree, matched by whole codes), either one implies a session, and
every refusal is a logged 403 access_denied."""

import pytest

from servers import DEMO_ACCOUNTS, LogWatch
from expect import JSON, echo_identity, expect_error, expect_log

EXTRA = """
        location /apps/school1/ {
            edugate_allow_org   3137000001;
            proxy_pass          http://127.0.0.1:%(echo)d;
        }
        location /apps/district-any/ {
            edugate_protect     on;
            edugate_allow_org   370112;
            proxy_pass          http://127.0.0.1:%(echo)d;
        }
        location /apps/prefix/ {
            edugate_protect     on;
            edugate_allow_org   37011 313700000;
            proxy_pass          http://127.0.0.1:%(echo)d;
        }
        location /apps/staff/ {
            edugate_allow_roles teacher itadmin;
            proxy_pass          http://127.0.0.1:%(echo)d;
        }
"""


@pytest.fixture
def policy_gateway(gateway_factory, echo):
    return gateway_factory(extra_server=EXTRA % {"echo": echo.port})


def session(client, nginx, login, user):
    c = client(nginx)
    r = login(c, user, DEMO_ACCOUNTS[user]["password"])
    assert r.status == 302, r.text
    return c


def refused(c, nginx, path, user, why):
    watch = LogWatch(nginx.error_log)
    r = c.get(path, headers=JSON)
    expect_error(r, 403, "access_denied", want_json=True)
    expect_log(watch, "access_denied", r'"%s" \(%s' % (user, why),
               level="warn")
    return r


def test_teacher_reaches_teachers_app(gateway, client, login):
    c = session(client, gateway, login, "tea01")
    doc = echo_identity(c, "/apps/teachers/grades")
    assert doc["identity"]["user"] == "tea01"
    assert doc["path"] == "/apps/teachers/grades"


def test_student_refused_from_teachers_app(gateway, client, login):
    c = session(client, gateway, login, "stu01")
    refused(c, gateway, "/apps/teachers/", "stu01",
            r'roles "student"\) lacks a role this location requires')


def test_refusal_page_for_browsers(gateway, client, login):
    c = session(client, gateway, login, "stu01")
    watch = LogWatch(gateway.error_log)
    r = c.get("/apps/teachers/")
    expect_error(r, 403, "access_denied")
    assert r.header("Content-Type").startswith("text/html")
    assert "您没有访问此应用的权限" in r.text
    assert r.location is None
    expect_log(watch, "access_denied", level="warn")
    # a refusal is not a logout: the session still works elsewhere
    assert echo_identity(c)["identity"]["user"] == "stu01"


def test_itadmin_reaches_district_app(gateway, client, login):
    c = session(client, gateway, login, "itadmin")
    assert echo_identity(c, "/apps/district/")["identity"]["user"] == \
        "itadmin"


def test_teacher_refused_from_district_app(gateway, client, login):
    # tea01 is inside district 370112 but is no itadmin
    c = session(client, gateway, login, "tea01")
    refused(c, gateway, "/apps/district/", "tea01",
            r'roles "teacher"\) lacks a role')


@pytest.mark.parametrize("user", ["stu01", "tea01"])
def test_school_members_admitted(policy_gateway, client, login, user):
    c = session(client, policy_gateway, login, user)
    doc = echo_identity(c, "/apps/school1/")
    assert doc["identity"]["user"] == user
    assert doc["identity"]["school"] == "3137000001"


@pytest.mark.parametrize("user,path", [
    ("stu02", "370000/370100/370112/2137000002"),
    # above the school is not inside it
    ("itadmin", "370000/370100/370112"),
])
def test_outsiders_refused_from_school(policy_gateway, client, login, user,
                                       path):
    c = session(client, policy_gateway, login, user)
    refused(c, policy_gateway, "/apps/school1/", user,
            r'org path "%s"\) is outside the organisations' % path)


@pytest.mark.parametrize("user", sorted(DEMO_ACCOUNTS))
def test_district_subtree_admits_everyone_below(policy_gateway, client,
                                                login, user):
    c = session(client, policy_gateway, login, user)
    assert echo_identity(c, "/apps/district-any/")["identity"]["user"] == \
        user


def test_org_codes_match_whole(policy_gateway, client, login):
    # 37011 and 313700000 are prefixes of real codes, not codes
    c = session(client, policy_gateway, login, "stu01")
    refused(c, policy_gateway, "/apps/prefix/", "stu01",
            r'org path "370000/370100/370112/3137000001"\) is outside')


def test_policy_alone_requires_a_session(policy_gateway, client):
    for path in ("/apps/school1/", "/apps/staff/"):
        r = client(policy_gateway).get(path, headers=JSON)
        expect_error(r, 401, "login_required", want_json=True)


def test_any_listed_role_is_enough(policy_gateway, client, login):
    for user in ("tea01", "itadmin"):
        c = session(client, policy_gateway, login, user)
        assert echo_identity(c, "/apps/staff/")["identity"]["user"] == user
    c = session(client, policy_gateway, login, "stu02")
    refused(c, policy_gateway, "/apps/staff/", "stu02",
            r'roles "student"\) lacks a role')


@pytest.mark.parametrize("path", [
    "/apps/echo/../teachers/",
    "/apps/%74eachers/",
    "/apps//teachers/",
    "//apps/teachers/",
    "/apps/./teachers/",
    "/apps/echo/..%2Fteachers/",
])
def test_unnormalized_paths_meet_the_policy(gateway, client, login, path):
    c = session(client, gateway, login, "stu01")
    refused(c, gateway, path, "stu01", r'roles "student"\) lacks a role')


@pytest.mark.parametrize("path", ["/APPS/teachers/", "/apps/teachers;x/",
                                  "/apps/teachers"])
def test_other_spellings_reach_no_application(gateway, client, login, path):
    c = session(client, gateway, login, "stu01")
    r = c.get(path)
    assert r.status in (301, 404), (r.status, r.text[:300])
    assert "x-edugate-user" not in r.text
