/*
 * libFuzzer target: the query of a standard pull (eg_pull_query_parse,
 * then the paging eg_pull_page_take takes out of it) and the Link header
 * built for a page of it (eg_pull_links).  The first four bytes are the
 * collection's size (up to EG_PULL_OFFSET_MAX), the rest the query
 * string.  A page taken must be in
 * its bounds and leave no limit or offset among the filters; every link
 * must be read back by the same parser to the same filters, the same
 * limit and an offset in the collection.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_pull.h"


#define FUZZ_PATH  "/std/v1/students"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_pull_link(const eg_pull_query_t *q,
    const eg_pull_page_t *page, size_t total, const char *link,
    size_t len);
static void fuzz_pull_fail(const char *what, const char *link, size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             err[128], *links, *p, *end;
    size_t           i, total;
    eg_pull_page_t   page;
    eg_pull_query_t  q;

    if (size < 4) {
        return 0;
    }

    /* a collection is never that large: its pages' offsets are taken */
    total = ((size_t) data[0] << 24 | (size_t) data[1] << 16
             | (size_t) data[2] << 8 | data[3])
            % (EG_PULL_OFFSET_MAX + 1);

    if (eg_pull_query_parse(&q, (const char *) data + 4, size - 4, err,
                            sizeof(err))
        != 0
        || eg_pull_page_take(&q, &page, err, sizeof(err)) != 0)
    {
        return 0;
    }

    if (page.limit < 1 || page.limit > EG_PULL_LIMIT_MAX
        || page.offset > EG_PULL_OFFSET_MAX)
    {
        fuzz_pull_fail("a page out of its bounds", "", 0);
    }

    for (i = 0; i < q.n; i++) {
        if (strcmp(q.params[i].name, "limit") == 0
            || strcmp(q.params[i].name, "offset") == 0)
        {
            fuzz_pull_fail("paging left among the filters", "", 0);
        }
    }

    links = eg_pull_links(FUZZ_PATH, sizeof(FUZZ_PATH) - 1, &q, &page,
                          total);
    if (links == NULL) {
        return 0;
    }

    for (p = links; *p; p = end + (*end ? 2 : 0)) {
        end = strstr(p, ", ");
        if (end == NULL) {
            end = p + strlen(p);
        }

        fuzz_pull_link(&q, &page, total, p, (size_t) (end - p));
    }

    free(links);

    return 0;
}


static void
fuzz_pull_link(const eg_pull_query_t *q, const eg_pull_page_t *page,
    size_t total, const char *link, size_t len)
{
    char             err[128];
    size_t           i, n;
    const char      *args, *close;
    eg_pull_page_t   back_page;
    eg_pull_query_t  back;

    n = sizeof("<" FUZZ_PATH "?") - 1;

    if (len < n || memcmp(link, "<" FUZZ_PATH "?", n) != 0) {
        fuzz_pull_fail("a link not to the path", link, len);
    }

    args = link + n;
    close = memchr(args, '>', len - n);

    if (close == NULL
        || (strncmp(close, ">; rel=\"first\"", len - (close - link)) != 0
            && strncmp(close, ">; rel=\"prev\"", len - (close - link)) != 0
            && strncmp(close, ">; rel=\"next\"", len - (close - link)) != 0
            && strncmp(close, ">; rel=\"last\"", len - (close - link))
               != 0))
    {
        fuzz_pull_fail("a link without its relation", link, len);
    }

    if (eg_pull_query_parse(&back, args, (size_t) (close - args), err,
                            sizeof(err))
        != 0
        || eg_pull_page_take(&back, &back_page, err, sizeof(err)) != 0)
    {
        fuzz_pull_fail(err, link, len);
    }

    if (back.n != q->n || back_page.limit != page->limit) {
        fuzz_pull_fail("a link with other filters or limit", link, len);
    }

    for (i = 0; i < q->n; i++) {
        if (strcmp(back.params[i].name, q->params[i].name) != 0
            || strcmp(back.params[i].value, q->params[i].value) != 0)
        {
            fuzz_pull_fail("a filter changed in a link", link, len);
        }
    }

    if (back_page.offset != 0 && back_page.offset >= total) {
        fuzz_pull_fail("a link past the end", link, len);
    }
}


static void
fuzz_pull_fail(const char *what, const char *link, size_t len)
{
    fprintf(stderr, "fuzz_pull_query: %s: %.*s\n", what, (int) len, link);
    abort();
}
