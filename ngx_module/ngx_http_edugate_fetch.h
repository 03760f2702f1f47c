/*
 * Copyright (C) EduGate contributors
 *
 * Outbound HTTP/1.1 on the nginx event loop, for notifications: CAS
 * single logout, the CAS proxy callback, OIDC back-channel logout.  A
 * target is parsed and resolved at configuration time, so a request never
 * waits for DNS; every request gets its own pool, connection and deadline
 * (edugate_fetch_timeout) and is logged as
 * "edugate: notify: <method> <url>: <status|error>".
 */

#ifndef _NGX_HTTP_EDUGATE_FETCH_H_INCLUDED_
#define _NGX_HTTP_EDUGATE_FETCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"


/* the most of an answer that is read: status line, headers, a small body */
#define NGX_HTTP_EDUGATE_FETCH_MAX  16384


typedef struct ngx_http_edugate_target_s  ngx_http_edugate_target_t;

/*
 * status: the HTTP status, or NGX_ERROR (no connection, TLS or
 * certificate failure, timeout, not an HTTP answer).  body: what came
 * (dechunked, cut at NGX_HTTP_EDUGATE_FETCH_MAX); valid during the call
 * only.
 */
typedef void (*ngx_http_edugate_fetch_pt)(void *data, ngx_int_t status,
    ngx_str_t *body);


/*
 * Configuration time: an absolute http:// or https:// URL, resolved now.
 * https:// needs edugate_fetch_trusted_certificate: the peer's
 * certificate is verified against it and must name the URL's host.
 * NULL with *err saying why (for an "invalid ... \"%V\": %s" message):
 * a bad URL, a host that does not resolve, TLS not set up.
 */
ngx_http_edugate_target_t *ngx_http_edugate_target_create(ngx_conf_t *cf,
    ngx_str_t *url, const char **err);

/* 1 for an https:// target */
ngx_uint_t ngx_http_edugate_target_https(ngx_http_edugate_target_t *t);

/* 1 if every address the target's host resolved to is a loopback one */
ngx_uint_t ngx_http_edugate_target_loopback(ngx_http_edugate_target_t *t);

/*
 * Sends one request.  method: NGX_HTTP_GET or NGX_HTTP_POST.  uri: the
 * path and query to ask for ("/..."), NULL for the target's own.  For a
 * POST, content_type and body (both may be NULL for an empty body).  The
 * strings are copied: they need to live during the call only.
 *
 * NGX_OK: the handler (if any) will be called exactly once, never from
 * inside this call.  NGX_ERROR: nothing was started (bad uri, no memory),
 * the handler will not be called; the reason is logged.
 */
ngx_int_t ngx_http_edugate_fetch(ngx_log_t *log,
    ngx_http_edugate_target_t *t, ngx_uint_t method, ngx_str_t *uri,
    ngx_str_t *content_type, ngx_str_t *body,
    ngx_http_edugate_fetch_pt handler, void *data);


extern ngx_module_t  ngx_http_edugate_fetch_module;


/* the rest is shared by ngx_http_edugate_fetch*.c only */

typedef struct {
    ngx_msec_t                     timeout;
    ngx_str_t                      trusted_certificate;
#if (NGX_SSL)
    ngx_ssl_t                     *ssl;
#endif
    ngx_http_edugate_conf_pos_t    https_pos;     /* first https:// target */
    ngx_http_edugate_conf_pos_t    trusted_pos;
    unsigned                       https:1;
    unsigned                       ready:1;       /* init_main_conf ran */
} ngx_http_edugate_fetch_conf_t;


struct ngx_http_edugate_target_s {
    ngx_str_t                       origin;       /* scheme, host, port */
    ngx_str_t                       authority;    /* the Host header */
    ngx_str_t                       host;         /* NUL-terminated */
    ngx_str_t                       uri;          /* its own path+query */
    ngx_addr_t                     *addrs;
    ngx_uint_t                      naddrs;
    ngx_http_edugate_fetch_conf_t  *conf;
    unsigned                        https:1;
    unsigned                        ip_literal:1;
};


/* one request on its way */
typedef struct {
    ngx_pool_t                     *pool;
    ngx_log_t                       log;
    ngx_http_edugate_target_t      *target;
    ngx_peer_connection_t           peer;
    ngx_event_t                     event;        /* deadline, failure */
    ngx_buf_t                       request;
    ngx_buf_t                       response;
    ngx_uint_t                      next;         /* next address */
    const char                     *method;
    ngx_str_t                       path;         /* query cut, for logs */
    const char                     *error;
    const char                     *detail;
    ngx_err_t                       err;
    ngx_http_edugate_fetch_pt       handler;
    void                           *data;
} ngx_http_edugate_fetch_ctx_t;


#endif /* _NGX_HTTP_EDUGATE_FETCH_H_INCLUDED_ */
