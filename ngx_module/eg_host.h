/*
 * Copyright (C) EduGate contributors
 *
 * The host side of one plugin hook call (edugate_call_t): its memory, its
 * log lines, its outputs (headers, arguments, cookies, request path,
 * records and violations), and the host function table.  nginx-free: the
 * gateway runs calls in a thread pool, the checker runs them directly.
 */

#ifndef _EG_HOST_H_INCLUDED_
#define _EG_HOST_H_INCLUDED_

#include <stddef.h>

#include "edugate_plugin.h"
#include "eg_plugin.h"


#define EG_CALL_BUDGET       (16 * 1024 * 1024)
#define EG_CALL_LOGS_MAX     16
#define EG_CALL_LOG_LEN      512
#define EG_CALL_ERR_LEN      256
#define EG_VALUE_MAX         4096
#define EG_NAME_MAX          64

/* what a hook may produce */
#define EG_OUT_IDENTITY      1
#define EG_OUT_REQUEST       2
#define EG_OUT_RECORDS       3


typedef struct edugate_call_s  eg_call_t;
typedef struct eg_kv_s         eg_kv_t;
typedef struct eg_log_s        eg_log_t;

struct eg_kv_s {
    char                  *name;
    char                  *value;
    eg_kv_t               *next;
};

struct eg_log_s {
    int                    level;
    char                  *text;
    eg_log_t              *next;
};

typedef void (*eg_log_pt)(void *data, eg_plugin_t *p, int level,
    const char *msg);


struct edugate_call_s {
    eg_plugin_t           *plugin;
    const char            *hook;
    int                    outputs;

    eg_mem_t              *mem;
    size_t                 used;
    size_t                 budget;

    eg_kv_t               *headers;
    eg_kv_t               *args;
    eg_kv_t               *cookies;
    char                  *method;
    char                  *path;

    /* records by entity and violations, jansson values (eg_record.c) */
    void                  *records;
    void                  *violations;
    unsigned               nrecords;

    eg_log_pt              log_handler;     /* NULL: kept in logs */
    void                  *log_data;
    eg_log_t              *logs;
    unsigned               nlogs;
    unsigned               dropped_logs;

    char                   error[EG_CALL_ERR_LEN];
};


eg_call_t *eg_call_new(eg_plugin_t *p, const char *hook, int outputs);
void eg_call_free(eg_call_t *c);
void *eg_call_alloc(eg_call_t *c, size_t size);
char *eg_call_strndup(eg_call_t *c, const char *s, size_t len);

/* why the call failed; the first reason is kept */
void eg_call_error(eg_call_t *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* the table handed to plugins (eg_plugin.c copies it per plugin) */
void eg_host_fill(edugate_host_t *h);

/* checks of what a plugin declares and sets */
int eg_header_name_ok(const char *name);
int eg_arg_name_ok(const char *name);
int eg_cookie_name_ok(const char *name);
int eg_header_value_ok(const char *value);
int eg_cookie_value_ok(const char *value);

/*
 * The pairwise id of a person for a vendor: the first 16 bytes of
 * HMAC-SHA256(secret, vendor "|" uid) as 32 lowercase hex digits.
 */
#define EG_PAIRWISE_LEN  32
int eg_pairwise_id(const unsigned char *secret, size_t slen,
    const char *vendor, const char *uid, char out[EG_PAIRWISE_LEN + 1]);

/*
 * Copies a query string (or a Cookie header value) without the arguments
 * (cookies) whose names are in the list, compared without case and, for
 * arguments, after percent-decoding, as a vendor application would read
 * them.  out has room for 2 * len bytes (cookies are joined with "; ");
 * returns the length written.
 */
size_t eg_query_strip(char *out, const char *in, size_t len,
    const char *const *names);
size_t eg_cookie_strip(char *out, const char *in, size_t len,
    const char *const *names);

/* a vendor's user id as Redis may hold it: 1..128 printable ASCII */
int eg_vendor_uid_ok(const unsigned char *s, size_t n);

#endif /* _EG_HOST_H_INCLUDED_ */
