"""Throwaway daemons for the EduGate tests and demo.

RedisServer, Slapd, EchoBackend, NotifyService, OidcPortal, CasApp and
Nginx each run one real daemon in the foreground as a child process, in
its own process group, listening on 127.0.0.1 only, with every file it
writes inside the directory it is given.
They are stopped by PID, never by name, so a system-wide redis, slapd or
nginx is never touched.

    with RedisServer(tmp / "redis", free_port()) as redis:
        ...

Also here: nginx_demo_conf() (conf/demo/nginx.conf.in filled in) and a
small cookie-keeping HTTP client for driving the gateway from Python.
"""

import atexit
import base64
import hashlib
import html.parser
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "conf" / "demo"
HARNESS = Path(__file__).resolve().parent
ECHO_APP = HARNESS / "echo_app.py"
PORTAL_APP = HARNESS / "oidc_portal.py"
CAS_APP = HARNESS / "cas_app.py"
NOTIFY_APP = HARNESS / "notify_app.py"
VENDOR_APP = HARNESS / "vendor_apps.py"
DATACENTER_APP = HARNESS / "datacenter_app.py"
PLUGIN_BUILD = REPO / "build" / "plugins"

NGINX_BIN = os.environ.get("EDUGATE_NGINX", "/usr/sbin/nginx")
SLAPD_BIN = "/usr/sbin/slapd"
SLAPADD_BIN = "/usr/sbin/slapadd"
SLAPD_SCHEMA_DIR = Path("/etc/ldap/schema")
SLAPD_MODULE_DIR = Path("/usr/lib/ldap")
REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"

# The demo directory (conf/demo/directory.ldif).  Demo credentials only.
LDAP_SUFFIX = "dc=edu,dc=cn"
LDAP_MANAGER_DN = "cn=manager,dc=edu,dc=cn"
LDAP_MANAGER_PASSWORD = "ManagerDemo-Passw0rd"
LDAP_SERVICE_DN = "cn=edugate,ou=services,dc=edu,dc=cn"
LDAP_SERVICE_PASSWORD = "EduGateSvc-Demo-Passw0rd"

_PEOPLE_370112 = ("ou=people,eduOrgCode=370112,eduOrgCode=370100,"
                  "eduOrgCode=370000,dc=edu,dc=cn")
_PEOPLE_3137000001 = ("ou=people,eduOrgCode=3137000001,eduOrgCode=370112,"
                      "eduOrgCode=370100,eduOrgCode=370000,dc=edu,dc=cn")
_PEOPLE_2137000002 = ("ou=people,eduOrgCode=2137000002,eduOrgCode=370112,"
                      "eduOrgCode=370100,eduOrgCode=370000,dc=edu,dc=cn")

# What the gateway is expected to send upstream for each demo person.
DEMO_ACCOUNTS = {
    "stu01": {
        "password": "Stu01-Passw0rd",
        "dn": "uid=stu01," + _PEOPLE_3137000001,
        "name": "张小明", "roles": ["student"], "org": "3137000001",
        "org_path": "370000/370100/370112/3137000001", "level": "school",
        "school": "3137000001", "grade": "07", "class": "1",
    },
    "stu02": {
        "password": "Stu02-Passw0rd",
        "dn": "uid=stu02," + _PEOPLE_2137000002,
        "name": "李小红", "roles": ["student"], "org": "2137000002",
        "org_path": "370000/370100/370112/2137000002", "level": "school",
        "school": "2137000002", "grade": "03", "class": "2",
    },
    "tea01": {
        "password": "Tea01-Passw0rd",
        "dn": "uid=tea01," + _PEOPLE_3137000001,
        "name": "王老师", "roles": ["teacher"], "org": "3137000001",
        "org_path": "370000/370100/370112/3137000001", "level": "school",
        "school": "3137000001", "grade": None, "class": None,
    },
    "itadmin": {
        "password": "ItAdmin-Passw0rd",
        "dn": "uid=itadmin," + _PEOPLE_370112,
        "name": "赵管理", "roles": ["itadmin"], "org": "370112",
        "org_path": "370000/370100/370112", "level": "district",
        "school": None, "grade": None, "class": None,
    },
}

LOG_PROBLEM_MARKERS = ("[alert]", "[emerg]", "AddressSanitizer",
                       "runtime error:", "LeakSanitizer")


class HarnessError(RuntimeError):
    """A daemon could not be prepared, started or reloaded."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port, host="127.0.0.1"):
    """True if something listens on host:port.

    SO_REUSEADDR is set as the daemons set it, so connections lingering in
    TIME_WAIT do not count as "in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def tcp_answers(port, host="127.0.0.1", timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _tail(path, lines=30):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


_running = {}


def stop_all():
    """Stops every daemon this process started and has not stopped."""
    for daemon in list(_running.values()):
        daemon.stop()


