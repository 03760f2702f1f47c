/*
 * Copyright (C) EduGate contributors
 *
 * The access phase: identity headers a client sent are removed from every
 * request; in protected locations the session cookie is resolved (worker
 * cache, else Redis), or a bearer access token is verified (token.c), the
 * location's policy is applied and the identity is handed to the upstream
 * as X-Edugate-* headers.  A Redis round trip
 * suspends the phase (NGX_AGAIN) and the reply resumes it, as
 * auth_request does with its subrequest.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "eg_url.h"


#define NGX_HTTP_EDUGATE_HEADER_OTHER   0
#define NGX_HTTP_EDUGATE_HEADER_OURS    1
#define NGX_HTTP_EDUGATE_HEADER_COOKIE  2
#define NGX_HTTP_EDUGATE_HEADER_BEARER  3


typedef struct {
    ngx_str_t             name;
    u_char               *lowcase;
    eg_id_field_e         field;
    ngx_uint_t            encode;
} ngx_http_edugate_header_t;


static ngx_int_t ngx_http_edugate_access_handler(ngx_http_request_t *r);
static void ngx_http_edugate_access_resume(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_edugate_deny(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx, ngx_uint_t status, const char *code);
static ngx_int_t ngx_http_edugate_authorize_client(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx);
static ngx_int_t ngx_http_edugate_authorize(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx);
static ngx_int_t ngx_http_edugate_strip_headers(ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_keep_header(ngx_http_request_t *r,
    ngx_table_elt_t *h, ngx_str_t *value, void *data);
static ngx_uint_t ngx_http_edugate_our_prefix(ngx_table_elt_t *h);
static ngx_uint_t ngx_http_edugate_header_kind(ngx_http_request_t *r,
    ngx_table_elt_t *h);
static ngx_int_t ngx_http_edugate_cut_cookies(ngx_http_request_t *r,
    ngx_str_t *in, ngx_str_t *out);
static ngx_uint_t ngx_http_edugate_our_header(ngx_table_elt_t *h);
static ngx_int_t ngx_http_edugate_add_headers(ngx_http_request_t *r,
    eg_identity_t *id);


static ngx_str_t  ngx_http_edugate_csrf_name = ngx_string("edugate_csrf");

static u_char  ngx_http_edugate_lc_user[] = "x-edugate-user";
static u_char  ngx_http_edugate_lc_name[] = "x-edugate-name";
static u_char  ngx_http_edugate_lc_roles[] = "x-edugate-roles";
static u_char  ngx_http_edugate_lc_org[] = "x-edugate-org";
static u_char  ngx_http_edugate_lc_path[] = "x-edugate-org-path";
static u_char  ngx_http_edugate_lc_level[] = "x-edugate-level";
static u_char  ngx_http_edugate_lc_school[] = "x-edugate-school";
static u_char  ngx_http_edugate_lc_grade[] = "x-edugate-grade";
static u_char  ngx_http_edugate_lc_class[] = "x-edugate-class";


/*
 * The lowcase_key pointers double as a mark: after an internal redirect
 * the headers we added are recognised as ours, not as a spoofing attempt.
 */
static ngx_http_edugate_header_t  ngx_http_edugate_headers[] = {
    { ngx_string("X-Edugate-User"), ngx_http_edugate_lc_user,
      EG_ID_UID, 0 },
    { ngx_string("X-Edugate-Name"), ngx_http_edugate_lc_name,
      EG_ID_NAME, 1 },
    { ngx_string("X-Edugate-Roles"), ngx_http_edugate_lc_roles,
      EG_ID_ROLES, 0 },
    { ngx_string("X-Edugate-Org"), ngx_http_edugate_lc_org,
      EG_ID_ORG, 0 },
    { ngx_string("X-Edugate-Org-Path"), ngx_http_edugate_lc_path,
      EG_ID_ORG_PATH, 0 },
    { ngx_string("X-Edugate-Level"), ngx_http_edugate_lc_level,
      EG_ID_LEVEL, 0 },
    { ngx_string("X-Edugate-School"), ngx_http_edugate_lc_school,
      EG_ID_SCHOOL, 0 },
    { ngx_string("X-Edugate-Grade"), ngx_http_edugate_lc_grade,
      EG_ID_GRADE, 0 },
    { ngx_string("X-Edugate-Class"), ngx_http_edugate_lc_class,
      EG_ID_CLASS, 0 },
    { ngx_null_string, NULL, 0, 0 }
};


