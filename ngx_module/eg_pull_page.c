/*
 * Copyright (C) EduGate contributors
 *
 * The paging of a standard pull, as the OneRoster 1.2 REST binding has
 * it: limit and offset are the gateway's, not filters for the vendor,
 * and the Link header names the pages around the one answered.  The
 * links are relative (the request's own path): the Host header is the
 * client's to forge, the path is not.  nginx-free.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_pull.h"


static int eg_pull_page_number(const char *s, size_t max, size_t *n);
static char *eg_pull_link(char *p, const char *base, size_t limit,
    size_t offset, const char *rel);


int
eg_pull_page_take(eg_pull_query_t *q, eg_pull_page_t *page, char *err,
    size_t errlen)
{
    size_t       i, n;
    const char  *name, *value;

    page->limit = EG_PULL_LIMIT_DEFAULT;
    page->offset = 0;

    for (i = 0, n = 0; i < q->n; i++) {
        name = q->params[i].name;
        value = q->params[i].value;

        if (strcmp(name, "limit") == 0) {
            if (eg_pull_page_number(value, EG_PULL_LIMIT_MAX, &page->limit)
                != 0 || page->limit == 0)
            {
                snprintf(err, errlen, "\"limit\" must be an integer from 1 "
                         "to %d", EG_PULL_LIMIT_MAX);
                return -1;
            }

            continue;
        }

        if (strcmp(name, "offset") == 0) {
            if (eg_pull_page_number(value, EG_PULL_OFFSET_MAX,
                                    &page->offset)
                != 0)
            {
                snprintf(err, errlen, "\"offset\" must be an integer from 0 "
                         "to %d", EG_PULL_OFFSET_MAX);
                return -1;
            }

            continue;
        }

        q->params[n++] = q->params[i];
    }

    q->n = n;

    return 0;
}


/* decimal digits only: no sign, space, exponent or hex; at most max */

static int
eg_pull_page_number(const char *s, size_t max, size_t *n)
{
    size_t  v;

    if (*s == '\0') {
        return -1;
    }

    for (v = 0; *s; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }

        v = v * 10 + (size_t) (*s - '0');

        if (v > max) {
            return -1;
        }
    }

    *n = v;

    return 0;
}


char *
eg_pull_links(const char *path, size_t path_len, const eg_pull_query_t *q,
    const eg_pull_page_t *page, size_t total)
{
    char    *base, *out, *p;
    size_t   i, len, last, prev;

    /* the path, then every filter, percent-encoded; the page's own last */
    len = 3 * path_len + 2;

    for (i = 0; i < q->n; i++) {
        len += 3 * (strlen(q->params[i].name) + strlen(q->params[i].value))
               + 2;
    }

    base = malloc(len);
    out = malloc(4 * (len + sizeof("<limit=&offset=>; rel=\"first\", ")
                      + 2 * 20) + 1);

    if (base == NULL || out == NULL) {
        free(base);
        free(out);
        return NULL;
    }

    p = base;

    for (i = 0; i < path_len; i++) {
        if (path[i] == '/') {
            *p++ = '/';

        } else {
            p += eg_pull_escape(p, &path[i], 1);
        }
    }

    *p++ = '?';

    for (i = 0; i < q->n; i++) {
        p += eg_pull_escape(p, q->params[i].name,
                            strlen(q->params[i].name));
        *p++ = '=';
        p += eg_pull_escape(p, q->params[i].value,
                            strlen(q->params[i].value));
        *p++ = '&';
    }

    *p = '\0';

    last = (total == 0) ? 0 : (total - 1) / page->limit * page->limit;

    p = eg_pull_link(out, base, page->limit, 0, "first");

    if (page->offset > 0) {
        prev = (page->offset > page->limit) ? page->offset - page->limit : 0;
        p = eg_pull_link(p, base, page->limit, prev < last ? prev : last,
                         "prev");
    }

    if (page->offset + page->limit < total) {
        p = eg_pull_link(p, base, page->limit, page->offset + page->limit,
                         "next");
    }

    p = eg_pull_link(p, base, page->limit, last, "last");

    /* the separator after the last link */
    p[-2] = '\0';

    free(base);

    return out;
}


static char *
eg_pull_link(char *p, const char *base, size_t limit, size_t offset,
    const char *rel)
{
    return p + sprintf(p, "<%slimit=%zu&offset=%zu>; rel=\"%s\", ", base,
                       limit, offset, rel);
}
