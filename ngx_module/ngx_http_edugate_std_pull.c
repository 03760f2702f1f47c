/*
 * Copyright (C) EduGate contributors
 *
 * The standard pull (edugate_std_pull): GET /std/v1/<entity>?<filters>.
 * The access phase has let in a person or program the location's policy
 * allows.  Then, each step suspending the request until it is resumed:
 *
 *   query    the plugin's to_vendor hook turns the filters into the
 *            vendor's request, in the thread pool
 *   vendor   a subrequest to edugate_std_pull_upstream with that path,
 *            those arguments and headers (and none of the client's); the
 *            answer is captured by the filters below, bounded by
 *            edugate_std_pull_max_body
 *   parse    the answer as a push payload: to_standard for every entity
 *            the plugin makes, so that references resolve in the batch
 *   ids, fetch, check   unified ids, known records, rules and XSD as for
 *            a push; the answer rendered (OneRoster JSON or XML), the
 *            page the client's limit and offset name
 *   store    the conformance counters; the registry learns no records
 *   send
 *
 * The vendor is at fault for what its answer holds: what a push refuses
 * with a 4xx, a pull answers 502 with the same code.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_std.h"
#include "eg_uuid.h"


#define NGX_HTTP_EDUGATE_NOT_ACCEPTABLE  406


static ngx_int_t ngx_http_edugate_std_pull_start(ngx_http_request_t *r,
    ngx_http_edugate_std_loc_conf_t *slcf, const char *entity,
    ngx_int_t format);
static const char *ngx_http_edugate_std_pull_entity(ngx_http_request_t *r,
    ngx_http_edugate_std_loc_conf_t *slcf);
static ngx_int_t ngx_http_edugate_std_pull_vendor(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx);
static ngx_int_t ngx_http_edugate_std_pull_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, eg_call_t *c);
static ngx_int_t ngx_http_edugate_std_pull_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_edugate_std_pull_resume(ngx_http_request_t *r);
static void ngx_http_edugate_std_pull_send(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx);
static ngx_int_t ngx_http_edugate_std_pull_paging(ngx_http_request_t *r,
    ngx_http_edugate_std_work_t *w);
static ngx_int_t ngx_http_edugate_std_pull_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_std_pull_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_edugate_std_pull_keep(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx, ngx_buf_t *b);
static void ngx_http_edugate_std_pull_cleanup(void *data);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_edugate_std_pull_handler(ngx_http_request_t *r)
{
    u_char                           *accept;
    ngx_int_t                         format;
    ngx_table_elt_t                  *h;
    const char                       *entity;
    ngx_http_edugate_std_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: a pull is a GET");

        if (ngx_http_edugate_add_header(r, "Allow", "GET, HEAD") == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_edugate_std_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method_not_allowed",
                                          "a pull is a GET");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    entity = ngx_http_edugate_std_pull_entity(r, slcf);

    if (entity == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: unknown_entity: \"%V\" names no entity "
                      "pulled from \"%V\"", &r->uri, &slcf->pull->name);
        return ngx_http_edugate_std_error(r, NGX_HTTP_NOT_FOUND,
                                          "unknown_entity",
                                          "no such collection here");
    }

    h = ngx_http_edugate_header_in(r, "accept", 6);
    accept = h ? h->value.data : (u_char *) "";
    format = eg_pull_accept((const char *) accept, h ? h->value.len : 0);

    if (format == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: not_acceptable: Accept \"%V\" takes neither "
                      "JSON nor XML", &h->value);
        return ngx_http_edugate_std_error(r, NGX_HTTP_EDUGATE_NOT_ACCEPTABLE,
                                          "not_acceptable",
                                          "accept application/json or "
                                          "application/xml");
    }

    if (ngx_http_edugate_crash_disabled(r, slcf->pull)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: plugin_disabled: plugin \"%V\" is disabled "
                      "after repeated crashes", &slcf->pull->name);
        return ngx_http_edugate_std_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "plugin_disabled", NULL);
    }

    return ngx_http_edugate_std_pull_start(r, slcf, entity, format);
}


/* the last segment of the URI, if the location pulls that entity */

