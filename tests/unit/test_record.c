/*
 * Pins the record builder of to_standard: records only for the entities a
 * plugin declares, field names and values checked, code tables applied
 * with provenance kept and unmapped or ambiguous values reported (never
 * guessed), identity numbers masked in reports, the structural check of
 * records (required fields, dates, enumerations) and the subset
 * comparison used for fixtures' expected output.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_codemap.h"
#include "eg_host.h"
#include "eg_plugin.h"
#include "eg_record.h"


static const char *const  entities[] = { "students", "results", NULL };
static const char *const  tables[] = { "sex", "zt", NULL };

static const char  codes[] =
    "table,vendor_value,code,kind\n"
    "sex,F,2,\n"
    "sex,female,2,synonym\n"
    "zt,1,,ambiguous\n"
    "zt,2,03,ambiguous\n";


static eg_plugin_t *
fake_plugin(void)
{
    char          err[256];
    eg_plugin_t  *p;

    p = calloc(1, sizeof(eg_plugin_t));
    assert_non_null(p);

    strcpy(p->name, "vendora");
    eg_host_fill(&p->host.pub);
    p->host.plugin = p;
    p->about.entities = entities;
    p->about.tables = tables;
    p->codes = eg_codemap_new();

    assert_int_equal(eg_codemap_parse(p->codes, codes, sizeof(codes) - 1,
                                      NULL, "codes", err, sizeof(err)), 0);

    return p;
}


static void
free_plugin(eg_plugin_t *p)
{
    eg_codemap_free(p->codes);
    free(p);
}


static char *
dump(eg_call_t *c)
{
    char  *s;

    s = eg_record_dump(c);
    assert_non_null(s);

    return s;
}


static void
expect(eg_call_t *c, const char *want)
{
    char   err[512], *got;

    got = dump(c);

    if (eg_record_expect(got, want, err, sizeof(err)) != 0) {
        fail_msg("%s\ngot: %s", err, got);
    }

    free(got);
}


static void
test_build(void **state)
{
    eg_call_t         *c;
    eg_plugin_t       *p;
    edugate_record_t  *r;

    (void) state;

    p = fake_plugin();
    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);

    r = eg_record_new(c, "students");
    assert_non_null(r);

    assert_int_equal(eg_record_set(r, "name", "\xe6\x9d\x8e"), EDUGATE_OK);
    assert_int_equal(eg_record_set(r, "source.vendorLocalId", "u_1"),
                     EDUGATE_OK);
    assert_int_equal(eg_record_set_number(r, "score", "92.5"), EDUGATE_OK);
    assert_int_equal(eg_record_set_number(r, "n", "-7"), EDUGATE_OK);
    assert_int_equal(eg_record_append(r, "stages", "2"), EDUGATE_OK);
    assert_int_equal(eg_record_append(r, "stages", "3"), EDUGATE_OK);
    assert_int_equal(eg_record_set(r, "homeroomClassId", NULL), EDUGATE_OK);

    expect(c, "{\"students\":[{\"name\":\"\xe6\x9d\x8e\","
              "\"source\":{\"vendorId\":\"vendora\",\"vendorLocalId\":"
              "\"u_1\"},\"score\":92.5,\"n\":-7,\"stages\":[\"2\",\"3\"],"
              "\"homeroomClassId\":null}]}");
    assert_string_equal(c->error, "");
    assert_int_equal(c->nrecords, 1);

    eg_call_free(c);
    free_plugin(p);
}


static void
test_refused(void **state)
{
    eg_call_t         *c;
    eg_plugin_t       *p;
    edugate_record_t  *r;

    (void) state;

    p = fake_plugin();

    c = eg_call_new(p, "identity", EG_OUT_IDENTITY);
    assert_null(eg_record_new(c, "students"));
    assert_non_null(strstr(c->error, "outside to_standard"));
    eg_call_free(c);

    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    assert_null(eg_record_new(c, "classes"));
    assert_non_null(strstr(c->error, "\"classes\""));
    assert_null(eg_record_new(c, "bogus"));
    eg_call_free(c);

    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    r = eg_record_new(c, "students");

    assert_int_equal(eg_record_set(r, "_prov.x", "1"), EDUGATE_INVALID);
    assert_int_equal(eg_record_set(r, "a.b.c", "1"), EDUGATE_INVALID);
    assert_int_equal(eg_record_set(r, "1a", "1"), EDUGATE_INVALID);
    assert_int_equal(eg_record_set(r, "a-b", "1"), EDUGATE_INVALID);
    assert_int_equal(eg_record_set(r, ".a", "1"), EDUGATE_INVALID);
    assert_int_equal(eg_record_set(r, "name", "\xff"), EDUGATE_INVALID);
    assert_int_equal(eg_record_set_number(r, "s", "1e5"), EDUGATE_INVALID);
    assert_int_equal(eg_record_set_number(r, "s", "."), EDUGATE_INVALID);
    assert_int_equal(eg_record_set_number(r, "s", "1."), EDUGATE_INVALID);
    assert_int_equal(eg_record_set_number(r, "s", ""), EDUGATE_INVALID);
    assert_int_equal(eg_record_set(r, "name", "x"), EDUGATE_OK);
    assert_int_equal(eg_record_append(r, "name", "y"), EDUGATE_INVALID);

    eg_call_free(c);

    /* a malformed number is the vendor's, and leaves the call usable */
    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    r = eg_record_new(c, "students");
    assert_int_equal(eg_record_set_number(r, "score", "八十"),
                     EDUGATE_INVALID);
    assert_string_equal(c->error, "");

    eg_call_free(c);
    free_plugin(p);
}


