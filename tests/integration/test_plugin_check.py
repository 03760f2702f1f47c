"""Pins edugate-plugin-check: it refuses every test-only bad plugin with a
non-zero exit and the same one-line reason nginx gives, catches a hook
that crashes, hangs, sets what it did not declare, exports more than its
entry or links a library, and passes the plugins of the tree with their
fixtures (make plugin-check runs those under AddressSanitizer with
fuzzing)."""

import os
import re
import subprocess

import pytest

from expect import LOADER_REFUSALS

import servers


def run_check(check, *args, timeout=60):
    env = dict(os.environ)
    # the sanitizer build reports leaks too, and must not be preloaded
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([str(check)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout,
                       env=env)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize("variant,message", LOADER_REFUSALS)
def test_loader_refusals(plugin_check, test_plugin, variant, message):
    rc, out, err = run_check(plugin_check, "--arg", "mode=loose",
                             test_plugin(variant))
    assert rc == 1, (rc, out, err)
    assert err.strip().splitlines()[-1] == (
        'edugate-plugin-check: plugin "%s": %s' % (variant, message)), err


def test_good_test_plugin_passes(plugin_check, test_plugin):
    rc, out, err = run_check(plugin_check, test_plugin("good"))
    assert rc == 0, (out, err)
    assert "header X-Test-User: u_88213" in out, out
    assert "arg    tp_user=u_88213" in out, out
    assert re.search(r'plugin "good": all \d+ checks passed', out), out


def test_crash_named(plugin_check, test_plugin):
    rc, out, err = run_check(plugin_check, test_plugin("crash"))
    assert rc == 3, (rc, out, err)
    assert ('edugate-plugin-check: plugin "crash": crashed with signal 11 '
            'in its identity hook (a mapped person)') in err, err


def test_hang_named(plugin_check, test_plugin):
    rc, out, err = run_check(plugin_check, "--timeout", "1", "--arg",
                             "sleep_ms=5000", test_plugin("slow"))
    assert rc == 4, (rc, out, err)
    assert ('edugate-plugin-check: plugin "slow": its identity hook did not '
            'return within 1 s (a mapped person)') in err, err


def test_undeclared_output(plugin_check, test_plugin):
    rc, out, err = run_check(plugin_check, test_plugin("badout"))
    assert rc == 1, (rc, out, err)
    assert ('FAIL identity hook, a mapped person: code -1: '
            'set_header("X-Not-Declared"): not a header describe() lists'
            ) in err, err


def test_exports_and_libraries(plugin_check, test_plugin):
    rc, out, err = run_check(plugin_check, test_plugin("exports"))
    assert rc == 1, (rc, out, err)
    assert ("FAIL links libm.so.6: a plugin links no library (the host "
            "table has what it needs)") in err, err


def test_usage(plugin_check):
    rc, out, err = run_check(plugin_check)
    assert rc == 2
    assert err.startswith("usage: edugate-plugin-check"), err


@pytest.mark.parametrize("name", ["example", "smartcampus", "yuejuan"])
def test_tree_plugins_pass(plugin_check, plugin_path, name):
    fixtures = servers.REPO / "plugins" / name / "fixtures"
    rc, out, err = run_check(plugin_check, "--fuzz", "1",
                             plugin_path(name), fixtures)
    assert rc == 0, (out, err)
    assert re.search(r'plugin "%s": all \d+ checks passed' % name, out), out
    assert ", as expected" in out, out
    assert re.search(r"fuzz: \d+ runs", out), out


def test_fixture_mismatch_reported(plugin_check, plugin_path, trusted_dir):
    src = servers.REPO / "plugins" / "example" / "fixtures"
    dst = trusted_dir / "fixtures"
    (dst / "students").mkdir(parents=True)
    (dst / "args").write_text((src / "args").read_text())
    (dst / "students" / "people.json").write_text(
        (src / "students" / "people.json").read_text())
    (dst / "students" / "people.expected.json").write_text(
        '{"students": [{"sex": "1"}, {}]}')
    rc, out, err = run_check(plugin_check, plugin_path("example"), dst)
    assert rc == 1, (out, err)
    assert 'differs from %s: /students/0/sex: got "2", expected "1"' % (
        dst / "students" / "people.expected.json") in err, err


def test_bad_fixture_must_be_refused(plugin_check, plugin_path, trusted_dir):
    dst = trusted_dir / "fixtures"
    (dst / "students").mkdir(parents=True)
    (dst / "args").write_text("tenant=510104\n")
    (dst / "students" / "empty.bad.json").write_text('{"people": {}}')
    (dst / "students" / "dtd.bad.xml").write_text(
        '<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>')
    rc, out, err = run_check(plugin_check, plugin_path("example"), dst)
    assert rc == 1, (out, err)
    assert re.search(r"empty\.bad\.json: refused \(code -2\): no "
                     r'"people" list', out), out
    assert "dtd.bad.xml: refused by the host parser: XML with a document " \
           "type declaration" in out, out
    # and a to_standard hook with nothing else to run on still needs
    # a good fixture: the bad ones alone prove nothing about records
    assert "FAIL" not in err or "to_vendor" in err, err
