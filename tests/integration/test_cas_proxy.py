"""Pins CAS proxying: a service registered with proxy=on passes a pgtUrl
below its proxy_callback and gets a PGT IOU only after a real callback
server has received the PGT and answered 200; /cas/proxy turns the PGT
into single-use proxy tickets for registered services, which
/cas/proxyValidate accepts with the proxy chain (last proxy first) and
/cas/serviceValidate refuses; a PGT dies with its session.  pgtUrls that
are not registered, not below the prefix, not https (unless registered on
loopback), whose callback fails, answers an error, stalls or presents an
untrusted certificate get no PGT, and the stall blocks nothing else.
Every answer validates against schemas/cas/cas3.xsd; Debian's AuthCAS
runs the whole proxy flow."""

import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from lxml import etree

from servers import HttpClient, LogWatch, Nginx, free_port, \
    nginx_demo_conf, self_signed_cert
from expect import sha256_hex
from test_cas import (CAS_HTTP, CAS_LOCATIONS, CAS_NS, NS, PREFIX,  # noqa
                      SERVICE, cas_gateway, commands, failed, logged_in, ok,
                      q, schema_valid, ticket_for, tls, validate)
from test_cas_slo import logout_request

HERE = Path(__file__).resolve().parent
AUTHCAS_PROXY = HERE / "cas_proxy.pl"

PORTAL = "https://portal.school.example/app/"
BACKEND = "https://backend.school.example/api/"
PGT_RE = re.compile(r"^PGT-[A-Za-z0-9]{32}$")
IOU_RE = re.compile(r"^PGTIOU-[A-Za-z0-9]{32}$")
PT_RE = re.compile(r"^PT-[A-Za-z0-9]{32}$")


def proxy_service(url, cb, path="/pgt", extra=""):
    return ("    edugate_cas_service %s match=prefix proxy=on "
            "proxy_callback=%s%s;\n" % (url, cb.url(path), extra))


def proxy(n, pgt, target, status=None):
    """/cas/proxy; {"ticket"} or {"code", "text"}, schema-checked."""
    r = HttpClient(n.port).get("/cas/proxy?pgt=" + q(pgt)
                               + "&targetService=" + q(target))
    assert r.header("Content-Type") == "application/xml; charset=UTF-8"
    assert r.header("Cache-Control") == "no-store"
    schema_valid(r.body)
    root = etree.fromstring(r.body)
    assert root.tag == "{%s}serviceResponse" % CAS_NS
    success = root.find("cas:proxySuccess", NS)
    if success is not None:
        assert r.status == 200
        assert r.header("X-Edugate-Error") is None
        return {"ticket": success.findtext("cas:proxyTicket", None, NS)}
    fail = root.find("cas:proxyFailure", NS)
    assert fail is not None, r.text
    assert r.header("X-Edugate-Error") == fail.get("code")
    assert r.status == (status or (503 if fail.get("code") == "INTERNAL_ERROR"
                                   else 200))
    return {"code": fail.get("code"), "text": fail.text}


def pgt_for(n, c, cb, service=PORTAL, path="/pgt", ticket=None,
            endpoint="/cas/serviceValidate"):
    """Validates a ticket with a pgtUrl: (answer, pgtUrl, PGT)."""
    before = len(cb.requests())
    pgt_url = cb.url(path)
    t = ticket or ticket_for(c, service)
    r = validate(n, t, service, path=endpoint, extra="&pgtUrl=" + q(pgt_url))
    assert r.cas.get("user"), r.text
    got = cb.wait_requests(before + 1)
    assert len(got) == before + 1, got
    req = got[-1]
    args = urllib.parse.parse_qs(req["query"])
    assert req["method"] == "GET"
    assert args["pgtIou"] == [r.cas["pgt"]]
    return r, pgt_url, args["pgtId"][0]


def pgt_keys(redis):
    return set(redis.client().scan_iter("eg:cas:pgt:*"))


# ---- the proxy flow ---------------------------------------------------------

