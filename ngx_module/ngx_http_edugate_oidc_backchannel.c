/*
 * Copyright (C) EduGate contributors
 *
 * OpenID Connect Back-Channel Logout 1.0: when a session ends, every
 * client registered with a backchannel_logout_uri that received tokens
 * in it is POSTed a logout token (typ logout+jwt) naming the session by
 * its "sid".  Nobody waits for the answer; the outbound client logs it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_fetch.h"
#include "ngx_http_edugate_oidc.h"
#include "eg_codec.h"
#include "eg_url.h"


/* how long a logout token may be replayed against its client, at most */
#define NGX_HTTP_EDUGATE_OIDC_LOGOUT_TTL   120


static json_t *ngx_http_edugate_oidc_logout_claims(
    ngx_http_edugate_main_conf_t *emcf, const eg_oidc_client_t *c,
    u_char *hash);


ngx_int_t
ngx_http_edugate_oidc_backchannel(ngx_log_t *log, ngx_str_t *client_id,
    u_char *hash)
{
    u_char                             *body, *p;
    char                               *jwt;
    size_t                              len;
    json_t                             *claims;
    ngx_int_t                           rc;
    ngx_str_t                           type, content;
    const eg_oidc_client_t             *c;
    ngx_http_edugate_main_conf_t       *emcf;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    ocf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                              ngx_http_edugate_oidc_module);
    emcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_edugate_module);

    /* a client may have gone from the configuration since it joined */

    c = (ocf && ocf->clients)
        ? eg_oidc_client_find(ocf->clients->elts, ocf->clients->nelts,
                              client_id->data, client_id->len)
        : NULL;

    if (c == NULL || c->data == NULL || emcf->keyset == NULL) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "edugate: logout: client \"%V\" has no back-channel "
                      "logout URI any more", client_id);
        return NGX_DECLINED;
    }

    claims = ngx_http_edugate_oidc_logout_claims(emcf, c, hash);
    if (claims == NULL) {
        return NGX_ERROR;
    }

    jwt = eg_jwt_sign(emcf->keyset, claims, "logout+jwt");
    json_decref(claims);

    if (jwt == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "edugate: internal_error: logout token for client "
                      "\"%V\" not signed", client_id);
        return NGX_ERROR;
    }

    len = sizeof("logout_token=") - 1
          + eg_percent_encode_len((u_char *) jwt, ngx_strlen(jwt));

    body = ngx_alloc(len, log);
    if (body == NULL) {
        free(jwt);
        return NGX_ERROR;
    }

    p = ngx_cpymem(body, "logout_token=", sizeof("logout_token=") - 1);
    p += eg_percent_encode(p, (u_char *) jwt, ngx_strlen(jwt));
    free(jwt);

    content.data = body;
    content.len = p - body;
    ngx_str_set(&type, "application/x-www-form-urlencoded");

    rc = ngx_http_edugate_fetch(log, c->data, NGX_HTTP_POST, NULL, &type,
                                &content, NULL, NULL);
    ngx_free(body);

    if (rc == NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "edugate: logout: back-channel logout token sent to "
                      "client \"%V\"", client_id);
    }

    return rc;
}


static json_t *
ngx_http_edugate_oidc_logout_claims(ngx_http_edugate_main_conf_t *emcf,
    const eg_oidc_client_t *c, u_char *hash)
{
    char     sid[EG_OIDC_SID_LEN + 1], hex[NGX_HTTP_EDUGATE_HASH_LEN + 1];
    u_char   jti[EG_OIDC_GID_LEN + 1];
    time_t   now;
    json_t  *claims;

    ngx_memcpy(hex, hash, NGX_HTTP_EDUGATE_HASH_LEN);
    hex[NGX_HTTP_EDUGATE_HASH_LEN] = '\0';

    if (eg_oidc_sid(sid, hex) != 0
        || eg_random_b64url(jti, EG_OIDC_GID_BYTES) != 0)
    {
        return NULL;
    }

    jti[EG_OIDC_GID_LEN] = '\0';
    now = ngx_time();

    /* section 2.4: no nonce, an events member, sid and/or sub */

    claims = json_pack("{s:s, s:s%, s:I, s:I, s:s, s:s, s:{s:{}}}",
                       "iss", (char *) emcf->issuer.data,
                       "aud", (char *) c->id.data, c->id.len,
                       "iat", (json_int_t) now,
                       "exp", (json_int_t) now
                              + NGX_HTTP_EDUGATE_OIDC_LOGOUT_TTL,
                       "jti", (char *) jti,
                       "sid", sid,
                       "events",
                       "http://schemas.openid.net/event/backchannel-logout");

    return claims;
}
