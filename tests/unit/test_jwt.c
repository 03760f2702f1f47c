/*
 * Pins the JWT layer: key loading and its refusals, the JWKS, RS256/ES256
 * signing (interoperable with libjwt), and every refusal of the verify
 * wrapper (alg, kid, signature, time, iss, aud, typ, shape, size).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "eg_codec.h"
#include "eg_jwt.h"


#define ISS       "https://idp.example.org"
#define AUD       "demo-client"
#define NOW       1700000000
#define EXP       "1700000300"

#define HEAD_RSA  "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}"
#define GOOD      "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":" EXP \
                  ",\"sub\":\"alice\"}"

/* RFC 7638 3.1: the example key of RFC 7517 A.1 and its thumbprint */
#define RFC7638_N                                                            \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7" \
    "aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXA" \
    "rwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7" \
    "d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lF" \
    "d2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_KID  "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


typedef struct {
    char              dir[128];
    char              rsa[300];
    char              rsa2[300];
    char              ec[300];
    char              ec_short_x[300];
    char              ec_pub[300];
    char              rsa1024[300];
    char              p384[300];
    char              ed25519[300];
    char              encrypted[300];
    char              garbage[300];
    char              empty[300];
    EVP_PKEY         *rsa_key;
    EVP_PKEY         *ec_key;
    EVP_PKEY         *ec_short_x_key;
    eg_jwt_keyset_t  *ks;          /* rsa1 (RS256, active), ec1 (ES256) */
} fixture_t;


static fixture_t  fx;


static void
write_key(char *path, const char *name, EVP_PKEY *pkey, int pub,
    const char *pass)
{
    FILE  *f;
    int    ok;

    snprintf(path, 300, "%s/%s", fx.dir, name);

    f = fopen(path, "w");
    assert_non_null(f);

    if (pub) {
        ok = PEM_write_PUBKEY(f, pkey);

    } else if (pass) {
        ok = PEM_write_PrivateKey(f, pkey, EVP_aes_128_cbc(),
                                  (unsigned char *) pass, strlen(pass),
                                  NULL, NULL);

    } else {
        ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    }

    assert_int_equal(ok, 1);
    assert_int_equal(fclose(f), 0);
}


static void
write_text(char *path, const char *name, const char *text)
{
    FILE  *f;

    snprintf(path, 300, "%s/%s", fx.dir, name);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}


/* an EC key whose x fits in 31 bytes, to see the JWK pad it to 32 */

static EVP_PKEY *
ec_key_with_short_x(void)
{
    int        i;
    BIGNUM    *x;
    EVP_PKEY  *pkey;

    for (i = 0; i < 20000; i++) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(pkey);

        x = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X,
                                               &x), 1);

        if (BN_num_bytes(x) < 32) {
            BN_free(x);
            return pkey;
        }

        BN_free(x);
        EVP_PKEY_free(pkey);
    }

    fail_msg("no EC key with a short x coordinate");

    return NULL;
}


static int
setup(void **state)
{
    char        err[EG_JWT_ERR_MAX];
    EVP_PKEY   *k;
    const char *tmp;

    (void) state;

    tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof(fx.dir), "%s/eg-jwt-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    assert_non_null(mkdtemp(fx.dir));

    fx.rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    fx.ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(fx.rsa_key);
    assert_non_null(fx.ec_key);
    fx.ec_short_x_key = ec_key_with_short_x();

    write_key(fx.rsa, "rsa.pem", fx.rsa_key, 0, NULL);
    write_key(fx.ec, "ec.pem", fx.ec_key, 0, NULL);
    write_key(fx.ec_pub, "ec.pub.pem", fx.ec_key, 1, NULL);
    write_key(fx.ec_short_x, "ec-short-x.pem", fx.ec_short_x_key, 0, NULL);
    write_key(fx.encrypted, "encrypted.pem", fx.rsa_key, 0,
              "demo-passphrase");

    k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    assert_non_null(k);
    write_key(fx.rsa2, "rsa2.pem", k, 0, NULL);
    EVP_PKEY_free(k);

    k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
    assert_non_null(k);
    write_key(fx.rsa1024, "rsa1024.pem", k, 0, NULL);
    EVP_PKEY_free(k);

    k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_non_null(k);
    write_key(fx.p384, "p384.pem", k, 0, NULL);
    EVP_PKEY_free(k);

    k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(k);
    write_key(fx.ed25519, "ed25519.pem", k, 0, NULL);
    EVP_PKEY_free(k);

    write_text(fx.garbage, "garbage.pem",
               "-----BEGIN PRIVATE KEY-----\nnot a key\n"
               "-----END PRIVATE KEY-----\n");
    write_text(fx.empty, "empty.pem", "");

    fx.ks = eg_jwt_keyset_create();
    assert_non_null(fx.ks);
    assert_int_equal(eg_jwt_keyset_add_file(fx.ks, fx.rsa, "rsa1",
                                            EG_JWT_RS256, err, sizeof(err)),
                     0);
    assert_int_equal(eg_jwt_keyset_add_file(fx.ks, fx.ec, "ec1",
                                            EG_JWT_ES256, err, sizeof(err)),
                     0);

    return 0;
}


static int
teardown(void **state)
{
    char         path[300];
    const char  *names[] = {
        "rsa.pem", "rsa2.pem", "ec.pem", "ec.pub.pem", "ec-short-x.pem",
        "encrypted.pem", "rsa1024.pem", "p384.pem", "ed25519.pem",
        "garbage.pem", "empty.pem", NULL
    };
    size_t       i;

    (void) state;

    for (i = 0; names[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", fx.dir, names[i]);
        unlink(path);
    }

    rmdir(fx.dir);

    eg_jwt_keyset_free(fx.ks);
    EVP_PKEY_free(fx.rsa_key);
    EVP_PKEY_free(fx.ec_key);
    EVP_PKEY_free(fx.ec_short_x_key);

    return 0;
}


static eg_jwt_policy_t
policy(void)
{
    eg_jwt_policy_t  p;

    memset(&p, 0, sizeof(p));
    p.algs = EG_JWT_ALGS_ALL;
    p.iss = ISS;
    p.aud = AUD;
    p.typ = "at+jwt";
    p.leeway = 60;
    p.now = NOW;

    return p;
}


static eg_jwt_rc_e
verify_p(const eg_jwt_keyset_t *ks, const eg_jwt_policy_t *p,
    const char *token)
{
    json_t       *claims;
    eg_jwt_rc_e   rc;

    claims = (json_t *) 1;

    rc = eg_jwt_verify(ks, p, token, strlen(token), &claims);

    if (rc == EG_JWT_OK) {
        assert_true(json_is_object(claims));
        json_decref(claims);

    } else {
        assert_null(claims);
    }

    return rc;
}


static eg_jwt_rc_e
verify(const char *token)
{
    eg_jwt_policy_t  p;

    p = policy();

    return verify_p(fx.ks, &p, token);
}


static char *
b64(const void *data, size_t n)
{
    char    *out;
    size_t   len;

    out = malloc(eg_b64url_len(n) + 1);
    assert_non_null(out);

    len = eg_b64url_encode((unsigned char *) out, data, n);
    out[len] = '\0';

    return out;
}


static char *
join3(const char *a, const char *b, const char *c)
{
    char    *out;
    size_t   n;

    n = strlen(a) + strlen(b) + strlen(c) + 3;
    out = malloc(n);
    assert_non_null(out);

    snprintf(out, n, "%s.%s.%s", a, b, c);

    return out;
}


/*
 * A token built without the code under test: header and payload text as
 * given, signed with pkey (SHA-256, RSA PKCS#1 v1.5 or ECDSA in DER, as
 * OpenSSL makes it), or with an empty signature if pkey is NULL.
 */

static char *
craft(const char *head, const char *payload, EVP_PKEY *pkey)
{
    char           *h, *p, *s, *input, *token;
    size_t          n, len;
    EVP_MD_CTX     *ctx;
    unsigned char   sig[1024];

    h = b64(head, strlen(head));
    p = b64(payload, strlen(payload));

    n = strlen(h) + strlen(p) + 2;
    input = malloc(n);
    assert_non_null(input);
    snprintf(input, n, "%s.%s", h, p);

    len = 0;

    if (pkey) {
        ctx = EVP_MD_CTX_new();
        len = sizeof(sig);

        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
                                            pkey), 1);
        assert_int_equal(EVP_DigestSign(ctx, sig, &len,
                                        (unsigned char *) input,
                                        strlen(input)), 1);
        EVP_MD_CTX_free(ctx);
    }

    s = b64(sig, len);
    token = join3(h, p, s);

    free(h);
    free(p);
    free(s);
    free(input);

    return token;
}