static const char *
ngx_http_edugate_std_pull_entity(ngx_http_request_t *r,
    ngx_http_edugate_std_loc_conf_t *slcf)
{
    u_char      *p, *last;
    size_t       len;
    char       **e;
    ngx_uint_t   i;

    last = r->uri.data + r->uri.len;
    p = last;

    while (p > r->uri.data && p[-1] != '/') {
        p--;
    }

    len = last - p;
    e = slcf->pull_entities->elts;

    for (i = 0; i < slcf->pull_entities->nelts; i++) {
        if (ngx_strlen(e[i]) == len && ngx_strncmp(e[i], p, len) == 0) {
            return e[i];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_edugate_std_pull_start(ngx_http_request_t *r,
    ngx_http_edugate_std_loc_conf_t *slcf, const char *entity,
    ngx_int_t format)
{
    char                               id[EG_UUID_LEN + 1];
    char                               err[128];
    size_t                             n;
    ngx_tm_t                           tm;
    eg_plugin_t                       *p;
    ngx_pool_cleanup_t                *cln;
    ngx_http_edugate_std_ctx_t        *ctx;
    ngx_http_edugate_std_work_t       *w;
    ngx_http_edugate_std_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_std_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_std_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (ctx == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->work = ngx_http_edugate_std_work_new(r);
    if (ctx->work == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_edugate_std_pull_cleanup;
    cln->data = ctx;

    ctx->pull = 1;
    ngx_http_set_ctx(r, ctx, ngx_http_edugate_std_module);

    w = ctx->work;
    w->vendor = slcf->pull;
    p = w->vendor->plugin;

    w->filters = ngx_alloc(sizeof(eg_pull_query_t), r->connection->log);
    if (w->filters == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* limit and offset are the gateway's: the plugin never sees them */
    if (eg_pull_query_parse(w->filters, (const char *) r->args.data,
                            r->args.len, err, sizeof(err))
        != 0
        || eg_pull_page_take(w->filters, &w->pull.page, err, sizeof(err))
           != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_query: %s", err);
        return ngx_http_edugate_std_error(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_query", err);
    }

    if (eg_uuid_v4(id) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_gmtime(ngx_time(), &tm);

    ngx_sprintf((u_char *) w->batch_id,
                "%V-pull-%4d%02d%02d%02d%02d%02d-%*s%Z", &w->vendor->name,
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec, (size_t) 8,
                id);

    /* every entity the plugin makes: references resolve in the batch */
    w->entities = (char **) p->about.entities;

    for (n = 0; p->about.entities && p->about.entities[n]; n++) {
        /* void */
    }

    w->nentities = n;
    w->entity = entity;
    w->format = eg_tree_format(p->about.payload ? p->about.payload
                                                : "json");
    w->body_max = slcf->pull_max_body;

    w->limits.max_bytes = slcf->pull_max_body;
    w->limits.max_depth = 64;
    w->limits.max_nodes = slcf->pull_max_body / 4 + 1024;

    w->uconf.vendor = (const char *) p->name;
    w->uconf.batch_id = w->batch_id;
    w->uconf.own = p->about.entities;
    ngx_memcpy(w->uconf.ns, smcf->ns, 16);

    w->pconf.codes = smcf->codes;
    w->pconf.schema = smcf->schema;
    w->pconf.vendor = w->uconf.vendor;
    w->pconf.batch_id = w->batch_id;
    w->pconf.observe = slcf->pull_observe;
    w->pconf.hmac_key = smcf->secret.len ? smcf->secret.data : NULL;
    w->pconf.hmac_len = smcf->secret.len;
    w->pconf.now = ngx_time();

    w->pull.coll = entity;
    w->pull.vendor = w->uconf.vendor;
    w->pull.format = (int) format;
    w->pull.observe = slcf->pull_observe;
    w->pull.schema = smcf->schema;

    ctx->state = NGX_HTTP_EDUGATE_STD_QUERY;

    r->main->count++;

    ngx_http_edugate_std_pull_run(r);

    return NGX_DONE;
}


void
ngx_http_edugate_std_pull_run(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_uint_t                    status;
    ngx_http_edugate_std_ctx_t   *ctx;
    ngx_http_edugate_std_work_t  *w;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    while (!ctx->waiting && ctx->work) {
        w = ctx->work;

        if (w->query_call && ctx->state == NGX_HTTP_EDUGATE_STD_VENDOR) {
            ngx_http_edugate_host_logs(r->connection->log, w->query_call);
        }

        if (w->status) {
            status = w->status;

            /* what the vendor answered is at fault, not the client */
            if (ctx->state == NGX_HTTP_EDUGATE_STD_IDS
                && status >= NGX_HTTP_BAD_REQUEST
                && status < NGX_HTTP_INTERNAL_SERVER_ERROR)
            {
                status = NGX_HTTP_BAD_GATEWAY;
            }

            ngx_http_edugate_std_finish(r, ctx, status, w->code, w->detail);
            return;
        }

        rc = ngx_http_edugate_std_shared_step(r, ctx);

        if (rc == NGX_DONE) {
            return;
        }

        if (rc == NGX_OK) {
            continue;
        }

        switch (ctx->state) {

        case NGX_HTTP_EDUGATE_STD_QUERY:
            if (ngx_http_edugate_std_post(r, ctx,
                                          ngx_http_edugate_std_pull_query,
                                          NGX_HTTP_EDUGATE_STD_VENDOR)
                != NGX_OK)
            {
                return;
            }

            break;

        case NGX_HTTP_EDUGATE_STD_VENDOR:
            if (ngx_http_edugate_std_pull_vendor(r, ctx) != NGX_OK) {
                return;
            }

            break;

        case NGX_HTTP_EDUGATE_STD_CHECK:
            if (ngx_http_edugate_std_post(r, ctx,
                                          ngx_http_edugate_std_pull_check,
                                          NGX_HTTP_EDUGATE_STD_STORE)
                != NGX_OK)
            {
                return;
            }

            break;

        case NGX_HTTP_EDUGATE_STD_STORE:
            /*
             * The counters only: a pull teaches the registry no record.
             * Every page is a pull of the whole collection: a client
             * walking through the pages counts once, at the first.
             */
            if (json_array_size(w->res.counters) == 0
                || w->pull.page.offset > 0)
            {
                ctx->state = NGX_HTTP_EDUGATE_STD_ANSWER;
                break;
            }

            if (ngx_http_edugate_std_redis(r, ctx, eg_pipe_store_script(),
                                           w->res.counters, 4,
                                           NGX_HTTP_EDUGATE_STD_ANSWER)
                != NGX_OK)
            {
                return;
            }

            break;

        default:
            ngx_http_edugate_std_pull_send(r, ctx);
            return;
        }
    }
}


/* the vendor's request: the plugin's path below the upstream location */

static ngx_int_t
ngx_http_edugate_std_pull_vendor(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx)
{
    u_char                           *p;
    size_t                            len;
    eg_kv_t                          *kv;
    eg_call_t                        *c;
    ngx_str_t                         uri, args;
    ngx_http_request_t               *sr;
    ngx_http_post_subrequest_t       *ps;
    ngx_http_edugate_std_work_t      *w;
    ngx_http_edugate_std_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);
    w = ctx->work;
    c = w->query_call;

    if (w->query_rc == EDUGATE_BAD_INPUT || w->query_rc == EDUGATE_DECLINED)
    {
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_BAD_REQUEST,
                                    "invalid_query",
                                    c && c->error[0] ? c->error
                                    : "the vendor cannot answer this query");
        return NGX_ERROR;
    }

    if (w->query_rc != EDUGATE_OK || c == NULL || c->path == NULL) {
        ngx_snprintf((u_char *) w->detail, sizeof(w->detail) - 1,
                     "plugin \"%V\": to_vendor failed (code %d): %s%Z",
                     &w->vendor->name, w->query_rc,
                     c && c->error[0] ? c->error : "no request path");
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                    "plugin_error", w->detail);
        return NGX_ERROR;
    }

    len = slcf->pull_upstream.len + ngx_strlen(c->path);
    uri.data = ngx_pnalloc(r->pool, len);

    len = 0;

    for (kv = c->args; kv; kv = kv->next) {
        len += 3 * (ngx_strlen(kv->name) + ngx_strlen(kv->value)) + 2;
    }

    args.data = ngx_pnalloc(r->pool, len + 1);

    if (uri.data == NULL || args.data == NULL) {
        goto failed;
    }

    p = ngx_cpymem(uri.data, slcf->pull_upstream.data,
                   slcf->pull_upstream.len);

    if (p > uri.data && p[-1] == '/') {
        p--;
    }

    p = ngx_cpymem(p, c->path, ngx_strlen(c->path));
    uri.len = p - uri.data;

    p = args.data;

    for (kv = c->args; kv; kv = kv->next) {
        if (kv != c->args) {
            *p++ = '&';
        }

        p += eg_pull_escape((char *) p, kv->name, ngx_strlen(kv->name));
        *p++ = '=';
        p += eg_pull_escape((char *) p, kv->value, ngx_strlen(kv->value));
    }

    args.len = p - args.data;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        goto failed;
    }

    ps->handler = ngx_http_edugate_std_pull_done;
    ps->data = ctx;

    if (ngx_http_subrequest(r, &uri, args.len ? &args : NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        goto failed;
    }

    sr->request_body = NULL;
    sr->header_only = 0;

    if (ngx_strcmp(c->method, "POST") == 0) {
        sr->method = NGX_HTTP_POST;
        ngx_str_set(&sr->method_name, "POST");

    } else {
        sr->method = NGX_HTTP_GET;
        ngx_str_set(&sr->method_name, "GET");
    }

    if (ngx_http_edugate_std_pull_headers(r, sr, c) != NGX_OK) {
        goto failed;
    }

    ngx_http_set_ctx(sr, ctx, ngx_http_edugate_std_module);

    ctx->vendor_sr = sr;
    ctx->state = NGX_HTTP_EDUGATE_STD_PARSE;
    ctx->waiting = 1;

    r->write_event_handler = ngx_http_edugate_std_pull_resume;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "edugate pull: %s %V?%V", c->method, &uri, &args);

    return NGX_OK;

failed:

    ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                "internal_error", NULL);
    return NGX_ERROR;
}


/*
 * The vendor gets the plugin's headers and what it is asked for, never
 * the client's credentials, cookies or other headers.
 */

static ngx_int_t
ngx_http_edugate_std_pull_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, eg_call_t *c)
{
    eg_kv_t          *kv;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;
    const char       *name, *value;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 8,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&sr->headers_in.host, sizeof(ngx_table_elt_t *));
    sr->headers_in.authorization = NULL;
    sr->headers_in.content_type = NULL;
    sr->headers_in.content_length = NULL;
    sr->headers_in.transfer_encoding = NULL;
    sr->headers_in.chunked = 0;
    sr->headers_in.content_length_n = (sr->method == NGX_HTTP_POST) ? 0
                                                                      : -1;

    for (i = 0, kv = c->headers; i == 0 || kv; i++) {
        if (i == 0) {
            name = "Accept";
            value = (c->plugin->about.payload
                     && ngx_strcmp(c->plugin->about.payload, "xml") == 0)
                    ? "application/xml" : "application/json";

        } else {
            name = kv->name;
            value = kv->value;
            kv = kv->next;
        }

        h = ngx_list_push(&sr->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(h, sizeof(ngx_table_elt_t));
        h->hash = 1;
        h->key.data = (u_char *) name;
        h->key.len = ngx_strlen(name);
        h->value.data = (u_char *) value;
        h->value.len = ngx_strlen(value);
        h->lowcase_key = ngx_pnalloc(r->pool, h->key.len);

        if (h->lowcase_key == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(h->lowcase_key, h->key.data, h->key.len);
    }

    return NGX_OK;
}


/*
 * Runs again when an error page follows an error: the first call counts.
 * An aborted subrequest (NGX_ERROR) would end the client's request with
 * it: its failure is noted and it ends quietly instead.
 */

static ngx_int_t
ngx_http_edugate_std_pull_done(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_edugate_std_ctx_t *ctx = data;

    ngx_uint_t  status;

    if (ctx->vendor_sr != r) {
        return rc;
    }

    if (ctx->vendor_answered) {
        return (rc == NGX_ERROR) ? NGX_OK : rc;
    }

    ctx->vendor_answered = 1;
    ctx->waiting = 0;

    status = r->headers_out.status;

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE || status == 0) {
        status = (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) rc
                                                  : NGX_HTTP_BAD_GATEWAY;
    }

    ctx->vendor_status = status;

    return (rc == NGX_ERROR) ? NGX_OK : rc;
}


static void
ngx_http_edugate_std_pull_resume(ngx_http_request_t *r)
{
    ngx_http_edugate_std_ctx_t   *ctx;
    ngx_http_edugate_std_work_t  *w;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    if (ctx == NULL || ctx->waiting || ctx->work == NULL) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    w = ctx->work;

    if (ctx->state == NGX_HTTP_EDUGATE_STD_PARSE && w->status == 0) {

        if (ctx->vendor_too_large) {
            ngx_snprintf((u_char *) w->detail, sizeof(w->detail) - 1,
                         "the answer of \"%V\" is over %uz bytes "
                         "(edugate_std_pull_max_body)%Z", &w->vendor->name,
                         w->body_max);
            ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                        "vendor_answer_too_large",
                                        w->detail);
            return;
        }

        if (ctx->vendor_status < 200 || ctx->vendor_status >= 300
            || !ctx->vendor_done)
        {
            ngx_snprintf((u_char *) w->detail, sizeof(w->detail) - 1,
                         "vendor \"%V\" answered %ui%s%Z", &w->vendor->name,
                         ctx->vendor_status,
                         ctx->vendor_done ? "" : ", incomplete");
            ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                        "vendor_failed", w->detail);
            return;
        }
    }

    ngx_http_edugate_std_pull_run(r);
}