def test_proxy_flow(cas_gateway, notify_factory, login, redis):
    cb = notify_factory()
    n = cas_gateway(proxy_service(PORTAL, cb))
    c = logged_in(n, login, "tea01", "Tea01-Passw0rd")
    t = ticket_for(c, PORTAL + "home")
    pgt_url = cb.url("/pgt/receive?app=1")

    watch = LogWatch(n.error_log)
    r = validate(n, t, PORTAL + "home", path="/cas/serviceValidate",
                 extra="&pgtUrl=" + q(pgt_url))
    assert ok(r, "tea01") is None
    assert IOU_RE.match(r.cas["pgt"]), r.text
    assert r.cas["proxies"] == []

    [req] = cb.requests()
    assert (req["method"], req["path"]) == ("GET", "/pgt/receive")
    args = urllib.parse.parse_qs(req["query"], strict_parsing=True)
    assert args["app"] == ["1"] and args["pgtIou"] == [r.cas["pgt"]]
    pgt = args["pgtId"][0]
    assert PGT_RE.match(pgt), pgt
    assert req["query"].startswith("app=1&pgtIou=")

    # stored under its hash, alive as long as the session can be
    key = "eg:cas:pgt:" + sha256_hex(pgt)
    stored = redis.client().get(key).decode()
    assert pgt not in stored and r.cas["pgt"] not in stored
    assert 28700 < redis.client().ttl(key) <= 28800
    assert pgt not in watch.text()
    watch.wait_for(r'edugate: cas: ticket of "tea01" validated for '
                   r'".*", proxy-granting ticket issued')

    # proxy tickets for registered services, as many as needed
    pt = proxy(n, pgt, SERVICE)["ticket"]
    assert PT_RE.match(pt), pt
    assert 0 < redis.client().ttl("eg:cas:pt:" + sha256_hex(pt)) <= 10
    watch.wait_for(r'edugate: cas: proxy ticket of "tea01" issued for '
                   r'"http://127\.0\.0\.1:8082/cas-app/" through ')
    pt_prefix = proxy(n, pgt, PREFIX + "/course")["ticket"]
    assert pt_prefix != pt

    # the target's own release policy, and who proxied
    r = validate(n, pt, SERVICE, path="/cas/p3/proxyValidate")
    attrs = ok(r, "tea01")
    assert attrs["name"] == ["王老师"] and attrs["roles"] == ["teacher"]
    assert attrs["isFromNewLogin"] == ["false"]
    assert r.cas["proxies"] == [pgt_url]
    assert r.cas["pgt"] is None

    r = validate(n, pt_prefix, PREFIX + "/course", path="/cas/proxyValidate")
    assert ok(r, "tea01") is None
    assert r.cas["proxies"] == [pgt_url]

    # single use
    failed(validate(n, pt, SERVICE, path="/cas/p3/proxyValidate"),
           "INVALID_TICKET")
    failed(validate(n, pt_prefix, PREFIX + "/course",
                    path="/cas/proxyValidate"), "INVALID_TICKET")

    # proxyValidate takes service tickets too, without a chain
    r = validate(n, ticket_for(c), SERVICE, path="/cas/p3/proxyValidate")
    ok(r, "tea01")
    assert r.cas["proxies"] == [] and "cas:proxies" not in r.text

    # a PGT is a long-lived credential: in no log, nor its IOU
    for log in (n.error_log, n.access_log):
        text = Path(log).read_text(errors="replace")
        assert pgt not in text and args["pgtIou"][0] not in text
    assert "GET /cas/proxy HTTP/1.1" in Path(n.access_log).read_text()


