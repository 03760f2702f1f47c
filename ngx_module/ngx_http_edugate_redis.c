/*
 * Copyright (C) EduGate contributors
 *
 * hiredis async contexts driven by nginx events.  hiredis 0.14 has neither
 * timers nor a way to bound a command, so every command of a request gets
 * an nginx timer; the reply that arrives after its timer fired is dropped.
 * The sockets are registered level-triggered: hiredis reads at most 16 KB
 * per call and relies on being called again while bytes are pending.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/async.h>

#include "ngx_http_edugate_module.h"
#include "ngx_http_edugate_redis.h"


#define NGX_HTTP_EDUGATE_REDIS_RETRY  500


typedef struct {
    redisAsyncContext             *ac;
    ngx_connection_t              *conn;
    ngx_event_t                    retry;
    ngx_event_t                    connect_timer;
    ngx_log_t                     *log;
    const char                    *name;
    unsigned                       connected:1;
    unsigned                       subscriber:1;
    unsigned                       subscribed:1;
} ngx_http_edugate_redis_link_t;


typedef struct {
    ngx_event_t                    timer;
    ngx_http_request_t            *request;
    ngx_http_edugate_redis_pt      handler;
    ngx_http_edugate_redis_any_pt  any;
    ngx_pool_cleanup_t            *cleanup;
} ngx_http_edugate_redis_cmd_t;


static void ngx_http_edugate_redis_connect(ngx_http_edugate_redis_link_t *lk);
static void ngx_http_edugate_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_edugate_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_edugate_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_edugate_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_edugate_redis_lost(ngx_http_edugate_redis_link_t *lk);
static void ngx_http_edugate_redis_setup_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_edugate_redis_message(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_edugate_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_edugate_redis_timeout(ngx_event_t *ev);
static void ngx_http_edugate_redis_detach(void *data);

static ngx_int_t ngx_http_edugate_redis_attach(
    ngx_http_edugate_redis_link_t *lk);
static void ngx_http_edugate_redis_read_handler(ngx_event_t *ev);
static void ngx_http_edugate_redis_write_handler(ngx_event_t *ev);
static void ngx_http_edugate_redis_add_read(void *privdata);
static void ngx_http_edugate_redis_del_read(void *privdata);
static void ngx_http_edugate_redis_add_write(void *privdata);
static void ngx_http_edugate_redis_del_write(void *privdata);
static void ngx_http_edugate_redis_cleanup(void *privdata);


/*
 * Per-worker state: set in init_process, so a reload (new workers) never
 * sees the previous cycle's values.
 */
static ngx_http_edugate_main_conf_t   *ngx_http_edugate_redis_conf;
static ngx_http_edugate_redis_link_t   ngx_http_edugate_redis_cmd_link;
static ngx_http_edugate_redis_link_t   ngx_http_edugate_redis_sub_link;
static ngx_uint_t                      ngx_http_edugate_redis_exiting;


ngx_int_t
ngx_http_edugate_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_edugate_main_conf_t *emcf)
{
    ngx_http_edugate_redis_link_t  *lk;

    ngx_http_edugate_redis_conf = emcf;
    ngx_http_edugate_redis_exiting = 0;

    lk = &ngx_http_edugate_redis_cmd_link;
    ngx_memzero(lk, sizeof(ngx_http_edugate_redis_link_t));
    lk->log = cycle->log;
    lk->name = "command";

    lk = &ngx_http_edugate_redis_sub_link;
    ngx_memzero(lk, sizeof(ngx_http_edugate_redis_link_t));
    lk->log = cycle->log;
    lk->name = "subscriber";
    lk->subscriber = 1;

    ngx_http_edugate_redis_connect(&ngx_http_edugate_redis_cmd_link);
    ngx_http_edugate_redis_connect(&ngx_http_edugate_redis_sub_link);

    return NGX_OK;
}


void
ngx_http_edugate_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    redisAsyncContext              *ac;
    ngx_http_edugate_redis_link_t  *links[2], *lk;

    ngx_http_edugate_redis_exiting = 1;

    links[0] = &ngx_http_edugate_redis_cmd_link;
    links[1] = &ngx_http_edugate_redis_sub_link;

    for (i = 0; i < 2; i++) {
        lk = links[i];

        if (lk->retry.timer_set) {
            ngx_del_timer(&lk->retry);
        }

        if (lk->connect_timer.timer_set) {
            ngx_del_timer(&lk->connect_timer);
        }

        if (lk->ac) {
            ac = lk->ac;
            lk->ac = NULL;
            redisAsyncFree(ac);
        }
    }
}


