/*
 * Copyright (C) EduGate contributors
 */


#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "eg_uuid.h"


static int eg_uuid_hex(int c);


int
eg_uuid_parse(const char *s, size_t len, unsigned char out[16])
{
    int     hi, lo;
    size_t  i, n;

    if (s == NULL || len != EG_UUID_LEN) {
        return -1;
    }

    for (i = 0, n = 0; i < EG_UUID_LEN; ) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i++] != '-') {
                return -1;
            }

            continue;
        }

        hi = eg_uuid_hex(s[i]);
        lo = eg_uuid_hex(s[i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[n++] = (unsigned char) (hi << 4 | lo);
        i += 2;
    }

    return 0;
}


int
eg_uuid_valid(const char *s)
{
    unsigned char  u[16];

    return s != NULL && eg_uuid_parse(s, strlen(s), u) == 0;
}


void
eg_uuid_format(const unsigned char u[16], char *out)
{
    size_t  i;
    char   *p;

    static const char  hex[] = "0123456789abcdef";

    p = out;

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *p++ = '-';
        }

        *p++ = hex[u[i] >> 4];
        *p++ = hex[u[i] & 0x0f];
    }

    *p = '\0';
}


int
eg_uuid_v5(const unsigned char ns[16], const char *name, size_t len,
    char *out)
{
    int            ok;
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];
    EVP_MD_CTX    *ctx;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL)
         && EVP_DigestUpdate(ctx, ns, 16)
         && EVP_DigestUpdate(ctx, name, len)
         && EVP_DigestFinal_ex(ctx, md, &n);

    EVP_MD_CTX_free(ctx);

    if (!ok || n < 16) {
        return -1;
    }

    md[6] = (md[6] & 0x0f) | 0x50;
    md[8] = (md[8] & 0x3f) | 0x80;

    eg_uuid_format(md, out);

    return 0;
}


int
eg_uuid_v4(char *out)
{
    unsigned char  u[16];

    if (RAND_bytes(u, sizeof(u)) != 1) {
        return -1;
    }

    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;

    eg_uuid_format(u, out);

    return 0;
}


static int
eg_uuid_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}
