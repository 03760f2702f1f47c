/*
 * Copyright (C) EduGate contributors
 *
 * The standard pull, nginx-free: the client's query as plugin filters,
 * content negotiation, and the answer.  The answer carries only the
 * pulled collection (a pull of students standardizes the whole vendor
 * answer, so that its references resolve, and returns the students), and
 * the report of those records in the masked format of a push report.
 * A page of the collection is answered (eg_pull_page.c); the report is
 * of the whole collection, so that a client reading one page sees what
 * the pull found.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "eg_oneroster.h"
#include "eg_pipe_int.h"
#include "eg_pull.h"


static int eg_pull_name_char(unsigned char c);
static double eg_pull_qvalue(const char *p, const char *end);
static int eg_pull_hex(int c);
static int eg_pull_utf8_ok(const unsigned char *s, size_t n);
static json_t *eg_pull_report(const eg_pull_conf_t *conf,
    eg_pipe_result_t *res, size_t returned, size_t omitted);
static char *eg_pull_json(const eg_pull_conf_t *conf, json_t *head,
    json_t *list, json_t *report, size_t *len);
static char *eg_pull_xml(const eg_pull_conf_t *conf, eg_pipe_result_t *res,
    json_t *list, json_t *report, size_t *len);


int
eg_pull_query_parse(eg_pull_query_t *q, const char *args, size_t len,
    char *err, size_t errlen)
{
    int          hi, lo;
    char        *out, *name, *value;
    size_t       i, j, n, filters;
    const char  *p, *end, *amp, *eq;

    q->n = 0;
    out = q->buf;
    filters = 0;

    for (p = args, end = args + len; p < end; p = amp + 1) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            continue;
        }

        eq = memchr(p, '=', (size_t) (amp - p));
        n = (size_t) ((eq ? eq : amp) - p);

        /* a page's links add limit and offset to the 16 filters */
        if (!((n == 5 && memcmp(p, "limit", 5) == 0)
              || (n == 6 && memcmp(p, "offset", 6) == 0)))
        {
            filters++;
        }

        if (filters > EG_PULL_PARAMS_MAX || q->n == EG_PULL_ARGS_MAX) {
            snprintf(err, errlen, "more than %d filters", EG_PULL_PARAMS_MAX);
            return -1;
        }

        for (i = 0; i < n && i <= EG_PULL_NAME_MAX; i++) {
            if (!eg_pull_name_char((unsigned char) p[i])) {
                break;
            }
        }

        if (n == 0 || n > EG_PULL_NAME_MAX || i < n) {
            snprintf(err, errlen, "a filter name must be 1 to %d of "
                     "[A-Za-z0-9_.]", EG_PULL_NAME_MAX);
            return -1;
        }

        name = out;
        memcpy(out, p, n);
        out[n] = '\0';
        out += n + 1;

        value = out;
        j = 0;

        for (p = eq ? eq + 1 : amp; p < amp; p++) {
            if (j == EG_PULL_VALUE_MAX) {
                snprintf(err, errlen, "filter \"%s\" is over %d bytes", name,
                         EG_PULL_VALUE_MAX);
                return -1;
            }

            if (*p == '%') {
                hi = (amp - p > 2) ? eg_pull_hex(p[1]) : -1;
                lo = (amp - p > 2) ? eg_pull_hex(p[2]) : -1;

                if (hi < 0 || lo < 0) {
                    snprintf(err, errlen, "filter \"%s\" has a malformed "
                             "percent escape", name);
                    return -1;
                }

                value[j++] = (char) (hi * 16 + lo);
                p += 2;

            } else {
                value[j++] = (*p == '+') ? ' ' : *p;
            }
        }

        value[j] = '\0';
        out += j + 1;

        for (i = 0; i < j; i++) {
            if ((unsigned char) value[i] < 0x20 || value[i] == 0x7f) {
                snprintf(err, errlen, "filter \"%s\" holds a control "
                         "character", name);
                return -1;
            }
        }

        if (!eg_pull_utf8_ok((const unsigned char *) value, j)) {
            snprintf(err, errlen, "filter \"%s\" is not UTF-8", name);
            return -1;
        }

        for (i = 0; i < q->n; i++) {
            if (strcmp(q->params[i].name, name) == 0) {
                snprintf(err, errlen, "filter \"%s\" is given twice", name);
                return -1;
            }
        }

        q->params[q->n].name = name;
        q->params[q->n].value = value;
        q->n++;

        if (amp == end) {
            break;
        }
    }

    return 0;
}


