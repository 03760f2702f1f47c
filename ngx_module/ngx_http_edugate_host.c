/*
 * Copyright (C) EduGate contributors
 *
 * The one place where plugin ABI types meet nginx types: the session's
 * identity becomes an edugate_identity_t, a hook's headers, arguments
 * and cookies become the request sent upstream, and a hook's log lines
 * go to the nginx log.  Copies of what a plugin sets, sent by a client,
 * are removed before the hook runs, so that the vendor only ever sees the
 * gateway's values.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_plugin.h"
#include "eg_text.h"
#include "eg_url.h"


static ngx_int_t ngx_http_edugate_host_keep(ngx_http_request_t *r,
    ngx_table_elt_t *h, ngx_str_t *value, void *data);
static ngx_int_t ngx_http_edugate_host_add_cookies(ngx_http_request_t *r,
    eg_kv_t *cookies);
static ngx_table_elt_t *ngx_http_edugate_host_push(ngx_http_request_t *r,
    u_char *name, size_t nlen, u_char *value, size_t vlen);
static ngx_uint_t ngx_http_edugate_host_is_cookie(ngx_table_elt_t *h);
static char *ngx_http_edugate_host_dup(eg_call_t *call, const char *s);


ngx_int_t
ngx_http_edugate_host_strip(ngx_http_request_t *r, eg_plugin_t *p)
{
    u_char  *args;

    if (p->about.identity_headers || p->about.identity_cookies) {
        if (ngx_http_edugate_rebuild_headers(r, ngx_http_edugate_host_keep,
                                             p)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (p->about.identity_args && r->args.len) {
        args = ngx_pnalloc(r->pool, r->args.len);
        if (args == NULL) {
            return NGX_ERROR;
        }

        r->args.len = eg_query_strip((char *) args, (char *) r->args.data,
                                     r->args.len, p->about.identity_args);
        r->args.data = args;

        /* the upstream request line is rebuilt from r->uri and r->args */
        r->valid_unparsed_uri = 0;
    }

    return NGX_OK;
}


/*
 * What clients send in place of the plugin's identity headers and cookies
 * does not reach the application.
 */

