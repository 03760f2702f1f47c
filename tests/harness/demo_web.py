"""What the demo applications behind EduGate share: a small HTTP server
on the standard library, server-side sessions keyed by a random cookie,
HTML pages, form and cookie parsing, and outbound HTTP calls to the
gateway with a timeout.

The applications (oidc_portal.py, cas_app.py) are demos of how a
relying party uses the gateway, so they keep everything in memory and
serve plain HTTP on 127.0.0.1.
"""

import html
import http.client
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_FORM = 64 * 1024
OUTBOUND_TIMEOUT = 5.0
OUTBOUND_MAX_BODY = 1 << 20


def new_secret():
    """256 random bits, URL-safe: session ids, state, nonce, verifiers."""
    return secrets.token_urlsafe(32)


def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


class Store:
    """Thread-safe records with a lifetime, at most `limit` of them (the
    oldest go first), so a flood of unfinished logins cannot grow the
    process without bound."""

    def __init__(self, ttl, limit=10000):
        self.ttl = ttl
        self.limit = limit
        self.lock = threading.Lock()
        self.items = {}

    def _expire(self, now):
        dead = [k for k, (t, _) in self.items.items() if t <= now]
        for k in dead:
            del self.items[k]
        while len(self.items) >= self.limit:
            oldest = min(self.items, key=lambda k: self.items[k][0])
            del self.items[oldest]

    def put(self, key, record):
        now = time.monotonic()
        with self.lock:
            self._expire(now)
            self.items[key] = (now + self.ttl, record)

    def get(self, key):
        if not key:
            return None
        with self.lock:
            item = self.items.get(key)
            if item is None or item[0] <= time.monotonic():
                self.items.pop(key, None)
                return None
            return item[1]

    def pop(self, key):
        if not key:
            return None
        with self.lock:
            item = self.items.pop(key, None)
        if item is None or item[0] <= time.monotonic():
            return None
        return item[1]

    def remove_where(self, predicate):
        """Removes every record for which predicate(record) is true;
        returns how many went."""
        with self.lock:
            keys = [k for k, (_, r) in self.items.items() if predicate(r)]
            for k in keys:
                del self.items[k]
        return len(keys)

    def count(self):
        with self.lock:
            self._expire(time.monotonic())
            return len(self.items)


def set_cookie(name, value, path="/", max_age=None):
    """A host-only, HttpOnly, SameSite=Lax cookie (Lax: the browser still
    sends it on the top-level redirect back from the gateway)."""
    parts = ["%s=%s" % (name, value), "Path=" + path, "HttpOnly",
             "SameSite=Lax"]
    if max_age is not None:
        parts.append("Max-Age=%d" % max_age)
    return "; ".join(parts)


def clear_cookie(name, path="/"):
    return set_cookie(name, "", path=path, max_age=0)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 52em; margin: 2em auto;
       padding: 0 1em; line-height: 1.45; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left;
         vertical-align: top; }}
