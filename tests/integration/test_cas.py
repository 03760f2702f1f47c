"""Pins the CAS server: /cas/login issues service tickets only to
registered services and on the EduGate session (login page and back when
there is none, gateway and renew as the CAS 3.0 specification says); a
ticket is single use across workers even when its validation fails,
bound to its service, short-lived, and dead once its session has ended;
every serviceValidate answer validates against schemas/cas/cas3.xsd and
keeps hostile directory values as text; Debian's AuthCAS client accepts
our tickets; Redis down is INTERNAL_ERROR, never a success."""

import base64
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from lxml import etree

from servers import (DEMO_DIR, HttpClient, LogWatch, Nginx, free_port,
                     nginx_demo_conf)
from expect import (JSON, echo_identity, expect_error, expect_log,
                    set_cookies, sha256_hex)

HERE = Path(__file__).resolve().parent
XSD = HERE.parents[1] / "schemas" / "cas" / "cas3.xsd"
AUTHCAS_SCRIPT = HERE / "cas_validate.pl"

CAS_NS = "http://www.yale.edu/tp/cas"
NS = {"cas": CAS_NS}

SERVICE = "http://127.0.0.1:8082/cas-app/"
PREFIX = "https://school.example/lms"
ALL_ATTRS = "name,roles,org,orgPath,level,school,grade,class"
TICKET_RE = re.compile(r"^ST-[A-Za-z0-9]{32}$")

CAS_HTTP = """
    edugate_cas_service %s attributes=%s;
    edugate_cas_service %s match=prefix attributes=name;
""" % (SERVICE, ALL_ATTRS, PREFIX)

CAS_LOCATIONS = """
        location = /cas/login             { edugate_cas_login; }
        location = /cas/validate          { edugate_cas_validate; }
        location = /cas/serviceValidate   { edugate_cas_service_validate; }
        location = /cas/p3/serviceValidate {
            edugate_cas_service_validate 3;
        }
        location = /cas/proxyValidate     { edugate_cas_proxy_validate; }
        location = /cas/p3/proxyValidate  {
            edugate_cas_proxy_validate 3;
        }
        location = /cas/proxy             { edugate_cas_proxy; }
        location = /cas/logout            { edugate_cas_logout; }
"""

SCHOOL1 = ("ou=people,eduOrgCode=3137000001,eduOrgCode=370112,"
           "eduOrgCode=370100,eduOrgCode=370000,dc=edu,dc=cn")
HOSTILE_CN = "</cas:user><cas:user>admin</cas:name> & ]]> <![CDATA[x]]>"
MARKUP_UID = "mal<&>lory"


def q(s):
    return urllib.parse.quote(s, safe="")


# ---- fixtures and helpers ---------------------------------------------------

@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A throwaway self-signed certificate for 127.0.0.1 (AuthCAS speaks
    HTTPS only, and checks the certificate against the CA file)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (tests/tools/install-deps.sh)")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def cas_gateway(gateway_factory, tls):
    """cas_gateway(extra_http="", **gateway_factory kw) -> Nginx with the
    CAS endpoints on its port and on .tls_port (HTTPS)."""

    def make(extra_http="", workers=1, **kw):
        cert, key = tls
        port = free_port()
        server = ("        listen 127.0.0.1:%d ssl;\n"
                  "        ssl_certificate %s;\n"
                  "        ssl_certificate_key %s;\n" % (port, cert, key)
                  + CAS_LOCATIONS)
        n = gateway_factory(CAS_HTTP + extra_http, server, workers=workers,
                            **kw)
        n.tls_port = port
        return n

    return make


def schema_valid(body):
    r = subprocess.run(["xmllint", "--noout", "--schema", str(XSD), "-"],
                       input=body, capture_output=True)
    assert r.returncode == 0, "not a CAS 3.0 response:\n%s\n%s" % (
        r.stderr.decode(errors="replace"), body.decode(errors="replace"))