def test_proxy_ticket_refusals(cas_gateway, notify_factory, login, redis):
    cb = notify_factory()
    n = cas_gateway(proxy_service(PORTAL, cb))
    c = logged_in(n, login)
    _, _, pgt = pgt_for(n, c, cb)

    # /serviceValidate never accepts one, and spends it
    pt = proxy(n, pgt, SERVICE)["ticket"]
    watch = LogWatch(n.error_log)
    for path in ("/cas/serviceValidate", "/cas/p3/serviceValidate"):
        failed(validate(n, pt, SERVICE, path=path), "INVALID_TICKET_SPEC")
    watch.wait_for(r"edugate: INVALID_TICKET_SPEC: proxy ticket presented")
    time.sleep(0.2)
    assert redis.client().exists("eg:cas:pt:" + sha256_hex(pt)) == 0
    failed(validate(n, pt, SERVICE, path="/cas/proxyValidate"),
           "INVALID_TICKET")
    assert validate(n, proxy(n, pgt, SERVICE)["ticket"], SERVICE,
                    path="/cas/validate").text == "no\n"

    # bound to its target service
    pt = proxy(n, pgt, SERVICE)["ticket"]
    failed(validate(n, pt, PREFIX + "/", path="/cas/proxyValidate"),
           "INVALID_SERVICE")
    failed(validate(n, pt, SERVICE, path="/cas/proxyValidate"),
           "INVALID_TICKET")

    # renew: a proxy ticket never comes from a fresh login
    pt = proxy(n, pgt, SERVICE)["ticket"]
    failed(validate(n, pt, SERVICE, path="/cas/proxyValidate",
                    extra="&renew=true"), "INVALID_TICKET")

    # a PGT is no ticket, and a PT is no PGT
    failed(validate(n, pgt, SERVICE, path="/cas/proxyValidate"),
           "INVALID_TICKET")
    assert proxy(n, proxy(n, pgt, SERVICE)["ticket"], SERVICE)["code"] == \
        "INVALID_TICKET"


def test_proxy_chain(cas_gateway, notify_factory, login):
    cb = notify_factory()
    n = cas_gateway(proxy_service(PORTAL, cb, "/a")
                    + proxy_service(BACKEND, cb, "/b"))
    c = logged_in(n, login)
    _, url_a, pgt = pgt_for(n, c, cb, path="/a")

    # the backend validates its proxy ticket and becomes a proxy itself
    pt = proxy(n, pgt, BACKEND)["ticket"]
    r, url_b, pgt2 = pgt_for(n, c, cb, BACKEND, "/b", ticket=pt,
                             endpoint="/cas/proxyValidate")
    assert r.cas["proxies"] == [url_a]

    r = validate(n, proxy(n, pgt2, SERVICE)["ticket"], SERVICE,
                 path="/cas/p3/proxyValidate")
    ok(r, "stu01")
    assert r.cas["proxies"] == [url_b, url_a]

    # a chain stops at four proxies
    chain = [url_b, url_a]
    while len(chain) < 4:
        pt = proxy(n, pgt2, BACKEND)["ticket"]
        r, url, pgt2 = pgt_for(n, c, cb, BACKEND, "/b", ticket=pt,
                               endpoint="/cas/proxyValidate")
        assert r.cas["proxies"] == chain
        chain.insert(0, url)
    pt = proxy(n, pgt2, BACKEND)["ticket"]
    before = len(cb.requests())
    failed(validate(n, pt, BACKEND, path="/cas/proxyValidate",
                    extra="&pgtUrl=" + q(cb.url("/b"))),
           "UNAUTHORIZED_SERVICE_PROXY")
    assert len(cb.requests()) == before
    r = validate(n, proxy(n, pgt2, SERVICE)["ticket"], SERVICE,
                 path="/cas/proxyValidate")
    assert r.cas["proxies"] == chain


def test_single_logout_of_a_proxied_service(cas_gateway, notify_factory,
                                            login):
    cb = notify_factory()
    app = notify_factory()
    target = app.url("/slo-app/")
    n = cas_gateway(proxy_service(PORTAL, cb)
                    + "    edugate_cas_service %s slo=on;\n" % target)
    c = logged_in(n, login)
    _, _, pgt = pgt_for(n, c, cb)
    pt = proxy(n, pgt, target)["ticket"]
    ok(validate(n, pt, target, path="/cas/proxyValidate"), "stu01")
    c.get("/cas/logout")
    got = app.wait_requests(1)
    assert [logout_request(req) for req in got] == [pt]


