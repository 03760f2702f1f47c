/*
 * Copyright (C) EduGate contributors
 *
 * ngx_http_edugate_module: directives, configuration and registration.
 * Everything that can be checked is checked here, so that a broken
 * configuration fails at "nginx -t" with the file and line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "eg_ldap_filter.h"


static ngx_int_t ngx_http_edugate_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_edugate_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_edugate_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_edugate_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_edugate_init_process(ngx_cycle_t *cycle);
static void ngx_http_edugate_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_edugate_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_ldap_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_bind_dn(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_ldap_filter(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_ldap_attr(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_return_hosts(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_words(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_policy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_protect(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_check_path(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_enum_t  ngx_http_edugate_cookie_secure[] = {
    { ngx_string("off"), NGX_HTTP_EDUGATE_COOKIE_SECURE_OFF },
    { ngx_string("on"), NGX_HTTP_EDUGATE_COOKIE_SECURE_ON },
    { ngx_string("auto"), NGX_HTTP_EDUGATE_COOKIE_SECURE_AUTO },
    { ngx_null_string, 0 }
};


static ngx_conf_post_t  ngx_http_edugate_path_post = {
    ngx_http_edugate_check_path
};


static ngx_str_t  ngx_http_edugate_attr_names[] = {
    ngx_string("uid"),
    ngx_string("name"),
    ngx_string("roles"),
    ngx_string("level"),
    ngx_string("school"),
    ngx_string("grade"),
    ngx_string("class"),
    ngx_string("uuid")
};


static ngx_str_t  ngx_http_edugate_attr_defaults[] = {
    ngx_string("uid"),
    ngx_string("cn"),
    ngx_string("eduRole"),
    ngx_string("eduOrgLevel"),
    ngx_string("eduSchoolCode"),
    ngx_string("eduGrade"),
    ngx_string("eduClass"),
    ngx_string("entryUUID")
};


static ngx_str_t  ngx_http_edugate_default_levels[] = {
    ngx_string("national"),
    ngx_string("province"),
    ngx_string("city"),
    ngx_string("district"),
    ngx_string("school")
};


static ngx_command_t  ngx_http_edugate_commands[] = {

    { ngx_string("edugate_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_redis_password"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, redis_password),
      NULL },

    { ngx_string("edugate_redis_db"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, redis_db),
      NULL },

    { ngx_string("edugate_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, redis_timeout),
      NULL },

    { ngx_string("edugate_ldap_uri"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_ldap_uri,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_ldap_base"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, ldap_base),
      NULL },

    { ngx_string("edugate_ldap_bind_dn"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_bind_dn,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, ldap_bind_dn),
      NULL },

    { ngx_string("edugate_ldap_bind_password"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, ldap_bind_password),
      NULL },

    { ngx_string("edugate_ldap_filter"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_ldap_filter,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, ldap_filter),
      NULL },

    { ngx_string("edugate_ldap_org_attr"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, ldap_org_attr),
      NULL },

    { ngx_string("edugate_ldap_attr"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_edugate_ldap_attr,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_ldap_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, ldap_timeout),
      NULL },

    { ngx_string("edugate_ldap_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, ldap_pool_name),
      NULL },

    { ngx_string("edugate_session_idle"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, session_idle),
      NULL },

    { ngx_string("edugate_session_max"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, session_max),
      NULL },

    { ngx_string("edugate_session_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, session_cache),
      NULL },

    { ngx_string("edugate_session_cache_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, session_cache_size),
      NULL },

    { ngx_string("edugate_cookie_name"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, cookie_name),
      NULL },

    { ngx_string("edugate_cookie_secure"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, cookie_secure),
      &ngx_http_edugate_cookie_secure },

    { ngx_string("edugate_login_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, login_url),
      &ngx_http_edugate_path_post },

    { ngx_string("edugate_return_hosts"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_return_hosts,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_login_max_failures"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, max_failures),
      NULL },

    { ngx_string("edugate_login_ip_max_failures"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, ip_max_failures),
      NULL },

    { ngx_string("edugate_login_lockout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, lockout),
      NULL },

    { ngx_string("edugate_login_lockout_max"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, lockout_max),
      NULL },

    { ngx_string("edugate_login_fail_window"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, fail_window),
      NULL },

    { ngx_string("edugate_login_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, login_max_body),
      NULL },

    { ngx_string("edugate_org_levels"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_words,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, org_levels),
      NULL },

    { ngx_string("edugate_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_issuer,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, issuer),
      NULL },

    { ngx_string("edugate_signing_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_signing_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_access_token_audience"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, token_audience),
      NULL },

    { ngx_string("edugate_token_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_token_leeway,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_main_conf_t, token_leeway),
      NULL },

    { ngx_string("edugate_jwks"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_jwks,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_login"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_edugate_login_handler },

    { ngx_string("edugate_logout"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_edugate_logout_handler },

    { ngx_string("edugate_protect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_edugate_protect,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_loc_conf_t, protect),
      NULL },

    { ngx_string("edugate_allow_roles"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_policy,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_loc_conf_t, allow_roles),
      NULL },

    { ngx_string("edugate_allow_org"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_policy,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_loc_conf_t, allow_orgs),
      NULL },

    { ngx_string("edugate_allow_clients"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_policy,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_loc_conf_t, allow_clients),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_edugate_module_ctx = {
    ngx_http_edugate_preconfiguration,     /* preconfiguration */
    ngx_http_edugate_postconfiguration,    /* postconfiguration */

    ngx_http_edugate_create_main_conf,     /* create main configuration */
    ngx_http_edugate_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_edugate_create_loc_conf,      /* create location configuration */
    ngx_http_edugate_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_edugate_module = {
    NGX_MODULE_V1,
    &ngx_http_edugate_module_ctx,          /* module context */
    ngx_http_edugate_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_edugate_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_edugate_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_edugate_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_edugate_add_variables(cf);
}


