/*
 * Copyright (C) EduGate contributors
 *
 * The standard pull (GET /std/v1/<entity>), nginx-free: the query's
 * filters as they reach a plugin's to_vendor hook, the Accept header, the
 * vendor request's arguments, and the answer: OneRoster 1.2 JSON
 * (eg_oneroster.h) or the XML batch of schemas/std/v1/batch.xsd, both
 * with the validation report of the records returned.
 */

#ifndef _EG_PULL_H_INCLUDED_
#define _EG_PULL_H_INCLUDED_

#include <stddef.h>

#include "edugate_plugin.h"
#include "eg_pipe.h"


#define EG_PULL_PARAMS_MAX   16
#define EG_PULL_NAME_MAX     32
#define EG_PULL_VALUE_MAX    256

#define EG_PULL_JSON         1
#define EG_PULL_XML          2


typedef struct {
    edugate_param_t       params[EG_PULL_PARAMS_MAX];
    size_t                n;
    char                  buf[EG_PULL_PARAMS_MAX
                              * (EG_PULL_NAME_MAX + EG_PULL_VALUE_MAX + 2)];
} eg_pull_query_t;


typedef struct {
    const char           *coll;         /* the collection pulled */
    const char           *vendor;
    int                   format;       /* EG_PULL_JSON or EG_PULL_XML */
    int                   observe;
    void                 *schema;       /* XML: records it refuses are
                                           left out; NULL: no check */
} eg_pull_conf_t;


/*
 * The arguments of a query string as filters: at most EG_PULL_PARAMS_MAX,
 * names of 1 to EG_PULL_NAME_MAX characters of [A-Za-z0-9_.], values
 * percent-decoded, UTF-8 without control characters, at most
 * EG_PULL_VALUE_MAX bytes, no name twice.  0, or -1 with the reason.
 */
int eg_pull_query_parse(eg_pull_query_t *q, const char *args, size_t len,
    char *err, size_t errlen);

/*
 * What an Accept header asks for: EG_PULL_JSON when absent, empty or
 * satisfied by JSON first, EG_PULL_XML for application/xml or text/xml,
 * 0 when neither is acceptable.
 */
int eg_pull_accept(const char *accept, size_t len);

/*
 * Percent-encodes a name or value for a query string (all but the RFC
 * 3986 unreserved characters); out has room for 3 * len + 1 bytes.
 * Returns the length written.
 */
size_t eg_pull_escape(char *out, const char *in, size_t len);

/*
 * The answer: the records of conf->coll in res->forward, rendered, with
 * the report of that collection's records (malloc()ed text, its length in
 * *len), or NULL when out of memory.
 */
char *eg_pull_render(const eg_pull_conf_t *conf, eg_pipe_result_t *res,
    size_t *len);

#endif /* _EG_PULL_H_INCLUDED_ */
