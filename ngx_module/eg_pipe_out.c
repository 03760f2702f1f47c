/*
 * Copyright (C) EduGate contributors
 *
 * What a validated batch becomes: the standardized batch for the data
 * center (identity numbers only as an HMAC), the registry's copy of the
 * accepted records (their ids and references, no personal data), the
 * crosswalk of derived ids, and the conformance counters per vendor,
 * school and rule.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "eg_codec.h"
#include "eg_pipe_int.h"


#define EG_PIPE_SCHOOL_DEPTH  5


/*
 * (op, key, a, b): "s" SET key a; "a" SADD key a; "h" HINCRBY key a b;
 * "hs" HSET key a b; "hd" HDEL key a.  A big batch's operations go in
 * pieces (ngx_http_edugate_std_redis), so that Redis serves everyone
 * else between them.  All but the counters can be done twice, and the
 * counters come last: a push refused in the middle (503) and sent again
 * stores what one push would and counts the batch once.
 */
static const char  eg_pipe_store_lua[] =
    "for i = 1, #ARGV, 4 do\n"
    "  local op, k, a, b = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]\n"
    "  if op == 's' then redis.call('SET', k, a)\n"
    "  elseif op == 'a' then redis.call('SADD', k, a)\n"
    "  elseif op == 'h' then redis.call('HINCRBY', k, a, b)\n"
    "  elseif op == 'hs' then redis.call('HSET', k, a, b)\n"
    "  elseif op == 'hd' then redis.call('HDEL', k, a) end\n"
    "end\n"
    "return #ARGV / 4\n";


/* never kept by the registry: it checks references, not people */
static const char  *eg_pipe_personal[] = {
    "name", "namePinyin", "idNumber", "idNumberHmac", "birthDate", "sex",
    "ethnicity", "nationality", "hkmtoCode", "birthplace",
    "politicalStatus", "healthStatus", "householdType", "phone",
    "address", "principalName", "_prov", NULL
};

/* the fields the registry finds records by (eg_pipe_finds) */
static const char  *eg_pipe_indexed[][2] = {
    { "students", "studentRegNo" },
    { "students", "studentNo" },
    { "students", "schoolId" },
    { "enrollments", "personId" },
    { "enrollments", "classId" },
    { "results", "lineItemId" },
    { "orgs", "parentId" },
    { NULL, NULL }
};

/* from a record towards its school */
static const char  *eg_pipe_up[] = {
    "schoolId", "orgId", "homeroomClassId", "classId", "courseId",
    "lineItemId", "studentId", "personId", NULL
};


static int eg_pipe_forward_record(const eg_pipe_conf_t *conf, json_t *list,
    json_t *rec);
static int eg_pipe_store_record(json_t *store, const char *coll,
    json_t *rec);
static int eg_pipe_by_id(json_t *by_id, json_t *batch);
static void eg_pipe_timestamp(time_t now, char *buf, size_t size);


const char *
eg_pipe_store_script(void)
{
    return eg_pipe_store_lua;
}


