/*
 * Copyright (C) EduGate contributors
 *
 * What the endpoints of the OIDC provider share while serving a request:
 * the request ctx, CORS, form bodies, RFC 6749 error answers, refusals
 * noted by checks, Redis calls that fail closed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_oidc.h"
#include "eg_codec.h"
#include "eg_text.h"


static ngx_int_t ngx_http_edugate_oidc_cors(ngx_http_request_t *r);
static void ngx_http_edugate_oidc_body_read(ngx_http_request_t *r);


static ngx_str_t  ngx_http_edugate_oidc_json_type =
    ngx_string("application/json");


ngx_http_edugate_oidc_ctx_t *
ngx_http_edugate_oidc_ctx(ngx_http_request_t *r)
{
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_oidc_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_edugate_oidc_module);
    }

    return ctx;
}


/*
 * The start every endpoint shares: CORS for browsers, the method check,
 * the request ctx.  NGX_DECLINED: go on; anything else is the answer.
 * The body is left alone: POST endpoints read it themselves.
 */

ngx_int_t
ngx_http_edugate_oidc_start(ngx_http_request_t *r, ngx_uint_t methods,
    const char *endpoint)
{
    ngx_int_t  rc;

    rc = ngx_http_edugate_oidc_cors(r);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (!(r->method & methods)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: %V on %s",
                      &r->method_name, endpoint);
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_NOT_ALLOWED,
                                           "invalid_request",
                                           "method not allowed");
    }

    if (!(r->method & NGX_HTTP_POST)
        && ngx_http_discard_request_body(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_edugate_oidc_ctx(r) == NULL
        || ngx_http_edugate_get_ctx(r) == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * A browser script of a public client may call the token, userinfo and
 * revocation endpoints from the origin of one of its redirect URIs; no
 * other origin is told anything.
 */

static ngx_int_t
ngx_http_edugate_oidc_cors(ngx_http_request_t *r)
{
    ngx_uint_t                          i;
    ngx_str_t                          *o;
    ngx_table_elt_t                    *origin, *h;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    origin = ngx_http_edugate_header_in(r, "origin", 6);
    if (origin == NULL) {
        return NGX_DECLINED;
    }

    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    o = ocf->cors ? ocf->cors->elts : NULL;

    for (i = 0; o && i < ocf->cors->nelts; i++) {
        if (o[i].len == origin->value.len
            && ngx_memcmp(o[i].data, origin->value.data, o[i].len) == 0)
        {
            break;
        }
    }

    if (ngx_http_edugate_add_header(r, "Vary", "Origin") == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (o == NULL || i == ocf->cors->nelts) {
        return NGX_DECLINED;
    }

    h = ngx_http_edugate_add_header(r, "Access-Control-Allow-Origin", NULL);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value = o[i];

    if (r->method != NGX_HTTP_OPTIONS) {
        return NGX_DECLINED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK
        || ngx_http_edugate_add_header(r, "Access-Control-Allow-Methods",
                                       "GET, POST")
           == NULL
        || ngx_http_edugate_add_header(r, "Access-Control-Allow-Headers",
                                       "Authorization, Content-Type")
           == NULL
        || ngx_http_edugate_add_header(r, "Access-Control-Max-Age", "600")
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;
    r->headers_out.content_length_n = 0;

    return ngx_http_send_header(r);
}


/*
 * Reads an application/x-www-form-urlencoded body into one buffer, then
 * calls handler.  A body that does not fit NGX_HTTP_EDUGATE_OIDC_BODY_MAX
 * is refused before it is read.
 */

ngx_int_t
ngx_http_edugate_oidc_read_body(ngx_http_request_t *r,
    ngx_http_edugate_oidc_body_pt handler)
{
    ngx_int_t                     rc;
    ngx_table_elt_t              *ct;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ct = r->headers_in.content_type;

    if (ct == NULL
        || ct->value.len < sizeof("application/x-www-form-urlencoded") - 1
        || ngx_strncasecmp(ct->value.data,
                           (u_char *) "application/x-www-form-urlencoded",
                           sizeof("application/x-www-form-urlencoded") - 1)
           != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: the body is not "
                      "application/x-www-form-urlencoded");
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                 "the body must be application/x-www-form-urlencoded");
    }

    if (r->headers_in.content_length_n > NGX_HTTP_EDUGATE_OIDC_BODY_MAX) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: body of %O bytes refused",
                      r->headers_in.content_length_n);
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           "the body is too large");
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    ctx->body_handler = handler;

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_edugate_oidc_body_read);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_edugate_oidc_body_read(ngx_http_request_t *r)
{
    u_char                       *p;
    size_t                        len;
    ngx_str_t                     body;
    ngx_chain_t                  *cl;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (r->request_body == NULL || r->request_body->temp_file) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: the body did not fit "
                      "in memory");
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "the body is too large"));
        return;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }

    if (len > NGX_HTTP_EDUGATE_OIDC_BODY_MAX) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: body of %uz bytes refused",
                      len);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request",
                                        "the body is too large"));
        return;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    body.data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->last > cl->buf->pos) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    body.len = p - body.data;

    ctx->body_handler(r, &body);
}


/* NGX_OK, or NGX_DECLINED with the error answered and logged */

