/*
 * Copyright (C) EduGate contributors
 *
 * R29, the second half: a bulk feed that leaves out a record seen active
 * before deletes it, at a location whose vendor sends full snapshots
 * (bulk=snapshot).  The registry keeps per vendor, tenant and collection
 * a hash of the vendor ids it has seen active, each with its unified id
 * (eg:std:seen:<vendor>:<tenant>:<collection>), learnt whenever the data
 * center accepted a batch, whatever the location's bulk setting.  A
 * collection the batch does not carry is not touched.
 *
 * Once the data center accepted the deletions, the registry's copy of
 * each says so as a vendor's own deletion would (status tobedeleted,
 * dateLastModified the batch time), so that the rules of later pushes
 * see it deleted (R21a: a class that is being deleted), and each counts
 * as an R29 W of its school in the conformance counters.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_pipe_int.h"


#define EG_PIPE_SEEN_KEY  256


/*
 * ARGV: (key, n, n vendor ids) per seen set.  The answer: (group, vendor
 * id, unified id, registry copy or "") of each member absent from its
 * ids, group counting the sets from 0; then ("k", collection, id, copy)
 * of the registry records on the way from those copies to their school
 * (eg_pipe_school), which the batch may not have fetched.  Read-only.
 */
static const char  eg_pipe_snapshot_lua[] =
    "local up = { schoolId = 'orgs', orgId = 'orgs',"
    " homeroomClassId = 'classes', classId = 'classes',"
    " courseId = 'courses', lineItemId = 'lineItems',"
    " studentId = 'students', personId = 'students' }\n"
    "local out, known, got, i, g = {}, {}, {}, 1, 0\n"
    "local function ancestors(v, depth)\n"
    "  local ok, rec = pcall(cjson.decode, v)\n"
    "  if depth >= 5 or not ok or type(rec) ~= 'table' then return end\n"
    "  for f, c in pairs(up) do\n"
    "    local x, cs = rec[f], { c }\n"
    "    if f == 'personId' then cs = { 'students', 'staff' } end\n"
    "    for _, c2 in ipairs(cs) do\n"
    "      if type(x) == 'string' and not got[c2 .. ':' .. x] then\n"
    "        got[c2 .. ':' .. x] = true\n"
    "        local a = redis.call('GET', 'eg:std:rec:' .. c2 .. ':' .. x)\n"
    "        if a then\n"
    "          known[#known + 1] = 'k'\n"
    "          known[#known + 1] = c2\n"
    "          known[#known + 1] = x\n"
    "          known[#known + 1] = a\n"
    "          ancestors(a, depth + 1)\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "while i < #ARGV do\n"
    "  local k, n, here = ARGV[i], tonumber(ARGV[i + 1]), {}\n"
    "  local coll = string.match(k, ':([^:]*)$')\n"
    "  for j = i + 2, i + 1 + n do here[ARGV[j]] = true end\n"
    "  local seen = redis.call('HGETALL', k)\n"
    "  for j = 1, #seen, 2 do\n"
    "    if not here[seen[j]] then\n"
    "      local v = redis.call('GET', 'eg:std:rec:' .. coll .. ':'"
    " .. seen[j + 1])\n"
    "      out[#out + 1] = tostring(g)\n"
    "      out[#out + 1] = seen[j]\n"
    "      out[#out + 1] = seen[j + 1]\n"
    "      out[#out + 1] = v or ''\n"
    "      if v then ancestors(v, 0) end\n"
    "    end\n"
    "  end\n"
    "  i, g = i + 2 + n, g + 1\n"
    "end\n"
    "for j = 1, #known do out[#out + 1] = known[j] end\n"
    "return out\n";


static const char *eg_pipe_tenant(const eg_pipe_conf_t *conf,
    json_t *rec);
static void eg_pipe_seen_key(const eg_pipe_conf_t *conf,
    const char *tenant, const char *coll, char *key);
static int eg_pipe_known_copies(eg_pipe_result_t *res, size_t n,
    const char *const *values, const size_t *lens);
