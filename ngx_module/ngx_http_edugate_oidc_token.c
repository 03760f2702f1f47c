/*
 * Copyright (C) EduGate contributors
 *
 * The token endpoint (RFC 6749 3.2, 4.1.3, 6; RFC 7636 4.6).
 *
 * A code is taken out of Redis by the first redemption that reaches it,
 * whatever becomes of that redemption, and leaves a marker naming the
 * grant it started; a second redemption finds the marker and revokes the
 * grant, so tokens issued to whoever redeemed first stop working too.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_oidc.h"
#include "eg_codec.h"




static void ngx_http_edugate_oidc_token_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_edugate_oidc_code_grant(ngx_http_request_t *r,
    eg_form_field_t *f);
static void ngx_http_edugate_oidc_code_taken(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_oidc_code_check(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, redisReply *record);
static ngx_int_t ngx_http_edugate_oidc_record(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx);
static void ngx_http_edugate_oidc_recorded(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_oidc_client_grant(ngx_http_request_t *r,
    eg_form_field_t *f);
static ngx_int_t ngx_http_edugate_oidc_unauthorized(ngx_http_request_t *r);


/* KEYS: code, used marker.  ARGV: grant id, marker TTL, revocation TTL */
static const char  ngx_http_edugate_oidc_take_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])\n"
    "  return {1, v}\n"
    "end\n"
    "local g = redis.call('GET', KEYS[2])\n"
    "if g then\n"
    "  redis.call('SET', 'eg:revoked:grant:' .. g, '1', 'EX', ARGV[3])\n"
    "  return {2, g}\n"
    "end\n"
    "return {0}\n";

/*
 * KEYS: session, participants[, refresh token].  ARGV: grant id,
 * back-channel client or "", participants TTL, client, grant record,
 * family end (unix time), scope bits.  A replay racing this redemption
 * may have revoked the grant already: the tokens are then issued dead,
 * so that exactly one redemption succeeds and none of them works.
 */
static const char  ngx_http_edugate_oidc_record_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('SADD', KEYS[2], 'grant ' .. ARGV[1])\n"
    "if ARGV[2] ~= '' then\n"
    "  redis.call('SADD', KEYS[2], 'oidc ' .. ARGV[2])\n"
    "end\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[3])\n"
    "if KEYS[3] then\n"
    "  redis.call('HSET', KEYS[3], 'g', ARGV[1], 'c', ARGV[4], 'u', '0',\n"
    "             'r', ARGV[5], 'x', ARGV[6], 's', ARGV[7])\n"
    "  redis.call('EXPIREAT', KEYS[3], ARGV[6])\n"
    "end\n"
    "return 1\n";


ngx_int_t
ngx_http_edugate_oidc_token_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_edugate_oidc_start(r, NGX_HTTP_POST,
                                     "the token endpoint");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_edugate_oidc_read_body(r,
                                           ngx_http_edugate_oidc_token_body);
}


static void
ngx_http_edugate_oidc_token_body(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    eg_form_field_t              *f;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    static const char  *names[] = {
        "grant_type", "code", "redirect_uri", "code_verifier",
        "refresh_token", "scope", "client_id", "client_secret"
    };

    f = ngx_pcalloc(r->pool, T_NFIELDS * sizeof(eg_form_field_t));
    if (f == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 0; i < T_NFIELDS; i++) {
        f[i].name = names[i];
    }

    if (ngx_http_edugate_oidc_client_form(r, body, f, T_NFIELDS, &rc)
        != NGX_OK)
    {
        goto done;
    }

    if (!f[T_GRANT_TYPE].seen) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: no grant_type");
        rc = ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "grant_type is missing");
        goto done;
    }

    if ((f[T_GRANT_TYPE].len == 18
         && ngx_strncmp(f[T_GRANT_TYPE].value, "authorization_code", 18)
            == 0)
        || (f[T_GRANT_TYPE].len == 13
            && ngx_strncmp(f[T_GRANT_TYPE].value, "refresh_token", 13) == 0))
    {
        ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

        if (!(ctx->client->grants & EG_OIDC_GRANT_CODE)) {
            rc = ngx_http_edugate_oidc_unauthorized(r);
            goto done;
        }

        rc = (f[T_GRANT_TYPE].len == 18)
             ? ngx_http_edugate_oidc_code_grant(r, f)
             : ngx_http_edugate_oidc_refresh_grant(r, f);
        goto done;
    }

    if (f[T_GRANT_TYPE].len == 18
        && ngx_strncmp(f[T_GRANT_TYPE].value, "client_credentials", 18) == 0)
    {
        rc = ngx_http_edugate_oidc_client_grant(r, f);
        goto done;
    }

    /* checklist row 25: password, implicit, device code ... */

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: unsupported_grant_type: \"%s\"",
                  ngx_http_edugate_oidc_log_value(r, f[T_GRANT_TYPE].value,
                                                  f[T_GRANT_TYPE].len));

    rc = ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                     "unsupported_grant_type",
                                     "only authorization_code and "
                                     "refresh_token are supported");

