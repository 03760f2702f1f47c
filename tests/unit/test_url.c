/*
 * Pins which return targets may be redirected to (no open redirect through
 * any parser trick) and the percent-encoding of header values.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_url.h"


#define U(s)  ((const unsigned char *) (s))

/* a literal and its length, embedded NULs included */
#define T(s)  U(s), sizeof(s) - 1

#define HOST(s)  { sizeof(s) - 1, U(s) }


static const eg_str_t  hosts[] = {
    HOST("good.example"),
    HOST("App.Example:8443"),
};

#define NHOSTS  (sizeof(hosts) / sizeof(hosts[0]))


/* checks through an exact-size heap copy, for the sanitizer */

static int
url_ok_n(const char *url, size_t n)
{
    int             rc;
    unsigned char  *copy;

    copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, url, n);

    rc = eg_return_url_ok(copy, n, hosts, NHOSTS);

    free(copy);

    return rc;
}


static int
url_ok(const char *url)
{
    return url_ok_n(url, strlen(url));
}


static void
test_relative_paths(void **state)
{
    (void) state;

    assert_true(url_ok("/"));
    assert_true(url_ok("/apps/echo/"));
    assert_true(url_ok("/apps/echo/?a=1&b=%2F#frag"));
    assert_true(url_ok("/a/b%2f%2fevil.com"));
    assert_true(url_ok("/./x"));
    assert_true(url_ok("/?//evil.com"));
    assert_true(url_ok("/a//b"));
}


static void
test_relative_refused(void **state)
{
    (void) state;

    assert_false(url_ok(""));
    assert_false(url_ok("//evil.com"));
    assert_false(url_ok("///evil.com"));
    assert_false(url_ok("//good.example/"));
    assert_false(url_ok("/\\evil"));
    assert_false(url_ok("/\\/evil.com"));
    assert_false(url_ok("\\\\evil.com"));
    assert_false(url_ok("\\/evil.com"));
    assert_false(url_ok("/apps\\..\\x"));
    assert_false(url_ok("apps/echo/"));
    assert_false(url_ok("evil.com"));
    assert_false(url_ok("?next=/"));
    assert_false(url_ok("#x"));
    assert_false(url_ok(".//evil.com"));
}


static void
test_controls_and_spaces_refused(void **state)
{
    (void) state;

    assert_false(url_ok("/\t/evil.com"));
    assert_false(url_ok("\t//evil.com"));
    assert_false(url_ok("/\r\nSet-Cookie: x=y"));
    assert_false(url_ok("/a\rb"));
    assert_false(url_ok("/a\nb"));
    assert_false(url_ok("/a b"));
    assert_false(url_ok(" /x"));
    assert_false(url_ok("/x "));
    assert_false(url_ok("/x\x7f"));
    assert_false(url_ok("/x\x1b"));
    assert_false(url_ok_n("/a\0b", 4));
    assert_false(url_ok_n("/\0/evil.com", 11));
    assert_false(url_ok("/\xe3\x80\x82" "evil.com"));
    assert_false(url_ok("https://good.example/\t"));
    assert_false(url_ok("https:/\t/good.example/"));
    assert_false(url_ok("https://good.example\r\n/"));
}


static void
test_absolute_allowed(void **state)
{
    (void) state;

    assert_true(url_ok("https://good.example/x"));
    assert_true(url_ok("https://good.example"));
    assert_true(url_ok("http://good.example/"));
    assert_true(url_ok("https://GOOD.example/x"));
    assert_true(url_ok("HTTPS://good.EXAMPLE?x=1"));
    assert_true(url_ok("HtTp://good.example#frag"));
    assert_true(url_ok("https://good.example/path@with-at"));
    assert_true(url_ok("https://good.example?u=a@b"));
    assert_true(url_ok("https://good.example#@evil.com"));
    assert_true(url_ok("https://app.example:8443/portal"));
}


static void
test_absolute_refused(void **state)
{
    (void) state;

    assert_false(url_ok("https://good@evil"));
    assert_false(url_ok("https://good.example@evil.com/"));
    assert_false(url_ok("https://evil.com@good.example/"));
    assert_false(url_ok("https://a:b@good.example/"));
    assert_false(url_ok("http://good.example.evil.com"));
    assert_false(url_ok("https://good.example.evil.com/"));
    assert_false(url_ok("https://evilgood.example/"));
    assert_false(url_ok("https://evil.com/good.example"));
    assert_false(url_ok("https://evil.com?good.example"));
    assert_false(url_ok("https://evil.com#good.example"));
    assert_false(url_ok("https://good.example./"));
    assert_false(url_ok("https://good%2eexample/"));
    assert_false(url_ok("https://good.example%2F@evil.com"));
    assert_false(url_ok("https://good.example\\@evil.com"));
    assert_false(url_ok("https://good.example:443/"));
    assert_false(url_ok("https://app.example/"));
    assert_false(url_ok("https://app.example:8444/"));
    assert_false(url_ok("https://[::1]/"));
}


static void
test_schemes_refused(void **state)
{
    (void) state;

    assert_false(url_ok("javascript:alert(1)"));
    assert_false(url_ok("JaVaScRiPt:alert(1)"));
    assert_false(url_ok("javascript://good.example/%0aalert(1)"));
    assert_false(url_ok("data:text/html,<script>alert(1)</script>"));
    assert_false(url_ok("vbscript:msgbox(1)"));
    assert_false(url_ok("ftp://good.example/"));
    assert_false(url_ok("httpx://good.example/"));
    assert_false(url_ok("xhttp://good.example/"));
    assert_false(url_ok("https:good.example"));
    assert_false(url_ok("https:/good.example"));
    assert_false(url_ok("https:///good.example"));
    assert_false(url_ok("https://"));
    assert_false(url_ok("https://?x"));
    assert_false(url_ok("https:"));
    assert_false(url_ok(":https://good.example"));
}


static void
test_no_hosts_configured(void **state)
{
    (void) state;

    assert_true(eg_return_url_ok(T("/apps/"), NULL, 0));
    assert_false(eg_return_url_ok(T("https://good.example/"), NULL, 0));
}


static void
test_userinfo_refused_whatever_the_list(void **state)
{
    static const eg_str_t  odd[] = { HOST("user@good.example") };

    (void) state;

    assert_false(eg_return_url_ok(T("https://user@good.example/"), odd, 1));
}


static void
check_encode(const unsigned char *in, size_t n, const char *out)
{
    size_t          len;
    unsigned char  *buf;

    len = eg_percent_encode_len(in, n);
    assert_int_equal(len, strlen(out));

    buf = malloc(len + 1);
    assert_non_null(buf);

    assert_int_equal(eg_percent_encode(buf, in, n), len);
    assert_memory_equal(buf, out, len);

    free(buf);
}


static void
test_percent_encode(void **state)
{
    (void) state;

    check_encode(T(""), "");
    check_encode(T("AZaz09-._~"), "AZaz09-._~");
    check_encode(T("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
    check_encode(T("%+"), "%25%2B");
    check_encode(T("\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e"),
                 "%E5%BC%A0%E5%B0%8F%E6%98%8E");
    check_encode(T("\r\n\0\x7f\xff"), "%0D%0A%00%7F%FF");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_relative_refused),
        cmocka_unit_test(test_controls_and_spaces_refused),
        cmocka_unit_test(test_absolute_allowed),
        cmocka_unit_test(test_absolute_refused),
        cmocka_unit_test(test_schemes_refused),
        cmocka_unit_test(test_no_hosts_configured),
        cmocka_unit_test(test_userinfo_refused_whatever_the_list),
        cmocka_unit_test(test_percent_encode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
