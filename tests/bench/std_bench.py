"""The data-standard part of `make bench`: how many student records per
second one core standardizes, against what libxml2 and a Python JSON
Schema validator do with the same records, and the worker's memory while
it standardizes a 50 MB roster.

  (a) end to end: wrk pushes smartcampus rosters of --std-batch students
      (std_roster.py) with the vendor's client_credentials token; the
      gateway parses them, runs the plugin, maps every id in Redis, checks
      the rules and the XSD, forwards the standard JSON to a data center
      and answers the report.  One nginx worker, its plugin thread pool
      with it, is pinned to one core (taskset); wrk, Redis and the data
      center (a second nginx: `return 200`, so the figure is the
      gateway's cost) run on another.  records/s = answers/s x students
      per roster (the classes, school and semester of each roster are
      standardized too but not counted).
  (b) tests/bench/std_xsd_bench.c on the gateway's core: libxml2 parses
      the same students as standard XML, one record per document as the
      gateway's XSD layer validates them, and validates them against
      schemas/std/v1/batch.xsd in a tight loop: the physical limit.
  (c) Debian's python3-jsonschema on that core validating the same
      students as standard JSON against build/std/json/batch.schema.json
      (made from the XSDs): what a district would script instead.

The standard renderings are what the gateway itself forwards: each
roster is pushed once, before measuring, through a location that
forwards to a recording service; the batches it receives are the JSON of
(c) and, rendered as XML by the rules of schemas/README.md, the XML of
(b).  The rounds of a, b and c are interleaved (a b c a b c ...) and the
figures are medians; the ratios compare rounds run one after the other.
Every answer of (a) must be 200 with the totals of an accepted roster
(the wrk script checks each body), every status in the access log 200,
and the data center must have received one batch per answer.

Then one roster of about 50 MB, a school's first full load (the
registry holds only the district's master data again), goes to a
location whose edugate_standardize_max_body allows it, while the
worker's VmRSS is sampled; its VmHWM (reset first through clear_refs) is the peak.  The
peak above the baseline is compared with the batch size (target: under
3x); then VmRSS is read until it is back to the baseline (at most
--std-settle seconds), and a request sent right after the answer says
whether freeing the batch holds the worker's event loop.
"""

import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path

from lxml import etree

import std_roster
import std_registry
from servers import (DEMO_STD_CLIENTS, PLUGIN_BUILD, REPO, STD_CODES,
                     STD_SCHEMA, HttpClient, Nginx, NotifyService,
                     free_port, plugin_args)

TARGET_RECORDS_PER_S = 20000
TARGET_A_B = 0.5
TARGET_A_C = 10.0
TARGET_RSS_FACTOR = 3.0
# back to baseline: within this share of the batch size above it
RSS_RETURN_SHARE = 0.1
STD_NS = "urn:edugate:std:v1"
ENTITIES = "orgs,academicSessions,classes,students"
PUSH_PATH = "/std/v1/push/smartcampus"
CAPTURE_PATH = "/std/v1/capture/smartcampus"
BULK_PATH = "/std/v1/bulk/smartcampus"
BENCH_DIR = Path(__file__).resolve().parent
JSON_SCHEMA = REPO / "build" / "std" / "json" / "batch.schema.json"
XSD_BENCH = REPO / "build" / "bench" / "std_xsd_bench"

GATEWAY_CONF = r"""
events {
    worker_connections  1024;
}

http {
    log_format  std_bench  '$status $request_uri';

    edugate_redis        127.0.0.1:@REDIS_PORT@;
    edugate_issuer       @ISSUER@;
    edugate_signing_key  @SIGNING_KEY@;
    edugate_plugin       smartcampus @PLUGIN_DIR@/smartcampus.so
                         secret=@PLUGIN_SECRET@ tenant=@TENANT@;

    edugate_std_codes      @CODES@;
    edugate_std_schema     @SCHEMA@;
    edugate_std_namespace  @NAMESPACE@;
    edugate_std_secret     @STD_SECRET@;
    edugate_oidc_client    smartcampus secret=@CLIENT_SECRET@
                           grant_types=client_credentials;

    server {
        listen      127.0.0.1:@LISTEN_PORT@;
        access_log  @FRONT_LOG@ std_bench;

        location = /oauth2/token {
            edugate_oidc_token;
        }

        # measured: full validation and id mapping, forwarded
        location = @PUSH_PATH@ {
            edugate_standardize          smartcampus @ENTITIES@;
            edugate_standardize_forward  /_datacenter/smartcampus;
        }

        # the same, forwarded to a recording service: what the data
        # center gets, once per roster before measuring
        location = @CAPTURE_PATH@ {
            edugate_standardize          smartcampus @ENTITIES@;
            edugate_standardize_forward  /_capture/smartcampus;
        }

        location = /bench/ping {
            return 204;
        }

        # the 50 MB roster of the memory figure
        location = @BULK_PATH@ {
            edugate_standardize           smartcampus @ENTITIES@;
            edugate_standardize_forward   /_datacenter/smartcampus;
            edugate_standardize_max_body  @BULK_MAX@;
            edugate_standardize_timeout   120s;
        }

        # the forwarded batch is a subrequest's body: nginx holds it to
        # this location's client_max_body_size (1m by default)
        location /_datacenter/ {
            internal;
            client_max_body_size  0;
            proxy_read_timeout    120s;
            proxy_pass            http://127.0.0.1:@DC_PORT@/ingest/;
        }

        location /_capture/ {
            internal;
            proxy_pass  http://127.0.0.1:@CAPTURE_PORT@/ingest/;
        }
    }
}
"""

