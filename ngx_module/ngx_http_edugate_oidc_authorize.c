/*
 * Copyright (C) EduGate contributors
 *
 * The authorization endpoint (OpenID Connect Core 3.1.2, RFC 6749 4.1,
 * RFC 7636, RFC 9207).  Until the client and its redirect URI are known
 * to be registered, errors are shown to the person and nothing redirects;
 * afterwards every answer goes back to the client with "iss".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_oidc.h"
#include "eg_codec.h"


/* our own marker in the return target: a login newer than this counts */
#define NGX_HTTP_EDUGATE_OIDC_AFTER  "edugate_auth_after"


typedef enum {
    F_CLIENT_ID = 0,
    F_REDIRECT_URI,
    F_RESPONSE_TYPE,
    F_SCOPE,
    F_STATE,
    F_NONCE,
    F_CHALLENGE,
    F_METHOD,
    F_PROMPT,
    F_MAX_AGE,
    F_RESPONSE_MODE,
    F_REQUEST,
    F_REQUEST_URI,
    F_AFTER,
    F_NFIELDS
} ngx_http_edugate_oidc_field_e;


static const char  *ngx_http_edugate_oidc_fields[] = {
    "client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
    "code_challenge", "code_challenge_method", "prompt", "max_age",
    "response_mode", "request", "request_uri", NGX_HTTP_EDUGATE_OIDC_AFTER
};


typedef struct {
    eg_form_field_t             f[F_NFIELDS];
    time_t                      max_age;       /* -1: none */
    time_t                      after;         /* 0: none */
    unsigned                    prompt_none:1;
    unsigned                    prompt_login:1;
} ngx_http_edugate_oidc_authz_t;


static void ngx_http_edugate_oidc_authz_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_edugate_oidc_authz_params(ngx_http_request_t *r,
    ngx_str_t *src);
static const char *ngx_http_edugate_oidc_authz_check(ngx_http_request_t *r,
    ngx_http_edugate_oidc_authz_t *az, const char **description);
