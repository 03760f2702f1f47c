/*
 * Pins the nginx-free half of the outbound HTTP client: which target URLs
 * are accepted and how they are taken apart, the request head it sends,
 * and how it reads answers: status line, Content-Length, chunked coding,
 * a body that ends with the connection, interim 1xx answers, and answers
 * that are cut short or are not HTTP at all.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_http.h"


#define U(s)  ((const unsigned char *) (s))


static const char *
parse(eg_http_url_t *u, const char *url)
{
    return eg_http_url_parse(u, U(url), strlen(url));
}


static void
assert_part(const unsigned char *p, size_t n, const char *want)
{
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
}


static void
test_url_parts(void **state)
{
    eg_http_url_t  u;

    (void) state;

    assert_null(parse(&u, "http://127.0.0.1:8082/cas-app/logout?x=1"));
    assert_false(u.https);
    assert_true(u.ip_literal);
    assert_int_equal(u.port, 8082);
    assert_part(u.authority, u.authority_len, "127.0.0.1:8082");
    assert_part(u.host, u.host_len, "127.0.0.1");
    assert_part(u.target, u.target_len, "/cas-app/logout?x=1");

    assert_null(parse(&u, "https://lms.school.example"));
    assert_true(u.https);
    assert_false(u.ip_literal);
    assert_int_equal(u.port, 0);
    assert_part(u.host, u.host_len, "lms.school.example");
    assert_int_equal(u.target_len, 0);

    assert_null(parse(&u, "https://a.example?q=1"));
    assert_part(u.authority, u.authority_len, "a.example");
    assert_part(u.target, u.target_len, "?q=1");

    assert_null(parse(&u, "https://[::1]:8443/pgt"));
    assert_true(u.ip_literal);
    assert_int_equal(u.port, 8443);
    assert_part(u.authority, u.authority_len, "[::1]:8443");
    assert_part(u.host, u.host_len, "::1");

    assert_null(parse(&u, "http://[fe80::1]/"));
    assert_int_equal(u.port, 0);

    /* a name that looks almost like an address is a name */
    assert_null(parse(&u, "http://127.0.0.1.example/"));
    assert_false(u.ip_literal);
}


static void
test_url_refused(void **state)
{
    eg_http_url_t  u;
    char           big[EG_HTTP_URL_MAX + 2];

    (void) state;

    assert_non_null(parse(&u, ""));
    assert_non_null(parse(&u, "ftp://a/"));
    assert_non_null(parse(&u, "HTTP://a/"));
    assert_non_null(parse(&u, "//a/"));
    assert_non_null(parse(&u, "http://"));
    assert_non_null(parse(&u, "http:///x"));
    assert_non_null(parse(&u, "http://:80/x"));
    assert_non_null(parse(&u, "http://u:p@a/"));
    assert_non_null(parse(&u, "http://a@b/"));
    assert_non_null(parse(&u, "http://a/#x"));
    assert_non_null(parse(&u, "http://a\\b/"));
    assert_non_null(parse(&u, "http://a/ b"));
    assert_non_null(parse(&u, "http://a/\r\nHost: b"));
    assert_non_null(parse(&u, "http://a/\xc3\xa9"));
    assert_non_null(parse(&u, "http://a:/"));
    assert_non_null(parse(&u, "http://a:0/"));
    assert_non_null(parse(&u, "http://a:65536/"));
    assert_non_null(parse(&u, "http://a:99999999999/"));
    assert_non_null(parse(&u, "http://a:8x/"));
    assert_non_null(parse(&u, "http://a:1:2/"));
    assert_non_null(parse(&u, "http://a_b/"));
    assert_non_null(parse(&u, "http://a%2eb/"));
    assert_non_null(parse(&u, "http://[::1/"));
    assert_non_null(parse(&u, "http://[nonsense]/"));
    assert_non_null(parse(&u, "http://[::1]x/"));
    assert_non_null(eg_http_url_parse(&u, U("http://a/\0"), 10));

    memcpy(big, "http://a/", 9);
    memset(big + 9, 'x', sizeof(big) - 9);
    assert_null(eg_http_url_parse(&u, U(big), EG_HTTP_URL_MAX));
    assert_non_null(eg_http_url_parse(&u, U(big), EG_HTTP_URL_MAX + 1));
}