def parse(body):
    """{"user", "attrs": {name: [values]}, "pgt": IOU or None, "proxies":
    [URLs]} or {"code", "text"}."""
    root = etree.fromstring(body)
    assert root.tag == "{%s}serviceResponse" % CAS_NS
    ok = root.find("cas:authenticationSuccess", NS)
    if ok is not None:
        attrs = {}
        node = ok.find("cas:attributes", NS)
        for el in (node if node is not None else []):
            attrs.setdefault(etree.QName(el).localname, []).append(el.text)
        return {"user": ok.find("cas:user", NS).text,
                "attrs": attrs if node is not None else None,
                "pgt": ok.findtext("cas:proxyGrantingTicket", None, NS),
                "proxies": [p.text for p in
                            ok.findall("cas:proxies/cas:proxy", NS)]}
    fail = root.find("cas:authenticationFailure", NS)
    assert fail is not None, body
    return {"code": fail.get("code"), "text": fail.text}


def validate(n, ticket, service=SERVICE, path="/cas/p3/serviceValidate",
             extra="", status=None):
    """A validation request; XML answers are checked against the XSD."""
    query = ""
    if service is not None:
        query += "&service=" + q(service)
    if ticket is not None:
        query += "&ticket=" + q(ticket)
    r = HttpClient(n.port).get(path + "?" + query.lstrip("&") + extra)
    assert r.header("Cache-Control") == "no-store"
    if path.endswith("Validate"):
        assert r.header("Content-Type") == "application/xml; charset=UTF-8"
        schema_valid(r.body)
        r.cas = parse(r.body)
        code = r.cas.get("code")
        assert r.header("X-Edugate-Error") == code
        want = status or (503 if code == "INTERNAL_ERROR" else 200)
        assert r.status == want, (r, r.text)
    return r


def ok(r, user):
    assert r.status == 200, r.text
    assert r.cas.get("user") == user, r.text
    return r.cas["attrs"]


def failed(r, code):
    assert r.cas.get("code") == code, r.text
    assert "authenticationSuccess" not in r.text
    return r.cas["text"]


def ticket_for(c, service=SERVICE, extra=""):
    """/cas/login with a session: the ticket from the redirect."""
    r = c.get("/cas/login?service=" + q(service) + extra)
    assert r.status == 302, "%r %s\n%s" % (r, r.header("X-Edugate-Error"),
                                          r.text)
    sep = "&" if "?" in service else "?"
    assert r.location.startswith(service + sep + "ticket="), r.location
    t = r.location[len(service) + len(sep + "ticket="):]
    assert TICKET_RE.match(t), t
    return t


def logged_in(n, login, user="stu01", password="Stu01-Passw0rd"):
    c = HttpClient(n.port)
    assert login(c, user, password).status == 302
    return c


def authcas(n, tls, service, ticket, path=None):
    """(accepted, output) of AuthCAS->validateST over HTTPS."""
    perl = shutil.which("perl")
    probe = perl and subprocess.run([perl, "-MAuthCAS", "-e", "1"],
                                    capture_output=True).returncode == 0
    if not probe:
        pytest.skip("AuthCAS is not installed (libauthcas-perl, "
                    "tests/tools/install-deps.sh)")
    args = [perl, str(AUTHCAS_SCRIPT), "https://127.0.0.1:%d/cas"
            % n.tls_port, str(tls[0]), service, ticket]
    if path:
        args.append(path)
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def ticket_key(ticket):
    return "eg:cas:st:" + sha256_hex(ticket)


def cas_keys(redis):
    return set(redis.client().scan_iter("eg:cas:st:*"))


def commands(redis, *names):
    stats = redis.client().info("commandstats")
    return {n: stats.get("cmdstat_" + n, {}).get("calls", 0) for n in names}


# ---- happy paths ------------------------------------------------------------

def test_student_ticket_and_p3_attributes(cas_gateway, login, redis):
    n = cas_gateway()
    c = logged_in(n, login)
    watch = LogWatch(n.error_log)
    t = ticket_for(c)
    ttl = redis.client().ttl(ticket_key(t))
    assert 0 < ttl <= 10, ttl
    watch.wait_for(r'edugate: cas: service ticket of "stu01" issued for '
                   r'"http://127\.0\.0\.1:8082/cas-app/"')

    stored = redis.client().get(ticket_key(t)).decode()
    assert t not in stored and "uid=stu01" not in stored

    attrs = ok(validate(n, t), "stu01")
    assert attrs["name"] == ["张小明"]
    assert attrs["roles"] == ["student"]
    assert attrs["org"] == ["3137000001"]
    assert attrs["orgPath"] == ["370000/370100/370112/3137000001"]
    assert attrs["level"] == ["school"]
    assert attrs["school"] == ["3137000001"]
    assert attrs["grade"] == ["07"]
    assert attrs["class"] == ["1"]
    assert attrs["isFromNewLogin"] == ["true"]
    assert attrs["longTermAuthenticationRequestTokenUsed"] == ["false"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                        attrs["authenticationDate"][0])
    assert redis.client().exists(ticket_key(t)) == 0
    watch.wait_for(r'edugate: cas: ticket of "stu01" validated for ')


