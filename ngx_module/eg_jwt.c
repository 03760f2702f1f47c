/*
 * Copyright (C) EduGate contributors
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "eg_codec.h"
#include "eg_jwt.h"


#define EG_JWT_PEM_MAX     65536
#define EG_JWT_SIG_MAX     (EG_JWT_RSA_MAX_BITS / 8)
#define EG_JWT_P256_BYTES  32
#define EG_JWT_ES256_SIG   (2 * EG_JWT_P256_BYTES)

/* an ECDSA P-256 signature in DER is at most 72 bytes */
#define EG_JWT_ECDSA_DER_MAX  80


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


static int eg_jwt_no_password(char *buf, int size, int rwflag, void *data);
static int eg_jwt_check_key(EVP_PKEY *pkey, eg_jwt_alg_e alg, char *err,
    size_t errlen);
static int eg_jwt_fill_key(eg_jwt_key_t *key, EVP_PKEY *pkey,
    const char *kid, eg_jwt_alg_e alg);
static json_t *eg_jwt_public_members(EVP_PKEY *pkey, eg_jwt_alg_e alg);
static int eg_jwt_set_bn(json_t *obj, const char *name, const BIGNUM *bn,
    int pad);
static int eg_jwt_thumbprint(char *kid, const json_t *members);
static char *eg_jwt_public_pem_text(EVP_PKEY *pkey);
static int eg_jwt_kid_ok(const char *kid);
static int eg_jwt_typ_ok(const char *typ);
static eg_jwt_key_t *eg_jwt_find(const eg_jwt_keyset_t *ks, const char *kid,
    size_t n);
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


eg_jwt_alg_e
eg_jwt_alg_from_str(const char *s, size_t n)
{
    if (n == 5 && memcmp(s, "RS256", 5) == 0) {
        return EG_JWT_RS256;
    }

    if (n == 5 && memcmp(s, "ES256", 5) == 0) {
        return EG_JWT_ES256;
    }

    return 0;
}


const char *
eg_jwt_alg_name(eg_jwt_alg_e alg)
{
    switch (alg) {
    case EG_JWT_RS256:
        return "RS256";
    case EG_JWT_ES256:
        return "ES256";
    }

    return NULL;
}


const char *
eg_jwt_rc_name(eg_jwt_rc_e rc)
{
    if ((unsigned) rc > EG_JWT_ERROR) {
        return "error";
    }

    return eg_jwt_rc_names[rc];
}


eg_jwt_keyset_t *
eg_jwt_keyset_create(void)
{
    return calloc(1, sizeof(eg_jwt_keyset_t));
}


void
eg_jwt_keyset_free(eg_jwt_keyset_t *ks)
{
    size_t         i;
    eg_jwt_key_t  *key;

    if (ks == NULL) {
        return;
    }

    for (i = 0; i < ks->nkeys; i++) {
        key = &ks->keys[i];

        EVP_PKEY_free(key->pkey);
        free(key->public_pem);
        json_decref(key->jwk);
    }

    free(ks);
}


