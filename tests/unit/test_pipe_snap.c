/*
 * Pins R29's full snapshots without nginx or Redis: which records join
 * or leave the set of seen vendor ids (store arguments), the arguments
 * of the snapshot script (every record the batch carries, grouped per
 * collection and tenant), and what its reply becomes: a deletion of the
 * forwarded batch that batch.xsd takes, a "deleted" record of the report
 * with R29 W outside the batch's own totals, a removal from the set, the
 * registry's copy marked tobedeleted and an R29 W in the conformance
 * counters of the record's school.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_pipe_int.h"


#define UID1  "0b0c0d0e-1f20-4a3b-9c4d-5e6f7a8b9c0d"
#define UID2  "1b0c0d0e-1f20-4a3b-9c4d-5e6f7a8b9c0d"
#define UID3  "2b0c0d0e-1f20-4a3b-9c4d-5e6f7a8b9c0d"
#define ORG1  "3b0c0d0e-1f20-4a3b-9c4d-5e6f7a8b9c0d"
#define ORG2  "4b0c0d0e-1f20-4a3b-9c4d-5e6f7a8b9c0d"
#define CONF  "eg:std:conf:smartcampus:"
#define SEEN  "eg:std:seen:smartcampus:"


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


static void
conf_init(eg_pipe_conf_t *conf, const char *tenant)
{
    memset(conf, 0, sizeof(eg_pipe_conf_t));
    conf->vendor = "smartcampus";
    conf->tenant = tenant;
    conf->batch_id = "b-1";
    conf->snapshot = 1;
    conf->now = 1725322522;
}


/* the store arguments as one string, "op key a b|op key a b|..." */
static char *
ops(json_t *store)
{
    static char  buf[2048];
    size_t       i;

    buf[0] = '\0';

    for (i = 0; i + 3 < json_array_size(store); i += 4) {
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
                 "%s%s %s %s %s", i ? "|" : "",
                 json_string_value(json_array_get(store, i)),
                 json_string_value(json_array_get(store, i + 1)),
                 json_string_value(json_array_get(store, i + 2)),
                 json_string_value(json_array_get(store, i + 3)));
    }

    return buf;
}


static void
test_seen(void **state)
{
    json_t          *store, *rec;
    eg_pipe_conf_t   conf;

    (void) state;

    conf_init(&conf, NULL);
    store = json_array();
    assert_non_null(store);

    rec = load("{\"id\": \"" UID1 "\", \"source\": {\"vendorLocalId\":"
               " \"u_1\", \"tenant\": \"T1\"}}");
    assert_int_equal(eg_pipe_seen(&conf, store, "students", rec), 0);
    json_decref(rec);

    /* a delta's tobedeleted leaves the set */
    rec = load("{\"id\": \"" UID2 "\", \"status\": \"tobedeleted\","
               " \"source\": {\"vendorLocalId\": \"u_2\","
               " \"tenant\": \"T1\"}}");
    assert_int_equal(eg_pipe_seen(&conf, store, "students", rec), 0);
    json_decref(rec);

    /* no vendor id, no tenant */
    rec = load("{\"id\": \"" UID2 "\", \"source\": {}}");
    assert_int_equal(eg_pipe_seen(&conf, store, "students", rec), 0);
    json_decref(rec);

    rec = load("{\"id\": \"" UID2 "\", \"source\": {\"vendorLocalId\":"
               " \"C1\"}}");
    assert_int_equal(eg_pipe_seen(&conf, store, "classes", rec), 0);
    json_decref(rec);

    assert_string_equal(ops(store),
        "hs " SEEN "T1:students u_1 " UID1 "|"
        "hd " SEEN "T1:students u_2 |"
        "hs " SEEN "-:classes C1 " UID2);

    /* the location's tenant when the record names none */
    json_array_clear(store);
    conf_init(&conf, "T9");
    rec = load("{\"id\": \"" UID2 "\", \"source\": {\"vendorLocalId\":"
               " \"C1\", \"tenant\": \"\"}}");
    assert_int_equal(eg_pipe_seen(&conf, store, "classes", rec), 0);
    json_decref(rec);
    assert_string_equal(ops(store), "hs " SEEN "T9:classes C1 " UID2);

    json_decref(store);
}


static const char  batch[] =
    "{\"students\": ["
    "  {\"id\": \"" UID1 "\", \"source\": {\"vendorLocalId\": \"u_1\","
    "   \"tenant\": \"T1\"}},"
    "  {\"source\": {\"vendorLocalId\": \"u_2\", \"tenant\": \"T1\"}},"
    "  {\"source\": {\"vendorLocalId\": \"u_3\", \"tenant\": \"T2\"}},"
    "  {\"source\": {}}],"
    " \"classes\": [{\"source\": {\"vendorLocalId\": \"C1\","
    "   \"tenant\": \"T1\"}}],"
    " \"courses\": []}";


