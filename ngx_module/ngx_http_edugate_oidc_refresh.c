/*
 * Copyright (C) EduGate contributors
 *
 * Refresh tokens (RFC 6749 6) rotate: each use marks the presented token
 * used and hands out its successor in the same family (the grant).  A
 * used token presented again means one of two holders is not the client:
 * the whole family is revoked (RFC 9700 4.14.2).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_oidc.h"
#include "eg_codec.h"


static void ngx_http_edugate_oidc_rotated(ngx_http_request_t *r,
    redisReply *reply);


/*
 * KEYS: presented refresh token, its successor.  ARGV: client,
 * revocation TTL, requested scope bits (0: as granted).
 */
static const char  ngx_http_edugate_oidc_rotate_lua[] =
    "local t = redis.call('HMGET', KEYS[1], 'g', 'c', 'u', 'r', 'x', 's')\n"
    "if not t[1] then return {0} end\n"
    "if t[2] ~= ARGV[1] then return {4} end\n"
    "local rk = 'eg:revoked:grant:' .. t[1]\n"
    "if redis.call('EXISTS', rk) == 1 then return {3} end\n"
    "if t[3] ~= '0' then\n"
    "  redis.call('SET', rk, '1', 'EX', ARGV[2])\n"
    "  return {2, t[1]}\n"
    "end\n"
    "local want = tonumber(ARGV[3])\n"
    "if want ~= 0 and bit.band(tonumber(t[6]), want) ~= want then\n"
    "  return {5}\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'u', '1')\n"
    "redis.call('HSET', KEYS[2], 'g', t[1], 'c', t[2], 'u', '0',\n"
    "           'r', t[4], 'x', t[5], 's', t[6])\n"
    "redis.call('EXPIREAT', KEYS[2], t[5])\n"
    "return {1, t[1], t[4], t[5], t[6]}\n";


ngx_int_t
ngx_http_edugate_oidc_refresh_grant(ngx_http_request_t *r,
    eg_form_field_t *f)
{
    u_char                         rttl[NGX_TIME_T_LEN];
    u_char                         bits[NGX_INT_T_LEN];
    size_t                         len[8];
    eg_str_t                       bad;
    unsigned                       want;
    ngx_str_t                      key, next;
    const char                    *argv[8];
    ngx_http_edugate_oidc_ctx_t   *ctx;
    ngx_http_edugate_main_conf_t  *emcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (!f[T_REFRESH_TOKEN].seen) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: no refresh_token (client "
                      "\"%V\")", &ctx->client->id);
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           "refresh_token is missing");
    }

    if (f[T_REFRESH_TOKEN].len != EG_OIDC_CODE_LEN
        || !eg_is_b64url(f[T_REFRESH_TOKEN].value, f[T_REFRESH_TOKEN].len))
    {
        return ngx_http_edugate_oidc_invalid_grant(r,
                                             "malformed refresh token");
    }

    want = 0;

    if (f[T_SCOPE].seen
        && eg_oidc_scope_parse(f[T_SCOPE].value, f[T_SCOPE].len, &want, &bad)
           != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_scope: \"%s\" in a refresh by "
                      "client \"%V\"",
                      ngx_http_edugate_oidc_log_value(r, f[T_SCOPE].value,
                                                      f[T_SCOPE].len),
                      &ctx->client->id);
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_scope",
                                           "unknown or malformed scope");
    }

    ctx->refreshing = 1;
    ctx->scopes = want;

    if (ngx_http_edugate_oidc_hash_key(r, &key, NGX_HTTP_EDUGATE_OIDC_RT_KEY,
                                       f[T_REFRESH_TOKEN].value,
                                       f[T_REFRESH_TOKEN].len)
        != NGX_OK
        || ngx_http_edugate_oidc_new_refresh(r, ctx, &next) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_oidc_rotate_lua;
    len[1] = sizeof(ngx_http_edugate_oidc_rotate_lua) - 1;
    argv[2] = "2";
    len[2] = 1;
    argv[3] = (const char *) key.data;
    len[3] = key.len;
    argv[4] = (const char *) next.data;
    len[4] = next.len;
    argv[5] = (const char *) ctx->client->id.data;
    len[5] = ctx->client->id.len;
    argv[6] = (const char *) rttl;
    len[6] = ngx_sprintf(rttl, "%T", emcf->grant_ttl) - rttl;
    argv[7] = (const char *) bits;
    len[7] = ngx_sprintf(bits, "%ui", (ngx_uint_t) want) - bits;

    return ngx_http_edugate_oidc_redis(r, ngx_http_edugate_oidc_rotated, 8,
                                       argv, len);
}


