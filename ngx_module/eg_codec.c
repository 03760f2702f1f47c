/*
 * Copyright (C) EduGate contributors
 */


#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "eg_codec.h"


/* a multiple of 3, so that chunks encode without padding in between */
#define EG_RANDOM_CHUNK  48


static int eg_b64url_value(unsigned char c);


static const unsigned char  eg_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const unsigned char  eg_hex_digits[] = "0123456789abcdef";


size_t
eg_b64url_encode(unsigned char *dst, const unsigned char *src, size_t n)
{
    unsigned char  *d;

    d = dst;

    while (n >= 3) {
        *d++ = eg_b64url_alphabet[src[0] >> 2];
        *d++ = eg_b64url_alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = eg_b64url_alphabet[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = eg_b64url_alphabet[src[2] & 0x3f];

        src += 3;
        n -= 3;
    }

    if (n == 1) {
        *d++ = eg_b64url_alphabet[src[0] >> 2];
        *d++ = eg_b64url_alphabet[(src[0] & 0x03) << 4];

    } else if (n == 2) {
        *d++ = eg_b64url_alphabet[src[0] >> 2];
        *d++ = eg_b64url_alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = eg_b64url_alphabet[(src[1] & 0x0f) << 2];
    }

    return d - dst;
}


/*
 * Only the canonical text is accepted: unused low bits of the last
 * character must be zero, so every byte string has exactly one spelling.
 */

ssize_t
eg_b64url_decode(unsigned char *dst, const unsigned char *src, size_t n)
{
    int             v[4];
    size_t          i, rest;
    unsigned char  *d;

    if (!eg_is_b64url(src, n)) {
        return -1;
    }

    d = dst;
    rest = n % 4;

    for (i = 0; i + 4 <= n; i += 4) {
        v[0] = eg_b64url_value(src[i]);
        v[1] = eg_b64url_value(src[i + 1]);
        v[2] = eg_b64url_value(src[i + 2]);
        v[3] = eg_b64url_value(src[i + 3]);

        *d++ = (unsigned char) ((v[0] << 2) | (v[1] >> 4));
        *d++ = (unsigned char) (((v[1] & 0x0f) << 4) | (v[2] >> 2));
        *d++ = (unsigned char) (((v[2] & 0x03) << 6) | v[3]);
    }

    if (rest >= 2) {
        v[0] = eg_b64url_value(src[i]);
        v[1] = eg_b64url_value(src[i + 1]);

        *d++ = (unsigned char) ((v[0] << 2) | (v[1] >> 4));

        if (rest == 3) {
            v[2] = eg_b64url_value(src[i + 2]);
            *d++ = (unsigned char) (((v[1] & 0x0f) << 4) | (v[2] >> 2));
        }
    }

    return d - dst;
}


int
eg_is_b64url(const unsigned char *s, size_t n)
{
    int     last;
    size_t  i;

    if (n % 4 == 1) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (eg_b64url_value(s[i]) < 0) {
            return 0;
        }
    }

    if (n % 4 == 0) {
        return 1;
    }

    last = eg_b64url_value(s[n - 1]);

    if (n % 4 == 2) {
        return (last & 0x0f) == 0;
    }

    return (last & 0x03) == 0;
}


void
eg_hex_encode(unsigned char *dst, const unsigned char *src, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        *dst++ = eg_hex_digits[src[i] >> 4];
        *dst++ = eg_hex_digits[src[i] & 0x0f];
    }
}


int
eg_const_eq(const unsigned char *a, const unsigned char *b, size_t n)
{
    size_t                  i;
    volatile unsigned char  diff;

    diff = 0;

    for (i = 0; i < n; i++) {
        diff |= a[i] ^ b[i];
    }

    return diff == 0;
}


int
eg_sha256_hex(unsigned char *dst, const unsigned char *src, size_t n)
{
    unsigned int   len;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (EVP_Digest(src, n, md, &len, EVP_sha256(), NULL) != 1
        || len * 2 != EG_SHA256_HEX_LEN)
    {
        return -1;
    }

    eg_hex_encode(dst, md, len);

    return 0;
}


int
eg_random_b64url(unsigned char *dst, size_t nbytes)
{
    size_t         chunk;
    unsigned char  buf[EG_RANDOM_CHUNK];

    while (nbytes) {
        chunk = nbytes < EG_RANDOM_CHUNK ? nbytes : EG_RANDOM_CHUNK;

        if (RAND_bytes(buf, (int) chunk) != 1) {
            OPENSSL_cleanse(buf, sizeof(buf));
            return -1;
        }

        dst += eg_b64url_encode(dst, buf, chunk);
        nbytes -= chunk;
    }

    OPENSSL_cleanse(buf, sizeof(buf));

    return 0;
}


static int
eg_b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return -1;
}
