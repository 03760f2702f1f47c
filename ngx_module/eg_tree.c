/*
 * Copyright (C) EduGate contributors
 */


#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "eg_tree.h"


#define EG_TREE_BLOCK       65536

#define EG_DEFAULT_BYTES    (8 * 1024 * 1024)
#define EG_DEFAULT_DEPTH    64
#define EG_DEFAULT_NODES    1000000


typedef struct eg_block_s  eg_block_t;

struct eg_block_s {
    eg_block_t            *next;
    size_t                 used;
    size_t                 size;
    /* data follows, aligned as a pointer */
};

struct edugate_node_s {
    int                    type;
    const char            *name;
    const char            *ns;
    const char            *text;
    edugate_node_t       **kids;
    size_t                 nkids;
    const char           **attrs;       /* name, value, name, value... */
    size_t                 nattrs;
};

struct eg_tree_s {
    eg_block_t            *blocks;
    edugate_node_t        *root;
    eg_tree_limits_t       lim;
    size_t                 nodes;
    char                  *err;
    size_t                 errlen;
};


static void *eg_tree_alloc(eg_tree_t *t, size_t size);
static char *eg_tree_strdup(eg_tree_t *t, const char *s, size_t len);
static edugate_node_t *eg_tree_node(eg_tree_t *t, int type, unsigned depth);
static int eg_tree_fail(eg_tree_t *t, const char *fmt, ...);
static edugate_node_t *eg_tree_from_json(eg_tree_t *t, json_t *v,
    const char *name, unsigned depth);
static int eg_tree_parse_json(eg_tree_t *t, const unsigned char *data,
    size_t len, const char *charset);
static unsigned char *eg_tree_transcode(eg_tree_t *t, const char *charset,
    const unsigned char *in, size_t len, size_t *outlen);
static void eg_tree_no_dtd(void *ctx, const xmlChar *name,
    const xmlChar *external, const xmlChar *system);
static void eg_tree_quiet(void *ctx, const char *msg, ...);
static int eg_tree_parse_xml(eg_tree_t *t, const unsigned char *data,
    size_t len, const char *charset);
static edugate_node_t *eg_tree_from_xml(eg_tree_t *t, xmlNode *x,
    unsigned depth);
static const char *eg_tree_xml_text(eg_tree_t *t, xmlNode *x);
static size_t eg_tree_collect(edugate_node_t *n, edugate_node_t **out,
    size_t i, size_t max);


static const char  *eg_tree_odd_values[] = {
    "", " ", "0", "-1", "1e309", "null", "true", "2016-02-30", "99999999",
    "\xe6\xb1\x89", "G00000000000000000X", "<&>", "%s%n", "\xc2\xb7",
    "3.2.1", "NaN", "-0", "T", NULL
};


