/*
 * Copyright (C) EduGate contributors
 *
 * Types shared by the files of ngx_http_edugate_std_module: the data
 * standard in flight (vendor pushes, conformance figures).
 */

#ifndef _NGX_HTTP_EDUGATE_STD_H_INCLUDED_
#define _NGX_HTTP_EDUGATE_STD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_plugin.h"
#include "eg_pipe.h"
#include "eg_pull.h"
#include "eg_std.h"
#include "eg_tree.h"
#include "eg_unify.h"


/* the payload parsed, but what it says cannot be taken */
#define NGX_HTTP_EDUGATE_UNPROCESSABLE  422


typedef struct {
    eg_codes_t                   *codes;
    void                         *schema;       /* batch.xsd, compiled */
    ngx_flag_t                    ns_set;
    u_char                        ns[16];
    ngx_str_t                     secret;       /* HMAC of ID numbers */
    ngx_uint_t                    pushes;
    ngx_http_edugate_conf_pos_t   push_pos;     /* the first push */
    ngx_uint_t                    pulls;
    ngx_http_edugate_conf_pos_t   pull_pos;     /* the first pull */
} ngx_http_edugate_std_main_conf_t;


typedef struct {
    ngx_http_edugate_plugin_t    *vendor;
    ngx_array_t                  *entities;     /* char *, NUL-terminated */
    ngx_flag_t                    observe;
    ngx_flag_t                    snapshot;     /* bulk=snapshot */
    ngx_str_t                     forward;      /* an internal location */
    size_t                        max_body;
    ngx_msec_t                    timeout;
    ngx_uint_t                    conformance;
    ngx_http_edugate_conf_pos_t   pos;

    /* edugate_std_pull */
    ngx_http_edugate_plugin_t    *pull;
    ngx_array_t                  *pull_entities;
    ngx_flag_t                    pull_observe;
    ngx_str_t                     pull_upstream;
    size_t                        pull_max_body;
} ngx_http_edugate_std_loc_conf_t;


typedef struct ngx_http_edugate_std_work_s  ngx_http_edugate_std_work_t;

typedef void (*ngx_http_edugate_std_job_pt)(ngx_http_edugate_std_work_t *w);

/* a byte range of the body that nginx wrote to its temporary file */
typedef struct {
    size_t                        at;
    off_t                         pos;
    size_t                        len;
} ngx_http_edugate_std_seg_t;

/*
 * What one push works on.  It lives outside the request (ngx_alloc)
 * because a thread may still hold it when the request is gone; whoever
 * comes last frees it.
 */
struct ngx_http_edugate_std_work_s {
    ngx_thread_task_t            *task;
    ngx_http_request_t           *request;      /* NULL once abandoned */
    ngx_http_edugate_std_job_pt   job;
    ngx_uint_t                    busy;
    ngx_msec_t                    posted;

    ngx_http_edugate_plugin_t    *vendor;
    char                        **entities;
    ngx_uint_t                    nentities;

    u_char                       *body;
    size_t                        len;
    ngx_fd_t                      fd;           /* dup of the temp file */
    ngx_http_edugate_std_seg_t   *segs;
    ngx_uint_t                    nsegs;
    int                           format;
    char                          charset[40];
    eg_tree_limits_t              limits;

    eg_call_t                   **calls;        /* logged in the loop */
    json_t                       *records;
    eg_unify_conf_t               uconf;
    eg_unify_t                   *u;
    eg_unify_step_t               step;
    int                           step_rc;

    char                        **vals;         /* a Redis reply */
    size_t                       *lens;
    size_t                        nvals;

    json_t                       *fetch;
    eg_pipe_conf_t                pconf;
    eg_pipe_result_t              res;
    char                         *forward;
    size_t                        forward_len;
    const char                   *forward_status;
    char                         *answer;

    ngx_uint_t                    status;       /* of a failed step */
    const char                   *code;
    char                          detail[EG_CALL_ERR_LEN + 64];

    char                          batch_id[64];
    char                          tenant[64];

    /* a pull: the filters, the vendor request, the answer */
    eg_pull_query_t              *filters;
    eg_pull_conf_t                pull;
    const char                   *entity;       /* the collection */
    eg_call_t                    *query_call;   /* to_vendor's outputs */
    int                           query_rc;
    size_t                        body_max;
    size_t                        body_cap;
    size_t                        answer_len;
    size_t                        answer_total; /* records of every page */
};