static void
check_crafted(const char *head, const char *payload, EVP_PKEY *pkey,
    eg_jwt_rc_e expected)
{
    char  *token;

    token = craft(head, payload, pkey);

    if (verify(token) != expected) {
        fail_msg("%s / %s: expected %s", head, payload,
                 eg_jwt_rc_name(expected));
    }

    free(token);
}


static char *
sign_good(const eg_jwt_keyset_t *ks, const char *typ)
{
    char  *token;

    token = eg_jwt_sign_json(ks, GOOD, strlen(GOOD), typ);
    assert_non_null(token);

    return token;
}


/* the decoded part i (0, 1 or 2) of a token, NUL-terminated */

static size_t
part(const char *token, int i, unsigned char *out, size_t size)
{
    const char  *p, *end;
    ssize_t      n;

    p = token;

    while (i--) {
        p = strchr(p, '.');
        assert_non_null(p);
        p++;
    }

    end = strchr(p, '.');
    if (end == NULL) {
        end = p + strlen(p);
    }

    assert_true((size_t) (end - p) < size);

    n = eg_b64url_decode(out, (unsigned char *) p, end - p);
    assert_true(n >= 0);
    out[n] = '\0';

    return n;
}


static char *
read_file(const char *path, size_t *n)
{
    FILE  *f;
    char  *buf;

    f = fopen(path, "r");
    assert_non_null(f);

    buf = malloc(65536);
    assert_non_null(buf);

    *n = fread(buf, 1, 65535, f);
    buf[*n] = '\0';
    fclose(f);

    return buf;
}


static eg_jwt_keyset_t *
load_one(const char *path, const char *kid, eg_jwt_alg_e alg)
{
    char              err[EG_JWT_ERR_MAX];
    eg_jwt_keyset_t  *ks;

    ks = eg_jwt_keyset_create();
    assert_non_null(ks);

    if (eg_jwt_keyset_add_file(ks, path, kid, alg, err, sizeof(err)) != 0) {
        fail_msg("%s: %s", path, err);
    }

    return ks;
}


static void
test_names(void **state)
{
    int  rc, other;

    (void) state;

    assert_int_equal(eg_jwt_alg_from_str("RS256", 5), EG_JWT_RS256);
    assert_int_equal(eg_jwt_alg_from_str("ES256", 5), EG_JWT_ES256);
    assert_int_equal(eg_jwt_alg_from_str("rs256", 5), 0);
    assert_int_equal(eg_jwt_alg_from_str("RS256 ", 6), 0);
    assert_int_equal(eg_jwt_alg_from_str("RS25", 4), 0);
    assert_int_equal(eg_jwt_alg_from_str("HS256", 5), 0);
    assert_int_equal(eg_jwt_alg_from_str("none", 4), 0);
    assert_string_equal(eg_jwt_alg_name(EG_JWT_RS256), "RS256");
    assert_string_equal(eg_jwt_alg_name(EG_JWT_ES256), "ES256");
    assert_null(eg_jwt_alg_name(0));

    assert_string_equal(eg_jwt_rc_name(EG_JWT_OK), "ok");
    assert_string_equal(eg_jwt_rc_name(EG_JWT_WRONG_TYPE), "wrong_type");
    assert_string_equal(eg_jwt_rc_name(EG_JWT_ERROR), "error");

    for (rc = EG_JWT_OK; rc <= EG_JWT_ERROR; rc++) {
        for (other = rc + 1; other <= EG_JWT_ERROR; other++) {
            assert_string_not_equal(eg_jwt_rc_name(rc),
                                    eg_jwt_rc_name(other));
        }
    }
}


static void
test_load_keys(void **state)
{
    const char  *pem;

    (void) state;

    assert_int_equal(eg_jwt_keyset_count(fx.ks), 2);
    assert_string_equal(eg_jwt_keyset_kid(fx.ks, 0), "rsa1");
    assert_string_equal(eg_jwt_keyset_kid(fx.ks, 1), "ec1");
    assert_null(eg_jwt_keyset_kid(fx.ks, 2));
    assert_string_equal(eg_jwt_keyset_active_kid(fx.ks), "rsa1");

    pem = eg_jwt_keyset_public_pem(fx.ks, "ec1");
    assert_non_null(pem);
    assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
    assert_null(strstr(pem, "PRIVATE"));
    assert_null(eg_jwt_keyset_public_pem(fx.ks, "ec2"));
}


static void
test_round_trip_rs256(void **state)
{
    char             *token;
    json_t           *claims;
    eg_jwt_policy_t   p;
    unsigned char     buf[1024];

    (void) state;

    token = sign_good(fx.ks, "at+jwt");

    part(token, 0, buf, sizeof(buf));
    assert_string_equal((char *) buf, HEAD_RSA);
    assert_int_equal(part(token, 2, buf, sizeof(buf)), 256);

    p = policy();
    assert_int_equal(eg_jwt_verify(fx.ks, &p, token, strlen(token), &claims),
                     EG_JWT_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")),
                        "alice");
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")),
                     NOW + 300);
    json_decref(claims);

    /* the claims are optional output */
    assert_int_equal(eg_jwt_verify(fx.ks, &p, token, strlen(token), NULL),
                     EG_JWT_OK);

    free(token);
}


static void
test_round_trip_es256(void **state)
{
    char             *token;
    eg_jwt_policy_t   p;
    eg_jwt_keyset_t  *ks;
    unsigned char     buf[1024];

    (void) state;

    ks = load_one(fx.ec, "ec1", EG_JWT_ES256);

    token = sign_good(ks, "logout+jwt");

    part(token, 0, buf, sizeof(buf));
    assert_string_equal((char *) buf,
                        "{\"alg\":\"ES256\",\"kid\":\"ec1\","
                        "\"typ\":\"logout+jwt\"}");

    /* raw r || s, not DER */
    assert_int_equal(part(token, 2, buf, sizeof(buf)), 64);

    p = policy();
    p.typ = "logout+jwt";

    assert_int_equal(verify_p(ks, &p, token), EG_JWT_OK);
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_OK);

    p.algs = EG_JWT_ES256;
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_OK);

    free(token);
    eg_jwt_keyset_free(ks);

    ks = load_one(fx.ec_short_x, "ec-short", EG_JWT_ES256);
    token = sign_good(ks, "logout+jwt");
    assert_int_equal(verify_p(ks, &p, token), EG_JWT_OK);
    free(token);
    eg_jwt_keyset_free(ks);
}


