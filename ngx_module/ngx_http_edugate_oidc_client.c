/*
 * Copyright (C) EduGate contributors
 *
 * Client authentication at the token and revocation endpoints.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_oidc.h"


/*
 * Client authentication (RFC 6749 2.3.1): client_secret_basic or
 * client_secret_post, never both; a public client names itself with
 * client_id and has no secret.  NGX_OK with ctx->client set; NGX_DECLINED
 * with the refusal noted for ngx_http_edugate_oidc_refusal(); NGX_ERROR.
 */

ngx_int_t
ngx_http_edugate_oidc_client_auth(ngx_http_request_t *r,
    eg_form_field_t *client_id, eg_form_field_t *client_secret)
{
    u_char                             *colon, *id, *secret;
    size_t                              idlen, slen;
    ngx_str_t                           cred, dec;
    ngx_table_elt_t                    *h;
    const eg_oidc_client_t             *c;
    ngx_http_edugate_oidc_ctx_t        *ctx;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    h = r->headers_in.authorization;

    id = client_id->value;
    idlen = client_id->seen ? client_id->len : 0;
    secret = client_secret->value;
    slen = client_secret->seen ? client_secret->len : 0;

    if (h != NULL) {
        if (h->value.len < 6
            || ngx_strncasecmp(h->value.data, (u_char *) "Basic ", 6) != 0)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "edugate: invalid_client: Authorization is not "
                          "Basic");
            ctx->basic = 1;
            return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                               "invalid_client",
                                   "use client_secret_basic or "
                                   "client_secret_post");
        }

        ctx->basic = 1;

        if (client_secret->seen) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "edugate: invalid_request: two client "
                          "authentication methods in one request");
            return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_BAD_REQUEST,
                                               "invalid_request",
                                   "more than one client authentication "
                                   "method");
        }

        cred.data = h->value.data + 6;
        cred.len = h->value.len - 6;

        while (cred.len && cred.data[0] == ' ') {
            cred.data++;
            cred.len--;
        }

        dec.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(cred.len));
        if (dec.data == NULL) {
            return NGX_ERROR;
        }

        colon = NULL;

        if (ngx_decode_base64(&dec, &cred) == NGX_OK) {
            colon = ngx_strlchr(dec.data, dec.data + dec.len, ':');
        }

        if (colon == NULL) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "edugate: invalid_client: malformed Basic "
                          "credentials");
            return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                               "invalid_client",
                                               "malformed credentials");
        }

        /* both halves are form-encoded before base64 (RFC 6749 2.3.1) */

        id = ngx_pnalloc(r->pool, dec.len + 1);
        if (id == NULL) {
            return NGX_ERROR;
        }

        if (eg_form_decode(id, dec.data, colon - dec.data, &idlen) != 0
            || idlen == 0
            || ngx_strlchr(id, id + idlen, '\0') != NULL
            || (client_id->seen
                && (idlen != client_id->len
                    || ngx_memcmp(id, client_id->value, idlen) != 0)))
        {
            goto bad;
        }

        secret = id + idlen;

        if (eg_form_decode(secret, colon + 1, dec.data + dec.len - colon - 1,
                           &slen)
            != 0
            || slen == 0
            || ngx_strlchr(secret, secret + slen, '\0') != NULL)
        {
            goto bad;
        }
    }

    if (idlen == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_client: no client_id");
        return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                           "invalid_client",
                                           "client authentication failed");
    }

    c = ocf->clients ? eg_oidc_client_find(ocf->clients->elts,
                                           ocf->clients->nelts, id, idlen)
                     : NULL;

    if (c == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_client: unknown client \"%s\"",
                      ngx_http_edugate_oidc_log_value(r, id, idlen));
        return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                           "invalid_client",
                                           "client authentication failed");
    }

    if (c->secret.len == 0 ? slen != 0 : !eg_oidc_secret_ok(c, secret, slen))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_client: wrong secret of client "
                      "\"%V\"", &c->id);
        return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                           "invalid_client",
                                           "client authentication failed");
    }

    ctx->client = c;

    return NGX_OK;

bad:

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: invalid_client: malformed Basic credentials");

    return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                       "invalid_client",
                                       "malformed credentials");
}


/*
 * The form a client POSTs, read and its sender authenticated; the fields
 * "client_id" and "client_secret" are the last two of f.  NGX_OK, or
 * NGX_DONE with the answer already made, for the caller to finalize the
 * request with *answer.
 */

ngx_int_t
ngx_http_edugate_oidc_client_form(ngx_http_request_t *r, ngx_str_t *body,
    eg_form_field_t *f, ngx_uint_t n, ngx_int_t *answer)
{
    ngx_int_t  rc;

    rc = ngx_http_edugate_oidc_form(r, body, f, n);

    if (rc == NGX_DECLINED) {
        *answer = ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                              "invalid_request",
                                              "malformed or repeated "
                                              "parameter");
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        *answer = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }

    rc = ngx_http_edugate_oidc_client_auth(r, &f[n - 2], &f[n - 1]);

    if (rc != NGX_OK) {
        *answer = ngx_http_edugate_oidc_refusal(r, rc);
        return NGX_DONE;
    }

    return NGX_OK;
}