int
eg_jwt_keyset_add_pem(eg_jwt_keyset_t *ks, const char *pem, size_t n,
    const char *kid, eg_jwt_alg_e alg, char *err, size_t errlen)
{
    int            encrypted, can_sign;
    BIO           *bio;
    EVP_PKEY      *pkey;
    eg_jwt_key_t  *key;

    if (ks->nkeys == EG_JWT_MAX_KEYS) {
        snprintf(err, errlen, "too many keys, at most %d",
                 EG_JWT_MAX_KEYS);
        return -1;
    }

    if (eg_jwt_alg_name(alg) == NULL) {
        snprintf(err, errlen, "alg must be RS256 or ES256");
        return -1;
    }

    if (kid != NULL && !eg_jwt_kid_ok(kid)) {
        snprintf(err, errlen, "kid must be 1 to %d characters of "
                 "A-Z a-z 0-9 . _ -", EG_JWT_KID_MAX);
        return -1;
    }

    if (n > EG_JWT_PEM_MAX) {
        snprintf(err, errlen, "key is larger than %d bytes", EG_JWT_PEM_MAX);
        return -1;
    }

    bio = BIO_new_mem_buf(pem, (int) n);
    if (bio == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    /* a passphrase prompt on the terminal would hang "nginx -t" */

    encrypted = 0;
    can_sign = 1;

    pkey = PEM_read_bio_PrivateKey(bio, NULL, eg_jwt_no_password,
                                   &encrypted);

    if (pkey == NULL && !encrypted && BIO_reset(bio) == 1) {
        can_sign = 0;
        pkey = PEM_read_bio_PUBKEY(bio, NULL, eg_jwt_no_password, NULL);
    }

    BIO_free(bio);

    if (pkey == NULL) {
        ERR_clear_error();

        if (encrypted) {
            snprintf(err, errlen, "encrypted keys are not supported");

        } else {
            snprintf(err, errlen, "no PEM private or public key found");
        }

        return -1;
    }

    if (eg_jwt_check_key(pkey, alg, err, errlen) != 0) {
        EVP_PKEY_free(pkey);
        return -1;
    }

    key = &ks->keys[ks->nkeys];

    if (eg_jwt_fill_key(key, pkey, kid, alg) != 0) {
        ERR_clear_error();
        EVP_PKEY_free(pkey);
        snprintf(err, errlen, "cannot export the public key");
        return -1;
    }

    if (eg_jwt_find(ks, key->kid, strlen(key->kid)) != NULL) {
        snprintf(err, errlen, "duplicate kid \"%s\"", key->kid);

        EVP_PKEY_free(key->pkey);
        free(key->public_pem);
        json_decref(key->jwk);
        memset(key, 0, sizeof(eg_jwt_key_t));

        return -1;
    }

    key->can_sign = can_sign;
    ks->nkeys++;

    if (ks->active == NULL && can_sign) {
        ks->active = key;
    }

    return 0;
}


int
eg_jwt_keyset_add_file(eg_jwt_keyset_t *ks, const char *path,
    const char *kid, eg_jwt_alg_e alg, char *err, size_t errlen)
{
    int     rc, failed;
    char   *buf;
    FILE   *f;
    size_t  n;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }

    buf = malloc(EG_JWT_PEM_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    n = fread(buf, 1, EG_JWT_PEM_MAX + 1, f);
    failed = ferror(f);

    fclose(f);

    if (failed) {
        snprintf(err, errlen, "cannot read");
        rc = -1;

    } else {
        rc = eg_jwt_keyset_add_pem(ks, buf, n, kid, alg, err, errlen);
    }

    OPENSSL_cleanse(buf, n);
    free(buf);

    return rc;
}


int
eg_jwt_keyset_activate(eg_jwt_keyset_t *ks, const char *kid)
{
    eg_jwt_key_t  *key;

    key = eg_jwt_find(ks, kid, strlen(kid));
    if (key == NULL || !key->can_sign) {
        return -1;
    }

    ks->active = key;

    return 0;
}


size_t
eg_jwt_keyset_count(const eg_jwt_keyset_t *ks)
{
    return ks->nkeys;
}


const char *
eg_jwt_keyset_kid(const eg_jwt_keyset_t *ks, size_t i)
{
    return i < ks->nkeys ? ks->keys[i].kid : NULL;
}


const char *
eg_jwt_keyset_active_kid(const eg_jwt_keyset_t *ks)
{
    return ks->active ? ks->active->kid : NULL;
}


const char *
eg_jwt_keyset_public_pem(const eg_jwt_keyset_t *ks, const char *kid)
{
    eg_jwt_key_t  *key;

    key = eg_jwt_find(ks, kid, strlen(kid));

    return key ? key->public_pem : NULL;
}


char *
eg_jwt_keyset_jwks(const eg_jwt_keyset_t *ks)
{
    char    *out;
    size_t   i;
    json_t  *root, *keys;

    root = json_object();
    keys = json_array();

    if (root == NULL || json_object_set_new(root, "keys", keys) != 0) {
        json_decref(root);
        return NULL;
    }

    for (i = 0; i < ks->nkeys; i++) {
        if (json_array_append(keys, ks->keys[i].jwk) != 0) {
            json_decref(root);
            return NULL;
        }
    }

    out = json_dumps(root, JSON_COMPACT);

    json_decref(root);

    return out;
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


static int
eg_jwt_no_password(char *buf, int size, int rwflag, void *data)
{
    (void) buf;
    (void) size;
    (void) rwflag;

    if (data != NULL) {
        *(int *) data = 1;
    }

    return -1;
}


static int
eg_jwt_check_key(EVP_PKEY *pkey, eg_jwt_alg_e alg, char *err, size_t errlen)
{
    int   bits;
    char  group[64];

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        if (alg != EG_JWT_RS256) {
            snprintf(err, errlen, "an RSA key cannot be used for %s",
                     eg_jwt_alg_name(alg));
            return -1;
        }

        bits = EVP_PKEY_get_bits(pkey);

        if (bits < EG_JWT_RSA_MIN_BITS || bits > EG_JWT_RSA_MAX_BITS) {
            snprintf(err, errlen, "RSA key has %d bits, %d to %d are "
                     "required", bits, EG_JWT_RSA_MIN_BITS,
                     EG_JWT_RSA_MAX_BITS);
            return -1;
        }

        return 0;

    case EVP_PKEY_EC:
        if (alg != EG_JWT_ES256) {
            snprintf(err, errlen, "an EC key cannot be used for %s",
                     eg_jwt_alg_name(alg));
            return -1;
        }

        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1
            || strcmp(group, SN_X9_62_prime256v1) != 0)
        {
            ERR_clear_error();
            snprintf(err, errlen, "EC key is not on curve P-256");
            return -1;
        }

        return 0;

    default:
        snprintf(err, errlen, "key type %s is not supported, only RSA "
                 "and EC P-256", EVP_PKEY_get0_type_name(pkey));
        return -1;
    }
}


