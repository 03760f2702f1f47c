/*
 * Copyright (C) EduGate contributors
 *
 * Signed JWTs (compact JWS, RS256 and ES256 only): a set of signing keys,
 * its JWKS, signing with the active key, and the one verify wrapper every
 * inbound token goes through.  nginx-free: linked directly by the unit
 * tests.
 *
 * Signatures are made and checked with OpenSSL directly: libjwt 1.10
 * rewrites "typ" to "JWT" when encoding and refuses any other "typ" when
 * decoding, so it can carry neither "at+jwt" nor "logout+jwt".
 *
 * A key set is filled at configuration time and only read afterwards, so
 * signing and verifying need no locks.
 */

#ifndef _EG_JWT_H_INCLUDED_
#define _EG_JWT_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>


#define EG_JWT_MAX_KEYS      8
#define EG_JWT_KID_MAX       64
#define EG_JWT_TYP_MAX       64
#define EG_JWT_TOKEN_MAX     8192
#define EG_JWT_LEEWAY_MAX    60
#define EG_JWT_RSA_MIN_BITS  2048
#define EG_JWT_RSA_MAX_BITS  8192

/* a buffer this size holds any message of eg_jwt_keyset_add_*() */
#define EG_JWT_ERR_MAX       160


/* bit values, so that a policy can allow several */
typedef enum {
    EG_JWT_RS256 = 0x01,
    EG_JWT_ES256 = 0x02
} eg_jwt_alg_e;

#define EG_JWT_ALGS_ALL  (EG_JWT_RS256 | EG_JWT_ES256)


typedef enum {
    EG_JWT_OK = 0,
    EG_JWT_MALFORMED,           /* size, shape, encoding, JSON, crit, exp */
    EG_JWT_ALG_NOT_ALLOWED,
    EG_JWT_UNKNOWN_KID,         /* no kid, or no key with this kid and alg */
    EG_JWT_BAD_SIGNATURE,
    EG_JWT_EXPIRED,
    EG_JWT_NOT_YET_VALID,       /* nbf or iat in the future */
    EG_JWT_WRONG_ISSUER,
    EG_JWT_WRONG_AUDIENCE,
    EG_JWT_WRONG_TYPE,
    EG_JWT_BAD_POLICY,          /* the caller's policy is unusable */
    EG_JWT_ERROR                /* out of memory, OpenSSL failure */
} eg_jwt_rc_e;


/*
 * What an inbound token must satisfy.  iss, aud and typ are required and
 * compared exactly (case-sensitive); the token's aud may be a string or an
 * array containing aud.  leeway is capped at EG_JWT_LEEWAY_MAX.
 *
 * any_aud (with aud NULL): any audience, for the one caller that picks
 * the client by the token's own aud (an id_token_hint).  expired_ok: an
 * expired token still verifies, as an id_token_hint may.
 */
typedef struct {
    unsigned     algs;          /* EG_JWT_RS256 | EG_JWT_ES256 */
    const char  *iss;
    const char  *aud;
    const char  *typ;
    int64_t      leeway;        /* seconds */
    int64_t      now;           /* unix seconds */
    unsigned     any_aud:1;
    unsigned     expired_ok:1;
} eg_jwt_policy_t;


typedef struct eg_jwt_keyset_s  eg_jwt_keyset_t;


/* "RS256"/"ES256" (exact spelling) to the alg; 0 if not one of them */
eg_jwt_alg_e eg_jwt_alg_from_str(const char *s, size_t n);
const char *eg_jwt_alg_name(eg_jwt_alg_e alg);
const char *eg_jwt_rc_name(eg_jwt_rc_e rc);

eg_jwt_keyset_t *eg_jwt_keyset_create(void);
void eg_jwt_keyset_free(eg_jwt_keyset_t *ks);

/*
 * Adds a key from PEM text: a private key (can sign) or, for a retired key
 * that is only verified and published, a public key.  RSA must have
 * 2048..8192 bits, EC must be P-256, and the key must fit alg.  kid may be
 * NULL: the RFC 7638 thumbprint is used, so every node loading the same key
 * publishes the same kid.  The first key that can sign becomes active.
 * 0, or -1 with a short message in err (it names no file: the caller does).
 */
int eg_jwt_keyset_add_pem(eg_jwt_keyset_t *ks, const char *pem, size_t n,
    const char *kid, eg_jwt_alg_e alg, char *err, size_t errlen);
int eg_jwt_keyset_add_file(eg_jwt_keyset_t *ks, const char *path,
    const char *kid, eg_jwt_alg_e alg, char *err, size_t errlen);

/* 0, or -1 if kid is unknown or its key cannot sign */
int eg_jwt_keyset_activate(eg_jwt_keyset_t *ks, const char *kid);

size_t eg_jwt_keyset_count(const eg_jwt_keyset_t *ks);
/* kid of key i in load order, NULL past the end */
const char *eg_jwt_keyset_kid(const eg_jwt_keyset_t *ks, size_t i);
/* NULL if no key can sign */
const char *eg_jwt_keyset_active_kid(const eg_jwt_keyset_t *ks);
/* 0 if no key can sign */
eg_jwt_alg_e eg_jwt_keyset_active_alg(const eg_jwt_keyset_t *ks);
/* SubjectPublicKeyInfo PEM of a key, NULL if kid is unknown */
const char *eg_jwt_keyset_public_pem(const eg_jwt_keyset_t *ks,
    const char *kid);

/*
 * {"keys":[...]} with every key of the set, public members only.
 * malloc()ed NUL-terminated text, free() by the caller; NULL on failure.
 */
char *eg_jwt_keyset_jwks(const eg_jwt_keyset_t *ks);

/*
 * Compact JWS of claims (a JSON object) with header {alg, kid, typ} of
 * the active key; typ is a media type ("JWT", "at+jwt", "logout+jwt").
 * malloc()ed NUL-terminated text, free() by the caller; NULL on failure,
 * if no key can sign, or if the token would exceed EG_JWT_TOKEN_MAX.
 */
char *eg_jwt_sign(const eg_jwt_keyset_t *ks, const json_t *claims,
    const char *typ);
char *eg_jwt_sign_json(const eg_jwt_keyset_t *ks, const char *json,
    size_t n, const char *typ);

/*
 * The one verify wrapper.  The header's alg must be a JSON string equal to
 * an allowed alg and its kid must name a key of ks with that alg, all
 * before any signature code runs.  A token without kid is refused even
 * when the choice would be unambiguous: our tokens always carry one.  exp
 * is required; exp, nbf and iat must be integers.  On EG_JWT_OK *claims
 * is the payload object (json_decref() by the caller), else NULL.
 */
eg_jwt_rc_e eg_jwt_verify(const eg_jwt_keyset_t *ks,
    const eg_jwt_policy_t *policy, const char *token, size_t n,
    json_t **claims);

#endif /* _EG_JWT_H_INCLUDED_ */
