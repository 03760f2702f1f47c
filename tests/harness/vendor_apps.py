#!/usr/bin/env python3
"""The demo's two vendor applications, each behind the gateway with its
own idea of identity, serving its own data:

  smartcampus  trusts X-SmartCampus-User / -Ts / -Sign, where Sign is hex
               HMAC-SHA256(secret, user "|" ts) and ts is within 300 s;
               GET .../api/v2/roster answers its JSON roster
  yuejuan      trusts an HS256 JWT in the yj_token argument, or as a
               bearer token (issuer "edugate", sub = its user id, exp at
               most 300 s after iat); GET .../export/scores.xml?examId=
               answers its GBK score export of that exam

Anything else is a page saying whom the application recognised:

    {"app": "smartcampus", "user": "sc-10001", "known": true,
     "display": "张小明", "path": "/apps/smartcampus/"}

An unknown user id (a pairwise id for someone the vendor never saw) is a
new guest account, "known": false.  A missing, forged or stale identity
is refused: 401 {"error": "bad_signature" | "stale_timestamp" |
"missing_identity" | "bad_token"}.

    python3 vendor_apps.py --vendor smartcampus --port 18092 \
        --secret <secret> --data <roster.json>
"""

import argparse
import hashlib
import hmac
import json
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_SKEW = 300

# the vendors' own user tables (fictional demo people)
USERS = {
    "smartcampus": {"sc-10001": "张小明", "sc-T0001": "王老师"},
    "yuejuan": {"yj-250302017": "张小明"},
}


def check_smartcampus(headers, secret):
    """(user, None) or (None, error code)."""
    user = headers.get("X-SmartCampus-User")
    ts = headers.get("X-SmartCampus-Ts")
    sign = headers.get("X-SmartCampus-Sign")
    if not user or not ts or not sign:
        return None, "missing_identity"
    want = hmac.new(secret.encode(), ("%s|%s" % (user, ts)).encode(),
                    hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sign):
        return None, "bad_signature"
    if not ts.isdigit() or abs(time.time() - int(ts)) > MAX_SKEW:
        return None, "stale_timestamp"
    return user, None


def check_yuejuan(query, secret, authorization=None):
    import jwt
    tokens = query.get("yj_token", [])
    if authorization and authorization.startswith("Bearer ") and \
            not tokens:
        # the export API: a program's token in the Authorization header
        tokens = [authorization[7:]]
    if len(tokens) != 1:
        return None, "missing_identity"
    try:
        claims = jwt.decode(tokens[0], secret, algorithms=["HS256"],
                            issuer="edugate", leeway=5,
                            options={"require": ["sub", "iat", "exp"]})
    except jwt.PyJWTError:
        return None, "bad_token"
    if not isinstance(claims["sub"], str) or \
            claims["exp"] - claims["iat"] > MAX_SKEW:
        return None, "bad_token"
    return claims["sub"], None


class VendorHandler(BaseHTTPRequestHandler):
    server_version = "EduGateVendorDemo/1"

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status, doc):
        self._send(status, json.dumps(doc, ensure_ascii=False).encode(),
                   "application/json; charset=utf-8")

    def do_GET(self):
        srv = self.server
        url = urllib.parse.urlsplit(self.path)
        if srv.vendor == "smartcampus":
            user, error = check_smartcampus(self.headers, srv.secret)
        else:
            user, error = check_yuejuan(urllib.parse.parse_qs(url.query),
                                        srv.secret,
                                        self.headers.get("Authorization"))
        if error:
            self._json(401, {"app": srv.vendor, "error": error})
            return
        if url.path.endswith("/api/v2/roster") and srv.vendor == \
                "smartcampus":
            self._roster(urllib.parse.parse_qs(url.query))
            return
        if url.path.endswith("/export/scores.xml") and srv.vendor == \
                "yuejuan":
            exams = urllib.parse.parse_qs(url.query).get("examId", [])
            if exams and ('examId="%s"' % exams[0]).encode() not in \
                    srv.data:
                self._json(404, {"app": "yuejuan", "error": "unknown_exam"})
                return
            self._send(200, srv.data, "application/xml; charset=GBK")
            return
        users = USERS[srv.vendor]
        self._json(200, {"app": srv.vendor, "user": user,
                         "known": user in users,
                         "display": users.get(user, "guest"),
                         "path": self.path})

    def _roster(self, query):
        """The roster of the school named by moeCode (学校标识码) or orgId
        (the vendor's id); another school is unknown here."""
        school = json.loads(self.server.data).get("school", {})
        for arg, key in (("moeCode", "moeCode"), ("orgId", "orgId")):
            wanted = query.get(arg)
            if wanted and wanted != [school.get(key)]:
                self._json(404, {"app": "smartcampus",
                                 "error": "unknown_school"})
                return
        self._send(200, self.server.data, "application/json; charset=utf-8")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s: %s %s\n" % (self.server.vendor,
                                          self.address_string(), fmt % args))
        sys.stderr.flush()


class VendorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vendor", choices=sorted(USERS), required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--secret", required=True)
    ap.add_argument("--data", required=True,
                    help="the roster (JSON) or score export (XML) served")
    args = ap.parse_args(argv)
    server = VendorServer((args.host, args.port), VendorHandler)
    server.vendor = args.vendor
    server.secret = args.secret
    with open(args.data, "rb") as f:
        server.data = f.read()
    sys.stderr.write("%s: listening on %s:%d\n" % (args.vendor, args.host,
                                                   args.port))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
