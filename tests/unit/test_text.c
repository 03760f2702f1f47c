/*
 * Pins UTF-8 validation, control detection, HTML, JSON and log escaping,
 * and the Accept-Language choice between Chinese and English.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_text.h"


#define U(s)  ((const unsigned char *) (s))

/* a literal and its length, embedded NULs included */
#define T(s)  U(s), sizeof(s) - 1


typedef size_t (*escape_len_pt)(const unsigned char *s, size_t n);
typedef size_t (*escape_pt)(unsigned char *dst, const unsigned char *s,
    size_t n);


static void
check_escape(escape_len_pt len_fn, escape_pt fn, const unsigned char *in,
    size_t n, const char *out)
{
    size_t          len;
    unsigned char  *buf;

    len = len_fn(in, n);
    assert_int_equal(len, strlen(out));

    buf = malloc(len + 1);
    assert_non_null(buf);

    assert_int_equal(fn(buf, in, n), len);
    assert_memory_equal(buf, out, len);

    free(buf);
}


static void
test_utf8_valid(void **state)
{
    (void) state;

    assert_true(eg_utf8_valid(T("")));
    assert_true(eg_utf8_valid(T("stu01")));
    assert_true(eg_utf8_valid(T("\0")));
    assert_true(eg_utf8_valid(T("\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e")));
    assert_true(eg_utf8_valid(T("\xc2\x80")));
    assert_true(eg_utf8_valid(T("\xdf\xbf")));
    assert_true(eg_utf8_valid(T("\xe0\xa0\x80")));
    assert_true(eg_utf8_valid(T("\xed\x9f\xbf")));
    assert_true(eg_utf8_valid(T("\xee\x80\x80")));
    assert_true(eg_utf8_valid(T("\xef\xbf\xbf")));
    assert_true(eg_utf8_valid(T("\xf0\x90\x80\x80")));
    assert_true(eg_utf8_valid(T("\xf0\x9f\x98\x80")));
    assert_true(eg_utf8_valid(T("\xf4\x8f\xbf\xbf")));
}


static void
test_utf8_invalid(void **state)
{
    (void) state;

    /* overlong "/" */
    assert_false(eg_utf8_valid(T("\xc0\xaf")));
    assert_false(eg_utf8_valid(T("a\xc0\xaf" "b")));
    assert_false(eg_utf8_valid(T("\xc1\xbf")));
    assert_false(eg_utf8_valid(T("\xe0\x80\xaf")));
    assert_false(eg_utf8_valid(T("\xe0\x9f\xbf")));
    assert_false(eg_utf8_valid(T("\xf0\x80\x80\xaf")));
    assert_false(eg_utf8_valid(T("\xf0\x8f\xbf\xbf")));
    assert_false(eg_utf8_valid(T("\xc0\x80")));

    /* surrogates */
    assert_false(eg_utf8_valid(T("\xed\xa0\x80")));
    assert_false(eg_utf8_valid(T("\xed\xbf\xbf")));

    /* above U+10FFFF */
    assert_false(eg_utf8_valid(T("\xf4\x90\x80\x80")));
    assert_false(eg_utf8_valid(T("\xf5\x80\x80\x80")));
    assert_false(eg_utf8_valid(T("\xf8\x88\x80\x80\x80")));
    assert_false(eg_utf8_valid(T("\xff")));
    assert_false(eg_utf8_valid(T("\xfe")));

    /* stray, missing or wrong continuation bytes */
    assert_false(eg_utf8_valid(T("\x80")));
    assert_false(eg_utf8_valid(T("\xbf")));
    assert_false(eg_utf8_valid(T("\xe5\xbc")));
    assert_false(eg_utf8_valid(T("\xe5\xbc" "a")));
    assert_false(eg_utf8_valid(T("\xf0\x9f\x98")));
    assert_false(eg_utf8_valid(T("\xc2" "A")));
    assert_false(eg_utf8_valid(T("\xc2\xc2\x80")));
}


static void
test_has_ctl(void **state)
{
    (void) state;

    assert_false(eg_has_ctl(T("")));
    assert_false(eg_has_ctl(T("alice smith ~")));
    assert_false(eg_has_ctl(T("\xe5\xbc\xa0\x80\xff")));
    assert_true(eg_has_ctl(T("a\tb")));
    assert_true(eg_has_ctl(T("alice\r\nFAKE")));
    assert_true(eg_has_ctl(T("a\0")));
    assert_true(eg_has_ctl(T("\x1b[31m")));
    assert_true(eg_has_ctl(T("\x1f")));
    assert_true(eg_has_ctl(T("\x7f")));
}


static void
test_html_escape(void **state)
{
    (void) state;

    check_escape(eg_html_escape_len, eg_html_escape,
                 T("<a href=\"x\">'&'</a>"),
                 "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");

    check_escape(eg_html_escape_len, eg_html_escape,
                 T("<script>alert(1)</script>"),
                 "&lt;script&gt;alert(1)&lt;/script&gt;");

    check_escape(eg_html_escape_len, eg_html_escape,
                 T("\xe5\xbc\xa0 &amp;"), "\xe5\xbc\xa0 &amp;amp;");

    check_escape(eg_html_escape_len, eg_html_escape, T(""), "");
}


static void
test_json_escape(void **state)
{
    (void) state;

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("a\"b\\c/d"), "a\\\"b\\\\c/d");

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("\x01\x1f\x7f\0"), "\\u0001\\u001f\\u007f\\u0000");

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e"),
                 "\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e");

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
}


