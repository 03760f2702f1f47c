#!/usr/bin/env python3
"""EduGate benchmark: what edugate_protect costs per request, and how many
token requests the OpenID Connect provider answers per core (`make bench`).

Starts, in a temp dir on free 127.0.0.1 ports, a private redis-server,
slapd with the demo directory and two nginx instances with the EduGate
module, then measures with wrk (2 threads, 50 connections, --latency):

  (a) /plain/      proxy_pass to the backend, no EduGate directive
  (b) /apps/echo/  edugate_protect on, same backend, valid session cookie
  (c) /apps/echo/  the same on the second nginx, whose only difference is
                   `edugate_session_cache 0`: every request asks Redis
  (d) /api/        edugate_protect on, same backend, no cookie but
                   `Authorization: Bearer` with an RS256 access token
                   without "jti": checked locally, no Redis
  (e) /api/        the same with a token holding a "jti": every request
                   asks Redis whether it is revoked
  (f) /oauth2/token  grant_type=authorization_code: every request redeems
                   another code, made beforehand by /oauth2/authorize
                   with the benchmark user's session and PKCE S256
  (g) /oauth2/token  grant_type=refresh_token: every request presents a
                   refresh token and gets its successor (rotation)

The RSA key of (d) and (e) is made by openssl in the temp dir and loaded
with edugate_signing_key; the tokens are minted once at start with PyJWT,
their kid read from the gateway's JWKS.  The gateway's issuer is its own
origin.

(f) and (g) authenticate the client with client_secret_basic and get an
RS256 access token, an RS256 ID token and a refresh token in every
answer; they are reported in requests/s per core, that is divided by the
number of nginx workers (a worker is a single-threaded process: one
worker, one core).  Codes and refresh tokens are single use, so wrk runs
Lua scripts (token_code.lua, token_refresh.lua) that never send one
twice, fed by token_bench.py: a short probe run of (f) says how many
codes a run needs, and before each run the pool of codes is topped up to
1.5 times that; (g) keeps per wrk thread a queue of refresh tokens of at
least four times as many families as the thread has connections, and
queues each successor as it arrives.  A thread left with nothing to send
asks for /bench/none-left (410), never for a used code or token; a reuse
would be answered 400 (and revoke the family): either makes the run
invalid.  Before measuring, the flows are checked once from Python: the
tokens verify with PyJWT against the JWKS, and a second redemption of a
code or refresh token is refused.  The error log is at level info, so
each token answer also writes its audit line, as in a deployment that
keeps them.

Each scenario gets a short warm-up, then its duration is split into
rounds run in turn (a b c d e f g a b ...); figures are medians over
the rounds and ratios compare rounds run seconds apart, so a change in
the machine's load during the run does not favour one scenario.  Every
response must be 2xx: wrk counts 3xx as success, so the statuses are read
from the access log, and every 2xx answer of (b) to (e) must have logged
the benchmark user as its identity.

edugate_session_cache is an http-level directive, so (c) needs its own
nginx; both instances have the same number of workers and the same
locations.  The backend is a second `server` block of the same nginx that
answers `return 200` with a small JSON body made of the X-Edugate-*
request headers: a Python backend would be the bottleneck and hide what
the module costs.

Then it logs in N times through the login form and reports the Redis
memory used per stored session.  The figures are informational: the exit
code is 0 even when a target is missed, and 1 only when the benchmark
itself could not run (daemon failed, wrong status codes, wrk missing).

    python3 tests/bench/bench.py --module build/ngx_http_edugate_module.so

The default run (7 scenarios of 2 + 10 s, the code and refresh token
preparation, 200 logins) takes under two minutes.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import servers  # noqa: E402
from servers import (DEMO_ACCOUNTS, HarnessError, HttpClient,  # noqa: E402
                     Nginx, RedisServer, Slapd, free_port)
import token_bench  # noqa: E402
from std_bench import StdBench, StdBenchError  # noqa: E402
import std_bench  # noqa: E402
from token_bench import CodeFeed, FeedError, RefreshFeed  # noqa: E402

TARGET_RPS_RATIO = 0.85
TARGET_P99_OVERHEAD_MS = 1.0
BENCH_USER = "stu01"
COOKIE_NAME = "edugate_session"
JWKS_PATH = "/.well-known/jwks.json"
TOKEN_LIFETIME = 3600
IDENTITY_FIELDS = ("name", "roles", "org", "org_path", "level", "school",
                   "grade", "class")

# The gateway's http {} block.  @NAME@ tokens are filled in by conf_text().
NGINX_CONF = r"""
events {
    worker_connections  4096;
}