static void
test_sign_refusals(void **state)
{
    json_t           *a;
    eg_jwt_keyset_t  *ks;

    (void) state;

    assert_null(eg_jwt_sign_json(fx.ks, "[1]", 3, "JWT"));
    assert_null(eg_jwt_sign_json(fx.ks, "{\"a\":1", 6, "JWT"));
    assert_null(eg_jwt_sign_json(fx.ks, "{\"a\":1,\"a\":2}", 13, "JWT"));
    assert_null(eg_jwt_sign_json(fx.ks, GOOD, strlen(GOOD), NULL));
    assert_null(eg_jwt_sign_json(fx.ks, GOOD, strlen(GOOD), ""));
    assert_null(eg_jwt_sign_json(fx.ks, GOOD, strlen(GOOD), "at jwt"));
    assert_null(eg_jwt_sign_json(fx.ks, GOOD, strlen(GOOD), "at\"jwt"));
    assert_null(eg_jwt_sign_json(fx.ks, GOOD, strlen(GOOD), "at+jwt\n"));
    assert_null(eg_jwt_sign_json(fx.ks, GOOD, strlen(GOOD), "\xc3\xa4"));
    assert_null(eg_jwt_sign_json(fx.ks, GOOD, strlen(GOOD),
                                 "application/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                 "aaaaaaaaaaaaaaaaaaaaaaa"));

    a = json_array();
    assert_null(eg_jwt_sign(fx.ks, a, "JWT"));
    json_decref(a);

    /* a set with only a public key cannot sign */
    ks = load_one(fx.ec_pub, "ec-old", EG_JWT_ES256);
    assert_null(eg_jwt_keyset_active_kid(ks));
    assert_int_equal(eg_jwt_keyset_activate(ks, "ec-old"), -1);
    assert_null(eg_jwt_sign_json(ks, GOOD, strlen(GOOD), "at+jwt"));
    eg_jwt_keyset_free(ks);

    ks = eg_jwt_keyset_create();
    assert_null(eg_jwt_sign_json(ks, GOOD, strlen(GOOD), "at+jwt"));
    eg_jwt_keyset_free(ks);
}


static void
test_interop_libjwt(void **state)
{
    char             *token, *pem;
    jwt_t            *jwt;
    size_t            n;
    const char       *pub;
    eg_jwt_policy_t   p;

    (void) state;

    p = policy();
    p.typ = "JWT";

    /* ours, read by libjwt with the public PEM we derived */

    token = sign_good(fx.ks, "JWT");
    pub = eg_jwt_keyset_public_pem(fx.ks, "rsa1");
    assert_int_equal(jwt_decode(&jwt, token, (unsigned char *) pub,
                                strlen(pub)), 0);
    assert_string_equal(jwt_get_grant(jwt, "sub"), "alice");
    jwt_free(jwt);
    free(token);

    /* libjwt's, read by us; ES256 shows both use raw r || s */

    pem = read_file(fx.ec, &n);

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grants_json(jwt, GOOD), 0);
    assert_int_equal(jwt_add_header(jwt, "kid", "ec1"), 0);
    assert_int_equal(jwt_set_alg(jwt, JWT_ALG_ES256, (unsigned char *) pem,
                                 n), 0);
    token = jwt_encode_str(jwt);
    assert_non_null(token);
    jwt_free(jwt);
    free(pem);

    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_OK);
    free(token);

    pem = read_file(fx.rsa, &n);

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grants_json(jwt, GOOD), 0);
    assert_int_equal(jwt_add_header(jwt, "kid", "rsa1"), 0);
    assert_int_equal(jwt_set_alg(jwt, JWT_ALG_RS256, (unsigned char *) pem,
                                 n), 0);
    token = jwt_encode_str(jwt);
    assert_non_null(token);
    jwt_free(jwt);
    free(pem);

    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_OK);
    free(token);
}


static void
check_jwk_bn(json_t *jwk, const char *member, EVP_PKEY *pkey,
    const char *param, int pad)
{
    int             len;
    BIGNUM         *bn;
    ssize_t         n;
    const char     *text;
    unsigned char   got[600], want[600];

    text = json_string_value(json_object_get(jwk, member));
    assert_non_null(text);

    n = eg_b64url_decode(got, (unsigned char *) text, strlen(text));
    assert_true(n > 0);

    bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pkey, param, &bn), 1);

    len = pad ? pad : BN_num_bytes(bn);
    assert_int_equal(BN_bn2binpad(bn, want, len), len);
    BN_free(bn);

    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);

    /* the fewest bytes: no leading zero unless padded */
    if (!pad) {
        assert_int_not_equal(got[0], 0);
    }
}


static void
check_public_only(json_t *jwk)
{
    const char  **m;
    const char   *private[] = { "d", "p", "q", "dp", "dq", "qi", "k", NULL };

    for (m = private; *m; m++) {
        assert_null(json_object_get(jwk, *m));
    }
}


static void
test_jwks(void **state)
{
    char          *text;
    json_t        *root, *keys, *jwk;
    json_error_t   e;

    (void) state;

    text = eg_jwt_keyset_jwks(fx.ks);
    assert_non_null(text);

    root = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    free(text);
    assert_non_null(root);
    assert_int_equal(json_object_size(root), 1);

    keys = json_object_get(root, "keys");
    assert_int_equal(json_array_size(keys), 2);

    jwk = json_array_get(keys, 0);
    assert_int_equal(json_object_size(jwk), 6);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")),
                        "RSA");
    assert_string_equal(json_string_value(json_object_get(jwk, "use")),
                        "sig");
    assert_string_equal(json_string_value(json_object_get(jwk, "alg")),
                        "RS256");
    assert_string_equal(json_string_value(json_object_get(jwk, "kid")),
                        "rsa1");
    check_jwk_bn(jwk, "n", fx.rsa_key, OSSL_PKEY_PARAM_RSA_N, 0);
    check_jwk_bn(jwk, "e", fx.rsa_key, OSSL_PKEY_PARAM_RSA_E, 0);
    assert_string_equal(json_string_value(json_object_get(jwk, "e")),
                        "AQAB");
    check_public_only(jwk);

    jwk = json_array_get(keys, 1);
    assert_int_equal(json_object_size(jwk), 7);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
    assert_string_equal(json_string_value(json_object_get(jwk, "crv")),
                        "P-256");
    assert_string_equal(json_string_value(json_object_get(jwk, "use")),
                        "sig");
    assert_string_equal(json_string_value(json_object_get(jwk, "alg")),
                        "ES256");
    assert_string_equal(json_string_value(json_object_get(jwk, "kid")),
                        "ec1");
    check_jwk_bn(jwk, "x", fx.ec_key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
    check_jwk_bn(jwk, "y", fx.ec_key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    check_public_only(jwk);

    json_decref(root);
}


static void
test_jwks_ec_padding(void **state)
{
    char             *text;
    json_t           *root, *jwk;
    const char       *x;
    eg_jwt_keyset_t  *ks;
    unsigned char     buf[64];

    (void) state;

    ks = load_one(fx.ec_short_x, "short", EG_JWT_ES256);

    text = eg_jwt_keyset_jwks(ks);
    assert_non_null(text);
    root = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(root);

    jwk = json_array_get(json_object_get(root, "keys"), 0);
    check_jwk_bn(jwk, "x", fx.ec_short_x_key, OSSL_PKEY_PARAM_EC_PUB_X, 32);

    x = json_string_value(json_object_get(jwk, "x"));
    assert_int_equal(strlen(x), 43);
    assert_int_equal(eg_b64url_decode(buf, (unsigned char *) x, 43), 32);
    assert_int_equal(buf[0], 0);

    json_decref(root);
    eg_jwt_keyset_free(ks);
}


static void
test_thumbprint_kid(void **state)
{
    BIO               *bio;
    char              *pem, err[EG_JWT_ERR_MAX];
    long               len;
    BIGNUM            *n, *e;
    ssize_t            nlen;
    EVP_PKEY          *pkey;
    OSSL_PARAM        *params;
    EVP_PKEY_CTX      *ctx;
    OSSL_PARAM_BLD    *bld;
    eg_jwt_keyset_t   *ks;
    unsigned char      bin[256];

    (void) state;

    nlen = eg_b64url_decode(bin, (unsigned char *) RFC7638_N,
                            strlen(RFC7638_N));
    assert_int_equal(nlen, 256);

    n = BN_bin2bn(bin, nlen, NULL);
    e = BN_new();
    assert_int_equal(BN_set_word(e, 65537), 1);

    bld = OSSL_PARAM_BLD_new();
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n),
                     1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e),
                     1);
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_non_null(params);

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    pkey = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY,
                                       params), 1);

    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
    len = BIO_get_mem_data(bio, &pem);

    ks = eg_jwt_keyset_create();
    assert_int_equal(eg_jwt_keyset_add_pem(ks, pem, len, NULL, EG_JWT_RS256,
                                           err, sizeof(err)), 0);
    assert_string_equal(eg_jwt_keyset_kid(ks, 0), RFC7638_KID);

    /* the same key again gets the same kid */
    assert_int_equal(eg_jwt_keyset_add_pem(ks, pem, len, NULL, EG_JWT_RS256,
                                           err, sizeof(err)), -1);
    assert_non_null(strstr(err, "duplicate kid"));

    eg_jwt_keyset_free(ks);
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
}


