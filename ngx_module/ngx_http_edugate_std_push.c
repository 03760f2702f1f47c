/*
 * Copyright (C) EduGate contributors
 *
 * A vendor push (edugate_standardize): the vendor POSTs its own payload;
 * the gateway answers with the per-record report and forwards the
 * standardized batch (JSON) to the data center through a subrequest to
 * the location named by edugate_standardize_forward.  The steps, each
 * suspending the request until its callback resumes it:
 *
 *   body     Content-Type (415) checked, then read (nginx refuses one
 *            over the limit: std_answer.c)
 *   parse    payload and to_standard hooks, in the thread pool
 *   ids      the id mapping's Redis commands (eg_unify.h), each reply
 *            applied in the thread pool
 *   fetch    known records from the registry
 *   check    rules, report, forwarded batch, in the thread pool
 *   snapshot a bulk feed at a bulk=snapshot location: the vendor ids
 *            seen before and absent now, with their registry copies,
 *            one Redis script
 *   seal     those become deletions (and counted violations, marked
 *            copies in the store arguments); the batch is rendered
 *   forward  subrequest to the data center
 *   store    registry, crosswalk and counters, a Redis script
 *   answer   rendered in the thread pool, then sent
 *
 * A payload that cannot be read, or that the plugin refuses, is refused
 * whole: nothing is forwarded, stored or counted.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_std.h"
#include "eg_uuid.h"


static ngx_uint_t ngx_http_edugate_std_check(ngx_http_request_t *r,
    ngx_http_edugate_std_loc_conf_t *slcf, ngx_str_t *charset,
    const char **code, const char **detail);
static ngx_uint_t ngx_http_edugate_std_feed(ngx_http_request_t *r,
    ngx_uint_t *delta, const char **code, const char **detail);
static void ngx_http_edugate_std_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_std_start(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx);
static ngx_int_t ngx_http_edugate_std_copy_body(ngx_http_request_t *r,
    ngx_http_edugate_std_work_t *w);
static void ngx_http_edugate_std_cleanup(void *data);


ngx_int_t
ngx_http_edugate_std_push_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         charset;
    ngx_uint_t                        status, delta;
    const char                       *code, *detail;
    ngx_pool_cleanup_t               *cln;
    ngx_http_edugate_ctx_t           *ectx;
    ngx_http_edugate_std_ctx_t       *ctx;
    ngx_http_edugate_std_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);

    if (r->method != NGX_HTTP_POST) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: a push is a POST");
        (void) ngx_http_discard_request_body(r);

        if (ngx_http_edugate_add_header(r, "Allow", "POST") == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_edugate_std_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method_not_allowed",
                                          "a push is a POST");
    }

    /* the access phase let in the vendor's client token only; again */
    ectx = ngx_http_get_module_ctx(r, ngx_http_edugate_module);

    if (ectx == NULL || ectx->identity == NULL || !ectx->client_token
        || ngx_strlen(ectx->identity->uid) != slcf->vendor->name.len
        || ngx_strncmp(ectx->identity->uid, slcf->vendor->name.data,
                       slcf->vendor->name.len) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: client_not_allowed: a push for \"%V\" "
                      "without that client's token", &slcf->vendor->name);
        (void) ngx_http_discard_request_body(r);
        return ngx_http_edugate_std_error(r, NGX_HTTP_FORBIDDEN,
                                          "client_not_allowed",
                                          "only the vendor's own client "
                                          "token may push here");
    }

    status = ngx_http_edugate_std_check(r, slcf, &charset, &code, &detail);

    if (status == 0) {
        status = ngx_http_edugate_std_feed(r, &delta, &code, &detail);
    }

    if (status) {
        (void) ngx_http_discard_request_body(r);
        return ngx_http_edugate_std_error(r, status, code, detail);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edugate_std_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->work = ngx_http_edugate_std_work_new(r);
    if (ctx->work == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_edugate_std_cleanup;
    cln->data = ctx;

    if (charset.len >= sizeof(ctx->work->charset)) {
        (void) ngx_http_discard_request_body(r);
        return ngx_http_edugate_std_error(r,
                                          NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "unsupported_media_type",
                                          "unknown charset");
    }

    if (charset.len) {
        ngx_memcpy(ctx->work->charset, charset.data, charset.len);
    }

    ctx->work->pconf.delta = delta;
    ngx_http_set_ctx(r, ctx, ngx_http_edugate_std_module);

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_edugate_std_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * The plugin says what it reads: "json" takes application/json (or
 * *+json), "xml" application/xml, text/xml (or *+xml).  A charset
 * parameter is handed to the parser.  0, or the status of the refusal.
 */

static ngx_uint_t
ngx_http_edugate_std_check(ngx_http_request_t *r,
    ngx_http_edugate_std_loc_conf_t *slcf, ngx_str_t *charset,
    const char **code, const char **detail)
{
    u_char       *p, *end, *semi;
    ngx_str_t     type, *sent;
    ngx_uint_t    ok;
    const char   *want;

    static ngx_str_t  none = ngx_string("(none)");

    ngx_str_null(charset);

    want = slcf->vendor->plugin->about.payload;
    want = want ? want : "json";

    ok = 0;

    if (r->headers_in.content_type) {
        p = r->headers_in.content_type->value.data;
        end = p + r->headers_in.content_type->value.len;

        semi = ngx_strlchr(p, end, ';');
        type.data = p;
        type.len = (semi ? semi : end) - p;

        while (type.len && type.data[type.len - 1] == ' ') {
            type.len--;
        }

        if (ngx_strcmp(want, "xml") == 0) {
            ok = (type.len == 15
                  && ngx_strncasecmp(p, (u_char *) "application/xml", 15)
                     == 0)
                 || (type.len == 8
                     && ngx_strncasecmp(p, (u_char *) "text/xml", 8) == 0)
                 || (type.len > 4
                     && ngx_strncasecmp(p + type.len - 4,
                                        (u_char *) "+xml", 4) == 0);

        } else {
            ok = (type.len == 16
                  && ngx_strncasecmp(p, (u_char *) "application/json", 16)
                     == 0)
                 || (type.len > 5
                     && ngx_strncasecmp(p + type.len - 5,
                                        (u_char *) "+json", 5) == 0);
        }

        for (p = semi; ok && p && p < end; p++) {
            if (end - p > 8
                && ngx_strncasecmp(p, (u_char *) "charset=", 8) == 0)
            {
                charset->data = p + 8;
                charset->len = 0;

                while (p + 8 + charset->len < end
                       && p[8 + charset->len] != ';'
                       && p[8 + charset->len] != ' ')
                {
                    charset->len++;
                }

                if (charset->len > 1 && charset->data[0] == '"'
                    && charset->data[charset->len - 1] == '"')
                {
                    charset->data++;
                    charset->len -= 2;
                }

                break;
            }
        }
    }

    if (!ok) {
        sent = r->headers_in.content_type ? &r->headers_in.content_type->value
                                          : &none;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: unsupported_media_type: plugin \"%V\" reads "
                      "%s, the Content-Type is \"%V\"", &slcf->vendor->name,
                      want, sent);
        *code = "unsupported_media_type";
        *detail = ngx_strcmp(want, "xml") == 0
                  ? "send Content-Type: application/xml"
                  : "send Content-Type: application/json";
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    return 0;
}


/*
 * ?feed=delta: the records say their status and when they changed
 * (R29), and nothing left out is deleted; bulk (the default) is a whole
 * roster.  0, or the status of the refusal.
 */

static ngx_uint_t
ngx_http_edugate_std_feed(ngx_http_request_t *r, ngx_uint_t *delta,
    const char **code, const char **detail)
{
    ngx_str_t  feed;

    *delta = 0;

    if (ngx_http_arg(r, (u_char *) "feed", 4, &feed) != NGX_OK) {
        return 0;
    }

    if (feed.len == 5 && ngx_strncmp(feed.data, "delta", 5) == 0) {
        *delta = 1;
        return 0;
    }

    if (feed.len == 4 && ngx_strncmp(feed.data, "bulk", 4) == 0) {
        return 0;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "edugate: invalid_feed: feed=\"%V\" is neither bulk nor "
                  "delta", &feed);
    *code = "invalid_feed";
    *detail = "feed is bulk or delta";

    return NGX_HTTP_BAD_REQUEST;
}


static void
ngx_http_edugate_std_body(ngx_http_request_t *r)
{
    ngx_http_edugate_std_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    if (ngx_http_edugate_std_start(r, ctx) != NGX_OK) {
        return;
    }

    ngx_http_edugate_std_run(r);
}


static ngx_int_t
ngx_http_edugate_std_start(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx)
{
    char                              id[EG_UUID_LEN + 1];
    ngx_tm_t                          tm;
    ngx_http_edugate_std_work_t      *w;
    ngx_http_edugate_std_loc_conf_t  *slcf;
    ngx_http_edugate_std_main_conf_t *smcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);
    smcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_std_module);
    w = ctx->work;

    if (r->request_body == NULL) {
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_BAD_REQUEST,
                                    "invalid_payload", "no request body");
        return NGX_ERROR;
    }

    if (ngx_http_edugate_std_copy_body(r, w) != NGX_OK) {
        return NGX_ERROR;
    }

    if (eg_uuid_v4(id) != 0) {
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "internal_error", "no random bytes");
        return NGX_ERROR;
    }

    ngx_gmtime(ngx_time(), &tm);

    ngx_sprintf((u_char *) w->batch_id, "%V-%4d%02d%02d%02d%02d%02d-%*s%Z",
                &slcf->vendor->name, tm.ngx_tm_year, tm.ngx_tm_mon,
                tm.ngx_tm_mday, tm.ngx_tm_hour, tm.ngx_tm_min,
                tm.ngx_tm_sec, (size_t) 8, id);

    w->vendor = slcf->vendor;
    w->entities = slcf->entities->elts;
    w->nentities = slcf->entities->nelts;
    w->format = eg_tree_format(w->vendor->plugin->about.payload
                               ? w->vendor->plugin->about.payload : "json");

    /* a node costs more than a byte of JSON: bounded by the body limit */
    w->limits.max_bytes = slcf->max_body;
    w->limits.max_depth = 64;
    w->limits.max_nodes = slcf->max_body / 4 + 1024;

    w->uconf.vendor = (const char *) w->vendor->plugin->name;
    w->uconf.batch_id = w->batch_id;
    w->uconf.own = w->vendor->plugin->about.entities;
    ngx_memcpy(w->uconf.ns, smcf->ns, 16);

    w->pconf.codes = smcf->codes;
    w->pconf.schema = smcf->schema;
    w->pconf.vendor = w->uconf.vendor;
    w->pconf.batch_id = w->batch_id;
    w->pconf.observe = slcf->observe;
    w->pconf.snapshot = slcf->snapshot;
    w->pconf.hmac_key = smcf->secret.len ? smcf->secret.data : NULL;
    w->pconf.hmac_len = smcf->secret.len;
    w->pconf.now = ngx_time();

    return NGX_OK;
}


