/*
 * Copyright (C) EduGate contributors
 *
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).  The
 * session ends everywhere, as at /edugate/logout; the browser goes back
 * to the client only to a post_logout_redirect_uri registered for the
 * client that an id_token_hint (or client_id) names.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_oidc.h"


typedef enum {
    L_HINT = 0,
    L_REDIRECT,
    L_STATE,
    L_CLIENT_ID,
    L_NFIELDS
} ngx_http_edugate_oidc_lfield_e;


static void ngx_http_edugate_oidc_end_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_edugate_oidc_end(ngx_http_request_t *r,
    ngx_str_t *src);
static const eg_oidc_client_t *ngx_http_edugate_oidc_hint_client(
    ngx_http_request_t *r, ngx_str_t *hint);
static void ngx_http_edugate_oidc_end_done(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_oidc_end_finish(ngx_http_request_t *r,
    ngx_uint_t ok);


ngx_int_t
ngx_http_edugate_oidc_end_session_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_edugate_oidc_start(r, NGX_HTTP_GET|NGX_HTTP_HEAD
                                        |NGX_HTTP_POST,
                                     "the end-session endpoint");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_edugate_oidc_read_body(r,
                                              ngx_http_edugate_oidc_end_body);
    }

    return ngx_http_edugate_oidc_end(r, &r->args);
}


static void
ngx_http_edugate_oidc_end_body(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_http_finalize_request(r, ngx_http_edugate_oidc_end(r, body));
}


static ngx_int_t
ngx_http_edugate_oidc_end(ngx_http_request_t *r, ngx_str_t *src)
{
    ngx_int_t                          rc;
    ngx_str_t                          hint;
    eg_form_field_t                    f[L_NFIELDS];
    const eg_oidc_client_t            *c;
    ngx_http_edugate_oidc_ctx_t       *ctx;
    ngx_http_edugate_oidc_main_conf_t *ocf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    ngx_memzero(f, sizeof(f));
    f[L_HINT].name = "id_token_hint";
    f[L_REDIRECT].name = "post_logout_redirect_uri";
    f[L_STATE].name = "state";
    f[L_CLIENT_ID].name = "client_id";

    rc = ngx_http_edugate_oidc_form(r, src, f, L_NFIELDS);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_edugate_oidc_page(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_request");
    }

    c = NULL;

    if (f[L_HINT].seen) {
        hint.data = f[L_HINT].value;
        hint.len = f[L_HINT].len;
        c = ngx_http_edugate_oidc_hint_client(r, &hint);
    }

    if (f[L_CLIENT_ID].seen) {
        if (c != NULL
            && (c->id.len != f[L_CLIENT_ID].len
                || ngx_memcmp(c->id.data, f[L_CLIENT_ID].value, c->id.len)
                   != 0))
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "edugate: invalid_request: client_id differs "
                          "from the id_token_hint's audience");
            return ngx_http_edugate_oidc_page(r, NGX_HTTP_BAD_REQUEST,
                                              "invalid_request");
        }

        if (c == NULL && !f[L_HINT].seen) {
            c = eg_oidc_client_find(ocf->clients->elts, ocf->clients->nelts,
                                    f[L_CLIENT_ID].value,
                                    f[L_CLIENT_ID].len);
        }
    }

    if (f[L_REDIRECT].seen) {
        if (c != NULL
            && eg_oidc_uri_registered(c->logout_uris, c->nlogout,
                                      f[L_REDIRECT].value,
                                      f[L_REDIRECT].len))
        {
            ctx->logout_uri.data = f[L_REDIRECT].value;
            ctx->logout_uri.len = f[L_REDIRECT].len;
            ctx->client = c;

            if (f[L_STATE].seen
                && eg_oidc_printable(f[L_STATE].value, f[L_STATE].len,
                                     EG_OIDC_STATE_MAX))
            {
                ctx->state.data = f[L_STATE].value;
                ctx->state.len = f[L_STATE].len;
            }

        } else {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "edugate: invalid_post_logout_redirect_uri: "
                          "\"%s\" is not registered for %s",
                          ngx_http_edugate_oidc_log_value(r,
                                                      f[L_REDIRECT].value,
                                                      f[L_REDIRECT].len),
                          c ? "the client of the id_token_hint"
                            : "a client the request names");
            ctx->bad_logout_uri = 1;
        }
    }

    rc = ngx_http_edugate_session_end(r, ngx_http_edugate_oidc_end_done);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    return ngx_http_edugate_oidc_end_finish(r, rc == NGX_DECLINED);
}


/*
 * The client an id_token_hint was issued to.  The hint may have expired
 * (section 2 of the specification), but it must be ours and signed.
 */

