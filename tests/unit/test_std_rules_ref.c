/*
 * Pins the reference and uniqueness rules of the data standard against a
 * known world: classes, schools, persons, terms, head teachers, line
 * items and results (R21a-R21f), deletions with dependents (R21g), and
 * 学籍号, 学号, homeroom and vendor-id uniqueness (R24).
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
enrollment(const char *cls, const char *school, const char *person,
    const char *role)
{
    char  text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"classId\": \"%s\", \"schoolId\": \"%s\","
             " \"personId\": \"%s\", \"role\": \"%s\","
             " \"beginDate\": \"2024-09-01\"}",
             NEW, cls, school, person, role);

    return std_json(text);
}


static json_t *
result(const char *item, const char *student, const char *date)
{
    char  text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"lineItemId\": \"%s\", \"studentId\": \"%s\","
             " \"score\": 88, \"scoreStatus\": \"fully graded\","
             " \"scoreDate\": \"%s\"}", NEW, item, student, date);

    return std_json(text);
}


/* a new student holding the known student's ID number and 学籍号 */
static json_t *
same_number(void)
{
    json_t  *rec;

    rec = std_student_with("studentRegNo", "G510104201606150022");
    json_object_set_new(rec, "idNumber", json_string("510104201606150022"));
    json_object_set_new(rec, "birthDate", json_string("2016-06-15"));

    return rec;
}


static void
test_r21a_class(void **state)
{
    std_clean(std_check(*state, "enrollments",
                        enrollment(HOME, SCHOOL, KNOWNSTU, "student")));
    std_only(std_check(*state, "enrollments",
                       enrollment(NEW, SCHOOL, KNOWNSTU, "student")),
             "classId", "R21a", 'E');
    std_only(std_check(*state, "students",
                       std_student_with("homeroomClassId", NEW)),
             "homeroomClassId", "R21a", 'E');

    /* a class being deleted takes no new members */
    {
        json_t  *cls;

        cls = json_array_get(json_object_get(((std_rules_t *) *state)->world,
                                             "classes"), 1);
        json_object_set_new(cls, "status", json_string("tobedeleted"));
        std_only(std_check(*state, "enrollments",
                           enrollment(HOME2, SCHOOL, TEACHER, "teacher")),
                 "classId", "R21a", 'E');
        json_object_del(cls, "status");
    }
}


static void
test_r21b_school(void **state)
{
    {
        eg_std_report_t  *rep;

        /* the student is not at school 2 either (R21c) */
        rep = std_check(*state, "enrollments",
                        enrollment(HOME, SCHOOL2, KNOWNSTU, "student"));
        assert_int_equal(std_count(rep, "schoolId", "R21b", 'E'), 1);
        assert_int_equal(std_count(rep, "personId", "R21c", 'E'), 1);
        assert_int_equal(rep->nv, 2);
        eg_std_report_free(rep);
    }
    std_only(std_check(*state, "students",
                       std_student_with("homeroomClassId", HOMEX)),
             "schoolId", "R21b", 'E');
    std_only(std_check(*state, "students", std_student_with("schoolId", NEW)),
             "schoolId", "R21b", 'E');
}


static void
test_r21c_person(void **state)
{
    std_only(std_check(*state, "enrollments",
                       enrollment(HOME, SCHOOL, NEW, "student")),
             "personId", "R21c", 'E');
    /* a student enrolled as a teacher */
    std_only(std_check(*state, "enrollments",
                       enrollment(HOME, SCHOOL, KNOWNSTU, "teacher")),
             "personId", "R21c", 'E');
    std_clean(std_check(*state, "enrollments",
                        enrollment(HOME, SCHOOL, TEACHER, "teacher")));
}


static void
test_r21d_terms(void **state)
{
    char  text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"classKind\": "
             "\"scheduled\", \"title\": \"走班\","
             " \"classNo\": \"A1\", \"schoolId\": \"%s\", \"stage\": \"2\","
             " \"gradeLevel\": \"03\", \"courseId\": \"%s\","
             " \"termIds\": [\"%s\"]}", NEW, SCHOOL, COURSEYW, TERM1);
    std_clean(std_check(*state, "classes", std_json(text)));

    /* a school year is no term */
    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"classKind\": "
             "\"scheduled\", \"title\": \"走班\","
             " \"classNo\": \"A1\", \"schoolId\": \"%s\", \"stage\": \"2\","
             " \"gradeLevel\": \"03\", \"courseId\": \"%s\","
             " \"termIds\": [\"%s\"]}", NEW, SCHOOL, COURSEYW, YEAR);
    std_only(std_check(*state, "classes", std_json(text)),
             "termIds", "R21d", 'E');

    /* terms of two school years */
    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"classKind\": "
             "\"scheduled\", \"title\": \"走班\","
             " \"classNo\": \"A1\", \"schoolId\": \"%s\", \"stage\": \"2\","
             " \"gradeLevel\": \"03\", \"courseId\": \"%s\","
             " \"termIds\": [\"%s\", \"%s\"]}", NEW, SCHOOL, COURSEYW, TERM1,
             TERM2);
    std_only(std_check(*state, "classes", std_json(text)),
             "termIds", "R21d", 'E');
}