code, pre {{ background: #f4f4f4; }}
pre {{ padding: .6em; overflow-x: auto; }}
.note {{ color: #555; font-size: .9em; }}
.error {{ color: #a00; }}
form.inline {{ display: inline; }}
</style></head>
<body>
<h1>{title}</h1>
{body}
</body></html>
"""


def page(title, body_html):
    return PAGE.format(title=esc(title), body=body_html).encode("utf-8")


def claims_table(claims):
    rows = []
    for k in sorted(claims):
        v = claims[k]
        if not isinstance(v, str):
            v = json.dumps(v, ensure_ascii=False)
        rows.append("<tr><th>%s</th><td>%s</td></tr>" % (esc(k), esc(v)))
    return "<table>%s</table>" % "".join(rows)


class Handler(BaseHTTPRequestHandler):
    """Request and response functions shared by the demo applications."""

    server_version = "EduGateDemo/1"
    app_name = "demo"

    # ---- request -----------------------------------------------------------

    def split_path(self):
        """(path, {name: [values]}) of the request target."""
        parts = urllib.parse.urlsplit(self.path)
        return parts.path, urllib.parse.parse_qs(parts.query,
                                                 keep_blank_values=True)

    def cookies(self):
        out = {}
        for line in self.headers.get_all("Cookie") or []:
            for part in line.split(";"):
                name, eq, value = part.strip().partition("=")
                if eq and name not in out:
                    out[name] = value
        return out

    def read_form(self):
        """{name: [values]} of a urlencoded body, or None (with the
        answer already sent) when the body is not acceptable."""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/x-www-form-urlencoded":
            self.send_json(415, {"error": "invalid_request",
                                 "error_description":
                                     "form body expected"})
            return None
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_FORM:
            self.send_json(413 if length > MAX_FORM else 411,
                           {"error": "invalid_request",
                            "error_description": "bad body length"})
            return None
        raw = self.rfile.read(length)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.send_json(400, {"error": "invalid_request",
                                 "error_description": "body is not UTF-8"})
            return None
        return urllib.parse.parse_qs(text, keep_blank_values=True)

    @staticmethod
    def single(fields, name):
        """The one value of a field; None if absent or repeated."""
        values = fields.get(name) or []
        return values[0] if len(values) == 1 else None

    # ---- response ----------------------------------------------------------

    def _send(self, status, ctype, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_page(self, status, title, body_html, headers=()):
        self._send(status, "text/html; charset=utf-8",
                   page(title, body_html),
                   [("Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; "
                     "form-action 'self'; frame-ancestors 'none'")]
                   + list(headers))

    def send_error_page(self, status, code, detail):
        self.log("%s: %s" % (code, detail))
        self.send_page(status, "%s: error" % self.app_name,
                       "<p class=\"error\">%s: %s</p>"
                       "<p><a href=\"/\">back</a></p>"
                       % (esc(code), esc(detail)))

    def send_json(self, status, doc, headers=()):
        body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
        self._send(status, "application/json; charset=utf-8", body, headers)

    def send_bytes(self, status, ctype, body, headers=()):
        self._send(status, ctype, body, headers)

    def redirect(self, location, cookies=()):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        for c in cookies:
            self.send_header("Set-Cookie", c)
        self.end_headers()

    # ---- logging -----------------------------------------------------------

    def log(self, text):
        sys.stderr.write("%s: %s\n" % (self.app_name, text))
        sys.stderr.flush()

    def log_message(self, fmt, *args):
        self.log("%s %s" % (self.address_string(), fmt % args))


class OutboundError(Exception):
    """The gateway could not be reached or answered nonsense."""


def call(method, url, body=None, headers=None, timeout=OUTBOUND_TIMEOUT):
    """One HTTP request, no redirects followed: (status, headers, body).

    Error statuses are answers too (the token endpoint's JSON errors);
    only a failed connection or an oversized body raise OutboundError.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        conn_cls = http.client.HTTPSConnection
    elif parts.scheme == "http":
        conn_cls = http.client.HTTPConnection
    else:
        raise OutboundError("unsupported URL %r" % url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read(OUTBOUND_MAX_BODY + 1)
        if len(data) > OUTBOUND_MAX_BODY:
            raise OutboundError("%s %s: answer too large" % (method, url))
        return resp.status, resp.headers, data
    except (OSError, http.client.HTTPException) as e:
        raise OutboundError("%s %s: %s" % (method, url, e)) from None
    finally:
        conn.close()


def call_json(method, url, body=None, headers=None):
    """call() whose answer must be a JSON object: (status, doc)."""
    h = {"Accept": "application/json"}
    h.update(headers or {})
    status, _, data = call(method, url, body, h)
    try:
        doc = json.loads(data)
    except ValueError:
        raise OutboundError("%s %s: %d, not JSON: %r"
                            % (method, url, status, data[:200])) from None
    if not isinstance(doc, dict):
        raise OutboundError("%s %s: %d, not a JSON object"
                            % (method, url, status))
    return status, doc


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(handler_cls, host, port, app):
    """Runs until SIGTERM or Ctrl-C; handler_cls.app is set to app."""
    import signal

    handler_cls.app = app
    server = Server((host, port), handler_cls)

    def stop(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, stop)
    sys.stderr.write("%s: listening on http://%s:%d/\n"
                     % (handler_cls.app_name, host, port))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
