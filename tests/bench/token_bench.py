"""Scenarios f and g of `make bench`: the OpenID Connect token endpoint.

A feed prepares the input of one wrk run and reads back what the run did
with it.  Both flows start the way a relying party does: GET
/oauth2/authorize with the benchmark user's session cookie and a PKCE
S256 challenge, whose 302 carries a code; the code and its verifier are
then POSTed to /oauth2/token with client_secret_basic.

f (CodeFeed): every request redeems another code.  A code is single use
and expires, so the codes are made before each run, from a pool topped
up to 1.5 times what the fastest run so far would use (a short probe run
gives the first figure); a code a run did not send stays in the pool.

g (RefreshFeed): every request presents a refresh token and gets its
successor.  The tokens of M families are shared out between the wrk
threads; each thread sends its oldest token and queues the successor
(token_refresh.lua), so no token is ever sent twice.  M is at least four
times the connections: a thread with c connections has at most c tokens
in flight and always 3c queued.  The tokens a run leaves queued go on to
the next run; families whose token was in flight when wrk stopped are
dropped and replaced by new ones.
"""

import base64
import hashlib
import http.client
import json
import math
import re
import secrets
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt

HERE = Path(__file__).resolve().parent

# Registered by the bench's own nginx.conf; a demo value, not a secret.
CLIENT_ID = "bench-rp"
CLIENT_SECRET = "bench-demo-secret-0123456789"
REDIRECT_URI = "http://127.0.0.1/bench/callback"
SCOPE = "openid profile edu offline_access"
AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/token"
# What a wrk thread asks for when it has no code or token left.
NONE_LEFT_PATH = "/bench/none-left"

CODE_MARGIN = 1.5
# edugate_oidc_code_ttl is 10m in the bench's nginx.conf: older codes are
# thrown away before a run rather than be refused in it
CODE_MAX_AGE = 480
PROBE_SECONDS = 1
PROBE_CODES = 2000
MAKERS = 4


class FeedError(Exception):
    """The gateway did not answer a flow step as expected."""


def token_headers():
    """The headers of every token request (client_secret_basic)."""
    cred = "%s:%s" % (urllib.parse.quote(CLIENT_ID, safe=""),
                      urllib.parse.quote(CLIENT_SECRET, safe=""))
    return {"Authorization": "Basic "
            + base64.b64encode(cred.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"}


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def code_body(code, verifier):
    return urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier})


