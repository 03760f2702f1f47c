#!/usr/bin/env python3
"""Runs the EduGate demo on http://127.0.0.1:8080 (what `make demo` does).

Starts, in ./run/demo (emptied first), a private redis-server, slapd with
the demo directory (conf/demo/directory.ldif), the echo application, nginx
with the EduGate module, its vendor plugins (build/plugins/) and
conf/demo/nginx.conf.in, the two vendor applications (smartcampus,
yuejuan: tests/harness/vendor_apps.py), the district data center that
vendor pushes reach (tests/harness/datacenter_app.py; the district's
master data is seeded into Redis) and the demo relying parties: the
OpenID Connect portal and single-page app on :8081 and the CAS application
on :8082, all on 127.0.0.1.  The token signing key is made for the run
with `openssl genpkey`.  Stays in the foreground; Ctrl-C stops everything
it started.

    python3 tests/harness/demo.py --module build/ngx_http_edugate_module.so
    python3 tests/harness/demo.py --module ... --check   # log in once, stop
"""

import argparse
import shutil
import subprocess
import signal
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402
import relying_parties as rp  # noqa: E402
import std_registry  # noqa: E402
from browser import Browser  # noqa: E402
from servers import (DEMO_ACCOUNTS, DEMO_STD_CLIENTS,  # noqa: E402
                     CasApp, DataCenter, EchoBackend, HarnessError,
                     HttpClient, Nginx, OidcPortal, RedisServer, Slapd,
                     VendorBackend, nginx_demo_conf,
                     seed_idmap, std_demo_conf, std_pull_conf,
                     vendor_demo_conf)

ORG_NAMES = {
    "370112": "历城区",
    "3137000001": "济南市历城区第一中学",
    "2137000002": "济南市历城区实验小学",
}


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop()


def make_signing_key(directory):
    """A fresh RSA key for the run's tokens, readable by its owner only."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise HarnessError("openssl is not installed "
                           "(run tests/tools/install-deps.sh)")
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "signing-rs256.pem"
    r = subprocess.run([openssl, "genpkey", "-algorithm", "RSA",
                        "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise HarnessError("openssl genpkey failed: %s" % r.stderr)
    key.chmod(0o600)
    return key


def banner(base, run_dir, nginx, slapd, redis, echo, vendors, portal,
           cas_app, dc):
    rows = []
    for uid, a in DEMO_ACCOUNTS.items():
        where = ORG_NAMES.get(a["org"], a["org"])
        if a["grade"]:
            where += " grade %s class %s" % (a["grade"], a["class"])
        rows.append("  %-8s %-17s %-8s %s  %s"
                    % (uid, a["password"], ",".join(a["roles"]), a["name"],
                       where))
    rel = run_dir.relative_to(servers.REPO) if run_dir.is_relative_to(
        servers.REPO) else run_dir
    return """
EduGate demo is running: {base}/

  {base}/apps/echo/       any person who logged in
  {base}/apps/teachers/   teachers only (tea01)
  {base}/apps/district/   IT administrators of district 370112 (itadmin)
  {base}/apps/smartcampus/  vendor app (signed headers): stu01 and tea01
                          have smartcampus ids, others a pairwise id
  {base}/apps/yuejuan/    vendor app (HS256 token in yj_token): stu01 has
                          a yuejuan id, others a pairwise id

Applications that log in through the gateway's protocols:
  {portal}/          OpenID Connect portal (client {pid_},
  {pad}  demo secret {secret})
  {portal}/spa/      single-page app (public client {spa}, PKCE in JS)
  {cas}{cas_path}  CAS application (p3/serviceValidate, single logout)

OpenID provider: issuer {base}, discovery
  {base}/.well-known/openid-configuration

Demo accounts (published demo passwords, never use them elsewhere):
{rows}

From a shell (needs curl; jq is optional):
  u={base}
  jar=$(mktemp)
  curl -s -c "$jar" -o /dev/null "$u/edugate/login?return=/apps/echo/"
  csrf=$(awk '$6 == "edugate_csrf" {{print $7}}' "$jar")
  curl -s -b "$jar" -c "$jar" -o /dev/null \\
       -w '%{{http_code}} %{{redirect_url}}\\n' \\
       --data-urlencode username=stu01 \\
       --data-urlencode password=Stu01-Passw0rd \\
       --data-urlencode "csrf=$csrf" \\
       --data-urlencode return=/apps/echo/ "$u/edugate/login"
  curl -s -b "$jar" "$u/apps/echo/" | jq .

