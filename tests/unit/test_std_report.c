/*
 * Pins the violation report (totals, per-record status, JSON shape, no
 * ID number in clear anywhere) and the XML reader of the standard's
 * rendering (item lists, single-record roots, refused DTDs, entities,
 * duplicate and mixed elements).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "std_support.h"


#define XML(s)  eg_std_xml_read(s, sizeof(s) - 1, err, sizeof(err))


static void
test_mask(void **state)
{
    char  *m;

    (void) state;

    m = eg_std_mask("idNumber", "510104201605120323");
    assert_string_equal(m, "5101**********0323");
    free(m);

    m = eg_std_mask("idNumber", "11010519491231002X");
    assert_string_equal(m, "1101**********002X");
    free(m);

    m = eg_std_mask("studentRegNo", "G510104201605120323");
    assert_string_equal(m, "G5101**********0323");
    free(m);

    /* inside free text too */
    m = eg_std_mask("studentId", "via L510104201603067394 crosswalk");
    assert_string_equal(m, "via L5101**********7394 crosswalk");
    free(m);

    m = eg_std_mask("phone", "13800000000");
    assert_string_equal(m, "138****0000");
    free(m);

    m = eg_std_mask("schoolCode", "2151049901");
    assert_string_equal(m, "2151049901");
    free(m);
}


static void
test_report_json(void **state)
{
    char             *text;
    json_t           *batch, *known, *j, *v, *t;
    size_t            i;
    eg_codes_t       *codes;
    eg_std_ctx_t      ctx;
    eg_std_report_t  *rep;

    (void) state;

    codes = std_codes();
    batch = std_fixture("vendor-a.xml");
    known = std_fixture("registry-a.xml");

    eg_std_ctx_init(&ctx, codes);
    eg_std_ctx_set_today(&ctx, "2024-09-03");
    eg_std_registry_from_batch(&ctx.registry, known);

    rep = eg_std_validate(&ctx, batch);
    assert_non_null(rep);
    /* records in batch order: orgs, sessions, classes, students... */
    assert_string_equal(rep->r[4].vendor_local_id, "u_88213");
    assert_false(eg_std_report_rejected(rep, 4));
    assert_true(eg_std_report_rejected(rep, 5));
    assert_true(eg_std_report_rejected(rep, 6));
    assert_false(eg_std_report_rejected(rep, 7));

    text = eg_std_report_json(rep);
    assert_non_null(text);

    /* no ID number of the feed appears in clear */
    assert_null(strstr(text, "201605120323"));
    assert_null(strstr(text, "201603061585"));
    assert_null(strstr(text, "201602182116"));
    assert_null(strstr(text, "201603067394"));

    j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "batchId")),
                        "vendorA-JJQJYJ-20240903081522");

    t = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "records")), 8);
    assert_int_equal(json_integer_value(json_object_get(t, "rejected")), 2);
    assert_int_equal(json_integer_value(json_object_get(t, "accepted")), 6);
    assert_int_equal(json_integer_value(json_object_get(t, "violations")), 7);
    assert_int_equal(json_integer_value(json_object_get(t, "E")), 3);
    assert_int_equal(json_integer_value(json_object_get(t, "W")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "I")), 3);

    assert_int_equal(json_array_size(json_object_get(j, "records")), 2);

    json_array_foreach(json_object_get(j, "violations"), i, v) {
        assert_non_null(json_object_get(v, "vendorLocalId"));
        assert_non_null(json_object_get(v, "unifiedId"));
        assert_string_equal(json_string_value(json_object_get(v, "entity")),
                            "student");
        assert_non_null(json_string_value(json_object_get(v, "ruleId")));
        assert_int_equal(strlen(json_string_value(
                             json_object_get(v, "severity"))), 1);
        assert_non_null(json_string_value(json_object_get(v, "message_zh")));
        assert_non_null(json_string_value(json_object_get(v, "message_en")));
    }

    v = json_array_get(json_object_get(j, "violations"), 0);
    assert_string_equal(json_string_value(json_object_get(v,
                                                          "vendorLocalId")),
                        "u_88214");

    json_decref(j);
    free(text);
    eg_std_report_free(rep);
    json_decref(batch);
    json_decref(known);
    eg_codes_free(codes);
}


static void
test_xml_shapes(void **state)
{
    char     err[256];
    json_t  *b, *rec;

    (void) state;

    b = XML("<student xmlns=\"urn:edugate:std:v1\"><id>x</id>"
            "<name> 李 </name><subjects><item>13</item><item>14</item>"
            "</subjects><_prov><name><raw>李.</raw></name></_prov>"
            "<empty/></student>");
    assert_non_null(b);
    rec = json_array_get(json_object_get(b, "students"), 0);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "name")),
                        " 李 ");
    assert_int_equal(json_array_size(json_object_get(rec, "subjects")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(rec, "_prov"),
                                            "name"), "raw")), "李.");
    assert_string_equal(json_string_value(json_object_get(rec, "empty")),
                        "");
    json_decref(b);

    b = XML("<batch><feed>delta</feed><classes><item><id>c</id></item>"
            "</classes></batch>");
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "feed")),
                        "delta");
    assert_int_equal(json_array_size(json_object_get(b, "classes")), 1);
    json_decref(b);
}


static void
test_xml_refused(void **state)
{
    char  err[256];

    (void) state;

    assert_null(XML("<batch><orgs>"));
    assert_non_null(strstr(err, "not well-formed"));

    assert_null(XML("<!DOCTYPE batch [<!ENTITY x \"y\">]><batch/>"));
    assert_string_equal(err, "a DTD is not allowed");

    assert_null(XML("<!DOCTYPE batch SYSTEM \"file:///etc/passwd\">"
                    "<batch/>"));
    assert_string_equal(err, "a DTD is not allowed");

    assert_null(XML("<shoe/>"));
    assert_non_null(strstr(err, "unknown root"));

    assert_null(XML("<student><name>a</name><name>b</name></student>"));
    assert_non_null(strstr(err, "given twice"));

    assert_null(XML("<class><termIds><item>a</item><x>b</x></termIds>"
                    "</class>"));
    assert_non_null(strstr(err, "mixed"));
}


/*
 * Bytes that are not in the declared encoding are a parse error, and
 * nothing is written to stderr (nginx's error log) on the way (found by
 * fuzz_std_xml: libxml2 sends encoding errors to its generic handler).
 */
static void
test_xml_bad_encoding_quiet(void **state)
{
    int           saved, fd;
    char          err[256], path[] = "/tmp/eg-std-stderr-XXXXXX";
    json_t       *b;
    struct stat   st;

    (void) state;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);

    b = XML("<?xml version=\"1.0\" encoding=\"GBK\"?>"
            "<student><name a=\"\xbc\">\x95\x30</name></student>");

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);

    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    unlink(path);

    assert_null(b);
    assert_non_null(strstr(err, "not well-formed"));
    assert_int_equal(st.st_size, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_report_json),
        cmocka_unit_test(test_xml_shapes),
        cmocka_unit_test(test_xml_refused),
        cmocka_unit_test(test_xml_bad_encoding_quiet),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
