/*
 * Copyright (C) EduGate contributors
 *
 * Conformance figures: how many records each vendor sent for each school,
 * how many were rejected, and how often each rule was broken, from the
 * counters a push keeps in Redis (eg:std:conf:<vendor>:<school>).
 *
 *   edugate_conformance;   JSON for district IT (?vendor= narrows it)
 *   edugate_metrics;       the same as Prometheus text
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_edugate_std.h"
#include "ngx_http_edugate_redis.h"


/* every counter hash, in a stable order, in one round trip */
static const char  ngx_http_edugate_std_stats_lua[] =
    "local out = {}\n"
    "local m = redis.call('SMEMBERS', 'eg:std:conf:index')\n"
    "table.sort(m)\n"
    "for _, k in ipairs(m) do\n"
    "  out[#out + 1] = k\n"
    "  out[#out + 1] = redis.call('HGETALL', 'eg:std:conf:' .. k)\n"
    "end\n"
    "return out\n";


static ngx_int_t ngx_http_edugate_std_stats_start(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler);
static void ngx_http_edugate_std_conformance_reply(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_edugate_std_metrics_reply(ngx_http_request_t *r,
    redisReply *reply);
static json_t *ngx_http_edugate_std_stats_json(ngx_http_request_t *r,
    redisReply *reply);
static json_t *ngx_http_edugate_std_entry(json_t *list, const char *key,
    const char *value);
static ngx_int_t ngx_http_edugate_std_add(json_t *entry, const char *field,
    json_int_t n);
static u_char *ngx_http_edugate_std_metric(u_char *p, u_char *end,
    const char *name, json_t *vendor, json_t *school, const char *rule,
    json_int_t n);


ngx_int_t
ngx_http_edugate_std_conformance_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_std_stats_start(r,
                                  ngx_http_edugate_std_conformance_reply);
}


ngx_int_t
ngx_http_edugate_std_metrics_handler(ngx_http_request_t *r)
{
    return ngx_http_edugate_std_stats_start(r,
                                  ngx_http_edugate_std_metrics_reply);
}


static ngx_int_t
ngx_http_edugate_std_stats_start(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler)
{
    ngx_int_t    rc;
    const char  *argv[3];
    size_t       argvlen[3];

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    argv[0] = "EVAL";
    argv[1] = ngx_http_edugate_std_stats_lua;
    argv[2] = "0";
    argvlen[0] = 4;
    argvlen[1] = sizeof(ngx_http_edugate_std_stats_lua) - 1;
    argvlen[2] = 1;

    if (ngx_http_edugate_redis_call(r, handler, 3, argv, argvlen) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: registry_unavailable: redis is down, no "
                      "conformance figures");
        return ngx_http_edugate_std_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "registry_unavailable", NULL);
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_edugate_std_conformance_reply(ngx_http_request_t *r,
    redisReply *reply)
{
    char       *text;
    u_char     *body;
    size_t      len;
    json_t     *root;
    ngx_int_t   rc;

    root = ngx_http_edugate_std_stats_json(r, reply);

    if (root == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_edugate_std_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "registry_unavailable", NULL));
        return;
    }

    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);

    /* the output may wait for the socket: the pool keeps the copy */
    len = text ? ngx_strlen(text) : 0;
    body = text ? ngx_pnalloc(r->pool, len) : NULL;

    if (body == NULL) {
        ngx_free(text);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(body, text, len);
    ngx_free(text);

    rc = ngx_http_edugate_std_send_json(r, NGX_HTTP_OK, body, len);

    ngx_http_finalize_request(r, rc);
}


/*
 * {"vendors": [{"vendor", "batches", "records", "rejected", "rules":
 * {"R06:E": 1, ...}, "schools": [{"school", "batches", ...}]}]}
 */

static json_t *
ngx_http_edugate_std_stats_json(ngx_http_request_t *r, redisReply *reply)
{
    char         key[128];
    size_t       i, j;
    u_char      *colon;
    json_t      *root, *vendors, *v, *s;
    ngx_str_t    want;
    json_int_t   n;
    redisReply  *k, *h, *f, *val;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: registry_unavailable: the conformance "
                      "counters could not be read");
        return NULL;
    }

    ngx_str_null(&want);
    (void) ngx_http_arg(r, (u_char *) "vendor", 6, &want);

    root = json_object();
    vendors = json_array();

    if (root == NULL || vendors == NULL
        || json_object_set_new(root, "vendors", vendors) != 0)
    {
        json_decref(root);
        json_decref(vendors);
        return NULL;
    }

    for (i = 0; i + 1 < reply->elements; i += 2) {
        k = reply->element[i];
        h = reply->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || h->type != REDIS_REPLY_ARRAY
            || k->len >= sizeof(key))
        {
            continue;
        }

        ngx_memcpy(key, k->str, k->len);
        key[k->len] = '\0';

        /* what the metrics print as labels: no quote, no newline */
        if (strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_-:")
            != k->len)
        {
            continue;
        }

        colon = (u_char *) ngx_strchr(key, ':');
        if (colon == NULL) {
            continue;
        }

        *colon = '\0';

        if (want.len && (want.len != ngx_strlen(key)
                         || ngx_strncmp(want.data, key, want.len) != 0))
        {
            continue;
        }

        v = ngx_http_edugate_std_entry(vendors, "vendor", key);
        s = v ? ngx_http_edugate_std_entry(json_object_get(v, "schools"),
                                           "school", (char *) colon + 1)
              : NULL;

        if (s == NULL) {
            json_decref(root);
            return NULL;
        }

        for (j = 0; j + 1 < h->elements; j += 2) {
            f = h->element[j];
            val = h->element[j + 1];

            if (f->type != REDIS_REPLY_STRING
                || val->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            n = (json_int_t) ngx_atoof((u_char *) val->str, val->len);

            if (n < 0 || f->len >= sizeof(key)) {
                continue;
            }

            ngx_memcpy(key, f->str, f->len);
            key[f->len] = '\0';

            if (strspn(key, "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:")
                != f->len)
            {
                continue;
            }

            if (ngx_http_edugate_std_add(v, key, n) != NGX_OK
                || ngx_http_edugate_std_add(s, key, n) != NGX_OK)
            {
                json_decref(root);
                return NULL;
            }
        }
    }

    return root;
}


