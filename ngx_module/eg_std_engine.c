/*
 * Copyright (C) EduGate contributors
 *
 * The engine: indexes a batch, runs the rule groups on every record, and
 * resolves references across the batch and the registry of known records.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_rules.h"


struct eg_std_batch_s {
    json_t  *records[EG_STD_NENTITIES];     /* arrays, batch order */
    json_t  *by_id[EG_STD_NENTITIES];       /* id -> record */
    json_t  *known;                         /* "entity|id" -> registry
                                               record or null */
    json_t  *where;                         /* record address -> index */
    json_t  *fields;                        /* "b|entity|field" (batch) or
                                               "r|..." (registry) -> value
                                               -> records, built when
                                               first asked */
};


static int eg_std_index(eg_std_batch_t *b, eg_std_report_t *rep,
    eg_std_entity_e entity, json_t *rec);
static void eg_std_run(eg_rule_ctx_t *rc);
static void eg_std_batch_free(eg_std_batch_t *b);
static json_t *eg_std_reg_lookup(void *data, eg_std_entity_e entity,
    const char *id);
static json_t *eg_std_reg_find(void *data, eg_std_entity_e entity,
    const char *field, const char *value);
static json_t *eg_std_collection(json_t *batch, eg_std_entity_e entity);
static json_t *eg_std_matches(eg_rule_ctx_t *rc, int registry,
    eg_std_entity_e entity, const char *field, const char *value);


void
eg_std_ctx_init(eg_std_ctx_t *ctx, const eg_codes_t *codes)
{
    struct tm  tm;

    memset(ctx, 0, sizeof(eg_std_ctx_t));
    ctx->codes = codes;
    ctx->now = time(NULL);
    ctx->year_start = 8;

    if (localtime_r(&ctx->now, &tm) != NULL) {
        strftime(ctx->today, sizeof(ctx->today), "%Y-%m-%d", &tm);
    }
}


int
eg_std_ctx_set_today(eg_std_ctx_t *ctx, const char *date)
{
    if (!eg_rule_date(date)) {
        return -1;
    }

    memcpy(ctx->today, date, 10);
    ctx->today[10] = '\0';

    return 0;
}


eg_std_report_t *
eg_std_validate(const eg_std_ctx_t *ctx, json_t *batch)
{
    int              e, k;
    size_t           i;
    json_t          *coll, *rec;
    const char      *level, *feed;
    eg_rule_ctx_t    rc;
    eg_std_batch_t   b;
    eg_std_report_t *rep;

    if (!json_is_object(batch)) {
        return NULL;
    }

    rep = eg_std_report_new(eg_rule_str(batch, "batchId"));
    if (rep == NULL) {
        return NULL;
    }

    memset(&b, 0, sizeof(eg_std_batch_t));
    b.known = json_object();
    b.where = json_object();
    b.fields = json_object();

    for (e = 0; e < EG_STD_NENTITIES; e++) {
        b.records[e] = json_array();
        b.by_id[e] = json_object();
        if (b.records[e] == NULL || b.by_id[e] == NULL) {
            rep->nomem = 1;
        }
    }

    if (b.known == NULL || b.where == NULL || b.fields == NULL) {
        rep->nomem = 1;
    }

    for (e = 0; e < EG_STD_NENTITIES && !rep->nomem; e++) {
        coll = json_object_get(batch, eg_std_entity_collection(e));

        for (i = 0; i < json_array_size(coll); i++) {
            rec = json_array_get(coll, i);
            if (!json_is_object(rec)) {
                continue;
            }

            k = e;
            level = eg_rule_str(rec, "level");
            if (e == EG_STD_ORG && level && strcmp(level, "school") == 0) {
                k = EG_STD_SCHOOL;
            }

            if (eg_std_index(&b, rep, k, rec) != 0) {
                rep->nomem = 1;
                break;
            }
        }
    }

    memset(&rc, 0, sizeof(eg_rule_ctx_t));
    rc.ctx = ctx;
    rc.batch = &b;
    rc.report = rep;
    feed = eg_rule_str(batch, "feed");
    rc.delta = (feed != NULL && strcmp(feed, "delta") == 0);

    for (e = 0; e < EG_STD_NENTITIES && !rep->nomem; e++) {
        json_array_foreach(b.records[e], i, rec) {
            rc.entity = e;
            rc.rec = rec;
            rc.index = eg_rule_batch_index(&rc, rec);
            eg_std_run(&rc);
        }
    }

    if (!rep->nomem) {
        rc.rec = NULL;
        eg_rules_unique(&rc);
    }

    eg_std_batch_free(&b);

    if (rep->nomem) {
        eg_std_report_free(rep);
        return NULL;
    }

    return rep;
}


