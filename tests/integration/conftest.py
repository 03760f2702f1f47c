"""Fixtures for the integration tests: real redis-server, slapd, the echo
application and nginx with the EduGate module, all on 127.0.0.1 high ports
in pytest's temp dir (tests/harness/servers.py starts them).

    redis, slapd, echo        shared by the whole run
    redis_factory(),
    slapd_factory()           private ones, for tests that stop or break them
    module_path               $EDUGATE_MODULE, by default
                              build/ngx_http_edugate_module.so; the tests
                              that need it are skipped if it is missing
    nginx_factory(conf_text)  an nginx for one test (stopped after it)
    demo_conf(port)           conf/demo/nginx.conf.in for the shared servers
    gateway                   the demo config, shared by a test module
    gateway_factory(...)      the demo config with extra directives, on the
                              shared servers or on private ones (one test)
    notify_factory(...)       a service the gateway calls back, recording
                              what it receives (one test)
    client(port)              a cookie-keeping HTTP client (no redirects)
    login(client, user, pw)   GET the form, POST it; returns the POST response
    plugin_path(name)         build/plugins/<name>.so (make plugins)
    test_plugin(variant)      build/test-plugins/<variant>.so (make
                              test-plugins), the loader's failure cases
    plugin_check              build/edugate-plugin-check, or
                              $EDUGATE_PLUGIN_CHECK
    trusted_dir               a directory under build/ that only its owner
                              may write (plugins are refused from /tmp)

After every test, every nginx that ran during it is checked: an [alert],
[emerg] or sanitizer report in its logs fails the test.  Login-failure
counters and lockouts in the shared Redis are cleared before and after
each test, since all tests log in from the same address.
"""

import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import servers  # noqa: E402
from servers import (EchoBackend, HttpClient, Nginx,  # noqa
                     NotifyService, RedisServer, Slapd, free_port,
                     nginx_demo_conf)

DEFAULT_MODULE = servers.REPO / "build" / "ngx_http_edugate_module.so"
PLUGIN_DIR = servers.REPO / "build" / "plugins"
TEST_PLUGIN_DIR = servers.REPO / "build" / "test-plugins"


class _NginxWatch:
    """The nginx instances whose logs the after-test check reads."""

    def __init__(self):
        self.long_lived = []
        self.this_test = []

    def register(self, nginx, long_lived=False):
        if long_lived:
            self.long_lived.append(nginx)
        else:
            self.this_test.append(nginx)


_watch = _NginxWatch()
_shared = {}


def _problems_report(found):
    lines = []
    for nginx, problems in found:
        lines.append("%s (%s):" % (nginx.dir, nginx.error_log))
        lines.extend("    " + p for p in problems)
    return "\n".join(lines)


def _clear_login_counters():
    redis = _shared.get("redis")
    if redis is not None and redis.running and not redis.paused:
        c = redis.client()
        for pattern in ("eg:fail:*", "eg:lock:*"):
            for key in c.scan_iter(pattern):
                c.delete(key)


def wait_subscribed(nginx, timeout=10.0):
    """Waits until every worker of nginx has its Redis links up.

    Until then a worker keeps no session cache (it could miss a
    revocation), which tests of the cache must not mistake for a result.
    """
    want = nginx.workers
    deadline = time.monotonic() + timeout
    links = [re.compile(r'edugate: redis %s connection to "[^"]*" '
                        r'established' % name)
             for name in ("command", "subscriber")]
    while True:
        text = nginx.error_log_text()
        if all(len(rx.findall(text)) >= want for rx in links):
            # the SUBSCRIBE reply follows the connection by a round trip
            time.sleep(0.1)
            return
        if time.monotonic() > deadline:
            raise servers.HarnessError(
                "nginx workers did not connect to Redis within %.0fs:\n%s"
                % (timeout, text[-3000:]))
        time.sleep(0.05)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "expected_problems(regex): log lines matching regex, from an nginx "
        "started by this test, are left to the test itself to judge (a "
        "known module bug that the test reports, e.g. as an xfail)")


