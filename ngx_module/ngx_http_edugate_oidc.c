/*
 * Copyright (C) EduGate contributors
 *
 * ngx_http_edugate_oidc_module: an OpenID Connect provider on the EduGate
 * session.  This file holds the directives, the client registry and the
 * discovery document.
 *
 * Every endpoint URL is the origin of edugate_issuer followed by the name
 * of the location that serves it, so nothing a client sends (Host,
 * X-Forwarded-*) can change what the provider calls itself.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_fetch.h"
#include "ngx_http_edugate_oidc.h"
#include "eg_codec.h"
#include "eg_text.h"


#define NGX_HTTP_EDUGATE_OIDC_TTL_DAY   86400


static void *ngx_http_edugate_oidc_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_oidc_init_main_conf(ngx_conf_t *cf,
    void *conf);
static char *ngx_http_edugate_oidc_client(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_oidc_uri(ngx_conf_t *cf, ngx_array_t **list,
    ngx_str_t *value, size_t skip);
static char *ngx_http_edugate_oidc_endpoint(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_oidc_build_discovery(ngx_conf_t *cf,
    ngx_http_edugate_oidc_main_conf_t *ocf,
    ngx_http_edugate_main_conf_t *emcf);
static ngx_int_t ngx_http_edugate_oidc_discovery_handler(
    ngx_http_request_t *r);


static ngx_http_handler_pt  ngx_http_edugate_oidc_handlers[] = {
    ngx_http_edugate_oidc_authorize_handler,
    ngx_http_edugate_oidc_token_handler,
    ngx_http_edugate_oidc_userinfo_handler,
    ngx_http_edugate_oidc_revoke_handler,
    ngx_http_edugate_oidc_end_session_handler,
    ngx_http_edugate_oidc_discovery_handler
};


static ngx_command_t  ngx_http_edugate_oidc_commands[] = {

    { ngx_string("edugate_oidc_client"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_edugate_oidc_client,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_oidc_code_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_oidc_main_conf_t, code_ttl),
      NULL },

    { ngx_string("edugate_oidc_access_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_oidc_main_conf_t, access_ttl),
      NULL },

    { ngx_string("edugate_oidc_id_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_oidc_main_conf_t, id_ttl),
      NULL },

    { ngx_string("edugate_oidc_refresh_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_oidc_main_conf_t, refresh_ttl),
      NULL },

    { ngx_string("edugate_oidc_authorize"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_oidc_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_EDUGATE_OIDC_AUTHORIZE,
      NULL },

    { ngx_string("edugate_oidc_token"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_oidc_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_EDUGATE_OIDC_TOKEN,
      NULL },

    { ngx_string("edugate_oidc_userinfo"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_oidc_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_EDUGATE_OIDC_USERINFO,
      NULL },

    { ngx_string("edugate_oidc_revoke"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_oidc_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_EDUGATE_OIDC_REVOKE,
      NULL },

    { ngx_string("edugate_oidc_end_session"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_oidc_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_EDUGATE_OIDC_END_SESSION,
      NULL },

    { ngx_string("edugate_oidc_discovery"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_oidc_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_EDUGATE_OIDC_DISCOVERY,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_edugate_oidc_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_edugate_oidc_create_main_conf, /* create main configuration */
    ngx_http_edugate_oidc_init_main_conf,  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_edugate_oidc_module = {
    NGX_MODULE_V1,
    &ngx_http_edugate_oidc_module_ctx,     /* module context */
    ngx_http_edugate_oidc_commands,        /* module directives */
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


static ngx_str_t  ngx_http_edugate_oidc_json_type =
    ngx_string("application/json");


static void *
ngx_http_edugate_oidc_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    ocf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_oidc_main_conf_t));
    if (ocf == NULL) {
        return NULL;
    }

    ocf->code_ttl = NGX_CONF_UNSET;
    ocf->access_ttl = NGX_CONF_UNSET;
    ocf->id_ttl = NGX_CONF_UNSET;
    ocf->refresh_ttl = NGX_CONF_UNSET;

    return ocf;
}


