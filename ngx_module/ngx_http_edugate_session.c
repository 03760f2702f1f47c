/*
 * Copyright (C) EduGate contributors
 *
 * Sessions: the opaque cookie, the record in Redis and a short-lived
 * per-worker cache.  Redis keys hold the SHA-256 of the session id, so a
 * dump of Redis gives nobody a usable cookie.  The cache is only used
 * while the worker is subscribed to the revocation channel: a logout on
 * any node then drops the entry everywhere.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "eg_codec.h"


typedef struct {
    ngx_rbtree_node_t      node;
    ngx_queue_t            queue;
    ngx_msec_t             expires;
    u_char                 hash[NGX_HTTP_EDUGATE_HASH_LEN];
    eg_identity_t          identity;
} ngx_http_edugate_cache_node_t;


static void ngx_http_edugate_session_reply(ngx_http_request_t *r,
    redisReply *reply);
static ngx_http_edugate_cache_node_t *ngx_http_edugate_cache_find(
    u_char *hash);
static void ngx_http_edugate_cache_remove(
    ngx_http_edugate_cache_node_t *cn);
static void ngx_http_edugate_cache_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


/* per-worker, set up in init_process */
static ngx_rbtree_t                    ngx_http_edugate_cache;
static ngx_rbtree_node_t               ngx_http_edugate_cache_sentinel;
static ngx_queue_t                     ngx_http_edugate_cache_lru;
static ngx_uint_t                      ngx_http_edugate_cache_n;
static ngx_http_edugate_main_conf_t   *ngx_http_edugate_cache_conf;


ngx_http_edugate_ctx_t *
ngx_http_edugate_get_ctx(ngx_http_request_t *r)
{
    ngx_http_edugate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_edugate_module);
    }

    return ctx;
}


ngx_int_t
ngx_http_edugate_get_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
#if (nginx_version >= 1023000)

    if (ngx_http_parse_multi_header_lines(r, r->headers_in.cookie, name,
                                          value)
        == NULL)
    {
        return NGX_DECLINED;
    }

#else

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, name,
                                          value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

#endif

    return NGX_OK;
}


ngx_uint_t
ngx_http_edugate_sid_valid(ngx_str_t *sid)
{
    return sid->len == NGX_HTTP_EDUGATE_SID_LEN
           && eg_is_b64url(sid->data, sid->len);
}


ngx_int_t
ngx_http_edugate_hash_sid(ngx_str_t *sid, u_char *hash)
{
    return eg_sha256_hex(hash, sid->data, sid->len) == 0 ? NGX_OK : NGX_ERROR;
}


size_t
ngx_http_edugate_session_key(u_char *buf, u_char *hash)
{
    u_char  *p;

    p = ngx_cpymem(buf, "eg:sess:", sizeof("eg:sess:") - 1);
    p = ngx_cpymem(p, hash, NGX_HTTP_EDUGATE_HASH_LEN);

    return p - buf;
}


ngx_int_t
ngx_http_edugate_session_lookup(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx, ngx_str_t *sid,
    ngx_http_edugate_session_handler_pt handler)
{
    u_char                          key[NGX_HTTP_EDUGATE_SESSION_KEY_LEN];
    u_char                          ttl[NGX_TIME_T_LEN];
    size_t                          len[4];
    ngx_int_t                       rc;
    const char                     *argv[4];
    ngx_http_edugate_main_conf_t   *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (ngx_http_edugate_hash_sid(sid, ctx->sid_hash) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_edugate_cache_get(r, ctx->sid_hash, &ctx->identity);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* every lookup that reaches Redis slides the idle timeout */

    argv[0] = "GETEX";
    len[0] = 5;
    argv[1] = (const char *) key;
    len[1] = ngx_http_edugate_session_key(key, ctx->sid_hash);
    argv[2] = "EX";
    len[2] = 2;
    argv[3] = (const char *) ttl;
    len[3] = ngx_sprintf(ttl, "%T", emcf->session_idle) - ttl;

    ctx->session_handler = handler;

    rc = ngx_http_edugate_redis_call(r, ngx_http_edugate_session_reply,
                                     4, argv, len);
    if (rc == NGX_OK) {
        return NGX_AGAIN;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: "
                      "redis is not connected");
        ctx->store_down = 1;
        ngx_str_set(&ctx->error, "session_store_unavailable");
    }

    return NGX_ERROR;
}