static ngx_int_t
ngx_http_edugate_postconfiguration(ngx_conf_t *cf)
{
    return ngx_http_edugate_access_init(cf);
}


static void *
ngx_http_edugate_create_main_conf(ngx_conf_t *cf)
{
    ngx_uint_t                     i;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_main_conf_t));
    if (emcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     emcf->redis_addr = { 0, NULL };
     *     emcf->redis_password = { 0, NULL };
     *     emcf->ldap_base = { 0, NULL };
     *     emcf->ldap_bind_dn = { 0, NULL };
     *     emcf->ldap_bind_password = { 0, NULL };
     *     emcf->ldap_filter = { 0, NULL };
     *     emcf->ldap_org_attr = { 0, NULL };
     *     emcf->ldap_pool_name = { 0, NULL };
     *     emcf->cookie_name = { 0, NULL };
     *     emcf->login_url = { 0, NULL };
     *     emcf->issuer = { 0, NULL };
     *     emcf->token_audience = { 0, NULL };
     *     emcf->keyset = NULL;
     *     emcf->jwks = { 0, NULL };
     */

    emcf->enabled = NGX_CONF_UNSET;
    emcf->redis_port = NGX_CONF_UNSET;
    emcf->redis_db = NGX_CONF_UNSET;
    emcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    emcf->ldap_uris = NGX_CONF_UNSET_PTR;
    emcf->ldap_timeout = NGX_CONF_UNSET_MSEC;
    emcf->session_idle = NGX_CONF_UNSET;
    emcf->session_max = NGX_CONF_UNSET;
    emcf->session_cache = NGX_CONF_UNSET_MSEC;
    emcf->session_cache_size = NGX_CONF_UNSET_UINT;
    emcf->cookie_secure = NGX_CONF_UNSET_UINT;
    emcf->return_hosts = NGX_CONF_UNSET_PTR;
    emcf->max_failures = NGX_CONF_UNSET_UINT;
    emcf->ip_max_failures = NGX_CONF_UNSET_UINT;
    emcf->lockout = NGX_CONF_UNSET;
    emcf->lockout_max = NGX_CONF_UNSET;
    emcf->fail_window = NGX_CONF_UNSET;
    emcf->login_max_body = NGX_CONF_UNSET_SIZE;
    emcf->org_levels = NGX_CONF_UNSET_PTR;
    emcf->token_leeway = NGX_CONF_UNSET;

    for (i = 0; i < NGX_HTTP_EDUGATE_NATTRS; i++) {
        ngx_str_null(&emcf->ldap_attrs[i]);
    }

    return emcf;
}


