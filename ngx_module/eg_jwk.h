/*
 * Copyright (C) EduGate contributors
 *
 * Inside of a key set, shared by eg_jwk.c (which fills it) and eg_jwt.c
 * (which signs and verifies with it).  Not part of the eg_jwt.h API.
 */

#ifndef _EG_JWK_H_INCLUDED_
#define _EG_JWK_H_INCLUDED_

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "eg_jwt.h"


#define EG_JWT_SIG_MAX     (EG_JWT_RSA_MAX_BITS / 8)
#define EG_JWT_P256_BYTES  32


typedef struct {
    char           kid[EG_JWT_KID_MAX + 1];
    eg_jwt_alg_e   alg;
    int            can_sign;
    EVP_PKEY      *pkey;
    char          *public_pem;
    json_t        *jwk;
} eg_jwt_key_t;


struct eg_jwt_keyset_s {
    eg_jwt_key_t   keys[EG_JWT_MAX_KEYS];
    size_t         nkeys;
    eg_jwt_key_t  *active;
};


/* the key with this kid (n bytes, not NUL-terminated), NULL if none */
eg_jwt_key_t *eg_jwk_find(const eg_jwt_keyset_t *ks, const char *kid,
    size_t n);

#endif /* _EG_JWK_H_INCLUDED_ */