static void
ngx_http_edugate_session_reply(ngx_http_request_t *r, redisReply *reply)
{
    u_char                  key[NGX_HTTP_EDUGATE_SESSION_KEY_LEN];
    size_t                  len[2];
    ngx_int_t               rc;
    const char             *argv[2];
    eg_identity_t          *id;
    ngx_http_edugate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply != NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "edugate: session_store_unavailable: %*s",
                          (size_t) reply->len, reply->str);
        }

        ctx->store_down = 1;
        ngx_str_set(&ctx->error, "session_store_unavailable");
        rc = NGX_ERROR;
        goto done;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: session_expired: no session for the cookie");
        ngx_str_set(&ctx->error, "session_expired");
        rc = NGX_DECLINED;
        goto done;
    }

    id = ngx_pcalloc(r->pool, sizeof(eg_identity_t));
    if (id == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    if (reply->type != REDIS_REPLY_STRING
        || eg_identity_from_json(id, reply->str, reply->len) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: invalid_session: unreadable session record, "
                      "discarded");
        ngx_str_set(&ctx->error, "invalid_session");
        rc = NGX_DECLINED;
        goto discard;
    }

    if (id->expires <= ngx_time()) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: session_expired: absolute lifetime of "
                      "session of \"%s\" reached", id->uid);
        ngx_str_set(&ctx->error, "session_expired");
        rc = NGX_DECLINED;
        goto discard;
    }

    ctx->identity = id;
    ngx_http_edugate_cache_put(ctx->sid_hash, id);
    rc = NGX_OK;
    goto done;

discard:

    argv[0] = "DEL";
    len[0] = 3;
    argv[1] = (const char *) key;
    len[1] = ngx_http_edugate_session_key(key, ctx->sid_hash);
    (void) ngx_http_edugate_redis_send(r->connection->log, 2, argv, len);

done:

    ctx->session_handler(r, rc);
}


ngx_int_t
ngx_http_edugate_session_create(ngx_http_request_t *r, eg_identity_t *id,
    ngx_str_t *sid, u_char *hash, ngx_http_edugate_redis_pt handler)
{
    char                          *json;
    u_char                         key[NGX_HTTP_EDUGATE_SESSION_KEY_LEN];
    u_char                         ttl[NGX_TIME_T_LEN];
    size_t                         len[6];
    ngx_int_t                      rc;
    const char                    *argv[6];
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    sid->data = ngx_pnalloc(r->pool, NGX_HTTP_EDUGATE_SID_LEN);
    if (sid->data == NULL) {
        return NGX_ERROR;
    }

    /* a fresh id at every login: a planted cookie never gets a session */

    if (eg_random_b64url(sid->data, NGX_HTTP_EDUGATE_SID_BYTES) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "edugate: RAND_bytes() failed");
        return NGX_ERROR;
    }

    sid->len = NGX_HTTP_EDUGATE_SID_LEN;

    if (ngx_http_edugate_hash_sid(sid, hash) != NGX_OK) {
        return NGX_ERROR;
    }

    id->auth_time = ngx_time();
    id->expires = id->auth_time + emcf->session_max;

    json = eg_identity_to_json(id);
    if (json == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (const char *) key;
    len[1] = ngx_http_edugate_session_key(key, hash);
    argv[2] = json;
    len[2] = ngx_strlen(json);
    argv[3] = "EX";
    len[3] = 2;
    argv[4] = (const char *) ttl;
    len[4] = ngx_sprintf(ttl, "%T", ngx_min(emcf->session_idle,
                                            emcf->session_max))
             - ttl;
    argv[5] = "NX";
    len[5] = 2;

    rc = ngx_http_edugate_redis_call(r, handler, 6, argv, len);

    free(json);

    return rc;
}


