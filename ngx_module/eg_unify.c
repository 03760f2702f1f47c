/*
 * Copyright (C) EduGate contributors
 *
 * The steps, in order:
 *   ASSIGN0  records whose id needs nothing else (orgs, students, staff,
 *            line items, courses without a code): the assignment script
 *   LOOKUP   what references outside the batch name: MGET of natural-key
 *            and crosswalk keys
 *   derive   sessions, courses with a code, homeroom classes, from the
 *            ids above; those that cannot be derived go to ASSIGN1
 *   ASSIGN1  the assignment script again, for those
 *   finish   enrollments and results, every reference, the hints
 * References are resolved in eg_unify_ref.c.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_unify_int.h"


/*
 * Atomic: two batches naming the same new record at once get one id.
 * Per record: the natural-key key (or ""), "1" when that key is
 * authoritative (a temporary L 学籍号 is not), the crosswalk key (or
 * "") and the id to take when neither knows one.  A record the vendor
 * sent before under no authoritative key keeps its id when it gets one:
 * an L 学籍号 replaced by a G one (supersession).
 */
static const char  eg_unify_lua[] =
    "local out = {}\n"
    "for i = 1, #ARGV, 4 do\n"
    "  local nk, perm, xw, cand = ARGV[i], ARGV[i + 1], ARGV[i + 2],"
    " ARGV[i + 3]\n"
    "  local id, old = false, false\n"
    "  if nk ~= '' then id = redis.call('GET', nk) end\n"
    "  if xw ~= '' then old = redis.call('GET', xw) end\n"
    "  if not id and old"
    " and redis.call('EXISTS', 'eg:std:nkof:' .. old) == 0 then\n"
    "    id = old\n"
    "  end\n"
    "  if not id then id = cand end\n"
    "  if nk ~= '' then\n"
    "    redis.call('SET', nk, id, 'NX')\n"
    "    if perm == '1' then\n"
    "      redis.call('SET', 'eg:std:nkof:' .. id, nk, 'NX')\n"
    "    end\n"
    "  end\n"
    "  if xw ~= '' and old ~= id then redis.call('SET', xw, id) end\n"
    "  out[#out + 1] = id\n"
    "end\n"
    "return out\n";


static int eg_unify_index(eg_unify_t *u);
static int eg_unify_add(eg_unify_t *u, int coll, json_t *obj);
static int eg_unify_natural(eg_urec_t *r);
static int eg_unify_assign_step(eg_unify_t *u, int level,
    eg_unify_step_t *step);
static int eg_unify_lookup_step(eg_unify_t *u, eg_unify_step_t *step);
static int eg_unify_derive(eg_unify_t *u);
static int eg_unify_finish(eg_unify_t *u);
static int eg_unify_arg(eg_unify_t *u, const char *s);
static void eg_unify_args_reset(eg_unify_t *u);


const eg_ucoll_t  eg_unify_colls[EG_UCOLLS] = {
    { "orgs", 0 },
    { "academicSessions", 1 },
    { "courses", 1 },
    { "classes", 1 },
    { "students", 0 },
    { "staff", 0 },
    { "enrollments", 2 },
    { "lineItems", 0 },
    { "results", 2 },
};


eg_unify_t *
eg_unify_new(const eg_unify_conf_t *conf, json_t *records)
{
    eg_unify_t  *u;

    u = calloc(1, sizeof(eg_unify_t));
    if (u == NULL) {
        return NULL;
    }

    u->conf = *conf;
    u->records = json_incref(records);
    u->lookups = json_object();
    u->strs = json_array();
    u->bindings = json_array();
    u->payload = json_array();

    if (u->lookups == NULL || u->strs == NULL || u->bindings == NULL
        || u->payload == NULL || eg_unify_index(u) != 0)
    {
        eg_unify_free(u);
        return NULL;
    }

    return u;
}


void
eg_unify_free(eg_unify_t *u)
{
    size_t  i;
    int     k;

    if (u == NULL) {
        return;
    }

    for (i = 0; i < u->nr; i++) {
        free(u->r[i].nk);
        free(u->r[i].xw);
        json_decref(u->r[i].raw);
        json_decref(u->r[i].hints);
        json_decref(u->r[i].violations);
    }

    for (k = 0; k < EG_UCOLLS; k++) {
        json_decref(u->by_local[k]);
    }

    free(u->r);
    free(u->argv);
    free(u->argvlen);
    free(u->pending);
    json_decref(u->records);
    json_decref(u->lookups);
    json_decref(u->strs);
    json_decref(u->bindings);
    json_decref(u->payload);
    free(u);
}


