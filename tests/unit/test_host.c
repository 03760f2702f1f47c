/*
 * Pins the host side of a plugin call: what names and values a plugin may
 * set upstream (reserved headers, our own headers and cookies, control
 * characters refused), that only declared names are accepted from the
 * identity hook, that client copies of those names are stripped however
 * they are encoded, the per-call memory budget, the digest and encoding
 * helpers of the host table, and the pairwise id derivation.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_host.h"
#include "eg_plugin.h"


static const char *const  headers[] = { "X-Vendor-User", NULL };
static const char *const  args[] = { "vu", NULL };
static const char *const  cookies[] = { "vu", NULL };


static eg_plugin_t *
fake_plugin(void)
{
    eg_plugin_t  *p;

    p = calloc(1, sizeof(eg_plugin_t));
    assert_non_null(p);

    strcpy(p->name, "vendor");
    eg_host_fill(&p->host.pub);
    p->host.plugin = p;
    p->about.identity_headers = headers;
    p->about.identity_args = args;
    p->about.identity_cookies = cookies;

    return p;
}


static void
test_header_names(void **state)
{
    (void) state;

    assert_true(eg_header_name_ok("X-SmartCampus-Sign"));
    assert_true(eg_header_name_ok("Authorization"));
    assert_false(eg_header_name_ok(""));
    assert_false(eg_header_name_ok("Host"));
    assert_false(eg_header_name_ok("content-length"));
    assert_false(eg_header_name_ok("Transfer-Encoding"));
    assert_false(eg_header_name_ok("Cookie"));
    assert_false(eg_header_name_ok("X-Edugate-User"));
    assert_false(eg_header_name_ok("x_edugate_user"));
    assert_false(eg_header_name_ok("X Vendor"));
    assert_false(eg_header_name_ok("X-Vendor:"));
    assert_false(eg_header_name_ok("X-Vendor\r\nX"));
}


static void
test_values(void **state)
{
    char  big[EG_VALUE_MAX + 2];

    (void) state;

    assert_true(eg_header_value_ok("u_88213"));
    assert_true(eg_header_value_ok("a b\tc"));
    assert_false(eg_header_value_ok("a\r\nX-Forged: 1"));
    assert_false(eg_header_value_ok("\xe6\x9d\x8e"));
    assert_false(eg_header_value_ok(NULL));

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_false(eg_header_value_ok(big));

    assert_true(eg_cookie_value_ok("abc-123_.~"));
    assert_false(eg_cookie_value_ok("a b"));
    assert_false(eg_cookie_value_ok("a;b"));
    assert_false(eg_cookie_value_ok("\"a\""));

    assert_true(eg_cookie_name_ok("yj_sess"));
    assert_false(eg_cookie_name_ok("edugate_session"));
    assert_false(eg_cookie_name_ok("EduGate_csrf"));

    assert_true(eg_arg_name_ok("yj_token"));
    assert_false(eg_arg_name_ok("yj token"));
    assert_false(eg_arg_name_ok("a&b"));
}


static void
test_identity_outputs(void **state)
{
    eg_call_t                *c;
    eg_plugin_t              *p;
    const edugate_host_t     *h;

    (void) state;

    p = fake_plugin();
    h = &p->host.pub;

    c = eg_call_new(p, "identity", EG_OUT_IDENTITY);
    assert_non_null(c);

    assert_int_equal(h->set_header(c, "x-vendor-user", "u1"), EDUGATE_OK);
    assert_int_equal(h->set_header(c, "X-Vendor-User", "u2"), EDUGATE_OK);
    assert_string_equal(c->headers->value, "u2");
    assert_null(c->headers->next);

    assert_int_equal(h->set_arg(c, "vu", "a b&c"), EDUGATE_OK);
    assert_int_equal(h->set_cookie(c, "vu", "u2"), EDUGATE_OK);
    assert_string_equal(c->error, "");

    assert_int_equal(h->set_header(c, "X-Other", "1"), EDUGATE_NOT_ALLOWED);
    assert_non_null(strstr(c->error, "X-Other"));

    eg_call_free(c);

    c = eg_call_new(p, "identity", EG_OUT_IDENTITY);
    assert_int_equal(h->set_header(c, "X-Vendor-User", "a\nb"),
                     EDUGATE_INVALID);
    assert_int_equal(h->set_cookie(c, "vu", "a;b"), EDUGATE_INVALID);
    assert_int_equal(h->set_path(c, "GET", "/x"), EDUGATE_NOT_ALLOWED);
    eg_call_free(c);

    free(p);
}


static void
test_request_outputs(void **state)
{
    eg_call_t             *c;
    eg_plugin_t           *p;
    const edugate_host_t  *h;

    (void) state;

    p = fake_plugin();
    h = &p->host.pub;

    c = eg_call_new(p, "to_vendor", EG_OUT_REQUEST);

    assert_int_equal(h->set_path(c, "GET", "/api/v2/roster"), EDUGATE_OK);
    assert_string_equal(c->path, "/api/v2/roster");
    assert_int_equal(h->set_path(c, "DELETE", "/x"), EDUGATE_INVALID);
    assert_int_equal(h->set_path(c, "GET", "api"), EDUGATE_INVALID);
    assert_int_equal(h->set_path(c, "GET", "/a/../b"), EDUGATE_INVALID);
    assert_int_equal(h->set_path(c, "GET", "/a/.."), EDUGATE_INVALID);
    assert_int_equal(h->set_path(c, "GET", "/a?b=1"), EDUGATE_INVALID);
    assert_int_equal(h->set_path(c, "GET", "/a b"), EDUGATE_INVALID);

    /* any well-formed name goes to the vendor, not only declared ones */
    assert_int_equal(h->set_arg(c, "page", "1"), EDUGATE_OK);
    assert_int_equal(h->set_cookie(c, "vu", "1"), EDUGATE_NOT_ALLOWED);

    eg_call_free(c);
    free(p);
}