static int
eg_pull_name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '_' || c == '.';
}


static int
eg_pull_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


static int
eg_pull_utf8_ok(const unsigned char *s, size_t n)
{
    size_t    i, k, more;
    unsigned  cp;

    for (i = 0; i < n; i += more + 1) {
        if (s[i] < 0x80) {
            more = 0;
            continue;
        }

        if (s[i] >= 0xc2 && s[i] <= 0xdf) {
            more = 1;
            cp = s[i] & 0x1f;

        } else if (s[i] >= 0xe0 && s[i] <= 0xef) {
            more = 2;
            cp = s[i] & 0x0f;

        } else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
            more = 3;
            cp = s[i] & 0x07;

        } else {
            return 0;
        }

        if (i + more >= n) {
            return 0;
        }

        for (k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Media ranges in order, with their q; the best q wins, the first of
 * equals.  Parameters other than q are ignored.
 */

int
eg_pull_accept(const char *accept, size_t len)
{
    int          best, kind;
    double       q, best_q;
    size_t       n;
    const char  *p, *end, *comma, *semi, *t;

    best = 0;
    best_q = 0.0;

    for (p = accept, end = accept + len; p < end; p = comma + 1) {
        comma = memchr(p, ',', (size_t) (end - p));
        if (comma == NULL) {
            comma = end;
        }

        while (p < comma && (*p == ' ' || *p == '\t')) {
            p++;
        }

        semi = memchr(p, ';', (size_t) (comma - p));
        n = (size_t) ((semi ? semi : comma) - p);

        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
            n--;
        }

        q = 1.0;

        for (t = semi; t && t < comma; t++) {
            if ((size_t) (comma - t) > 2 && (t[0] == 'q' || t[0] == 'Q')
                && t[1] == '=' && (t == semi || t[-1] == ';'
                                   || t[-1] == ' '))
            {
                q = eg_pull_qvalue(t + 2, comma);
                break;
            }
        }

        kind = 0;

        if ((n == 16 && strncasecmp(p, "application/json", 16) == 0)
            || (n == 3 && strncmp(p, "*/*", 3) == 0)
            || (n == 13 && strncasecmp(p, "application/*", 13) == 0))
        {
            kind = EG_PULL_JSON;

        } else if ((n == 15 && strncasecmp(p, "application/xml", 15) == 0)
                   || (n == 8 && strncasecmp(p, "text/xml", 8) == 0)
                   || (n == 6 && strncasecmp(p, "text/*", 6) == 0))
        {
            kind = EG_PULL_XML;
        }

        if (kind && q > best_q) {
            best = kind;
            best_q = q;
        }

        if (comma == end) {
            break;
        }
    }

    for (p = accept; p < accept + len; p++) {
        if (*p != ' ' && *p != '\t') {
            return best;
        }
    }

    return EG_PULL_JSON;
}


/* RFC 9110 qvalue: "0" or "1", up to three decimals; junk counts as 0 */

static double
eg_pull_qvalue(const char *p, const char *end)
{
    double  q, unit;

    if (p >= end || (*p != '0' && *p != '1')) {
        return 0.0;
    }

    q = *p++ - '0';

    if (p < end && *p == '.') {
        for (p++, unit = 0.1; p < end && *p >= '0' && *p <= '9'
                              && unit > 0.0001; p++, unit /= 10)
        {
            q += (*p - '0') * unit;
        }
    }

    return q > 1.0 ? 1.0 : q;
}


size_t
eg_pull_escape(char *out, const char *in, size_t len)
{
    size_t         i, n;
    unsigned char  c;

    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0, n = 0; i < len; i++) {
        c = (unsigned char) in[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            out[n++] = (char) c;

        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 0x0f];
        }
    }

    out[n] = '\0';

    return n;
}