/* the group of (collection, tenant) in res.groups, -1 if none */
static int
group_of(eg_pipe_result_t *res, const char *coll, const char *tenant)
{
    size_t   i;
    json_t  *g;

    json_array_foreach(res->groups, i, g) {
        if (strcmp(json_string_value(json_array_get(g, 0)), coll) == 0
            && strcmp(json_string_value(json_array_get(g, 1)), tenant) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


/* the script's arguments of group g: key, n, ids joined by spaces */
static char *
args_of(eg_pipe_result_t *res, int g)
{
    static char  buf[512];
    size_t       i, n, k;

    i = 0;

    for (k = 0; k < (size_t) g; k++) {
        i += 2 + strtoul(json_string_value(json_array_get(res->snapshot,
                                                          i + 1)),
                         NULL, 10);
    }

    n = strtoul(json_string_value(json_array_get(res->snapshot, i + 1)),
                NULL, 10);
    snprintf(buf, sizeof(buf), "%s %zu",
             json_string_value(json_array_get(res->snapshot, i)), n);

    for (k = 0; k < n; k++) {
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s",
                 json_string_value(json_array_get(res->snapshot,
                                                  i + 2 + k)));
    }

    return buf;
}


static void
test_snapshot_args(void **state)
{
    json_t            *records;
    eg_pipe_conf_t     conf;
    eg_pipe_result_t   res;

    (void) state;

    conf_init(&conf, NULL);
    memset(&res, 0, sizeof(res));
    records = load(batch);

    assert_int_equal(eg_pipe_snapshot_args(&conf, records, &res), 0);

    /* an empty collection and a record without vendor id: no group */
    assert_int_equal(json_array_size(res.groups), 3);
    assert_int_equal(json_array_size(res.snapshot), 3 * 2 + 4);
    assert_string_equal(args_of(&res, group_of(&res, "students", "T1")),
                        SEEN "T1:students 2 u_1 u_2");
    assert_string_equal(args_of(&res, group_of(&res, "students", "T2")),
                        SEEN "T2:students 1 u_3");
    assert_string_equal(args_of(&res, group_of(&res, "classes", "T1")),
                        SEEN "T1:classes 1 C1");
    assert_int_equal(group_of(&res, "courses", "-"), -1);

    eg_pipe_result_free(&res);
    json_decref(records);
}


static void
test_deletions(void **state)
{
    int                g;
    char              *text, num[8];
    json_t            *records, *dels, *d, *root, *bad;
    size_t             lens[16], i;
    const char        *vals[16];
    json_error_t       err;
    eg_pipe_conf_t     conf;
    eg_pipe_result_t   res;
    void              *schema;
    char               msg[256];

    (void) state;

    schema = eg_pipe_schema_load("schemas/std/v1/batch.xsd", msg,
                                 sizeof(msg));
    if (schema == NULL) {
        fail_msg("%s", msg);
    }

    conf_init(&conf, NULL);
    memset(&res, 0, sizeof(res));
    records = load(batch);
    assert_int_equal(eg_pipe_snapshot_args(&conf, records, &res), 0);

    res.report = eg_std_report_new("b-1");
    res.forward = json_pack("{s:s, s:s}", "batchId", "b-1", "feed", "bulk");
    res.store = json_array();
    assert_non_null(res.report);
    assert_non_null(res.forward);
    assert_non_null(res.store);

    /* one record of the batch itself, accepted */
    assert_int_equal(eg_std_report_record(res.report, EG_STD_STUDENT, "u_1",
                                          UID1), 0);

    g = group_of(&res, "students", "T1");
    snprintf(num, sizeof(num), "%d", g);

    /*
     * a seen student absent now, whose copy the registry lacks, then
     * what no reply should hold
     */
    vals[0] = num; vals[1] = "u_7"; vals[2] = UID2; vals[3] = "";
    vals[4] = "99"; vals[5] = "u_8"; vals[6] = UID2; vals[7] = "";
    vals[8] = "x"; vals[9] = "u_8"; vals[10] = UID2; vals[11] = "";
    vals[12] = num; vals[13] = NULL; vals[14] = UID2; vals[15] = "";

    for (i = 0; i < 16; i++) {
        lens[i] = vals[i] ? strlen(vals[i]) : 0;
    }

    assert_int_equal(eg_pipe_deletions(&conf, &res, 16, vals, lens), 0);
    assert_int_equal(res.deleted, 1);

    dels = json_object_get(res.forward, "deletions");
    assert_int_equal(json_array_size(dels), 1);
    d = json_array_get(dels, 0);
    assert_string_equal(json_string_value(json_object_get(d, "entity")),
                        "students");
    assert_string_equal(json_string_value(json_object_get(d, "id")), UID2);
    assert_string_equal(json_string_value(json_object_get(d,
                                                          "vendorLocalId")),
                        "u_7");
    assert_string_equal(json_string_value(json_object_get(d, "status")),
                        "tobedeleted");
    assert_string_equal(json_string_value(json_object_get(d,
                                                          "dateLastModified")),
                        "2024-09-03T00:15:22Z");

    /* the batch stays valid; a deletion is tobedeleted or nothing */
    assert_int_equal(eg_pipe_xsd_record(schema, "deletions", d), 1);
    bad = json_copy(d);
    json_object_set_new(bad, "status", json_string("active"));
    assert_int_equal(eg_pipe_xsd_record(schema, "deletions", bad), 0);
    json_object_set_new(bad, "status", json_string("tobedeleted"));
    json_object_set_new(bad, "entity", json_string("pupils"));
    assert_int_equal(eg_pipe_xsd_record(schema, "deletions", bad), 0);
    json_object_del(bad, "entity");
    assert_int_equal(eg_pipe_xsd_record(schema, "deletions", bad), 0);
    json_decref(bad);

    /* no copy to mark; counted, for no school the registry knows */
    assert_string_equal(ops(res.store), "hd " SEEN "T1:students u_7 ");
    assert_string_equal(ops(res.counters),
        "a eg:std:conf:index smartcampus:- |"
        "h " CONF "- batches 1|"
        "h " CONF "- R29:W 1");

    /* the report: a deleted record, R29 W, outside the batch's totals */
    text = eg_std_report_json(res.report);
    assert_non_null(text);
    root = json_loads(text, 0, &err);
    free(text);
    assert_non_null(root);

    d = json_object_get(root, "totals");
    assert_int_equal(json_integer_value(json_object_get(d, "records")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "accepted")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "flagged")), 0);
    assert_int_equal(json_integer_value(json_object_get(d, "W")), 1);

    assert_int_equal(json_array_size(json_object_get(root, "records")), 1);
    d = json_array_get(json_object_get(root, "records"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "status")),
                        "deleted");
    assert_string_equal(json_string_value(json_object_get(d, "entity")),
                        "student");
    assert_string_equal(json_string_value(json_object_get(d, "unifiedId")),
                        UID2);

    d = json_array_get(json_object_get(root, "violations"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "ruleId")),
                        "R29");
    assert_string_equal(json_string_value(json_object_get(d, "severity")),
                        "W");
    assert_string_equal(json_string_value(json_object_get(d, "message_en")),
                        "omitted from a full snapshot: deleted");
    json_decref(root);

    /* the answer counts it */
    text = eg_pipe_answer(&conf, &res, "accepted");
    assert_non_null(text);
    root = json_loads(text, 0, &err);
    free(text);
    assert_non_null(root);
    d = json_object_get(root, "totals");
    assert_int_equal(json_integer_value(json_object_get(d, "deleted")), 1);
    json_decref(root);

    eg_pipe_result_free(&res);
    json_decref(records);
    eg_pipe_schema_free(schema);
}