done:

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_edugate_oidc_code_grant(ngx_http_request_t *r, eg_form_field_t *f)
{
    u_char                             ttl[NGX_TIME_T_LEN];
    u_char                             rttl[NGX_TIME_T_LEN];
    size_t                             len[8];
    ngx_str_t                          key, used;
    const char                        *argv[8];
    ngx_http_edugate_oidc_ctx_t       *ctx;
    ngx_http_edugate_main_conf_t      *emcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (!f[T_CODE].seen || !f[T_REDIRECT_URI].seen || !f[T_VERIFIER].seen) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: code, redirect_uri and "
                      "code_verifier are required (client \"%V\")",
                      &ctx->client->id);
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           "code, redirect_uri and "
                                           "code_verifier are required");
    }

    /* checklist row 38: a CAS ticket or a refresh token is no code */

    if (f[T_CODE].len != EG_OIDC_CODE_LEN
        || !eg_is_b64url(f[T_CODE].value, f[T_CODE].len))
    {
        return ngx_http_edugate_oidc_invalid_grant(r, "malformed code");
    }

    ctx->redirect_uri.data = f[T_REDIRECT_URI].value;
    ctx->redirect_uri.len = f[T_REDIRECT_URI].len;
    ctx->artifact.data = f[T_VERIFIER].value;
    ctx->artifact.len = f[T_VERIFIER].len;

    if (eg_random_b64url(ctx->gid, EG_OIDC_GID_BYTES) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_edugate_oidc_hash_key(r, &key,
                                       NGX_HTTP_EDUGATE_OIDC_CODE_KEY,
                                       f[T_CODE].value, f[T_CODE].len)
        != NGX_OK
        || ngx_http_edugate_oidc_hash_key(r, &used,
                                          NGX_HTTP_EDUGATE_OIDC_USED_KEY,
                                          f[T_CODE].value, f[T_CODE].len)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_oidc_take_lua;
    len[1] = sizeof(ngx_http_edugate_oidc_take_lua) - 1;
    argv[2] = "2";
    len[2] = 1;
    argv[3] = (const char *) key.data;
    len[3] = key.len;
    argv[4] = (const char *) used.data;
    len[4] = used.len;
    argv[5] = (const char *) ctx->gid;
    len[5] = EG_OIDC_GID_LEN;
    argv[6] = (const char *) ttl;
    len[6] = ngx_sprintf(ttl, "%T", emcf->grant_ttl) - ttl;
    argv[7] = (const char *) rttl;
    len[7] = ngx_sprintf(rttl, "%T", emcf->grant_ttl) - rttl;

    return ngx_http_edugate_oidc_redis(r, ngx_http_edugate_oidc_code_taken,
                                       8, argv, len);
}


static void
ngx_http_edugate_oidc_code_taken(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                     rc;
    redisReply                   *kind;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (!ngx_http_edugate_oidc_store_reply(r, reply, REDIS_REPLY_ARRAY,
                                           "code redemption"))
    {
        return;
    }

    kind = reply->elements ? reply->element[0] : NULL;

    if (kind == NULL || kind->type != REDIS_REPLY_INTEGER) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (kind->integer == 2 && reply->elements == 2
        && reply->element[1]->type == REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_grant: authorization code replayed "
                      "by client \"%V\": grant %*s revoked",
                      &ctx->client->id,
                      ngx_min((size_t) reply->element[1]->len,
                              EG_OIDC_GID_LEN),
                      reply->element[1]->str);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_invalid_grant(r, "code already used"));
        return;
    }

    if (kind->integer != 1 || reply->elements != 2
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_grant: unknown or expired code from "
                      "client \"%V\"", &ctx->client->id);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_invalid_grant(r,
                                         "unknown or expired code"));
        return;
    }

    rc = ngx_http_edugate_oidc_code_check(r, ctx, reply->element[1]);

    rc = (rc == NGX_OK) ? ngx_http_edugate_oidc_record(r, ctx)
                        : ngx_http_edugate_oidc_refusal(r, rc);

    ngx_http_finalize_request(r, rc);
}