int
eg_pipe_output(const eg_pipe_conf_t *conf, eg_unify_t *u, json_t *known,
    eg_pipe_result_t *res)
{
    int                   e, rejected;
    char                  ts[32], field[16];
    size_t                i, idx;
    json_t               *records, *list, *out, *rec, *by_id, *counts;
    json_t               *schools, *bindings;
    const char           *coll, *school;
    eg_std_report_t      *rep;
    eg_std_violation_t   *v;

    rep = res->report;
    records = eg_unify_records(u);

    eg_pipe_timestamp(conf->now, ts, sizeof(ts));

    /* the batch of schemas/std/v1/batch.xsd, nothing else */
    res->forward = json_pack("{s:s, s:s, s:s, s:s}",
                             "batchId", conf->batch_id,
                             "vendorId", conf->vendor,
                             "feed", conf->delta ? "delta" : "bulk",
                             "generatedAt", ts);
    res->store = json_array();
    res->counters = json_array();

    /* kept: the deletions of a full snapshot are counted later */
    res->by_id = json_object();
    res->counts = json_object();
    by_id = res->by_id;
    counts = res->counts;
    schools = json_array();

    if (res->forward == NULL || res->store == NULL || res->counters == NULL
        || by_id == NULL
        || counts == NULL || schools == NULL
        || (conf->tenant
            && json_object_set_new(res->forward, "tenant",
                                   json_string(conf->tenant)) != 0)
        || eg_pipe_by_id(by_id, known) != 0
        || eg_pipe_by_id(by_id, records) != 0)
    {
        goto failed;
    }

    idx = 0;

    for (e = 0; e < EG_STD_NENTITIES; e++) {
        coll = eg_std_entity_collection(e);
        list = json_object_get(records, coll);

        if (json_array_size(list) == 0) {
            continue;
        }

        out = json_array();
        if (out == NULL || json_object_set_new(res->forward, coll, out) != 0)
        {
            goto failed;
        }

        json_array_foreach(list, i, rec) {
            if (!json_is_object(rec)) {
                continue;
            }

            rejected = eg_std_report_rejected(rep, idx);
            school = eg_pipe_school(by_id, rec, 0);

            if (json_array_append_new(schools, json_string(school)) != 0
                || eg_pipe_count(counts, school, "records", 1) != 0
                || (rejected
                    && eg_pipe_count(counts, school, "rejected", 1) != 0))
            {
                goto failed;
            }

            res->records++;
            res->rejected += rejected;

            if (!rejected || conf->observe) {
                if (eg_pipe_forward_record(conf, out, rec) != 0
                    || eg_pipe_seen(conf, res->store, coll, rec) != 0)
                {
                    goto failed;
                }

                res->forwarded++;
            }

            if (!rejected && eg_pipe_store_record(res->store, coll, rec) != 0)
            {
                goto failed;
            }

            idx++;
        }
    }

    for (i = 0; i < rep->nv; i++) {
        v = &rep->v[i];
        school = json_string_value(json_array_get(schools, v->record));
        eg_pipe_rule_field(v, field, sizeof(field));

        if (eg_pipe_count(counts, school ? school : "-", field, 1) != 0) {
            goto failed;
        }
    }

    bindings = eg_unify_bindings(u);

    for (i = 0; i + 1 < json_array_size(bindings); i += 2) {
        if (eg_pipe_op(res->store, "s",
                       json_string_value(json_array_get(bindings, i)),
                       json_string_value(json_array_get(bindings, i + 1)),
                       "") != 0)
        {
            goto failed;
        }
    }

    if (eg_pipe_counters(conf, counts, res->counters) != 0) {
        goto failed;
    }

    json_decref(schools);

    return 0;

failed:

    json_decref(schools);

    return -1;
}


static int
eg_pipe_forward_record(const eg_pipe_conf_t *conf, json_t *list,
    json_t *rec)
{
    char           hex[2 * 32 + 1];
    json_t        *copy;
    const char    *id;
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];

    /* top-level keys change, nested values are shared: no deep copy */
    copy = json_copy(rec);
    if (copy == NULL) {
        return -1;
    }

    /* an identity number leaves the gateway as its HMAC only */
    id = json_string_value(json_object_get(copy, "idNumber"));

    if (id && conf->hmac_key
        && HMAC(EVP_sha256(), conf->hmac_key, (int) conf->hmac_len,
                (const unsigned char *) id, strlen(id), md, &n) != NULL)
    {
        eg_hex_encode((unsigned char *) hex, md, 32);
        hex[64] = '\0';

        if (json_object_set_new(copy, "idNumberHmac", json_string(hex))
            != 0)
        {
            json_decref(copy);
            return -1;
        }
    }

    json_object_del(copy, "idNumber");

    return json_array_append_new(list, copy);
}


static int
eg_pipe_store_record(json_t *store, const char *coll, json_t *rec)
{
    int          rc;
    char        *text, key[160];
    size_t       i;
    json_t      *copy;
    const char  *id, *v;

    id = json_string_value(json_object_get(rec, "id"));
    if (id == NULL) {
        return 0;
    }

    copy = json_copy(rec);
    if (copy == NULL) {
        return -1;
    }

    for (i = 0; eg_pipe_personal[i]; i++) {
        json_object_del(copy, eg_pipe_personal[i]);
    }

    text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);

    if (text == NULL) {
        return -1;
    }

    snprintf(key, sizeof(key), "eg:std:rec:%s:%s", coll, id);
    rc = eg_pipe_op(store, "s", key, text, "");
    free(text);

    for (i = 0; rc == 0 && eg_pipe_indexed[i][0]; i++) {
        if (strcmp(eg_pipe_indexed[i][0], coll) != 0) {
            continue;
        }

        v = json_string_value(json_object_get(rec, eg_pipe_indexed[i][1]));

        if (v == NULL || strlen(v) > 64) {
            continue;
        }

        snprintf(key, sizeof(key), "eg:std:idx:%s:%s:%s", coll,
                 eg_pipe_indexed[i][1], v);
        rc = eg_pipe_op(store, "a", key, id, "");
    }

    return rc;
}


