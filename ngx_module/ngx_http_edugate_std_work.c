/*
 * Copyright (C) EduGate contributors
 *
 * The jobs of a vendor push, run in the plugin thread pool so that no
 * parse, hook, id mapping or rule ever holds the event loop: parse the
 * payload and run the plugin's to_standard hook per entity; apply a
 * Redis reply to the id mapping and work out the next command; validate
 * and build what goes to the data center; render the answer.  A job sees
 * only its work, never the request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_std.h"
#include "eg_record.h"

#if (NGX_LINUX && defined __GLIBC__)
#include <malloc.h>
#endif


/* a push this big gives back what it freed (malloc_trim) */
#define NGX_HTTP_EDUGATE_STD_TRIM  (4 * 1024 * 1024)


static void ngx_http_edugate_std_fail(ngx_http_edugate_std_work_t *w,
    ngx_uint_t status, const char *code, const char *fmt, ...);
static ngx_int_t ngx_http_edugate_std_read_segs(
    ngx_http_edugate_std_work_t *w);
static void ngx_http_edugate_std_tree_error(ngx_http_edugate_std_work_t *w,
    const char *err);
static ngx_int_t ngx_http_edugate_std_hook(ngx_http_edugate_std_work_t *w,
    ngx_uint_t i, const edugate_node_t *root, json_t *records,
    json_t *payload);
static void ngx_http_edugate_std_step(ngx_http_edugate_std_work_t *w);
static void ngx_http_edugate_std_free_reply(ngx_http_edugate_std_work_t *w);
static void ngx_http_edugate_std_release_job(void *data, ngx_log_t *log);
static void ngx_http_edugate_std_released(ngx_event_t *ev);
static void ngx_http_edugate_std_release(ngx_http_edugate_std_work_t *w);


ngx_http_edugate_std_work_t *
ngx_http_edugate_std_work_new(ngx_http_request_t *r)
{
    ngx_thread_task_t            *task;
    ngx_http_edugate_std_work_t  *w;

    task = ngx_calloc(sizeof(ngx_thread_task_t)
                      + sizeof(ngx_http_edugate_std_work_t),
                      r->connection->log);
    if (task == NULL) {
        return NULL;
    }

    w = (ngx_http_edugate_std_work_t *) (task + 1);
    w->task = task;
    w->request = r;
    w->fd = NGX_INVALID_FILE;

    return w;
}


/*
 * The work of a batch is freed in the plugin thread pool: freeing the
 * records of a big batch and giving the memory back takes seconds that
 * the event loop must not wait.  The loop only frees the task itself
 * (the work lives in the same allocation) once the thread is done.
 */

void
ngx_http_edugate_std_work_free(ngx_http_edugate_std_work_t *w)
{
    ngx_thread_task_t                    *task;
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_edugate_plugin_module);

    task = w->task;
    task->ctx = w;
    task->handler = ngx_http_edugate_std_release_job;
    task->event.handler = ngx_http_edugate_std_released;
    task->event.data = task;

    if (pmcf == NULL || pmcf->pool == NULL
        || ngx_thread_task_post(pmcf->pool, task) != NGX_OK)
    {
        ngx_http_edugate_std_release(w);
        ngx_free(task);
    }
}


static void
ngx_http_edugate_std_release_job(void *data, ngx_log_t *log)
{
    ngx_http_edugate_std_release(data);
}


static void
ngx_http_edugate_std_released(ngx_event_t *ev)
{
    ngx_free(ev->data);
}


/* everything the work holds but the task and the work themselves */