static void
test_rotation(void **state)
{
    char             *old, *new, *text, err[EG_JWT_ERR_MAX];
    eg_jwt_policy_t   p;
    eg_jwt_keyset_t  *ks;
    unsigned char     buf[256];

    (void) state;

    ks = load_one(fx.rsa, "2024-01", EG_JWT_RS256);
    assert_int_equal(eg_jwt_keyset_add_file(ks, fx.rsa2, "2024-07",
                                            EG_JWT_RS256, err, sizeof(err)),
                     0);
    assert_int_equal(eg_jwt_keyset_add_file(ks, fx.ec_pub, "ec-retired",
                                            EG_JWT_ES256, err, sizeof(err)),
                     0);

    /* a new key is published before it is used */
    assert_string_equal(eg_jwt_keyset_active_kid(ks), "2024-01");
    old = sign_good(ks, "at+jwt");

    assert_int_equal(eg_jwt_keyset_activate(ks, "2024-07"), 0);
    assert_int_equal(eg_jwt_keyset_activate(ks, "2025-01"), -1);
    assert_int_equal(eg_jwt_keyset_activate(ks, "ec-retired"), -1);
    assert_string_equal(eg_jwt_keyset_active_kid(ks), "2024-07");

    new = sign_good(ks, "at+jwt");
    part(new, 0, buf, sizeof(buf));
    assert_non_null(strstr((char *) buf, "\"kid\":\"2024-07\""));

    p = policy();
    assert_int_equal(verify_p(ks, &p, old), EG_JWT_OK);
    assert_int_equal(verify_p(ks, &p, new), EG_JWT_OK);

    /* the old set does not know the new key */
    assert_int_equal(verify(new), EG_JWT_UNKNOWN_KID);

    text = eg_jwt_keyset_jwks(ks);
    assert_non_null(strstr(text, "\"kid\":\"2024-01\""));
    assert_non_null(strstr(text, "\"kid\":\"2024-07\""));
    assert_non_null(strstr(text, "\"kid\":\"ec-retired\""));
    free(text);

    free(old);
    free(new);
    eg_jwt_keyset_free(ks);
}


static void
test_public_only_key_verifies(void **state)
{
    char             *token;
    eg_jwt_policy_t   p;
    eg_jwt_keyset_t  *signer, *ks;

    (void) state;

    signer = load_one(fx.ec, "ec-old", EG_JWT_ES256);
    ks = load_one(fx.ec_pub, "ec-old", EG_JWT_ES256);

    token = sign_good(signer, "at+jwt");
    p = policy();
    assert_int_equal(verify_p(ks, &p, token), EG_JWT_OK);

    free(token);
    eg_jwt_keyset_free(signer);
    eg_jwt_keyset_free(ks);
}


static void
test_refuse_alg_none(void **state)
{
    char   *token;
    jwt_t  *jwt;

    (void) state;

    /* unsigned, as libjwt makes it */

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grants_json(jwt, GOOD), 0);
    assert_int_equal(jwt_add_header(jwt, "kid", "rsa1"), 0);
    assert_int_equal(jwt_add_header(jwt, "typ", "at+jwt"), 0);
    assert_int_equal(jwt_set_alg(jwt, JWT_ALG_NONE, NULL, 0), 0);
    token = jwt_encode_str(jwt);
    assert_non_null(token);
    jwt_free(jwt);

    assert_non_null(strstr(token, "."));
    assert_int_equal(token[strlen(token) - 1], '.');
    assert_int_equal(verify(token), EG_JWT_ALG_NOT_ALLOWED);
    free(token);

    check_crafted("{\"alg\":\"none\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}",
                  GOOD, NULL, EG_JWT_ALG_NOT_ALLOWED);
    check_crafted("{\"alg\":\"None\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}",
                  GOOD, NULL, EG_JWT_ALG_NOT_ALLOWED);
    check_crafted("{\"alg\":\"NONE\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}",
                  GOOD, NULL, EG_JWT_ALG_NOT_ALLOWED);
    check_crafted("{\"alg\":\"nOnE\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}",
                  GOOD, NULL, EG_JWT_ALG_NOT_ALLOWED);

    /* even with a good signature the header decides */
    check_crafted("{\"alg\":\"none\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}",
                  GOOD, fx.rsa_key, EG_JWT_ALG_NOT_ALLOWED);

    /* an RS256 header with the signature left off */
    check_crafted(HEAD_RSA, GOOD, NULL, EG_JWT_BAD_SIGNATURE);
}


static void
test_refuse_hs256_key_confusion(void **state)
{
    char           *token, *h, *p, *s, *input, *jwks;
    jwt_t          *jwt;
    size_t          n;
    const char     *pub;
    unsigned int    len;
    unsigned char   mac[EVP_MAX_MD_SIZE];

    (void) state;

    /* HMAC keyed with our public PEM, by libjwt */

    pub = eg_jwt_keyset_public_pem(fx.ks, "rsa1");

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grants_json(jwt, GOOD), 0);
    assert_int_equal(jwt_add_header(jwt, "kid", "rsa1"), 0);
    assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS256, (unsigned char *) pub,
                                 strlen(pub)), 0);
    token = jwt_encode_str(jwt);
    assert_non_null(token);
    jwt_free(jwt);

    assert_int_equal(verify(token), EG_JWT_ALG_NOT_ALLOWED);
    free(token);

    /* HMAC keyed with our published JWKS text, and with an empty key */

    jwks = eg_jwt_keyset_jwks(fx.ks);

    h = b64("{\"alg\":\"HS256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}",
            strlen("{\"alg\":\"HS256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}"));
    p = b64(GOOD, strlen(GOOD));
    n = strlen(h) + strlen(p) + 2;
    input = malloc(n);
    assert_non_null(input);
    snprintf(input, n, "%s.%s", h, p);

    assert_non_null(HMAC(EVP_sha256(), jwks, strlen(jwks),
                         (unsigned char *) input, strlen(input), mac, &len));
    s = b64(mac, len);
    token = join3(h, p, s);
    assert_int_equal(verify(token), EG_JWT_ALG_NOT_ALLOWED);
    free(token);
    free(s);

    assert_non_null(HMAC(EVP_sha256(), "", 0, (unsigned char *) input,
                         strlen(input), mac, &len));
    s = b64(mac, len);
    token = join3(h, p, s);
    assert_int_equal(verify(token), EG_JWT_ALG_NOT_ALLOWED);
    free(token);
    free(s);

    free(input);
    free(h);
    free(p);
    free(jwks);
}


