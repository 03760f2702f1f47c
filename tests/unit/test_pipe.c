/*
 * Pins the push pipeline without nginx or Redis: the records the
 * smartcampus and yuejuan adapters make from the worked examples of the
 * data standard (section 5) get their unified ids (UUIDv5 of natural keys,
 * registry ids, ids derived from other ids), their references resolved
 * (batch, natural key, crosswalk, placeholder), and then produce exactly
 * the violations the standard lists; the forwarded batch carries no
 * identity number, the registry copy no personal data.  Redis replies are
 * given as the literal values a registry in that state answers.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "std_support.h"
#include "eg_pipe.h"
#include "eg_uuid.h"


#define NS  "bbb642f3-9b1c-4e0a-8f3d-5a7e2c6d1f40"


typedef struct {
    eg_codes_t     *codes;
    void           *schema;
    unsigned char   ns[16];
} pipe_state_t;


static int
setup(void **state)
{
    pipe_state_t  *s;

    s = calloc(1, sizeof(pipe_state_t));
    assert_non_null(s);
    char           err[256];

    s->codes = std_codes();
    s->schema = eg_pipe_schema_load("schemas/std/v1/batch.xsd", err,
                                    sizeof(err));
    if (s->schema == NULL) {
        fail_msg("%s", err);
    }

    assert_int_equal(eg_uuid_parse(NS, 36, s->ns), 0);
    *state = s;

    return 0;
}


static int
teardown(void **state)
{
    pipe_state_t  *s = *state;

    eg_codes_free(s->codes);
    eg_pipe_schema_free(s->schema);
    free(s);

    return 0;
}


static const char *
v5(pipe_state_t *s, const char *fmt, ...)
{
    static char  out[8][EG_UUID_LEN + 1];
    static int   next;
    char         name[512];
    char        *id;
    va_list      ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    id = out[next++ % 8];
    assert_int_equal(eg_uuid_v5(s->ns, name, strlen(name), id), 0);

    return id;
}


/*
 * Carries out the steps: the assignment script finds nothing and takes
 * each candidate, except the natural keys in assigned; MGET answers
 * from lookups.
 */
static void
run_steps(eg_unify_t *u, json_t *lookups, json_t *assigned, int *nsteps)
{
    int               rc;
    size_t            i, n;
    const char       *vals[4096], *nk;
    size_t            lens[4096];
    eg_unify_step_t   step;

    *nsteps = 0;

    while ((rc = eg_unify_step(u, &step)) == EG_UNIFY_COMMAND) {
        (*nsteps)++;
        n = 0;

        if (strcmp(step.argv[0], "MGET") == 0) {
            for (i = 1; i < step.argc; i++) {
                vals[n] = json_string_value(json_object_get(lookups,
                                                            step.argv[i]));
                lens[n] = vals[n] ? strlen(vals[n]) : 0;
                n++;
            }

        } else {
            assert_string_equal(step.argv[0], "EVAL");
            assert_string_equal(step.argv[1], eg_unify_script());
            assert_int_equal((step.argc - 3) % 4, 0);

            for (i = 3; i < step.argc; i += 4) {
                nk = step.argv[i];
                vals[n] = json_string_value(json_object_get(assigned, nk));
                if (vals[n] == NULL) {
                    vals[n] = step.argv[i + 3];
                }

                lens[n] = strlen(vals[n]);
                n++;
            }
        }

        assert_int_equal(eg_unify_reply(u, n, vals, lens), 0);
    }

    assert_int_equal(rc, EG_UNIFY_DONE);
}


static json_t *
load(const char *text)
{
    json_t        *j;
    json_error_t   err;

    j = json_loads(text, 0, &err);
    if (j == NULL) {
        fail_msg("fixture JSON: %s at line %d", err.text, err.line);
    }

    return j;
}


static json_t *
record_of(json_t *records, const char *coll, const char *local)
{
    size_t       i;
    json_t      *rec;
    const char  *v;

    json_array_foreach(json_object_get(records, coll), i, rec) {
        v = json_string_value(json_object_get(json_object_get(rec, "source"),
                                              "vendorLocalId"));
        if (v && strcmp(v, local) == 0) {
            return rec;
        }
    }

    fail_msg("no %s record %s", coll, local);

    return NULL;
}


static const char *
field(json_t *rec, const char *name)
{
    return json_string_value(json_object_get(rec, name));
}


