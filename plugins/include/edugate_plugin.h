/*
 * Copyright (C) EduGate contributors
 *
 * edugate_plugin.h: the ABI between the EduGate gateway (the host) and a
 * vendor adapter plugin (a shared object).  Self-contained: it needs only
 * the C99 headers below, never nginx's nor any library's.
 *
 * A plugin exports exactly one symbol, edugate_plugin_entry(), returning a
 * descriptor that lives as long as the shared object.  The host checks the
 * descriptor (ABI major equal, minor not newer, sizes), calls init() once
 * with the arguments of its configuration line, describe() once, and then
 * the hooks, possibly from several threads at once.
 *
 * Plugins are pure transforms: no I/O, no clock, no globals, no threads,
 * no libraries.  Every byte they allocate comes from the host, which frees
 * it when the call's results have been used.  The state made by init() is
 * read-only afterwards, as hooks run concurrently.
 *
 * Versioning (as Apache httpd does): the major changes when something
 * existing changes; the minor when something is added at the end of
 * edugate_host_t, edugate_plugin_t or an input struct.  A plugin built for
 * 1.m loads in any host 1.n with n >= m.  Each addition is labelled with
 * the minor that added it, as sqlite3ext.h does.
 */

#ifndef EDUGATE_PLUGIN_H
#define EDUGATE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif


#define EDUGATE_ABI_MAJOR       1
#define EDUGATE_ABI_MINOR       0

#define EDUGATE_PLUGIN_ENTRY_NAME  "edugate_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define EDUGATE_EXPORT  __attribute__((visibility("default")))
#else
#define EDUGATE_EXPORT
#endif


/* return codes of hooks and host functions (never NGX_*) */

#define EDUGATE_OK              0
#define EDUGATE_DECLINED        1   /* this input is not for this hook */
#define EDUGATE_ERROR          -1   /* failed; say why with host->error() */
#define EDUGATE_BAD_INPUT      -2   /* input not as the vendor documents */
#define EDUGATE_NO_MEMORY      -3   /* a host allocation failed */
#define EDUGATE_BAD_CONFIG     -4   /* init(): a wrong argument */
#define EDUGATE_NOT_ALLOWED    -5   /* host: name not declared by describe */
#define EDUGATE_INVALID        -6   /* host: malformed name or value */


/* log levels of host->log() */

#define EDUGATE_LOG_ERROR       1
#define EDUGATE_LOG_WARN        2
#define EDUGATE_LOG_INFO        3
#define EDUGATE_LOG_DEBUG       4


/* node types of a vendor payload tree */

#define EDUGATE_NODE_NULL       0
#define EDUGATE_NODE_OBJECT     1   /* JSON object: children are named */
#define EDUGATE_NODE_ARRAY      2   /* JSON array: children are unnamed */
#define EDUGATE_NODE_STRING     3
#define EDUGATE_NODE_NUMBER     4   /* text is the number as written */
#define EDUGATE_NODE_BOOL       5   /* text is "true" or "false" */
#define EDUGATE_NODE_ELEMENT    6   /* XML element: attributes, children */


/* violation severities of host->report() (DATA-STANDARD rule catalogue) */

#define EDUGATE_SEV_ERROR       1   /* the record is rejected */
#define EDUGATE_SEV_WARN        2   /* accepted and flagged */
#define EDUGATE_SEV_INFO        3


/* host->base64() flags */

#define EDUGATE_B64_URL         1   /* RFC 4648 section 5 alphabet */
#define EDUGATE_B64_NOPAD       2   /* no trailing '=' */


/* edugate_identity_t flags */

#define EDUGATE_ID_PAIRWISE     1   /* vendor_uid derived, not mapped */


/* opaque to plugins */

typedef struct edugate_call_s    edugate_call_t;     /* one hook call */
typedef struct edugate_node_s    edugate_node_t;     /* payload tree node */
typedef struct edugate_record_s  edugate_record_t;   /* standard record */


