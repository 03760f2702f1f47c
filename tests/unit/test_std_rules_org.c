/*
 * Pins the school and org-tree rules of the data standard with good and
 * bad values: 学校标识码 format, province, category and higher-education
 * form (R12-R15), division code in use (R16), at the org's level (R17)
 * and in the hierarchy (R18), with the GB/T 2260 exceptions taken from
 * the generated table.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "std_support.h"


static json_t *
school(const char *code, const char *div, const char *type,
    const char *parent)
{
    char  text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"level\": \"school\", \"name\": \"新校\","
             " \"schoolCode\": \"%s\", \"divisionCode\": \"%s\","
             " \"schoolType\": \"%s\", \"stages\": [\"2\"],"
             " \"parentId\": \"%s\"}", NEW, code, div, type, parent);

    return std_json(text);
}


static json_t *
org(const char *level, const char *div, const char *parent)
{
    char  text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"level\": \"%s\", \"name\": \"教育局\","
             " \"divisionCode\": \"%s\", \"parentId\": \"%s\"}",
             NEW, level, div, parent);

    return std_json(text);
}


static void
test_valid(void **state)
{
    std_clean(std_check(*state, "orgs",
                        school("2151049903", "510104", "211", DIST)));
    std_clean(std_check(*state, "schools",
                        school("2151049903", "510104", "211", DIST)));
    std_clean(std_check(*state, "orgs", org("district", "510105", CITY)));
    std_clean(std_check(*state, "orgs", org("city", "510300", PROV)));
}


static void
test_r12_school_code(void **state)
{
    std_only(std_check(*state, "orgs",
                       school("2199049903", "510104", "211", DIST)),
             "schoolCode", "R12", 'E');
    std_only(std_check(*state, "orgs",
                       school("99510499", "510104", "211", DIST)),
             "schoolCode", "R12", 'E');

    /* an org with level school and no school code */
    {
        json_t  *rec = school("2151049903", "510104", "211", DIST);

        json_object_del(rec, "schoolCode");
        std_only(std_check(*state, "orgs", rec), "schoolCode", "R12", 'E');
    }
}


static void
test_r13_province(void **state)
{
    std_only(std_check(*state, "orgs",
                       school("2150049903", "510104", "211", DIST)),
             "schoolCode", "R13", 'E');
}


static void
test_r14_category(void **state)
{
    /* a 九年一贯制 school still carrying its 小学 code */
    std_only(std_check(*state, "orgs",
                       school("2151049903", "510104", "312", DIST)),
             "schoolCode", "R14", 'W');
}


static void
test_r15_higher_education(void **state)
{
    eg_std_report_t  *rep;

    rep = std_check(*state, "orgs",
                    school("4151010001", "510104", "411", DIST));
    assert_int_equal(std_count(rep, "schoolCode", "R15", 'W'), 0);
    eg_std_report_free(rep);

    std_only(std_check(*state, "orgs",
                       school("4151110001", "510104", "411", DIST)),
             "schoolCode", "R15", 'W');

    /* 成人高等学校 (42) too; other categories number digit 5 freely */
    std_only(std_check(*state, "orgs",
                       school("4251910001", "510104", "421", DIST)),
             "schoolCode", "R15", 'W');
    std_clean(std_check(*state, "orgs",
                        school("4251050001", "510104", "421", DIST)));
    std_clean(std_check(*state, "orgs",
                        school("2151149903", "510104", "211", DIST)));
}


static void
test_r16_in_use(void **state)
{
    std_only(std_check(*state, "orgs", org("district", "510199", CITY)),
             "divisionCode", "R16", 'E');

    {
        json_t  *rec = org("district", "510104", CITY);

        json_object_del(rec, "divisionCode");
        std_only(std_check(*state, "orgs", rec), "divisionCode", "R16", 'E');
    }
}


static void
test_r16_abolished(void **state)
{
    char              err[256];
    eg_codes_t       *codes;
    eg_std_report_t  *rep;
    std_rules_t      *s = *state;

    /* 成都东城区 510102, abolished in 1990, from a history table */
    codes = s->codes;
    assert_int_equal(eg_codes_load_file(codes, STD_FIXTURES
                                        "codes/xzqh-history.csv", err,
                                        sizeof(err)), 0);

    rep = std_check(s, "orgs", org("district", "510102", CITY));
    if (rep->nv != 1 || std_count(rep, "divisionCode", "R16", 'W') != 1) {
        std_dump(rep);
        fail();
    }
    eg_std_report_free(rep);
}


