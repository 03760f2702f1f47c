/*
 * Copyright (C) EduGate contributors
 *
 * Bearer access tokens: edugate_protect accepts "Authorization: Bearer"
 * access tokens (RFC 9068) signed with our keys as well as a session.  A
 * token is verified locally by eg_jwt_verify(); only its revocation is
 * looked up in Redis.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "eg_codec.h"
#include "ngx_http_edugate_redis.h"
#include "eg_jwt.h"


#define NGX_HTTP_EDUGATE_JTI_MAX      128
#define NGX_HTTP_EDUGATE_REVOKED_JTI  "eg:revoked:jti:"


typedef struct {
    const char           *name;
    eg_id_field_e         field;
} ngx_http_edugate_claim_t;


static ngx_int_t ngx_http_edugate_token_identity(ngx_http_request_t *r,
    json_t *claims, eg_identity_t *id, ngx_str_t *key, const char **what);
static ngx_int_t ngx_http_edugate_token_grant_key(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *grant);
static void ngx_http_edugate_claims_cleanup(void *data);
static void ngx_http_edugate_bearer_reply(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_bearer_refuse(ngx_http_edugate_ctx_t *ctx,
    const char *reason);
static ngx_int_t ngx_http_edugate_token_send(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);


/* string claims of an access token and the identity fields they fill */
static ngx_http_edugate_claim_t  ngx_http_edugate_claims[] = {
    { "sub", EG_ID_UID },
    { "name", EG_ID_NAME },
    { "org", EG_ID_ORG },
    { "org_path", EG_ID_ORG_PATH },
    { "level", EG_ID_LEVEL },
    { "school", EG_ID_SCHOOL },
    { "grade", EG_ID_GRADE },
    { "class", EG_ID_CLASS },
    { NULL, 0 }
};


/* what an access token of ours must be, wherever it is presented */

void
ngx_http_edugate_access_policy(ngx_http_request_t *r,
    eg_jwt_policy_t *policy)
{
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    ngx_memzero(policy, sizeof(eg_jwt_policy_t));
    policy->algs = EG_JWT_ALGS_ALL;
    policy->iss = (const char *) emcf->issuer.data;
    policy->aud = (const char *) emcf->token_audience.data;
    policy->typ = "at+jwt";
    policy->leeway = emcf->token_leeway;
    policy->now = ngx_time();
}


/*
 * NGX_OK if the request carries "Authorization: Bearer ...", whatever
 * follows the scheme.  nginx has already refused a second Authorization
 * header.
 */