static void
test_refuse_alg_spelling(void **state)
{
    size_t              i;
    char                head[128];
    const char  *const  algs[] = {
        "\"rs256\"", "\"RS256 \"", "\" RS256\"", "\"Rs256\"", "\"RS512\"",
        "\"PS256\"", "\"RS384\"", "\"ES384\"", "\"HS256\"", "\"\"",
        "256", "null", "[\"RS256\"]", "{}", "true",
        NULL
    };

    (void) state;

    for (i = 0; algs[i]; i++) {
        snprintf(head, sizeof(head),
                 "{\"alg\":%s,\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}", algs[i]);
        check_crafted(head, GOOD, fx.rsa_key, EG_JWT_ALG_NOT_ALLOWED);
    }

    check_crafted("{\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}", GOOD, fx.rsa_key,
                  EG_JWT_ALG_NOT_ALLOWED);

    /* the control: the same token with the right spelling */
    check_crafted(HEAD_RSA, GOOD, fx.rsa_key, EG_JWT_OK);
}


static void
test_refuse_alg_outside_policy(void **state)
{
    char             *token;
    eg_jwt_policy_t   p;

    (void) state;

    token = sign_good(fx.ks, "at+jwt");

    p = policy();
    p.algs = EG_JWT_ES256;
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_ALG_NOT_ALLOWED);

    p.algs = EG_JWT_RS256;
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_OK);

    free(token);
}


static void
test_refuse_kid(void **state)
{
    size_t              i;
    char                head[6000];
    char                big[5001];
    const char  *const  kids[] = {
        "\"ec1\"", "\"nope\"", "\"../../x\"", "\"' OR '1'='1\"", "\"*\"",
        "\"\"", "\"RSA1\"", "\"rsa1 \"", "\"rsa\"", "1", "null",
        "[\"rsa1\"]", NULL
    };

    (void) state;

    /* RS256 with the kid of the ES256 key, and others that name no key */

    for (i = 0; kids[i]; i++) {
        snprintf(head, sizeof(head),
                 "{\"alg\":\"RS256\",\"kid\":%s,\"typ\":\"at+jwt\"}",
                 kids[i]);
        check_crafted(head, GOOD, fx.rsa_key, EG_JWT_UNKNOWN_KID);
    }

    /* ES256 with the kid of the RSA key */
    check_crafted("{\"alg\":\"ES256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}",
                  GOOD, fx.ec_key, EG_JWT_UNKNOWN_KID);

    /* no kid, although the set has one key of each alg */
    check_crafted("{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}", GOOD, fx.rsa_key,
                  EG_JWT_UNKNOWN_KID);

    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(head, sizeof(head),
             "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}", big);
    check_crafted(head, GOOD, fx.rsa_key, EG_JWT_UNKNOWN_KID);

    /* remote key headers are never followed */
    check_crafted("{\"alg\":\"RS256\",\"kid\":\"nope\",\"typ\":\"at+jwt\","
                  "\"jku\":\"http://127.0.0.1:1/jwks\"}", GOOD, fx.rsa_key,
                  EG_JWT_UNKNOWN_KID);
    check_crafted("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\","
                  "\"jku\":\"http://127.0.0.1:1/jwks\"}", GOOD, fx.rsa_key,
                  EG_JWT_OK);
}


static char *
replace_part(const char *token, int i, const char *text)
{
    char        *out, *dot1, *dot2, *copy;
    const char  *parts[3];

    copy = strdup(token);
    assert_non_null(copy);

    dot1 = strchr(copy, '.');
    dot2 = strchr(dot1 + 1, '.');
    *dot1 = '\0';
    *dot2 = '\0';

    parts[0] = copy;
    parts[1] = dot1 + 1;
    parts[2] = dot2 + 1;
    parts[i] = text;

    out = join3(parts[0], parts[1], parts[2]);
    free(copy);

    return out;
}


static void
check_tampered(const eg_jwt_keyset_t *ks, const char *typ)
{
    char             *token, *bad, *text;
    size_t            n;
    eg_jwt_policy_t   p;
    unsigned char     sig[600];

    p = policy();
    p.typ = typ;

    token = sign_good(ks, typ);
    assert_int_equal(verify_p(ks, &p, token), EG_JWT_OK);

    /* payload: another subject under the same signature */

    text = b64("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":" EXP
               ",\"sub\":\"admin\"}",
               strlen("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":" EXP
                      ",\"sub\":\"admin\"}"));
    bad = replace_part(token, 1, text);
    assert_int_equal(verify_p(ks, &p, bad), EG_JWT_BAD_SIGNATURE);
    free(bad);
    free(text);

    /* signature: one bit, one byte less, one byte more, empty */

    n = part(token, 2, sig, sizeof(sig));

    sig[n / 2] ^= 0x01;
    text = b64(sig, n);
    bad = replace_part(token, 2, text);
    assert_int_equal(verify_p(ks, &p, bad), EG_JWT_BAD_SIGNATURE);
    free(bad);
    free(text);
    sig[n / 2] ^= 0x01;

    text = b64(sig, n - 1);
    bad = replace_part(token, 2, text);
    assert_int_equal(verify_p(ks, &p, bad), EG_JWT_BAD_SIGNATURE);
    free(bad);
    free(text);

    sig[n] = 0;
    text = b64(sig, n + 1);
    bad = replace_part(token, 2, text);
    assert_int_equal(verify_p(ks, &p, bad), EG_JWT_BAD_SIGNATURE);
    free(bad);
    free(text);

    bad = replace_part(token, 2, "");
    assert_int_equal(verify_p(ks, &p, bad), EG_JWT_BAD_SIGNATURE);
    free(bad);

    free(token);
}


static void
test_refuse_tampered(void **state)
{
    eg_jwt_keyset_t  *ks;

    (void) state;

    check_tampered(fx.ks, "at+jwt");

    ks = load_one(fx.ec, "ec1", EG_JWT_ES256);
    check_tampered(ks, "at+jwt");
    eg_jwt_keyset_free(ks);
}


static void
test_refuse_bad_ecdsa(void **state)
{
    char           *token, *bad, *text;
    unsigned char   sig[64];

    (void) state;

    /* r = s = 0, the "psychic signature" */

    token = craft("{\"alg\":\"ES256\",\"kid\":\"ec1\",\"typ\":\"at+jwt\"}",
                  GOOD, NULL);
    memset(sig, 0, sizeof(sig));
    text = b64(sig, sizeof(sig));
    bad = replace_part(token, 2, text);
    assert_int_equal(verify(bad), EG_JWT_BAD_SIGNATURE);
    free(bad);
    free(text);

    /* r = 0 with a random-looking s, and s = 0 */

    memset(sig + 32, 0x5a, 32);
    text = b64(sig, sizeof(sig));
    bad = replace_part(token, 2, text);
    assert_int_equal(verify(bad), EG_JWT_BAD_SIGNATURE);
    free(bad);
    free(text);

    memset(sig, 0x5a, 32);
    memset(sig + 32, 0, 32);
    text = b64(sig, sizeof(sig));
    bad = replace_part(token, 2, text);
    assert_int_equal(verify(bad), EG_JWT_BAD_SIGNATURE);
    free(bad);
    free(text);

    free(token);

    /* a valid ECDSA signature, but DER-encoded */

    check_crafted("{\"alg\":\"ES256\",\"kid\":\"ec1\",\"typ\":\"at+jwt\"}",
                  GOOD, fx.ec_key, EG_JWT_BAD_SIGNATURE);
}