/* the smartcampus adapter's records of the 5.1 roster (its fixtures) */
static const char  roster_a[] =
    "{\"orgs\": [{\"source\": {\"vendorId\": \"smartcampus\","
    "  \"vendorLocalId\": \"SCH00871\", \"tenant\": \"JJQJYJ\"},"
    "  \"level\": \"school\", \"name\": \"锦江区示例实验小学\","
    "  \"schoolCode\": \"2151049901\", \"divisionCode\": \"510104\","
    "  \"schoolType\": \"211\", \"stages\": [\"2\"],"
    "  \"_prov\": {\"schoolType\": {\"raw\": \"小学\","
    "   \"mapping\": \"exact\"}}}],"
    " \"academicSessions\": [{\"source\": {\"vendorId\": \"smartcampus\","
    "  \"vendorLocalId\": \"2024-2025-1\", \"tenant\": \"JJQJYJ\"},"
    "  \"type\": \"semester\", \"orgId\": \"SCH00871\","
    "  \"schoolYear\": \"2024-2025\","
    "  \"title\": \"2024-2025学年第一学期\","
    "  \"termCode\": \"1\"}],"
    " \"classes\": [{\"source\": {\"vendorId\": \"smartcampus\","
    "  \"vendorLocalId\": \"C202102\", \"tenant\": \"JJQJYJ\"},"
    "  \"classKind\": \"homeroom\", \"title\": \"三年级(2)班\","
    "  \"schoolId\": \"SCH00871\", \"classNo\": \"02\","
    "  \"gradeLevel\": \"03\", \"stage\": \"2\", \"cohortYear\": \"2022\","
    "  \"headTeacherId\": \"T0193\", \"termIds\": [\"2024-2025-1\"]}],"
    " \"students\": ["
    "  {\"source\": {\"vendorId\": \"smartcampus\","
    "   \"vendorLocalId\": \"u_88213\", \"tenant\": \"JJQJYJ\"},"
    "   \"name\": \"李思雨\", \"sex\": \"2\", \"birthDate\": \"2016-05-12\","
    "   \"ethnicity\": \"01\", \"idType\": \"1\", \"nationality\": \"CHN\","
    "   \"idNumber\": \"510104201605120323\","
    "   \"studentRegNo\": \"G510104201605120323\","
    "   \"studentNo\": \"2022020117\", \"schoolId\": \"SCH00871\","
    "   \"homeroomClassId\": \"C202102\", \"enrolmentStatus\": \"01\","
    "   \"gradeLevel\": \"03\"},"
    "  {\"source\": {\"vendorId\": \"smartcampus\","
    "   \"vendorLocalId\": \"u_88214\", \"tenant\": \"JJQJYJ\"},"
    "   \"name\": \"阿依古丽·买买提\", \"sex\": \"2\","
    "   \"birthDate\": \"2016-03-16\", \"ethnicity\": \"05\","
    "   \"idType\": \"1\", \"nationality\": \"CHN\","
    "   \"idNumber\": \"510104201603061585\","
    "   \"studentRegNo\": \"L510104201603067394\","
    "   \"studentNo\": \"2022020118\", \"schoolId\": \"SCH00871\","
    "   \"homeroomClassId\": \"C202102\", \"enrolmentStatus\": \"01\","
    "   \"gradeLevel\": \"03\","
    "   \"_prov\": {\"enrolmentStatus\": {\"raw\": \"在校\","
    "    \"mapping\": \"synonym\"}},"
    "   \"_violations\": ["
    "    {\"rule\": \"R26\", \"severity\": \"I\", \"field\": \"name\","
    "     \"actual\": \"阿依古丽.买买提\","
    "     \"message\": \"separator normalised to U+00B7\"},"
    "    {\"rule\": \"R20\", \"severity\": \"I\","
    "     \"field\": \"enrolmentStatus\", \"actual\": \"在校\"}]},"
    "  {\"source\": {\"vendorId\": \"smartcampus\","
    "   \"vendorLocalId\": \"u_88215\", \"tenant\": \"JJQJYJ\"},"
    "   \"name\": \"张浩然\", \"sex\": \"1\", \"birthDate\": \"2016-02-18\","
    "   \"ethnicity\": \"01\", \"idType\": \"1\", \"nationality\": \"CHN\","
    "   \"idNumber\": \"510112201602182116\","
    "   \"studentRegNo\": \"G510112201602182115\","
    "   \"studentNo\": \"2022020119\", \"schoolId\": \"SCH00871\","
    "   \"homeroomClassId\": \"C202103\", \"enrolmentStatus\": \"01\","
    "   \"gradeLevel\": \"03\"}]}";


