/*
 * Copyright (C) EduGate contributors
 *
 * The waits of a vendor push (std_push.c runs the steps): a job in the
 * thread pool under a deadline, a Redis command, the subrequest to the
 * data center.  Each suspends the request; its callback resumes it with
 * ngx_http_edugate_std_run().
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_std.h"
#include "ngx_http_edugate_redis.h"


/* bounds of one piece of a Redis command (ngx_http_edugate_std_redis) */
#define NGX_HTTP_EDUGATE_STD_PIECE_ARGS   4096
#define NGX_HTTP_EDUGATE_STD_PIECE_BYTES  (1024 * 1024)


static void ngx_http_edugate_std_thread(void *data, ngx_log_t *log);
static void ngx_http_edugate_std_done(ngx_event_t *ev);
static void ngx_http_edugate_std_deadline(ngx_event_t *ev);
static ngx_int_t ngx_http_edugate_std_piece(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx);
static void ngx_http_edugate_std_command_done(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx);
static void ngx_http_edugate_std_reply(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_std_forward_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_http_edugate_std_work_t *w);
static ngx_int_t ngx_http_edugate_std_forwarded(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_edugate_std_resume(ngx_http_request_t *r);


ngx_int_t
ngx_http_edugate_std_post(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx, ngx_http_edugate_std_job_pt job,
    ngx_uint_t next)
{
    ngx_thread_task_t                    *task;
    ngx_http_edugate_std_work_t          *w;
    ngx_http_edugate_std_loc_conf_t      *slcf;
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_plugin_module);
    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);

    w = ctx->work;

    if (job == ngx_http_edugate_std_parse
        && ngx_http_edugate_crash_disabled(r, w->vendor))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: plugin_disabled: plugin \"%V\" is disabled "
                      "after repeated crashes", &w->vendor->name);
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "plugin_disabled", NULL);
        return NGX_ERROR;
    }

    task = w->task;
    task->ctx = w;
    task->handler = ngx_http_edugate_std_thread;
    task->event.handler = ngx_http_edugate_std_done;
    task->event.data = w;

    w->job = job;
    w->busy = 1;
    w->posted = ngx_current_msec;

    if (ngx_thread_task_post(pmcf->pool, task) != NGX_OK) {
        w->busy = 0;
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "internal_error", NULL);
        return NGX_ERROR;
    }

    ctx->state = next;
    ctx->waiting = 1;

    ctx->deadline.handler = ngx_http_edugate_std_deadline;
    ctx->deadline.data = r;
    ctx->deadline.log = r->connection->log;
    ngx_add_timer(&ctx->deadline, slcf->timeout);

    return NGX_OK;
}


/* in a thread of the pool: only the work, never the request */

static void
ngx_http_edugate_std_thread(void *data, ngx_log_t *log)
{
    ngx_http_edugate_std_work_t *w = data;

    w->job(w);
}


static void
ngx_http_edugate_std_done(ngx_event_t *ev)
{
    ngx_http_edugate_std_work_t *w = ev->data;

    ngx_uint_t                   i;
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_edugate_std_ctx_t  *ctx;

    w->busy = 0;
    r = w->request;

    for (i = 0; w->calls && i < w->nentities; i++) {
        if (w->calls[i]) {
            ngx_http_edugate_host_logs(r ? r->connection->log
                                         : ngx_cycle->log, w->calls[i]);
            eg_call_free(w->calls[i]);
            w->calls[i] = NULL;
        }
    }

    if (r == NULL) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "edugate: batch %s of \"%V\" done after %M ms, its "
                      "request was answered already", w->batch_id,
                      &w->vendor->name, ngx_current_msec - w->posted);
        ngx_http_edugate_std_work_free(w);
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    ctx->waiting = 0;

    c = r->connection;
    ngx_http_set_log_request(c->log, r);

    ngx_http_edugate_std_run(r);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_edugate_std_deadline(ngx_event_t *ev)
{
    ngx_http_request_t *r = ev->data;

    ngx_connection_t                 *c;
    ngx_http_edugate_std_ctx_t       *ctx;
    ngx_http_edugate_std_work_t      *w;
    ngx_http_edugate_std_loc_conf_t  *slcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);
    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);
    c = r->connection;

    /* the thread keeps the work and frees it when it returns */
    w = ctx->work;
    w->request = NULL;
    ctx->work = NULL;
    ctx->waiting = 0;

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "edugate: plugin_timeout: batch %s of plugin \"%V\" not "
                  "done within %M ms", w->batch_id, &w->vendor->name,
                  slcf->timeout);

    ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_GATEWAY_TIME_OUT,
                                "plugin_timeout", "the batch took too long");

    ngx_http_run_posted_requests(c);
}


