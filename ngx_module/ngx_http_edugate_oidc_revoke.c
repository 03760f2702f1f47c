/*
 * Copyright (C) EduGate contributors
 *
 * The userinfo endpoint (OpenID Connect Core 5.3) and token revocation
 * (RFC 7009).  Userinfo reads the same access tokens edugate_protect
 * accepts, with the same revocation check; it answers with the person's
 * claims the token carries, which follow the granted scopes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_oidc.h"
#include "eg_codec.h"


static void ngx_http_edugate_oidc_userinfo_resume(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_edugate_oidc_userinfo_answer(ngx_http_request_t *r,
    ngx_int_t rc);
static void ngx_http_edugate_oidc_revoke_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_edugate_oidc_revoke_access(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, ngx_str_t *token);
static void ngx_http_edugate_oidc_revoked(ngx_http_request_t *r,
    redisReply *reply);


/*
 * KEYS: refresh token.  ARGV: client, revocation TTL.  Revoking a refresh
 * token revokes its grant: RFC 7009 2.1 asks that access tokens of the
 * same grant go too.
 */
static const char  ngx_http_edugate_oidc_revoke_lua[] =
    "local t = redis.call('HMGET', KEYS[1], 'g', 'c')\n"
    "if not t[1] then return 0 end\n"
    "if t[2] ~= ARGV[1] then return -1 end\n"
    "redis.call('SET', 'eg:revoked:grant:' .. t[1], '1', 'EX', ARGV[2])\n"
    "redis.call('DEL', KEYS[1])\n"
    "return 1\n";


/* claims of an access token that describe the person */
static const char  *ngx_http_edugate_oidc_person[] = {
    "sub", "name", "preferred_username", "roles", "org", "org_path",
    "level", "school", "grade", "class", NULL
};


ngx_int_t
ngx_http_edugate_oidc_userinfo_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_str_t                token;
    ngx_http_edugate_ctx_t  *ectx;

    rc = ngx_http_edugate_oidc_start(r, NGX_HTTP_GET|NGX_HTTP_HEAD
                                        |NGX_HTTP_POST,
                                     "the userinfo endpoint");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (ngx_http_edugate_bearer_token(r, &token) != NGX_OK
        || token.len == 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_token: no bearer token at the "
                      "userinfo endpoint");
        ectx->token_error = "missing";
        ngx_str_set(&ectx->error, "invalid_token");
        return ngx_http_edugate_bearer_error(r, ectx, NGX_HTTP_UNAUTHORIZED,
                                             "invalid_token");
    }

    ectx->keep_claims = 1;
    ectx->bearer = 1;

    rc = ngx_http_edugate_bearer_lookup(r, ectx, &token,
                                        ngx_http_edugate_oidc_userinfo_resume);

    if (rc == NGX_AGAIN) {
        r->main->count++;
        return NGX_DONE;
    }

    return ngx_http_edugate_oidc_userinfo_answer(r, rc);
}


static void
ngx_http_edugate_oidc_userinfo_resume(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r,
                              ngx_http_edugate_oidc_userinfo_answer(r, rc));
}


static ngx_int_t
ngx_http_edugate_oidc_userinfo_answer(ngx_http_request_t *r, ngx_int_t rc)
{
    json_t                  *out, *v;
    ngx_uint_t               i;
    const char              *scope;
    ngx_http_edugate_ctx_t  *ectx;

    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (rc == NGX_ERROR && ectx->store_down) {
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "temporarily_unavailable",
                                           "the session store is "
                                           "unavailable");
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK || ectx->claims == NULL) {
        if (ectx->token_error == NULL) {
            ectx->token_error = "not_an_access_token";
        }

        ngx_str_set(&ectx->error, "invalid_token");

        return ngx_http_edugate_bearer_error(r, ectx, NGX_HTTP_UNAUTHORIZED,
                                             "invalid_token");
    }

    /* userinfo is part of OpenID Connect: the openid scope is needed */

    scope = json_string_value(json_object_get(ectx->claims, "scope"));

    if (scope == NULL || ngx_strncmp(scope, "openid", 6) != 0
        || (scope[6] != '\0' && scope[6] != ' '))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: insufficient_scope: userinfo with an "
                      "access token without the openid scope");
        ectx->token_error = "openid scope needed";
        ngx_str_set(&ectx->error, "insufficient_scope");
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_FORBIDDEN,
                                           "insufficient_scope",
                                           "the openid scope is needed");
    }

    out = json_object();
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; ngx_http_edugate_oidc_person[i]; i++) {
        v = json_object_get(ectx->claims, ngx_http_edugate_oidc_person[i]);

        if (v != NULL
            && json_object_set(out, ngx_http_edugate_oidc_person[i], v) != 0)
        {
            json_decref(out);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_edugate_oidc_json_doc(r, NGX_HTTP_OK, out);
}


ngx_int_t
ngx_http_edugate_oidc_revoke_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_edugate_oidc_start(r, NGX_HTTP_POST,
                                     "the revocation endpoint");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_edugate_oidc_read_body(r,
                                           ngx_http_edugate_oidc_revoke_body);
}