ngx_int_t
ngx_http_edugate_access_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_edugate_access_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      sid, token;
    ngx_http_edugate_ctx_t        *ctx;
    ngx_http_edugate_loc_conf_t   *elcf;
    ngx_http_edugate_main_conf_t  *emcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_module);

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (ctx == NULL || !ctx->stripped) {
        if (ngx_http_edugate_strip_headers(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (!elcf->protect && elcf->allow_roles == NULL
        && elcf->allow_orgs == NULL && elcf->allow_clients == NULL)
    {
        return NGX_DECLINED;
    }

    if (ctx == NULL) {
        ctx = ngx_http_edugate_get_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx->stripped = 1;

    if (ctx->waiting) {
        return NGX_AGAIN;
    }

    if (ctx->done) {
        rc = ctx->lookup_rc;
        goto decide;
    }

    /* a program's access token wins over a browser's cookie */

    if (ngx_http_edugate_bearer_token(r, &token) == NGX_OK) {
        ctx->bearer = 1;
        rc = ngx_http_edugate_bearer_lookup(r, ctx, &token,
                                            ngx_http_edugate_access_resume);
        goto lookup;
    }

    ngx_str_null(&sid);

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (ngx_http_edugate_get_cookie(r, &emcf->cookie_name, &sid) != NGX_OK) {

        /* a location for programs only: a token is missing, not a login */
        if (elcf->allow_clients && !elcf->protect
            && elcf->allow_roles == NULL && elcf->allow_orgs == NULL)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "edugate: token_required: no bearer token for a "
                          "location that takes client tokens only");
            ctx->bearer = 1;
            ctx->token_error = "no bearer token";
            return ngx_http_edugate_deny(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                         "token_required");
        }

        ngx_str_set(&ctx->error, "login_required");
        return ngx_http_edugate_deny(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                     "login_required");
    }

    if (!ngx_http_edugate_sid_valid(&sid)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_session: malformed session cookie "
                      "(%uz bytes)", sid.len);
        return ngx_http_edugate_deny(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                     "invalid_session");
    }

    rc = ngx_http_edugate_session_lookup(r, ctx, &sid,
                                         ngx_http_edugate_access_resume);

lookup:

    if (rc == NGX_AGAIN) {
        ctx->waiting = 1;
        return NGX_AGAIN;
    }

decide:

    ctx->done = 1;

    switch (rc) {

    case NGX_OK:
        return ngx_http_edugate_authorize(r, ctx);

    case NGX_DECLINED:
        return ngx_http_edugate_deny(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                     (const char *) ctx->error.data);

    default:
        if (ctx->store_down) {
            return ngx_http_edugate_deny(r, ctx,
                                         NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "session_store_unavailable");
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


static void
ngx_http_edugate_access_resume(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_edugate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    ctx->waiting = 0;
    ctx->done = 1;
    ctx->lookup_rc = rc;

    r->write_event_handler(r);
}


static ngx_int_t
ngx_http_edugate_deny(ngx_http_request_t *r, ngx_http_edugate_ctx_t *ctx,
    ngx_uint_t status, const char *code)
{
    ngx_int_t                      rc;
    ngx_str_t                      location, empty, path;
    ngx_http_edugate_loc_conf_t   *elcf;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_module);

    /* not ngx_str_set(): code is a pointer, sizeof() would be wrong */
    ctx->error.data = (u_char *) code;
    ctx->error.len = ngx_strlen(code);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->bearer) {
        rc = ngx_http_edugate_bearer_error(r, ctx, status, code);

    } else if (status == NGX_HTTP_UNAUTHORIZED) {

        if (ngx_strcmp(code, "login_required") != 0) {
            /* a dead cookie is cleared so that the browser stops sending it */
            ngx_str_null(&empty);
            ngx_str_set(&path, "/");

            if (ngx_http_edugate_set_cookie(r, &emcf->cookie_name, &empty,
                                            &path, 0, 0)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        if (ngx_http_edugate_login_location(r, &location) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* an API is never sent to a login page */
        if (ngx_http_edugate_wants_json(r) || elcf->api) {
            rc = ngx_http_edugate_send_error(r, status, code, &location);

        } else {
            rc = ngx_http_edugate_redirect(r, &location, code);
        }

    } else {
        rc = ngx_http_edugate_send_error(r, status, code, NULL);
    }

    /* the response is complete: end the phases here */

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


static ngx_int_t
ngx_http_edugate_authorize(ngx_http_request_t *r, ngx_http_edugate_ctx_t *ctx)
{
    ngx_str_t                    *v;
    ngx_uint_t                    i, ok;
    eg_identity_t                *id;
    ngx_http_edugate_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_module);
    id = ctx->identity;

    if (ctx->client_token || (elcf->allow_clients && !elcf->protect
                              && elcf->allow_roles == NULL
                              && elcf->allow_orgs == NULL))
    {
        return ngx_http_edugate_authorize_client(r, ctx);
    }

    if (elcf->allow_roles) {
        v = elcf->allow_roles->elts;
        ok = 0;

        for (i = 0; i < elcf->allow_roles->nelts && !ok; i++) {
            ok = eg_identity_has_role(id, (char *) v[i].data, v[i].len);
        }

        if (!ok) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "edugate: access_denied: \"%s\" (roles \"%s\") "
                          "lacks a role this location requires",
                          id->uid, id->roles);
            return ngx_http_edugate_deny(r, ctx, NGX_HTTP_FORBIDDEN,
                                         "access_denied");
        }
    }

    if (elcf->allow_orgs) {
        v = elcf->allow_orgs->elts;
        ok = 0;

        for (i = 0; i < elcf->allow_orgs->nelts && !ok; i++) {
            ok = eg_identity_in_org(id, (char *) v[i].data, v[i].len);
        }

        if (!ok) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "edugate: access_denied: \"%s\" (org path \"%s\") "
                          "is outside the organisations of this location",
                          id->uid, id->org_path);
            return ngx_http_edugate_deny(r, ctx, NGX_HTTP_FORBIDDEN,
                                         "access_denied");
        }
    }

    if (ngx_http_edugate_add_headers(r, id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/*
 * A program holding a client_credentials token is let in only where
 * edugate_allow_clients names it; a location that lists clients and asks
 * nothing of people takes programs only.
 */

static ngx_int_t
ngx_http_edugate_authorize_client(ngx_http_request_t *r,
    ngx_http_edugate_ctx_t *ctx)
{
    ngx_str_t                    *v;
    ngx_uint_t                    i;
    eg_identity_t                *id;
    ngx_http_edugate_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_module);
    id = ctx->identity;

    if (!ctx->client_token) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: access_denied: \"%s\" is a person; this "
                      "location takes client tokens only", id->uid);
        return ngx_http_edugate_deny(r, ctx, NGX_HTTP_FORBIDDEN,
                                     "access_denied");
    }

    v = elcf->allow_clients ? elcf->allow_clients->elts : NULL;

    for (i = 0; v && i < elcf->allow_clients->nelts; i++) {
        if (v[i].len == ngx_strlen(id->uid)
            && ngx_strncmp(v[i].data, id->uid, v[i].len) == 0)
        {
            if (ngx_http_edugate_add_headers(r, id) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "edugate: client_not_allowed: the token of client \"%s\" "
                  "is not accepted here", id->uid);

    return ngx_http_edugate_deny(r, ctx, NGX_HTTP_FORBIDDEN,
                                 "client_not_allowed");
}


/*
 * Nothing of ours travels upstream: X-Edugate-* headers sent by the client
 * are dropped, our cookies are cut out of Cookie headers, and so is an
 * Authorization header whose bearer token a protected location checks.
 * nginx cannot delete from a header list, and r->headers_in points at list
 * elements (the cookie and token lookups among them), so the list is
 * rebuilt from copies and the original elements stay untouched.
 */

static ngx_int_t
ngx_http_edugate_strip_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    found = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        switch (ngx_http_edugate_header_kind(r, &h[i])) {

        case NGX_HTTP_EDUGATE_HEADER_OURS:
            found++;

            if (!ngx_http_edugate_our_header(&h[i])) {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "edugate: spoofed_header: client sent \"%V\", "
                              "removed", &h[i].key);
            }

            break;

        case NGX_HTTP_EDUGATE_HEADER_COOKIE:
        case NGX_HTTP_EDUGATE_HEADER_BEARER:
            found++;
            break;

        default:
            break;
        }
    }

    if (found == 0) {
        return NGX_OK;
    }

    return ngx_http_edugate_rebuild_headers(r, ngx_http_edugate_keep_header,
                                            NULL);
}


