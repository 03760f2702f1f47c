/*
 * Copyright (C) EduGate contributors
 *
 * The nginx-free part of the CAS server: the service registry match,
 * ticket syntax and generation (ST, PT, PGT, PGTIOU), the ticket record
 * kept in Redis, the proxy callback URL (eg_cas.c); the CAS 1 (text) and
 * CAS 2/3 (XML) responses and the single-logout request (eg_cas_xml.c).
 */

#ifndef _EG_CAS_H_INCLUDED_
#define _EG_CAS_H_INCLUDED_

#include <stddef.h>

#include "eg_codec.h"
#include "eg_identity.h"


#define EG_CAS_NAMESPACE      "http://www.yale.edu/tp/cas"

#define EG_CAS_SERVICE_MAX    2048
#define EG_CAS_TICKET_MAX     256     /* CAS 3.0 section 3.7 */
#define EG_CAS_TICKET_RANDOM  32      /* [A-Za-z0-9]: about 190 bits */
#define EG_CAS_TICKET_LEN     (sizeof("ST-") - 1 + EG_CAS_TICKET_RANDOM)
#define EG_CAS_PGT_LEN        (sizeof("PGT-") - 1 + EG_CAS_TICKET_RANDOM)
#define EG_CAS_PGTIOU_LEN     (sizeof("PGTIOU-") - 1 + EG_CAS_TICKET_RANDOM)

/* proxies a proxy ticket may have gone through */
#define EG_CAS_PROXIES_MAX    4


typedef enum {
    EG_CAS_MATCH_EXACT = 0,
    EG_CAS_MATCH_PREFIX
} eg_cas_match_e;


/* attributes a service may be given, in the order they are sent */
typedef enum {
    EG_CAS_ATTR_NAME = 0,
    EG_CAS_ATTR_ROLES,
    EG_CAS_ATTR_ORG,
    EG_CAS_ATTR_ORG_PATH,
    EG_CAS_ATTR_LEVEL,
    EG_CAS_ATTR_SCHOOL,
    EG_CAS_ATTR_GRADE,
    EG_CAS_ATTR_CLASS,
    EG_CAS_NATTRS
} eg_cas_attr_e;


typedef struct {
    const unsigned char  *url;
    size_t                len;
    eg_cas_match_e        match;
    unsigned              attrs;        /* 1 << eg_cas_attr_e */
    void                 *data;         /* the server's own settings */
} eg_cas_service_t;


typedef enum {
    EG_CAS_TICKET_OK = 0,
    EG_CAS_TICKET_PROXY,                /* a well-formed "PT-" ticket */
    EG_CAS_TICKET_BAD
} eg_cas_ticket_e;


/* what Redis holds for a ticket (ST, PT or PGT), read back */
typedef struct {
    eg_identity_t         id;           /* uid and released fields only */
    char                  service[EG_CAS_SERVICE_MAX + 1];
    size_t                service_len;
    char                  session[EG_SHA256_HEX_LEN + 1];
    int                   fresh;        /* credentials presented lately */
    size_t                nproxies;
    char                  proxies[EG_CAS_PROXIES_MAX][EG_CAS_SERVICE_MAX + 1];
} eg_cas_record_t;


/*
 * NULL if "url" may be registered or asked for as a service: an absolute
 * http(s) URL of printable ASCII without "\", userinfo or fragment, at
 * most EG_CAS_SERVICE_MAX bytes; otherwise why not.
 */
const char *eg_cas_service_check(const unsigned char *url, size_t n);

/*
 * 1 if "url" is the service: byte-exact for EG_CAS_MATCH_EXACT; for
 * EG_CAS_MATCH_PREFIX it starts with the registered URL and goes on at a
 * boundary ("/", "?" or the end, unless the registered URL ends in "/"),
 * and what follows has no dot segments nor encoded dots, slashes or
 * backslashes.  Else 0.
 */
int eg_cas_service_match(const eg_cas_service_t *svc,
    const unsigned char *url, size_t n);

/* the first registered service "url" matches, or NULL */
const eg_cas_service_t *eg_cas_service_find(const eg_cas_service_t *svcs,
    size_t nsvcs, const unsigned char *url, size_t n);

