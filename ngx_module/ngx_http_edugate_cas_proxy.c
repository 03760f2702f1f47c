/*
 * Copyright (C) EduGate contributors
 *
 * /cas/proxy (CAS 3.0 sections 2.7 and 3.2): a proxy-granting ticket is
 * traded for a proxy ticket (PT) to another registered service, for as
 * long as the session the PGT came from lasts; the PT carries the
 * identity as that session holds it now, released to the target service
 * as its registration says.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_cas.h"


static ngx_int_t ngx_http_edugate_cas_hide_args(ngx_http_request_t *r);
static void ngx_http_edugate_cas_proxy_looked_up(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_cas_proxy_grant(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_edugate_cas_proxy_issued(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_cas_proxy_failure(ngx_http_request_t *r,
    const char *code, const char *text);


/*
 * KEYS: the PGT key.  The PGT and the session it came from, in one step;
 * a PGT whose session has ended goes at once.
 */
static const char  ngx_http_edugate_cas_pgt_script[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then return false end "
    "local ok, t = pcall(cjson.decode, v) "
    "local s = false "
    "if ok and type(t) == 'table' and type(t.session) == 'string' then "
    "s = redis.call('GET', 'eg:sess:' .. t.session) "
    "end "
    "if not s then redis.call('DEL', KEYS[1]) end "
    "return {v, s}";


ngx_int_t
ngx_http_edugate_cas_proxy_handler(ngx_http_request_t *r)
{
    size_t                             len[4];
    ngx_int_t                          rc;
    const char                        *argv[4];
    eg_form_rc_e                       frc;
    eg_form_field_t                    f[2];
    ngx_http_edugate_cas_ctx_t        *ctx;
    ngx_http_edugate_cas_main_conf_t  *ccf;

    if (ngx_http_edugate_cas_hide_args(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_edugate_cas_start(r, NGX_HTTP_GET|NGX_HTTP_HEAD,
                                    "the CAS proxy endpoint", &ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_memzero(f, sizeof(f));
    f[0].name = "pgt";
    f[1].name = "targetService";

    frc = ngx_http_edugate_cas_args(r, f, 2);
    if (frc != EG_FORM_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: INVALID_REQUEST: CAS proxy query: %s",
                      eg_form_strerror(frc));
        return ngx_http_edugate_cas_proxy_failure(r, "INVALID_REQUEST",
                                                  "The request is "
                                                  "malformed.");
    }

    if (f[0].len == 0 || f[1].len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: INVALID_REQUEST: CAS proxy request without "
                      "%s", f[0].len ? "targetService" : "pgt");
        return ngx_http_edugate_cas_proxy_failure(r, "INVALID_REQUEST",
                                                  "'pgt' and "
                                                  "'targetService' are "
                                                  "both required.");
    }

    if (!eg_cas_pgt_check(f[0].value, f[0].len)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: malformed proxy-granting "
                      "ticket (%uz bytes)", f[0].len);
        return ngx_http_edugate_cas_proxy_failure(r, "INVALID_TICKET",
                                                  "The proxy-granting "
                                                  "ticket is not valid.");
    }

    ctx->service.data = f[1].value;
    ctx->service.len = f[1].len;

    ccf = ngx_http_get_module_main_conf(r, ngx_http_edugate_cas_module);

    ctx->svc = eg_cas_service_find(ccf->services->elts, ccf->services->nelts,
                                   ctx->service.data, ctx->service.len);

    if (ctx->svc == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: UNAUTHORIZED_SERVICE: proxy ticket asked "
                      "for \"%s\", which is not registered",
                      ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                     ctx->service.len));
        return ngx_http_edugate_cas_proxy_failure(r, "UNAUTHORIZED_SERVICE",
                                                  "The target service is "
                                                  "not registered.");
    }

    ctx->key_len = ngx_http_edugate_cas_key(ctx->key, "eg:cas:pgt:",
                                           f[0].value, f[0].len);
    if (ctx->key_len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_cas_pgt_script;
    len[1] = sizeof(ngx_http_edugate_cas_pgt_script) - 1;
    argv[2] = "1";
    len[2] = 1;
    argv[3] = (const char *) ctx->key;
    len[3] = ctx->key_len;

    rc = ngx_http_edugate_redis_call(r, ngx_http_edugate_cas_proxy_looked_up,
                                     4, argv, len);

    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: INTERNAL_ERROR: redis is not connected, no proxy "
                  "ticket issued");

    return ngx_http_edugate_cas_proxy_failure(r, "INTERNAL_ERROR",
                                              "The ticket store is "
                                              "unavailable.");
}


