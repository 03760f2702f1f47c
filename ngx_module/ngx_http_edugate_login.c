/*
 * Copyright (C) EduGate contributors
 *
 * The login endpoint.  A POST walks through these steps, each Redis or
 * directory round trip suspending the request (NGX_DONE with a reference
 * held) until its callback finalizes the next step:
 *
 *   form checks -> consume the single-use CSRF token -> lockout check
 *   -> search-then-bind in the thread pool -> store a fresh session -> 302
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"
#include "ngx_http_edugate_login.h"
#include "eg_codec.h"
#include "eg_form.h"
#include "eg_text.h"
#include "eg_url.h"


#define NGX_HTTP_EDUGATE_USERNAME_MAX  128
#define NGX_HTTP_EDUGATE_CSRF_BYTES    32
#define NGX_HTTP_EDUGATE_CSRF_LEN      43
#define NGX_HTTP_EDUGATE_CSRF_KEY_LEN  (sizeof("eg:csrf:") - 1             \
                                        + NGX_HTTP_EDUGATE_HASH_LEN)


static ngx_int_t ngx_http_edugate_login_get(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc);
static ngx_int_t ngx_http_edugate_login_return(ngx_http_request_t *r,
    ngx_str_t *value, ngx_str_t *out);
static void ngx_http_edugate_login_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_edugate_login_post(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc);
static void ngx_http_edugate_login_csrf_done(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_edugate_login_lock_done(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_edugate_login_ldap_done(ngx_http_request_t *r,
    ngx_http_edugate_ldap_rc_e rc, eg_identity_t *id, const char *detail);
static void ngx_http_edugate_login_relock_done(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_login_proceed(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc);
static void ngx_http_edugate_login_check_level(ngx_http_request_t *r,
    eg_identity_t *id);
static void ngx_http_edugate_login_session_done(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_edugate_login_form_done(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_edugate_login_wait(ngx_http_request_t *r,
    ngx_int_t rc);


static ngx_str_t  ngx_http_edugate_csrf_cookie = ngx_string("edugate_csrf");
static ngx_str_t  ngx_http_edugate_form_type =
    ngx_string("application/x-www-form-urlencoded");


ngx_int_t
ngx_http_edugate_login_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_edugate_login_ctx_t  *lc;

    lc = ngx_http_edugate_login_ctx(r);
    if (lc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return ngx_http_edugate_login_get(r, lc);
    }

    if (!(r->method & NGX_HTTP_POST)) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: method_not_allowed: %V on the login "
                      "endpoint", &r->method_name);
        return ngx_http_edugate_login_error(r, NGX_HTTP_NOT_ALLOWED,
                                            "method_not_allowed");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_edugate_login_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


ngx_http_edugate_login_ctx_t *
ngx_http_edugate_login_ctx(ngx_http_request_t *r)
{
    ngx_http_edugate_ctx_t  *ctx;

    ctx = ngx_http_edugate_get_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->login == NULL) {
        ctx->login = ngx_pcalloc(r->pool,
                                 sizeof(ngx_http_edugate_login_ctx_t));
    }

    return ctx->login;
}


static ngx_int_t
ngx_http_edugate_login_get(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc)
{
    const char  *code;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code = ngx_http_edugate_query_return(r, lc);
    if (code != NULL) {
        return ngx_http_edugate_login_error(r, NGX_HTTP_BAD_REQUEST, code);
    }

    return ngx_http_edugate_login_form(r, lc, NGX_HTTP_OK, NULL);
}


/* the "return" query argument; NULL, or the code of the refusal */

const char *
ngx_http_edugate_query_return(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc)
{
    u_char           *buf;
    ngx_str_t         ret;
    eg_form_rc_e      rc;
    eg_form_field_t   field;

    ngx_memzero(&field, sizeof(eg_form_field_t));
    field.name = "return";

    buf = ngx_pnalloc(r->pool, r->args.len + 1);
    if (buf == NULL) {
        return "internal_error";
    }

    rc = eg_form_parse(r->args.data, r->args.len, &field, 1, buf);

    if (rc != EG_FORM_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: query string: %s",
                      eg_form_strerror(rc));
        return "invalid_request";
    }

    if (!field.seen) {
        return NULL;
    }

    ret.data = field.value;
    ret.len = field.len;

    if (ngx_http_edugate_login_return(r, &ret, &lc->return_to) != NGX_OK) {
        return "invalid_return";
    }

    return NULL;
}


/*
 * Validates a return target; a missing one means "/".  NGX_DECLINED: the
 * target is refused and the caller answers invalid_return.
 */