def test_teacher_on_cas2_and_cas3(cas_gateway, login):
    n = cas_gateway()
    c = logged_in(n, login, "tea01", "Tea01-Passw0rd")

    # CAS 2.0 answers with the user only
    r = validate(n, ticket_for(c), path="/cas/serviceValidate")
    assert ok(r, "tea01") is None
    assert "王老师" not in r.text

    attrs = ok(validate(n, ticket_for(c)), "tea01")
    assert attrs["roles"] == ["teacher"]
    assert attrs["name"] == ["王老师"]
    assert "grade" not in attrs and "class" not in attrs

    # CAS 1.0
    r = validate(n, ticket_for(c), path="/cas/validate")
    assert (r.status, r.text) == (200, "yes\ntea01\n")
    assert r.header("Content-Type") == "text/plain; charset=UTF-8"


def test_prefix_service_and_its_release_policy(cas_gateway, login):
    n = cas_gateway()
    c = logged_in(n, login)
    service = PREFIX + "/course/view?id=7"
    t = ticket_for(c, service)
    attrs = ok(validate(n, t, service), "stu01")
    assert attrs["name"] == ["张小明"]
    assert not {"roles", "org", "school", "grade"} & set(attrs)

    # the ticket is appended after "?" when the service has no query
    ticket_for(c, PREFIX + "/")


def test_login_page_and_back(cas_gateway, login):
    n = cas_gateway()
    c = HttpClient(n.port)
    asked = "/cas/login?service=" + q(SERVICE)
    r = c.get(asked)
    assert r.status == 302
    assert r.header("X-Edugate-Error") == "login_required"
    path, _, query = r.location.partition("?")
    assert path == "/edugate/login"
    back = urllib.parse.parse_qs(query)["return"][0]
    assert back == asked

    r = login(c, "stu01", "Stu01-Passw0rd", return_to=back)
    assert (r.status, r.location) == (302, asked)
    ok(validate(n, ticket_for(c)), "stu01")

    # without a service: the login page, or a page saying who is in
    assert c.get("/cas/login").status == 200
    r = HttpClient(n.port).get("/cas/login")
    assert r.status == 302 and r.location.startswith("/edugate/login?")


# ---- /cas/login refusals, gateway, renew ------------------------------------

@pytest.mark.parametrize("service", [
    "http://127.0.0.1:8082/cas-app/x",
    "http://127.0.0.1:8082/cas-app",
    "http://127.0.0.1:8082/cas-app/?next=1",
    "HTTP://127.0.0.1:8082/cas-app/",
    "https://school.example.evil/lms",
    "https://school.example/lmsx",
    "https://school.example/lms@evil.example/",
    "https://school.example/lms/../admin",
    "https://school.example/lms/%2e%2e/admin",
    "https://school.example/lms#frag",
    "https://school.example/lms?ticket=ST-planted",
    "https://evil.example/",
    "javascript:alert(1)",
    "",
])
def test_unregistered_service_gets_no_ticket(cas_gateway, login, redis,
                                              service):
    n = cas_gateway()
    c = logged_in(n, login)
    watch = LogWatch(n.error_log)
    before = cas_keys(redis)
    for extra in ("", "&gateway=true"):
        r = c.get("/cas/login?service=" + q(service) + extra)
        expect_error(r, 400, "invalid_service")
        assert r.location is None
        assert "ticket=" not in r.text
        expect_log(watch, "invalid_service", r"service \".*\" is not "
                   r"registered", level="warn")
    assert cas_keys(redis) - before == set()


def test_gateway(cas_gateway, login):
    n = cas_gateway()
    anon = HttpClient(n.port)
    r = anon.get("/cas/login?service=" + q(SERVICE) + "&gateway=true")
    assert (r.status, r.location) == (302, SERVICE)

    # with a session, gateway changes nothing
    c = logged_in(n, login)
    ok(validate(n, ticket_for(c, extra="&gateway=true")), "stu01")

    # renew wins over gateway
    r = anon.get("/cas/login?service=" + q(SERVICE)
                 + "&gateway=true&renew=true")
    assert r.status == 302 and r.location.startswith("/edugate/login?")