static const eg_oidc_client_t *
ngx_http_edugate_oidc_hint_client(ngx_http_request_t *r, ngx_str_t *hint)
{
    json_t                             *claims, *aud;
    eg_jwt_rc_e                         jrc;
    eg_jwt_policy_t                     policy;
    const char                         *id;
    const eg_oidc_client_t             *c;
    ngx_http_edugate_main_conf_t       *emcf;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);
    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    ngx_memzero(&policy, sizeof(eg_jwt_policy_t));
    policy.algs = EG_JWT_ALGS_ALL;
    policy.iss = (const char *) emcf->issuer.data;
    policy.aud = NULL;
    policy.any_aud = 1;
    policy.typ = "JWT";
    policy.leeway = emcf->token_leeway;
    policy.now = ngx_time();
    policy.expired_ok = 1;

    jrc = eg_jwt_verify(emcf->keyset, &policy, (const char *) hint->data,
                        hint->len, &claims);

    if (jrc != EG_JWT_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_id_token_hint: %s: the session "
                      "ends, the browser is not sent back",
                      eg_jwt_rc_name(jrc));
        return NULL;
    }

    aud = json_object_get(claims, "aud");
    id = json_string_value(json_is_array(aud) && json_array_size(aud) == 1
                           ? json_array_get(aud, 0) : aud);

    c = (id != NULL)
        ? eg_oidc_client_find(ocf->clients->elts, ocf->clients->nelts,
                              (u_char *) id, ngx_strlen(id))
        : NULL;

    if (c == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_id_token_hint: its audience is no "
                      "registered client");
    }

    json_decref(claims);

    return c;
}


static void
ngx_http_edugate_oidc_end_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_uint_t  ok;

    ok = (reply != NULL && reply->type != REDIS_REPLY_ERROR);

    if (ok) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: logout: session ended through OpenID "
                      "Connect");

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: logout not "
                      "recorded");
    }

    ngx_http_finalize_request(r, ngx_http_edugate_oidc_end_finish(r, ok));
}


static ngx_int_t
ngx_http_edugate_oidc_end_finish(ngx_http_request_t *r, ngx_uint_t ok)
{
    ngx_str_t                      location;
    eg_oidc_param_t                params[1];
    ngx_http_edugate_oidc_ctx_t   *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (ngx_http_edugate_forget_cookie(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ok) {
        return ngx_http_edugate_oidc_page(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "session_store_unavailable");
    }

    if (ctx->bad_logout_uri) {
        return ngx_http_edugate_oidc_page(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_post_logout_redirect_uri");
    }

    if (ctx->logout_uri.len == 0) {
        return ngx_http_edugate_send_error(r, NGX_HTTP_OK, "logged_out",
                                           NULL);
    }

    params[0].name = "state";
    params[0].value.data = ctx->state.data;
    params[0].value.len = ctx->state.len;

    location.data = ngx_pnalloc(r->pool,
                                eg_oidc_redirect_len(ctx->logout_uri.data,
                                                     ctx->logout_uri.len,
                                                     params, 1));
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    location.len = eg_oidc_redirect(location.data, ctx->logout_uri.data,
                                    ctx->logout_uri.len, params, 1);

    return ngx_http_edugate_redirect(r, &location, NULL);
}
