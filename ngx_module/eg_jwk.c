/*
 * Copyright (C) EduGate contributors
 *
 * The key set: keys loaded from PEM, their kids (given, or the RFC 7638
 * thumbprint), their public PEM and the JWKS that publishes them.
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
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "eg_codec.h"
#include "eg_jwt.h"
#include "eg_jwk.h"


#define EG_JWT_PEM_MAX     65536


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

    if (eg_jwk_find(ks, key->kid, strlen(key->kid)) != NULL) {
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

    key = eg_jwk_find(ks, kid, strlen(kid));
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


eg_jwt_alg_e
eg_jwt_keyset_active_alg(const eg_jwt_keyset_t *ks)
{
    return ks->active ? ks->active->alg : 0;
}


const char *
eg_jwt_keyset_public_pem(const eg_jwt_keyset_t *ks, const char *kid)
{
    eg_jwt_key_t  *key;

    key = eg_jwk_find(ks, kid, strlen(kid));

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


eg_jwt_key_t *
eg_jwk_find(const eg_jwt_keyset_t *ks, const char *kid, size_t n)
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