static void
eg_std_run(eg_rule_ctx_t *rc)
{
    eg_rules_feed(rc);
    eg_rules_mapping(rc);
    eg_rules_codes(rc);
    eg_rules_dates(rc);
    eg_rules_refs(rc);
    eg_rules_dependents(rc);

    switch (rc->entity) {

    case EG_STD_ORG:
    case EG_STD_SCHOOL:
        eg_rules_org(rc);
        eg_rules_uscc(rc);
        break;

    case EG_STD_STUDENT:
    case EG_STD_STAFF:
        eg_rules_name(rc);
        eg_rules_idnumber(rc);
        if (rc->entity == EG_STD_STUDENT) {
            eg_rules_regno(rc);
        }
        eg_rules_cross(rc);
        eg_rules_phone(rc);
        break;

    case EG_STD_LINE_ITEM:
    case EG_STD_RESULT:
        eg_rules_score(rc);
        break;

    default:
        break;
    }
}


static int
eg_std_index(eg_std_batch_t *b, eg_std_report_t *rep, eg_std_entity_e entity,
    json_t *rec)
{
    char         key[32];
    size_t       idx;
    json_t      *src;
    const char  *id;

    src = json_object_get(rec, "source");
    id = eg_rule_str(rec, "id");

    idx = eg_std_report_record(rep, entity,
                               eg_rule_str(src, "vendorLocalId"), id);
    if (idx == (size_t) -1) {
        return -1;
    }

    snprintf(key, sizeof(key), "%p", (void *) rec);

    if (json_array_append(b->records[entity], rec) != 0
        || json_object_set_new(b->where, key, json_integer(idx)) != 0)
    {
        return -1;
    }

    if (id == NULL) {
        return 0;
    }

    if (json_object_get(b->by_id[entity], id) != NULL
        || (entity == EG_STD_SCHOOL
            && json_object_get(b->by_id[EG_STD_ORG], id) != NULL))
    {
        eg_std_report_add(rep, idx, "id", "R24", EG_STD_ERROR, id, NULL,
                          "同一批次中统一标识重复",
                          "the unified id occurs twice in the batch");
        return 0;
    }

    if (json_object_set(b->by_id[entity], id, rec) != 0) {
        return -1;
    }

    /* a school is an org too: references to orgs find it */
    if (entity == EG_STD_SCHOOL
        && json_object_set(b->by_id[EG_STD_ORG], id, rec) != 0)
    {
        return -1;
    }

    return 0;
}


static void
eg_std_batch_free(eg_std_batch_t *b)
{
    int  e;

    for (e = 0; e < EG_STD_NENTITIES; e++) {
        json_decref(b->records[e]);
        json_decref(b->by_id[e]);
    }

    json_decref(b->known);
    json_decref(b->where);
    json_decref(b->fields);
}


void
eg_rule_report(eg_rule_ctx_t *rc, const char *field, const char *rule,
    char severity, const char *actual, const char *expected,
    const char *message_zh, const char *message_en)
{
    eg_std_report_add(rc->report, rc->index, field, rule, severity, actual,
                      expected, message_zh, message_en);
}


json_t *
eg_rule_get(eg_rule_ctx_t *rc, eg_std_entity_e entity, const char *id,
    int *known)
{
    char                      key[160];
    json_t                   *rec;
    const eg_std_registry_t  *reg;

    *known = 0;

    if (id == NULL || (unsigned) entity >= EG_STD_NENTITIES) {
        return NULL;
    }

    rec = json_object_get(rc->batch->by_id[entity], id);
    if (rec != NULL) {
        return rec;
    }

    reg = &rc->ctx->registry;
    if (reg->lookup == NULL) {
        return NULL;
    }

    snprintf(key, sizeof(key), "%d|%s", (int) entity, id);

    rec = json_object_get(rc->batch->known, key);
    if (rec == NULL) {
        rec = reg->lookup(reg->data, entity, id);
        if (rec == NULL) {
            rec = json_null();
        }

        if (json_object_set_new(rc->batch->known, key, rec) != 0) {
            rc->report->nomem = 1;
            return NULL;
        }
    }

    if (!json_is_object(rec)) {
        return NULL;
    }

    *known = 1;

    return rec;
}