static void
ngx_http_edugate_redis_connect(ngx_http_edugate_redis_link_t *lk)
{
    u_char                         db[NGX_INT_T_LEN];
    size_t                         len[2];
    const char                    *argv[2];
    redisAsyncContext             *ac;
    ngx_http_edugate_main_conf_t  *emcf;

    emcf = ngx_http_edugate_redis_conf;

    if (emcf->redis_unix.len) {
        ac = redisAsyncConnectUnix((char *) emcf->redis_unix.data);

    } else {
        /* the host is numeric (resolved at configuration time): no DNS */
        ac = redisAsyncConnect((char *) emcf->redis_host.data,
                               (int) emcf->redis_port);
    }

    if (ac == NULL || ac->err) {
        ngx_log_error(NGX_LOG_ERR, lk->log, 0,
                      "edugate: redis %s connection to \"%V\" failed: %s",
                      lk->name, &emcf->redis_addr,
                      ac ? ac->errstr : "out of memory");
        if (ac) {
            redisAsyncFree(ac);
        }

        ngx_http_edugate_redis_lost(lk);
        return;
    }

    ac->data = lk;
    lk->ac = ac;

    if (ngx_http_edugate_redis_attach(lk) != NGX_OK) {
        lk->ac = NULL;
        redisAsyncFree(ac);
        ngx_http_edugate_redis_lost(lk);
        return;
    }

    redisAsyncSetConnectCallback(ac, ngx_http_edugate_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_edugate_redis_on_disconnect);

    /* commands queue up until the connection is established */

    if (emcf->redis_password.len) {
        argv[0] = "AUTH";
        len[0] = 4;
        argv[1] = (const char *) emcf->redis_password.data;
        len[1] = emcf->redis_password.len;
        redisAsyncCommandArgv(ac, ngx_http_edugate_redis_setup_reply, lk,
                              2, argv, len);
    }

    if (emcf->redis_db && !lk->subscriber) {
        argv[0] = "SELECT";
        len[0] = 6;
        argv[1] = (const char *) db;
        len[1] = ngx_sprintf(db, "%i", emcf->redis_db) - db;
        redisAsyncCommandArgv(ac, ngx_http_edugate_redis_setup_reply, lk,
                              2, argv, len);
    }

    if (lk->subscriber) {
        argv[0] = "SUBSCRIBE";
        len[0] = 9;
        argv[1] = NGX_HTTP_EDUGATE_REVOKE_CHANNEL;
        len[1] = sizeof(NGX_HTTP_EDUGATE_REVOKE_CHANNEL) - 1;
        redisAsyncCommandArgv(ac, ngx_http_edugate_redis_message, lk,
                              2, argv, len);
    }

    lk->connect_timer.handler = ngx_http_edugate_redis_connect_timeout;
    lk->connect_timer.data = lk;
    lk->connect_timer.log = lk->log;
    lk->connect_timer.cancelable = 1;
    ngx_add_timer(&lk->connect_timer, emcf->redis_timeout);
}


static void
ngx_http_edugate_redis_lost(ngx_http_edugate_redis_link_t *lk)
{
    lk->ac = NULL;
    lk->connected = 0;

    if (lk->subscribed) {
        /* revocations may be missed from now on: forget what is cached */
        lk->subscribed = 0;
        ngx_http_edugate_cache_flush();
    }

    if (lk->connect_timer.timer_set) {
        ngx_del_timer(&lk->connect_timer);
    }

    if (ngx_http_edugate_redis_exiting || ngx_exiting || ngx_terminate) {
        return;
    }

    lk->retry.handler = ngx_http_edugate_redis_retry_handler;
    lk->retry.data = lk;
    lk->retry.log = lk->log;
    lk->retry.cancelable = 1;

    if (!lk->retry.timer_set) {
        ngx_add_timer(&lk->retry, NGX_HTTP_EDUGATE_REDIS_RETRY);
    }
}


static void
ngx_http_edugate_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_edugate_redis_connect(ev->data);
}


static void
ngx_http_edugate_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_edugate_redis_link_t  *lk = ev->data;

    redisAsyncContext  *ac;

    if (lk->connected || lk->ac == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, lk->log, 0,
                  "edugate: redis %s connection to \"%V\" timed out",
                  lk->name, &ngx_http_edugate_redis_conf->redis_addr);

    /* not inside a hiredis callback here, so the context may be freed */
    ac = lk->ac;
    lk->ac = NULL;
    redisAsyncFree(ac);
    ngx_http_edugate_redis_lost(lk);
}