static char *
ngx_http_edugate_oidc_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_edugate_oidc_main_conf_t *ocf = conf;

    ngx_uint_t                     i;
    eg_oidc_client_t              *c;
    ngx_http_edugate_main_conf_t  *emcf;

    ngx_conf_init_value(ocf->code_ttl, 60);
    ngx_conf_init_value(ocf->access_ttl, 600);
    ngx_conf_init_value(ocf->id_ttl, 600);
    ngx_conf_init_value(ocf->refresh_ttl, 30 * NGX_HTTP_EDUGATE_OIDC_TTL_DAY);

    /* RFC 6749 4.1.2: a code lives ten minutes at most */

    if (ocf->code_ttl <= 0 || ocf->code_ttl > 600) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_oidc_code_ttl must be between 1s "
                           "and 10m");
        return NGX_CONF_ERROR;
    }

    if (ocf->access_ttl <= 0 || ocf->access_ttl > NGX_HTTP_EDUGATE_OIDC_TTL_DAY
        || ocf->id_ttl <= 0 || ocf->id_ttl > NGX_HTTP_EDUGATE_OIDC_TTL_DAY)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_oidc_access_token_ttl and "
                           "edugate_oidc_id_token_ttl must be between 1s "
                           "and 1d");
        return NGX_CONF_ERROR;
    }

    if (ocf->refresh_ttl <= 0
        || ocf->refresh_ttl > 365 * NGX_HTTP_EDUGATE_OIDC_TTL_DAY)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_oidc_refresh_token_ttl must be between "
                           "1s and 365d");
        return NGX_CONF_ERROR;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);

    /* a revoked grant is remembered as long as any of its tokens lives */
    emcf->grant_ttl = ngx_max(ocf->refresh_ttl, ocf->access_ttl);

    if (!ocf->used) {
        return NGX_CONF_OK;
    }

    if (ocf->clients == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the edugate_oidc_* endpoints need at least one "
                           "\"edugate_oidc_client\"");
        return NGX_CONF_ERROR;
    }

    if (emcf->issuer.len == 0 || emcf->keyset == NULL
        || eg_jwt_keyset_active_alg(emcf->keyset) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the edugate_oidc_* endpoints need "
                           "\"edugate_issuer\" and an \"edugate_signing_key\" "
                           "that can sign");
        return NGX_CONF_ERROR;
    }

    /* browsers may call the token endpoint for public clients only */

    ocf->cors = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
    if (ocf->cors == NULL) {
        return NGX_CONF_ERROR;
    }

    c = ocf->clients->elts;

    for (i = 0; i < ocf->clients->nelts; i++) {
        size_t      j, k;
        eg_str_t    o;
        ngx_str_t  *origin;

        if (c[i].secret.len) {
            continue;
        }

        for (j = 0; j < c[i].nredirect; j++) {
            o = eg_oidc_origin(c[i].redirect_uris[j].data,
                               c[i].redirect_uris[j].len);

            origin = ocf->cors->elts;

            for (k = 0; k < ocf->cors->nelts; k++) {
                if (origin[k].len == o.len
                    && ngx_memcmp(origin[k].data, o.data, o.len) == 0)
                {
                    break;
                }
            }

            if (k < ocf->cors->nelts) {
                continue;
            }

            origin = ngx_array_push(ocf->cors);
            if (origin == NULL) {
                return NGX_CONF_ERROR;
            }

            origin->data = (u_char *) o.data;
            origin->len = o.len;
        }
    }

    return ngx_http_edugate_oidc_build_discovery(cf, ocf, emcf);
}


/*
 * edugate_oidc_client <id> secret=<s>|public redirect_uri=<uri>...
 *     [scopes=a,b] [post_logout_uri=<uri>...] [backchannel_logout_uri=<uri>]
 */

