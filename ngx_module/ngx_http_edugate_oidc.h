/*
 * Copyright (C) EduGate contributors
 *
 * Types and helpers shared by the files of ngx_http_edugate_oidc_module.
 */

#ifndef _NGX_HTTP_EDUGATE_OIDC_H_INCLUDED_
#define _NGX_HTTP_EDUGATE_OIDC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "eg_form.h"
#include "eg_oidc.h"


#define NGX_HTTP_EDUGATE_OIDC_CODE_KEY     "eg:oidc:code:"
#define NGX_HTTP_EDUGATE_OIDC_USED_KEY     "eg:oidc:used:"
#define NGX_HTTP_EDUGATE_OIDC_RT_KEY       "eg:oidc:rt:"

/* hash-named keys: prefix + hex SHA-256 */
#define ngx_http_edugate_oidc_key_len(prefix)                                \
    (sizeof(prefix) - 1 + NGX_HTTP_EDUGATE_HASH_LEN)

#define NGX_HTTP_EDUGATE_OIDC_BODY_MAX     16384


typedef enum {
    NGX_HTTP_EDUGATE_OIDC_AUTHORIZE = 0,
    NGX_HTTP_EDUGATE_OIDC_TOKEN,
    NGX_HTTP_EDUGATE_OIDC_USERINFO,
    NGX_HTTP_EDUGATE_OIDC_REVOKE,
    NGX_HTTP_EDUGATE_OIDC_END_SESSION,
    NGX_HTTP_EDUGATE_OIDC_DISCOVERY,
    NGX_HTTP_EDUGATE_OIDC_NENDPOINTS
} ngx_http_edugate_oidc_endpoint_e;


typedef struct {
    ngx_array_t                *clients;       /* eg_oidc_client_t */
    ngx_array_t                *cors;          /* ngx_str_t origins */
    time_t                      code_ttl;
    time_t                      access_ttl;
    time_t                      id_ttl;
    time_t                      refresh_ttl;
    ngx_str_t                   paths[NGX_HTTP_EDUGATE_OIDC_NENDPOINTS];
    ngx_str_t                   discovery;
    ngx_flag_t                  used;
} ngx_http_edugate_oidc_main_conf_t;


typedef void (*ngx_http_edugate_oidc_body_pt)(ngx_http_request_t *r,
    ngx_str_t *body);


typedef struct {
    const eg_oidc_client_t     *client;
    eg_oidc_grant_t            *grant;
    void                       *authz;         /* authorize.c state */
    ngx_str_t                   redirect_uri;
    ngx_str_t                   state;
    ngx_str_t                   artifact;      /* code or refresh token */
    ngx_str_t                   id_token_hint;
    ngx_str_t                   logout_uri;
    ngx_http_edugate_oidc_body_pt  body_handler;
    u_char                      key[NGX_HTTP_EDUGATE_HASH_LEN + 32];
    u_char                      gid[EG_OIDC_GID_LEN + 1];
    u_char                      issued[EG_OIDC_CODE_LEN + 1];
    u_char                      refresh[EG_OIDC_CODE_LEN + 1];
    time_t                      family_end;    /* refresh family expiry */
    ngx_uint_t                  refuse_status;
    const char                 *refuse_error;
    const char                 *refuse_description;
    unsigned                    scopes;
    unsigned                    basic:1;
    unsigned                    refreshing:1;
    unsigned                    with_refresh:1;
    unsigned                    bad_logout_uri:1;
    unsigned                    client_token:1;
} ngx_http_edugate_oidc_ctx_t;


extern ngx_module_t  ngx_http_edugate_oidc_module;


/* oidc.c */
ngx_http_edugate_oidc_ctx_t *ngx_http_edugate_oidc_ctx(
    ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_oidc_start(ngx_http_request_t *r,
    ngx_uint_t methods, const char *endpoint);
ngx_int_t ngx_http_edugate_oidc_read_body(ngx_http_request_t *r,
    ngx_http_edugate_oidc_body_pt handler);
ngx_int_t ngx_http_edugate_oidc_form(ngx_http_request_t *r,
    ngx_str_t *src, eg_form_field_t *fields, ngx_uint_t n);
ngx_int_t ngx_http_edugate_oidc_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);
ngx_int_t ngx_http_edugate_oidc_json_doc(ngx_http_request_t *r,
    ngx_uint_t status, json_t *doc);
ngx_int_t ngx_http_edugate_oidc_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, const char *description);
ngx_int_t ngx_http_edugate_oidc_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, const char *description);
ngx_int_t ngx_http_edugate_oidc_refusal(ngx_http_request_t *r,
    ngx_int_t rc);
ngx_int_t ngx_http_edugate_oidc_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *code);
ngx_int_t ngx_http_edugate_oidc_client_auth(ngx_http_request_t *r,
    eg_form_field_t *client_id, eg_form_field_t *client_secret);
ngx_int_t ngx_http_edugate_oidc_client_form(ngx_http_request_t *r,
    ngx_str_t *body, eg_form_field_t *f, ngx_uint_t n, ngx_int_t *answer);
ngx_int_t ngx_http_edugate_oidc_hash_key(ngx_http_request_t *r,
    ngx_str_t *key, const char *prefix, u_char *text, size_t len);
u_char *ngx_http_edugate_oidc_log_value(ngx_http_request_t *r,
    u_char *data, size_t len);
ngx_int_t ngx_http_edugate_oidc_redis(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler, int argc, const char **argv,
    const size_t *argvlen);
ngx_uint_t ngx_http_edugate_oidc_store_reply(ngx_http_request_t *r,
    redisReply *reply, int type, const char *what);

/* oidc_authorize.c */
ngx_int_t ngx_http_edugate_oidc_authorize_handler(ngx_http_request_t *r);

/* the fields of a token request; the client's two come last */
typedef enum {
    T_GRANT_TYPE = 0,
    T_CODE,
    T_REDIRECT_URI,
    T_VERIFIER,
    T_REFRESH_TOKEN,
    T_SCOPE,
    T_CLIENT_ID,
    T_CLIENT_SECRET,
    T_NFIELDS
} ngx_http_edugate_oidc_tfield_e;

/* oidc_token.c */
ngx_int_t ngx_http_edugate_oidc_token_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_oidc_invalid_grant(ngx_http_request_t *r,
    const char *description);

/* oidc_refresh.c */
ngx_int_t ngx_http_edugate_oidc_refresh_grant(ngx_http_request_t *r,
    eg_form_field_t *f);
ngx_int_t ngx_http_edugate_oidc_new_refresh(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, ngx_str_t *key);

/* oidc_mint.c */
char *ngx_http_edugate_oidc_mint(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, const char *typ, ngx_uint_t id_token);
ngx_int_t ngx_http_edugate_oidc_token_response(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx);

/* oidc_revoke.c */
ngx_int_t ngx_http_edugate_oidc_userinfo_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_oidc_revoke_handler(ngx_http_request_t *r);

/* oidc_backchannel.c */
ngx_int_t ngx_http_edugate_oidc_backchannel(ngx_log_t *log,
    ngx_str_t *client_id, u_char *hash);

/* oidc_logout.c */
ngx_int_t ngx_http_edugate_oidc_end_session_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_EDUGATE_OIDC_H_INCLUDED_ */