static char *
ngx_http_edugate_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    char        *rv;
    ngx_str_t   *level;
    ngx_uint_t   i;

    ngx_conf_init_value(emcf->enabled, 0);

    if (emcf->redis_addr.len == 0) {
        ngx_str_set(&emcf->redis_addr, "127.0.0.1:6379");
        ngx_str_set(&emcf->redis_host, "127.0.0.1");
        emcf->redis_port = 6379;
    }

    ngx_conf_init_value(emcf->redis_db, 0);
    ngx_conf_init_msec_value(emcf->redis_timeout, 1000);

    ngx_conf_init_ptr_value(emcf->ldap_uris, NULL);
    ngx_conf_init_msec_value(emcf->ldap_timeout, 5000);

    if (emcf->ldap_filter.len == 0) {
        ngx_str_set(&emcf->ldap_filter,
                    "(&(objectClass=eduPerson)(uid=" EG_LDAP_FILTER_PLACEHOLDER
                    "))");
    }

    if (emcf->ldap_org_attr.len == 0) {
        ngx_str_set(&emcf->ldap_org_attr, "eduOrgCode");
    }

    for (i = 0; i < NGX_HTTP_EDUGATE_NATTRS; i++) {
        if (emcf->ldap_attrs[i].len == 0) {
            emcf->ldap_attrs[i] = ngx_http_edugate_attr_defaults[i];
        }
    }

    if (emcf->ldap_pool_name.len == 0) {
        ngx_str_set(&emcf->ldap_pool_name, "default");
    }

    ngx_conf_init_value(emcf->session_idle, 1800);
    ngx_conf_init_value(emcf->session_max, 8 * 3600);
    ngx_conf_init_msec_value(emcf->session_cache, 2000);
    ngx_conf_init_uint_value(emcf->session_cache_size, 10000);

    if (emcf->session_idle <= 0 || emcf->session_max <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_session_idle and edugate_session_max "
                           "must be positive");
        return NGX_CONF_ERROR;
    }

    if (emcf->cookie_name.len == 0) {
        ngx_str_set(&emcf->cookie_name, "edugate_session");
    }

    ngx_conf_init_uint_value(emcf->cookie_secure,
                             NGX_HTTP_EDUGATE_COOKIE_SECURE_AUTO);

    if (emcf->login_url.len == 0) {
        ngx_str_set(&emcf->login_url, "/edugate/login");
    }

    ngx_conf_init_ptr_value(emcf->return_hosts, NULL);
    ngx_conf_init_uint_value(emcf->max_failures, 5);
    ngx_conf_init_uint_value(emcf->ip_max_failures, 20);
    ngx_conf_init_value(emcf->lockout, 60);
    ngx_conf_init_value(emcf->lockout_max, 3600);
    ngx_conf_init_value(emcf->fail_window, 900);
    ngx_conf_init_size_value(emcf->login_max_body, 4096);

    if (emcf->max_failures == 0 || emcf->ip_max_failures == 0
        || emcf->lockout <= 0 || emcf->fail_window <= 0
        || emcf->lockout_max < emcf->lockout)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_login_* limits must be positive and "
                           "edugate_login_lockout_max at least "
                           "edugate_login_lockout");
        return NGX_CONF_ERROR;
    }

    if (emcf->org_levels == NGX_CONF_UNSET_PTR) {
        emcf->org_levels = ngx_array_create(cf->pool, 5, sizeof(ngx_str_t));
        if (emcf->org_levels == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < 5; i++) {
            level = ngx_array_push(emcf->org_levels);
            if (level == NULL) {
                return NGX_CONF_ERROR;
            }

            *level = ngx_http_edugate_default_levels[i];
        }
    }

    rv = ngx_http_edugate_token_init_conf(cf, emcf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (!emcf->enabled) {
        return NGX_CONF_OK;
    }

    rv = ngx_http_edugate_ldap_check_conf(cf, emcf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_edugate_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_loc_conf_t  *elcf;

    elcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_loc_conf_t));
    if (elcf == NULL) {
        return NULL;
    }

    elcf->protect = NGX_CONF_UNSET;
    elcf->allow_roles = NGX_CONF_UNSET_PTR;
    elcf->allow_orgs = NGX_CONF_UNSET_PTR;
    elcf->allow_clients = NGX_CONF_UNSET_PTR;

    return elcf;
}


