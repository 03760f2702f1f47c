/*
 * Copyright (C) EduGate contributors
 */


#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "eg_std.h"
#include "eg_std_xml.h"


#define EG_XML_MAX  (64 * 1024 * 1024)


static json_t *eg_xml_node(xmlNodePtr node, char *err, size_t errlen);
static json_t *eg_xml_text(xmlNodePtr node, char *err, size_t errlen);
static int eg_xml_is(xmlNodePtr node, const char *name);
static void eg_xml_quiet(void *ctx, const char *msg, ...);


json_t *
eg_std_xml_read(const char *buf, size_t len, char *err, size_t errlen)
{
    int                  e;
    void                *saved_ctx;
    json_t              *rec, *batch;
    xmlDocPtr            doc;
    xmlNodePtr           root;
    xmlErrorPtr          xe;
    xmlParserCtxtPtr     ctxt;
    xmlGenericErrorFunc  saved;

    err[0] = '\0';

    if (len > EG_XML_MAX) {
        snprintf(err, errlen, "document too large");
        return NULL;
    }

    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    /*
     * Encoding errors bypass XML_PARSE_NOERROR and go to the generic
     * handler (stderr, or nginx's error log): they are kept quiet and
     * reported once, as the parse error (found by fuzz_std_xml).
     */
    saved = xmlGenericError;
    saved_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, eg_xml_quiet);

    /* no entity substitution, no DTD loading, no network */
    doc = xmlCtxtReadMemory(ctxt, buf, (int) len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR
                            | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);

    xmlSetGenericErrorFunc(saved_ctx, saved);

    if (doc == NULL) {
        xe = xmlCtxtGetLastError(ctxt);
        snprintf(err, errlen, "not well-formed XML: line %d: %s",
                 xe ? xe->line : 0,
                 (xe && xe->message) ? xe->message : "parse error");
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }

    xmlFreeParserCtxt(ctxt);
    batch = NULL;
    root = xmlDocGetRootElement(doc);

    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        snprintf(err, errlen, "a DTD is not allowed");

    } else if (root == NULL) {
        snprintf(err, errlen, "no root element");

    } else if (eg_xml_is(root, "batch")) {
        batch = eg_xml_node(root, err, errlen);
        if (batch != NULL && !json_is_object(batch)) {
            json_decref(batch);
            batch = json_object();
        }

    } else {
        for (e = 0; e < EG_STD_NENTITIES; e++) {
            if (eg_xml_is(root, eg_std_entity_name(e))) {
                break;
            }
        }

        if (e == EG_STD_NENTITIES) {
            snprintf(err, errlen, "unknown root element <%s>",
                     (const char *) root->name);

        } else {
            rec = eg_xml_node(root, err, errlen);
            if (rec != NULL) {
                batch = json_pack("{s:[o]}", eg_std_entity_collection(e),
                                  rec);
            }
        }
    }

    xmlFreeDoc(doc);

    if (batch == NULL && err[0] == '\0') {
        snprintf(err, errlen, "out of memory");
    }

    return batch;
}


json_t *
eg_std_xml_read_file(const char *path, char *err, size_t errlen)
{
    long     size;
    FILE    *f;
    char    *buf;
    json_t  *batch;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || size > EG_XML_MAX || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        snprintf(err, errlen, "%s: cannot read or too big", path);
        return NULL;
    }

    buf = malloc(size ? (size_t) size : 1);
    if (buf == NULL || fread(buf, 1, (size_t) size, f) != (size_t) size) {
        free(buf);
        fclose(f);
        snprintf(err, errlen, "%s: cannot read", path);
        return NULL;
    }

    fclose(f);

    batch = eg_std_xml_read(buf, (size_t) size, err, errlen);
    free(buf);

    return batch;
}


static json_t *
eg_xml_node(xmlNodePtr node, char *err, size_t errlen)
{
    int          items, others;
    json_t      *out, *v;
    xmlNodePtr   c;
    const char  *key;

    items = 0;
    others = 0;

    for (c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            if (eg_xml_is(c, "item")) {
                items++;
            } else {
                others++;
            }

        } else if (c->type == XML_ENTITY_REF_NODE) {
            snprintf(err, errlen, "line %d: entity references are not "
                     "allowed", xmlGetLineNo(c) > 0 ? (int) xmlGetLineNo(c)
                                                    : 0);
            return NULL;
        }
    }

    if (items == 0 && others == 0) {
        return eg_xml_text(node, err, errlen);
    }

    if (items > 0 && others > 0) {
        snprintf(err, errlen, "<%s>: <item> mixed with fields",
                 (const char *) node->name);
        return NULL;
    }

    out = items ? json_array() : json_object();
    if (out == NULL) {
        return NULL;
    }

    for (c = node->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) {
            continue;
        }

        v = eg_xml_node(c, err, errlen);
        if (v == NULL) {
            json_decref(out);
            return NULL;
        }

        if (items) {
            if (json_array_append_new(out, v) != 0) {
                json_decref(out);
                return NULL;
            }
            continue;
        }

        key = (const char *) c->name;

        if (json_object_get(out, key) != NULL) {
            snprintf(err, errlen, "<%s>: <%s> given twice",
                     (const char *) node->name, key);
            json_decref(v);
            json_decref(out);
            return NULL;
        }

        if (json_object_set_new(out, key, v) != 0) {
            json_decref(out);
            return NULL;
        }
    }

    return out;
}


static json_t *
eg_xml_text(xmlNodePtr node, char *err, size_t errlen)
{
    xmlChar  *s;
    json_t   *j;

    s = xmlNodeGetContent(node);
    if (s == NULL) {
        return json_string("");
    }

    j = json_string((const char *) s);
    xmlFree(s);

    if (j == NULL) {
        snprintf(err, errlen, "<%s>: text is not valid UTF-8",
                 (const char *) node->name);
    }

    return j;
}


static int
eg_xml_is(xmlNodePtr node, const char *name)
{
    return node->type == XML_ELEMENT_NODE
           && strcmp((const char *) node->name, name) == 0;
}


static void
eg_xml_quiet(void *ctx, const char *msg, ...)
{
    (void) ctx;
    (void) msg;
}
