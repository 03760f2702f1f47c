/*
 * Copyright (C) EduGate contributors
 *
 * The XSD layer of the standard in flight: every record the rules
 * accepted is rendered as XML (schemas/README.md: element names are the
 * JSON keys, a list's members are <item>, null is absent) and validated
 * with libxml2 against schemas/std/v1/batch.xsd, one record per
 * document so that each finding names its record.  A record the schema
 * refuses is rejected like one that breaks an E rule: rule "XSD", the
 * field, libxml2's reason.  The schema is compiled once and only read
 * here, so threads share it; each validation has its own context.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "eg_pipe_int.h"


#define EG_PIPE_XSD_ERRORS   4       /* findings kept per record */
#define EG_PIPE_XSD_MSG      240


typedef struct {
    eg_std_report_t      *rep;
    size_t                record;
    json_t               *texts;     /* keeps the report's strings */
    unsigned              n;
} eg_pipe_xsd_ctx_t;


static void eg_pipe_xsd_error(void *data, xmlErrorPtr err);
static void eg_pipe_schema_error(void *data, xmlErrorPtr err);
static void eg_pipe_xsd_quiet(void *data, xmlErrorPtr err);


void *
eg_pipe_schema_load(const char *path, char *err, size_t errlen)
{
    char                    first[EG_PIPE_XSD_MSG];
    size_t                  len;
    xmlSchemaPtr            schema;
    xmlSchemaParserCtxtPtr  pctxt;

    xmlInitParser();

    pctxt = xmlSchemaNewParserCtxt(path);
    if (pctxt == NULL) {
        snprintf(err, errlen, "cannot read \"%s\"", path);
        return NULL;
    }

    /* the first complaint goes into err, none to stderr */
    first[0] = '\0';
    xmlSchemaSetParserStructuredErrors(pctxt, eg_pipe_schema_error, first);

    schema = xmlSchemaParse(pctxt);
    xmlSchemaFreeParserCtxt(pctxt);

    if (schema == NULL) {
        len = strlen(first);

        while (len && first[len - 1] == '\n') {
            first[--len] = '\0';
        }

        snprintf(err, errlen, "\"%s\" is not a schema libxml2 compiles: %s",
                 path, first[0] ? first : "no reason given");
    }

    return schema;
}


static void
eg_pipe_schema_error(void *data, xmlErrorPtr err)
{
    char  *first = data;

    if (first[0] == '\0' && err && err->message) {
        snprintf(first, EG_PIPE_XSD_MSG, "%s", err->message);
    }
}


void
eg_pipe_schema_free(void *schema)
{
    xmlSchemaFree(schema);
}


int
eg_pipe_xsd(void *schema, json_t *records, eg_std_report_t *rep,
    json_t *texts)
{
    int                     e, rc;
    size_t                  i, idx;
    json_t                 *rec;
    xmlNsPtr                ns;
    xmlDocPtr               doc;
    xmlNodePtr              root, coll;
    const char             *name;
    eg_pipe_xsd_ctx_t       ctx;
    xmlSchemaValidCtxtPtr   vctxt;

    vctxt = xmlSchemaNewValidCtxt(schema);
    if (vctxt == NULL) {
        return -1;
    }

    ctx.rep = rep;
    ctx.texts = texts;

    xmlSchemaSetValidStructuredErrors(vctxt, eg_pipe_xsd_error, &ctx);

    idx = 0;
    rc = 0;

    for (e = 0; e < EG_STD_NENTITIES && rc == 0; e++) {
        name = eg_std_entity_collection(e);

        json_array_foreach(json_object_get(records, name), i, rec) {
            if (!json_is_object(rec)) {
                continue;
            }

            ctx.record = idx++;
            ctx.n = 0;

            if (eg_std_report_rejected(rep, ctx.record)) {
                continue;
            }

            doc = xmlNewDoc((const xmlChar *) "1.0");
            root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *) "batch",
                                       NULL)
                       : NULL;

            if (root == NULL) {
                xmlFreeDoc(doc);
                rc = -1;
                break;
            }

            xmlDocSetRootElement(doc, root);
            ns = xmlNewNs(root, (const xmlChar *) EG_PIPE_XSD_NS, NULL);
            xmlSetNs(root, ns);

            coll = xmlNewChild(root, ns, (const xmlChar *) name, NULL);

            if (ns == NULL || coll == NULL
                || eg_pipe_xml(coll, ns, "item", rec) == NULL)
            {
                xmlFreeDoc(doc);
                rc = -1;
                break;
            }

            /* findings arrive through eg_pipe_xsd_error() */
            (void) xmlSchemaValidateDoc(vctxt, doc);

            xmlFreeDoc(doc);
        }
    }

    xmlSchemaFreeValidCtxt(vctxt);

    return (rc != 0 || rep->nomem) ? -1 : 0;
}


