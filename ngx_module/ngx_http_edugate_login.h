/*
 * Copyright (C) EduGate contributors
 *
 * What the login, lockout and logout files share: the state of a request
 * to the login or logout endpoint, and the steps one file hands another.
 */

#ifndef _NGX_HTTP_EDUGATE_LOGIN_H_INCLUDED_
#define _NGX_HTTP_EDUGATE_LOGIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"


typedef struct {
    ngx_str_t                   username;
    ngx_str_t                   password;
    ngx_str_t                   csrf;
    ngx_str_t                   return_to;
    ngx_str_t                   keys[4];     /* fail/lock: user, address */
    ngx_str_t                   old_sid;
    ngx_str_t                   sid;
    ngx_str_t                   new_csrf;
    ngx_http_edugate_ldap_rc_e  ldap_rc;
    ngx_uint_t                  status;
    const char                 *code;
    eg_identity_t              *identity;
    u_char                      hash[NGX_HTTP_EDUGATE_HASH_LEN];
} ngx_http_edugate_login_ctx_t;


/* login.c */
ngx_http_edugate_login_ctx_t *ngx_http_edugate_login_ctx(
    ngx_http_request_t *r);
const char *ngx_http_edugate_query_return(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc);
ngx_int_t ngx_http_edugate_login_form(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc, ngx_uint_t status, const char *code);
ngx_int_t ngx_http_edugate_login_store_down(ngx_http_request_t *r,
    redisReply *reply, const char *what);
ngx_int_t ngx_http_edugate_login_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code);
ngx_int_t ngx_http_edugate_login_call(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler, int argc, const char **argv,
    const size_t *argvlen);
u_char *ngx_http_edugate_log_value(ngx_http_request_t *r, ngx_str_t *v);

/* lockout.c */
ngx_int_t ngx_http_edugate_login_keys(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc, ngx_str_t *name);
ngx_int_t ngx_http_edugate_login_lock_check(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc, ngx_http_edugate_redis_pt handler);
ngx_int_t ngx_http_edugate_login_refuse_locked(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc, redisReply *reply);
ngx_int_t ngx_http_edugate_login_failed(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc);


#endif /* _NGX_HTTP_EDUGATE_LOGIN_H_INCLUDED_ */
