/*
 * Copyright (C) EduGate contributors
 *
 * What eg_pipe.c (known records, validation, report) and eg_pipe_out.c
 * (forwarded batch, registry, counters, answer) share.
 */

#ifndef _EG_PIPE_INT_H_INCLUDED_
#define _EG_PIPE_INT_H_INCLUDED_

#include <libxml/tree.h>

#include "eg_pipe.h"
#include "eg_unify_int.h"


#define EG_PIPE_XSD_NS       "urn:edugate:std:v1"


/* the finds a record needs (eg_pipe_fetch_args) */
int eg_pipe_finds(json_t *args, const char *coll, json_t *rec);

/* eg_pipe_cascade.c: records referring to rejected ones are rejected */
int eg_pipe_cascade(json_t *records, eg_std_report_t *rep);

/* eg_pipe_xsd.c: records the rules accepted, against the XSD */
int eg_pipe_xsd(void *schema, json_t *records, eg_std_report_t *rep,
    json_t *texts);

/*
 * A JSON value as XML (schemas/README.md: element names are the keys, a
 * list's members are <item>, null is absent), a new child of parent
 */
xmlNodePtr eg_pipe_xml(xmlNodePtr parent, xmlNsPtr ns, const char *name,
    json_t *v);

/* one record of a collection against the XSD: 1 valid, 0 not, -1 error */
int eg_pipe_xsd_record(void *schema, const char *coll, json_t *rec);

/* the forwarded batch, the store arguments, the counters */
int eg_pipe_output(const eg_pipe_conf_t *conf, eg_unify_t *u, json_t *known,
    eg_pipe_result_t *res);

/* one (op, key, a, b) quadruple of the store script */
int eg_pipe_op(json_t *store, const char *op, const char *key,
    const char *a, const char *b);

/* the 学校标识码 of the school a record belongs to, or "-" */
const char *eg_pipe_school(json_t *by_id, json_t *rec, int depth);

/* counts[school][field] += n */
int eg_pipe_count(json_t *counts, const char *school, const char *field,
    int n);

/* the counters' store arguments from counts */
int eg_pipe_counters(const eg_pipe_conf_t *conf, json_t *counts,
    json_t *store);

/* the counters' field of a violation, "R06:E" */
void eg_pipe_rule_field(const eg_std_violation_t *v, char *field,
    size_t size);

/* eg_pipe_snap.c: the seen set learns a forwarded record */
int eg_pipe_seen(const eg_pipe_conf_t *conf, json_t *store,
    const char *coll, json_t *rec);

/* eg_pipe_snap.c: res->snapshot and res->groups for the batch */
int eg_pipe_snapshot_args(const eg_pipe_conf_t *conf, json_t *records,
    eg_pipe_result_t *res);

#endif /* _EG_PIPE_INT_H_INCLUDED_ */