eg_tree_t *
eg_tree_parse(const unsigned char *data, size_t len, int format,
    const char *charset, const eg_tree_limits_t *limits, char *err,
    size_t errlen)
{
    int         rc;
    eg_tree_t  *t;

    t = calloc(1, sizeof(eg_tree_t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    if (limits) {
        t->lim = *limits;

    } else {
        t->lim.max_bytes = EG_DEFAULT_BYTES;
        t->lim.max_depth = EG_DEFAULT_DEPTH;
        t->lim.max_nodes = EG_DEFAULT_NODES;
    }

    t->err = err;
    t->errlen = errlen;

    if (errlen) {
        err[0] = '\0';
    }

    if (len > t->lim.max_bytes) {
        snprintf(err, errlen, "payload of %zu bytes is over the limit of "
                 "%zu", len, t->lim.max_bytes);
        eg_tree_free(t);
        return NULL;
    }

    switch (format) {
    case EG_TREE_FORMAT_JSON:
        rc = eg_tree_parse_json(t, data, len, charset);
        break;
    case EG_TREE_FORMAT_XML:
        rc = eg_tree_parse_xml(t, data, len, charset);
        break;
    default:
        rc = eg_tree_fail(t, "unknown payload format");
    }

    if (rc != 0) {
        eg_tree_free(t);
        return NULL;
    }

    return t;
}


void
eg_tree_free(eg_tree_t *t)
{
    eg_block_t  *b, *next;

    if (t == NULL) {
        return;
    }

    for (b = t->blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    free(t);
}


const edugate_node_t *
eg_tree_root(const eg_tree_t *t)
{
    return t->root;
}


int
eg_tree_format(const char *name)
{
    if (name && strcmp(name, "json") == 0) {
        return EG_TREE_FORMAT_JSON;
    }

    if (name && strcmp(name, "xml") == 0) {
        return EG_TREE_FORMAT_XML;
    }

    return 0;
}


static void *
eg_tree_alloc(eg_tree_t *t, size_t size)
{
    void        *p;
    size_t       bsize;
    eg_block_t  *b;

    size = (size + sizeof(void *) - 1) & ~(sizeof(void *) - 1);

    b = t->blocks;

    if (b == NULL || b->size - b->used < size) {
        bsize = size > EG_TREE_BLOCK ? size : EG_TREE_BLOCK;

        b = malloc(sizeof(eg_block_t) + bsize);
        if (b == NULL) {
            return NULL;
        }

        b->next = t->blocks;
        b->used = 0;
        b->size = bsize;
        t->blocks = b;
    }

    p = (unsigned char *) (b + 1) + b->used;
    b->used += size;

    memset(p, 0, size);

    return p;
}


static char *
eg_tree_strdup(eg_tree_t *t, const char *s, size_t len)
{
    char  *p;

    p = eg_tree_alloc(t, len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


static edugate_node_t *
eg_tree_node(eg_tree_t *t, int type, unsigned depth)
{
    edugate_node_t  *n;

    if (depth > t->lim.max_depth) {
        eg_tree_fail(t, "payload nested deeper than %u levels",
                     t->lim.max_depth);
        return NULL;
    }

    if (++t->nodes > t->lim.max_nodes) {
        eg_tree_fail(t, "payload has more than %zu nodes", t->lim.max_nodes);
        return NULL;
    }

    n = eg_tree_alloc(t, sizeof(edugate_node_t));
    if (n == NULL) {
        eg_tree_fail(t, "out of memory");
        return NULL;
    }

    n->type = type;
    n->name = "";
    n->ns = "";

    return n;
}


/* the first failure wins: it is the one nearest the cause */

static int
eg_tree_fail(eg_tree_t *t, const char *fmt, ...)
{
    va_list  ap;

    if (t->err[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(t->err, t->errlen, fmt, ap);
        va_end(ap);
    }

    return -1;
}


static int
eg_tree_parse_json(eg_tree_t *t, const unsigned char *data, size_t len,
    const char *charset)
{
    char          *msg;
    json_t        *v;
    size_t         n;
    json_error_t   jerr;
    unsigned char *utf8;

    utf8 = NULL;

    if (charset && strcasecmp(charset, "utf-8") != 0
        && strcasecmp(charset, "utf8") != 0)
    {
        utf8 = eg_tree_transcode(t, charset, data, len, &n);
        if (utf8 == NULL) {
            return -1;
        }

        data = utf8;
        len = n;
    }

    v = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES, &jerr);

    free(utf8);

    if (v == NULL) {
        msg = jerr.text;
        snprintf(t->err, t->errlen, "invalid JSON at line %d: %s",
                 jerr.line, msg);
        return -1;
    }

    t->root = eg_tree_from_json(t, v, "", 0);

    json_decref(v);

    return t->root ? 0 : -1;
}


static edugate_node_t *
eg_tree_from_json(eg_tree_t *t, json_t *v, const char *name, unsigned depth)
{
    int              type;
    char             buf[64];
    size_t           i, n;
    json_t          *item;
    const char      *key;
    edugate_node_t  *node;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        type = EDUGATE_NODE_OBJECT;
        break;
    case JSON_ARRAY:
        type = EDUGATE_NODE_ARRAY;
        break;
    case JSON_STRING:
        type = EDUGATE_NODE_STRING;
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        type = EDUGATE_NODE_NUMBER;
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        type = EDUGATE_NODE_BOOL;
        break;
    default:
        type = EDUGATE_NODE_NULL;
    }

    node = eg_tree_node(t, type, depth);
    if (node == NULL) {
        return NULL;
    }

    node->name = name;

    switch (type) {

    case EDUGATE_NODE_STRING:
        node->text = eg_tree_strdup(t, json_string_value(v),
                                    json_string_length(v));
        if (node->text == NULL) {
            return NULL;
        }

        /* JSON allows "\u0000"; plugins get C strings */
        if (strlen(node->text) != json_string_length(v)) {
            eg_tree_fail(t, "JSON string with a NUL character");
            return NULL;
        }

        return node;

    case EDUGATE_NODE_NUMBER:
        if (json_is_integer(v)) {
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));

        } else {
            snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
        }

        node->text = eg_tree_strdup(t, buf, strlen(buf));
        return node->text ? node : NULL;

    case EDUGATE_NODE_BOOL:
        node->text = json_is_true(v) ? "true" : "false";
        return node;

    case EDUGATE_NODE_NULL:
        return node;
    }

    n = (type == EDUGATE_NODE_OBJECT) ? json_object_size(v)
                                      : json_array_size(v);

    node->kids = eg_tree_alloc(t, (n ? n : 1) * sizeof(edugate_node_t *));
    if (node->kids == NULL) {
        eg_tree_fail(t, "out of memory");
        return NULL;
    }

    if (type == EDUGATE_NODE_ARRAY) {
        json_array_foreach(v, i, item) {
            node->kids[i] = eg_tree_from_json(t, item, "", depth + 1);
            if (node->kids[i] == NULL) {
                return NULL;
            }
        }

        node->nkids = n;
        return node;
    }

    i = 0;

    json_object_foreach(v, key, item) {
        name = eg_tree_strdup(t, key, strlen(key));
        if (name == NULL) {
            eg_tree_fail(t, "out of memory");
            return NULL;
        }

        node->kids[i] = eg_tree_from_json(t, item, name, depth + 1);
        if (node->kids[i] == NULL) {
            return NULL;
        }

        i++;
    }

    node->nkids = i;

    return node;
}


static unsigned char *
eg_tree_transcode(eg_tree_t *t, const char *charset, const unsigned char *in,
    size_t len, size_t *outlen)
{
    char           *ip, *op;
    size_t          il, ol, cap, done, rc;
    iconv_t         cd;
    unsigned char  *out, *p;

    cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t) -1) {
        eg_tree_fail(t, "unknown charset \"%s\"", charset);
        return NULL;
    }

    /*
     * Twice the input holds GBK (2 bytes become at most 3), but one byte
     * of windows-1252 or KOI8-R may become 3: the buffer grows when
     * iconv runs out of room.
     */
    cap = len * 2 + 16;
    out = NULL;

    ip = (char *) in;
    il = len;
    done = 0;

    for ( ;; ) {
        p = realloc(out, cap);
        if (p == NULL) {
            eg_tree_fail(t, "out of memory");
            goto failed;
        }

        out = p;
        op = (char *) out + done;
        ol = cap - done;

        /* the input, then the shift back to the initial state */
        rc = iconv(cd, il ? &ip : NULL, il ? &il : NULL, &op, &ol);
        if (rc != (size_t) -1 && il == 0) {
            rc = iconv(cd, NULL, NULL, &op, &ol);
        }

        done = cap - ol;

        if (rc != (size_t) -1) {
            break;
        }

        if (errno != E2BIG) {
            eg_tree_fail(t, "payload is not valid %s", charset);
            goto failed;
        }

        cap *= 2;
    }

    iconv_close(cd);

    *outlen = done;

    return out;

failed:

    iconv_close(cd);
    free(out);

    return NULL;
}