static void
test_target(void **state)
{
    (void) state;

    assert_true(eg_http_target_ok(U("/"), 1));
    assert_true(eg_http_target_ok(U("/a/b?c=d&e"), 10));

    assert_false(eg_http_target_ok(U(""), 0));
    assert_false(eg_http_target_ok(U("a/b"), 3));
    assert_false(eg_http_target_ok(U("?x"), 2));
    assert_false(eg_http_target_ok(U("/a b"), 4));
    assert_false(eg_http_target_ok(U("/a\r\nX: y"), 8));
    assert_false(eg_http_target_ok(U("/a#f"), 4));
    assert_false(eg_http_target_ok(U("/a\\b"), 4));
    assert_false(eg_http_target_ok(U("/\x80"), 2));
}


static void
test_head(void **state)
{
    size_t          n;
    unsigned char  *buf;
    const char     *want;

    (void) state;

    buf = malloc(eg_http_head_len(4, 6, 14, 33));
    assert_non_null(buf);

    n = eg_http_head(buf, "POST", U("/a?b=c"), 6, U("127.0.0.1:8082"), 14,
                     U("application/x-www-form-urlencoded"), 33, 1234);
    assert_true(n <= eg_http_head_len(4, 6, 14, 33));

    want = "POST /a?b=c HTTP/1.1\r\n"
           "Host: 127.0.0.1:8082\r\n"
           "User-Agent: EduGate\r\n"
           "Accept: */*\r\n"
           "Connection: close\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: 1234\r\n"
           "\r\n";
    assert_part(buf, n, want);
    free(buf);

    /* no body: no Content-Type nor Content-Length; "?..." gets its "/" */

    buf = malloc(eg_http_head_len(3, 4, 9, 0));
    assert_non_null(buf);

    n = eg_http_head(buf, "GET", U("?x=1"), 4, U("a.example"), 9, NULL, 0,
                     (size_t) -1);
    assert_true(n <= eg_http_head_len(3, 4, 9, 0));

    want = "GET /?x=1 HTTP/1.1\r\n"
           "Host: a.example\r\n"
           "User-Agent: EduGate\r\n"
           "Accept: */*\r\n"
           "Connection: close\r\n"
           "\r\n";
    assert_part(buf, n, want);
    free(buf);

    /* an empty POST: its length, and no empty Content-Type */

    buf = malloc(eg_http_head_len(4, 1, 9, 0));
    assert_non_null(buf);

    n = eg_http_head(buf, "POST", U("/"), 1, U("a.example"), 9, NULL, 0, 0);
    assert_true(n <= eg_http_head_len(4, 1, 9, 0));

    want = "POST / HTTP/1.1\r\n"
           "Host: a.example\r\n"
           "User-Agent: EduGate\r\n"
           "Accept: */*\r\n"
           "Connection: close\r\n"
           "Content-Length: 0\r\n"
           "\r\n";
    assert_part(buf, n, want);
    free(buf);
}


/* the response through an exact-size heap copy, for the sanitizer */

typedef struct {
    eg_http_rc_e         rc;
    eg_http_response_t   r;
    unsigned char       *copy;
} answer_t;


static answer_t
answer(const char *text, size_t n, int eof)
{
    answer_t  a;

    a.copy = malloc(n ? n : 1);
    assert_non_null(a.copy);
    memcpy(a.copy, text, n);

    a.rc = eg_http_response(&a.r, a.copy, n, eof);

    return a;
}


static void
check(const char *text, int eof, eg_http_rc_e rc, int status,
    const char *body, int truncated)
{
    answer_t  a;

    a = answer(text, strlen(text), eof);

    assert_int_equal(a.rc, rc);

    if (rc == EG_HTTP_DONE) {
        assert_int_equal(a.r.status, status);
        assert_part(a.r.body, a.r.body_len, body);
        assert_int_equal(a.r.truncated, truncated);
    }

    if (rc == EG_HTTP_BAD) {
        assert_non_null(a.r.error);
    }

    free(a.copy);
}