static void ngx_http_edugate_oidc_authz_resume(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_edugate_oidc_authz_decide(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_edugate_oidc_authz_login(ngx_http_request_t *r,
    ngx_http_edugate_oidc_authz_t *az);
static ngx_int_t ngx_http_edugate_oidc_issue_code(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, ngx_http_edugate_oidc_authz_t *az);
static void ngx_http_edugate_oidc_code_stored(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_oidc_authz_error(ngx_http_request_t *r,
    const char *error, const char *description);
static ngx_int_t ngx_http_edugate_oidc_back(ngx_http_request_t *r,
    eg_oidc_param_t *params, ngx_uint_t n, const char *code);


/* OIDC Core 3.1.2.1: GET and POST (a form) mean the same */

ngx_int_t
ngx_http_edugate_oidc_authorize_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_edugate_oidc_start(r, NGX_HTTP_GET|NGX_HTTP_HEAD
                                        |NGX_HTTP_POST,
                                     "the authorization endpoint");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_edugate_oidc_read_body(r,
                                            ngx_http_edugate_oidc_authz_body);
    }

    return ngx_http_edugate_oidc_authz_params(r, &r->args);
}


static void
ngx_http_edugate_oidc_authz_body(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_http_finalize_request(r, ngx_http_edugate_oidc_authz_params(r, body));
}


static ngx_int_t
ngx_http_edugate_oidc_authz_params(ngx_http_request_t *r, ngx_str_t *src)
{
    ngx_int_t                           rc;
    ngx_uint_t                          i;
    const char                         *error, *description;
    eg_form_field_t                    *f;
    ngx_http_edugate_oidc_ctx_t        *ctx;
    ngx_http_edugate_oidc_authz_t      *az;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    az = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_oidc_authz_t));
    if (az == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->authz = az;
    f = az->f;

    for (i = 0; i < F_NFIELDS; i++) {
        f[i].name = ngx_http_edugate_oidc_fields[i];
    }

    rc = ngx_http_edugate_oidc_form(r, src, f, F_NFIELDS);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_edugate_oidc_page(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_request");
    }

    /* checklist rows 21-24: no redirect before both are known to be ours */

    ctx->client = f[F_CLIENT_ID].seen
                  ? eg_oidc_client_find(ocf->clients->elts,
                                        ocf->clients->nelts,
                                        f[F_CLIENT_ID].value,
                                        f[F_CLIENT_ID].len)
                  : NULL;

    if (ctx->client == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_client: authorization request of "
                      "unknown client \"%s\"",
                      ngx_http_edugate_oidc_log_value(r,
                                                      f[F_CLIENT_ID].value,
                                                      f[F_CLIENT_ID].len));
        return ngx_http_edugate_oidc_page(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_client");
    }

    if (!f[F_REDIRECT_URI].seen
        || !eg_oidc_uri_registered(ctx->client->redirect_uris,
                                   ctx->client->nredirect,
                                   f[F_REDIRECT_URI].value,
                                   f[F_REDIRECT_URI].len))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_redirect_uri: \"%s\" is not "
                      "registered for client \"%V\"",
                      ngx_http_edugate_oidc_log_value(r,
                                                   f[F_REDIRECT_URI].value,
                                                   f[F_REDIRECT_URI].len),
                      &ctx->client->id);
        return ngx_http_edugate_oidc_page(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_redirect_uri");
    }

    ctx->redirect_uri.data = f[F_REDIRECT_URI].value;
    ctx->redirect_uri.len = f[F_REDIRECT_URI].len;

    /* state goes back verbatim, unless it cannot be a state at all */

    if (f[F_STATE].seen
        && eg_oidc_printable(f[F_STATE].value, f[F_STATE].len,
                             EG_OIDC_STATE_MAX))
    {
        ctx->state.data = f[F_STATE].value;
        ctx->state.len = f[F_STATE].len;

    } else if (f[F_STATE].seen) {
        return ngx_http_edugate_oidc_authz_error(r, "invalid_request",
                                       "state must be printable ASCII of "
                                       "at most 512 bytes");
    }

    error = ngx_http_edugate_oidc_authz_check(r, az, &description);
    if (error != NULL) {
        return ngx_http_edugate_oidc_authz_error(r, error, description);
    }

    rc = ngx_http_edugate_session_of_request(r,
                                         ngx_http_edugate_oidc_authz_resume);

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    return ngx_http_edugate_oidc_authz_decide(r, rc);
}


/*
 * The request itself, once the redirect URI is trusted: NULL, or the
 * error to send back and its description.
 */