CAS, with the same session (the service is registered in the demo config):
  svc={cas}{cas_path}
  st=$(curl -s -b "$jar" -o /dev/null -w '%{{redirect_url}}' \\
       "$u/cas/login?service=$svc" | sed 's/.*ticket=//')
  curl -s "$u/cas/p3/serviceValidate?service=$svc&ticket=$st"

Log out everywhere:
  curl -s -b "$jar" -c "$jar" -o /dev/null -w '%{{http_code}}\\n' \\
       "$u/edugate/logout"
  curl -s -b "$jar" -o /dev/null -w '%{{http_code}}\\n' "$u/apps/echo/"

Vendor apps, with the same session (each sees its own user id):
  curl -s -b "$jar" "$u/apps/smartcampus/"
  curl -s -b "$jar" "$u/apps/yuejuan/"
  curl -s -b "$jar" "$u/apps/smartcampus/api/v2/roster?orgId=SCH00871"

Vendor pushes (client smartcampus / {sc_secret}, client yuejuan /
{yj_secret}; published demo secrets):
  tok=$(curl -s -u smartcampus:{sc_secret} \\
        -d grant_type=client_credentials "$u/oauth2/token" | jq -r .access_token)
  curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \\
       --data-binary @plugins/smartcampus/fixtures/students/roster-5.1.json \\
       "$u/std/v1/push/smartcampus" | jq .
  tok=$(curl -s -u yuejuan:{yj_secret} \\
        -d grant_type=client_credentials "$u/oauth2/token" | jq -r .access_token)
  curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/xml' \\
       --data-binary @plugins/yuejuan/fixtures/results/scores-5.2.xml \\
       "$u/std/v1/push/yuejuan" | jq .
  curl -s {dc}/batches | jq .          # what the data center received