/*
 * Checklist rows 33 and 36: the code is this client's, at this URI.
 * NGX_OK, NGX_DECLINED (the refusal noted) or NGX_ERROR.
 */

static ngx_int_t
ngx_http_edugate_oidc_code_check(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, redisReply *record)
{
    int               rc;
    eg_oidc_grant_t  *g;

    g = ngx_palloc(r->pool, sizeof(eg_oidc_grant_t));
    if (g == NULL) {
        return NGX_ERROR;
    }

    if (eg_oidc_grant_decode(g, record->str, record->len) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: invalid_grant: unreadable code record");
        return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_grant", "unusable code");
    }

    if (ngx_strlen(g->client_id) != ctx->client->id.len
        || ngx_memcmp(g->client_id, ctx->client->id.data,
                      ctx->client->id.len)
           != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_grant: code of client \"%s\" "
                      "presented by client \"%V\"", g->client_id,
                      &ctx->client->id);
        return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_grant",
                                     "the code was issued to another client");
    }

    if (ngx_strlen(g->redirect_uri) != ctx->redirect_uri.len
        || ngx_memcmp(g->redirect_uri, ctx->redirect_uri.data,
                      ctx->redirect_uri.len)
           != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_grant: redirect_uri differs from "
                      "the authorization request (client \"%V\")",
                      &ctx->client->id);
        return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_grant",
                                             "redirect_uri does not match");
    }

    rc = eg_oidc_pkce_verify(ctx->artifact.data, ctx->artifact.len,
                             g->challenge);
    if (rc != 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_grant: PKCE verifier %s (client "
                      "\"%V\")", rc == -1 ? "malformed" : "does not match",
                      &ctx->client->id);
        return ngx_http_edugate_oidc_refuse(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_grant",
                                        "code_verifier does not match");
    }

    ctx->grant = g;
    ctx->scopes = g->scopes;
    ctx->with_refresh = (g->scopes & EG_OIDC_SCOPE_OFFLINE) != 0;

    return NGX_OK;
}


/*
 * The grant joins its session, so that a logout anywhere revokes it, and
 * its first refresh token is stored.  A session that has ended since the
 * code was issued takes its grant with it.
 */