static void
ngx_http_edugate_oidc_rotated(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                     n;
    redisReply                  **e;
    eg_oidc_grant_t              *g;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (!ngx_http_edugate_oidc_store_reply(r, reply, REDIS_REPLY_ARRAY,
                                           "refresh token rotation"))
    {
        return;
    }

    e = reply->element;

    if (reply->elements == 0 || e[0]->type != REDIS_REPLY_INTEGER) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    switch (e[0]->integer) {

    case 1:
        break;

    case 2:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_grant: refresh token reused by "
                      "client \"%V\": its whole family is revoked",
                      &ctx->client->id);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_invalid_grant(r,
                                          "refresh token already used"));
        return;

    case 3:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_grant: refresh token of a revoked "
                      "grant (client \"%V\")", &ctx->client->id);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_invalid_grant(r, "the grant is revoked"));
        return;

    case 4:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_grant: refresh token of another "
                      "client presented by client \"%V\"",
                      &ctx->client->id);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_invalid_grant(r,
                               "the refresh token belongs to another client"));
        return;

    case 5:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_scope: refresh by client \"%V\" "
                      "asks for more than was granted", &ctx->client->id);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_scope",
                                        "more scope than was granted"));
        return;

    default:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_grant: unknown or expired refresh "
                      "token (client \"%V\")", &ctx->client->id);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_invalid_grant(r,
                                        "unknown or expired refresh token"));
        return;
    }

    if (reply->elements != 5 || e[1]->type != REDIS_REPLY_STRING
        || e[1]->len != EG_OIDC_GID_LEN || e[2]->type != REDIS_REPLY_STRING
        || e[3]->type != REDIS_REPLY_STRING
        || e[4]->type != REDIS_REPLY_STRING)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    g = ngx_palloc(r->pool, sizeof(eg_oidc_grant_t));
    if (g == NULL
        || eg_oidc_grant_decode(g, e[2]->str, e[2]->len) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: internal_error: unreadable refresh token "
                      "record");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(ctx->gid, e[1]->str, EG_OIDC_GID_LEN);
    ctx->gid[EG_OIDC_GID_LEN] = '\0';
    ctx->grant = g;

    if (ctx->scopes == 0) {
        n = ngx_atoi((u_char *) e[4]->str, e[4]->len);
        ctx->scopes = (n == NGX_ERROR) ? g->scopes : (unsigned) n;
    }

    ctx->with_refresh = 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: oidc: refresh of \"%s\" by client \"%V\" "
                  "(grant %s)", g->identity.uid, &ctx->client->id, ctx->gid);

    ngx_http_finalize_request(r,
                              ngx_http_edugate_oidc_token_response(r, ctx));
}


/* a fresh refresh token in ctx->refresh and the Redis key it will have */

ngx_int_t
ngx_http_edugate_oidc_new_refresh(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, ngx_str_t *key)
{
    if (eg_random_b64url(ctx->refresh, EG_OIDC_CODE_BYTES) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "edugate: RAND_bytes() failed");
        return NGX_ERROR;
    }

    return ngx_http_edugate_oidc_hash_key(r, key,
                                          NGX_HTTP_EDUGATE_OIDC_RT_KEY,
                                          ctx->refresh, EG_OIDC_CODE_LEN);
}