char *
eg_pull_render(const eg_pull_conf_t *conf, eg_pipe_result_t *res,
    size_t *len, size_t *total)
{
    char    *text;
    size_t   i, omitted, start, end;
    json_t  *list, *kept, *page, *rec, *report;
    int      valid;

    list = json_object_get(res->forward, conf->coll);
    kept = json_array();

    if (kept == NULL) {
        return NULL;
    }

    omitted = 0;

    /* an XML answer must meet the schema: observe may hold what fails */
    json_array_foreach(list, i, rec) {
        valid = 1;

        if (conf->format == EG_PULL_XML && conf->schema) {
            valid = eg_pipe_xsd_record(conf->schema, conf->coll, rec);

            if (valid < 0) {
                json_decref(kept);
                return NULL;
            }
        }

        if (!valid) {
            omitted++;
            continue;
        }

        if (json_array_append(kept, rec) != 0) {
            json_decref(kept);
            return NULL;
        }
    }

    *total = json_array_size(kept);

    /* the page, in the vendor's order; the report is of every page */
    page = json_array();
    report = eg_pull_report(conf, res, *total, omitted);

    if (page == NULL || report == NULL) {
        goto failed;
    }

    start = (conf->page.offset < *total) ? conf->page.offset : *total;
    end = *total;

    if (conf->page.limit && conf->page.limit < end - start) {
        end = start + conf->page.limit;
    }

    for (i = start; i < end; i++) {
        if (json_array_append(page, json_array_get(kept, i)) != 0) {
            goto failed;
        }
    }

    text = (conf->format == EG_PULL_XML)
           ? eg_pull_xml(conf, res, page, report, len)
           : eg_pull_json(conf, res->forward, page, report, len);

    json_decref(kept);
    json_decref(page);
    json_decref(report);

    return text;

failed:

    json_decref(kept);
    json_decref(page);
    json_decref(report);

    return NULL;
}


/* the push report's records and violations of the pulled collection */

static json_t *
eg_pull_report(const eg_pull_conf_t *conf, eg_pipe_result_t *res,
    size_t returned, size_t omitted)
{
    int                e;
    char              *text, sev[2];
    size_t             i, records, rejected, flagged, nv, by[3];
    json_t            *full, *out, *v, *recs, *viols;
    const char        *name, *s;
    json_error_t       err;
    eg_std_record_t   *r;

    e = eg_std_entity_from_collection(conf->coll);
    name = (e >= 0) ? eg_std_entity_name(e) : conf->coll;

    text = eg_std_report_json(res->report);
    if (text == NULL) {
        return NULL;
    }

    full = json_loads(text, 0, &err);
    free(text);

    if (full == NULL) {
        return NULL;
    }

    recs = json_array();
    viols = json_array();
    out = json_pack("{s:O, s:s, s:s, s:s}",
                    "batchId", json_object_get(full, "batchId"),
                    "vendor", conf->vendor,
                    "entity", conf->coll,
                    "mode", conf->observe ? "observe" : "enforce");

    if (recs == NULL || viols == NULL || out == NULL) {
        goto failed;
    }

    json_array_foreach(json_object_get(full, "records"), i, v) {
        s = json_string_value(json_object_get(v, "entity"));

        if (s && strcmp(s, name) == 0 && json_array_append(recs, v) != 0) {
            goto failed;
        }
    }

    by[0] = by[1] = by[2] = 0;
    nv = 0;

    json_array_foreach(json_object_get(full, "violations"), i, v) {
        s = json_string_value(json_object_get(v, "entity"));

        if (s == NULL || strcmp(s, name) != 0) {
            continue;
        }

        if (json_array_append(viols, v) != 0) {
            goto failed;
        }

        nv++;
        s = json_string_value(json_object_get(v, "severity"));
        sev[0] = s ? s[0] : 'I';
        by[sev[0] == 'E' ? 0 : sev[0] == 'W' ? 1 : 2]++;
    }

    records = 0;
    rejected = 0;
    flagged = 0;

    for (i = 0; i < res->report->nr; i++) {
        r = &res->report->r[i];

        if ((int) r->entity != e) {
            continue;
        }

        records++;
        rejected += (r->errors > 0);
        flagged += (r->errors + r->warnings + r->infos > 0);
    }

    if (json_object_set_new(out, "totals",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                      "records", (json_int_t) records,
                      "accepted", (json_int_t) (records - rejected),
                      "rejected", (json_int_t) rejected,
                      "flagged", (json_int_t) flagged,
                      "violations", (json_int_t) nv,
                      "E", (json_int_t) by[0],
                      "W", (json_int_t) by[1],
                      "I", (json_int_t) by[2],
                      "returned", (json_int_t) returned,
                      "omitted", (json_int_t) omitted))
        != 0
        || json_object_set(out, "records", recs) != 0
        || json_object_set(out, "violations", viols) != 0)
    {
        goto failed;
    }

    json_decref(recs);
    json_decref(viols);
    json_decref(full);

    return out;

