/*
 * Copyright (C) EduGate contributors
 *
 * Crashes of plugins.  A thread marks which plugin hook it runs; a fault
 * signal taken while the mark is set is counted for that plugin in shared
 * memory and logged with its name, and the default action then ends the
 * worker (its memory can no longer be trusted), which the master
 * replaces.  Once a plugin has crashed edugate_plugin_crash_limit times
 * within the window, it is disabled in every worker until nginx is
 * reloaded: its locations answer 503 instead of crashing workers in a
 * loop.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <signal.h>

#include "ngx_http_edugate_plugin.h"


#define NGX_HTTP_EDUGATE_CRASH_RING   16
#define NGX_HTTP_EDUGATE_ALTSTACK     65536

#define ngx_http_edugate_crash_lit(p, end, s)                                \
    ngx_http_edugate_crash_str(p, end, s, sizeof(s) - 1)


typedef struct {
    ngx_atomic_t                  crashes;
    ngx_atomic_t                  disabled;
    time_t                        times[NGX_HTTP_EDUGATE_CRASH_RING];
} ngx_http_edugate_crash_slot_t;

typedef struct {
    ngx_http_edugate_crash_slot_t  slots[NGX_HTTP_EDUGATE_PLUGINS_MAX];
} ngx_http_edugate_crash_shm_t;


static ngx_int_t ngx_http_edugate_crash_init_zone(ngx_shm_zone_t *zone,
    void *data);
static void ngx_http_edugate_crash_signal(int signo, siginfo_t *si,
    void *uc);
static char *ngx_http_edugate_crash_num(char *p, char *end, ngx_uint_t n);
static char *ngx_http_edugate_crash_str(char *p, char *end, const char *s,
    size_t len);


static int  ngx_http_edugate_crash_signals[] = {
    SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT
};

#define NGX_HTTP_EDUGATE_NSIGNALS                                            \
    (sizeof(ngx_http_edugate_crash_signals) / sizeof(int))

static struct sigaction
    ngx_http_edugate_crash_saved[NGX_HTTP_EDUGATE_NSIGNALS];

static ngx_http_edugate_crash_shm_t  *ngx_http_edugate_crash_shm;

static __thread ngx_http_edugate_plugin_t  *ngx_http_edugate_crash_plugin;
static __thread const char                 *ngx_http_edugate_crash_hook;
static __thread ngx_uint_t                  ngx_http_edugate_crash_stack;


ngx_int_t
ngx_http_edugate_crash_zone(ngx_conf_t *cf,
    ngx_http_edugate_plugin_main_conf_t *pmcf)
{
    ngx_str_t  name = ngx_string("edugate_plugins");

    pmcf->zone = ngx_shared_memory_add(cf, &name, 16 * ngx_pagesize,
                                       &ngx_http_edugate_plugin_module);
    if (pmcf->zone == NULL) {
        return NGX_ERROR;
    }

    pmcf->zone->init = ngx_http_edugate_crash_init_zone;
    pmcf->zone->data = pmcf;

    return NGX_OK;
}


/* every configuration starts afresh: a reload is how a plugin returns */

static ngx_int_t
ngx_http_edugate_crash_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_edugate_crash_shm_t  *shm;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (data) {
        shm = data;

    } else if (zone->shm.exists) {
        shm = shpool->data;

    } else {
        shm = ngx_slab_alloc(shpool, sizeof(ngx_http_edugate_crash_shm_t));
        if (shm == NULL) {
            return NGX_ERROR;
        }

        shpool->data = shm;
    }

    ngx_memzero(shm, sizeof(ngx_http_edugate_crash_shm_t));

    zone->data = shm;

    return NGX_OK;
}


ngx_int_t
ngx_http_edugate_crash_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                            i;
    struct sigaction                      sa;
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_edugate_plugin_module);

    if (pmcf == NULL || pmcf->zone == NULL) {
        return NGX_OK;
    }

    ngx_http_edugate_crash_shm = pmcf->zone->data;

    ngx_memzero(&sa, sizeof(struct sigaction));
    sa.sa_sigaction = ngx_http_edugate_crash_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);

    for (i = 0; i < NGX_HTTP_EDUGATE_NSIGNALS; i++) {
        if (sigaction(ngx_http_edugate_crash_signals[i], &sa,
                      &ngx_http_edugate_crash_saved[i])
            != 0)
        {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                          "edugate: sigaction(%d) failed",
                          ngx_http_edugate_crash_signals[i]);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Runs in a thread of the pool.  A signal stack of the thread's own lets
 * a plugin that overflows its stack be counted too; a thread that has one
 * already (a sanitizer sets its own) keeps it.
 */

void
ngx_http_edugate_crash_enter(ngx_http_edugate_plugin_t *vp, const char *hook)
{
    stack_t  ss, old;

    if (!ngx_http_edugate_crash_stack) {
        ngx_http_edugate_crash_stack = 1;

        if (sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE)) {
            ss.ss_sp = malloc(NGX_HTTP_EDUGATE_ALTSTACK);
            ss.ss_size = NGX_HTTP_EDUGATE_ALTSTACK;
            ss.ss_flags = 0;

            if (ss.ss_sp && sigaltstack(&ss, NULL) != 0) {
                free(ss.ss_sp);
            }
        }
    }

    ngx_http_edugate_crash_hook = hook;
    ngx_http_edugate_crash_plugin = vp;
}


