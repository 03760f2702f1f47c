/*
 * Copyright (C) EduGate contributors
 */


#include <stdint.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "eg_cas.h"
#include "eg_text.h"


static int eg_cas_has_ticket_arg(const unsigned char *p, size_t n);
static int eg_cas_tail_ok(const unsigned char *p, size_t n);
static int eg_cas_text_ok(const char *s);
static xmlNodePtr eg_cas_xml_doc(xmlDocPtr *doc, xmlNsPtr *ns);
static int eg_cas_xml_attr(xmlNodePtr parent, xmlNsPtr ns,
    const char *name, const char *value, char sep);
static int eg_cas_xml_dump(xmlDocPtr doc, unsigned char **out,
    size_t *len);


static const char  eg_cas_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";


/* in eg_cas_attr_e order: the names used in configuration and in XML */
static const struct {
    const char     *name;
    eg_id_field_e   field;
} eg_cas_attrs[EG_CAS_NATTRS] = {
    { "name", EG_ID_NAME },
    { "roles", EG_ID_ROLES },
    { "org", EG_ID_ORG },
    { "orgPath", EG_ID_ORG_PATH },
    { "level", EG_ID_LEVEL },
    { "school", EG_ID_SCHOOL },
    { "grade", EG_ID_GRADE },
    { "class", EG_ID_CLASS }
};


/*
 * Browsers and servers disagree about "\", spaces, controls and bytes
 * above 0x7e, and a fragment never reaches the service: such URLs are
 * refused rather than compared.
 */

const char *
eg_cas_service_check(const unsigned char *url, size_t n)
{
    size_t                i;
    const unsigned char  *p, *end;

    if (n == 0) {
        return "empty URL";
    }

    if (n > EG_CAS_SERVICE_MAX) {
        return "URL too long";
    }

    for (i = 0; i < n; i++) {
        if (url[i] <= 0x20 || url[i] >= 0x7f) {
            return "space, control or non-ASCII byte";
        }

        if (url[i] == '\\') {
            return "backslash";
        }

        if (url[i] == '#') {
            return "fragment";
        }
    }

    if (n > 7 && memcmp(url, "http://", 7) == 0) {
        p = url + 7;

    } else if (n > 8 && memcmp(url, "https://", 8) == 0) {
        p = url + 8;

    } else {
        return "scheme is not http:// or https://";
    }

    end = url + n;

    for (i = 0; p + i < end; i++) {
        if (p[i] == '/' || p[i] == '?') {
            break;
        }

        if (p[i] == '@') {
            return "userinfo in URL";
        }
    }

    if (i == 0) {
        return "no host";
    }

    if (eg_cas_has_ticket_arg(url, n)) {
        return "\"ticket\" argument in URL";
    }

    return NULL;
}


/*
 * The ticket is appended to the service URL; one already there would come
 * first, and a client taking the first would validate a planted ticket.
 */

static int
eg_cas_has_ticket_arg(const unsigned char *p, size_t n)
{
    const unsigned char  *q, *end, *amp;

    q = memchr(p, '?', n);
    if (q == NULL) {
        return 0;
    }

    end = p + n;

    for (q++; q < end; q = amp + 1) {
        amp = memchr(q, '&', end - q);
        if (amp == NULL) {
            amp = end;
        }

        if (amp - q >= 6 && memcmp(q, "ticket", 6) == 0
            && (amp - q == 6 || q[6] == '='))
        {
            return 1;
        }
    }

    return 0;
}


int
eg_cas_service_match(const eg_cas_service_t *svc, const unsigned char *url,
    size_t n)
{
    unsigned char         last;
    const unsigned char  *rest;

    if (svc->match == EG_CAS_MATCH_EXACT) {
        return n == svc->len && memcmp(url, svc->url, n) == 0;
    }

    if (svc->len == 0 || n < svc->len
        || memcmp(url, svc->url, svc->len) != 0)
    {
        return 0;
    }

    if (n == svc->len) {
        return 1;
    }

    rest = url + svc->len;
    last = svc->url[svc->len - 1];

    /* "https://app.example" is not a prefix of "https://app.example.evil" */

    if (last != '/' && last != '?' && rest[0] != '/' && rest[0] != '?') {
        return 0;
    }

    if (last == '?') {
        return 1;
    }

    return eg_cas_tail_ok(rest, n - svc->len);
}


