"""Pins how plugins are loaded: `nginx -t` fails with one line naming the
plugin, the reason, and the file and line of its directive, for every way a
plugin can be wrong (missing, writable by others, not an EduGate plugin,
another ABI, wrong sizes, no name, taken name, failing init, pin mismatch,
code tables), and the same configuration with a good plugin passes.  The
failing plugins are test-only builds of tests/plugins/test_plugin.c."""

import hashlib
import re
import shutil

import pytest

from expect import LOADER_REFUSALS

from servers import Nginx, free_port

SECRET = "edugate_pairwise_secret pairwise-demo-secret-0123;"

BASE = """
http {
    edugate_redis 127.0.0.1:6379;
    @HTTP@
    server {
        listen 127.0.0.1:{port};
        location /apps/ {
            @LOCATION@
            return 204;
        }
    }
}
"""


def conf(port, http="", location=""):
    return (BASE.replace("{port}", str(port)).replace("@HTTP@", http)
            .replace("@LOCATION@", location))


@pytest.fixture
def nginx_t(module_path, tmp_path):
    n = Nginx(tmp_path / "nginx-t", free_port(), module_path, "http {}")

    def run(http="", location=""):
        rc, out = n.test_config(conf(n.port, http, location))
        return rc, out, n.test_conf

    return run


def line_of(path, needle):
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in %s" % (needle, path))


def expect_refused(nginx_t, message, at, http="", location=""):
    """One [emerg] line holding message, naming the line that holds at."""
    rc, out, path = nginx_t(http, location)
    assert rc != 0, "nginx -t accepted the config:\n" + out
    emerg = re.findall(r"\[emerg\] \d+#\d+: (.*) in (\S+):(\d+)", out)
    assert len(emerg) == 1, out
    text, file, line = emerg[0]
    assert message in text, out
    assert file == str(path), out
    assert int(line) == line_of(path, at), out
    return text


def plugin_line(name, path, *args):
    return "edugate_plugin %s %s%s;" % (name, path,
                                        "".join(" " + a for a in args))


def test_good_plugin_passes(nginx_t, test_plugin):
    rc, out, _ = nginx_t(SECRET + plugin_line("tp", test_plugin("good")),
                         "edugate_vendor tp;")
    assert rc == 0, out
    assert "test is successful" in out
    assert re.search(r'edugate: plugin "tp" loaded: testplugin 0\.0\.1 '
                     r'from "[^"]*good\.so"', out), out


@pytest.mark.parametrize("variant,message", LOADER_REFUSALS)
def test_bad_plugin_refused(nginx_t, test_plugin, variant, message):
    line = plugin_line("tp", test_plugin(variant), "mode=loose")
    text = expect_refused(nginx_t, message, at=line, http=line)
    assert text.startswith('edugate_plugin "tp": '), text


def test_missing_file(nginx_t, trusted_dir):
    path = trusted_dir / "absent.so"
    line = plugin_line("absent", path)
    expect_refused(nginx_t, 'edugate_plugin "absent": cannot open "%s": No '
                   'such file or directory' % path, at=line, http=line)


@pytest.mark.parametrize("mode", [0o666, 0o664, 0o646])
def test_writable_file(nginx_t, test_plugin, trusted_dir, mode):
    path = trusted_dir / "open.so"
    shutil.copy(test_plugin("good"), path)
    path.chmod(mode)
    line = plugin_line("open", path)
    expect_refused(nginx_t, 'edugate_plugin "open": "%s" is writable by '
                   'users other than its owner (mode %04o)' % (path, mode),
                   at=line, http=line)


def test_writable_directory(nginx_t, test_plugin, trusted_dir):
    shared = trusted_dir / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    path = shared / "p.so"
    shutil.copy(test_plugin("good"), path)
    path.chmod(0o644)
    line = plugin_line("shared", path)
    expect_refused(nginx_t, '"%s" is writable by users other than its owner '
                   '(mode 0777)' % shared, at=line, http=line)


def test_link_into_writable_directory(nginx_t, test_plugin, trusted_dir):
    shared = trusted_dir / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    target = shared / "p.so"
    shutil.copy(test_plugin("good"), target)
    target.chmod(0o644)
    link = trusted_dir / "link.so"
    link.symlink_to(target)
    line = plugin_line("linked", link)
    expect_refused(nginx_t, '"%s" is writable by users other than its owner'
                   % shared, at=line, http=line)