static void
check_query(const char *in, const char *want)
{
    char    out[256];
    size_t  n;

    n = eg_query_strip(out, in, strlen(in), args);
    out[n] = '\0';
    assert_string_equal(out, want);
}


static void
test_query_strip(void **state)
{
    (void) state;

    check_query("", "");
    check_query("vu=x", "");
    check_query("a=1&vu=x&b=2", "a=1&b=2");
    check_query("VU=x&a=1", "a=1");
    check_query("%76u=x&a=1", "a=1");
    check_query("%76%55=x", "");
    check_query("vu&a", "a");
    check_query("a=1&&vu=2&", "a=1");
    check_query("vuu=1&v=2", "vuu=1&v=2");
    check_query("%7=1&%=2", "%7=1&%=2");
}


static void
check_cookie(const char *in, const char *want)
{
    char    out[512];
    size_t  n;

    n = eg_cookie_strip(out, in, strlen(in), cookies);
    out[n] = '\0';
    assert_string_equal(out, want);
}


static void
test_cookie_strip(void **state)
{
    (void) state;

    check_cookie("", "");
    check_cookie("vu=x", "");
    check_cookie("a=1; vu=x; b=2", "a=1; b=2");
    check_cookie("a=1;vu=x;b=2", "a=1; b=2");
    check_cookie("VU=x;a=1", "a=1");
    check_cookie("vu =x; a=1", "a=1");
    check_cookie(" ; ;a=1", "a=1");
    check_cookie("vuu=1", "vuu=1");
}


static void
test_budget(void **state)
{
    eg_call_t    *c;
    eg_plugin_t  *p;

    (void) state;

    p = fake_plugin();
    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);

    c->budget = 1000;

    assert_non_null(eg_call_alloc(c, 600));
    assert_null(eg_call_alloc(c, 600));
    assert_non_null(strstr(c->error, "budget"));
    assert_non_null(eg_call_alloc(c, 400));
    assert_null(eg_call_alloc(c, 1));

    eg_call_free(c);
    free(p);
}


