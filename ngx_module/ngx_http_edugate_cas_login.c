/*
 * Copyright (C) EduGate contributors
 *
 * The browser side of the CAS server: /cas/login hands a service ticket
 * to a signed-in user, /cas/logout ends the session.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_cas.h"


/* a login this recent counts as presenting credentials (renew) */
#define NGX_HTTP_EDUGATE_CAS_FRESH     60


static void ngx_http_edugate_cas_login_resume(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_edugate_cas_login_decide(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_edugate_cas_issue(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx, eg_identity_t *id, ngx_uint_t fresh);
static void ngx_http_edugate_cas_issued(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_edugate_cas_logout_done(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_cas_logout_finish(ngx_http_request_t *r,
    ngx_uint_t ok);


ngx_int_t
ngx_http_edugate_cas_login_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    eg_form_rc_e                 frc;
    eg_form_field_t              f[3];
    ngx_http_edugate_cas_ctx_t  *ctx;

    rc = ngx_http_edugate_cas_start(r, NGX_HTTP_GET|NGX_HTTP_HEAD,
                                    "the CAS login endpoint", &ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_memzero(f, sizeof(f));
    f[0].name = "service";
    f[1].name = "renew";
    f[2].name = "gateway";

    frc = ngx_http_edugate_cas_args(r, f, 3);
    if (frc != EG_FORM_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: CAS login query: %s",
                      eg_form_strerror(frc));
        return ngx_http_edugate_cas_page(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request");
    }

    ctx->renew = ngx_http_edugate_cas_flag(&f[1]);
    ctx->gateway = ngx_http_edugate_cas_flag(&f[2]);

    if (f[0].seen) {
        ctx->service.data = f[0].value;
        ctx->service.len = f[0].len;

        /* an unknown service gets neither a ticket nor a redirect */

        ctx->svc = ngx_http_edugate_cas_find(r, &ctx->service);
        if (ctx->svc == NULL) {
            return ngx_http_edugate_cas_page(r, NGX_HTTP_BAD_REQUEST,
                                             "invalid_service");
        }
    }

    rc = ngx_http_edugate_session_of_request(r,
                                          ngx_http_edugate_cas_login_resume);

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    return ngx_http_edugate_cas_login_decide(r, rc);
}


static void
ngx_http_edugate_cas_login_resume(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, ngx_http_edugate_cas_login_decide(r, rc));
}


/* rc: NGX_OK with a session, NGX_DECLINED without, NGX_ERROR */

static ngx_int_t
ngx_http_edugate_cas_login_decide(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_str_t                    location;
    ngx_uint_t                   fresh;
    eg_identity_t               *id;
    ngx_http_edugate_ctx_t      *ectx;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (rc == NGX_ERROR) {
        if (ectx->store_down) {
            return ngx_http_edugate_cas_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                             "session_store_unavailable");
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    id = (rc == NGX_OK) ? ectx->identity : NULL;
    fresh = 0;

    if (id != NULL) {
        fresh = (ngx_time() - (time_t) id->auth_time
                 <= NGX_HTTP_EDUGATE_CAS_FRESH);

        if (ctx->svc == NULL) {
            return ngx_http_edugate_cas_page(r, NGX_HTTP_OK, "logged_in");
        }

        /* renew: an older login must present its credentials again */

        if (!ctx->renew || fresh) {
            return ngx_http_edugate_cas_issue(r, ctx, id, fresh);
        }

    } else if (ctx->svc != NULL && ctx->gateway && !ctx->renew) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: cas: gateway request without a session "
                      "sent back to \"%s\"",
                      ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                     ctx->service.len));
        return ngx_http_edugate_redirect(r, &ctx->service, NULL);
    }

    /* back here after the login: a relative return target */

    if (ngx_http_edugate_login_location(r, &location) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_edugate_redirect(r, &location, "login_required");
}


static ngx_int_t
ngx_http_edugate_cas_issue(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx, eg_identity_t *id, ngx_uint_t fresh)
{
    u_char                             ttl[NGX_TIME_T_LEN];
    char                              *record;
    size_t                             len[6];
    ngx_int_t                          rc;
    const char                        *argv[6];
    ngx_http_edugate_ctx_t            *ectx;
    ngx_http_edugate_cas_main_conf_t  *ccf;

    ccf = ngx_http_get_module_main_conf(r, ngx_http_edugate_cas_module);
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (eg_cas_ticket_new(ctx->issued) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "edugate: RAND_bytes() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->key_len = ngx_http_edugate_cas_key(ctx->key, "eg:cas:st:",
                                           ctx->issued, EG_CAS_TICKET_LEN);
    if (ctx->key_len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    record = eg_cas_record_encode(id, ctx->svc->attrs, ctx->service.data,
                                  ctx->service.len, ectx->sid_hash, fresh,
                                  NULL, 0);
    if (record == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: internal_error: CAS ticket record of \"%s\" "
                      "not built", id->uid);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (const char *) ctx->key;
    len[1] = ctx->key_len;
    argv[2] = record;
    len[2] = ngx_strlen(record);
    argv[3] = "EX";
    len[3] = 2;
    argv[4] = (const char *) ttl;
    len[4] = ngx_sprintf(ttl, "%T", ccf->ticket_ttl) - ttl;
    argv[5] = "NX";
    len[5] = 2;

    rc = ngx_http_edugate_redis_call(r, ngx_http_edugate_cas_issued, 6, argv,
                                     len);

    free(record);

    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: redis is not "
                      "connected, no CAS ticket issued");
        return ngx_http_edugate_cas_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "session_store_unavailable");
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static void
ngx_http_edugate_cas_issued(ngx_http_request_t *r, redisReply *reply)
{
    u_char                      *p;
    ngx_str_t                    location;
    ngx_http_edugate_ctx_t      *ectx;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (reply == NULL || reply->type != REDIS_REPLY_STATUS) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: CAS ticket not "
                      "stored");
        ngx_http_finalize_request(r,
            ngx_http_edugate_cas_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "session_store_unavailable"));
        return;
    }

    p = ngx_pnalloc(r->pool, eg_cas_redirect_len(ctx->service.len,
                                                 EG_CAS_TICKET_LEN));
    if (p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    location.data = p;
    location.len = eg_cas_redirect(p, ctx->service.data, ctx->service.len,
                                   ctx->issued, EG_CAS_TICKET_LEN);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: cas: service ticket of \"%s\" issued for \"%s\"",
                  ectx->identity->uid,
                  ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                 ctx->service.len));

    ngx_http_finalize_request(r, ngx_http_edugate_redirect(r, &location,
                                                          NULL));
}


