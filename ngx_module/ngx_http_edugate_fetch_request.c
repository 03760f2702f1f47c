/*
 * Copyright (C) EduGate contributors
 *
 * One outbound HTTP/1.1 request: one connection (Connection: close) on
 * nginx events, under one nginx timer for the whole exchange.  The timer
 * is not cancelable, so a graceful shutdown lets a notification in flight
 * finish (within edugate_fetch_timeout) instead of dropping it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>

#if (NGX_SSL)
#include <openssl/x509v3.h>
#endif

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_fetch.h"
#include "eg_http.h"
#include "eg_text.h"


static void ngx_http_edugate_fetch_connect(ngx_http_edugate_fetch_ctx_t *f);
static void ngx_http_edugate_fetch_connected(ngx_event_t *ev);
static ngx_int_t ngx_http_edugate_fetch_test_connect(ngx_connection_t *c,
    ngx_err_t *err);
#if (NGX_SSL)
static void ngx_http_edugate_fetch_ssl_start(ngx_http_edugate_fetch_ctx_t *f,
    ngx_connection_t *c);
static void ngx_http_edugate_fetch_ssl_done(ngx_connection_t *c);
static const char *ngx_http_edugate_fetch_ssl_verify(
    ngx_http_edugate_fetch_ctx_t *f, ngx_connection_t *c);
#endif
static void ngx_http_edugate_fetch_start(ngx_http_edugate_fetch_ctx_t *f,
    ngx_connection_t *c);
static void ngx_http_edugate_fetch_send(ngx_event_t *wev);
static void ngx_http_edugate_fetch_recv(ngx_event_t *rev);
static void ngx_http_edugate_fetch_dummy(ngx_event_t *ev);
static void ngx_http_edugate_fetch_event(ngx_event_t *ev);
static void ngx_http_edugate_fetch_fail(ngx_http_edugate_fetch_ctx_t *f,
    const char *error, ngx_err_t err);
static void ngx_http_edugate_fetch_finish(ngx_http_edugate_fetch_ctx_t *f,
    ngx_int_t status, ngx_str_t *body);
static void ngx_http_edugate_fetch_close(ngx_http_edugate_fetch_ctx_t *f);


ngx_int_t
ngx_http_edugate_fetch(ngx_log_t *log, ngx_http_edugate_target_t *t,
    ngx_uint_t method, ngx_str_t *uri, ngx_str_t *content_type,
    ngx_str_t *body, ngx_http_edugate_fetch_pt handler, void *data)
{
    u_char                        *p, *q;
    size_t                         len, blen, tlen;
    ngx_pool_t                    *pool;
    const char                    *name;
    ngx_http_edugate_fetch_ctx_t  *f;

    name = (method == NGX_HTTP_GET) ? "GET"
           : (method == NGX_HTTP_POST) ? "POST" : NULL;

    if (uri == NULL) {
        uri = &t->uri;
    }

    blen = (body != NULL) ? body->len : 0;
    tlen = (content_type != NULL) ? content_type->len : 0;

    if (name == NULL
        || !eg_http_target_ok(uri->data, uri->len)
        || (method == NGX_HTTP_GET && (blen || tlen))
        || (blen && tlen == 0)
        || (tlen && eg_has_ctl(content_type->data, tlen)))
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "edugate: notify: %s %V: bad request, not sent",
                      name ? name : "?", &t->origin);
        return NGX_ERROR;
    }

    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    f = ngx_pcalloc(pool, sizeof(ngx_http_edugate_fetch_ctx_t));
    if (f == NULL) {
        goto failed;
    }

    /* the caller's log may belong to a request that ends before we do */

    f->log = *log;
    f->log.connection = 0;
    f->log.handler = NULL;
    f->log.data = NULL;
    f->log.action = NULL;
    pool->log = &f->log;

    f->pool = pool;
    f->target = t;
    f->method = name;
    f->handler = handler;
    f->data = data;

    q = ngx_strlchr(uri->data, uri->data + uri->len, '?');
    f->path.len = (q ? q : uri->data + uri->len) - uri->data;
    f->path.data = ngx_pnalloc(pool, f->path.len);
    if (f->path.data == NULL) {
        goto failed;
    }

    ngx_memcpy(f->path.data, uri->data, f->path.len);

    len = eg_http_head_len(ngx_strlen(name), uri->len, t->authority.len,
                           tlen);

    p = ngx_pnalloc(pool, len + blen);
    if (p == NULL) {
        goto failed;
    }

    f->request.start = p;
    f->request.pos = p;

    p += eg_http_head(p, name, uri->data, uri->len, t->authority.data,
                      t->authority.len,
                      tlen ? content_type->data : NULL, tlen,
                      (method == NGX_HTTP_POST) ? blen : (size_t) -1);

    if (blen) {
        p = ngx_cpymem(p, body->data, blen);
    }

    f->request.last = p;
    f->request.end = p;

    p = ngx_pnalloc(pool, NGX_HTTP_EDUGATE_FETCH_MAX);
    if (p == NULL) {
        goto failed;
    }

    f->response.start = p;
    f->response.pos = p;
    f->response.last = p;
    f->response.end = p + NGX_HTTP_EDUGATE_FETCH_MAX;

    f->event.handler = ngx_http_edugate_fetch_event;
    f->event.data = f;
    f->event.log = &f->log;

    ngx_add_timer(&f->event, t->conf->timeout);

    ngx_http_edugate_fetch_connect(f);

    return NGX_OK;

