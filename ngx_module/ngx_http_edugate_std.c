/*
 * Copyright (C) EduGate contributors
 *
 * ngx_http_edugate_std_module: the data standard at the edge.
 *
 *   edugate_std_codes <dir> ...;                   code tables (CSV)
 *   edugate_std_schema <batch.xsd>;                the XSD layer
 *   edugate_std_namespace <uuid>;                  the district's ids
 *   edugate_std_secret <secret>;                   HMAC of ID numbers
 *   edugate_standardize <vendor> <entities|*> [mode=enforce|observe]
 *                       [bulk=partial|snapshot];
 *   edugate_standardize_forward <uri> | off;       the data center
 *   edugate_standardize_max_body <size>;
 *   edugate_standardize_timeout <time>;
 *   edugate_conformance;  edugate_metrics;
 *   edugate_std_pull <vendor> <entities|*> [mode=enforce|observe];
 *   edugate_std_pull_upstream <uri>;              the vendor's backend
 *   edugate_std_pull_max_body <size>;
 *
 * A push location takes the vendor's client_credentials token only:
 * whatever policy it inherits, it lets in that client and nobody else.
 * A pull location hands out personal data: it must have a policy of its
 * own (or inherit one), and its refusals are those of an API.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_std.h"
#include "eg_uuid.h"


#define NGX_HTTP_EDUGATE_STD_SECRET_MIN  16


static void *ngx_http_edugate_std_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_std_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_http_edugate_std_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_edugate_std_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_edugate_std_codes(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_std_namespace(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_std_schema(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_standardize(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_edugate_std_entities(ngx_conf_t *cf,
    ngx_http_edugate_plugin_t *vendor, ngx_array_t **entities,
    ngx_str_t *list);
static char *ngx_http_edugate_std_pull(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_std_pull_conf(ngx_conf_t *cf,
    ngx_http_edugate_std_loc_conf_t *conf);
static ngx_int_t ngx_http_edugate_std_init(ngx_conf_t *cf);
static char *ngx_http_edugate_std_forward_uri(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_edugate_std_stats(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_edugate_std_policy(ngx_conf_t *cf,
    ngx_http_edugate_std_loc_conf_t *conf);
static void ngx_http_edugate_std_codes_free(void *data);
static void ngx_http_edugate_std_schema_free(void *data);


static ngx_command_t  ngx_http_edugate_std_commands[] = {

    { ngx_string("edugate_std_codes"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_edugate_std_codes,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_std_schema"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_std_schema,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_std_namespace"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_std_namespace,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_std_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edugate_std_main_conf_t, secret),
      NULL },

    { ngx_string("edugate_standardize"),
      NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_edugate_standardize,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_standardize_forward"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_edugate_std_forward_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_standardize_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_std_loc_conf_t, max_body),
      NULL },

    { ngx_string("edugate_standardize_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_std_loc_conf_t, timeout),
      NULL },

    { ngx_string("edugate_std_pull"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_edugate_std_pull,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("edugate_std_pull_upstream"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_std_loc_conf_t, pull_upstream),
      NULL },

    { ngx_string("edugate_std_pull_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edugate_std_loc_conf_t, pull_max_body),
      NULL },

    { ngx_string("edugate_conformance"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_std_stats,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_edugate_std_conformance_handler },

    { ngx_string("edugate_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_edugate_std_stats,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_edugate_std_metrics_handler },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_edugate_std_module_ctx = {
    NULL,                                      /* preconfiguration */
    ngx_http_edugate_std_init,                 /* postconfiguration */

    ngx_http_edugate_std_create_main_conf,     /* create main configuration */
    ngx_http_edugate_std_init_main_conf,       /* init main configuration */

    NULL,                                      /* create server conf */
    NULL,                                      /* merge server conf */

    ngx_http_edugate_std_create_loc_conf,      /* create location conf */
    ngx_http_edugate_std_merge_loc_conf        /* merge location conf */
};


ngx_module_t  ngx_http_edugate_std_module = {
    NGX_MODULE_V1,
    &ngx_http_edugate_std_module_ctx,      /* module context */
    ngx_http_edugate_std_commands,         /* module directives */
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
ngx_http_edugate_std_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_std_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_std_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    return smcf;
}