http {
    # Status and identity of every front request, read back after each
    # run to check that all of them were answered 2xx, with an identity
    # where one is expected.
    log_format  bench  '$status "$edugate_user" $request_uri';

    keepalive_requests  1000000;

    edugate_redis               127.0.0.1:@REDIS_PORT@;
    edugate_ldap_uri            ldap://127.0.0.1:@SLAPD_PORT@/;
    edugate_ldap_base           dc=edu,dc=cn;
    edugate_ldap_bind_dn        cn=edugate,ou=services,dc=edu,dc=cn;
    # published demo password (conf/demo/directory.ldif)
    edugate_ldap_bind_password  EduGateSvc-Demo-Passw0rd;

    edugate_issuer       @ISSUER@;
    edugate_signing_key  @SIGNING_KEY@;
@SESSION_CACHE@
    # The relying party of scenarios f and g.  Codes live long enough to
    # be made before the runs that redeem them.
    edugate_oidc_client    @CLIENT_ID@ secret=@CLIENT_SECRET@
                           redirect_uri=@REDIRECT_URI@
                           scopes=openid,profile,edu,offline_access;
    edugate_oidc_code_ttl  10m;

    upstream bench_backend {
        server     127.0.0.1:@BACKEND_PORT@;
        keepalive  64;
    }

    # The benchmark backend: answers at once, from the identity headers.
    server {
        listen      127.0.0.1:@BACKEND_PORT@;
        access_log  off;
        default_type  application/json;

        location / {
            return 200 '{"user":"$http_x_edugate_user",
 "roles":"$http_x_edugate_roles",
 "org":"$http_x_edugate_org",
 "org_path":"$http_x_edugate_org_path",
 "level":"$http_x_edugate_level"}\n';
        }
    }

    server {
        listen      127.0.0.1:@LISTEN_PORT@;
        access_log  @FRONT_LOG@ bench;

        proxy_http_version  1.1;
        proxy_set_header    Connection "";

        location = /edugate/login {
            edugate_login;
        }

        location /plain/ {
            proxy_pass  http://bench_backend;
        }

        location /apps/echo/ {
            edugate_protect  on;
            proxy_pass       http://bench_backend;
        }

        location = @JWKS_PATH@ {
            edugate_jwks;
        }

        location /api/ {
            edugate_protect  on;
            proxy_pass       http://bench_backend;
        }

        location = @AUTHORIZE_PATH@ {
            edugate_oidc_authorize;
        }

        location = @TOKEN_PATH@ {
            edugate_oidc_token;
        }

        # asked for by a wrk thread of f or g that has nothing left to
        # send: never a 2xx, so such a run does not count
        location = @NONE_LEFT_PATH@ {
            return 410;
        }
    }
}
"""


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop()


class BenchError(Exception):
    """The benchmark could not produce a valid measurement."""


def issuer_of(port):
    """The gateway's own origin: the OIDC endpoints are found there."""
    return "http://127.0.0.1:%d" % port


def conf_text(ports, listen_port, backend_port, front_log, cache_off,
              signing_key):
    values = {
        "ISSUER": issuer_of(listen_port),
        "CLIENT_ID": token_bench.CLIENT_ID,
        "CLIENT_SECRET": token_bench.CLIENT_SECRET,
        "REDIRECT_URI": token_bench.REDIRECT_URI,
        "AUTHORIZE_PATH": token_bench.AUTHORIZE_PATH,
        "TOKEN_PATH": token_bench.TOKEN_PATH,
        "NONE_LEFT_PATH": token_bench.NONE_LEFT_PATH,
        "SIGNING_KEY": str(signing_key),
        "JWKS_PATH": JWKS_PATH,
        "REDIS_PORT": str(ports["redis"]),
        "SLAPD_PORT": str(ports["slapd"]),
        "BACKEND_PORT": str(backend_port),
        "LISTEN_PORT": str(listen_port),
        "FRONT_LOG": str(front_log),
        "SESSION_CACHE": ("    edugate_session_cache       0;\n"
                          if cache_off else ""),
    }
    text = NGINX_CONF
    for key, value in values.items():
        text = text.replace("@%s@" % key, value)
    return text


# wrk prints times as 612.00us, 1.23ms, 2.00s, 1.00m, 1.00h
_TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_time_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if m is None:
        raise BenchError("cannot read wrk time %r" % text)
    return float(m.group(1)) * _TIME_UNITS[m.group(2)]


