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
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_pipe_int.h"


#define EG_PIPE_SEEN_KEY  256


/*
 * ARGV: (key, n, n vendor ids) per seen set.  The answer: (group, vendor
 * id, unified id) of each member absent from its ids, group counting the
 * sets from 0.
 */
static const char  eg_pipe_snapshot_lua[] =
    "local out, i, g = {}, 1, 0\n"
    "while i < #ARGV do\n"
    "  local k, n, here = ARGV[i], tonumber(ARGV[i + 1]), {}\n"
    "  for j = i + 2, i + 1 + n do here[ARGV[j]] = true end\n"
    "  local seen = redis.call('HGETALL', k)\n"
    "  for j = 1, #seen, 2 do\n"
    "    if not here[seen[j]] then\n"
    "      out[#out + 1] = tostring(g)\n"
    "      out[#out + 1] = seen[j]\n"
    "      out[#out + 1] = seen[j + 1]\n"
    "    end\n"
    "  end\n"
    "  i, g = i + 2 + n, g + 1\n"
    "end\n"
    "return out\n";


static const char *eg_pipe_tenant(const eg_pipe_conf_t *conf,
    json_t *rec);
static void eg_pipe_seen_key(const eg_pipe_conf_t *conf,
    const char *tenant, const char *coll, char *key);
static int eg_pipe_deletion(const eg_pipe_conf_t *conf,
    eg_pipe_result_t *res, const char *ts, const char *coll,
    const char *tenant, const char *local, const char *id);


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
    char          ts[32], *end;
    size_t        i;
    json_t       *group;
    struct tm     tm;
    unsigned long g;

    if (gmtime_r(&conf->now, &tm) == NULL
        || strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        return -1;
    }

    for (i = 0; i + 2 < n; i += 3) {
        if (values[i] == NULL || values[i + 1] == NULL
            || values[i + 2] == NULL
            || strlen(values[i + 1]) != lens[i + 1]
            || strlen(values[i + 2]) != lens[i + 2])
        {
            continue;
        }

        g = strtoul(values[i], &end, 10);
        group = json_array_get(res->groups, g);

        if (*end != '\0' || group == NULL) {
            continue;
        }

        if (eg_pipe_deletion(conf, res, ts,
                             json_string_value(json_array_get(group, 0)),
                             json_string_value(json_array_get(group, 1)),
                             values[i + 1], values[i + 2])
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
eg_pipe_deletion(const eg_pipe_conf_t *conf, eg_pipe_result_t *res,
    const char *ts, const char *coll, const char *tenant, const char *local,
    const char *id)
{
    int      e;
    char     key[EG_PIPE_SEEN_KEY];
    size_t   idx;
    json_t  *list, *del;

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

    idx = eg_std_report_record(res->report, e, local, id);
    if (idx == (size_t) -1) {
        return -1;
    }

    res->report->r[idx].deleted = 1;

    eg_std_report_add(res->report, idx, "status", "R29", EG_STD_WARNING,
                      "absent", "present in every full snapshot",
                      "全量快照缺少此前记录：视为删除",
                      "omitted from a full snapshot: deleted");

    if (res->report->nomem) {
        return -1;
    }

    res->deleted++;

    /* the seen set forgets it once the data center has it (store) */
    eg_pipe_seen_key(conf, tenant, coll, key);

    return eg_pipe_op(res->store, "hd", key, local, "");
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
