/*
 * Pins the code-table loader: CSV with quotes, header-named columns,
 * the scheme taken from the file name, history rows picked by date,
 * refused duplicates and malformed rows, and the shipped and generated
 * tables themselves (sizes, key facts, GB/T 2260 levels and parents).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "std_support.h"


#define LOAD(c, name, text, err)                                            \
    eg_codes_load_buf(c, name, text, sizeof(text) - 1, err, sizeof(err))


static void
test_csv(void **state)
{
    char              err[256];
    eg_codes_t       *c;
    const eg_code_t  *row;

    static const char  text[] =
        "\xef\xbb\xbf" "code,name,note,source\r\n"
        "A1,\"Korea, Republic of\",x,\"say \"\"hi\"\"\"\r\n"
        "\r\n"
        "B2,\"two\nlines\",,s\n";

    (void) state;

    c = eg_codes_new();
    assert_non_null(c);
    assert_int_equal(LOAD(c, "demo", text, err), 0);
    assert_int_equal(eg_codes_count(c, "demo"), 2);

    row = eg_codes_find(c, "demo", "A1", NULL);
    assert_non_null(row);
    assert_string_equal(row->name, "Korea, Republic of");
    assert_string_equal(row->source, "say \"hi\"");
    assert_string_equal(row->scheme, "demo");
    assert_string_equal(row->level, "");

    row = eg_codes_find(c, "demo", "B2", "2024-01-01");
    assert_non_null(row);
    assert_string_equal(row->name, "two\nlines");

    assert_null(eg_codes_find(c, "demo", "C3", NULL));
    assert_null(eg_codes_find(c, "other", "A1", NULL));

    eg_codes_free(c);
}


static void
test_history(void **state)
{
    char              err[256];
    eg_codes_t       *c;
    const eg_code_t  *row;

    /* 419001: 义马市 1987-1990, 济源市 since 1996 */
    static const char  text[] =
        "scheme,code,name,valid_from,valid_to\n"
        "xzqh,419001,义马市,1987-01-01,1990-12-31\n"
        "xzqh,419001,济源市,1996-01-01,\n";

    (void) state;

    c = eg_codes_new();
    assert_int_equal(LOAD(c, "h", text, err), 0);

    row = eg_codes_find(c, "xzqh", "419001", "1988-06-01");
    assert_non_null(row);
    assert_string_equal(row->name, "义马市");

    row = eg_codes_find(c, "xzqh", "419001", "2024-06-01");
    assert_non_null(row);
    assert_string_equal(row->name, "济源市");

    assert_null(eg_codes_find(c, "xzqh", "419001", "1993-01-01"));

    row = eg_codes_find(c, "xzqh", "419001", NULL);
    assert_string_equal(row->name, "济源市");

    eg_codes_free(c);
}


static void
test_refused(void **state)
{
    char         err[256];
    eg_codes_t  *c;

    static const char  dup[] = "scheme,code\nxb,1\nxb,1\n";
    static const char  overlap[] =
        "scheme,code,valid_from,valid_to\n"
        "mz,81,2000-01-01,2010-12-31\nmz,81,2010-01-01,\n";
    static const char  date[] = "scheme,code,valid_to\nxb,1,2020-13\n";
    static const char  order[] =
        "scheme,code,valid_from,valid_to\nxb,1,2020-01-02,2020-01-01\n";
    static const char  quote[] = "scheme,code\nxb,\"1\n";
    static const char  fields[] = "scheme,code\nxb,1,2\n";
    static const char  blank[] = "scheme,code\nxb, 1\n";
    static const char  empty[] = "";
    static char        longdup[5 + 301 + 301 + 1];

    (void) state;

    c = eg_codes_new();

    assert_int_equal(LOAD(c, "dup", dup, err), -1);
    assert_non_null(strstr(err, "duplicate code 1 in xb"));
    assert_non_null(strstr(err, "dup:3"));
    assert_int_equal(LOAD(c, "overlap", overlap, err), -1);
    assert_int_equal(LOAD(c, "date", date, err), -1);
    assert_non_null(strstr(err, "date:2"));
    assert_int_equal(LOAD(c, "order", order, err), -1);
    assert_int_equal(LOAD(c, "quote", quote, err), -1);
    assert_int_equal(LOAD(c, "fields", fields, err), -1);
    assert_int_equal(LOAD(c, "blank", blank, err), -1);
    assert_int_equal(LOAD(c, "empty", empty, err), -1);

    /* a duplicate code longer than err still leaves the place in it */
    memset(longdup, 'B', sizeof(longdup) - 1);
    memcpy(longdup, "code\n", 5);
    longdup[5 + 300] = '\n';
    memcpy(longdup + 5 + 301, longdup + 5, 301);
    assert_int_equal(eg_codes_load_buf(c, "longdup", longdup,
                                       sizeof(longdup) - 1, err,
                                       sizeof(err)), -1);
    assert_non_null(strstr(err, "longdup:3: duplicate code BBB"));

    assert_int_equal(eg_codes_load_file(c, "no/such/file.csv", err,
                                        sizeof(err)), -1);
    assert_int_equal(eg_codes_load_dir(c, "no/such/dir", err, sizeof(err)),
                     -1);

    eg_codes_free(c);
}