/*
 * Memory buffers are copied here; what nginx wrote to its temporary
 * file is read by the parse job from a descriptor of its own, which
 * outlives the request if it must.
 */

static ngx_int_t
ngx_http_edugate_std_copy_body(ngx_http_request_t *r,
    ngx_http_edugate_std_work_t *w)
{
    size_t                       len, n;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_edugate_std_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);

    len = 0;
    n = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
        n += b->in_file;
    }

    w->body = ngx_alloc(len ? len : 1, r->connection->log);
    w->segs = ngx_alloc((n ? n : 1) * sizeof(ngx_http_edugate_std_seg_t),
                        r->connection->log);

    if (w->body == NULL || w->segs == NULL) {
        ngx_http_edugate_std_finish(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "internal_error", "out of memory");
        return NGX_ERROR;
    }

    w->len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            w->len = (size_t) (ngx_cpymem(w->body + w->len, b->pos,
                                          b->last - b->pos) - w->body);
            continue;
        }

        if (w->fd == NGX_INVALID_FILE) {
            w->fd = dup(b->file->fd);

            if (w->fd == NGX_INVALID_FILE) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                              "edugate: internal_error: dup() of the "
                              "request body file failed");
                ngx_http_edugate_std_finish(r, ctx,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal_error", NULL);
                return NGX_ERROR;
            }
        }

        w->segs[w->nsegs].at = w->len;
        w->segs[w->nsegs].pos = b->file_pos;
        w->segs[w->nsegs].len = b->file_last - b->file_pos;
        w->len += w->segs[w->nsegs].len;
        w->nsegs++;
    }

    return NGX_OK;
}