static char *
ngx_http_edugate_oidc_client(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_oidc_main_conf_t *ocf = conf;

    char              *rv;
    ngx_str_t         *value, url;
    ngx_uint_t         i, kind;
    ngx_array_t       *redirect, *logout;
    eg_oidc_client_t  *c;
    const char        *err;

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > EG_OIDC_CLIENT_ID_MAX
        || !eg_oidc_printable(value[1].data, value[1].len,
                              EG_OIDC_CLIENT_ID_MAX)
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, ' '))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid OIDC client id \"%V\": 1 to 64 "
                           "printable ASCII characters without spaces",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ocf->clients == NULL) {
        ocf->clients = ngx_array_create(cf->pool, 4,
                                        sizeof(eg_oidc_client_t));
        if (ocf->clients == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    c = ocf->clients->elts;

    if (eg_oidc_client_find(c, ocf->clients->nelts, value[1].data,
                            value[1].len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "OIDC client \"%V\" is registered twice",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    c = ngx_array_push(ocf->clients);
    if (c == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(c, sizeof(eg_oidc_client_t));

    c->id.data = value[1].data;
    c->id.len = value[1].len;
    c->scopes = EG_OIDC_SCOPE_OPENID|EG_OIDC_SCOPE_PROFILE;

    redirect = NULL;
    logout = NULL;
    kind = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "secret=", 7) == 0 && !(kind & 1)) {
            kind |= 1;
            c->secret.data = value[i].data + 7;
            c->secret.len = value[i].len - 7;

            if (c->secret.len < 16) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "the secret of OIDC client \"%V\" must "
                                   "have at least 16 characters", &value[1]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "public") == 0 && !(kind & 1)) {
            kind |= 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "redirect_uri=", 13) == 0) {
            rv = ngx_http_edugate_oidc_uri(cf, &redirect, &value[i], 13);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "post_logout_uri=", 16) == 0) {
            rv = ngx_http_edugate_oidc_uri(cf, &logout, &value[i], 16);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "backchannel_logout_uri=", 23) == 0
            && c->backchannel.len == 0)
        {
            c->backchannel.data = value[i].data + 23;
            c->backchannel.len = value[i].len - 23;

            err = eg_oidc_uri_check(c->backchannel.data, c->backchannel.len);
            if (err != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": %s", &value[i], err);
                return NGX_CONF_ERROR;
            }

            /* resolved now: a logout never waits for DNS */

            url.data = (u_char *) c->backchannel.data;
            url.len = c->backchannel.len;

            c->data = ngx_http_edugate_target_create(cf, &url, &err);
            if (c->data == NULL) {
                if (err != NULL) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid \"%V\": %s", &value[i],
                                       err);
                }

                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "grant_types=", 12) == 0
            && !(kind & 4))
        {
            kind |= 4;

            if (eg_oidc_grant_types_parse(value[i].data + 12,
                                          value[i].len - 12, &c->grants)
                != 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": the grant types are "
                                   "authorization_code and "
                                   "client_credentials", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "scopes=", 7) == 0 && !(kind & 2)) {
            kind |= 2;

            if (eg_oidc_scope_parse_list(value[i].data + 7, value[i].len - 7,
                                         &c->scopes)
                != 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": the scopes are openid, "
                                   "profile, edu and offline_access",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid or duplicate parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (!(kind & 4)) {
        c->grants = EG_OIDC_GRANT_CODE;
    }

    if (!(kind & 1)
        || ((c->grants & EG_OIDC_GRANT_CODE) && redirect == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "OIDC client \"%V\" needs \"secret=\" or "
                           "\"public\", and at least one \"redirect_uri=\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    /* checklist row 25: a client without a secret is nobody on its own */

    if ((c->grants & EG_OIDC_GRANT_CLIENT) && c->secret.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "public OIDC client \"%V\" cannot use "
                           "client_credentials", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (redirect) {
        c->redirect_uris = redirect->elts;
        c->nredirect = redirect->nelts;
    }

    if (logout) {
        c->logout_uris = logout->elts;
        c->nlogout = logout->nelts;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_oidc_uri(ngx_conf_t *cf, ngx_array_t **list,
    ngx_str_t *value, size_t skip)
{
    eg_str_t    *u;
    const char  *err;

    err = eg_oidc_uri_check(value->data + skip, value->len - skip);
    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid \"%V\": %s",
                           value, err);
        return NGX_CONF_ERROR;
    }

    if (*list == NULL) {
        *list = ngx_array_create(cf->pool, 2, sizeof(eg_str_t));
        if (*list == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    u = ngx_array_push(*list);
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    u->data = value->data + skip;
    u->len = value->len - skip;

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_oidc_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_edugate_oidc_main_conf_t *ocf = conf;

    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_edugate_main_conf_t  *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    if (ocf->paths[cmd->offset].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is already served by location \"%V\"",
                           &cmd->name, &ocf->paths[cmd->offset]);
        return NGX_CONF_ERROR;
    }

    if (clcf->name.len == 0 || clcf->name.data[0] != '/'
        || clcf->regex || clcf->named)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a plain location path, such as "
                           "\"location = /oauth2/token\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->handler = ngx_http_edugate_oidc_handlers[cmd->offset];
    ocf->paths[cmd->offset] = clcf->name;
    ocf->used = 1;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
    emcf->enabled = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_oidc_build_discovery(ngx_conf_t *cf,
    ngx_http_edugate_oidc_main_conf_t *ocf,
    ngx_http_edugate_main_conf_t *emcf)
{
    char              *text;
    json_t            *doc, *v;
    eg_str_t           origin;
    ngx_str_t          url;
    ngx_uint_t         i;
    eg_oidc_client_t  *c;

    static const char  *names[] = {
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
        NULL
    };

    origin = eg_oidc_origin(emcf->issuer.data, emcf->issuer.len);

    doc = json_pack("{s:s, s:[s], s:[s], s:[s, s], s:[s], s:[s], s:[s],"
                    " s:[s, s, s, s], s:[s, s, s], s:b, s:b, s:[s, s]}",
                    "issuer", (const char *) emcf->issuer.data,
                    "response_types_supported", "code",
                    "response_modes_supported", "query",
                    "grant_types_supported", "authorization_code",
                    "refresh_token",
                    "subject_types_supported", "public",
                    "id_token_signing_alg_values_supported",
                    eg_jwt_alg_name(eg_jwt_keyset_active_alg(emcf->keyset)),
                    "code_challenge_methods_supported", "S256",
                    "scopes_supported", "openid", "profile", "edu",
                    "offline_access",
                    "token_endpoint_auth_methods_supported",
                    "client_secret_basic", "client_secret_post", "none",
                    "authorization_response_iss_parameter_supported", 1,
                    "backchannel_logout_supported", 1,
                    "prompt_values_supported", "none", "login");
    if (doc == NULL) {
        return NGX_CONF_ERROR;
    }

    v = json_pack("[s, s, s, s, s, s, s, s, s, s, s, s, s, s, s]",
                  "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
                  "sid", "name", "preferred_username", "roles", "org",
                  "org_path", "level", "school");

    if (v == NULL
        || json_array_append_new(v, json_string("grade")) != 0
        || json_array_append_new(v, json_string("class")) != 0
        || json_object_set_new(doc, "claims_supported", v) != 0
        || json_object_set_new(doc, "backchannel_logout_session_supported",
                               json_true())
           != 0)
    {
        json_decref(doc);
        return NGX_CONF_ERROR;
    }

    /* advertised only when some client may use it */

    c = ocf->clients->elts;

    for (i = 0; i < ocf->clients->nelts; i++) {
        if (c[i].grants & EG_OIDC_GRANT_CLIENT) {
            if (json_array_append_new(json_object_get(doc,
                                                   "grant_types_supported"),
                                      json_string("client_credentials"))
                != 0)
            {
                json_decref(doc);
                return NGX_CONF_ERROR;
            }

            break;
        }
    }

    for (i = 0; names[i]; i++) {
        if (ocf->paths[i].len == 0) {
            continue;
        }

        url.len = origin.len + ocf->paths[i].len;
        url.data = ngx_pnalloc(cf->pool, url.len);
        if (url.data == NULL) {
            json_decref(doc);
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(ngx_cpymem(url.data, origin.data, origin.len),
                   ocf->paths[i].data, ocf->paths[i].len);

        if (json_object_set_new(doc, names[i],
                                json_stringn((char *) url.data, url.len))
            != 0)
        {
            json_decref(doc);
            return NGX_CONF_ERROR;
        }
    }

    if (emcf->jwks_path.len) {
        url.len = origin.len + emcf->jwks_path.len;
        url.data = ngx_pnalloc(cf->pool, url.len);
        if (url.data == NULL) {
            json_decref(doc);
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(ngx_cpymem(url.data, origin.data, origin.len),
                   emcf->jwks_path.data, emcf->jwks_path.len);

        if (json_object_set_new(doc, "jwks_uri",
                                json_stringn((char *) url.data, url.len))
            != 0)
        {
            json_decref(doc);
            return NGX_CONF_ERROR;
        }
    }

    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);

    if (text == NULL) {
        return NGX_CONF_ERROR;
    }

    ocf->discovery.len = ngx_strlen(text);
    ocf->discovery.data = ngx_pnalloc(cf->pool, ocf->discovery.len);

    if (ocf->discovery.data == NULL) {
        free(text);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(ocf->discovery.data, text, ocf->discovery.len);
    free(text);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_edugate_oidc_discovery_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    rc = ngx_http_edugate_oidc_start(r, NGX_HTTP_GET|NGX_HTTP_HEAD,
                                     "the discovery endpoint");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    if (ngx_http_edugate_add_header(r, "Cache-Control", "public, max-age=300")
        == NULL
        || ngx_http_edugate_add_header(r, "Access-Control-Allow-Origin", "*")
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;

    return ngx_http_edugate_send_body(r, &ngx_http_edugate_oidc_json_type,
                                      ocf->discovery.data,
                                      ocf->discovery.len);
}