# The data center: answers at once, whatever it is sent.
DATACENTER_CONF = r"""
events {
    worker_connections  1024;
}

http {
    log_format  std_dc  '$status $request_uri $request_length';

    server {
        listen                127.0.0.1:@LISTEN_PORT@;
        access_log            @DC_LOG@ std_dc;
        client_max_body_size  0;

        location / {
            return 200 '{"status":"received"}\n';
        }
    }
}
"""


class StdBenchError(Exception):
    pass


def fill(text, values):
    for key, value in values.items():
        text = text.replace("@%s@" % key, str(value))
    return text


class PinnedNginx(Nginx):
    """An Nginx whose master, workers and thread pools run on `cpus`."""

    def __init__(self, *args, cpus=None, **kw):
        super().__init__(*args, **kw)
        self.cpus = cpus

    def command(self):
        cmd = super().command()
        if self.cpus:
            cmd = ["taskset", "-c", self.cpus] + cmd
        return cmd


def pick_cores():
    """(the gateway's core, the others) as taskset lists, or (None, None)
    on a machine with one core to run on."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2 or shutil.which("taskset") is None:
        return None, None
    return str(cores[0]), ",".join(str(c) for c in cores[1:])


def pinned(cmd, cpus):
    return (["taskset", "-c", cpus] + cmd) if cpus else cmd


def std_xml(name, value):
    """The XML rendering of a JSON value (schemas/README.md)."""
    e = etree.Element("{%s}%s" % (STD_NS, name), nsmap={None: STD_NS})
    _fill_xml(e, value)
    return e


def _fill_xml(e, value):
    if isinstance(value, dict):
        for k, v in value.items():
            if v is not None:
                _fill_xml(etree.SubElement(e, "{%s}%s" % (STD_NS, k)), v)
    elif isinstance(value, list):
        for v in value:
            _fill_xml(etree.SubElement(e, "{%s}item" % STD_NS), v)
    elif isinstance(value, bool):
        e.text = "true" if value else "false"
    else:
        e.text = str(value)


def one_line(doc_bytes):
    if b"\n" in doc_bytes:
        raise StdBenchError("a standard record holds a line break")
    return doc_bytes


def vm_status(pid):
    """{VmRSS, VmHWM} of a process, in bytes."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) * 1024
    return out


def mb(n):
    return n / 1048576.0