static const char *
ngx_http_edugate_oidc_authz_check(ngx_http_request_t *r,
    ngx_http_edugate_oidc_authz_t *az, const char **description)
{
    u_char                       *p, *last, *start;
    eg_str_t                      bad;
    ngx_int_t                     n;
    eg_form_field_t              *f;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    f = az->f;

    if (!(ctx->client->grants & EG_OIDC_GRANT_CODE)) {
        *description = "this client may not use the authorization code "
                       "grant";
        return "unauthorized_client";
    }

    if (f[F_REQUEST].seen) {
        *description = "request objects are not supported";
        return "request_not_supported";
    }

    if (f[F_REQUEST_URI].seen) {
        *description = "request_uri is not supported";
        return "request_uri_not_supported";
    }

    if (f[F_RESPONSE_MODE].seen
        && (f[F_RESPONSE_MODE].len != 5
            || ngx_strncmp(f[F_RESPONSE_MODE].value, "query", 5) != 0))
    {
        *description = "only response_mode=query is supported";
        return "invalid_request";
    }

    /* checklist row 25: the code flow only */

    if (!f[F_RESPONSE_TYPE].seen) {
        *description = "response_type is missing";
        return "invalid_request";
    }

    if (f[F_RESPONSE_TYPE].len != 4
        || ngx_strncmp(f[F_RESPONSE_TYPE].value, "code", 4) != 0)
    {
        *description = "only response_type=code is supported";
        return "unsupported_response_type";
    }

    /* checklist row 26 */

    if (!f[F_SCOPE].seen
        || eg_oidc_scope_parse(f[F_SCOPE].value, f[F_SCOPE].len,
                               &ctx->scopes, &bad)
           != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_scope: \"%s\" from client \"%V\"",
                      ngx_http_edugate_oidc_log_value(r, f[F_SCOPE].value,
                                                      f[F_SCOPE].len),
                      &ctx->client->id);
        *description = "unknown or malformed scope";
        return "invalid_scope";
    }

    if (ctx->scopes & ~ctx->client->scopes) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_scope: client \"%V\" may not ask "
                      "for \"%s\"", &ctx->client->id,
                      ngx_http_edugate_oidc_log_value(r, f[F_SCOPE].value,
                                                      f[F_SCOPE].len));
        *description = "a scope is not allowed for this client";
        return "invalid_scope";
    }

    /* checklist rows 32-33: S256 only, for every client */

    if (!f[F_CHALLENGE].seen) {
        *description = "code_challenge is required (PKCE)";
        return "invalid_request";
    }

    if (!f[F_METHOD].seen || f[F_METHOD].len != 4
        || ngx_strncmp(f[F_METHOD].value, "S256", 4) != 0)
    {
        *description = "code_challenge_method must be S256";
        return "invalid_request";
    }

    if (!eg_oidc_challenge_ok(f[F_CHALLENGE].value, f[F_CHALLENGE].len)) {
        *description = "code_challenge is malformed";
        return "invalid_request";
    }

    if (f[F_NONCE].seen
        && (f[F_NONCE].len == 0
            || !eg_oidc_printable(f[F_NONCE].value, f[F_NONCE].len,
                                  EG_OIDC_NONCE_MAX)))
    {
        *description = "nonce must be printable ASCII of at "
                       "most 256 bytes";
        return "invalid_request";
    }

    az->max_age = -1;

    if (f[F_MAX_AGE].seen) {
        n = ngx_atoi(f[F_MAX_AGE].value, f[F_MAX_AGE].len);
        if (n == NGX_ERROR) {
            *description = "max_age must be a non-negative integer";
            return "invalid_request";
        }

        az->max_age = n;
    }

    if (f[F_AFTER].seen) {
        n = ngx_atoi(f[F_AFTER].value, f[F_AFTER].len);
        az->after = (n == NGX_ERROR) ? 0 : n;
    }

    if (!f[F_PROMPT].seen) {
        return NULL;
    }

    p = f[F_PROMPT].value;
    last = p + f[F_PROMPT].len;

    while (p < last) {
        start = p;

        while (p < last && *p != ' ') {
            p++;
        }

        if (p - start == 4 && ngx_strncmp(start, "none", 4) == 0) {
            az->prompt_none = 1;

        } else if (p - start == 5 && ngx_strncmp(start, "login", 5) == 0) {
            az->prompt_login = 1;

        } else if (!((p - start == 7 && ngx_strncmp(start, "consent", 7) == 0)
                     || (p - start == 14
                         && ngx_strncmp(start, "select_account", 14) == 0)))
        {
            *description = "unknown prompt value";
            return "invalid_request";
        }

        p++;
    }

    if (az->prompt_none && (az->prompt_login || f[F_PROMPT].len != 4)) {
        *description = "prompt=none cannot be combined";
        return "invalid_request";
    }

    return NULL;
}


static void
ngx_http_edugate_oidc_authz_resume(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, ngx_http_edugate_oidc_authz_decide(r, rc));
}


/* rc: NGX_OK with a session, NGX_DECLINED without, NGX_ERROR */

