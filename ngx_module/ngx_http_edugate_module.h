/*
 * Copyright (C) EduGate contributors
 *
 * Types shared by the files of ngx_http_edugate_module.
 */

#ifndef _NGX_HTTP_EDUGATE_MODULE_H_INCLUDED_
#define _NGX_HTTP_EDUGATE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>

#include "eg_identity.h"
#include "eg_jwt.h"
#include "eg_url.h"


#define NGX_HTTP_EDUGATE_COOKIE_SECURE_OFF   0
#define NGX_HTTP_EDUGATE_COOKIE_SECURE_ON    1
#define NGX_HTTP_EDUGATE_COOKIE_SECURE_AUTO  2

#define NGX_HTTP_EDUGATE_SID_BYTES   32
#define NGX_HTTP_EDUGATE_SID_LEN     43      /* base64url of 32 bytes */
#define NGX_HTTP_EDUGATE_HASH_LEN    64      /* hex SHA-256 */

#define NGX_HTTP_EDUGATE_CSRF_TTL    900

/* a grant of the OIDC provider revoked: every token of it refused */
#define NGX_HTTP_EDUGATE_REVOKED_GRANT  "eg:revoked:grant:"
/* who took part in a session (a SET), for logout everywhere */
#define NGX_HTTP_EDUGATE_RP_KEY         "eg:rp:"


/* directory attributes read at login, in eg_id_field_e order */
typedef enum {
    NGX_HTTP_EDUGATE_ATTR_UID = 0,
    NGX_HTTP_EDUGATE_ATTR_NAME,
    NGX_HTTP_EDUGATE_ATTR_ROLES,
    NGX_HTTP_EDUGATE_ATTR_LEVEL,
    NGX_HTTP_EDUGATE_ATTR_SCHOOL,
    NGX_HTTP_EDUGATE_ATTR_GRADE,
    NGX_HTTP_EDUGATE_ATTR_CLASS,
    NGX_HTTP_EDUGATE_ATTR_UUID,
    NGX_HTTP_EDUGATE_NATTRS
} ngx_http_edugate_attr_e;


/* where a directive stood, for errors found once the http block is read */
typedef struct {
    u_char               *file;
    ngx_uint_t            line;
} ngx_http_edugate_conf_pos_t;


typedef struct {
    ngx_flag_t            enabled;

    ngx_str_t             redis_addr;
    ngx_str_t             redis_host;       /* numeric, NUL-terminated */
    ngx_int_t             redis_port;
    ngx_str_t             redis_unix;       /* NUL-terminated or empty */
    ngx_str_t             redis_password;
    ngx_int_t             redis_db;
    ngx_msec_t            redis_timeout;

    ngx_array_t          *ldap_uris;        /* ngx_str_t, NUL-terminated */
    ngx_str_t             ldap_base;
    ngx_str_t             ldap_bind_dn;
    ngx_str_t             ldap_bind_password;
    ngx_str_t             ldap_filter;
    ngx_str_t             ldap_org_attr;
    ngx_str_t             ldap_attrs[NGX_HTTP_EDUGATE_NATTRS];
    ngx_msec_t            ldap_timeout;
    ngx_str_t             ldap_pool_name;
    ngx_thread_pool_t    *ldap_pool;

    time_t                session_idle;
    time_t                session_max;
    ngx_msec_t            session_cache;
    ngx_uint_t            session_cache_size;
    ngx_str_t             cookie_name;
    ngx_uint_t            cookie_secure;

    ngx_str_t             login_url;
    ngx_array_t          *return_hosts;     /* eg_str_t */
    ngx_uint_t            max_failures;
    ngx_uint_t            ip_max_failures;
    time_t                lockout;
    time_t                lockout_max;
    time_t                fail_window;
    size_t                login_max_body;

    ngx_array_t          *org_levels;       /* ngx_str_t */
    ngx_flag_t            login_used;
    ngx_http_edugate_conf_pos_t  login_pos;
    ngx_http_edugate_conf_pos_t  ldap_uri_pos;
    ngx_http_edugate_conf_pos_t  bind_dn_pos;

    ngx_str_t             issuer;           /* NUL-terminated */
    ngx_str_t             token_audience;   /* NUL-terminated */
    time_t                token_leeway;
    eg_jwt_keyset_t      *keyset;
    ngx_flag_t            key_activated;
    ngx_str_t             jwks;
    ngx_str_t             jwks_path;        /* its location, for discovery */
    time_t                grant_ttl;        /* how long a revoked grant is
                                               remembered */
} ngx_http_edugate_main_conf_t;