/*
 * The person a request is made for, as the identity hook receives it.
 * Strings are UTF-8, NUL-terminated, never NULL ("" when unknown).
 */

typedef struct {
    uint32_t      size;         /* sizeof as the host built it */
    uint32_t      flags;        /* EDUGATE_ID_* */

    const char   *uid;          /* unified id: the directory's uid */
    const char   *vendor_uid;   /* the vendor's id of this person */
    const char   *name;
    const char   *roles;        /* comma-separated */
    const char   *org;          /* nearest organisation code */
    const char   *org_path;     /* codes from the top, '/'-joined */
    const char   *level;
    const char   *school;       /* school identification code */
    const char   *grade;
    const char   *klass;        /* class */

    int64_t       auth_time;    /* unix seconds of the login */
    int64_t       now;          /* unix seconds of the request */
} edugate_identity_t;


typedef struct {
    const char   *name;
    const char   *value;
} edugate_param_t;


/* a query on the standard API, as the to_vendor hook receives it */

typedef struct {
    uint32_t                size;     /* sizeof as the host built it */
    uint32_t                nparams;

    const char             *entity;   /* "students", "results", ... */
    const edugate_param_t  *params;   /* filters: schoolCode, ... */

    int64_t                 now;
} edugate_query_t;


/*
 * What a plugin supports, filled in by describe() with pointers that stay
 * valid as long as the state.  Lists end with NULL; a NULL list is empty.
 * The identity hook may set only the headers, arguments and cookies listed
 * here; the host removes copies of them sent by clients.
 */

typedef struct {
    uint32_t              size;             /* sizeof as the host built it */

    const char           *summary;          /* one line for status pages */
    const char           *payload;          /* "json" or "xml" */
    const char *const    *entities;         /* to_standard produces these */
    const char *const    *tables;           /* code tables it looks up */
    const char *const    *identity_headers;
    const char *const    *identity_args;
    const char *const    *identity_cookies;
} edugate_description_t;


/*
 * The host function table.  It only grows at the end: a plugin built for
 * ABI 1.m may use every member up to the last one labelled 1.m.
 */

typedef struct edugate_host_s  edugate_host_t;

struct edugate_host_s {
    uint32_t      size;         /* sizeof as the host built it */
    uint32_t      abi_major;    /* of the host */
    uint32_t      abi_minor;

    /* 1.0: memory; zeroed, NULL when the call's budget is spent */

