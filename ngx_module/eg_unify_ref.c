/*
 * Copyright (C) EduGate contributors
 *
 * References.  A value that names a record is, in this order: a unified
 * id already; the vendor id of a record of the batch; a natural key
 * (a 学校标识码, a 学籍号, a semester
 * "YYYY-YYYY-n" of the record's school); a vendor id the crosswalk
 * knows.  Otherwise it is unresolved: a reference to what the plugin
 * itself produces, or a natural key, keeps a placeholder id so that the
 * rules report it (R21); a vendor id of an entity from another system
 * (a roster's head teacher, whom the HR system sends) is left out until
 * that system has sent it.  _prov keeps what the vendor wrote and how it
 * was resolved.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_codec.h"
#include "eg_unify_int.h"


#define EG_ULOCAL_MAX      200


static int eg_unify_placeholder(eg_unify_t *u, eg_urec_t *r, int target,
    const char *v, char *id);
static int eg_unify_natural_form(int target, const char *v);
static const char *eg_unify_scope(eg_unify_t *u, eg_urec_t *r, char *buf);
static const char *eg_unify_lookup(eg_unify_t *u, const char *key);
static int eg_unify_target(eg_urec_t *r, const eg_uref_t *def);
static int eg_unify_set_ref(eg_unify_t *u, eg_urec_t *r,
    const eg_uref_t *def);
static const char *eg_unify_mapping(int res);
static int eg_unify_own(eg_unify_t *u, int target);


const eg_uref_t  eg_unify_refs[] = {
    { "orgs", "parentId", "orgs", 0 },
    { "academicSessions", "orgId", "orgs", 0 },
    { "academicSessions", "parentId", "academicSessions", 0 },
    { "courses", "orgId", "orgs", 0 },
    { "courses", "schoolYearId", "academicSessions", 0 },
    { "classes", "schoolId", "orgs", 0 },
    { "classes", "courseId", "courses", 0 },
    { "classes", "termIds", "academicSessions", 1 },
    { "classes", "headTeacherId", "staff", 0 },
    { "students", "schoolId", "orgs", 0 },
    { "students", "homeroomClassId", "classes", 0 },
    { "staff", "schoolId", "orgs", 0 },
    { "staff", "orgId", "orgs", 0 },
    { "enrollments", "classId", "classes", 0 },
    { "enrollments", "schoolId", "orgs", 0 },
    { "enrollments", "personId", NULL, 0 },
    { "lineItems", "classId", "classes", 0 },
    { "lineItems", "courseId", "courses", 0 },
    { "lineItems", "termId", "academicSessions", 0 },
    { "results", "lineItemId", "lineItems", 0 },
    { "results", "studentId", "students", 0 },
    { NULL, NULL, NULL, 0 }
};


/*
 * What plugins may add for the gateway to find ids with, never forwarded:
 * a line item's school and grade (its grade course), and where a result's
 * student sits.
 */
const eg_uhint_t  eg_unify_hints[] = {
    { "lineItems", "schoolCode" },
    { "lineItems", "gradeLevel" },
    { "results", "gradeLevel" },
    { "results", "classNo" },
    { "results", "studentName" },
    { NULL, NULL }
};


const char *
eg_unify_str(json_t *obj, const char *field)
{
    const char  *s;

    s = json_string_value(json_object_get(obj, field));

    return (s && s[0]) ? s : NULL;
}


static int
eg_unify_digits(const char *s, size_t n)
{
    return s && strlen(s) == n && strspn(s, "0123456789") == n;
}


int
eg_unify_school_code(const char *s)
{
    return eg_unify_digits(s, 10);
}


int
eg_unify_division(const char *s)
{
    return eg_unify_digits(s, 6);
}


/* G, J or L and 18 characters, the last a digit or X */

int
eg_unify_regno(const char *s)
{
    return s && strlen(s) == 19 && strchr("GJL", s[0]) && s[0] != '\0'
           && strspn(s + 1, "0123456789") >= 17
           && (s[18] == 'X' || (s[18] >= '0' && s[18] <= '9'));
}