/* the district's org tree and calendar, as seeded before the push */
static json_t *
known_a(pipe_state_t *s)
{
    char  text[4096];

    snprintf(text, sizeof(text),
             "{\"orgs\": ["
             " {\"id\": \"%s\", \"level\": \"province\","
             "  \"name\": \"四川省教育厅\","
             "  \"divisionCode\": \"510000\"},",
             v5(s, "org|province|510000"));
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             " {\"id\": \"%s\", \"level\": \"city\","
             "  \"name\": \"成都市教育局\","
             "  \"divisionCode\": \"510100\", \"parentId\": \"%s\"},",
             v5(s, "org|city|510100"), v5(s, "org|province|510000"));
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             " {\"id\": \"%s\", \"level\": \"district\","
             "  \"name\": \"成都市锦江区教育局\","
             "  \"divisionCode\": \"510104\","
             "  \"parentId\": \"%s\"}],",
             v5(s, "org|district|510104"), v5(s, "org|city|510100"));
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             " \"academicSessions\": ["
             " {\"id\": \"%s\", \"type\": \"schoolYear\","
             "  \"schoolYear\": \"2024-2025\", \"title\": \"2024-2025学年\","
             "  \"startDate\": \"2024-09-01\", \"endDate\": \"2025-08-31\","
             "  \"orgId\": \"%s\"},",
             v5(s, "session|%s|2024-2025|Y",
                v5(s, "org|school|2151049901")),
             v5(s, "org|school|2151049901"));
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             " {\"id\": \"%s\", \"type\": \"semester\","
             "  \"schoolYear\": \"2024-2025\", \"termCode\": \"1\","
             "  \"title\": \"2024-2025学年第一学期\","
             "  \"startDate\": \"2024-09-01\", \"endDate\": \"2025-01-19\","
             "  \"parentId\": \"%s\", \"orgId\": \"%s\"}]}",
             v5(s, "session|%s|2024-2025|1",
                v5(s, "org|school|2151049901")),
             v5(s, "session|%s|2024-2025|Y",
                v5(s, "org|school|2151049901")),
             v5(s, "org|school|2151049901"));

    /* the closing "]}" becomes the grade's homeroom course */
    text[strlen(text) - 1] = '\0';
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             ", \"courses\": [{\"id\": \"%s\", \"title\": \"三年级班级\","
             "  \"subjectCode\": \"60\", \"gradeLevels\": [\"03\"],"
             "  \"orgId\": \"%s\"}]}",
             v5(s, "course|%s|grade|03|homeroom",
                v5(s, "org|school|2151049901")),
             v5(s, "org|school|2151049901"));

    return load(text);
}


static eg_unify_t *
unify(pipe_state_t *s, const char *vendor, const char *const *own,
    json_t *records)
{
    eg_unify_t       *u;
    eg_unify_conf_t   conf;

    memset(&conf, 0, sizeof(conf));
    conf.vendor = vendor;
    conf.batch_id = "b-1";
    conf.own = own;
    memcpy(conf.ns, s->ns, 16);

    u = eg_unify_new(&conf, records);
    assert_non_null(u);

    return u;
}


static void
validate(pipe_state_t *s, eg_unify_t *u, json_t *known, const char *today,
    int observe, eg_pipe_result_t *res)
{
    eg_pipe_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.codes = s->codes;
    conf.schema = s->schema;
    conf.vendor = "smartcampus";
    conf.batch_id = "b-1";
    conf.observe = observe;
    conf.hmac_key = (const unsigned char *) "district-hmac-key-for-tests";
    conf.hmac_len = strlen((const char *) conf.hmac_key);
    conf.now = 1725322522;
    conf.today = today;

    assert_int_equal(eg_pipe_run(&conf, u, known, res), 0);
}


static const char *const  sc_own[] = {
    "orgs", "academicSessions", "classes", "students", "enrollments", NULL
};


