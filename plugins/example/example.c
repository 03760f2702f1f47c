/*
 * Copyright (C) EduGate contributors
 *
 * example: the template of an EduGate vendor adapter.  Copy this
 * directory, rename it, and replace what the fictional vendor "Example
 * School Cloud" does with what yours does.  Every hook is here, each
 * with what the gateway expects of it.
 *
 * The fictional vendor:
 *   - its application trusts the header X-Example-User (its own user id)
 *     and X-Example-Tenant (which district it serves);
 *   - its people API, GET /api/v1/people?school=<code>, answers
 *       {"people": [{"id": "p-1", "name": "...", "gender": "f|m",
 *                    "born": "YYYY-MM-DD", "grade": "3",
 *                    "status": "active"}]}
 *
 * Build:
 *   cc -shared -fPIC -fvisibility=hidden \
 *      $(pkg-config --cflags edugate-plugin) -o example.so example.c
 *
 * Rules every plugin follows: no I/O, no clock (the host passes "now"),
 * no globals, no threads, no libraries; memory only from the host; the
 * state made by init() is never written by a hook, as hooks of one
 * plugin run in several threads at once.
 */

#include <string.h>

#include <edugate_plugin.h>


typedef struct {
    const char  *tenant;
} example_state_t;


static int example_init(const edugate_host_t *h, int argc,
    const char *const *argv, void **state, char *err, size_t errlen);
static void example_fini(void *state);
static int example_describe(void *state, edugate_description_t *d);
static int example_identity(const edugate_host_t *h, edugate_call_t *c,
    void *state, const edugate_identity_t *id);
static int example_to_standard(const edugate_host_t *h, edugate_call_t *c,
    void *state, const char *entity, const edugate_node_t *payload);
static int example_to_vendor(const edugate_host_t *h, edugate_call_t *c,
    void *state, const edugate_query_t *q);
static void example_copy(char *dst, size_t size, const char *src);


/* read-only data is not a global in the sense of the rules: it never changes */

static const char *const  example_entities[] = { "students", NULL };
static const char *const  example_tables[] = { "sex", "status", NULL };
static const char *const  example_headers[] = {
    "X-Example-User", "X-Example-Tenant", NULL
};

static const edugate_plugin_t  example_plugin = {
    EDUGATE_PLUGIN_HEADER,
    "example",                      /* name: [a-z0-9_-], 1..32 */
    "1.0.0",                        /* version, shown in logs */
    example_init,
    example_fini,
    example_describe,
    example_identity,
    example_to_standard,
    example_to_vendor
};


/* the one exported symbol */

EDUGATE_EXPORT const edugate_plugin_t *
edugate_plugin_entry(void)
{
    return &example_plugin;
}


/*
 * init: once, when nginx reads its configuration (and for every reload),
 * with the key=value arguments of the edugate_plugin line.  A failure
 * fails `nginx -t` with the message written into err.  Memory for the
 * state comes from h->state_alloc(), which only works here.
 */