atexit.register(stop_all)


class Daemon:
    """One daemon run as a child in its own process group.

    Subclasses set `name`, write their config in prepare(), return the
    command line from command() and say when the daemon answers in ready().
    """

    name = "daemon"
    start_timeout = 20.0
    stop_timeout = 10.0

    def __init__(self, tmpdir, port):
        self.dir = Path(tmpdir).resolve()
        self.port = int(port)
        self.log = self.dir / (self.name + ".log")
        self.proc = None
        self.paused = False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def prepare(self):
        pass

    def command(self):
        raise NotImplementedError

    def environment(self):
        return None

    def ready(self):
        return tcp_answers(self.port)

    def start(self):
        if self.running:
            raise HarnessError("%s is already running (pid %d)"
                               % (self.name, self.pid))
        self.dir.mkdir(parents=True, exist_ok=True)
        if port_in_use(self.port):
            raise HarnessError("%s: port 127.0.0.1:%d is already in use"
                               % (self.name, self.port))
        self.prepare()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=self.dir, env=self.environment(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        _running[id(self)] = self
        self.paused = False
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                _running.pop(id(self), None)
                raise HarnessError(
                    "%s exited with code %s while starting; see %s:\n%s"
                    % (self.name, code, self.log, self.startup_report()))
            if self.ready():
                return self
            if time.monotonic() > deadline:
                report = self.startup_report()
                self.stop()
                raise HarnessError(
                    "%s did not answer on 127.0.0.1:%d within %.0fs; "
                    "see %s:\n%s" % (self.name, self.port,
                                     self.start_timeout, self.log, report))
            time.sleep(0.05)

    def startup_report(self):
        return _tail(self.log)

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def _signal(self, sig):
        try:
            os.kill(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, sig=signal.SIGTERM):
        """Stops the daemon: `sig` to its PID, then SIGKILL to its group.

        Returns False if the daemon had to be killed.
        """
        if self.proc is None:
            return True
        clean = True
        was_running = self.proc.poll() is None
        if was_running:
            if self.paused:
                self._signal_group(signal.SIGCONT)
            self._signal(sig)
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                clean = False
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        # Children (nginx workers) that outlived their parent.  Only right
        # after the reap: later the group ID could belong to someone else.
        if was_running:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                pass
            else:
                clean = False
                self._signal_group(signal.SIGKILL)
        self.paused = False
        _running.pop(id(self), None)
        return clean

    def pause(self):
        """SIGSTOP: the daemon keeps its sockets but answers nothing."""
        if not self.running:
            raise HarnessError("%s is not running" % self.name)
        self._signal_group(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        if self.running:
            self._signal_group(signal.SIGCONT)
        self.paused = False

    def __enter__(self):
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class RedisServer(Daemon):
    name = "redis"

    def prepare(self):
        self.conf = self.dir / "redis.conf"
        self.conf.write_text(
            "bind 127.0.0.1\n"
            "protected-mode yes\n"
            "port %d\n"
            "daemonize no\n"
            "dir %s\n"
            "logfile \"\"\n"
            "save \"\"\n"
            "appendonly no\n"
            "maxmemory-policy noeviction\n"
            "databases 16\n" % (self.port, self.dir))

    def command(self):
        return [REDIS_BIN, str(self.conf)]

    def ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port),
                                          timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def client(self, db=0, **kw):
        import redis
        kw.setdefault("socket_timeout", 5)
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, **kw)


