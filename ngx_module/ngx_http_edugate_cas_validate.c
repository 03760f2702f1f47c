/*
 * Copyright (C) EduGate contributors
 *
 * The service side of the CAS server: /cas/validate (CAS 1.0 text),
 * /cas/serviceValidate and /cas/p3/serviceValidate (CAS 2.0 / 3.0 XML),
 * /cas/proxyValidate and /cas/p3/proxyValidate (proxy tickets too).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_cas.h"


static ngx_int_t ngx_http_edugate_cas_validate(ngx_http_request_t *r,
    ngx_uint_t version, ngx_uint_t proxy_tickets);
static void ngx_http_edugate_cas_consumed(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_cas_answer(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx, eg_cas_record_t *rec,
    ngx_uint_t live);
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
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V1, 0);
}


ngx_int_t
ngx_http_edugate_cas_validate2_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V2, 0);
}


ngx_int_t
ngx_http_edugate_cas_validate3_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V3, 0);
}


ngx_int_t
ngx_http_edugate_cas_proxy_validate2_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V2, 1);
}


ngx_int_t
ngx_http_edugate_cas_proxy_validate3_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_cas_validate(r, NGX_HTTP_EDUGATE_CAS_V3, 1);
}


static ngx_int_t
ngx_http_edugate_cas_validate(ngx_http_request_t *r, ngx_uint_t version,
    ngx_uint_t proxy_tickets)
{
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
    ctx->proxy_tickets = proxy_tickets;

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
    ctx->pgt_url.data = f[4].value;
    ctx->pgt_url.len = f[4].len;

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

    ctx->key_len = ngx_http_edugate_cas_key(ctx->key,
                                           kind == EG_CAS_TICKET_PROXY
                                           ? "eg:cas:pt:" : "eg:cas:st:",
                                           ctx->ticket.data,
                                           ctx->ticket.len);
    if (ctx->key_len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a validation attempt spends the ticket, even at the wrong endpoint */

    if (kind == EG_CAS_TICKET_PROXY && !proxy_tickets) {
        argv[0] = "DEL";
        len[0] = 3;
        argv[1] = (const char *) ctx->key;
        len[1] = ctx->key_len;
        (void) ngx_http_edugate_redis_send(r->connection->log, 2, argv, len);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET_SPEC: proxy ticket presented "
                      "for service validation");
        return ngx_http_edugate_cas_failure(r, "INVALID_TICKET_SPEC",
                                            "Proxy tickets are not "
                                            "accepted here.");
    }

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_cas_consume_script;
    len[1] = sizeof(ngx_http_edugate_cas_consume_script) - 1;
    argv[2] = "1";
    len[2] = 1;
    argv[3] = (const char *) ctx->key;
    len[3] = ctx->key_len;

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

    ctx->svc = ngx_http_edugate_cas_find(r, &ctx->service);
    if (ctx->svc == NULL) {
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

    ctx->rec = rec;

    if (ctx->proxy_callback) {
        return ngx_http_edugate_cas_pgt_issue(r, ctx);
    }

    return ngx_http_edugate_cas_success(r, NULL);
}


/* the ticket passed every check; pgt_iou: a proxy-granting ticket's IOU */

ngx_int_t
ngx_http_edugate_cas_success(ngx_http_request_t *r, const char *pgt_iou)
{
    u_char                      *out, *body;
    size_t                       len;
    ngx_int_t                    rc;
    eg_cas_record_t             *rec;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);
    rec = ctx->rec;

    ctx->pgt_issued = (pgt_iou != NULL);

    rc = ngx_http_edugate_cas_slo_register(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: cas: %s of \"%s\" validated for \"%s\"%s",
                  rec->nproxies ? "proxy ticket" : "ticket", rec->id.uid,
                  ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                 ctx->service.len),
                  pgt_iou ? ", proxy-granting ticket issued" : "");

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

    if (eg_cas_xml_success(rec, ctx->svc->attrs,
                           ctx->version == NGX_HTTP_EDUGATE_CAS_V3,
                           pgt_iou, &out, &len)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: answer for \"%s\" not "
                      "built", rec->id.uid);
        return ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                            "The answer could not be "
                                            "built.");
    }

    return ngx_http_edugate_cas_send_xml(r, NGX_HTTP_OK, out, len, NULL);
}


/* a protocol answer, never an HTML page: clients parse it */

ngx_int_t
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

    return ngx_http_edugate_cas_send_xml(r, status, out, len, code);
}


/* sends and releases a document of eg_cas_xml_*() */

ngx_int_t
ngx_http_edugate_cas_send_xml(ngx_http_request_t *r, ngx_uint_t status,
    unsigned char *out, size_t len, const char *code)
{
    u_char  *body;

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
