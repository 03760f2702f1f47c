#!/usr/bin/env python3
"""A service that the gateway calls back: it records every request it
receives and answers with a fixed status.  Used by the tests of CAS single
logout and of the CAS proxy callback.

Each request is appended to the record file as one JSON line:

    {"method": "POST", "path": "/app/x", "query": "a=1",
     "headers": {"content-type": "..."}, "body": "..."}

    --status N       answer N (default 200)
    --stall          accept connections and never answer (nor read)
    --tls CERT KEY   speak HTTPS with this certificate
    --pgt-file F     also append "<pgtIou>\t<pgtId>" lines to F when a
                     request carries both (the PGT store of AuthCAS)

Run standalone:  python3 notify_app.py --port 18093 --record /tmp/r.jsonl
"""

import argparse
import json
import socket
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


class Recorder(BaseHTTPRequestHandler):
    server_version = "EduGateNotify/1"
    protocol_version = "HTTP/1.1"

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY)) if length else b""
        path, _, query = self.path.partition("?")
        entry = {
            "method": self.command,
            "path": path,
            "query": query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        opts = self.server.opts
        with self.server.lock:
            with open(opts.record, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            args = urllib.parse.parse_qs(query)
            if opts.pgt_file and "pgtIou" in args and "pgtId" in args:
                with open(opts.pgt_file, "a", encoding="utf-8") as f:
                    f.write("%s\t%s\n" % (args["pgtIou"][0],
                                          args["pgtId"][0]))
        reply = b"recorded\n"
        self.send_response(opts.status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply)
        self.close_connection = True

    do_GET = _handle
    do_POST = _handle

    def log_message(self, fmt, *args):
        sys.stderr.write("notify_app: " + (fmt % args) + "\n")


def stall(port):
    """Accepts and holds every connection, never reading or writing."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    held = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--pgt-file")
    opts = ap.parse_args()

    if opts.stall:
        stall(opts.port)
        return

    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Recorder)
    server.daemon_threads = True
    server.opts = opts
    server.lock = threading.Lock()
    if opts.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls[0], opts.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