/*
 * EVAL of script over args (a JSON array of strings), or, without a
 * script, the id mapping's own command.  A command of many groups of
 * arguments (stride of them each; 0: one command whatever its size) goes
 * to Redis in pieces of whole groups: one script over a bulk batch would
 * hold Redis, and with it every session lookup of every node, for
 * seconds, and would outlast edugate_redis_timeout.  The pieces are
 * sent one after the other and their replies kept one after the other,
 * as the reply of the whole command; each group stands alone in the
 * scripts, so a piece is as atomic as the groups need.
 */

ngx_int_t
ngx_http_edugate_std_redis(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx, const char *script, json_t *args,
    size_t stride, ngx_uint_t next)
{
    size_t                        i, argc, *argvlen;
    const char                  **argv;
    ngx_http_edugate_std_work_t  *w;

    w = ctx->work;

    if (script == NULL) {
        argc = w->step.argc;
        argv = w->step.argv;
        argvlen = w->step.argvlen;
        ctx->cmd_head = w->step.head;
        stride = w->step.stride;

    } else {
        argc = 3 + json_array_size(args);
        argv = ngx_palloc(r->pool, argc * sizeof(char *));
        argvlen = ngx_palloc(r->pool, argc * sizeof(size_t));

        if (argv == NULL || argvlen == NULL) {
            ngx_http_edugate_std_finish(r, ctx,
                                        NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "internal_error", NULL);
            return NGX_ERROR;
        }

        argv[0] = "EVAL";
        argv[1] = script;
        argv[2] = "0";

        for (i = 0; i < json_array_size(args); i++) {
            argv[3 + i] = json_string_value(json_array_get(args, i));
            argvlen[3 + i] = json_string_length(json_array_get(args, i));
        }

        for (i = 0; i < 3; i++) {
            argvlen[i] = ngx_strlen(argv[i]);
        }

        ctx->cmd_head = 3;
    }

    ctx->cmd_argv = argv;
    ctx->cmd_argvlen = argvlen;
    ctx->cmd_argc = argc;
    ctx->cmd_stride = stride;
    ctx->cmd_pos = ctx->cmd_head;
    ctx->cmd_pieces = 0;
    ctx->cmd_own = (script != NULL);

    if (ngx_http_edugate_std_piece(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->state = next;
    ctx->waiting = 1;

    return NGX_OK;
}


/*
 * The next piece of the command: whole groups, within both bounds.  When
 * it cannot be sent, the batch is refused (503) here.
 */

static ngx_int_t
ngx_http_edugate_std_piece(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx)
{
    size_t       i, n, end, group, bytes, gbytes, *lens;
    ngx_int_t    rc;
    const char **argv;

    end = ctx->cmd_pos;

    if (ctx->cmd_stride == 0) {
        end = ctx->cmd_argc;
    }

    bytes = 0;

    while (end < ctx->cmd_argc) {
        group = ngx_min(ctx->cmd_stride, ctx->cmd_argc - end);
        gbytes = 0;

        for (i = 0; i < group; i++) {
            gbytes += ctx->cmd_argvlen[end + i];
        }

        if (end > ctx->cmd_pos
            && (end + group - ctx->cmd_pos > NGX_HTTP_EDUGATE_STD_PIECE_ARGS
                || bytes + gbytes > NGX_HTTP_EDUGATE_STD_PIECE_BYTES))
        {
            break;
        }

        end += group;
        bytes += gbytes;
    }

    n = ctx->cmd_head + end - ctx->cmd_pos;

    argv = ngx_palloc(r->pool, n * sizeof(char *));
    lens = ngx_palloc(r->pool, n * sizeof(size_t));

    if (argv == NULL || lens == NULL) {
        rc = NGX_ERROR;
        goto failed;
    }

    ngx_memcpy(argv, ctx->cmd_argv, ctx->cmd_head * sizeof(char *));
    ngx_memcpy(lens, ctx->cmd_argvlen, ctx->cmd_head * sizeof(size_t));
    ngx_memcpy(argv + ctx->cmd_head, ctx->cmd_argv + ctx->cmd_pos,
               (end - ctx->cmd_pos) * sizeof(char *));
    ngx_memcpy(lens + ctx->cmd_head, ctx->cmd_argvlen + ctx->cmd_pos,
               (end - ctx->cmd_pos) * sizeof(size_t));

    /* hiredis has copied the arguments once the call returns */
    rc = ngx_http_edugate_redis_call(r, ngx_http_edugate_std_reply, (int) n,
                                     argv, lens);

    ngx_pfree(r->pool, argv);
    ngx_pfree(r->pool, lens);

    ctx->cmd_pos = end;
    ctx->cmd_pieces++;

    if (rc == NGX_OK) {
        return NGX_OK;
    }

failed:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: registry_unavailable: redis is down, batch %s "
                  "cannot be mapped or stored", ctx->work->batch_id);
    ngx_http_edugate_std_command_done(r, ctx);
    ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "registry_unavailable", NULL);

    return NGX_ERROR;
}


