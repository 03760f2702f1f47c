/*
 * What the two vendor-payload targets (fuzz_tree_json.c, fuzz_tree_xml.c)
 * share: the input, the limits nginx uses, and a walk over the tree with
 * every accessor a plugin has.
 *
 * Input: a payload, optionally preceded by one byte below 0x10 that picks
 * the charset of the Content-Type (GBK, GB18030, UTF-16, an unknown
 * name, ...); without it the payload is UTF-8 with no charset, as the
 * fixtures are, so they seed the corpus as they are.
 */

#ifndef _FUZZ_TREE_H_INCLUDED_
#define _FUZZ_TREE_H_INCLUDED_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_tree.h"


#define FUZZ_TREE_MAX_BODY  (8 * 1024 * 1024)


static const char  *fuzz_tree_charsets[] = {
    NULL, "utf-8", "GBK", "GB18030", "gb2312", "ISO-8859-1",
    "windows-1252", "UTF-16", "UTF-16LE", "UTF-16BE", "Big5", "KOI8-R",
    "UTF-32", "UTF-7", "x-no-such-charset", "utf8"
};


/* the payload and its charset */

static void
fuzz_tree_input(const uint8_t *data, size_t size, const unsigned char **p,
    size_t *len, const char **charset)
{
    *charset = NULL;
    *p = data;
    *len = size;

    if (size && data[0] < 0x10) {
        *charset = fuzz_tree_charsets[data[0]];
        (*p)++;
        (*len)--;
    }
}


/* the limits ngx_http_edugate_std_push.c sets from the default max_body */

static void
fuzz_tree_limits(eg_tree_limits_t *lim)
{
    lim->max_bytes = FUZZ_TREE_MAX_BODY;
    lim->max_depth = 64;
    lim->max_nodes = FUZZ_TREE_MAX_BODY / 4 + 1024;
}


/*
 * Every node, through the accessors of the host table, and the path
 * lookups a plugin makes with the names found in the tree; a string that
 * is not NUL-terminated or a bad child pointer shows up under ASan.
 */

static size_t
fuzz_tree_walk(const edugate_node_t *root, const edugate_node_t *n,
    unsigned depth)
{
    char                   path[256];
    size_t                 i, count, seen;
    const char            *name, *text, *ns;
    const edugate_node_t  *kid;

    if (depth > 64) {
        fprintf(stderr, "fuzz_tree: a tree deeper than nginx's limit\n");
        abort();
    }

    seen = 1;
    name = eg_node_name(n);
    ns = eg_node_ns(n);
    text = eg_node_text(n);

    if (name == NULL || eg_node_type(n) < 0) {
        fprintf(stderr, "fuzz_tree: a node without a name or type\n");
        abort();
    }

    (void) strlen(name);
    (void) (ns ? strlen(ns) : 0);
    (void) (text ? strlen(text) : 0);
    (void) eg_node_attr(n, "id");
    (void) eg_node_attr(n, name);

    count = eg_node_count(n);

    for (i = 0; i < count; i++) {
        kid = eg_node_child(n, i);
        if (kid == NULL) {
            fprintf(stderr, "fuzz_tree: child %zu of %zu is NULL\n", i,
                    count);
            abort();
        }

        if (depth == 0 && eg_node_name(kid)[0] != '\0') {
            snprintf(path, sizeof(path), "%s/%s", eg_node_name(kid),
                     name);
            (void) eg_node_get(root, path);
            (void) eg_node_text_at(root, path);
            snprintf(path, sizeof(path), "%s/@%s", eg_node_name(kid),
                     name);
            (void) eg_node_text_at(root, path);
        }

        seen += fuzz_tree_walk(root, kid, depth + 1);
    }

    if (eg_node_child(n, count) != NULL) {
        fprintf(stderr, "fuzz_tree: a child past the count\n");
        abort();
    }

    return seen;
}


static void
fuzz_tree_run(const uint8_t *data, size_t size, int format)
{
    char                 err[256];
    size_t               len, nodes;
    const char          *charset;
    eg_tree_t           *t;
    eg_tree_limits_t     lim;
    const unsigned char *p;

    fuzz_tree_input(data, size, &p, &len, &charset);
    fuzz_tree_limits(&lim);

    t = eg_tree_parse(p, len, format, charset, &lim, err, sizeof(err));

    if (t == NULL) {
        if (err[0] == '\0' || strlen(err) >= sizeof(err)) {
            fprintf(stderr, "fuzz_tree: a refusal without a reason\n");
            abort();
        }
        return;
    }

    nodes = fuzz_tree_walk(eg_tree_root(t), eg_tree_root(t), 0);
    eg_tree_free(t);

    /*
     * Again with limits the input can reach, so that a parse stopped
     * halfway (depth, node count, size) frees what it built.
     */
    lim.max_depth = 4;
    lim.max_nodes = nodes > 1 ? nodes - 1 : 1;
    lim.max_bytes = len;

    t = eg_tree_parse(p, len, format, charset, &lim, err, sizeof(err));
    if (t == NULL) {
        return;
    }

    nodes = fuzz_tree_walk(eg_tree_root(t), eg_tree_root(t), 0);
    eg_tree_free(t);

    if (nodes > lim.max_nodes) {
        fprintf(stderr, "fuzz_tree: %zu nodes over the limit of %zu\n",
                nodes, lim.max_nodes);
        abort();
    }
}

#endif /* _FUZZ_TREE_H_INCLUDED_ */
