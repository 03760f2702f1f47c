/*
 * Copyright (C) EduGate contributors
 *
 * The nginx-free half of the outbound HTTP/1.1 client: the URL of a
 * notification target taken apart, the request head, and the response
 * read back (status line, headers, a body framed by Content-Length,
 * chunked coding or the end of the connection).
 */

#ifndef _EG_HTTP_H_INCLUDED_
#define _EG_HTTP_H_INCLUDED_

#include <stddef.h>


#define EG_HTTP_URL_MAX   4096


typedef struct {
    const unsigned char  *authority;      /* host[:port] as written */
    size_t                authority_len;
    const unsigned char  *host;           /* without port and brackets */
    size_t                host_len;
    const unsigned char  *target;         /* "/...", "?..." or empty */
    size_t                target_len;
    unsigned              port;           /* 0: the scheme's default */
    unsigned              https:1;
    unsigned              ip_literal:1;   /* IPv4 or [IPv6] address */
} eg_http_url_t;


/*
 * Takes an absolute http:// or https:// URL apart.  NULL, or why it is
 * refused: bytes outside printable ASCII, "\", a fragment, userinfo, no
 * host, a bad port.
 */
const char *eg_http_url_parse(eg_http_url_t *u, const unsigned char *url,
    size_t n);

/* 1 if "t" may be sent as a request target: "/", then printable ASCII */
int eg_http_target_ok(const unsigned char *t, size_t n);

/*
 * The request head: "<method> <target> HTTP/1.1", Host, Connection:
 * close, and with a body (body_len != (size_t) -1) its Content-Length and
 * Content-Type (if type_len).  A target starting with "?" gets a "/" in
 * front.
 */
size_t eg_http_head_len(size_t method_len, size_t target_len,
    size_t authority_len, size_t type_len);
size_t eg_http_head(unsigned char *dst, const char *method,
    const unsigned char *target, size_t target_len,
    const unsigned char *authority, size_t authority_len,
    const unsigned char *type, size_t type_len, size_t body_len);


typedef enum {
    EG_HTTP_AGAIN = 0,      /* more bytes needed */
    EG_HTTP_DONE,           /* status and body are set */
    EG_HTTP_BAD             /* not an HTTP/1.x response: error says why */
} eg_http_rc_e;


typedef struct {
    int                   status;
    unsigned char        *body;
    size_t                body_len;
    int                   truncated;      /* the body ended early */
    const char           *error;
} eg_http_response_t;


/*
 * Reads the response held in the first "n" bytes of "buf"; "eof": no
 * more bytes will come (the peer closed, or the buffer is full).  Interim
 * 1xx responses are skipped.  On EG_HTTP_DONE a chunked body has been
 * decoded in place, so call it again only after EG_HTTP_AGAIN.
 */
eg_http_rc_e eg_http_response(eg_http_response_t *r, unsigned char *buf,
    size_t n, int eof);

#endif /* _EG_HTTP_H_INCLUDED_ */