/*
 * A document type declaration is where entities and external subsets
 * come from: the parse stops as soon as one starts.
 */

static void
eg_tree_no_dtd(void *ctx, const xmlChar *name, const xmlChar *external,
    const xmlChar *system)
{
    xmlParserCtxtPtr  ctxt = ctx;

    (void) name;
    (void) external;
    (void) system;

    ctxt->_private = (void *) 1;
    xmlStopParser(ctxt);
}


static void
eg_tree_quiet(void *ctx, const char *msg, ...)
{
    (void) ctx;
    (void) msg;
}


static int
eg_tree_parse_xml(eg_tree_t *t, const unsigned char *data, size_t len,
    const char *charset)
{
    int                  opts;
    void                *saved_ctx;
    xmlDoc              *doc;
    xmlNode             *root;
    xmlError            *e;
    xmlParserCtxtPtr     ctxt;
    xmlGenericErrorFunc  saved;

    if (len > (size_t) 0x7fffffff) {
        return eg_tree_fail(t, "payload too large");
    }

    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        return eg_tree_fail(t, "out of memory");
    }

    ctxt->sax->internalSubset = eg_tree_no_dtd;
    ctxt->_private = NULL;

    /* no entity substitution, DTD loading or network: only these */
    opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
           | XML_PARSE_NOCDATA;

    /*
     * Encoding errors bypass XML_PARSE_NOERROR and go to the generic
     * handler (stderr, nginx's error log): they are kept quiet here and
     * reported once, as the parse error.  The handler is per thread.
     */
    saved = xmlGenericError;
    saved_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, eg_tree_quiet);

    doc = xmlCtxtReadMemory(ctxt, (const char *) data, (int) len, NULL,
                            charset, opts);

    xmlSetGenericErrorFunc(saved_ctx, saved);

    if (ctxt->_private != NULL) {
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return eg_tree_fail(t, "XML with a document type declaration "
                            "(DTDs and entities are refused)");
    }

    if (doc == NULL) {
        e = xmlCtxtGetLastError(ctxt);
        snprintf(t->err, t->errlen, "invalid XML at line %d: %s",
                 e ? e->line : 0,
                 e && e->message ? e->message : "parse error");
        xmlFreeParserCtxt(ctxt);

        /* libxml2 messages end with a newline */
        len = strlen(t->err);
        if (len && t->err[len - 1] == '\n') {
            t->err[len - 1] = '\0';
        }

        return -1;
    }

    xmlFreeParserCtxt(ctxt);

    root = xmlDocGetRootElement(doc);

    if (root == NULL) {
        xmlFreeDoc(doc);
        return eg_tree_fail(t, "XML without a root element");
    }

    t->root = eg_tree_from_xml(t, root, 0);

    xmlFreeDoc(doc);

    return t->root ? 0 : -1;
}


