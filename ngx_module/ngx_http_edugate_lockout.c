/*
 * Copyright (C) EduGate contributors
 *
 * Failure counters and lockouts of the login endpoint.  A failure is
 * counted per account and per client address in Redis, so that every
 * worker and node sees the same counts.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_login.h"


static void ngx_http_edugate_login_count_done(ngx_http_request_t *r,
    redisReply *reply);


/* KEYS: lock key of the account, lock key of the address */
static const char  ngx_http_edugate_lock_script[] =
    "return {redis.call('TTL', KEYS[1]), redis.call('TTL', KEYS[2])}";

/*
 * KEYS: fail and lock key of the account, fail and lock key of the address;
 * ARGV: account limit, address limit, window, lockout, lockout cap.
 * Past the limit every further failure doubles the lockout; the counter
 * outlives the lockout so that the next failure locks again at once.
 */
static const char  ngx_http_edugate_fail_script[] =
    "local function bump(ck, lk, max, win, base, cap) "
    "local c = redis.call('INCR', ck) "
    "local lock = 0 "
    "if c >= max then "
    "lock = math.floor(math.min(base * 2 ^ (c - max), cap)) "
    "redis.call('SET', lk, c, 'EX', lock) "
    "end "
    "redis.call('EXPIRE', ck, win + lock) "
    "return c "
    "end "
    "return {bump(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[3]), "
    "tonumber(ARGV[4]), tonumber(ARGV[5])), "
    "bump(KEYS[3], KEYS[4], tonumber(ARGV[2]), tonumber(ARGV[3]), "
    "tonumber(ARGV[4]), tonumber(ARGV[5]))}";


/* eg:fail:u:<name>, eg:lock:u:<name>, eg:fail:ip:<addr>, eg:lock:ip:<addr> */

ngx_int_t
ngx_http_edugate_login_keys(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc, ngx_str_t *name)
{
    u_char      *p;
    ngx_str_t   *addr;
    ngx_uint_t   i;

    static const char  *prefix[] = {
        "eg:fail:u:", "eg:lock:u:", "eg:fail:ip:", "eg:lock:ip:"
    };

    addr = &r->connection->addr_text;

    for (i = 0; i < 4; i++) {
        lc->keys[i].len = ngx_strlen(prefix[i])
                          + (i < 2 ? name->len : addr->len);

        p = ngx_pnalloc(r->pool, lc->keys[i].len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        lc->keys[i].data = p;
        p = ngx_cpymem(p, prefix[i], ngx_strlen(prefix[i]));

        if (i < 2) {
            /* "Alice" and "alice" are one account to the directory */
            ngx_strlow(p, name->data, name->len);

        } else {
            ngx_memcpy(p, addr->data, addr->len);
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_edugate_login_lock_check(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc, ngx_http_edugate_redis_pt handler)
{
    size_t       len[5];
    const char  *argv[5];

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_lock_script;
    len[1] = sizeof(ngx_http_edugate_lock_script) - 1;
    argv[2] = "2";
    len[2] = 1;
    argv[3] = (const char *) lc->keys[1].data;
    len[3] = lc->keys[1].len;
    argv[4] = (const char *) lc->keys[3].data;
    len[4] = lc->keys[3].len;

    return ngx_http_edugate_login_call(r, handler, 5, argv, len);
}


/* NGX_DECLINED: neither account nor address is locked */

ngx_int_t
ngx_http_edugate_login_refuse_locked(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc, redisReply *reply)
{
    long long         ttl[2];
    ngx_table_elt_t  *h;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_INTEGER)
    {
        return ngx_http_edugate_login_store_down(r, reply, "lockout check");
    }

    ttl[0] = reply->element[0]->integer;
    ttl[1] = reply->element[1]->integer;

    if (ttl[0] <= 0 && ttl[1] <= 0) {
        return NGX_DECLINED;
    }

    h = ngx_http_edugate_add_header(r, "Retry-After", NULL);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "%L", ngx_max(ttl[0], ttl[1]))
                   - h->value.data;

    if (ttl[0] > 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: account_locked: login for \"%s\" refused "
                      "for another %Ls",
                      ngx_http_edugate_log_value(r, &lc->username), ttl[0]);
        return ngx_http_edugate_login_form(r, lc, NGX_HTTP_TOO_MANY_REQUESTS,
                                           "account_locked");
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "edugate: too_many_attempts: logins from %V refused for "
                  "another %Ls", &r->connection->addr_text, ttl[1]);

    return ngx_http_edugate_login_form(r, lc, NGX_HTTP_TOO_MANY_REQUESTS,
                                       "too_many_attempts");
}


ngx_int_t
ngx_http_edugate_login_failed(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc)
{
    u_char                        *p;
    size_t                         len[12];
    ngx_uint_t                     i;
    const char                    *argv[12];
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    p = ngx_pnalloc(r->pool, 5 * NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_fail_script;
    len[1] = sizeof(ngx_http_edugate_fail_script) - 1;
    argv[2] = "4";
    len[2] = 1;

    for (i = 0; i < 4; i++) {
        argv[3 + i] = (const char *) lc->keys[i].data;
        len[3 + i] = lc->keys[i].len;
    }

    argv[7] = (const char *) p;
    len[7] = ngx_sprintf(p, "%ui", emcf->max_failures) - p;
    p += len[7];
    argv[8] = (const char *) p;
    len[8] = ngx_sprintf(p, "%ui", emcf->ip_max_failures) - p;
    p += len[8];
    argv[9] = (const char *) p;
    len[9] = ngx_sprintf(p, "%T", emcf->fail_window) - p;
    p += len[9];
    argv[10] = (const char *) p;
    len[10] = ngx_sprintf(p, "%T", emcf->lockout) - p;
    p += len[10];
    argv[11] = (const char *) p;
    len[11] = ngx_sprintf(p, "%T", emcf->lockout_max) - p;

    return ngx_http_edugate_login_call(r, ngx_http_edugate_login_count_done,
                                       12, argv, len);
}


static void
ngx_http_edugate_login_count_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_http_edugate_login_ctx_t  *lc;

    lc = ngx_http_edugate_login_ctx(r);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        /* the attempt failed anyway; an uncounted failure is only logged */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: failed login of "
                      "\"%s\" not counted",
                      ngx_http_edugate_log_value(r, &lc->username));
    }

    ngx_http_finalize_request(r,
        ngx_http_edugate_login_form(r, lc, NGX_HTTP_UNAUTHORIZED,
                                    "invalid_credentials"));
}
