/*
 * Copyright (C) EduGate contributors
 *
 * Signing with the active key of a set, and the one verify wrapper.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "eg_codec.h"
#include "eg_jwt.h"
#include "eg_jwk.h"


#define EG_JWT_ES256_SIG   (2 * EG_JWT_P256_BYTES)

/* an ECDSA P-256 signature in DER is at most 72 bytes */
#define EG_JWT_ECDSA_DER_MAX  80


static int eg_jwt_typ_ok(const char *typ);
static int eg_jwt_sign_raw(const eg_jwt_key_t *key, const unsigned char *tbs,
    size_t n, unsigned char *sig, size_t *siglen);
static int eg_jwt_policy_ok(const eg_jwt_policy_t *p);
static eg_jwt_rc_e eg_jwt_check_header(const eg_jwt_keyset_t *ks,
    const eg_jwt_policy_t *p, const json_t *head, eg_jwt_key_t **key);
static eg_jwt_rc_e eg_jwt_check_sig(const eg_jwt_key_t *key,
    const unsigned char *tbs, size_t n, const unsigned char *sig,
    size_t siglen);
static eg_jwt_rc_e eg_jwt_check_claims(const eg_jwt_policy_t *p,
    const json_t *head, const json_t *claims);
static int eg_jwt_str_is(const json_t *v, const char *s);


static const char  *eg_jwt_rc_names[] = {
    "ok",
    "malformed",
    "alg_not_allowed",
    "unknown_kid",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "wrong_issuer",
    "wrong_audience",
    "wrong_type",
    "bad_policy",
    "error"
};


const char *
eg_jwt_rc_name(eg_jwt_rc_e rc)
{
    if ((unsigned) rc > EG_JWT_ERROR) {
        return "error";
    }

    return eg_jwt_rc_names[rc];
}


char *
eg_jwt_sign(const eg_jwt_keyset_t *ks, const json_t *claims, const char *typ)
{
    char           *htext, *ptext, *token;
    size_t          hlen, plen, siglen;
    json_t         *head;
    unsigned char  *p;
    eg_jwt_key_t   *key;
    unsigned char   sig[EG_JWT_SIG_MAX];

    key = ks->active;

    if (key == NULL || !json_is_object(claims) || !eg_jwt_typ_ok(typ)) {
        return NULL;
    }

    head = json_pack("{s:s, s:s, s:s}", "alg", eg_jwt_alg_name(key->alg),
                     "kid", key->kid, "typ", typ);
    if (head == NULL) {
        return NULL;
    }

    htext = json_dumps(head, JSON_COMPACT);
    ptext = json_dumps(claims, JSON_COMPACT);

    json_decref(head);

    token = NULL;

    if (htext == NULL || ptext == NULL) {
        goto done;
    }

    hlen = strlen(htext);
    plen = strlen(ptext);

    token = malloc(eg_b64url_len(hlen) + eg_b64url_len(plen)
                   + eg_b64url_len(EG_JWT_SIG_MAX) + 3);
    if (token == NULL) {
        goto done;
    }

    p = (unsigned char *) token;

    p += eg_b64url_encode(p, (unsigned char *) htext, hlen);
    *p++ = '.';
    p += eg_b64url_encode(p, (unsigned char *) ptext, plen);

    if (eg_jwt_sign_raw(key, (unsigned char *) token,
                        p - (unsigned char *) token, sig, &siglen)
        != 0)
    {
        free(token);
        token = NULL;
        goto done;
    }

    *p++ = '.';
    p += eg_b64url_encode(p, sig, siglen);
    *p = '\0';

    /* nothing is minted that eg_jwt_verify() would refuse for its size */

    if (p - (unsigned char *) token > EG_JWT_TOKEN_MAX) {
        free(token);
        token = NULL;
    }

done:

    free(htext);
    free(ptext);

    return token;
}


char *
eg_jwt_sign_json(const eg_jwt_keyset_t *ks, const char *json, size_t n,
    const char *typ)
{
    char    *token;
    json_t  *claims;

    claims = json_loadb(json, n, JSON_REJECT_DUPLICATES, NULL);
    if (claims == NULL) {
        return NULL;
    }

    token = eg_jwt_sign(ks, claims, typ);

    json_decref(claims);

    return token;
}