static void
test_r21e_head_teacher(void **state)
{
    json_t  *rec;
    char     text[1024];

    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"classKind\": "
             "\"homeroom\", \"title\": \"三班\","
             " \"classNo\": \"03\", \"schoolId\": \"%s\", \"stage\": \"2\","
             " \"gradeLevel\": \"03\", \"courseId\": \"%s\","
             " \"termIds\": [\"%s\"], \"headTeacherId\": \"%s\"}",
             NEW, SCHOOL, COURSE, TERM1, TEACHER);
    std_clean(std_check(*state, "classes", std_json(text)));

    /* the teacher of school 1 heads a class of school 2 */
    snprintf(text, sizeof(text),
             "{\"id\": \"%s\", \"classKind\": "
             "\"homeroom\", \"title\": \"三班\","
             " \"classNo\": \"03\", \"schoolId\": \"%s\", \"stage\": \"2\","
             " \"gradeLevel\": \"03\", \"courseId\": \"%s\","
             " \"termIds\": [\"%s\"], \"headTeacherId\": \"%s\"}",
             NEW, SCHOOL2, COURSE, TERM1, TEACHER);
    std_only(std_check(*state, "classes", std_json(text)),
             "headTeacherId", "R21e", 'E');

    /* the same as a primary teacher enrollment on the homeroom */
    rec = enrollment(HOMEX, SCHOOL2, TEACHER, "teacher");
    json_object_set_new(rec, "primary", json_true());
    std_only(std_check(*state, "enrollments", rec), "personId", "R21e", 'E');
}


static void
test_r21f_results(void **state)
{
    std_clean(std_check(*state, "results",
                        result(ITEM, KNOWNSTU, "2025-01-08")));
    std_only(std_check(*state, "results", result(NEW, KNOWNSTU, "2025-01-08")),
             "lineItemId", "R21f", 'E');
    std_only(std_check(*state, "results", result(ITEM, NEW, "2025-01-08")),
             "studentId", "R21f", 'E');
    /* enrolled from 2024-09-01 only */
    {
        eg_std_report_t  *rep;

        rep = std_check(*state, "results",
                        result(ITEM, KNOWNSTU, "2024-08-20"));
        assert_int_equal(std_count(rep, "studentId", "R21f", 'E'), 1);
        eg_std_report_free(rep);
    }
}


static void
test_r21g_dependents(void **state)
{
    json_t  *cls;

    cls = json_deep_copy(json_array_get(
              json_object_get(((std_rules_t *) *state)->world, "classes"), 0));
    json_object_set_new(cls, "status", json_string("tobedeleted"));
    std_only(std_check(*state, "classes", cls), "status", "R21g", 'W');

    cls = json_deep_copy(json_array_get(
              json_object_get(((std_rules_t *) *state)->world, "classes"), 1));
    json_object_set_new(cls, "status", json_string("tobedeleted"));
    std_clean(std_check(*state, "classes", cls));
}


static void
test_r24_unique(void **state)
{
    json_t           *batch, *a, *b;
    eg_std_ctx_t      ctx;
    eg_std_report_t  *rep;
    std_rules_t      *s = *state;

    /* the 学籍号 of an active known student */
    std_only(std_check(*state, "students", same_number()),
             "studentRegNo", "R24", 'E');
    /* the 学号 of a known student of the same school */
    std_only(std_check(*state, "students",
                       std_student_with("studentNo", "2022020100")),
             "studentNo", "R24", 'E');
    /* a second homeroom in the same term */
    std_only(std_check(*state, "enrollments",
                       enrollment(HOME2, SCHOOL, KNOWNSTU, "student")),
             "classId", "R24", 'E');

    /* one vendor id twice in a feed */
    a = std_student_with(NULL, NULL);
    b = std_student_with("id", "00000000-0000-4000-8000-000000000098");
    json_object_set_new(b, "studentRegNo",
                        json_string("G510104201605120411"));
    json_object_set_new(b, "idNumber", json_string("510104201605120411"));
    json_object_set_new(b, "studentNo", json_string("2022020199"));
    json_object_set_new(b, "sex", json_string("1"));
    batch = json_pack("{s:[o,o]}", "students", a, b);

    eg_std_ctx_init(&ctx, s->codes);
    eg_std_ctx_set_today(&ctx, "2024-10-08");
    eg_std_registry_from_batch(&ctx.registry, s->world);
    rep = eg_std_validate(&ctx, batch);
    json_decref(batch);
    std_only(rep, "source.vendorLocalId", "R24", 'E');
}