ngx_int_t
ngx_http_edugate_bearer_token(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL || h->value.len < 6
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer", 6) != 0)
    {
        return NGX_DECLINED;
    }

    p = h->value.data + 6;
    last = h->value.data + h->value.len;

    if (p < last && *p != ' ' && *p != '\t') {
        return NGX_DECLINED;
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (token != NULL) {
        token->data = p;
        token->len = last - p;
    }

    return NGX_OK;
}


/*
 * As ngx_http_edugate_session_lookup(): NGX_OK with ctx->identity set,
 * NGX_AGAIN while Redis is asked, NGX_DECLINED for a token that is refused
 * (ctx->error and ctx->token_error set), NGX_ERROR otherwise.
 */

ngx_int_t
ngx_http_edugate_bearer_lookup(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx, ngx_str_t *token,
    ngx_http_edugate_session_handler_pt handler)
{
    u_char                         hash[NGX_HTTP_EDUGATE_HASH_LEN];
    size_t                         len[3];
    json_t                        *claims;
    ngx_int_t                      rc;
    ngx_str_t                      key, grant;
    ngx_uint_t                     client;
    const char                    *argv[3], *what, *gty;
    ngx_pool_cleanup_t            *cln;
    eg_jwt_rc_e                    jrc;
    eg_identity_t                 *id;
    eg_jwt_policy_t                policy;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (emcf->keyset == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_token: %s: no signing keys "
                      "configured", eg_jwt_rc_name(EG_JWT_UNKNOWN_KID));
        return ngx_http_edugate_bearer_refuse(ctx,
                                       eg_jwt_rc_name(EG_JWT_UNKNOWN_KID));
    }

    /*
     * A token without "jti" cannot be revoked: once verified it is the
     * same identity until it expires, so a worker keeps it for the session
     * cache time instead of checking the signature on every request.
     */

    if (eg_sha256_hex(hash, token->data, token->len) != 0) {
        return NGX_ERROR;
    }

    rc = ngx_http_edugate_cache_get(r, hash, &ctx->identity);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ngx_http_edugate_access_policy(r, &policy);

    jrc = eg_jwt_verify(emcf->keyset, &policy, (const char *) token->data,
                        token->len, &claims);

    if (jrc != EG_JWT_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_token: %s", eg_jwt_rc_name(jrc));
        return ngx_http_edugate_bearer_refuse(ctx, eg_jwt_rc_name(jrc));
    }

    id = ngx_pcalloc(r->pool, sizeof(eg_identity_t));
    if (id == NULL) {
        json_decref(claims);
        return NGX_ERROR;
    }

    ngx_str_null(&key);
    ngx_str_null(&grant);
    what = NULL;

    rc = ngx_http_edugate_token_identity(r, claims, id, &key, &what);

    if (rc == NGX_OK && key.len) {
        rc = ngx_http_edugate_token_grant_key(r, &key, &grant);
    }

    gty = json_string_value(json_object_get(claims, "gty"));
    client = (gty != NULL && ngx_strcmp(gty, "client_credentials") == 0);

    /* the userinfo endpoint answers with the claims themselves */

    if (rc == NGX_OK && ctx->keep_claims) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            json_decref(claims);
            return NGX_ERROR;
        }

        cln->handler = ngx_http_edugate_claims_cleanup;
        cln->data = claims;
        ctx->claims = claims;

    } else {
        json_decref(claims);
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_token: %s: claim \"%s\" is "
                      "missing or unusable", eg_jwt_rc_name(EG_JWT_MALFORMED),
                      what);
        return ngx_http_edugate_bearer_refuse(ctx,
                                       eg_jwt_rc_name(EG_JWT_MALFORMED));
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->identity = id;

    /*
     * A client's own token (client_credentials) names no person: it is
     * never cached as one, and only locations that list the client take it.
     */

    ctx->client_token = client;

    if (key.len == 0) {
        if (!client) {
            ngx_http_edugate_cache_put(hash, id);
        }

        return NGX_OK;
    }

    /* one round trip: the token itself or its whole grant revoked */

    argv[0] = "EXISTS";
    len[0] = 6;
    argv[1] = (const char *) key.data;
    len[1] = key.len;
    argv[2] = (const char *) grant.data;
    len[2] = grant.len;

    ctx->session_handler = handler;

    rc = ngx_http_edugate_redis_call(r, ngx_http_edugate_bearer_reply,
                                     grant.len ? 3 : 2, argv, len);
    if (rc == NGX_OK) {
        return NGX_AGAIN;
    }

    ctx->identity = NULL;

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: "
                      "redis is not connected");
        ctx->store_down = 1;
        ngx_str_set(&ctx->error, "session_store_unavailable");
    }

    return NGX_ERROR;
}


/*
 * The identity the token's claims describe, and the Redis key that marks
 * its "jti" as revoked (empty without a jti).  A claim of the wrong type
 * or with a value no session could hold refuses the whole token; *what
 * names it.
 */

static ngx_int_t
ngx_http_edugate_token_identity(ngx_http_request_t *r, json_t *claims,
    eg_identity_t *id, ngx_str_t *key, const char **what)
{
    u_char                    *p;
    size_t                     i, n;
    json_t                    *v, *role;
    const char                *s;
    ngx_http_edugate_claim_t  *c;

    for (c = ngx_http_edugate_claims; c->name; c++) {
        v = json_object_get(claims, c->name);

        *what = c->name;

        if (v == NULL || json_is_null(v)) {
            if (c->field == EG_ID_UID) {
                return NGX_DECLINED;
            }

            continue;
        }

        if (!json_is_string(v)
            || (c->field == EG_ID_UID && json_string_length(v) == 0)
            || eg_identity_set(id, c->field, json_string_value(v),
                               json_string_length(v))
               != 0)
        {
            return NGX_DECLINED;
        }
    }

    *what = "roles";

    v = json_object_get(claims, "roles");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_array(v)) {
            return NGX_DECLINED;
        }

        json_array_foreach(v, i, role) {
            if (!json_is_string(role)
                || eg_identity_set(id, EG_ID_ROLES, json_string_value(role),
                                   json_string_length(role))
                   != 0)
            {
                return NGX_DECLINED;
            }
        }
    }

    id->expires = json_integer_value(json_object_get(claims, "exp"));

    *what = "jti";

    v = json_object_get(claims, "jti");

    if (v == NULL) {
        return NGX_OK;
    }

    /* printable ASCII: the value becomes part of a Redis key and a log */

    s = json_string_value(v);
    n = json_string_length(v);

    if (s == NULL || n == 0 || n > NGX_HTTP_EDUGATE_JTI_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        if ((u_char) s[i] <= ' ' || (u_char) s[i] >= 0x7f) {
            return NGX_DECLINED;
        }
    }

    key->len = sizeof(NGX_HTTP_EDUGATE_REVOKED_JTI) - 1 + n;
    key->data = ngx_pnalloc(r->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, NGX_HTTP_EDUGATE_REVOKED_JTI,
                   sizeof(NGX_HTTP_EDUGATE_REVOKED_JTI) - 1);
    ngx_memcpy(p, s, n);

    return NGX_OK;
}


