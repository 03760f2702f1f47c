/*
 * Copyright (C) EduGate contributors
 *
 * ngx_http_edugate_cas_module: a CAS 3.0 server on the EduGate session.
 *
 *   /cas/login      registered service only; with a session a service
 *                   ticket and 302 back, else the login page and back here
 *   /cas/validate   CAS 1.0 text answer
 *   /cas/serviceValidate, /cas/p3/serviceValidate
 *                   CAS 2.0 / 3.0 XML answer (3.0 adds attributes)
 *   /cas/logout     ends the session everywhere
 *
 * A ticket lives in Redis under the SHA-256 of its text and is consumed
 * by the first validation that reaches Redis, whatever its outcome, so
 * that a ticket is never accepted twice, by any node.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <libxml/parser.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "eg_cas.h"
#include "eg_codec.h"
#include "eg_form.h"
#include "eg_text.h"


/* a login this recent counts as presenting credentials (renew) */
#define NGX_HTTP_EDUGATE_CAS_FRESH     60
#define NGX_HTTP_EDUGATE_CAS_TTL_MAX   300

#define NGX_HTTP_EDUGATE_CAS_KEY_LEN   (sizeof("eg:cas:st:") - 1           \
                                        + NGX_HTTP_EDUGATE_HASH_LEN)

#define NGX_HTTP_EDUGATE_CAS_V1        1
#define NGX_HTTP_EDUGATE_CAS_V2        2
#define NGX_HTTP_EDUGATE_CAS_V3        3


typedef struct {
    ngx_array_t                *services;      /* eg_cas_service_t */
    time_t                      ticket_ttl;
    ngx_flag_t                  used;
} ngx_http_edugate_cas_main_conf_t;


typedef struct {
    ngx_str_t                   service;
    ngx_str_t                   ticket;
    const eg_cas_service_t     *svc;
    ngx_uint_t                  version;
    u_char                      key[NGX_HTTP_EDUGATE_CAS_KEY_LEN];
    u_char                      issued[EG_CAS_TICKET_LEN];
    unsigned                    renew:1;
    unsigned                    gateway:1;
    unsigned                    proxy_callback:1;
} ngx_http_edugate_cas_ctx_t;