def parse_wrk(output):
    """The figures of one wrk --latency run, as a dict."""
    r = {"non_2xx_3xx": 0, "socket_errors": {}}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)\s*$", output, flags=re.M)
    if m is None:
        raise BenchError("no Requests/sec line in wrk output:\n" + output)
    r["rps"] = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+),", output,
                  flags=re.M)
    if m is None:
        raise BenchError("no request count in wrk output:\n" + output)
    r["requests"] = int(m.group(1))
    r["elapsed_ms"] = parse_time_ms(m.group(2))
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", output,
                  flags=re.M)
    if m is None:
        raise BenchError("no Latency line in wrk output:\n" + output)
    r["avg_ms"] = parse_time_ms(m.group(1))
    r["max_ms"] = parse_time_ms(m.group(3))
    dist = dict(re.findall(r"^\s*(50|75|90|99)%\s+(\S+)\s*$", output,
                           flags=re.M))
    if "99" not in dist:
        raise BenchError("no latency distribution in wrk output "
                         "(--latency):\n" + output)
    for pct, value in dist.items():
        r["p%s_ms" % pct] = parse_time_ms(value)
    m = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", output,
                  flags=re.M)
    if m:
        r["non_2xx_3xx"] = int(m.group(1))
    m = re.search(r"Socket errors:\s+connect (\d+), read (\d+), "
                  r"write (\d+), timeout (\d+)", output)
    if m:
        r["socket_errors"] = {k: int(v) for k, v in zip(
            ("connect", "read", "write", "timeout"), m.groups()) if int(v)}
    return r


class Wrk:
    """Runs wrk as a child; stop() kills a run still going, by PID."""

    def __init__(self, binary, threads, connections):
        self.binary = binary
        self.threads = threads
        self.connections = connections
        self.proc = None

    def run(self, url, seconds, headers=None, script=None, script_args=()):
        cmd = [self.binary, "-t", str(self.threads),
               "-c", str(self.connections), "-d", "%ds" % seconds,
               "--latency", "--timeout", "5s"]
        for name, value in (headers or {}).items():
            cmd += ["-H", "%s: %s" % (name, value)]
        if script is not None:
            cmd += ["-s", str(script)]
        cmd.append(url)
        if script_args:
            cmd += ["--"] + list(script_args)
        # its own process group: a Ctrl-C reaches this script, which then
        # stops wrk itself
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        try:
            out, _ = self.proc.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            self.stop()
            raise BenchError("wrk did not finish: %s" % " ".join(cmd))
        rc = self.proc.returncode
        self.proc = None
        if rc != 0:
            raise BenchError("wrk exited with code %d:\n%s" % (rc, out))
        return out

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None


class FrontLog:
    """The `bench` access log of one nginx: statuses and identities of
    the requests logged since a mark."""

    def __init__(self, path):
        self.path = Path(path)
        self.offset = 0

    def mark(self):
        try:
            self.offset = self.path.stat().st_size
        except OSError:
            self.offset = 0

    def since_mark(self):
        """({status: count}, {user of a 2xx answer: count})"""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return {}, {}
        statuses = {}
        users = {}
        for line in text.splitlines():
            parts = line.split(" ", 2)
            if len(parts) < 2:
                continue
            statuses[parts[0]] = statuses.get(parts[0], 0) + 1
            if parts[0].startswith("2"):
                user = parts[1].strip('"')
                if user == "-":
                    user = ""
                users[user] = users.get(user, 0) + 1
        return statuses, users


def login(port, user=BENCH_USER):
    """Logs in through the form as a browser would; the session cookie."""
    c = HttpClient(port)
    r = c.get("/edugate/login?return=" + urllib.parse.quote("/apps/echo/"))
    if r.status != 200:
        raise BenchError("GET /edugate/login answered %d: %s"
                         % (r.status, r.text[:300]))
    fields = servers.form_inputs(r.text)
    if "csrf" not in fields:
        raise BenchError("the login form has no csrf field")
    r = c.post_form("/edugate/login", {
        "username": user, "password": DEMO_ACCOUNTS[user]["password"],
        "csrf": fields["csrf"], "return": fields.get("return", "/"),
    })
    cookie = c.cookie(COOKIE_NAME)
    if r.status != 302 or cookie is None:
        raise BenchError("login as %s failed: %d %s %s"
                         % (user, r.status, r.header("X-Edugate-Error"),
                            r.text[:300]))
    return cookie


