/*
 * Copyright (C) EduGate contributors
 *
 * Vendor locations (edugate_vendor): in the precontent phase, after the
 * access phase has found the person, the vendor's id of that person is
 * read from Redis (eg:idmap:<vendor>:uid:<uid>) or, when the vendor has
 * none, derived as a pairwise id; then the plugin's identity hook runs in
 * a thread pool under an nginx timer.  A hook past its deadline gets the
 * request a 504 at once, while its thread finishes on its own; whatever
 * it then returns is dropped.  Each step suspends the phase (NGX_AGAIN)
 * and its callback resumes it, as the access phase does for Redis.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_plugin.h"
#include "ngx_http_edugate_redis.h"


#define NGX_HTTP_EDUGATE_VENDOR_START   0
#define NGX_HTTP_EDUGATE_VENDOR_HOOK    1
#define NGX_HTTP_EDUGATE_VENDOR_APPLY   2
#define NGX_HTTP_EDUGATE_VENDOR_DONE    3
#define NGX_HTTP_EDUGATE_VENDOR_FAIL    4


typedef struct ngx_http_edugate_job_s  ngx_http_edugate_job_t;

typedef struct {
    ngx_http_edugate_plugin_t    *vendor;
    ngx_http_edugate_job_t       *job;
    eg_call_t                    *call;
    ngx_event_t                   deadline;
    ngx_str_t                     vendor_uid;
    ngx_uint_t                    pairwise;
    ngx_uint_t                    state;
    ngx_uint_t                    status;
    const char                   *code;
    int                           hook_rc;
    unsigned                      waiting:1;
} ngx_http_edugate_vendor_ctx_t;

/* lives outside the request: the thread may outlast it */
struct ngx_http_edugate_job_s {
    ngx_thread_task_t            *task;
    ngx_http_request_t           *request;     /* NULL once abandoned */
    ngx_http_edugate_vendor_ctx_t  *ctx;
    ngx_http_edugate_plugin_t    *vendor;
    eg_call_t                    *call;
    edugate_identity_t            id;
    ngx_msec_t                    posted;
    int                           rc;
};


static ngx_int_t ngx_http_edugate_vendor_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_vendor_start(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx);
static void ngx_http_edugate_vendor_idmap(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_vendor_pairwise(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx, eg_identity_t *id);
static ngx_int_t ngx_http_edugate_vendor_post(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx);
static void ngx_http_edugate_vendor_thread(void *data, ngx_log_t *log);
static void ngx_http_edugate_vendor_done(ngx_event_t *ev);
static void ngx_http_edugate_vendor_deadline(ngx_event_t *ev);
static ngx_int_t ngx_http_edugate_vendor_apply(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx);
static ngx_int_t ngx_http_edugate_vendor_fail(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx, ngx_uint_t status, const char *code);
static void ngx_http_edugate_vendor_resume(ngx_http_request_t *r);
static void ngx_http_edugate_vendor_cleanup(void *data);
static void ngx_http_edugate_job_free(ngx_http_edugate_job_t *job);


ngx_int_t
ngx_http_edugate_vendor_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /* after every access handler, whatever order modules were loaded in */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_edugate_vendor_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_vendor_handler(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t                  *cln;
    ngx_http_edugate_vendor_ctx_t       *ctx;
    ngx_http_edugate_plugin_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_plugin_module);

    if (plcf->vendor == NULL || plcf->vendor->plugin->desc->identity == NULL)
    {
        return NGX_DECLINED;
    }

    /*
     * nginx runs no access phase for a subrequest, so there is no person
     * to present; whatever the client sent under the plugin's names still
     * goes, so that the vendor never takes a client's word for identity.
     */

    if (r != r->main) {
        if (ngx_http_edugate_host_strip(r, plcf->vendor->plugin) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_plugin_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_vendor_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_edugate_vendor_cleanup;
        cln->data = ctx;

        ctx->vendor = plcf->vendor;
        ngx_http_set_ctx(r, ctx, ngx_http_edugate_plugin_module);
    }

    if (ctx->waiting) {
        return NGX_AGAIN;
    }

    switch (ctx->state) {

    case NGX_HTTP_EDUGATE_VENDOR_START:
        return ngx_http_edugate_vendor_start(r, ctx);

    case NGX_HTTP_EDUGATE_VENDOR_HOOK:
        return ngx_http_edugate_vendor_post(r, ctx);

    case NGX_HTTP_EDUGATE_VENDOR_APPLY:
        return ngx_http_edugate_vendor_apply(r, ctx);

    case NGX_HTTP_EDUGATE_VENDOR_DONE:
        return NGX_DECLINED;

    default:
        return ngx_http_edugate_vendor_fail(r, ctx, ctx->status, ctx->code);
    }
}


static ngx_int_t
ngx_http_edugate_vendor_start(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx)
{
    u_char                  *key;
    size_t                   len;
    ngx_int_t                rc;
    const char              *argv[2];
    size_t                   argvlen[2];
    eg_identity_t           *id;
    ngx_http_edugate_ctx_t  *ectx;

    if (ngx_http_edugate_host_strip(r, ctx->vendor->plugin) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_edugate_crash_disabled(r, ctx->vendor)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: plugin_disabled: plugin \"%V\" is disabled "
                      "after repeated crashes", &ctx->vendor->name);
        return ngx_http_edugate_vendor_fail(r, ctx,
                                            NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "plugin_disabled");
    }

    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);
    id = ectx ? ectx->identity : NULL;

    if (id == NULL) {
        /* another access module let the request in without a person */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: internal_error: no identity for plugin "
                      "\"%V\" (does \"satisfy any\" skip edugate_protect?)",
                      &ctx->vendor->name);
        return ngx_http_edugate_vendor_fail(r, ctx,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal_error");
    }

    len = sizeof("eg:idmap::uid:") - 1 + ctx->vendor->name.len
          + ngx_strlen(id->uid);

    key = ngx_pnalloc(r->pool, len);
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(key, "eg:idmap:%V:uid:%s", &ctx->vendor->name, id->uid);

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (const char *) key;
    argvlen[1] = len;

    rc = ngx_http_edugate_redis_call(r, ngx_http_edugate_vendor_idmap, 2,
                                     argv, argvlen);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: redis is down, "
                      "the vendor id for plugin \"%V\" cannot be read",
                      &ctx->vendor->name);
        return ngx_http_edugate_vendor_fail(r, ctx,
                                            NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "session_store_unavailable");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->waiting = 1;

    return NGX_AGAIN;
}