# ---- a PGT lives as long as its session -------------------------------------

@pytest.mark.parametrize("how", ["/cas/logout", "/edugate/logout"])
def test_pgt_dies_with_the_session(cas_gateway, notify_factory, login, redis,
                                   how):
    cb = notify_factory()
    n = cas_gateway(proxy_service(PORTAL, cb))
    c = logged_in(n, login)
    _, _, pgt = pgt_for(n, c, cb)
    pending = proxy(n, pgt, SERVICE)["ticket"]
    key = "eg:cas:pgt:" + sha256_hex(pgt)
    assert redis.client().exists(key) == 1

    c.get(how)
    watch = LogWatch(n.error_log)
    assert proxy(n, pgt, SERVICE)["code"] == "INVALID_TICKET"
    watch.wait_for(r"\[warn\] .*edugate: INVALID_TICKET: the session of the "
                   r'proxy-granting ticket of "stu01" has ended')
    assert redis.client().exists(key) == 0
    assert proxy(n, pgt, SERVICE)["code"] == "INVALID_TICKET"

    # a proxy ticket issued before dies too
    failed(validate(n, pending, SERVICE, path="/cas/proxyValidate"),
           "INVALID_TICKET")


def test_service_that_may_no_longer_proxy(cas_gateway, notify_factory,
                                          login):
    cb = notify_factory()
    n = cas_gateway(proxy_service(PORTAL, cb))
    c = logged_in(n, login)
    _, _, pgt = pgt_for(n, c, cb)
    assert "ticket" in proxy(n, pgt, SERVICE)

    watch = LogWatch(n.error_log)
    n.reload(n.conf_text.replace(
        "proxy=on proxy_callback=%s" % cb.url("/pgt"), ""))
    watch.wait_for(r"redis command connection to .* established")
    assert proxy(n, pgt, SERVICE)["code"] == "UNAUTHORIZED_SERVICE_PROXY"
    watch.wait_for(r"edugate: UNAUTHORIZED_SERVICE_PROXY: \"%s\" may no "
                   r"longer proxy" % re.escape(PORTAL))


# ---- pgtUrl refusals --------------------------------------------------------

@pytest.mark.parametrize("pgt_url", [
    "{cb}/other",
    "{cb}/pgtx",
    "{cb}/pgt/../admin",
    "{cb}/pgt/%2e%2e/admin",
    "{cb}/pgt?pgtId=PGT-planted",
    "{cb}/pgt?x&pgtIou=PGTIOU-planted",
    "{cb}/pgt#frag",
    "{tls}/pgt",
    "http://127.0.0.2:{port}/pgt",
    "http://127.0.0.1:{port}@evil.example/pgt",
    "",
])
def test_pgt_url_not_registered(cas_gateway, notify_factory, login, redis,
                                pgt_url):
    cb = notify_factory()
    n = cas_gateway(proxy_service(PORTAL, cb))
    c = logged_in(n, login)
    t = ticket_for(c, PORTAL)
    pgt_url = pgt_url.format(cb="http://127.0.0.1:%d" % cb.port,
                             tls="https://127.0.0.1:%d" % cb.port,
                             port=cb.port)
    before = pgt_keys(redis)
    watch = LogWatch(n.error_log)
    failed(validate(n, t, PORTAL, extra="&pgtUrl=" + q(pgt_url)),
           "INVALID_PROXY_CALLBACK")
    watch.wait_for(r"\[warn\] .*edugate: INVALID_PROXY_CALLBACK: pgtUrl "
                   r".* refused: .*; no callback made")
    time.sleep(0.2)
    assert cb.requests() == []
    assert pgt_keys(redis) == before
    failed(validate(n, t, PORTAL), "INVALID_TICKET")