static int
eg_jwt_fill_key(eg_jwt_key_t *key, EVP_PKEY *pkey, const char *kid,
    eg_jwt_alg_e alg)
{
    json_t  *jwk;
    char    *pem;

    jwk = eg_jwt_public_members(pkey, alg);
    if (jwk == NULL) {
        return -1;
    }

    if (kid != NULL) {
        memcpy(key->kid, kid, strlen(kid) + 1);

    } else if (eg_jwt_thumbprint(key->kid, jwk) != 0) {
        json_decref(jwk);
        return -1;
    }

    pem = eg_jwt_public_pem_text(pkey);

    if (pem == NULL
        || json_object_set_new(jwk, "use", json_string("sig")) != 0
        || json_object_set_new(jwk, "alg",
                               json_string(eg_jwt_alg_name(alg))) != 0
        || json_object_set_new(jwk, "kid", json_string(key->kid)) != 0)
    {
        free(pem);
        json_decref(jwk);
        return -1;
    }

    key->alg = alg;
    key->pkey = pkey;
    key->public_pem = pem;
    key->jwk = jwk;

    return 0;
}


/* the members RFC 7638 hashes, which are all a JWK of ours publishes too */

static json_t *
eg_jwt_public_members(EVP_PKEY *pkey, eg_jwt_alg_e alg)
{
    int      ok;
    BIGNUM  *a, *b;
    json_t  *obj;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    a = NULL;
    b = NULL;

    if (alg == EG_JWT_RS256) {
        ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) == 1
             && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b) == 1
             && json_object_set_new(obj, "kty", json_string("RSA")) == 0
             && eg_jwt_set_bn(obj, "n", a, 0) == 0
             && eg_jwt_set_bn(obj, "e", b, 0) == 0;

    } else {
        ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) == 1
             && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) == 1
             && json_object_set_new(obj, "kty", json_string("EC")) == 0
             && json_object_set_new(obj, "crv", json_string("P-256")) == 0
             && eg_jwt_set_bn(obj, "x", a, EG_JWT_P256_BYTES) == 0
             && eg_jwt_set_bn(obj, "y", b, EG_JWT_P256_BYTES) == 0;
    }

    BN_free(a);
    BN_free(b);

    if (!ok) {
        json_decref(obj);
        return NULL;
    }

    return obj;
}