/* "2024-2025-1" */

int
eg_unify_session_text(const char *s)
{
    return s && strlen(s) == 11 && strspn(s, "0123456789") == 4
           && s[4] == '-' && strspn(s + 5, "0123456789") == 4
           && s[9] == '-' && s[10] >= '1' && s[10] <= '9';
}


int
eg_unify_coll(const char *name)
{
    int  k;

    for (k = 0; name && k < EG_UCOLLS; k++) {
        if (strcmp(eg_unify_colls[k].name, name) == 0) {
            return k;
        }
    }

    return -1;
}


/* long vendor ids are hashed so that keys stay short */

int
eg_unify_xw_key(eg_unify_t *u, const char *tenant, int coll,
    const char *local, char *key)
{
    char  hex[sizeof("sha256:") - 1 + EG_SHA256_HEX_LEN + 1];

    if (strlen(local) > EG_ULOCAL_MAX) {
        memcpy(hex, "sha256:", 7);

        if (eg_sha256_hex((unsigned char *) hex + 7,
                          (const unsigned char *) local, strlen(local))
            != 0)
        {
            return -1;
        }

        hex[7 + EG_SHA256_HEX_LEN] = '\0';
        local = hex;
    }

    snprintf(key, EG_UKEY_MAX, "eg:std:xw:%s:%s:%s:%s", u->conf.vendor,
             tenant ? tenant : "-", eg_unify_colls[coll].name, local);

    return 0;
}


static const char *
eg_unify_lookup(eg_unify_t *u, const char *key)
{
    if (u->want) {
        if (json_object_set_new(u->want, key, json_null()) != 0) {
            u->nomem = 1;
        }

        return NULL;
    }

    return json_string_value(json_object_get(u->lookups, key));
}


/* the registry's id for a natural key, else (fallback) its UUIDv5 */

int
eg_unify_nk_id(eg_unify_t *u, const char *name, int fallback, char *id)
{
    char         key[EG_UKEY_MAX];
    const char  *v;

    snprintf(key, sizeof(key), "eg:std:nk:%s", name);

    v = eg_unify_lookup(u, key);

    if (v && eg_uuid_valid(v)) {
        memcpy(id, v, EG_UUID_LEN + 1);
        return EG_URES_NATURAL;
    }

    if (!fallback) {
        return EG_URES_NONE;
    }

    if (eg_uuid_v5(u->conf.ns, name, strlen(name), id) != 0) {
        u->nomem = 1;
        return EG_URES_NONE;
    }

    return EG_URES_NATURAL;
}


int
eg_unify_v5(eg_unify_t *u, char *id, const char *fmt, ...)
{
    int      n;
    char     name[EG_UKEY_MAX];
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    if (n < 0 || (size_t) n >= sizeof(name)
        || eg_uuid_v5(u->conf.ns, name, n, id) != 0)
    {
        u->nomem = (n >= 0 && (size_t) n < sizeof(name));
        return -1;
    }

    return 0;
}