failed:

    ngx_destroy_pool(pool);

    return NGX_ERROR;
}


/*
 * Tries the target's addresses in turn.  When none is left the failure
 * is posted, so that the handler never runs inside ngx_http_edugate_fetch.
 */

static void
ngx_http_edugate_fetch_connect(ngx_http_edugate_fetch_ctx_t *f)
{
    ngx_int_t          rc;
    ngx_addr_t        *addr;
    ngx_connection_t  *c;

    while (f->next < f->target->naddrs) {
        addr = &f->target->addrs[f->next++];

        ngx_memzero(&f->peer, sizeof(ngx_peer_connection_t));

        f->peer.sockaddr = addr->sockaddr;
        f->peer.socklen = addr->socklen;
        f->peer.name = &addr->name;
        f->peer.get = ngx_event_get_peer;
        f->peer.log = &f->log;
        f->peer.log_error = NGX_ERROR_ERR;
        f->peer.tries = 1;

        rc = ngx_event_connect_peer(&f->peer);

        if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
            f->peer.connection = NULL;
            f->error = "connect() failed";
            f->err = (rc == NGX_DECLINED) ? ngx_socket_errno : 0;
            continue;
        }

        c = f->peer.connection;
        c->data = f;
        c->pool = f->pool;
        c->read->handler = ngx_http_edugate_fetch_connected;
        c->write->handler = ngx_http_edugate_fetch_connected;

        if (rc == NGX_OK) {
            ngx_post_event(c->write, &ngx_posted_events);
        }

        return;
    }

    if (f->error == NULL) {
        f->error = "no address";
    }

    ngx_post_event(&f->event, &ngx_posted_events);
}


static void
ngx_http_edugate_fetch_connected(ngx_event_t *ev)
{
    ngx_err_t                      err;
    ngx_connection_t              *c;
    ngx_http_edugate_fetch_ctx_t  *f;

    c = ev->data;
    f = c->data;

    if (ngx_http_edugate_fetch_test_connect(c, &err) != NGX_OK) {
        ngx_http_edugate_fetch_close(f);
        f->error = "connect() failed";
        f->err = err;
        ngx_http_edugate_fetch_connect(f);
        return;
    }

#if (NGX_SSL)
    if (f->target->https) {
        ngx_http_edugate_fetch_ssl_start(f, c);
        return;
    }
#endif

    ngx_http_edugate_fetch_start(f, c);
}