static void
ngx_http_edugate_vendor_idmap(ngx_http_request_t *r, redisReply *reply)
{
    ngx_http_edugate_ctx_t         *ectx;
    ngx_http_edugate_vendor_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_plugin_module);
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    ctx->waiting = 0;
    ctx->state = NGX_HTTP_EDUGATE_VENDOR_FAIL;
    ctx->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    ctx->code = "internal_error";

    if (reply == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: the vendor id "
                      "lookup for plugin \"%V\" failed or timed out",
                      &ctx->vendor->name);
        ctx->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        ctx->code = "session_store_unavailable";

    } else if (reply->type == REDIS_REPLY_NIL) {
        if (ngx_http_edugate_vendor_pairwise(r, ctx, ectx->identity)
            == NGX_OK)
        {
            ctx->state = NGX_HTTP_EDUGATE_VENDOR_HOOK;
        }

    } else if (reply->type == REDIS_REPLY_STRING
               && eg_vendor_uid_ok((u_char *) reply->str, reply->len))
    {
        ctx->vendor_uid.data = ngx_pnalloc(r->pool, reply->len);

        if (ctx->vendor_uid.data) {
            ngx_memcpy(ctx->vendor_uid.data, reply->str, reply->len);
            ctx->vendor_uid.len = reply->len;
            ctx->state = NGX_HTTP_EDUGATE_VENDOR_HOOK;
        }

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: internal_error: eg:idmap:%V:uid:%s holds no "
                      "vendor id (1 to 128 printable characters)",
                      &ctx->vendor->name, ectx->identity->uid);
    }

    ngx_http_edugate_vendor_resume(r);
}