class StdBench:
    def __init__(self, tmp, module, redis, signing_key, wrk_bin, args, out):
        self.tmp = Path(tmp)
        self.module = module
        self.redis = redis
        self.signing_key = signing_key
        self.wrk_bin = wrk_bin
        self.args = args
        self.out = out
        self.core, self.others = pick_cores()
        self.dir = self.tmp / "std"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.daemons = []
        self.rounds = {"a": [], "b": [], "c": []}
        self.problems = []

    # -- set-up ---------------------------------------------------------

    def start(self):
        for path, how in ((XSD_BENCH, "make bench builds it"),
                          (JSON_SCHEMA, "make bench makes it"),
                          (PLUGIN_BUILD / "smartcampus.so",
                           "make plugins builds it"),
                          (STD_CODES[1], "make schemas makes it")):
            if not Path(path).exists():
                raise StdBenchError("%s is missing (%s)" % (path, how))
        self.seed_registry()
        if self.core:
            # Redis beside wrk and the data center, off the gateway's core
            subprocess.run(["taskset", "-a", "-p", "-c", self.others,
                            str(self.redis.pid)], check=True,
                           stdout=subprocess.DEVNULL)

        dc_port = free_port()
        self.dc_log = self.dir / "datacenter" / "dc.log"
        self.dc = PinnedNginx(self.dir / "datacenter", dc_port, self.module,
                              fill(DATACENTER_CONF, {
                                  "LISTEN_PORT": dc_port,
                                  "DC_LOG": self.dc_log}),
                              cpus=self.others)
        self.capture = NotifyService(self.dir / "capture", free_port())
        port = free_port()
        sc = plugin_args("smartcampus")
        self.front_log = self.dir / "gateway" / "front.log"
        self.bulk_bytes = self.args.std_bulk_mb * 1000000
        conf = fill(GATEWAY_CONF, {
            "REDIS_PORT": self.redis.port,
            "ISSUER": "http://127.0.0.1:%d" % port,
            "SIGNING_KEY": self.signing_key,
            "PLUGIN_DIR": PLUGIN_BUILD,
            "PLUGIN_SECRET": sc["secret"],
            "TENANT": sc["tenant"],
            "CODES": "%s %s" % STD_CODES,
            "SCHEMA": STD_SCHEMA,
            "NAMESPACE": std_registry.DEMO_NS,
            "STD_SECRET": std_registry.DEMO_STD_SECRET,
            "CLIENT_SECRET": DEMO_STD_CLIENTS["smartcampus"],
            "DC_PORT": dc_port,
            "CAPTURE_PORT": self.capture.port,
            "LISTEN_PORT": port,
            "FRONT_LOG": self.front_log,
            "PUSH_PATH": PUSH_PATH,
            "CAPTURE_PATH": CAPTURE_PATH,
            "BULK_PATH": BULK_PATH,
            "BULK_MAX": "%dm" % (self.args.std_bulk_mb * 2),
            "ENTITIES": ENTITIES,
        })
        self.gw = PinnedNginx(self.dir / "gateway", port, self.module, conf,
                              workers=1, cpus=self.core)
        for d in (self.dc, self.capture, self.gw):
            self.daemons.append(d)
            d.start()
        self.port = port
        # the master listens before it forks its worker
        deadline = time.monotonic() + 10
        workers = self.gw.worker_pids()
        while len(workers) != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = self.gw.worker_pids()
        if len(workers) != 1:
            raise StdBenchError("the gateway has %d workers, not 1"
                                % len(workers))
        self.worker = workers.pop()
        self.token = self.client_token()

    def seed_registry(self):
        """The district's master data alone in the registry."""
        rc = self.redis.client()
        std_registry.clear(rc)
        std_registry.seed_district(rc)
        # every grade's synthetic homeroom course, which its homeroom
        # classes name (the registry of a real district has them)
        for g in range(1, 7):
            std_registry.seed(rc, "courses", {
                "id": std_registry.uid("course|%s|grade|%02d|homeroom"
                                       % (std_registry.SCHOOL, g)),
                "status": "active", "title": "%s班级"
                % std_roster.GRADES[g - 1], "subjectCode": "60",
                "gradeLevels": ["%02d" % g], "orgId": std_registry.SCHOOL})

    def stop(self):
        for d in reversed(self.daemons):
            d.stop()
        self.daemons = []

    def client_token(self):
        import base64
        cred = "smartcampus:%s" % DEMO_STD_CLIENTS["smartcampus"]
        r = HttpClient(self.port).post(
            "/oauth2/token", "grant_type=client_credentials",
            "application/x-www-form-urlencoded",
            headers={"Authorization": "Basic " + base64.b64encode(
                cred.encode()).decode()})
        if r.status != 200:
            raise StdBenchError("no client_credentials token: %d %s"
                                % (r.status, r.text[:300]))
        return r.json()["access_token"]

    def push(self, path, body, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request("POST", path, body, {
                "Authorization": "Bearer " + self.token,
                "Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def check_report(self, status, body, students):
        """The totals object of an answer accepting the whole roster, as
        the gateway wrote it."""
        if status != 200:
            raise StdBenchError("a push was answered %d: %s"
                                % (status, body[:500]))
        report = json.loads(body)
        t = report["totals"]
        n = t["records"]
        if report.get("forward") != "accepted" or t["rejected"] or \
                t["E"] or t["accepted"] != n or t["forwarded"] != n or \
                n < students:
            bad = report.get("violations", [])[:5]
            raise StdBenchError("a roster of %d students was not accepted "
                                "whole: totals %s, forward %s; first "
                                "violations %s" % (students, t,
                                                   report.get("forward"),
                                                   bad))
        m = re.search(rb'"totals":\{[^}]*\}', body)
        return m.group(0).decode()

    def prepare(self):
        """The rosters, and what the gateway forwards of each."""
        per, count = self.args.std_batch, self.args.std_rosters
        everyone = std_roster.students(per * count)
        feed = self.dir / "feed"
        feed.mkdir(exist_ok=True)
        totals = set()
        batches = []
        for i in range(count):
            body = std_roster.roster(everyone[i * per:(i + 1) * per])
            (feed / ("roster-%d.json" % (i + 1))).write_bytes(body)
            status, answer = self.push(CAPTURE_PATH, body)
            totals.add(self.check_report(status, answer, per))
            got = self.capture.wait_requests(i + 1, timeout=10)
            if len(got) != i + 1:
                raise StdBenchError("the recording service got %d batches "
                                    "after %d pushes" % (len(got), i + 1))
            batch = json.loads(got[i]["body"])
            if len(batch.get("students", [])) != per:
                raise StdBenchError("a forwarded batch holds %d students, "
                                    "not %d" % (len(batch.get("students",
                                                              [])), per))
            batches.append(batch)
        (feed / "totals.txt").write_text("\n".join(sorted(totals)) + "\n")
        self.feed = feed
        self.per = per
        self.roster_bytes = len(body)
        # one record a document, as the gateway's XSD layer validates
        xml_lines, json_lines = [], []
        for batch in batches:
            for s in batch["students"]:
                xml_lines.append(one_line(etree.tostring(
                    std_xml("batch", {"students": [s]}),
                    encoding="utf-8")))
                json_lines.append(json.dumps(
                    {"students": [s]}, ensure_ascii=False,
                    separators=(",", ":")).encode())
        self.xml_docs = self.dir / "students.xml"
        self.xml_docs.write_bytes(b"\n".join(xml_lines) + b"\n")
        self.json_docs = self.dir / "students.jsonl"
        self.json_docs.write_bytes(b"\n".join(json_lines) + b"\n")
        self.records = len(xml_lines)
        self.sample = batches[0]["students"][0]

    # -- the three figures ---------------------------------------------

    def wrk(self, seconds):
        cmd = pinned([self.wrk_bin, "-t", "1",
                      "-c", str(self.args.std_connections),
                      "-d", "%ds" % seconds, "--timeout", "30s",
                      "-H", "Authorization: Bearer " + self.token,
                      "-H", "Content-Type: application/json",
                      "-s", str(BENCH_DIR / "std_push.lua"),
                      "http://127.0.0.1:%d%s" % (self.port, PUSH_PATH),
                      "--", str(self.feed), str(self.args.std_rosters)],
                     self.others)
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True,
                           timeout=seconds + 60)
        if r.returncode != 0:
            raise StdBenchError("wrk exited with %d:\n%s%s"
                                % (r.returncode, r.stdout, r.stderr))
        return r.stdout

    @staticmethod
    def log_lines(path, offset):
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    @staticmethod
    def size(path):
        try:
            return path.stat().st_size
        except OSError:
            return 0

    def run_a(self, seconds, measured=True):
        front, dc = self.size(self.front_log), self.size(self.dc_log)
        text = self.wrk(seconds)
        m = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m),", text,
                      flags=re.M)
        if m is None:
            raise StdBenchError("no request count in wrk output:\n" + text)
        elapsed = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0,
                                       "m": 60.0}[m.group(3)]
        right = wrong = 0
        for t in re.finditer(r"^bench-push thread=\d+ right=(\d+) "
                             r"wrong=(\d+)$", text, flags=re.M):
            right += int(t.group(1))
            wrong += int(t.group(2))
        statuses = {}
        for line in self.log_lines(self.front_log, front):
            st = line.split(" ", 1)[0]
            statuses[st] = statuses.get(st, 0) + 1
        # a run's end drops what is in flight (499), one per connection
        closed = statuses.pop("499", 0)
        if closed > self.args.std_connections:
            statuses["499"] = closed
        forwarded = sum(1 for line in self.log_lines(self.dc_log, dc)
                        if line.startswith("200 "))
        problems = []
        if wrong:
            problems.append("%d answers were not 200 with the totals of an "
                            "accepted roster" % wrong)
        bad = {k: v for k, v in statuses.items() if k != "200"}
        if bad:
            problems.append("the access log holds statuses %s" % bad)
        if statuses.get("200", 0) < right:
            problems.append("%d right answers but %d logged 200"
                            % (right, statuses.get("200", 0)))
        # the in-flight pushes at the end may have reached the data center
        if not right <= forwarded <= right + self.args.std_connections:
            problems.append("%d right answers but %d batches reached the "
                            "data center" % (right, forwarded))
        if right == 0:
            problems.append("no answer at all")
        if not measured:
            if problems:
                raise StdBenchError("the warm-up of (a) failed: "
                                    + "; ".join(problems))
            return
        r = {"batches": right, "seconds": elapsed,
             "rps": right / elapsed * self.per}
        self.rounds["a"].append(r)
        self.problems += problems
        self.out("  a  round %d  %8.0f student records/s  (%d rosters of "
                 "%d in %.1fs, %s)" % (len(self.rounds["a"]), r["rps"],
                                       right, self.per, elapsed,
                                       "all 200 and accepted" if not
                                       problems else "NOT VALID"))
        for p in problems:
            self.out("     FAILED RUN: " + p)

    def run_tool(self, key, cmd, seconds):
        r = subprocess.run(pinned(cmd, self.core), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True,
                           timeout=seconds + 120)
        m = re.search(r"records=(\d+) seconds=([0-9.]+)", r.stdout)
        if r.returncode != 0 or m is None:
            raise StdBenchError("%s failed (%d): %s%s" % (
                " ".join(cmd), r.returncode, r.stdout, r.stderr))
        rps = int(m.group(1)) / float(m.group(2))
        self.rounds[key].append({"rps": rps})
        self.out("  %s  round %d  %8.0f student records/s" % (
            key, len(self.rounds[key]), rps))

    def run_b(self, seconds):
        self.run_tool("b", [str(XSD_BENCH), str(STD_SCHEMA),
                            str(self.xml_docs), str(seconds)], seconds)

    def run_c(self, seconds):
        self.run_tool("c", ["/usr/bin/python3",
                            str(BENCH_DIR / "std_jsonschema.py"),
                            str(JSON_SCHEMA), str(self.json_docs),
                            str(seconds)], seconds)

    # -- memory ---------------------------------------------------------

    def measure_memory(self):
        pid = self.worker
        # indented, as a vendor's export often is: 50 MB of compact JSON
        # would be more students than a plugin may make in one call
        per = len(std_roster.roster(std_roster.students(1000), indent=2))
        n = max(self.per, self.bulk_bytes * 1000 // per)
        body = std_roster.roster(std_roster.students(n), indent=2)
        # a school's first full load: its classes are bigger than those
        # of the rosters of (a), so those students must not be known yet
        self.seed_registry()
        size = len(body)
        baseline = vm_status(pid)["VmRSS"]
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        peak = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], vm_status(pid)["VmRSS"])
                except OSError:
                    return
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        try:
            status, answer = self.push(BULK_PATH, body, timeout=300)
        finally:
            took = time.monotonic() - t0
            stop.set()
            sampler.join()
        hwm = vm_status(pid)["VmHWM"]
        self.check_report(status, answer, n)
        # once answered, the batch is freed: a request sent right then
        # shows whether that holds the event loop
        t1 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=120)
        try:
            conn.request("GET", "/bench/ping")
            ping = conn.getresponse().status
        finally:
            conn.close()
        waited = time.monotonic() - t1
        if ping != 204:
            raise StdBenchError("GET /bench/ping answered %d" % ping)
        # VmRSS until it is back to the baseline, at most --std-settle s
        limit = baseline + RSS_RETURN_SHARE * size
        while True:
            after = vm_status(pid)["VmRSS"]
            settled = time.monotonic() - t0 - took
            if after <= limit or settled >= self.args.std_settle:
                break
            time.sleep(0.25)
        return {"bytes": size, "students": n, "baseline": baseline,
                "peak": max(hwm, peak[0]), "sampled": peak[0],
                "after": after, "seconds": took, "waited": waited,
                "settled": settled}

    # -- the whole part -------------------------------------------------

    def run(self):
        out = self.out
        a = self.args
        out("\nData standard in flight (smartcampus rosters of %d students "
            "-> standard JSON)" % a.std_batch)
        if self.core:
            out("  gateway: 1 nginx worker and its plugin thread pool on "
                "core %s; wrk (1 thread, %d connections), Redis and the "
                "data center (nginx `return 200`) on core %s"
                % (self.core, a.std_connections, self.others))
        else:
            out("  one core only: nothing is pinned, the figures are not "
                "per core")
        self.start()
        self.prepare()
        out("  %d rosters of %d students (%d bytes each), pushed once "
            "through a recording data center: %d standard records for "
            "(b) and (c)" % (a.std_rosters, self.per, self.roster_bytes,
                             self.records))
        self.run_a(a.warmup, measured=False)
        rounds = max(1, a.std_rounds)
        out("  measuring: %d interleaved rounds, a %ds, b and c %ds each"
            % (rounds, a.std_seconds, a.std_tool_seconds))
        for _ in range(rounds):
            self.run_a(a.std_seconds)
            self.run_b(a.std_tool_seconds)
            self.run_c(a.std_tool_seconds)
        out("  memory: one roster of ~%d MB to %s (%s)" % (
            a.std_bulk_mb, BULK_PATH, "edugate_standardize_max_body %dm"
            % (a.std_bulk_mb * 2)))
        self.mem = self.measure_memory()
        for line in self.gw.check_log() + self.dc.check_log():
            self.problems.append("nginx: " + line)
        return self.problems

    def ratio(self, x, y):
        return statistics.median(p["rps"] / q["rps"] for p, q in
                                 zip(self.rounds[x], self.rounds[y]))

    def summary(self, verdict):
        out = self.out
        med = {k: statistics.median(r["rps"] for r in v)
               for k, v in self.rounds.items()}
        a_b, a_c = self.ratio("a", "b"), self.ratio("a", "c")
        out("\nData standard: student records/s on one core, medians over "
            "the rounds")
        out("  a  end to end through nginx (plugin, ids in Redis, rules, "
            "XSD, forward)  %8.0f   (target >= %d)  %s"
            % (med["a"], TARGET_RECORDS_PER_S,
               verdict(med["a"] >= TARGET_RECORDS_PER_S)))
        out("  b  libxml2 parse + XSD validate, tight C loop                "
            "%8.0f" % med["b"])
        out("  c  python3-jsonschema, same records as JSON                  "
            "%8.0f" % med["c"])
        out("  a/b  %.3f   (target >= %.1f)  %s"
            % (a_b, TARGET_A_B, verdict(a_b >= TARGET_A_B)))
        out("  a/c  %.1f     (target >= %.0f)   %s"
            % (a_c, TARGET_A_C, verdict(a_c >= TARGET_A_C)))
        m = self.mem
        grow = m["peak"] - m["baseline"]
        back = m["after"] - m["baseline"]
        returned = back <= RSS_RETURN_SHARE * m["bytes"]
        out("  RSS  %.1f MB roster (%d students, %.1fs): worker %.1f MB -> "
            "peak %.1f MB (+%.1f MB = %.2fx the batch, target < %.0fx) %s"
            % (mb(m["bytes"]), m["students"], m["seconds"],
               mb(m["baseline"]), mb(m["peak"]), mb(grow),
               grow / m["bytes"], TARGET_RSS_FACTOR,
               verdict(grow < TARGET_RSS_FACTOR * m["bytes"])))
        out("       %.1fs after the answer %.1f MB (%+.1f MB from the "
            "baseline): %s  %s" % (m["settled"], mb(m["after"]), mb(back),
                                   "back to baseline" if returned else
                                   "NOT back to baseline",
                                   verdict(returned)))
        out("       a request sent right after the answer waited %.2fs "
            "(the batch is freed in the thread pool, not the event loop)"
            % m["waited"])


def add_arguments(ap):
    ap.add_argument("--std-batch", type=int, default=1000,
                    help="students per roster of (a) (default 1000)")
    ap.add_argument("--std-rosters", type=int, default=4,
                    help="different rosters wrk sends in turn (default 4)")
    ap.add_argument("--std-connections", type=int, default=4,
                    help="wrk connections of (a) (default 4)")
    ap.add_argument("--std-rounds", type=int, default=3,
                    help="interleaved rounds of a, b and c (default 3)")
    ap.add_argument("--std-seconds", type=int, default=8,
                    help="seconds of each round of (a) (default 8)")
    ap.add_argument("--std-tool-seconds", type=int, default=3,
                    help="seconds of each round of (b) and (c) "
                    "(default 3)")
    ap.add_argument("--std-bulk-mb", type=int, default=50,
                    help="size of the roster of the memory figure, MB "
                    "(default 50)")
    ap.add_argument("--std-settle", type=int, default=30,
                    help="seconds after that push within which VmRSS must "
                    "be back to the baseline (default 30)")
