/*
 * Copyright (C) EduGate contributors
 *
 * $edugate_* variables: the identity resolved in the access phase, for
 * proxy_set_header, log_format and map.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"


static ngx_int_t ngx_http_edugate_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_edugate_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_edugate_vars[] = {

    { ngx_string("edugate_user"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_UID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_name"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_NAME, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_roles"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_ROLES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_org"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_ORG, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_org_path"), NULL,
      ngx_http_edugate_identity_variable,
      EG_ID_ORG_PATH, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_level"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_LEVEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_school"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_SCHOOL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_grade"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_GRADE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_class"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_CLASS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_uuid"), NULL, ngx_http_edugate_identity_variable,
      EG_ID_UUID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("edugate_error"), NULL, ngx_http_edugate_error_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_edugate_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_edugate_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    char                    *value;
    size_t                   cap;
    ngx_http_edugate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_edugate_module);

    if (ctx == NULL || ctx->identity == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    value = eg_identity_field(ctx->identity, (eg_id_field_e) data, &cap);

    v->data = (u_char *) value;
    v->len = ngx_strlen(value);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_edugate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_edugate_module);

    if (ctx == NULL || ctx->error.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ctx->error.data;
    v->len = ctx->error.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