static ngx_int_t ngx_http_edugate_cas_login_handler(ngx_http_request_t *r);
static void ngx_http_edugate_cas_login_resume(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_edugate_cas_login_decide(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_edugate_cas_issue(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx, eg_identity_t *id, ngx_uint_t fresh);
static void ngx_http_edugate_cas_issued(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_cas_validate1_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_cas_validate2_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_cas_validate3_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_cas_validate(ngx_http_request_t *r,
    ngx_uint_t version);
static void ngx_http_edugate_cas_consumed(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_cas_answer(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx, eg_cas_record_t *rec,
    ngx_uint_t live);
static ngx_int_t ngx_http_edugate_cas_failure(ngx_http_request_t *r,
    const char *code, const char *text);
static ngx_int_t ngx_http_edugate_cas_send(ngx_http_request_t *r,
    ngx_uint_t status, const char *type, u_char *body, size_t len,
    const char *code);
static ngx_int_t ngx_http_edugate_cas_logout_handler(ngx_http_request_t *r);
static void ngx_http_edugate_cas_logout_done(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_cas_logout_finish(ngx_http_request_t *r,
    ngx_uint_t ok);
static ngx_http_edugate_cas_ctx_t *ngx_http_edugate_cas_ctx(
    ngx_http_request_t *r);
static eg_form_rc_e ngx_http_edugate_cas_args(ngx_http_request_t *r,
    eg_form_field_t *fields, ngx_uint_t n);
static ngx_uint_t ngx_http_edugate_cas_flag(eg_form_field_t *f);
static const eg_cas_service_t *ngx_http_edugate_cas_find(
    ngx_http_request_t *r, ngx_str_t *service);
static ngx_int_t ngx_http_edugate_cas_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *code);
static u_char *ngx_http_edugate_cas_log_value(ngx_http_request_t *r,
    u_char *data, size_t len);

static ngx_int_t ngx_http_edugate_cas_init_module(ngx_cycle_t *cycle);
static void *ngx_http_edugate_cas_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_cas_init_main_conf(ngx_conf_t *cf,
    void *conf);
static char *ngx_http_edugate_cas_service(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_cas_handler(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_cas_service_validate(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_cas_set_handler(ngx_conf_t *cf,
    ngx_http_edugate_cas_main_conf_t *ccf, ngx_http_handler_pt handler);


/*
 * KEYS: the ticket key.  Consumed first, then the session it came from is
 * looked up in the same step: a ticket of a session that ended (logout
 * anywhere) is refused even within its lifetime.
 */
static const char  ngx_http_edugate_cas_consume_script[] =
    "local v = redis.call('GETDEL', KEYS[1]) "
    "if not v then return false end "
    "local ok, t = pcall(cjson.decode, v) "
    "local live = 0 "
    "if ok and type(t) == 'table' and type(t.session) == 'string' then "
    "live = redis.call('EXISTS', 'eg:sess:' .. t.session) "
    "end "
    "return {v, live}";


static ngx_command_t  ngx_http_edugate_cas_commands[] = {

    { ngx_string("edugate_cas_service"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_edugate_cas_service,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_cas_ticket_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_cas_main_conf_t, ticket_ttl),
      NULL },

    { ngx_string("edugate_cas_login"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_cas_handler,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      ngx_http_edugate_cas_login_handler },

    { ngx_string("edugate_cas_validate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_cas_handler,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      ngx_http_edugate_cas_validate1_handler },

    { ngx_string("edugate_cas_service_validate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_edugate_cas_service_validate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_cas_logout"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_cas_handler,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      ngx_http_edugate_cas_logout_handler },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_edugate_cas_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_edugate_cas_create_main_conf, /* create main configuration */
    ngx_http_edugate_cas_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_edugate_cas_module = {
    NGX_MODULE_V1,
    &ngx_http_edugate_cas_module_ctx,      /* module context */
    ngx_http_edugate_cas_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_edugate_cas_init_module,      /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_edugate_cas_login_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      sid;
    eg_form_rc_e                   frc;
    eg_form_field_t                f[3];
    ngx_http_edugate_ctx_t        *ectx;
    ngx_http_edugate_cas_ctx_t    *ctx;
    ngx_http_edugate_main_conf_t  *emcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: %V on the CAS login "
                      "endpoint", &r->method_name);
        return ngx_http_edugate_cas_page(r, NGX_HTTP_NOT_ALLOWED,
                                         "method_not_allowed");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_edugate_cas_ctx(r);
    ectx = ngx_http_edugate_get_ctx(r);
    if (ctx == NULL || ectx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (ngx_http_edugate_get_cookie(r, &emcf->cookie_name, &sid) != NGX_OK
        || !ngx_http_edugate_sid_valid(&sid))
    {
        return ngx_http_edugate_cas_login_decide(r, NGX_DECLINED);
    }

    rc = ngx_http_edugate_session_lookup(r, ectx, &sid,
                                         ngx_http_edugate_cas_login_resume);

    if (rc == NGX_AGAIN) {
        r->main->count++;
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
    u_char                            *p, ttl[NGX_TIME_T_LEN];
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

    p = ngx_cpymem(ctx->key, "eg:cas:st:", sizeof("eg:cas:st:") - 1);

    if (eg_sha256_hex(p, ctx->issued, EG_CAS_TICKET_LEN) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    record = eg_cas_record_encode(id, ctx->svc->attrs, ctx->service.data,
                                  ctx->service.len, ectx->sid_hash, fresh);
    if (record == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: internal_error: CAS ticket record of \"%s\" "
                      "not built", id->uid);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (const char *) ctx->key;
    len[1] = sizeof(ctx->key);
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


static ngx_int_t
ngx_http_edugate_cas_validate1_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V1);
}


static ngx_int_t
ngx_http_edugate_cas_validate2_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V2);
}


static ngx_int_t
ngx_http_edugate_cas_validate3_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V3);
}


static ngx_int_t
ngx_http_edugate_cas_validate(ngx_http_request_t *r, ngx_uint_t version)
{
    u_char                      *p;
    size_t                       len[4];
    ngx_int_t                    rc;
    ngx_uint_t                   n;
    const char                  *argv[4];
    eg_form_rc_e                 frc;
    eg_form_field_t              f[5];
    eg_cas_ticket_e              kind;
    ngx_http_edugate_cas_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: %V on a CAS validation "
                      "endpoint", &r->method_name);
        return ngx_http_edugate_cas_page(r, NGX_HTTP_NOT_ALLOWED,
                                         "method_not_allowed");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_edugate_cas_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->version = version;

    ngx_memzero(f, sizeof(f));
    f[0].name = "service";
    f[1].name = "ticket";
    f[2].name = "renew";
    f[3].name = "format";
    f[4].name = "pgtUrl";

    n = (version == NGX_HTTP_EDUGATE_CAS_V1) ? 3 : 5;

    frc = ngx_http_edugate_cas_args(r, f, n);
    if (frc != EG_FORM_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: INVALID_REQUEST: CAS validation query: %s",
                      eg_form_strerror(frc));
        return ngx_http_edugate_cas_failure(r, "INVALID_REQUEST",
                                            "The request is malformed.");
    }

    if (f[0].len == 0 || f[1].len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: INVALID_REQUEST: CAS validation without "
                      "%s", f[0].len ? "ticket" : "service");
        return ngx_http_edugate_cas_failure(r, "INVALID_REQUEST",
                                "Both service and ticket are required.");
    }

    /* JSON answers (CAS 3.0 section 2.5) are not offered */

    if (f[3].seen
        && (f[3].len != 3
            || ngx_strncasecmp(f[3].value, (u_char *) "XML", 3) != 0))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: INVALID_REQUEST: unsupported format \"%s\"",
                      ngx_http_edugate_cas_log_value(r, f[3].value,
                                                     f[3].len));
        return ngx_http_edugate_cas_failure(r, "INVALID_REQUEST",
                                            "Only the XML format is "
                                            "supported.");
    }

    ctx->service.data = f[0].value;
    ctx->service.len = f[0].len;
    ctx->ticket.data = f[1].value;
    ctx->ticket.len = f[1].len;
    ctx->renew = ngx_http_edugate_cas_flag(&f[2]);
    ctx->proxy_callback = f[4].seen;

    /* checked before Redis: a hostile ticket never becomes a command */

    kind = eg_cas_ticket_check(ctx->ticket.data, ctx->ticket.len);

    if (kind == EG_CAS_TICKET_BAD) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: malformed ticket \"%s\" "
                      "(%uz bytes)",
                      ngx_http_edugate_cas_log_value(r, ctx->ticket.data,
                                                     ctx->ticket.len),
                      ctx->ticket.len);
        return ngx_http_edugate_cas_failure(r, "INVALID_TICKET",
                                            "The ticket is not valid.");
    }

    if (kind == EG_CAS_TICKET_PROXY) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET_SPEC: proxy ticket presented "
                      "for service validation");
        return ngx_http_edugate_cas_failure(r, "INVALID_TICKET_SPEC",
                                            "Proxy tickets are not "
                                            "accepted here.");
    }

    p = ngx_cpymem(ctx->key, "eg:cas:st:", sizeof("eg:cas:st:") - 1);

    if (eg_sha256_hex(p, ctx->ticket.data, ctx->ticket.len) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_cas_consume_script;
    len[1] = sizeof(ngx_http_edugate_cas_consume_script) - 1;
    argv[2] = "1";
    len[2] = 1;
    argv[3] = (const char *) ctx->key;
    len[3] = sizeof(ctx->key);

    rc = ngx_http_edugate_redis_call(r, ngx_http_edugate_cas_consumed, 4,
                                     argv, len);

    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: redis is not connected, "
                      "ticket not validated");
        return ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                            "The ticket store is "
                                            "unavailable.");
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static void
ngx_http_edugate_cas_consumed(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                    rc;
    eg_cas_record_t             *rec;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply != NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "edugate: INTERNAL_ERROR: ticket validation: %*s",
                          (size_t) reply->len, reply->str);

        } else {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "edugate: INTERNAL_ERROR: ticket validation: no "
                          "reply from redis");
        }

        rc = ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                          "The ticket store is "
                                          "unavailable.");
        goto done;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: ticket unknown, expired or "
                      "already used");
        rc = ngx_http_edugate_cas_failure(r, "INVALID_TICKET",
                                          "The ticket is not valid.");
        goto done;
    }

    rec = ngx_palloc(r->pool, sizeof(eg_cas_record_t));
    if (rec == NULL) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_INTEGER
        || eg_cas_record_decode(rec, reply->element[0]->str,
                                reply->element[0]->len)
           != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: unreadable ticket record, "
                      "discarded");
        rc = ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                          "The ticket record is "
                                          "unreadable.");
        goto done;
    }

    rc = ngx_http_edugate_cas_answer(r, ctx, rec,
                                     reply->element[1]->integer == 1);