static ngx_int_t
ngx_http_edugate_oidc_authz_decide(ngx_http_request_t *r, ngx_int_t rc)
{
    time_t                          auth_time;
    ngx_uint_t                      fresh;
    ngx_http_edugate_ctx_t         *ectx;
    ngx_http_edugate_oidc_ctx_t    *ctx;
    ngx_http_edugate_oidc_authz_t  *az;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);
    az = ctx->authz;

    if (rc == NGX_ERROR) {
        if (ectx->store_down) {
            return ngx_http_edugate_oidc_authz_error(r,
                                       "temporarily_unavailable",
                                       "the session store is unavailable");
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    fresh = 1;

    if (rc == NGX_OK) {
        auth_time = (time_t) ectx->identity->auth_time;

        if (az->prompt_login && az->after == 0) {
            fresh = 0;
        }

        if (az->after && auth_time < az->after) {
            fresh = 0;
        }

        if (az->max_age >= 0 && ngx_time() - auth_time > az->max_age
            && (az->after == 0 || auth_time < az->after))
        {
            fresh = 0;
        }
    }

    if (rc == NGX_OK && fresh) {
        return ngx_http_edugate_oidc_issue_code(r, ctx, az);
    }

    if (az->prompt_none) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: login_required: prompt=none from client "
                      "\"%V\" without a %s session", &ctx->client->id,
                      rc == NGX_OK ? "fresh enough" : "");
        return ngx_http_edugate_oidc_authz_error(r, "login_required",
                                   "the person is not signed in");
    }

    return ngx_http_edugate_oidc_authz_login(r, az);
}


/*
 * To the login page and back.  When the client wants a fresh login, the
 * way back carries the time from which a login counts instead of
 * prompt=login, so that the login just made is accepted.
 */

static ngx_int_t
ngx_http_edugate_oidc_authz_login(ngx_http_request_t *r,
    ngx_http_edugate_oidc_authz_t *az)
{
    u_char                             *p, after[NGX_TIME_T_LEN];
    size_t                              len;
    ngx_str_t                           target, location;
    ngx_uint_t                          i, n, fresh;
    eg_oidc_param_t                     params[F_NFIELDS];
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    fresh = az->prompt_login || az->max_age >= 0 || az->after;

    if (!fresh && r->method != NGX_HTTP_POST) {
        target = r->unparsed_uri;

    } else {

        /* a POSTed request comes back as a GET with the same fields */

        n = 0;

        for (i = 0; i < F_NFIELDS; i++) {
            if (!az->f[i].seen
                || (fresh && (i == F_PROMPT || i == F_AFTER)))
            {
                continue;
            }

            params[n].name = az->f[i].name;
            params[n].value.data = az->f[i].value;
            params[n].value.len = az->f[i].len;
            n++;
        }

        if (fresh) {
            params[n].name = NGX_HTTP_EDUGATE_OIDC_AFTER;
            params[n].value.data = after;
            params[n].value.len = ngx_sprintf(after, "%T", ngx_time())
                                  - after;
            n++;
        }

        p = ocf->paths[NGX_HTTP_EDUGATE_OIDC_AUTHORIZE].data;
        len = ocf->paths[NGX_HTTP_EDUGATE_OIDC_AUTHORIZE].len;

        target.data = ngx_pnalloc(r->pool,
                                  eg_oidc_redirect_len(p, len, params, n));
        if (target.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        target.len = eg_oidc_redirect(target.data, p, len, params, n);
    }

    if (ngx_http_edugate_login_location_to(r, &target, &location) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_edugate_redirect(r, &location, "login_required");
}


static ngx_int_t
ngx_http_edugate_oidc_issue_code(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, ngx_http_edugate_oidc_authz_t *az)
{
    char                               *record;
    u_char                              ttl[NGX_TIME_T_LEN];
    size_t                              len[6];
    ngx_str_t                           key;
    const char                         *argv[6];
    eg_oidc_grant_t                    *g;
    ngx_http_edugate_ctx_t             *ectx;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    g = ngx_pcalloc(r->pool, sizeof(eg_oidc_grant_t));
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(g->client_id, ctx->client->id.data, ctx->client->id.len);
    ngx_memcpy(g->redirect_uri, ctx->redirect_uri.data,
               ctx->redirect_uri.len);
    if (az->f[F_NONCE].seen) {
        ngx_memcpy(g->nonce, az->f[F_NONCE].value, az->f[F_NONCE].len);
    }
    ngx_memcpy(g->challenge, az->f[F_CHALLENGE].value, EG_OIDC_CHALLENGE_LEN);
    ngx_memcpy(g->sid_hash, ectx->sid_hash, NGX_HTTP_EDUGATE_HASH_LEN);
    g->scopes = ctx->scopes;
    g->identity = *ectx->identity;

    if (eg_random_b64url(ctx->issued, EG_OIDC_CODE_BYTES) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "edugate: RAND_bytes() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_edugate_oidc_hash_key(r, &key,
                                       NGX_HTTP_EDUGATE_OIDC_CODE_KEY,
                                       ctx->issued, EG_OIDC_CODE_LEN)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    record = eg_oidc_grant_encode(g);
    if (record == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: internal_error: authorization code record "
                      "of \"%s\" not built", g->identity.uid);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (const char *) key.data;
    len[1] = key.len;
    argv[2] = record;
    len[2] = ngx_strlen(record);
    argv[3] = "EX";
    len[3] = 2;
    argv[4] = (const char *) ttl;
    len[4] = ngx_sprintf(ttl, "%T", ocf->code_ttl) - ttl;
    argv[5] = "NX";
    len[5] = 2;

    if (ngx_http_edugate_redis_call(r, ngx_http_edugate_oidc_code_stored, 6,
                                    argv, len)
        == NGX_OK)
    {
        free(record);
        r->main->count++;
        return NGX_DONE;
    }

    free(record);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: temporarily_unavailable: redis is not "
                  "connected, no authorization code issued");

    return ngx_http_edugate_oidc_authz_error(r, "temporarily_unavailable",
                                   "the session store is unavailable");
}


static void
ngx_http_edugate_oidc_code_stored(ngx_http_request_t *r, redisReply *reply)
{
    eg_oidc_param_t               params[3];
    ngx_http_edugate_ctx_t       *ectx;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (reply == NULL || reply->type != REDIS_REPLY_STATUS) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: temporarily_unavailable: authorization "
                      "code not stored");
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_authz_error(r, "temporarily_unavailable",
                                   "the session store is unavailable"));
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: oidc: authorization code of \"%s\" issued to "
                  "client \"%V\"", ectx->identity->uid, &ctx->client->id);

    params[0].name = "code";
    params[0].value.data = ctx->issued;
    params[0].value.len = EG_OIDC_CODE_LEN;

    ngx_http_finalize_request(r,
        ngx_http_edugate_oidc_back(r, params, 1, NULL));
}


