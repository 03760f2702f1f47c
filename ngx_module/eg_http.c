/*
 * Copyright (C) EduGate contributors
 */


#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "eg_http.h"


#define EG_HTTP_HOST_MAX   253


static const unsigned char *eg_http_line(const unsigned char *p,
    const unsigned char *end, const unsigned char **next);
static int eg_http_status_line(const unsigned char *p,
    const unsigned char *e);
static int eg_http_headers(eg_http_response_t *r, const unsigned char *p,
    const unsigned char *end, const unsigned char **body, int *chunked,
    long long *length);
static int eg_http_token_is(const unsigned char *p, size_t n,
    const char *name);
static int eg_http_last_coding_chunked(const unsigned char *v, size_t n);
static int eg_http_chunked(unsigned char *p, unsigned char *end, int decode,
    size_t *len, int *complete);


const char *
eg_http_url_parse(eg_http_url_t *u, const unsigned char *url, size_t n)
{
    char                  ip[EG_HTTP_HOST_MAX + 1];
    size_t                i, alen;
    unsigned              port;
    unsigned char         c;
    struct in6_addr       a6;
    const unsigned char  *p, *end, *q, *colon, *close;

    memset(u, 0, sizeof(eg_http_url_t));

    if (n == 0) {
        return "empty URL";
    }

    if (n > EG_HTTP_URL_MAX) {
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
        u->https = 1;

    } else {
        return "scheme is not http:// or https://";
    }

    end = url + n;

    for (q = p; q < end && *q != '/' && *q != '?'; q++) {
        if (*q == '@') {
            return "userinfo in URL";
        }
    }

    alen = q - p;

    if (alen == 0) {
        return "no host";
    }

    u->authority = p;
    u->authority_len = alen;
    u->target = q;
    u->target_len = end - q;

    if (p[0] == '[') {
        close = memchr(p, ']', alen);
        if (close == NULL || close - p - 1 > (long) EG_HTTP_HOST_MAX) {
            return "bad IPv6 address";
        }

        u->host = p + 1;
        u->host_len = close - p - 1;

        memcpy(ip, u->host, u->host_len);
        ip[u->host_len] = '\0';

        if (inet_pton(AF_INET6, ip, &a6) != 1) {
            return "bad IPv6 address";
        }

        u->ip_literal = 1;
        colon = (close + 1 < q) ? close + 1 : NULL;

        if (colon != NULL && *colon != ':') {
            return "bad IPv6 address";
        }

    } else {
        colon = memchr(p, ':', alen);

        u->host = p;
        u->host_len = colon ? (size_t) (colon - p) : alen;

        if (u->host_len == 0) {
            return "no host";
        }

        if (u->host_len > EG_HTTP_HOST_MAX) {
            return "host name too long";
        }

        for (i = 0; i < u->host_len; i++) {
            c = u->host[i];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            {
                return "bad character in host";
            }
        }

        memcpy(ip, u->host, u->host_len);
        ip[u->host_len] = '\0';

        u->ip_literal = (inet_pton(AF_INET, ip, &a6) == 1);
    }

    if (colon != NULL) {
        port = 0;

        for (p = colon + 1; p < q; p++) {
            if (*p < '0' || *p > '9' || port > 65535) {
                return "bad port";
            }

            port = port * 10 + (*p - '0');
        }

        if (colon + 1 == q || port == 0 || port > 65535) {
            return "bad port";
        }

        u->port = port;
    }

    return NULL;
}


int
eg_http_target_ok(const unsigned char *t, size_t n)
{
    size_t  i;

    if (n == 0 || n > EG_HTTP_URL_MAX || t[0] != '/') {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (t[i] <= 0x20 || t[i] >= 0x7f || t[i] == '#' || t[i] == '\\') {
            return 0;
        }
    }

    return 1;
}


#define EG_HTTP_FIXED                                                     \
    "User-Agent: EduGate\r\n"                                             \
    "Accept: */*\r\n"                                                     \
    "Connection: close\r\n"


size_t
eg_http_head_len(size_t method_len, size_t target_len, size_t authority_len,
    size_t type_len)
{
    return method_len + sizeof(" /") - 1 + target_len
           + sizeof(" HTTP/1.1\r\nHost: \r\n") - 1 + authority_len
           + sizeof(EG_HTTP_FIXED) - 1
           + sizeof("Content-Type: \r\n") - 1 + type_len
           + sizeof("Content-Length: \r\n") - 1 + 20
           + sizeof("\r\n") - 1;
}


