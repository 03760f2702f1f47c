/*
 * Copyright (C) EduGate contributors
 *
 * ngx_http_edugate_cas_module: a CAS 3.0 server on the EduGate session.
 *
 *   /cas/login      registered service only; with a session a service
 *                   ticket and 302 back, else the login page and back here
 *   /cas/validate   CAS 1.0 text answer
 *   /cas/serviceValidate, /cas/p3/serviceValidate
 *                   CAS 2.0 / 3.0 XML answer (3.0 adds attributes);
 *                   with pgtUrl a proxy-granting ticket for proxies
 *   /cas/proxyValidate, /cas/p3/proxyValidate
 *                   the same, for proxy tickets too
 *   /cas/proxy      a proxy ticket for a proxy-granting ticket
 *   /cas/logout     ends the session everywhere
 *
 * A ticket lives in Redis under the SHA-256 of its text and is consumed
 * by the first validation that reaches Redis, whatever its outcome, so
 * that a ticket is never accepted twice, by any node.  Services that ask
 * for single logout are told when the session ends.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <libxml/parser.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_cas.h"
#include "eg_codec.h"
#include "eg_text.h"


#define NGX_HTTP_EDUGATE_CAS_TTL_MAX   300


static ngx_int_t ngx_http_edugate_cas_init_module(ngx_cycle_t *cycle);
static void *ngx_http_edugate_cas_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_cas_init_main_conf(ngx_conf_t *cf,
    void *conf);
static char *ngx_http_edugate_cas_service(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_cas_service_links(ngx_conf_t *cf,
    eg_cas_service_t *svc, ngx_str_t *logout_url, ngx_uint_t slo,
    ngx_str_t *callback);
static char *ngx_http_edugate_cas_handler(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_cas_service_validate(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_cas_set_handler(ngx_conf_t *cf,
    ngx_http_edugate_cas_main_conf_t *ccf, ngx_http_handler_pt handler);


static ngx_command_t  ngx_http_edugate_cas_commands[] = {

    { ngx_string("edugate_cas_service"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_cas_service,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_cas_ticket_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_cas_main_conf_t, ticket_ttl),
      NULL },

    { ngx_string("edugate_cas_login"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_cas_handler,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      ngx_http_edugate_cas_login_handler },

    { ngx_string("edugate_cas_validate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_cas_handler,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      ngx_http_edugate_cas_validate1_handler },

    { ngx_string("edugate_cas_service_validate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_edugate_cas_service_validate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_cas_proxy_validate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_edugate_cas_service_validate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_cas_proxy"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_cas_handler,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      ngx_http_edugate_cas_proxy_handler },

    { ngx_string("edugate_cas_logout"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_cas_handler,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      ngx_http_edugate_cas_logout_handler },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_edugate_cas_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_edugate_cas_create_main_conf, /* create main configuration */
    ngx_http_edugate_cas_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_edugate_cas_module = {
    NGX_MODULE_V1,
    &ngx_http_edugate_cas_module_ctx,      /* module context */
    ngx_http_edugate_cas_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_edugate_cas_init_module,      /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_http_edugate_cas_ctx_t *
ngx_http_edugate_cas_ctx(ngx_http_request_t *r)
{
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_cas_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_edugate_cas_module);
    }

    return ctx;
}


eg_form_rc_e
ngx_http_edugate_cas_args(ngx_http_request_t *r, eg_form_field_t *fields,
    ngx_uint_t n)
{
    u_char  *buf;

    buf = ngx_pnalloc(r->pool, r->args.len + 1);
    if (buf == NULL) {
        return EG_FORM_BAD_ENCODING;
    }

    return eg_form_parse(r->args.data, r->args.len, fields, n, buf);
}


/* the specification only says "set"; "false" is read as unset */

ngx_uint_t
ngx_http_edugate_cas_flag(eg_form_field_t *f)
{
    if (!f->seen) {
        return 0;
    }

    return !(f->len == 5
             && ngx_strncasecmp(f->value, (u_char *) "false", 5) == 0);
}