/*
 * What follows a prefix must stay below it once a server has normalized
 * the path: no "." or ".." segment (";" starts path parameters that some
 * servers drop, so "..;" counts), and no encoded dot, slash or backslash.
 */

static int
eg_cas_tail_ok(const unsigned char *p, size_t n)
{
    size_t                seg, i;
    const unsigned char  *q, *end, *s;

    q = memchr(p, '?', n);
    end = q ? q : p + n;

    for (s = p; s < end; s++) {
        if (s[0] == '%' && end - s >= 3) {
            if (s[1] == '2' && ((s[2] | 0x20) == 'e' || (s[2] | 0x20) == 'f'))
            {
                return 0;
            }

            if (s[1] == '5' && (s[2] | 0x20) == 'c') {
                return 0;
            }
        }
    }

    s = p;

    for ( ;; ) {
        for (i = 0; s + i < end && s[i] != '/'; i++) {
            /* void */
        }

        for (seg = 0; seg < i && s[seg] != ';'; seg++) {
            /* void */
        }

        if ((seg == 1 && s[0] == '.')
            || (seg == 2 && s[0] == '.' && s[1] == '.'))
        {
            return 0;
        }

        if (s + i == end) {
            return 1;
        }

        s += i + 1;
    }
}


const eg_cas_service_t *
eg_cas_service_find(const eg_cas_service_t *svcs, size_t nsvcs,
    const unsigned char *url, size_t n)
{
    size_t  i;

    if (eg_cas_service_check(url, n) != NULL) {
        return NULL;
    }

    for (i = 0; i < nsvcs; i++) {
        if (eg_cas_service_match(&svcs[i], url, n)) {
            return &svcs[i];
        }
    }

    return NULL;
}


int
eg_cas_attr_parse(const unsigned char *list, size_t n, unsigned *attrs)
{
    size_t                i, len;
    unsigned              mask;
    const unsigned char  *p, *end, *comma;

    mask = 0;
    p = list;
    end = list + n;

    if (n == 0) {
        return -1;
    }

    while (p <= end) {
        comma = memchr(p, ',', end - p);
        len = (comma ? comma : end) - p;

        for (i = 0; i < EG_CAS_NATTRS; i++) {
            if (len == strlen(eg_cas_attrs[i].name)
                && memcmp(p, eg_cas_attrs[i].name, len) == 0)
            {
                break;
            }
        }

        if (i == EG_CAS_NATTRS) {
            return -1;
        }

        mask |= 1u << i;

        if (comma == NULL) {
            break;
        }

        p = comma + 1;
    }

    *attrs = mask;

    return 0;
}


const char *
eg_cas_attr_name(eg_cas_attr_e a)
{
    if ((unsigned) a >= EG_CAS_NATTRS) {
        return NULL;
    }

    return eg_cas_attrs[a].name;
}