/* an error for the client, at the redirect URI checked already */

static ngx_int_t
ngx_http_edugate_oidc_authz_error(ngx_http_request_t *r, const char *error,
    const char *description)
{
    eg_oidc_param_t               params[4];
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: %s: authorization request of client \"%V\": %s",
                  error, &ctx->client->id, description);

    params[0].name = "error";
    params[0].value.data = (u_char *) error;
    params[0].value.len = ngx_strlen(error);
    params[1].name = "error_description";
    params[1].value.data = (u_char *) description;
    params[1].value.len = ngx_strlen(description);

    return ngx_http_edugate_oidc_back(r, params, 2, error);
}


static ngx_int_t
ngx_http_edugate_oidc_back(ngx_http_request_t *r, eg_oidc_param_t *params,
    ngx_uint_t n, const char *code)
{
    ngx_str_t                      location;
    ngx_http_edugate_ctx_t        *ectx;
    ngx_http_edugate_oidc_ctx_t   *ctx;
    ngx_http_edugate_main_conf_t  *emcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    params[n].name = "state";
    params[n].value.data = ctx->state.data;
    params[n].value.len = ctx->state.len;
    n++;

    params[n].name = "iss";
    params[n].value.data = emcf->issuer.data;
    params[n].value.len = emcf->issuer.len;
    n++;

    location.data = ngx_pnalloc(r->pool,
                                eg_oidc_redirect_len(ctx->redirect_uri.data,
                                                     ctx->redirect_uri.len,
                                                     params, n));
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    location.len = eg_oidc_redirect(location.data, ctx->redirect_uri.data,
                                    ctx->redirect_uri.len, params, n);

    if (code != NULL) {
        ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);
        ectx->error.data = (u_char *) code;
        ectx->error.len = ngx_strlen(code);
    }

    return ngx_http_edugate_redirect(r, &location, code);
}