static void
ngx_http_edugate_oidc_revoke_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char                         ttl[NGX_TIME_T_LEN];
    size_t                         len[6];
    ngx_int_t                      rc;
    ngx_str_t                      token, key;
    const char                    *argv[6];
    eg_form_field_t                f[4];
    ngx_http_edugate_oidc_ctx_t   *ctx;
    ngx_http_edugate_main_conf_t  *emcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    ngx_memzero(f, sizeof(f));
    f[0].name = "token";
    f[1].name = "token_type_hint";
    f[2].name = "client_id";
    f[3].name = "client_secret";

    if (ngx_http_edugate_oidc_client_form(r, body, f, 4, &rc) != NGX_OK) {
        goto done;
    }

    if (!f[0].seen || f[0].len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: revocation without a "
                      "token (client \"%V\")", &ctx->client->id);
        rc = ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "token is missing");
        goto done;
    }

    token.data = f[0].value;
    token.len = f[0].len;

    /* the hint only speeds up a search; the token's shape decides */

    if (ngx_strlchr(token.data, token.data + token.len, '.') != NULL) {
        rc = ngx_http_edugate_oidc_revoke_access(r, ctx, &token);
        goto done;
    }

    if (token.len != EG_OIDC_CODE_LEN || !eg_is_b64url(token.data, token.len))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: oidc: revocation of an unknown token by "
                      "client \"%V\"", &ctx->client->id);
        rc = ngx_http_edugate_oidc_json(r, NGX_HTTP_OK, NULL, 0);
        goto done;
    }

    if (ngx_http_edugate_oidc_hash_key(r, &key, NGX_HTTP_EDUGATE_OIDC_RT_KEY,
                                       token.data, token.len)
        != NGX_OK)
    {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_oidc_revoke_lua;
    len[1] = sizeof(ngx_http_edugate_oidc_revoke_lua) - 1;
    argv[2] = "1";
    len[2] = 1;
    argv[3] = (const char *) key.data;
    len[3] = key.len;
    argv[4] = (const char *) ctx->client->id.data;
    len[4] = ctx->client->id.len;
    argv[5] = (const char *) ttl;
    len[5] = ngx_sprintf(ttl, "%T", emcf->grant_ttl) - ttl;

    rc = ngx_http_edugate_oidc_redis(r, ngx_http_edugate_oidc_revoked, 6,
                                     argv, len);

done:

    ngx_http_finalize_request(r, rc);
}


/*
 * An access token is revoked by its jti until it would expire anyway.  An
 * expired or foreign token needs nothing: RFC 7009 2.2 answers 200.
 */

static ngx_int_t
ngx_http_edugate_oidc_revoke_access(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, ngx_str_t *token)
{
    u_char                        *p, ttl[NGX_TIME_T_LEN];
    size_t                         len[5], n;
    json_t                        *claims;
    time_t                         exp;
    ngx_str_t                      key;
    const char                    *argv[5], *client, *jti;
    eg_jwt_rc_e                    jrc;
    eg_jwt_policy_t                policy;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    ngx_http_edugate_access_policy(r, &policy);

    jrc = eg_jwt_verify(emcf->keyset, &policy, (const char *) token->data,
                        token->len, &claims);

    if (jrc != EG_JWT_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: oidc: revocation of an unusable access "
                      "token (%s) by client \"%V\"", eg_jwt_rc_name(jrc),
                      &ctx->client->id);
        return ngx_http_edugate_oidc_json(r, NGX_HTTP_OK, NULL, 0);
    }

    client = json_string_value(json_object_get(claims, "client_id"));
    jti = json_string_value(json_object_get(claims, "jti"));
    exp = (time_t) json_integer_value(json_object_get(claims, "exp"));

    if (client == NULL || ngx_strlen(client) != ctx->client->id.len
        || ngx_memcmp(client, ctx->client->id.data, ctx->client->id.len)
           != 0)
    {
        json_decref(claims);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: unauthorized_client: client \"%V\" tried "
                      "to revoke another client's access token",
                      &ctx->client->id);
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                           "unauthorized_client",
                                           "the token belongs to another "
                                           "client");
    }

    n = jti ? ngx_strlen(jti) : 0;

    if (n == 0 || n > 128) {
        json_decref(claims);
        return ngx_http_edugate_oidc_json(r, NGX_HTTP_OK, NULL, 0);
    }

    key.len = sizeof("eg:revoked:jti:") - 1 + n;
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        json_decref(claims);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(key.data, "eg:revoked:jti:", sizeof("eg:revoked:jti:") - 1);
    ngx_memcpy(p, jti, n);

    json_decref(claims);

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (const char *) key.data;
    len[1] = key.len;
    argv[2] = "1";
    len[2] = 1;
    argv[3] = "EX";
    len[3] = 2;
    argv[4] = (const char *) ttl;
    len[4] = ngx_sprintf(ttl, "%T", ngx_max(exp - ngx_time(), 0)
                                    + emcf->token_leeway + 1)
             - ttl;

    return ngx_http_edugate_oidc_redis(r, ngx_http_edugate_oidc_revoked, 5,
                                       argv, len);
}


static void
ngx_http_edugate_oidc_revoked(ngx_http_request_t *r, redisReply *reply)
{
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER
        && reply->integer == -1)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: unauthorized_client: client \"%V\" tried "
                      "to revoke another client's refresh token",
                      &ctx->client->id);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                        "unauthorized_client",
                                        "the token belongs to another "
                                        "client"));
        return;
    }

    if (reply == NULL
        || (reply->type != REDIS_REPLY_INTEGER
            && reply->type != REDIS_REPLY_STATUS))
    {
        (void) ngx_http_edugate_oidc_store_reply(r, reply,
                                                 REDIS_REPLY_INTEGER,
                                                 "token revocation");
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: oidc: token revoked by client \"%V\"",
                  &ctx->client->id);

    ngx_http_finalize_request(r, ngx_http_edugate_oidc_json(r, NGX_HTTP_OK,
                                                            NULL, 0));
}
