"""Pins CAS single logout and the outbound HTTP client under it: a service
registered with slo=on (or logout_url=) is put into its session's
participant set when one of its tickets is validated, and receives a POST
of the SAML LogoutRequest naming that ticket when the session ends, at the
path of the service URL (or of logout_url); services that did not ask, or
whose tickets were never validated, receive nothing.  The notification is
sent on the event loop: a service that refuses connections, answers an
error, holds the connection without answering, or presents a certificate
that is not trusted or names another host is logged, and the logout and
every other request answer at once."""

import re
import time
import urllib.parse

import pytest
from lxml import etree

from servers import HttpClient, LogWatch, Nginx, free_port, \
    nginx_demo_conf, self_signed_cert
from expect import sha256_hex
from test_cas import (CAS_HTTP, CAS_LOCATIONS, SERVICE, cas_gateway,  # noqa
                      logged_in, ok, q, ticket_for, tls, validate)

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
APP = "/slo-app/"


def slo_service(app, params="slo=on match=prefix"):
    return "    edugate_cas_service %s %s;\n" % (app.url(APP), params)


def logout_request(req):
    """The LogoutRequest of a recorded POST, checked; its SessionIndex."""
    assert req["method"] == "POST", req
    assert req["headers"]["content-type"] == \
        "application/x-www-form-urlencoded", req
    form = urllib.parse.parse_qs(req["body"], strict_parsing=True)
    assert list(form) == ["logoutRequest"], form
    text = form["logoutRequest"][0]
    doc = etree.fromstring(text.encode())
    assert doc.tag == "{%s}LogoutRequest" % SAMLP
    assert doc.get("Version") == "2.0"
    assert re.fullmatch(r"LR-[A-Za-z0-9]{32}", doc.get("ID"))
    issued = time.mktime(time.strptime(doc.get("IssueInstant"),
                                       "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(issued - time.time()) < 60, doc.get("IssueInstant")
    children = list(doc)
    assert [c.tag for c in children] == ["{%s}NameID" % SAML,
                                         "{%s}SessionIndex" % SAMLP]
    assert children[0].text == "@NOT_USED@"
    # clients find the ticket by a plain text search
    assert "<samlp:SessionIndex>%s</samlp:SessionIndex>" % children[1].text \
        in text
    return children[1].text


def participants(redis, client):
    """The session's participant set, read at once: a service is in it
    before its validation answer leaves the gateway, so that a logout on
    any node from then on reaches it."""
    key = "eg:rp:" + sha256_hex(client.cookie("edugate_session"))
    return redis.client().smembers(key)


# ---- single logout ----------------------------------------------------------

def test_logout_request_reaches_the_service(cas_gateway, notify_factory,
                                            login, redis):
    app = notify_factory()
    n = cas_gateway(slo_service(app) + "    edugate_session_max 2h;\n")
    c = logged_in(n, login)
    sid = c.cookie("edugate_session")
    service = app.url(APP + "course/view?id=7")

    t = ticket_for(c, service)
    assert participants(redis, c) == set()
    attrs = ok(validate(n, t, service), "stu01")
    assert attrs is not None

    rp = "eg:rp:" + sha256_hex(sid)
    assert participants(redis, c) == {("cas %s %s" % (t, service))
                                         .encode()}
    assert 7100 < redis.client().ttl(rp) <= 7200

    assert app.requests() == []

    watch = LogWatch(n.error_log)
    r = c.get("/cas/logout")
    assert r.status == 200
    watch.wait_for(r"edugate: logout: session ended through CAS")

    got = app.wait_requests(1)
    assert len(got) == 1, got
    req = got[0]
    assert (req["path"], req["query"]) == (APP + "course/view", "id=7")
    assert req["headers"]["host"] == "127.0.0.1:%d" % app.port
    assert req["headers"]["connection"] == "close"
    assert logout_request(req) == t

    # the query is not logged: a callback URL may carry secrets
    watch.wait_for(r"\[info\] .*edugate: notify: POST http://127\.0\.0\.1:"
                   r"%d/slo-app/course/view: 200" % app.port)
    assert "id=7" not in watch.text()
    assert redis.client().exists(rp) == 0

    time.sleep(0.5)
    assert len(app.requests()) == 1


def test_every_validated_ticket_is_told(cas_gateway, notify_factory, login,
                                        redis):
    app = notify_factory()
    n = cas_gateway(slo_service(app))
    c = logged_in(n, login)

    tickets = []
    for path in ("a", "b"):
        service = app.url(APP + path)
        t = ticket_for(c, service)
        ok(validate(n, t, service, path="/cas/serviceValidate"), "stu01")
        tickets.append(t)
    t = ticket_for(c, app.url(APP + "c"))
    assert validate(n, t, app.url(APP + "c"), path="/cas/validate").text \
        == "yes\nstu01\n"
    tickets.append(t)
    assert len(participants(redis, c)) == 3

    c.get("/cas/logout")
    got = app.wait_requests(3)
    assert sorted(logout_request(r) for r in got) == sorted(tickets)
    assert sorted(r["path"] for r in got) == [APP + "a", APP + "b", APP + "c"]


def test_logout_url(cas_gateway, notify_factory, login):
    app = notify_factory()
    service = "http://127.0.0.1:%d/portal/" % free_port()
    n = cas_gateway("    edugate_cas_service %s logout_url=%s;\n"
                    % (service, app.url("/cas/slo?from=gateway")))
    c = logged_in(n, login)
    t = ticket_for(c, service)
    ok(validate(n, t, service), "stu01")

    c.get("/cas/logout?service=" + q(service))
    got = app.wait_requests(1)
    assert [(r["path"], r["query"]) for r in got] == [("/cas/slo",
                                                       "from=gateway")]
    assert logout_request(got[0]) == t


def test_no_logout_request_unless_asked_and_validated(cas_gateway,
                                                      notify_factory, login,
                                                      redis):
    app = notify_factory()
    plain = app.url("/plain/")
    n = cas_gateway(slo_service(app)
                    + "    edugate_cas_service %s;\n" % plain)
    c = logged_in(n, login)

    # a service without slo=on, and the default service
    ok(validate(n, ticket_for(c, plain), plain), "stu01")
    ok(validate(n, ticket_for(c), SERVICE), "stu01")

    # an SLO service whose ticket was issued but never validated, or whose
    # validation failed
    ticket_for(c, app.url(APP))
    t = ticket_for(c, app.url(APP))
    assert validate(n, t, app.url(APP + "x")).cas["code"] == "INVALID_SERVICE"

    assert participants(redis, c) == set()
    watch = LogWatch(n.error_log)
    assert c.get("/cas/logout").status == 200
    watch.wait_for(r"edugate: logout: session ended through CAS")
    time.sleep(1.0)
    assert app.requests() == []
    assert "edugate: notify:" not in watch.text()


def test_ticket_of_an_ended_session_adds_nobody(cas_gateway, notify_factory,
                                                 login, redis):
    app = notify_factory()
    n = cas_gateway(slo_service(app))
    c = logged_in(n, login)
    rp = "eg:rp:" + sha256_hex(c.cookie("edugate_session"))
    t = ticket_for(c, app.url(APP))
    c.get("/edugate/logout")
    assert validate(n, t, app.url(APP)).cas["code"] == "INVALID_TICKET"
    assert redis.client().exists(rp) == 0


# ---- the outbound client: failures are logged, nothing waits ----------------

def test_unreachable_service(cas_gateway, login):
    port = free_port()
    service = "http://127.0.0.1:%d/app/" % port
    n = cas_gateway("    edugate_cas_service %s slo=on;\n" % service)
    c = logged_in(n, login)
    ok(validate(n, ticket_for(c, service), service), "stu01")

    watch = LogWatch(n.error_log)
    start = time.monotonic()
    r = c.get("/cas/logout?service=" + q(service))
    assert (r.status, r.location) == (302, service)
    assert time.monotonic() - start < 1.0
    watch.wait_for(r"\[error\] .*edugate: notify: POST http://127\.0\.0\.1:"
                   r"%d/app/: connect\(\) failed \(111: Connection refused\)"
                   % port)


def test_error_answer_is_logged(cas_gateway, notify_factory, login):
    app = notify_factory(status=500)
    n = cas_gateway(slo_service(app))
    c = logged_in(n, login)
    ok(validate(n, ticket_for(c, app.url(APP)), app.url(APP)), "stu01")
    watch = LogWatch(n.error_log)
    c.get("/cas/logout")
    assert len(app.wait_requests(1)) == 1
    watch.wait_for(r"\[warn\] .*edugate: notify: POST http://127\.0\.0\.1:"
                   r"%d/slo-app/: 500" % app.port)


def test_silent_service_times_out_and_blocks_nothing(cas_gateway,
                                                     notify_factory, login):
    app = notify_factory(stall=True)
    n = cas_gateway(slo_service(app) + "    edugate_fetch_timeout 1500ms;\n",
                    workers=1)
    clients = [logged_in(n, login) for _ in range(3)]
    for c in clients:
        ok(validate(n, ticket_for(c, app.url(APP)), app.url(APP)), "stu01")

    watch = LogWatch(n.error_log)
    start = time.monotonic()
    for c in clients:
        assert c.get("/cas/logout").status == 200
    assert time.monotonic() - start < 1.0

    # the one worker keeps answering while three notifications hang
    slowest = 0.0
    while time.monotonic() - start < 1.2:
        t0 = time.monotonic()
        r = HttpClient(n.port).get("/cas/login?service=" + q(SERVICE))
        assert r.status == 302
        slowest = max(slowest, time.monotonic() - t0)
    assert slowest < 0.3, slowest

    watch.wait_for(r"(?s)(\[error\] [^\n]*edugate: notify: POST "
                   r"http://127\.0\.0\.1:%d/slo-app/: timed out after "
                   r"1500ms.*){3}" % app.port, timeout=5)
    assert time.monotonic() - start >= 1.4


# ---- HTTPS ------------------------------------------------------------------

@pytest.fixture
def certs(tmp_path):
    d = tmp_path / "certs"
    return {
        "good": self_signed_cert(d, "good"),
        "other": self_signed_cert(d, "other"),
        "named": self_signed_cert(d, "named", "DNS:other.example"),
    }


def https_gateway(cas_gateway, app, trusted):
    return cas_gateway(slo_service(app)
                       + "    edugate_fetch_trusted_certificate %s;\n"
                       % trusted)


def test_https_service(cas_gateway, notify_factory, login, certs):
    app = notify_factory(tls=certs["good"])
    n = https_gateway(cas_gateway, app, certs["good"][0])
    c = logged_in(n, login)
    t = ticket_for(c, app.url(APP))
    ok(validate(n, t, app.url(APP)), "stu01")
    watch = LogWatch(n.error_log)
    c.get("/cas/logout")
    got = app.wait_requests(1)
    assert [logout_request(r) for r in got] == [t]
    watch.wait_for(r"edugate: notify: POST https://127\.0\.0\.1:%d/slo-app/: "
                   r"200" % app.port)


@pytest.mark.parametrize("cert, trusted, why", [
    ("other", "good", r"certificate not trusted: self[- ]signed "
     r"certificate"),
    ("named", "named", r"certificate does not name the host"),
])
def test_https_service_must_prove_who_it_is(cas_gateway, notify_factory,
                                            login, certs, cert, trusted,
                                            why):
    app = notify_factory(tls=certs[cert])
    n = https_gateway(cas_gateway, app, certs[trusted][0])
    c = logged_in(n, login)
    ok(validate(n, ticket_for(c, app.url(APP)), app.url(APP)), "stu01")
    watch = LogWatch(n.error_log)
    c.get("/cas/logout")
    watch.wait_for(r"\[error\] .*edugate: notify: POST https://127\.0\.0\.1:"
                   r"%d/slo-app/: %s" % (app.port, why))
    time.sleep(0.3)
    assert app.requests() == []


def test_plain_http_to_an_https_service(cas_gateway, notify_factory, login,
                                        certs):
    app = notify_factory(tls=certs["good"])
    url = "http://127.0.0.1:%d%s" % (app.port, APP)
    n = cas_gateway("    edugate_cas_service %s slo=on;\n" % url)
    c = logged_in(n, login)
    ok(validate(n, ticket_for(c, url), url), "stu01")
    watch = LogWatch(n.error_log)
    c.get("/cas/logout")
    watch.wait_for(r"edugate: notify: POST http://127\.0\.0\.1:%d/slo-app/: "
                   r"(bad status line|incomplete response head|recv\(\) "
                   r"failed|empty response)" % app.port)


# ---- configuration ----------------------------------------------------------

@pytest.mark.parametrize("http, message", [
    ("edugate_cas_service http://127.0.0.1:1/ slo=on "
     "logout_url=http://127.0.0.1:1/x;", "exclude each other"),
    ("edugate_cas_service http://127.0.0.1:1/ slo=yes;",
     "invalid or duplicate"),
    ("edugate_cas_service http://127.0.0.1:1/ slo=on slo=on;",
     "invalid or duplicate"),
    ("edugate_cas_service http://127.0.0.1:1/ logout_url=ftp://a/;",
     "invalid single logout URL \"ftp://a/\": scheme"),
    ("edugate_cas_service http://127.0.0.1:1/ logout_url=http://a@b/;",
     "userinfo"),
    ("edugate_cas_service http://127.0.0.1:1/ logout_url=http://b:0/;",
     "bad port"),
    ("edugate_cas_service https://127.0.0.1:1/ slo=on;",
     "needs \"edugate_fetch_trusted_certificate\""),
    ("edugate_cas_service http://127.0.0.1:1/ "
     "logout_url=https://127.0.0.1:2/;",
     "needs \"edugate_fetch_trusted_certificate\""),
    ("edugate_fetch_timeout 0;", "between 1ms and 60s"),
    ("edugate_fetch_timeout 61s;", "between 1ms and 60s"),
    ("edugate_fetch_trusted_certificate /nonexistent/ca.pem;",
     "SSL_CTX_load_verify_locations"),
])
def test_configuration_is_checked(module_path, tmp_path, http, message):
    port = free_port()
    text = nginx_demo_conf(1, 1, 1, port, CAS_HTTP + "    " + http + "\n",
                           CAS_LOCATIONS)
    rc, out = Nginx(tmp_path / "t", port, module_path, "http {}") \
        .test_config(text)
    assert rc != 0 and message in out, out
    assert re.search(r"in \S+:\d+", out), out


def test_configuration_accepted(module_path, tmp_path, certs):
    port = free_port()
    text = nginx_demo_conf(1, 1, 1, port, CAS_HTTP + """
    edugate_fetch_timeout 2s;
    edugate_fetch_trusted_certificate %s;
    edugate_cas_service https://127.0.0.1:1/a/ slo=on match=prefix;
    edugate_cas_service http://localhost:2/b/ logout_url=http://localhost:2/;
""" % certs["good"][0], CAS_LOCATIONS)
    rc, out = Nginx(tmp_path / "t", port, module_path, "http {}") \
        .test_config(text)
    assert rc == 0, out


@pytest.mark.parametrize("logout", ["/edugate/logout", "relogin"])
def test_every_logout_path_tells_the_service(cas_gateway, notify_factory,
                                             login, redis, logout):
    """Not only /cas/logout: the login page's logout and a new login in
    the same browser end the session too, and the service hears of it."""
    app = notify_factory()
    n = cas_gateway(slo_service(app))
    c = logged_in(n, login)
    service = app.url(APP + "x")
    t = ticket_for(c, service)
    assert ok(validate(n, t, service), "stu01") is not None
    assert len(participants(redis, c)) == 1

    if logout == "relogin":
        login(c, "stu02", "Stu02-Passw0rd")
    else:
        assert c.get(logout).status == 200

    got = app.wait_requests(1)
    assert len(got) == 1, got
    assert logout_request(got[0]) == t