/*
 * A PGT is a long-lived credential: the request line that error and
 * access logs show loses its query, which carries the PGT.
 */

static ngx_int_t
ngx_http_edugate_cas_hide_args(ngx_http_request_t *r)
{
    u_char  *p, *q;

    if (r->args.len == 0 || r->request_line.len == 0) {
        return NGX_OK;
    }

    q = ngx_strlchr(r->unparsed_uri.data,
                    r->unparsed_uri.data + r->unparsed_uri.len, '?');
    if (q == NULL) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, r->method_name.len + 2 + (q - r->unparsed_uri.data)
                             + r->http_protocol.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    r->request_line.data = p;

    p = ngx_cpymem(p, r->method_name.data, r->method_name.len);
    *p++ = ' ';
    p = ngx_cpymem(p, r->unparsed_uri.data, q - r->unparsed_uri.data);

    if (r->http_protocol.len) {
        *p++ = ' ';
        p = ngx_cpymem(p, r->http_protocol.data, r->http_protocol.len);
    }

    r->request_line.len = p - r->request_line.data;

    return NGX_OK;
}


static void
ngx_http_edugate_cas_proxy_looked_up(ngx_http_request_t *r,
    redisReply *reply)
{
    ngx_http_finalize_request(r, ngx_http_edugate_cas_proxy_grant(r, reply));
}


