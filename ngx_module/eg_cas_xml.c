/*
 * Copyright (C) EduGate contributors
 *
 * The documents the CAS server writes: validation and proxy answers
 * (CAS 3.0 appendix A) and the single-logout request (appendix C).  They
 * are built with libxml2's tree API, so every value is escaped as text.
 */


#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "eg_cas.h"
#include "eg_text.h"


#define EG_CAS_SAMLP_NS  "urn:oasis:names:tc:SAML:2.0:protocol"
#define EG_CAS_SAML_NS   "urn:oasis:names:tc:SAML:2.0:assertion"


static int eg_cas_text_ok(const char *s);
static int eg_cas_xml_date(long long t, char *buf, size_t size);
static xmlNodePtr eg_cas_xml_doc(xmlDocPtr *doc, xmlNsPtr *ns);
static int eg_cas_xml_attributes(xmlNodePtr ok, xmlNsPtr ns,
    const eg_cas_record_t *rec, unsigned attrs);
static int eg_cas_xml_attr(xmlNodePtr parent, xmlNsPtr ns,
    const char *name, const char *value, char sep);
static int eg_cas_xml_fail(const char *element, const char *code,
    const char *text, unsigned char **out, size_t *len);
static int eg_cas_xml_dump(xmlDocPtr doc, int format, unsigned char **out,
    size_t *len);


static int
eg_cas_text_ok(const char *s)
{
    size_t  n;

    n = strlen(s);

    return !eg_has_ctl((const unsigned char *) s, n)
           && eg_utf8_valid((const unsigned char *) s, n);
}


/* xs:dateTime in UTC */

static int
eg_cas_xml_date(long long t, char *buf, size_t size)
{
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;

    if (gmtime_r(&tt, &tm) == NULL
        || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        return -1;
    }

    return 0;
}


static xmlNodePtr
eg_cas_xml_doc(xmlDocPtr *doc, xmlNsPtr *ns)
{
    xmlNodePtr  root;

    *doc = xmlNewDoc(BAD_CAST "1.0");
    if (*doc == NULL) {
        return NULL;
    }

    root = xmlNewNode(NULL, BAD_CAST "serviceResponse");
    if (root == NULL) {
        xmlFreeDoc(*doc);
        return NULL;
    }

    xmlDocSetRootElement(*doc, root);

    *ns = xmlNewNs(root, BAD_CAST EG_CAS_NAMESPACE, BAD_CAST "cas");
    if (*ns == NULL) {
        xmlFreeDoc(*doc);
        return NULL;
    }

    xmlSetNs(root, *ns);

    return root;
}


/*
 * One element per value: a multi-valued attribute (sep != '\0') repeats
 * its element, as CAS clients expect.  The text node escapes the value.
 */

static int
eg_cas_xml_attr(xmlNodePtr parent, xmlNsPtr ns, const char *name,
    const char *value, char sep)
{
    char        buf[EG_ID_PATH_MAX + 1];
    size_t      len;
    const char  *p, *end;

    p = value;

    while (*p != '\0') {
        end = sep ? strchr(p, sep) : NULL;
        len = end ? (size_t) (end - p) : strlen(p);

        if (len >= sizeof(buf)) {
            return -1;
        }

        memcpy(buf, p, len);
        buf[len] = '\0';

        if (len
            && xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST buf)
               == NULL)
        {
            return -1;
        }

        if (end == NULL) {
            break;
        }

        p = end + 1;
    }

    return 0;
}


static int
eg_cas_xml_dump(xmlDocPtr doc, int format, unsigned char **out,
    size_t *len)
{
    int       size;
    xmlChar  *mem;

    mem = NULL;
    size = 0;

    xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", format);

    xmlFreeDoc(doc);

    if (mem == NULL || size <= 0) {
        if (mem) {
            xmlFree(mem);
        }

        return -1;
    }

    *out = mem;
    *len = (size_t) size;

    return 0;
}


