/*
 * Pins the remaining rules of the data standard with good and bad values:
 * code-table membership (R19), mapping notes (R20), dates (R22a-R22h),
 * scores (R23), names (R26), mobile numbers (R27), cross-field rules of
 * persons (R28) and delta feeds (R29).
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
session(const char *type, const char *year, const char *start,
    const char *end)
{
    char  text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"type\": \"%s\", \"schoolYear\": \"%s\","
             " \"termCode\": \"2\", \"title\": \"下\", \"startDate\": \"%s\","
             " \"endDate\": \"%s\", \"parentId\": \"%s\", \"orgId\": \"%s\"}",
             NEW, type, year, start, end, YEAR, SCHOOL);

    return std_json(text);
}


static json_t *
result(const char *score, const char *status)
{
    json_t  *rec;
    char     text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"lineItemId\": \"%s\", \"studentId\": \"%s\","
             " \"scoreStatus\": \"%s\", \"scoreDate\": \"2025-01-08\"}",
             NEW, ITEM, KNOWNSTU, status);
    rec = std_json(text);

    if (score != NULL) {
        json_object_set_new(rec, "score", json_string(score));
    }

    return rec;
}


static void
test_r19_codes(void **state)
{
    std_only(std_check(*state, "students", std_student_with("ethnicity", "57")),
             "ethnicity", "R19", 'E');
    std_only(std_check(*state, "students",
                       std_student_with("enrolmentStatus", "16")),
             "enrolmentStatus", "R19", 'E');
    std_only(std_check(*state, "students",
                       std_student_with("politicalStatus", "14")),
             "politicalStatus", "R19", 'E');
    std_clean(std_check(*state, "students",
                        std_student_with("politicalStatus", "13")));
    std_clean(std_check(*state, "students", std_student_with("ethnicity",
                                                             "98")));

    /* a school type must be a 3-digit leaf */
    {
        json_t  *rec;

        rec = json_deep_copy(json_array_get(
                  json_object_get(((std_rules_t *) *state)->world, "orgs"), 4));
        json_object_set_new(rec, "id", json_string(NEW));
        json_object_set_new(rec, "schoolCode", json_string("2151049903"));
        json_object_set_new(rec, "schoolType", json_string("219"));
        std_clean(std_check(*state, "orgs", json_deep_copy(rec)));
        json_object_set_new(rec, "schoolType", json_string("21"));
        std_only(std_check(*state, "orgs", json_deep_copy(rec)),
                 "schoolType", "R19", 'E');
        json_object_set_new(rec, "schoolType", json_string("213"));
        std_only(std_check(*state, "orgs", rec), "schoolType", "R19", 'E');
    }

    /* a semester needs its 学期码 */
    {
        json_t  *rec = session("semester", "2024-2025", "2025-02-17",
                               "2025-07-10");

        json_object_del(rec, "termCode");
        std_only(std_check(*state, "academicSessions", rec),
                 "termCode", "R19", 'E');
    }
}


static void
test_r19_validity(void **state)
{
    char              err[256];
    eg_codes_t       *codes;
    eg_std_report_t  *rep;
    std_rules_t      *s = *state;
    static const char  extra[] =
        "scheme,code,name,valid_from,valid_to,source\n"
        "mz,81,已停用的地方代码,2000-01-01,2020-12-31,test\n";

    codes = s->codes;
    assert_int_equal(eg_codes_load_buf(codes, "extra", extra,
                                       sizeof(extra) - 1, err, sizeof(err)),
                     0);

    rep = std_check(s, "students", std_student_with("ethnicity", "81"));
    assert_int_equal(std_count(rep, "ethnicity", "R19", 'E'), 1);
    assert_string_equal(rep->v[0].message_en,
                        "the code is no longer in force");
    eg_std_report_free(rep);
}


static void
test_r20_mapping(void **state)
{
    json_t  *rec;

    rec = std_student_with(NULL, NULL);
    json_object_set_new(rec, "_prov",
                        json_pack("{s:{s:s,s:s}, s:{s:s,s:s}, s:{s:s,s:s}}",
                                  "sex", "raw", "F", "mapping", "exact",
                                  "ethnicity", "raw", "1", "mapping",
                                  "zeropad",
                                  "enrolmentStatus", "raw", "在校",
                                  "mapping", "ambiguous"));
    {
        eg_std_report_t  *rep = std_check(*state, "students", rec);

        assert_int_equal(rep->nv, 2);
        assert_int_equal(std_count(rep, "ethnicity", "R20", 'I'), 1);
        assert_int_equal(std_count(rep, "enrolmentStatus", "R20", 'W'), 1);
        eg_std_report_free(rep);
    }
}


static void
test_r22a_dates(void **state)
{
    std_only(std_check(*state, "students",
                       std_student_with("birthDate", "2016-13-01")),
             "birthDate", "R22a", 'E');
    std_only(std_check(*state, "academicSessions",
                       session("semester", "2024-2025", "2025-07-10",
                               "2025-02-17")),
             "endDate", "R22a", 'E');
    std_only(std_check(*state, "students",
                       std_student_with("entryDate", "2022-13")),
             "entryDate", "R22a", 'E');
}