static char *
ngx_http_edugate_std_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_edugate_std_main_conf_t *smcf = conf;

    if (smcf->secret.len
        && smcf->secret.len < NGX_HTTP_EDUGATE_STD_SECRET_MIN)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_std_secret must be at least %d "
                           "characters", NGX_HTTP_EDUGATE_STD_SECRET_MIN);
        return NGX_CONF_ERROR;
    }

    if (smcf->pushes == 0 && smcf->pulls == 0) {
        return NGX_CONF_OK;
    }

    if (smcf->codes == NULL) {
        ngx_http_edugate_conf_error(cf, smcf->pushes ? &smcf->push_pos
                                                     : &smcf->pull_pos,
                                    smcf->pushes
                                    ? "\"edugate_standardize\" needs the "
                                      "code tables: \"edugate_std_codes\""
                                    : "\"edugate_std_pull\" needs the code "
                                      "tables: \"edugate_std_codes\"");
        return NGX_CONF_ERROR;
    }

    if (!smcf->ns_set) {
        ngx_http_edugate_conf_error(cf, smcf->pushes ? &smcf->push_pos
                                                     : &smcf->pull_pos,
                                    smcf->pushes
                                    ? "\"edugate_standardize\" needs the "
                                      "district's \"edugate_std_namespace\""
                                    : "\"edugate_std_pull\" needs the "
                                      "district's \"edugate_std_namespace\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_edugate_std_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_edugate_std_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edugate_std_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    slcf->observe = NGX_CONF_UNSET;
    slcf->snapshot = NGX_CONF_UNSET;
    slcf->max_body = NGX_CONF_UNSET_SIZE;
    slcf->timeout = NGX_CONF_UNSET_MSEC;
    slcf->pull_max_body = NGX_CONF_UNSET_SIZE;

    return slcf;
}


static char *
ngx_http_edugate_std_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_edugate_std_loc_conf_t *prev = parent;
    ngx_http_edugate_std_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_edugate_loc_conf_t  *elcf;

    ngx_conf_merge_value(conf->observe, 0, 0);
    ngx_conf_merge_value(conf->snapshot, 0, 0);
    ngx_conf_merge_size_value(conf->max_body, prev->max_body,
                              8 * 1024 * 1024);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 10000);
    ngx_conf_merge_size_value(conf->pull_max_body, prev->pull_max_body,
                              8 * 1024 * 1024);

    if (conf->pull) {
        return ngx_http_edugate_std_pull_conf(cf, conf);
    }

    if (conf->vendor) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        /* proxy_pass after edugate_standardize takes the handler over */
        if (clcf->handler != ngx_http_edugate_std_push_handler) {
            ngx_http_edugate_conf_error(cf, &conf->pos,
                                        "\"edugate_standardize\" conflicts "
                                        "with another content handler in "
                                        "this location");
            return NGX_CONF_ERROR;
        }

        /* nginx enforces the limit as the body arrives (std_answer.c) */
        clcf->client_max_body_size = conf->max_body;

        return ngx_http_edugate_std_policy(cf, conf);
    }

    if (conf->conformance) {
        /* district IT only */
        elcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_edugate_module);

        if (elcf->allow_roles == NULL && elcf->allow_clients == NULL) {
            ngx_http_edugate_conf_error(cf, &conf->pos,
                                        "\"edugate_conformance\" needs "
                                        "\"edugate_allow_roles\" (the "
                                        "district IT role)");
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * Runs after ngx_http_edugate_module's merge (it comes first in the
 * module list), so what is set here is what the access phase sees.
 */