size_t
eg_http_head(unsigned char *dst, const char *method,
    const unsigned char *target, size_t target_len,
    const unsigned char *authority, size_t authority_len,
    const unsigned char *type, size_t type_len, size_t body_len)
{
    size_t          n;
    unsigned char  *p;

    p = dst;

    n = strlen(method);
    memcpy(p, method, n);
    p += n;
    *p++ = ' ';

    if (target_len == 0 || target[0] != '/') {
        *p++ = '/';
    }

    memcpy(p, target, target_len);
    p += target_len;

    memcpy(p, " HTTP/1.1\r\nHost: ", sizeof(" HTTP/1.1\r\nHost: ") - 1);
    p += sizeof(" HTTP/1.1\r\nHost: ") - 1;
    memcpy(p, authority, authority_len);
    p += authority_len;
    *p++ = '\r';
    *p++ = '\n';

    memcpy(p, EG_HTTP_FIXED, sizeof(EG_HTTP_FIXED) - 1);
    p += sizeof(EG_HTTP_FIXED) - 1;

    if (body_len != (size_t) -1 && type_len) {
        memcpy(p, "Content-Type: ", sizeof("Content-Type: ") - 1);
        p += sizeof("Content-Type: ") - 1;
        memcpy(p, type, type_len);
        p += type_len;
        *p++ = '\r';
        *p++ = '\n';
    }

    if (body_len != (size_t) -1) {
        p += sprintf((char *) p, "Content-Length: %zu\r\n", body_len);
    }

    *p++ = '\r';
    *p++ = '\n';

    return p - dst;
}


/* the end of the line's text (before CR LF or LF), NULL if no LF yet */

static const unsigned char *
eg_http_line(const unsigned char *p, const unsigned char *end,
    const unsigned char **next)
{
    const unsigned char  *lf;

    lf = memchr(p, '\n', end - p);
    if (lf == NULL) {
        return NULL;
    }

    *next = lf + 1;

    return (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
}


/* "HTTP/1.x NNN[ reason]": the status, or -1 */

static int
eg_http_status_line(const unsigned char *p, const unsigned char *e)
{
    const unsigned char  *s;

    if (e - p < 12 || memcmp(p, "HTTP/1.", 7) != 0
        || p[7] < '0' || p[7] > '9' || p[8] != ' ')
    {
        return -1;
    }

    s = p + 9;

    if (s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9'
        || s[2] < '0' || s[2] > '9' || (e > s + 3 && s[3] != ' '))
    {
        return -1;
    }

    return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}


static int
eg_http_token_is(const unsigned char *p, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp((const char *) p, name, n) == 0;
}


/* RFC 9112 6.3: the body is chunked if chunked is the last coding */

static int
eg_http_last_coding_chunked(const unsigned char *v, size_t n)
{
    const unsigned char  *s, *e;

    e = v + n;

    while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }

    for (s = e; s > v && s[-1] != ','; s--) {
        /* void */
    }

    while (s < e && (*s == ' ' || *s == '\t')) {
        s++;
    }

    return eg_http_token_is(s, e - s, "chunked");
}


/*
 * The header fields up to the empty line: 1 when complete (*body is
 * where the body starts), 0 when more bytes are needed, -1 when broken.
 */

static int
eg_http_headers(eg_http_response_t *r, const unsigned char *p,
    const unsigned char *end, const unsigned char **body, int *chunked,
    long long *length)
{
    int                   digits;
    long long             cl;
    const unsigned char  *e, *next, *colon, *v, *ve, *s;

    *chunked = 0;
    *length = -1;

    for ( ;; ) {
        e = eg_http_line(p, end, &next);
        if (e == NULL) {
            return 0;
        }

        if (e == p) {
            *body = next;
            return 1;
        }

        if (*p == ' ' || *p == '\t') {
            r->error = "folded header line";
            return -1;
        }

        colon = memchr(p, ':', e - p);

        if (colon == NULL || colon == p) {
            r->error = "malformed header line";
            return -1;
        }

        for (s = p; s < e; s++) {
            if ((*s < 0x20 && *s != '\t') || *s == 0x7f
                || (s < colon && (*s == ' ' || *s == '\t')))
            {
                r->error = "control character in header";
                return -1;
            }
        }

        for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++) {
            /* void */
        }

        for (ve = e; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {
            /* void */
        }

        if (eg_http_token_is(p, colon - p, "transfer-encoding")) {
            *chunked = eg_http_last_coding_chunked(v, ve - v);

        } else if (eg_http_token_is(p, colon - p, "content-length")) {
            cl = 0;
            digits = 0;

            for (s = v; s < ve; s++) {
                if (*s < '0' || *s > '9' || ++digits > 15) {
                    r->error = "bad Content-Length";
                    return -1;
                }

                cl = cl * 10 + (*s - '0');
            }

            if (digits == 0 || (*length != -1 && *length != cl)) {
                r->error = "bad Content-Length";
                return -1;
            }

            *length = cl;
        }

        p = next;
    }
}