static void
ngx_http_edugate_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_edugate_redis_link_t  *lk = ac->data;

    if (lk->connect_timer.timer_set) {
        ngx_del_timer(&lk->connect_timer);
    }

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, lk->log, 0,
                      "edugate: redis %s connection to \"%V\" failed: %s",
                      lk->name, &ngx_http_edugate_redis_conf->redis_addr,
                      ac->errstr);

        /* hiredis frees the context after this callback returns */
        ngx_http_edugate_redis_lost(lk);
        return;
    }

    lk->connected = 1;

    ngx_log_error(NGX_LOG_INFO, lk->log, 0,
                  "edugate: redis %s connection to \"%V\" established",
                  lk->name, &ngx_http_edugate_redis_conf->redis_addr);
}


static void
ngx_http_edugate_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_edugate_redis_link_t  *lk = ac->data;

    if (!ngx_http_edugate_redis_exiting) {
        ngx_log_error(NGX_LOG_ERR, lk->log, 0,
                      "edugate: redis %s connection to \"%V\" lost: %s",
                      lk->name, &ngx_http_edugate_redis_conf->redis_addr,
                      status == REDIS_OK ? "closed" : ac->errstr);
    }

    ngx_http_edugate_redis_lost(lk);
}


static void
ngx_http_edugate_redis_setup_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                     *rr = reply;
    ngx_http_edugate_redis_link_t  *lk = privdata;

    if (rr != NULL && rr->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, lk->log, 0,
                      "edugate: redis %s connection setup failed: %*s",
                      lk->name, (size_t) rr->len, rr->str);
    }
}


static void
ngx_http_edugate_redis_message(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                     *rr = reply, *kind, *payload;
    ngx_http_edugate_redis_link_t  *lk = privdata;

    if (rr == NULL) {
        return;
    }

    if (rr->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, lk->log, 0,
                      "edugate: redis subscribe failed: %*s",
                      (size_t) rr->len, rr->str);
        return;
    }

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 3
        || rr->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    kind = rr->element[0];
    payload = rr->element[2];

    if (kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0) {
        lk->subscribed = 1;
        ngx_http_edugate_cache_flush();
        return;
    }

    if (kind->len == 7 && ngx_strncmp(kind->str, "message", 7) == 0
        && payload->type == REDIS_REPLY_STRING
        && payload->len == NGX_HTTP_EDUGATE_HASH_LEN)
    {
        ngx_http_edugate_cache_forget((u_char *) payload->str);
    }
}


ngx_uint_t
ngx_http_edugate_redis_subscribed(void)
{
    return ngx_http_edugate_redis_sub_link.subscribed;
}


ngx_int_t
ngx_http_edugate_redis_call(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler, int argc, const char **argv,
    const size_t *argvlen)
{
    return ngx_http_edugate_redis_call_any(r, handler, NULL, argc, argv,
                                           argvlen);
}