json_t *
eg_rule_find(eg_rule_ctx_t *rc, eg_std_entity_e entity, const char *field,
    const char *value)
{
    size_t                    i;
    json_t                   *out, *rec, *more, *same;
    const char               *id;
    const eg_std_registry_t  *reg;

    out = json_array();
    same = eg_std_matches(rc, 0, entity, field, value);

    if (out == NULL || (same && json_array_extend(out, same) != 0)) {
        json_decref(out);
        rc->report->nomem = 1;
        return NULL;
    }

    reg = &rc->ctx->registry;
    if (reg->find == NULL) {
        return out;
    }

    /* a registry over a batch-shaped object is indexed like the batch */
    more = (reg->find == eg_std_reg_find)
           ? json_incref(eg_std_matches(rc, 1, entity, field, value))
           : reg->find(reg->data, entity, field, value);

    /* the batch's version of a record supersedes the registry's */
    json_array_foreach(more, i, rec) {
        id = eg_rule_str(rec, "id");
        if (id == NULL || json_object_get(rc->batch->by_id[entity], id) == NULL)
        {
            json_array_append(out, rec);
        }
    }

    json_decref(more);

    return out;
}


/*
 * The records of the batch (or of the registry) whose field holds value,
 * in their order.  A scan per question made a batch quadratic: each
 * (entity, field) is indexed once, when first asked for.  The records do
 * not change while the rules run.
 */

static json_t *
eg_std_matches(eg_rule_ctx_t *rc, int registry, eg_std_entity_e entity,
    const char *field, const char *value)
{
    char         key[128];
    size_t       i;
    json_t      *index, *records, *rec, *list;
    const char  *v;

    snprintf(key, sizeof(key), "%c|%d|%s", registry ? 'r' : 'b',
             (int) entity, field);

    index = json_object_get(rc->batch->fields, key);

    if (index != NULL) {
        return json_object_get(index, value);
    }

    records = registry ? eg_std_collection(rc->ctx->registry.data, entity)
                       : rc->batch->records[entity];

    index = json_object();
    if (index == NULL
        || json_object_set_new_nocheck(rc->batch->fields, key, index) != 0)
    {
        rc->report->nomem = 1;
        return NULL;
    }

    json_array_foreach(records, i, rec) {
        v = eg_rule_str(rec, field);
        if (v == NULL) {
            continue;
        }

        list = json_object_get(index, v);

        if (list == NULL) {
            list = json_array();
            if (list == NULL
                || json_object_set_new_nocheck(index, v, list) != 0)
            {
                rc->report->nomem = 1;
                return NULL;
            }
        }

        if (json_array_append(list, rec) != 0) {
            rc->report->nomem = 1;
            return NULL;
        }
    }

    return json_object_get(index, value);
}


json_t *
eg_rule_batch_records(eg_rule_ctx_t *rc, eg_std_entity_e entity)
{
    return rc->batch->records[entity];
}


size_t
eg_rule_batch_index(eg_rule_ctx_t *rc, json_t *rec)
{
    char  key[32];

    snprintf(key, sizeof(key), "%p", (void *) rec);

    return (size_t) json_integer_value(json_object_get(rc->batch->where,
                                                       key));
}


void
eg_std_registry_from_batch(eg_std_registry_t *reg, json_t *known)
{
    reg->lookup = eg_std_reg_lookup;
    reg->find = eg_std_reg_find;
    reg->data = known;
}


static json_t *
eg_std_collection(json_t *batch, eg_std_entity_e entity)
{
    return json_object_get(batch, eg_std_entity_collection(entity));
}


static json_t *
eg_std_reg_lookup(void *data, eg_std_entity_e entity, const char *id)
{
    int          pass;
    size_t       i;
    json_t      *rec, *coll;
    const char  *v;

    for (pass = 0; pass < 2; pass++) {
        coll = eg_std_collection(data, entity);

        json_array_foreach(coll, i, rec) {
            v = eg_rule_str(rec, "id");
            if (v != NULL && strcmp(v, id) == 0) {
                return json_incref(rec);
            }
        }

        /* orgs and schools answer for each other */
        if (entity == EG_STD_ORG) {
            entity = EG_STD_SCHOOL;
        } else if (entity == EG_STD_SCHOOL) {
            entity = EG_STD_ORG;
        } else {
            break;
        }
    }

    return NULL;
}