/*
 * The registry's copies: marked tobedeleted at the batch time, unless the
 * batch carries the same unified id (another vendor id); each deletion
 * counted for the school its copy leads to, through a record only the
 * reply holds, next to what the batch itself counted.
 */
static void
test_deletions_mark_and_count(void **state)
{
    char               num[8];
    json_t            *records, *rec;
    size_t             lens[20], i;
    const char        *vals[20], *text, *copy;
    json_error_t       err;
    eg_pipe_conf_t     conf;
    eg_pipe_result_t   res;

    (void) state;

    conf_init(&conf, NULL);
    memset(&res, 0, sizeof(res));
    records = load(batch);
    assert_int_equal(eg_pipe_snapshot_args(&conf, records, &res), 0);

    res.report = eg_std_report_new("b-1");
    res.forward = load("{\"batchId\": \"b-1\", \"students\":"
                       " [{\"id\": \"" UID3 "\"}]}");
    res.store = json_array();
    res.counters = json_array();
    res.counts = load("{\"2151049901\": {\"records\": 3}}");
    assert_non_null(res.report);
    assert_non_null(res.store);

    snprintf(num, sizeof(num), "%d", group_of(&res, "students", "T1"));

    copy = "{\"id\": \"" UID2 "\", \"status\": \"active\","
           " \"dateLastModified\": \"2024-09-01T08:00:00Z\","
           " \"schoolId\": \"" ORG1 "\", \"studentRegNo\": \"G1\"}";

    vals[0] = num; vals[1] = "u_7"; vals[2] = UID2; vals[3] = copy;
    vals[4] = num; vals[5] = "u_9"; vals[6] = UID3;
    vals[7] = "{\"id\": \"" UID3 "\", \"schoolId\": \"" ORG2 "\"}";
    vals[8] = "k"; vals[9] = "orgs"; vals[10] = ORG1;
    vals[11] = "{\"id\": \"" ORG1 "\", \"level\": \"school\","
               " \"schoolCode\": \"2151049901\"}";
    vals[12] = "k"; vals[13] = "orgs"; vals[14] = ORG2;
    vals[15] = "{\"id\": \"" ORG2 "\", \"level\": \"school\","
               " \"schoolCode\": \"2151049902\"}";
    /* unreadable: leads nowhere */
    vals[16] = "k"; vals[17] = "orgs"; vals[18] = "o-3"; vals[19] = "{";

    for (i = 0; i < 20; i++) {
        lens[i] = strlen(vals[i]);
    }

    assert_int_equal(eg_pipe_deletions(&conf, &res, 20, vals, lens), 0);
    assert_int_equal(res.deleted, 2);
    assert_null(json_object_get(res.by_id, "o-3"));

    /* UID2's copy marked, its indexes left; UID3 is the batch's own */
    assert_int_equal(json_array_size(res.store), 3 * 4);
    assert_string_equal(json_string_value(json_array_get(res.store, 0)),
                        "s");
    assert_string_equal(json_string_value(json_array_get(res.store, 1)),
                        "eg:std:rec:students:" UID2);
    text = json_string_value(json_array_get(res.store, 2));
    rec = json_loads(text, 0, &err);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "status")),
                        "tobedeleted");
    assert_string_equal(json_string_value(json_object_get(rec,
                                                          "dateLastModified")),
                        "2024-09-03T00:15:22Z");
    assert_string_equal(json_string_value(json_object_get(rec,
                                                          "studentRegNo")),
                        "G1");
    assert_string_equal(json_string_value(json_object_get(rec, "schoolId")),
                        ORG1);
    json_decref(rec);

    json_array_remove(res.store, 0);
    json_array_remove(res.store, 0);
    json_array_remove(res.store, 0);
    json_array_remove(res.store, 0);
    assert_string_equal(ops(res.store),
        "hd " SEEN "T1:students u_7 |hd " SEEN "T1:students u_9 ");

    /* one R29 W per school, next to the batch's own figures */
    assert_string_equal(ops(res.counters),
        "a eg:std:conf:index smartcampus:2151049901 |"
        "h " CONF "2151049901 batches 1|"
        "h " CONF "2151049901 records 3|"
        "h " CONF "2151049901 R29:W 1|"
        "a eg:std:conf:index smartcampus:2151049902 |"
        "h " CONF "2151049902 batches 1|"
        "h " CONF "2151049902 R29:W 1");

    eg_pipe_result_free(&res);
    json_decref(records);
}


/* an empty reply deletes nothing and leaves the batch as it was */
static void
test_nothing_absent(void **state)
{
    json_t            *records;
    eg_pipe_conf_t     conf;
    eg_pipe_result_t   res;

    (void) state;

    conf_init(&conf, NULL);
    memset(&res, 0, sizeof(res));
    records = load(batch);
    assert_int_equal(eg_pipe_snapshot_args(&conf, records, &res), 0);

    res.report = eg_std_report_new("b-1");
    res.forward = json_object();
    res.store = json_array();

    assert_int_equal(eg_pipe_deletions(&conf, &res, 0, NULL, NULL), 0);
    assert_int_equal(res.deleted, 0);
    assert_null(json_object_get(res.forward, "deletions"));
    assert_int_equal(json_array_size(res.store), 0);
    assert_null(res.counters);
    assert_int_equal(res.report->nr, 0);

    eg_pipe_result_free(&res);
    json_decref(records);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_seen),
        cmocka_unit_test(test_snapshot_args),
        cmocka_unit_test(test_deletions),
        cmocka_unit_test(test_deletions_mark_and_count),
        cmocka_unit_test(test_nothing_absent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