static json_t *eg_pipe_carried(eg_pipe_result_t *res);
static int eg_pipe_deletion(const eg_pipe_conf_t *conf,
    eg_pipe_result_t *res, json_t *carried, const char *ts,
    const char *coll, const char *tenant, const char *local, const char *id,
    const char *copy);
static int eg_pipe_mark_deleted(eg_pipe_result_t *res, const char *ts,
    const char *coll, const char *id, json_t *rec);


const char *
eg_pipe_snapshot_script(void)
{
    return eg_pipe_snapshot_lua;
}


/* a forwarded record joins its seen set, or leaves it if tobedeleted */

int
eg_pipe_seen(const eg_pipe_conf_t *conf, json_t *store, const char *coll,
    json_t *rec)
{
    char         key[EG_PIPE_SEEN_KEY];
    const char  *local, *id, *status;

    local = json_string_value(json_object_get(json_object_get(rec, "source"),
                                              "vendorLocalId"));
    id = json_string_value(json_object_get(rec, "id"));

    if (local == NULL || local[0] == '\0' || id == NULL) {
        return 0;
    }

    eg_pipe_seen_key(conf, eg_pipe_tenant(conf, rec), coll, key);
    status = json_string_value(json_object_get(rec, "status"));

    if (status && strcmp(status, "tobedeleted") == 0) {
        return eg_pipe_op(store, "hd", key, local, "");
    }

    return eg_pipe_op(store, "hs", key, local, id);
}


/*
 * Every record of the batch is present, rejected or not: what the rules
 * refuse is still in the vendor's system.
 */

int
eg_pipe_snapshot_args(const eg_pipe_conf_t *conf, json_t *records,
    eg_pipe_result_t *res)
{
    char         key[EG_PIPE_SEEN_KEY], n[24];
    size_t       i, g;
    json_t      *sets, *ids, *list, *rec, *group, *v;
    const char  *coll, *tenant, *local;

    sets = json_object();
    res->groups = json_array();
    res->snapshot = json_array();

    if (sets == NULL || res->groups == NULL || res->snapshot == NULL) {
        json_decref(sets);
        return -1;
    }

    json_object_foreach(records, coll, list) {
        json_array_foreach(list, i, rec) {
            local = json_string_value(
                        json_object_get(json_object_get(rec, "source"),
                                        "vendorLocalId"));

            if (local == NULL || local[0] == '\0') {
                continue;
            }

            tenant = eg_pipe_tenant(conf, rec);
            eg_pipe_seen_key(conf, tenant, coll, key);
            ids = json_object_get(sets, key);

            if (ids == NULL) {
                ids = json_array();
                group = json_pack("[ss]", coll, tenant);

                if (ids == NULL || group == NULL
                    || json_object_set_new(sets, key, ids) != 0
                    || json_array_append_new(res->groups, group) != 0)
                {
                    json_decref(sets);
                    return -1;
                }
            }

            if (json_array_append_new(ids, json_string(local)) != 0) {
                json_decref(sets);
                return -1;
            }
        }
    }

    /* the groups in the order the script counts them */
    json_array_foreach(res->groups, g, group) {
        eg_pipe_seen_key(conf,
                         json_string_value(json_array_get(group, 1)),
                         json_string_value(json_array_get(group, 0)), key);
        ids = json_object_get(sets, key);
        snprintf(n, sizeof(n), "%zu", json_array_size(ids));

        if (json_array_append_new(res->snapshot, json_string(key)) != 0
            || json_array_append_new(res->snapshot, json_string(n)) != 0)
        {
            json_decref(sets);
            return -1;
        }

        json_array_foreach(ids, i, v) {
            if (json_array_append(res->snapshot, v) != 0) {
                json_decref(sets);
                return -1;
            }
        }
    }

    json_decref(sets);

    return 0;
}