static char *
ngx_http_edugate_std_policy(ngx_conf_t *cf,
    ngx_http_edugate_std_loc_conf_t *conf)
{
    ngx_str_t                    *client;
    ngx_http_edugate_loc_conf_t  *elcf;

    elcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_edugate_module);

    elcf->protect = 0;
    elcf->allow_roles = NULL;
    elcf->allow_orgs = NULL;

    elcf->allow_clients = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
    if (elcf->allow_clients == NULL) {
        return NGX_CONF_ERROR;
    }

    client = ngx_array_push(elcf->allow_clients);
    if (client == NULL) {
        return NGX_CONF_ERROR;
    }

    *client = conf->vendor->name;

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_std_codes(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_std_main_conf_t *smcf = conf;

    char                 err[512];
    ngx_str_t           *value, dir;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    if (smcf->codes) {
        return "is duplicate";
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->codes = eg_codes_new();
    if (smcf->codes == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_edugate_std_codes_free;
    cln->data = smcf->codes;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        dir = value[i];

        if (ngx_conf_full_name(cf->cycle, &dir, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (eg_codes_load_dir(smcf->codes, (char *) dir.data, err,
                              sizeof(err))
            != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "edugate_std_codes: %s", err);
            return NGX_CONF_ERROR;
        }
    }

    /* the tables the rules cannot do without */
    if (eg_codes_count(smcf->codes, "xb") == 0
        || eg_codes_count(smcf->codes, "xzqh") == 0)
    {
        return "has no \"xb\" or no \"xzqh\" table (the generated tables "
               "come from \"make schemas\")";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_std_schema(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_std_main_conf_t *smcf = conf;

    char                 err[512];
    ngx_str_t           *value, path;
    ngx_pool_cleanup_t  *cln;

    if (smcf->schema) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->schema = eg_pipe_schema_load((char *) path.data, err, sizeof(err));

    if (smcf->schema == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "edugate_std_schema: %s",
                           err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_edugate_std_schema_free;
    cln->data = smcf->schema;

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_std_namespace(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_edugate_std_main_conf_t *smcf = conf;

    ngx_str_t  *value;

    if (smcf->ns_set) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (eg_uuid_parse((char *) value[1].data, value[1].len, smcf->ns) != 0) {
        return "needs a UUID, such as one from \"uuidgen\"";
    }

    smcf->ns_set = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_standardize(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_std_loc_conf_t *slcf = conf;

    ngx_str_t                            *value;
    ngx_uint_t                            i;
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_edugate_main_conf_t         *emcf;
    ngx_http_edugate_std_main_conf_t     *smcf;
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    if (slcf->vendor) {
        return "is duplicate";
    }

    value = cf->args->elts;

    pmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_edugate_plugin_module);

    slcf->vendor = ngx_http_edugate_plugin_find(pmcf, &value[1]);

    if (slcf->vendor == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_standardize: no plugin \"%V\" (load it "
                           "with edugate_plugin at http level)", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (slcf->vendor->plugin->desc->to_standard == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_standardize: plugin \"%V\" has no "
                           "to_standard hook", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_edugate_std_entities(cf, slcf->vendor, &slcf->entities,
                                      &value[2])
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 3; i < cf->args->nelts; i++) {
        if (ngx_strcmp(value[i].data, "mode=enforce") == 0) {
            slcf->observe = 0;

        } else if (ngx_strcmp(value[i].data, "mode=observe") == 0) {
            slcf->observe = 1;

        } else if (ngx_strcmp(value[i].data, "bulk=partial") == 0) {
            slcf->snapshot = 0;

        } else if (ngx_strcmp(value[i].data, "bulk=snapshot") == 0) {
            slcf->snapshot = 1;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "edugate_standardize: invalid parameter "
                               "\"%V\" (mode=enforce or mode=observe, "
                               "bulk=partial or bulk=snapshot)",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    clcf->handler = ngx_http_edugate_std_push_handler;

    ngx_http_edugate_conf_pos(cf, &slcf->pos);

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_std_module);

    if (smcf->pushes++ == 0) {
        smcf->push_pos = slcf->pos;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
    emcf->enabled = 1;

    return NGX_CONF_OK;
}


/* "*" or a comma-separated list of the entities the plugin produces */

static ngx_int_t
ngx_http_edugate_std_entities(ngx_conf_t *cf,
    ngx_http_edugate_plugin_t *vendor, ngx_array_t **entities,
    ngx_str_t *list)
{
    u_char              *p, *end, *comma;
    char               **e;
    ngx_str_t            name;
    const char *const   *about;

    about = vendor->plugin->about.entities;

    *entities = ngx_array_create(cf->pool, 4, sizeof(char *));
    if (*entities == NULL) {
        return NGX_ERROR;
    }

    if (list->len == 1 && list->data[0] == '*') {
        for ( /* void */ ; about && *about; about++) {
            e = ngx_array_push(*entities);
            if (e == NULL) {
                return NGX_ERROR;
            }

            *e = (char *) *about;
        }

        return (*entities)->nelts ? NGX_OK : NGX_ERROR;
    }

    p = list->data;
    end = list->data + list->len;

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        name.data = p;
        name.len = comma - p;
        p = comma + 1;

        e = ngx_array_push(*entities);
        if (e == NULL) {
            return NGX_ERROR;
        }

        *e = ngx_pnalloc(cf->pool, name.len + 1);
        if (*e == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(*e, name.data, name.len);
        (*e)[name.len] = '\0';

        if (!eg_plugin_listed(vendor->plugin->about.entities, *e)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%V: plugin \"%V\" does not produce \"%V\"",
                               (ngx_str_t *) cf->args->elts, &vendor->name,
                               &name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static char *
ngx_http_edugate_std_pull(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_std_loc_conf_t *slcf = conf;

    ngx_str_t                            *value;
    ngx_uint_t                            i;
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_edugate_main_conf_t         *emcf;
    ngx_http_edugate_std_main_conf_t     *smcf;
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    if (slcf->pull) {
        return "is duplicate";
    }

    value = cf->args->elts;

    pmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_edugate_plugin_module);

    slcf->pull = ngx_http_edugate_plugin_find(pmcf, &value[1]);

    if (slcf->pull == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_std_pull: no plugin \"%V\" (load it "
                           "with edugate_plugin at http level)", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (slcf->pull->plugin->desc->to_vendor == NULL
        || slcf->pull->plugin->desc->to_standard == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edugate_std_pull: plugin \"%V\" has no "
                           "to_vendor or no to_standard hook", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_edugate_std_entities(cf, slcf->pull, &slcf->pull_entities,
                                      &value[2])
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 3; i < cf->args->nelts; i++) {
        if (ngx_strcmp(value[i].data, "mode=enforce") == 0) {
            slcf->pull_observe = 0;

        } else if (ngx_strcmp(value[i].data, "mode=observe") == 0) {
            slcf->pull_observe = 1;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "edugate_std_pull: invalid parameter \"%V\" "
                               "(mode=enforce or mode=observe)", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    clcf->handler = ngx_http_edugate_std_pull_handler;

    ngx_http_edugate_conf_pos(cf, &slcf->pos);

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_std_module);

    if (smcf->pulls++ == 0) {
        smcf->pull_pos = slcf->pos;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
    emcf->enabled = 1;

    return NGX_CONF_OK;
}


/*
 * Runs after ngx_http_edugate_module's merge: the policy the location
 * ends up with (its own or inherited) is known.
 */

static char *
ngx_http_edugate_std_pull_conf(ngx_conf_t *cf,
    ngx_http_edugate_std_loc_conf_t *conf)
{
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_edugate_loc_conf_t  *elcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != ngx_http_edugate_std_pull_handler) {
        ngx_http_edugate_conf_error(cf, &conf->pos,
                                    "\"edugate_std_pull\" conflicts with "
                                    "another content handler in this "
                                    "location");
        return NGX_CONF_ERROR;
    }

    if (conf->pull_upstream.len == 0 || conf->pull_upstream.data[0] != '/') {
        ngx_http_edugate_conf_error(cf, &conf->pos,
                                    "\"edugate_std_pull\" needs "
                                    "\"edugate_std_pull_upstream\", the URI "
                                    "of an internal location that proxies to "
                                    "the vendor");
        return NGX_CONF_ERROR;
    }

    elcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_edugate_module);

    /* personal data: whom it is for must be written down */
    if (elcf->allow_roles == NULL && elcf->allow_orgs == NULL
        && elcf->allow_clients == NULL)
    {
        ngx_http_edugate_conf_error(cf, &conf->pos,
                                    "\"edugate_std_pull\" hands out "
                                    "personal data: the location needs an "
                                    "access policy (\"edugate_allow_roles\", "
                                    "\"edugate_allow_org\" or "
                                    "\"edugate_allow_clients\")");
        return NGX_CONF_ERROR;
    }

    elcf->api = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_edugate_std_init(ngx_conf_t *cf)
{
    if (ngx_http_edugate_std_limit_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_edugate_std_pull_filter_init(cf);
}


static char *
ngx_http_edugate_std_forward_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_std_loc_conf_t *slcf = conf;

    ngx_str_t  *value;

    if (slcf->forward.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&slcf->forward, "");
        return NGX_CONF_OK;
    }

    if (value[1].data[0] != '/') {
        return "needs the URI of a location (\"internal\", with proxy_pass "
               "to the data center), or off";
    }

    slcf->forward = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_edugate_std_stats(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_edugate_std_loc_conf_t *slcf = conf;

    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_edugate_main_conf_t  *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    clcf->handler = (ngx_http_handler_pt) cmd->post;

    if (clcf->handler == ngx_http_edugate_std_conformance_handler) {
        slcf->conformance = 1;
        ngx_http_edugate_conf_pos(cf, &slcf->pos);
    }

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edugate_module);
    emcf->enabled = 1;

    return NGX_CONF_OK;
}


static void
ngx_http_edugate_std_codes_free(void *data)
{
    eg_codes_free(data);
}


static void
ngx_http_edugate_std_schema_free(void *data)
{
    eg_pipe_schema_free(data);
}