def make_rsa_key(path):
    """A 2048-bit RSA key made by openssl, as the gateway's signing key."""
    exe = shutil.which("openssl")
    if exe is None:
        raise BenchError("openssl not found (apt-get install openssl)")
    r = subprocess.run([exe, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", str(path)],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise BenchError("openssl genpkey failed: %s" % r.stderr.strip())
    return path


def learn_kid(port, key_pem):
    """The kid under which the gateway publishes our key in its JWKS."""
    private = serialization.load_pem_private_key(key_pem, None)
    want = private.public_key().public_numbers()
    r = HttpClient(port).get(JWKS_PATH)
    if r.status != 200:
        raise BenchError("GET %s on :%d answered %d" % (JWKS_PATH, port,
                                                        r.status))
    for jwk in r.json().get("keys", []):
        if jwk.get("kty") == "RSA" and \
                jwt.PyJWK(jwk).key.public_numbers() == want:
            return jwk["kid"]
    raise BenchError("the JWKS of :%d does not publish the signing key"
                     % port)


def mint_token(key_pem, kid, issuer, user, jti=None):
    """An RS256 access token (RFC 9068) with the identity of a demo
    person; the claims use the same names as a session."""
    acct = DEMO_ACCOUNTS[user]
    now = int(time.time())
    claims = {"iss": issuer, "aud": issuer, "sub": user, "iat": now,
              "exp": now + TOKEN_LIFETIME, "client_id": "bench"}
    for f in IDENTITY_FIELDS:
        if acct.get(f) is not None:
            claims[f] = acct[f]
    if jti is not None:
        claims["jti"] = jti
    return jwt.encode(claims, key_pem, algorithm="RS256",
                      headers={"kid": kid, "typ": "at+jwt"})


def bearer(token):
    return {"Authorization": "Bearer " + token}


def cookie_header(cookie):
    return {"Cookie": "%s=%s" % (COOKIE_NAME, cookie)}


def check_target(port, path, headers, want_user):
    """One request before measuring: 200, and the expected identity."""
    r = HttpClient(port).get(path, headers=headers, cookies=False)
    if r.status != 200:
        raise BenchError("GET %s on :%d answered %d (%s), not 200"
                         % (path, port, r.status,
                            r.header("X-Edugate-Error")))
    user = r.json().get("user")
    if user != want_user:
        raise BenchError("GET %s on :%d: the backend saw user %r, "
                         "expected %r" % (path, port, user, want_user))


def check_revocation_lookup(port, rc, key_pem, kid):
    """A token whose jti Redis lists as revoked is refused: proof that a
    token with a jti is looked up in Redis, which (e) measures."""
    jti = "bench-revoked-" + os.urandom(8).hex()
    rkey = "eg:revoked:jti:" + jti
    rc.set(rkey, "1", ex=60)
    try:
        r = HttpClient(port).get(
            "/api/", headers=bearer(mint_token(key_pem, kid,
                                               issuer_of(port), BENCH_USER,
                                               jti)), cookies=False)
    finally:
        rc.delete(rkey)
    try:
        reason = json.loads(r.body).get("error_description")
    except ValueError:
        reason = None
    if r.status != 401 or reason != "revoked":
        raise BenchError("a token with a revoked jti was answered %d %r, "
                         "not 401 revoked: the Redis lookup of (e) is not "
                         "happening" % (r.status, reason))


class Scenario:
    """One URL measured in several rounds; figures summed over rounds.

    A feed (token_bench.py) gives every wrk run of the scenario its Lua
    script and input, and reads back what the run did with them."""

    def __init__(self, key, label, port, path, headers, want_user, log,
                 feed=None):
        self.key = key
        self.label = label
        self.port = port
        self.path = path
        self.headers = headers
        self.want_user = want_user
        self.log = log
        self.feed = feed
        self.rounds = []
        self.problems = []

    @property
    def url(self):
        return "http://127.0.0.1:%d%s" % (self.port, self.path)

    def median(self, field):
        return statistics.median(r[field] for r in self.rounds)

    def ratio_to(self, other, field="rps"):
        """Median over rounds of this round's figure / the other's: a
        round of each runs within seconds, so load drifts cancel out."""
        return statistics.median(
            mine[field] / theirs[field]
            for mine, theirs in zip(self.rounds, other.rounds))

    def diff_to(self, other, field="p99_ms"):
        return statistics.median(
            mine[field] - theirs[field]
            for mine, theirs in zip(self.rounds, other.rounds))

    def wrk_run(self, wrk, seconds, mark=False):
        """wrk's output; with mark, only the run's requests will be read
        from the access log, not those a feed made to prepare it."""
        script, script_args = None, ()
        if self.feed is not None:
            script, script_args = self.feed.prepare(seconds)
        if mark:
            self.log.mark()
        return wrk.run(self.url, seconds, self.headers, script,
                       script_args)

    def run_round(self, wrk, seconds, warmup, connections, verbose, out):
        if warmup > 0:
            text = self.wrk_run(wrk, warmup)
            if self.feed is not None:
                # a warm-up is not measured; it only hands back what it
                # did not use
                self.feed.collect(text)
        text = self.wrk_run(wrk, seconds, mark=True)
        r = parse_wrk(text)
        statuses, users = self.log.since_mark()
        if verbose:
            out("\n".join("    | " + line for line in text.splitlines()
                          if not line.startswith("bench-token ")))
        problems = []
        if self.feed is not None:
            problems += self.feed.collect(
                text, statuses.get("200", 0) * 1000.0 / r["elapsed_ms"])
            if statuses.get("400"):
                # the token endpoint's answer to a used or expired code
                # and to a used refresh token (which revokes its family)
                problems.append("%d token requests refused with 400: a "
                                "code or refresh token was reused or "
                                "had expired" % statuses["400"])
        if r["non_2xx_3xx"]:
            problems.append("wrk counted %d non-2xx/3xx responses"
                            % r["non_2xx_3xx"])
        # wrk counts a 3xx (a redirect to the login page) as a success, so
        # the statuses come from the access log.  When wrk stops it drops
        # the requests it has in flight, at most one per connection; nginx
        # logs those as 499.
        closed = statuses.pop("499", 0)
        if closed > connections:
            statuses["499"] = closed
            closed = 0
        bad = {st: n for st, n in statuses.items() if not st.startswith("2")}
        if bad:
            problems.append("nginx answered non-2xx: %s" % ", ".join(
                "%s x%d" % kv for kv in sorted(bad.items())))
        if self.want_user is not None:
            # a protected location answered 2xx: the request went upstream
            # with the identity of the cookie or token
            wrong = {u: n for u, n in users.items() if u != self.want_user}
            if wrong:
                problems.append("%d requests reached the backend without "
                                "the identity %s: %s" % (
                                    sum(wrong.values()), self.want_user,
                                    ", ".join("%r x%d" % kv for kv in
                                              sorted(wrong.items()))))
        if not statuses:
            problems.append("no request in the access log")
        if r["socket_errors"]:
            problems.append("socket errors: %s" % ", ".join(
                "%s %d" % kv for kv in r["socket_errors"].items()))
        self.rounds.append(r)
        self.problems += problems
        out("  %-2s round %d  %8.0f req/s   p50 %6.3f ms   p99 %6.3f ms   "
            "max %7.3f ms   %7d requests, %s%s%s"
            % (self.key, len(self.rounds), r["rps"], r["p50_ms"],
               r["p99_ms"], r["max_ms"], r["requests"],
               "all 2xx" if not problems else "NOT VALID",
               " (%d in flight at the end)" % closed if closed else "",
               "; " + self.feed.note() if self.feed is not None else ""))
        for p in problems:
            out("     FAILED RUN: " + p)


def probe_code_rate(scenario, wrk, out):
    """Sets how many codes the runs of f need: a short run on a first
    batch, grown while the batch runs out before the end."""
    feed = scenario.feed
    codes = token_bench.PROBE_CODES
    for _ in range(4):
        feed.top_up(codes - len(feed.pool))
        text = scenario.wrk_run(wrk, token_bench.PROBE_SECONDS, mark=True)
        r = parse_wrk(text)
        statuses, _ = scenario.log.since_mark()
        problems = feed.collect(text)
        if feed.starved:
            codes *= 4
            continue
        if problems or set(statuses) - {"200", "499"}:
            raise BenchError("the probe of f failed: %s; statuses %s"
                             % ("; ".join(problems), statuses))
        feed.rate = statuses.get("200", 0) * 1000.0 / r["elapsed_ms"]
        out("  probe of f: %.0f codes redeemed per second, %d codes made "
            "so far" % (feed.rate, feed.made))
        return
    raise BenchError("the probe of f still ran out of codes with %d"
                     % codes)


def redis_used_memory(rc):
    return int(rc.info("memory")["used_memory"])


def session_keys(rc):
    return set(rc.scan_iter(match="eg:sess:*", count=1000))


def measure_session_memory(port, rc, n, out):
    out("\nRedis memory per stored session (%d logins as %s through the "
        "login form)" % (n, BENCH_USER))
    keys_before = session_keys(rc)
    before = redis_used_memory(rc)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        cookies = list(pool.map(lambda _: login(port), range(n)))
    took = time.monotonic() - t0
    after = redis_used_memory(rc)
    keys_after = session_keys(rc)
    new_keys = keys_after - keys_before
    if len(set(cookies)) != n or len(new_keys) != n:
        raise BenchError("%d logins gave %d distinct cookies and %d new "
                         "eg:sess:* keys" % (n, len(set(cookies)),
                                             len(new_keys)))
    one = sorted(new_keys)[0]
    strlen = rc.strlen(one)
    out("    %d logins in %.1fs (%.0f logins/s, LDAP search + bind each)"
        % (n, took, n / took))
    out("    used_memory %d -> %d bytes: %.0f bytes per session "
        "(includes Redis' own table growth)"
        % (before, after, (after - before) / n))
    try:
        usage = sum(rc.memory_usage(k, samples=0) for k in new_keys)
    except Exception:
        usage = None
    if usage:
        out("    MEMORY USAGE of the %d keys: %.0f bytes per session"
            % (n, usage / n))
    out("    one stored record (STRLEN %s...): %d bytes, TTL %ds"
        % (one.decode()[:16], strlen, rc.ttl(one)))


def verdict(ok):
    return "PASS" if ok else "MISS"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", required=True,
                    help="path of ngx_http_edugate_module.so")
    ap.add_argument("--workers", type=int, default=1,
                    help="nginx worker processes (default 1)")
    ap.add_argument("--duration", type=int, default=10,
                    help="seconds per measurement (default 10)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds per scenario, interleaved a b ... g "
                    "a b ... g ... (default 5; the duration is split "
                    "between them)")
    ap.add_argument("--warmup", type=int, default=2,
                    help="warm-up seconds before the first round of each "
                    "scenario (default 2)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--families", type=int, default=0,
                    help="refresh token families of scenario g (default "
                    "and minimum: 4 per connection)")
    ap.add_argument("--sessions", type=int, default=200,
                    help="logins for the Redis memory figure")
    ap.add_argument("--std-only", action="store_true",
                    help="only the data-standard part (std_bench.py)")
    ap.add_argument("--no-std", action="store_true",
                    help="without the data-standard part")
    std_bench.add_arguments(ap)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp dir (configs and logs)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print wrk's own output too")
    args = ap.parse_args(argv)

    def out(line=""):
        print(line, flush=True)

    if args.threads < 1 or args.connections < args.threads \
            or args.connections % args.threads:
        sys.stderr.write("bench: --connections must be a multiple of "
                         "--threads\n")
        return 1
    families = max(args.families, 4 * args.connections)
    module = Path(args.module).resolve()
    if not module.is_file():
        sys.stderr.write("bench: the EduGate module %s does not exist; "
                         "build it with `make module`\n" % module)
        return 1
    wrk_bin = shutil.which("wrk")
    if wrk_bin is None:
        sys.stderr.write("bench: wrk not found (apt-get install wrk)\n")
        return 1

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    tmp = Path(tempfile.mkdtemp(prefix="edugate-bench-"))
    # nginx maps the file: a `make module` elsewhere during the run would
    # rewrite it under the running workers
    shutil.copy2(module, tmp / module.name)
    wrk = Wrk(wrk_bin, args.threads, args.connections)
    started = []
    std = None
    rc = 0
    try:
        ports = {"redis": free_port(), "slapd": free_port()}
        signing_key = make_rsa_key(tmp / "bench-rs256.pem")
        key_pem = signing_key.read_bytes()
        redis = RedisServer(tmp / "redis", ports["redis"])
        slapd = Slapd(tmp / "slapd", ports["slapd"])
        gateways = []
        for name, cache_off in (("nginx", False), ("nginx-nocache", True)):
            listen, backend = free_port(), free_port()
            front_log = tmp / name / "front.log"
            gw = Nginx(tmp / name, listen, tmp / module.name,
                       conf_text(ports, listen, backend, front_log,
                                 cache_off, signing_key),
                       workers=args.workers)
            gw.front_log = FrontLog(front_log)
            gateways.append(gw)
        cached, uncached = gateways

        for daemon in ((redis,) if args.std_only
                       else (redis, slapd, cached, uncached)):
            started.append(daemon)
            daemon.start()

        out("EduGate benchmark")
        failed = []
        if not args.std_only:
            out("  nginx %s, %d worker(s) per instance; wrk %d threads, %d "
                "connections, %ds per scenario; %d CPUs, %s"
                % (nginx_version(), args.workers, args.threads,
                   args.connections, args.duration, os.cpu_count() or 0,
                   platform.machine()))
            out("  backend: a second server block of the same nginx "
                "(`return 200` + JSON built from the X-Edugate-* headers,")
            out("  upstream keepalive), so the figures show the gateway, "
                "not an application")
            out("  module: %s" % module)

            cookie = cookie_header(login(cached.port))
            kid = learn_kid(cached.port, key_pem)
            issuer = issuer_of(cached.port)
            token = bearer(mint_token(key_pem, kid, issuer, BENCH_USER))
            token_jti = bearer(mint_token(key_pem, kid, issuer, BENCH_USER,
                                          "bench-" + os.urandom(8).hex()))
            check_target(cached.port, "/plain/", None, "")
            check_target(cached.port, "/apps/echo/", cookie, BENCH_USER)
            check_target(uncached.port, "/apps/echo/", cookie, BENCH_USER)
            check_target(cached.port, "/api/", token, BENCH_USER)
            check_target(cached.port, "/api/", token_jti, BENCH_USER)
            check_revocation_lookup(cached.port, redis.client(), key_pem, kid)
            sub = token_bench.check_flows(cached.port, cookie, issuer,
                                          HttpClient(cached.port)
                                          .get(JWKS_PATH).json())
            if sub != BENCH_USER:
                raise BenchError("the ID token names %r, not %s"
                                 % (sub, BENCH_USER))
            code_feed = CodeFeed(cached.port, cookie, args.threads,
                                 args.connections, tmp / "codes")
            refresh_feed = RefreshFeed(cached.port, cookie, args.threads,
                                       args.connections, tmp / "refresh",
                                       families)
            token_headers = token_bench.token_headers()

            scenarios = [
                Scenario("a", "/plain/       no EduGate", cached.port,
                         "/plain/", None, None, cached.front_log),
                Scenario("b", "/apps/echo/   edugate_protect (cache 2s)",
                         cached.port, "/apps/echo/", cookie, BENCH_USER,
                         cached.front_log),
                Scenario("c", "/apps/echo/   edugate_session_cache 0",
                         uncached.port, "/apps/echo/", cookie, BENCH_USER,
                         uncached.front_log),
                Scenario("d", "/api/         bearer RS256, no jti",
                         cached.port, "/api/", token, BENCH_USER,
                         cached.front_log),
                Scenario("e", "/api/         bearer RS256 + jti (Redis)",
                         cached.port, "/api/", token_jti, BENCH_USER,
                         cached.front_log),
                Scenario("f", "/oauth2/token authorization_code",
                         cached.port, token_bench.TOKEN_PATH, token_headers,
                         None, cached.front_log, code_feed),
                Scenario("g", "/oauth2/token refresh_token",
                         cached.port, token_bench.TOKEN_PATH, token_headers,
                         None, cached.front_log, refresh_feed),
            ]
            out("\nScenarios (same session cookie for b and c, an access "
                "token of %s for d and e):" % BENCH_USER)
            for sc in scenarios:
                out("  %s  %-40s %s" % (sc.key, sc.label, sc.url))
            out("  c runs on a second nginx, identical but for "
                "`edugate_session_cache 0`")
            out("  (an http-level directive): every request reads the session "
                "from Redis.")
            out("  d: no Redis; the worker checks the token's signature and "
                "claims once, then reuses them for edugate_session_cache;")
            out("  e: its jti makes every request ask Redis whether the token "
                "is revoked.")
            out("  f, g: the token endpoint, client_secret_basic; every "
                "answer holds an RS256 access")
            out("  token, an RS256 ID token and a new refresh token.  f "
                "redeems a different code made")
            out("  beforehand by /oauth2/authorize each time (two Redis "
                "scripts); g rotates %d refresh" % families)
            out("  token families, never sending a token twice (one Redis "
                "script).")
            probe_code_rate(scenarios[5], wrk, out)
            rounds = max(1, args.rounds)
            seconds = max(1, round(args.duration / rounds))
            out("\nMeasuring: %d interleaved rounds of %ds per scenario, "
                "after a %ds warm-up each" % (rounds, seconds, args.warmup))
            for i in range(rounds):
                for sc in scenarios:
                    sc.run_round(wrk, seconds, args.warmup if i == 0 else 0,
                                 args.connections, args.verbose, out)

            failed += [sc.key for sc in scenarios if sc.problems]
            a, b, c, d, e, f, g = scenarios
            ratio_b = b.ratio_to(a)
            ratio_c = c.ratio_to(a)
            ratio_d = d.ratio_to(a)
            ratio_e = e.ratio_to(a)
            over_b = b.diff_to(a)
            over_c = c.diff_to(a)
            over_d = d.diff_to(a)
            over_e = e.diff_to(a)
            out("\nSummary: medians over the rounds; the ratios to a and the "
                "p99 overheads")
            out("compare rounds run one after the other")
            out("  %-45s %10s %10s" % ("", "req/s", "p99 ms"))
            for sc in scenarios[:5]:
                out("  %s  %-42s %10.0f %10.3f" % (sc.key, sc.label,
                                                    sc.median("rps"),
                                                    sc.median("p99_ms")))
            out("  throughput b/a     %.3f      (target >= %.2f)  %s"
                % (ratio_b, TARGET_RPS_RATIO,
                   verdict(ratio_b >= TARGET_RPS_RATIO)))
            out("  throughput c/a     %.3f      (no target: a Redis round "
                "trip per request)" % ratio_c)
            out("  throughput d/a     %.3f      (target >= %.2f)  %s"
                % (ratio_d, TARGET_RPS_RATIO,
                   verdict(ratio_d >= TARGET_RPS_RATIO)))
            out("  throughput e/a     %.3f      (no target: a Redis round "
                "trip per request)" % ratio_e)
            out("  p99 overhead b-a  %+.3f ms   (target < %.1f ms)  %s"
                % (over_b, TARGET_P99_OVERHEAD_MS,
                   verdict(over_b < TARGET_P99_OVERHEAD_MS)))
            out("  p99 overhead c-a  %+.3f ms   (no target)" % over_c)
            out("  p99 overhead d-a  %+.3f ms   (target < %.1f ms)  %s"
                % (over_d, TARGET_P99_OVERHEAD_MS,
                   verdict(over_d < TARGET_P99_OVERHEAD_MS)))
            out("  p99 overhead e-a  %+.3f ms   (no target)" % over_e)
            out("\nToken endpoint: per core = req/s / %d nginx worker%s (a "
                "worker is one single-threaded"
                % (args.workers, "" if args.workers == 1 else "s"))
            out("process: one worker is one core)")
            out("  %-45s %10s %10s %10s" % ("", "req/s", "per core",
                                            "p99 ms"))
            for sc in (f, g):
                out("  %s  %-42s %10.0f %10.0f %10.3f"
                    % (sc.key, sc.label, sc.median("rps"),
                       sc.median("rps") / args.workers, sc.median("p99_ms")))
            out("  the p99 is mostly waiting in line: %d connections share "
                "the worker%s" % (args.connections,
                                  "" if args.workers == 1 else "s"))
            out("  f used %d of the %d codes made%s; g made %d refresh "
                "token families, %d at a time" % (
                    code_feed.made - len(code_feed.pool) - code_feed.expired,
                    code_feed.made, ", %d thrown away as too old"
                    % code_feed.expired if code_feed.expired else "",
                    refresh_feed.made, families))
            if failed:
                out("  these figures are NOT valid: see FAILED RUN above")

            if args.sessions > 0:
                measure_session_memory(cached.port, redis.client(),
                                       args.sessions, out)

        if not args.no_std:
            std = StdBench(tmp, tmp / module.name, redis, signing_key,
                           wrk_bin, args, out)
            problems = std.run()
            std.summary(verdict)
            for p in problems:
                out("  std: %s" % p)
            if problems:
                failed.append("std")
            std.stop()
            std = None

        for gw in gateways:
            for line in gw.check_log():
                out("  %s: %s" % (gw.dir.name, line))
                failed.append(gw.dir.name)
        if failed:
            out("\nFAILED: run(s) %s did not get only 2xx responses or "
                "nginx logged problems; the figures above are not valid"
                % ", ".join(sorted(set(failed))))
            rc = 1
    except Stop:
        out("\nbench: interrupted")
        rc = 130
    except (BenchError, FeedError, HarnessError, OSError,
            StdBenchError) as e:
        sys.stderr.write("bench: %s\n" % e)
        rc = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        wrk.stop()
        if std is not None:
            std.stop()
        for daemon in reversed(started):
            daemon.stop()
        servers.stop_all()
        if args.keep:
            out("bench: configs and logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


def nginx_version():
    r = subprocess.run([servers.NGINX_BIN, "-v"], capture_output=True,
                       text=True)
    m = re.search(r"nginx/(\S+)", r.stderr + r.stdout)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    sys.exit(main())
