"""Pins the checks of the data-standard directives at `nginx -t`: each
mistake fails with a message naming it and the file and line, and the
same configuration without the mistake passes."""

import pytest

from servers import REPO
from test_config import conf, expect_refused, nginx_t  # noqa: F401
import std_world as W

PLUGIN = REPO / "build" / "plugins" / "smartcampus.so"


def std(port, http=None, location=None):
    if http is None:
        http = ("edugate_plugin smartcampus %s secret=%s;\n"
                "    edugate_std_codes %s;\n"
                "    edugate_std_namespace %s;\n"
                % (PLUGIN, "x" * 20, W.CODES, W.NS))
    if location is None:
        location = "edugate_standardize smartcampus students;"
    text = conf(port, http=http)
    return text.replace("location /apps/ {", "location = /std/v1/push/sc {\n"
                        "            %s\n        }\n"
                        "        location /apps/ {" % location)


@pytest.fixture(autouse=True)
def need_plugin():
    if not PLUGIN.is_file():
        pytest.skip("plugin not built: %s (run `make plugins`)" % PLUGIN)


def test_std_config_passes(nginx_t):  # noqa: F811
    rc, out, _, _ = nginx_t(std(nginx_t.port))
    assert rc == 0, out


def test_bulk_snapshot_passes(nginx_t):  # noqa: F811
    rc, out, _, _ = nginx_t(std(nginx_t.port, location=(
        "edugate_standardize smartcampus students bulk=snapshot "
        "mode=observe;")))
    assert rc == 0, out


@pytest.mark.parametrize("location,message", [
    ("edugate_standardize nobody students;",
     'edugate_standardize: no plugin "nobody"'),
    ("edugate_standardize smartcampus results;",
     'edugate_standardize: plugin "smartcampus" does not produce "results"'),
    ("edugate_standardize smartcampus students mode=strict;",
     'invalid parameter "mode=strict"'),
    ("edugate_standardize smartcampus students bulk=full;",
     'invalid parameter "bulk=full" (mode=enforce or mode=observe, '
     'bulk=partial or bulk=snapshot)'),
    ("edugate_standardize smartcampus students; proxy_pass "
     "http://127.0.0.1:1;", '"edugate_standardize" conflicts with another '
     'content handler'),
    ("proxy_pass http://127.0.0.1:1; "
     "edugate_standardize smartcampus students;",
     "conflicts with another content handler"),
    ("edugate_conformance;", '"edugate_conformance" needs '
     '"edugate_allow_roles"'),
    ("edugate_standardize smartcampus students; "
     "edugate_standardize_forward datacenter;",
     "needs the URI of a location"),
])
def test_refused_locations(nginx_t, location, message):  # noqa: F811
    expect_refused(nginx_t, std(nginx_t.port, location=location), message)


def test_needs_codes_and_namespace(nginx_t):  # noqa: F811
    plugin = "edugate_plugin smartcampus %s secret=%s;\n" % (PLUGIN, "x" * 20)
    expect_refused(nginx_t, std(nginx_t.port, http=plugin),
                   '"edugate_standardize" needs the code tables',
                   at="edugate_standardize smartcampus")
    expect_refused(nginx_t, std(nginx_t.port, http=plugin
                                + "edugate_std_codes %s;" % W.CODES),
                   '"edugate_standardize" needs the district\'s '
                   '"edugate_std_namespace"',
                   at="edugate_standardize smartcampus")


@pytest.mark.parametrize("directive,message", [
    ("edugate_std_namespace not-a-uuid;", "needs a UUID"),
    ("edugate_std_secret short;", "must be at least 16 characters"),
    ("edugate_std_codes /nonexistent/codes;", "edugate_std_codes: "),
    ("edugate_std_codes %s;" % (REPO / "schemas" / "std" / "v1" / "codes"),
     'has no "xb" or no "xzqh" table'),
    ("edugate_std_schema /nonexistent/batch.xsd;", "edugate_std_schema: "),
    ("edugate_std_schema %s;" % W.SCORES,
     "is not a schema libxml2 compiles"),
])
def test_refused_http(nginx_t, directive, message):  # noqa: F811
    expect_refused(nginx_t, conf(nginx_t.port, http=directive), message)


PULL = ("edugate_std_pull smartcampus students; "
        "edugate_std_pull_upstream /_vendor/sc;")


def test_pull_config_passes(nginx_t):  # noqa: F811
    for policy in ("edugate_allow_roles itadmin;",
                   "edugate_allow_clients datacenter;",
                   "edugate_allow_org 370112;"):
        rc, out, _, _ = nginx_t(std(nginx_t.port, location=policy + PULL))
        assert rc == 0, out


@pytest.mark.parametrize("location,message", [
    (PULL, '"edugate_std_pull" hands out personal data: the location needs '
     'an access policy'),
    ("edugate_allow_roles itadmin; edugate_std_pull smartcampus students;",
     '"edugate_std_pull" needs "edugate_std_pull_upstream"'),
    ("edugate_allow_roles itadmin; edugate_std_pull nobody students; "
     "edugate_std_pull_upstream /x;", 'edugate_std_pull: no plugin "nobody"'),
    ("edugate_allow_roles itadmin; edugate_std_pull smartcampus results; "
     "edugate_std_pull_upstream /x;",
     'edugate_std_pull: plugin "smartcampus" does not produce "results"'),
    ("edugate_allow_roles itadmin; edugate_std_pull smartcampus * "
     "mode=lax; edugate_std_pull_upstream /x;",
     'invalid parameter "mode=lax"'),
    ("edugate_allow_roles itadmin; " + PULL + " proxy_pass "
     "http://127.0.0.1:1;", '"edugate_std_pull" conflicts with another '
     'content handler'),
])
def test_refused_pull_locations(nginx_t, location, message):  # noqa: F811
    expect_refused(nginx_t, std(nginx_t.port, location=location), message)


def test_pull_needs_codes_and_namespace(nginx_t):  # noqa: F811
    plugin = "edugate_plugin smartcampus %s secret=%s;\n" % (PLUGIN, "x" * 20)
    expect_refused(nginx_t, std(nginx_t.port, http=plugin,
                                location="edugate_allow_roles itadmin; "
                                + PULL),
                   '"edugate_std_pull" needs the code tables',
                   at="edugate_std_pull smartcampus")
