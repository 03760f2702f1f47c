/*
 * Pins the code-mapping tables: the CSV format (header, quoting, comments,
 * a byte order mark), the refusal of malformed rows with the line named,
 * lookups by table and vendor value, and overrides that replace exactly
 * one table.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_codemap.h"


static const char  csv[] =
    "\xef\xbb\xbf# sex and ethnicity of a vendor\n"
    "table,vendor_value,code,kind\n"
    "sex,F,2,exact\n"
    "sex,M,1,\n"
    "nation,\xe6\xb1\x89\xe6\x97\x8f,01,exact\r\n"
    "nation,\xe6\xb1\x89,01,synonym\n"
    "nation,\"a,b\",05,exact\n"
    "nation,\"say \"\"hi\"\"\",06,exact\n"
    "\n"
    "status,1,,ambiguous\n";


static void
refused(const char *text, const char *only, const char *why)
{
    char           err[512];
    eg_codemap_t  *m;

    m = eg_codemap_new();
    assert_int_equal(eg_codemap_parse(m, text, strlen(text), only, "t.csv",
                                      err, sizeof(err)), -1);
    eg_codemap_free(m);

    if (strstr(err, why) == NULL) {
        fail_msg("\"%s\" not in \"%s\"", why, err);
    }
}


static void
test_parse(void **state)
{
    char                  err[512];
    eg_codemap_t         *m;
    const eg_code_row_t  *r;
    const char *const     tables[] = { "sex", "nation", NULL };

    (void) state;

    m = eg_codemap_new();
    assert_int_equal(eg_codemap_parse(m, csv, sizeof(csv) - 1, NULL, "t.csv",
                                      err, sizeof(err)), 0);

    r = eg_codemap_find(m, "sex", "F");
    assert_non_null(r);
    assert_string_equal(r->code, "2");
    assert_int_equal(r->kind, EG_CODE_EXACT);

    assert_int_equal(eg_codemap_find(m, "sex", "M")->kind, EG_CODE_EXACT);
    assert_null(eg_codemap_find(m, "sex", "f"));
    assert_null(eg_codemap_find(m, "nation", "F"));

    r = eg_codemap_find(m, "nation", "\xe6\xb1\x89");
    assert_string_equal(r->code, "01");
    assert_int_equal(r->kind, EG_CODE_SYNONYM);

    assert_string_equal(eg_codemap_find(m, "nation", "a,b")->code, "05");
    assert_string_equal(eg_codemap_find(m, "nation", "say \"hi\"")->code,
                        "06");

    r = eg_codemap_find(m, "status", "1");
    assert_string_equal(r->code, "");
    assert_int_equal(r->kind, EG_CODE_AMBIGUOUS);

    assert_int_equal(eg_codemap_count(m, "nation"), 4);
    assert_int_equal(eg_codemap_count(m, "none"), 0);
    assert_string_equal(eg_codemap_stray(m, tables), "status");

    eg_codemap_free(m);
}


static void
test_override(void **state)
{
    char           err[512];
    eg_codemap_t  *m;

    static const char  local[] = "table,vendor_value,code,kind\n"
                                 "sex,female,2,\n";

    (void) state;

    m = eg_codemap_new();
    assert_int_equal(eg_codemap_parse(m, csv, sizeof(csv) - 1, NULL, "t.csv",
                                      err, sizeof(err)), 0);
    assert_int_equal(eg_codemap_parse(m, local, sizeof(local) - 1, "sex",
                                      "local.csv", err, sizeof(err)), 0);

    assert_null(eg_codemap_find(m, "sex", "F"));
    assert_string_equal(eg_codemap_find(m, "sex", "female")->code, "2");
    assert_int_equal(eg_codemap_count(m, "sex"), 1);
    assert_int_equal(eg_codemap_count(m, "nation"), 4);

    eg_codemap_free(m);
}


static void
test_refused(void **state)
{
    (void) state;

    refused("sex,F,2,exact\n", NULL, "line 1: the header must be");
    refused("", NULL, "has no header line");
    refused("table,vendor_value,code\n", NULL, "3 columns");
    refused("table,vendor_value,code,kind\nsex,F,2\n", NULL,
            "line 2: 3 columns");
    refused("table,vendor_value,code,kind\nsex,F,2,x,y\n", NULL, "columns");
    refused("table,vendor_value,code,kind\nsex,F,2,maybe\n", NULL,
            "kind \"maybe\"");
    refused("table,vendor_value,code,kind\nsex,F,,exact\n", NULL,
            "no code for \"F\"");
    refused("table,vendor_value,code,kind\nsex,,2,\n", NULL,
            "empty table or vendor value");
    refused("table,vendor_value,code,kind\nsex,F,2,\nsex,F,1,\n", NULL,
            "line 3: \"F\" is listed twice in table \"sex\"");
    refused("table,vendor_value,code,kind\nsex,\"F,2,\n", NULL,
            "malformed CSV");
    refused("table,vendor_value,code,kind\nsex,F\"x\",2,\n", NULL,
            "malformed CSV");
    refused("table,vendor_value,code,kind\nsex,F\x01,2,\n", NULL,
            "malformed CSV");
    refused("table,vendor_value,code,kind\nsex,\xff,2,\n", NULL,
            "is not UTF-8");
    refused("table,vendor_value,code,kind\nnation,x,01,\n", "sex",
            "a row of table \"nation\" in an override of table \"sex\"");
}


static void
test_load(void **state)
{
    char           err[512];
    eg_codemap_t  *m;

    (void) state;

    m = eg_codemap_new();
    assert_int_equal(eg_codemap_load(m, "/nonexistent/x.csv", NULL, err,
                                     sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open \"/nonexistent/x.csv\""));
    eg_codemap_free(m);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_load),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