done:

    ngx_http_finalize_request(r, rc);
}


/* the checks of a consumed ticket, in the order the specification names */

static ngx_int_t
ngx_http_edugate_cas_answer(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx, eg_cas_record_t *rec, ngx_uint_t live)
{
    u_char                  *out, *body;
    size_t                   len;
    ngx_int_t                rc;
    const eg_cas_service_t  *svc;

    if (ctx->service.len != rec->service_len
        || ngx_memcmp(ctx->service.data, rec->service, rec->service_len) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_SERVICE: ticket of \"%s\" issued for "
                      "\"%s\" presented for \"%s\"", rec->id.uid,
                      ngx_http_edugate_cas_log_value(r, (u_char *)
                                                     rec->service,
                                                     rec->service_len),
                      ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                     ctx->service.len));
        return ngx_http_edugate_cas_failure(r, "INVALID_SERVICE",
                                            "The ticket was issued for "
                                            "another service.");
    }

    svc = ngx_http_edugate_cas_find(r, &ctx->service);
    if (svc == NULL) {
        return ngx_http_edugate_cas_failure(r, "INVALID_SERVICE",
                                            "The service is not "
                                            "registered.");
    }

    if (!live) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: the session that issued the "
                      "ticket of \"%s\" has ended", rec->id.uid);
        return ngx_http_edugate_cas_failure(r, "INVALID_TICKET",
                                            "The ticket is not valid.");
    }

    if (ctx->renew && !rec->fresh) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: renew asked for, but the "
                      "ticket of \"%s\" came from single sign-on",
                      rec->id.uid);
        return ngx_http_edugate_cas_failure(r, "INVALID_TICKET",
                                            "The ticket did not come from "
                                            "a new login.");
    }

    if (ctx->proxy_callback) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: UNAUTHORIZED_SERVICE_PROXY: pgtUrl given, "
                      "proxying is not offered; no callback made");
        return ngx_http_edugate_cas_failure(r, "UNAUTHORIZED_SERVICE_PROXY",
                                            "The service may not proxy.");
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: cas: ticket of \"%s\" validated for \"%s\"",
                  rec->id.uid,
                  ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                 ctx->service.len));

    if (ctx->version == NGX_HTTP_EDUGATE_CAS_V1) {
        body = ngx_pnalloc(r->pool, EG_CAS1_MAX);
        if (body == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = eg_cas1_response(body, rec->id.uid);

        return ngx_http_edugate_cas_send(r, NGX_HTTP_OK,
                                         "text/plain; charset=UTF-8",
                                         body, len, NULL);
    }

    if (eg_cas_xml_success(&rec->id, svc->attrs,
                           ctx->version == NGX_HTTP_EDUGATE_CAS_V3,
                           rec->fresh, &out, &len)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: answer for \"%s\" not "
                      "built", rec->id.uid);
        return ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                            "The answer could not be "
                                            "built.");
    }

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        eg_cas_xml_free(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(body, out, len);
    eg_cas_xml_free(out);

    rc = ngx_http_edugate_cas_send(r, NGX_HTTP_OK,
                                   "application/xml; charset=UTF-8", body,
                                   len, NULL);

    return rc;
}


