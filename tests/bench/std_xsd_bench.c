/*
 * Copyright (C) EduGate contributors
 *
 * std_xsd_bench: figure (b) of the data-standard part of `make bench`,
 * libxml2 parsing standard XML and validating it against
 * schemas/std/v1/batch.xsd in a tight loop: what the XSD layer alone
 * costs, with nothing else around it.
 *
 *   std_xsd_bench batch.xsd docs.xml seconds
 *
 * docs.xml holds one XML document a line (a batch of one record, or of
 * many).  Each pass parses every line into a tree and validates it; the
 * passes repeat until the seconds are over.  Records are the children of
 * the collections (<batch><students><item/>...), counted once at start.
 * Every document must validate: one that does not makes the run fail,
 * as a figure for records the schema refuses would mean nothing.
 *
 * Prints "records=N seconds=S per_second=R".
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>


typedef struct {
    const char  *text;
    int          len;
    size_t       records;
} doc_t;


static char *read_file(const char *path, size_t *len);
static size_t count_records(xmlDocPtr doc);
static double now(void);
static void quiet(void *ctx, const char *msg, ...);


int
main(int argc, char **argv)
{
    int                     parse;
    char                   *text, *p, *end, *nl;
    double                  seconds, start, took;
    size_t                  len, ndocs, i, records, per_pass;
    doc_t                  *docs;
    xmlDocPtr               doc;
    xmlSchemaPtr            schema;
    xmlSchemaParserCtxtPtr  pctxt;
    xmlSchemaValidCtxtPtr   vctxt;

    if (argc != 4) {
        fprintf(stderr, "usage: %s batch.xsd docs.xml seconds\n", argv[0]);
        return 2;
    }

    seconds = strtod(argv[3], NULL);
    if (seconds <= 0) {
        fprintf(stderr, "std_xsd_bench: bad seconds \"%s\"\n", argv[3]);
        return 2;
    }

    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, quiet);

    pctxt = xmlSchemaNewParserCtxt(argv[1]);
    schema = pctxt ? xmlSchemaParse(pctxt) : NULL;
    xmlSchemaFreeParserCtxt(pctxt);

    if (schema == NULL) {
        fprintf(stderr, "std_xsd_bench: %s does not compile\n", argv[1]);
        return 1;
    }

    vctxt = xmlSchemaNewValidCtxt(schema);
    text = read_file(argv[2], &len);

    if (vctxt == NULL || text == NULL) {
        return 1;
    }

    ndocs = 0;
    for (p = text; p < text + len; p++) {
        ndocs += (*p == '\n');
    }

    docs = calloc(ndocs + 1, sizeof(doc_t));
    if (docs == NULL) {
        fprintf(stderr, "std_xsd_bench: out of memory\n");
        return 1;
    }

    /* the network and DTDs stay off, as in the gateway */
    parse = XML_PARSE_NONET;

    ndocs = 0;
    per_pass = 0;
    end = text + len;

    for (p = text; p < end; p = nl + 1) {
        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            nl = end;
        }

        if (nl == p) {
            continue;
        }

        docs[ndocs].text = p;
        docs[ndocs].len = (int) (nl - p);

        doc = xmlReadMemory(p, (int) (nl - p), NULL, "UTF-8", parse);
        if (doc == NULL) {
            fprintf(stderr, "std_xsd_bench: line %zu is not XML\n",
                    ndocs + 1);
            return 1;
        }

        docs[ndocs].records = count_records(doc);
        per_pass += docs[ndocs].records;
        xmlFreeDoc(doc);
        ndocs++;
    }

    if (per_pass == 0) {
        fprintf(stderr, "std_xsd_bench: no record in %s\n", argv[2]);
        return 1;
    }

    records = 0;
    start = now();

    do {
        for (i = 0; i < ndocs; i++) {
            doc = xmlReadMemory(docs[i].text, docs[i].len, NULL, "UTF-8",
                                parse);

            if (doc == NULL || xmlSchemaValidateDoc(vctxt, doc) != 0) {
                fprintf(stderr, "std_xsd_bench: line %zu does not "
                        "validate against %s\n", i + 1, argv[1]);
                return 1;
            }

            xmlFreeDoc(doc);
            records += docs[i].records;
        }

        took = now() - start;

    } while (took < seconds);

    printf("records=%zu seconds=%.3f per_second=%.0f\n", records, took,
           records / took);

    xmlSchemaFreeValidCtxt(vctxt);
    xmlSchemaFree(schema);
    free(docs);
    free(text);
    xmlCleanupParser();

    return 0;
}


static char *
read_file(const char *path, size_t *len)
{
    long   size;
    char  *buf;
    FILE  *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "std_xsd_bench: %s: %s\n", path, strerror(errno));
        return NULL;
    }

    buf = NULL;

    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0
        && fseek(f, 0, SEEK_SET) == 0)
    {
        buf = malloc(size);

        if (buf && fread(buf, 1, size, f) == (size_t) size) {
            *len = size;

        } else {
            free(buf);
            buf = NULL;
        }
    }

    fclose(f);

    if (buf == NULL) {
        fprintf(stderr, "std_xsd_bench: cannot read %s\n", path);
    }

    return buf;
}


static size_t
count_records(xmlDocPtr doc)
{
    size_t      n;
    xmlNodePtr  coll, item;

    n = 0;

    for (coll = xmlDocGetRootElement(doc)->children; coll;
         coll = coll->next)
    {
        for (item = coll->children; item; item = item->next) {
            n += (item->type == XML_ELEMENT_NODE);
        }
    }

    return n;
}


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
quiet(void *ctx, const char *msg, ...)
{
    (void) ctx;
    (void) msg;
}