def age_session(redis, sid, seconds):
    """Moves the login of a session into the past, and drops it from the
    workers' caches (as a logout would) so that they read it again."""
    rc = redis.client()
    key = "eg:sess:" + sha256_hex(sid)
    rec = json.loads(rc.get(key))
    rec["auth_time"] -= seconds
    rc.set(key, json.dumps(rec), keepttl=True)
    rc.publish("eg:revoke", sha256_hex(sid))


def test_renew(cas_gateway, login, redis):
    n = cas_gateway()
    c = logged_in(n, login)

    # a login this minute counts as presenting credentials
    attrs = ok(validate(n, ticket_for(c, extra="&renew=true"),
                        extra="&renew=true"), "stu01")
    assert attrs["isFromNewLogin"] == ["true"]

    age_session(redis, c.cookie("edugate_session"), 120)

    # an SSO ticket: fine without renew, refused with it (and then dead)
    attrs = ok(validate(n, ticket_for(c)), "stu01")
    assert attrs["isFromNewLogin"] == ["false"]
    t = ticket_for(c)
    watch = LogWatch(n.error_log)
    failed(validate(n, t, extra="&renew=true"), "INVALID_TICKET")
    expect_log(watch, "INVALID_TICKET", "renew asked for", level="warn")
    failed(validate(n, t), "INVALID_TICKET")
    r = validate(n, ticket_for(c), path="/cas/validate", extra="&renew=1")
    assert r.text == "no\n"

    # /cas/login?renew=true sends an older login back to the login page
    asked = "/cas/login?service=" + q(SERVICE) + "&renew=true"
    before = cas_keys(redis)
    r = c.get(asked)
    assert r.status == 302, r.text
    assert r.location == "/edugate/login?return=" + q(asked)
    assert cas_keys(redis) - before == set()

    r = login(c, "stu01", "Stu01-Passw0rd", return_to=asked)
    assert (r.status, r.location) == (302, asked)
    t = ticket_for(c, extra="&renew=true")
    attrs = ok(validate(n, t, extra="&renew=true"), "stu01")
    assert attrs["isFromNewLogin"] == ["true"]


# ---- validation refusals ----------------------------------------------------

def test_replay_is_refused(cas_gateway, login):
    n = cas_gateway(workers=2)
    c = logged_in(n, login)
    t = ticket_for(c)
    ok(validate(n, t), "stu01")
    watch = LogWatch(n.error_log)
    for path in ("/cas/p3/serviceValidate", "/cas/serviceValidate"):
        failed(validate(n, t, path=path), "INVALID_TICKET")
    expect_log(watch, "INVALID_TICKET", "ticket unknown, expired or already "
               "used", level="warn")
    assert validate(n, t, path="/cas/validate").text == "no\n"

    t = ticket_for(c)
    assert validate(n, t, path="/cas/validate").text == "yes\nstu01\n"
    failed(validate(n, t), "INVALID_TICKET")


def test_wrong_service_consumes_the_ticket(cas_gateway, login, redis):
    n = cas_gateway()
    c = logged_in(n, login)
    t = ticket_for(c)
    watch = LogWatch(n.error_log)
    failed(validate(n, t, PREFIX + "/"), "INVALID_SERVICE")
    expect_log(watch, "INVALID_SERVICE", r'ticket of "stu01" issued for '
               r'"http://127\.0\.0\.1:8082/cas-app/" presented for '
               r'"https://school\.example/lms/"', level="warn")
    assert redis.client().exists(ticket_key(t)) == 0
    failed(validate(n, t), "INVALID_TICKET")

    # byte-exact: the same URL spelled differently is another service
    for other in ("http://127.0.0.1:8082/cas-app", "HTTP://127.0.0.1:8082/"
                  "cas-app/", "http://127.0.0.1:8082/cas-app/?x=1"):
        t = ticket_for(c)
        failed(validate(n, t, other), "INVALID_SERVICE")
        failed(validate(n, t), "INVALID_TICKET")

    t = ticket_for(c)
    assert validate(n, t, PREFIX + "/",
                    path="/cas/validate").text == "no\n"
    failed(validate(n, t), "INVALID_TICKET")


