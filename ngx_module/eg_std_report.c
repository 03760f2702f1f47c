/*
 * Copyright (C) EduGate contributors
 *
 * The violation report of a batch: records, violations, totals, masking
 * of personal data, and the JSON rendering for district IT.
 */


#include <stdlib.h>
#include <string.h>

#include "eg_std.h"


#define EG_MASK_RUN  14


static char *eg_std_strdup(const char *s);
static json_t *eg_std_json_str(const char *s);
static int eg_std_report_violation_json(const eg_std_report_t *rep,
    const eg_std_violation_t *v, json_t *list);


static const struct {
    const char  *name;
    const char  *collection;
} eg_std_entities[EG_STD_NENTITIES] = {
    { "org", "orgs" },
    { "school", "schools" },
    { "academicSession", "academicSessions" },
    { "course", "courses" },
    { "class", "classes" },
    { "student", "students" },
    { "staff", "staff" },
    { "enrollment", "enrollments" },
    { "schoolEnrollment", "schoolEnrollments" },
    { "lineItem", "lineItems" },
    { "result", "results" },
};


const char *
eg_std_entity_name(eg_std_entity_e entity)
{
    return (unsigned) entity < EG_STD_NENTITIES
           ? eg_std_entities[entity].name : "unknown";
}


const char *
eg_std_entity_collection(eg_std_entity_e entity)
{
    return (unsigned) entity < EG_STD_NENTITIES
           ? eg_std_entities[entity].collection : "unknown";
}


int
eg_std_entity_from_collection(const char *key)
{
    int  i;

    for (i = 0; i < EG_STD_NENTITIES; i++) {
        if (strcmp(eg_std_entities[i].collection, key) == 0) {
            return i;
        }
    }

    return -1;
}


eg_std_report_t *
eg_std_report_new(const char *batch_id)
{
    eg_std_report_t  *rep;

    rep = calloc(1, sizeof(eg_std_report_t));
    if (rep == NULL) {
        return NULL;
    }

    if (batch_id != NULL) {
        rep->batch_id = eg_std_strdup(batch_id);
        if (rep->batch_id == NULL) {
            free(rep);
            return NULL;
        }
    }

    return rep;
}


size_t
eg_std_report_record(eg_std_report_t *rep, eg_std_entity_e entity,
    const char *vendor_local_id, const char *unified_id)
{
    size_t            cap;
    eg_std_record_t  *r;

    if (rep->nr == rep->rcap) {
        cap = rep->rcap ? rep->rcap * 2 : 64;
        r = realloc(rep->r, cap * sizeof(eg_std_record_t));
        if (r == NULL) {
            rep->nomem = 1;
            return (size_t) -1;
        }
        rep->r = r;
        rep->rcap = cap;
    }

    r = &rep->r[rep->nr];
    memset(r, 0, sizeof(eg_std_record_t));
    r->entity = entity;
    r->vendor_local_id = eg_std_strdup(vendor_local_id);
    r->unified_id = eg_std_strdup(unified_id);

    if ((vendor_local_id && r->vendor_local_id == NULL)
        || (unified_id && r->unified_id == NULL))
    {
        free(r->vendor_local_id);
        free(r->unified_id);
        rep->nomem = 1;
        return (size_t) -1;
    }

    return rep->nr++;
}


void
eg_std_report_add(eg_std_report_t *rep, size_t record, const char *field,
    const char *rule, char severity, const char *actual, const char *expected,
    const char *message_zh, const char *message_en)
{
    size_t               cap;
    eg_std_record_t     *r;
    eg_std_violation_t  *v;

    if (record >= rep->nr) {
        return;
    }

    if (rep->nv == rep->vcap) {
        cap = rep->vcap ? rep->vcap * 2 : 32;
        v = realloc(rep->v, cap * sizeof(eg_std_violation_t));
        if (v == NULL) {
            rep->nomem = 1;
            return;
        }
        rep->v = v;
        rep->vcap = cap;
    }

    v = &rep->v[rep->nv];
    v->record = record;
    v->rule = rule;
    v->severity = severity;
    v->message_zh = message_zh;
    v->message_en = message_en;
    v->field = eg_std_strdup(field);
    v->actual = actual ? eg_std_mask(field, actual) : NULL;
    v->expected = expected ? eg_std_mask(field, expected) : NULL;

    if ((field && v->field == NULL) || (actual && v->actual == NULL)
        || (expected && v->expected == NULL))
    {
        free(v->field);
        free(v->actual);
        free(v->expected);
        rep->nomem = 1;
        return;
    }

    rep->nv++;
    r = &rep->r[record];

    switch (severity) {
    case EG_STD_ERROR:
        r->errors++;
        rep->errors++;
        break;
    case EG_STD_WARNING:
        r->warnings++;
        rep->warnings++;
        break;
    default:
        r->infos++;
        rep->infos++;
    }
}


int
eg_std_report_rejected(const eg_std_report_t *rep, size_t record)
{
    return record < rep->nr && rep->r[record].errors > 0;
}


