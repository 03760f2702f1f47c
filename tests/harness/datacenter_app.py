#!/usr/bin/env python3
"""The demo's district data center: it stores every standardized batch the
gateway forwards and shows what it holds.

    POST /ingest/<vendor>    a batch (JSON, from the gateway): stored as
                             <store>/<batchId>.json with the mode of the
                             push (X-Edugate-Mode), answered 201
    GET  /batches            [{"batchId", "vendor", "mode", "records":
                               {"students": 1, ...}}] in arrival order
    GET  /batches/<batchId>  the batch as received

A body that is not a JSON object with a batchId is answered 400 and not
stored.  Run standalone:

    python3 datacenter_app.py --port 18094 --store /tmp/dc
"""

import argparse
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY = 64 << 20
BATCH_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class DataCenter(BaseHTTPRequestHandler):
    server_version = "EduGateDataCenter/1"

    def _answer(self, status, doc):
        body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if not self.path.startswith("/ingest/") or length > MAX_BODY:
            return self._answer(404, {"error": "not_found"})
        try:
            batch = json.loads(self.rfile.read(length))
            batch_id = batch["batchId"]
        except (ValueError, KeyError, TypeError):
            return self._answer(400, {"error": "not a batch"})
        if not BATCH_ID.match(str(batch_id)):
            return self._answer(400, {"error": "bad batchId"})
        store = self.server.store
        with self.server.lock:
            self.server.modes[batch_id] = self.headers.get("X-Edugate-Mode")
            (store / (batch_id + ".json")).write_text(
                json.dumps(batch, ensure_ascii=False, indent=1),
                encoding="utf-8")
            self.server.order.append(batch_id)
        return self._answer(201, {"stored": batch_id})

    def do_GET(self):
        store = self.server.store
        if self.path == "/batches":
            out = []
            with self.server.lock:
                order = list(self.server.order)
            for batch_id in order:
                batch = json.loads((store / (batch_id + ".json")).read_text(
                    encoding="utf-8"))
                out.append({
                    "batchId": batch_id,
                    "vendor": batch.get("vendorId"),
                    "mode": self.server.modes.get(batch_id),
                    "records": {k: len(v) for k, v in batch.items()
                                if isinstance(v, list)},
                })
            return self._answer(200, out)
        m = re.match(r"^/batches/([A-Za-z0-9._-]{1,100})$", self.path)
        if m and (store / (m.group(1) + ".json")).is_file():
            return self._answer(200, json.loads(
                (store / (m.group(1) + ".json")).read_text(encoding="utf-8")))
        return self._answer(404, {"error": "not_found"})

    def log_message(self, fmt, *args):
        sys.stderr.write("datacenter: " + (fmt % args) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--store", required=True)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), DataCenter)
    srv.store = Path(args.store)
    srv.store.mkdir(parents=True, exist_ok=True)
    srv.lock = threading.Lock()
    srv.order = []
    srv.modes = {}
    srv.serve_forever()


if __name__ == "__main__":
    main()