static void
ngx_http_edugate_std_release(ngx_http_edugate_std_work_t *w)
{
    ngx_uint_t  i;

    for (i = 0; w->calls && i < w->nentities; i++) {
        eg_call_free(w->calls[i]);
    }

    if (w->query_call) {
        eg_call_free(w->query_call);
    }

    ngx_free(w->filters);

    if (w->fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(w->fd);
    }

    ngx_http_edugate_std_free_reply(w);

    eg_unify_free(w->u);
    eg_pipe_result_free(&w->res);
    json_decref(w->records);
    json_decref(w->fetch);

    ngx_free(w->calls);
    ngx_free(w->body);
    ngx_free(w->segs);
    ngx_free(w->forward);
    ngx_free(w->answer);

#if (NGX_LINUX && defined __GLIBC__)

    /*
     * glibc keeps freed memory in the arenas of the threads that used
     * it: after one big batch the worker would stay at its peak.
     */

    if (w->len >= NGX_HTTP_EDUGATE_STD_TRIM) {
        (void) malloc_trim(0);
    }

#endif
}


static void
ngx_http_edugate_std_fail(ngx_http_edugate_std_work_t *w, ngx_uint_t status,
    const char *code, const char *fmt, ...)
{
    va_list  args;

    w->status = status;
    w->code = code;

    va_start(args, fmt);
    (void) vsnprintf(w->detail, sizeof(w->detail), fmt, args);
    va_end(args);
}


/* the payload and the plugin's records, one call per entity */

void
ngx_http_edugate_std_parse(ngx_http_edugate_std_work_t *w)
{
    char        err[EG_CALL_ERR_LEN];
    json_t     *records, *payload;
    eg_tree_t  *t;
    ngx_uint_t  i;

    if (ngx_http_edugate_std_read_segs(w) != NGX_OK) {
        return;
    }

    t = eg_tree_parse(w->body, w->len, w->format,
                      w->charset[0] ? w->charset : NULL, &w->limits, err,
                      sizeof(err));

    /* the bytes are no longer needed: a large batch frees them early */
    ngx_free(w->body);
    w->body = NULL;

    if (t == NULL) {
        ngx_http_edugate_std_tree_error(w, err);
        return;
    }

    records = json_object();
    payload = json_array();
    w->calls = ngx_alloc(w->nentities * sizeof(eg_call_t *), ngx_cycle->log);

    if (records == NULL || payload == NULL || w->calls == NULL) {
        eg_tree_free(t);
        json_decref(records);
        json_decref(payload);
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
        return;
    }

    ngx_memzero(w->calls, w->nentities * sizeof(eg_call_t *));

    for (i = 0; i < w->nentities; i++) {
        if (ngx_http_edugate_std_hook(w, i, eg_tree_root(t), records,
                                      payload)
            != NGX_OK)
        {
            break;
        }
    }

    eg_tree_free(t);

    if (w->status == 0 && json_array_size(payload)
        && json_object_set(records, "_violations", payload) != 0)
    {
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
    }

    json_decref(payload);
    w->records = records;

    if (w->status) {
        return;
    }

    w->u = eg_unify_new(&w->uconf, records);

    if (w->u == NULL) {
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
        return;
    }

    ngx_http_edugate_std_step(w);
}


