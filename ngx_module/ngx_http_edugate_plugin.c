/*
 * Copyright (C) EduGate contributors
 *
 * ngx_http_edugate_plugin_module: loads vendor adapter plugins at
 * configuration time and names the vendor of a location.
 *
 *   edugate_plugin <name> <path.so> [sha256=<hex>] [key=value ...];
 *   edugate_plugin_table <name> <table> <file.csv>;
 *   edugate_vendor <name> | off;
 *
 * A plugin is opened with dlopen(RTLD_NOW | RTLD_LOCAL) while the
 * configuration is read, so that `nginx -t` reports every problem, and
 * closed with the cycle's pool, so that a reload loads the new file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_plugin.h"


#define NGX_HTTP_EDUGATE_SECRET_MIN  16


static void *ngx_http_edugate_plugin_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_plugin_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_http_edugate_plugin_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_plugin_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_edugate_plugin_init_process(ngx_cycle_t *cycle);
static char *ngx_http_edugate_plugin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_plugin_table(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_vendor(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_crash_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_edugate_plugin_close(void *data);


static ngx_command_t  ngx_http_edugate_plugin_commands[] = {

    { ngx_string("edugate_plugin"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_edugate_plugin,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_plugin_table"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_http_edugate_plugin_table,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_plugin_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_plugin_main_conf_t, pool_name),
      NULL },

    { ngx_string("edugate_plugin_crash_limit"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_edugate_crash_limit,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_pairwise_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_plugin_main_conf_t, pairwise_secret),
      NULL },

    { ngx_string("edugate_vendor"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_vendor,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_vendor_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_plugin_loc_conf_t, timeout),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_edugate_plugin_module_ctx = {
    NULL,                                      /* preconfiguration */
    ngx_http_edugate_vendor_init,              /* postconfiguration */

    ngx_http_edugate_plugin_create_main_conf,  /* create main configuration */
    ngx_http_edugate_plugin_init_main_conf,    /* init main configuration */

    NULL,                                      /* create server conf */
    NULL,                                      /* merge server conf */

    ngx_http_edugate_plugin_create_loc_conf,   /* create location conf */
    ngx_http_edugate_plugin_merge_loc_conf     /* merge location conf */
};


ngx_module_t  ngx_http_edugate_plugin_module = {
    NGX_MODULE_V1,
    &ngx_http_edugate_plugin_module_ctx,   /* module context */
    ngx_http_edugate_plugin_commands,      /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_edugate_plugin_init_process,  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_edugate_plugin_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_plugin_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    pmcf->plugins = ngx_array_create(cf->pool, 4,
                                     sizeof(ngx_http_edugate_plugin_t *));
    if (pmcf->plugins == NULL) {
        return NULL;
    }

    pmcf->crash_limit = NGX_CONF_UNSET_UINT;
    pmcf->crash_window = NGX_CONF_UNSET;

    return pmcf;
}


static char *
ngx_http_edugate_plugin_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_edugate_plugin_main_conf_t *pmcf = conf;

    u_char                      err[EG_PLUGIN_ERR_MAX];
    ngx_uint_t                  i;
    ngx_http_edugate_plugin_t **vp;

    ngx_conf_init_uint_value(pmcf->crash_limit, 3);
    ngx_conf_init_value(pmcf->crash_window, 60);

    if (pmcf->pool_name.len == 0) {
        ngx_str_set(&pmcf->pool_name, "default");
    }

    if (pmcf->pairwise_secret.len
        && pmcf->pairwise_secret.len < NGX_HTTP_EDUGATE_SECRET_MIN)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_pairwise_secret must be at least %d "
                           "characters", NGX_HTTP_EDUGATE_SECRET_MIN);
        return NGX_CONF_ERROR;
    }

    vp = pmcf->plugins->elts;

    for (i = 0; i < pmcf->plugins->nelts; i++) {
        if (eg_plugin_tables_ready(vp[i]->plugin, (char *) err, sizeof(err))
            != 0)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "edugate_plugin \"%V\": %s in %s:%ui",
                          &vp[i]->name, err, vp[i]->pos.file,
                          vp[i]->pos.line);
            return NGX_CONF_ERROR;
        }
    }

    if (pmcf->plugins->nelts == 0) {
        return NGX_CONF_OK;
    }

    pmcf->pool = ngx_thread_pool_add(cf, &pmcf->pool_name);
    if (pmcf->pool == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_edugate_crash_zone(cf, pmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_edugate_plugin_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_plugin_loc_conf_t  *plcf;

    plcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_plugin_loc_conf_t));
    if (plcf == NULL) {
        return NULL;
    }

    plcf->vendor = NGX_CONF_UNSET_PTR;
    plcf->timeout = NGX_CONF_UNSET_MSEC;

    return plcf;
}