static ngx_int_t
ngx_http_edugate_oidc_record(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx)
{
    int                                argc;
    char                              *record;
    u_char                             sess[NGX_HTTP_EDUGATE_SESSION_KEY_LEN];
    u_char                             ttl[NGX_TIME_T_LEN];
    u_char                             end[NGX_TIME_T_LEN];
    u_char                             bits[NGX_INT_T_LEN];
    size_t                             len[15];
    ngx_int_t                          rc;
    ngx_str_t                          rp, rt;
    const char                        *argv[15];
    ngx_http_edugate_main_conf_t      *emcf;
    ngx_http_edugate_oidc_main_conf_t *ocf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);
    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    rp.len = sizeof(NGX_HTTP_EDUGATE_RP_KEY) - 1 + NGX_HTTP_EDUGATE_HASH_LEN;
    rp.data = ngx_pnalloc(r->pool, rp.len);

    if (rp.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ngx_cpymem(rp.data, NGX_HTTP_EDUGATE_RP_KEY,
                          sizeof(NGX_HTTP_EDUGATE_RP_KEY) - 1),
               ctx->grant->sid_hash, NGX_HTTP_EDUGATE_HASH_LEN);

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_oidc_record_lua;
    len[1] = sizeof(ngx_http_edugate_oidc_record_lua) - 1;
    argv[2] = ctx->with_refresh ? "3" : "2";
    len[2] = 1;
    argv[3] = (const char *) sess;
    len[3] = ngx_http_edugate_session_key(sess,
                                          (u_char *) ctx->grant->sid_hash);
    argv[4] = (const char *) rp.data;
    len[4] = rp.len;

    argc = 5;
    record = NULL;

    if (ctx->with_refresh) {
        if (ngx_http_edugate_oidc_new_refresh(r, ctx, &rt) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        argv[argc] = (const char *) rt.data;
        len[argc++] = rt.len;

        record = eg_oidc_grant_encode(ctx->grant);
        if (record == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->family_end = ngx_time() + ocf->refresh_ttl;
    }

    argv[argc] = (const char *) ctx->gid;
    len[argc++] = EG_OIDC_GID_LEN;
    argv[argc] = ctx->client->backchannel.len
                 ? (const char *) ctx->client->id.data : "";
    len[argc++] = ctx->client->backchannel.len ? ctx->client->id.len : 0;
    argv[argc] = (const char *) ttl;
    len[argc++] = ngx_sprintf(ttl, "%T", emcf->session_max) - ttl;
    argv[argc] = (const char *) ctx->client->id.data;
    len[argc++] = ctx->client->id.len;
    argv[argc] = record ? record : "";
    len[argc++] = record ? ngx_strlen(record) : 0;
    argv[argc] = (const char *) end;
    len[argc++] = ngx_sprintf(end, "%T", ctx->family_end) - end;
    argv[argc] = (const char *) bits;
    len[argc++] = ngx_sprintf(bits, "%ui", (ngx_uint_t) ctx->scopes) - bits;

    rc = ngx_http_edugate_oidc_redis(r, ngx_http_edugate_oidc_recorded, argc,
                                     argv, len);
    free(record);

    return rc;
}


static void
ngx_http_edugate_oidc_recorded(ngx_http_request_t *r, redisReply *reply)
{
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (!ngx_http_edugate_oidc_store_reply(r, reply, REDIS_REPLY_INTEGER,
                                           "grant record"))
    {
        return;
    }

    if (reply->integer == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_grant: the session of \"%s\" ended "
                      "before client \"%V\" redeemed its code",
                      ctx->grant->identity.uid, &ctx->client->id);
        ngx_http_finalize_request(r,
            ngx_http_edugate_oidc_invalid_grant(r, "the session has ended"));
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: oidc: tokens of \"%s\" issued to client \"%V\" "
                  "(grant %s)", ctx->grant->identity.uid, &ctx->client->id,
                  ctx->gid);

    ngx_http_finalize_request(r,
                              ngx_http_edugate_oidc_token_response(r, ctx));
}


/*
 * client_credentials (RFC 6749 4.4): a token for the client itself, with
 * "sub" its client_id and "gty" saying so, so that it is never taken for
 * a person; no scope, no refresh token, nothing in Redis.
 */

static ngx_int_t
ngx_http_edugate_oidc_client_grant(ngx_http_request_t *r,
    eg_form_field_t *f)
{
    eg_oidc_grant_t              *g;
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    if (!(ctx->client->grants & EG_OIDC_GRANT_CLIENT)) {
        return ngx_http_edugate_oidc_unauthorized(r);
    }

    if (f[T_SCOPE].seen && f[T_SCOPE].len) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_scope: client \"%V\" asked for a "
                      "scope with client_credentials", &ctx->client->id);
        return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_scope",
                                           "client tokens have no scope");
    }

    g = ngx_pcalloc(r->pool, sizeof(eg_oidc_grant_t));
    if (g == NULL
        || eg_random_b64url(ctx->gid, EG_OIDC_GID_BYTES) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(g->client_id, ctx->client->id.data, ctx->client->id.len);
    ngx_memcpy(g->identity.uid, ctx->client->id.data, ctx->client->id.len);
    g->identity.auth_time = ngx_time();

    ctx->grant = g;
    ctx->scopes = 0;
    ctx->client_token = 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: oidc: client token issued to client \"%V\"",
                  &ctx->client->id);

    return ngx_http_edugate_oidc_token_response(r, ctx);
}


static ngx_int_t
ngx_http_edugate_oidc_unauthorized(ngx_http_request_t *r)
{
    ngx_http_edugate_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_oidc_module);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "edugate: unauthorized_client: client \"%V\" may not use "
                  "this grant type", &ctx->client->id);

    return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                       "unauthorized_client",
                                       "this client may not use this grant "
                                       "type");
}


ngx_int_t
ngx_http_edugate_oidc_invalid_grant(ngx_http_request_t *r,
    const char *description)
{
    return ngx_http_edugate_oidc_error(r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_grant", description);
}