int
eg_pipe_deletions(const eg_pipe_conf_t *conf, eg_pipe_result_t *res,
    size_t n, const char *const *values, const size_t *lens)
{
    int            rc;
    char           ts[32], *end;
    size_t         i, before;
    json_t        *group, *carried;
    struct tm      tm;
    unsigned long  g;

    if (gmtime_r(&conf->now, &tm) == NULL
        || strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        return -1;
    }

    if (n < 4) {
        return 0;
    }

    if (eg_pipe_known_copies(res, n, values, lens) != 0) {
        return -1;
    }

    carried = eg_pipe_carried(res);
    if (carried == NULL) {
        return -1;
    }

    before = res->deleted;
    rc = 0;

    for (i = 0; rc == 0 && i + 3 < n; i += 4) {
        if (values[i] == NULL || values[i + 1] == NULL
            || values[i + 2] == NULL || values[i + 3] == NULL
            || strlen(values[i + 1]) != lens[i + 1]
            || strlen(values[i + 2]) != lens[i + 2]
            || strlen(values[i + 3]) != lens[i + 3])
        {
            continue;
        }

        g = strtoul(values[i], &end, 10);
        group = json_array_get(res->groups, g);

        if (values[i][0] == '\0' || *end != '\0' || group == NULL) {
            continue;
        }

        rc = eg_pipe_deletion(conf, res, carried, ts,
                              json_string_value(json_array_get(group, 0)),
                              json_string_value(json_array_get(group, 1)),
                              values[i + 1], values[i + 2], values[i + 3]);
    }

    json_decref(carried);

    if (rc != 0) {
        return -1;
    }

    if (res->deleted == before) {
        return 0;
    }

    /* the counters again, now with the deletions (eg_pipe_output) */
    if (res->counters == NULL) {
        res->counters = json_array();
        if (res->counters == NULL) {
            return -1;
        }
    }

    json_array_clear(res->counters);

    return eg_pipe_counters(conf, res->counts, res->counters);
}


/* the registry records on the way to the school: ("k", coll, id, copy) */

static int
eg_pipe_known_copies(eg_pipe_result_t *res, size_t n,
    const char *const *values, const size_t *lens)
{
    size_t        i;
    json_t       *rec;
    json_error_t  err;

    if (res->by_id == NULL) {
        res->by_id = json_object();
        if (res->by_id == NULL) {
            return -1;
        }
    }

    for (i = 0; i + 3 < n; i += 4) {
        if (values[i] == NULL || strcmp(values[i], "k") != 0
            || values[i + 2] == NULL || values[i + 3] == NULL
            || strlen(values[i + 2]) != lens[i + 2]
            || json_object_get(res->by_id, values[i + 2]) != NULL)
        {
            continue;
        }

        /* what is unreadable leads nowhere */
        rec = json_loadb(values[i + 3], lens[i + 3], 0, &err);

        if (rec == NULL) {
            continue;
        }

        if (!json_is_object(rec)) {
            json_decref(rec);
            continue;
        }

        if (json_object_set_new(res->by_id, values[i + 2], rec) != 0) {
            return -1;
        }
    }

    return 0;
}


/* the unified ids of the records the forwarded batch carries */

static json_t *
eg_pipe_carried(eg_pipe_result_t *res)
{
    size_t       i;
    json_t      *ids, *list, *rec;
    const char  *coll, *id;

    ids = json_object();
    if (ids == NULL) {
        return NULL;
    }

    json_object_foreach(res->forward, coll, list) {
        if (!json_is_array(list) || strcmp(coll, "deletions") == 0) {
            continue;
        }

        json_array_foreach(list, i, rec) {
            id = json_string_value(json_object_get(rec, "id"));

            if (id && json_object_set_new(ids, id, json_true()) != 0) {
                json_decref(ids);
                return NULL;
            }
        }
    }

    return ids;
}