static void
test_vendor_a(void **state)
{
    int                steps;
    char              *text, want[128];
    json_t            *records, *known, *lookups, *rec, *args;
    eg_unify_t        *u;
    pipe_state_t      *s = *state;
    eg_pipe_result_t   res;
    const char        *school;

    static const std_expect_t  exp[] = {
        { "u_88214", "name", "R26", 'I' },
        { "u_88214", "birthDate", "R06", 'E' },
        { "u_88214", "studentRegNo", "R11", 'I' },
        { "u_88214", "enrolmentStatus", "R20", 'I' },
        { "u_88215", "idNumber", "R02", 'E' },
        { "u_88215", "studentRegNo", "R09", 'W' },
        { "u_88215", "homeroomClassId", "R21a", 'E' },
    };

    records = load(roster_a);
    u = unify(s, "smartcampus", sc_own, records);

    /* the registry knows the district by its division code */
    lookups = json_pack("{s:s}", "eg:std:nk:org|district|510104",
                        v5(s, "org|district|510104"));
    run_steps(u, lookups, NULL, &steps);

    /* assignment, lookups (C202103, T0193, the district); nothing more */
    assert_int_equal(steps, 2);

    school = v5(s, "org|school|2151049901");
    rec = record_of(records, "orgs", "SCH00871");
    assert_string_equal(field(rec, "id"), school);
    assert_string_equal(field(rec, "parentId"),
                        v5(s, "org|district|510104"));

    rec = record_of(records, "academicSessions", "2024-2025-1");
    assert_string_equal(field(rec, "orgId"), school);
    assert_string_equal(field(rec, "id"),
                        v5(s, "session|%s|2024-2025|1", school));

    rec = record_of(records, "classes", "C202102");
    assert_string_equal(field(rec, "id"),
                        v5(s, "class|%s|2024-2025|homeroom|03|02", school));
    /* the HR system has not sent the head teacher yet: left out */
    assert_null(json_object_get(rec, "headTeacherId"));
    assert_string_equal(field(json_object_get(json_object_get(rec, "_prov"),
                                               "headTeacherId"), "mapping"),
                        "unresolved");

    rec = record_of(records, "students", "u_88213");
    assert_string_equal(field(rec, "id"),
                        v5(s, "student|G510104201605120323"));
    assert_string_equal(field(rec, "homeroomClassId"),
                        field(record_of(records, "classes", "C202102"), "id"));

    /* an L number is no natural key: the registry's id */
    rec = record_of(records, "students", "u_88214");
    assert_true(eg_uuid_valid(field(rec, "id")));
    assert_int_equal(field(rec, "id")[14], '4');

    rec = record_of(records, "students", "u_88215");
    assert_string_equal(field(json_object_get(json_object_get(rec, "_prov"),
                                              "homeroomClassId"), "raw"),
                        "C202103");

    /* the fetch: the district and what it hangs under, the batch's own
       records as the registry knows them */
    args = eg_pipe_fetch_args(records);
    assert_non_null(args);
    text = json_dumps(args, JSON_COMPACT);
    snprintf(want, sizeof(want), "\"r\",\"orgs\",\"%s\"",
             v5(s, "org|district|510104"));
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want), "\"r\",\"orgs\",\"%s\"", school);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "\"f\",\"students\",\"studentRegNo\","
                                 "\"G510104201605120323\""));
    free(text);
    json_decref(args);

    known = known_a(s);
    validate(s, u, known, "2024-09-03", 0, &res);

    std_expect(res.report, exp, sizeof(exp) / sizeof(exp[0]));
    assert_int_equal(res.records, 6);
    assert_int_equal(res.rejected, 2);
    assert_int_equal(res.forwarded, 4);

    /* the semester's dates came from the calendar */
    rec = record_of(records, "academicSessions", "2024-2025-1");
    assert_string_equal(field(rec, "startDate"), "2024-09-01");

    /* forwarded: no identity number, its HMAC; enforce drops E records */
    text = json_dumps(res.forward, JSON_COMPACT);
    assert_null(strstr(text, "\"510104201605120323\""));
    assert_non_null(strstr(text, "\"idNumberHmac\":\""));
    assert_null(strstr(text, "u_88214"));
    free(text);

    /* stored: accepted records without personal data; counters */
    text = json_dumps(res.store, JSON_COMPACT);
    assert_null(strstr(text, "李思雨"));
    assert_null(strstr(text, "2016-05-12"));
    assert_non_null(strstr(text, "eg:std:idx:students:studentRegNo:"
                                 "G510104201605120323"));
    free(text);

    text = json_dumps(res.counters, JSON_COMPACT);
    assert_non_null(strstr(text, "\"h\",\"eg:std:conf:smartcampus:"
                                 "2151049901\",\"R06:E\",\"1\""));
    assert_non_null(strstr(text, "\"h\",\"eg:std:conf:smartcampus:"
                                 "2151049901\",\"rejected\",\"2\""));
    free(text);

    eg_pipe_result_free(&res);
    eg_unify_free(u);
    json_decref(known);
    json_decref(lookups);
    json_decref(records);
}