static edugate_node_t *
eg_tree_from_xml(eg_tree_t *t, xmlNode *x, unsigned depth)
{
    size_t           n, i;
    xmlChar         *v;
    xmlAttr         *a;
    xmlNode         *c;
    edugate_node_t  *node;

    node = eg_tree_node(t, EDUGATE_NODE_ELEMENT, depth);
    if (node == NULL) {
        return NULL;
    }

    node->name = eg_tree_strdup(t, (const char *) x->name,
                                strlen((const char *) x->name));
    node->ns = (x->ns && x->ns->href)
               ? eg_tree_strdup(t, (const char *) x->ns->href,
                                strlen((const char *) x->ns->href))
               : "";
    node->text = eg_tree_xml_text(t, x);

    if (node->name == NULL || node->ns == NULL || node->text == NULL) {
        eg_tree_fail(t, "out of memory");
        return NULL;
    }

    for (n = 0, a = x->properties; a; a = a->next) {
        n++;
    }

    if (n) {
        node->attrs = eg_tree_alloc(t, 2 * n * sizeof(char *));
        if (node->attrs == NULL) {
            eg_tree_fail(t, "out of memory");
            return NULL;
        }

        for (i = 0, a = x->properties; a; a = a->next, i += 2) {
            v = xmlNodeListGetString(x->doc, a->children, 1);

            node->attrs[i] = eg_tree_strdup(t, (const char *) a->name,
                                            strlen((const char *) a->name));
            node->attrs[i + 1] = eg_tree_strdup(t, v ? (const char *) v : "",
                                                v ? strlen((char *) v) : 0);
            xmlFree(v);

            if (node->attrs[i] == NULL || node->attrs[i + 1] == NULL) {
                eg_tree_fail(t, "out of memory");
                return NULL;
            }
        }

        node->nattrs = n;
    }

    for (n = 0, c = x->children; c; c = c->next) {
        n += (c->type == XML_ELEMENT_NODE);
    }

    if (n == 0) {
        return node;
    }

    node->kids = eg_tree_alloc(t, n * sizeof(edugate_node_t *));
    if (node->kids == NULL) {
        eg_tree_fail(t, "out of memory");
        return NULL;
    }

    for (i = 0, c = x->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) {
            continue;
        }

        node->kids[i] = eg_tree_from_xml(t, c, depth + 1);
        if (node->kids[i] == NULL) {
            return NULL;
        }

        i++;
    }

    node->nkids = n;

    return node;
}