typedef struct {
    ngx_flag_t            protect;
    ngx_array_t          *allow_roles;      /* ngx_str_t */
    ngx_array_t          *allow_orgs;       /* ngx_str_t */
    ngx_array_t          *allow_clients;    /* ngx_str_t */
    ngx_flag_t            api;              /* refusals as JSON, never a
                                               redirect (edugate_std_pull) */
} ngx_http_edugate_loc_conf_t;


struct redisReply;

/* reply is NULL when the command failed, timed out or Redis is down */
typedef void (*ngx_http_edugate_redis_pt)(ngx_http_request_t *r,
    struct redisReply *reply);

typedef void (*ngx_http_edugate_session_handler_pt)(ngx_http_request_t *r,
    ngx_int_t rc);

/* NGX_OK keeps the header with *value, NGX_DECLINED drops it */
typedef ngx_int_t (*ngx_http_edugate_keep_header_pt)(ngx_http_request_t *r,
    ngx_table_elt_t *h, ngx_str_t *value, void *data);


/* per-request state of the access phase and of the variables */
typedef struct {
    eg_identity_t        *identity;
    ngx_str_t             error;            /* stable error code */
    u_char                sid_hash[NGX_HTTP_EDUGATE_HASH_LEN];
    ngx_http_edugate_session_handler_pt  session_handler;
    void                 *login;            /* login.c state */
    const char           *token_error;      /* eg_jwt_rc_name() or so */
    json_t               *claims;           /* of a bearer token, if kept */
    ngx_int_t             lookup_rc;
    unsigned              looked_up:1;
    unsigned              waiting:1;
    unsigned              done:1;
    unsigned              store_down:1;
    unsigned              stripped:1;
    unsigned              bearer:1;
    unsigned              keep_claims:1;
    unsigned              client_token:1;   /* client_credentials */
} ngx_http_edugate_ctx_t;


extern ngx_module_t  ngx_http_edugate_module;


/* module.c */
void ngx_http_edugate_conf_pos(ngx_conf_t *cf,
    ngx_http_edugate_conf_pos_t *pos);
void ngx_http_edugate_conf_error(ngx_conf_t *cf,
    ngx_http_edugate_conf_pos_t *pos, const char *msg);

/* access.c */
ngx_int_t ngx_http_edugate_access_init(ngx_conf_t *cf);
ngx_int_t ngx_http_edugate_rebuild_headers(ngx_http_request_t *r,
    ngx_http_edugate_keep_header_pt keep, void *data);

/* session.c */
#define NGX_HTTP_EDUGATE_SESSION_KEY_LEN  (sizeof("eg:sess:") - 1          \
                                           + NGX_HTTP_EDUGATE_HASH_LEN)

ngx_int_t ngx_http_edugate_get_cookie(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);
ngx_uint_t ngx_http_edugate_sid_valid(ngx_str_t *sid);
ngx_int_t ngx_http_edugate_session_lookup(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx, ngx_str_t *sid,
    ngx_http_edugate_session_handler_pt handler);
ngx_int_t ngx_http_edugate_session_create(ngx_http_request_t *r,
    eg_identity_t *id, ngx_str_t *sid, u_char *hash,
    ngx_http_edugate_redis_pt handler);
size_t ngx_http_edugate_session_key(u_char *buf, u_char *hash);
ngx_int_t ngx_http_edugate_session_revoke(ngx_http_request_t *r,
    u_char *hash, ngx_http_edugate_redis_pt handler);
ngx_int_t ngx_http_edugate_set_cookie(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value, ngx_str_t *path, time_t max_age,
    ngx_uint_t strict);