static int
eg_pipe_by_id(json_t *by_id, json_t *batch)
{
    size_t       i;
    json_t      *list, *rec;
    const char  *coll, *id;

    json_object_foreach(batch, coll, list) {
        json_array_foreach(list, i, rec) {
            id = json_string_value(json_object_get(rec, "id"));

            if (id && json_object_set(by_id, id, rec) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


const char *
eg_pipe_school(json_t *by_id, json_t *rec, int depth)
{
    size_t       i;
    const char  *level, *code, *s;

    level = json_string_value(json_object_get(rec, "level"));
    code = json_string_value(json_object_get(rec, "schoolCode"));

    if (level && strcmp(level, "school") == 0 && code
        && strspn(code, "0123456789") == strlen(code) && strlen(code) == 10)
    {
        return code;
    }

    for (i = 0; depth < EG_PIPE_SCHOOL_DEPTH && eg_pipe_up[i]; i++) {
        s = json_string_value(json_object_get(rec, eg_pipe_up[i]));

        if (s && json_object_get(by_id, s)) {
            s = eg_pipe_school(by_id, json_object_get(by_id, s), depth + 1);

            if (strcmp(s, "-") != 0) {
                return s;
            }
        }
    }

    return "-";
}


int
eg_pipe_count(json_t *counts, const char *school, const char *field, int n)
{
    json_t  *per, *v;

    per = json_object_get(counts, school);

    if (per == NULL) {
        per = json_object();
        if (json_object_set_new(counts, school, per) != 0) {
            return -1;
        }
    }

    v = json_object_get(per, field);

    return json_object_set_new(per, field,
                               json_integer(json_integer_value(v) + n));
}


int
eg_pipe_counters(const eg_pipe_conf_t *conf, json_t *counts, json_t *store)
{
    char         key[160], member[128], n[24];
    json_t      *per, *v;
    const char  *school, *field;

    json_object_foreach(counts, school, per) {
        snprintf(key, sizeof(key), "eg:std:conf:%s:%s", conf->vendor,
                 school);
        snprintf(member, sizeof(member), "%s:%s", conf->vendor, school);

        if (eg_pipe_op(store, "a", "eg:std:conf:index", member, "") != 0
            || eg_pipe_op(store, "h", key, "batches", "1") != 0)
        {
            return -1;
        }

        json_object_foreach(per, field, v) {
            snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));

            if (eg_pipe_op(store, "h", key, field, n) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


void
eg_pipe_rule_field(const eg_std_violation_t *v, char *field, size_t size)
{
    snprintf(field, size, "%.8s:%c", v->rule, v->severity);
}


int
eg_pipe_op(json_t *store, const char *op, const char *key, const char *a,
    const char *b)
{
    if (key == NULL || a == NULL) {
        return -1;
    }

    return (json_array_append_new(store, json_string(op))
            || json_array_append_new(store, json_string(key))
            || json_array_append_new(store, json_string(a))
            || json_array_append_new(store, json_string(b))) ? -1 : 0;
}


char *
eg_pipe_answer(const eg_pipe_conf_t *conf, eg_pipe_result_t *res,
    const char *forward_status)
{
    char          *text;
    json_t        *root, *totals;
    json_error_t   err;

    text = eg_std_report_json(res->report);
    if (text == NULL) {
        return NULL;
    }

    root = json_loads(text, 0, &err);
    free(text);

    if (root == NULL) {
        return NULL;
    }

    totals = json_object_get(root, "totals");

    if (json_object_set_new(root, "vendor", json_string(conf->vendor))
        || json_object_set_new(root, "mode",
                               json_string(conf->observe ? "observe"
                                                         : "enforce"))
        || json_object_set_new(root, "forward",
                               json_string(forward_status))
        || json_object_set_new(totals, "forwarded",
                               json_integer(res->forwarded))
        || json_object_set_new(totals, "dropped",
                               json_integer(res->records - res->forwarded))
        || json_object_set_new(totals, "deleted",
                               json_integer(res->deleted))
        || (json_array_size(res->payload)
            && json_object_set(root, "payload", res->payload))
        || (strcmp(forward_status, "failed") == 0
            && (json_object_set_new(root, "error",
                                    json_string("forward_failed"))
                || json_object_set_new(root, "message",
                                       json_string("the data center refused "
                                                   "the batch: nothing was "
                                                   "imported")))))
    {
        json_decref(root);
        return NULL;
    }

    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);

    return text;
}


static void
eg_pipe_timestamp(time_t now, char *buf, size_t size)
{
    struct tm  tm;

    if (gmtime_r(&now, &tm) == NULL
        || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        snprintf(buf, size, "1970-01-01T00:00:00Z");
    }
}