static ngx_int_t
ngx_http_edugate_login_return(ngx_http_request_t *r, ngx_str_t *value,
    ngx_str_t *out)
{
    ngx_uint_t                     n;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (value == NULL || value->len == 0) {
        ngx_str_set(out, "/");
        return NGX_OK;
    }

    n = emcf->return_hosts ? emcf->return_hosts->nelts : 0;

    if (!eg_return_url_ok(value->data, value->len,
                          n ? emcf->return_hosts->elts : NULL, n))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_return: refused return target "
                      "\"%s\"", ngx_http_edugate_log_value(r, value));
        return NGX_DECLINED;
    }

    *out = *value;

    return NGX_OK;
}


static void
ngx_http_edugate_login_body(ngx_http_request_t *r)
{
    ngx_http_edugate_login_ctx_t  *lc;

    lc = ngx_http_edugate_login_ctx(r);
    if (lc == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_edugate_login_post(r, lc));
}


static ngx_int_t
ngx_http_edugate_login_post(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc)
{
    u_char                        *body, *buf, *p;
    u_char                         key[NGX_HTTP_EDUGATE_CSRF_KEY_LEN];
    size_t                         len, klen[2];
    ngx_str_t                      cookie, ret;
    ngx_chain_t                   *cl;
    const char                    *argv[2];
    eg_form_rc_e                   frc;
    eg_form_field_t                fields[4];
    ngx_table_elt_t               *ct;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    ct = r->headers_in.content_type;

    if (ct == NULL
        || ct->value.len < ngx_http_edugate_form_type.len
        || ngx_strncasecmp(ct->value.data, ngx_http_edugate_form_type.data,
                           ngx_http_edugate_form_type.len) != 0
        || (ct->value.len > ngx_http_edugate_form_type.len
            && ct->value.data[ngx_http_edugate_form_type.len] != ';'
            && ct->value.data[ngx_http_edugate_form_type.len] != ' '))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: unsupported_media_type: login form sent as "
                      "\"%s\"", ct ? ngx_http_edugate_log_value(r, &ct->value)
                                   : (u_char *) "(none)");
        return ngx_http_edugate_login_error(r,
                                            NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                            "unsupported_media_type");
    }

    if (r->request_body == NULL || r->request_body->temp_file) {
        goto too_large;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > emcf->login_max_body) {
        goto too_large;
    }

    body = ngx_pnalloc(r->pool, len + 1);
    buf = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL || buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->last > cl->buf->pos) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    ngx_memzero(fields, sizeof(fields));
    fields[0].name = "username";
    fields[1].name = "password";
    fields[2].name = "csrf";
    fields[3].name = "return";

    frc = eg_form_parse(body, len, fields, 4, buf);

    /* the raw form holds the password: gone as soon as it is decoded */
    ngx_explicit_memzero(body, len);

    if (frc == EG_FORM_NUL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_credentials: NUL byte in a login "
                      "field, refused before bind");
        return ngx_http_edugate_login_error(r, NGX_HTTP_UNAUTHORIZED,
                                            "invalid_credentials");
    }

    if (frc != EG_FORM_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "edugate: invalid_request: login form: %s",
                      eg_form_strerror(frc));
        return ngx_http_edugate_login_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_request");
    }

    ret.data = fields[3].value;
    ret.len = fields[3].len;

    if (ngx_http_edugate_login_return(r, fields[3].seen ? &ret : NULL,
                                      &lc->return_to)
        != NGX_OK)
    {
        return ngx_http_edugate_login_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_return");
    }

    lc->username.data = fields[0].value;
    lc->username.len = fields[0].len;
    lc->password.data = fields[1].value;
    lc->password.len = fields[1].len;
    lc->csrf.data = fields[2].value;
    lc->csrf.len = fields[2].len;

    if (lc->username.len == 0
        || lc->username.len > NGX_HTTP_EDUGATE_USERNAME_MAX
        || eg_has_ctl(lc->username.data, lc->username.len)
        || !eg_utf8_valid(lc->username.data, lc->username.len))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_username: refused username "
                      "\"%s\" (%uz bytes)",
                      ngx_http_edugate_log_value(r, &lc->username),
                      lc->username.len);
        return ngx_http_edugate_login_form(r, lc, NGX_HTTP_BAD_REQUEST,
                                           "invalid_username");
    }

    /* the form token must match its cookie, then be consumed in Redis */

    if (ngx_http_edugate_get_cookie(r, &ngx_http_edugate_csrf_cookie,
                                    &cookie)
        != NGX_OK
        || cookie.len != NGX_HTTP_EDUGATE_CSRF_LEN
        || lc->csrf.len != NGX_HTTP_EDUGATE_CSRF_LEN
        || !eg_const_eq(cookie.data, lc->csrf.data, cookie.len))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: bad_csrf: login form token missing or not "
                      "matching its cookie");
        return ngx_http_edugate_login_form(r, lc, NGX_HTTP_FORBIDDEN,
                                           "bad_csrf");
    }

    if (ngx_http_edugate_get_cookie(r, &emcf->cookie_name, &lc->old_sid)
        != NGX_OK
        || !ngx_http_edugate_sid_valid(&lc->old_sid))
    {
        ngx_str_null(&lc->old_sid);
    }

    p = ngx_cpymem(key, "eg:csrf:", sizeof("eg:csrf:") - 1);

    if (eg_sha256_hex(p, lc->csrf.data, lc->csrf.len) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "GETDEL";
    klen[0] = 6;
    argv[1] = (const char *) key;
    klen[1] = sizeof(key);

    return ngx_http_edugate_login_call(r, ngx_http_edugate_login_csrf_done,
                                       2, argv, klen);

too_large:

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "edugate: form_too_large: login form over %uz bytes",
                  emcf->login_max_body);

    return ngx_http_edugate_login_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                        "form_too_large");
}