/* one step after another until one waits or the answer is sent */

void
ngx_http_edugate_std_run(ngx_http_request_t *r)
{
    json_t                           *args;
    ngx_int_t                         rc;
    ngx_http_edugate_std_ctx_t       *ctx;
    ngx_http_edugate_std_work_t      *w;
    ngx_http_edugate_std_loc_conf_t  *slcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_std_module);
    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);

    if (ctx->pull) {
        ngx_http_edugate_std_pull_run(r);
        return;
    }

    while (!ctx->waiting && ctx->work) {
        w = ctx->work;

        if (w->status) {
            ngx_http_edugate_std_finish(r, ctx, w->status, w->code,
                                        w->detail);
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

        case NGX_HTTP_EDUGATE_STD_CHECK:
            if (ngx_http_edugate_std_post(r, ctx,
                                          ngx_http_edugate_std_validate,
                                          NGX_HTTP_EDUGATE_STD_SNAPSHOT)
                != NGX_OK)
            {
                return;
            }

            break;

        case NGX_HTTP_EDUGATE_STD_SNAPSHOT:
            /* without a forward, the data center never learns of it */
            if (slcf->forward.len == 0
                || json_array_size(w->res.snapshot) == 0)
            {
                ctx->state = NGX_HTTP_EDUGATE_STD_SEAL;
                break;
            }

            /* one group per collection, each whole: never in pieces */
            if (ngx_http_edugate_std_redis(r, ctx, eg_pipe_snapshot_script(),
                                           w->res.snapshot, 0,
                                           NGX_HTTP_EDUGATE_STD_SEAL)
                != NGX_OK)
            {
                return;
            }

            break;

        case NGX_HTTP_EDUGATE_STD_SEAL:
            if (ngx_http_edugate_std_post(r, ctx, ngx_http_edugate_std_seal,
                                          NGX_HTTP_EDUGATE_STD_FORWARD)
                != NGX_OK)
            {
                return;
            }

            break;

        case NGX_HTTP_EDUGATE_STD_FORWARD:
            ctx->state = NGX_HTTP_EDUGATE_STD_STORE;
            w->forward_status = "none";

            if (slcf->forward.len == 0) {
                w->forward_status = "not configured";
                break;
            }

            if (w->res.forwarded + w->res.deleted == 0) {
                break;
            }

            if (ngx_http_edugate_std_forward(r, ctx) != NGX_OK) {
                return;
            }

            break;

        case NGX_HTTP_EDUGATE_STD_STORE:
            /* what the data center refused, the registry does not learn */
            if (ctx->forward_failed) {
                ctx->state = NGX_HTTP_EDUGATE_STD_ANSWER;
                break;
            }

            /* with nothing forwarded, only the counters */
            args = w->res.counters;

            if (slcf->forward.len && w->res.forwarded + w->res.deleted) {
                if (json_array_extend(w->res.store, w->res.counters) != 0) {
                    ngx_http_edugate_std_finish(r, ctx,
                                             NGX_HTTP_INTERNAL_SERVER_ERROR,
                                             "internal_error", NULL);
                    return;
                }

                args = w->res.store;
            }

            if (ngx_http_edugate_std_redis(r, ctx, eg_pipe_store_script(),
                                           args, 4,
                                           NGX_HTTP_EDUGATE_STD_ANSWER)
                != NGX_OK)
            {
                return;
            }

            break;

        case NGX_HTTP_EDUGATE_STD_ANSWER:
            if (ngx_http_edugate_std_post(r, ctx, ngx_http_edugate_std_answer,
                                          NGX_HTTP_EDUGATE_STD_SEND)
                != NGX_OK)
            {
                return;
            }

            break;

        default:
            if (ctx->forward_failed) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "edugate: forward_failed: the data center "
                              "answered %ui to batch %s of \"%V\": nothing "
                              "imported%s", ctx->forward_status, w->batch_id,
                              &slcf->vendor->name,
                              ctx->forward_status
                              == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                              ? " (if nginx said so, the forward location's "
                                "client_max_body_size is below the batch)"
                              : "");

                if (ngx_http_edugate_add_header(r, "X-Edugate-Error",
                                                "forward_failed")
                    == NULL)
                {
                    ngx_http_edugate_std_finish(r, ctx,
                                             NGX_HTTP_INTERNAL_SERVER_ERROR,
                                             "internal_error", NULL);
                    return;
                }
            }

            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "edugate: batch %s of \"%V\": %uz records, %uz "
                          "rejected, %uz forwarded, %uz deleted",
                          w->batch_id, &slcf->vendor->name, w->res.records,
                          w->res.rejected, w->res.forwarded,
                          w->res.deleted);

            ngx_http_finalize_request(r,
                ngx_http_edugate_std_send_json(r,
                    ctx->forward_failed ? NGX_HTTP_BAD_GATEWAY : NGX_HTTP_OK,
                    (u_char *) w->answer, ngx_strlen(w->answer)));
            return;
        }
    }
}