static void
test_helpers(void **state)
{
    char                  *s;
    eg_call_t             *c;
    eg_plugin_t           *p;
    unsigned char          md[32];
    const edugate_host_t  *h;

    static const char  *argv[] = { "secret=abc=def", "tenant=x", "flag" };

    (void) state;

    p = fake_plugin();
    h = &p->host.pub;
    c = eg_call_new(p, "identity", EG_OUT_IDENTITY);

    assert_int_equal(h->hmac_sha256("key", 3,
                                    "The quick brown fox jumps over the lazy "
                                    "dog", 43, md), EDUGATE_OK);
    s = h->hex(c, md, sizeof(md));
    assert_string_equal(s, "f7bc83f430538424b13298e6aa6fb143"
                           "ef4d59a14946175997479dbc2d1a3cd8");

    assert_int_equal(h->sha256("abc", 3, md), EDUGATE_OK);
    assert_string_equal(h->hex(c, md, 4), "ba7816bf");

    assert_string_equal(h->base64(c, "\xfb\xff", 2, 0), "+/8=");
    assert_string_equal(h->base64(c, "\xfb\xff", 2, EDUGATE_B64_NOPAD),
                        "+/8");
    assert_string_equal(h->base64(c, "\xfb\xff", 2, EDUGATE_B64_URL),
                        "-_8=");
    assert_string_equal(h->base64(c, "\xfb\xff", 2,
                                  EDUGATE_B64_URL | EDUGATE_B64_NOPAD),
                        "-_8");
    assert_string_equal(h->base64(c, "", 0, 0), "");

    assert_string_equal(h->sprintf(c, "%s|%d", "u", 42), "u|42");
    assert_string_equal(h->strndup(c, "abcdef", 3), "abc");

    assert_string_equal(h->arg(3, argv, "secret"), "abc=def");
    assert_string_equal(h->arg(3, argv, "tenant"), "x");
    assert_null(h->arg(3, argv, "flag"));
    assert_null(h->arg(3, argv, "sec"));

    /* state memory exists only while init() runs */
    assert_null(h->state_alloc(h, 16));

    eg_call_free(c);
    free(p);
}


static void
test_pairwise(void **state)
{
    char                 a[EG_PAIRWISE_LEN + 1], b[EG_PAIRWISE_LEN + 1];
    static const char    secret[] = "0123456789abcdef-demo";

    (void) state;

    assert_int_equal(eg_pairwise_id((const unsigned char *) secret,
                                    sizeof(secret) - 1, "smartcampus",
                                    "stu02", a), 0);
    assert_string_equal(a, "5726bf039e9d18a9a986d49c8a4d2c16");

    assert_int_equal(eg_pairwise_id((const unsigned char *) secret,
                                    sizeof(secret) - 1, "yuejuan", "stu02",
                                    b), 0);
    assert_string_equal(b, "433d4eb79ed9007d7bb4d0e4f2190417");
}


static void
test_vendor_uid(void **state)
{
    char  big[130];

    (void) state;

    assert_true(eg_vendor_uid_ok((const unsigned char *) "u_88213", 7));
    assert_false(eg_vendor_uid_ok((const unsigned char *) "", 0));
    assert_false(eg_vendor_uid_ok((const unsigned char *) "a b", 3));
    assert_false(eg_vendor_uid_ok((const unsigned char *) "a\r\n", 3));
    assert_false(eg_vendor_uid_ok((const unsigned char *) "\xe6\x9d\x8e",
                                  3));

    memset(big, 'a', sizeof(big));
    assert_true(eg_vendor_uid_ok((unsigned char *) big, 128));
    assert_false(eg_vendor_uid_ok((unsigned char *) big, 129));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_header_names),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_identity_outputs),
        cmocka_unit_test(test_request_outputs),
        cmocka_unit_test(test_query_strip),
        cmocka_unit_test(test_cookie_strip),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_pairwise),
        cmocka_unit_test(test_vendor_uid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
