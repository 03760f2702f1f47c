/*
 * Copyright (C) EduGate contributors
 *
 * Our signing keys: the issuer and the key set are read from the
 * configuration, and edugate_jwks publishes the public halves as a JWKS,
 * built once at start.  Tokens are signed and checked elsewhere, always
 * with this key set.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "eg_jwt.h"


static ngx_uint_t ngx_http_edugate_issuer_ok(ngx_str_t *url);
static void ngx_http_edugate_keyset_cleanup(void *data);
static ngx_int_t ngx_http_edugate_jwks_handler(ngx_http_request_t *r);


static ngx_str_t  ngx_http_edugate_loopback[] = {
    ngx_string("127.0.0.1"),
    ngx_string("localhost"),
    ngx_string("[::1]"),
    ngx_null_string
};


char *
ngx_http_edugate_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    if (!ngx_http_edugate_issuer_ok(&value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid edugate_issuer \"%V\": expected an "
                           "https:// URL without query or fragment "
                           "(http:// only for a loopback host)", &value[1]);
        return NGX_CONF_ERROR;
    }

    return ngx_conf_set_str_slot(cf, cmd, conf);
}


/*
 * The issuer names us in every token and in discovery: it must be a URL
 * that clients can compare byte for byte, so nothing is normalised here.
 */

static ngx_uint_t
ngx_http_edugate_issuer_ok(ngx_str_t *url)
{
    u_char      *p, *last, *host, *end;
    ngx_str_t   *lb;
    ngx_uint_t   secure;

    p = url->data;
    last = url->data + url->len;

    for ( /* void */ ; p < last; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#'
            || *p == '\\' || *p == '"')
        {
            return 0;
        }
    }

    p = url->data;

    if (url->len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
        host = p + 8;
        secure = 1;

    } else if (url->len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
        host = p + 7;
        secure = 0;

    } else {
        return 0;
    }

    end = ngx_strlchr(host, last, '/');
    if (end == NULL) {
        end = last;
    }

    if (end == host || ngx_strlchr(host, end, '@') != NULL) {
        return 0;
    }

    if (secure) {
        return 1;
    }

    /* plain http only where nothing crosses a network */

    if (*host != '[') {
        p = ngx_strlchr(host, end, ':');
        if (p != NULL) {
            end = p;
        }

    } else {
        p = ngx_strlchr(host, end, ']');
        if (p == NULL) {
            return 0;
        }

        end = p + 1;
    }

    for (lb = ngx_http_edugate_loopback; lb->len; lb++) {
        if ((size_t) (end - host) == lb->len
            && ngx_strncasecmp(host, lb->data, lb->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


char *
ngx_http_edugate_signing_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    char                *kid;
    size_t               n;
    ngx_str_t           *value, path;
    ngx_uint_t           i, active;
    eg_jwt_alg_e         alg;
    ngx_pool_cleanup_t  *cln;
    char                 err[EG_JWT_ERR_MAX];

    value = cf->args->elts;

    kid = NULL;
    alg = EG_JWT_RS256;
    active = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0 && kid == NULL) {
            /* configuration tokens are NUL-terminated */
            kid = (char *) value[i].data + 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            alg = eg_jwt_alg_from_str((char *) value[i].data + 4,
                                      value[i].len - 4);
            if (alg == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": alg must be RS256 or "
                                   "ES256", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len == 6 && ngx_strcmp(value[i].data, "active") == 0
            && !active)
        {
            active = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (active && emcf->key_activated) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "only one edugate_signing_key can be \"active\"");
        return NGX_CONF_ERROR;
    }

    if (emcf->keyset == NULL) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        emcf->keyset = eg_jwt_keyset_create();
        if (emcf->keyset == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_edugate_keyset_cleanup;
        cln->data = emcf->keyset;
    }

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (eg_jwt_keyset_add_file(emcf->keyset, (char *) path.data, kid, alg,
                               err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_signing_key \"%V\": %s", &path, err);
        return NGX_CONF_ERROR;
    }

    if (active) {
        n = eg_jwt_keyset_count(emcf->keyset);

        if (eg_jwt_keyset_activate(emcf->keyset,
                                   eg_jwt_keyset_kid(emcf->keyset, n - 1))
            != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "edugate_signing_key \"%V\" is a public key: "
                               "only a private key can be \"active\"",
                               &path);
            return NGX_CONF_ERROR;
        }

        emcf->key_activated = 1;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_edugate_keyset_cleanup(void *data)
{
    eg_jwt_keyset_free(data);
}


char *
ngx_http_edugate_token_leeway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    char  *rv;

    rv = ngx_conf_set_sec_slot(cf, cmd, conf);

    if (rv == NGX_CONF_OK && emcf->token_leeway > EG_JWT_LEEWAY_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_token_leeway must be at most %ds",
                           EG_JWT_LEEWAY_MAX);
        return NGX_CONF_ERROR;
    }

    return rv;
}


char *
ngx_http_edugate_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_edugate_jwks_handler;
    emcf->jwks_path = clcf->name;

    return NGX_CONF_OK;
}


/* the JWKS is made once here: the key set never changes while serving */

char *
ngx_http_edugate_token_init_conf(ngx_conf_t *cf,
    ngx_http_edugate_main_conf_t *emcf)
{
    char  *text;

    ngx_conf_init_value(emcf->token_leeway, 30);

    if (emcf->token_audience.len == 0) {
        emcf->token_audience = emcf->issuer;
    }

    if (emcf->keyset == NULL) {
        ngx_str_set(&emcf->jwks, "{\"keys\":[]}");
        return NGX_CONF_OK;
    }

    if (emcf->issuer.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_signing_key needs edugate_issuer");
        return NGX_CONF_ERROR;
    }

    text = eg_jwt_keyset_jwks(emcf->keyset);
    if (text == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate: cannot build the JWKS");
        return NGX_CONF_ERROR;
    }

    emcf->jwks.len = ngx_strlen(text);
    emcf->jwks.data = ngx_pnalloc(cf->pool, emcf->jwks.len);

    if (emcf->jwks.data != NULL) {
        ngx_memcpy(emcf->jwks.data, text, emcf->jwks.len);
    }

    free(text);

    return emcf->jwks.data ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_edugate_jwks_handler(ngx_http_request_t *r)
{
    static ngx_str_t  type = ngx_string("application/json");

    ngx_int_t                      rc;
    ngx_http_edugate_main_conf_t  *emcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: %V on the JWKS "
                      "endpoint", &r->method_name);

        if (ngx_http_discard_request_body(r) != NGX_OK
            || ngx_http_edugate_add_header(r, "Allow", "GET, HEAD") == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_edugate_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                           "method_not_allowed", NULL);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (ngx_http_edugate_add_header(r, "Cache-Control", "public, max-age=300")
        == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;

    return ngx_http_edugate_send_body(r, &type, emcf->jwks.data,
                                      emcf->jwks.len);
}