static ngx_int_t
ngx_http_edugate_fetch_test_connect(ngx_connection_t *c, ngx_err_t *err)
{
    int        e;
    socklen_t  len;

#if (NGX_HAVE_KQUEUE)

    if (ngx_event_flags & NGX_USE_KQUEUE_EVENT) {
        if (c->write->pending_eof || c->read->pending_eof) {
            *err = c->write->pending_eof ? c->write->kq_errno
                                         : c->read->kq_errno;
            return NGX_ERROR;
        }

        return NGX_OK;
    }

#endif

    e = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &e, &len) == -1) {
        e = ngx_socket_errno;
    }

    *err = e;

    return e ? NGX_ERROR : NGX_OK;
}


#if (NGX_SSL)

static void
ngx_http_edugate_fetch_ssl_start(ngx_http_edugate_fetch_ctx_t *f,
    ngx_connection_t *c)
{
    ngx_int_t  rc;

    if (ngx_ssl_create_connection(f->target->conf->ssl, c, NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_edugate_fetch_fail(f, "TLS setup failed", 0);
        return;
    }

    /* no SNI for an address (RFC 6066, section 3) */

    if (!f->target->ip_literal
        && SSL_set_tlsext_host_name(c->ssl->connection,
                                    (char *) f->target->host.data)
           == 0)
    {
        ngx_http_edugate_fetch_fail(f, "TLS setup failed", 0);
        return;
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_edugate_fetch_ssl_done;
        return;
    }

    ngx_http_edugate_fetch_ssl_done(c);
}


static void
ngx_http_edugate_fetch_ssl_done(ngx_connection_t *c)
{
    const char                    *why;
    ngx_http_edugate_fetch_ctx_t  *f;

    f = c->data;

    if (c->ssl == NULL || !c->ssl->handshaked) {
        ngx_http_edugate_fetch_fail(f, "TLS handshake failed", 0);
        return;
    }

    why = ngx_http_edugate_fetch_ssl_verify(f, c);
    if (why != NULL) {
        ngx_http_edugate_fetch_fail(f, why, 0);
        return;
    }

    ngx_http_edugate_fetch_start(f, c);
}


/* the chain against the trusted certificates, then the host name */

static const char *
ngx_http_edugate_fetch_ssl_verify(ngx_http_edugate_fetch_ctx_t *f,
    ngx_connection_t *c)
{
    int                         ok;
    long                        rc;
    X509                       *cert;
    ngx_http_edugate_target_t  *t;

    t = f->target;

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        f->detail = X509_verify_cert_error_string(rc);
        return "certificate not trusted";
    }

    cert = SSL_get_peer_certificate(c->ssl->connection);
    if (cert == NULL) {
        return "no certificate";
    }

    if (t->ip_literal) {
        ok = X509_check_ip_asc(cert, (char *) t->host.data, 0);

    } else {
        ok = X509_check_host(cert, (char *) t->host.data, t->host.len, 0,
                             NULL);
    }

    X509_free(cert);

    return (ok == 1) ? NULL : "certificate does not name the host";
}

#endif


static void
ngx_http_edugate_fetch_start(ngx_http_edugate_fetch_ctx_t *f,
    ngx_connection_t *c)
{
    c->write->handler = ngx_http_edugate_fetch_send;
    c->read->handler = ngx_http_edugate_fetch_recv;

    ngx_http_edugate_fetch_send(c->write);
}


static void
ngx_http_edugate_fetch_send(ngx_event_t *wev)
{
    ssize_t                        n;
    ngx_buf_t                     *b;
    ngx_connection_t              *c;
    ngx_http_edugate_fetch_ctx_t  *f;

    c = wev->data;
    f = c->data;
    b = &f->request;

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_http_edugate_fetch_fail(f, "event not added", 0);
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_edugate_fetch_fail(f, "send() failed",
                                        ngx_socket_errno);
            return;
        }

        b->pos += n;
    }

    wev->handler = ngx_http_edugate_fetch_dummy;

    ngx_http_edugate_fetch_recv(c->read);
}