/* a protocol answer, never an HTML page: clients parse it */

static ngx_int_t
ngx_http_edugate_cas_failure(ngx_http_request_t *r, const char *code,
    const char *text)
{
    u_char                      *out, *body;
    size_t                       len;
    ngx_uint_t                   status;
    ngx_http_edugate_ctx_t      *ectx;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);

    ectx = ngx_http_edugate_get_ctx(r);
    if (ectx != NULL) {
        ectx->error.data = (u_char *) code;
        ectx->error.len = ngx_strlen(code);
    }

    status = ngx_strcmp(code, "INTERNAL_ERROR") == 0
             ? NGX_HTTP_SERVICE_UNAVAILABLE : NGX_HTTP_OK;

    if (ctx->version == NGX_HTTP_EDUGATE_CAS_V1) {
        body = ngx_pnalloc(r->pool, EG_CAS1_MAX);
        if (body == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = eg_cas1_response(body, NULL);

        return ngx_http_edugate_cas_send(r, status,
                                         "text/plain; charset=UTF-8",
                                         body, len, code);
    }

    if (eg_cas_xml_failure(code, text, &out, &len) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        eg_cas_xml_free(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(body, out, len);
    eg_cas_xml_free(out);

    return ngx_http_edugate_cas_send(r, status,
                                     "application/xml; charset=UTF-8",
                                     body, len, code);
}


static ngx_int_t
ngx_http_edugate_cas_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, u_char *body, size_t len, const char *code)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = len;

    if (ngx_http_edugate_add_header(r, "Cache-Control", "no-store") == NULL
        || ngx_http_edugate_add_header(r, "Pragma", "no-cache") == NULL
        || ngx_http_edugate_add_header(r, "X-Content-Type-Options",
                                       "nosniff")
           == NULL
        || (code != NULL
            && ngx_http_edugate_add_header(r, "X-Edugate-Error", code)
               == NULL))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_edugate_cas_logout_handler(ngx_http_request_t *r)
{
    u_char                         hash[NGX_HTTP_EDUGATE_HASH_LEN];
    ngx_int_t                      rc;
    ngx_str_t                      sid;
    eg_form_rc_e                   frc;
    eg_form_field_t                f[1];
    ngx_http_edugate_cas_ctx_t    *ctx;
    ngx_http_edugate_main_conf_t  *emcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: %V on the CAS logout "
                      "endpoint", &r->method_name);
        return ngx_http_edugate_cas_page(r, NGX_HTTP_NOT_ALLOWED,
                                         "method_not_allowed");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_edugate_cas_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (ngx_http_edugate_get_cookie(r, &emcf->cookie_name, &sid) != NGX_OK
        || !ngx_http_edugate_sid_valid(&sid))
    {
        return ngx_http_edugate_cas_logout_finish(r, 1);
    }

    if (ngx_http_edugate_hash_sid(&sid, hash) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_edugate_session_revoke(r, hash,
                                         ngx_http_edugate_cas_logout_done);
    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: session_store_unavailable: CAS logout not "
                  "recorded");

    return ngx_http_edugate_cas_logout_finish(r, 0);
}


