/*
 * Copyright (C) EduGate contributors
 *
 * ngx_http_edugate_fetch_module: its directives, the TLS context for
 * https:// targets, and the targets, parsed and resolved at configuration
 * time.  The requests themselves are in ngx_http_edugate_fetch_request.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_fetch.h"
#include "eg_http.h"


#define NGX_HTTP_EDUGATE_FETCH_TIMEOUT_MAX  60000


static void *ngx_http_edugate_fetch_create_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_fetch_init_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_edugate_fetch_trusted(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_fetch_ssl_init(ngx_conf_t *cf,
    ngx_http_edugate_fetch_conf_t *fcf);


static ngx_command_t  ngx_http_edugate_fetch_commands[] = {

    { ngx_string("edugate_fetch_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_fetch_conf_t, timeout),
      NULL },

    { ngx_string("edugate_fetch_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_fetch_trusted,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_fetch_conf_t, trusted_certificate),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_edugate_fetch_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_edugate_fetch_create_conf,    /* create main configuration */
    ngx_http_edugate_fetch_init_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_edugate_fetch_module = {
    NGX_MODULE_V1,
    &ngx_http_edugate_fetch_module_ctx,    /* module context */
    ngx_http_edugate_fetch_commands,       /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_edugate_fetch_create_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_fetch_conf_t  *fcf;

    fcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_fetch_conf_t));
    if (fcf == NULL) {
        return NULL;
    }

    fcf->timeout = NGX_CONF_UNSET_MSEC;

    return fcf;
}


static char *
ngx_http_edugate_fetch_init_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_edugate_fetch_conf_t *fcf = conf;

    ngx_conf_init_msec_value(fcf->timeout, 5000);

    if (fcf->timeout == 0
        || fcf->timeout > NGX_HTTP_EDUGATE_FETCH_TIMEOUT_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_fetch_timeout must be between 1ms and "
                           "%ds", NGX_HTTP_EDUGATE_FETCH_TIMEOUT_MAX / 1000);
        return NGX_CONF_ERROR;
    }

    fcf->ready = 1;

    /* a certificate file is checked at nginx -t even if nothing uses it */

    if (fcf->https || fcf->trusted_certificate.len) {
        return ngx_http_edugate_fetch_ssl_init(cf, fcf);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_fetch_trusted(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_edugate_fetch_conf_t *fcf = conf;

    ngx_http_edugate_conf_pos(cf, &fcf->trusted_pos);

    return ngx_conf_set_str_slot(cf, cmd, conf);
}


static char *
ngx_http_edugate_fetch_ssl_init(ngx_conf_t *cf,
    ngx_http_edugate_fetch_conf_t *fcf)
{
#if (NGX_SSL)
    ngx_str_t            file;
    ngx_pool_cleanup_t  *cln;

    if (fcf->ssl != NULL) {
        return NGX_CONF_OK;
    }

    if (fcf->trusted_certificate.len == 0) {
        ngx_http_edugate_conf_error(cf, &fcf->https_pos,
                                    "an https:// notification target needs "
                                    "\"edugate_fetch_trusted_certificate\" "
                                    "to verify its certificate");
        return NGX_CONF_ERROR;
    }

    fcf->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (fcf->ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    fcf->ssl->log = cf->log;

    if (ngx_ssl_create(fcf->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(fcf->ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = fcf->ssl;

    file = fcf->trusted_certificate;

    if (ngx_ssl_trusted_certificate(cf, fcf->ssl, &file, 8) != NGX_OK) {
        ngx_http_edugate_conf_error(cf, &fcf->trusted_pos,
                                    "edugate_fetch_trusted_certificate "
                                    "could not be loaded");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_http_edugate_conf_error(cf, &fcf->https_pos,
                                "https:// notification targets need nginx "
                                "built with SSL");
    return NGX_CONF_ERROR;

#endif
}


ngx_http_edugate_target_t *
ngx_http_edugate_target_create(ngx_conf_t *cf, ngx_str_t *url,
    const char **err)
{
    u_char                         *p;
    ngx_url_t                       u;
    eg_http_url_t                   hu;
    ngx_http_edugate_target_t      *t;
    ngx_http_edugate_fetch_conf_t  *fcf;

    *err = eg_http_url_parse(&hu, url->data, url->len);
    if (*err != NULL) {
        return NULL;
    }

    fcf = ngx_http_conf_get_module_main_conf(cf,
                                             ngx_http_edugate_fetch_module);

    t = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_target_t));
    if (t == NULL) {
        *err = "out of memory";
        return NULL;
    }

    t->conf = fcf;
    t->https = hu.https;
    t->ip_literal = hu.ip_literal;

    t->origin.data = url->data;
    t->origin.len = hu.authority + hu.authority_len - url->data;

    t->authority.data = (u_char *) hu.authority;
    t->authority.len = hu.authority_len;

    p = ngx_pnalloc(cf->pool, hu.host_len + 1 + hu.target_len + 1);
    if (p == NULL) {
        *err = "out of memory";
        return NULL;
    }

    t->host.data = p;
    t->host.len = hu.host_len;
    p = ngx_cpymem(p, hu.host, hu.host_len);
    *p++ = '\0';

    /* "https://a.example" asks for "/", "https://a.example?x" for "/?x" */

    t->uri.data = p;

    if (hu.target_len == 0 || hu.target[0] != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, hu.target, hu.target_len);
    t->uri.len = p - t->uri.data;

    /* resolved once, here: a notification never waits for DNS */

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = t->authority;
    u.default_port = t->https ? 443 : 80;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        *err = u.err ? u.err : "host not found";
        return NULL;
    }

    t->addrs = u.addrs;
    t->naddrs = u.naddrs;

    if (t->https) {
        if (!fcf->https) {
            fcf->https = 1;
            ngx_http_edugate_conf_pos(cf, &fcf->https_pos);
        }

        /* a target made after the http block was read */

        if (fcf->ready
            && ngx_http_edugate_fetch_ssl_init(cf, fcf) != NGX_CONF_OK)
        {
            *err = "TLS is not set up for notifications";
            return NULL;
        }
    }

    return t;
}


ngx_uint_t
ngx_http_edugate_target_https(ngx_http_edugate_target_t *t)
{
    return t->https;
}


ngx_uint_t
ngx_http_edugate_target_loopback(ngx_http_edugate_target_t *t)
{
    ngx_uint_t            i;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    for (i = 0; i < t->naddrs; i++) {

        switch (t->addrs[i].sockaddr->sa_family) {

        case AF_INET:
            sin = (struct sockaddr_in *) t->addrs[i].sockaddr;

            if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
                return 0;
            }

            break;

#if (NGX_HAVE_INET6)
        case AF_INET6:
            sin6 = (struct sockaddr_in6 *) t->addrs[i].sockaddr;

            if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
                return 0;
            }

            break;
#endif

        default:
            return 0;
        }
    }

    return t->naddrs > 0;
}