/*
 * Every part is checked for strict base64url and the header for alg and
 * kid before any signature code runs; the payload is parsed only once the
 * signature holds.
 */

eg_jwt_rc_e
eg_jwt_verify(const eg_jwt_keyset_t *ks, const eg_jwt_policy_t *policy,
    const char *token, size_t n, json_t **claims)
{
    size_t                hlen, plen, slen;
    ssize_t               len;
    json_t               *head, *payload;
    eg_jwt_rc_e           rc;
    eg_jwt_key_t         *key;
    const unsigned char  *t, *dot1, *dot2;
    unsigned char         buf[EG_JWT_TOKEN_MAX];
    unsigned char         sig[EG_JWT_SIG_MAX];

    if (claims != NULL) {
        *claims = NULL;
    }

    if (ks == NULL || policy == NULL || !eg_jwt_policy_ok(policy)) {
        return EG_JWT_BAD_POLICY;
    }

    if (token == NULL || n == 0 || n > EG_JWT_TOKEN_MAX) {
        return EG_JWT_MALFORMED;
    }

    t = (const unsigned char *) token;

    dot1 = memchr(t, '.', n);
    if (dot1 == NULL) {
        return EG_JWT_MALFORMED;
    }

    dot2 = memchr(dot1 + 1, '.', n - (dot1 + 1 - t));
    if (dot2 == NULL) {
        return EG_JWT_MALFORMED;
    }

    hlen = dot1 - t;
    plen = dot2 - (dot1 + 1);
    slen = n - (dot2 + 1 - t);

    if (hlen == 0
        || plen == 0
        || !eg_is_b64url(t, hlen)
        || !eg_is_b64url(dot1 + 1, plen)
        || !eg_is_b64url(dot2 + 1, slen))
    {
        /* a third dot is not base64url either */
        return EG_JWT_MALFORMED;
    }

    len = eg_b64url_decode(buf, t, hlen);
    if (len < 0) {
        return EG_JWT_MALFORMED;
    }

    head = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(head)) {
        json_decref(head);
        return EG_JWT_MALFORMED;
    }

    payload = NULL;

    rc = eg_jwt_check_header(ks, policy, head, &key);
    if (rc != EG_JWT_OK) {
        goto done;
    }

    if (slen > eg_b64url_len(EG_JWT_SIG_MAX)) {
        rc = EG_JWT_BAD_SIGNATURE;
        goto done;
    }

    len = eg_b64url_decode(sig, dot2 + 1, slen);

    rc = eg_jwt_check_sig(key, t, dot2 - t, sig, (size_t) len);
    if (rc != EG_JWT_OK) {
        goto done;
    }

    len = eg_b64url_decode(buf, dot1 + 1, plen);

    payload = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES,
                         NULL);
    if (!json_is_object(payload)) {
        rc = EG_JWT_MALFORMED;
        goto done;
    }

    rc = eg_jwt_check_claims(policy, head, payload);

done:

    json_decref(head);

    if (rc == EG_JWT_OK && claims != NULL) {
        *claims = payload;

    } else {
        json_decref(payload);
    }

    return rc;
}


/* a media type (RFC 6838 name characters and "/"), as RFC 7515 4.1.9 says */

static int
eg_jwt_typ_ok(const char *typ)
{
    size_t  i;
    char    c;

    if (typ == NULL) {
        return 0;
    }

    for (i = 0; typ[i]; i++) {
        c = typ[i];

        if (i == EG_JWT_TYP_MAX
            || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                 || (c >= '0' && c <= '9')
                 || strchr("!#$&^_.+-/", c) != NULL))
        {
            return 0;
        }
    }

    return i > 0;
}


/* ES256 signatures are the raw r || s of RFC 7518 3.4, not DER */

