/*
 * Copyright (C) EduGate contributors
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "eg_codec.h"
#include "eg_oidc.h"


typedef struct {
    const char  *name;
    size_t       len;
    unsigned     bit;
} eg_oidc_scope_t;


static const eg_oidc_scope_t *eg_oidc_scope_find(const unsigned char *s,
    size_t n);
static int eg_oidc_is_loopback(const unsigned char *host, size_t n);
static int eg_oidc_copy(char *dst, size_t cap, json_t *obj,
    const char *name);
static int eg_oidc_set_str(json_t *obj, const char *name, const char *v);


static const eg_oidc_scope_t  eg_oidc_scopes[] = {
    { "openid", 6, EG_OIDC_SCOPE_OPENID },
    { "profile", 7, EG_OIDC_SCOPE_PROFILE },
    { "edu", 3, EG_OIDC_SCOPE_EDU },
    { "offline_access", 14, EG_OIDC_SCOPE_OFFLINE },
    { NULL, 0, 0 }
};


static const eg_oidc_scope_t *
eg_oidc_scope_find(const unsigned char *s, size_t n)
{
    const eg_oidc_scope_t  *sc;

    for (sc = eg_oidc_scopes; sc->name; sc++) {
        if (sc->len == n && memcmp(sc->name, s, n) == 0) {
            return sc;
        }
    }

    return NULL;
}


/* RFC 6749 3.3: scope tokens separated by single spaces */

int
eg_oidc_scope_parse(const unsigned char *s, size_t n, unsigned *bits,
    eg_str_t *bad)
{
    size_t                  i, start;
    const eg_oidc_scope_t  *sc;

    *bits = 0;
    bad->data = s;
    bad->len = 0;

    if (n == 0) {
        return -1;
    }

    start = 0;

    for (i = 0; i <= n; i++) {
        if (i < n && s[i] != ' ') {
            continue;
        }

        bad->data = s + start;
        bad->len = i - start;

        if (i == start) {
            return -1;
        }

        sc = eg_oidc_scope_find(s + start, i - start);
        if (sc == NULL) {
            return -1;
        }

        *bits |= sc->bit;
        start = i + 1;
    }

    return 0;
}


int
eg_oidc_scope_parse_list(const unsigned char *s, size_t n, unsigned *bits)
{
    size_t                  i, start;
    const eg_oidc_scope_t  *sc;

    *bits = 0;
    start = 0;

    for (i = 0; i <= n; i++) {
        if (i < n && s[i] != ',') {
            continue;
        }

        sc = eg_oidc_scope_find(s + start, i - start);
        if (sc == NULL) {
            return -1;
        }

        *bits |= sc->bit;
        start = i + 1;
    }

    return 0;
}


int
eg_oidc_grant_types_parse(const unsigned char *s, size_t n, unsigned *bits)
{
    size_t  i, start, len;

    *bits = 0;
    start = 0;

    for (i = 0; i <= n; i++) {
        if (i < n && s[i] != ',') {
            continue;
        }

        len = i - start;

        if (len == 18 && memcmp(s + start, "authorization_code", 18) == 0) {
            *bits |= EG_OIDC_GRANT_CODE;

        } else if (len == 18
                   && memcmp(s + start, "client_credentials", 18) == 0)
        {
            *bits |= EG_OIDC_GRANT_CLIENT;

        } else {
            return -1;
        }

        start = i + 1;
    }

    return 0;
}


size_t
eg_oidc_scope_string(unsigned bits, char *buf)
{
    char                   *p;
    const eg_oidc_scope_t  *sc;

    p = buf;

    for (sc = eg_oidc_scopes; sc->name; sc++) {
        if (!(bits & sc->bit)) {
            continue;
        }

        if (p != buf) {
            *p++ = ' ';
        }

        memcpy(p, sc->name, sc->len);
        p += sc->len;
    }

    *p = '\0';

    return p - buf;
}


const char *
eg_oidc_uri_check(const unsigned char *uri, size_t n)
{
    size_t                i;
    const unsigned char  *p, *end, *auth, *host_end;

    if (n == 0 || n > EG_OIDC_URI_MAX) {
        return "the URI is empty or longer than 512 bytes";
    }

    for (i = 0; i < n; i++) {
        if (uri[i] <= 0x20 || uri[i] >= 0x7f || uri[i] == '\\') {
            return "the URI has spaces, controls or non-ASCII bytes";
        }

        if (uri[i] == '#') {
            return "the URI has a fragment";
        }
    }

    end = uri + n;

    if (n > 8 && memcmp(uri, "https://", 8) == 0) {
        auth = uri + 8;

    } else if (n > 7 && memcmp(uri, "http://", 7) == 0) {
        auth = uri + 7;

    } else {
        return "the URI is not an absolute http or https URI";
    }

    for (p = auth; p < end && *p != '/' && *p != '?'; p++) {
        if (*p == '@') {
            return "the URI has userinfo";
        }
    }

    if (p == auth) {
        return "the URI has no host";
    }

    /* the host without the port; "[::1]" keeps its brackets */

    host_end = p;

    if (*auth == '[') {
        host_end = memchr(auth, ']', p - auth);
        if (host_end == NULL) {
            return "the URI has a broken IPv6 address";
        }

        host_end++;

    } else {
        for (host_end = auth; host_end < p && *host_end != ':'; host_end++) {
            /* void */
        }
    }

    if (auth == uri + 7 && !eg_oidc_is_loopback(auth, host_end - auth)) {
        return "plain http is allowed for loopback hosts only";
    }

    return NULL;
}