static void
ngx_http_edugate_std_command_done(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx)
{
    if (ctx->cmd_own) {
        ngx_pfree(r->pool, ctx->cmd_argv);
        ngx_pfree(r->pool, ctx->cmd_argvlen);
    }

    ctx->cmd_argv = NULL;
    ctx->cmd_argvlen = NULL;
    ctx->cmd_argc = 0;
    ctx->cmd_pos = 0;
    ctx->cmd_own = 0;
}


static void
ngx_http_edugate_std_reply(ngx_http_request_t *r, redisReply *reply)
{
    ngx_http_edugate_std_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    ctx->waiting = 0;

    if (ctx->work == NULL) {
        ngx_http_edugate_std_command_done(r, ctx);
        return;
    }

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: registry_unavailable: batch %s: %s",
                      ctx->work->batch_id,
                      reply ? reply->str : "redis failed or timed out");
        ngx_http_edugate_std_command_done(r, ctx);
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "registry_unavailable", NULL);
        return;
    }

    /* the store script answers a count; the others strings */
    if (ctx->state != NGX_HTTP_EDUGATE_STD_ANSWER
        && ngx_http_edugate_std_keep_reply(ctx->work, reply,
                                           ctx->cmd_pieces > 1)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: registry_error: batch %s: redis answered "
                      "something else than strings", ctx->work->batch_id);
        ngx_http_edugate_std_command_done(r, ctx);
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "registry_error", NULL);
        return;
    }

    if (ctx->cmd_pos < ctx->cmd_argc) {
        if (ngx_http_edugate_std_piece(r, ctx) != NGX_OK) {
            return;
        }

        ctx->waiting = 1;
        return;
    }

    ngx_http_edugate_std_command_done(r, ctx);
    ngx_http_edugate_std_run(r);
}


ngx_int_t
ngx_http_edugate_std_forward(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx)
{
    ngx_buf_t                        *b;
    ngx_chain_t                      *cl;
    ngx_http_request_t               *sr;
    ngx_http_request_body_t          *rb;
    ngx_http_post_subrequest_t       *ps;
    ngx_http_edugate_std_work_t      *w;
    ngx_http_edugate_std_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);
    w = ctx->work;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (ps == NULL || rb == NULL || b == NULL || cl == NULL) {
        goto failed;
    }

    ps->handler = ngx_http_edugate_std_forwarded;
    ps->data = ctx;

    if (ngx_http_subrequest(r, &slcf->forward, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        goto failed;
    }

    /* the work outlives the subrequest: its buffer can be sent as is */
    b->pos = (u_char *) w->forward;
    b->last = b->pos + w->forward_len;
    b->memory = 1;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;
    rb->bufs = cl;

    sr->request_body = rb;
    sr->method = NGX_HTTP_POST;
    ngx_str_set(&sr->method_name, "POST");
    sr->header_only = 1;

    if (ngx_http_edugate_std_forward_headers(r, sr, w) != NGX_OK) {
        goto failed;
    }

    r->write_event_handler = ngx_http_edugate_std_resume;
    ctx->waiting = 1;

    return NGX_OK;

failed:

    ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                "internal_error", NULL);
    return NGX_ERROR;
}


/*
 * The subrequest's headers are the client's, less what described the
 * vendor's payload, plus the batch's.  r->headers_in points into the
 * parent's list, so the subrequest gets a list of its own.
 */