@pytest.mark.parametrize("ticket", [
    "ST-1\r\nFLUSHALL",
    "ST-1 2",
    "ST-*",
    "ST-",
    "st-abc",
    "TGT-abcdef",
    "ST-abc_def",
    "ST-" + "a" * 300,
    "ST-\u00e9t\u00e9",
])
def test_malformed_ticket_never_reaches_redis(cas_gateway, redis, ticket):
    n = cas_gateway()
    before = commands(redis, "eval", "getdel", "get")
    watch = LogWatch(n.error_log)
    failed(validate(n, ticket), "INVALID_TICKET")
    expect_log(watch, "INVALID_TICKET", "malformed ticket", level="warn")
    assert validate(n, ticket, path="/cas/validate").text == "no\n"
    assert commands(redis, "eval", "getdel", "get") == before


def test_proxy_ticket_and_proxy_callback(cas_gateway, login, redis):
    n = cas_gateway()
    failed(validate(n, "PT-abcdef"), "INVALID_TICKET_SPEC")

    # pgtUrl: proxying is not offered, nobody is called, the ticket is spent
    trap = socket.socket()
    trap.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    trap.bind(("127.0.0.1", 0))
    trap.listen(4)
    trap.settimeout(0.5)
    try:
        c = logged_in(n, login)
        t = ticket_for(c)
        watch = LogWatch(n.error_log)
        url = "https://127.0.0.1:%d/pgt" % trap.getsockname()[1]
        failed(validate(n, t, extra="&pgtUrl=" + q(url)),
               "UNAUTHORIZED_SERVICE_PROXY")
        expect_log(watch, "UNAUTHORIZED_SERVICE_PROXY",
                   "pgtUrl given.*no callback", level="warn")
        with pytest.raises(socket.timeout):
            trap.accept()
    finally:
        trap.close()
    failed(validate(n, t), "INVALID_TICKET")


@pytest.mark.parametrize("query", [
    "",
    "service=" + q(SERVICE),
    "ticket=ST-abc",
    "service=&ticket=ST-abc",
    "service=" + q(SERVICE) + "&ticket=",
    "service=" + q(SERVICE) + "&ticket=ST-a&ticket=ST-b",
    "service=" + q(SERVICE) + "&ticket=ST-%zz",
    "service=" + q(SERVICE) + "&ticket=ST-a%00b",
    "service=" + q(SERVICE) + "&ticket=ST-abc&format=JSON",
    "service=" + q(SERVICE) + "&ticket=ST-abc&format=html",
])
def test_invalid_request(cas_gateway, redis, query):
    n = cas_gateway()
    before = commands(redis, "eval")
    watch = LogWatch(n.error_log)
    for path in ("/cas/serviceValidate", "/cas/p3/serviceValidate"):
        r = HttpClient(n.port).get(path + "?" + query)
        schema_valid(r.body)
        assert r.status == 200
        assert parse(r.body)["code"] == "INVALID_REQUEST", r.text
    expect_log(watch, "INVALID_REQUEST", level="info")
    assert commands(redis, "eval") == before


def test_format_xml_is_accepted(cas_gateway, login):
    n = cas_gateway()
    c = logged_in(n, login)
    ok(validate(n, ticket_for(c), extra="&format=XML"), "stu01")


def test_validation_methods(cas_gateway):
    n = cas_gateway()
    r = HttpClient(n.port).post("/cas/p3/serviceValidate",
                                "service=x&ticket=ST-a",
                                "application/x-www-form-urlencoded",
                                headers=JSON)
    expect_error(r, 405, "method_not_allowed", want_json=True)


def test_ticket_expires(cas_gateway, login, redis):
    n = cas_gateway("    edugate_cas_ticket_ttl 1s;\n")
    c = logged_in(n, login)
    t = ticket_for(c)
    assert redis.client().ttl(ticket_key(t)) == 1
    time.sleep(1.6)
    failed(validate(n, t), "INVALID_TICKET")