static char *
ngx_http_edugate_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_edugate_loc_conf_t *prev = parent;
    ngx_http_edugate_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->protect, prev->protect, 0);
    ngx_conf_merge_ptr_value(conf->allow_roles, prev->allow_roles, NULL);
    ngx_conf_merge_ptr_value(conf->allow_orgs, prev->allow_orgs, NULL);
    ngx_conf_merge_ptr_value(conf->allow_clients, prev->allow_clients,
                             NULL);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_edugate_init_process(ngx_cycle_t *cycle)
{
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_edugate_module);

    if (emcf == NULL || !emcf->enabled) {
        return NGX_OK;
    }

    /* cache manager and loader processes run init_process too */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_http_edugate_cache_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_edugate_redis_init_process(cycle, emcf);
}


static void
ngx_http_edugate_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_edugate_module);

    if (emcf == NULL || !emcf->enabled
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    ngx_http_edugate_redis_exit_process(cycle);
}


static char *
ngx_http_edugate_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    u_char     *p;
    ngx_str_t  *value;
    ngx_url_t   u;

    if (emcf->redis_addr.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    emcf->redis_addr = value[1];

    if (ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        if (value[1].len <= 5) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid redis address \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        emcf->redis_unix.data = value[1].data + 5;
        emcf->redis_unix.len = value[1].len - 5;
        return NGX_CONF_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 6379;

    /* names are resolved here, once: hiredis would resolve while serving */

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis address \"%V\": %s", &value[1],
                           u.err ? u.err : "host not found");
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    emcf->redis_host.data = p;
    emcf->redis_host.len = ngx_sock_ntop(u.addrs[0].sockaddr,
                                         u.addrs[0].socklen, p,
                                         NGX_SOCKADDR_STRLEN, 0);
    p[emcf->redis_host.len] = '\0';
    emcf->redis_port = u.port;

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_ldap_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    ngx_str_t   *value, *uri;
    ngx_uint_t   i;

    if (emcf->ldap_uris != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    ngx_http_edugate_conf_pos(cf, &emcf->ldap_uri_pos);

    emcf->ldap_uris = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                       sizeof(ngx_str_t));
    if (emcf->ldap_uris == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncasecmp(value[i].data, (u_char *) "ldap://", 7) != 0
            && ngx_strncasecmp(value[i].data, (u_char *) "ldaps://", 8) != 0
            && ngx_strncasecmp(value[i].data, (u_char *) "ldapi://", 8) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid LDAP URI \"%V\": scheme must be "
                               "ldap://, ldaps:// or ldapi://", &value[i]);
            return NGX_CONF_ERROR;
        }

        uri = ngx_array_push(emcf->ldap_uris);
        if (uri == NULL) {
            return NGX_CONF_ERROR;
        }

        /* configuration tokens are NUL-terminated */
        *uri = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_bind_dn(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    ngx_http_edugate_conf_pos(cf, &emcf->bind_dn_pos);

    return ngx_conf_set_str_slot(cf, cmd, conf);
}