static ngx_int_t
ngx_http_edugate_std_forward_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_http_edugate_std_work_t *w)
{
    size_t            i;
    ngx_uint_t        k;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    static const char  *dropped[] = {
        "content-type", "content-length", "transfer-encoding", "expect",
        "content-encoding", NULL
    };

    static ngx_str_t  names[] = {
        ngx_string("Content-Type"),
        ngx_string("X-Edugate-Batch-Id"),
        ngx_string("X-Edugate-Vendor"),
        ngx_string("X-Edugate-Mode"),
    };

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 16,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (k = 0; dropped[k]; k++) {
            if (h[i].key.len == ngx_strlen(dropped[k])
                && ngx_strncasecmp(h[i].key.data, (u_char *) dropped[k],
                                   h[i].key.len) == 0)
            {
                break;
            }
        }

        if (dropped[k] || h[i].hash == 0) {
            continue;
        }

        nh = ngx_list_push(&sr->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        nh = ngx_list_push(&sr->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(nh, sizeof(ngx_table_elt_t));
        nh->hash = 1;
        nh->key = names[k];
        nh->lowcase_key = ngx_pnalloc(r->pool, names[k].len);
        if (nh->lowcase_key == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(nh->lowcase_key, names[k].data, names[k].len);

        if (k == 0) {
            ngx_str_set(&nh->value, "application/json; charset=utf-8");
            sr->headers_in.content_type = nh;

        } else {
            nh->value.data = (u_char *) (k == 1 ? w->batch_id
                                         : k == 2 ? w->uconf.vendor
                                         : w->pconf.observe ? "observe"
                                         : "enforce");
            nh->value.len = ngx_strlen(nh->value.data);
        }
    }

    sr->headers_in.content_length = NULL;
    sr->headers_in.transfer_encoding = NULL;
    sr->headers_in.chunked = 0;
    sr->headers_in.content_length_n = w->forward_len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_std_forwarded(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_edugate_std_ctx_t *ctx = data;

    ngx_uint_t  status;

    status = r->headers_out.status;

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE || status == 0) {
        status = (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) rc
                                                  : NGX_HTTP_BAD_GATEWAY;
    }

    ctx->forward_status = status;
    ctx->waiting = 0;

    if (ctx->work) {
        ctx->work->forward_status = (status >= 200 && status < 300)
                                    ? "accepted" : "failed";
    }

    ctx->forward_failed = (status < 200 || status >= 300);

    return rc;
}


static void
ngx_http_edugate_std_resume(ngx_http_request_t *r)
{
    ngx_http_edugate_std_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    if (ctx->waiting) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_edugate_std_run(r);
}


/*
 * The steps a push and a pull share: the payload parsed, unified ids
 * from the registry, the registry's copies fetched.  NGX_OK: the step is
 * posted or done, go on; NGX_DONE: it waits, or the request is over;
 * NGX_DECLINED: the state is the caller's own.
 */

ngx_int_t
ngx_http_edugate_std_shared_step(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_http_edugate_std_work_t  *w;

    w = ctx->work;

    switch (ctx->state) {

    case NGX_HTTP_EDUGATE_STD_PARSE:
        rc = ngx_http_edugate_std_post(r, ctx, ngx_http_edugate_std_parse,
                                       NGX_HTTP_EDUGATE_STD_IDS);
        break;

    case NGX_HTTP_EDUGATE_STD_IDS:
        if (w->step_rc == EG_UNIFY_DONE) {
            ctx->state = NGX_HTTP_EDUGATE_STD_FETCH;
            return NGX_OK;
        }

        rc = ngx_http_edugate_std_redis(r, ctx, NULL, NULL, 0,
                                        NGX_HTTP_EDUGATE_STD_REPLY);
        break;

    case NGX_HTTP_EDUGATE_STD_REPLY:
        rc = ngx_http_edugate_std_post(r, ctx, ngx_http_edugate_std_next,
                                       NGX_HTTP_EDUGATE_STD_IDS);
        break;

    case NGX_HTTP_EDUGATE_STD_FETCH:
        rc = ngx_http_edugate_std_redis(r, ctx, eg_pipe_fetch_script(),
                                        w->fetch, 4,
                                        NGX_HTTP_EDUGATE_STD_CHECK);
        break;

    default:
        return NGX_DECLINED;
    }

    return (rc == NGX_OK) ? NGX_OK : NGX_DONE;
}