static ngx_int_t
ngx_http_edugate_host_keep(ngx_http_request_t *r, ngx_table_elt_t *h,
    ngx_str_t *value, void *data)
{
    eg_plugin_t  *p = data;

    u_char      *name;
    ngx_uint_t   k;

    for (k = 0; p->about.identity_headers
                && p->about.identity_headers[k]; k++)
    {
        name = (u_char *) p->about.identity_headers[k];

        if (h->key.len == ngx_strlen(name)
            && ngx_strncasecmp(h->key.data, name, h->key.len) == 0)
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "edugate: spoofed_header: client sent \"%V\", "
                          "which plugin \"%s\" sets; removed", &h->key,
                          p->name);
            return NGX_DECLINED;
        }
    }

    if (p->about.identity_cookies && ngx_http_edugate_host_is_cookie(h)) {
        value->data = ngx_pnalloc(r->pool, 2 * h->value.len);
        if (value->data == NULL) {
            return NGX_ERROR;
        }

        value->len = eg_cookie_strip((char *) value->data,
                                     (char *) h->value.data, h->value.len,
                                     p->about.identity_cookies);
        if (value->len == 0) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_edugate_host_identity(ngx_http_request_t *r, eg_call_t *call,
    eg_identity_t *id, ngx_str_t *vendor_uid, ngx_uint_t pairwise,
    edugate_identity_t *out)
{
    ngx_memzero(out, sizeof(edugate_identity_t));

    out->size = sizeof(edugate_identity_t);
    out->flags = pairwise ? EDUGATE_ID_PAIRWISE : 0;

    out->uid = ngx_http_edugate_host_dup(call, id->uid);
    out->vendor_uid = eg_call_strndup(call, (char *) vendor_uid->data,
                                      vendor_uid->len);
    out->name = ngx_http_edugate_host_dup(call, id->name);
    out->roles = ngx_http_edugate_host_dup(call, id->roles);
    out->org = ngx_http_edugate_host_dup(call, id->org);
    out->org_path = ngx_http_edugate_host_dup(call, id->org_path);
    out->level = ngx_http_edugate_host_dup(call, id->level);
    out->school = ngx_http_edugate_host_dup(call, id->school);
    out->grade = ngx_http_edugate_host_dup(call, id->grade);
    out->klass = ngx_http_edugate_host_dup(call, id->klass);

    out->auth_time = id->auth_time;
    out->now = ngx_time();

    if (out->uid == NULL || out->vendor_uid == NULL || out->name == NULL
        || out->roles == NULL || out->org == NULL || out->org_path == NULL
        || out->level == NULL || out->school == NULL || out->grade == NULL
        || out->klass == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_edugate_host_dup(eg_call_t *call, const char *s)
{
    return eg_call_strndup(call, s, ngx_strlen(s));
}


ngx_int_t
ngx_http_edugate_host_apply(ngx_http_request_t *r, eg_call_t *call)
{
    u_char   *p;
    size_t    len, nlen, vlen;
    eg_kv_t  *kv;

    for (kv = call->headers; kv; kv = kv->next) {
        if (ngx_http_edugate_host_push(r, (u_char *) kv->name,
                                       ngx_strlen(kv->name),
                                       (u_char *) kv->value,
                                       ngx_strlen(kv->value))
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    if (call->args) {
        len = r->args.len;

        for (kv = call->args; kv; kv = kv->next) {
            len += 2 + ngx_strlen(kv->name)
                   + eg_percent_encode_len((u_char *) kv->value,
                                           ngx_strlen(kv->value));
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = r->args.len;

        if (len) {
            ngx_memcpy(p, r->args.data, len);
        }

        for (kv = call->args; kv; kv = kv->next) {
            if (len) {
                p[len++] = '&';
            }

            nlen = ngx_strlen(kv->name);
            vlen = ngx_strlen(kv->value);

            ngx_memcpy(p + len, kv->name, nlen);
            len += nlen;
            p[len++] = '=';
            len += eg_percent_encode(p + len, (u_char *) kv->value, vlen);
        }

        r->args.data = p;
        r->args.len = len;
        r->valid_unparsed_uri = 0;
    }

    if (call->cookies) {
        return ngx_http_edugate_host_add_cookies(r, call->cookies);
    }

    return NGX_OK;
}


/* into the first Cookie header, as a browser sends one */

static ngx_int_t
ngx_http_edugate_host_add_cookies(ngx_http_request_t *r, eg_kv_t *cookies)
{
    u_char           *p, *start;
    size_t            len;
    eg_kv_t          *kv;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *cookie;

    cookie = NULL;
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

        if (ngx_http_edugate_host_is_cookie(&h[i])) {
            cookie = &h[i];
            break;
        }
    }

    len = cookie ? cookie->value.len : 0;

    for (kv = cookies; kv; kv = kv->next) {
        len += 3 + ngx_strlen(kv->name) + ngx_strlen(kv->value);
    }

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_ERROR;
    }

    p = start;

    if (cookie) {
        p = ngx_cpymem(p, cookie->value.data, cookie->value.len);
    }

    for (kv = cookies; kv; kv = kv->next) {
        if (p != start) {
            *p++ = ';';
            *p++ = ' ';
        }

        p = ngx_cpymem(p, kv->name, ngx_strlen(kv->name));
        *p++ = '=';
        p = ngx_cpymem(p, kv->value, ngx_strlen(kv->value));
    }

    if (cookie == NULL) {
        cookie = ngx_http_edugate_host_push(r, (u_char *) "Cookie", 6, NULL,
                                            0);
        if (cookie == NULL) {
            return NGX_ERROR;
        }
    }

    cookie->value.data = start;
    cookie->value.len = p - start;

    return NGX_OK;
}


static ngx_table_elt_t *
ngx_http_edugate_host_push(ngx_http_request_t *r, u_char *name, size_t nlen,
    u_char *value, size_t vlen)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NULL;
    }

    h->key.len = nlen;
    h->key.data = ngx_pnalloc(r->pool, nlen);
    h->lowcase_key = ngx_pnalloc(r->pool, nlen);
    h->value.len = vlen;
    h->value.data = vlen ? ngx_pnalloc(r->pool, vlen) : NULL;

    if (h->key.data == NULL || h->lowcase_key == NULL
        || (vlen && h->value.data == NULL))
    {
        return NULL;
    }

    ngx_memcpy(h->key.data, name, nlen);

    if (vlen) {
        ngx_memcpy(h->value.data, value, vlen);
    }

    h->hash = ngx_hash_strlow(h->lowcase_key, name, nlen);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
}


static ngx_uint_t
ngx_http_edugate_host_is_cookie(ngx_table_elt_t *h)
{
    return h->key.len == 6 && ngx_strncasecmp(h->key.data,
                                              (u_char *) "cookie", 6) == 0;
}


void
ngx_http_edugate_host_logs(ngx_log_t *log, eg_call_t *call)
{
    u_char     *text;
    size_t      len;
    eg_log_t   *l;
    ngx_uint_t  level;

    for (l = call->logs; l; l = l->next) {

        switch (l->level) {
        case EDUGATE_LOG_WARN:
            level = NGX_LOG_WARN;
            break;
        case EDUGATE_LOG_INFO:
            level = NGX_LOG_INFO;
            break;
        case EDUGATE_LOG_DEBUG:
            level = NGX_LOG_DEBUG;
            break;
        default:
            level = NGX_LOG_ERR;
        }

        if (log->log_level < level) {
            continue;
        }

        /* a plugin's text can never forge a log line */
        len = eg_log_escape_len((u_char *) l->text, ngx_strlen(l->text));

        text = ngx_alloc(len, log);
        if (text == NULL) {
            return;
        }

        eg_log_escape(text, (u_char *) l->text, ngx_strlen(l->text));

        ngx_log_error(level, log, 0, "edugate: plugin \"%s\": %*s",
                      call->plugin->name, len, text);

        ngx_free(text);
    }

    if (call->dropped_logs) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "edugate: plugin \"%s\": %ud more log lines of one "
                      "call dropped", call->plugin->name, call->dropped_logs);
    }
}