static void
ngx_http_edugate_cas_logout_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_uint_t  ok;

    ok = (reply != NULL && reply->type == REDIS_REPLY_INTEGER);

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
    ngx_str_t                      path, empty;
    ngx_http_edugate_cas_ctx_t    *ctx;
    ngx_http_edugate_main_conf_t  *emcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    ngx_str_set(&path, "/");
    ngx_str_null(&empty);

    /* the browser forgets the session whatever Redis answered */

    if (ngx_http_edugate_set_cookie(r, &emcf->cookie_name, &empty, &path, 0,
                                    0)
        != NGX_OK)
    {
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


static ngx_http_edugate_cas_ctx_t *
ngx_http_edugate_cas_ctx(ngx_http_request_t *r)
{
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_cas_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_edugate_cas_module);
    }

    return ctx;
}


static eg_form_rc_e
ngx_http_edugate_cas_args(ngx_http_request_t *r, eg_form_field_t *fields,
    ngx_uint_t n)
{
    u_char  *buf;

    buf = ngx_pnalloc(r->pool, r->args.len + 1);
    if (buf == NULL) {
        return EG_FORM_BAD_ENCODING;
    }

    return eg_form_parse(r->args.data, r->args.len, fields, n, buf);
}


/* the specification only says "set"; "false" is read as unset */

