/*
 * Copyright (C) EduGate contributors
 *
 * Encoders and comparisons used for session ids, tokens and Redis keys.
 * nginx-free: linked directly by the unit tests.
 */

#ifndef _EG_CODEC_H_INCLUDED_
#define _EG_CODEC_H_INCLUDED_

#include <stddef.h>
#include <sys/types.h>


#define EG_SHA256_HEX_LEN  64

/* length of the unpadded base64url text for n bytes */
#define eg_b64url_len(n)  (((n) * 4 + 2) / 3)


size_t eg_b64url_encode(unsigned char *dst, const unsigned char *src,
    size_t n);
ssize_t eg_b64url_decode(unsigned char *dst, const unsigned char *src,
    size_t n);
int eg_is_b64url(const unsigned char *s, size_t n);
void eg_hex_encode(unsigned char *dst, const unsigned char *src, size_t n);
int eg_const_eq(const unsigned char *a, const unsigned char *b, size_t n);
int eg_sha256_hex(unsigned char *dst, const unsigned char *src, size_t n);
int eg_random_b64url(unsigned char *dst, size_t nbytes);

#endif /* _EG_CODEC_H_INCLUDED_ */
