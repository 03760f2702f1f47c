/*
 * Copyright (C) EduGate contributors
 *
 * Test-only plugins, one shared object per TP_* variant (the Makefile
 * builds each with -DTP_<VARIANT>).  Each breaks one rule of the ABI, or
 * misbehaves in one way, so that the tests can pin what the loader, the
 * checker and the gateway say and do about it.  Never install them.
 *
 *   good        sets X-Test-User, tp_user=, cookie tp_user (and their
 *               flags) from the identity, and logs one line: the
 *               reference for the others
 *   slow        good, after sleeping sleep_ms (argument) in the hook
 *   crash       writes through a NULL pointer in the identity hook
 *   badout      sets a header that describe() does not list
 *   badrecord   a to_standard hook whose student records break the
 *               standard's structure (a sex outside GB/T 2261.1, no name),
 *               or that crashes on a payload with a "crash" member; its
 *               to_vendor asks for GET /people with every filter it is
 *               given as an argument (what the gateway hands a plugin
 *               shows at the vendor), after sleeping the query's
 *               sleep_ms filter if there is one, or crashes on a crash
 *               filter
 *   abi_major   descriptor for ABI 2.0
 *   abi_minor   descriptor for ABI 1.99
 *   size        descriptor size of another edugate_plugin.h
 *   host_size   host table size of another edugate_plugin.h
 *   null_name   descriptor without a name
 *   init_fail   init() refuses its arguments with a message
 *   no_entry    no edugate_plugin_entry symbol
 *   exports     (with good) a second exported symbol and libm linked:
 *               loads, but the checker refuses it
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(TP_EXPORTS)
#include <math.h>
#endif

#include <edugate_plugin.h>


static int tp_init(const edugate_host_t *h, int argc,
    const char *const *argv, void **state, char *err, size_t errlen);
static int tp_describe(void *state, edugate_description_t *d);
static int tp_identity(const edugate_host_t *h, edugate_call_t *c,
    void *state, const edugate_identity_t *id);
#if defined(TP_BADRECORD)
static int tp_to_standard(const edugate_host_t *h, edugate_call_t *c,
    void *state, const char *entity, const edugate_node_t *payload);
static int tp_to_vendor(const edugate_host_t *h, edugate_call_t *c,
    void *state, const edugate_query_t *q);
#endif
#if defined(TP_CRASH) || defined(TP_BADRECORD)
static void tp_crash(void);
#endif


static const char *const  tp_headers[] = { "X-Test-User", "X-Test-Flags",
                                           NULL };
static const char *const  tp_args[] = { "tp_user", NULL };
static const char *const  tp_cookies[] = { "tp_user", NULL };
#if defined(TP_BADRECORD)
static const char *const  tp_entities[] = { "students", NULL };
#endif

static const edugate_plugin_t  tp_plugin = {
#if defined(TP_ABI_MAJOR)
    2, 0, sizeof(edugate_plugin_t), sizeof(edugate_host_t),
#elif defined(TP_ABI_MINOR)
    1, 99, sizeof(edugate_plugin_t), sizeof(edugate_host_t),
#elif defined(TP_SIZE)
    1, 0, sizeof(edugate_plugin_t) + 8, sizeof(edugate_host_t),
#elif defined(TP_HOST_SIZE)
    1, 0, sizeof(edugate_plugin_t), sizeof(edugate_host_t) - 8,
#else
    EDUGATE_PLUGIN_HEADER,
#endif
#if defined(TP_NULL_NAME)
    NULL,
#else
    "testplugin",
#endif
    "0.0.1",
    tp_init,
    NULL,
    tp_describe,
    tp_identity,
#if defined(TP_BADRECORD)
    tp_to_standard,
    tp_to_vendor
#else
    NULL,
    NULL
#endif
};


#if defined(TP_NO_ENTRY)

EDUGATE_EXPORT const edugate_plugin_t *
edugate_plugin_entry_v0(void)
{
    return &tp_plugin;
}

#else

EDUGATE_EXPORT const edugate_plugin_t *
edugate_plugin_entry(void)
{
    return &tp_plugin;
}

#endif


#if defined(TP_EXPORTS)

EDUGATE_EXPORT double
tp_helper(double x)
{
    return sqrt(x);
}

#endif


#if defined(TP_CRASH) || defined(TP_BADRECORD)

static void
tp_crash(void)
{
    volatile int  *nowhere = NULL;

    *nowhere = 1;
}

#endif


static int
tp_init(const edugate_host_t *h, int argc, const char *const *argv,
    void **state, char *err, size_t errlen)
{
    long         *ms;
    const char   *v;

    (void) err;
    (void) errlen;

#if defined(TP_INIT_FAIL)
    v = h->arg(argc, argv, "mode");
    strncpy(err, "mode must be \"strict\" or \"lax\", not \"", errlen - 1);
    strncat(err, v ? v : "", errlen - strlen(err) - 1);
    strncat(err, "\"", errlen - strlen(err) - 1);
    return EDUGATE_BAD_CONFIG;
#endif

    ms = h->state_alloc(h, sizeof(long));
    if (ms == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    v = h->arg(argc, argv, "sleep_ms");
    *ms = 0;

    while (v && *v >= '0' && *v <= '9') {
        *ms = *ms * 10 + (*v++ - '0');
    }

    *state = ms;

    return EDUGATE_OK;
}


static int
tp_describe(void *state, edugate_description_t *d)
{
    (void) state;

    d->summary = "test-only plugin";
#if defined(TP_BADRECORD)
    d->payload = "json";
    d->entities = tp_entities;
#endif
    d->identity_headers = tp_headers;
    d->identity_args = tp_args;
    d->identity_cookies = tp_cookies;

    return EDUGATE_OK;
}


static int
tp_identity(const edugate_host_t *h, edugate_call_t *c, void *state,
    const edugate_identity_t *id)
{
    long  ms = *(long *) state;

#if defined(TP_SLOW)
    /* test-only: a real plugin never sleeps */
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    nanosleep(&ts, NULL);
#else
    (void) ms;