/*
 * Walks a chunked body: -1 if broken, else 0 with *complete set once the
 * last chunk and the trailer fields are there, and *len the size of the
 * data seen so far.  With "decode" that data is moved together in place.
 */

static int
eg_http_chunked(unsigned char *p, unsigned char *end, int decode,
    size_t *len, int *complete)
{
    int                   digits;
    size_t                size, avail, skip;
    unsigned char        *start, *out, c;
    const unsigned char  *e, *next;

    start = p;
    out = p;
    *complete = 0;

    for ( ;; ) {
        e = eg_http_line(p, end, &next);
        if (e == NULL) {
            break;
        }

        size = 0;
        digits = 0;

        for ( /* void */ ; p < e; p++) {
            c = *p | 0x20;

            if (*p >= '0' && *p <= '9') {
                size = size * 16 + (*p - '0');

            } else if (c >= 'a' && c <= 'f') {
                size = size * 16 + (c - 'a' + 10);

            } else {
                break;
            }

            if (++digits > 15) {
                return -1;
            }
        }

        if (digits == 0 || (p < e && *p != ';' && *p != ' ' && *p != '\t'))
        {
            return -1;
        }

        p = (unsigned char *) next;

        if (size == 0) {

            /* trailer fields, up to an empty line */

            for ( ;; ) {
                e = eg_http_line(p, end, &next);
                if (e == NULL) {
                    goto done;
                }

                if (e == p) {
                    *complete = 1;
                    goto done;
                }

                p = (unsigned char *) next;
            }
        }

        avail = end - p;

        if (avail >= size + 1 && p[size] == '\n') {
            skip = 1;

        } else if (avail >= size + 2 && p[size] == '\r'
                   && p[size + 1] == '\n')
        {
            skip = 2;

        } else if (avail >= size + 2
                   || (avail == size + 1 && p[size] != '\r'))
        {
            return -1;

        } else {
            size = (avail < size) ? avail : size;

            if (decode) {
                memmove(out, p, size);
            }

            out += size;
            break;
        }

        if (decode) {
            memmove(out, p, size);
        }

        out += size;
        p += size + skip;
    }

done:

    *len = out - start;

    return 0;
}


eg_http_rc_e
eg_http_response(eg_http_response_t *r, unsigned char *buf, size_t n,
    int eof)
{
    int                   rc, chunked, complete;
    size_t                len, avail;
    long long             length;
    unsigned char        *end;
    const unsigned char  *p, *e, *next, *body;

    memset(r, 0, sizeof(eg_http_response_t));

    p = buf;
    end = buf + n;

    for ( ;; ) {
        e = eg_http_line(p, end, &next);
        if (e == NULL) {
            goto incomplete;
        }

        r->status = eg_http_status_line(p, e);
        if (r->status < 0) {
            r->status = 0;
            r->error = "bad status line";
            return EG_HTTP_BAD;
        }

        rc = eg_http_headers(r, next, end, &body, &chunked, &length);
        if (rc < 0) {
            return EG_HTTP_BAD;
        }

        if (rc == 0) {
            goto incomplete;
        }

        /* an interim answer (100 Continue): the real one follows */

        if (r->status >= 100 && r->status < 200 && r->status != 101) {
            p = body;
            continue;
        }

        break;
    }

    r->body = (unsigned char *) body;
    avail = end - body;

    if (r->status < 200 || r->status == 204 || r->status == 304) {
        r->body_len = 0;
        return EG_HTTP_DONE;
    }

    if (chunked) {
        if (eg_http_chunked(r->body, end, 0, &len, &complete) != 0) {
            r->error = "bad chunked body";
            return EG_HTTP_BAD;
        }

        if (!complete && !eof) {
            return EG_HTTP_AGAIN;
        }

        (void) eg_http_chunked(r->body, end, 1, &r->body_len, &complete);
        r->truncated = !complete;

        return EG_HTTP_DONE;
    }

    if (length >= 0) {
        if ((long long) avail >= length) {
            r->body_len = (size_t) length;
            return EG_HTTP_DONE;
        }

        if (!eof) {
            return EG_HTTP_AGAIN;
        }

        r->body_len = avail;
        r->truncated = 1;

        return EG_HTTP_DONE;
    }

    /* the body ends with the connection */

    if (!eof) {
        return EG_HTTP_AGAIN;
    }

    r->body_len = avail;

    return EG_HTTP_DONE;

incomplete:

    if (!eof) {
        return EG_HTTP_AGAIN;
    }

    r->status = 0;
    r->error = (n == 0) ? "empty response" : "incomplete response head";

    return EG_HTTP_BAD;
}