ngx_int_t
ngx_http_edugate_cas_logout_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    eg_form_rc_e                   frc;
    eg_form_field_t                f[1];
    ngx_http_edugate_cas_ctx_t    *ctx;

    rc = ngx_http_edugate_cas_start(r,
                                    NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST,
                                    "the CAS logout endpoint", &ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* the legacy "url" argument is ignored: it named any target at all */

    ngx_memzero(f, sizeof(f));
    f[0].name = "service";

    frc = ngx_http_edugate_cas_args(r, f, 1);

    if (frc != EG_FORM_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: CAS logout query: %s, "
                      "service ignored", eg_form_strerror(frc));

    } else if (f[0].seen) {
        ctx->service.data = f[0].value;
        ctx->service.len = f[0].len;
        ctx->svc = ngx_http_edugate_cas_find(r, &ctx->service);
    }

    rc = ngx_http_edugate_session_end(r, ngx_http_edugate_cas_logout_done);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    return ngx_http_edugate_cas_logout_finish(r, rc == NGX_DECLINED);
}


static void
ngx_http_edugate_cas_logout_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_uint_t  ok;

    ok = (reply != NULL && reply->type == REDIS_REPLY_ARRAY);

    if (ok) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: logout: session ended through CAS");

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: CAS logout not "
                      "recorded");
    }

    ngx_http_finalize_request(r, ngx_http_edugate_cas_logout_finish(r, ok));
}


static ngx_int_t
ngx_http_edugate_cas_logout_finish(ngx_http_request_t *r, ngx_uint_t ok)
{
    ngx_http_edugate_cas_ctx_t    *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);

    if (ngx_http_edugate_forget_cookie(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ok) {
        return ngx_http_edugate_cas_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "session_store_unavailable");
    }

    if (ctx->svc != NULL) {
        return ngx_http_edugate_redirect(r, &ctx->service, NULL);
    }

    return ngx_http_edugate_send_error(r, NGX_HTTP_OK, "logged_out", NULL);
}