const eg_cas_service_t *
ngx_http_edugate_cas_find(ngx_http_request_t *r, ngx_str_t *service)
{
    const char                        *err;
    const eg_cas_service_t            *svc;
    ngx_http_edugate_cas_main_conf_t  *ccf;

    ccf = ngx_http_get_module_main_conf(r, ngx_http_edugate_cas_module);

    err = eg_cas_service_check(service->data, service->len);

    svc = (err == NULL && ccf->services)
          ? eg_cas_service_find(ccf->services->elts, ccf->services->nelts,
                                service->data, service->len)
          : NULL;

    if (svc == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_service: service \"%s\" is not "
                      "registered%s%s",
                      ngx_http_edugate_cas_log_value(r, service->data,
                                                     service->len),
                      err ? ": " : "", err ? err : "");
    }

    return svc;
}


/*
 * The start every CAS endpoint shares: the method check, the request body
 * dropped, the request ctx.  NGX_DECLINED: go on with *ctx; anything else
 * is the answer already given.
 */

ngx_int_t
ngx_http_edugate_cas_start(ngx_http_request_t *r, ngx_uint_t methods,
    const char *endpoint, ngx_http_edugate_cas_ctx_t **ctx)
{
    if (!(r->method & methods)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: %V on %s",
                      &r->method_name, endpoint);
        return ngx_http_edugate_cas_page(r, NGX_HTTP_NOT_ALLOWED,
                                         "method_not_allowed");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ctx = ngx_http_edugate_cas_ctx(r);
    if (*ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_edugate_cas_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *code)
{
    ngx_http_edugate_ctx_t  *ectx;

    ectx = ngx_http_edugate_get_ctx(r);
    if (ectx != NULL) {
        ectx->error.data = (u_char *) code;
        ectx->error.len = ngx_strlen(code);
    }

    return ngx_http_edugate_send_error(r, status, code, NULL);
}


/* the Redis key of a ticket: prefix and the ticket's SHA-256; 0 on error */

size_t
ngx_http_edugate_cas_key(u_char *key, const char *prefix, u_char *ticket,
    size_t len)
{
    size_t  n;

    n = ngx_strlen(prefix);

    if (n + NGX_HTTP_EDUGATE_HASH_LEN > NGX_HTTP_EDUGATE_CAS_KEY_LEN) {
        return 0;
    }

    ngx_memcpy(key, prefix, n);

    if (eg_sha256_hex(key + n, ticket, len) != 0) {
        return 0;
    }

    return n + NGX_HTTP_EDUGATE_HASH_LEN;
}


/* a log-safe, bounded copy of a client-supplied value */

u_char *
ngx_http_edugate_cas_log_value(ngx_http_request_t *r, u_char *data,
    size_t len)
{
    u_char  *p;
    size_t   n;

    n = ngx_min(len, 256);

    p = ngx_pnalloc(r->pool, eg_log_escape_len(data, n) + 1);
    if (p == NULL) {
        return (u_char *) "";
    }

    p[eg_log_escape(p, data, n)] = '\0';

    return p;
}


static ngx_int_t
ngx_http_edugate_cas_init_module(ngx_cycle_t *cycle)
{
    /* before workers and the LDAP threads exist */
    xmlInitParser();

    return NGX_OK;
}


static void *
ngx_http_edugate_cas_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_cas_main_conf_t  *ccf;

    ccf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_cas_main_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    ccf->services = NGX_CONF_UNSET_PTR;
    ccf->ticket_ttl = NGX_CONF_UNSET;

    return ccf;
}