static void
test_observe(void **state)
{
    int                steps;
    json_t            *records, *known;
    eg_unify_t        *u;
    pipe_state_t      *s = *state;
    eg_pipe_result_t   res;

    records = load(roster_a);
    u = unify(s, "smartcampus", sc_own, records);
    run_steps(u, NULL, NULL, &steps);

    known = known_a(s);
    validate(s, u, known, "2024-09-03", 1, &res);

    assert_int_equal(res.rejected, 2);
    assert_int_equal(res.forwarded, 6);

    eg_pipe_result_free(&res);
    eg_unify_free(u);
    json_decref(known);
    json_decref(records);
}


/*
 * A bulk feed at a snapshot location names every record it carries,
 * rejected ones too (R29); a delta feed names none, and its records must
 * say their status and when they changed.
 */
static void
test_feeds(void **state)
{
    int                steps, delta;
    size_t             i;
    json_t            *records, *known, *a;
    eg_unify_t        *u;
    pipe_state_t      *s = *state;
    eg_pipe_conf_t     conf;
    eg_pipe_result_t   res;

    for (delta = 0; delta < 2; delta++) {
        records = load(roster_a);
        u = unify(s, "smartcampus", sc_own, records);
        run_steps(u, NULL, NULL, &steps);
        known = known_a(s);

        memset(&conf, 0, sizeof(conf));
        conf.codes = s->codes;
        conf.vendor = "smartcampus";
        conf.batch_id = "b-1";
        conf.now = 1725322522;
        conf.today = "2024-09-03";
        conf.snapshot = 1;
        conf.delta = delta;

        assert_int_equal(eg_pipe_run(&conf, u, known, &res), 0);
        assert_string_equal(json_string_value(json_object_get(res.forward,
                                                              "feed")),
                            delta ? "delta" : "bulk");
        assert_null(json_object_get(eg_unify_records(u), "feed"));

        if (delta) {
            assert_null(res.snapshot);
            assert_int_equal(res.rejected, 6);

            for (i = 0; i < res.report->nv; i++) {
                if (strcmp(res.report->v[i].rule, "R29") == 0) {
                    assert_int_equal(res.report->v[i].severity, 'E');
                }
            }

        } else {
            a = res.snapshot;
            assert_int_equal(res.rejected, 2);
            assert_int_equal(json_array_size(res.groups), 4);
            /* students, then the three ids of the roster */
            for (i = 0; i < json_array_size(a); i++) {
                if (strcmp(json_string_value(json_array_get(a, i)),
                           "eg:std:seen:smartcampus:JJQJYJ:students")
                    == 0)
                {
                    break;
                }
            }

            assert_true(i + 4 < json_array_size(a));
            assert_string_equal(json_string_value(json_array_get(a, i + 1)),
                                "3");
            assert_string_equal(json_string_value(json_array_get(a, i + 2)),
                                "u_88213");
            assert_string_equal(json_string_value(json_array_get(a, i + 4)),
                                "u_88215");
        }

        eg_pipe_result_free(&res);
        eg_unify_free(u);
        json_decref(known);
        json_decref(records);
    }
}


/* an enrollment of a rejected student is rejected with it */
static void
test_cascade(void **state)
{
    int                steps;
    json_t            *records, *known, *list;
    eg_unify_t        *u;
    pipe_state_t      *s = *state;
    eg_pipe_result_t   res;

    static const std_expect_t  exp[] = {
        { "u_88214", "name", "R26", 'I' },
        { "u_88214", "birthDate", "R06", 'E' },
        { "u_88214", "studentRegNo", "R11", 'I' },
        { "u_88214", "enrolmentStatus", "R20", 'I' },
        { "u_88215", "idNumber", "R02", 'E' },
        { "u_88215", "studentRegNo", "R09", 'W' },
        { "u_88215", "homeroomClassId", "R21a", 'E' },
        { "C202102|u_88214", "personId", "R21c", 'E' },
        { "C202103|u_88215", "classId", "R21a", 'E' },
    };

    records = load(roster_a);
    list = load("[{\"source\": {\"vendorLocalId\": \"C202102|u_88213\"},"
                " \"role\": \"student\", \"classId\": \"C202102\","
                " \"schoolId\": \"SCH00871\", \"personId\": \"u_88213\"},"
                " {\"source\": {\"vendorLocalId\": \"C202102|u_88214\"},"
                " \"role\": \"student\", \"classId\": \"C202102\","
                " \"schoolId\": \"SCH00871\", \"personId\": \"u_88214\"},"
                " {\"source\": {\"vendorLocalId\": \"C202103|u_88215\"},"
                " \"role\": \"student\", \"classId\": \"C202103\","
                " \"schoolId\": \"SCH00871\", \"personId\": \"u_88215\"}]");
    json_object_set_new(records, "enrollments", list);

    u = unify(s, "smartcampus", sc_own, records);
    run_steps(u, NULL, NULL, &steps);

    known = known_a(s);
    validate(s, u, known, "2024-09-03", 0, &res);

    std_expect(res.report, exp, sizeof(exp) / sizeof(exp[0]));
    assert_int_equal(res.rejected, 4);
    assert_int_equal(res.forwarded, 5);

    eg_pipe_result_free(&res);
    eg_unify_free(u);
    json_decref(known);
    json_decref(records);
}


