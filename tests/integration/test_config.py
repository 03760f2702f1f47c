"""Pins configuration checking: every broken EduGate configuration fails
`nginx -t` with a message that names the problem and the file and line,
while the same configuration without the mistake passes."""

import re

import pytest

from servers import Nginx, free_port

BASE = """
http {
    edugate_redis               127.0.0.1:6379;
    edugate_ldap_uri            ldap://127.0.0.1:389/;
    edugate_ldap_base           dc=edu,dc=cn;
    edugate_ldap_bind_dn        cn=edugate,ou=services,dc=edu,dc=cn;
    edugate_ldap_bind_password  EduGateSvc-Demo-Passw0rd;
    # @HTTP@
    server {
        listen 127.0.0.1:{port};
        location = /edugate/login { edugate_login; }
        location = /edugate/logout { edugate_logout; }
        location /apps/ {
            edugate_protect on;
            # @LOCATION@
            return 204;
        }
    }
}
"""


def conf(port, drop=(), http="", location=""):
    text = BASE.replace("{port}", str(port))
    for name in drop:
        text = re.sub(r"(?m)^\s*%s\s[^;]*;\n" % re.escape(name), "", text)
    text = text.replace("# @HTTP@", http)
    return text.replace("# @LOCATION@", location)


@pytest.fixture
def nginx_t(module_path, tmp_path):
    """nginx_t(conf_text) -> (rc, output, rendered file path)"""
    n = Nginx(tmp_path / "nginx-t", free_port(), module_path, "http {}")

    def run(text):
        rc, out = n.test_config(text)
        return rc, out, n.test_conf, n.port

    run.port = n.port
    return run


def line_of(path, needle):
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in %s" % (needle, path))


def expect_refused(nginx_t, text, message, at=None):
    """nginx -t fails naming message, the file and (if given) the line
    holding the text `at`."""
    rc, out, path, _ = nginx_t(text)
    assert rc != 0, "nginx -t accepted the config:\n" + out
    m = re.search(r"\[emerg\] (.*) in (\S+):(\d+)", out)
    assert m, out
    assert message in m.group(1), out
    assert m.group(2) == str(path), out
    line = int(m.group(3))
    total = len(path.read_text().splitlines())
    assert 1 <= line <= total, out
    if at is not None:
        assert line == line_of(path, at), out
    return out


def test_base_config_passes(nginx_t):
    rc, out, _, _ = nginx_t(conf(nginx_t.port))
    assert rc == 0, out
    assert "test is successful" in out


def test_login_without_ldap_uri(nginx_t):
    expect_refused(nginx_t, conf(nginx_t.port, drop=["edugate_ldap_uri"]),
                   '"edugate_login" needs "edugate_ldap_uri"',
                   at="edugate_login;")


def test_protect_alone_needs_no_directory(nginx_t):
    text = conf(nginx_t.port, drop=["edugate_ldap_uri", "edugate_ldap_base",
                                    "edugate_ldap_bind_dn",
                                    "edugate_ldap_bind_password"])
    text = text.replace("location = /edugate/login { edugate_login; }", "")
    rc, out, _, _ = nginx_t(text)
    assert rc == 0, out


@pytest.mark.parametrize("value,why", [
    ('"(uid=alice)"', "has no {user} placeholder"),
    ('"(&(objectClass=eduPerson)(uid={user})"', "has unbalanced parentheses"),
    ('"(uid={user}))"', "has text after the outermost filter"),
    ('"uid={user}"', 'must start with "("'),
    ('"(uid={user})(cn=x)"', "has text after the outermost filter"),
])
def test_bad_ldap_filter(nginx_t, value, why):
    directive = "edugate_ldap_filter %s;" % value
    out = expect_refused(nginx_t, conf(nginx_t.port, http=directive),
                         "invalid edugate_ldap_filter", at=directive)
    assert why in out, out


@pytest.mark.parametrize("uri", [
    "http://127.0.0.1:389/",
    "127.0.0.1:389",
    "ldapx://127.0.0.1/",
])
def test_bad_ldap_uri_scheme(nginx_t, uri):
    directive = "edugate_ldap_uri ldap://127.0.0.1:389/ %s;" % uri
    text = conf(nginx_t.port, drop=["edugate_ldap_uri"], http=directive)
    expect_refused(nginx_t, text,
                   'invalid LDAP URI "%s": scheme must be ldap://, '
                   'ldaps:// or ldapi://' % uri, at=directive)