    void       *(*alloc)(edugate_call_t *c, size_t size);
    char       *(*strndup)(edugate_call_t *c, const char *s, size_t len);
    char       *(*sprintf)(edugate_call_t *c, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
                __attribute__((format(printf, 2, 3)))
#endif
                ;

    /* 1.0: memory that lives as long as the state (in init() only) */

    void       *(*state_alloc)(const edugate_host_t *h, size_t size);

    /* 1.0: the nginx error log, prefixed with the plugin's name */

    void        (*log)(edugate_call_t *c, int level, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
                __attribute__((format(printf, 3, 4)))
#endif
                ;

    /* 1.0: why the hook fails; shown to operators, not to clients */

    void        (*error)(edugate_call_t *c, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
                __attribute__((format(printf, 2, 3)))
#endif
                ;

    /* 1.0: digests and encodings (EDUGATE_OK or EDUGATE_ERROR) */

    int         (*sha256)(const void *data, size_t len, unsigned char out[32]);
    int         (*hmac_sha256)(const void *key, size_t keylen,
                               const void *data, size_t len,
                               unsigned char out[32]);
    char       *(*base64)(edugate_call_t *c, const void *data, size_t len,
                          int flags);
    char       *(*hex)(edugate_call_t *c, const void *data, size_t len);

    /* 1.0: "key=value" arguments of init(): the value, or NULL */

    const char *(*arg)(int argc, const char *const *argv, const char *key);

    /* 1.0: the vendor payload tree (read-only) */

    int         (*node_type)(const edugate_node_t *n);
    const char *(*node_name)(const edugate_node_t *n);
    const char *(*node_ns)(const edugate_node_t *n);   /* XML namespace */
    const char *(*node_text)(const edugate_node_t *n);
    const char *(*node_attr)(const edugate_node_t *n, const char *name);
    size_t      (*node_count)(const edugate_node_t *n);
    const edugate_node_t *(*node_child)(const edugate_node_t *n, size_t i);

    /*
     * A descendant by a '/'-separated path of names ("school/moeCode",
     * "Exam"); node_text_at() also reads attributes ("Exam/@examId").
     * NULL when absent.
     */
    const edugate_node_t *(*node_get)(const edugate_node_t *n,
                                      const char *path);
    const char *(*node_text_at)(const edugate_node_t *n, const char *path);

    /* 1.0: standard records (to_standard); fields may be "a.b" */

    edugate_record_t *(*record_new)(edugate_call_t *c, const char *entity);
    int         (*record_set)(edugate_record_t *r, const char *field,
                              const char *value);     /* NULL: null */
    int         (*record_set_number)(edugate_record_t *r, const char *field,
                                     const char *decimal);
    int         (*record_append)(edugate_record_t *r, const char *field,
                                 const char *value);  /* list of strings */

    /*
     * A violation of a rule of the standard (R01..R29), for the record (or
     * for the whole payload when r is NULL).
     */
    void        (*report)(edugate_call_t *c, edugate_record_t *r,
                          const char *rule, int severity, const char *field,
                          const char *actual, const char *message);

    /*
     * 1.0: code tables.  Looks the vendor's value up in the table; sets
     * the field of the record (when r and field are given) to the
     * standard code, keeps the raw value as provenance, and reports an
     * unmapped or ambiguous value.  Returns the code, or NULL: an
     * unmapped value is reported, never guessed.
     */
    const char *(*code_map)(edugate_call_t *c, edugate_record_t *r,
                            const char *field, const char *table,
                            const char *value);

    /* 1.0: what goes upstream (identity, to_vendor) */

    int         (*set_header)(edugate_call_t *c, const char *name,
                              const char *value);
    int         (*set_arg)(edugate_call_t *c, const char *name,
                           const char *value);
    int         (*set_cookie)(edugate_call_t *c, const char *name,
                              const char *value);
    int         (*set_path)(edugate_call_t *c, const char *method,
                            const char *path);

    /* 1.0: a filter of the query, or NULL */

    const char *(*param)(const edugate_query_t *q, const char *name);
};


/*
 * The descriptor.  Start it with EDUGATE_PLUGIN_HEADER; hooks a plugin
 * does not support are NULL.
 */

typedef struct {
    uint32_t      abi_major;
    uint32_t      abi_minor;
    uint32_t      size;         /* sizeof(edugate_plugin_t) */
    uint32_t      host_size;    /* sizeof(edugate_host_t) */

    const char   *name;         /* [a-z0-9_-], 1 to 32 characters */
    const char   *version;

    int         (*init)(const edugate_host_t *h, int argc,
                        const char *const *argv, void **state,
                        char *err, size_t errlen);
    void        (*fini)(void *state);

    int         (*describe)(void *state, edugate_description_t *d);

    int         (*identity)(const edugate_host_t *h, edugate_call_t *c,
                            void *state, const edugate_identity_t *id);
    int         (*to_standard)(const edugate_host_t *h, edugate_call_t *c,
                               void *state, const char *entity,
                               const edugate_node_t *payload);
    int         (*to_vendor)(const edugate_host_t *h, edugate_call_t *c,
                             void *state, const edugate_query_t *q);
} edugate_plugin_t;


#define EDUGATE_PLUGIN_HEADER                                                \
    EDUGATE_ABI_MAJOR, EDUGATE_ABI_MINOR,                                    \
    (uint32_t) sizeof(edugate_plugin_t), (uint32_t) sizeof(edugate_host_t)


/* the one exported symbol */

EDUGATE_EXPORT const edugate_plugin_t *edugate_plugin_entry(void);


#ifdef __cplusplus
}
#endif

#endif /* EDUGATE_PLUGIN_H */