/* the element's own text, trimmed: what a vendor means by a value */

static const char *
eg_tree_xml_text(eg_tree_t *t, xmlNode *x)
{
    char     *p, *s, *e;
    size_t    len;
    xmlNode  *c;

    len = 0;

    for (c = x->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE && c->content) {
            len += strlen((const char *) c->content);
        }
    }

    p = eg_tree_alloc(t, len + 1);
    if (p == NULL) {
        return NULL;
    }

    s = p;

    for (c = x->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE && c->content) {
            len = strlen((const char *) c->content);
            memcpy(s, c->content, len);
            s += len;
        }
    }

    *s = '\0';

    e = s;
    s = p;

    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }

    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'
                     || e[-1] == '\n'))
    {
        e--;
    }

    *e = '\0';

    return s;
}


int
eg_node_type(const edugate_node_t *n)
{
    return n ? n->type : EDUGATE_NODE_NULL;
}


const char *
eg_node_name(const edugate_node_t *n)
{
    return n ? n->name : "";
}


const char *
eg_node_ns(const edugate_node_t *n)
{
    return n ? n->ns : "";
}


const char *
eg_node_text(const edugate_node_t *n)
{
    return n ? n->text : NULL;
}


const char *
eg_node_attr(const edugate_node_t *n, const char *name)
{
    size_t  i;

    if (n == NULL || name == NULL) {
        return NULL;
    }

    for (i = 0; i < 2 * n->nattrs; i += 2) {
        if (strcmp(n->attrs[i], name) == 0) {
            return n->attrs[i + 1];
        }
    }

    return NULL;
}


size_t
eg_node_count(const edugate_node_t *n)
{
    return n ? n->nkids : 0;
}


const edugate_node_t *
eg_node_child(const edugate_node_t *n, size_t i)
{
    return (n && i < n->nkids) ? n->kids[i] : NULL;
}


const edugate_node_t *
eg_node_get(const edugate_node_t *n, const char *path)
{
    size_t       i, len;
    const char  *p, *end;

    if (n == NULL || path == NULL || *path == '\0') {
        return NULL;
    }

    p = path;

    while (*p) {
        end = strchr(p, '/');
        len = end ? (size_t) (end - p) : strlen(p);

        for (i = 0; i < n->nkids; i++) {
            if (strncmp(n->kids[i]->name, p, len) == 0
                && n->kids[i]->name[len] == '\0')
            {
                break;
            }
        }

        if (len == 0 || i == n->nkids) {
            return NULL;
        }

        n = n->kids[i];
        p += len + (end != NULL);
    }

    return n;
}