#endif

#if defined(TP_CRASH)
    tp_crash();
#endif

#if defined(TP_BADOUT)
    return h->set_header(c, "X-Not-Declared", "1") == EDUGATE_OK
           ? EDUGATE_OK : EDUGATE_ERROR;
#endif

    h->log(c, EDUGATE_LOG_INFO, "presenting %s as %s\n", id->uid,
           id->vendor_uid);

    if (h->set_header(c, "X-Test-User", id->vendor_uid) != EDUGATE_OK
        || h->set_header(c, "X-Test-Flags",
                         h->sprintf(c, "pairwise=%d uid=%s school=%s",
                                    (id->flags & EDUGATE_ID_PAIRWISE) != 0,
                                    id->uid, id->school))
           != EDUGATE_OK
        || h->set_arg(c, "tp_user", id->vendor_uid) != EDUGATE_OK
        || h->set_cookie(c, "tp_user", id->vendor_uid) != EDUGATE_OK)
    {
        return EDUGATE_ERROR;
    }

    return EDUGATE_OK;
}


#if defined(TP_BADRECORD)

/* one record per element of the payload's "people" list */
static int
tp_to_standard(const edugate_host_t *h, edugate_call_t *c, void *state,
    const char *entity, const edugate_node_t *payload)
{
    size_t                 i, n;
    edugate_record_t      *r;
    const edugate_node_t  *people;

    (void) state;
    (void) entity;

    if (h->node_get(payload, "crash") != NULL) {
        tp_crash();
    }

    people = h->node_get(payload, "people");
    n = h->node_count(people);

    for (i = 0; i < n; i++) {
        r = h->record_new(c, "students");
        if (r == NULL) {
            return EDUGATE_NO_MEMORY;
        }

        h->record_set(r, "source.vendorLocalId",
                      h->node_text_at(h->node_child(people, i), "id"));
        h->record_set(r, "sex", "X");
        h->record_set(r, "birthDate", "2016-05-12");
        h->record_set(r, "gradeLevel", "03");
        h->record_set(r, "enrolmentStatus", "01");
    }

    return EDUGATE_OK;
}

static int
tp_to_vendor(const edugate_host_t *h, edugate_call_t *c, void *state,
    const edugate_query_t *q)
{
    long              ms;
    uint32_t          i;
    const char       *v;
    struct timespec   ts;

    (void) state;

    if (h->param(q, "crash") != NULL) {
        tp_crash();
    }

    /* test-only: a real plugin never sleeps */
    v = h->param(q, "sleep_ms");

    if (v) {
        ms = strtol(v, NULL, 10);
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000;
        nanosleep(&ts, NULL);
    }

    for (i = 0; i < q->nparams; i++) {
        if (h->set_arg(c, q->params[i].name, q->params[i].value)
            != EDUGATE_OK)
        {
            return EDUGATE_ERROR;
        }
    }

    return h->set_path(c, "GET", "/people");
}

#endif
