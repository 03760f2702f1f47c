/*
 * Copyright (C) EduGate contributors
 *
 * The service side of the CAS server: /cas/validate (CAS 1.0 text),
 * /cas/serviceValidate and /cas/p3/serviceValidate (CAS 2.0 / 3.0 XML).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_cas.h"
#include "eg_codec.h"


#define NGX_HTTP_EDUGATE_CAS_V1        1
#define NGX_HTTP_EDUGATE_CAS_V2        2
#define NGX_HTTP_EDUGATE_CAS_V3        3


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


ngx_int_t
ngx_http_edugate_cas_validate1_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V1);
}


ngx_int_t
ngx_http_edugate_cas_validate2_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V2);
}


ngx_int_t
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

    rc = ngx_http_edugate_cas_start(r, NGX_HTTP_GET|NGX_HTTP_HEAD,
                                    "a CAS validation endpoint", &ctx);
    if (rc != NGX_DECLINED) {
        return rc;
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
    ngx_str_t  ct;

    r->headers_out.status = status;

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

    ct.data = (u_char *) type;
    ct.len = ngx_strlen(type);

    return ngx_http_edugate_send_body(r, &ct, body, len);
}