/*
 * Ends a session, atomically: the record goes, with the list of those who
 * took part in it; the OIDC grants among them are revoked, and every
 * worker of every node drops its cached copy.
 * KEYS: session, participants.  ARGV: session hash, revocation TTL.
 */

static const char  ngx_http_edugate_revoke_lua[] =
    "local m = redis.call('SMEMBERS', KEYS[2])\n"
    "redis.call('DEL', KEYS[1], KEYS[2])\n"
    "for _, v in ipairs(m) do\n"
    "  if string.sub(v, 1, 6) == 'grant ' then\n"
    "    redis.call('SET', 'eg:revoked:grant:' .. string.sub(v, 7), '1',\n"
    "               'EX', ARGV[2])\n"
    "  end\n"
    "end\n"
    "redis.call('PUBLISH', '" NGX_HTTP_EDUGATE_REVOKE_CHANNEL "', ARGV[1])\n"
    "return {ARGV[1], m}\n";


/*
 * The reply is an array.  The participants are told (back-channel and
 * CAS single logout) whether or not the request still waits, so without
 * a handler nobody waits (a session replaced at login).
 */

ngx_int_t
ngx_http_edugate_session_revoke(ngx_http_request_t *r, u_char *hash,
    ngx_http_edugate_redis_pt handler)
{
    u_char                         key[NGX_HTTP_EDUGATE_SESSION_KEY_LEN];
    u_char                         rp[sizeof(NGX_HTTP_EDUGATE_RP_KEY) - 1
                                      + NGX_HTTP_EDUGATE_HASH_LEN];
    u_char                         ttl[NGX_TIME_T_LEN];
    size_t                         len[7];
    const char                    *argv[7];
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    ngx_http_edugate_cache_forget(hash);

    ngx_memcpy(ngx_cpymem(rp, NGX_HTTP_EDUGATE_RP_KEY,
                          sizeof(NGX_HTTP_EDUGATE_RP_KEY) - 1),
               hash, NGX_HTTP_EDUGATE_HASH_LEN);

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_revoke_lua;
    len[1] = sizeof(ngx_http_edugate_revoke_lua) - 1;
    argv[2] = "2";
    len[2] = 1;
    argv[3] = (const char *) key;
    len[3] = ngx_http_edugate_session_key(key, hash);
    argv[4] = (const char *) rp;
    len[4] = sizeof(rp);
    argv[5] = (const char *) hash;
    len[5] = NGX_HTTP_EDUGATE_HASH_LEN;
    argv[6] = (const char *) ttl;
    len[6] = ngx_sprintf(ttl, "%T", ngx_max(emcf->grant_ttl, 1)) - ttl;

    return ngx_http_edugate_redis_call_any(r, handler,
                                           ngx_http_edugate_rp_logout,
                                           7, argv, len);
}


/*
 * Ends the session the request's cookie names.  NGX_OK: the request is
 * held until handler runs; NGX_DECLINED: there was no session to end;
 * NGX_ERROR: Redis is down (logged).
 */

ngx_int_t
ngx_http_edugate_session_end(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler)
{
    u_char                         hash[NGX_HTTP_EDUGATE_HASH_LEN];
    ngx_str_t                      sid;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (ngx_http_edugate_get_cookie(r, &emcf->cookie_name, &sid) != NGX_OK
        || !ngx_http_edugate_sid_valid(&sid))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_edugate_hash_sid(&sid, hash) == NGX_OK
        && ngx_http_edugate_session_revoke(r, hash, handler) == NGX_OK)
    {
        r->main->count++;
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: session_store_unavailable: logout not recorded");

    return NGX_ERROR;
}


/* the browser forgets its session, whatever became of it in Redis */