#define NGX_HTTP_EDUGATE_STD_PARSE     0
#define NGX_HTTP_EDUGATE_STD_IDS       1
#define NGX_HTTP_EDUGATE_STD_REPLY     2
#define NGX_HTTP_EDUGATE_STD_FETCH     3
#define NGX_HTTP_EDUGATE_STD_CHECK     4
#define NGX_HTTP_EDUGATE_STD_FORWARD   5
#define NGX_HTTP_EDUGATE_STD_STORE     6
#define NGX_HTTP_EDUGATE_STD_ANSWER    7
#define NGX_HTTP_EDUGATE_STD_SEND      8
#define NGX_HTTP_EDUGATE_STD_QUERY     9
#define NGX_HTTP_EDUGATE_STD_VENDOR    10
#define NGX_HTTP_EDUGATE_STD_SNAPSHOT  11
#define NGX_HTTP_EDUGATE_STD_SEAL      12


typedef struct {
    ngx_http_edugate_std_work_t  *work;
    ngx_event_t                   deadline;
    ngx_uint_t                    state;
    ngx_uint_t                    forward_status;
    unsigned                      waiting:1;
    unsigned                      forward_failed:1;
    unsigned                      too_large:1;
    unsigned                      too_large_sent:1;

    /* a pull: the vendor's answer, captured from a subrequest */
    unsigned                      pull:1;
    unsigned                      vendor_done:1;
    unsigned                      vendor_too_large:1;
    unsigned                      vendor_answered:1;
    ngx_http_request_t           *vendor_sr;    /* all it outputs stays */
    ngx_uint_t                    vendor_status;

    /* a Redis command sent in pieces (ngx_http_edugate_std_redis) */
    const char                  **cmd_argv;
    size_t                       *cmd_argvlen;
    size_t                        cmd_argc;
    size_t                        cmd_head;
    size_t                        cmd_stride;
    size_t                        cmd_pos;      /* of the next piece */
    ngx_uint_t                    cmd_pieces;   /* sent so far */
    unsigned                      cmd_own:1;    /* argv is ours to free */
} ngx_http_edugate_std_ctx_t;


extern ngx_module_t  ngx_http_edugate_std_module;


/* std_push.c: POST of a vendor batch */
ngx_int_t ngx_http_edugate_std_push_handler(ngx_http_request_t *r);
/* runs the steps until one waits or the answer is sent */
void ngx_http_edugate_std_run(ngx_http_request_t *r);
/* a refusal of the whole batch: log line, JSON, request finalized */
void ngx_http_edugate_std_finish(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *detail);

/* std_async.c: a job in the thread pool, a Redis script, the forward */
ngx_int_t ngx_http_edugate_std_shared_step(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx);
ngx_int_t ngx_http_edugate_std_post(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx, ngx_http_edugate_std_job_pt job,
    ngx_uint_t next);
ngx_int_t ngx_http_edugate_std_redis(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx, const char *script, json_t *args,
    size_t stride, ngx_uint_t next);
ngx_int_t ngx_http_edugate_std_forward(ngx_http_request_t *r,
    ngx_http_edugate_std_ctx_t *ctx);

/* std_work.c: the jobs of a push, run in the plugin thread pool */
ngx_http_edugate_std_work_t *ngx_http_edugate_std_work_new(
    ngx_http_request_t *r);
void ngx_http_edugate_std_work_free(ngx_http_edugate_std_work_t *w);
void ngx_http_edugate_std_parse(ngx_http_edugate_std_work_t *w);
void ngx_http_edugate_std_next(ngx_http_edugate_std_work_t *w);
void ngx_http_edugate_std_validate(ngx_http_edugate_std_work_t *w);
void ngx_http_edugate_std_seal(ngx_http_edugate_std_work_t *w);
void ngx_http_edugate_std_answer(ngx_http_edugate_std_work_t *w);
/* copies a reply of strings (and nils) for the next job, or appends it */
ngx_int_t ngx_http_edugate_std_keep_reply(ngx_http_edugate_std_work_t *w,
    void *reply, ngx_uint_t append);

/* std_answer.c: refusals as JSON; nginx's 413 of a push in that shape */
ngx_int_t ngx_http_edugate_std_limit_init(ngx_conf_t *cf);

/* std_pull.c: GET /std/v1/<entity> */
ngx_int_t ngx_http_edugate_std_pull_handler(ngx_http_request_t *r);
void ngx_http_edugate_std_pull_run(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_std_pull_filter_init(ngx_conf_t *cf);

/* std_pull_work.c: the jobs of a pull, in the plugin thread pool */
void ngx_http_edugate_std_pull_query(ngx_http_edugate_std_work_t *w);
void ngx_http_edugate_std_pull_check(ngx_http_edugate_std_work_t *w);

/* std_stats.c: conformance figures as JSON and Prometheus text */
ngx_int_t ngx_http_edugate_std_conformance_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_edugate_std_metrics_handler(ngx_http_request_t *r);

/* std_answer.c: a JSON error with its code, as every endpoint answers */
ngx_int_t ngx_http_edugate_std_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *detail);
ngx_int_t ngx_http_edugate_std_send_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);


#endif /* _NGX_HTTP_EDUGATE_STD_H_INCLUDED_ */
