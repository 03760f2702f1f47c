/*
 * Copyright (C) EduGate contributors
 *
 * Types and helpers shared by the files of ngx_http_edugate_cas_module.
 */

#ifndef _NGX_HTTP_EDUGATE_CAS_H_INCLUDED_
#define _NGX_HTTP_EDUGATE_CAS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_fetch.h"
#include "eg_cas.h"
#include "eg_form.h"


/* eg:cas:st:, eg:cas:pt: or eg:cas:pgt: and the SHA-256 of the ticket */
#define NGX_HTTP_EDUGATE_CAS_KEY_LEN   (sizeof("eg:cas:pgt:") - 1          \
                                        + NGX_HTTP_EDUGATE_HASH_LEN)

#define NGX_HTTP_EDUGATE_CAS_V1        1
#define NGX_HTTP_EDUGATE_CAS_V2        2
#define NGX_HTTP_EDUGATE_CAS_V3        3


/* what a service may do besides logging people in (eg_cas_service_t.data) */
typedef struct {
    ngx_http_edugate_target_t  *slo;           /* single logout, or NULL */
    ngx_flag_t                  slo_own_uri;   /* logout_url=: its path */
    ngx_http_edugate_target_t  *callback;      /* proxy=on, or NULL */
    eg_cas_service_t            callback_prefix;
} ngx_http_edugate_cas_svc_conf_t;


typedef struct {
    ngx_array_t                *services;      /* eg_cas_service_t */
    time_t                      ticket_ttl;
    ngx_flag_t                  used;
} ngx_http_edugate_cas_main_conf_t;


typedef struct {
    ngx_str_t                   service;
    ngx_str_t                   ticket;
    ngx_str_t                   pgt_url;
    const eg_cas_service_t     *svc;
    eg_cas_record_t            *rec;           /* the ticket validated */
    ngx_array_t                *slo;           /* ngx_str_t, at logout */
    ngx_http_edugate_redis_pt   next;
    ngx_uint_t                  version;
    u_char                      key[NGX_HTTP_EDUGATE_CAS_KEY_LEN];
    size_t                      key_len;
    u_char                      issued[EG_CAS_TICKET_LEN + 1];
    u_char                      pgt[EG_CAS_PGT_LEN];
    u_char                      pgt_iou[EG_CAS_PGTIOU_LEN + 1];
    unsigned                    renew:1;
    unsigned                    gateway:1;
    unsigned                    proxy_callback:1;
    unsigned                    proxy_tickets:1;   /* proxyValidate */
    unsigned                    slo_registered:1;
    unsigned                    pgt_issued:1;
} ngx_http_edugate_cas_ctx_t;


extern ngx_module_t  ngx_http_edugate_cas_module;


/* cas.c */
ngx_http_edugate_cas_ctx_t *ngx_http_edugate_cas_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_start(ngx_http_request_t *r,
    ngx_uint_t methods, const char *endpoint,
    ngx_http_edugate_cas_ctx_t **ctx);
eg_form_rc_e ngx_http_edugate_cas_args(ngx_http_request_t *r,
    eg_form_field_t *fields, ngx_uint_t n);
ngx_uint_t ngx_http_edugate_cas_flag(eg_form_field_t *f);
const eg_cas_service_t *ngx_http_edugate_cas_find(ngx_http_request_t *r,
    ngx_str_t *service);
ngx_int_t ngx_http_edugate_cas_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *code);
u_char *ngx_http_edugate_cas_log_value(ngx_http_request_t *r,
    u_char *data, size_t len);
size_t ngx_http_edugate_cas_key(u_char *key, const char *prefix,
    u_char *ticket, size_t len);

/* cas_login.c */
ngx_int_t ngx_http_edugate_cas_login_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_logout_handler(ngx_http_request_t *r);

/* cas_validate.c */
ngx_int_t ngx_http_edugate_cas_validate1_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_validate2_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_validate3_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_proxy_validate2_handler(
    ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_proxy_validate3_handler(
    ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_success(ngx_http_request_t *r,
    const char *pgt_iou);
ngx_int_t ngx_http_edugate_cas_failure(ngx_http_request_t *r,
    const char *code, const char *text);
ngx_int_t ngx_http_edugate_cas_send_xml(ngx_http_request_t *r,
    ngx_uint_t status, unsigned char *out, size_t len, const char *code);

/* cas_pgt.c, cas_proxy.c */
ngx_int_t ngx_http_edugate_cas_pgt_issue(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx);
ngx_int_t ngx_http_edugate_cas_proxy_handler(ngx_http_request_t *r);

/* cas_slo.c */

/*
 * Puts the validated ticket's service into its session's participant set
 * before the service learns who logged in.  NGX_DECLINED: the service has
 * no single logout, answer now; NGX_DONE: the answer follows the reply;
 * anything else: the answer to finalize with.
 */
ngx_int_t ngx_http_edugate_cas_slo_register(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx);

/*
 * Single logout of one service: POSTs the SAML LogoutRequest for "ticket"
 * (CAS 3.0 appendix C) to "service" if a registered service that "service"
 * matches asked for it (slo=on or logout_url=), without waiting for the
 * answer.  NGX_DECLINED: not registered for single logout; NGX_ERROR: a
 * bad ticket or nothing sent (logged).  The strings are copied.
 */
ngx_int_t ngx_http_edugate_cas_slo(ngx_log_t *log, ngx_str_t *service,
    ngx_str_t *ticket);


#endif /* _NGX_HTTP_EDUGATE_CAS_H_INCLUDED_ */