/*
 * A batch of many students: the rules find records by field through an
 * index, which must answer as a scan did, in the batch and in the
 * registry.
 */

#define MANY  400

static void
test_r24_many(void **state)
{
    int               i, k, sum;
    char              id[48], local[16], idno[20], regno[24], no[16];
    json_t           *batch, *list, *rec;
    eg_std_ctx_t      ctx;
    eg_std_report_t  *rep;
    std_rules_t      *s = *state;

    static const int   w[] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
                               8, 4, 2 };
    static const char  check[] = "10X98765432";

    list = json_array();
    assert_non_null(list);

    for (i = 0; i < MANY; i++) {
        /* her own ID number: another (even, female) sequence number */
        snprintf(idno, sizeof(idno), "51010420160512%03d", 2 * i);

        sum = 0;
        for (k = 0; k < 17; k++) {
            sum += (idno[k] - '0') * w[k];
        }

        idno[17] = check[sum % 11];
        idno[18] = '\0';

        snprintf(id, sizeof(id), "00000000-0000-4000-8000-1%011d", i);
        snprintf(local, sizeof(local), "m%d", i);
        snprintf(regno, sizeof(regno), "G%s", idno);

        /* the last takes the first's 学号, one the known student's */
        snprintf(no, sizeof(no), "20229%05d",
                 i == MANY - 1 ? 0 : i);

        rec = std_student_with("id", id);
        json_object_set_new(json_object_get(rec, "source"),
                            "vendorLocalId", json_string(local));
        json_object_set_new(rec, "idNumber", json_string(idno));
        json_object_set_new(rec, "studentRegNo", json_string(regno));
        json_object_set_new(rec, "studentNo",
                            json_string(i == MANY / 2 ? "2022020100" : no));
        assert_int_equal(json_array_append_new(list, rec), 0);
    }

    batch = json_pack("{s:o}", "students", list);
    assert_non_null(batch);

    eg_std_ctx_init(&ctx, s->codes);
    eg_std_ctx_set_today(&ctx, "2024-10-08");
    ctx.now = 1728345600;
    eg_std_registry_from_batch(&ctx.registry, s->world);
    rep = eg_std_validate(&ctx, batch);
    json_decref(batch);
    assert_non_null(rep);

    if (rep->nv != 3 || std_count(rep, "studentNo", "R24", 'E') != 3
        || !eg_std_report_rejected(rep, 0)
        || !eg_std_report_rejected(rep, MANY / 2)
        || !eg_std_report_rejected(rep, MANY - 1)
        || eg_std_report_rejected(rep, 1))
    {
        std_dump(rep);
        fail_msg("expected R24 on studentNo for records 0, %d and %d only",
                 MANY / 2, MANY - 1);
    }

    eg_std_report_free(rep);
}


static void
test_r24_transfer(void **state)
{
    json_t       *world;
    std_rules_t  *s = *state;

    /* the known student left through a closed 学籍注册: number free */
    world = s->world;
    json_object_set_new(world, "schoolEnrollments",
                        json_pack("[{s:s, s:s, s:s, s:s, s:s}]",
                                  "id", NEW, "schoolId", SCHOOL,
                                  "personId", KNOWNSTU,
                                  "beginDate", "2022-09-01",
                                  "endDate", "2024-07-10"));
    std_clean(std_check(*state, "students", same_number()));
    json_object_del(world, "schoolEnrollments");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_r21a_class),
        cmocka_unit_test(test_r21b_school),
        cmocka_unit_test(test_r21c_person),
        cmocka_unit_test(test_r21d_terms),
        cmocka_unit_test(test_r21e_head_teacher),
        cmocka_unit_test(test_r21f_results),
        cmocka_unit_test(test_r21g_dependents),
        cmocka_unit_test(test_r24_unique),
        cmocka_unit_test(test_r24_many),
        cmocka_unit_test(test_r24_transfer),
    };

    return cmocka_run_group_tests(tests, std_rules_setup,
                                  std_rules_teardown);
}
