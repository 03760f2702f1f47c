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
#include "eg_cas.h"
#include "eg_form.h"


#define NGX_HTTP_EDUGATE_CAS_KEY_LEN   (sizeof("eg:cas:st:") - 1           \
                                        + NGX_HTTP_EDUGATE_HASH_LEN)


typedef struct {
    ngx_array_t                *services;      /* eg_cas_service_t */
    time_t                      ticket_ttl;
    ngx_flag_t                  used;
} ngx_http_edugate_cas_main_conf_t;


typedef struct {
    ngx_str_t                   service;
    ngx_str_t                   ticket;
    const eg_cas_service_t     *svc;
    ngx_uint_t                  version;
    u_char                      key[NGX_HTTP_EDUGATE_CAS_KEY_LEN];
    u_char                      issued[EG_CAS_TICKET_LEN];
    unsigned                    renew:1;
    unsigned                    gateway:1;
    unsigned                    proxy_callback:1;
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

/* cas_login.c */
ngx_int_t ngx_http_edugate_cas_login_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_logout_handler(ngx_http_request_t *r);

/* cas_validate.c */
ngx_int_t ngx_http_edugate_cas_validate1_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_validate2_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_cas_validate3_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_EDUGATE_CAS_H_INCLUDED_ */