def ssha(password, salt=None):
    """userPassword value in slapd's {SSHA} scheme."""
    salt = salt if salt is not None else os.urandom(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def _hash_ldif_passwords(text):
    def repl(m):
        return "userPassword: " + ssha(m.group(1))
    return re.sub(r"^userPassword: (.+)$", repl, text, flags=re.M)


class Slapd(Daemon):
    """OpenLDAP slapd with the demo directory, mdb database in the dir.

    Logs at level 256 (stats) to slapd.log, so tests can read every
    search filter and bind DN the gateway sent.
    """

    name = "slapd"

    def __init__(self, tmpdir, port, ldif=None, schema=None,
                 extra_conf=""):
        super().__init__(tmpdir, port)
        self.ldif = Path(ldif or DEMO_DIR / "directory.ldif")
        self.schema = Path(schema or DEMO_DIR / "edugate.schema")
        self.extra_conf = extra_conf
        self.uri = "ldap://127.0.0.1:%d/" % self.port

    def slapd_conf(self):
        includes = "".join(
            "include %s\n" % (SLAPD_SCHEMA_DIR / n)
            for n in ("core.schema", "cosine.schema", "inetorgperson.schema",
                      "nis.schema"))
        modules = ""
        if (SLAPD_MODULE_DIR / "back_mdb.so").exists():
            modules = ("modulepath %s\nmoduleload back_mdb\n"
                       % SLAPD_MODULE_DIR)
        return f"""\
{includes}include {self.schema}

pidfile   {self.dir}/slapd.pid
argsfile  {self.dir}/slapd.args
{modules}
database  mdb
maxsize   67108864
suffix    "{LDAP_SUFFIX}"
rootdn    "{LDAP_MANAGER_DN}"
# demo password, not for a real directory
rootpw    {LDAP_MANAGER_PASSWORD}
directory {self.dir}/data

index objectClass eq
index uid         eq
index eduOrgCode  eq

# Passwords: usable for a bind, readable by nobody.
access to attrs=userPassword
    by anonymous auth
    by * none

# The root DSE, for clients that look up supported controls.
access to dn.base=""
    by * read

# The gateway's service account searches and reads people and orgs;
# a person may read their own entry; anonymous clients get nothing.
access to dn.subtree="{LDAP_SUFFIX}"
    by dn.exact="{LDAP_SERVICE_DN}" read
    by self read
    by * none
{self.extra_conf}
"""

    def prepare(self):
        data = self.dir / "data"
        if data.exists():
            shutil.rmtree(data)
        data.mkdir(parents=True)
        self.conf = self.dir / "slapd.conf"
        self.conf.write_text(self.slapd_conf())
        load = self.dir / "directory.ldif"
        load.write_text(_hash_ldif_passwords(
            self.ldif.read_text(encoding="utf-8")), encoding="utf-8")
        r = subprocess.run([SLAPADD_BIN, "-q", "-f", str(self.conf),
                            "-l", str(load)],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise HarnessError("slapadd failed (%d) loading %s:\n%s%s"
                               % (r.returncode, self.ldif, r.stdout,
                                  r.stderr))

    def command(self):
        return [SLAPD_BIN, "-d", "256", "-h", self.uri, "-f", str(self.conf)]

    def ready(self):
        if not tcp_answers(self.port):
            return False
        try:
            import ldap
        except ImportError:
            return self._ldapwhoami()
        try:
            self.bind(LDAP_SERVICE_DN, LDAP_SERVICE_PASSWORD).unbind_s()
            return True
        except ldap.LDAPError:
            return False

    def _ldapwhoami(self):
        # without python3-ldap (another python3 first on PATH): ldap-utils
        pwfile = self.dir / "service.pw"
        pwfile.write_text(LDAP_SERVICE_PASSWORD)
        pwfile.chmod(0o600)
        r = subprocess.run(["ldapwhoami", "-x", "-H", self.uri,
                            "-D", LDAP_SERVICE_DN, "-y", str(pwfile)],
                           stdin=subprocess.DEVNULL, capture_output=True)
        return r.returncode == 0

    def bind(self, dn, password, timeout=5):
        """A python-ldap connection bound as dn."""
        import ldap
        conn = ldap.initialize(self.uri)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, timeout)
        conn.set_option(ldap.OPT_TIMEOUT, timeout)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.simple_bind_s(dn, password)
        return conn

    def log_text(self):
        return self.log.read_text(errors="replace")


class EchoBackend(Daemon):
    """tests/harness/echo_app.py: the protected demo application."""

    name = "echo"
    start_timeout = 10.0

    def command(self):
        return [sys.executable, str(ECHO_APP), "--port", str(self.port)]


def plugin_args(vendor):
    """The published demo arguments of a plugin (its fixtures/args)."""
    args = {}
    path = REPO / "plugins" / vendor / "fixtures" / "args"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            args[key] = value
    return args


# What the vendor demo applications serve: the examples of the data
# standard, as the plugins' fixtures hold them.
VENDOR_DATA = {
    "smartcampus": REPO / "plugins" / "smartcampus" / "fixtures" /
    "students" / "roster-5.1.json",
    "yuejuan": REPO / "plugins" / "yuejuan" / "fixtures" / "results" /
    "scores-5.2.xml",
}

# People the vendors already know under their own ids; anyone else gets
# a pairwise id.  Demo data only.
DEMO_IDMAP = {
    ("smartcampus", "stu01"): "sc-10001",
    ("smartcampus", "tea01"): "sc-T0001",
    ("yuejuan", "stu01"): "yj-250302017",
}

DEMO_PAIRWISE_SECRET = "edugate-demo-pairwise-secret-not-for-production"


class VendorBackend(Daemon):
    """tests/harness/vendor_apps.py for one vendor."""

    start_timeout = 10.0

    def __init__(self, tmpdir, port, vendor):
        self.name = vendor
        super().__init__(tmpdir, port)
        self.vendor = vendor
        self.secret = plugin_args(vendor)["secret"]

    def command(self):
        return [sys.executable, str(VENDOR_APP), "--vendor", self.vendor,
                "--port", str(self.port), "--secret", self.secret,
                "--data", str(VENDOR_DATA[self.vendor])]


def seed_idmap(redis_client):
    """The demo's vendor ids, both ways (eg:idmap:<vendor>:uid|vid:...)."""
    for (vendor, uid), vid in DEMO_IDMAP.items():
        redis_client.set("eg:idmap:%s:uid:%s" % (vendor, uid), vid)
        redis_client.set("eg:idmap:%s:vid:%s" % (vendor, vid), uid)


def vendor_demo_conf(ports, plugin_dir=PLUGIN_BUILD):
    """(http, server) parts of nginx.conf for the two vendor adapters,
    ports: {"smartcampus": port, "yuejuan": port}."""
    sc = plugin_args("smartcampus")
    yj = plugin_args("yuejuan")
    http = """
    # Vendor adapters.  A vendor's app sees the person under the vendor's
    # own id (eg:idmap:<vendor>:uid:<uid> in Redis) or, when it has none,
    # under a pairwise id derived from this secret (demo value).
    edugate_pairwise_secret  %s;
    edugate_plugin  smartcampus %s/smartcampus.so
                    secret=%s tenant=%s;
    edugate_plugin  yuejuan %s/yuejuan.so secret=%s ttl=%s;
""" % (DEMO_PAIRWISE_SECRET, plugin_dir, sc["secret"], sc["tenant"],
       plugin_dir, yj["secret"], yj["ttl"])
    server = """
        # Vendor applications: one login, each sees its own user id.
        location /apps/smartcampus/ {
            edugate_vendor  smartcampus;
            proxy_pass      http://127.0.0.1:%d;
        }

        location /apps/yuejuan/ {
            edugate_vendor  yuejuan;
            proxy_pass      http://127.0.0.1:%d;
        }
""" % (ports["smartcampus"], ports["yuejuan"])
    return http, server


class DataCenter(Daemon):
    """tests/harness/datacenter_app.py: the demo's district data center,
    storing the standardized batches the gateway forwards."""

    name = "datacenter"
    start_timeout = 10.0

    def command(self):
        return [sys.executable, str(DATACENTER_APP), "--port",
                str(self.port), "--store", str(self.dir / "batches")]


# The vendors' programs push with client_credentials tokens of these
# clients.  Published demo secrets: never use them elsewhere.  The
# gateway wants 16 characters at least, so yuejuan's is longer than the
# "yuejuan-secret" the vendor was first given.
DEMO_STD_CLIENTS = {
    "smartcampus": "smartcampus-secret",
    "yuejuan": "yuejuan-demo-secret",
    "datacenter": "datacenter-demo-secret",
}

# what the demo lets district IT and the data center pull from smartcampus
STD_PULL_ENTITIES = "orgs,academicSessions,classes,students,enrollments"

STD_CODES = (REPO / "schemas" / "std" / "v1" / "codes",
             REPO / "build" / "std" / "codes")
STD_SCHEMA = REPO / "schemas" / "std" / "v1" / "batch.xsd"


def std_demo_conf(datacenter_port, mode="enforce", roster="*",
                  entities="*", forward_max_body="0"):
    """(http, server) parts of nginx.conf for vendor pushes of the two
    adapters to a data center on datacenter_port (POST /ingest/<vendor>),
    with the conformance figures (after vendor_demo_conf, which loads the
    plugins; the token endpoint comes with the OIDC provider).
    forward_max_body: client_max_body_size of the forward location."""
    import std_registry
    http = """
    # The data standard in flight: its code tables and XSD, the
    # district's id namespace and the HMAC key of identity numbers (demo
    # values).
    edugate_std_codes      %s %s;
    edugate_std_schema     %s;
    edugate_std_namespace  %s;
    edugate_std_secret     %s;

    # The vendors' programs, which push with client_credentials tokens.
    edugate_oidc_client    smartcampus secret=%s
                           grant_types=client_credentials;
    edugate_oidc_client    yuejuan secret=%s
                           grant_types=client_credentials;
""" % (STD_CODES[0], STD_CODES[1], STD_SCHEMA, std_registry.DEMO_NS,
       std_registry.DEMO_STD_SECRET, DEMO_STD_CLIENTS["smartcampus"],
       DEMO_STD_CLIENTS["yuejuan"])
    server = """
        # Vendor pushes: payload in, per-record report out, the
        # standardized batch to the data center.
        location = /std/v1/push/smartcampus {
            edugate_standardize          smartcampus %s mode=%s;
            edugate_standardize_forward  /_datacenter/smartcampus;
        }
        location = /std/v1/push/yuejuan {
            edugate_standardize          yuejuan %s mode=%s;
            edugate_standardize_forward  /_datacenter/yuejuan;
        }
        location /_datacenter/ {
            internal;
            # the standardized batch is this location's request body;
            # the push location bounds it already
            client_max_body_size  %s;
            proxy_pass  http://127.0.0.1:%d/ingest/;
        }

        # Which vendor breaks which rule how often: district IT only.
        location = /edugate/conformance {
            edugate_allow_roles  itadmin;
            edugate_conformance;
        }
        location = /edugate/metrics {
            allow 127.0.0.1;
            deny  all;
            edugate_metrics;
        }
""" % (roster, mode, entities, mode, forward_max_body, datacenter_port)
    return http, server


def std_pull_conf(vendor_port, mode="enforce",
                  entities=STD_PULL_ENTITIES, max_body=None,
                  upstream_extra="", yuejuan_port=None):
    """(http, server) parts of nginx.conf for the standard pull of
    smartcampus data (after std_demo_conf): GET /std/v1/<entity> for
    district IT (role itadmin) and the data center's program (OAuth2
    client "datacenter"), answered from the vendor's backend on
    vendor_port and standardized; with yuejuan_port, the exam results
    (/std/v1/lineItems, /std/v1/results) from yuejuan's backend too."""
    http = """
    # The district data center's program pulls with a client_credentials
    # token (demo secret).
    edugate_oidc_client    datacenter secret=%s
                           grant_types=client_credentials;
""" % DEMO_STD_CLIENTS["datacenter"]
    server = """
        # Standard pull: the vendor's data, standardized, for district IT
        # and the data center only (personal data).
        location /std/v1/ {
            edugate_allow_roles        itadmin;
            edugate_allow_clients      datacenter;
            edugate_std_pull           smartcampus %s mode=%s;
            edugate_std_pull_upstream  /_vendor/smartcampus;
%s        }
        location /_vendor/smartcampus/ {
            internal;
            proxy_pass  http://127.0.0.1:%d/;
%s        }
""" % (entities, mode,
       "            edugate_std_pull_max_body  %s;\n" % max_body
       if max_body else "", vendor_port, upstream_extra)
    if yuejuan_port:
        server += """
        # The exam results, from the marking system's export API.
        location ~ ^/std/v1/(lineItems|results)$ {
            edugate_allow_roles        itadmin;
            edugate_allow_clients      datacenter;
            edugate_std_pull           yuejuan lineItems,results mode=%s;
            edugate_std_pull_upstream  /_vendor/yuejuan;
        }
        location /_vendor/yuejuan/ {
            internal;
            proxy_pass  http://127.0.0.1:%d/;
        }
""" % (mode, yuejuan_port)
    return http, server


class NotifyService(Daemon):
    """tests/harness/notify_app.py: a service the gateway calls back (CAS
    single logout, proxy callback); it records every request it gets.

    status: what it answers; stall: it accepts connections and never
    answers; tls: (cert, key) for HTTPS; pgt_file: it also keeps the
    pgtIou/pgtId pairs it is sent, as AuthCAS's proxy mode reads them.
    """

    name = "notify"
    start_timeout = 10.0

    def __init__(self, tmpdir, port, status=200, stall=False, tls=None,
                 pgt_file=False):
        super().__init__(tmpdir, port)
        self.status = status
        self.stall = stall
        self.tls = tls
        self.record = self.dir / "requests.jsonl"
        self.pgt_file = self.dir / "pgt.txt" if pgt_file else None

    def url(self, path="/"):
        return "%s://127.0.0.1:%d%s" % ("https" if self.tls else "http",
                                        self.port, path)

    def command(self):
        cmd = [sys.executable, str(NOTIFY_APP), "--port", str(self.port),
               "--record", str(self.record), "--status", str(self.status)]
        if self.stall:
            cmd.append("--stall")
        if self.tls:
            cmd += ["--tls", str(self.tls[0]), str(self.tls[1])]
        if self.pgt_file:
            cmd += ["--pgt-file", str(self.pgt_file)]
        return cmd

    def requests(self):
        try:
            text = self.record.read_text(encoding="utf-8")
        except OSError:
            return []
        return [json.loads(line) for line in text.splitlines() if line]

    def wait_requests(self, count=1, timeout=5.0):
        """The requests received, once there are at least `count`."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.requests()
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


def self_signed_cert(directory, name, san="IP:127.0.0.1"):
    """(cert, key) paths of a throwaway self-signed P-256 certificate for
    the subjectAltName `san`, written into directory as name.pem and
    name.key.  Needs openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise HarnessError("openssl is not installed "
                           "(tests/tools/install-deps.sh)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / (name + ".pem"), directory / (name + ".key")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=" + name, "-addext",
                    "subjectAltName=" + san],
                   check=True, capture_output=True)
    return cert, key