def test_unparsable_ldap_uri(nginx_t):
    text = conf(nginx_t.port, drop=["edugate_ldap_uri"],
                http="edugate_ldap_uri ldap://[::1/;")
    expect_refused(nginx_t, text, 'invalid LDAP URI "ldap://[::1/"')


def test_ldap_uri_twice(nginx_t):
    directive = "edugate_ldap_uri ldap://127.0.0.2/;"
    expect_refused(nginx_t, conf(nginx_t.port, http=directive),
                   '"edugate_ldap_uri" directive is duplicate', at=directive)


def test_ldap_uri_without_base(nginx_t):
    expect_refused(nginx_t, conf(nginx_t.port, drop=["edugate_ldap_base"]),
                   '"edugate_ldap_uri" needs "edugate_ldap_base"',
                   at="edugate_ldap_uri ")


def test_bind_dn_without_password(nginx_t):
    out = expect_refused(
        nginx_t, conf(nginx_t.port, drop=["edugate_ldap_bind_password"]),
        '"edugate_ldap_bind_dn" needs "edugate_ldap_bind_password"',
        at="edugate_ldap_bind_dn ")
    assert "unauthenticated bind" in out


def test_unknown_ldap_attr_field(nginx_t):
    directive = "edugate_ldap_attr email mail;"
    expect_refused(nginx_t, conf(nginx_t.port, http=directive),
                   'unknown identity field "email"', at=directive)


def test_known_ldap_attr_field_passes(nginx_t):
    rc, out, _, _ = nginx_t(conf(nginx_t.port,
                                 http="edugate_ldap_attr name displayName;"))
    assert rc == 0, out


def test_redis_twice(nginx_t):
    directive = "edugate_redis 127.0.0.1:6380;"
    expect_refused(nginx_t, conf(nginx_t.port, http=directive),
                   '"edugate_redis" directive is duplicate', at=directive)


def test_redis_name_not_resolvable(nginx_t):
    directive = "edugate_redis no-such-host.invalid:6379;"
    expect_refused(nginx_t, conf(nginx_t.port, drop=["edugate_redis"],
                                 http=directive),
                   'invalid redis address "no-such-host.invalid:6379"',
                   at=directive)


@pytest.mark.parametrize("directive,message", [
    ("edugate_login_url edugate/login;", "must be an absolute path"),
    ("edugate_return_hosts app.example/x;", 'invalid return host'),
    ("edugate_return_hosts user@app.example;", 'invalid return host'),
    ("edugate_cookie_secure maybe;", 'invalid value "maybe"'),
    ("edugate_session_idle soon;", '"edugate_session_idle" directive '
                                   'invalid value'),
    ("edugate_ldap_timeout -1;", '"edugate_ldap_timeout" directive '
                                 'invalid value'),
])
def test_bad_directive_value(nginx_t, directive, message):
    expect_refused(nginx_t, conf(nginx_t.port, http=directive), message,
                   at=directive)


@pytest.mark.parametrize("directive,message", [
    ("edugate_session_idle 0;", "must be positive"),
    ("edugate_login_max_failures 0;", "edugate_login_* limits must be "
                                      "positive"),
    ("edugate_login_lockout 10m; edugate_login_lockout_max 1m;",
     "edugate_login_lockout_max at least edugate_login_lockout"),
])
def test_inconsistent_values(nginx_t, directive, message):
    expect_refused(nginx_t, conf(nginx_t.port, http=directive), message)


def test_policy_value_with_comma(nginx_t):
    directive = "edugate_allow_roles teacher,itadmin;"
    expect_refused(nginx_t, conf(nginx_t.port, location=directive),
                   'invalid value "teacher,itadmin"', at=directive)


def test_login_not_allowed_in_server(nginx_t):
    text = conf(nginx_t.port).replace(
        "listen 127.0.0.1:", "edugate_login;\n        listen 127.0.0.1:")
    expect_refused(nginx_t, text,
                   '"edugate_login" directive is not allowed here',
                   at="        edugate_login;")


def test_two_handlers_in_one_location(nginx_t):
    text = conf(nginx_t.port).replace(
        "location = /edugate/login { edugate_login; }",
        "location = /edugate/login { edugate_login; edugate_logout; }")
    expect_refused(nginx_t, text, '"edugate_logout" directive is duplicate',
                   at="edugate_login; edugate_logout;")