/*
 * Tokens of the OIDC provider carry jti = <grant id>.<random>: revoking
 * the grant (logout, refresh token reuse, code replay) revokes them all.
 */

static ngx_int_t
ngx_http_edugate_token_grant_key(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *grant)
{
    u_char  *jti, *dot;
    size_t   n;

    jti = key->data + sizeof(NGX_HTTP_EDUGATE_REVOKED_JTI) - 1;
    n = key->len - (sizeof(NGX_HTTP_EDUGATE_REVOKED_JTI) - 1);

    dot = ngx_strlchr(jti, jti + n, '.');
    if (dot == NULL || dot == jti) {
        return NGX_OK;
    }

    grant->len = sizeof(NGX_HTTP_EDUGATE_REVOKED_GRANT) - 1 + (dot - jti);
    grant->data = ngx_pnalloc(r->pool, grant->len);
    if (grant->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(grant->data, NGX_HTTP_EDUGATE_REVOKED_GRANT,
                          sizeof(NGX_HTTP_EDUGATE_REVOKED_GRANT) - 1),
               jti, dot - jti);

    return NGX_OK;
}


static void
ngx_http_edugate_claims_cleanup(void *data)
{
    json_decref(data);
}


static void
ngx_http_edugate_bearer_reply(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                rc;
    ngx_http_edugate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "edugate: session_store_unavailable: %*s",
                          (size_t) reply->len, reply->str);

        } else if (reply != NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "edugate: session_store_unavailable: "
                          "unexpected reply to EXISTS");
        }

        ctx->identity = NULL;
        ctx->store_down = 1;
        ngx_str_set(&ctx->error, "session_store_unavailable");
        rc = NGX_ERROR;

    } else if (reply->integer != 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_token: revoked: access token of "
                      "\"%s\"", ctx->identity->uid);
        rc = ngx_http_edugate_bearer_refuse(ctx, "revoked");

    } else {
        rc = NGX_OK;
    }

    ctx->session_handler(r, rc);
}


static ngx_int_t
ngx_http_edugate_bearer_refuse(ngx_http_edugate_ctx_t *ctx,
    const char *reason)
{
    ctx->identity = NULL;
    ctx->token_error = reason;
    ngx_str_set(&ctx->error, "invalid_token");

    return NGX_DECLINED;
}


/*
 * A program that sent a token gets JSON and, for a refused token, the
 * RFC 6750 challenge; it is never sent to the login page.
 */

ngx_int_t
ngx_http_edugate_bearer_error(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx, ngx_uint_t status, const char *code)
{
    u_char           *body, *p;
    size_t            len;
    ngx_uint_t        i;
    const char       *reason, *msg;
    ngx_table_elt_t  *h;

    static const char  *headers[][2] = {
        { "Cache-Control", "no-store" },
        { "Pragma", "no-cache" },
        { "X-Frame-Options", "DENY" },
        { "X-Content-Type-Options", "nosniff" },
        { NULL, NULL }
    };

    if (status != NGX_HTTP_UNAUTHORIZED) {
        return ngx_http_edugate_send_error(r, status, code, NULL);
    }

    reason = ctx->token_error ? ctx->token_error : "error";

    msg = ngx_http_edugate_wants_english(r)
          ? "The access token is not valid."
          : "访问令牌无效。";

    for (i = 0; headers[i][0]; i++) {
        if (ngx_http_edugate_add_header(r, headers[i][0], headers[i][1])
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_edugate_add_header(r, "X-Edugate-Error", code) == NULL) {
        return NGX_ERROR;
    }

    h = ngx_http_edugate_add_header(r, "WWW-Authenticate", NULL);
    if (h == NULL) {
        return NGX_ERROR;
    }

    len = sizeof("Bearer error=\"\", error_description=\"\"") - 1
          + ngx_strlen(code) + ngx_strlen(reason);

    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data,
                               "Bearer error=\"%s\", error_description=\"%s\"",
                               code, reason)
                   - h->value.data;

    len = sizeof("{\"error\":\"\",\"error_description\":\"\","
                 "\"message\":\"\"}") - 1
          + ngx_strlen(code) + ngx_strlen(reason) + ngx_strlen(msg);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(body, "{\"error\":\"%s\",\"error_description\":\"%s\","
                    "\"message\":\"%s\"}", code, reason, msg);

    return ngx_http_edugate_token_send(r, status, body, p - body);
}


static ngx_int_t
ngx_http_edugate_token_send(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    static ngx_str_t  type = ngx_string("application/json");

    r->headers_out.status = status;

    return ngx_http_edugate_send_body(r, &type, body, len);
}
