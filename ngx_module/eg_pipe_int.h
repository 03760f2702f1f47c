/*
 * Copyright (C) EduGate contributors
 *
 * What eg_pipe.c (known records, validation, report) and eg_pipe_out.c
 * (forwarded batch, registry, counters, answer) share.
 */

#ifndef _EG_PIPE_INT_H_INCLUDED_
#define _EG_PIPE_INT_H_INCLUDED_

#include "eg_pipe.h"
#include "eg_unify_int.h"


/* the finds a record needs (eg_pipe_fetch_args) */
int eg_pipe_finds(json_t *args, const char *coll, json_t *rec);

/* eg_pipe_cascade.c: records referring to rejected ones are rejected */
int eg_pipe_cascade(json_t *records, eg_std_report_t *rep);

/* eg_pipe_xsd.c: records the rules accepted, against the XSD */
int eg_pipe_xsd(void *schema, json_t *records, eg_std_report_t *rep,
    json_t *texts);

/* the forwarded batch, the store arguments, the counters */
int eg_pipe_output(const eg_pipe_conf_t *conf, eg_unify_t *u, json_t *known,
    eg_pipe_result_t *res);

#endif /* _EG_PIPE_INT_H_INCLUDED_ */