static void
ngx_http_edugate_login_csrf_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                      rc;
    ngx_http_edugate_login_ctx_t  *lc;

    lc = ngx_http_edugate_login_ctx(r);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        rc = ngx_http_edugate_login_store_down(r, reply, "form token check");
        goto done;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: bad_csrf: login form token unknown, expired "
                      "or already used");
        rc = ngx_http_edugate_login_form(r, lc, NGX_HTTP_FORBIDDEN,
                                         "bad_csrf");
        goto done;
    }

    if (ngx_http_edugate_login_keys(r, lc, &lc->username) != NGX_OK) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    rc = ngx_http_edugate_login_lock_check(r, lc,
                                           ngx_http_edugate_login_lock_done);

done:

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_edugate_login_lock_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                      rc;
    ngx_http_edugate_login_ctx_t  *lc;

    lc = ngx_http_edugate_login_ctx(r);

    rc = ngx_http_edugate_login_refuse_locked(r, lc, reply);
    if (rc != NGX_DECLINED) {
        goto done;
    }

    if (lc->password.len == 0) {
        /* RFC 4513 5.1.2: an empty password would be an anonymous bind */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "edugate: invalid_credentials: empty password for "
                      "\"%s\" refused before bind",
                      ngx_http_edugate_log_value(r, &lc->username));
        rc = ngx_http_edugate_login_failed(r, lc);
        goto done;
    }

    rc = ngx_http_edugate_ldap_auth(r, &lc->username, &lc->password,
                                    ngx_http_edugate_login_ldap_done);

    if (rc == NGX_OK) {
        r->main->count++;
        rc = NGX_DONE;

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: directory_unavailable: LDAP task not queued");
        rc = ngx_http_edugate_login_form(r, lc, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "directory_unavailable");
    }