/* "name,roles,..." to a mask; -1 on an unknown or empty name */
int eg_cas_attr_parse(const unsigned char *list, size_t n, unsigned *attrs);
const char *eg_cas_attr_name(eg_cas_attr_e a);
eg_id_field_e eg_cas_attr_field(eg_cas_attr_e a);

/* "ST-" or "PT-", then 1 to 253 characters of [A-Za-z0-9-] */
eg_cas_ticket_e eg_cas_ticket_check(const unsigned char *t, size_t n);

/* 1 for "PGT-" and 1 to 252 characters of [A-Za-z0-9-], else 0 */
int eg_cas_pgt_check(const unsigned char *t, size_t n);

/*
 * Writes "prefix" and EG_CAS_TICKET_RANDOM characters of [A-Za-z0-9]
 * (strlen(prefix) + EG_CAS_TICKET_RANDOM bytes, no NUL); 0, or -1 if
 * there is no randomness.  eg_cas_ticket_new() makes a service ticket.
 */
int eg_cas_artifact_new(unsigned char *dst, const char *prefix);
int eg_cas_ticket_new(unsigned char *dst);

/*
 * NULL if a pgtUrl may be called back: a service URL (see
 * eg_cas_service_check()) without pgtIou or pgtId arguments of its own;
 * otherwise why not.
 */
const char *eg_cas_callback_check(const unsigned char *url, size_t n);

/*
 * The request target of the proxy callback: the path and query of the
 * pgtUrl ("target", "" or starting with "/" or "?") with pgtIou and pgtId
 * appended, as CAS 3.0 section 2.5.4 asks.
 */
size_t eg_cas_callback_len(size_t target_len);
size_t eg_cas_callback(unsigned char *dst, const unsigned char *target,
    size_t target_len, const unsigned char *iou, const unsigned char *pgt);

/* the service URL with "ticket=" appended after "?" or "&" */
size_t eg_cas_redirect_len(size_t service_len, size_t ticket_len);
size_t eg_cas_redirect(unsigned char *dst, const unsigned char *service,
    size_t service_len, const unsigned char *ticket, size_t ticket_len);

/*
 * The ticket record: uid, login time and the identity fields of "attrs",
 * the service, the session hash (EG_SHA256_HEX_LEN bytes), whether the
 * credentials were fresh and the proxies the ticket went through (the
 * last one first, at most EG_CAS_PROXIES_MAX).  malloc()ed JSON, free()
 * by the caller.
 */
char *eg_cas_record_encode(const eg_identity_t *id, unsigned attrs,
    const unsigned char *service, size_t service_len,
    const unsigned char *session, int fresh, const char *const *proxies,
    size_t nproxies);
int eg_cas_record_decode(eg_cas_record_t *rec, const char *json, size_t n);

/*
 * A serviceResponse document in UTF-8, allocated by libxml2 (release it
 * with eg_cas_xml_free()).  For the record's user; with "cas3",
 * <cas:attributes> holds the authentication date and flags and the
 * fields of "attrs" that are set (roles one element each); with
 * "pgt_iou" a <cas:proxyGrantingTicket>; the record's proxies, if any, in
 * <cas:proxies>.  0, or -1 on a value that is not UTF-8 text.
 */
int eg_cas_xml_success(const eg_cas_record_t *rec, unsigned attrs,
    int cas3, const char *pgt_iou, unsigned char **out, size_t *len);
int eg_cas_xml_failure(const char *code, const char *text,
    unsigned char **out, size_t *len);

/* the answers of /proxy: <cas:proxySuccess>, <cas:proxyFailure> */
int eg_cas_xml_proxy_success(const char *ticket, unsigned char **out,
    size_t *len);
int eg_cas_xml_proxy_failure(const char *code, const char *text,
    unsigned char **out, size_t *len);

/*
 * The SAML 2.0 LogoutRequest of CAS 3.0 appendix C for the session index
 * (the service ticket), issued at "now", with a random ID.
 */
int eg_cas_xml_logout_request(const char *ticket, long long now,
    unsigned char **out, size_t *len);

void eg_cas_xml_free(unsigned char *p);

/* CAS 1.0 /validate: "yes\n<user>\n", or "no\n" for a NULL user */
#define EG_CAS1_MAX  (sizeof("yes\n\n") - 1 + EG_ID_UID_MAX)

size_t eg_cas1_response(unsigned char *dst, const char *user);

#endif /* _EG_CAS_H_INCLUDED_ */