def test_service_without_proxy_rights(cas_gateway, notify_factory, login):
    cb = notify_factory()
    n = cas_gateway(proxy_service(PORTAL, cb))
    c = logged_in(n, login)
    watch = LogWatch(n.error_log)
    failed(validate(n, ticket_for(c), SERVICE,
                    extra="&pgtUrl=" + q(cb.url("/pgt"))),
           "UNAUTHORIZED_SERVICE_PROXY")
    watch.wait_for(r"edugate: UNAUTHORIZED_SERVICE_PROXY: pgtUrl given, but "
                   r"\"http://127\.0\.0\.1:8082/cas-app/\" may not proxy")
    time.sleep(0.2)
    assert cb.requests() == []


@pytest.mark.parametrize("answer", ["404", "302", "500", "refused"])
def test_callback_that_fails_gets_no_pgt(cas_gateway, notify_factory, login,
                                         redis, answer):
    if answer == "refused":
        port = free_port()
        cb_url = "http://127.0.0.1:%d/pgt" % port
        n = cas_gateway("    edugate_cas_service %s proxy=on "
                        "proxy_callback=%s;\n" % (PORTAL, cb_url))
        cb = None
    else:
        cb = notify_factory(status=int(answer))
        cb_url = cb.url("/pgt")
        n = cas_gateway(proxy_service(PORTAL, cb))
    c = logged_in(n, login)
    t = ticket_for(c, PORTAL)
    before = pgt_keys(redis)
    watch = LogWatch(n.error_log)
    failed(validate(n, t, PORTAL, extra="&pgtUrl=" + q(cb_url)),
           "INVALID_PROXY_CALLBACK")
    watch.wait_for(r"edugate: INVALID_PROXY_CALLBACK: pgtUrl \"%s\" %s; no "
                   r"proxy-granting ticket issued"
                   % (re.escape(cb_url), "failed" if cb is None
                      else "answered " + answer))
    assert pgt_keys(redis) == before

    if cb is not None:
        # the PGT it was sent is worth nothing
        [req] = cb.requests()
        pgt = urllib.parse.parse_qs(req["query"])["pgtId"][0]
        assert proxy(n, pgt, SERVICE)["code"] == "INVALID_TICKET"
    failed(validate(n, t, PORTAL), "INVALID_TICKET")


def test_stalled_callback_times_out_and_blocks_nothing(cas_gateway,
                                                       notify_factory,
                                                       login, redis):
    cb = notify_factory(stall=True)
    n = cas_gateway(proxy_service(PORTAL, cb)
                    + "    edugate_fetch_timeout 1s;\n", workers=1)
    c = logged_in(n, login)
    t = ticket_for(c, PORTAL)
    answers = []

    def validation():
        answers.append(validate(n, t, PORTAL,
                                extra="&pgtUrl=" + q(cb.url("/pgt"))))

    watch = LogWatch(n.error_log)
    start = time.monotonic()
    th = threading.Thread(target=validation)
    th.start()

    # the one worker answers others while the callback hangs
    time.sleep(0.2)
    slowest = 0.0
    while th.is_alive() and time.monotonic() - start < 0.9:
        t0 = time.monotonic()
        assert HttpClient(n.port).get("/cas/login").status == 302
        slowest = max(slowest, time.monotonic() - t0)
    assert slowest < 0.3, slowest

    th.join(10)
    assert time.monotonic() - start >= 0.95
    failed(answers[0], "INVALID_PROXY_CALLBACK")
    watch.wait_for(r"edugate: notify: GET http://127\.0\.0\.1:%d/pgt: "
                   r"timed out after 1000ms" % cb.port)


def test_client_gone_before_the_callback_answers(cas_gateway, notify_factory,
                                                 login):
    cb = notify_factory(stall=True)
    n = cas_gateway(proxy_service(PORTAL, cb)
                    + "    edugate_fetch_timeout 1s;\n", workers=1)
    c = logged_in(n, login)
    t = ticket_for(c, PORTAL)
    client = HttpClient(n.port, timeout=0.3)
    with pytest.raises(OSError):
        client.get("/cas/serviceValidate?service=" + q(PORTAL) + "&ticket="
                   + t + "&pgtUrl=" + q(cb.url("/pgt")))
    watch = LogWatch(n.error_log)
    watch.wait_for(r"edugate: notify: GET .*: timed out after 1000ms",
                   timeout=5)
    assert HttpClient(n.port).get("/cas/login").status == 302