/* the generated table: 崇文区 110103 is history, no longer in use */
static void
test_r16_abolished_generated(void **state)
{
    eg_std_report_t  *rep;

    rep = std_check(*state, "orgs", org("district", "110103", PROV));
    if (std_count(rep, "divisionCode", "R16", 'W') != 1
        || std_count(rep, "divisionCode", "R16", 'E') != 0)
    {
        std_dump(rep);
        fail();
    }
    eg_std_report_free(rep);

    rep = std_check(*state, "orgs", org("district", "110199", PROV));
    if (std_count(rep, "divisionCode", "R16", 'E') != 1) {
        std_dump(rep);
        fail();
    }
    eg_std_report_free(rep);
}


static void
test_r17_level(void **state)
{
    std_only(std_check(*state, "orgs", org("city", "510104", PROV)),
             "divisionCode", "R17", 'E');
    std_only(std_check(*state, "orgs", org("province", "510100", NAT)),
             "divisionCode", "R17", 'E');
    std_only(std_check(*state, "orgs",
                       school("2151049903", "510100", "211", DIST)),
             "divisionCode", "R17", 'E');
    std_only(std_check(*state, "orgs",
                       std_json("{\"id\": \"" NEW "\", \"level\": "
                                "\"national\", \"name\": \"部\", "
                                "\"divisionCode\": \"110000\"}")),
             "divisionCode", "R17", 'E');
}


static void
test_r17_exceptions(void **state)
{
    json_t  *guangdong, *dongguan;
    char     text[512];

    /* 东莞 441900 has no districts: it hosts schools directly */
    guangdong = std_json("{\"id\": \"00000000-0000-4000-8000-000000000a01\","
                         " \"level\": \"province\", \"name\": \"广东省\","
                         " \"divisionCode\": \"440000\","
                         " \"parentId\": \"" NAT "\"}");
    dongguan = std_json("{\"id\": \"00000000-0000-4000-8000-000000000a02\","
                        " \"level\": \"city\", \"name\": \"东莞市\","
                        " \"divisionCode\": \"441900\","
                        " \"parentId\": "
                        "\"00000000-0000-4000-8000-000000000a01\"}");
    json_array_append_new(json_object_get(((std_rules_t *) *state)->world,
                                          "orgs"), guangdong);
    json_array_append_new(json_object_get(((std_rules_t *) *state)->world,
                                          "orgs"), dongguan);

    std_clean(std_check(*state, "orgs",
                        school("2144190001", "441900", "211",
                               "00000000-0000-4000-8000-000000000a02")));

    /* 济源 419001 is county-level and hangs under its province */
    snprintf(text, sizeof(text),
             "{\"id\": \"00000000-0000-4000-8000-000000000a03\","
             " \"level\": \"province\", \"name\": \"河南省\","
             " \"divisionCode\": \"410000\", \"parentId\": \"%s\"}", NAT);
    json_array_append_new(json_object_get(((std_rules_t *) *state)->world,
                                          "orgs"), std_json(text));

    std_clean(std_check(*state, "orgs",
                        org("district", "419001",
                            "00000000-0000-4000-8000-000000000a03")));
}


static void
test_r18_hierarchy(void **state)
{
    json_t  *rec;

    /* a district under a province although 510104 has a city */
    std_only(std_check(*state, "orgs", org("district", "510104", PROV)),
             "parentId", "R18", 'E');
    /* a district under another city's body */
    std_only(std_check(*state, "orgs", org("district", "510303", CITY)),
             "divisionCode", "R18", 'E');
    /* a school outside its district */
    std_only(std_check(*state, "orgs",
                       school("2151049903", "510105", "211", DIST)),
             "divisionCode", "R18", 'E');
    /* unknown parent */
    std_only(std_check(*state, "orgs",
                       school("2151049903", "510104", "211", NEW)),
             "parentId", "R18", 'E');

    rec = org("district", "510105", CITY);
    json_object_del(rec, "parentId");
    std_only(std_check(*state, "orgs", rec), "parentId", "R18", 'E');
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_r12_school_code),
        cmocka_unit_test(test_r13_province),
        cmocka_unit_test(test_r14_category),
        cmocka_unit_test(test_r15_higher_education),
        cmocka_unit_test(test_r16_in_use),
        cmocka_unit_test(test_r17_level),
        cmocka_unit_test(test_r17_exceptions),
        cmocka_unit_test(test_r18_hierarchy),
        cmocka_unit_test(test_r16_abolished),
        cmocka_unit_test(test_r16_abolished_generated),
    };

    return cmocka_run_group_tests(tests, std_rules_setup,
                                  std_rules_teardown);
}