ngx_int_t
ngx_http_edugate_forget_cookie(ngx_http_request_t *r)
{
    ngx_str_t                      path, empty;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    ngx_str_set(&path, "/");
    ngx_str_null(&empty);

    return ngx_http_edugate_set_cookie(r, &emcf->cookie_name, &empty, &path,
                                       0, 0);
}


/*
 * The session the request's cookie names: NGX_DECLINED without a
 * well-formed cookie, else as ngx_http_edugate_session_lookup() (with
 * NGX_AGAIN the request is held until handler runs).
 */

ngx_int_t
ngx_http_edugate_session_of_request(ngx_http_request_t *r,
    ngx_http_edugate_session_handler_pt handler)
{
    ngx_int_t                      rc;
    ngx_str_t                      sid;
    ngx_http_edugate_ctx_t        *ctx;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    ctx = ngx_http_edugate_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_edugate_get_cookie(r, &emcf->cookie_name, &sid) != NGX_OK
        || !ngx_http_edugate_sid_valid(&sid))
    {
        return NGX_DECLINED;
    }

    rc = ngx_http_edugate_session_lookup(r, ctx, &sid, handler);

    if (rc == NGX_AGAIN) {
        r->main->count++;
    }

    return rc;
}


ngx_int_t
ngx_http_edugate_set_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value, ngx_str_t *path, time_t max_age, ngx_uint_t strict)
{
    u_char                        *p;
    size_t                         len;
    ngx_uint_t                     secure;
    ngx_table_elt_t               *h;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    secure = (emcf->cookie_secure == NGX_HTTP_EDUGATE_COOKIE_SECURE_ON);

#if (NGX_HTTP_SSL)
    if (emcf->cookie_secure == NGX_HTTP_EDUGATE_COOKIE_SECURE_AUTO
        && r->connection->ssl)
    {
        secure = 1;
    }
#endif

    len = name->len + 1 + value->len
          + sizeof("; Path=") - 1 + path->len
          + sizeof("; HttpOnly; SameSite=Strict") - 1
          + sizeof("; Secure") - 1
          + sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_http_edugate_add_header(r, "Set-Cookie", NULL);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = p;

    p = ngx_sprintf(p, "%V=%V; Path=%V; HttpOnly; SameSite=%s",
                    name, value, path, strict ? "Strict" : "Lax");

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    if (max_age >= 0) {
        p = ngx_sprintf(p, "; Max-Age=%T", max_age);
    }

    h->value.len = p - h->value.data;

    return NGX_OK;
}


ngx_int_t
ngx_http_edugate_cache_init(ngx_cycle_t *cycle)
{
    ngx_http_edugate_cache_conf =
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_edugate_module);

    ngx_rbtree_init(&ngx_http_edugate_cache, &ngx_http_edugate_cache_sentinel,
                    ngx_http_edugate_cache_insert);
    ngx_queue_init(&ngx_http_edugate_cache_lru);
    ngx_http_edugate_cache_n = 0;

    return NGX_OK;
}