static char *
ngx_http_edugate_ldap_filter(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    const char  *err;
    ngx_str_t   *value;

    value = cf->args->elts;

    err = eg_ldap_filter_template_check(value[1].data, value[1].len);
    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid edugate_ldap_filter \"%V\": %s",
                           &value[1], err);
        return NGX_CONF_ERROR;
    }

    return ngx_conf_set_str_slot(cf, cmd, conf);
}


static char *
ngx_http_edugate_ldap_attr(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;

    for (i = 0; i < NGX_HTTP_EDUGATE_NATTRS; i++) {
        if (value[1].len == ngx_http_edugate_attr_names[i].len
            && ngx_strncmp(value[1].data, ngx_http_edugate_attr_names[i].data,
                           value[1].len) == 0)
        {
            if (emcf->ldap_attrs[i].len) {
                return "is duplicate";
            }

            emcf->ldap_attrs[i] = value[2];
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown identity field \"%V\", expected uid, name, "
                       "roles, level, school, grade, class or uuid",
                       &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_edugate_return_hosts(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_main_conf_t *emcf = conf;

    eg_str_t    *host;
    ngx_str_t   *value;
    ngx_uint_t   i, j;

    if (emcf->return_hosts != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    emcf->return_hosts = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(eg_str_t));
    if (emcf->return_hosts == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        for (j = 0; j < value[i].len; j++) {
            if (value[i].data[j] == '/' || value[i].data[j] == '@'
                || value[i].data[j] <= ' ')
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid return host \"%V\": expected "
                                   "host or host:port", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        host = ngx_array_push(emcf->return_hosts);
        if (host == NULL) {
            return NGX_CONF_ERROR;
        }

        host->len = value[i].len;
        host->data = value[i].data;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_words(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *w;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || ngx_strlchr(value[i].data,
                                             value[i].data + value[i].len,
                                             ',') != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        w = ngx_array_push(*a);
        if (w == NULL) {
            return NGX_CONF_ERROR;
        }

        *w = value[i];
    }

    return NGX_CONF_OK;
}


/* a policy implies protection, so it needs the session store too */

static char *
ngx_http_edugate_policy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                          *rv;
    ngx_http_edugate_main_conf_t  *emcf;

    rv = ngx_http_edugate_words(cf, cmd, conf);

    if (rv == NGX_CONF_OK) {
        emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
        emcf->enabled = 1;
    }

    return rv;
}


static char *
ngx_http_edugate_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_edugate_main_conf_t  *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    clcf->handler = (ngx_http_handler_pt) cmd->post;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
    emcf->enabled = 1;

    if (clcf->handler == ngx_http_edugate_login_handler) {
        emcf->login_used = 1;
        ngx_http_edugate_conf_pos(cf, &emcf->login_pos);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_protect(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                          *rv;
    ngx_http_edugate_main_conf_t  *emcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);

    if (rv == NGX_CONF_OK) {
        emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
        emcf->enabled = 1;
    }

    return rv;
}


static char *
ngx_http_edugate_check_path(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *path = data;

    if (path->len == 0 || path->data[0] != '/') {
        return "must be an absolute path";
    }

    return NGX_CONF_OK;
}


void
ngx_http_edugate_conf_pos(ngx_conf_t *cf, ngx_http_edugate_conf_pos_t *pos)
{
    if (cf->conf_file && cf->conf_file->file.name.data) {
        pos->file = cf->conf_file->file.name.data;
        pos->line = cf->conf_file->line;
    }
}


/*
 * Errors found after the http block was read name the directive's own
 * line, as ngx_conf_log_error() does while a directive is parsed.
 */

void
ngx_http_edugate_conf_error(ngx_conf_t *cf, ngx_http_edugate_conf_pos_t *pos,
    const char *msg)
{
    if (pos->file == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", msg);
        return;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%s in %s:%ui",
                  msg, pos->file, pos->line);
}