static ngx_uint_t
ngx_http_edugate_cas_flag(eg_form_field_t *f)
{
    if (!f->seen) {
        return 0;
    }

    return !(f->len == 5
             && ngx_strncasecmp(f->value, (u_char *) "false", 5) == 0);
}


static const eg_cas_service_t *
ngx_http_edugate_cas_find(ngx_http_request_t *r, ngx_str_t *service)
{
    const char                        *err;
    const eg_cas_service_t            *svc;
    ngx_http_edugate_cas_main_conf_t  *ccf;

    ccf = ngx_http_get_module_main_conf(r, ngx_http_edugate_cas_module);

    err = eg_cas_service_check(service->data, service->len);

    svc = (err == NULL && ccf->services)
          ? eg_cas_service_find(ccf->services->elts, ccf->services->nelts,
                                service->data, service->len)
          : NULL;

    if (svc == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_service: service \"%s\" is not "
                      "registered%s%s",
                      ngx_http_edugate_cas_log_value(r, service->data,
                                                     service->len),
                      err ? ": " : "", err ? err : "");
    }

    return svc;
}


static ngx_int_t
ngx_http_edugate_cas_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *code)
{
    ngx_http_edugate_ctx_t  *ectx;

    ectx = ngx_http_edugate_get_ctx(r);
    if (ectx != NULL) {
        ectx->error.data = (u_char *) code;
        ectx->error.len = ngx_strlen(code);
    }

    return ngx_http_edugate_send_error(r, status, code, NULL);
}


/* a log-safe, bounded copy of a client-supplied value */

static u_char *
ngx_http_edugate_cas_log_value(ngx_http_request_t *r, u_char *data,
    size_t len)
{
    u_char  *p;
    size_t   n;

    n = ngx_min(len, 256);

    p = ngx_pnalloc(r->pool, eg_log_escape_len(data, n) + 1);
    if (p == NULL) {
        return (u_char *) "";
    }

    p[eg_log_escape(p, data, n)] = '\0';

    return p;
}


static ngx_int_t
ngx_http_edugate_cas_init_module(ngx_cycle_t *cycle)
{
    /* before workers and the LDAP threads exist */
    xmlInitParser();

    return NGX_OK;
}


static void *
ngx_http_edugate_cas_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_cas_main_conf_t  *ccf;

    ccf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_cas_main_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    ccf->services = NGX_CONF_UNSET_PTR;
    ccf->ticket_ttl = NGX_CONF_UNSET;

    return ccf;
}