static int
eg_oidc_is_loopback(const unsigned char *host, size_t n)
{
    return (n == 9 && memcmp(host, "127.0.0.1", 9) == 0)
           || (n == 9 && memcmp(host, "localhost", 9) == 0)
           || (n == 5 && memcmp(host, "[::1]", 5) == 0);
}


eg_str_t
eg_oidc_origin(const unsigned char *uri, size_t n)
{
    eg_str_t              o;
    const unsigned char  *p, *end;

    end = uri + n;
    p = memchr(uri, ':', n);
    p = (p == NULL) ? end : p + 3;

    while (p < end && *p != '/' && *p != '?') {
        p++;
    }

    o.data = uri;
    o.len = (p <= end) ? (size_t) (p - uri) : n;

    return o;
}


int
eg_oidc_uri_registered(const eg_str_t *list, size_t nlist,
    const unsigned char *uri, size_t n)
{
    size_t  i;

    for (i = 0; i < nlist; i++) {
        if (list[i].len == n && memcmp(list[i].data, uri, n) == 0) {
            return 1;
        }
    }

    return 0;
}


const eg_oidc_client_t *
eg_oidc_client_find(const eg_oidc_client_t *c, size_t n,
    const unsigned char *id, size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (c[i].id.len == len && memcmp(c[i].id.data, id, len) == 0) {
            return &c[i];
        }
    }

    return NULL;
}


/*
 * Both sides are hashed first so that the comparison takes the same time
 * whatever the lengths and wherever the texts differ.
 */

int
eg_oidc_secret_ok(const eg_oidc_client_t *c, const unsigned char *s,
    size_t n)
{
    unsigned char  a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];

    if (c->secret.len == 0 || n == 0) {
        return 0;
    }

    if (SHA256(c->secret.data, c->secret.len, a) == NULL
        || SHA256(s, n, b) == NULL)
    {
        return 0;
    }

    return CRYPTO_memcmp(a, b, sizeof(a)) == 0 && c->secret.len == n;
}


int
eg_oidc_challenge_ok(const unsigned char *c, size_t n)
{
    return n == EG_OIDC_CHALLENGE_LEN && eg_is_b64url(c, n);
}


int
eg_oidc_pkce_verify(const unsigned char *verifier, size_t vn,
    const char *challenge)
{
    size_t         i;
    unsigned char  c, md[SHA256_DIGEST_LENGTH];
    unsigned char  enc[EG_OIDC_CHALLENGE_LEN + 1];

    /* RFC 7636 4.1: 43 to 128 unreserved characters */

    if (vn < EG_OIDC_VERIFIER_MIN || vn > EG_OIDC_VERIFIER_MAX) {
        return -1;
    }

    for (i = 0; i < vn; i++) {
        c = verifier[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '-' || c == '.' || c == '_' || c == '~'))
        {
            return -1;
        }
    }

    if (SHA256(verifier, vn, md) == NULL) {
        return -1;
    }

    if (eg_b64url_encode(enc, md, sizeof(md)) != EG_OIDC_CHALLENGE_LEN
        || strlen(challenge) != EG_OIDC_CHALLENGE_LEN)
    {
        return -2;
    }

    return eg_const_eq(enc, (const unsigned char *) challenge,
                       EG_OIDC_CHALLENGE_LEN)
           ? 0 : -2;
}


