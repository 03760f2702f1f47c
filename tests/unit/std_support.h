/*
 * Shared by the data standard's unit tests: the shipped and
 * generated code tables, fixtures, and matching a report against the
 * violations a test expects.
 */

#ifndef STD_SUPPORT_H
#define STD_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_std.h"
#include "eg_std_xml.h"


#define STD_CODES      "schemas/std/v1/codes"
#define STD_GENERATED  "build/std/codes"
#define STD_FIXTURES   "tests/fixtures/std/"


typedef struct {
    const char  *vendor_local_id;   /* or the unified id when NULL */
    const char  *field;
    const char  *rule;
    char         severity;
} std_expect_t;


static inline eg_codes_t *
std_codes(void)
{
    char         err[256];
    eg_codes_t  *codes;

    codes = eg_codes_new();
    assert_non_null(codes);

    if (eg_codes_load_dir(codes, STD_CODES, err, sizeof(err)) != 0
        || eg_codes_load_dir(codes, STD_GENERATED, err, sizeof(err)) != 0)
    {
        fail_msg("code tables: %s (run make schemas)", err);
    }

    return codes;
}


static inline json_t *
std_fixture(const char *name)
{
    char     path[256], err[256];
    json_t  *batch;

    snprintf(path, sizeof(path), "%s%s", STD_FIXTURES, name);
    batch = eg_std_xml_read_file(path, err, sizeof(err));
    if (batch == NULL) {
        fail_msg("%s: %s", path, err);
    }

    return batch;
}


static inline void
std_dump(const eg_std_report_t *rep)
{
    size_t                     i;
    const eg_std_violation_t  *v;
    const eg_std_record_t     *r;

    for (i = 0; i < rep->nv; i++) {
        v = &rep->v[i];
        r = &rep->r[v->record];
        print_message("  %s %s %s %s %c actual=%s expected=%s\n",
                      eg_std_entity_name(r->entity),
                      r->vendor_local_id ? r->vendor_local_id
                                         : (r->unified_id ? r->unified_id
                                                          : "-"),
                      v->field ? v->field : "-", v->rule, v->severity,
                      v->actual ? v->actual : "-",
                      v->expected ? v->expected : "-");
    }
}


/* the report holds exactly the expected violations, in any order */
static inline void
std_expect(const eg_std_report_t *rep, const std_expect_t *exp, size_t n)
{
    int                        ok;
    size_t                     i, j, hits;
    const char                *who;
    const eg_std_violation_t  *v;
    const eg_std_record_t     *r;

    ok = (rep->nv == n);

    for (i = 0; i < n && ok; i++) {
        hits = 0;
        for (j = 0; j < rep->nv; j++) {
            v = &rep->v[j];
            r = &rep->r[v->record];
            who = r->vendor_local_id ? r->vendor_local_id : r->unified_id;

            if (who && strcmp(who, exp[i].vendor_local_id) == 0
                && v->field && strcmp(v->field, exp[i].field) == 0
                && strcmp(v->rule, exp[i].rule) == 0
                && v->severity == exp[i].severity)
            {
                hits++;
            }
        }
        ok = (hits == 1);
    }

    if (!ok) {
        print_message("expected %zu violations, got %zu:\n", n, rep->nv);
        std_dump(rep);
        fail();
    }
}

/* ids of the known world used by the rule tests */
#define U(n)     "00000000-0000-4000-8000-0000000000" n
#define NAT      U("01")
#define PROV     U("02")
#define CITY     U("03")
#define DIST     U("04")
#define SCHOOL   U("05")
#define SCHOOL2  U("06")
#define YEAR     U("10")
#define TERM1    U("11")
#define TERM2    U("12")
#define YEAR2    U("13")
#define COURSE   U("20")
#define COURSEYW U("21")
#define HOME     U("30")
#define HOME2    U("31")
#define HOMEX    U("32")
#define TEACHER  U("40")
#define KNOWNSTU U("50")
#define ENR      U("60")
#define ITEM     U("70")
#define NEW      U("99")


/*
 * Known records: 教育部 > 四川省 > 成都市 > 锦江区 > two
 * schools; the 2024-2025 school year with its two semesters; a
 * homeroom class 三年级(1)班 with a teacher and an enrolled student;
 * a line item.
 */
