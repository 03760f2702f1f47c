/*
 * Copyright (C) EduGate contributors
 *
 * The vendor payload tree handed to plugins: JSON (jansson) or XML
 * (libxml2) parsed with size, depth and node limits, without DTDs,
 * entities or network access, transcoded to UTF-8, and copied into one
 * read-only structure so that plugins see both formats the same way.
 */

#ifndef _EG_TREE_H_INCLUDED_
#define _EG_TREE_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>

#include "edugate_plugin.h"


#define EG_TREE_FORMAT_JSON  1
#define EG_TREE_FORMAT_XML   2


typedef struct {
    size_t                 max_bytes;
    unsigned               max_depth;
    size_t                 max_nodes;
} eg_tree_limits_t;

typedef struct eg_tree_s  eg_tree_t;


/* NULL limits: 8 MiB, depth 64, 1,000,000 nodes */
eg_tree_t *eg_tree_parse(const unsigned char *data, size_t len, int format,
    const char *charset, const eg_tree_limits_t *limits, char *err,
    size_t errlen);
void eg_tree_free(eg_tree_t *t);
const edugate_node_t *eg_tree_root(const eg_tree_t *t);

/* "json" / "xml" -> EG_TREE_FORMAT_*, or 0 */
int eg_tree_format(const char *name);

/* one random change (value, type, child removed or repeated), for fuzzing */
void eg_tree_mutate(eg_tree_t *t, uint64_t *rng);
uint64_t eg_rng_next(uint64_t *rng);

/* the accessors of the host table */
int eg_node_type(const edugate_node_t *n);
const char *eg_node_name(const edugate_node_t *n);
const char *eg_node_ns(const edugate_node_t *n);
const char *eg_node_text(const edugate_node_t *n);
const char *eg_node_attr(const edugate_node_t *n, const char *name);
size_t eg_node_count(const edugate_node_t *n);
const edugate_node_t *eg_node_child(const edugate_node_t *n, size_t i);
const edugate_node_t *eg_node_get(const edugate_node_t *n, const char *path);
const char *eg_node_text_at(const edugate_node_t *n, const char *path);

#endif /* _EG_TREE_H_INCLUDED_ */