static ngx_int_t
ngx_http_edugate_vendor_pairwise(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx, eg_identity_t *id)
{
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_plugin_module);

    ctx->vendor_uid.data = ngx_pnalloc(r->pool, EG_PAIRWISE_LEN + 1);
    if (ctx->vendor_uid.data == NULL) {
        return NGX_ERROR;
    }

    if (eg_pairwise_id(pmcf->pairwise_secret.data,
                       pmcf->pairwise_secret.len,
                       (char *) ctx->vendor->plugin->name, id->uid,
                       (char *) ctx->vendor_uid.data)
        != 0)
    {
        return NGX_ERROR;
    }

    ctx->vendor_uid.len = EG_PAIRWISE_LEN;
    ctx->pairwise = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_vendor_post(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx)
{
    ngx_thread_task_t                    *task;
    ngx_http_edugate_job_t               *job;
    ngx_http_edugate_ctx_t               *ectx;
    ngx_http_edugate_plugin_loc_conf_t   *plcf;
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_plugin_module);
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_plugin_module);
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    task = ngx_calloc(sizeof(ngx_thread_task_t)
                      + sizeof(ngx_http_edugate_job_t), r->connection->log);
    if (task == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job = (ngx_http_edugate_job_t *) (task + 1);
    job->task = task;
    job->request = r;
    job->ctx = ctx;
    job->vendor = ctx->vendor;
    job->posted = ngx_current_msec;

    job->call = eg_call_new(ctx->vendor->plugin, "identity",
                            EG_OUT_IDENTITY);

    if (job->call == NULL
        || ngx_http_edugate_host_identity(r, job->call, ectx->identity,
                                          &ctx->vendor_uid, ctx->pairwise,
                                          &job->id)
           != NGX_OK)
    {
        ngx_http_edugate_job_free(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    task->ctx = job;
    task->handler = ngx_http_edugate_vendor_thread;
    task->event.handler = ngx_http_edugate_vendor_done;
    task->event.data = job;

    if (ngx_thread_task_post(pmcf->pool, task) != NGX_OK) {
        ngx_http_edugate_job_free(job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->job = job;
    ctx->state = NGX_HTTP_EDUGATE_VENDOR_APPLY;
    ctx->waiting = 1;

    ctx->deadline.handler = ngx_http_edugate_vendor_deadline;
    ctx->deadline.data = r;
    ctx->deadline.log = r->connection->log;
    ngx_add_timer(&ctx->deadline, plcf->timeout);

    return NGX_AGAIN;
}


/* in a thread of the pool: only the job, never the request */

static void
ngx_http_edugate_vendor_thread(void *data, ngx_log_t *log)
{
    ngx_http_edugate_job_t *job = data;

    eg_plugin_t  *p;

    p = job->vendor->plugin;

    ngx_http_edugate_crash_enter(job->vendor, "identity");

    job->rc = p->desc->identity(&p->host.pub, job->call, p->state, &job->id);

    ngx_http_edugate_crash_leave();
}


static void
ngx_http_edugate_vendor_done(ngx_event_t *ev)
{
    ngx_http_edugate_job_t *job = ev->data;

    ngx_http_request_t             *r;
    ngx_http_edugate_vendor_ctx_t  *ctx;

    r = job->request;

    if (r == NULL) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "edugate: plugin \"%V\": identity hook returned after "
                      "%M ms, its request was answered already",
                      &job->vendor->name, ngx_current_msec - job->posted);
        ngx_http_edugate_job_free(job);
        return;
    }

    ctx = job->ctx;

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    ctx->job = NULL;
    ctx->call = job->call;
    ctx->hook_rc = job->rc;
    ctx->waiting = 0;

    job->call = NULL;
    ngx_http_edugate_job_free(job);

    ngx_http_edugate_vendor_resume(r);
}


static void
ngx_http_edugate_vendor_deadline(ngx_event_t *ev)
{
    ngx_http_request_t *r = ev->data;

    ngx_http_edugate_vendor_ctx_t       *ctx;
    ngx_http_edugate_plugin_loc_conf_t  *plcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_plugin_module);
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_plugin_module);

    /* the thread keeps the job; the request no longer waits for it */
    if (ctx->job) {
        ctx->job->request = NULL;
        ctx->job = NULL;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: plugin_timeout: plugin \"%V\": identity hook "
                  "did not return within %M ms", &ctx->vendor->name,
                  plcf->timeout);

    ctx->waiting = 0;
    ctx->state = NGX_HTTP_EDUGATE_VENDOR_FAIL;
    ctx->status = NGX_HTTP_GATEWAY_TIME_OUT;
    ctx->code = "plugin_timeout";

    ngx_http_edugate_vendor_resume(r);
}


static ngx_int_t
ngx_http_edugate_vendor_apply(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx)
{
    ngx_int_t   rc;
    eg_call_t  *call;

    call = ctx->call;

    ngx_http_edugate_host_logs(r->connection->log, call);

    if (ctx->hook_rc == EDUGATE_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: access_denied: plugin \"%V\" has no account "
                      "for this person", &ctx->vendor->name);
        return ngx_http_edugate_vendor_fail(r, ctx, NGX_HTTP_FORBIDDEN,
                                            "access_denied");
    }

    if (ctx->hook_rc != EDUGATE_OK || call->error[0] != '\0') {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: plugin_error: plugin \"%V\": identity hook "
                      "failed (code %d): %s", &ctx->vendor->name,
                      ctx->hook_rc, call->error[0] ? call->error
                                                   : "no reason given");
        return ngx_http_edugate_vendor_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                            "plugin_error");
    }

    rc = ngx_http_edugate_host_apply(r, call);

    eg_call_free(call);
    ctx->call = NULL;

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->state = NGX_HTTP_EDUGATE_VENDOR_DONE;

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_edugate_vendor_fail(ngx_http_request_t *r,
    ngx_http_edugate_vendor_ctx_t *ctx, ngx_uint_t status, const char *code)
{
    ngx_int_t  rc;

    ctx->state = NGX_HTTP_EDUGATE_VENDOR_DONE;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_edugate_send_error(r, status, code, NULL);

    /* the response is complete: end the phases here */

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


static void
ngx_http_edugate_vendor_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_edugate_vendor_cleanup(void *data)
{
    ngx_http_edugate_vendor_ctx_t *ctx = data;

    if (ctx->job) {
        ctx->job->request = NULL;
        ctx->job = NULL;
    }

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    eg_call_free(ctx->call);
    ctx->call = NULL;
}


static void
ngx_http_edugate_job_free(ngx_http_edugate_job_t *job)
{
    eg_call_free(job->call);
    ngx_free(job->task);
}