static const char  std_world[] =
    "{\"orgs\": ["
    " {\"id\": \"" NAT "\", \"level\": \"national\", \"name\": \"教育部\"},"
    " {\"id\": \"" PROV "\", \"level\": \"province\", \"name\": \"四川省\","
    "  \"divisionCode\": \"510000\", \"parentId\": \"" NAT "\"},"
    " {\"id\": \"" CITY "\", \"level\": \"city\", \"name\": \"成都市\","
    "  \"divisionCode\": \"510100\", \"parentId\": \"" PROV "\"},"
    " {\"id\": \"" DIST "\", \"level\": \"district\", \"name\": \"锦江区\","
    "  \"divisionCode\": \"510104\", \"parentId\": \"" CITY "\"},"
    " {\"id"
    "\": \"" SCHOOL "\", \"level\": \"school\", \"name\": \"示例小学\","
    "  \"schoolCode\": \"2151049901\", \"divisionCode\": \"510104\","
    "  \"schoolType\": \"211\", \"stages\": [\"2\"],"
    "  \"parentId\": \"" DIST "\"},"
    " {\"id\": \"" SCHOOL2 "\", \"level\": \"school\", \"name\": \"二小\","
    "  \"schoolCode\": \"2151049902\", \"divisionCode\": \"510104\","
    "  \"schoolType\": \"211\", \"stages\": [\"2\"],"
    "  \"parentId\": \"" DIST "\"}],"
    " \"academicSessions\": ["
    " {\"id\": \"" YEAR "\", \"type\": \"schoolYear\","
    "  \"schoolYear\": \"2024-2025\", \"title\": \"2024-2025学年\","
    "  \"startDate\": \"2024-09-01\", \"endDate\": \"2025-08-31\","
    "  \"orgId\": \"" SCHOOL "\"},"
    " {\"id\": \"" YEAR2 "\", \"type\": \"schoolYear\","
    "  \"schoolYear\": \"2025-2026\", \"title\": \"2025-2026学年\","
    "  \"startDate\": \"2025-09-01\", \"endDate\": \"2026-08-31\","
    "  \"orgId\": \"" SCHOOL "\"},"
    " {\"id\": \"" TERM1 "\", \"type\": \"semester\","
    "  \"schoolYear\": \"2024-2025\", \"termCode\": \"1\", \"title\": \"上\","
    "  \"startDate\": \"2024-09-01\", \"endDate\": \"2025-01-19\","
    "  \"parentId\": \"" YEAR "\", \"orgId\": \"" SCHOOL "\"},"
    " {\"id\": \"" TERM2 "\", \"type\": \"semester\","
    "  \"schoolYear\": \"2025-2026\", \"termCode\": \"1\", \"title\": \"上\","
    "  \"startDate\": \"2025-09-01\", \"endDate\": \"2026-01-18\","
    "  \"parentId\": \"" YEAR2 "\", \"orgId\": \"" SCHOOL "\"}],"
    " \"courses\": ["
    " {\"id\": \"" COURSE "\", \"title\": \"三年级班级\","
    "  \"subjectCode\": \"60\", \"gradeLevels\": [\"03\"],"
    "  \"orgId\": \"" SCHOOL "\"},"
    " {\"id\": \"" COURSEYW "\", \"title\": \"三年级语文\","
    "  \"subjectCode\": \"13\", \"gradeLevels\": [\"03\"],"
    "  \"orgId\": \"" SCHOOL "\"}],"
    " \"classes\": ["
    " {\"id"
    "\": \"" HOME "\", \"classKind\": \"homeroom\", \"title\": \"一班\","
    "  \"classNo\": \"01\", \"schoolId\": \"" SCHOOL "\", \"stage\": \"2\","
    "  \"gradeLevel\": \"03\", \"courseId\": \"" COURSE "\","
    "  \"termIds\": [\"" TERM1 "\"]},"
    " {\"id"
    "\": \"" HOME2 "\", \"classKind\": \"homeroom\", \"title\": \"二班\","
    "  \"classNo\": \"02\", \"schoolId\": \"" SCHOOL "\", \"stage\": \"2\","
    "  \"gradeLevel\": \"03\", \"courseId\": \"" COURSE "\","
    "  \"termIds\": [\"" TERM1 "\"]},"
    " {\"id"
    "\": \"" HOMEX "\", \"classKind\": \"homeroom\", \"title\": \"外校\","
    "  \"classNo\": \"01\", \"schoolId\": \"" SCHOOL2 "\", \"stage\": \"2\","
    "  \"gradeLevel\": \"03\", \"courseId\": \"" COURSE "\","
    "  \"termIds\": [\"" TERM1 "\"]}],"
    " \"staff\": ["
    " {\"id\": \"" TEACHER "\", \"name\": \"王建国\", \"sex\": \"1\","
    "  \"birthDate\": \"1978-06-15\", \"ethnicity\": \"01\","
    "  \"nationality\": \"CHN\", \"idType\": \"1\","
    "  \"idNumber\": \"510104197806154010\", \"staffNo\": \"T0193\","
    "  \"schoolId\": \"" SCHOOL "\", \"role\": \"teacher\"}],"
    " \"students\": ["
    " {\"id\": \"" KNOWNSTU "\", \"name\": \"王子涵\", \"sex\": \"2\","
    "  \"birthDate\": \"2016-06-15\", \"ethnicity\": \"01\","
    "  \"nationality\": \"CHN\", \"idType\": \"1\","
    "  \"studentRegNo\": \"G51010420160615"
    "0022\", \"studentNo\": \"2022020100\","
    "  \"schoolId\": \"" SCHOOL "\", \"homeroomClassId\": \"" HOME "\","
    "  \"gradeLevel\": \"03\", \"enrolmentStatus\": \"01\"}],"
    " \"enrollments\": ["
    " {\"id\": \"" ENR "\", \"classId\": \"" HOME "\","
    "  \"schoolId\": \"" SCHOOL "\", \"personId\": \"" KNOWNSTU "\","
    "  \"role\": \"student\", \"beginDate\": \"2024-09-01\"}],"
    " \"lineItems\": ["
    " {\"id"
    "\": \"" ITEM "\", \"title\": \"语文期末\", \"classId\": \"" HOME "\","
    "  \"termId\": \"" TERM1 "\", \"subjectCode\": \"13\","
    "  \"resultValueMin\": 0, \"resultValueMax\": 100,"
    "  \"scoreScale\": [\"优秀\", \"良好\", \"合格\", \"不合格\"]}]"
    "}";


