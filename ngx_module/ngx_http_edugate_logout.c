/*
 * Copyright (C) EduGate contributors
 *
 * The logout endpoint: the session ends in Redis and its cookie goes, then
 * the browser returns to its target or gets a "logged_out" answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_login.h"


static void ngx_http_edugate_logout_done(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_logout_finish(ngx_http_request_t *r,
    ngx_uint_t status, const char *code);


ngx_int_t
ngx_http_edugate_logout_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    const char                    *code;
    ngx_http_edugate_login_ctx_t  *lc;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: %V on the logout "
                      "endpoint", &r->method_name);
        return ngx_http_edugate_login_error(r, NGX_HTTP_NOT_ALLOWED,
                                            "method_not_allowed");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lc = ngx_http_edugate_login_ctx(r);
    if (lc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code = ngx_http_edugate_query_return(r, lc);
    if (code != NULL) {
        return ngx_http_edugate_login_error(r, NGX_HTTP_BAD_REQUEST, code);
    }

    rc = ngx_http_edugate_session_end(r, ngx_http_edugate_logout_done);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_edugate_logout_finish(r, NGX_HTTP_OK, NULL);
    }

    return ngx_http_edugate_logout_finish(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "session_store_unavailable");
}


static void
ngx_http_edugate_logout_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t  rc;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: logout not "
                      "recorded");
        rc = ngx_http_edugate_logout_finish(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "session_store_unavailable");

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: logout: session ended");
        rc = ngx_http_edugate_logout_finish(r, NGX_HTTP_OK, NULL);
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_edugate_logout_finish(ngx_http_request_t *r, ngx_uint_t status,
    const char *code)
{
    ngx_http_edugate_login_ctx_t  *lc;

    lc = ngx_http_edugate_login_ctx(r);

    if (ngx_http_edugate_forget_cookie(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (code != NULL) {
        return ngx_http_edugate_login_error(r, status, code);
    }

    if (lc->return_to.len) {
        return ngx_http_edugate_redirect(r, &lc->return_to, NULL);
    }

    return ngx_http_edugate_send_error(r, NGX_HTTP_OK, "logged_out", NULL);
}