/* pad 0: the fewest bytes, as RFC 7518 6.3.1.1 wants for n and e */

static int
eg_jwt_set_bn(json_t *obj, const char *name, const BIGNUM *bn, int pad)
{
    int            len;
    unsigned char  bin[EG_JWT_SIG_MAX];
    unsigned char  text[eg_b64url_len(EG_JWT_SIG_MAX)];

    len = pad ? pad : BN_num_bytes(bn);

    if (len <= 0 || len > (int) sizeof(bin)
        || BN_bn2binpad(bn, bin, len) != len)
    {
        return -1;
    }

    len = eg_b64url_encode(text, bin, len);

    return json_object_set_new(obj, name, json_stringn((char *) text, len));
}


static int
eg_jwt_thumbprint(char *kid, const json_t *members)
{
    int            rc;
    char          *text;
    size_t         n;
    unsigned int   len;
    unsigned char  md[EVP_MAX_MD_SIZE];

    /* compact with sorted keys is the RFC 7638 3.3 form for these members */

    text = json_dumps(members, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL) {
        return -1;
    }

    rc = EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);

    free(text);

    if (rc != 1 || eg_b64url_len(len) > EG_JWT_KID_MAX) {
        return -1;
    }

    n = eg_b64url_encode((unsigned char *) kid, md, len);
    kid[n] = '\0';

    return 0;
}


static char *
eg_jwt_public_pem_text(EVP_PKEY *pkey)
{
    BIO   *bio;
    char  *data, *pem;
    long   len;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return NULL;
    }

    pem = NULL;

    if (PEM_write_bio_PUBKEY(bio, pkey) == 1) {
        len = BIO_get_mem_data(bio, &data);

        if (len > 0) {
            pem = malloc(len + 1);

            if (pem != NULL) {
                memcpy(pem, data, len);
                pem[len] = '\0';
            }
        }
    }

    BIO_free(bio);

    return pem;
}


/* a kid shows up in logs and JSON, so it is kept to plain characters */

static int
eg_jwt_kid_ok(const char *kid)
{
    size_t  i;
    char    c;

    for (i = 0; kid[i]; i++) {
        c = kid[i];

        if (i == EG_JWT_KID_MAX
            || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                 || (c >= '0' && c <= '9') || c == '.' || c == '_'
                 || c == '-'))
        {
            return 0;
        }
    }

    return i > 0;
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


static eg_jwt_key_t *
eg_jwt_find(const eg_jwt_keyset_t *ks, const char *kid, size_t n)
{
    size_t               i;
    const eg_jwt_key_t  *key;

    for (i = 0; i < ks->nkeys; i++) {
        key = &ks->keys[i];

        if (strlen(key->kid) == n && memcmp(key->kid, kid, n) == 0) {
            return (eg_jwt_key_t *) key;
        }
    }

    return NULL;
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
           && p->aud != NULL && p->aud[0] != '\0'
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

    *key = eg_jwt_find(ks, json_string_value(v), json_string_length(v));

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

    if (json_integer_value(v) <= p->now - leeway) {
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

    if (!eg_jwt_str_is(v, p->aud)) {
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
