"""Pins that a plugin cannot take the gateway down with it.  A hook that
hangs runs in the thread pool: with one worker, requests to other
locations (other plugins included) keep their latency while it sleeps,
and its own request gets 504 plugin_timeout at edugate_vendor_timeout.  A
hook that crashes is named in the error log; the master replaces the
worker, and once the plugin has crashed edugate_plugin_crash_limit times
within the window its locations answer 503 plugin_disabled instead of
crashing workers in a loop, until a reload."""

import http.client
import statistics
import threading
import time

import pytest

from servers import HttpClient, LogWatch
from expect import JSON, expect_error, expect_log

SECRET = "pairwise-demo-secret-0123456789"


def conf(test_plugin, echo, plugins, extra=""):
    http = "    edugate_pairwise_secret %s;\n%s" % (SECRET, extra)
    server = ""
    for name, variant, args in plugins:
        http += "    edugate_plugin %s %s %s;\n" % (name, test_plugin(variant),
                                                    args)
        server += ("        location /apps/%s/ {\n"
                   "            edugate_vendor %s;\n"
                   "            proxy_pass http://127.0.0.1:%d;\n"
                   "        }\n" % (name, name, echo.port))
    return http, server


def timed_get(c, path):
    start = time.monotonic()
    r = c.get(path)
    took = time.monotonic() - start
    assert r.status == 200, (path, r.status, r.text[:300])
    return took


def test_slow_plugin_does_not_stall_the_worker(gateway_factory, test_plugin,
                                               echo, client, login):
    http, server = conf(test_plugin, echo, [
        ("slow", "slow", "sleep_ms=3000"),
        ("tp", "good", ""),
    ], extra="    edugate_vendor_timeout 1s;\n")
    n = gateway_factory(http, server, workers=1)
    c = client(n)
    assert login(c, "stu01", "Stu01-Passw0rd").status == 302

    paths = ["/apps/echo/", "/apps/tp/"]
    before = [timed_get(c, p) for _ in range(10) for p in paths]

    watch = LogWatch(n.error_log)
    waiting = HttpClient(n.port, timeout=30)
    waiting.jar = c.jar
    result = {}

    def slow_request():
        start = time.monotonic()
        result["resp"] = waiting.get("/apps/slow/", headers=JSON)
        result["took"] = time.monotonic() - start

    t = threading.Thread(target=slow_request, daemon=True)
    t.start()
    time.sleep(0.2)
    assert t.is_alive(), "the slow hook did not hold its request"

    during = []
    deadline = time.monotonic() + 0.7
    while time.monotonic() < deadline:
        for p in paths:
            during.append(timed_get(c, p))
    assert t.is_alive(), "the slow request ended before the others"

    t.join(10)
    assert not t.is_alive()

    # a stalled worker would hold them for the hook's deadline (1 s); the
    # bound leaves room for a loaded machine or a sanitizer build
    assert max(during) < 0.4, "requests slower than 400 ms while the " \
        "plugin slept: %s" % sorted(during)[-5:]
    assert statistics.median(during) < statistics.median(before) + 0.02, \
        (statistics.median(before), statistics.median(during))

    expect_error(result["resp"], 504, "plugin_timeout", want_json=True)
    assert 0.9 <= result["took"] < 2.5, result["took"]
    expect_log(watch, "plugin_timeout", r'plugin "slow": identity hook did '
               r"not return within 1000 ms", level="error")

    # the thread finishes later; its answer is dropped, and said so
    watch.wait_for(r'\[warn\] .*edugate: plugin "slow": identity hook '
                   r"returned after \d+ ms, its request was answered "
                   r"already", timeout=5)

    # the worker is still the same one and answers
    timed_get(c, "/apps/tp/")


def wait_new_worker(n, old, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = n.worker_pids()
        if pids and not pids & old:
            return pids
        time.sleep(0.05)
    raise AssertionError("no new worker within %ds" % timeout)


def crash_once(n, c):
    old = n.worker_pids()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        c.get("/apps/crashy/")
    return wait_new_worker(n, old)


@pytest.mark.expected_problems(r"exited on signal (11|6)")
def test_crashing_plugin_is_disabled(gateway_factory, test_plugin, echo,
                                     client, login):
    http, server = conf(test_plugin, echo, [
        ("crashy", "crash", ""),
        ("tp", "good", ""),
    ], extra="    edugate_plugin_crash_limit 2 60s;\n")
    n = gateway_factory(http, server, workers=1)
    c = client(n)
    assert login(c, "stu02", "Stu02-Passw0rd").status == 302
    watch = LogWatch(n.error_log)

    for i in (1, 2):
        crash_once(n, c)
        expect_log(watch, "plugin_crashed", r'plugin "crashy" crashed with '
                   r"signal 11 in its identity hook \(crash %d\); the worker "
                   r"ends" % i, level="crit")
        watch.wait_for(r"\[alert\] .*worker process \d+ exited on signal 11")
        watch.move_on()

        # other locations, other plugins: served by the new worker
        timed_get(c, "/apps/echo/")
        timed_get(c, "/apps/tp/")

    pids = n.worker_pids()
    for _ in range(3):
        expect_error(c.get("/apps/crashy/", headers=JSON), 503,
                     "plugin_disabled", want_json=True)
    assert n.worker_pids() == pids, "a worker died though the plugin was " \
        "disabled"
    expect_log(watch, "plugin_disabled", r'plugin "crashy" crashed 2 times '
               r"within 60 s: its locations answer 503 until nginx is "
               r"reloaded", level="error")
    expect_log(watch, "plugin_disabled", r'plugin "crashy" is disabled '
               r"after repeated crashes", level="error")
    timed_get(c, "/apps/tp/")

    # a reload is how a (fixed) plugin comes back
    n.reload(n.conf_text)
    watch.move_on()
    crash_once(n, c)
    expect_log(watch, "plugin_crashed", r'plugin "crashy" crashed with '
               r"signal 11 in its identity hook \(crash 1\)", level="crit")