/* a record the rules accept and the XSD refuses is not forwarded */
static void
test_xsd(void **state)
{
    int                steps;
    char              *text;
    json_t            *records, *known, *rec;
    eg_unify_t        *u;
    pipe_state_t      *s = *state;
    eg_pipe_result_t   res;
    size_t             i;
    int                found;

    records = load(roster_a);
    rec = record_of(records, "students", "u_88213");
    json_object_set_new(rec, "studentNo",
                        json_string("2022020117-0123456789-0123456789"));

    u = unify(s, "smartcampus", sc_own, records);
    run_steps(u, NULL, NULL, &steps);

    known = known_a(s);
    validate(s, u, known, "2024-09-03", 0, &res);

    found = 0;

    for (i = 0; i < res.report->nv; i++) {
        if (strcmp(res.report->v[i].rule, "XSD") == 0) {
            assert_string_equal(res.report->v[i].field, "studentNo");
            assert_int_equal(res.report->v[i].severity, 'E');
            assert_non_null(strstr(res.report->v[i].message_en,
                                   "maxLength"));
            found++;
        }
    }

    assert_int_equal(found, 1);
    assert_int_equal(res.rejected, 3);
    assert_int_equal(res.forwarded, 3);

    text = json_dumps(res.forward, JSON_COMPACT);
    assert_null(strstr(text, "u_88213"));
    free(text);

    eg_pipe_result_free(&res);
    eg_unify_free(u);
    json_decref(known);
    json_decref(records);
}


/* the L number's registry id and the crosswalk of a later G number */
static void
test_supersession_args(void **state)
{
    size_t            i;
    json_t           *records;
    eg_unify_t       *u;
    pipe_state_t     *s = *state;
    eg_unify_step_t   step;

    records = load("{\"students\": [{\"source\": {\"vendorLocalId\":"
                   " \"u_88214\"}, \"studentRegNo\": \"G510104201603061585\","
                   " \"name\": \"x\"}]}");
    u = unify(s, "smartcampus", sc_own, records);

    assert_int_equal(eg_unify_step(u, &step), EG_UNIFY_COMMAND);
    assert_int_equal(step.argc, 7);

    i = 3;
    assert_string_equal(step.argv[i],
                        "eg:std:nk:student|G510104201603061585");
    assert_string_equal(step.argv[i + 1], "1");
    assert_string_equal(step.argv[i + 2],
                        "eg:std:xw:smartcampus:-:students:u_88214");
    assert_string_equal(step.argv[i + 3],
                        v5(s, "student|G510104201603061585"));

    eg_unify_free(u);
    json_decref(records);
}


/* a vendor id too long for a key is hashed into it */
static void
test_long_vendor_id(void **state)
{
    char              text[512], local[301];
    json_t           *records;
    eg_unify_t       *u;
    pipe_state_t     *s = *state;
    eg_unify_step_t   step;

    memset(local, 'x', 300);
    local[300] = '\0';

    snprintf(text, sizeof(text), "{\"staff\": [{\"source\": "
             "{\"vendorLocalId\": \"%s\"}, \"name\": \"x\"}]}", local);
    records = load(text);
    u = unify(s, "hr", sc_own, records);

    assert_int_equal(eg_unify_step(u, &step), EG_UNIFY_COMMAND);
    assert_int_equal(step.argc, 7);
    /* python3 -c 'import hashlib;
       print(hashlib.sha256(b"x" * 300).hexdigest())' */
    assert_string_equal(step.argv[5], "eg:std:xw:hr:-:staff:sha256:"
                        "0d4e2ca9e9cbced7a7a5380eb29e1a37"
                        "83b9b6d0db72de36a1051038e1c1fbc7");

    eg_unify_free(u);
    json_decref(records);
}