static void
test_r22b_school_year(void **state)
{
    std_clean(std_check(*state, "academicSessions",
                        session("semester", "2024-2025", "2025-02-17",
                                "2025-07-10")));
    std_only(std_check(*state, "academicSessions",
                       session("semester", "2024-2025", "2025-09-01",
                               "2026-01-10")),
             "startDate", "R22b", 'W');
    std_only(std_check(*state, "academicSessions",
                       session("semester", "2024-2026", "2025-02-17",
                               "2025-07-10")),
             "schoolYear", "R22b", 'W');
}


static void
test_r22c_future_birth(void **state)
{
    json_t  *rec;

    rec = std_student_with("birthDate", "2025-05-12");
    json_object_del(rec, "idNumber");
    json_object_del(rec, "studentRegNo");
    json_object_set_new(rec, "idType", json_string("Z"));
    {
        eg_std_report_t  *rep = std_check(*state, "students", rec);

        assert_int_equal(std_count(rep, "birthDate", "R22c", 'E'), 1);
        eg_std_report_free(rep);
    }
}


static void
test_r22d_age(void **state)
{
    std_only(std_check(*state, "students", std_student_with("gradeLevel",
                                                            "07")),
             "birthDate", "R22d", 'W');
    std_clean(std_check(*state, "students", std_student_with("gradeLevel",
                                                             "05")));
}


static void
test_r22e_entry(void **state)
{
    std_clean(std_check(*state, "students",
                        std_student_with("entryDate", "2022-09")));
    std_only(std_check(*state, "students",
                       std_student_with("entryDate", "2018-09")),
             "entryDate", "R22e", 'W');
}


static void
test_r22f_modified(void **state)
{
    std_clean(std_check(*state, "students",
                        std_student_with("dateLastModified",
                                         "2024-10-08T08:04:59+08:00")));
    std_only(std_check(*state, "students",
                       std_student_with("dateLastModified",
                                        "2024-10-08T08:10:00+08:00")),
             "dateLastModified", "R22f", 'W');
    std_only(std_check(*state, "students",
                       std_student_with("dateLastModified",
                                        "2024-10-08 08:00:00")),
             "dateLastModified", "R22a", 'E');
}


static void
test_r22g_score_date(void **state)
{
    json_t  *rec;

    rec = result("90", "fully graded");
    json_object_set_new(rec, "scoreDate", json_string("2025-01-25"));
    std_only(std_check(*state, "results", rec), "scoreDate", "R22g", 'W');
}


static void
test_r22h_enrollment_dates(void **state)
{
    char  text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"classId\": \"%s\", \"schoolId\": \"%s\","
             " \"personId\": \"%s\", \"role\": \"teacher\","
             " \"beginDate\": \"2024-06-01\"}", NEW, HOME, SCHOOL, TEACHER);
    std_only(std_check(*state, "enrollments", std_json(text)),
             "beginDate", "R22h", 'W');
}


static void
test_r23_scores(void **state)
{
    eg_std_report_t  *rep;

    std_clean(std_check(*state, "results", result("92.5", "fully graded")));
    std_clean(std_check(*state, "results", result(NULL, "not submitted")));

    rep = std_check(*state, "results", result("105", "fully graded"));
    assert_int_equal(rep->nv, 1);
    assert_int_equal(std_count(rep, "score", "R23", 'E'), 1);
    assert_string_equal(rep->v[0].actual, "105");
    assert_string_equal(rep->v[0].expected, "0..100");
    eg_std_report_free(rep);

    std_only(std_check(*state, "results", result("-1", "fully graded")),
             "score", "R23", 'E');
    std_only(std_check(*state, "results", result("80", "not submitted")),
             "score", "R23", 'E');
    std_only(std_check(*state, "results", result(NULL, "fully graded")),
             "score", "R23", 'E');
    std_only(std_check(*state, "results", result("1e2", "fully graded")),
             "score", "R23", 'E');

    {
        json_t  *rec = result(NULL, "fully graded");

        json_object_set_new(rec, "textScore", json_string("良好"));
        std_clean(std_check(*state, "results", json_deep_copy(rec)));
        json_object_set_new(rec, "textScore", json_string("特优"));
        std_only(std_check(*state, "results", rec), "textScore", "R23", 'E');
    }

    /* a line item whose maximum is below its minimum */
    {
        json_t  *li;

        li = json_deep_copy(json_array_get(
                 json_object_get(((std_rules_t *) *state)->world,
                                 "lineItems"), 0));
        json_object_set_new(li, "id", json_string(NEW));
        json_object_set_new(li, "resultValueMin", json_integer(100));
        json_object_set_new(li, "resultValueMax", json_integer(0));
        std_only(std_check(*state, "lineItems", li),
                 "resultValueMax", "R23", 'E');
    }
}