ngx_int_t ngx_http_edugate_session_end(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler);
ngx_int_t ngx_http_edugate_forget_cookie(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_session_of_request(ngx_http_request_t *r,
    ngx_http_edugate_session_handler_pt handler);
ngx_int_t ngx_http_edugate_cache_init(ngx_cycle_t *cycle);
ngx_int_t ngx_http_edugate_cache_get(ngx_http_request_t *r, u_char *hash,
    eg_identity_t **id);
void ngx_http_edugate_cache_put(u_char *hash, eg_identity_t *id);
void ngx_http_edugate_cache_forget(u_char *hash);
void ngx_http_edugate_cache_flush(void);
ngx_int_t ngx_http_edugate_hash_sid(ngx_str_t *sid, u_char *hash);
ngx_http_edugate_ctx_t *ngx_http_edugate_get_ctx(ngx_http_request_t *r);

/* ldap.c */
typedef enum {
    NGX_HTTP_EDUGATE_LDAP_OK = 0,
    NGX_HTTP_EDUGATE_LDAP_BAD_CREDENTIALS,
    NGX_HTTP_EDUGATE_LDAP_NO_USER,
    NGX_HTTP_EDUGATE_LDAP_AMBIGUOUS,
    NGX_HTTP_EDUGATE_LDAP_UNAVAILABLE,
    NGX_HTTP_EDUGATE_LDAP_ERROR
} ngx_http_edugate_ldap_rc_e;

typedef void (*ngx_http_edugate_ldap_handler_pt)(ngx_http_request_t *r,
    ngx_http_edugate_ldap_rc_e rc, eg_identity_t *id, const char *detail);

ngx_int_t ngx_http_edugate_ldap_auth(ngx_http_request_t *r, ngx_str_t *user,
    ngx_str_t *password, ngx_http_edugate_ldap_handler_pt handler);
char *ngx_http_edugate_ldap_check_conf(ngx_conf_t *cf,
    ngx_http_edugate_main_conf_t *emcf);

/* login.c, logout.c */
ngx_int_t ngx_http_edugate_login_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_logout_handler(ngx_http_request_t *r);

/* page.c */
ngx_uint_t ngx_http_edugate_wants_json(ngx_http_request_t *r);
ngx_uint_t ngx_http_edugate_wants_english(ngx_http_request_t *r);
/* the sentence of an error code, the code itself when it has none */
const char *ngx_http_edugate_message(const char *code, ngx_uint_t english);
ngx_table_elt_t *ngx_http_edugate_header_in(ngx_http_request_t *r,
    const char *lowcase, size_t len);
ngx_table_elt_t *ngx_http_edugate_add_header(ngx_http_request_t *r,
    const char *key, const char *value);
ngx_int_t ngx_http_edugate_send_body(ngx_http_request_t *r, ngx_str_t *type,
    u_char *body, size_t len);
ngx_int_t ngx_http_edugate_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, ngx_str_t *login_url);
ngx_int_t ngx_http_edugate_send_login_form(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, ngx_str_t *csrf,
    ngx_str_t *return_to);
ngx_int_t ngx_http_edugate_redirect(ngx_http_request_t *r,
    ngx_str_t *location, const char *code);
ngx_int_t ngx_http_edugate_login_location(ngx_http_request_t *r,
    ngx_str_t *location);
ngx_int_t ngx_http_edugate_login_location_to(ngx_http_request_t *r,
    ngx_str_t *target, ngx_str_t *location);

/* keys.c */
char *ngx_http_edugate_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_edugate_signing_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_edugate_token_leeway(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_edugate_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_edugate_token_init_conf(ngx_conf_t *cf,
    ngx_http_edugate_main_conf_t *emcf);

/* token.c */
void ngx_http_edugate_access_policy(ngx_http_request_t *r,
    eg_jwt_policy_t *policy);
ngx_int_t ngx_http_edugate_bearer_token(ngx_http_request_t *r,
    ngx_str_t *token);
ngx_int_t ngx_http_edugate_bearer_lookup(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx, ngx_str_t *token,
    ngx_http_edugate_session_handler_pt handler);
ngx_int_t ngx_http_edugate_bearer_error(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx, ngx_uint_t status, const char *code);

/* rp.c */
struct redisReply;
void ngx_http_edugate_rp_logout(struct redisReply *reply);

/* variables.c */
ngx_int_t ngx_http_edugate_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_EDUGATE_MODULE_H_INCLUDED_ */