failed:

    json_decref(recs);
    json_decref(viols);
    json_decref(out);
    json_decref(full);

    return NULL;
}


static char *
eg_pull_json(const eg_pull_conf_t *conf, json_t *head, json_t *list,
    json_t *report, size_t *len)
{
    char        *text;
    size_t       i;
    json_t      *root, *out, *rec, *o, *stamp;
    const char  *key;

    key = eg_oneroster_key(conf->coll);
    root = json_object();
    out = json_array();

    if (key == NULL || root == NULL || out == NULL
        || json_object_set_new(root, key, out) != 0)
    {
        json_decref(root);
        return NULL;
    }

    stamp = json_object_get(head, "generatedAt");

    json_array_foreach(list, i, rec) {
        o = eg_oneroster_record(conf->coll, rec);

        if (o == NULL || json_array_append_new(out, o) != 0) {
            json_decref(root);
            return NULL;
        }

        /* OneRoster wants one: the records are as of this answer */
        if (json_object_get(o, "dateLastModified") == NULL && stamp
            && json_object_set(o, "dateLastModified", stamp) != 0)
        {
            json_decref(root);
            return NULL;
        }
    }

    if (json_object_set_new(root, "metadata",
                            json_pack("{s:O}", "cn", report))
        != 0)
    {
        json_decref(root);
        return NULL;
    }

    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);

    if (text) {
        *len = strlen(text);
    }

    return text;
}


static char *
eg_pull_xml(const eg_pull_conf_t *conf, eg_pipe_result_t *res,
    json_t *list, json_t *report, size_t *len)
{
    char        *text;
    size_t       i;
    json_t      *head;
    xmlNsPtr     ns;
    xmlDocPtr    doc;
    xmlChar     *mem;
    xmlNodePtr   root;
    const char  *key;
    int          n;

    static const char  *heads[] = {
        "batchId", "vendorId", "tenant", "feed", "generatedAt", NULL
    };

    doc = xmlNewDoc((const xmlChar *) "1.0");
    root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *) "batch", NULL)
               : NULL;

    if (root == NULL) {
        xmlFreeDoc(doc);
        return NULL;
    }

    xmlDocSetRootElement(doc, root);
    ns = xmlNewNs(root, (const xmlChar *) EG_PIPE_XSD_NS, NULL);
    xmlSetNs(root, ns);

    for (i = 0; heads[i]; i++) {
        key = heads[i];
        head = json_object_get(res->forward, key);

        if (head && eg_pipe_xml(root, ns, key, head) == NULL) {
            xmlFreeDoc(doc);
            return NULL;
        }
    }

    if (ns == NULL || eg_pipe_xml(root, ns, conf->coll, list) == NULL
        || eg_pipe_xml(root, ns, "report", report) == NULL)
    {
        xmlFreeDoc(doc);
        return NULL;
    }

    mem = NULL;
    n = 0;
    xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
    xmlFreeDoc(doc);

    if (mem == NULL) {
        return NULL;
    }

    text = malloc((size_t) n + 1);

    if (text) {
        memcpy(text, mem, (size_t) n);
        text[n] = '\0';
        *len = (size_t) n;
    }

    xmlFree(mem);

    return text;
}