static void
ngx_http_edugate_fetch_recv(ngx_event_t *rev)
{
    ssize_t                        n;
    ngx_str_t                      body;
    ngx_buf_t                     *b;
    eg_http_rc_e                   rc;
    ngx_connection_t              *c;
    eg_http_response_t             resp;
    ngx_http_edugate_fetch_ctx_t  *f;

    c = rev->data;
    f = c->data;
    b = &f->response;

    if (f->request.pos < f->request.last) {
        return;
    }

    /* a full buffer ends the reading: the rest of the body is not wanted */

    while (b->last < b->end) {
        n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_edugate_fetch_fail(f, "event not added", 0);
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_edugate_fetch_fail(f, "recv() failed",
                                        ngx_socket_errno);
            return;
        }

        if (n == 0) {
            break;
        }

        b->last += n;

        rc = eg_http_response(&resp, b->pos, b->last - b->pos, 0);

        if (rc == EG_HTTP_DONE) {
            goto done;
        }

        if (rc == EG_HTTP_BAD) {
            ngx_http_edugate_fetch_fail(f, resp.error, 0);
            return;
        }
    }

    rc = eg_http_response(&resp, b->pos, b->last - b->pos, 1);

    if (rc != EG_HTTP_DONE) {
        ngx_http_edugate_fetch_fail(f, resp.error, 0);
        return;
    }

done:

    body.data = resp.body;
    body.len = resp.body_len;

    ngx_http_edugate_fetch_finish(f, resp.status, &body);
}


static void
ngx_http_edugate_fetch_dummy(ngx_event_t *ev)
{
}


/* the deadline, or a failure posted by ngx_http_edugate_fetch_connect() */

static void
ngx_http_edugate_fetch_event(ngx_event_t *ev)
{
    ngx_http_edugate_fetch_ctx_t  *f = ev->data;

    if (ev->timedout) {
        f->error = NULL;
        f->err = 0;
    }

    ngx_http_edugate_fetch_finish(f, NGX_ERROR, NULL);
}


static void
ngx_http_edugate_fetch_fail(ngx_http_edugate_fetch_ctx_t *f,
    const char *error, ngx_err_t err)
{
    f->error = error;
    f->err = err;

    ngx_http_edugate_fetch_finish(f, NGX_ERROR, NULL);
}


static void
ngx_http_edugate_fetch_finish(ngx_http_edugate_fetch_ctx_t *f,
    ngx_int_t status, ngx_str_t *body)
{
    ngx_str_t                   empty;
    ngx_uint_t                  level;
    ngx_http_edugate_target_t  *t;

    t = f->target;

    if (status != NGX_ERROR) {
        level = (status >= 200 && status < 300) ? NGX_LOG_INFO
                                                : NGX_LOG_WARN;

        ngx_log_error(level, &f->log, 0, "edugate: notify: %s %V%V: %i",
                      f->method, &t->origin, &f->path, status);

    } else if (f->event.timedout) {
        ngx_log_error(NGX_LOG_ERR, &f->log, 0,
                      "edugate: notify: %s %V%V: timed out after %Mms",
                      f->method, &t->origin, &f->path, t->conf->timeout);

    } else {
        ngx_log_error(NGX_LOG_ERR, &f->log, f->err,
                      "edugate: notify: %s %V%V: %s%s%s",
                      f->method, &t->origin, &f->path, f->error,
                      f->detail ? ": " : "", f->detail ? f->detail : "");
    }

    ngx_http_edugate_fetch_close(f);

    if (f->event.timer_set) {
        ngx_del_timer(&f->event);
    }

    if (f->event.posted) {
        ngx_delete_posted_event(&f->event);
    }

    if (f->handler) {
        ngx_str_null(&empty);
        f->handler(f->data, status, body ? body : &empty);
    }

    ngx_destroy_pool(f->pool);
}


static void
ngx_http_edugate_fetch_close(ngx_http_edugate_fetch_ctx_t *f)
{
    ngx_connection_t  *c;

    c = f->peer.connection;

    if (c == NULL) {
        return;
    }

    f->peer.connection = NULL;

#if (NGX_SSL)
    if (c->ssl) {
        /* the answer is read: nothing more to say or to wait for */
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    c->pool = NULL;

    ngx_close_connection(c);
}