int
eg_oidc_printable(const unsigned char *s, size_t n, size_t max)
{
    size_t  i;

    if (n > max) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


size_t
eg_oidc_redirect_len(const unsigned char *uri, size_t n,
    const eg_oidc_param_t *params, size_t nparams)
{
    size_t  i, len;

    (void) uri;

    len = n;

    for (i = 0; i < nparams; i++) {
        if (params[i].value.data == NULL) {
            continue;
        }

        len += 1 + strlen(params[i].name) + 1
               + eg_percent_encode_len(params[i].value.data,
                                       params[i].value.len);
    }

    return len;
}


size_t
eg_oidc_redirect(unsigned char *dst, const unsigned char *uri, size_t n,
    const eg_oidc_param_t *params, size_t nparams)
{
    size_t          i, len;
    unsigned char  *p;
    unsigned char   sep;

    memcpy(dst, uri, n);
    p = dst + n;

    sep = (memchr(uri, '?', n) != NULL) ? '&' : '?';

    for (i = 0; i < nparams; i++) {
        if (params[i].value.data == NULL) {
            continue;
        }

        *p++ = sep;
        sep = '&';

        len = strlen(params[i].name);
        memcpy(p, params[i].name, len);
        p += len;
        *p++ = '=';
        p += eg_percent_encode(p, params[i].value.data, params[i].value.len);
    }

    return p - dst;
}


int
eg_oidc_sid(char *dst, const char *sid_hash)
{
    unsigned char  md[SHA256_DIGEST_LENGTH];

    if (SHA256((const unsigned char *) sid_hash, strlen(sid_hash), md)
        == NULL)
    {
        return -1;
    }

    eg_hex_encode((unsigned char *) dst, md, EG_OIDC_SID_LEN / 2);
    dst[EG_OIDC_SID_LEN] = '\0';

    return 0;
}


char *
eg_oidc_grant_encode(const eg_oidc_grant_t *g)
{
    char    *id, *out;
    json_t  *obj;

    id = eg_identity_to_json(&g->identity);
    if (id == NULL) {
        return NULL;
    }

    obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}",
                    "c", g->client_id, "r", g->redirect_uri, "n", g->nonce,
                    "p", g->challenge, "h", g->sid_hash,
                    "s", (int) g->scopes, "id", id);
    free(id);

    if (obj == NULL) {
        return NULL;
    }

    out = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);

    return out;
}


int
eg_oidc_grant_decode(eg_oidc_grant_t *g, const char *json, size_t n)
{
    int           rc;
    json_t       *obj, *v;
    const char   *id;

    memset(g, 0, sizeof(eg_oidc_grant_t));

    obj = json_loadb(json, n, JSON_REJECT_DUPLICATES, NULL);
    if (obj == NULL) {
        return -1;
    }

    rc = -1;

    v = json_object_get(obj, "s");
    id = json_string_value(json_object_get(obj, "id"));

    if (!json_is_integer(v) || id == NULL
        || eg_oidc_copy(g->client_id, sizeof(g->client_id), obj, "c") != 0
        || eg_oidc_copy(g->redirect_uri, sizeof(g->redirect_uri), obj, "r")
           != 0
        || eg_oidc_copy(g->nonce, sizeof(g->nonce), obj, "n") != 0
        || eg_oidc_copy(g->challenge, sizeof(g->challenge), obj, "p") != 0
        || eg_oidc_copy(g->sid_hash, sizeof(g->sid_hash), obj, "h") != 0)
    {
        goto done;
    }

    g->scopes = (unsigned) json_integer_value(v);

    if (eg_identity_from_json(&g->identity, id, strlen(id)) != 0) {
        goto done;
    }

    rc = 0;

done:

    json_decref(obj);

    return rc;
}


static int
eg_oidc_copy(char *dst, size_t cap, json_t *obj, const char *name)
{
    size_t   n;
    json_t  *v;

    v = json_object_get(obj, name);
    if (!json_is_string(v)) {
        return -1;
    }

    n = json_string_length(v);
    if (n >= cap || memchr(json_string_value(v), '\0', n) != NULL) {
        return -1;
    }

    memcpy(dst, json_string_value(v), n);
    dst[n] = '\0';

    return 0;
}


int
eg_oidc_add_claims(json_t *obj, const eg_identity_t *id, unsigned scopes)
{
    size_t       len;
    json_t      *roles, *v;
    const char  *p, *comma;

    if (eg_oidc_set_str(obj, "sub", id->uid) != 0) {
        return -1;
    }

    if (scopes & EG_OIDC_SCOPE_PROFILE) {
        if (eg_oidc_set_str(obj, "name", id->name) != 0
            || eg_oidc_set_str(obj, "preferred_username", id->uid) != 0)
        {
            return -1;
        }
    }

    if (!(scopes & EG_OIDC_SCOPE_EDU)) {
        return 0;
    }

    roles = json_array();
    if (roles == NULL || json_object_set_new(obj, "roles", roles) != 0) {
        return -1;
    }

    for (p = id->roles; *p; p = comma + 1) {
        comma = strchr(p, ',');
        len = comma ? (size_t) (comma - p) : strlen(p);

        if (len) {
            v = json_stringn(p, len);
            if (v == NULL || json_array_append_new(roles, v) != 0) {
                return -1;
            }
        }

        if (comma == NULL) {
            break;
        }
    }

    if (eg_oidc_set_str(obj, "org", id->org) != 0
        || eg_oidc_set_str(obj, "org_path", id->org_path) != 0
        || eg_oidc_set_str(obj, "level", id->level) != 0
        || eg_oidc_set_str(obj, "school", id->school) != 0
        || eg_oidc_set_str(obj, "grade", id->grade) != 0
        || eg_oidc_set_str(obj, "class", id->klass) != 0)
    {
        return -1;
    }

    return 0;
}


static int
eg_oidc_set_str(json_t *obj, const char *name, const char *v)
{
    if (v[0] == '\0') {
        return 0;
    }

    return json_object_set_new(obj, name, json_string(v));
}