eg_cas_ticket_e
eg_cas_ticket_check(const unsigned char *t, size_t n)
{
    size_t           i;
    unsigned char    c;
    eg_cas_ticket_e  kind;

    if (n <= 3 || n > EG_CAS_TICKET_MAX) {
        return EG_CAS_TICKET_BAD;
    }

    if (memcmp(t, "ST-", 3) == 0) {
        kind = EG_CAS_TICKET_OK;

    } else if (memcmp(t, "PT-", 3) == 0) {
        kind = EG_CAS_TICKET_PROXY;

    } else {
        return EG_CAS_TICKET_BAD;
    }

    for (i = 3; i < n; i++) {
        c = t[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-'))
        {
            return EG_CAS_TICKET_BAD;
        }
    }

    return kind;
}


/* 248 = 4 * 62: bytes above it are dropped so that every letter is even */

int
eg_cas_ticket_new(unsigned char *dst)
{
    size_t         i, got;
    unsigned char  buf[64];

    memcpy(dst, "ST-", 3);
    got = 0;

    while (got < EG_CAS_TICKET_RANDOM) {
        if (RAND_bytes(buf, sizeof(buf)) != 1) {
            OPENSSL_cleanse(buf, sizeof(buf));
            return -1;
        }

        for (i = 0; i < sizeof(buf) && got < EG_CAS_TICKET_RANDOM; i++) {
            if (buf[i] < 248) {
                dst[3 + got++] = eg_cas_alphabet[buf[i] % 62];
            }
        }
    }

    OPENSSL_cleanse(buf, sizeof(buf));

    return 0;
}


size_t
eg_cas_redirect_len(size_t service_len, size_t ticket_len)
{
    return service_len + sizeof("?ticket=") - 1 + ticket_len;
}


size_t
eg_cas_redirect(unsigned char *dst, const unsigned char *service,
    size_t service_len, const unsigned char *ticket, size_t ticket_len)
{
    unsigned char  *p, last;

    p = dst;
    memcpy(p, service, service_len);
    p += service_len;

    last = service_len ? service[service_len - 1] : '\0';

    if (last != '?' && last != '&') {
        *p++ = memchr(service, '?', service_len) ? '&' : '?';
    }

    memcpy(p, "ticket=", sizeof("ticket=") - 1);
    p += sizeof("ticket=") - 1;
    memcpy(p, ticket, ticket_len);
    p += ticket_len;

    return p - dst;
}


char *
eg_cas_record_encode(const eg_identity_t *id, unsigned attrs,
    const unsigned char *service, size_t service_len,
    const unsigned char *session, int fresh)
{
    char        *out, *v;
    size_t       cap, i;
    json_t      *obj;
    const char  *key;

    if (service_len > EG_CAS_SERVICE_MAX || id->uid[0] == '\0') {
        return NULL;
    }

    obj = json_pack("{s:s, s:I, s:I, s:s%, s:s%, s:b}",
                    "uid", id->uid,
                    "auth_time", (json_int_t) id->auth_time,
                    "expires", (json_int_t) id->expires,
                    "service", (const char *) service, service_len,
                    "session", (const char *) session,
                    (size_t) EG_SHA256_HEX_LEN,
                    "fresh", fresh ? 1 : 0);
    if (obj == NULL) {
        return NULL;
    }

    for (i = 0; i < EG_CAS_NATTRS; i++) {
        if (!(attrs & (1u << i))) {
            continue;
        }

        v = eg_identity_field((eg_identity_t *) id, eg_cas_attrs[i].field,
                              &cap);
        key = eg_identity_field_name(eg_cas_attrs[i].field);

        if (v == NULL || key == NULL || strnlen(v, cap + 1) > cap
            || json_object_set_new(obj, key, json_string(v)) != 0)
        {
            json_decref(obj);
            return NULL;
        }
    }

    out = json_dumps(obj, JSON_COMPACT);

    json_decref(obj);

    return out;
}


int
eg_cas_record_decode(eg_cas_record_t *rec, const char *json, size_t n)
{
    json_t      *root, *service, *session, *fresh;
    const char  *s;
    size_t       len;

    memset(rec, 0, sizeof(eg_cas_record_t));

    /* unknown keys (service, session, fresh) are skipped there */
    if (eg_identity_from_json(&rec->id, json, n) != 0) {
        return -1;
    }

    root = json_loadb(json, n, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL) {
        return -1;
    }

    service = json_object_get(root, "service");
    session = json_object_get(root, "session");
    fresh = json_object_get(root, "fresh");

    if (!json_is_string(service) || !json_is_string(session)
        || !json_is_boolean(fresh)
        || json_string_length(service) > EG_CAS_SERVICE_MAX
        || json_string_length(session) != EG_SHA256_HEX_LEN)
    {
        goto failed;
    }

    s = json_string_value(service);
    len = json_string_length(service);

    if (memchr(s, '\0', len) != NULL) {
        goto failed;
    }

    memcpy(rec->service, s, len);
    rec->service[len] = '\0';
    rec->service_len = len;

    memcpy(rec->session, json_string_value(session), EG_SHA256_HEX_LEN);
    rec->session[EG_SHA256_HEX_LEN] = '\0';

    rec->fresh = json_is_true(fresh);

    json_decref(root);

    return 0;

failed:

    json_decref(root);
    memset(rec, 0, sizeof(eg_cas_record_t));

    return -1;
}


static int
eg_cas_text_ok(const char *s)
{
    size_t  n;

    n = strlen(s);

    return !eg_has_ctl((const unsigned char *) s, n)
           && eg_utf8_valid((const unsigned char *) s, n);
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
eg_cas_xml_dump(xmlDocPtr doc, unsigned char **out, size_t *len)
{
    int       size;
    xmlChar  *mem;

    mem = NULL;
    size = 0;

    xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);

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
eg_cas_xml_success(const eg_identity_t *id, unsigned attrs, int cas3,
    int fresh, unsigned char **out, size_t *len)
{
    char        date[sizeof("1970-01-01T00:00:00Z")];
    char       *v;
    size_t      i, cap;
    time_t      t;
    xmlNsPtr    ns;
    struct tm   tm;
    xmlDocPtr   doc;
    xmlNodePtr  root, ok, list;

    if (id->uid[0] == '\0' || !eg_cas_text_ok(id->uid)) {
        return -1;
    }

    root = eg_cas_xml_doc(&doc, &ns);
    if (root == NULL) {
        return -1;
    }

    ok = xmlNewChild(root, ns, BAD_CAST "authenticationSuccess", NULL);
    if (ok == NULL
        || xmlNewTextChild(ok, ns, BAD_CAST "user", BAD_CAST id->uid)
           == NULL)
    {
        goto failed;
    }

    if (!cas3) {
        return eg_cas_xml_dump(doc, out, len);
    }

    t = (time_t) id->auth_time;

    if (gmtime_r(&t, &tm) == NULL
        || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        goto failed;
    }

    list = xmlNewChild(ok, ns, BAD_CAST "attributes", NULL);

    if (list == NULL
        || xmlNewTextChild(list, ns, BAD_CAST "authenticationDate",
                           BAD_CAST date) == NULL
        || xmlNewTextChild(list, ns,
                           BAD_CAST "longTermAuthenticationRequestTokenUsed",
                           BAD_CAST "false") == NULL
        || xmlNewTextChild(list, ns, BAD_CAST "isFromNewLogin",
                           BAD_CAST (fresh ? "true" : "false")) == NULL)
    {
        goto failed;
    }

    for (i = 0; i < EG_CAS_NATTRS; i++) {
        if (!(attrs & (1u << i))) {
            continue;
        }

        v = eg_identity_field((eg_identity_t *) id, eg_cas_attrs[i].field,
                              &cap);

        if (v == NULL || strnlen(v, cap + 1) > cap || !eg_cas_text_ok(v)
            || eg_cas_xml_attr(list, ns, eg_cas_attrs[i].name, v,
                               i == EG_CAS_ATTR_ROLES ? ',' : '\0')
               != 0)
        {
            goto failed;
        }
    }

    return eg_cas_xml_dump(doc, out, len);

failed:

    xmlFreeDoc(doc);

    return -1;
}


int
eg_cas_xml_failure(const char *code, const char *text, unsigned char **out,
    size_t *len)
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

    fail = xmlNewTextChild(root, ns, BAD_CAST "authenticationFailure",
                           BAD_CAST text);

    if (fail == NULL
        || xmlNewProp(fail, BAD_CAST "code", BAD_CAST code) == NULL)
    {
        xmlFreeDoc(doc);
        return -1;
    }

    return eg_cas_xml_dump(doc, out, len);
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