static void
ngx_http_edugate_std_pull_send(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                     type;
    ngx_http_edugate_std_work_t  *w;

    w = ctx->work;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: pull %s of \"%V\" (%s): %uz records, %uz "
                  "rejected, %uz returned, page offset %uz limit %uz of "
                  "%uz", w->batch_id, &w->vendor->name, w->entity,
                  w->res.records, w->res.rejected, w->res.forwarded,
                  w->pull.page.offset, w->pull.page.limit,
                  w->answer_total);

    if (w->pull.format == EG_PULL_XML) {
        ngx_str_set(&type, "application/xml; charset=utf-8");

    } else {
        ngx_str_set(&type, "application/json; charset=utf-8");
    }

    if (ngx_http_edugate_add_header(r, "Cache-Control", "no-store") == NULL
        || ngx_http_edugate_add_header(r, "X-Content-Type-Options",
                                       "nosniff") == NULL
        || ngx_http_edugate_add_header(r, "Vary", "Accept") == NULL
        || ngx_http_edugate_add_header(r, "X-Edugate-Batch-Id",
                                       w->batch_id) == NULL
        || ngx_http_edugate_std_pull_paging(r, w) != NGX_OK)
    {
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "internal_error", NULL);
        return;
    }

    r->headers_out.status = NGX_HTTP_OK;

    rc = ngx_http_edugate_send_body(r, &type, (u_char *) w->answer,
                                    w->answer_len);

    ngx_http_finalize_request(r, rc);
}