static int
eg_jwt_sign_raw(const eg_jwt_key_t *key, const unsigned char *tbs, size_t n,
    unsigned char *sig, size_t *siglen)
{
    int                   rc;
    size_t                len;
    EVP_MD_CTX           *ctx;
    ECDSA_SIG            *es;
    const BIGNUM         *r, *s;
    const unsigned char  *p;
    unsigned char         der[EG_JWT_ECDSA_DER_MAX];

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    rc = -1;

    if (key->alg == EG_JWT_RS256) {
        len = EG_JWT_SIG_MAX;

        if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1
            && EVP_DigestSign(ctx, sig, &len, tbs, n) == 1)
        {
            *siglen = len;
            rc = 0;
        }

        goto done;
    }

    len = sizeof(der);

    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) != 1
        || EVP_DigestSign(ctx, der, &len, tbs, n) != 1)
    {
        goto done;
    }

    p = der;

    es = d2i_ECDSA_SIG(NULL, &p, (long) len);
    if (es == NULL) {
        goto done;
    }

    ECDSA_SIG_get0(es, &r, &s);

    if (BN_bn2binpad(r, sig, EG_JWT_P256_BYTES) == EG_JWT_P256_BYTES
        && BN_bn2binpad(s, sig + EG_JWT_P256_BYTES, EG_JWT_P256_BYTES)
           == EG_JWT_P256_BYTES)
    {
        *siglen = EG_JWT_ES256_SIG;
        rc = 0;
    }

    ECDSA_SIG_free(es);

done:

    EVP_MD_CTX_free(ctx);

    if (rc != 0) {
        ERR_clear_error();
    }

    return rc;
}


static int
eg_jwt_policy_ok(const eg_jwt_policy_t *p)
{
    return p->algs != 0
           && (p->algs & ~(unsigned) EG_JWT_ALGS_ALL) == 0
           && p->iss != NULL && p->iss[0] != '\0'
           && (p->any_aud ? p->aud == NULL
                          : p->aud != NULL && p->aud[0] != '\0')
           && p->typ != NULL && p->typ[0] != '\0'
           && p->leeway >= 0
           && p->now > 0;
}


/*
 * "crit" names extensions that must be understood; we understand none.
 * jku, x5u, jwk and x5c are never looked at: keys come only from our set.
 */

static eg_jwt_rc_e
eg_jwt_check_header(const eg_jwt_keyset_t *ks, const eg_jwt_policy_t *p,
    const json_t *head, eg_jwt_key_t **key)
{
    json_t        *v;
    eg_jwt_alg_e   alg;

    if (json_object_get(head, "crit") != NULL) {
        return EG_JWT_MALFORMED;
    }

    v = json_object_get(head, "alg");
    if (!json_is_string(v)) {
        return EG_JWT_ALG_NOT_ALLOWED;
    }

    alg = eg_jwt_alg_from_str(json_string_value(v), json_string_length(v));
    if (alg == 0 || (alg & p->algs) == 0) {
        return EG_JWT_ALG_NOT_ALLOWED;
    }

    v = json_object_get(head, "kid");
    if (!json_is_string(v)) {
        return EG_JWT_UNKNOWN_KID;
    }

    *key = eg_jwk_find(ks, json_string_value(v), json_string_length(v));

    if (*key == NULL || (*key)->alg != alg) {
        return EG_JWT_UNKNOWN_KID;
    }

    return EG_JWT_OK;
}


