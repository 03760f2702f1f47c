/*
 * Copyright (C) EduGate contributors
 *
 * The standard pull (GET /std/v1/<entity>), nginx-free: the query's
 * filters as they reach a plugin's to_vendor hook, the Accept header, the
 * vendor request's arguments, and the answer: OneRoster 1.2 JSON
 * (eg_oneroster.h) or the XML batch of schemas/std/v1/batch.xsd, both
 * with the validation report of the records of the pulled collection;
 * the OneRoster paging of that collection (limit, offset, the Link
 * header's relations).
 */

#ifndef _EG_PULL_H_INCLUDED_
#define _EG_PULL_H_INCLUDED_

#include <stddef.h>

#include "edugate_plugin.h"
#include "eg_pipe.h"


#define EG_PULL_PARAMS_MAX   16
/* the filters and the paging arguments, limit and offset */
#define EG_PULL_ARGS_MAX     (EG_PULL_PARAMS_MAX + 2)
#define EG_PULL_NAME_MAX     32
#define EG_PULL_VALUE_MAX    256

#define EG_PULL_JSON         1
#define EG_PULL_XML          2

/* OneRoster's default page; larger pages and offsets are refused */
#define EG_PULL_LIMIT_DEFAULT  100
#define EG_PULL_LIMIT_MAX      1000
#define EG_PULL_OFFSET_MAX     1000000000


typedef struct {
    edugate_param_t       params[EG_PULL_ARGS_MAX];
    size_t                n;
    char                  buf[EG_PULL_ARGS_MAX
                              * (EG_PULL_NAME_MAX + EG_PULL_VALUE_MAX + 2)];
} eg_pull_query_t;


typedef struct {
    size_t                limit;        /* 0: the whole collection */
    size_t                offset;
} eg_pull_page_t;


typedef struct {
    const char           *coll;         /* the collection pulled */
    const char           *vendor;
    int                   format;       /* EG_PULL_JSON or EG_PULL_XML */
    int                   observe;
    void                 *schema;       /* XML: records it refuses are
                                           left out; NULL: no check */
    eg_pull_page_t        page;
} eg_pull_conf_t;


/*
 * The arguments of a query string as filters: at most EG_PULL_PARAMS_MAX
 * besides limit and offset (eg_pull_page_take takes those), names of 1
 * to EG_PULL_NAME_MAX characters of [A-Za-z0-9_.], values
 * percent-decoded, UTF-8 without control characters, at most
 * EG_PULL_VALUE_MAX bytes, no name twice.  0, or -1 with the reason.
 */
int eg_pull_query_parse(eg_pull_query_t *q, const char *args, size_t len,
    char *err, size_t errlen);

/*
 * Takes the paging arguments out of the filters (the plugin never sees
 * them): limit, 1 to EG_PULL_LIMIT_MAX, EG_PULL_LIMIT_DEFAULT when
 * absent; offset, 0 to EG_PULL_OFFSET_MAX, 0 when absent; both decimal
 * digits only.  The other filters keep their order.  0, or -1 with the
 * reason.
 */
int eg_pull_page_take(eg_pull_query_t *q, eg_pull_page_t *page, char *err,
    size_t errlen);

/*
 * The value of a Link header (RFC 8288) for a page of total records:
 * first, prev (when offset > 0), next (when records follow) and last,
 * each the request's path with its filters and the page's limit and
 * offset, percent-encoded.  A prev past the end is the last page.
 * malloc()ed, or NULL when out of memory.
 */
char *eg_pull_links(const char *path, size_t path_len,
    const eg_pull_query_t *q, const eg_pull_page_t *page, size_t total);

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
 * The answer: the page conf->page of the records of conf->coll in
 * res->forward, rendered, with the report of all that collection's
 * records (malloc()ed text, its length in *len; in *total the records
 * of every page), or NULL when out of memory.
 */
char *eg_pull_render(const eg_pull_conf_t *conf, eg_pipe_result_t *res,
    size_t *len, size_t *total);

#endif /* _EG_PULL_H_INCLUDED_ */