ngx_int_t
ngx_http_edugate_oidc_form(ngx_http_request_t *r, ngx_str_t *src,
    eg_form_field_t *fields, ngx_uint_t n)
{
    u_char        *buf;
    eg_form_rc_e   rc;

    buf = ngx_pnalloc(r->pool, src->len + 1);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    rc = eg_form_parse(src->data, src->len, fields, n, buf);

    if (rc == EG_FORM_OK) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: invalid_request: %s", eg_form_strerror(rc));

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_edugate_oidc_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    if (ngx_http_edugate_add_header(r, "Cache-Control", "no-store") == NULL
        || ngx_http_edugate_add_header(r, "Pragma", "no-cache") == NULL
        || ngx_http_edugate_add_header(r, "X-Content-Type-Options", "nosniff")
           == NULL
        || ngx_http_edugate_add_header(r, "X-Frame-Options", "DENY") == NULL)
    {
        return NGX_ERROR;
    }

    r->headers_out.status = status;

    return ngx_http_edugate_send_body(r, &ngx_http_edugate_oidc_json_type,
                                      body, len);
}


/* a JSON document as the answer; the document is released */

ngx_int_t
ngx_http_edugate_oidc_json_doc(ngx_http_request_t *r, ngx_uint_t status,
    json_t *doc)
{
    char    *text;
    u_char  *body;
    size_t   len;

    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(body, text, len);
    free(text);

    return ngx_http_edugate_oidc_json(r, status, body, len);
}


/* an RFC 6749 5.2 error answer; error is also the X-Edugate-Error code */

ngx_int_t
ngx_http_edugate_oidc_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *description)
{
    u_char                       *body, *p;
    size_t                        len, n;
    ngx_table_elt_t              *h;
    ngx_http_edugate_ctx_t       *ectx;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);
    if (ectx != NULL) {
        ectx->error.data = (u_char *) error;
        ectx->error.len = ngx_strlen(error);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (ngx_http_edugate_add_header(r, "X-Edugate-Error", error) == NULL) {
        return NGX_ERROR;
    }

    if (status == NGX_HTTP_UNAUTHORIZED && ctx && ctx->basic) {
        h = ngx_http_edugate_add_header(r, "WWW-Authenticate",
                                        "Basic realm=\"edugate\"");
        if (h == NULL) {
            return NGX_ERROR;
        }
    }

    /* "message" as in every other EduGate error answer */

    n = eg_json_escape_len((u_char *) description, ngx_strlen(description));

    len = sizeof("{\"error\":\"\",\"error_description\":\"\","
                 "\"message\":\"\"}") - 1
          + ngx_strlen(error) + 2 * n;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(body, "{\"error\":\"%s\",\"error_description\":\"",
                    error);
    p += eg_json_escape(p, (u_char *) description, ngx_strlen(description));
    p = ngx_cpymem(p, "\",\"message\":\"", sizeof("\",\"message\":\"") - 1);
    p += eg_json_escape(p, (u_char *) description, ngx_strlen(description));
    *p++ = '"';
    *p++ = '}';

    return ngx_http_edugate_oidc_json(r, status, body, p - body);
}


/*
 * A refusal decided by a check that does not answer itself: noted here,
 * sent by ngx_http_edugate_oidc_refusal().  Always NGX_DECLINED.
 */

ngx_int_t
ngx_http_edugate_oidc_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *description)
{
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    ctx->refuse_status = status;
    ctx->refuse_error = error;
    ctx->refuse_description = description;

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_edugate_oidc_refusal(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (rc != NGX_DECLINED || ctx->refuse_error == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_edugate_oidc_error(r, ctx->refuse_status,
                                       ctx->refuse_error,
                                       ctx->refuse_description);
}


/* an error shown to the person: the client cannot be trusted with it */

ngx_int_t
ngx_http_edugate_oidc_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *code)
{
    ngx_http_edugate_ctx_t  *ectx;

    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);
    if (ectx != NULL) {
        ectx->error.data = (u_char *) code;
        ectx->error.len = ngx_strlen(code);
    }

    return ngx_http_edugate_send_error(r, status, code, NULL);
}


/* prefix + hex SHA-256 of text, from the request pool */

ngx_int_t
ngx_http_edugate_oidc_hash_key(ngx_http_request_t *r, ngx_str_t *key,
    const char *prefix, u_char *text, size_t len)
{
    size_t   n;

    n = ngx_strlen(prefix);

    key->data = ngx_pnalloc(r->pool, n + NGX_HTTP_EDUGATE_HASH_LEN);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(key->data, prefix, n);
    key->len = n + NGX_HTTP_EDUGATE_HASH_LEN;

    if (eg_sha256_hex(key->data + n, text, len) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


u_char *
ngx_http_edugate_oidc_log_value(ngx_http_request_t *r, u_char *data,
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


/*
 * A Redis command for an endpoint: NGX_DONE while it runs, or the
 * temporarily_unavailable answer when Redis is down (checklist row 70:
 * never a success without the store).
 */

ngx_int_t
ngx_http_edugate_oidc_redis(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler, int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_int_t  rc;

    rc = ngx_http_edugate_redis_call(r, handler, argc, argv, argvlen);

    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: temporarily_unavailable: redis is not "
                      "connected");
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "temporarily_unavailable",
                                           "the session store is "
                                           "unavailable");
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/*
 * 1 if reply is of the expected type; otherwise the request is finalized
 * with temporarily_unavailable and 0 returned.
 */

ngx_uint_t
ngx_http_edugate_oidc_store_reply(ngx_http_request_t *r, redisReply *reply,
    int type, const char *what)
{
    if (reply != NULL && reply->type == type) {
        return 1;
    }

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: temporarily_unavailable: %s: %*s", what,
                      (size_t) reply->len, reply->str);

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: temporarily_unavailable: %s failed", what);
    }

    ngx_http_finalize_request(r,
        ngx_http_edugate_oidc_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "temporarily_unavailable",
                                    "the session store is unavailable"));

    return 0;
}