/* a valid new student of the known school and class */
static const char  std_student[] =
    "{\"id\": \"" NEW "\", \"source\": {\"vendorId\": \"v\","
    " \"vendorLocalId\": \"s1\"}, \"name\": \"李思雨\", \"sex\": \"2\","
    " \"birthDate\": \"2016-05-12\", \"ethnicity\": \"01\","
    " \"nationality\": \"CHN\", \"idType\": \"1\","
    " \"idNumber\": \"510104201605120323\","
    " \"studentRegNo\": \"G510104201605120323\", \"studentNo\": \"2022020117\","
    " \"schoolId\": \"" SCHOOL "\", \"homeroomClassId\": \"" HOME "\","
    " \"gradeLevel\": \"03\", \"enrolmentStatus\": \"01\"}";


typedef struct {
    eg_codes_t  *codes;
    json_t      *world;
} std_rules_t;


static inline int
std_rules_setup(void **state)
{
    std_rules_t   *s;
    json_error_t   e;

    s = calloc(1, sizeof(std_rules_t));
    assert_non_null(s);
    s->codes = std_codes();
    s->world = json_loads(std_world, 0, &e);
    if (s->world == NULL) {
        fail_msg("world: %s at %d", e.text, e.position);
    }
    *state = s;

    return 0;
}


static inline int
std_rules_teardown(void **state)
{
    std_rules_t  *s = *state;

    eg_codes_free(s->codes);
    json_decref(s->world);
    free(s);

    return 0;
}


static inline json_t *
std_json(const char *text)
{
    json_t        *j;
    json_error_t   e;

    j = json_loads(text, 0, &e);
    if (j == NULL) {
        fail_msg("json: %s at %d: %s", e.text, e.position, text);
    }

    return j;
}


/* validates {collection: [rec]} (rec is consumed) against the world */
static inline eg_std_report_t *
std_check(std_rules_t *s, const char *collection, json_t *rec)
{
    json_t           *batch;
    eg_std_ctx_t      ctx;
    eg_std_report_t  *rep;

    batch = json_pack("{s:[o]}", collection, rec);
    assert_non_null(batch);

    eg_std_ctx_init(&ctx, s->codes);
    assert_int_equal(eg_std_ctx_set_today(&ctx, "2024-10-08"), 0);
    ctx.now = 1728345600;   /* 2024-10-08T00:00:00Z */
    eg_std_registry_from_batch(&ctx.registry, s->world);

    rep = eg_std_validate(&ctx, batch);
    assert_non_null(rep);
    json_decref(batch);

    return rep;
}


/* the base student with one field replaced (NULL value: removed) */
static inline json_t *
std_student_with(const char *field, const char *value)
{
    json_t  *rec;

    rec = std_json(std_student);
    if (field != NULL) {
        if (value == NULL) {
            json_object_del(rec, field);
        } else {
            json_object_set_new(rec, field, json_string(value));
        }
    }

    return rec;
}


/* number of violations of a rule on a field with a severity */
static inline size_t
std_count(const eg_std_report_t *rep, const char *field, const char *rule,
    char severity)
{
    size_t  i, n;

    n = 0;
    for (i = 0; i < rep->nv; i++) {
        if ((field == NULL
             || (rep->v[i].field && strcmp(rep->v[i].field, field) == 0))
            && strcmp(rep->v[i].rule, rule) == 0
            && rep->v[i].severity == severity)
        {
            n++;
        }
    }

    return n;
}


/* exactly one violation and it is this one; frees the report */
static inline void
std_only(eg_std_report_t *rep, const char *field, const char *rule,
    char severity)
{
    if (rep->nv != 1 || std_count(rep, field, rule, severity) != 1) {
        print_message("expected only %s %s %c, got:\n", field, rule,
                      severity);
        std_dump(rep);
        eg_std_report_free(rep);
        fail();
    }

    eg_std_report_free(rep);
}


/* no violation at all; frees the report */
static inline void
std_clean(eg_std_report_t *rep)
{
    if (rep->nv != 0) {
        print_message("expected no violation, got:\n");
        std_dump(rep);
        eg_std_report_free(rep);
        fail();
    }

    eg_std_report_free(rep);
}

#endif /* STD_SUPPORT_H */