/* the yuejuan adapter's records of the 5.2 export (its fixtures) */
static const char  scores_b[] =
    "{\"lineItems\": [{\"source\": {\"vendorId\": \"yuejuan\","
    "  \"vendorLocalId\": \"EX-2025-0107-G3|YW\"},"
    "  \"title\": \"2024-2025学年上期三年级"
    "期末质量监测（语文）\","
    "  \"subjectCode\": \"13\", \"examCategory\": \"02\","
    "  \"schoolCode\": \"2151049901\", \"gradeLevel\": \"03\","
    "  \"assignDate\": \"2025-01-08\", \"termId\": \"2024-2025-1\","
    "  \"resultValueMin\": 0, \"resultValueMax\": 100}],"
    " \"results\": ["
    "  {\"source\": {\"vendorId\": \"yuejuan\","
    "   \"vendorLocalId\": \"250302017\"},"
    "   \"lineItemId\": \"EX-2025-0107-G3|YW\","
    "   \"studentId\": \"G510104201605120323\", \"studentName\": \"李思雨\","
    "   \"scoreStatus\": \"fully graded\", \"examStatus\": \"01\","
    "   \"score\": 92.5, \"scoreDate\": \"2025-01-08\","
    "   \"gradeLevel\": \"03\", \"classNo\": \"02\"},"
    "  {\"source\": {\"vendorId\": \"yuejuan\","
    "   \"vendorLocalId\": \"250302018\"},"
    "   \"lineItemId\": \"EX-2025-0107-G3|YW\","
    "   \"studentId\": \"L510104201603067394\","
    "   \"scoreStatus\": \"not submitted\", \"examStatus\": null,"
    "   \"score\": null, \"scoreDate\": \"2025-01-08\","
    "   \"_prov\": {\"examStatus\": {\"raw\": \"1\","
    "    \"mapping\": \"ambiguous\"}},"
    "   \"_violations\": [{\"rule\": \"R20\", \"severity\": \"W\","
    "    \"field\": \"examStatus\", \"actual\": \"1\"}]},"
    "  {\"source\": {\"vendorId\": \"yuejuan\","
    "   \"vendorLocalId\": \"250302031\"},"
    "   \"lineItemId\": \"EX-2025-0107-G3|YW\","
    "   \"studentId\": \"G510104201606150022\","
    "   \"scoreStatus\": \"fully graded\", \"examStatus\": \"01\","
    "   \"score\": 105, \"scoreDate\": \"2025-01-08\"}]}";


static json_t *
known_b(pipe_state_t *s, const char *l_student)
{
    char         text[4096];
    const char  *school;

    school = v5(s, "org|school|2151049901");

    snprintf(text, sizeof(text),
             "{\"orgs\": [{\"id\": \"%s\", \"level\": \"school\","
             "  \"schoolCode\": \"2151049901\", \"divisionCode\": \"510104\","
             "  \"schoolType\": \"211\", \"stages\": [\"2\"]}],",
             school);
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             " \"academicSessions\": [{\"id\": \"%s\","
             "  \"type\": \"semester\", \"schoolYear\": \"2024-2025\","
             "  \"termCode\": \"1\", \"startDate\": \"2024-09-01\","
             "  \"endDate\": \"2025-01-19\", \"orgId\": \"%s\"}],",
             v5(s, "session|%s|2024-2025|1", school), school);
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             " \"courses\": [{\"id\": \"%s\", \"title\": \"三年级语文\","
             "  \"subjectCode\": \"13\", \"gradeLevels\": [\"03\"],"
             "  \"orgId\": \"%s\"}],",
             v5(s, "course|%s|grade|03|13", school), school);
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             " \"students\": [{\"id\": \"%s\", \"status\": \"active\","
             "  \"studentRegNo\": \"G510104201605120323\","
             "  \"schoolId\": \"%s\", \"gradeLevel\": \"03\","
             "  \"enrolmentStatus\": \"01\"}",
             v5(s, "student|G510104201605120323"), school);

    if (l_student) {
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 ", {\"id\": \"%s\", \"status\": \"active\","
                 "  \"studentRegNo\": \"L510104201603067394\","
                 "  \"schoolId\": \"%s\", \"gradeLevel\": \"03\","
                 "  \"enrolmentStatus\": \"01\"}",
                 l_student, school);
    }

    snprintf(text + strlen(text), sizeof(text) - strlen(text), "]}");

    return load(text);
}