/* a refusal: a log line with its code, JSON to the client, the end */

void
ngx_http_edugate_std_finish(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *detail)
{
    ngx_int_t                         rc;
    ngx_str_t                        *vendor;
    ngx_uint_t                        level;
    ngx_http_edugate_std_loc_conf_t  *slcf;

    static ngx_str_t  unknown = ngx_string("-");

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_edugate_std_module);

    vendor = (ctx->work && ctx->work->vendor) ? &ctx->work->vendor->name
             : slcf->vendor ? &slcf->vendor->name
             : slcf->pull ? &slcf->pull->name : &unknown;

    level = (status >= NGX_HTTP_INTERNAL_SERVER_ERROR) ? NGX_LOG_ERR
                                                       : NGX_LOG_WARN;

    /* the answer copies detail, which may live in the work */
    rc = ngx_http_edugate_std_error(r, status, code, detail);

    if (ctx->work) {
        ngx_log_error(level, r->connection->log, 0,
                      "edugate: %s: %s %s of \"%V\" refused whole: %s",
                      code, ctx->pull ? "pull" : "batch",
                      ctx->work->batch_id[0] ? ctx->work->batch_id : "-",
                      vendor, detail ? detail
                                     : ngx_http_edugate_message(code, 1));

        /* a thread still holding the work frees it when it returns */
        if (ctx->work->busy) {
            ctx->work->request = NULL;

        } else {
            ngx_http_edugate_std_work_free(ctx->work);
        }

        ctx->work = NULL;
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_edugate_std_cleanup(void *data)
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