int
eg_unify_ref(eg_unify_t *u, eg_urec_t *r, int target, const char *v,
    char *id)
{
    char         key[EG_UKEY_MAX], name[EG_UKEY_MAX], sbuf[EG_UUID_LEN + 1];
    json_t      *idx;
    eg_urec_t   *t;
    const char  *s, *scope;

    id[0] = '\0';

    if (eg_uuid_valid(v)) {
        memcpy(id, v, EG_UUID_LEN + 1);
        return EG_URES_ID;
    }

    idx = json_object_get(u->by_local[target], v);

    if (idx) {
        t = &u->r[json_integer_value(idx)];
        memcpy(id, t->id, EG_UUID_LEN + 1);
        return EG_URES_BATCH;
    }

    s = eg_unify_colls[target].name;

    if (strcmp(s, "orgs") == 0 && eg_unify_school_code(v)) {
        snprintf(name, sizeof(name), "org|school|%s", v);
        return eg_unify_nk_id(u, name, 1, id);
    }

    if (strcmp(s, "students") == 0 && eg_unify_regno(v)) {
        snprintf(name, sizeof(name), "student|%s", v);
        return eg_unify_nk_id(u, name, v[0] != 'L', id);
    }

    if (strcmp(s, "academicSessions") == 0 && eg_unify_session_text(v)) {
        scope = eg_unify_scope(u, r, sbuf);

        if (scope == NULL
            || eg_unify_v5(u, id, "session|%s|%.9s|%c", scope, v, v[10])
               != 0)
        {
            id[0] = '\0';
            return EG_URES_NONE;
        }

        return EG_URES_NATURAL;
    }

    if (eg_unify_xw_key(u, r->tenant, target, v, key) != 0) {
        u->nomem = 1;
        return EG_URES_NONE;
    }

    s = eg_unify_lookup(u, key);

    if (s && eg_uuid_valid(s)) {
        memcpy(id, s, EG_UUID_LEN + 1);
        return EG_URES_CROSSWALK;
    }

    return EG_URES_NONE;
}


/* the school (or org) a record belongs to, for its semesters */

static const char *
eg_unify_scope(eg_unify_t *u, eg_urec_t *r, char *buf)
{
    int          orgs;
    const char  *v;

    orgs = eg_unify_coll("orgs");

    v = eg_unify_str(r->raw, "schoolId");
    if (v == NULL) {
        v = eg_unify_str(r->raw, "orgId");
    }

    if (v == NULL) {
        v = eg_unify_str(r->hints, "schoolCode");
    }

    if (v == NULL || eg_unify_ref(u, r, orgs, v, buf) == EG_URES_NONE
        || buf[0] == '\0')
    {
        return NULL;
    }

    return buf;
}


static int
eg_unify_natural_form(int target, const char *v)
{
    const char  *s;

    s = eg_unify_colls[target].name;

    return (strcmp(s, "orgs") == 0 && eg_unify_school_code(v))
           || (strcmp(s, "students") == 0 && eg_unify_regno(v))
           || (strcmp(s, "academicSessions") == 0
               && eg_unify_session_text(v));
}