const char *
eg_unify_script(void)
{
    return eg_unify_lua;
}


json_t *
eg_unify_records(eg_unify_t *u)
{
    return u->records;
}


json_t *
eg_unify_violations(eg_unify_t *u, json_t *record)
{
    size_t  i;

    for (i = 0; i < u->nr; i++) {
        if (u->r[i].obj == record) {
            return u->r[i].violations;
        }
    }

    return NULL;
}


json_t *
eg_unify_payload_violations(eg_unify_t *u)
{
    return u->payload;
}


json_t *
eg_unify_bindings(eg_unify_t *u)
{
    return u->bindings;
}


/* the records of the known collections, their local ids and hints */

static int
eg_unify_index(eg_unify_t *u)
{
    int          k;
    size_t       i, n;
    json_t      *list, *obj, *v;

    n = 0;

    for (k = 0; k < EG_UCOLLS; k++) {
        n += json_array_size(json_object_get(u->records,
                                             eg_unify_colls[k].name));
    }

    u->r = calloc(n ? n : 1, sizeof(eg_urec_t));
    u->pending = calloc(n ? n : 1, sizeof(size_t));

    if (u->r == NULL || u->pending == NULL) {
        return -1;
    }

    v = json_object_get(u->records, "_violations");

    if (json_is_array(v) && json_array_extend(u->payload, v) != 0) {
        return -1;
    }

    json_object_del(u->records, "_violations");

    for (k = 0; k < EG_UCOLLS; k++) {
        u->by_local[k] = json_object();
        if (u->by_local[k] == NULL) {
            return -1;
        }

        list = json_object_get(u->records, eg_unify_colls[k].name);

        json_array_foreach(list, i, obj) {
            if (json_is_object(obj) && eg_unify_add(u, k, obj) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


static int
eg_unify_add(eg_unify_t *u, int coll, json_t *obj)
{
    char        key[EG_UKEY_MAX];
    size_t      i;
    json_t     *src, *v;
    eg_urec_t  *r;
    const char *tenant;

    r = &u->r[u->nr];
    r->obj = obj;
    r->coll = coll;

    r->violations = json_incref(json_object_get(obj, "_violations"));
    json_object_del(obj, "_violations");

    src = json_object_get(obj, "source");
    r->local = json_string_value(json_object_get(src, "vendorLocalId"));
    tenant = json_string_value(json_object_get(src, "tenant"));

    if (tenant == NULL || tenant[0] == '\0') {
        tenant = u->conf.tenant;
    }

    r->tenant = (tenant && tenant[0]) ? tenant : NULL;

    if (r->local && r->local[0] == '\0') {
        r->local = NULL;
    }

    /* the references as the vendor wrote them, before they become ids */

    r->raw = json_object();
    r->hints = json_object();
    if (r->raw == NULL || r->hints == NULL) {
        return -1;
    }

    for (i = 0; eg_unify_refs[i].coll; i++) {
        if (strcmp(eg_unify_refs[i].coll, eg_unify_colls[coll].name) != 0) {
            continue;
        }

        v = json_object_get(obj, eg_unify_refs[i].field);

        if (v && !json_is_null(v)
            && json_object_set_new(r->raw, eg_unify_refs[i].field,
                                   json_deep_copy(v)) != 0)
        {
            return -1;
        }
    }

    for (i = 0; eg_unify_hints[i].coll; i++) {
        if (strcmp(eg_unify_hints[i].coll, eg_unify_colls[coll].name) != 0) {
            continue;
        }

        v = json_object_get(obj, eg_unify_hints[i].field);

        if (json_is_string(v)
            && json_object_set(r->hints, eg_unify_hints[i].field, v) != 0)
        {
            return -1;
        }

        json_object_del(obj, eg_unify_hints[i].field);
    }

    if (r->local) {
        if (eg_unify_xw_key(u, r->tenant, coll, r->local, key) != 0) {
            return -1;
        }

        r->xw = strdup(key);
        if (r->xw == NULL) {
            return -1;
        }

        /* the first of two records with one vendor id names the id */
        if (json_object_get(u->by_local[coll], r->local) == NULL
            && json_object_set_new(u->by_local[coll], r->local,
                                   json_integer(u->nr)) != 0)
        {
            return -1;
        }
    }

    u->nr++;

    return eg_unify_natural(r);
}


/* the natural key of a record that needs no other id */

static int
eg_unify_natural(eg_urec_t *r)
{
    char         name[EG_UKEY_MAX];
    const char  *coll, *level, *code, *div, *regno;

    coll = eg_unify_colls[r->coll].name;
    name[0] = '\0';

    if (strcmp(coll, "orgs") == 0) {
        level = eg_unify_str(r->obj, "level");
        code = eg_unify_str(r->obj, "schoolCode");
        div = eg_unify_str(r->obj, "divisionCode");

        if (level && strcmp(level, "school") == 0) {
            if (eg_unify_school_code(code)) {
                snprintf(name, sizeof(name), "org|school|%s", code);
            }

        } else if (level && eg_unify_division(div)) {
            snprintf(name, sizeof(name), "org|%.16s|%s", level, div);
        }

    } else if (strcmp(coll, "students") == 0) {
        regno = eg_unify_str(r->obj, "studentRegNo");

        if (eg_unify_regno(regno)) {
            snprintf(name, sizeof(name), "student|%s", regno);
            r->perm = (regno[0] != 'L');
        }
    }

    if (name[0] == '\0') {
        return 0;
    }

    if (strcmp(coll, "orgs") == 0) {
        r->perm = 1;
    }

    r->nk = strdup(name);

    return r->nk ? 0 : -1;
}


int
eg_unify_step(eg_unify_t *u, eg_unify_step_t *step)
{
    int  rc;

    for ( ;; ) {
        eg_unify_args_reset(u);

        switch (u->stage) {

        case EG_USTAGE_ASSIGN0:
            rc = eg_unify_assign_step(u, 0, step);
            break;

        case EG_USTAGE_LOOKUP:
            rc = eg_unify_lookup_step(u, step);
            break;

        case EG_USTAGE_DERIVE:
            if (eg_unify_derive(u) != 0) {
                return -1;
            }

            u->stage = EG_USTAGE_ASSIGN1;
            continue;

        case EG_USTAGE_ASSIGN1:
            rc = eg_unify_assign_step(u, 1, step);
            break;

        case EG_USTAGE_FINISH:
            if (eg_unify_finish(u) != 0) {
                return -1;
            }

            u->stage = EG_USTAGE_DONE;
            return EG_UNIFY_DONE;

        default:
            return EG_UNIFY_DONE;
        }

        if (rc != 0) {
            return rc;
        }

        /* nothing to ask in this stage */
        u->stage++;
    }
}


int
eg_unify_reply(eg_unify_t *u, size_t n, const char *const *values,
    const size_t *lens)
{
    size_t      i;
    json_t     *v;
    eg_urec_t  *r;

    if (n != u->npending) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (u->stage == EG_USTAGE_LOOKUP) {
            v = values[i] ? json_stringn(values[i], lens[i]) : json_null();

            if (v == NULL
                || json_object_set_new(u->lookups,
                                       u->argv[1 + i], v) != 0)
            {
                return -1;
            }

            continue;
        }

        /* an assignment: the script answers ids it was given or set */
        r = &u->r[u->pending[i]];

        if (values[i] == NULL || lens[i] != EG_UUID_LEN) {
            return -1;
        }

        memcpy(r->id, values[i], EG_UUID_LEN);
        r->id[EG_UUID_LEN] = '\0';

        if (!eg_uuid_valid(r->id)) {
            r->id[0] = '\0';
            return -1;
        }
    }

    u->npending = 0;
    u->stage++;

    return 0;
}


/* level 0: records at stage ASSIGN0; level 1: left without an id */

static int
eg_unify_assign_step(eg_unify_t *u, int level, eg_unify_step_t *step)
{
    char        cand[EG_UUID_LEN + 1], key[EG_UKEY_MAX];
    size_t      i;
    eg_urec_t  *r;

    if (eg_unify_arg(u, "EVAL") != 0 || eg_unify_arg(u, eg_unify_lua) != 0
        || eg_unify_arg(u, "0") != 0)
    {
        return -1;
    }

    for (i = 0; i < u->nr; i++) {
        r = &u->r[i];

        if (r->id[0] != '\0') {
            continue;
        }

        if (level == 0 && eg_unify_colls[r->coll].level != 0) {
            continue;
        }

        /* derived ids of enrollments and results need no registry */
        if (eg_unify_colls[r->coll].level == 2) {
            continue;
        }

        if (r->nk && r->perm) {
            if (eg_uuid_v5(u->conf.ns, r->nk, strlen(r->nk), cand) != 0) {
                return -1;
            }

        } else if (eg_uuid_v4(cand) != 0) {
            return -1;
        }

        if (r->nk) {
            snprintf(key, sizeof(key), "eg:std:nk:%s", r->nk);
        }

        if (eg_unify_arg(u, r->nk ? key : "") != 0
            || eg_unify_arg(u, r->perm ? "1" : "0") != 0
            || eg_unify_arg(u, r->xw ? r->xw : "") != 0
            || eg_unify_arg(u, cand) != 0)
        {
            return -1;
        }

        u->pending[u->npending++] = i;
    }

    if (u->npending == 0) {
        return 0;
    }

    step->argc = u->argc;
    step->argv = u->argv;
    step->argvlen = u->argvlen;

    /* one id per record, whichever piece carries it */
    step->head = 3;
    step->stride = 4;

    return EG_UNIFY_COMMAND;
}


static int
eg_unify_lookup_step(eg_unify_t *u, eg_unify_step_t *step)
{
    size_t       i;
    json_t      *want, *v;
    const char  *key;

    /* a dry run of the resolution collects the keys it would read */
    want = json_object();
    if (want == NULL) {
        return -1;
    }

    u->want = want;

    for (i = 0; i < u->nr; i++) {
        if (eg_unify_resolve_all(u, &u->r[i], 0) != 0) {
            u->want = NULL;
            json_decref(want);
            return -1;
        }
    }

    u->want = NULL;

    if (json_object_size(want) == 0) {
        json_decref(want);
        return 0;
    }

    if (eg_unify_arg(u, "MGET") != 0) {
        json_decref(want);
        return -1;
    }

    json_object_foreach(want, key, v) {
        if (eg_unify_arg(u, key) != 0) {
            json_decref(want);
            return -1;
        }

        u->npending++;
    }

    json_decref(want);

    step->argc = u->argc;
    step->argv = u->argv;
    step->argvlen = u->argvlen;

    step->head = 1;
    step->stride = 1;

    return EG_UNIFY_COMMAND;
}


/* sessions, courses with a code, homeroom classes */

static int
eg_unify_derive(eg_unify_t *u)
{
    size_t      i;
    eg_urec_t  *r;

    for (i = 0; i < u->nr; i++) {
        r = &u->r[i];

        if (r->id[0] == '\0' && eg_unify_colls[r->coll].level == 1
            && eg_unify_derived_id(u, r) != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
eg_unify_finish(eg_unify_t *u)
{
    size_t      i;
    eg_urec_t  *r;

    for (i = 0; i < u->nr; i++) {
        r = &u->r[i];

        if (r->id[0] == '\0' && eg_unify_derived_id(u, r) != 0) {
            return -1;
        }

        /* no local id and no key: an id for this batch only */
        if (r->id[0] == '\0' && eg_uuid_v4(r->id) != 0) {
            return -1;
        }
    }

    for (i = 0; i < u->nr; i++) {
        if (eg_unify_resolve_all(u, &u->r[i], 1) != 0
            || eg_unify_complete(u, &u->r[i]) != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
eg_unify_arg(eg_unify_t *u, const char *s)
{
    size_t       cap;
    json_t      *j;
    size_t      *lens;
    const char **argv;

    if (u->argc == u->argcap) {
        cap = u->argcap ? u->argcap * 2 : 64;

        argv = realloc(u->argv, cap * sizeof(char *));
        if (argv == NULL) {
            return -1;
        }

        u->argv = argv;

        lens = realloc(u->argvlen, cap * sizeof(size_t));
        if (lens == NULL) {
            return -1;
        }

        u->argvlen = lens;
        u->argcap = cap;
    }

    j = json_string(s);
    if (j == NULL || json_array_append_new(u->strs, j) != 0) {
        return -1;
    }

    u->argv[u->argc] = json_string_value(j);
    u->argvlen[u->argc] = strlen(s);
    u->argc++;

    return 0;
}


static void
eg_unify_args_reset(eg_unify_t *u)
{
    u->argc = 0;
    u->npending = 0;
    json_array_clear(u->strs);
}