static char *
ngx_http_edugate_cas_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_edugate_cas_main_conf_t *ccf = conf;

    ngx_conf_init_ptr_value(ccf->services, NULL);
    ngx_conf_init_value(ccf->ticket_ttl, 10);

    /* CAS 3.0 section 3.1.1 recommends at most five minutes */

    if (ccf->ticket_ttl <= 0
        || ccf->ticket_ttl > NGX_HTTP_EDUGATE_CAS_TTL_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_cas_ticket_ttl must be between 1s and "
                           "%ds", NGX_HTTP_EDUGATE_CAS_TTL_MAX);
        return NGX_CONF_ERROR;
    }

    if (ccf->used && ccf->services == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the edugate_cas_* endpoints need at least one "
                           "\"edugate_cas_service\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_cas_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_cas_main_conf_t *ccf = conf;

    const char        *err;
    ngx_str_t         *value, opt, logout_url, callback;
    ngx_uint_t         i, seen_match, seen_attrs, seen_slo, seen_proxy;
    ngx_uint_t         slo, proxy;
    eg_cas_service_t  *svc, *s;

    value = cf->args->elts;

    err = eg_cas_service_check(value[1].data, value[1].len);
    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid CAS service \"%V\": %s", &value[1], err);
        return NGX_CONF_ERROR;
    }

    if (ccf->services == NGX_CONF_UNSET_PTR) {
        ccf->services = ngx_array_create(cf->pool, 4,
                                         sizeof(eg_cas_service_t));
        if (ccf->services == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    s = ccf->services->elts;

    for (i = 0; i < ccf->services->nelts; i++) {
        if (s[i].len == value[1].len
            && ngx_memcmp(s[i].url, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "CAS service \"%V\" is registered twice",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    svc = ngx_array_push(ccf->services);
    if (svc == NULL) {
        return NGX_CONF_ERROR;
    }

    svc->url = value[1].data;
    svc->len = value[1].len;
    svc->match = EG_CAS_MATCH_EXACT;
    svc->attrs = 0;
    svc->data = NULL;

    seen_match = 0;
    seen_attrs = 0;
    seen_slo = 0;
    seen_proxy = 0;
    slo = 0;
    proxy = 0;
    ngx_str_null(&logout_url);
    ngx_str_null(&callback);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "match=", 6) == 0 && !seen_match) {
            seen_match = 1;

            if (ngx_strcmp(value[i].data, "match=exact") == 0) {
                svc->match = EG_CAS_MATCH_EXACT;
                continue;
            }

            if (ngx_strcmp(value[i].data, "match=prefix") == 0) {
                svc->match = EG_CAS_MATCH_PREFIX;
                continue;
            }

        } else if (ngx_strncmp(value[i].data, "attributes=", 11) == 0
                   && !seen_attrs)
        {
            seen_attrs = 1;

            opt.data = value[i].data + 11;
            opt.len = value[i].len - 11;

            if (eg_cas_attr_parse(opt.data, opt.len, &svc->attrs) == 0) {
                continue;
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\": the attributes are name, "
                               "roles, org, orgPath, level, school, grade "
                               "and class", &value[i]);
            return NGX_CONF_ERROR;

        } else if (ngx_strncmp(value[i].data, "slo=", 4) == 0 && !seen_slo) {
            seen_slo = 1;

            if (ngx_strcmp(value[i].data, "slo=on") == 0) {
                slo = 1;
                continue;
            }

            if (ngx_strcmp(value[i].data, "slo=off") == 0) {
                continue;
            }

        } else if (ngx_strncmp(value[i].data, "logout_url=", 11) == 0
                   && logout_url.len == 0 && value[i].len > 11)
        {
            logout_url.data = value[i].data + 11;
            logout_url.len = value[i].len - 11;
            continue;

        } else if (ngx_strncmp(value[i].data, "proxy=", 6) == 0
                   && !seen_proxy)
        {
            seen_proxy = 1;

            if (ngx_strcmp(value[i].data, "proxy=on") == 0) {
                proxy = 1;
                continue;
            }

            if (ngx_strcmp(value[i].data, "proxy=off") == 0) {
                continue;
            }

        } else if (ngx_strncmp(value[i].data, "proxy_callback=", 15) == 0
                   && callback.len == 0 && value[i].len > 15)
        {
            callback.data = value[i].data + 15;
            callback.len = value[i].len - 15;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid or duplicate parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (slo && logout_url.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"slo=on\" and \"logout_url=\" exclude each "
                           "other: logout_url= alone turns single logout "
                           "on");
        return NGX_CONF_ERROR;
    }

    if (proxy != (callback.len != 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"proxy=on\" and \"proxy_callback=\" go "
                           "together: a proxy is known by its callback "
                           "URL");
        return NGX_CONF_ERROR;
    }

    if (slo || logout_url.len || proxy) {
        return ngx_http_edugate_cas_service_links(cf, svc, &logout_url, slo,
                                                  &callback);
    }

    return NGX_CONF_OK;
}


/*
 * The hosts a service is called back on are resolved now, never while a
 * request waits.  A proxy callback receives proxy-granting tickets, so it
 * must be https:// (the certificate verified) unless every address of its
 * host is a loopback one.
 */

static char *
ngx_http_edugate_cas_service_links(ngx_conf_t *cf, eg_cas_service_t *svc,
    ngx_str_t *logout_url, ngx_uint_t slo, ngx_str_t *callback)
{
    ngx_str_t                         url;
    const char                       *err;
    ngx_http_edugate_cas_svc_conf_t  *scf;

    scf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_cas_svc_conf_t));
    if (scf == NULL) {
        return NGX_CONF_ERROR;
    }

    svc->data = scf;

    if (slo || logout_url->len) {
        url.data = logout_url->len ? logout_url->data : (u_char *) svc->url;
        url.len = logout_url->len ? logout_url->len : svc->len;

        scf->slo = ngx_http_edugate_target_create(cf, &url, &err);
        if (scf->slo == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid single logout URL \"%V\": %s",
                               &url, err);
            return NGX_CONF_ERROR;
        }

        scf->slo_own_uri = (logout_url->len != 0);
    }

    if (callback->len == 0) {
        return NGX_CONF_OK;
    }

    err = eg_cas_callback_check(callback->data, callback->len);

    if (err == NULL) {
        scf->callback = ngx_http_edugate_target_create(cf, callback, &err);
    }

    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid proxy_callback \"%V\": %s",
                           callback, err);
        return NGX_CONF_ERROR;
    }

    if (!ngx_http_edugate_target_https(scf->callback)
        && !ngx_http_edugate_target_loopback(scf->callback))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid proxy_callback \"%V\": proxy-granting "
                           "tickets are sent over https:// only, or over "
                           "http:// to a host on a loopback address",
                           callback);
        return NGX_CONF_ERROR;
    }

    scf->callback_prefix.url = callback->data;
    scf->callback_prefix.len = callback->len;
    scf->callback_prefix.match = EG_CAS_MATCH_PREFIX;

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_cas_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_edugate_cas_set_handler(cf, conf,
                                            (ngx_http_handler_pt) cmd->post);
}