/* OneRoster's paging headers: the size of the collection, its pages */

static ngx_int_t
ngx_http_edugate_std_pull_paging(ngx_http_request_t *r,
    ngx_http_edugate_std_work_t *w)
{
    u_char  *count, *value;
    char    *links;
    size_t   len;

    count = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN + 1);
    if (count == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(count, "%uz%Z", w->answer_total);

    links = eg_pull_links((const char *) r->uri.data, r->uri.len,
                          w->filters, &w->pull.page, w->answer_total);
    if (links == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(links);
    value = ngx_pnalloc(r->pool, len + 1);

    if (value != NULL) {
        ngx_memcpy(value, links, len + 1);
    }

    ngx_free(links);

    if (value == NULL
        || ngx_http_edugate_add_header(r, "X-Total-Count",
                                       (const char *) count) == NULL
        || ngx_http_edugate_add_header(r, "Link", (const char *) value)
           == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_edugate_std_pull_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_edugate_std_pull_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_edugate_std_pull_body_filter;

    return NGX_OK;
}


/* the vendor's answer stays here: its headers go nowhere */

static ngx_int_t
ngx_http_edugate_std_pull_header_filter(ngx_http_request_t *r)
{
    u_char                       *p, *end;
    size_t                        n;
    ngx_http_edugate_std_ctx_t   *ctx;
    ngx_http_edugate_std_work_t  *w;

    if (r == r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    if (ctx == NULL || !ctx->pull || ctx->vendor_sr != r) {
        return ngx_http_next_header_filter(r);
    }

    w = ctx->work;

    if (ctx->vendor_answered) {
        return NGX_OK;
    }

    ctx->vendor_status = r->headers_out.status;

    if (w && r->headers_out.content_length_n > (off_t) w->body_max) {
        ctx->vendor_too_large = 1;
    }

    /* a charset parameter reaches the parser, as for a push */
    if (w && r->headers_out.charset.len == 0
        && r->headers_out.content_type.len)
    {
        p = r->headers_out.content_type.data;
        end = p + r->headers_out.content_type.len;
        p = ngx_strlcasestrn(p, end, (u_char *) "charset=", 8 - 1);

        if (p) {
            p += 8;
            n = 0;

            while (p + n < end && p[n] != ';' && p[n] != ' ' && p[n] != '"'
                   && n < sizeof(w->charset) - 1)
            {
                n++;
            }

            ngx_memcpy(w->charset, p, n);
            w->charset[n] = '\0';
        }

    } else if (w && r->headers_out.charset.len
               && r->headers_out.charset.len < sizeof(w->charset))
    {
        ngx_memcpy(w->charset, r->headers_out.charset.data,
                   r->headers_out.charset.len);
        w->charset[r->headers_out.charset.len] = '\0';
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_std_pull_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in)
{
    ngx_chain_t                 *cl;
    ngx_http_edugate_std_ctx_t  *ctx;

    if (r == r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    if (ctx == NULL || !ctx->pull || ctx->vendor_sr != r) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {

        if (!ctx->vendor_too_large && !ctx->vendor_answered && ctx->work
            && ngx_http_edugate_std_pull_keep(r, ctx, cl->buf) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if ((cl->buf->last_buf || cl->buf->last_in_chain)
            && !ctx->vendor_answered)
        {
            ctx->vendor_done = 1;
        }

        /* consumed: the upstream may reuse its buffers */
        cl->buf->pos = cl->buf->last;

        if (cl->buf->in_file) {
            cl->buf->file_pos = cl->buf->file_last;
        }
    }

    /*
     * What is over the bound is read and dropped: an error here would end
     * the client's request along with the subrequest.
     */
    return NGX_OK;
}


static ngx_int_t
ngx_http_edugate_std_pull_keep(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx, ngx_buf_t *b)
{
    u_char                       *body;
    size_t                        size, cap;
    ssize_t                       n;
    ngx_http_edugate_std_work_t  *w;

    w = ctx->work;

    size = b->in_file ? (size_t) (b->file_last - b->file_pos)
                      : (size_t) (b->last - b->pos);

    if (size == 0) {
        return NGX_OK;
    }

    if (w->len + size > w->body_max) {
        ctx->vendor_too_large = 1;
        return NGX_OK;
    }

    /* grows by doubling up to the bound */
    if (w->body == NULL || w->len + size > w->body_cap) {
        cap = ngx_max(2 * w->body_cap, w->len + size);
        cap = ngx_max(cap, 16384);
        cap = ngx_min(cap, w->body_max);

        body = ngx_alloc(cap, r->connection->log);
        if (body == NULL) {
            return NGX_ERROR;
        }

        if (w->len) {
            ngx_memcpy(body, w->body, w->len);
        }

        ngx_free(w->body);
        w->body = body;
        w->body_cap = cap;
    }

    if (!b->in_file) {
        ngx_memcpy(w->body + w->len, b->pos, size);
        w->len += size;
        return NGX_OK;
    }

    n = ngx_read_file(b->file, w->body + w->len, size, b->file_pos);

    if (n != (ssize_t) size) {
        return NGX_ERROR;
    }

    w->len += size;

    return NGX_OK;
}


static void
ngx_http_edugate_std_pull_cleanup(void *data)
{
    ngx_http_edugate_std_ctx_t *ctx = data;

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    if (ctx->work == NULL) {
        return;
    }

    if (ctx->work->busy) {
        ctx->work->request = NULL;

    } else {
        ngx_http_edugate_std_work_free(ctx->work);
    }

    ctx->work = NULL;
}