@pytest.fixture(autouse=True)
def _nginx_log_check(request):
    marker = request.node.get_closest_marker("expected_problems")
    expected = re.compile(marker.args[0]) if marker else None
    marks = {n: n.mark() for n in _watch.long_lived}
    _watch.this_test = []
    _clear_login_counters()
    yield
    found = []
    for n in _watch.long_lived:
        p = n.check_log(marks.get(n, 0))
        if p:
            found.append((n, p))
    for n in _watch.this_test:
        p = n.check_log(0)
        if expected is not None:
            p = [line for line in p if not expected.search(line)]
        if p:
            found.append((n, p))
    _watch.this_test = []
    for daemon in (_shared.get("redis"), _shared.get("slapd")):
        if daemon is not None and daemon.paused:
            daemon.resume()
    _clear_login_counters()
    if found:
        pytest.fail("nginx reported problems:\n" + _problems_report(found),
                    pytrace=False)


@pytest.fixture(scope="session")
def redis(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis"), free_port()) as r:
        _shared["redis"] = r
        yield r
        _shared.pop("redis", None)


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    with Slapd(tmp_path_factory.mktemp("slapd"), free_port()) as s:
        _shared["slapd"] = s
        yield s
        _shared.pop("slapd", None)


@pytest.fixture(scope="session")
def echo(tmp_path_factory):
    with EchoBackend(tmp_path_factory.mktemp("echo"), free_port()) as e:
        yield e


@pytest.fixture
def redis_factory(tmp_path):
    started = []

    def make(port=None):
        r = RedisServer(tmp_path / ("redis%d" % len(started)),
                        port or free_port())
        started.append(r)
        return r.start()

    yield make
    for r in started:
        r.stop()


@pytest.fixture
def slapd_factory(tmp_path):
    started = []

    def make(port=None, **kw):
        s = Slapd(tmp_path / ("slapd%d" % len(started)),
                  port or free_port(), **kw)
        started.append(s)
        return s.start()

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def notify_factory(tmp_path):
    """notify_factory(status=200, stall=False, tls=None, pgt_file=False)
    -> started NotifyService, stopped after the test."""
    started = []

    def make(**kw):
        s = NotifyService(tmp_path / ("notify%d" % len(started)),
                          free_port(), **kw)
        started.append(s)
        return s.start()

    yield make
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def module_path():
    path = Path(os.environ.get("EDUGATE_MODULE") or DEFAULT_MODULE)
    if not path.is_file():
        pytest.skip("EduGate module not built: %s is missing "
                    "(run `make module`, or set EDUGATE_MODULE)" % path)
    return path.resolve()


@pytest.fixture
def demo_conf(redis, slapd, echo):
    """demo_conf(listen_port, extra_http="", extra_server="")"""

    def make(listen_port, extra_http="", extra_server=""):
        return nginx_demo_conf(redis.port, slapd.port, echo.port,
                               listen_port, extra_http, extra_server)

    return make


@pytest.fixture
def nginx_factory(module_path, tmp_path):
    """nginx_factory(conf_text, port=None, workers=1) -> started Nginx.

    conf_text may be a function of the port (e.g. demo_conf) or a string
    holding {port}.  Every instance is stopped after the test.
    """
    started = []

    def make(conf_text, port=None, workers=1, **kw):
        port = port or free_port()
        if callable(conf_text):
            conf_text = conf_text(port)
        else:
            conf_text = conf_text.replace("{port}", str(port))
        n = Nginx(tmp_path / ("nginx%d" % len(started)), port, module_path,
                  conf_text, workers=workers, **kw)
        started.append(n)
        _watch.register(n)
        return n.start()

    yield make
    for n in started:
        n.stop()


@pytest.fixture(scope="module")
def gateway(module_path, redis, slapd, echo, tmp_path_factory):
    """The demo config on a free port, shared by the tests of one module."""
    port = free_port()
    conf = nginx_demo_conf(redis.port, slapd.port, echo.port, port)
    n = Nginx(tmp_path_factory.mktemp("gateway"), port, module_path, conf,
              workers=2)
    n.start()
    _watch.register(n, long_lived=True)
    wait_subscribed(n)
    yield n
    mark = n.mark()
    n.stop()
    _watch.long_lived.remove(n)
    problems = n.check_log(mark)
    if problems:
        pytest.fail("gateway reported problems while stopping:\n"
                    + "\n".join(problems), pytrace=False)


@pytest.fixture
def gateway_factory(nginx_factory, redis, slapd, echo):
    """gateway_factory(extra_http="", extra_server="", workers=1,
                       redis=None, slapd=None, ldap_uris=None,
                       wait_redis=True) -> Nginx

    The demo config with directives added: an edugate_* directive of
    extra_http replaces the template's line of the same name.  redis and
    slapd default to the shared servers (redis may also be a bare port);
    ldap_uris (a list) replaces the directory address.  Started, and
    unless wait_redis is false, with its Redis links up.
    """

    def make(extra_http="", extra_server="", workers=1, redis=redis,
             slapd=slapd, ldap_uris=None, port=None, wait_redis=True):
        redis_port = getattr(redis, "port", redis)
        if ldap_uris is not None:
            extra_http = ("    edugate_ldap_uri %s;\n" % " ".join(ldap_uris)
                          + extra_http)
        drop = [d for d in servers.directive_names(extra_http)
                if d.startswith("edugate_")]

        def conf(port):
            return nginx_demo_conf(redis_port, slapd.port, echo.port, port,
                                   extra_http, extra_server, drop=drop)

        n = nginx_factory(conf, port=port, workers=workers)
        if wait_redis:
            wait_subscribed(n)
        return n

    return make


@pytest.fixture
def client():
    """client(port_or_nginx) -> HttpClient"""

    def make(target):
        return HttpClient(getattr(target, "port", target))

    return make


def do_login(client, user, password, return_to="/apps/echo/"):
    """Logs in through the form like a browser; returns the POST response.

    Fails the test if the login page does not carry the hidden csrf field.
    """
    page = client.get("/edugate/login?return="
                      + urllib.parse.quote(return_to, safe=""))
    assert page.status == 200, "login page: %r\n%s" % (page, page.text)
    fields = servers.form_inputs(page.text)
    assert "csrf" in fields, "no csrf field in the login form:\n" + page.text
    return client.post_form("/edugate/login", {
        "username": user,
        "password": password,
        "csrf": fields["csrf"],
        "return": fields.get("return", return_to),
    })


@pytest.fixture
def login():
    """login(client, user, password, return_to="/apps/echo/")"""
    return do_login


@pytest.fixture(scope="session")
def plugin_path():
    """plugin_path(name) -> build/plugins/<name>.so, or the test skips."""

    def find(name):
        path = PLUGIN_DIR / (name + ".so")
        if not path.is_file():
            pytest.skip("plugin not built: %s (run `make plugins`)" % path)
        return path

    return find


@pytest.fixture(scope="session")
def test_plugin():
    """test_plugin(variant) -> build/test-plugins/<variant>.so."""

    def find(variant):
        path = TEST_PLUGIN_DIR / (variant + ".so")
        if not path.is_file():
            pytest.skip("test plugin not built: %s (run `make "
                        "test-plugins`)" % path)
        return path

    return find


@pytest.fixture(scope="session")
def plugin_check():
    path = Path(os.environ.get("EDUGATE_PLUGIN_CHECK")
                or servers.REPO / "build" / "edugate-plugin-check")
    if not path.is_file():
        pytest.skip("edugate-plugin-check not built: %s (run `make`)" % path)
    return path


@pytest.fixture
def trusted_dir():
    """A fresh directory under build/ (mode 0755), removed afterwards."""
    base = servers.REPO / "build" / "test-scratch"
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    path = Path(tempfile.mkdtemp(dir=base))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