static void
test_code_map(void **state)
{
    eg_call_t         *c;
    eg_plugin_t       *p;
    edugate_record_t  *r;

    (void) state;

    p = fake_plugin();
    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);

    r = eg_record_new(c, "students");
    assert_string_equal(eg_code_map(c, r, "sex", "sex", "F"), "2");
    expect(c, "{\"students\":[{\"sex\":\"2\",\"_prov\":{\"sex\":"
              "{\"raw\":\"F\",\"mapping\":\"exact\"}}}]}");

    r = eg_record_new(c, "students");
    assert_string_equal(eg_code_map(c, r, "sex", "sex", "female"), "2");

    r = eg_record_new(c, "students");
    assert_null(eg_code_map(c, r, "sex", "sex", "X"));

    r = eg_record_new(c, "results");
    assert_null(eg_code_map(c, r, "examStatus", "zt", "1"));
    assert_string_equal(eg_code_map(c, r, "other", "zt", "2"), "03");

    /* a lookup without a record reports on the payload */
    assert_null(eg_code_map(c, NULL, NULL, "sex", "?"));

    assert_null(eg_code_map(c, r, "sex", "sex", NULL));

    expect(c, "{\"students\":[{},"
              "{\"sex\":\"2\",\"_prov\":{\"sex\":{\"mapping\":\"synonym\"}},"
              "\"_violations\":[{\"rule\":\"R20\","
              "\"severity\":\"I\",\"field\":\"sex\",\"actual\":\"female\"}]},"
              "{\"sex\":null,\"_prov\":{\"sex\":{\"raw\":\"X\","
              "\"mapping\":\"unmapped\"}},\"_violations\":[{"
              "\"rule\":\"R19\",\"severity\":\"E\",\"field\":\"sex\","
              "\"message\":\"not in code table \\\"sex\\\"\"}]}],"
              "\"results\":[{\"examStatus\":null,\"other\":\"03\","
              "\"_violations\":[{\"rule\":\"R20\",\"severity\":\"W\"},"
              "{\"rule\":\"R20\",\"severity\":\"W\"}]}],"
              "\"_violations\":[{\"rule\":\"R19\",\"actual\":\"?\"}]}");
    assert_string_equal(c->error, "");

    /* a table the plugin did not declare is a plugin bug */
    assert_null(eg_code_map(c, r, "x", "nation", "01"));
    assert_non_null(strstr(c->error, "\"nation\""));

    eg_call_free(c);
    free_plugin(p);
}


static void
test_report(void **state)
{
    eg_call_t         *c;
    eg_plugin_t       *p;
    edugate_record_t  *r;

    (void) state;

    p = fake_plugin();
    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    r = eg_record_new(c, "students");

    eg_report(c, r, "R02", EDUGATE_SEV_ERROR, "idNumber",
              "510112201602182116", "check digit");
    eg_report(c, r, "R06", EDUGATE_SEV_ERROR, "idNumber", "1234", NULL);
    expect(c, "{\"students\":[{\"_violations\":["
              "{\"actual\":\"5101**********2116\"},{\"actual\":\"***\"}]}]}");

    eg_report(c, r, "X1", EDUGATE_SEV_ERROR, NULL, NULL, NULL);
    assert_non_null(strstr(c->error, "rule"));

    eg_call_free(c);

    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    eg_report(c, NULL, "R22a", 7, NULL, NULL, NULL);
    assert_non_null(strstr(c->error, "severity 7"));
    eg_call_free(c);

    free_plugin(p);
}


static void
check_structure(const char *set[][2], const char *why)
{
    char               err[256];
    size_t             i;
    eg_call_t         *c;
    eg_plugin_t       *p;
    edugate_record_t  *r;

    p = fake_plugin();
    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    r = eg_record_new(c, "students");

    for (i = 0; set[i][0]; i++) {
        assert_int_equal(eg_record_set(r, set[i][0], set[i][1]), EDUGATE_OK);
    }

    if (why == NULL) {
        assert_int_equal(eg_record_check(c, err, sizeof(err)), 0);

    } else {
        assert_int_equal(eg_record_check(c, err, sizeof(err)), -1);

        if (strstr(err, why) == NULL || strncmp(err, "students[0]: ", 13)) {
            fail_msg("\"%s\" not in \"%s\"", why, err);
        }
    }

    eg_call_free(c);
    free_plugin(p);
}


