/*
 * Copyright (C) EduGate contributors
 *
 * Logout everywhere: once a session has ended in Redis, everyone who took
 * part in it is told.  Redis lists them in the set eg:rp:<session hash>:
 *
 *     "oidc <client_id>"              OIDC back-channel logout token
 *     "cas <ticket> <service URL>"    CAS single logout request
 *     "grant <grant id>"              revoked by Redis itself
 *
 * The notifications go out whether or not the request that ended the
 * session is still there, and nobody waits for them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_oidc.h"
#include "ngx_http_edugate_cas.h"


static void ngx_http_edugate_rp_member(ngx_log_t *log, u_char *hash,
    u_char *m, size_t len);


/* reply: {session hash, {members...}} from the revocation script */

void
ngx_http_edugate_rp_logout(redisReply *reply)
{
    size_t       i;
    ngx_log_t   *log;
    redisReply  *hash, *members;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2)
    {
        return;
    }

    hash = reply->element[0];
    members = reply->element[1];

    if (hash->type != REDIS_REPLY_STRING
        || hash->len != NGX_HTTP_EDUGATE_HASH_LEN
        || members->type != REDIS_REPLY_ARRAY)
    {
        return;
    }

    log = ngx_cycle->log;

    for (i = 0; i < members->elements; i++) {
        if (members->element[i]->type == REDIS_REPLY_STRING) {
            ngx_http_edugate_rp_member(log, (u_char *) hash->str,
                                       (u_char *) members->element[i]->str,
                                       members->element[i]->len);
        }
    }
}


static void
ngx_http_edugate_rp_member(ngx_log_t *log, u_char *hash, u_char *m,
    size_t len)
{
    u_char     *last, *sp;
    ngx_str_t   a, b;

    last = m + len;

    sp = ngx_strlchr(m, last, ' ');
    if (sp == NULL) {
        return;
    }

    a.data = sp + 1;
    a.len = last - a.data;

    if (sp - m == 5 && ngx_strncmp(m, "grant", 5) == 0) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "edugate: logout: grant %V revoked", &a);
        return;
    }

    if (sp - m == 4 && ngx_strncmp(m, "oidc", 4) == 0) {
        (void) ngx_http_edugate_oidc_backchannel(log, &a, hash);
        return;
    }

    if (sp - m == 3 && ngx_strncmp(m, "cas", 3) == 0) {
        sp = ngx_strlchr(a.data, last, ' ');
        if (sp == NULL) {
            return;
        }

        b.data = sp + 1;
        b.len = last - b.data;
        a.len = sp - a.data;

        if (ngx_http_edugate_cas_slo(log, &b, &a) == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "edugate: logout: CAS service \"%V\" is no longer "
                          "registered for single logout", &b);
        }

        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "edugate: logout: unknown participant \"%*s\"",
                  ngx_min(len, 64), m);
}
