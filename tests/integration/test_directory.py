"""Pins how logins treat unusual directory data: a uid found twice fails
closed, a referral is never followed, attribute values with control
characters never become headers, several roles travel together, and
names with markup reach the application only percent-encoded."""

import base64
import re
import socket
import threading
import time
import urllib.parse

import pytest

from servers import DEMO_DIR, LogWatch
from expect import JSON, attempt, echo_identity, expect_error, expect_log

SCHOOL1 = ("ou=people,eduOrgCode=3137000001,eduOrgCode=370112,"
           "eduOrgCode=370100,eduOrgCode=370000,dc=edu,dc=cn")
SCHOOL2 = ("ou=people,eduOrgCode=2137000002,eduOrgCode=370112,"
           "eduOrgCode=370100,eduOrgCode=370000,dc=edu,dc=cn")
HOSTILE_CN = "Mallory\r\nX-Edugate-Roles: itadmin"
MARKUP_CN = '<b onmouseover="x">王"老师\'</b>'


def person(uid, ou, cn, roles, password, extra=""):
    lines = ["dn: uid=%s,%s" % (uid, ou),
             "objectClass: inetOrgPerson",
             "objectClass: eduPerson",
             "uid: %s" % uid,
             "cn:: %s" % base64.b64encode(cn.encode()).decode(),
             "sn: x",
             "eduOrgLevel: school"]
    lines += ["eduRole: %s" % r for r in roles]
    lines.append("userPassword: %s" % password)
    return "\n".join(lines) + extra + "\n\n"


@pytest.fixture
def trap():
    """A listener that counts the connections it gets."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.1)
    hits = []
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            hits.append(1)
            conn.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    yield srv.getsockname()[1], hits
    stop.set()
    t.join(2)
    srv.close()


@pytest.fixture
def odd_directory(slapd_factory, gateway_factory, tmp_path, trap):
    referral = (
        "dn: ou=elsewhere,eduOrgCode=370112,eduOrgCode=370100,"
        "eduOrgCode=370000,dc=edu,dc=cn\n"
        "objectClass: referral\n"
        "objectClass: extensibleObject\n"
        "ou: elsewhere\n"
        "ref: ldap://127.0.0.1:%d/ou=people,dc=edu,dc=cn\n\n" % trap[0])
    ldif = tmp_path / "odd.ldif"
    ldif.write_text(
        (DEMO_DIR / "directory.ldif").read_text(encoding="utf-8").rstrip()
        + "\n\n"
        + person("twin", SCHOOL1, "Twin A", ["student"], "Twin-Passw0rd")
        + person("twin", SCHOOL2, "Twin B", ["student"], "Twin-Passw0rd")
        + person("crlf", SCHOOL1, HOSTILE_CN, ["student"], "Crlf-Passw0rd")
        + person("multi", SCHOOL1, "多角色", ["teacher", "itadmin"],
                 "Multi-Passw0rd")
        + person("markup", SCHOOL1, MARKUP_CN, ["teacher"],
                 "Markup-Passw0rd")
        + referral,
        encoding="utf-8")
    s = slapd_factory(ldif=ldif)
    return s, gateway_factory(slapd=s)


def test_uid_found_twice_fails_closed(odd_directory, client):
    s, n = odd_directory
    watch = LogWatch(n.error_log)
    ldap = LogWatch(s.log)
    r = attempt(client(n), "twin", "Twin-Passw0rd", headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    expect_log(watch, "invalid_credentials",
               r'login for "twin" failed: (more than one entry matches|'
               r'\d+ entries match)', level="error")
    ldap.wait_for(r"SEARCH RESULT .*nentries=")
    assert not re.search(r'BIND dn="uid=twin,', ldap.text())


def test_control_characters_never_become_headers(odd_directory, client):
    s, n = odd_directory
    watch = LogWatch(n.error_log)
    c = client(n)
    r = attempt(c, "crlf", "Crlf-Passw0rd", headers=JSON)
    assert r.status != 302
    expect_error(r, 503, "directory_unavailable", want_json=True)
    expect_log(watch, "directory_unavailable",
               r'attribute "cn" of "uid=crlf,[^"]*" is too long or has '
               r"control characters", level="error")


def test_several_roles(odd_directory, client):
    s, n = odd_directory
    c = client(n)
    r = attempt(c, "multi", "Multi-Passw0rd")
    assert r.status == 302, r.text
    doc = echo_identity(c)
    assert sorted(doc["identity"]["roles"]) == ["itadmin", "teacher"]
    assert doc["identity"]["name"] == "多角色"
    for path in ("/apps/teachers/", "/apps/district/"):
        assert echo_identity(c, path)["identity"]["user"] == "multi"


def test_markup_in_name_is_percent_encoded(odd_directory, client):
    s, n = odd_directory
    c = client(n)
    assert attempt(c, "markup", "Markup-Passw0rd").status == 302
    doc = echo_identity(c)
    raw = doc["headers"]["x-edugate-name"]
    assert re.fullmatch(r"[A-Za-z0-9%._~-]+", raw), raw
    assert urllib.parse.unquote(raw) == MARKUP_CN


def test_referral_is_not_followed(odd_directory, client, trap):
    s, n = odd_directory
    port, hits = trap
    watch = LogWatch(n.error_log)
    r = attempt(client(n), "ghost", "Ghost-Passw0rd", headers=JSON)
    expect_error(r, 401, "invalid_credentials", want_json=True)
    expect_log(watch, "invalid_credentials",
               r'login for "ghost" failed: no entry matches .*'
               r"\(referral not followed\)", level="warn")
    time.sleep(0.3)
    assert hits == [], "the gateway followed the referral"
