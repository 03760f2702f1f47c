/*
 * Copyright (C) EduGate contributors
 *
 * The jobs of a standard pull that a push has not (std_work.c has the
 * others), run in the plugin thread pool: the plugin's to_vendor hook
 * over the client's filters; validation of the standardized answer and
 * its rendering.  A job sees only its work, never the request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_std.h"


void
ngx_http_edugate_std_pull_query(ngx_http_edugate_std_work_t *w)
{
    eg_call_t        *c;
    eg_plugin_t      *p;
    edugate_query_t   q;

    p = w->vendor->plugin;

    c = eg_call_new(p, "to_vendor", EG_OUT_REQUEST);
    if (c == NULL) {
        w->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        w->code = "internal_error";
        return;
    }

    w->query_call = c;

    ngx_memzero(&q, sizeof(edugate_query_t));
    q.size = sizeof(edugate_query_t);
    q.entity = w->entity;
    q.params = w->filters->params;
    q.nparams = (uint32_t) w->filters->n;
    q.now = (int64_t) w->pconf.now;

    ngx_http_edugate_crash_enter(w->vendor, "to_vendor");

    w->query_rc = p->desc->to_vendor(&p->host.pub, c, p->state, &q);

    ngx_http_edugate_crash_leave();

    /* a reason given with success is a failure all the same */
    if (w->query_rc == EDUGATE_OK && c->error[0]) {
        w->query_rc = EDUGATE_ERROR;
    }
}


void
ngx_http_edugate_std_pull_check(ngx_http_edugate_std_work_t *w)
{
    json_t  *known;

    known = eg_pipe_known(w->nvals, (const char *const *) w->vals, w->lens);

    if (known == NULL || eg_pipe_run(&w->pconf, w->u, known, &w->res) != 0)
    {
        json_decref(known);
        goto nomem;
    }

    json_decref(known);

    w->answer = eg_pull_render(&w->pull, &w->res, &w->answer_len,
                               &w->answer_total);

    if (w->answer == NULL) {
        goto nomem;
    }

    return;

nomem:

    w->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    w->code = "internal_error";
    ngx_cpystrn((u_char *) w->detail, (u_char *) "out of memory",
                sizeof(w->detail));
}