static json_t *
eg_std_reg_find(void *data, eg_std_entity_e entity, const char *field,
    const char *value)
{
    size_t       i;
    json_t      *out, *rec;
    const char  *v;

    out = json_array();
    if (out == NULL) {
        return NULL;
    }

    json_array_foreach(eg_std_collection(data, entity), i, rec) {
        v = eg_rule_str(rec, field);
        if (v != NULL && strcmp(v, value) == 0) {
            json_array_append(out, rec);
        }
    }

    return out;
}


const char *
eg_rule_str(json_t *rec, const char *field)
{
    const char  *s;

    s = json_string_value(json_object_get(rec, field));

    return (s != NULL && s[0] != '\0') ? s : NULL;
}


const char *
eg_rule_actual(eg_rule_ctx_t *rc, const char *field)
{
    json_t      *prov;
    const char  *raw;

    prov = json_object_get(json_object_get(rc->rec, "_prov"), field);
    raw = eg_rule_str(prov, "raw");

    return raw ? raw : eg_rule_str(rc->rec, field);
}


const char *
eg_rule_mapping(json_t *rec, const char *field)
{
    return eg_rule_str(json_object_get(json_object_get(rec, "_prov"), field),
                       "mapping");
}


int
eg_rule_num(json_t *rec, const char *field, double *v)
{
    char        *end;
    json_t      *j;
    const char  *s;

    j = json_object_get(rec, field);

    if (j == NULL || json_is_null(j)) {
        return 0;
    }

    if (json_is_number(j)) {
        *v = json_number_value(j);
        return 1;
    }

    s = json_string_value(j);
    if (s == NULL) {
        return -1;
    }

    if (s[0] == '\0') {
        return 0;
    }

    *v = strtod(s, &end);

    /* XSD decimals only: no exponent, hex, inf or nan */
    if (*end != '\0' || strpbrk(s, "eExXnNiI") != NULL) {
        return -1;
    }

    return 1;
}


int
eg_rule_bool(json_t *rec, const char *field)
{
    json_t      *j;
    const char  *s;

    j = json_object_get(rec, field);

    if (json_is_boolean(j)) {
        return json_is_true(j);
    }

    s = json_string_value(j);

    return s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0);
}


json_t *
eg_rule_list(json_t *rec, const char *field)
{
    json_t  *j;

    j = json_object_get(rec, field);

    return json_is_array(j) ? j : NULL;
}


int
eg_rule_ymd(const char *s, int compact, int *y, int *m, int *d)
{
    int          i, n, len, mdays;
    const char  *p;

    static const int  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };

    len = compact ? 8 : 10;

    for (i = 0; i < len; i++) {
        if (s[i] == '\0') {
            return 0;
        }
        if (!compact && (i == 4 || i == 7)) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    if (s[len] != '\0' && compact == 0) {
        return 0;
    }

    p = s;
    n = 0;
    for (i = 0; i < 4; i++) {
        n = n * 10 + (p[i] - '0');
    }
    *y = n;

    p += compact ? 4 : 5;
    *m = (p[0] - '0') * 10 + (p[1] - '0');
    p += compact ? 2 : 3;
    *d = (p[0] - '0') * 10 + (p[1] - '0');

    if (*y < 1 || *m < 1 || *m > 12 || *d < 1) {
        return 0;
    }

    mdays = days[*m - 1];
    if (*m == 2 && ((*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0)) {
        mdays = 29;
    }

    return *d <= mdays;
}


int
eg_rule_date(const char *s)
{
    int  y, m, d;

    return s != NULL && eg_rule_ymd(s, 0, &y, &m, &d);
}


int
eg_rule_active(json_t *rec)
{
    const char  *s;

    s = eg_rule_str(rec, "status");

    return s == NULL || strcmp(s, "tobedeleted") != 0;
}


int
eg_rule_enrollment_on(json_t *enr, const char *date)
{
    const char  *begin, *end;

    if (!eg_rule_active(enr)) {
        return 0;
    }

    if (date == NULL) {
        return 1;
    }

    begin = eg_rule_str(enr, "beginDate");
    end = eg_rule_str(enr, "endDate");

    return (begin == NULL || strcmp(begin, date) <= 0)
           && (end == NULL || strcmp(date, end) <= 0);
}


int
eg_rule_same(json_t *a, const char *fa, json_t *b, const char *fb)
{
    const char  *x, *y;

    x = eg_rule_str(a, fa);
    y = eg_rule_str(b, fb);

    /* an absent side cannot disagree */
    return x == NULL || y == NULL || strcmp(x, y) == 0;
}