static void
check_time(const char *claim, long long value, int64_t leeway,
    eg_jwt_rc_e expected)
{
    char             *token, claims[512];
    eg_jwt_policy_t   p;

    if (strcmp(claim, "exp") == 0) {
        snprintf(claims, sizeof(claims),
                 "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}",
                 value);

    } else {
        snprintf(claims, sizeof(claims),
                 "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":" EXP
                 ",\"%s\":%lld}", claim, value);
    }

    token = craft(HEAD_RSA, claims, fx.rsa_key);

    p = policy();
    p.leeway = leeway;

    if (verify_p(fx.ks, &p, token) != expected) {
        fail_msg("%s = now %+lld, leeway %lld: expected %s", claim,
                 value - NOW, (long long) leeway, eg_jwt_rc_name(expected));
    }

    free(token);
}


/* an id_token_hint: any audience, expired or not, but still ours */

static void
test_hint_policy(void **state)
{
    char             *token;
    eg_jwt_policy_t   p;

    (void) state;

    token = craft(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"rp-1\","
                  "\"exp\":1}", fx.rsa_key);

    p = policy();
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_EXPIRED);

    p.expired_ok = 1;
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_WRONG_AUDIENCE);

    p.aud = NULL;
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_BAD_POLICY);
    p.any_aud = 1;
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_OK);

    p.iss = "https://other.example";
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_WRONG_ISSUER);
    free(token);

    /* a token without aud at all is still refused */
    token = craft(HEAD_RSA, "{\"iss\":\"" ISS "\",\"exp\":1}",
                  fx.rsa_key);
    p = policy();
    p.aud = NULL;
    p.any_aud = 1;
    p.expired_ok = 1;
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_WRONG_AUDIENCE);
    free(token);

    /* a bad signature is never excused by expired_ok */
    token = craft(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"rp-1\","
                  "\"exp\":1}", fx.rsa_key);
    token[strlen(token) - 2] ^= 1;
    assert_int_not_equal(verify_p(fx.ks, &p, token), EG_JWT_OK);
    free(token);
}


static void
test_expiry(void **state)
{
    (void) state;

    check_time("exp", NOW + 1, 0, EG_JWT_OK);
    check_time("exp", NOW, 0, EG_JWT_EXPIRED);
    check_time("exp", NOW - 30, 60, EG_JWT_OK);
    check_time("exp", NOW - 59, 60, EG_JWT_OK);
    check_time("exp", NOW - 60, 60, EG_JWT_EXPIRED);
    check_time("exp", NOW - 61, 60, EG_JWT_EXPIRED);
    check_time("exp", 0, 60, EG_JWT_EXPIRED);
    check_time("exp", -1, 60, EG_JWT_EXPIRED);

    /* leeway is capped at 60 s */
    check_time("exp", NOW - 59, 3600, EG_JWT_OK);
    check_time("exp", NOW - 61, 3600, EG_JWT_EXPIRED);

    /* exp is required, and an integer */
    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\"}",
                  fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                  "\"exp\":\"" EXP "\"}", fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                  "\"exp\":1700000300.5}", fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                  "\"exp\":null}", fx.rsa_key, EG_JWT_MALFORMED);
}


static void
test_not_yet_valid(void **state)
{
    (void) state;

    check_time("nbf", NOW + 61, 60, EG_JWT_NOT_YET_VALID);
    check_time("nbf", NOW + 60, 60, EG_JWT_OK);
    check_time("nbf", NOW + 1, 0, EG_JWT_NOT_YET_VALID);
    check_time("nbf", NOW, 0, EG_JWT_OK);
    check_time("nbf", NOW + 61, 3600, EG_JWT_NOT_YET_VALID);

    check_time("iat", NOW + 61, 60, EG_JWT_NOT_YET_VALID);
    check_time("iat", NOW + 30, 60, EG_JWT_OK);
    check_time("iat", NOW - 3600, 60, EG_JWT_OK);

    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                  "\"exp\":" EXP ",\"nbf\":\"0\"}", fx.rsa_key,
                  EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                  "\"exp\":" EXP ",\"iat\":true}", fx.rsa_key,
                  EG_JWT_MALFORMED);
}


static void
test_wrong_issuer(void **state)
{
    size_t              i;
    char                claims[512];
    const char  *const  iss[] = {
        "\"https://evil.example.org\"", "\"" ISS "/\"",
        "\"HTTPS://IDP.EXAMPLE.ORG\"", "\"https://idp.example.or\"", "\"\"",
        "[\"" ISS "\"]", "null", "1", NULL
    };

    (void) state;

    for (i = 0; iss[i]; i++) {
        snprintf(claims, sizeof(claims), "{\"iss\":%s,\"aud\":\"" AUD "\","
                 "\"exp\":" EXP "}", iss[i]);
        check_crafted(HEAD_RSA, claims, fx.rsa_key, EG_JWT_WRONG_ISSUER);
    }

    check_crafted(HEAD_RSA, "{\"aud\":\"" AUD "\",\"exp\":" EXP "}",
                  fx.rsa_key, EG_JWT_WRONG_ISSUER);
}


static void
test_audience(void **state)
{
    size_t              i;
    char                claims[512];
    const char  *const  bad[] = {
        "\"other-client\"", "\"demo-client \"", "\"DEMO-CLIENT\"", "\"\"",
        "[]", "[\"other-client\"]", "[\"a\",\"b\"]", "[[\"" AUD "\"]]",
        "{\"" AUD "\":1}", "null", "7", NULL
    };
    const char  *const  good[] = {
        "\"" AUD "\"", "[\"" AUD "\"]", "[\"other-client\",\"" AUD "\"]",
        "[1,null,\"" AUD "\"]", NULL
    };

    (void) state;

    for (i = 0; bad[i]; i++) {
        snprintf(claims, sizeof(claims), "{\"iss\":\"" ISS "\",\"aud\":%s,"
                 "\"exp\":" EXP "}", bad[i]);
        check_crafted(HEAD_RSA, claims, fx.rsa_key, EG_JWT_WRONG_AUDIENCE);
    }

    for (i = 0; good[i]; i++) {
        snprintf(claims, sizeof(claims), "{\"iss\":\"" ISS "\",\"aud\":%s,"
                 "\"exp\":" EXP "}", good[i]);
        check_crafted(HEAD_RSA, claims, fx.rsa_key, EG_JWT_OK);
    }

    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"exp\":" EXP "}",
                  fx.rsa_key, EG_JWT_WRONG_AUDIENCE);
}


static void
test_wrong_type(void **state)
{
    char             *token;
    eg_jwt_policy_t   p;

    (void) state;

    /* an access token offered where a logout token is expected */

    token = sign_good(fx.ks, "at+jwt");
    p = policy();
    p.typ = "logout+jwt";
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_WRONG_TYPE);
    p.typ = "JWT";
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_WRONG_TYPE);
    free(token);

    token = sign_good(fx.ks, "AT+JWT");
    assert_int_equal(verify(token), EG_JWT_WRONG_TYPE);
    free(token);

    token = sign_good(fx.ks, "application/at+jwt");
    assert_int_equal(verify(token), EG_JWT_WRONG_TYPE);
    free(token);

    check_crafted("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", GOOD, fx.rsa_key,
                  EG_JWT_WRONG_TYPE);
    check_crafted("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":1}", GOOD,
                  fx.rsa_key, EG_JWT_WRONG_TYPE);
    check_crafted("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":[\"at+jwt\"]}",
                  GOOD, fx.rsa_key, EG_JWT_WRONG_TYPE);
}


static void
test_refuse_duplicate_members(void **state)
{
    (void) state;

    check_crafted("{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"rsa1\","
                  "\"typ\":\"at+jwt\"}", GOOD, fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted("{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rsa1\","
                  "\"typ\":\"at+jwt\"}", GOOD, fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"kid\":\"ec1\","
                  "\"typ\":\"at+jwt\"}", GOOD, fx.rsa_key, EG_JWT_MALFORMED);

    /* in the signed payload too */
    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"other\","
                  "\"aud\":\"" AUD "\",\"exp\":" EXP "}", fx.rsa_key,
                  EG_JWT_MALFORMED);
}