# ---- HTTPS callbacks --------------------------------------------------------

@pytest.fixture
def certs(tmp_path):
    d = tmp_path / "certs"
    return {"good": self_signed_cert(d, "good"),
            "other": self_signed_cert(d, "other")}


def test_https_callback(cas_gateway, notify_factory, login, certs):
    cb = notify_factory(tls=certs["good"])
    n = cas_gateway(proxy_service(PORTAL, cb)
                    + "    edugate_fetch_trusted_certificate %s;\n"
                    % certs["good"][0])
    c = logged_in(n, login)
    r, url, pgt = pgt_for(n, c, cb)
    assert url.startswith("https://")
    assert PGT_RE.match(pgt)


def test_untrusted_https_callback(cas_gateway, notify_factory, login,
                                  redis, certs):
    cb = notify_factory(tls=certs["other"])
    n = cas_gateway(proxy_service(PORTAL, cb)
                    + "    edugate_fetch_trusted_certificate %s;\n"
                    % certs["good"][0])
    c = logged_in(n, login)
    before = pgt_keys(redis)
    watch = LogWatch(n.error_log)
    failed(validate(n, ticket_for(c, PORTAL), PORTAL,
                    extra="&pgtUrl=" + q(cb.url("/pgt"))),
           "INVALID_PROXY_CALLBACK")
    watch.wait_for(r"edugate: notify: GET https://127\.0\.0\.1:%d/pgt: "
                   r"certificate not trusted" % cb.port)
    assert cb.requests() == []
    assert pgt_keys(redis) == before


# ---- /cas/proxy refusals ----------------------------------------------------

@pytest.mark.parametrize("query", [
    "",
    "pgt=PGT-abc",
    "targetService=" + q(SERVICE),
    "pgt=&targetService=" + q(SERVICE),
    "pgt=PGT-a&pgt=PGT-b&targetService=" + q(SERVICE),
    "pgt=PGT-%zz&targetService=" + q(SERVICE),
])
def test_proxy_invalid_request(cas_gateway, redis, query):
    n = cas_gateway()
    before = commands(redis, "eval")
    watch = LogWatch(n.error_log)
    r = HttpClient(n.port).get("/cas/proxy?" + query)
    schema_valid(r.body)
    assert r.status == 200
    assert r.header("X-Edugate-Error") == "INVALID_REQUEST"
    assert b'<cas:proxyFailure code="INVALID_REQUEST">' in r.body
    watch.wait_for(r"\[info\] .*edugate: INVALID_REQUEST: CAS proxy ")
    assert commands(redis, "eval") == before


@pytest.mark.parametrize("pgt", [
    "ST-abc", "PT-abc", "PGTIOU-abc", "PGT-", "PGT-a b", "PGT-a\r\nFLUSHALL",
    "PGT-" + "a" * 300,
])
def test_malformed_pgt_never_reaches_redis(cas_gateway, redis, pgt):
    n = cas_gateway()
    before = commands(redis, "eval", "get")
    watch = LogWatch(n.error_log)
    assert proxy(n, pgt, SERVICE)["code"] == "INVALID_TICKET"
    watch.wait_for(r"\[warn\] .*edugate: INVALID_TICKET: malformed "
                   r"proxy-granting ticket")
    assert commands(redis, "eval", "get") == before


def test_unknown_pgt_and_target(cas_gateway, notify_factory, login):
    cb = notify_factory()
    n = cas_gateway(proxy_service(PORTAL, cb))
    watch = LogWatch(n.error_log)
    assert proxy(n, "PGT-" + "x" * 32, SERVICE)["code"] == "INVALID_TICKET"
    watch.wait_for(r"edugate: INVALID_TICKET: proxy-granting ticket unknown "
                   r"or expired")

    c = logged_in(n, login)
    _, _, pgt = pgt_for(n, c, cb)
    for target in ("https://evil.example/", SERVICE + "x", "ftp://a/"):
        assert proxy(n, pgt, target)["code"] == "UNAUTHORIZED_SERVICE"
    watch.wait_for(r"edugate: UNAUTHORIZED_SERVICE: proxy ticket asked for "
                   r"\"https://evil\.example/\", which is not registered")

    r = HttpClient(n.port).post("/cas/proxy", "pgt=%s&targetService=%s"
                                % (pgt, q(SERVICE)),
                                "application/x-www-form-urlencoded")
    assert (r.status, r.header("X-Edugate-Error")) == (405,
                                                       "method_not_allowed")