static void
test_json_escape_invalid_utf8(void **state)
{
    (void) state;

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("a\xff" "b"), "a\\ufffdb");

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("\xc0\xaf"), "\\ufffd\\ufffd");

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("\xe5\xbc"), "\\ufffd\\ufffd");

    check_escape(eg_json_escape_len, eg_json_escape,
                 T("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
}


static void
test_log_escape(void **state)
{
    (void) state;

    check_escape(eg_log_escape_len, eg_log_escape,
                 T("alice\r\nFAKE ok"), "alice\\x0d\\x0aFAKE ok");

    check_escape(eg_log_escape_len, eg_log_escape,
                 T("plain ASCII ~!@#$%^&*()"), "plain ASCII ~!@#$%^&*()");

    check_escape(eg_log_escape_len, eg_log_escape,
                 T("\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e"),
                 "\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e");

    check_escape(eg_log_escape_len, eg_log_escape,
                 T("\t\x1b[2J\x7f\0"), "\\x09\\x1b[2J\\x7f\\x00");

    check_escape(eg_log_escape_len, eg_log_escape,
                 T("a\xff\xc0\xaf"), "a\\xff\\xc0\\xaf");
}


static void
test_log_escape_cannot_forge(void **state)
{
    (void) state;

    /* a literal "\x0a" typed by a user must not read like our escape */
    check_escape(eg_log_escape_len, eg_log_escape,
                 T("a\\x0ab"), "a\\x5cx0ab");

    check_escape(eg_log_escape_len, eg_log_escape,
                 T("alice\", client: 10.0.0.1"),
                 "alice\\x22, client: 10.0.0.1");

    /* C1 controls (U+0085 NEL, U+009B CSI) are escaped, U+00A0 is not */
    check_escape(eg_log_escape_len, eg_log_escape,
                 T("\xc2\x85\xc2\x9b\xc2\xa0"),
                 "\\xc2\\x85\\xc2\\x9b\xc2\xa0");
}


static void
check_lang(const char *s, int en)
{
    assert_int_equal(eg_lang_prefers_en(U(s), strlen(s)), en);
}


static void
test_lang_basic(void **state)
{
    (void) state;

    assert_int_equal(eg_lang_prefers_en(NULL, 0), 0);
    check_lang("", 0);
    check_lang("en", 1);
    check_lang("EN-gb", 1);
    check_lang("en-US", 1);
    check_lang("zh", 0);
    check_lang("zh-CN", 0);
    check_lang("zh-Hans-CN", 0);
    check_lang("fr", 0);
    check_lang("eng", 0);
    check_lang("english", 0);
    check_lang("zha, en;q=0.1", 1);
}


static void
test_lang_qvalues(void **state)
{
    (void) state;

    check_lang("en-US,en;q=0.9,zh;q=0.8", 1);
    check_lang("zh-CN,zh;q=0.9,en;q=0.8", 0);
    check_lang("zh;q=0.5, en;q=0.8", 1);
    check_lang("en;q=0.1, zh;q=0.2", 0);
    check_lang("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7,zh;q=0.6", 1);
    check_lang("fr, en;q=0.1", 1);
    check_lang("en;q=0", 0);
    check_lang("en;q=0.000", 0);
    check_lang("en;q=0, zh;q=0", 0);
    check_lang("zh;q=0, en;q=0.001", 1);
    check_lang("zh;q=1.000, en;q=0.999", 0);
    check_lang("en;q=1.0, zh;q=0.99", 1);
    check_lang("zh-TW;q=0.1 , en-US ; q=0.2", 1);
    check_lang("en;level=1", 1);
    check_lang("en;level=1;q=0.7, zh;q=0.6", 1);
    check_lang("zh;Q=0.1, en;Q=0.2", 1);
}


static void
test_lang_ties_go_first(void **state)
{
    (void) state;

    check_lang("en;q=0.5,zh;q=0.5", 1);
    check_lang("zh;q=0.5,en;q=0.5", 0);
    check_lang("en, zh", 1);
    check_lang("zh, en", 0);
    check_lang("en-GB;q=0.5, zh;q=0.8, en;q=0.8", 0);
}


static void
test_lang_wildcard(void **state)
{
    (void) state;

    check_lang("*", 0);
    check_lang("zh;q=0.1, *;q=0.5", 1);
    check_lang("*;q=0.5, zh;q=0.5", 1);
    check_lang("en;q=0.1, *;q=0.5", 0);
    check_lang("*, en;q=0", 0);
}


static void
test_lang_malformed(void **state)
{
    (void) state;

    /* a malformed item is ignored, never taken as q=1 */
    check_lang("en;q=abc, zh;q=0.1", 0);
    check_lang("en;q=1.5, zh;q=0.1", 0);
    check_lang("en;q=2, zh;q=0.1", 0);
    check_lang("en;q=0.9999, zh;q=0.1", 0);
    check_lang("en;q=-1, zh;q=0.1", 0);
    check_lang("en;q=, zh;q=0.1", 0);
    check_lang("en junk, zh;q=0.1", 0);
    check_lang(",,, ;q=1, en", 1);
    check_lang(";;;", 0);
    assert_int_equal(eg_lang_prefers_en(T("en\0")), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_has_ctl),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_escape_invalid_utf8),
        cmocka_unit_test(test_log_escape),
        cmocka_unit_test(test_log_escape_cannot_forge),
        cmocka_unit_test(test_lang_basic),
        cmocka_unit_test(test_lang_qvalues),
        cmocka_unit_test(test_lang_ties_go_first),
        cmocka_unit_test(test_lang_wildcard),
        cmocka_unit_test(test_lang_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