static void
test_r26_names(void **state)
{
    json_t           *rec;
    eg_std_report_t  *rep;

    std_clean(std_check(*state, "students",
                        std_student_with("name", "阿依古丽·买买提")));

    rep = std_check(*state, "students",
                    std_student_with("name", "阿依古丽.买买提"));
    assert_int_equal(std_count(rep, "name", "R26", 'W'), 1);
    assert_string_equal(rep->v[0].expected, "阿依古丽·买买提");
    eg_std_report_free(rep);

    std_only(std_check(*state, "students",
                       std_student_with("name", "阿依古丽・买买提")),
             "name", "R26", 'W');
    std_only(std_check(*state, "stud"
                               "ents", std_student_with("name", "李思雨2")),
             "name", "R26", 'W');
    std_only(std_check(*state, "stud"
                               "ents", std_student_with("name", " 李思雨")),
             "name", "R26", 'W');
    std_only(std_check(*state, "students", std_student_with("name", "李Amy")),
             "name", "R26", 'W');

    /* normalised by the adapter: information only */
    rec = std_student_with("name", "阿依古丽·买买提");
    json_object_set_new(rec, "_prov",
                        json_pack("{s:{s:s,s:s}}", "name", "raw",
                                  "阿依古丽•买买提", "mapping",
                                  "normalised"));
    std_only(std_check(*state, "students", rec), "name", "R26", 'I');
}


static void
test_r27_phone(void **state)
{
    eg_std_report_t  *rep;

    std_clean(std_check(*state, "students",
                        std_student_with("phone", "13800000000")));

    rep = std_check(*state, "students",
                    std_student_with("phone", "1380000000"));
    assert_int_equal(std_count(rep, "phone", "R27", 'W'), 1);
    assert_string_equal(rep->v[0].actual, "138***0000");
    eg_std_report_free(rep);

    std_only(std_check(*state, "students",
                       std_student_with("phone", "12800000000")),
             "phone", "R27", 'W');
}


static void
test_r28_cross_field(void **state)
{
    json_t  *rec;

    std_only(std_check(*state, "students",
                       std_student_with("nationality", "USA")),
             "nationality", "R28", 'E');
    std_only(std_check(*state, "students",
                       std_student_with("hkmtoCode", "05")),
             "hkmtoCode", "R28", 'E');
    std_clean(std_check(*state, "students",
                        std_student_with("hkmtoCode", "00")));
    std_only(std_check(*state, "students", std_student_with("ethnicity",
                                                            NULL)),
             "ethnicity", "R28", 'E');

    /* a 港澳居民 document needs a 港澳台 code */
    rec = std_student_with("idType", "6");
    json_object_set_new(rec, "idNumber", json_string("H12345678"));
    json_object_del(rec, "studentRegNo");
    std_only(std_check(*state, "students", json_deep_copy(rec)),
             "hkmtoCode", "R28", 'E');
    json_object_set_new(rec, "hkmtoCode", json_string("01"));
    std_clean(std_check(*state, "students", rec));

    /* no document: flagged, the school keeps a 就读证明 */
    rec = std_student_with("idType", "Z");
    json_object_del(rec, "idNumber");
    json_object_del(rec, "studentRegNo");
    std_only(std_check(*state, "students", rec), "idType", "R28", 'W');

    rec = std_student_with("idNumber", NULL);
    json_object_del(rec, "studentRegNo");
    std_only(std_check(*state, "students", rec), "idNumber", "R28", 'E');
}


static void
test_r29_delta(void **state)
{
    json_t           *batch, *rec;
    eg_std_ctx_t      ctx;
    eg_std_report_t  *rep;
    std_rules_t      *s = *state;

    rec = std_student_with("status", "active");
    batch = json_pack("{s:s, s:[o]}", "feed", "delta", "students", rec);

    eg_std_ctx_init(&ctx, s->codes);
    eg_std_ctx_set_today(&ctx, "2024-10-08");
    ctx.now = 1728345600;
    eg_std_registry_from_batch(&ctx.registry, s->world);

    rep = eg_std_validate(&ctx, batch);
    std_only(rep, "dateLastModified", "R29", 'E');

    json_object_set_new(rec, "dateLastModified",
                        json_string("2024-10-01T10:00:00+08:00"));
    rep = eg_std_validate(&ctx, batch);
    std_clean(rep);

    json_decref(batch);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_r19_codes),
        cmocka_unit_test(test_r20_mapping),
        cmocka_unit_test(test_r22a_dates),
        cmocka_unit_test(test_r22b_school_year),
        cmocka_unit_test(test_r22c_future_birth),
        cmocka_unit_test(test_r22d_age),
        cmocka_unit_test(test_r22e_entry),
        cmocka_unit_test(test_r22f_modified),
        cmocka_unit_test(test_r22g_score_date),
        cmocka_unit_test(test_r22h_enrollment_dates),
        cmocka_unit_test(test_r23_scores),
        cmocka_unit_test(test_r26_names),
        cmocka_unit_test(test_r27_phone),
        cmocka_unit_test(test_r28_cross_field),
        cmocka_unit_test(test_r29_delta),
        cmocka_unit_test(test_r19_validity),
    };

    return cmocka_run_group_tests(tests, std_rules_setup,
                                  std_rules_teardown);
}