static ngx_int_t
ngx_http_edugate_keep_header(ngx_http_request_t *r, ngx_table_elt_t *h,
    ngx_str_t *value, void *data)
{
    switch (ngx_http_edugate_header_kind(r, h)) {

    case NGX_HTTP_EDUGATE_HEADER_OURS:
    case NGX_HTTP_EDUGATE_HEADER_BEARER:
        return NGX_DECLINED;

    case NGX_HTTP_EDUGATE_HEADER_COOKIE:
        if (ngx_http_edugate_cut_cookies(r, &h->value, value) != NGX_OK) {
            return NGX_ERROR;
        }

        return value->len ? NGX_OK : NGX_DECLINED;

    default:
        return NGX_OK;
    }
}


/*
 * The list head holds a pointer into itself, and r->headers_in points at
 * list elements: the list is rebuilt in place from copies, and "keep"
 * says of each header whether it stays and with which value.
 */

ngx_int_t
ngx_http_edugate_rebuild_headers(ngx_http_request_t *r,
    ngx_http_edugate_keep_header_pt keep, void *data)
{
    ngx_int_t         rc;
    ngx_str_t         value;
    ngx_uint_t        i;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &old.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        value = h[i].value;

        rc = keep(r, &h[i], &value, data);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            continue;
        }

        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
        nh->value = value;
