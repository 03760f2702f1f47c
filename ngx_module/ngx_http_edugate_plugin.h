/*
 * Copyright (C) EduGate contributors
 *
 * Types shared by the files of ngx_http_edugate_plugin_module: the
 * registry of loaded vendor adapter plugins, vendor locations, the thread
 * pool their hooks run in and the accounting of their crashes.
 */

#ifndef _NGX_HTTP_EDUGATE_PLUGIN_H_INCLUDED_
#define _NGX_HTTP_EDUGATE_PLUGIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>

#include "ngx_http_edugate_module.h"
#include "eg_host.h"
#include "eg_plugin.h"


#define NGX_HTTP_EDUGATE_PLUGINS_MAX  64


typedef struct {
    ngx_str_t                     name;
    eg_plugin_t                  *plugin;
    ngx_uint_t                    slot;        /* in the crash zone */
    ngx_http_edugate_conf_pos_t   pos;
} ngx_http_edugate_plugin_t;


typedef struct {
    ngx_array_t                  *plugins;     /* ngx_http_edugate_plugin_t * */
    ngx_str_t                     pool_name;
    ngx_thread_pool_t            *pool;
    ngx_str_t                     pairwise_secret;
    ngx_uint_t                    crash_limit;
    time_t                        crash_window;
    ngx_shm_zone_t               *zone;
} ngx_http_edugate_plugin_main_conf_t;


typedef struct {
    ngx_http_edugate_plugin_t    *vendor;
    ngx_msec_t                    timeout;
    ngx_http_edugate_conf_pos_t   vendor_pos;
} ngx_http_edugate_plugin_loc_conf_t;


extern ngx_module_t  ngx_http_edugate_plugin_module;


/* plugin.c: a loaded plugin by its name in the configuration, or NULL */
ngx_http_edugate_plugin_t *ngx_http_edugate_plugin_find(
    ngx_http_edugate_plugin_main_conf_t *pmcf, ngx_str_t *name);


/* vendor.c: the precontent phase of vendor locations */
ngx_int_t ngx_http_edugate_vendor_init(ngx_conf_t *cf);

/* host.c: between ABI types and nginx types */
ngx_int_t ngx_http_edugate_host_strip(ngx_http_request_t *r,
    eg_plugin_t *p);
ngx_int_t ngx_http_edugate_host_identity(ngx_http_request_t *r,
    eg_call_t *call, eg_identity_t *id, ngx_str_t *vendor_uid,
    ngx_uint_t pairwise, edugate_identity_t *out);
ngx_int_t ngx_http_edugate_host_apply(ngx_http_request_t *r,
    eg_call_t *call);
void ngx_http_edugate_host_logs(ngx_log_t *log, eg_call_t *call);

/* crash.c: which plugin a thread runs, crashes counted across workers */
ngx_int_t ngx_http_edugate_crash_zone(ngx_conf_t *cf,
    ngx_http_edugate_plugin_main_conf_t *pmcf);
ngx_int_t ngx_http_edugate_crash_init_process(ngx_cycle_t *cycle);
void ngx_http_edugate_crash_enter(ngx_http_edugate_plugin_t *vp,
    const char *hook);
void ngx_http_edugate_crash_leave(void);
ngx_uint_t ngx_http_edugate_crash_disabled(ngx_http_request_t *r,
    ngx_http_edugate_plugin_t *vp);


#endif /* _NGX_HTTP_EDUGATE_PLUGIN_H_INCLUDED_ */