static char *
ngx_http_edugate_plugin_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_edugate_plugin_loc_conf_t *prev = parent;
    ngx_http_edugate_plugin_loc_conf_t *conf = child;

    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    if (conf->vendor == NGX_CONF_UNSET_PTR) {
        conf->vendor_pos = prev->vendor_pos;
    }

    ngx_conf_merge_ptr_value(conf->vendor, prev->vendor, NULL);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 2000);

    if (conf->vendor == NULL) {
        return NGX_CONF_OK;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_edugate_plugin_module);

    if (conf->vendor->plugin->desc->identity
        && pmcf->pairwise_secret.len == 0)
    {
        ngx_http_edugate_conf_error(cf, &conf->vendor_pos,
                                    "\"edugate_vendor\" needs "
                                    "\"edugate_pairwise_secret\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_edugate_plugin_init_process(ngx_cycle_t *cycle)
{
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    return ngx_http_edugate_crash_init_process(cycle);
}


static char *
ngx_http_edugate_plugin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_plugin_main_conf_t *pmcf = conf;

    int                         argc;
    char                      **argv, *csv;
    u_char                     *pin, err[EG_PLUGIN_ERR_MAX];
    ngx_str_t                  *value, path;
    ngx_uint_t                  i;
    ngx_pool_cleanup_t         *cln;
    ngx_http_edugate_plugin_t  *vp, **slot;

    value = cf->args->elts;

    vp = ngx_http_edugate_plugin_find(pmcf, &value[1]);

    if (vp) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_plugin \"%V\": the name is already used "
                           "in %s:%ui", &value[1], vp->pos.file,
                           vp->pos.line);
        return NGX_CONF_ERROR;
    }

    if (pmcf->plugins->nelts == NGX_HTTP_EDUGATE_PLUGINS_MAX) {
        return "has too many plugins";
    }

    path = value[2];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* sha256= is the gateway's; every other argument is the plugin's */

    argv = ngx_pcalloc(cf->pool, cf->args->nelts * sizeof(char *));
    if (argv == NULL) {
        return NGX_CONF_ERROR;
    }

    argc = 0;
    pin = NULL;

    for (i = 3; i < cf->args->nelts; i++) {
        if (ngx_strncmp(value[i].data, "sha256=", 7) == 0) {
            pin = value[i].data + 7;
            continue;
        }

        argv[argc++] = (char *) value[i].data;
    }

    vp = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_plugin_t));
    if (vp == NULL) {
        return NGX_CONF_ERROR;
    }

    vp->name = value[1];
    vp->slot = pmcf->plugins->nelts;
    ngx_http_edugate_conf_pos(cf, &vp->pos);

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    vp->plugin = eg_plugin_open((char *) value[1].data, (char *) path.data,
                                (char *) pin, argc,
                                (const char *const *) argv, (char *) err,
                                sizeof(err));

    if (vp->plugin == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "edugate_plugin \"%V\": %s",
                           &value[1], err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_edugate_plugin_close;
    cln->data = vp->plugin;

    csv = eg_plugin_table_path((char *) path.data);
    if (csv == NULL) {
        return NGX_CONF_ERROR;
    }

    if (eg_plugin_load_tables(vp->plugin, csv, (char *) err, sizeof(err))
        != 0)
    {
        ngx_free(csv);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "edugate_plugin \"%V\": %s",
                           &value[1], err);
        return NGX_CONF_ERROR;
    }

    ngx_free(csv);

    slot = ngx_array_push(pmcf->plugins);
    if (slot == NULL) {
        return NGX_CONF_ERROR;
    }

    *slot = vp;

    ngx_log_error(NGX_LOG_INFO, cf->log, 0,
                  "edugate: plugin \"%V\" loaded: %s %s from \"%V\"",
                  &vp->name, vp->plugin->desc->name,
                  vp->plugin->desc->version ? vp->plugin->desc->version : "",
                  &path);

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_plugin_table(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_edugate_plugin_main_conf_t *pmcf = conf;

    u_char                     err[EG_PLUGIN_ERR_MAX];
    ngx_str_t                 *value, path;
    ngx_http_edugate_plugin_t  *vp;

    value = cf->args->elts;

    vp = ngx_http_edugate_plugin_find(pmcf, &value[1]);

    if (vp == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_plugin_table: no plugin \"%V\" is "
                           "loaded before this line", &value[1]);
        return NGX_CONF_ERROR;
    }

    path = value[3];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (eg_plugin_override_table(vp->plugin, (char *) value[2].data,
                                 (char *) path.data, (char *) err,
                                 sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_plugin_table \"%V\": %s", &value[1], err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_vendor(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_plugin_loc_conf_t *plcf = conf;

    ngx_str_t                            *value;
    ngx_http_edugate_loc_conf_t          *elcf;
    ngx_http_edugate_main_conf_t         *emcf;
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    if (plcf->vendor != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        plcf->vendor = NULL;
        return NGX_CONF_OK;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_edugate_plugin_module);

    plcf->vendor = ngx_http_edugate_plugin_find(pmcf, &value[1]);

    if (plcf->vendor == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_vendor: no plugin \"%V\" (load it with "
                           "edugate_plugin at http level)", &value[1]);
        return NGX_CONF_ERROR;
    }

    ngx_http_edugate_conf_pos(cf, &plcf->vendor_pos);

    /*
     * The identity hook needs a person: a vendor location is protected,
     * unless the configuration says otherwise, which is an error.
     */

    elcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_edugate_module);

    if (elcf->protect == 0) {
        return "needs \"edugate_protect on\" (it is off in this location)";
    }

    elcf->protect = 1;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
    emcf->enabled = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_crash_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_plugin_main_conf_t *pmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (pmcf->crash_limit != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1 || n > 16) {
        return "needs a number of crashes from 1 to 16";
    }

    pmcf->crash_limit = n;

    if (cf->args->nelts == 3) {
        pmcf->crash_window = ngx_parse_time(&value[2], 1);

        if (pmcf->crash_window == (time_t) NGX_ERROR
            || pmcf->crash_window <= 0)
        {
            return "has an invalid window";
        }
    }

    return NGX_CONF_OK;
}


ngx_http_edugate_plugin_t *
ngx_http_edugate_plugin_find(ngx_http_edugate_plugin_main_conf_t *pmcf,
    ngx_str_t *name)
{
    ngx_uint_t                   i;
    ngx_http_edugate_plugin_t  **vp;

    vp = pmcf->plugins->elts;

    for (i = 0; i < pmcf->plugins->nelts; i++) {
        if (vp[i]->name.len == name->len
            && ngx_strncmp(vp[i]->name.data, name->data, name->len) == 0)
        {
            return vp[i];
        }
    }

    return NULL;
}


static void
ngx_http_edugate_plugin_close(void *data)
{
    eg_plugin_close(data);
}