static void
check_raw(const char *token, eg_jwt_rc_e expected)
{
    if (verify(token) != expected) {
        fail_msg("\"%s\": expected %s", token, eg_jwt_rc_name(expected));
    }
}


static void
test_refuse_shape(void **state)
{
    char             *token, *bad, *h, *p;
    size_t            n;
    json_t           *claims;
    eg_jwt_policy_t   pol;

    (void) state;

    token = sign_good(fx.ks, "at+jwt");
    n = strlen(token) + 64;
    bad = malloc(n);
    assert_non_null(bad);

    snprintf(bad, n, "%s.", token);
    check_raw(bad, EG_JWT_MALFORMED);
    snprintf(bad, n, "%s.%s", token, strrchr(token, '.') + 1);
    check_raw(bad, EG_JWT_MALFORMED);
    snprintf(bad, n, "%s.eyJ9.eyJ9", token);
    check_raw(bad, EG_JWT_MALFORMED);
    snprintf(bad, n, "%s", token);
    *strrchr(bad, '.') = '\0';
    check_raw(bad, EG_JWT_MALFORMED);
    snprintf(bad, n, ".%s", token);
    check_raw(bad, EG_JWT_MALFORMED);
    snprintf(bad, n, "%s", strchr(token, '.'));
    check_raw(bad, EG_JWT_MALFORMED);

    check_raw("", EG_JWT_MALFORMED);
    check_raw(".", EG_JWT_MALFORMED);
    check_raw("..", EG_JWT_MALFORMED);
    check_raw("abc", EG_JWT_MALFORMED);

    /* empty payload */
    h = strdup(token);
    *strchr(h, '.') = '\0';
    snprintf(bad, n, "%s..%s", h, strrchr(token, '.') + 1);
    check_raw(bad, EG_JWT_MALFORMED);
    free(h);

    /* a length-counted token: a NUL byte inside is refused */
    pol = policy();
    claims = NULL;
    assert_int_equal(eg_jwt_verify(fx.ks, &pol, token, strlen(token) + 1,
                                   &claims), EG_JWT_MALFORMED);
    assert_null(claims);
    h = malloc(strlen(token) + 8);
    assert_non_null(h);
    sprintf(h, "%s.extra", token);
    assert_int_equal(eg_jwt_verify(fx.ks, &pol, h, strlen(token), NULL),
                     EG_JWT_OK);
    free(h);
    assert_int_equal(eg_jwt_verify(fx.ks, &pol, NULL, 0, &claims),
                     EG_JWT_MALFORMED);

    free(bad);
    free(token);

    /* header and payload must be JSON objects, nothing after them */

    check_crafted("[\"RS256\"]", GOOD, fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted("\"RS256\"", GOOD, fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted("RS256", GOOD, fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA "x", GOOD, fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA "{}", GOOD, fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA, "[" GOOD "]", fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA, GOOD " 1", fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA, "", fx.rsa_key, EG_JWT_MALFORMED);

    /* non-UTF-8 and NUL in JSON strings */
    check_crafted("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\xff\"}",
                  GOOD, fx.rsa_key, EG_JWT_MALFORMED);
    check_crafted(HEAD_RSA, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                  "\"exp\":" EXP ",\"sub\":\"a\\u0000b\"}", fx.rsa_key,
                  EG_JWT_MALFORMED);

    /* an extension we would have to understand */
    check_crafted("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\","
                  "\"crit\":[\"b64\"],\"b64\":false}", GOOD, fx.rsa_key,
                  EG_JWT_MALFORMED);

    /* JWE-shaped: five parts */
    h = b64("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\",\"kid\":\"rsa1\"}",
            strlen("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\","
                   "\"kid\":\"rsa1\"}"));
    p = malloc(strlen(h) + 32);
    assert_non_null(p);
    sprintf(p, "%s.AAAA.AAAA.AAAA.AAAA", h);
    check_raw(p, EG_JWT_MALFORMED);
    free(p);
    free(h);
}


static void
test_refuse_encoding(void **state)
{
    char               *token, *bad;
    size_t              i, w, n, at, where[7];
    const char         *dot1, *dot2;
    static const char   insert[] = { '+', '/', '=', ' ', '\n', '%', '\\' };

    (void) state;

    token = sign_good(fx.ks, "at+jwt");
    n = strlen(token);
    dot1 = strchr(token, '.');
    dot2 = strchr(dot1 + 1, '.');

    bad = malloc(n + 2);
    assert_non_null(bad);

    /* each odd character, in each part and at each end */

    where[0] = 0;
    where[1] = 5;
    where[2] = dot1 - token;
    where[3] = dot1 - token + 3;
    where[4] = dot2 - token;
    where[5] = dot2 - token + 7;
    where[6] = n;

    for (i = 0; i < sizeof(insert); i++) {
        for (w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
            at = where[w];
            memcpy(bad, token, at);
            bad[at] = insert[i];
            memcpy(bad + at + 1, token + at, n - at + 1);

            check_raw(bad, EG_JWT_MALFORMED);
        }
    }

    /* a standard-alphabet signature */
    strcpy(bad, token);
    for (at = dot2 - token; bad[at]; at++) {
        if (bad[at] == '-') {
            bad[at] = '+';
        } else if (bad[at] == '_') {
            bad[at] = '/';
        }
    }

    if (strcmp(bad, token) != 0) {
        check_raw(bad, EG_JWT_MALFORMED);
    }

    /* padding */
    snprintf(bad, n + 2, "%s=", token);
    check_raw(bad, EG_JWT_MALFORMED);

    free(bad);
    free(token);

    /* a non-canonical last character: "e30" is "{}", "e31" is not */
    check_raw("e31.e30.AAAA", EG_JWT_MALFORMED);
}


static void
test_refuse_oversize(void **state)
{
    char             *token, *prev, *claims;
    size_t            fill;
    eg_jwt_policy_t   p;

    (void) state;

    p = policy();

    /* grow a valid token until it crosses the bound */

    claims = malloc(EG_JWT_TOKEN_MAX);
    assert_non_null(claims);

    prev = NULL;
    token = NULL;

    for (fill = 5600; fill < EG_JWT_TOKEN_MAX; fill++) {
        snprintf(claims, EG_JWT_TOKEN_MAX,
                 "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":" EXP
                 ",\"x\":\"%0*d\"}", (int) fill, 0);

        token = craft(HEAD_RSA, claims, fx.rsa_key);

        if (strlen(token) > EG_JWT_TOKEN_MAX) {
            /* and we do not sign what we would not accept */
            assert_null(eg_jwt_sign_json(fx.ks, claims, strlen(claims),
                                         "at+jwt"));
            break;
        }

        free(prev);
        prev = token;
    }

    assert_non_null(prev);
    assert_non_null(token);
    assert_true(strlen(prev) <= EG_JWT_TOKEN_MAX);
    assert_true(strlen(token) > EG_JWT_TOKEN_MAX);
    assert_true(strlen(prev) > EG_JWT_TOKEN_MAX - 4);
    assert_int_equal(verify_p(fx.ks, &p, prev), EG_JWT_OK);
    assert_int_equal(verify_p(fx.ks, &p, token), EG_JWT_MALFORMED);

    free(prev);
    free(token);
    free(claims);

    /* a megabyte of junk is refused without being read */
    claims = malloc(1 << 20);
    assert_non_null(claims);
    memset(claims, 'A', (1 << 20) - 1);
    claims[(1 << 20) - 1] = '\0';
    claims[100] = '.';
    claims[200] = '.';
    check_raw(claims, EG_JWT_MALFORMED);
    free(claims);
}


static void
check_load_fails(const char *path, const char *kid, eg_jwt_alg_e alg,
    const char *msg)
{
    char              err[EG_JWT_ERR_MAX];
    eg_jwt_keyset_t  *ks;

    ks = eg_jwt_keyset_create();
    assert_non_null(ks);

    err[0] = '\0';

    assert_int_equal(eg_jwt_keyset_add_file(ks, path, kid, alg, err,
                                            sizeof(err)), -1);
    if (strstr(err, msg) == NULL) {
        fail_msg("%s: \"%s\" does not say \"%s\"", path, err, msg);
    }

    assert_int_equal(eg_jwt_keyset_count(ks), 0);
    assert_null(eg_jwt_keyset_active_kid(ks));

    eg_jwt_keyset_free(ks);
}


static void
test_load_refusals(void **state)
{
    char  path[300], small[12];

    (void) state;

    check_load_fails(fx.rsa1024, "k", EG_JWT_RS256, "1024 bits");
    check_load_fails(fx.p384, "k", EG_JWT_ES256, "P-256");
    check_load_fails(fx.ed25519, "k", EG_JWT_ES256, "not supported");
    check_load_fails(fx.rsa, "k", EG_JWT_ES256, "RSA key cannot");
    check_load_fails(fx.ec, "k", EG_JWT_RS256, "EC key cannot");
    check_load_fails(fx.ec_pub, "k", EG_JWT_RS256, "EC key cannot");
    check_load_fails(fx.rsa, "k", 0, "RS256 or ES256");
    check_load_fails(fx.rsa, "k", EG_JWT_ALGS_ALL, "RS256 or ES256");
    check_load_fails(fx.encrypted, "k", EG_JWT_RS256, "encrypted");
    check_load_fails(fx.garbage, "k", EG_JWT_RS256, "no PEM");
    check_load_fails(fx.empty, "k", EG_JWT_RS256, "no PEM");
    check_load_fails(fx.dir, "k", EG_JWT_RS256, "cannot read");

    snprintf(path, sizeof(path), "%s/missing.pem", fx.dir);
    check_load_fails(path, "k", EG_JWT_RS256, "cannot open");

    check_load_fails(fx.rsa, "", EG_JWT_RS256, "kid must be");
    check_load_fails(fx.rsa, "a b", EG_JWT_RS256, "kid must be");
    check_load_fails(fx.rsa, "a/b", EG_JWT_RS256, "kid must be");
    check_load_fails(fx.rsa, "k\"", EG_JWT_RS256, "kid must be");
    check_load_fails(fx.rsa, "k\xc3\xa4", EG_JWT_RS256, "kid must be");
    check_load_fails(fx.rsa, "0123456789012345678901234567890123456789"
                     "012345678901234567890123X", EG_JWT_RS256, "kid must be");

    /* a short error buffer is cut, not overrun */
    {
        eg_jwt_keyset_t  *ks;

        memset(small, '#', sizeof(small));
        ks = eg_jwt_keyset_create();
        assert_int_equal(eg_jwt_keyset_add_file(ks, fx.rsa1024, "k",
                                                EG_JWT_RS256, small, 8), -1);
        assert_int_equal(strlen(small), 7);
        assert_int_equal(small[8], '#');
        eg_jwt_keyset_free(ks);
    }
}


static void
test_load_limits(void **state)
{
    int               i;
    char              kid[16], err[EG_JWT_ERR_MAX];
    eg_jwt_keyset_t  *ks;

    (void) state;

    ks = load_one(fx.ec_pub, "a", EG_JWT_ES256);

    /* a kid of 64 characters is fine */
    assert_int_equal(eg_jwt_keyset_add_file(ks, fx.ec,
                         "0123456789012345678901234567890123456789"
                         "012345678901234567890123", EG_JWT_ES256, err,
                         sizeof(err)), 0);

    /* the first key that can sign is active */
    assert_string_equal(eg_jwt_keyset_active_kid(ks),
                        "0123456789012345678901234567890123456789"
                        "012345678901234567890123");

    assert_int_equal(eg_jwt_keyset_add_file(ks, fx.ec, "a", EG_JWT_ES256,
                                            err, sizeof(err)), -1);
    assert_string_equal(err, "duplicate kid \"a\"");
    assert_int_equal(eg_jwt_keyset_count(ks), 2);

    for (i = 2; i < EG_JWT_MAX_KEYS; i++) {
        snprintf(kid, sizeof(kid), "k%d", i);
        assert_int_equal(eg_jwt_keyset_add_file(ks, fx.ec, kid, EG_JWT_ES256,
                                                err, sizeof(err)), 0);
    }

    assert_int_equal(eg_jwt_keyset_add_file(ks, fx.ec, "one-more",
                                            EG_JWT_ES256, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "too many keys"));
    assert_int_equal(eg_jwt_keyset_count(ks), EG_JWT_MAX_KEYS);

    eg_jwt_keyset_free(ks);
    eg_jwt_keyset_free(NULL);
}


static void
test_bad_policy(void **state)
{
    char             *token;
    json_t           *claims;
    eg_jwt_policy_t   p, good;

    (void) state;

    token = sign_good(fx.ks, "at+jwt");
    good = policy();

#define CHECK_POLICY(change)                                                  \
    p = good;                                                                 \
    change;                                                                   \
    claims = (json_t *) 1;                                                    \
    assert_int_equal(eg_jwt_verify(fx.ks, &p, token, strlen(token), &claims), \
                     EG_JWT_BAD_POLICY);                                      \
    assert_null(claims)

    CHECK_POLICY(p.algs = 0);
    CHECK_POLICY(p.algs = 0x04);
    CHECK_POLICY(p.algs = EG_JWT_ALGS_ALL | 0x80);
    CHECK_POLICY(p.iss = NULL);
    CHECK_POLICY(p.iss = "");
    CHECK_POLICY(p.aud = NULL);
    CHECK_POLICY(p.aud = "");
    CHECK_POLICY(p.any_aud = 1);
    CHECK_POLICY(p.typ = NULL);
    CHECK_POLICY(p.typ = "");
    CHECK_POLICY(p.leeway = -1);
    CHECK_POLICY(p.now = 0);

#undef CHECK_POLICY

    assert_int_equal(eg_jwt_verify(NULL, &good, token, strlen(token), NULL),
                     EG_JWT_BAD_POLICY);
    assert_int_equal(eg_jwt_verify(fx.ks, NULL, token, strlen(token), NULL),
                     EG_JWT_BAD_POLICY);

    free(token);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_load_keys),
        cmocka_unit_test(test_round_trip_rs256),
        cmocka_unit_test(test_round_trip_es256),
        cmocka_unit_test(test_sign_refusals),
        cmocka_unit_test(test_interop_libjwt),
        cmocka_unit_test(test_jwks),
        cmocka_unit_test(test_jwks_ec_padding),
        cmocka_unit_test(test_thumbprint_kid),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_public_only_key_verifies),
        cmocka_unit_test(test_refuse_alg_none),
        cmocka_unit_test(test_refuse_hs256_key_confusion),
        cmocka_unit_test(test_refuse_alg_spelling),
        cmocka_unit_test(test_refuse_alg_outside_policy),
        cmocka_unit_test(test_refuse_kid),
        cmocka_unit_test(test_refuse_tampered),
        cmocka_unit_test(test_refuse_bad_ecdsa),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_hint_policy),
        cmocka_unit_test(test_not_yet_valid),
        cmocka_unit_test(test_wrong_issuer),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_refuse_duplicate_members),
        cmocka_unit_test(test_refuse_shape),
        cmocka_unit_test(test_refuse_encoding),
        cmocka_unit_test(test_refuse_oversize),
        cmocka_unit_test(test_load_refusals),
        cmocka_unit_test(test_load_limits),
        cmocka_unit_test(test_bad_policy),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