Standard pull (the smartcampus roster, standardized; district IT or the
data center's program, client datacenter / {dc_secret}):
  tok=$(curl -s -u datacenter:{dc_secret} \\
        -d grant_type=client_credentials "$u/oauth2/token" | jq -r .access_token)
  curl -s -H "Authorization: Bearer $tok" \\
       "$u/std/v1/students?school=2151049901" | jq .
  curl -s -H "Authorization: Bearer $tok" -H 'Accept: application/xml' \\
       "$u/std/v1/classes?school=2151049901"
  curl -s -H "Authorization: Bearer $tok" \\
       "$u/std/v1/results?examId=EX-2025-0107-G3" | jq .
  curl -s "$u/edugate/metrics"         # conformance, Prometheus text
  (log in as itadmin, then: curl -s -b "$jar" "$u/edugate/conformance")

Logs: {rel}/nginx/error.log, {rel}/slapd/slapd.log (every LDAP
search and bind), {rel}/redis/redis.log, {rel}/echo/echo.log,
{rel}/smartcampus/smartcampus.log, {rel}/yuejuan/yuejuan.log
{rel}/portal/portal.log, {rel}/cas-app/cas-app.log,
{rel}/datacenter/datacenter.log (batches in {rel}/datacenter/batches/)
Signing key: {rel}/keys/signing-rs256.pem (made for this run)
Services: redis 127.0.0.1:{redis}, slapd ldap://127.0.0.1:{slapd}/,
echo app 127.0.0.1:{echo}, smartcampus 127.0.0.1:{sc},
yuejuan 127.0.0.1:{yj}, data center {dc}, nginx master pid {pid}

Press Ctrl-C to stop.
""".format(base=base, rows="\n".join(rows), rel=rel, redis=redis.port,
           slapd=slapd.port, echo=echo.port, pid=nginx.pid,
           sc=vendors["smartcampus"].port, yj=vendors["yuejuan"].port,
           portal=portal.url, cas=cas_app.url, cas_path=rp.CAS_APP_PATH,
           pid_=rp.PORTAL_CLIENT_ID, secret=rp.PORTAL_CLIENT_SECRET,
           pad=" " * (len(portal.url) + 9),
           spa=rp.SPA_CLIENT_ID, dc="http://127.0.0.1:%d" % dc.port,
           sc_secret=DEMO_STD_CLIENTS["smartcampus"],
           yj_secret=DEMO_STD_CLIENTS["yuejuan"],
           dc_secret=DEMO_STD_CLIENTS["datacenter"])


def check_login_flow(port, out):
    """The curl example above, from Python: True if every step works."""
    c = HttpClient(port)
    steps = []

    def step(name, ok, detail=""):
        steps.append(ok)
        out.write("  %-38s %s %s\n" % (name, "ok" if ok else "FAILED",
                                      detail))

    r = c.get("/edugate/login?return=" + urllib.parse.quote("/apps/echo/"))
    fields = servers.form_inputs(r.text) if r.status == 200 else {}
    step("GET /edugate/login", r.status == 200 and "csrf" in fields,
         "(%d)" % r.status)
    if not steps[-1]:
        return False
    r = c.post_form("/edugate/login", {
        "username": "stu01", "password": DEMO_ACCOUNTS["stu01"]["password"],
        "csrf": fields["csrf"], "return": fields.get("return", "/apps/echo/"),
    })
    step("POST /edugate/login as stu01", r.status == 302
         and c.cookie("edugate_session") is not None,
         "(%d -> %s)" % (r.status, r.location))
    r = c.get("/apps/echo/")
    ident = r.json().get("identity", {}) if r.status == 200 else {}
    step("GET /apps/echo/", ident.get("user") == "stu01",
         "(%d, %s %s)" % (r.status, ident.get("user"), ident.get("name")))
    r = c.get("/apps/teachers/")
    step("GET /apps/teachers/ refused", r.status == 403, "(%d)" % r.status)
    for vendor, want in (("smartcampus", "sc-10001"),
                         ("yuejuan", "yj-250302017")):
        r = c.get("/apps/%s/" % vendor)
        user = r.json().get("user") if r.status == 200 else None
        step("GET /apps/%s/" % vendor, user == want,
             "(%d, vendor id %s)" % (r.status, user))
    r = c.get("/edugate/logout")
    step("GET /edugate/logout", r.status in (200, 302), "(%d)" % r.status)
    r = c.get("/apps/echo/")
    step("GET /apps/echo/ after logout", r.status == 302,
         "(%d -> %s)" % (r.status, r.location))
    return all(steps)


def check_relying_parties(base, portal_url, cas_url, out):
    """Logs in to the portal and the CAS application as tea01 in one
    browser, logs out at the gateway (both must notice), then logs in to
    the portal again and out from there: True if every step works."""
    b = Browser()
    steps = []
    user, password = "tea01", DEMO_ACCOUNTS["tea01"]["password"]
    portal_me = portal_url + "/me"
    cas_me = cas_url + rp.CAS_APP_PATH + "session.json"

    def step(name, ok, detail=""):
        steps.append(ok)
        out.write("  %-38s %s %s\n" % (name, "ok" if ok else "FAILED",
                                      detail))
        return ok

    def state(url):
        try:
            r = b.request("GET", url)
            return r.json() if r.status == 200 else {}
        except (OSError, ValueError):
            return {}

    def portal_login():
        page = b.login(b.open(portal_url + "/login"), user, password)
        me = state(portal_me)
        return step("portal: OIDC login as tea01",
                    me.get("sub") == user and page.status == 200,
                    "(%d, sub %s)" % (page.status, me.get("sub")))

    try:
        if not portal_login():
            return False
        page = b.open(cas_url + rp.CAS_APP_PATH)
        doc = state(cas_me)
        step("CAS app: single sign-on", doc.get("user") == user,
             "(%d, user %s)" % (page.status, doc.get("user")))
        b.request("GET", base + "/edugate/logout")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
                state(portal_me).get("logged_in")
                or state(cas_me).get("logged_in")):
            time.sleep(0.1)
        step("gateway logout: portal logged out",
             not state(portal_me).get("logged_in", True),
             "(back-channel logout)")
        step("gateway logout: CAS app logged out",
             not state(cas_me).get("logged_in", True),
             "(CAS single logout)")
        if not portal_login():
            return False
        page = b.submit(b.open(portal_url + "/"), {}, action="/logout")
        step("portal: RP-initiated logout",
             not state(portal_me).get("logged_in", True)
             and "logged out" in page.text,
             "(%d at %s)" % (page.status, page.url.split("?")[0]))
    except (OSError, AssertionError) as e:
        step("relying parties", False, str(e).splitlines()[0])
    return all(steps)


def check_push(port, dc_port, out):
    """The vendor push of the curl example: True if the report lists the
    violations of the worked example and the data center got the batch."""
    import base64
    c = HttpClient(port)
    steps = []

    def step(name, ok, detail=""):
        steps.append(ok)
        out.write("  %-38s %s %s\n" % (name, "ok" if ok else "FAILED",
                                      detail))

    cred = base64.b64encode(("smartcampus:%s" % DEMO_STD_CLIENTS[
        "smartcampus"]).encode()).decode()
    r = c.post("/oauth2/token", "grant_type=client_credentials",
               "application/x-www-form-urlencoded",
               headers={"Authorization": "Basic " + cred})
    tok = r.json().get("access_token") if r.status == 200 else None
    step("client token for smartcampus", tok is not None, "(%d)" % r.status)
    if tok is None:
        return False
    roster = (servers.REPO / "plugins" / "smartcampus" / "fixtures" /
              "students" / "roster-5.1.json").read_bytes()
    r = c.post("/std/v1/push/smartcampus", roster, "application/json",
               headers={"Authorization": "Bearer " + tok})
    rules = sorted(v["ruleId"] for v in r.json().get("violations", [])) \
        if r.status == 200 else []
    step("POST /std/v1/push/smartcampus", "R06" in rules and "R02" in rules,
         "(%d, %s)" % (r.status, " ".join(rules)))
    got = HttpClient(dc_port).get("/batches")
    batches = got.json() if got.status == 200 else []
    step("data center received the batch", len(batches) == 1,
         "(%s)" % (batches[0]["records"] if batches else got.status))
    return all(steps)


def check_pull(port, out):
    """The standard pull of the curl example, as the data center's
    program: True if the students come back standardized with their
    report."""
    import base64
    c = HttpClient(port)
    cred = base64.b64encode(("datacenter:%s" % DEMO_STD_CLIENTS[
        "datacenter"]).encode()).decode()
    r = c.post("/oauth2/token", "grant_type=client_credentials",
               "application/x-www-form-urlencoded",
               headers={"Authorization": "Basic " + cred})
    tok = r.json().get("access_token") if r.status == 200 else None
    r = c.get("/std/v1/students?school=2151049901",
              headers={"Authorization": "Bearer %s" % tok})
    body = r.json() if r.status == 200 else {}
    cn = body.get("metadata", {}).get("cn", {})
    rules = sorted(v["ruleId"] for v in cn.get("violations", []))
    ok = bool(body.get("users")) and "R02" in rules
    out.write("  %-38s %s (%d, %d users, %s)\n"
              % ("GET /std/v1/students?school=…", "ok" if ok else "FAILED",
                 r.status, len(body.get("users", [])), " ".join(rules)))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", required=True,
                    help="path of ngx_http_edugate_module.so")
    ap.add_argument("--listen", type=int, default=8080)
    ap.add_argument("--redis-port", type=int, default=16379)
    ap.add_argument("--slapd-port", type=int, default=13389)
    ap.add_argument("--echo-port", type=int, default=18091)
    ap.add_argument("--smartcampus-port", type=int, default=18092)
    ap.add_argument("--yuejuan-port", type=int, default=18093)
    ap.add_argument("--portal-port", type=int, default=8081)
    ap.add_argument("--cas-app-port", type=int, default=8082)
    ap.add_argument("--datacenter-port", type=int, default=18094)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--run-dir", default=str(servers.REPO / "run" / "demo"))
    ap.add_argument("--check", action="store_true",
                    help="log in once as stu01 and through the relying "
                         "parties as tea01, report, stop")
    args = ap.parse_args(argv)

    module = Path(args.module).resolve()
    if not module.is_file():
        sys.stderr.write("demo: the EduGate module %s does not exist; "
                         "build it with `make module`\n" % module)
        return 1
    missing = [v for v in ("smartcampus", "yuejuan")
               if not (servers.PLUGIN_BUILD / (v + ".so")).is_file()]
    if missing:
        sys.stderr.write("demo: the plugins %s are not built; build them "
                         "with `make plugins`\n" % ", ".join(missing))
        return 1
    ports = (("nginx", args.listen, "--listen"),
             ("redis", args.redis_port, "--redis-port"),
             ("slapd", args.slapd_port, "--slapd-port"),
             ("echo app", args.echo_port, "--echo-port"),
             ("smartcampus app", args.smartcampus_port,
              "--smartcampus-port"),
             ("yuejuan app", args.yuejuan_port, "--yuejuan-port"),
             ("OIDC portal", args.portal_port, "--portal-port"),
             ("CAS app", args.cas_app_port, "--cas-app-port"),
             ("data center", args.datacenter_port, "--datacenter-port"))
    busy = [p for p in ports if servers.port_in_use(p[1])]
    if busy:
        for name, port, opt in busy:
            sys.stderr.write("demo: 127.0.0.1:%d (for %s) is already in "
                             "use; free it or pass %s PORT\n"
                             % (port, name, opt))
        return 1

    run_dir = Path(args.run_dir).resolve()
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    started = []
    rc = 0
    try:
        base = "http://127.0.0.1:%d" % args.listen
        key = make_signing_key(run_dir / "keys")
        redis = RedisServer(run_dir / "redis", args.redis_port)
        slapd = Slapd(run_dir / "slapd", args.slapd_port)
        echo = EchoBackend(run_dir / "echo", args.echo_port)
        vendors = {
            "smartcampus": VendorBackend(run_dir / "smartcampus",
                                         args.smartcampus_port,
                                         "smartcampus"),
            "yuejuan": VendorBackend(run_dir / "yuejuan", args.yuejuan_port,
                                     "yuejuan"),
        }
        vendor_http, vendor_server = vendor_demo_conf(
            {v: b.port for v, b in vendors.items()})
        dc = DataCenter(run_dir / "datacenter", args.datacenter_port)
        std_http, std_server = std_demo_conf(dc.port)
        pull_http, pull_server = std_pull_conf(
            vendors["smartcampus"].port,
            yuejuan_port=vendors["yuejuan"].port)
        portal = OidcPortal(run_dir / "portal", args.portal_port, base)
        cas_app = CasApp(run_dir / "cas-app", args.cas_app_port,
                         base + "/cas")
        conf = nginx_demo_conf(
            args.redis_port, args.slapd_port, args.echo_port, args.listen,
            extra_http=rp.oidc_http(base, key, portal.url)
            + rp.cas_http(cas_app.url, options="slo=on") + vendor_http
            + std_http + pull_http,
            extra_server=rp.OIDC_SERVER + rp.CAS_SERVER + vendor_server
            + std_server + pull_server)
        nginx = Nginx(run_dir / "nginx", args.listen, module, conf,
                      workers=args.workers)
        for daemon in (redis, slapd, echo, vendors["smartcampus"],
                       vendors["yuejuan"], dc, nginx, portal, cas_app):
            print("demo: starting %s on 127.0.0.1:%d"
                  % (daemon.name, daemon.port), flush=True)
            started.append(daemon)
            daemon.start()
            if daemon is redis:
                # the vendor ids the demo vendors already know, and the
                # district's org tree and calendar
                seed_idmap(redis.client())
                std_registry.seed_district(redis.client())
        if args.check:
            print("demo: checking the login flow at %s" % base)
            ok = check_login_flow(args.listen, sys.stdout)
            ok = check_relying_parties(base, portal.url, cas_app.url,
                                       sys.stdout) and ok
            ok = check_push(args.listen, dc.port, sys.stdout) and ok
            ok = check_pull(args.listen, sys.stdout) and ok
            problems = nginx.check_log()
            for line in problems:
                print("demo: nginx: %s" % line)
            rc = 0 if ok and not problems else 1
            return rc
        print(banner(base, run_dir, nginx, slapd, redis, echo, vendors,
                     portal, cas_app, dc), flush=True)
        while True:
            time.sleep(0.5)
            for daemon in started:
                if not daemon.running:
                    sys.stderr.write(
                        "demo: %s (pid %d) exited with code %s; see %s:\n%s\n"
                        % (daemon.name, daemon.pid, daemon.proc.returncode,
                           daemon.log, daemon.startup_report()))
                    rc = 1
                    return rc
    except Stop:
        print("\ndemo: stopping", flush=True)
        rc = 0
    except HarnessError as e:
        sys.stderr.write("demo: %s\n" % e)
        rc = 1
    finally:
        # a second Ctrl-C must not interrupt the clean-up
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for daemon in reversed(started):
            if daemon.proc is not None:
                pid = daemon.pid
                clean = daemon.stop()
                print("demo: stopped %s (pid %d)%s"
                      % (daemon.name, pid, "" if clean else ", killed"),
                      flush=True)
        servers.stop_all()
    return rc


if __name__ == "__main__":
    sys.exit(main())
