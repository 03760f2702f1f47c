/*
 * Copyright (C) EduGate contributors
 *
 * Proxy-granting tickets (CAS 3.0 sections 2.5.4, 3.3 and 3.4).  A service
 * registered with proxy=on may pass a pgtUrl below its proxy_callback
 * when it validates a ticket: the gateway calls that URL back with a new
 * proxy-granting ticket (PGT) and its IOU, and only once the callback has
 * answered 200 stores the PGT, for as long as its session can last, and
 * puts the IOU in the answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_fetch.h"
#include "ngx_http_edugate_cas.h"
#include "eg_http.h"


/* a request waiting for a callback; the request may go away first */
typedef struct {
    ngx_http_request_t           *request;
    ngx_pool_cleanup_t           *cleanup;
} ngx_http_edugate_cas_wait_t;


static void ngx_http_edugate_cas_wait_detach(void *data);
static void ngx_http_edugate_cas_pgt_called(void *data, ngx_int_t status,
    ngx_str_t *body);
static ngx_int_t ngx_http_edugate_cas_pgt_store(ngx_http_request_t *r,
    ngx_int_t status);
static void ngx_http_edugate_cas_pgt_stored(ngx_http_request_t *r,
    redisReply *reply);


/* pgtUrl given at validation: ctx->rec has passed every other check */

