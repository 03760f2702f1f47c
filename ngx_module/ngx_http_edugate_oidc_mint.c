/*
 * Copyright (C) EduGate contributors
 *
 * What the token endpoint hands out: the ID token (typ JWT), the access
 * token (typ at+jwt, RFC 9068, readable by edugate_protect) and the JSON
 * answer of RFC 6749 5.1.  Claims about the person follow the granted
 * scopes only.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_oidc.h"
#include "eg_codec.h"


static json_t *ngx_http_edugate_oidc_claims(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, ngx_uint_t id_token);


/* malloc()ed compact JWS, NULL on failure (logged) */

char *
ngx_http_edugate_oidc_mint(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, const char *typ, ngx_uint_t id_token)
{
    char                          *jwt;
    json_t                        *claims;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    claims = ngx_http_edugate_oidc_claims(r, ctx, id_token);
    if (claims == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: internal_error: claims of \"%s\" not built",
                      ctx->grant->identity.uid);
        return NULL;
    }

    jwt = eg_jwt_sign(emcf->keyset, claims, typ);
    json_decref(claims);

    if (jwt == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: internal_error: %s token of \"%s\" not "
                      "signed", typ, ctx->grant->identity.uid);
    }

    return jwt;
}


static json_t *
ngx_http_edugate_oidc_claims(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx, ngx_uint_t id_token)
{
    char                                scope[EG_OIDC_SCOPE_MAX];
    char                                sid[EG_OIDC_SID_LEN + 1];
    u_char                              jti[EG_OIDC_GID_LEN + 1
                                            + EG_OIDC_GID_LEN + 1];
    time_t                              now;
    json_t                             *c;
    eg_oidc_grant_t                    *g;
    ngx_http_edugate_main_conf_t       *emcf;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);
    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    g = ctx->grant;
    now = ngx_time();

    c = json_object();
    if (c == NULL) {
        return NULL;
    }

    if (json_object_set_new(c, "iss",
                            json_string((char *) emcf->issuer.data))
        != 0
        || json_object_set_new(c, "iat", json_integer(now)) != 0
        || json_object_set_new(c, "auth_time",
                               json_integer(g->identity.auth_time))
           != 0
        || eg_oidc_add_claims(c, &g->identity, ctx->scopes) != 0)
    {
        goto failed;
    }

    if (id_token) {
        if (eg_oidc_sid(sid, g->sid_hash) != 0
            || json_object_set_new(c, "aud", json_string(g->client_id)) != 0
            || json_object_set_new(c, "azp", json_string(g->client_id)) != 0
            || json_object_set_new(c, "exp",
                                   json_integer(now + ocf->id_ttl))
               != 0
            || json_object_set_new(c, "sid", json_string(sid)) != 0)
        {
            goto failed;
        }

        /* the nonce belongs to the authorization, not to a refresh */

        if (g->nonce[0] && !ctx->refreshing
            && json_object_set_new(c, "nonce", json_string(g->nonce)) != 0)
        {
            goto failed;
        }

        return c;
    }

    /* jti = grant id "." random: the grant's revocation reaches it too */

    ngx_memcpy(jti, ctx->gid, EG_OIDC_GID_LEN);
    jti[EG_OIDC_GID_LEN] = '.';

    if (eg_random_b64url(jti + EG_OIDC_GID_LEN + 1, EG_OIDC_GID_BYTES) != 0) {
        goto failed;
    }

    jti[sizeof(jti) - 1] = '\0';

    eg_oidc_scope_string(ctx->scopes, scope);

    if (ctx->client_token
        && json_object_set_new(c, "gty", json_string("client_credentials"))
           != 0)
    {
        goto failed;
    }

    if ((scope[0] && json_object_set_new(c, "scope", json_string(scope)) != 0)
        || json_object_set_new(c, "aud",
                            json_string((char *) emcf->token_audience.data))
           != 0
        || json_object_set_new(c, "client_id", json_string(g->client_id))
           != 0
        || json_object_set_new(c, "jti", json_string((char *) jti)) != 0
        || json_object_set_new(c, "exp",
                               json_integer(now + ocf->access_ttl))
           != 0)
    {
        goto failed;
    }

    return c;

failed:

    json_decref(c);

    return NULL;
}


/* RFC 6749 5.1 */

ngx_int_t
ngx_http_edugate_oidc_token_response(ngx_http_request_t *r,
    ngx_http_edugate_oidc_ctx_t *ctx)
{
    char                               *at, *idt;
    char                                scope[EG_OIDC_SCOPE_MAX];
    json_t                             *doc;
    ngx_http_edugate_oidc_main_conf_t  *ocf;

    ocf = ngx_http_get_module_main_conf(r, ngx_http_edugate_oidc_module);

    at = ngx_http_edugate_oidc_mint(r, ctx, "at+jwt", 0);
    if (at == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    idt = NULL;

    if (ctx->scopes & EG_OIDC_SCOPE_OPENID) {
        idt = ngx_http_edugate_oidc_mint(r, ctx, "JWT", 1);
        if (idt == NULL) {
            free(at);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    eg_oidc_scope_string(ctx->scopes, scope);

    doc = json_pack("{s:s, s:s, s:I}",
                    "access_token", at, "token_type", "Bearer",
                    "expires_in", (json_int_t) ocf->access_ttl);

    free(at);

    if (doc != NULL && scope[0]
        && json_object_set_new(doc, "scope", json_string(scope)) != 0)
    {
        json_decref(doc);
        doc = NULL;
    }

    if (doc != NULL && idt != NULL
        && json_object_set_new(doc, "id_token", json_string(idt)) != 0)
    {
        json_decref(doc);
        doc = NULL;
    }

    free(idt);

    if (doc != NULL && ctx->with_refresh
        && json_object_set_new(doc, "refresh_token",
                               json_string((char *) ctx->refresh))
           != 0)
    {
        json_decref(doc);
        doc = NULL;
    }

    return ngx_http_edugate_oidc_json_doc(r, NGX_HTTP_OK, doc);
}