static void
test_vendor_b(void **state)
{
    int                strict, steps;
    char               text[64];
    json_t            *records, *known, *lookups, *rec;
    eg_unify_t        *u;
    pipe_state_t      *s = *state;
    eg_pipe_result_t   res;
    const char        *l_id, *school;

    static const char *const  own[] = { "lineItems", "results", NULL };

    static const std_expect_t  exp[] = {
        { "250302018", "examStatus", "R20", 'W' },
        { "250302031", "score", "R23", 'E' },
        { "250302031", "studentId", "R21f", 'E' },
    };

    static const std_expect_t  exp_strict[] = {
        { "250302018", "examStatus", "R20", 'W' },
        { "250302018", "studentId", "R21f", 'E' },
        { "250302031", "score", "R23", 'E' },
        { "250302031", "studentId", "R21f", 'E' },
    };

    l_id = "55065013-546c-485f-8c37-daf5bf973096";
    school = v5(s, "org|school|2151049901");

    for (strict = 0; strict <= 1; strict++) {
        records = load(scores_b);
        u = unify(s, "yuejuan", own, records);

        /* the L number was registered by the roster push */
        lookups = json_pack("{s:s}", "eg:std:nk:student|L510104201603067394",
                            l_id);
        run_steps(u, lookups, NULL, &steps);

        rec = record_of(records, "lineItems", "EX-2025-0107-G3|YW");
        assert_string_equal(field(rec, "courseId"),
                            v5(s, "course|%s|grade|03|13", school));
        assert_string_equal(field(rec, "termId"),
                            v5(s, "session|%s|2024-2025|1", school));
        assert_null(json_object_get(rec, "schoolCode"));
        assert_null(json_object_get(rec, "gradeLevel"));

        rec = record_of(records, "results", "250302018");
        assert_string_equal(field(rec, "studentId"), l_id);
        snprintf(text, sizeof(text), "%s", field(rec, "id"));

        rec = record_of(records, "results", "250302017");
        assert_null(json_object_get(rec, "studentName"));
        assert_null(json_object_get(rec, "classNo"));

        known = known_b(s, strict ? NULL : l_id);
        validate(s, u, known, "2025-01-10", 0, &res);

        if (strict) {
            std_expect(res.report, exp_strict,
                       sizeof(exp_strict) / sizeof(exp_strict[0]));

        } else {
            std_expect(res.report, exp, sizeof(exp) / sizeof(exp[0]));
        }

        eg_pipe_result_free(&res);
        eg_unify_free(u);
        json_decref(known);
        json_decref(lookups);
        json_decref(records);
    }
}


/* a reply that does not fit its step is refused */
static void
test_bad_replies(void **state)
{
    json_t           *records;
    eg_unify_t       *u;
    pipe_state_t     *s = *state;
    const char       *vals[1];
    size_t            lens[1];
    eg_unify_step_t   step;

    records = load(roster_a);
    u = unify(s, "smartcampus", sc_own, records);

    assert_int_equal(eg_unify_step(u, &step), EG_UNIFY_COMMAND);

    vals[0] = "not-a-uuid";
    lens[0] = strlen(vals[0]);
    assert_int_equal(eg_unify_reply(u, 1, vals, lens), -1);

    eg_unify_free(u);
    json_decref(records);
}


/*
 * The fetch goes in pieces: a record two pieces reach comes back twice
 * and is known once; a record without an id is kept as it is.
 */
static void
test_known_twice(void **state)
{
    size_t       i;
    json_t      *known;
    const char  *vals[] = {
        "orgs", "{\"id\":\"a\",\"level\":\"district\"}",
        "classes", "{\"id\":\"a\"}",
        "orgs", "{\"id\":\"a\",\"level\":\"district\"}",
        "orgs", "{\"id\":\"b\"}",
        "orgs", "{\"name\":\"no id\"}",
        "nothing", "{\"id\":\"c\"}",
        "orgs", "not json"
    };
    size_t       lens[sizeof(vals) / sizeof(vals[0])];

    (void) state;

    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        lens[i] = strlen(vals[i]);
    }

    known = eg_pipe_known(sizeof(vals) / sizeof(vals[0]), vals, lens);
    assert_non_null(known);

    assert_int_equal(json_array_size(json_object_get(known, "orgs")), 3);
    assert_int_equal(json_array_size(json_object_get(known, "classes")), 1);
    assert_null(json_object_get(known, "nothing"));
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(json_object_get(known, "orgs"), 1), "id")), "b");

    json_decref(known);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_vendor_a),
        cmocka_unit_test(test_observe),
        cmocka_unit_test(test_feeds),
        cmocka_unit_test(test_cascade),
        cmocka_unit_test(test_xsd),
        cmocka_unit_test(test_supersession_args),
        cmocka_unit_test(test_long_vendor_id),
        cmocka_unit_test(test_vendor_b),
        cmocka_unit_test(test_bad_replies),
        cmocka_unit_test(test_known_twice),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