static eg_jwt_rc_e
eg_jwt_check_sig(const eg_jwt_key_t *key, const unsigned char *tbs,
    size_t n, const unsigned char *sig, size_t siglen)
{
    int             len;
    BIGNUM         *r, *s;
    ECDSA_SIG      *es;
    EVP_MD_CTX     *ctx;
    eg_jwt_rc_e     rc;
    unsigned char  *p;
    unsigned char   der[EG_JWT_ECDSA_DER_MAX];

    if (key->alg == EG_JWT_RS256) {
        if (siglen != (size_t) EVP_PKEY_get_size(key->pkey)) {
            return EG_JWT_BAD_SIGNATURE;
        }

    } else {
        if (siglen != EG_JWT_ES256_SIG) {
            return EG_JWT_BAD_SIGNATURE;
        }

        es = ECDSA_SIG_new();
        r = BN_bin2bn(sig, EG_JWT_P256_BYTES, NULL);
        s = BN_bin2bn(sig + EG_JWT_P256_BYTES, EG_JWT_P256_BYTES, NULL);

        if (es == NULL || r == NULL || s == NULL) {
            ECDSA_SIG_free(es);
            BN_free(r);
            BN_free(s);
            return EG_JWT_ERROR;
        }

        /* refused here too, whatever the library does with them */

        if (BN_is_zero(r) || BN_is_zero(s)) {
            ECDSA_SIG_free(es);
            BN_free(r);
            BN_free(s);
            return EG_JWT_BAD_SIGNATURE;
        }

        ECDSA_SIG_set0(es, r, s);

        len = i2d_ECDSA_SIG(es, NULL);

        if (len <= 0 || len > (int) sizeof(der)) {
            ECDSA_SIG_free(es);
            return EG_JWT_ERROR;
        }

        p = der;
        len = i2d_ECDSA_SIG(es, &p);

        ECDSA_SIG_free(es);

        sig = der;
        siglen = len;
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return EG_JWT_ERROR;
    }

    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) != 1) {
        rc = EG_JWT_ERROR;

    } else if (EVP_DigestVerify(ctx, sig, siglen, tbs, n) == 1) {
        rc = EG_JWT_OK;

    } else {
        rc = EG_JWT_BAD_SIGNATURE;
    }

    EVP_MD_CTX_free(ctx);
    ERR_clear_error();

    return rc;
}


static eg_jwt_rc_e
eg_jwt_check_claims(const eg_jwt_policy_t *p, const json_t *head,
    const json_t *claims)
{
    size_t   i;
    json_t  *v, *item;
    int64_t  leeway;

    leeway = p->leeway < EG_JWT_LEEWAY_MAX ? p->leeway : EG_JWT_LEEWAY_MAX;

    v = json_object_get(claims, "exp");
    if (!json_is_integer(v)) {
        return EG_JWT_MALFORMED;
    }

    if (json_integer_value(v) <= p->now - leeway && !p->expired_ok) {
        return EG_JWT_EXPIRED;
    }

    v = json_object_get(claims, "nbf");
    if (v != NULL) {
        if (!json_is_integer(v)) {
            return EG_JWT_MALFORMED;
        }

        if (json_integer_value(v) > p->now + leeway) {
            return EG_JWT_NOT_YET_VALID;
        }
    }

    v = json_object_get(claims, "iat");
    if (v != NULL) {
        if (!json_is_integer(v)) {
            return EG_JWT_MALFORMED;
        }

        if (json_integer_value(v) > p->now + leeway) {
            return EG_JWT_NOT_YET_VALID;
        }
    }

    if (!eg_jwt_str_is(json_object_get(claims, "iss"), p->iss)) {
        return EG_JWT_WRONG_ISSUER;
    }

    v = json_object_get(claims, "aud");

    if (p->any_aud) {
        if (!json_is_string(v) && !json_is_array(v)) {
            return EG_JWT_WRONG_AUDIENCE;
        }

    } else if (!eg_jwt_str_is(v, p->aud)) {
        if (!json_is_array(v)) {
            return EG_JWT_WRONG_AUDIENCE;
        }

        json_array_foreach(v, i, item) {
            if (eg_jwt_str_is(item, p->aud)) {
                break;
            }
        }

        if (i == json_array_size(v)) {
            return EG_JWT_WRONG_AUDIENCE;
        }
    }

    if (!eg_jwt_str_is(json_object_get(head, "typ"), p->typ)) {
        return EG_JWT_WRONG_TYPE;
    }

    return EG_JWT_OK;
}


static int
eg_jwt_str_is(const json_t *v, const char *s)
{
    size_t  n;

    if (!json_is_string(v)) {
        return 0;
    }

    n = strlen(s);

    return json_string_length(v) == n
           && memcmp(json_string_value(v), s, n) == 0;
}