ngx_int_t
ngx_http_edugate_redis_call_any(ngx_http_request_t *r,
    ngx_http_edugate_redis_pt handler, ngx_http_edugate_redis_any_pt any,
    int argc, const char **argv, const size_t *argvlen)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_edugate_redis_cmd_t   *cmd;
    ngx_http_edugate_redis_link_t  *lk;

    lk = &ngx_http_edugate_redis_cmd_link;

    if (lk->ac == NULL) {
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    /* outlives the request when the reply comes late: not from its pool */
    cmd = ngx_calloc(sizeof(ngx_http_edugate_redis_cmd_t), r->connection->log);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    if (redisAsyncCommandArgv(lk->ac, ngx_http_edugate_redis_reply, cmd,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NGX_DECLINED;
    }

    cmd->request = r;
    cmd->handler = handler;
    cmd->any = any;
    cmd->cleanup = cln;

    cln->handler = ngx_http_edugate_redis_detach;
    cln->data = cmd;

    cmd->timer.handler = ngx_http_edugate_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = r->connection->log;
    ngx_add_timer(&cmd->timer, ngx_http_edugate_redis_conf->redis_timeout);

    return NGX_OK;
}


ngx_int_t
ngx_http_edugate_redis_send(ngx_log_t *log, int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_http_edugate_redis_link_t  *lk;

    lk = &ngx_http_edugate_redis_cmd_link;

    if (lk->ac == NULL
        || redisAsyncCommandArgv(lk->ac, NULL, NULL, argc, argv, argvlen)
           != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "edugate: session_store_unavailable: "
                      "redis %*s not sent", argvlen[0], argv[0]);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_edugate_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_edugate_redis_cmd_t  *cmd = privdata;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (cmd->any) {
        cmd->any(reply);
    }

    r = cmd->request;

    if (r != NULL) {
        cmd->request = NULL;
        cmd->cleanup->handler = NULL;

        c = r->connection;
        ngx_http_set_log_request(c->log, r);

        if (cmd->handler) {
            cmd->handler(r, reply);
        }

        ngx_http_run_posted_requests(c);
    }

    ngx_free(cmd);
}


static void
ngx_http_edugate_redis_timeout(ngx_event_t *ev)
{
    ngx_http_edugate_redis_cmd_t  *cmd = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = cmd->request;

    if (r == NULL) {
        return;
    }

    /* the command stays queued in hiredis; its late reply is dropped */
    cmd->request = NULL;
    cmd->cleanup->handler = NULL;

    c = r->connection;
    ngx_http_set_log_request(c->log, r);

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "edugate: session_store_unavailable: redis command "
                  "timed out after %Mms",
                  ngx_http_edugate_redis_conf->redis_timeout);

    if (cmd->handler == NULL) {
        return;
    }

    cmd->handler(r, NULL);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_edugate_redis_detach(void *data)
{
    ngx_http_edugate_redis_cmd_t  *cmd = data;

    cmd->request = NULL;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }
}


static ngx_int_t
ngx_http_edugate_redis_attach(ngx_http_edugate_redis_link_t *lk)
{
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    ac = lk->ac;

    if (ac->ev.data != NULL) {
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, lk->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = lk;
    c->read->handler = ngx_http_edugate_redis_read_handler;
    c->write->handler = ngx_http_edugate_redis_write_handler;
    c->read->log = lk->log;
    c->write->log = lk->log;

    lk->conn = c;

    ac->ev.data = lk;
    ac->ev.addRead = ngx_http_edugate_redis_add_read;
    ac->ev.delRead = ngx_http_edugate_redis_del_read;
    ac->ev.addWrite = ngx_http_edugate_redis_add_write;
    ac->ev.delWrite = ngx_http_edugate_redis_del_write;
    ac->ev.cleanup = ngx_http_edugate_redis_cleanup;

    return NGX_OK;
}


static void
ngx_http_edugate_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t               *c = ev->data;
    ngx_http_edugate_redis_link_t  *lk = c->data;

    if (lk->ac != NULL) {
        redisAsyncHandleRead(lk->ac);
    }
}


static void
ngx_http_edugate_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t               *c = ev->data;
    ngx_http_edugate_redis_link_t  *lk = c->data;

    if (lk->ac != NULL) {
        redisAsyncHandleWrite(lk->ac);
    }
}


static void
ngx_http_edugate_redis_add_read(void *privdata)
{
    ngx_http_edugate_redis_link_t  *lk = privdata;

    if (lk->conn != NULL && !lk->conn->read->active) {
        if (ngx_add_event(lk->conn->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, lk->log, 0,
                          "edugate: redis read event not added");
        }
    }
}


static void
ngx_http_edugate_redis_del_read(void *privdata)
{
    ngx_http_edugate_redis_link_t  *lk = privdata;

    if (lk->conn != NULL && lk->conn->read->active) {
        ngx_del_event(lk->conn->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_edugate_redis_add_write(void *privdata)
{
    ngx_http_edugate_redis_link_t  *lk = privdata;

    if (lk->conn != NULL && !lk->conn->write->active) {
        if (ngx_add_event(lk->conn->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, lk->log, 0,
                          "edugate: redis write event not added");
        }
    }
}


static void
ngx_http_edugate_redis_del_write(void *privdata)
{
    ngx_http_edugate_redis_link_t  *lk = privdata;

    if (lk->conn != NULL && lk->conn->write->active) {
        ngx_del_event(lk->conn->write, NGX_WRITE_EVENT, 0);
    }
}


static void
ngx_http_edugate_redis_cleanup(void *privdata)
{
    ngx_http_edugate_redis_link_t  *lk = privdata;

    ngx_connection_t  *c;

    c = lk->conn;

    if (c == NULL) {
        return;
    }

    lk->conn = NULL;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /*
     * hiredis closes the descriptor itself; -1 tells nginx that the
     * connection is not left open at worker exit
     */
    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}