static void
test_grow(void **state)
{
    int          i;
    char         err[256], code[16], *text, *p;
    eg_codes_t  *c;

    (void) state;

    /* enough rows to rehash the table several times */
    text = malloc(20000 * 16 + 32);
    assert_non_null(text);
    p = text + sprintf(text, "scheme,code\n");
    for (i = 0; i < 20000; i++) {
        p += sprintf(p, "big,%d\n", i);
    }

    c = eg_codes_new();
    assert_int_equal(eg_codes_load_buf(c, "big", text, strlen(text), err,
                                       sizeof(err)), 0);
    free(text);

    assert_int_equal(eg_codes_count(c, "big"), 20000);
    for (i = 0; i < 20000; i += 997) {
        snprintf(code, sizeof(code), "%d", i);
        assert_non_null(eg_codes_find(c, "big", code, NULL));
    }
    assert_null(eg_codes_find(c, "big", "20000", NULL));

    eg_codes_free(c);
}


static void
test_shipped(void **state)
{
    eg_codes_t       *c;
    const eg_code_t  *row;

    (void) state;

    c = std_codes();

    /* sizes named by the standard */
    assert_int_equal(eg_codes_count(c, "xb"), 4);
    assert_int_equal(eg_codes_count(c, "mz"), 58);
    assert_int_equal(eg_codes_count(c, "zzmm"), 13);
    assert_int_equal(eg_codes_count(c, "sfzjlx"), 12);
    assert_int_equal(eg_codes_count(c, "xsdqzt"), 16);
    assert_int_equal(eg_codes_count(c, "zxxbjlx"), 19);
    assert_int_equal(eg_codes_count(c, "xq"), 4);
    assert_int_equal(eg_codes_count(c, "rkxd"), 10);
    assert_int_equal(eg_codes_count(c, "xz"), 4);
    assert_int_equal(eg_codes_count(c, "ksfs"), 8);
    assert_int_equal(eg_codes_count(c, "ksxz"), 10);

    /* facts the transcriptions got wrong (DATA-STANDARD.md section 3) */
    assert_string_equal(eg_codes_find(c, "xl", "73", NULL)->name,
                        "初中肄业");
    assert_non_null(eg_codes_find(c, "xl", "80", NULL));
    assert_string_equal(eg_codes_find(c, "xz", "2", NULL)->name, "六年制");
    assert_string_equal(eg_codes_find(c, "mz", "05", NULL)->name,
                        "维吾尔族");
    assert_null(eg_codes_find(c, "mz", "5", NULL));

    /* generated: GB/T 2659 from iso-codes, GB/T 2260 from npm */
    assert_true(eg_codes_count(c, "gjdq") >= 249);
    assert_non_null(eg_codes_find(c, "gjdq", "CHN", NULL));
    assert_true(eg_codes_count(c, "xzqh") > 3000);

    row = eg_codes_find(c, "xzqh", "510104", NULL);
    assert_non_null(row);
    assert_string_equal(row->name, "锦江区");
    assert_string_equal(row->level, "county");
    assert_string_equal(row->parent, "510100");

    row = eg_codes_find(c, "xzqh", "419001", NULL);
    assert_string_equal(row->parent, "410000");
    assert_null(eg_codes_find(c, "xzqh", "419000", NULL));

    assert_string_equal(eg_codes_find(c, "xzqh", "441900", NULL)->level,
                        "city");
    assert_false(eg_codes_has_child(c, "xzqh", "441900"));
    assert_true(eg_codes_has_child(c, "xzqh", "510100"));

    /* the history of the revisions: 崇文区 merged into 东城区 in 2010,
       襄樊市 renamed 襄阳市 (same code) in 2010 */
    row = eg_codes_find(c, "xzqh", "110103", NULL);
    assert_non_null(row);
    assert_string_equal(row->name, "崇文区");
    assert_string_equal(row->valid_to, "2009-12-31");
    assert_non_null(eg_codes_find(c, "xzqh", "110103", "2005-06-01"));
    assert_null(eg_codes_find(c, "xzqh", "110103", "2024-06-01"));

    row = eg_codes_find(c, "xzqh", "420600", "2005-06-01");
    assert_non_null(row);
    assert_string_equal(row->name, "襄樊市");
    row = eg_codes_find(c, "xzqh", "420600", "2024-06-01");
    assert_non_null(row);
    assert_string_equal(row->name, "襄阳市");
    assert_string_equal(eg_codes_find(c, "xzqh", "420600", NULL)->name,
                        "襄阳市");

    eg_codes_free(c);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_shipped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
