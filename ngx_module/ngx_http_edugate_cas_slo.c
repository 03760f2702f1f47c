/*
 * Copyright (C) EduGate contributors
 *
 * CAS single logout (CAS 3.0 appendix C).  Each time a ticket of a
 * service registered with slo=on or logout_url= is validated, the member
 * "cas <ticket> <service URL>" goes into the participant set of its
 * session, eg:rp:<session hash>.  When the session ends, every such
 * service gets a POST of a SAML LogoutRequest naming that ticket, sent on
 * the event loop without waiting for the answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_fetch.h"
#include "ngx_http_edugate_cas.h"
#include "eg_http.h"
#include "eg_url.h"


#define NGX_HTTP_EDUGATE_CAS_RP_KEY_LEN  (sizeof("eg:rp:") - 1              \
                                          + NGX_HTTP_EDUGATE_HASH_LEN)




static void ngx_http_edugate_cas_slo_registered(ngx_http_request_t *r,
    redisReply *reply);


/*
 * KEYS: the participant set, the session.  The answer waits for this
 * script: a logout on another node either ends the session first, and the
 * ticket is refused (0), or finds the service in the set.
 */
static const char  ngx_http_edugate_cas_slo_add_script[] =
    "if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end "
    "redis.call('SADD', KEYS[1], ARGV[1]) "
    "redis.call('EXPIRE', KEYS[1], ARGV[2]) "
    "return 1";


ngx_int_t
ngx_http_edugate_cas_slo_register(ngx_http_request_t *r,
    ngx_http_edugate_cas_ctx_t *ctx)
{
    ngx_int_t                         rc;
    u_char                           *p, ttl[NGX_TIME_T_LEN];
    u_char                            rp[NGX_HTTP_EDUGATE_CAS_RP_KEY_LEN];
    u_char                            sess[NGX_HTTP_EDUGATE_SESSION_KEY_LEN];
    size_t                            len[7];
    const char                       *argv[7];
    ngx_http_edugate_main_conf_t     *emcf;
    ngx_http_edugate_cas_svc_conf_t  *scf;

    scf = ctx->svc->data;

    if (scf == NULL || scf->slo == NULL || ctx->slo_registered) {
        return NGX_DECLINED;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    len[5] = sizeof("cas  ") - 1 + ctx->ticket.len + ctx->service.len;

    p = ngx_pnalloc(r->pool, len[5]);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[5] = (const char *) p;
    p = ngx_cpymem(p, "cas ", sizeof("cas ") - 1);
    p = ngx_cpymem(p, ctx->ticket.data, ctx->ticket.len);
    *p++ = ' ';
    ngx_memcpy(p, ctx->service.data, ctx->service.len);

    ngx_memcpy(ngx_cpymem(rp, "eg:rp:", sizeof("eg:rp:") - 1),
               ctx->rec->session, NGX_HTTP_EDUGATE_HASH_LEN);

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_edugate_cas_slo_add_script;
    len[1] = sizeof(ngx_http_edugate_cas_slo_add_script) - 1;
    argv[2] = "2";
    len[2] = 1;
    argv[3] = (const char *) rp;
    len[3] = sizeof(rp);
    argv[4] = (const char *) sess;
    len[4] = ngx_http_edugate_session_key(sess, (u_char *) ctx->rec->session);
    argv[6] = (const char *) ttl;
    len[6] = ngx_sprintf(ttl, "%T", emcf->session_max) - ttl;

    rc = ngx_http_edugate_redis_call(r, ngx_http_edugate_cas_slo_registered,
                                     7, argv, len);

    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "edugate: INTERNAL_ERROR: redis is not connected, ticket "
                  "of \"%s\" not registered for single logout",
                  ctx->rec->id.uid);

    return ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                        "The ticket store is unavailable.");
}


static void
ngx_http_edugate_cas_slo_registered(ngx_http_request_t *r,
    redisReply *reply)
{
    ngx_int_t                    rc;
    ngx_http_edugate_cas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_edugate_cas_module);

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: INTERNAL_ERROR: ticket of \"%s\" not "
                      "registered for single logout", ctx->rec->id.uid);
        rc = ngx_http_edugate_cas_failure(r, "INTERNAL_ERROR",
                                          "The ticket store is "
                                          "unavailable.");

    } else if (reply->integer == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: INVALID_TICKET: the session that issued the "
                      "ticket of \"%s\" ended during its validation",
                      ctx->rec->id.uid);
        rc = ngx_http_edugate_cas_failure(r, "INVALID_TICKET",
                                          "The ticket is not valid.");

    } else {
        ctx->slo_registered = 1;
        rc = ngx_http_edugate_cas_success(r, ctx->pgt_issued
                                             ? (char *) ctx->pgt_iou : NULL);
    }

    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_http_edugate_cas_slo(ngx_log_t *log, ngx_str_t *service,
    ngx_str_t *ticket)
{
    u_char                            *p, *xml;
    u_char                             t[EG_CAS_TICKET_MAX + 1];
    size_t                             xml_len;
    ngx_int_t                          rc;
    ngx_str_t                          body, uri, *target, type;
    eg_http_url_t                      u;
    const eg_cas_service_t            *svc;
    ngx_http_edugate_cas_svc_conf_t   *scf;
    ngx_http_edugate_cas_main_conf_t  *ccf;

    ccf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                              ngx_http_edugate_cas_module);

    if (ccf == NULL || ccf->services == NULL) {
        return NGX_DECLINED;
    }

    svc = eg_cas_service_find(ccf->services->elts, ccf->services->nelts,
                              service->data, service->len);

    scf = svc ? svc->data : NULL;

    if (scf == NULL || scf->slo == NULL) {
        return NGX_DECLINED;
    }

    if (eg_cas_ticket_check(ticket->data, ticket->len) == EG_CAS_TICKET_BAD)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "edugate: cas: single logout of \"%V\" not sent: "
                      "malformed ticket", service);
        return NGX_ERROR;
    }

    ngx_memcpy(t, ticket->data, ticket->len);
    t[ticket->len] = '\0';

    if (eg_cas_xml_logout_request((char *) t, ngx_time(), &xml, &xml_len)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "edugate: cas: single logout of \"%V\" not sent: "
                      "request not built", service);
        return NGX_ERROR;
    }

    /* the service's own path: a prefix registration covers many URLs */

    target = NULL;

    if (!scf->slo_own_uri) {
        if (eg_http_url_parse(&u, service->data, service->len) != NULL) {
            eg_cas_xml_free(xml);
            return NGX_DECLINED;
        }

        target = &uri;
    }

    body.len = sizeof("logoutRequest=") - 1
               + eg_percent_encode_len(xml, xml_len);

    p = ngx_alloc(body.len + 1 + (target ? u.target_len : 0), log);
    if (p == NULL) {
        eg_cas_xml_free(xml);
        return NGX_ERROR;
    }

    body.data = p;
    p = ngx_cpymem(p, "logoutRequest=", sizeof("logoutRequest=") - 1);
    p += eg_percent_encode(p, xml, xml_len);

    eg_cas_xml_free(xml);

    if (target) {
        uri.data = p;

        if (u.target_len == 0 || u.target[0] != '/') {
            *p++ = '/';
        }

        p = ngx_cpymem(p, u.target, u.target_len);
        uri.len = p - uri.data;
    }

    ngx_str_set(&type, "application/x-www-form-urlencoded");

    rc = ngx_http_edugate_fetch(log, scf->slo, NGX_HTTP_POST, target, &type,
                                &body, NULL, NULL);

    ngx_free(body.data);

    return (rc == NGX_OK) ? NGX_OK : NGX_ERROR;
}