static int
example_init(const edugate_host_t *h, int argc, const char *const *argv,
    void **state, char *err, size_t errlen)
{
    const char       *tenant;
    example_state_t  *st;

    tenant = h->arg(argc, argv, "tenant");

    if (tenant == NULL || tenant[0] == '\0') {
        example_copy(err, errlen, "needs tenant=<district code>");
        return EDUGATE_BAD_CONFIG;
    }

    st = h->state_alloc(h, sizeof(example_state_t));
    if (st == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    /* argv lives as long as the plugin is loaded */
    st->tenant = tenant;

    *state = st;

    return EDUGATE_OK;
}


/* fini: when the configuration is unloaded; host memory goes by itself */

static void
example_fini(void *state)
{
    (void) state;
}


/*
 * describe: what the plugin supports.  The identity hook may only set the
 * headers, arguments and cookies listed here; the gateway removes copies
 * of them sent by clients.  Every code table listed must have rows in
 * example.csv (next to example.so) or in an edugate_plugin_table file.
 */

static int
example_describe(void *state, edugate_description_t *d)
{
    (void) state;

    d->summary = "Example School Cloud: header identity, JSON people API";
    d->payload = "json";
    d->entities = example_entities;
    d->tables = example_tables;
    d->identity_headers = example_headers;

    return EDUGATE_OK;
}


/*
 * identity: for every request to a location with "edugate_vendor
 * example", after the gateway has checked the session.  id->vendor_uid
 * is the vendor's id of the person, already resolved by the gateway
 * (from Redis, or a pairwise id when the vendor has none: see
 * EDUGATE_ID_PAIRWISE).  EDUGATE_DECLINED refuses the person (403).
 */

static int
example_identity(const edugate_host_t *h, edugate_call_t *c, void *state,
    const edugate_identity_t *id)
{
    example_state_t  *st = state;

    if (h->set_header(c, "X-Example-User", id->vendor_uid) != EDUGATE_OK
        || h->set_header(c, "X-Example-Tenant", st->tenant) != EDUGATE_OK)
    {
        return EDUGATE_ERROR;
    }

    return EDUGATE_OK;
}


/*
 * to_standard: a vendor payload (already parsed, size- and depth-checked,
 * UTF-8) for one standard entity becomes standard records.  Coded values
 * go through h->code_map(), which sets the field, keeps the vendor's raw
 * value, and reports what it cannot map: never guess a code.
 */

static int
example_to_standard(const edugate_host_t *h, edugate_call_t *c, void *state,
    const char *entity, const edugate_node_t *payload)
{
    size_t                 i, n;
    const char            *v;
    edugate_record_t      *r;
    const edugate_node_t  *people, *p;

    (void) state;

    if (strcmp(entity, "students") != 0) {
        return EDUGATE_DECLINED;
    }

    people = h->node_get(payload, "people");

    if (h->node_type(people) != EDUGATE_NODE_ARRAY) {
        h->error(c, "no \"people\" list in the payload");
        return EDUGATE_BAD_INPUT;
    }

    n = h->node_count(people);

    for (i = 0; i < n; i++) {
        p = h->node_child(people, i);

        r = h->record_new(c, "students");
        if (r == NULL) {
            return EDUGATE_NO_MEMORY;
        }

        h->record_set(r, "source.vendorLocalId", h->node_text_at(p, "id"));
        h->record_set(r, "name", h->node_text_at(p, "name"));
        h->record_set(r, "birthDate", h->node_text_at(p, "born"));

        h->code_map(c, r, "sex", "sex", h->node_text_at(p, "gender"));
        h->code_map(c, r, "enrolmentStatus", "status",
                    h->node_text_at(p, "status"));

        /* "3" -> "03": the standard's grade codes are two digits */
        v = h->node_text_at(p, "grade");

        if (v && strlen(v) == 1 && v[0] >= '1' && v[0] <= '9') {
            h->record_set(r, "gradeLevel", h->sprintf(c, "0%s", v));

        } else {
            h->record_set(r, "gradeLevel", NULL);
            h->report(c, r, "R19", EDUGATE_SEV_ERROR, "gradeLevel", v,
                      "grade is not 1 to 9");
        }
    }

    return EDUGATE_OK;
}


/* to_vendor: a query on the standard API becomes the vendor's request */

static int
example_to_vendor(const edugate_host_t *h, edugate_call_t *c, void *state,
    const edugate_query_t *q)
{
    const char  *school;

    (void) state;

    if (strcmp(q->entity, "students") != 0) {
        return EDUGATE_DECLINED;
    }

    school = h->param(q, "schoolCode");

    if (school == NULL) {
        h->error(c, "the people API needs a schoolCode");
        return EDUGATE_BAD_INPUT;
    }

    if (h->set_path(c, "GET", "/api/v1/people") != EDUGATE_OK
        || h->set_arg(c, "school", school) != EDUGATE_OK)
    {
        return EDUGATE_ERROR;
    }

    return EDUGATE_OK;
}


static void
example_copy(char *dst, size_t size, const char *src)
{
    size_t  n;

    if (size == 0) {
        return;
    }

    n = strlen(src);
    n = n < size - 1 ? n : size - 1;

    memcpy(dst, src, n);
    dst[n] = '\0';
}