def test_parallel_validation_one_winner(cas_gateway, login):
    n = cas_gateway(workers=2)
    c = logged_in(n, login)
    t = ticket_for(c)
    url = ("/cas/p3/serviceValidate?service=" + q(SERVICE) + "&ticket="
           + t)
    start = threading.Barrier(20)
    answers = []

    def one():
        client = HttpClient(n.port)
        start.wait()
        answers.append(client.get(url))

    threads = [threading.Thread(target=one) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert len(answers) == 20
    codes = []
    for r in answers:
        schema_valid(r.body)
        doc = parse(r.body)
        codes.append(doc.get("user") or doc.get("code"))
    assert sorted(codes) == ["INVALID_TICKET"] * 19 + ["stu01"], codes


# ---- logout -----------------------------------------------------------------

def test_cas_logout_ends_the_session_everywhere(cas_gateway, login, redis):
    n = cas_gateway(workers=2)
    c = logged_in(n, login)
    sid = c.cookie("edugate_session")
    echo_identity(c)
    pending = ticket_for(c)

    watch = LogWatch(n.error_log)
    r = c.get("/cas/logout?service=" + q(SERVICE))
    assert (r.status, r.location) == (302, SERVICE)
    value, attrs = set_cookies(r)["edugate_session"]
    assert value == "" and "Max-Age=0" in attrs
    watch.wait_for(r"edugate: logout: session ended through CAS")
    assert redis.client().exists("eg:sess:" + sha256_hex(sid)) == 0

    for _ in range(4):
        r = HttpClient(n.port).get("/apps/echo/", headers=dict(
            JSON, Cookie="edugate_session=" + sid), cookies=False)
        expect_error(r, 401, "session_expired", want_json=True)

    # a ticket issued before the logout dies with the session
    failed(validate(n, pending), "INVALID_TICKET")
    expect_log(watch, "INVALID_TICKET", "the session that issued the ticket "
               'of "stu01" has ended', level="warn")

    # and the next /cas/login goes to the login page
    r = c.get("/cas/login?service=" + q(SERVICE))
    assert r.status == 302 and r.location.startswith("/edugate/login?")


@pytest.mark.parametrize("query", [
    "service=" + q("https://evil.example/"),
    "url=" + q(SERVICE),
    "url=" + q("https://evil.example/"),
    "",
])
def test_cas_logout_redirects_only_to_services(cas_gateway, login, query):
    n = cas_gateway()
    c = logged_in(n, login)
    r = c.get("/cas/logout?" + query)
    assert r.status == 200, r
    assert r.location is None
    assert r.header("X-Edugate-Error") == "logged_out"
    assert set_cookies(r)["edugate_session"][0] == ""
    r = c.get("/apps/echo/", headers=JSON)
    assert r.status == 401


# ---- Redis down -------------------------------------------------------------

def test_redis_down_is_internal_error(cas_gateway, redis_factory, login):
    r = redis_factory()
    n = cas_gateway(redis=r)
    c = logged_in(n, login)
    t = ticket_for(c)
    r.stop()

    watch = LogWatch(n.error_log)
    failed(validate(n, t), "INTERNAL_ERROR")
    expect_log(watch, "INTERNAL_ERROR", "(redis is not connected|ticket "
               "validation: )", level="error")
    failed(validate(n, t, path="/cas/serviceValidate"), "INTERNAL_ERROR")
    resp = validate(n, t, path="/cas/validate")
    assert (resp.status, resp.text) == (503, "no\n")

    # no ticket is issued, no redirect is made
    resp = c.get("/cas/login?service=" + q(SERVICE))
    expect_error(resp, 503, "session_store_unavailable")
    assert resp.location is None


def test_redis_stalled_is_internal_error(cas_gateway, redis_factory, login):
    r = redis_factory()
    n = cas_gateway(redis=r)
    c = logged_in(n, login)
    t = ticket_for(c)
    r.pause()
    try:
        watch = LogWatch(n.error_log)
        failed(validate(n, t), "INTERNAL_ERROR")
        expect_log(watch, "INTERNAL_ERROR", level="error")
    finally:
        r.resume()
    # the timed-out attempt still reached Redis: the ticket is spent
    time.sleep(0.3)
    failed(validate(n, t), "INVALID_TICKET")


# ---- an independent client, hostile directory data --------------------------

def test_authcas_accepts_our_tickets(cas_gateway, login, tls):
    n = cas_gateway()
    c = logged_in(n, login)
    t = ticket_for(c)
    assert authcas(n, tls, SERVICE, t) == (True, "user: stu01")
    # AuthCAS reports the failure text, not the code
    accepted, out = authcas(n, tls, SERVICE, t)
    assert not accepted and "The ticket is not valid." in out, out

    t = ticket_for(c)
    accepted, out = authcas(n, tls, PREFIX + "/", t)
    assert not accepted and "another service" in out, out

    c = logged_in(n, login, "tea01", "Tea01-Passw0rd")
    t = ticket_for(c, PREFIX + "/a?b=c")
    assert authcas(n, tls, PREFIX + "/a?b=c", t,
                   "/p3/serviceValidate") == (True, "user: tea01")


def person(uid, cn, password):
    rdn = re.sub(r'([<>"+,;\\])', r"\\\1", uid)
    return "\n".join([
        "dn: uid=%s,%s" % (rdn, SCHOOL1),
        "objectClass: inetOrgPerson",
        "objectClass: eduPerson",
        "uid: %s" % uid,
        "cn:: %s" % base64.b64encode(cn.encode()).decode(),
        "sn: x",
        "eduRole: student",
        "eduOrgLevel: school",
        "userPassword: %s" % password]) + "\n\n"


def test_hostile_directory_values_stay_text(cas_gateway, slapd_factory,
                                            login, tls, tmp_path):
    ldif = tmp_path / "hostile.ldif"
    ldif.write_text(
        (DEMO_DIR / "directory.ldif").read_text(encoding="utf-8").rstrip()
        + "\n\n" + person("hostile", HOSTILE_CN, "Hostile-Passw0rd")
        + person(MARKUP_UID, "Markup", "Markup-Passw0rd"),
        encoding="utf-8")
    s = slapd_factory(ldif=ldif)
    n = cas_gateway(slapd=s)

    c = logged_in(n, login, "hostile", "Hostile-Passw0rd")
    r = validate(n, ticket_for(c))
    attrs = ok(r, "hostile")
    assert attrs["name"] == [HOSTILE_CN]
    assert "<cas:user>admin" not in r.text
    assert "&lt;/cas:user&gt;&lt;cas:user&gt;admin" in r.text
    ok(validate(n, ticket_for(c), path="/cas/serviceValidate"), "hostile")
    assert authcas(n, tls, SERVICE, ticket_for(c)) == (True,
                                                       "user: hostile")

    c = logged_in(n, login, MARKUP_UID, "Markup-Passw0rd")
    r = validate(n, ticket_for(c))
    ok(r, MARKUP_UID)
    assert "<cas:user>mal&lt;&amp;&gt;lory</cas:user>" in r.text


# ---- configuration ----------------------------------------------------------

@pytest.mark.parametrize("http, message", [
    ("edugate_cas_service ftp://a/;", "scheme is not http"),
    ("edugate_cas_service http://u@a/;", "userinfo"),
    ("edugate_cas_service http://a/#x;", "fragment"),
    ("edugate_cas_service http://a/ match=fuzzy;", "invalid or duplicate"),
    ("edugate_cas_service http://a/ attributes=name,dn;", "the attributes "
     "are name"),
    ("edugate_cas_service http://a/ match=exact match=prefix;",
     "invalid or duplicate"),
    ("edugate_cas_service http://a/; edugate_cas_service http://a/;",
     "registered twice"),
    ("edugate_cas_service http://a/; edugate_cas_ticket_ttl 0;",
     "between 1s and 300s"),
    ("edugate_cas_service http://a/; edugate_cas_ticket_ttl 301s;",
     "between 1s and 300s"),
    ("", "need at least one"),
])
def test_configuration_is_checked(module_path, tmp_path, http, message):
    port = free_port()
    text = nginx_demo_conf(1, 1, 1, port, "    " + http + "\n",
                           CAS_LOCATIONS)
    rc, out = Nginx(tmp_path / "t", port, module_path, "http {}") \
        .test_config(text)
    assert rc != 0 and message in out, out
    assert re.search(r"in \S+:\d+", out), out

    good = nginx_demo_conf(1, 1, 1, port, CAS_HTTP, CAS_LOCATIONS)
    rc, out = Nginx(tmp_path / "u", port, module_path, "http {}") \
        .test_config(good)
    assert rc == 0, out


def test_service_validate_version_is_checked(module_path, tmp_path):
    port = free_port()
    text = nginx_demo_conf(1, 1, 1, port, CAS_HTTP, CAS_LOCATIONS.replace(
        "edugate_cas_service_validate 3;", "edugate_cas_service_validate 4;"))
    rc, out = Nginx(tmp_path / "t", port, module_path, "http {}") \
        .test_config(text)
    assert rc != 0 and "expected 2 or 3" in out, out