ngx_int_t
ngx_http_edugate_cas_pgt_issue(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx)
{
    u_char                           *p;
    ngx_int_t                         rc;
    ngx_str_t                         uri;
    const char                       *err;
    eg_http_url_t                     u;
    ngx_pool_cleanup_t               *cln;
    ngx_http_edugate_cas_wait_t      *wait;
    ngx_http_edugate_cas_svc_conf_t  *scf;

    scf = ctx->svc->data;

    if (scf == NULL || scf->callback == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: UNAUTHORIZED_SERVICE_PROXY: pgtUrl given, "
                      "but \"%s\" may not proxy; no callback made",
                      ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                     ctx->service.len));
        return ngx_http_edugate_cas_failure(r, "UNAUTHORIZED_SERVICE_PROXY",
                                            "The service may not proxy.");
    }

    if (ctx->rec->nproxies >= EG_CAS_PROXIES_MAX) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: UNAUTHORIZED_SERVICE_PROXY: proxy chain of "
                      "\"%s\" too long; no callback made", ctx->rec->id.uid);
        return ngx_http_edugate_cas_failure(r, "UNAUTHORIZED_SERVICE_PROXY",
                                            "The proxy chain is too long.");
    }

    /* only below the registered callback: its host was resolved at start */

    err = (ctx->pgt_url.len == 0)
          ? "empty"
          : eg_cas_callback_check(ctx->pgt_url.data, ctx->pgt_url.len);

    if (err == NULL
        && !eg_cas_service_match(&scf->callback_prefix, ctx->pgt_url.data,
                                 ctx->pgt_url.len))
    {
        err = "not below the registered proxy_callback";
    }

    if (err == NULL) {
        err = eg_http_url_parse(&u, ctx->pgt_url.data, ctx->pgt_url.len);
    }

    if (err != NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_PROXY_CALLBACK: pgtUrl \"%s\" of "
                      "\"%s\" refused: %s; no callback made",
                      ngx_http_edugate_cas_log_value(r, ctx->pgt_url.data,
                                                     ctx->pgt_url.len),
                      ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                     ctx->service.len),
                      err);
        return ngx_http_edugate_cas_failure(r, "INVALID_PROXY_CALLBACK",
                                            "The proxy callback URL is not "
                                            "allowed.");
    }

    if (eg_cas_artifact_new(ctx->pgt, "PGT-") != 0
        || eg_cas_artifact_new(ctx->pgt_iou, "PGTIOU-") != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "edugate: RAND_bytes() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->pgt_iou[EG_CAS_PGTIOU_LEN] = '\0';

    p = ngx_pnalloc(r->pool, eg_cas_callback_len(u.target_len));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    uri.data = p;
    uri.len = eg_cas_callback(p, u.target, u.target_len, ctx->pgt_iou,
                              ctx->pgt);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* outlives the request if the callback is slower than the client */
    wait = ngx_calloc(sizeof(ngx_http_edugate_cas_wait_t),
                      r->connection->log);
    if (wait == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_edugate_fetch(r->connection->log, scf->callback,
                                NGX_HTTP_GET, &uri, NULL, NULL,
                                ngx_http_edugate_cas_pgt_called, wait);

    if (rc != NGX_OK) {
        ngx_free(wait);
        return ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                            "The proxy callback could not "
                                            "be made.");
    }

    wait->request = r;
    wait->cleanup = cln;
    cln->handler = ngx_http_edugate_cas_wait_detach;
    cln->data = wait;

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_edugate_cas_wait_detach(void *data)
{
    ngx_http_edugate_cas_wait_t  *wait = data;

    wait->request = NULL;
}


static void
ngx_http_edugate_cas_pgt_called(void *data, ngx_int_t status,
    ngx_str_t *body)
{
    ngx_http_edugate_cas_wait_t  *wait = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = wait->request;

    if (r != NULL) {
        wait->cleanup->handler = NULL;
    }

    ngx_free(wait);

    if (r == NULL) {
        return;
    }

    c = r->connection;
    ngx_http_set_log_request(c->log, r);

    ngx_http_finalize_request(r, ngx_http_edugate_cas_pgt_store(r, status));
    ngx_http_run_posted_requests(c);
}


/* the callback has answered: 200 and only 200 makes the PGT real */

static ngx_int_t
ngx_http_edugate_cas_pgt_store(ngx_http_request_t *r, ngx_int_t status)
{
    char                        *record;
    u_char                      *url, ttl[NGX_TIME_T_LEN];
    size_t                       i, len[6];
    time_t                       left;
    ngx_int_t                    rc;
    const char                  *argv[6], *chain[EG_CAS_PROXIES_MAX];
    eg_cas_record_t             *rec;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);
    rec = ctx->rec;

    if (status != NGX_HTTP_OK) {
        url = ngx_http_edugate_cas_log_value(r, ctx->pgt_url.data,
                                             ctx->pgt_url.len);

        if (status == NGX_ERROR) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "edugate: INVALID_PROXY_CALLBACK: pgtUrl \"%s\" "
                          "failed; no proxy-granting ticket issued", url);

        } else {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "edugate: INVALID_PROXY_CALLBACK: pgtUrl \"%s\" "
                          "answered %i; no proxy-granting ticket issued",
                          url, status);
        }

        return ngx_http_edugate_cas_failure(r, "INVALID_PROXY_CALLBACK",
                                            "The proxy callback did not "
                                            "answer 200.");
    }

    left = (time_t) rec->id.expires - ngx_time();

    if (left <= 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: the session of \"%s\" ended "
                      "during the proxy callback", rec->id.uid);
        return ngx_http_edugate_cas_failure(r, "INVALID_TICKET",
                                            "The ticket is not valid.");
    }

    /* the newest proxy first (CAS 3.0 section 2.6.2) */

    chain[0] = ngx_pnalloc(r->pool, ctx->pgt_url.len + 1);
    if (chain[0] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_cpymem((u_char *) chain[0], ctx->pgt_url.data, ctx->pgt_url.len) =
        '\0';

    for (i = 0; i < rec->nproxies; i++) {
        chain[i + 1] = rec->proxies[i];
    }

    record = eg_cas_record_encode(&rec->id, 0, ctx->service.data,
                                  ctx->service.len, (u_char *) rec->session,
                                  0, chain, rec->nproxies + 1);
    if (record == NULL) {
        return ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                            "The proxy-granting ticket "
                                            "could not be built.");
    }

    ctx->key_len = ngx_http_edugate_cas_key(ctx->key, "eg:cas:pgt:",
                                           ctx->pgt, EG_CAS_PGT_LEN);

    /* a PGT lives as long as its session can */

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (const char *) ctx->key;
    len[1] = ctx->key_len;
    argv[2] = record;
    len[2] = ngx_strlen(record);
    argv[3] = "EX";
    len[3] = 2;
    argv[4] = (const char *) ttl;
    len[4] = ngx_sprintf(ttl, "%T", left) - ttl;
    argv[5] = "NX";
    len[5] = 2;

    rc = (ctx->key_len == 0)
         ? NGX_ERROR
         : ngx_http_edugate_redis_call(r, ngx_http_edugate_cas_pgt_stored, 6,
                                       argv, len);

    free(record);

    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: INTERNAL_ERROR: redis is not connected, "
                  "proxy-granting ticket not stored");

    return ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                        "The ticket store is unavailable.");
}


static void
ngx_http_edugate_cas_pgt_stored(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                    rc;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);

    if (reply == NULL || reply->type != REDIS_REPLY_STATUS) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: proxy-granting ticket not "
                      "stored");
        rc = ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                          "The ticket store is "
                                          "unavailable.");

    } else {
        rc = ngx_http_edugate_cas_success(r, (char *) ctx->pgt_iou);
    }

    ngx_http_finalize_request(r, rc);
}