static char *
ngx_http_edugate_cas_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_edugate_cas_main_conf_t *ccf = conf;

    ngx_conf_init_ptr_value(ccf->services, NULL);
    ngx_conf_init_value(ccf->ticket_ttl, 10);

    /* CAS 3.0 section 3.1.1 recommends at most five minutes */

    if (ccf->ticket_ttl <= 0
        || ccf->ticket_ttl > NGX_HTTP_EDUGATE_CAS_TTL_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_cas_ticket_ttl must be between 1s and "
                           "%ds", NGX_HTTP_EDUGATE_CAS_TTL_MAX);
        return NGX_CONF_ERROR;
    }

    if (ccf->used && ccf->services == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the edugate_cas_* endpoints need at least one "
                           "\"edugate_cas_service\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_cas_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_cas_main_conf_t *ccf = conf;

    const char        *err;
    ngx_str_t         *value, opt;
    ngx_uint_t         i, seen_match, seen_attrs;
    eg_cas_service_t  *svc, *s;

    value = cf->args->elts;

    err = eg_cas_service_check(value[1].data, value[1].len);
    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid CAS service \"%V\": %s", &value[1], err);
        return NGX_CONF_ERROR;
    }

    if (ccf->services == NGX_CONF_UNSET_PTR) {
        ccf->services = ngx_array_create(cf->pool, 4,
                                         sizeof(eg_cas_service_t));
        if (ccf->services == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    s = ccf->services->elts;

    for (i = 0; i < ccf->services->nelts; i++) {
        if (s[i].len == value[1].len
            && ngx_memcmp(s[i].url, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "CAS service \"%V\" is registered twice",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    svc = ngx_array_push(ccf->services);
    if (svc == NULL) {
        return NGX_CONF_ERROR;
    }

    svc->url = value[1].data;
    svc->len = value[1].len;
    svc->match = EG_CAS_MATCH_EXACT;
    svc->attrs = 0;

    seen_match = 0;
    seen_attrs = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "match=", 6) == 0 && !seen_match) {
            seen_match = 1;

            if (ngx_strcmp(value[i].data, "match=exact") == 0) {
                svc->match = EG_CAS_MATCH_EXACT;
                continue;
            }

            if (ngx_strcmp(value[i].data, "match=prefix") == 0) {
                svc->match = EG_CAS_MATCH_PREFIX;
                continue;
            }

        } else if (ngx_strncmp(value[i].data, "attributes=", 11) == 0
                   && !seen_attrs)
        {
            seen_attrs = 1;

            opt.data = value[i].data + 11;
            opt.len = value[i].len - 11;

            if (eg_cas_attr_parse(opt.data, opt.len, &svc->attrs) == 0) {
                continue;
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\": the attributes are name, "
                               "roles, org, orgPath, level, school, grade "
                               "and class", &value[i]);
            return NGX_CONF_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid or duplicate parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_cas_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_edugate_cas_set_handler(cf, conf,
                                            (ngx_http_handler_pt) cmd->post);
}


/* "2" (default): the CAS 2.0 answer, user only; "3": with attributes */

static char *
ngx_http_edugate_cas_service_validate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t            *value;
    ngx_http_handler_pt   handler;

    handler = ngx_http_edugate_cas_validate2_handler;

    if (cf->args->nelts == 2) {
        value = cf->args->elts;

        if (value[1].len == 1 && value[1].data[0] == '3') {
            handler = ngx_http_edugate_cas_validate3_handler;

        } else if (value[1].len != 1 || value[1].data[0] != '2') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid CAS protocol version \"%V\", "
                               "expected 2 or 3", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_edugate_cas_set_handler(cf, conf, handler);
}


/* a CAS endpoint needs the session store, as login and logout do */

static char *
ngx_http_edugate_cas_set_handler(ngx_conf_t *cf,
    ngx_http_edugate_cas_main_conf_t *ccf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_edugate_main_conf_t  *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    clcf->handler = handler;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
    emcf->enabled = 1;

    ccf->used = 1;

    return NGX_CONF_OK;
}