done:

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_edugate_login_ldap_done(ngx_http_request_t *r,
    ngx_http_edugate_ldap_rc_e rc, eg_identity_t *id, const char *detail)
{
    ngx_int_t                      n;
    ngx_str_t                      uid;
    ngx_uint_t                     level;
    ngx_http_edugate_login_ctx_t  *lc;

    lc = ngx_http_edugate_login_ctx(r);
    lc->ldap_rc = rc;

    ngx_explicit_memzero(lc->password.data, lc->password.len);

    switch (rc) {

    case NGX_HTTP_EDUGATE_LDAP_OK:

        lc->identity = ngx_palloc(r->pool, sizeof(eg_identity_t));
        if (lc->identity == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memcpy(lc->identity, id, sizeof(eg_identity_t));
        ngx_http_edugate_login_check_level(r, lc->identity);
        break;

    case NGX_HTTP_EDUGATE_LDAP_BAD_CREDENTIALS:
    case NGX_HTTP_EDUGATE_LDAP_NO_USER:
    case NGX_HTTP_EDUGATE_LDAP_AMBIGUOUS:

        /* an ambiguous match is a directory fault: fail closed, loudly */

        level = (rc == NGX_HTTP_EDUGATE_LDAP_AMBIGUOUS) ? NGX_LOG_ERR
                                                        : NGX_LOG_WARN;

        ngx_log_error(level, r->connection->log, 0,
                      "edugate: invalid_credentials: login for \"%s\" "
                      "failed: %s",
                      ngx_http_edugate_log_value(r, &lc->username), detail);
        break;

    default:

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: directory_unavailable: %s", detail);

        ngx_explicit_memzero(id, sizeof(eg_identity_t));
        ngx_http_finalize_request(r,
            ngx_http_edugate_login_form(r, lc, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "directory_unavailable"));
        return;
    }

    /*
     * The directory matches "stu02 ", "STU02" and a full-width spelling
     * to one entry: its own spelling of the account decides the lockout, so
     * no spelling escapes a lock or gets counters of its own.
     */

    uid.data = (u_char *) id->uid;
    uid.len = ngx_strlen(id->uid);

    if (uid.len
        && (uid.len != lc->username.len
            || ngx_strncasecmp(uid.data, lc->username.data, uid.len) != 0))
    {
        n = ngx_http_edugate_login_keys(r, lc, &uid);

        if (n == NGX_OK) {
            n = ngx_http_edugate_login_lock_check(r, lc,
                                        ngx_http_edugate_login_relock_done);
        }

    } else {
        n = ngx_http_edugate_login_proceed(r, lc);
    }

    ngx_explicit_memzero(id, sizeof(eg_identity_t));

    ngx_http_finalize_request(r, n == NGX_ERROR
                                 ? NGX_HTTP_INTERNAL_SERVER_ERROR : n);
}


static void
ngx_http_edugate_login_relock_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                      rc;
    ngx_http_edugate_login_ctx_t  *lc;

    lc = ngx_http_edugate_login_ctx(r);

    rc = ngx_http_edugate_login_refuse_locked(r, lc, reply);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_edugate_login_proceed(r, lc);
    }

    ngx_http_finalize_request(r, rc);
}


/* after the directory answered and no lock applies */

static ngx_int_t
ngx_http_edugate_login_proceed(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc)
{
    ngx_int_t  rc;

    if (lc->ldap_rc != NGX_HTTP_EDUGATE_LDAP_OK) {
        return ngx_http_edugate_login_failed(r, lc);
    }

    rc = ngx_http_edugate_session_create(r, lc->identity, &lc->sid, lc->hash,
                                         ngx_http_edugate_login_session_done);

    return ngx_http_edugate_login_wait(r, rc);
}


/*
 * A level outside edugate_org_levels is a directory data fault: the person
 * still logs in, and district IT finds the entry in the log.
 */

static void
ngx_http_edugate_login_check_level(ngx_http_request_t *r, eg_identity_t *id)
{
    size_t                         len;
    ngx_str_t                     *level;
    ngx_uint_t                     i;
    ngx_http_edugate_main_conf_t  *emcf;

    len = ngx_strlen(id->level);

    if (len == 0) {
        return;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);
    level = emcf->org_levels->elts;

    for (i = 0; i < emcf->org_levels->nelts; i++) {
        if (level[i].len == len
            && ngx_strncmp(level[i].data, id->level, len) == 0)
        {
            return;
        }
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "edugate: unknown_level: \"%s\" of \"%s\" is not one of "
                  "edugate_org_levels", id->level, id->dn);
}


static void
ngx_http_edugate_login_session_done(ngx_http_request_t *r, redisReply *reply)
{
    size_t                         len[3];
    ngx_int_t                      rc;
    ngx_str_t                      path, empty;
    const char                    *argv[3];
    ngx_http_edugate_login_ctx_t  *lc;
    ngx_http_edugate_main_conf_t  *emcf;

    lc = ngx_http_edugate_login_ctx(r);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (reply == NULL || reply->type != REDIS_REPLY_STATUS) {
        rc = ngx_http_edugate_login_store_down(r, reply, "session creation");
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "edugate: login of \"%s\" (%s) succeeded",
                  lc->identity->uid, lc->identity->dn);

    argv[0] = "DEL";
    len[0] = 3;
    argv[1] = (const char *) lc->keys[0].data;
    len[1] = lc->keys[0].len;
    argv[2] = (const char *) lc->keys[1].data;
    len[2] = lc->keys[1].len;
    (void) ngx_http_edugate_redis_send(r->connection->log, 3, argv, len);

    if (lc->old_sid.len) {
        u_char  old[NGX_HTTP_EDUGATE_HASH_LEN];

        if (ngx_http_edugate_hash_sid(&lc->old_sid, old) == NGX_OK) {
            (void) ngx_http_edugate_session_revoke(r, old, NULL);
        }
    }

    ngx_str_set(&path, "/");
    ngx_str_null(&empty);

    if (ngx_http_edugate_set_cookie(r, &emcf->cookie_name, &lc->sid, &path,
                                    -1, 0)
        != NGX_OK
        || ngx_http_edugate_set_cookie(r, &ngx_http_edugate_csrf_cookie,
                                       &empty, &emcf->login_url, 0, 1)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_edugate_redirect(r, &lc->return_to,
                                                          NULL));
}