static int
eg_unify_own(eg_unify_t *u, int target)
{
    const char *const  *e;

    for (e = u->conf.own; e && *e; e++) {
        if (strcmp(*e, eg_unify_colls[target].name) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The id an unresolved reference keeps, the same in every batch of the
 * vendor: the rules then report what it names as unknown.
 */

static int
eg_unify_placeholder(eg_unify_t *u, eg_urec_t *r, int target,
    const char *v, char *id)
{
    return eg_unify_v5(u, id, "unresolved|%s|%s|%s|%s", u->conf.vendor,
                       r->tenant ? r->tenant : "-",
                       eg_unify_colls[target].name, v);
}


static int
eg_unify_target(eg_urec_t *r, const eg_uref_t *def)
{
    const char  *role;

    if (def->target) {
        return eg_unify_coll(def->target);
    }

    role = eg_unify_str(r->obj, "role");

    return eg_unify_coll((role && strcmp(role, "student") != 0) ? "staff"
                                                                : "students");
}


/* a reference's id, a placeholder when unresolved; 1 when none */

int
eg_unify_ref_id(eg_unify_t *u, eg_urec_t *r, const char *field, int target,
    char *id)
{
    int          res;
    const char  *v;

    v = eg_unify_str(r->raw, field);
    if (v == NULL) {
        return 1;
    }

    res = eg_unify_ref(u, r, target, v, id);

    if (res != EG_URES_NONE && id[0] != '\0') {
        return 0;
    }

    if (!eg_unify_own(u, target) && !eg_unify_natural_form(target, v)) {
        return 1;
    }

    return eg_unify_placeholder(u, r, target, v, id) == 0 ? 0 : -1;
}


int
eg_unify_resolve_all(eg_unify_t *u, eg_urec_t *r, int apply)
{
    char              id[EG_UUID_LEN + 1];
    size_t            i;
    json_t           *raw;
    const char       *v;
    const eg_uref_t  *def;

    for (def = eg_unify_refs; def->coll; def++) {
        if (strcmp(def->coll, eg_unify_colls[r->coll].name) != 0
            || json_object_get(r->raw, def->field) == NULL)
        {
            continue;
        }

        if (apply) {
            if (eg_unify_set_ref(u, r, def) != 0) {
                return -1;
            }

            continue;
        }

        /* the dry run: only the keys matter */
        raw = json_object_get(r->raw, def->field);

        for (i = 0; i < (def->list ? json_array_size(raw) : 1); i++) {
            v = json_string_value(def->list ? json_array_get(raw, i) : raw);

            if (v) {
                eg_unify_ref(u, r, eg_unify_target(r, def), v, id);
            }
        }
    }

    if (eg_unify_derived_refs(u, r, apply) != 0) {
        return -1;
    }

    return u->nomem ? -1 : 0;
}


static int
eg_unify_set_ref(eg_unify_t *u, eg_urec_t *r, const eg_uref_t *def)
{
    int          res, worst, target;
    char         id[EG_UUID_LEN + 1];
    size_t       i;
    json_t      *raw, *list, *item;
    const char  *v;

    raw = json_object_get(r->raw, def->field);
    target = eg_unify_target(r, def);

    if (!def->list) {
        v = json_string_value(raw);
        if (v == NULL) {
            return 0;
        }

        res = eg_unify_ref(u, r, target, v, id);

        if (res == EG_URES_ID) {
            return 0;
        }

        if (res != EG_URES_NONE && id[0] != '\0') {
            return json_object_set_new(r->obj, def->field, json_string(id))
                   || eg_unify_prov(r, def->field, raw,
                                    eg_unify_mapping(res));
        }

        if (!eg_unify_own(u, target) && !eg_unify_natural_form(target, v)) {
            json_object_del(r->obj, def->field);

        } else if (eg_unify_placeholder(u, r, target, v, id) != 0
                   || json_object_set_new(r->obj, def->field,
                                          json_string(id)) != 0)
        {
            return -1;
        }

        return eg_unify_prov(r, def->field, raw, "unresolved");
    }

    list = json_array();
    if (list == NULL) {
        return -1;
    }

    worst = EG_URES_ID;

    json_array_foreach(raw, i, item) {
        v = json_string_value(item);
        if (v == NULL) {
            continue;
        }

        res = eg_unify_ref(u, r, target, v, id);

        if (res == EG_URES_NONE || id[0] == '\0') {
            worst = EG_URES_NONE;

            if (!eg_unify_own(u, target) && !eg_unify_natural_form(target, v))
            {
                continue;
            }

            if (eg_unify_placeholder(u, r, target, v, id) != 0) {
                json_decref(list);
                return -1;
            }

        } else if (worst != EG_URES_NONE && res != EG_URES_ID) {
            worst = res;
        }

        if (json_array_append_new(list, json_string(id)) != 0) {
            json_decref(list);
            return -1;
        }
    }

    if (json_object_set_new(r->obj, def->field, list) != 0) {
        return -1;
    }

    return worst == EG_URES_ID ? 0
                               : eg_unify_prov(r, def->field, raw,
                                               eg_unify_mapping(worst));
}


int
eg_unify_prov(eg_urec_t *r, const char *field, json_t *raw,
    const char *mapping)
{
    json_t  *prov;

    prov = json_object_get(r->obj, "_prov");

    if (!json_is_object(prov)) {
        prov = json_object();
        if (json_object_set_new(r->obj, "_prov", prov) != 0) {
            return -1;
        }
    }

    return json_object_set_new(prov, field,
                               json_pack("{s:O, s:s}", "raw", raw,
                                         "mapping", mapping));
}


static const char *
eg_unify_mapping(int res)
{
    switch (res) {
    case EG_URES_NATURAL:
        return "natural-key";
    case EG_URES_NONE:
        return "unresolved";
    default:
        return "crosswalk";
    }
}