class OidcPortal(Daemon):
    """tests/harness/oidc_portal.py: the demo OpenID Connect clients
    (demo-portal at /, demo-spa at /spa/) of the gateway at issuer."""

    name = "portal"
    start_timeout = 10.0

    def __init__(self, tmpdir, port, issuer, client_secret=None):
        super().__init__(tmpdir, port)
        self.issuer = issuer
        self.client_secret = client_secret
        self.url = "http://127.0.0.1:%d" % self.port

    def command(self):
        return [sys.executable, str(PORTAL_APP), "--port", str(self.port),
                "--issuer", self.issuer]

    def environment(self):
        env = dict(os.environ)
        if self.client_secret is not None:
            env["DEMO_PORTAL_SECRET"] = self.client_secret
        return env


class CasApp(Daemon):
    """tests/harness/cas_app.py: the demo CAS application, a client of
    the CAS server at cas_url (the gateway's .../cas)."""

    name = "cas-app"
    start_timeout = 10.0

    def __init__(self, tmpdir, port, cas_url):
        super().__init__(tmpdir, port)
        self.cas_url = cas_url
        self.url = "http://127.0.0.1:%d" % self.port

    def command(self):
        return [sys.executable, str(CAS_APP), "--port", str(self.port),
                "--cas", self.cas_url]