def test_plugin_in_tmp_refused(nginx_t, test_plugin, tmp_path):
    """A plugin dropped into a directory like /tmp (writable by all,
    sticky): anyone could have put it there."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    path = shared / "p.so"
    shutil.copy(test_plugin("good"), path)
    path.chmod(0o644)
    line = plugin_line("tmp", path)
    expect_refused(nginx_t, "is writable by users other than its owner",
                   at=line, http=line)


def test_duplicate_name(nginx_t, test_plugin):
    first = plugin_line("tp", test_plugin("good"))
    second = plugin_line("tp", test_plugin("slow"))
    text = expect_refused(nginx_t, 'edugate_plugin "tp": the name is already '
                          'used in ', at=second, http=first + "\n" + second)
    _, _, path = nginx_t(first + "\n" + second)
    assert text.endswith("used in %s:%d" % (path, line_of(path, first))), text


def test_invalid_instance_name(nginx_t, test_plugin):
    line = plugin_line("Smart.Campus", test_plugin("good"))
    expect_refused(nginx_t, 'edugate_plugin "Smart.Campus": invalid name: '
                   'use 1 to 32 of a-z 0-9 _ -', at=line, http=line)


def test_pin(nginx_t, test_plugin):
    path = test_plugin("good")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rc, out, _ = nginx_t(SECRET + plugin_line("tp", path, "sha256=" + digest))
    assert rc == 0, out

    wrong = "0" * 64
    line = plugin_line("tp", path, "sha256=" + wrong)
    expect_refused(nginx_t, 'edugate_plugin "tp": SHA-256 of "%s" is %s, '
                   'not the pinned %s' % (path, digest, wrong), at=line,
                   http=line)

    line = plugin_line("tp", path, "sha256=abc")
    expect_refused(nginx_t, "sha256= needs 64 hexadecimal digits", at=line,
                   http=line)


def test_vendor_unknown_plugin(nginx_t):
    expect_refused(nginx_t, 'edugate_vendor: no plugin "nope" (load it with '
                   'edugate_plugin at http level)', at="edugate_vendor nope;",
                   http=SECRET, location="edugate_vendor nope;")


def test_vendor_needs_pairwise_secret(nginx_t, test_plugin):
    expect_refused(nginx_t, '"edugate_vendor" needs "edugate_pairwise_secret"',
                   at="edugate_vendor tp;",
                   http=plugin_line("tp", test_plugin("good")),
                   location="edugate_vendor tp;")


def test_short_pairwise_secret(nginx_t, test_plugin):
    rc, out, _ = nginx_t("edugate_pairwise_secret short;")
    assert rc != 0
    assert "edugate_pairwise_secret must be at least 16 characters" in out


def test_vendor_with_protect_off(nginx_t, test_plugin):
    expect_refused(nginx_t, '"edugate_vendor" directive needs '
                   '"edugate_protect on" (it is off in this location)',
                   at="edugate_vendor tp;",
                   http=SECRET + plugin_line("tp", test_plugin("good")),
                   location="edugate_protect off; edugate_vendor tp;")


def test_vendor_implies_protect(nginx_t, test_plugin):
    expect_refused(nginx_t, '"edugate_protect" directive is duplicate',
                   at="edugate_protect off;",
                   http=SECRET + plugin_line("tp", test_plugin("good")),
                   location="edugate_vendor tp;\n edugate_protect off;")


def test_crash_limit_values(nginx_t):
    expect_refused(nginx_t, "needs a number of crashes from 1 to 16",
                   at="edugate_plugin_crash_limit",
                   http="edugate_plugin_crash_limit 0;")
    expect_refused(nginx_t, "has an invalid window",
                   at="edugate_plugin_crash_limit",
                   http="edugate_plugin_crash_limit 3 soon;")


def test_table_override(nginx_t, plugin_path, trusted_dir):
    example = plugin_path("example")
    load = plugin_line("example", example, "tenant=510104")

    good = trusted_dir / "sex.csv"
    good.write_text("table,vendor_value,code,kind\nsex,female,2,\n"
                    "sex,male,1,\n")
    good.chmod(0o644)
    rc, out, _ = nginx_t(load + "\nedugate_plugin_table example sex %s;"
                         % good)
    assert rc == 0, out

    line = "edugate_plugin_table example nation %s;" % good
    expect_refused(nginx_t, 'edugate_plugin_table "example": uses no code '
                   'table "nation"', at=line, http=load + "\n" + line)

    line = "edugate_plugin_table other sex %s;" % good
    expect_refused(nginx_t, 'edugate_plugin_table: no plugin "other" is '
                   'loaded before this line', at=line, http=line)

    bad = trusted_dir / "bad.csv"
    bad.write_text("table,vendor_value,code,kind\nstatus,active,01,\n")
    bad.chmod(0o644)
    line = "edugate_plugin_table example sex %s;" % bad
    expect_refused(nginx_t, '"%s" line 2: a row of table "status" in an '
                   'override of table "sex"' % bad, at=line,
                   http=load + "\n" + line)

    bad.chmod(0o666)
    expect_refused(nginx_t, "is writable by users other than its owner",
                   at=line, http=load + "\n" + line)


def test_default_tables_missing(nginx_t, plugin_path, trusted_dir):
    # the plugin without its .csv next to it
    copy = trusted_dir / "example.so"
    shutil.copy(plugin_path("example"), copy)
    copy.chmod(0o644)
    line = plugin_line("example", copy, "tenant=510104")
    expect_refused(nginx_t, 'edugate_plugin "example": cannot open "%s": No '
                   'such file or directory' % (trusted_dir / "example.csv"),
                   at=line, http=line)

    csv = trusted_dir / "example.csv"
    csv.write_text("table,vendor_value,code,kind\nsex,m,1,\n")
    csv.chmod(0o644)
    expect_refused(nginx_t, 'edugate_plugin "example": code table "status" '
                   'has no rows (expected in the plugin\'s .csv file or an '
                   'override)', at=line, http=line)

    csv.write_text("table,vendor_value,code,kind\nsex,m,1,\nstatus,a,01,\n"
                   "grade,3,03,\n")
    expect_refused(nginx_t, 'has rows of table "grade", which describe() '
                   'does not list', at=line, http=line)

    csv.write_text("table,vendor_value,code,kind\nsex,m,1,\nsex,m,2,\n")
    expect_refused(nginx_t, '"%s" line 3: "m" is listed twice in table '
                   '"sex"' % csv, at=line, http=line)
