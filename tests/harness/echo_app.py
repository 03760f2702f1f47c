#!/usr/bin/env python3
"""The protected demo application: echoes the identity the gateway sent.

Every request is answered with JSON describing what arrived:

    {"path": "/apps/echo/x?y=1", "method": "GET",
     "headers": {"x-edugate-user": "stu01", ...},
     "cookies": ["other_app_cookie"],
     "all_headers": [["Host", "..."], ["X-Edugate-User", "stu01"], ...],
     "cookie_lines": ["other_app_cookie=1"],
     "authorization_present": false,
     "identity": {"user": "stu01", "name": "张小明", "roles": ["student"],
                  "org": "3137000001", "org_path": "370000/.../3137000001",
                  "level": "school", "school": "3137000001",
                  "grade": "07", "class": "1"}}

The application trusts the gateway completely, as a real one behind
EduGate would: a request without X-Edugate-User means the gateway let an
anonymous request through, so it answers 500 {"error": "no_identity"}.

Run standalone:  python3 echo_app.py --port 18091
"""

import argparse
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDENTITY_HEADERS = (
    ("user", "X-Edugate-User"),
    ("name", "X-Edugate-Name"),
    ("roles", "X-Edugate-Roles"),
    ("org", "X-Edugate-Org"),
    ("org_path", "X-Edugate-Org-Path"),
    ("level", "X-Edugate-Level"),
    ("school", "X-Edugate-School"),
    ("grade", "X-Edugate-Grade"),
    ("class", "X-Edugate-Class"),
)

MAX_BODY = 1 << 20


class EchoHandler(BaseHTTPRequestHandler):
    server_version = "EduGateEcho/1"

    def _edugate_headers(self):
        # A header sent twice shows up joined, so a spoofed copy that the
        # gateway failed to remove is visible next to the real one.
        seen = {}
        for name, value in self.headers.items():
            key = name.lower()
            if key.startswith("x-edugate-"):
                seen.setdefault(key, []).append(value)
        return {k: ", ".join(v) for k, v in seen.items()}

    def _cookie_names(self):
        names = []
        for line in self.headers.get_all("Cookie") or []:
            for part in line.split(";"):
                name = part.split("=", 1)[0].strip()
                if name:
                    names.append(name)
        return names

    def _authorization_present(self):
        return self.headers.get("Authorization") is not None

    def _identity(self, headers):
        ident = {}
        for key, header in IDENTITY_HEADERS:
            ident[key] = headers.get(header.lower())
        if ident["name"] is not None:
            ident["name"] = urllib.parse.unquote(ident["name"],
                                                 encoding="utf-8",
                                                 errors="replace")
        roles = ident["roles"]
        ident["roles"] = ([r.strip() for r in roles.split(",") if r.strip()]
                          if roles else [])
        return ident

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if not length:
            return 0
        n = int(length)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        self.rfile.read(n)
        return n

    def _send(self, status, doc, head=False):
        body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _handle(self, head=False):
        try:
            body_length = self._read_body()
        except ValueError:
            self._send(413, {"error": "body_too_large"}, head)
            return
        headers = self._edugate_headers()
        if not headers.get("x-edugate-user"):
            self._send(500, {"error": "no_identity",
                             "path": self.path,
                             "method": self.command,
                             "headers": headers,
                             "all_headers": [[k, v] for k, v
                                             in self.headers.items()],
                             "authorization_present":
                                 self._authorization_present()}, head)
            return
        self._send(200, {
            "path": self.path,
            "method": self.command,
            "headers": headers,
            "cookies": self._cookie_names(),
            # every header as it arrived, for what vendor plugins add
            "all_headers": [[k, v] for k, v in self.headers.items()],
            "cookie_lines": self.headers.get_all("Cookie") or [],
            "authorization_present": self._authorization_present(),
            "body_length": body_length,
            "identity": self._identity(headers),
        }, head)

    def do_GET(self):
        self._handle()

    def do_HEAD(self):
        self._handle(head=True)

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_PATCH(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def log_message(self, fmt, *args):
        sys.stderr.write("echo: %s %s\n" % (self.address_string(),
                                            fmt % args))
        sys.stderr.flush()


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args(argv)
    server = EchoServer((args.host, args.port), EchoHandler)
    sys.stderr.write("echo: listening on %s:%d\n" % (args.host, args.port))
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