static void
test_content_length(void **state)
{
    (void) state;

    check("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0,
          EG_HTTP_DONE, 200, "hello", 0);
    check("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 0,
          EG_HTTP_AGAIN, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 1,
          EG_HTTP_DONE, 200, "hel", 1);
    check("HTTP/1.0 404 Not Found\r\ncontent-length:  2 \r\n\r\nnoEXTRA", 0,
          EG_HTTP_DONE, 404, "no", 0);
    check("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0,
          EG_HTTP_DONE, 200, "", 0);

    /* the same length twice is fine, two lengths are not */
    check("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n"
          "\r\nx", 0, EG_HTTP_DONE, 200, "x", 0);
    check("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
          "\r\nxy", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0,
          EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 0,
          EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n", 0,
          EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0,
          EG_HTTP_BAD, 0, NULL, 0);
}


static void
test_until_close_and_no_body(void **state)
{
    (void) state;

    check("HTTP/1.0 200 OK\r\n\r\nall of it", 0, EG_HTTP_AGAIN, 0, NULL, 0);
    check("HTTP/1.0 200 OK\r\n\r\nall of it", 1,
          EG_HTTP_DONE, 200, "all of it", 0);
    check("HTTP/1.1 204 No Content\r\n\r\n", 0, EG_HTTP_DONE, 204, "", 0);
    check("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 0,
          EG_HTTP_DONE, 304, "", 0);

    /* bare LF line ends, no reason phrase */
    check("HTTP/1.1 500\nContent-Length: 2\n\nab", 0,
          EG_HTTP_DONE, 500, "ab", 0);
}


static void
test_chunked(void **state)
{
    (void) state;

    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n", 0,
          EG_HTTP_DONE, 200, "hello, world", 0);
    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
          "A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n", 0,
          EG_HTTP_DONE, 200, "0123456789", 0);

    /* chunked wins over a Content-Length */
    check("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
          "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 0,
          EG_HTTP_DONE, 200, "ok", 0);

    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhel", 0, EG_HTTP_AGAIN, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n0\r\n", 0, EG_HTTP_AGAIN, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n3\r\nwor", 1, EG_HTTP_DONE, 200, "hellowor", 1);

    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "x\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "2\r\nabc\r\n0\r\n\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "1000000000000000\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);

    /* chunked not last: the body ends with the connection */
    check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
          "raw", 1, EG_HTTP_DONE, 200, "raw", 0);
}


static void
test_interim_answers(void **state)
{
    (void) state;

    check("HTTP/1.1 100 Continue\r\n\r\n"
          "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nid", 0,
          EG_HTTP_DONE, 201, "id", 0);
    check("HTTP/1.1 100 Continue\r\n\r\n", 0, EG_HTTP_AGAIN, 0, NULL, 0);
    check("HTTP/1.1 100 Continue\r\n\r\n", 1, EG_HTTP_BAD, 0, NULL, 0);
}


static void
test_not_http(void **state)
{
    (void) state;

    check("", 1, EG_HTTP_BAD, 0, NULL, 0);
    check("", 0, EG_HTTP_AGAIN, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nX: y\r\n", 0, EG_HTTP_AGAIN, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nX: y\r\n", 1, EG_HTTP_BAD, 0, NULL, 0);
    check("SSH-2.0-OpenSSH_9.2\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/2 200\r\n\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 20 OK\r\n\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 2000 OK\r\n\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 600 Odd\r\n\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", 0,
          EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", 0, EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", 0,
          EG_HTTP_BAD, 0, NULL, 0);
    check("HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n", 0,
          EG_HTTP_BAD, 0, NULL, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_url_parts),
        cmocka_unit_test(test_url_refused),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_until_close_and_no_body),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_interim_answers),
        cmocka_unit_test(test_not_http),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