static ngx_int_t
ngx_http_edugate_std_hook(ngx_http_edugate_std_work_t *w, ngx_uint_t i,
    const edugate_node_t *root, json_t *records, json_t *payload)
{
    int           rc;
    char          err[EG_CALL_ERR_LEN];
    json_t       *list, *dst;
    eg_call_t    *c;
    const char   *key, *entity;
    eg_plugin_t  *p;

    p = w->vendor->plugin;
    entity = w->entities[i];

    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    if (c == NULL) {
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
        return NGX_ERROR;
    }

    w->calls[i] = c;

    ngx_http_edugate_crash_enter(w->vendor, "to_standard");

    rc = p->desc->to_standard(&p->host.pub, c, p->state, entity, root);

    ngx_http_edugate_crash_leave();

    if (rc == EDUGATE_DECLINED) {
        eg_record_release(c);
        return NGX_OK;
    }

    if (rc == EDUGATE_BAD_INPUT) {
        ngx_http_edugate_std_fail(w, NGX_HTTP_EDUGATE_UNPROCESSABLE,
                                  "vendor_payload_rejected",
                                  "plugin \"%s\" refused the payload (%s): "
                                  "%s", p->name, entity,
                                  c->error[0] ? c->error : "no reason given");
        return NGX_ERROR;
    }

    if (rc != EDUGATE_OK || c->error[0]) {
        ngx_http_edugate_std_fail(w, NGX_HTTP_BAD_GATEWAY, "plugin_error",
                                  "plugin \"%s\": to_standard(%s) failed "
                                  "(code %d): %s", p->name, entity, rc,
                                  c->error[0] ? c->error : "no reason given");
        return NGX_ERROR;
    }

    if (eg_record_check(c, err, sizeof(err)) != 0) {
        ngx_http_edugate_std_fail(w, NGX_HTTP_EDUGATE_UNPROCESSABLE,
                                  "plugin_output_invalid",
                                  "plugin \"%s\": to_standard(%s) made a "
                                  "record the standard cannot take: %s",
                                  p->name, entity, err);
        return NGX_ERROR;
    }

    json_object_foreach((json_t *) c->records, key, list) {
        dst = json_object_get(records, key);

        if (dst == NULL) {
            dst = json_array();
            if (json_object_set_new(records, key, dst) != 0) {
                goto nomem;
            }
        }

        if (json_array_extend(dst, list) != 0) {
            goto nomem;
        }
    }

    if (c->violations && json_array_extend(payload, c->violations) != 0) {
        goto nomem;
    }

    eg_record_release(c);

    return NGX_OK;

nomem:

    ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                              "internal_error", "out of memory");
    return NGX_ERROR;
}


/* what nginx wrote to its temporary file, read here, off the loop */

