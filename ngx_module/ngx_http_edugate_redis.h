/*
 * Copyright (C) EduGate contributors
 *
 * hiredis on the nginx event loop: one command connection and one
 * subscriber connection per worker, per-command nginx timers, automatic
 * reconnect.
 */

#ifndef _NGX_HTTP_EDUGATE_REDIS_H_INCLUDED_
#define _NGX_HTTP_EDUGATE_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"


#define NGX_HTTP_EDUGATE_REVOKE_CHANNEL  "eg:revoke"


ngx_int_t ngx_http_edugate_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_edugate_main_conf_t *emcf);
void ngx_http_edugate_redis_exit_process(ngx_cycle_t *cycle);

/*
 * Sends a command on behalf of a request.  The handler runs exactly once
 * unless the request goes away first; posted requests of the connection
 * are run after it.  NGX_DECLINED: Redis is down, the handler will not run.
 */
ngx_int_t ngx_http_edugate_redis_call(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler, int argc, const char **argv,
    const size_t *argvlen);

/*
 * As ngx_http_edugate_redis_call(), and any(reply) runs whenever the reply
 * comes, even after the request has gone (reply NULL: the connection was
 * lost).  handler may be NULL.
 */
typedef void (*ngx_http_edugate_redis_any_pt)(redisReply *reply);

ngx_int_t ngx_http_edugate_redis_call_any(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler, ngx_http_edugate_redis_any_pt any,
    int argc, const char **argv, const size_t *argvlen);

/* a command whose reply nobody waits for (counters, notifications) */
ngx_int_t ngx_http_edugate_redis_send(ngx_log_t *log, int argc,
    const char **argv, const size_t *argvlen);

ngx_uint_t ngx_http_edugate_redis_subscribed(void);


#endif /* _NGX_HTTP_EDUGATE_REDIS_H_INCLUDED_ */
