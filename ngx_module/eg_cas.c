/*
 * Copyright (C) EduGate contributors
 */


#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "eg_cas.h"
#include "eg_text.h"


static int eg_cas_has_arg(const unsigned char *p, size_t n,
    const char *name);
static int eg_cas_tail_ok(const unsigned char *p, size_t n);
static int eg_cas_chars_ok(const unsigned char *t, size_t n);


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

    if (eg_cas_has_arg(url, n, "ticket")) {
        return "\"ticket\" argument in URL";
    }

    return NULL;
}


/*
 * The ticket is appended to the service URL; one already there would come
 * first, and a client taking the first would validate a planted ticket.
 * The same goes for pgtIou and pgtId on a proxy callback.
 */

static int
eg_cas_has_arg(const unsigned char *p, size_t n, const char *name)
{
    size_t                len;
    const unsigned char  *q, *end, *amp;

    len = strlen(name);

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

        if ((size_t) (amp - q) >= len && memcmp(q, name, len) == 0
            && ((size_t) (amp - q) == len || q[len] == '='))
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


eg_id_field_e
eg_cas_attr_field(eg_cas_attr_e a)
{
    return ((unsigned) a < EG_CAS_NATTRS) ? eg_cas_attrs[a].field
                                          : EG_ID_NFIELDS;
}


eg_cas_ticket_e
eg_cas_ticket_check(const unsigned char *t, size_t n)
{
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

    return eg_cas_chars_ok(t + 3, n - 3) ? kind : EG_CAS_TICKET_BAD;
}


int
eg_cas_pgt_check(const unsigned char *t, size_t n)
{
    return n > 4 && n <= EG_CAS_TICKET_MAX && memcmp(t, "PGT-", 4) == 0
           && eg_cas_chars_ok(t + 4, n - 4);
}


/* CAS 3.0 section 3.7: tickets are made of [A-Za-z0-9-] */

static int
eg_cas_chars_ok(const unsigned char *t, size_t n)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < n; i++) {
        c = t[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
eg_cas_ticket_new(unsigned char *dst)
{
    return eg_cas_artifact_new(dst, "ST-");
}


/* 248 = 4 * 62: bytes above it are dropped so that every letter is even */

int
eg_cas_artifact_new(unsigned char *dst, const char *prefix)
{
    size_t         i, got, plen;
    unsigned char  buf[64];

    plen = strlen(prefix);
    memcpy(dst, prefix, plen);
    got = 0;

    while (got < EG_CAS_TICKET_RANDOM) {
        if (RAND_bytes(buf, sizeof(buf)) != 1) {
            OPENSSL_cleanse(buf, sizeof(buf));
            return -1;
        }

        for (i = 0; i < sizeof(buf) && got < EG_CAS_TICKET_RANDOM; i++) {
            if (buf[i] < 248) {
                dst[plen + got++] = eg_cas_alphabet[buf[i] % 62];
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


const char *
eg_cas_callback_check(const unsigned char *url, size_t n)
{
    const char  *err;

    err = eg_cas_service_check(url, n);
    if (err != NULL) {
        return err;
    }

    if (eg_cas_has_arg(url, n, "pgtIou") || eg_cas_has_arg(url, n, "pgtId"))
    {
        return "pgtIou or pgtId argument in URL";
    }

    return NULL;
}


size_t
eg_cas_callback_len(size_t target_len)
{
    return sizeof("/?pgtIou=&pgtId=") - 1 + target_len
           + EG_CAS_PGTIOU_LEN + EG_CAS_PGT_LEN;
}


size_t
eg_cas_callback(unsigned char *dst, const unsigned char *target,
    size_t target_len, const unsigned char *iou, const unsigned char *pgt)
{
    unsigned char  *p, last;

    p = dst;

    if (target_len == 0 || target[0] != '/') {
        *p++ = '/';
    }

    memcpy(p, target, target_len);
    p += target_len;

    last = target_len ? target[target_len - 1] : '\0';

    if (last != '?' && last != '&') {
        *p++ = memchr(target, '?', target_len) ? '&' : '?';
    }

    memcpy(p, "pgtIou=", sizeof("pgtIou=") - 1);
    p += sizeof("pgtIou=") - 1;
    memcpy(p, iou, EG_CAS_PGTIOU_LEN);
    p += EG_CAS_PGTIOU_LEN;

    memcpy(p, "&pgtId=", sizeof("&pgtId=") - 1);
    p += sizeof("&pgtId=") - 1;
    memcpy(p, pgt, EG_CAS_PGT_LEN);
    p += EG_CAS_PGT_LEN;

    return p - dst;
}


char *
eg_cas_record_encode(const eg_identity_t *id, unsigned attrs,
    const unsigned char *service, size_t service_len,
    const unsigned char *session, int fresh, const char *const *proxies,
    size_t nproxies)
{
    char        *out, *v;
    size_t       cap, i;
    json_t      *obj, *list;
    const char  *key;

    if (service_len > EG_CAS_SERVICE_MAX || id->uid[0] == '\0'
        || nproxies > EG_CAS_PROXIES_MAX)
    {
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

    if (nproxies) {
        list = json_array();

        if (json_object_set_new(obj, "proxies", list) != 0) {
            json_decref(obj);
            return NULL;
        }

        for (i = 0; i < nproxies; i++) {
            if (strlen(proxies[i]) > EG_CAS_SERVICE_MAX
                || json_array_append_new(list, json_string(proxies[i])) != 0)
            {
                json_decref(obj);
                return NULL;
            }
        }
    }

    out = json_dumps(obj, JSON_COMPACT);

    json_decref(obj);

    return out;
}


int
eg_cas_record_decode(eg_cas_record_t *rec, const char *json, size_t n)
{
    json_t      *root, *service, *session, *fresh, *proxies, *v;
    const char  *s;
    size_t       len, i;

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

    proxies = json_object_get(root, "proxies");

    if (proxies != NULL) {
        if (!json_is_array(proxies)
            || json_array_size(proxies) > EG_CAS_PROXIES_MAX)
        {
            goto failed;
        }

        json_array_foreach(proxies, i, v) {
            s = json_string_value(v);
            len = json_string_length(v);

            if (s == NULL || len == 0 || len > EG_CAS_SERVICE_MAX
                || memchr(s, '\0', len) != NULL)
            {
                goto failed;
            }

            memcpy(rec->proxies[i], s, len + 1);
        }

        rec->nproxies = json_array_size(proxies);
    }

    json_decref(root);

    return 0;

failed:

    json_decref(root);
    memset(rec, 0, sizeof(eg_cas_record_t));

    return -1;
}