static ngx_int_t
ngx_http_edugate_std_read_segs(ngx_http_edugate_std_work_t *w)
{
    ssize_t     n;
    size_t      done;
    ngx_uint_t  i;

    for (i = 0; i < w->nsegs; i++) {
        for (done = 0; done < w->segs[i].len; done += n) {
            n = pread(w->fd, w->body + w->segs[i].at + done,
                      w->segs[i].len - done, w->segs[i].pos + done);

            if (n <= 0) {
                ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "internal_error",
                                          "the request body could not be "
                                          "read back from its file");
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* eg_tree's message says which rule of the payload was broken */

static void
ngx_http_edugate_std_tree_error(ngx_http_edugate_std_work_t *w,
    const char *err)
{
    size_t       i;
    const char  *code;
    ngx_uint_t   status;

    static const struct {
        const char  *text;
        const char  *code;
    } kinds[] = {
        { "document type declaration", "xml_dtd_refused" },
        { "over the limit", "payload_too_large" },
        { "nested deeper", "payload_too_deep" },
        { "maximum parsing depth", "payload_too_deep" },
        { "more than", "payload_too_complex" },
        { "duplicate object key", "json_duplicate_key" },
        { "unable to decode byte", "invalid_encoding" },
        { "is not valid", "invalid_encoding" },
        { "unknown charset", "invalid_encoding" },
        { "not proper UTF-8", "invalid_encoding" },
        { "encoding", "invalid_encoding" },
        { "NUL character", "invalid_json" },
        { "invalid JSON", "invalid_json" },
        { "XML", "invalid_xml" },
        { "out of memory", "internal_error" },
    };

    code = "invalid_payload";

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (ngx_strstr(err, kinds[i].text) != NULL) {
            code = kinds[i].code;
            break;
        }
    }

    status = NGX_HTTP_BAD_REQUEST;

    if (ngx_strcmp(code, "payload_too_large") == 0) {
        status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;

    } else if (ngx_strcmp(code, "internal_error") == 0) {
        status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_edugate_std_fail(w, status, code, "%s", err);
}


void
ngx_http_edugate_std_next(ngx_http_edugate_std_work_t *w)
{
    if (eg_unify_reply(w->u, w->nvals, (const char *const *) w->vals,
                       w->lens)
        != 0)
    {
        ngx_http_edugate_std_fail(w, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "registry_error",
                                  "redis answered the id mapping with %uz "
                                  "values that do not fit its question",
                                  w->nvals);
        return;
    }

    ngx_http_edugate_std_free_reply(w);
    ngx_http_edugate_std_step(w);
}


static void
ngx_http_edugate_std_step(ngx_http_edugate_std_work_t *w)
{
    w->step_rc = eg_unify_step(w->u, &w->step);

    if (w->step_rc < 0) {
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
        return;
    }

    if (w->step_rc == EG_UNIFY_DONE) {
        w->fetch = eg_pipe_fetch_args(eg_unify_records(w->u));

        if (w->fetch == NULL) {
            ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal_error", "out of memory");
        }
    }
}


void
ngx_http_edugate_std_validate(ngx_http_edugate_std_work_t *w)
{
    json_t  *known;

    known = eg_pipe_known(w->nvals, (const char *const *) w->vals, w->lens);

    ngx_http_edugate_std_free_reply(w);

    if (known == NULL || eg_pipe_run(&w->pconf, w->u, known, &w->res) != 0)
    {
        json_decref(known);
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
        return;
    }

    json_decref(known);
}


/* the deletions of a full snapshot join the batch, which is then sealed */

void
ngx_http_edugate_std_seal(ngx_http_edugate_std_work_t *w)
{
    if (w->nvals
        && eg_pipe_deletions(&w->pconf, &w->res, w->nvals,
                             (const char *const *) w->vals, w->lens)
           != 0)
    {
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
        return;
    }

    ngx_http_edugate_std_free_reply(w);

    if (w->res.forwarded + w->res.deleted == 0) {
        return;
    }

    w->forward = json_dumps(w->res.forward, JSON_COMPACT);

    if (w->forward == NULL) {
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
        return;
    }

    w->forward_len = ngx_strlen(w->forward);
}


void
ngx_http_edugate_std_answer(ngx_http_edugate_std_work_t *w)
{
    w->answer = eg_pipe_answer(&w->pconf, &w->res, w->forward_status);

    if (w->answer == NULL) {
        ngx_http_edugate_std_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal_error", "out of memory");
    }
}


ngx_int_t
ngx_http_edugate_std_keep_reply(ngx_http_edugate_std_work_t *w,
    void *data, ngx_uint_t append)
{
    char       **vals;
    size_t       i, n, have, *lens;
    redisReply  *reply = data, *e;

    if (!append) {
        ngx_http_edugate_std_free_reply(w);
    }

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    have = w->nvals;
    n = have + reply->elements;

    vals = ngx_alloc((n ? n : 1) * sizeof(char *), ngx_cycle->log);
    lens = ngx_alloc((n ? n : 1) * sizeof(size_t), ngx_cycle->log);

    if (vals == NULL || lens == NULL) {
        ngx_free(vals);
        ngx_free(lens);
        return NGX_ERROR;
    }

    ngx_memzero(vals, (n ? n : 1) * sizeof(char *));

    if (have) {
        ngx_memcpy(vals, w->vals, have * sizeof(char *));
        ngx_memcpy(lens, w->lens, have * sizeof(size_t));
    }

    ngx_free(w->vals);
    ngx_free(w->lens);

    w->vals = vals;
    w->lens = lens;
    w->nvals = n;

    for (i = have; i < n; i++) {
        e = reply->element[i - have];
        w->lens[i] = 0;

        if (e->type == REDIS_REPLY_NIL) {
            continue;
        }

        if (e->type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }

        w->vals[i] = ngx_alloc(e->len + 1, ngx_cycle->log);
        if (w->vals[i] == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(w->vals[i], e->str, e->len);
        w->vals[i][e->len] = '\0';
        w->lens[i] = e->len;
    }

    return NGX_OK;
}


static void
ngx_http_edugate_std_free_reply(ngx_http_edugate_std_work_t *w)
{
    size_t  i;

    for (i = 0; w->vals && i < w->nvals; i++) {
        ngx_free(w->vals[i]);
    }

    ngx_free(w->vals);
    ngx_free(w->lens);

    w->vals = NULL;
    w->lens = NULL;
    w->nvals = 0;
}
