"""Pins the vendor's path of plugins/README.md: `make plugin-sdk` installs
the header and edugate-plugin.pc, a copy of plugins/example/ builds with
nothing but `cc -shared -fPIC $(pkg-config --cflags edugate-plugin)`,
exports exactly one symbol, links no library, and passes the checker."""

import os
import shutil
import subprocess

import servers


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, "%s:\n%s%s" % (cmd, r.stdout, r.stderr)
    return r.stdout


def test_sdk_builds_the_example(tmp_path, trusted_dir, plugin_check):
    prefix = tmp_path / "sdk"
    run(["make", "-s", "-C", str(servers.REPO), "plugin-sdk",
         "PREFIX=%s" % prefix])
    assert (prefix / "include" / "edugate_plugin.h").is_file()

    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    assert run(["pkg-config", "--modversion", "edugate-plugin"],
               env=env).strip() == "1.0"
    cflags = run(["pkg-config", "--cflags", "edugate-plugin"],
                 env=env).split()
    assert cflags == ["-I%s" % (prefix / "include")]

    # the vendor's own directory: the template and its tables, nothing else
    src = tmp_path / "acme"
    shutil.copytree(servers.REPO / "plugins" / "example", src)
    so = trusted_dir / "example.so"
    run(["cc", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall",
         "-Werror"] + cflags + ["-o", str(so), str(src / "example.c")],
        cwd=src, env=env)
    shutil.copy(src / "example.csv", trusted_dir / "example.csv")
    so.chmod(0o755)
    (trusted_dir / "example.csv").chmod(0o644)

    defined = run(["nm", "-D", "--defined-only", str(so)]).split("\n")
    exported = [line.split()[-1] for line in defined
                if line.strip() and line.split()[1] in "TDBRVW"]
    assert exported == ["edugate_plugin_entry"], exported

    out = run([str(plugin_check), str(so), str(src / "fixtures")],
              env=dict(os.environ, LD_PRELOAD=""))
    assert 'plugin "example": all' in out, out