int
eg_cas_xml_success(const eg_cas_record_t *rec, unsigned attrs, int cas3,
    const char *pgt_iou, unsigned char **out, size_t *len)
{
    size_t      i;
    xmlNsPtr    ns;
    xmlDocPtr   doc;
    xmlNodePtr  root, ok, list;

    if (rec->id.uid[0] == '\0' || !eg_cas_text_ok(rec->id.uid)
        || (pgt_iou != NULL && !eg_cas_text_ok(pgt_iou)))
    {
        return -1;
    }

    root = eg_cas_xml_doc(&doc, &ns);
    if (root == NULL) {
        return -1;
    }

    ok = xmlNewChild(root, ns, BAD_CAST "authenticationSuccess", NULL);
    if (ok == NULL
        || xmlNewTextChild(ok, ns, BAD_CAST "user", BAD_CAST rec->id.uid)
           == NULL)
    {
        goto failed;
    }

    if (cas3 && eg_cas_xml_attributes(ok, ns, rec, attrs) != 0) {
        goto failed;
    }

    if (pgt_iou != NULL
        && xmlNewTextChild(ok, ns, BAD_CAST "proxyGrantingTicket",
                           BAD_CAST pgt_iou) == NULL)
    {
        goto failed;
    }

    if (rec->nproxies) {
        list = xmlNewChild(ok, ns, BAD_CAST "proxies", NULL);
        if (list == NULL) {
            goto failed;
        }

        for (i = 0; i < rec->nproxies && i < EG_CAS_PROXIES_MAX; i++) {
            if (!eg_cas_text_ok(rec->proxies[i])
                || xmlNewTextChild(list, ns, BAD_CAST "proxy",
                                   BAD_CAST rec->proxies[i]) == NULL)
            {
                goto failed;
            }
        }
    }

    return eg_cas_xml_dump(doc, 1, out, len);

failed:

    xmlFreeDoc(doc);

    return -1;
}


static int
eg_cas_xml_attributes(xmlNodePtr ok, xmlNsPtr ns, const eg_cas_record_t *rec,
    unsigned attrs)
{
    char        date[sizeof("1970-01-01T00:00:00Z")];
    char       *v;
    size_t      i, cap;
    xmlNodePtr  list;

    if (eg_cas_xml_date(rec->id.auth_time, date, sizeof(date)) != 0) {
        return -1;
    }

    list = xmlNewChild(ok, ns, BAD_CAST "attributes", NULL);

    if (list == NULL
        || xmlNewTextChild(list, ns, BAD_CAST "authenticationDate",
                           BAD_CAST date) == NULL
        || xmlNewTextChild(list, ns,
                           BAD_CAST "longTermAuthenticationRequestTokenUsed",
                           BAD_CAST "false") == NULL
        || xmlNewTextChild(list, ns, BAD_CAST "isFromNewLogin",
                           BAD_CAST (rec->fresh ? "true" : "false")) == NULL)
    {
        return -1;
    }

    for (i = 0; i < EG_CAS_NATTRS; i++) {
        if (!(attrs & (1u << i))) {
            continue;
        }

        v = eg_identity_field((eg_identity_t *) &rec->id,
                              eg_cas_attr_field(i), &cap);

        if (v == NULL || strnlen(v, cap + 1) > cap || !eg_cas_text_ok(v)
            || eg_cas_xml_attr(list, ns, eg_cas_attr_name(i), v,
                               i == EG_CAS_ATTR_ROLES ? ',' : '\0')
               != 0)
        {
            return -1;
        }
    }

    return 0;
}


int
eg_cas_xml_failure(const char *code, const char *text, unsigned char **out,
    size_t *len)
{
    return eg_cas_xml_fail("authenticationFailure", code, text, out, len);
}


int
eg_cas_xml_proxy_failure(const char *code, const char *text,
    unsigned char **out, size_t *len)
{
    return eg_cas_xml_fail("proxyFailure", code, text, out, len);
}


static int
eg_cas_xml_fail(const char *element, const char *code, const char *text,
    unsigned char **out, size_t *len)
{
    xmlNsPtr    ns;
    xmlDocPtr   doc;
    xmlNodePtr  root, fail;

    if (!eg_cas_text_ok(code) || !eg_cas_text_ok(text)) {
        return -1;
    }

    root = eg_cas_xml_doc(&doc, &ns);
    if (root == NULL) {
        return -1;
    }

    fail = xmlNewTextChild(root, ns, BAD_CAST element, BAD_CAST text);

    if (fail == NULL
        || xmlNewProp(fail, BAD_CAST "code", BAD_CAST code) == NULL)
    {
        xmlFreeDoc(doc);
        return -1;
    }

    return eg_cas_xml_dump(doc, 1, out, len);
}