/* renders the form with a fresh single-use CSRF token */

ngx_int_t
ngx_http_edugate_login_form(ngx_http_request_t *r,
    ngx_http_edugate_login_ctx_t *lc, ngx_uint_t status, const char *code)
{
    u_char      *p, key[NGX_HTTP_EDUGATE_CSRF_KEY_LEN];
    u_char       ttl[NGX_INT_T_LEN];
    size_t       len[5];
    ngx_int_t    rc;
    const char  *argv[5];

    if (lc->return_to.len == 0) {
        ngx_str_set(&lc->return_to, "/");
    }

    lc->status = status;
    lc->code = code;

    lc->new_csrf.data = ngx_pnalloc(r->pool, NGX_HTTP_EDUGATE_CSRF_LEN);
    if (lc->new_csrf.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (eg_random_b64url(lc->new_csrf.data, NGX_HTTP_EDUGATE_CSRF_BYTES) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lc->new_csrf.len = NGX_HTTP_EDUGATE_CSRF_LEN;

    p = ngx_cpymem(key, "eg:csrf:", sizeof("eg:csrf:") - 1);

    if (eg_sha256_hex(p, lc->new_csrf.data, lc->new_csrf.len) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (const char *) key;
    len[1] = sizeof(key);
    argv[2] = "1";
    len[2] = 1;
    argv[3] = "EX";
    len[3] = 2;
    argv[4] = (const char *) ttl;
    len[4] = ngx_sprintf(ttl, "%d", NGX_HTTP_EDUGATE_CSRF_TTL) - ttl;

    rc = ngx_http_edugate_login_call(r, ngx_http_edugate_login_form_done,
                                     5, argv, len);

    return rc;
}


static void
ngx_http_edugate_login_form_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_int_t                      rc;
    ngx_http_edugate_login_ctx_t  *lc;
    ngx_http_edugate_main_conf_t  *emcf;

    lc = ngx_http_edugate_login_ctx(r);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_module);

    if (reply == NULL || reply->type != REDIS_REPLY_STATUS) {
        rc = ngx_http_edugate_login_store_down(r, reply, "form token");
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (ngx_http_edugate_set_cookie(r, &ngx_http_edugate_csrf_cookie,
                                    &lc->new_csrf, &emcf->login_url,
                                    NGX_HTTP_EDUGATE_CSRF_TTL, 1)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_edugate_send_login_form(r, lc->status, lc->code,
                                          &lc->new_csrf, &lc->return_to);

    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_http_edugate_login_store_down(ngx_http_request_t *r, redisReply *reply,
    const char *what)
{
    if (reply == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: %s: no reply "
                      "from redis", what);

    } else if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: %s: %*s",
                      what, (size_t) reply->len, reply->str);

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: %s: unexpected "
                      "redis reply of type %d", what, reply->type);
    }

    return ngx_http_edugate_login_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "session_store_unavailable");
}


ngx_int_t
ngx_http_edugate_login_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code)
{
    ngx_http_edugate_ctx_t  *ctx;

    ctx = ngx_http_edugate_get_ctx(r);
    if (ctx != NULL) {
        ctx->error.data = (u_char *) code;
        ctx->error.len = ngx_strlen(code);
    }

    return ngx_http_edugate_send_error(r, status, code, NULL);
}


/* a Redis round trip of a content handler: the request waits for it */

ngx_int_t
ngx_http_edugate_login_call(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler, int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_int_t  rc;

    rc = ngx_http_edugate_redis_call(r, handler, argc, argv, argvlen);

    return ngx_http_edugate_login_wait(r, rc);
}


/*
 * The outcome of sending a Redis command: the request waits for the reply
 * (NGX_DONE with a reference held), or gets its answer now.
 */

static ngx_int_t
ngx_http_edugate_login_wait(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_OK) {
        r->main->count++;
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: session_store_unavailable: "
                      "redis is not connected");
        return ngx_http_edugate_login_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "session_store_unavailable");
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* a log-safe, bounded copy of a client-supplied value */

u_char *
ngx_http_edugate_log_value(ngx_http_request_t *r, ngx_str_t *v)
{
    u_char  *p;
    size_t   n, len;

    n = ngx_min(v->len, 256);
    len = eg_log_escape_len(v->data, n);

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return (u_char *) "";
    }

    p[eg_log_escape(p, v->data, n)] = '\0';

    return p;
}