#if (nginx_version >= 1023000)
        nh->next = NULL;
#endif
    }

    return NGX_OK;
}


/*
 * "X_Edugate_User" counts too: with underscores_in_headers on, CGI-style
 * applications see it as the same header as "X-Edugate-User".
 */

static ngx_uint_t
ngx_http_edugate_our_prefix(ngx_table_elt_t *h)
{
    ngx_uint_t     i;
    static u_char  prefix[] = "x-edugate-";

    if (h->key.len <= sizeof(prefix) - 1) {
        return 0;
    }

    for (i = 0; i < sizeof(prefix) - 1; i++) {
        if (h->lowcase_key[i] != prefix[i]
            && !(prefix[i] == '-' && h->lowcase_key[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_http_edugate_header_kind(ngx_http_request_t *r, ngx_table_elt_t *h)
{
    ngx_uint_t                     i;
    ngx_str_t                     *name;
    ngx_http_edugate_loc_conf_t   *elcf;
    ngx_http_edugate_main_conf_t  *emcf;

    if (ngx_http_edugate_our_prefix(h)) {
        return NGX_HTTP_EDUGATE_HEADER_OURS;
    }

    /* a bearer token is ours only where we check it: elsewhere it is not */

    if (h == r->headers_in.authorization) {
        elcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_module);

        if ((elcf->protect || elcf->allow_roles || elcf->allow_orgs
             || elcf->allow_clients)
            && ngx_http_edugate_bearer_token(r, NULL) == NGX_OK)
        {
            return NGX_HTTP_EDUGATE_HEADER_BEARER;
        }

        return NGX_HTTP_EDUGATE_HEADER_OTHER;
    }

    if (h->key.len != 6 || ngx_strncmp(h->lowcase_key, "cookie", 6) != 0) {
        return NGX_HTTP_EDUGATE_HEADER_OTHER;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    for (i = 0; i < 2; i++) {
        name = i ? &ngx_http_edugate_csrf_name : &emcf->cookie_name;

        if (ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                             name->data, name->len - 1)
            != NULL)
        {
            return NGX_HTTP_EDUGATE_HEADER_COOKIE;
        }
    }

    return NGX_HTTP_EDUGATE_HEADER_OTHER;
}


/* copies "a=1; edugate_session=x; b=2" as "a=1; b=2" */

static ngx_int_t
ngx_http_edugate_cut_cookies(ngx_http_request_t *r, ngx_str_t *in,
    ngx_str_t *out)
{
    u_char                        *p, *last, *start, *end, *eq, *o;
    size_t                         nlen;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    out->data = ngx_pnalloc(r->pool, in->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    o = out->data;
    p = in->data;
    last = in->data + in->len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == ';')) {
            p++;
        }

        start = p;

        while (p < last && *p != ';') {
            p++;
        }

        end = p;

        while (end > start && end[-1] == ' ') {
            end--;
        }

        if (end == start) {
            continue;
        }

        eq = ngx_strlchr(start, end, '=');
        nlen = (eq ? eq : end) - start;

        if ((nlen == emcf->cookie_name.len
             && ngx_strncmp(start, emcf->cookie_name.data, nlen) == 0)
            || (nlen == ngx_http_edugate_csrf_name.len
                && ngx_strncmp(start, ngx_http_edugate_csrf_name.data, nlen)
                   == 0))
        {
            continue;
        }

        if (o != out->data) {
            *o++ = ';';
            *o++ = ' ';
        }

        o = ngx_cpymem(o, start, end - start);
    }

    out->len = o - out->data;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_edugate_our_header(ngx_table_elt_t *h)
{
    ngx_http_edugate_header_t  *eh;

    for (eh = ngx_http_edugate_headers; eh->name.len; eh++) {
        if (h->lowcase_key == eh->lowcase) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_edugate_add_headers(ngx_http_request_t *r, eg_identity_t *id)
{
    char                       *v;
    size_t                      len, cap;
    ngx_table_elt_t            *h;
    ngx_http_edugate_header_t  *eh;

    for (eh = ngx_http_edugate_headers; eh->name.len; eh++) {

        v = eg_identity_field(id, eh->field, &cap);
        len = ngx_strlen(v);

        if (len == 0) {
            continue;
        }

        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->key = eh->name;
        h->lowcase_key = eh->lowcase;
        h->hash = ngx_hash_key(eh->lowcase, eh->name.len);
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif

        if (eh->encode) {
            /* names are UTF-8; header values are safest as ASCII */
            h->value.len = eg_percent_encode_len((u_char *) v, len);
            h->value.data = ngx_pnalloc(r->pool, h->value.len);
            if (h->value.data == NULL) {
                return NGX_ERROR;
            }

            eg_percent_encode(h->value.data, (u_char *) v, len);

        } else {
            h->value.len = len;
            h->value.data = (u_char *) v;
        }
    }

    return NGX_OK;
}