int
eg_cas_xml_proxy_success(const char *ticket, unsigned char **out,
    size_t *len)
{
    xmlNsPtr    ns;
    xmlDocPtr   doc;
    xmlNodePtr  root, ok;

    if (ticket[0] == '\0' || !eg_cas_text_ok(ticket)) {
        return -1;
    }

    root = eg_cas_xml_doc(&doc, &ns);
    if (root == NULL) {
        return -1;
    }

    ok = xmlNewChild(root, ns, BAD_CAST "proxySuccess", NULL);

    if (ok == NULL
        || xmlNewTextChild(ok, ns, BAD_CAST "proxyTicket", BAD_CAST ticket)
           == NULL)
    {
        xmlFreeDoc(doc);
        return -1;
    }

    return eg_cas_xml_dump(doc, 1, out, len);
}


/*
 * Clients find the ticket with a plain text search for
 * "<samlp:SessionIndex>", so the prefixes are the ones the specification
 * shows, and the document is not indented.
 */

int
eg_cas_xml_logout_request(const char *ticket, long long now,
    unsigned char **out, size_t *len)
{
    char           date[sizeof("1970-01-01T00:00:00Z")];
    unsigned char  id[sizeof("LR-") - 1 + EG_CAS_TICKET_RANDOM + 1];
    xmlNsPtr       samlp, saml;
    xmlDocPtr      doc;
    xmlNodePtr     root;

    if (eg_cas_ticket_check((const unsigned char *) ticket, strlen(ticket))
        == EG_CAS_TICKET_BAD
        || eg_cas_xml_date(now, date, sizeof(date)) != 0
        || eg_cas_artifact_new(id, "LR-") != 0)
    {
        return -1;
    }

    id[sizeof(id) - 1] = '\0';

    doc = xmlNewDoc(BAD_CAST "1.0");
    if (doc == NULL) {
        return -1;
    }

    root = xmlNewNode(NULL, BAD_CAST "LogoutRequest");
    if (root == NULL) {
        goto failed;
    }

    xmlDocSetRootElement(doc, root);

    samlp = xmlNewNs(root, BAD_CAST EG_CAS_SAMLP_NS, BAD_CAST "samlp");
    saml = xmlNewNs(root, BAD_CAST EG_CAS_SAML_NS, BAD_CAST "saml");

    if (samlp == NULL || saml == NULL) {
        goto failed;
    }

    xmlSetNs(root, samlp);

    if (xmlNewProp(root, BAD_CAST "ID", id) == NULL
        || xmlNewProp(root, BAD_CAST "Version", BAD_CAST "2.0") == NULL
        || xmlNewProp(root, BAD_CAST "IssueInstant", BAD_CAST date) == NULL
        || xmlNewTextChild(root, saml, BAD_CAST "NameID",
                           BAD_CAST "@NOT_USED@") == NULL
        || xmlNewTextChild(root, samlp, BAD_CAST "SessionIndex",
                           BAD_CAST ticket) == NULL)
    {
        goto failed;
    }

    return eg_cas_xml_dump(doc, 0, out, len);

failed:

    xmlFreeDoc(doc);

    return -1;
}


void
eg_cas_xml_free(unsigned char *p)
{
    xmlFree(p);
}


/* a user name with a line break would forge a second line of the answer */

size_t
eg_cas1_response(unsigned char *dst, const char *user)
{
    size_t  n;

    if (user != NULL) {
        n = strlen(user);

        if (n > 0 && n <= EG_ID_UID_MAX && eg_cas_text_ok(user)) {
            memcpy(dst, "yes\n", 4);
            memcpy(dst + 4, user, n);
            dst[4 + n] = '\n';

            return n + 5;
        }
    }

    memcpy(dst, "no\n", 3);

    return 3;
}