char *
eg_std_report_json(const eg_std_report_t *rep)
{
    char             *text;
    size_t            i, rejected, flagged, deleted;
    json_t           *root, *records, *list, *totals, *o;
    const char       *status;
    eg_std_record_t  *r;

    root = json_object();
    if (root == NULL) {
        return NULL;
    }

    /* set_new steals the reference even when it fails: one decref frees
       everything below */
    totals = json_object();
    records = json_array();
    list = json_array();

    if (json_object_set_new(root, "batchId", eg_std_json_str(rep->batch_id))
        != 0
        || json_object_set_new(root, "totals", totals) != 0
        || json_object_set_new(root, "records", records) != 0
        || json_object_set_new(root, "violations", list) != 0)
    {
        goto failed;
    }

    rejected = 0;
    flagged = 0;
    deleted = 0;

    for (i = 0; i < rep->nr; i++) {
        r = &rep->r[i];

        /* a deletion is not a record of the batch: no total but its own */
        if (r->deleted) {
            deleted++;
            status = "deleted";

        } else if (r->errors) {
            rejected++;
            status = "rejected";

        } else {
            status = "accepted";
        }

        if (r->errors + r->warnings + r->infos == 0) {
            continue;
        }

        flagged += !r->deleted;

        o = json_pack("{s:s, s:o, s:o, s:s, s:i, s:i, s:i}",
                      "entity", eg_std_entity_name(r->entity),
                      "vendorLocalId", eg_std_json_str(r->vendor_local_id),
                      "unifiedId", eg_std_json_str(r->unified_id),
                      "status", status,
                      "errors", (int) r->errors,
                      "warnings", (int) r->warnings,
                      "infos", (int) r->infos);

        if (o == NULL || json_array_append_new(records, o) != 0) {
            goto failed;
        }
    }

    for (i = 0; i < rep->nv; i++) {
        if (eg_std_report_violation_json(rep, &rep->v[i], list) != 0) {
            goto failed;
        }
    }

    if (json_object_set_new(totals, "records",
                            json_integer(rep->nr - deleted)) != 0
        || json_object_set_new(totals, "accepted",
                               json_integer(rep->nr - deleted - rejected))
           != 0
        || json_object_set_new(totals, "rejected", json_integer(rejected))
           != 0
        || json_object_set_new(totals, "flagged", json_integer(flagged)) != 0
        || json_object_set_new(totals, "violations", json_integer(rep->nv))
           != 0
        || json_object_set_new(totals, "E", json_integer(rep->errors)) != 0
        || json_object_set_new(totals, "W", json_integer(rep->warnings)) != 0
        || json_object_set_new(totals, "I", json_integer(rep->infos)) != 0)
    {
        goto failed;
    }

    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);

    return text;

failed:

    json_decref(root);

    return NULL;
}


void
eg_std_report_free(eg_std_report_t *rep)
{
    size_t  i;

    if (rep == NULL) {
        return;
    }

    for (i = 0; i < rep->nr; i++) {
        free(rep->r[i].vendor_local_id);
        free(rep->r[i].unified_id);
    }

    for (i = 0; i < rep->nv; i++) {
        free(rep->v[i].field);
        free(rep->v[i].actual);
        free(rep->v[i].expected);
    }

    free(rep->r);
    free(rep->v);
    free(rep->batch_id);
    free(rep);
}


char *
eg_std_mask(const char *field, const char *value)
{
    char    *out;
    size_t   i, j, len, run;

    out = eg_std_strdup(value);
    if (out == NULL) {
        return NULL;
    }

    len = strlen(out);

    if (field != NULL && strcmp(field, "phone") == 0) {
        for (i = 3; i + 4 < len; i++) {
            out[i] = '*';
        }
        return out;
    }

    /*
     * An ID number is 17 digits and a check character, a 学籍号 a letter
     * and 18 characters; 14 digits in a row is enough to hide both, and
     * the last character goes with the run so that "...X" is caught too.
     */
    for (i = 0; i < len; i = j) {
        for (j = i; j < len && out[j] >= '0' && out[j] <= '9'; j++) {
            /* void */
        }

        run = j - i;

        if (run >= EG_MASK_RUN || (run == EG_MASK_RUN - 1 && j < len
                                   && (out[j] == 'X' || out[j] == 'x')))
        {
            if (j < len && (out[j] == 'X' || out[j] == 'x')) {
                j++;
                run++;
            }

            memset(out + i + 4, '*', run - 8);
        }

        if (j == i) {
            j++;
        }
    }

    return out;
}


static int
eg_std_report_violation_json(const eg_std_report_t *rep,
    const eg_std_violation_t *v, json_t *list)
{
    char              sev[2];
    json_t           *o;
    eg_std_record_t  *r;

    r = &rep->r[v->record];
    sev[0] = v->severity;
    sev[1] = '\0';

    o = json_pack("{s:o, s:o, s:s, s:o, s:s, s:s, s:o, s:o, s:s, s:s}",
                  "vendorLocalId", eg_std_json_str(r->vendor_local_id),
                  "unifiedId", eg_std_json_str(r->unified_id),
                  "entity", eg_std_entity_name(r->entity),
                  "field", eg_std_json_str(v->field),
                  "ruleId", v->rule,
                  "severity", sev,
                  "actual", eg_std_json_str(v->actual),
                  "expected", eg_std_json_str(v->expected),
                  "message_zh", v->message_zh,
                  "message_en", v->message_en);

    if (o == NULL) {
        return -1;
    }

    return json_array_append_new(list, o);
}


static json_t *
eg_std_json_str(const char *s)
{
    json_t  *j;

    if (s == NULL) {
        return json_null();
    }

    /* values come from vendors: invalid UTF-8 must not lose the record */
    j = json_string(s);

    return j ? j : json_string("(invalid UTF-8)");
}


static char *
eg_std_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}
