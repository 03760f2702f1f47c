"""Running the programs of tests/clients (Node.js with client libraries
from npm, and Chromium for the single-page app), and making signing keys
with openssl.  A missing tool fails the test with the command that
installs it: these tests are never skipped."""

import json
import shutil
import subprocess

import pytest

from servers import REPO

CLIENTS = REPO / "tests" / "clients"
INSTALL = "run tests/tools/install-deps.sh"


def _need(name, what):
    path = shutil.which(name)
    if path is None:
        pytest.fail("%s is not on PATH (%s): %s" % (name, what, INSTALL),
                    pytrace=False)
    return path


def node_or_fail(*packages):
    """node, once the npm packages of tests/clients are in place."""
    node = _need("node", "Node.js runs the independent client tests")
    for pkg in packages:
        if not (CLIENTS / "node_modules" / pkg / "package.json").is_file():
            pytest.fail("npm package %s is missing in tests/clients: %s "
                        "(it runs npm ci there)" % (pkg, INSTALL),
                        pytrace=False)
    return node


def chromium_or_fail():
    return _need("chromium", "Debian's Chromium runs the single-page app")


def run_node(script, cfg, packages, timeout=120):
    """Runs tests/clients/<script> with cfg as JSON on stdin; the JSON it
    printed.  A script that printed none fails the test with its output."""
    node = node_or_fail(*packages)
    r = subprocess.run([node, str(CLIENTS / script)], input=json.dumps(cfg),
                       capture_output=True, text=True, timeout=timeout,
                       cwd=CLIENTS)
    try:
        return json.loads(r.stdout)
    except ValueError:
        pytest.fail("%s printed no JSON (exit %d):\n%s\n%s"
                    % (script, r.returncode, r.stdout[-3000:],
                       r.stderr[-3000:]), pytrace=False)


def rsa_key(path):
    """A new 2048-bit RSA private key in PEM at path, made by openssl."""
    exe = _need("openssl", "it makes the signing keys")
    subprocess.run([exe, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", str(path)], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)
    return path