static int
eg_pipe_deletion(const eg_pipe_conf_t *conf, eg_pipe_result_t *res,
    json_t *carried, const char *ts, const char *coll, const char *tenant,
    const char *local, const char *id, const char *copy)
{
    int                  e, rc;
    char                 key[EG_PIPE_SEEN_KEY], field[16];
    size_t               idx;
    json_t              *list, *del, *rec;
    const char          *school;
    json_error_t         err;
    eg_std_report_t     *rep;

    e = eg_std_entity_from_collection(coll);
    if (e < 0) {
        return 0;
    }

    list = json_object_get(res->forward, "deletions");

    if (list == NULL) {
        list = json_array();
        if (json_object_set_new(res->forward, "deletions", list) != 0) {
            return -1;
        }
    }

    del = json_pack("{s:s, s:s, s:s, s:s, s:s}", "entity", coll,
                    "id", id, "vendorLocalId", local,
                    "status", "tobedeleted", "dateLastModified", ts);

    if (json_array_append_new(list, del) != 0) {
        return -1;
    }

    rep = res->report;
    idx = eg_std_report_record(rep, e, local, id);
    if (idx == (size_t) -1) {
        return -1;
    }

    rep->r[idx].deleted = 1;

    eg_std_report_add(rep, idx, "status", "R29", EG_STD_WARNING,
                      "absent", "present in every full snapshot",
                      "全量快照缺少此前记录：视为删除",
                      "omitted from a full snapshot: deleted");

    if (rep->nomem) {
        return -1;
    }

    res->deleted++;

    /* the registry's copy, if the rules ever accepted the record */
    rec = NULL;

    if (copy[0] != '\0') {
        rec = json_loads(copy, 0, &err);

        if (rec != NULL && !json_is_object(rec)) {
            json_decref(rec);
            rec = NULL;
        }
    }

    /* counted for its school as eg_pipe_output counts a violation */
    school = rec ? eg_pipe_school(res->by_id, rec, 0) : "-";
    eg_pipe_rule_field(&rep->v[rep->nv - 1], field, sizeof(field));

    if (res->counts == NULL) {
        res->counts = json_object();
    }

    rc = (res->counts == NULL
          || eg_pipe_count(res->counts, school, field, 1) != 0) ? -1 : 0;

    /*
     * A record the batch carries under another vendor id (the vendor
     * renumbered it) is stored by this batch: its copy stays active.
     */
    if (rc == 0 && rec != NULL && json_object_get(carried, id) == NULL) {
        rc = eg_pipe_mark_deleted(res, ts, coll, id, rec);
    }

    json_decref(rec);

    if (rc != 0) {
        return -1;
    }

    /* the seen set forgets it once the data center has it (store) */
    eg_pipe_seen_key(conf, tenant, coll, key);

    return eg_pipe_op(res->store, "hd", key, local, "");
}


/*
 * The copy says what a vendor's own deletion would have stored.  Its
 * index entries (eg:std:idx:..., eg_pipe_store_record) stay, as they do
 * for a vendor's own deletion: every rule that reads index members as
 * holders of a value (R24: 学籍号 among active students, 学号 in a
 * school) or as dependents (R21g) skips those that are not active
 * (eg_rule_active), so a deleted student no longer holds its 学籍号;
 * removing them would need the copy's indexed values in the store
 * script and change nothing the rules decide.
 */

static int
eg_pipe_mark_deleted(eg_pipe_result_t *res, const char *ts,
    const char *coll, const char *id, json_t *rec)
{
    int    rc;
    char  *text, key[EG_PIPE_SEEN_KEY];

    if (json_object_set_new(rec, "status", json_string("tobedeleted")) != 0
        || json_object_set_new(rec, "dateLastModified", json_string(ts))
           != 0)
    {
        return -1;
    }

    text = json_dumps(rec, JSON_COMPACT);
    if (text == NULL) {
        return -1;
    }

    snprintf(key, sizeof(key), "eg:std:rec:%.64s:%.128s", coll, id);
    rc = eg_pipe_op(res->store, "s", key, text, "");
    free(text);

    return rc;
}


static const char *
eg_pipe_tenant(const eg_pipe_conf_t *conf, json_t *rec)
{
    const char  *tenant;

    tenant = json_string_value(json_object_get(json_object_get(rec, "source"),
                                               "tenant"));

    if (tenant == NULL || tenant[0] == '\0') {
        tenant = conf->tenant;
    }

    return (tenant && tenant[0]) ? tenant : "-";
}


static void
eg_pipe_seen_key(const eg_pipe_conf_t *conf, const char *tenant,
    const char *coll, char *key)
{
    snprintf(key, EG_PIPE_SEEN_KEY, "eg:std:seen:%.64s:%.64s:%.32s",
             conf->vendor, tenant, coll);
}