static void
test_structure(void **state)
{
    const char  *good[][2] = {
        { "name", "x" }, { "sex", "2" }, { "birthDate", "2016-02-29" },
        { "gradeLevel", "03" }, { "enrolmentStatus", "01" },
        { "source.vendorLocalId", "u_1" }, { NULL, NULL }
    };
    const char  *missing[][2] = {
        { "sex", "2" }, { "birthDate", "2016-05-12" },
        { "gradeLevel", "03" }, { "enrolmentStatus", "01" },
        { "source.vendorLocalId", "u_1" }, { NULL, NULL }
    };
    const char  *null_name[][2] = {
        { "name", NULL }, { "sex", "2" }, { "birthDate", "2016-05-12" },
        { "gradeLevel", "03" }, { "enrolmentStatus", "01" },
        { "source.vendorLocalId", "u_1" }, { NULL, NULL }
    };
    const char  *bad_date[][2] = {
        { "name", "x" }, { "sex", "2" }, { "birthDate", "2015-02-29" },
        { "gradeLevel", "03" }, { "enrolmentStatus", "01" },
        { "source.vendorLocalId", "u_1" }, { NULL, NULL }
    };
    const char  *slashes[][2] = {
        { "name", "x" }, { "sex", "2" }, { "birthDate", "2016/05/12" },
        { "gradeLevel", "03" }, { "enrolmentStatus", "01" },
        { "source.vendorLocalId", "u_1" }, { NULL, NULL }
    };
    const char  *bad_sex[][2] = {
        { "name", "x" }, { "sex", "F" }, { "birthDate", "2016-05-12" },
        { "gradeLevel", "03" }, { "enrolmentStatus", "01" },
        { "source.vendorLocalId", "u_1" }, { NULL, NULL }
    };
    const char  *bad_grade[][2] = {
        { "name", "x" }, { "sex", "1" }, { "birthDate", "2016-05-12" },
        { "gradeLevel", "3" }, { "enrolmentStatus", "01" },
        { "source.vendorLocalId", "u_1" }, { NULL, NULL }
    };

    (void) state;

    check_structure(good, NULL);
    check_structure(missing, "required field \"name\" is missing");
    check_structure(null_name, "required field \"name\" is null");
    check_structure(bad_date, "\"birthDate\" is not a YYYY-MM-DD date");
    check_structure(slashes, "\"birthDate\" is not a YYYY-MM-DD date");
    check_structure(bad_sex, "\"sex\" is not one of 0|1|2|9");
    check_structure(bad_grade, "\"gradeLevel\" is not a two-character");
}


static void
test_null_with_violation(void **state)
{
    char               err[256];
    eg_call_t         *c;
    eg_plugin_t       *p;
    edugate_record_t  *r;

    (void) state;

    p = fake_plugin();
    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    r = eg_record_new(c, "students");

    eg_record_set(r, "name", "x");
    eg_record_set(r, "birthDate", "2016-05-12");
    eg_record_set(r, "gradeLevel", "03");
    eg_record_set(r, "enrolmentStatus", "01");
    eg_record_set(r, "source.vendorLocalId", "u_1");

    /* unmapped: null, but a violation says why */
    eg_code_map(c, r, "sex", "sex", "?");

    assert_int_equal(eg_record_check(c, err, sizeof(err)), 0);

    eg_call_free(c);
    free_plugin(p);
}


static void
test_expect(void **state)
{
    char  err[256];

    (void) state;

    assert_int_equal(eg_record_expect("{\"a\":[{\"b\":1,\"c\":2}],\"d\":3}",
                                      "{\"a\":[{\"b\":1}]}", err,
                                      sizeof(err)), 0);
    assert_int_equal(eg_record_expect("{\"s\":92.5}", "{\"s\":92.50}", err,
                                      sizeof(err)), 0);

    assert_int_equal(eg_record_expect("{\"a\":[{\"b\":1}]}",
                                      "{\"a\":[{\"b\":2}]}", err,
                                      sizeof(err)), -1);
    assert_string_equal(err, "/a/0/b: got 1, expected 2");

    assert_int_equal(eg_record_expect("{\"a\":[1,2]}", "{\"a\":[1]}", err,
                                      sizeof(err)), -1);
    assert_string_equal(err, "/a: expected a list of 1");

    assert_int_equal(eg_record_expect("{}", "{\"x\":null}", err,
                                      sizeof(err)), -1);
    assert_string_equal(err, "/x: got nothing, expected null");

    assert_int_equal(eg_record_expect("{", "{}", err, sizeof(err)), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_code_map),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_null_with_violation),
        cmocka_unit_test(test_expect),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
