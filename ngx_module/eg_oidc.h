/*
 * Copyright (C) EduGate contributors
 *
 * The nginx-free part of the OpenID Connect provider: registered clients,
 * scopes, PKCE, authorization responses, the grant record kept in Redis
 * between the authorization and token endpoints, and the claims released
 * for each scope.  Linked directly by the unit tests.
 */

#ifndef _EG_OIDC_H_INCLUDED_
#define _EG_OIDC_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "eg_identity.h"
#include "eg_url.h"


#define EG_OIDC_SCOPE_OPENID     0x01
#define EG_OIDC_SCOPE_PROFILE    0x02
#define EG_OIDC_SCOPE_EDU        0x04
#define EG_OIDC_SCOPE_OFFLINE    0x08

#define EG_OIDC_SCOPE_MAX        sizeof("openid profile edu offline_access")

/* grant types a client may use */
#define EG_OIDC_GRANT_CODE       0x01    /* with refresh_token */
#define EG_OIDC_GRANT_CLIENT     0x02    /* client_credentials */

#define EG_OIDC_CLIENT_ID_MAX    64
#define EG_OIDC_URI_MAX          512
#define EG_OIDC_NONCE_MAX        256
#define EG_OIDC_STATE_MAX        512
#define EG_OIDC_CHALLENGE_LEN    43      /* base64url of a SHA-256 */
#define EG_OIDC_VERIFIER_MIN     43
#define EG_OIDC_VERIFIER_MAX     128

/* random artifacts: 256 bits for codes and refresh tokens, 128 for ids */
#define EG_OIDC_CODE_BYTES       32
#define EG_OIDC_CODE_LEN         43
#define EG_OIDC_GID_BYTES        16
#define EG_OIDC_GID_LEN          22

/* the public "sid" claim: hex of a hash of the session's Redis key hash */
#define EG_OIDC_SID_LEN          32


typedef struct {
    eg_str_t         id;
    eg_str_t         secret;            /* len 0: a public client */
    const eg_str_t  *redirect_uris;
    size_t           nredirect;
    const eg_str_t  *logout_uris;       /* post_logout_redirect_uri */
    size_t           nlogout;
    eg_str_t         backchannel;       /* len 0: none */
    unsigned         scopes;            /* what it may ask for */
    unsigned         grants;            /* EG_OIDC_GRANT_* */
    void            *data;              /* the nginx layer's own */
} eg_oidc_client_t;


/* what the authorization endpoint hands the token endpoint */
typedef struct {
    char             client_id[EG_OIDC_CLIENT_ID_MAX + 1];
    char             redirect_uri[EG_OIDC_URI_MAX + 1];
    char             nonce[EG_OIDC_NONCE_MAX + 1];
    char             challenge[EG_OIDC_CHALLENGE_LEN + 1];
    char             sid_hash[64 + 1];
    unsigned         scopes;
    eg_identity_t    identity;
} eg_oidc_grant_t;


typedef struct {
    const char      *name;
    eg_str_t         value;
} eg_oidc_param_t;


/*
 * A space-separated scope list to bits.  0; -1 if a scope is unknown, the
 * list is empty or malformed.  On -1 *bad points to the offending scope.
 */
int eg_oidc_scope_parse(const unsigned char *s, size_t n, unsigned *bits,
    eg_str_t *bad);
/* a comma-separated list, as written in the configuration */
int eg_oidc_scope_parse_list(const unsigned char *s, size_t n,
    unsigned *bits);
/* "authorization_code,client_credentials" to EG_OIDC_GRANT_* bits */
int eg_oidc_grant_types_parse(const unsigned char *s, size_t n,
    unsigned *bits);
/* NUL-terminated space-separated text; buf holds EG_OIDC_SCOPE_MAX */
size_t eg_oidc_scope_string(unsigned bits, char *buf);

/*
 * A redirect or logout URI as registered: absolute, http or https, no
 * fragment, no userinfo, no spaces or controls; http only for loopback
 * hosts.  NULL, or the reason.
 */
const char *eg_oidc_uri_check(const unsigned char *uri, size_t n);

/* "scheme://authority" of a checked URI */
eg_str_t eg_oidc_origin(const unsigned char *uri, size_t n);

/* byte-for-byte comparison against a registered list; 1 if found */
int eg_oidc_uri_registered(const eg_str_t *list, size_t nlist,
    const unsigned char *uri, size_t n);

const eg_oidc_client_t *eg_oidc_client_find(const eg_oidc_client_t *c,
    size_t n, const unsigned char *id, size_t len);

/* 1 if a client secret matches, in time independent of where it differs */
int eg_oidc_secret_ok(const eg_oidc_client_t *c, const unsigned char *s,
    size_t n);

/* PKCE (RFC 7636): code_challenge syntax for S256 */
int eg_oidc_challenge_ok(const unsigned char *c, size_t n);

/* 0 if BASE64URL(SHA256(verifier)) == challenge; -1 bad verifier; -2 not */
int eg_oidc_pkce_verify(const unsigned char *verifier, size_t vn,
    const char *challenge);

/* printable ASCII (0x20..0x7e) and at most max bytes */
int eg_oidc_printable(const unsigned char *s, size_t n, size_t max);

/*
 * uri + "?" (or "&" when uri has a query) + name=value pairs,
 * percent-encoded.  Pairs with value.data NULL are skipped.
 */
size_t eg_oidc_redirect_len(const unsigned char *uri, size_t n,
    const eg_oidc_param_t *params, size_t nparams);
size_t eg_oidc_redirect(unsigned char *dst, const unsigned char *uri,
    size_t n, const eg_oidc_param_t *params, size_t nparams);

/* the "sid" claim of a session: EG_OIDC_SID_LEN hex characters */
int eg_oidc_sid(char *dst, const char *sid_hash);

/* malloc()ed JSON, free() by the caller; NULL on failure */
char *eg_oidc_grant_encode(const eg_oidc_grant_t *g);
/* 0, or -1 if not a well-formed grant record */
int eg_oidc_grant_decode(eg_oidc_grant_t *g, const char *json, size_t n);

/*
 * Adds to obj the claims of the person released under scopes: sub always;
 * name and preferred_username for profile; roles, org, org_path, level,
 * school, grade and class for edu.  Empty fields are left out.  0 or -1.
 */
int eg_oidc_add_claims(json_t *obj, const eg_identity_t *id,
    unsigned scopes);

#endif /* _EG_OIDC_H_INCLUDED_ */