class Connection:
    """A keep-alive connection, as a relying party keeps to its provider:
    making thousands of codes must not cost a TCP handshake each."""

    def __init__(self, port, cookie_header):
        self.conn = http.client.HTTPConnection("127.0.0.1", port,
                                               timeout=15)
        self.cookie = cookie_header

    def close(self):
        self.conn.close()

    def send(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        resp = self.conn.getresponse()
        return resp, resp.read()

    def code(self):
        """(code, verifier): an authorization request of the bench user."""
        verifier, challenge = pkce_pair()
        state = secrets.token_hex(8)
        query = urllib.parse.urlencode({
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
            "response_type": "code", "scope": SCOPE, "state": state,
            "nonce": secrets.token_hex(8), "code_challenge": challenge,
            "code_challenge_method": "S256"})
        resp, body = self.send("GET", AUTHORIZE_PATH + "?" + query,
                               headers=self.cookie)
        location = resp.getheader("Location") or ""
        params = dict(urllib.parse.parse_qsl(
            urllib.parse.urlsplit(location).query))
        if resp.status != 302 or params.get("state") != state \
                or "code" not in params:
            raise FeedError("GET %s answered %d %s (%s): no code"
                            % (AUTHORIZE_PATH, resp.status, location,
                               resp.getheader("X-Edugate-Error")))
        return params["code"], verifier

    def token(self, body):
        """(status, JSON answer or None) of one token request."""
        resp, data = self.send("POST", TOKEN_PATH, body.encode(),
                               token_headers())
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        return resp.status, answer

    def family(self):
        """The first refresh token of a new family."""
        status, answer = self.token(code_body(*self.code()))
        if status != 200 or not answer or "refresh_token" not in answer:
            raise FeedError("POST %s (authorization_code) answered %d %r"
                            % (TOKEN_PATH, status, answer))
        return answer["refresh_token"]


def make_many(port, cookie_header, n, what):
    """n results of Connection.<what>, over MAKERS connections at once."""
    if n <= 0:
        return []
    shares = [n // MAKERS + (1 if i < n % MAKERS else 0)
              for i in range(MAKERS)]

    def work(share):
        c = Connection(port, cookie_header)
        try:
            return [getattr(c, what)() for _ in range(share)]
        finally:
            c.close()

    with ThreadPoolExecutor(max_workers=MAKERS) as pool:
        return [x for part in pool.map(work, shares) for x in part]


def split(items, parts):
    """items dealt out in turn into `parts` lists."""
    return [items[i::parts] for i in range(parts)]


def feed_lines(output):
    """{thread: {name: int}} from the "bench-feed" lines of a wrk run."""
    found = {}
    for m in re.finditer(r"^bench-feed thread=(\d+) (.*)$", output,
                         flags=re.M):
        found[int(m.group(1))] = {k: int(v) for k, v in
                                  re.findall(r"(\w+)=(-?\d+)", m.group(2))}
    return found


class Feed:
    """What feeds f and g share: the gateway, the wrk split, run files."""

    script = None

    def __init__(self, port, cookie_header, threads, connections, workdir):
        self.port = port
        self.cookie = cookie_header
        self.threads = threads
        self.connections = connections
        self.per_thread = connections // threads
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.runs = 0
        self.starved = 0

    def write_inputs(self, shares):
        """One file per wrk thread; the prefix wrk's script gets."""
        self.runs += 1
        prefix = self.workdir / ("run%03d" % self.runs)
        for i, lines in enumerate(shares, 1):
            Path("%s.%d" % (prefix, i)).write_text(
                "".join(line + "\n" for line in lines))
        return prefix

    def threads_of(self, output):
        found = feed_lines(output)
        if sorted(found) != list(range(1, self.threads + 1)):
            raise FeedError("wrk printed no bench-feed line for every "
                            "thread (script %s):\n%s"
                            % (self.script.name, output))
        return found

    def common_problems(self, found, what):
        problems = []
        self.starved = sum(t["starved"] for t in found.values())
        if self.starved:
            problems.append("%d requests found no %s left (asked for %s "
                            "instead)" % (self.starved, what,
                                          NONE_LEFT_PATH))
        tokenless = sum(t["tokenless"] for t in found.values())
        if tokenless:
            problems.append("%d answers 200 without the expected tokens"
                            % tokenless)
        return problems


class CodeFeed(Feed):
    """Scenario f: a distinct authorization code for every request."""

    script = HERE / "token_code.lua"

    def __init__(self, *args):
        super().__init__(*args)
        self.pool = []
        self.rate = 0.0
        self.made = 0
        self.expired = 0

    def top_up(self, n):
        """n more codes; the pool holds (time made, form body) pairs."""
        now = time.monotonic()
        self.pool += [(now, code_body(c, v)) for c, v in
                      make_many(self.port, self.cookie, n, "code")]
        self.made += max(n, 0)

    def prepare(self, seconds):
        fresh = time.monotonic() - CODE_MAX_AGE
        self.expired += sum(1 for made, _ in self.pool if made < fresh)
        self.pool = [c for c in self.pool if c[0] >= fresh]
        # wrk's own pre-run request() call takes one line of thread 1
        need = math.ceil(CODE_MARGIN * self.rate * seconds) \
            + self.connections + self.threads
        if len(self.pool) < need:
            self.top_up(need - len(self.pool))
        self.handed = split(self.pool, self.threads)
        self.pool = []
        return self.script, [str(self.write_inputs(
            [[body for _, body in share] for share in self.handed]))]

    def collect(self, output, ok_per_second=None):
        """Problems of the run; codes it did not send go back to the
        pool.  ok_per_second: the 200 answers per second of a measured
        run, which raises the rate the pool is sized for."""
        found = self.threads_of(output)
        for i, share in enumerate(self.handed, 1):
            self.pool += share[found[i]["sent"]:]
        self.handed = []
        if ok_per_second:
            self.rate = max(self.rate, ok_per_second)
        return self.common_problems(found, "unused code")

    def note(self):
        return "%d codes left" % len(self.pool)


class RefreshFeed(Feed):
    """Scenario g: refresh token families, each token sent once."""

    script = HERE / "token_refresh.lua"

    def __init__(self, port, cookie_header, threads, connections, workdir,
                 families):
        super().__init__(port, cookie_header, threads, connections,
                         workdir)
        self.families = families
        self.pool = []
        self.made = 0
        self.low = None

    def prepare(self, seconds):
        missing = self.families - len(self.pool)
        if missing > 0:
            self.pool += make_many(self.port, self.cookie, missing,
                                   "family")
            self.made += missing
        shares = split(self.pool, self.threads)
        # the guarantee of token_refresh.lua: a thread's queue holds three
        # times its connections while every connection waits for an answer
        fewest = min(len(s) for s in shares)
        if fewest < 4 * self.per_thread:
            raise FeedError("%d refresh tokens for a wrk thread of %d "
                            "connections: at least %d are needed"
                            % (fewest, self.per_thread,
                               4 * self.per_thread))
        if len(set(self.pool)) != len(self.pool):
            raise FeedError("a refresh token is queued twice")
        self.pool = []
        return self.script, [str(self.write_inputs(shares))]

    def collect(self, output, ok_per_second=None):
        found = self.threads_of(output)
        self.pool = re.findall(r"^bench-token (\S+)$", output, flags=re.M)
        self.low = min(t["low"] for t in found.values())
        return self.common_problems(found, "refresh token")

    def note(self):
        return "queue low-water %d tokens/thread" % self.low


def check_flows(port, cookie_header, issuer, jwks):
    """Before measuring: a code gives verified tokens, a code and a
    refresh token are refused the second time (400), and a reused refresh
    token revokes its family.  Proof that a reuse in f or g would show
    in the statuses the bench reads.  The user the tokens name."""
    c = Connection(port, cookie_header)
    try:
        code, verifier = c.code()
        status, answer = c.token(code_body(code, verifier))
        if status != 200 or not answer:
            raise FeedError("code exchange answered %d %r" % (status,
                                                              answer))
        keys = {k["kid"]: jwt.PyJWK(k).key for k in jwks["keys"]}
        claims = {}
        for name, audience in (("access_token", issuer),
                               ("id_token", CLIENT_ID)):
            try:
                kid = jwt.get_unverified_header(answer[name]).get("kid")
                claims[name] = jwt.decode(answer[name], keys[kid],
                                          algorithms=["RS256"],
                                          audience=audience, issuer=issuer)
            except (KeyError, jwt.InvalidTokenError) as e:
                raise FeedError("the %s of a code exchange does not verify "
                                "with the JWKS: %r" % (name, e))
        status, again = c.token(code_body(code, verifier))
        if status != 400:
            raise FeedError("a code redeemed twice answered %d %r"
                            % (status, again))

        first = c.family()
        refresh = "grant_type=refresh_token&refresh_token="
        status, answer = c.token(refresh + first)
        if status != 200 or "refresh_token" not in (answer or {}):
            raise FeedError("refresh answered %d %r" % (status, answer))
        second = answer["refresh_token"]
        status, answer = c.token(refresh + first)
        if status != 400:
            raise FeedError("a used refresh token answered %d %r"
                            % (status, answer))
        status, answer = c.token(refresh + second)
        if status != 400:
            raise FeedError("the successor of a reused refresh token "
                            "answered %d %r: the family was not revoked"
                            % (status, answer))
    finally:
        c.close()
    return claims["id_token"].get("sub")
