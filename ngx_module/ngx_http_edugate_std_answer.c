/*
 * Copyright (C) EduGate contributors
 *
 * How the data-standard endpoints answer a refusal: a status, the code in
 * X-Edugate-Error and in a JSON body, never cached.
 *
 * A push over edugate_standardize_max_body.  The limit is nginx's own
 * client_max_body_size of the push location, so that nginx refuses the
 * body while it arrives, whether it announced its length or is chunked,
 * and never buffers more.  nginx answers such a request itself (413,
 * before the location's handler runs); these filters give that answer
 * the shape of every other refusal of a push: the code in
 * X-Edugate-Error, a JSON body, an "edugate: payload_too_large" line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_std.h"
#include "eg_text.h"


static ngx_int_t ngx_http_edugate_std_limit_header(ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_std_limit_body(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_uint_t ngx_http_edugate_std_has_code(ngx_http_request_t *r);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static u_char  ngx_http_edugate_std_too_large[] =
    "{\"error\":\"payload_too_large\",\"message\":\"the payload is over "
    "edugate_standardize_max_body\"}";


ngx_int_t
ngx_http_edugate_std_limit_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_edugate_std_limit_header;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_edugate_std_limit_body;

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_std_limit_header(ngx_http_request_t *r)
{
    ngx_http_edugate_std_ctx_t       *ctx;
    ngx_http_edugate_std_loc_conf_t  *slcf;

    if (r != r->main
        || r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE)
    {
        return ngx_http_next_header_filter(r);
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);

    /* our own refusals already carry their code */
    if (slcf == NULL || slcf->vendor == NULL
        || ngx_http_edugate_std_has_code(r))
    {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_std_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_edugate_std_module);
    }

    ctx->too_large = 1;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "edugate: payload_too_large: a push for \"%V\" over %uz "
                  "bytes", &slcf->vendor->name, slcf->max_body);

    if (ngx_http_edugate_add_header(r, "X-Edugate-Error",
                                    "payload_too_large") == NULL
        || ngx_http_edugate_add_header(r, "Cache-Control", "no-store")
           == NULL
        || ngx_http_edugate_add_header(r, "X-Content-Type-Options",
                                       "nosniff") == NULL
        || ngx_http_edugate_add_header(r, "X-Frame-Options", "DENY") == NULL)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n =
        sizeof(ngx_http_edugate_std_too_large) - 1;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


/* nginx's error page goes, the JSON comes in its place */

static ngx_int_t
ngx_http_edugate_std_limit_body(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                   *b;
    ngx_chain_t                  out;
    ngx_http_edugate_std_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    if (ctx == NULL || !ctx->too_large || in == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->too_large_sent) {
        return NGX_OK;
    }

    ctx->too_large_sent = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ngx_http_edugate_std_too_large;
    b->last = b->pos + sizeof(ngx_http_edugate_std_too_large) - 1;
    b->memory = 1;
    b->last_buf = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static ngx_uint_t
ngx_http_edugate_std_has_code(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash && h[i].key.len == sizeof("X-Edugate-Error") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "X-Edugate-Error",
                               h[i].key.len) == 0)
        {
            return 1;
        }
    }
}


/* {"error": code, "message": ...}, with X-Edugate-Error, never cached */

ngx_int_t
ngx_http_edugate_std_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *detail)
{
    u_char  *body, *p;
    size_t   len, dlen;

    if (ngx_http_edugate_add_header(r, "X-Edugate-Error", code) == NULL) {
        return NGX_ERROR;
    }

    /* programs read the code; people reading along get a sentence */
    if (detail == NULL) {
        detail = ngx_http_edugate_message(code, 1);
    }

    dlen = ngx_strlen(detail);

    len = sizeof("{\"error\":\"\",\"message\":\"\"}") - 1 + ngx_strlen(code)
          + eg_json_escape_len((u_char *) detail, dlen);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(body, "{\"error\":\"%s\",\"message\":\"", code);
    p += eg_json_escape(p, (u_char *) detail, dlen);
    p = ngx_cpymem(p, "\"}", 2);

    return ngx_http_edugate_std_send_json(r, status, body, p - body);
}


ngx_int_t
ngx_http_edugate_std_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    static ngx_str_t  type = ngx_string("application/json; charset=utf-8");

    if (ngx_http_edugate_add_header(r, "Cache-Control", "no-store") == NULL
        || ngx_http_edugate_add_header(r, "X-Content-Type-Options",
                                       "nosniff") == NULL
        || ngx_http_edugate_add_header(r, "X-Frame-Options", "DENY") == NULL)
    {
        return NGX_ERROR;
    }

    r->headers_out.status = status;

    return ngx_http_edugate_send_body(r, &type, body, len);
}