const char *
eg_node_text_at(const edugate_node_t *n, const char *path)
{
    char        buf[256];
    size_t      len;
    const char  *at;

    if (path == NULL) {
        return NULL;
    }

    at = strstr(path, "@");

    if (at == NULL) {
        return eg_node_text(eg_node_get(n, path));
    }

    if (at != path && at[-1] != '/') {
        return NULL;
    }

    len = at - path;

    if (len >= sizeof(buf)) {
        return NULL;
    }

    if (len) {
        memcpy(buf, path, len - 1);
        buf[len - 1] = '\0';
        n = eg_node_get(n, buf);
    }

    return eg_node_attr(n, at + 1);
}


uint64_t
eg_rng_next(uint64_t *rng)
{
    /* xorshift64*: reproducible from a seed, good enough for mutations */
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;

    return *rng * 0x2545f4914f6cdd1dULL;
}


void
eg_tree_mutate(eg_tree_t *t, uint64_t *rng)
{
    size_t           n, i, j, k;
    const char      *v;
    edugate_node_t  *node, **all, **kids;

    n = eg_tree_collect(t->root, NULL, 0, 0);

    all = malloc(n * sizeof(edugate_node_t *));
    if (all == NULL) {
        return;
    }

    eg_tree_collect(t->root, all, 0, n);

    node = all[eg_rng_next(rng) % n];
    free(all);

    k = 0;
    while (eg_tree_odd_values[k]) {
        k++;
    }

    v = eg_tree_odd_values[eg_rng_next(rng) % k];

    switch (eg_rng_next(rng) % 6) {

    case 0:
        /* another value, same type where there was text */
        if (node->text) {
            node->text = v;
        }
        break;

    case 1:
        /* a value where a structure was, or the other way round */
        if (node->nkids) {
            node->nkids = 0;
            node->type = EDUGATE_NODE_STRING;
            node->text = v;

        } else if (node->type != EDUGATE_NODE_ELEMENT) {
            node->type = (eg_rng_next(rng) & 1) ? EDUGATE_NODE_OBJECT
                                                : EDUGATE_NODE_NULL;
            node->text = NULL;
        }
        break;

    case 2:
        /* a child disappears */
        if (node->nkids) {
            i = eg_rng_next(rng) % node->nkids;
            memmove(&node->kids[i], &node->kids[i + 1],
                    (node->nkids - i - 1) * sizeof(edugate_node_t *));
            node->nkids--;
        }
        break;

    case 3:
        /* a child comes twice */
        if (node->nkids) {
            kids = eg_tree_alloc(t, (node->nkids + 1)
                                    * sizeof(edugate_node_t *));
            if (kids == NULL) {
                return;
            }

            i = eg_rng_next(rng) % node->nkids;

            for (j = 0; j < node->nkids; j++) {
                kids[j + (j > i)] = node->kids[j];
            }

            kids[i + 1] = node->kids[i];
            node->kids = kids;
            node->nkids++;
        }
        break;

    case 4:
        /* attributes lost, or given odd values */
        if (node->nattrs) {
            if (eg_rng_next(rng) & 1) {
                node->nattrs = 0;

            } else {
                node->attrs[2 * (eg_rng_next(rng) % node->nattrs) + 1] = v;
            }
        }
        break;

    default:
        /* a long value */
        if (node->text) {
            k = 1 + eg_rng_next(rng) % 8192;
            node->text = eg_tree_alloc(t, k + 1);
            if (node->text) {
                memset((char *) node->text, 'x', k);
            }
        }
    }
}


static size_t
eg_tree_collect(edugate_node_t *n, edugate_node_t **out, size_t i,
    size_t max)
{
    size_t  k;

    if (out && i < max) {
        out[i] = n;
    }

    i++;

    for (k = 0; k < n->nkids; k++) {
        i = eg_tree_collect(n->kids[k], out, i, max);
    }

    return i;
}