static ngx_int_t
ngx_http_edugate_cas_proxy_grant(ngx_http_request_t *r, redisReply *reply)
{
    char                              *record;
    u_char                             ttl[NGX_TIME_T_LEN];
    size_t                             i, len[6];
    ngx_int_t                          rc;
    ngx_str_t                          owner;
    const char                        *argv[6], *chain[EG_CAS_PROXIES_MAX];
    redisReply                        *v, *s;
    eg_identity_t                     *id;
    eg_cas_record_t                   *pgt;
    const eg_cas_service_t            *holder;
    ngx_http_edugate_cas_ctx_t        *ctx;
    ngx_http_edugate_cas_svc_conf_t   *scf;
    ngx_http_edugate_cas_main_conf_t  *ccf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);
    ccf = ngx_http_get_module_main_conf(r, ngx_http_edugate_cas_module);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: proxy-granting ticket not "
                      "looked up");
        return ngx_http_edugate_cas_proxy_failure(r, "INTERNAL_ERROR",
                                                  "The ticket store is "
                                                  "unavailable.");
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: proxy-granting ticket "
                      "unknown or expired");
        return ngx_http_edugate_cas_proxy_failure(r, "INVALID_TICKET",
                                                  "The proxy-granting "
                                                  "ticket is not valid.");
    }

    v = (reply->elements == 2) ? reply->element[0] : NULL;
    s = (reply->elements == 2) ? reply->element[1] : NULL;

    pgt = ngx_palloc(r->pool, sizeof(eg_cas_record_t));
    id = ngx_palloc(r->pool, sizeof(eg_identity_t));

    if (pgt == NULL || id == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (v == NULL || v->type != REDIS_REPLY_STRING
        || eg_cas_record_decode(pgt, v->str, v->len) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: unreadable proxy-granting "
                      "ticket record, discarded");
        return ngx_http_edugate_cas_proxy_failure(r, "INTERNAL_ERROR",
                                                  "The ticket record is "
                                                  "unreadable.");
    }

    if (s->type != REDIS_REPLY_STRING
        || eg_identity_from_json(id, s->str, s->len) != 0
        || id->expires <= ngx_time()
        || ngx_strcmp(id->uid, pgt->id.uid) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: the session of the "
                      "proxy-granting ticket of \"%s\" has ended",
                      pgt->id.uid);
        return ngx_http_edugate_cas_proxy_failure(r, "INVALID_TICKET",
                                                  "The proxy-granting "
                                                  "ticket is not valid.");
    }

    /* the configuration may have changed since the PGT was issued */

    holder = eg_cas_service_find(ccf->services->elts, ccf->services->nelts,
                                 (u_char *) pgt->service, pgt->service_len);
    scf = holder ? holder->data : NULL;

    if (scf == NULL || scf->callback == NULL) {
        owner.data = (u_char *) pgt->service;
        owner.len = pgt->service_len;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: UNAUTHORIZED_SERVICE_PROXY: \"%V\" may no "
                      "longer proxy", &owner);
        return ngx_http_edugate_cas_proxy_failure(r,
                                                  "UNAUTHORIZED_SERVICE_PROXY",
                                                  "The service may not "
                                                  "proxy.");
    }

    if (eg_cas_artifact_new(ctx->issued, "PT-") != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "edugate: RAND_bytes() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->issued[EG_CAS_TICKET_LEN] = '\0';

    for (i = 0; i < pgt->nproxies; i++) {
        chain[i] = pgt->proxies[i];
    }

    record = eg_cas_record_encode(id, ctx->svc->attrs, ctx->service.data,
                                  ctx->service.len, (u_char *) pgt->session,
                                  0, chain, pgt->nproxies);
    if (record == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: proxy ticket record of "
                      "\"%s\" not built", id->uid);
        return ngx_http_edugate_cas_proxy_failure(r, "INTERNAL_ERROR",
                                                  "The proxy ticket could "
                                                  "not be built.");
    }

    ctx->rec = pgt;
    ctx->key_len = ngx_http_edugate_cas_key(ctx->key, "eg:cas:pt:",
                                           ctx->issued, EG_CAS_TICKET_LEN);

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

    rc = (ctx->key_len == 0)
         ? NGX_ERROR
         : ngx_http_edugate_redis_call(r, ngx_http_edugate_cas_proxy_issued,
                                       6, argv, len);

    free(record);

    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: INTERNAL_ERROR: redis is not connected, no proxy "
                  "ticket issued");

    return ngx_http_edugate_cas_proxy_failure(r, "INTERNAL_ERROR",
                                              "The ticket store is "
                                              "unavailable.");
}


static void
ngx_http_edugate_cas_proxy_issued(ngx_http_request_t *r, redisReply *reply)
{
    size_t                       len;
    ngx_int_t                    rc;
    unsigned char               *out;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);

    if (reply == NULL || reply->type != REDIS_REPLY_STATUS) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: proxy ticket not stored");
        rc = ngx_http_edugate_cas_proxy_failure(r, "INTERNAL_ERROR",
                                                "The ticket store is "
                                                "unavailable.");
        goto done;
    }

    if (eg_cas_xml_proxy_success((char *) ctx->issued, &out, &len) != 0) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: cas: proxy ticket of \"%s\" issued for \"%s\" "
                  "through \"%s\"", ctx->rec->id.uid,
                  ngx_http_edugate_cas_log_value(r, ctx->service.data,
                                                 ctx->service.len),
                  ctx->rec->proxies[0]);

    rc = ngx_http_edugate_cas_send_xml(r, NGX_HTTP_OK, out, len, NULL);

done:

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_edugate_cas_proxy_failure(ngx_http_request_t *r, const char *code,
    const char *text)
{
    size_t                   len;
    unsigned char           *out;
    ngx_http_edugate_ctx_t  *ectx;

    ectx = ngx_http_edugate_get_ctx(r);
    if (ectx != NULL) {
        ectx->error.data = (u_char *) code;
        ectx->error.len = ngx_strlen(code);
    }

    if (eg_cas_xml_proxy_failure(code, text, &out, &len) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_edugate_cas_send_xml(r,
                                         ngx_strcmp(code, "INTERNAL_ERROR")
                                         == 0 ? NGX_HTTP_SERVICE_UNAVAILABLE
                                              : NGX_HTTP_OK,
                                         out, len, code);
}
