"""A plugin that crashes in a data-standard hook (to_standard during a
push, to_vendor during a pull) runs in the plugin thread pool, not on the
event loop: the crash is named in the error log with its hook, the worker
ends as for a crash in the identity hook, nothing of the batch reaches
the registry or the data center, and the master's new worker serves the
next push and pull.  edugate_plugin_crash_limit counts these crashes like
any other and disables the plugin's locations (503 plugin_disabled)."""

import http.client

import pytest

from expect import expect_error, expect_log
from servers import DEMO_STD_CLIENTS, std_pull_conf
from test_bearer import keys  # noqa: F401  (fixture)
from test_plugin_isolation import wait_new_worker
from test_std_pull import backend  # noqa: F401  (fixture)
from std_world import std_gateway  # noqa: F401  (fixture)
import std_world as W

SECRET = "badrecord-secret-demo"
JSON = {"Accept": "application/json"}


def gateway(std_gateway, test_plugin, srv):  # noqa: F811
    http_conf, _ = std_pull_conf(srv.server_address[1])
    return std_gateway(extra_http=http_conf + """
    edugate_plugin badrecord %s;
    edugate_oidc_client badrecord secret=%s
        grant_types=client_credentials;
    edugate_plugin_crash_limit 2 60s;
""" % (test_plugin("badrecord"), SECRET), extra_server="""
        location = /std/v1/push/badrecord {
            edugate_standardize badrecord students;
            edugate_standardize_forward /_datacenter/badrecord;
        }
        location /std/v1/ {
            edugate_allow_clients      datacenter;
            edugate_std_pull           badrecord students;
            edugate_std_pull_upstream  /_vendor/badrecord;
        }
        location /_vendor/badrecord/ {
            internal;
            proxy_pass  http://127.0.0.1:%d/;
        }
""" % srv.server_address[1])


def bearer(c, client_id, secret):
    return {"Authorization": "Bearer " + W.token(c, client_id, secret),
            **JSON}


def crash(n, c, method, path, headers, body=None):
    old = n.worker_pids()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        if method == "POST":
            c.post(path, body, "application/json", headers=headers)
        else:
            c.get(path, headers=headers)
    return wait_new_worker(n, old)


@pytest.mark.expected_problems(r"exited on signal 11")
def test_crash_in_standard_hooks(std_gateway, test_plugin, client,  # noqa
                                 backend, redis):  # noqa: F811
    srv = backend("people")
    n = gateway(std_gateway, test_plugin, srv)
    c = client(n)
    push_h = bearer(c, "badrecord", SECRET)
    pull_h = bearer(c, "datacenter", DEMO_STD_CLIENTS["datacenter"])

    crash(n, c, "POST", "/std/v1/push/badrecord", push_h,
          b'{"crash": true, "people": [{"id": "p1"}]}')
    expect_log(n.watch, "plugin_crashed", r'plugin "badrecord" crashed '
               r"with signal 11 in its to_standard hook \(crash 1\); the "
               r"worker ends", level="crit")
    n.watch.wait_for(r"\[alert\] .*worker process \d+ exited on signal 11")
    n.watch.move_on()
    assert not list(redis.client().scan_iter("eg:std:rec:*"))
    assert n.datacenter.requests() == []

    # the new worker pushes another vendor's roster as before
    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    assert r.status == 200, r.text

    crash(n, c, "GET", "/std/v1/students?crash=1", pull_h)
    expect_log(n.watch, "plugin_crashed", r'plugin "badrecord" crashed '
               r"with signal 11 in its to_vendor hook \(crash 2\); the "
               r"worker ends", level="crit")
    n.watch.wait_for(r"\[alert\] .*worker process \d+ exited on signal 11")
    n.watch.move_on()
    assert srv.seen == [], "a crashed to_vendor still asked the vendor"

    # two crashes within the limit's window: the plugin is disabled, on
    # push and pull alike, and the worker stays
    pids = n.worker_pids()
    expect_error(c.get("/std/v1/students", headers=pull_h), 503,
                 "plugin_disabled", want_json=True)
    expect_error(c.post("/std/v1/push/badrecord",
                        b'{"people": [{"id": "p1"}]}', "application/json",
                        headers=bearer(c, "badrecord", SECRET)),
                 503, "plugin_disabled", want_json=True)
    assert n.worker_pids() == pids
    expect_log(n.watch, "plugin_disabled", r'plugin "badrecord" crashed 2 '
               r"times within 60 s", level="error")
    assert srv.seen == []

    r = W.push(c, "smartcampus", W.ROSTER.read_bytes())
    assert r.status == 200, r.text