void
ngx_http_edugate_crash_leave(void)
{
    ngx_http_edugate_crash_plugin = NULL;
}


ngx_uint_t
ngx_http_edugate_crash_disabled(ngx_http_request_t *r,
    ngx_http_edugate_plugin_t *vp)
{
    time_t                                now;
    ngx_uint_t                            i, n, recent;
    ngx_http_edugate_crash_slot_t        *slot;
    ngx_http_edugate_plugin_main_conf_t  *pmcf;

    if (ngx_http_edugate_crash_shm == NULL) {
        return 0;
    }

    slot = &ngx_http_edugate_crash_shm->slots[vp->slot];

    if (slot->disabled) {
        return 1;
    }

    n = slot->crashes;

    if (n == 0) {
        return 0;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_edugate_plugin_module);

    now = ngx_time();
    recent = 0;

    for (i = 0; i < ngx_min(n, NGX_HTTP_EDUGATE_CRASH_RING); i++) {
        if (slot->times[i] > now - pmcf->crash_window) {
            recent++;
        }
    }

    if (recent < pmcf->crash_limit) {
        return 0;
    }

    if (ngx_atomic_cmp_set(&slot->disabled, 0, 1)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "edugate: plugin_disabled: plugin \"%V\" crashed %ui "
                      "times within %T s: its locations answer 503 until "
                      "nginx is reloaded", &vp->name, recent,
                      pmcf->crash_window);
    }

    return 1;
}


/*
 * Only async-signal-safe work here: atomic counters, time(), write().
 * The thread that faulted returns into the fault, now with the default
 * action, and the kernel ends the process.
 */

static void
ngx_http_edugate_crash_signal(int signo, siginfo_t *si, void *uc)
{
    char                            buf[512], *p, *end;
    ngx_uint_t                      i, n;
    struct sigaction               *old;
    ngx_http_edugate_plugin_t      *vp;
    ngx_http_edugate_crash_slot_t  *slot;

    for (i = 0; i < NGX_HTTP_EDUGATE_NSIGNALS; i++) {
        if (ngx_http_edugate_crash_signals[i] == signo) {
            break;
        }
    }

    old = &ngx_http_edugate_crash_saved[i % NGX_HTTP_EDUGATE_NSIGNALS];
    vp = ngx_http_edugate_crash_plugin;

    if (vp == NULL) {
        /* not a plugin: whoever handled it before does */
        if (old->sa_flags & SA_SIGINFO) {
            sigaction(signo, old, NULL);
            old->sa_sigaction(signo, si, uc);
            return;
        }

        if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
            sigaction(signo, old, NULL);
            old->sa_handler(signo);
            return;
        }

        signal(signo, SIG_DFL);
        return;
    }

    ngx_http_edugate_crash_plugin = NULL;

    slot = &ngx_http_edugate_crash_shm->slots[vp->slot];
    n = ngx_atomic_fetch_add(&slot->crashes, 1);
    slot->times[n % NGX_HTTP_EDUGATE_CRASH_RING] = time(NULL);

    p = buf;
    end = buf + sizeof(buf) - 1;

    p = ngx_http_edugate_crash_str(p, end,
                                   (char *) ngx_cached_err_log_time.data,
                                   ngx_cached_err_log_time.len);
    p = ngx_http_edugate_crash_lit(p, end, " [crit] ");
    p = ngx_http_edugate_crash_num(p, end, (ngx_uint_t) ngx_pid);
    p = ngx_http_edugate_crash_lit(p, end, "#0: edugate: plugin_crashed: "
                                   "plugin \"");
    p = ngx_http_edugate_crash_str(p, end, (char *) vp->name.data,
                                   vp->name.len);
    p = ngx_http_edugate_crash_lit(p, end, "\" crashed with signal ");
    p = ngx_http_edugate_crash_num(p, end, (ngx_uint_t) signo);
    p = ngx_http_edugate_crash_lit(p, end, " in its ");
    p = ngx_http_edugate_crash_str(p, end, ngx_http_edugate_crash_hook,
                                   ngx_strlen(ngx_http_edugate_crash_hook));
    p = ngx_http_edugate_crash_lit(p, end, " hook (crash ");
    p = ngx_http_edugate_crash_num(p, end, n + 1);
    p = ngx_http_edugate_crash_lit(p, end, "); the worker ends\n");

    if (ngx_cycle && ngx_cycle->log && ngx_cycle->log->file
        && ngx_cycle->log->file->fd != NGX_INVALID_FILE)
    {
        (void) write(ngx_cycle->log->file->fd, buf, p - buf);
    }

    signal(signo, SIG_DFL);
}


static char *
ngx_http_edugate_crash_num(char *p, char *end, ngx_uint_t n)
{
    char    tmp[NGX_INT_T_LEN];
    size_t  len;

    len = 0;

    do {
        tmp[len++] = (char) ('0' + n % 10);
        n /= 10;
    } while (n && len < sizeof(tmp));

    while (len && p < end) {
        *p++ = tmp[--len];
    }

    return p;
}


static char *
ngx_http_edugate_crash_str(char *p, char *end, const char *s, size_t len)
{
    while (len-- && p < end) {
        *p++ = *s++;
    }

    return p;
}