def _sanitizer_runtime(name):
    r = subprocess.run(["gcc", "-print-file-name=" + name],
                       capture_output=True, text=True)
    path = r.stdout.strip()
    if r.returncode != 0 or not os.path.isabs(path) or \
            not os.path.exists(path):
        raise HarnessError("EDUGATE_ASAN=1 but gcc does not know %s "
                           "(install gcc)" % name)
    return os.path.realpath(path)


class Nginx(Daemon):
    """The distro nginx with the EduGate module loaded.

    conf_text is an nginx.conf holding an http {} block (and, if wanted,
    other main-level directives except worker_processes, which is the
    `workers` argument).  The launcher adds load_module, pid, error_log,
    events {} (unless given), and at the top of http {} temp paths and an
    access log inside the dir.

    With EDUGATE_ASAN=1 in the environment (or asan=True) nginx runs with
    libasan and libubsan preloaded, for a module built with
    -fsanitize=address,undefined.  Reports go to asan.* and ubsan.* files
    in the dir, except in a worker whose first report is from UBSan: UBSan
    then sets itself up late, cannot read its options any more (nginx has
    overwritten the environment with the process title) and writes to
    stderr, which nginx has pointed at error.log.  check_log() reads all.
    """

    name = "nginx"
    start_timeout = 20.0

    def __init__(self, tmpdir, port, module, conf_text, workers=1,
                 asan=None):
        super().__init__(tmpdir, port)
        self.module = Path(module).resolve()
        self.conf_text = conf_text
        self.workers = int(workers)
        if asan is None:
            asan = os.environ.get("EDUGATE_ASAN") == "1"
        self.asan = asan
        if asan:
            self.start_timeout = 40.0
        self.conf = self.dir / "nginx.conf"
        self.test_conf = self.dir / "nginx-test.conf"
        self.error_log = self.dir / "error.log"
        self.test_error_log = self.dir / "test-error.log"
        self.access_log = self.dir / "access.log"
        self.log = self.dir / "nginx.stderr"
        self.problems = []
        self._stopped = False

    def render(self, conf_text, error_log=None):
        m = re.search(r"^\s*http\s*\{", conf_text, flags=re.M)
        if m is None:
            raise HarnessError("nginx conf_text has no http { } block")
        d = self.dir
        http_head = (
            "\n    client_body_temp_path %s/client_body;\n"
            "    proxy_temp_path %s/proxy;\n"
            "    fastcgi_temp_path %s/fastcgi;\n"
            "    uwsgi_temp_path %s/uwsgi;\n"
            "    scgi_temp_path %s/scgi;\n"
            "    access_log %s;\n" % (d, d, d, d, d, self.access_log))
        body = conf_text[:m.end()] + http_head + conf_text[m.end():]
        main = [
            "# written by tests/harness/servers.py",
            "load_module %s;" % self.module,
            "pid %s/nginx.pid;" % d,
            "error_log %s info;" % (error_log or self.error_log),
            "worker_processes %d;" % self.workers,
        ]
        if os.geteuid() == 0:
            # Workers would otherwise run as nobody, which cannot enter a
            # private temp dir nor write sanitizer reports into it.
            main.append("user root root;")
        if self.asan:
            main.append("env ASAN_OPTIONS;")
            main.append("env UBSAN_OPTIONS;")
        if not re.search(r"^\s*events\s*\{", conf_text, flags=re.M):
            main.append("events { worker_connections 512; }")
        return "\n".join(main) + "\n\n" + body

    def environment(self):
        env = dict(os.environ)
        if self.asan:
            libs = [_sanitizer_runtime("libasan.so"),
                    _sanitizer_runtime("libubsan.so")]
            if env.get("LD_PRELOAD"):
                libs.append(env["LD_PRELOAD"])
            env["LD_PRELOAD"] = " ".join(libs)
            env["ASAN_OPTIONS"] = ("detect_leaks=0:abort_on_error=0:"
                                   "log_path=%s/asan" % self.dir)
            env["UBSAN_OPTIONS"] = ("print_stacktrace=1:"
                                    "log_path=%s/ubsan" % self.dir)
        return env

    def _check_module(self):
        if not self.module.is_file():
            raise HarnessError("EduGate module not found: %s "
                               "(build it with `make module`)" % self.module)

    def prepare(self):
        self._check_module()
        self.conf.write_text(self.render(self.conf_text))

    def command(self):
        return [NGINX_BIN, "-p", "%s/" % self.dir, "-c", str(self.conf),
                "-g", "daemon off;"]

    def startup_report(self):
        return "\n".join(t for t in (_tail(self.log), _tail(self.error_log))
                         if t)

    def _run_test(self, conf_path):
        r = subprocess.run([NGINX_BIN, "-t", "-p", "%s/" % self.dir,
                            "-c", str(conf_path)],
                           env=self.environment(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, cwd=self.dir)
        return r.returncode, r.stdout + r.stderr

    def test_config(self, conf_text):
        """(rc, output) of `nginx -t` on conf_text; needs no running nginx.

        Its error log is a separate file, so a deliberately bad config
        does not show up in check_log() of a running instance.
        """
        self._check_module()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.test_conf.write_text(
            self.render(conf_text, error_log=self.test_error_log))
        return self._run_test(self.test_conf)

    def reload(self, conf_text, timeout=15.0):
        """New config: `nginx -t`, then SIGHUP; waits for the new workers."""
        rc, out = self.test_config(conf_text)
        if rc != 0:
            raise HarnessError("nginx -t refused the new config:\n" + out)
        offset = self._size(self.error_log)
        old_workers = self.worker_pids()
        self.conf_text = conf_text
        self.conf.write_text(self.render(conf_text))
        if not self.running:
            raise HarnessError("nginx is not running")
        self._signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        started = False
        while time.monotonic() < deadline:
            text = self._read_from(self.error_log, offset)
            if "[emerg]" in text:
                raise HarnessError("nginx reload failed:\n" + text)
            if not self.running:
                raise HarnessError("nginx exited during reload:\n" + text)
            at = text.find("reconfiguring")
            if at >= 0 and len(re.findall(r"start worker process \d+",
                                          text[at:])) >= self.workers:
                started = True
            # old workers keep accepting until they see the master's
            # SIGQUIT, so the reload is done only when they are gone
            if started and not old_workers & self.worker_pids():
                return
            time.sleep(0.05)
        raise HarnessError("nginx did not reload within %.0fs (old workers "
                           "still running: %s)" % (
                               timeout, sorted(old_workers
                                               & self.worker_pids())))

    def worker_pids(self):
        """PIDs of the live (not zombie) children of the master."""
        pids = set()
        if not self.running:
            return pids
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces
            fields = stat[stat.rfind(")") + 2:].split()
            if fields[0] != "Z" and int(fields[1]) == self.proc.pid:
                pids.add(int(entry))
        return pids

    def stop(self, sig=signal.SIGQUIT):
        """Graceful stop by default, as a worker that cannot finish a
        graceful shutdown would also hang on every reload; that is
        reported by check_log()."""
        if self.proc is None:
            return True
        was_running = self.running
        if not was_running and not self._stopped:
            self._report_exit()
        self._stopped = True
        clean = super().stop(sig)
        if was_running and not clean:
            self.problems.append(
                "harness: nginx (pid %d) did not exit within %.0fs of "
                "signal %d and was killed" % (self.proc.pid,
                                              self.stop_timeout, sig))
        return clean

    def start(self):
        self._stopped = False
        return super().start()

    def _report_exit(self):
        self.problems.append(
            "harness: nginx master (pid %d) exited by itself with code %s"
            % (self.proc.pid, self.proc.returncode))

    def error_log_text(self):
        return self._read_from(self.error_log, 0)

    @staticmethod
    def _size(path):
        try:
            return path.stat().st_size
        except OSError:
            return 0

    @staticmethod
    def _read_from(path, offset):
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _watched(self):
        files = [self.error_log, self.log]
        files += sorted(self.dir.glob("asan.*"))
        files += sorted(self.dir.glob("ubsan.*"))
        return files

    def mark(self):
        """Current end of every watched file, for check_log(since=...)."""
        return {"files": {p: self._size(p) for p in self._watched()},
                "problems": len(self.problems)}

    def check_log(self, since_offset=0):
        """Lines reporting trouble: [alert], [emerg] and sanitizer reports.

        since_offset is a byte offset into error.log (the other watched
        files are then read whole) or a mark() taken earlier.
        """
        if self.proc is not None and not self._stopped and \
                self.proc.poll() is not None:
            self._stopped = True
            self._report_exit()
        if isinstance(since_offset, dict):
            starts = since_offset["files"]
            problems = self.problems[since_offset["problems"]:]
        else:
            starts = {self.error_log: since_offset}
            problems = list(self.problems)
        found = []
        for path in self._watched():
            text = self._read_from(path, starts.get(path, 0))
            for line in text.splitlines():
                if any(m in line for m in LOG_PROBLEM_MARKERS):
                    if path in (self.error_log, self.log):
                        found.append(line)
                    else:
                        found.append("%s: %s" % (path.name, line))
        return found + problems


def nginx_demo_conf(redis_port, slapd_port, echo_port, listen_port,
                    extra_http="", extra_server="", template=None,
                    drop=()):
    """conf/demo/nginx.conf.in with the @NAME@ tokens filled in.

    drop: directive names whose lines are removed from the template first,
    so that extra_http can set them to other values.
    """
    text = Path(template or DEMO_DIR / "nginx.conf.in").read_text(
        encoding="utf-8")
    for name in drop:
        text = re.sub(r"^[ \t]*%s\s[^;]*;[ \t]*\n" % re.escape(name), "",
                      text, flags=re.M)
    values = {
        "REDIS": "127.0.0.1:%d" % redis_port,
        "LDAP_URI": "ldap://127.0.0.1:%d/" % slapd_port,
        "ECHO": "127.0.0.1:%d" % echo_port,
        "LISTEN": "127.0.0.1:%d" % listen_port,
        "EXTRA_HTTP": extra_http,
        "EXTRA_SERVER": extra_server,
    }
    for key, value in values.items():
        text = text.replace("@%s@" % key, value)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise HarnessError("unfilled tokens in nginx.conf.in: %s"
                           % ", ".join(sorted(set(left))))
    return text


def directive_names(conf_text):
    """Names of the directives that start a statement in conf_text."""
    return sorted(set(re.findall(r"(?:^|[;{}])\s*([a-z_][a-z0-9_]*)\s",
                                 conf_text)))


class LogWatch:
    """What a log file gained since the watch was made (or moved on).

        watch = LogWatch(nginx.error_log)
        ...request...
        watch.wait_for(r"edugate: invalid_session: ")
    """

    def __init__(self, path):
        self.path = Path(path)
        self.offset = self._size()

    def _size(self):
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def move_on(self):
        self.offset = self._size()

    def text(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_for(self, pattern, timeout=3.0):
        """The first match of the regex in the new text; waits for it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            m = rx.search(text)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(
                    "%s: no line matching %r within %.1fs; new text:\n%s"
                    % (self.path.name, pattern, timeout, text[-4000:]))
            time.sleep(0.05)

    def count(self, pattern):
        return len(re.findall(pattern, self.text()))


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def header_all(self, name):
        return self.headers.get_all(name) or []

    @property
    def location(self):
        return self.headers.get("Location")

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d %s>" % (self.status, self.reason)


class HttpClient:
    """A browser-like client: keeps cookies, never follows redirects.

    Paths are sent exactly as given, so tests can send unnormalized ones.
    """

    def __init__(self, port, host="127.0.0.1", timeout=15.0):
        self.host = host
        self.port = int(port)
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()

    def request(self, method, path, body=None, headers=None, cookies=True):
        url = "http://%s:%d%s" % (self.host, self.port, path)
        req = urllib.request.Request(url, data=body, method=method,
                                     headers=dict(headers or {}))
        if cookies:
            self.jar.add_cookie_header(req)
        send = dict(req.header_items())
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=send)
            resp = conn.getresponse()
            data = resp.read()
            if cookies:
                self.jar.extract_cookies(resp, req)
            return Response(resp.status, resp.reason, resp.headers, data)
        finally:
            conn.close()

    def get(self, path, headers=None, **kw):
        return self.request("GET", path, headers=headers, **kw)

    def post(self, path, body, content_type, headers=None, **kw):
        h = {"Content-Type": content_type}
        h.update(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        return self.request("POST", path, body=body, headers=h, **kw)

    def post_form(self, path, fields, headers=None, **kw):
        """fields: a dict or a list of pairs (to send duplicates)."""
        body = urllib.parse.urlencode(fields)
        return self.post(path, body, "application/x-www-form-urlencoded",
                         headers=headers, **kw)

    def cookie(self, name):
        for c in self.jar:
            if c.name == name:
                return c.value
        return None

    def set_cookie(self, name, value, path="/"):
        self.jar.set_cookie(http.cookiejar.Cookie(
            0, name, value, None, False, self.host, False, False, path,
            True, False, None, True, None, None, {}))

    def clear_cookies(self):
        self.jar.clear()


class _InputCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inputs = {}

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            a = dict(attrs)
            if a.get("name") is not None:
                self.inputs.setdefault(a["name"], a.get("value") or "")


def form_inputs(page):
    """{name: value} of the <input> elements of an HTML page."""
    p = _InputCollector()
    p.feed(page)
    p.close()
    return p.inputs