/* one record alone: 1 when the schema takes it, 0 if not, -1 on error */

int
eg_pipe_xsd_record(void *schema, const char *coll, json_t *rec)
{
    int                     rc;
    xmlNsPtr                ns;
    xmlDocPtr               doc;
    xmlNodePtr              root, list;
    xmlSchemaValidCtxtPtr   vctxt;

    doc = xmlNewDoc((const xmlChar *) "1.0");
    root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *) "batch", NULL)
               : NULL;

    if (root == NULL) {
        xmlFreeDoc(doc);
        return -1;
    }

    xmlDocSetRootElement(doc, root);
    ns = xmlNewNs(root, (const xmlChar *) EG_PIPE_XSD_NS, NULL);
    xmlSetNs(root, ns);

    list = xmlNewChild(root, ns, (const xmlChar *) coll, NULL);
    vctxt = xmlSchemaNewValidCtxt(schema);

    if (ns == NULL || list == NULL || vctxt == NULL
        || eg_pipe_xml(list, ns, "item", rec) == NULL)
    {
        xmlSchemaFreeValidCtxt(vctxt);
        xmlFreeDoc(doc);
        return -1;
    }

    xmlSchemaSetValidStructuredErrors(vctxt, eg_pipe_xsd_quiet, NULL);

    rc = xmlSchemaValidateDoc(vctxt, doc);

    xmlSchemaFreeValidCtxt(vctxt);
    xmlFreeDoc(doc);

    return rc == 0 ? 1 : (rc > 0 ? 0 : -1);
}


static void
eg_pipe_xsd_quiet(void *data, xmlErrorPtr err)
{
    (void) data;
    (void) err;
}


xmlNodePtr
eg_pipe_xml(xmlNodePtr parent, xmlNsPtr ns, const char *name, json_t *v)
{
    char         num[64];
    size_t       i;
    json_t      *item;
    xmlNodePtr   node;
    const char  *key;

    node = xmlNewChild(parent, ns, (const xmlChar *) name, NULL);
    if (node == NULL) {
        return NULL;
    }

    switch (json_typeof(v)) {

    case JSON_OBJECT:
        json_object_foreach(v, key, item) {
            if (!json_is_null(item)
                && eg_pipe_xml(node, ns, key, item) == NULL)
            {
                return NULL;
            }
        }

        break;

    case JSON_ARRAY:
        json_array_foreach(v, i, item) {
            if (eg_pipe_xml(node, ns, "item", item) == NULL) {
                return NULL;
            }
        }

        break;

    case JSON_STRING:
        xmlNodeAddContentLen(node, (const xmlChar *) json_string_value(v),
                             (int) json_string_length(v));
        break;

    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        xmlNodeAddContent(node, (const xmlChar *) num);
        break;

    case JSON_REAL:
        snprintf(num, sizeof(num), "%.15g", json_real_value(v));
        xmlNodeAddContent(node, (const xmlChar *) num);
        break;

    case JSON_TRUE:
    case JSON_FALSE:
        xmlNodeAddContent(node, (const xmlChar *) (json_is_true(v)
                                                   ? "true" : "false"));
        break;

    default:
        break;
    }

    return node;
}


/*
 * The field is the element the finding is about, or the record itself
 * (a missing field: libxml2 names what it expected).
 */

static void
eg_pipe_xsd_error(void *data, xmlErrorPtr err)
{
    eg_pipe_xsd_ctx_t *ctx = data;

    char         msg[EG_PIPE_XSD_MSG];
    size_t       len;
    json_t      *m;
    xmlNodePtr   node;
    const char  *field;

    if (err == NULL || ctx->n++ >= EG_PIPE_XSD_ERRORS) {
        return;
    }

    node = err->node;
    field = NULL;

    /* item (the record) > field > ... : the record's own field */
    while (node && node->type == XML_ELEMENT_NODE && node->parent
           && node->parent->type == XML_ELEMENT_NODE
           && node->parent->parent
           && node->parent->parent->type == XML_ELEMENT_NODE
           && node->parent->parent->parent
           && node->parent->parent->parent->type == XML_ELEMENT_NODE)
    {
        field = (const char *) node->name;
        node = node->parent;
    }

    snprintf(msg, sizeof(msg), "%s", err->message ? err->message
                                                  : "invalid");
    len = strlen(msg);

    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
        msg[--len] = '\0';
    }

    /* the report keeps a pointer to the message, texts keeps it alive */
    m = json_string(msg);

    if (m == NULL || json_array_append_new(ctx->texts, m) != 0) {
        ctx->rep->nomem = 1;
        return;
    }

    eg_std_report_add(ctx->rep, ctx->record, field ? field : "record", "XSD",
                      EG_STD_ERROR, NULL, NULL,
                      "不符合数据标准的结构与类型（XSD）",
                      json_string_value(m));
}