static ngx_http_edugate_cache_node_t *
ngx_http_edugate_cache_find(u_char *hash)
{
    ngx_int_t                       rc;
    ngx_rbtree_key_t                key;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_http_edugate_cache_node_t  *cn;

    if (ngx_http_edugate_cache_conf == NULL
        || ngx_http_edugate_cache_n == 0)
    {
        return NULL;
    }

    key = ngx_crc32_short(hash, NGX_HTTP_EDUGATE_HASH_LEN);

    node = ngx_http_edugate_cache.root;
    sentinel = ngx_http_edugate_cache.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        cn = (ngx_http_edugate_cache_node_t *) node;

        rc = ngx_memcmp(hash, cn->hash, NGX_HTTP_EDUGATE_HASH_LEN);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * A copy of a cached identity: NGX_OK, or NGX_DECLINED when there is none
 * still valid.  Entries are used only while this worker hears revocations.
 */

ngx_int_t
ngx_http_edugate_cache_get(ngx_http_request_t *r, u_char *hash,
    eg_identity_t **id)
{
    ngx_http_edugate_cache_node_t  *cn;

    cn = ngx_http_edugate_cache_find(hash);

    if (cn == NULL) {
        return NGX_DECLINED;
    }

    if ((ngx_msec_int_t) (cn->expires - ngx_current_msec) <= 0
        || cn->identity.expires <= ngx_time()
        || !ngx_http_edugate_redis_subscribed())
    {
        ngx_http_edugate_cache_remove(cn);
        return NGX_DECLINED;
    }

    *id = ngx_palloc(r->pool, sizeof(eg_identity_t));
    if (*id == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(*id, &cn->identity, sizeof(eg_identity_t));

    return NGX_OK;
}


void
ngx_http_edugate_cache_put(u_char *hash, eg_identity_t *id)
{
    ngx_queue_t                    *q;
    ngx_http_edugate_cache_node_t  *cn;
    ngx_http_edugate_main_conf_t   *emcf;

    emcf = ngx_http_edugate_cache_conf;

    if (emcf == NULL || emcf->session_cache == 0
        || emcf->session_cache_size == 0
        || !ngx_http_edugate_redis_subscribed())
    {
        return;
    }

    cn = ngx_http_edugate_cache_find(hash);

    if (cn == NULL) {
        if (ngx_http_edugate_cache_n >= emcf->session_cache_size) {
            q = ngx_queue_last(&ngx_http_edugate_cache_lru);
            ngx_http_edugate_cache_remove(
                ngx_queue_data(q, ngx_http_edugate_cache_node_t, queue));
        }

        cn = ngx_alloc(sizeof(ngx_http_edugate_cache_node_t), ngx_cycle->log);
        if (cn == NULL) {
            return;
        }

        ngx_memcpy(cn->hash, hash, NGX_HTTP_EDUGATE_HASH_LEN);
        cn->node.key = ngx_crc32_short(hash, NGX_HTTP_EDUGATE_HASH_LEN);
        ngx_rbtree_insert(&ngx_http_edugate_cache, &cn->node);
        ngx_http_edugate_cache_n++;

    } else {
        ngx_queue_remove(&cn->queue);
    }

    ngx_queue_insert_head(&ngx_http_edugate_cache_lru, &cn->queue);
    ngx_memcpy(&cn->identity, id, sizeof(eg_identity_t));
    cn->expires = ngx_current_msec + emcf->session_cache;
}


void
ngx_http_edugate_cache_forget(u_char *hash)
{
    ngx_http_edugate_cache_node_t  *cn;

    cn = ngx_http_edugate_cache_find(hash);

    if (cn != NULL) {
        ngx_http_edugate_cache_remove(cn);
    }
}


void
ngx_http_edugate_cache_flush(void)
{
    ngx_queue_t  *q;

    if (ngx_http_edugate_cache_conf == NULL) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_edugate_cache_lru)) {
        q = ngx_queue_head(&ngx_http_edugate_cache_lru);
        ngx_http_edugate_cache_remove(
            ngx_queue_data(q, ngx_http_edugate_cache_node_t, queue));
    }
}


static void
ngx_http_edugate_cache_remove(ngx_http_edugate_cache_node_t *cn)
{
    ngx_rbtree_delete(&ngx_http_edugate_cache, &cn->node);
    ngx_queue_remove(&cn->queue);
    ngx_http_edugate_cache_n--;

    ngx_explicit_memzero(&cn->identity, sizeof(eg_identity_t));
    ngx_free(cn);
}


static void
ngx_http_edugate_cache_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t             **p;
    ngx_http_edugate_cache_node_t  *cn, *ct;

    cn = (ngx_http_edugate_cache_node_t *) node;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            ct = (ngx_http_edugate_cache_node_t *) temp;
            p = (ngx_memcmp(cn->hash, ct->hash, NGX_HTTP_EDUGATE_HASH_LEN)
                 < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}
