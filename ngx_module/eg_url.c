/*
 * Copyright (C) EduGate contributors
 */


#include <string.h>

#include "eg_url.h"


static int eg_url_scheme_is(const unsigned char *s, size_t n,
    const char *scheme);
static int eg_url_host_allowed(const unsigned char *a, size_t n,
    const eg_str_t *hosts, size_t nhosts);
static int eg_url_unreserved(unsigned char c);


static const unsigned char  eg_url_hex[] = "0123456789ABCDEF";


/*
 * Browsers forgive much more than RFC 3986: they drop tabs and newlines,
 * read "\" as "/", and follow "//host" as a new origin.  So every byte that
 * a browser might reinterpret is refused outright, bytes above 0x7e
 * included (a return target we produced ourselves is always
 * percent-encoded), and only then is the URL split.
 */

int
eg_return_url_ok(const unsigned char *url, size_t n, const eg_str_t *hosts,
    size_t nhosts)
{
    size_t                i;
    const unsigned char  *p, *end, *auth;

    if (n == 0) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (url[i] <= 0x20 || url[i] >= 0x7f || url[i] == '\\') {
            return 0;
        }
    }

    if (url[0] == '/') {
        return n == 1 || url[1] != '/';
    }

    p = memchr(url, ':', n);
    if (p == NULL) {
        return 0;
    }

    if (!eg_url_scheme_is(url, p - url, "http")
        && !eg_url_scheme_is(url, p - url, "https"))
    {
        return 0;
    }

    end = url + n;
    p++;

    if (end - p < 2 || p[0] != '/' || p[1] != '/') {
        return 0;
    }

    auth = p + 2;

    for (p = auth; p < end; p++) {
        if (*p == '/' || *p == '?' || *p == '#') {
            break;
        }

        if (*p == '@') {
            return 0;
        }
    }

    if (p == auth) {
        return 0;
    }

    return eg_url_host_allowed(auth, p - auth, hosts, nhosts);
}


size_t
eg_percent_encode_len(const unsigned char *s, size_t n)
{
    size_t  i, len;

    len = n;

    for (i = 0; i < n; i++) {
        if (!eg_url_unreserved(s[i])) {
            len += 2;
        }
    }

    return len;
}


size_t
eg_percent_encode(unsigned char *dst, const unsigned char *s, size_t n)
{
    size_t          i;
    unsigned char  *d;

    d = dst;

    for (i = 0; i < n; i++) {
        if (eg_url_unreserved(s[i])) {
            *d++ = s[i];

        } else {
            *d++ = '%';
            *d++ = eg_url_hex[s[i] >> 4];
            *d++ = eg_url_hex[s[i] & 0x0f];
        }
    }

    return d - dst;
}


static int
eg_url_scheme_is(const unsigned char *s, size_t n, const char *scheme)
{
    size_t  i;

    if (n != strlen(scheme)) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if ((s[i] | 0x20) != scheme[i]) {
            return 0;
        }
    }

    return 1;
}


static int
eg_url_host_allowed(const unsigned char *a, size_t n, const eg_str_t *hosts,
    size_t nhosts)
{
    size_t         h, i;
    unsigned char  c1, c2;

    for (h = 0; h < nhosts; h++) {
        if (hosts[h].len != n) {
            continue;
        }

        for (i = 0; i < n; i++) {
            c1 = a[i];
            c2 = hosts[h].data[i];

            if (c1 >= 'A' && c1 <= 'Z') {
                c1 |= 0x20;
            }

            if (c2 >= 'A' && c2 <= 'Z') {
                c2 |= 0x20;
            }

            if (c1 != c2) {
                break;
            }
        }

        if (i == n) {
            return 1;
        }
    }

    return 0;
}


static int
eg_url_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}