/* the element of list whose key is value, made when missing */

static json_t *
ngx_http_edugate_std_entry(json_t *list, const char *key, const char *value)
{
    size_t       i;
    json_t      *e;
    const char  *s;

    json_array_foreach(list, i, e) {
        s = json_string_value(json_object_get(e, key));

        if (s && ngx_strcmp(s, value) == 0) {
            return e;
        }
    }

    e = json_pack("{s:s, s:i, s:i, s:i, s:{}}", key, value, "batches", 0,
                  "records", 0, "rejected", 0, "rules");

    if (e == NULL
        || (ngx_strcmp(key, "vendor") == 0
            && json_object_set_new(e, "schools", json_array()) != 0)
        || json_array_append_new(list, e) != 0)
    {
        return NULL;
    }

    return e;
}


/* "records", "rejected", "batches", or a rule "R06:E" */

static ngx_int_t
ngx_http_edugate_std_add(json_t *entry, const char *field, json_int_t n)
{
    json_t  *to, *old;

    to = (field[0] == 'R') ? json_object_get(entry, "rules") : entry;
    old = json_object_get(to, field);

    if (field[0] != 'R' && old == NULL) {
        return NGX_OK;
    }

    return json_object_set_new(to, field,
                               json_integer(json_integer_value(old) + n))
           == 0 ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_edugate_std_metrics_reply(ngx_http_request_t *r, redisReply *reply)
{
    u_char       *body, *p, *end;
    size_t        i, j, k, len;
    json_t       *root, *v, *s, *n;
    ngx_int_t     rc;
    const char   *rule;

    static ngx_str_t  type = ngx_string("text/plain; version=0.0.4");

    static const char  *counters[][2] = {
        { "batches", "edugate_std_batches_total" },
        { "records", "edugate_std_records_total" },
        { "rejected", "edugate_std_rejected_total" },
    };

    root = ngx_http_edugate_std_stats_json(r, reply);

    if (root == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_edugate_std_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "registry_unavailable", NULL));
        return;
    }

    /* a line is at most ~200 bytes; rules and counters bound the lines */
    len = 1024;

    json_array_foreach(json_object_get(root, "vendors"), i, v) {
        json_array_foreach(json_object_get(v, "schools"), j, s) {
            len += 256 * (4 + json_object_size(json_object_get(s, "rules")));
        }
    }

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        json_decref(root);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = body;
    end = body + len;

    for (k = 0; k < 3; k++) {
        p = ngx_slprintf(p, end, "# TYPE %s counter\n", counters[k][1]);

        json_array_foreach(json_object_get(root, "vendors"), i, v) {
            json_array_foreach(json_object_get(v, "schools"), j, s) {
                p = ngx_http_edugate_std_metric(p, end, counters[k][1], v, s,
                        NULL,
                        json_integer_value(json_object_get(s,
                                                           counters[k][0])));
            }
        }
    }

    p = ngx_slprintf(p, end, "# TYPE edugate_std_violations_total counter\n");

    json_array_foreach(json_object_get(root, "vendors"), i, v) {
        json_array_foreach(json_object_get(v, "schools"), j, s) {
            json_object_foreach(json_object_get(s, "rules"), rule, n) {
                p = ngx_http_edugate_std_metric(p, end,
                                              "edugate_std_violations_total",
                                              v, s, rule,
                                              json_integer_value(n));
            }
        }
    }

    json_decref(root);

    r->headers_out.status = NGX_HTTP_OK;
    rc = ngx_http_edugate_send_body(r, &type, body, p - body);

    ngx_http_finalize_request(r, rc);
}


/* name{vendor="…",school="…"[,rule="R06",severity="E"]} n */

static u_char *
ngx_http_edugate_std_metric(u_char *p, u_char *end, const char *name,
    json_t *vendor, json_t *school, const char *rule, json_int_t n)
{
    const char  *colon;

    /* names, codes and rule ids: no quote, backslash or newline */
    p = ngx_slprintf(p, end, "%s{vendor=\"%s\",school=\"%s\"", name,
                     json_string_value(json_object_get(vendor, "vendor")),
                     json_string_value(json_object_get(school, "school")));

    if (rule) {
        colon = ngx_strchr(rule, ':');

        p = ngx_slprintf(p, end, ",rule=\"%*s\",severity=\"%s\"",
                         colon ? (size_t) (colon - rule) : ngx_strlen(rule),
                         rule, colon ? colon + 1 : "");
    }

    return ngx_slprintf(p, end, "} %L\n", (int64_t) n);
}
