/*
 * Copyright (C) EduGate contributors
 *
 * Return targets after login/logout (no open redirects) and
 * percent-encoding for header and query values.
 */

#ifndef _EG_URL_H_INCLUDED_
#define _EG_URL_H_INCLUDED_

#include <stddef.h>


typedef struct {
    size_t                len;
    const unsigned char  *data;
} eg_str_t;


/*
 * 1 if "url" may be redirected to: a relative path starting with a single
 * "/" (not "//", no "\", no controls, no spaces), or an absolute http(s)
 * URL whose authority (host[:port], no userinfo) byte-equals, ignoring
 * ASCII case of the host, one of "hosts".  Else 0.
 */
int eg_return_url_ok(const unsigned char *url, size_t n,
    const eg_str_t *hosts, size_t nhosts);

/* RFC 3986 unreserved characters kept, every other byte becomes %XX */
size_t eg_percent_encode_len(const unsigned char *s, size_t n);
size_t eg_percent_encode(unsigned char *dst, const unsigned char *s,
    size_t n);

#endif /* _EG_URL_H_INCLUDED_ */