/*
 * "2" (default): the CAS 2.0 answer, user only; "3": with attributes.
 * edugate_cas_proxy_validate accepts proxy tickets too.
 */

static char *
ngx_http_edugate_cas_service_validate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t            *value;
    ngx_uint_t            proxy;
    ngx_http_handler_pt   handler;

    proxy = (ngx_strcmp(cmd->name.data, "edugate_cas_proxy_validate") == 0);

    handler = proxy ? ngx_http_edugate_cas_proxy_validate2_handler
                    : ngx_http_edugate_cas_validate2_handler;

    if (cf->args->nelts == 2) {
        value = cf->args->elts;

        if (value[1].len == 1 && value[1].data[0] == '3') {
            handler = proxy ? ngx_http_edugate_cas_proxy_validate3_handler
                            : ngx_http_edugate_cas_validate3_handler;

        } else if (value[1].len != 1 || value[1].data[0] != '2') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid CAS protocol version \"%V\", "
                               "expected 2 or 3", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_edugate_cas_set_handler(cf, conf, handler);
}


/* a CAS endpoint needs the session store, as login and logout do */

static char *
ngx_http_edugate_cas_set_handler(ngx_conf_t *cf,
    ngx_http_edugate_cas_main_conf_t *ccf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_edugate_main_conf_t  *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    clcf->handler = handler;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
    emcf->enabled = 1;

    ccf->used = 1;

    return NGX_CONF_OK;
}
