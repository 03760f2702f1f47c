/*
 * Copyright (C) EduGate contributors
 *
 * What a vendor push does after the ids are known (eg_unify.h): the known
 * records the rules need, fetched from the registry in one script; the
 * rule engine (eg_std.h) over the batch, with what the plugin reported;
 * the per-record report; the standardized batch to forward; and what the
 * registry and the conformance counters learn.  nginx-free.
 */

#ifndef _EG_PIPE_H_INCLUDED_
#define _EG_PIPE_H_INCLUDED_

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "eg_std.h"
#include "eg_unify.h"


typedef struct {
    const eg_codes_t     *codes;
    const char           *vendor;
    const char           *tenant;       /* or NULL */
    const char           *batch_id;
    int                   observe;      /* forward rejected records too */
    int                   delta;        /* a delta feed, not a bulk one */
    int                   snapshot;     /* a bulk feed is a full snapshot */
    void                 *schema;       /* eg_pipe_schema_load(), or NULL */
    const unsigned char  *hmac_key;     /* for idNumber, or NULL */
    size_t                hmac_len;
    time_t                now;
    const char           *today;        /* YYYY-MM-DD, NULL: from now */
} eg_pipe_conf_t;


typedef struct {
    eg_std_report_t      *report;
    json_t               *forward;      /* the batch for the data center */
    json_t               *store;        /* arguments of the store script:
                                           the registry, the crosswalk */
    json_t               *counters;     /* and the conformance counters */
    json_t               *payload;      /* violations of the payload */
    json_t               *texts;        /* strings the report points to */
    json_t               *snapshot;     /* arguments of the snapshot
                                           script, or NULL */
    json_t               *groups;       /* [collection, tenant] of each
                                           seen set the script reads */
    json_t               *counts;       /* school: {field: n}, what the
                                           counters are rendered from */
    json_t               *by_id;        /* known and batch records by id,
                                           towards a record's school */
    size_t                records;
    size_t                rejected;
    size_t                forwarded;
    size_t                deleted;      /* omitted from a full snapshot */
} eg_pipe_result_t;


/* the fetch script and its arguments: "r" coll id, "f" coll field value */
const char *eg_pipe_fetch_script(void);
json_t *eg_pipe_fetch_args(json_t *records);

/*
 * The reply of the fetch script (coll, JSON text, coll, JSON text, ...)
 * as a batch-shaped object of known records; unreadable entries are
 * skipped.  NULL when out of memory.
 */
json_t *eg_pipe_known(size_t n, const char *const *values,
    const size_t *lens);

/*
 * Validates the unified records (eg_unify_records(u)) against the known
 * ones, fills in res.  0, or -1 when out of memory.
 */
int eg_pipe_run(const eg_pipe_conf_t *conf, eg_unify_t *u, json_t *known,
    eg_pipe_result_t *res);
void eg_pipe_result_free(eg_pipe_result_t *res);

/*
 * The answer to the vendor: the report with the batch totals, the mode
 * and what was forwarded (malloc()ed JSON text), or NULL.
 */
char *eg_pipe_answer(const eg_pipe_conf_t *conf, eg_pipe_result_t *res,
    const char *forward_status);

/*
 * The standard's XSD (schemas/std/v1/batch.xsd), compiled once; every
 * record the rules accept is then validated against it.  NULL with err.
 */
void *eg_pipe_schema_load(const char *path, char *err, size_t errlen);
void eg_pipe_schema_free(void *schema);

/* the store script: arguments are (op, key, a, b) quadruples */
const char *eg_pipe_store_script(void);

/*
 * R29, a bulk feed at a bulk=snapshot location: the script answers, per
 * seen set of a collection the batch carries, the vendor ids seen before
 * and absent now, as (group, vendor id, unified id, registry copy or "")
 * quadruples, and the registry records those copies lead to towards
 * their school as ("k", collection, id, copy).  Its arguments
 * (res.snapshot) are made by eg_pipe_run().
 */
const char *eg_pipe_snapshot_script(void);

/*
 * The script's reply: each absent record becomes a deletion in the
 * forwarded batch, a "deleted" record of the report (R29, W) counted
 * for its school like any violation (res.counters rendered again), and
 * in the store arguments a removal from its seen set and its registry
 * copy marked tobedeleted.  0, or -1 when out of memory.
 */
int eg_pipe_deletions(const eg_pipe_conf_t *conf, eg_pipe_result_t *res,
    size_t n, const char *const *values, const size_t *lens);

#endif /* _EG_PIPE_H_INCLUDED_ */