def test_proxy_with_redis_down(cas_gateway, notify_factory, redis_factory,
                               login):
    cb = notify_factory()
    rs = redis_factory()
    n = cas_gateway(proxy_service(PORTAL, cb), redis=rs)
    c = logged_in(n, login)
    _, _, pgt = pgt_for(n, c, cb)
    rs.stop()
    watch = LogWatch(n.error_log)
    assert proxy(n, pgt, SERVICE)["code"] == "INTERNAL_ERROR"
    watch.wait_for(r"edugate: INTERNAL_ERROR: ")


# ---- an independent client --------------------------------------------------

def test_authcas_proxy_flow(cas_gateway, notify_factory, login, tls):
    perl = shutil.which("perl")
    probe = perl and subprocess.run([perl, "-MAuthCAS", "-e", "1"],
                                    capture_output=True).returncode == 0
    if not probe:
        pytest.skip("AuthCAS is not installed (libauthcas-perl, "
                    "tests/tools/install-deps.sh)")
    cb = notify_factory(pgt_file=True)
    n = cas_gateway(proxy_service(PORTAL, cb))
    c = logged_in(n, login, "tea01", "Tea01-Passw0rd")
    t = ticket_for(c, PORTAL)
    pgt_url = cb.url("/pgt")
    out = subprocess.run([perl, str(AUTHCAS_PROXY),
                          "https://127.0.0.1:%d/cas" % n.tls_port,
                          str(tls[0]), PORTAL, t, pgt_url,
                          str(cb.pgt_file), SERVICE],
                         capture_output=True, text=True, timeout=60)
    text = (out.stdout + out.stderr).strip()
    assert out.returncode == 0, text
    assert "user: tea01" in text
    assert "proxy ticket user: tea01" in text
    assert "proxies: %s" % pgt_url in text


# ---- configuration ----------------------------------------------------------

@pytest.mark.parametrize("http, message", [
    ("edugate_cas_service https://a.example/ proxy=on;", "go together"),
    ("edugate_cas_service https://a.example/ "
     "proxy_callback=http://127.0.0.1:1/pgt;", "go together"),
    ("edugate_cas_service https://a.example/ proxy=on "
     "proxy_callback=http://10.0.0.1:9/pgt;",
     "sent over https:// only, or over http:// to a host on a loopback"),
    ("edugate_cas_service https://a.example/ proxy=on "
     "proxy_callback=https://127.0.0.1:1/pgt;",
     "needs \"edugate_fetch_trusted_certificate\""),
    ("edugate_cas_service https://a.example/ proxy=on "
     "proxy_callback=http://127.0.0.1:1/pgt?pgtId=x;",
     "pgtIou or pgtId argument"),
    ("edugate_cas_service https://a.example/ proxy=on "
     "proxy_callback=ftp://127.0.0.1/pgt;", "scheme"),
    ("edugate_cas_service https://a.example/ proxy=maybe "
     "proxy_callback=http://127.0.0.1:1/pgt;", "invalid or duplicate"),
])
def test_configuration_is_checked(module_path, tmp_path, http, message):
    port = free_port()
    text = nginx_demo_conf(1, 1, 1, port, CAS_HTTP + "    " + http + "\n",
                           CAS_LOCATIONS)
    rc, out = Nginx(tmp_path / "t", port, module_path, "http {}") \
        .test_config(text)
    assert rc != 0 and message in out, out
    assert re.search(r"in \S+:\d+", out), out
