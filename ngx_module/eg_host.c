/*
 * Copyright (C) EduGate contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "eg_host.h"
#include "eg_codec.h"
#include "eg_record.h"
#include "eg_tree.h"


#define EG_PATH_MAX  2048


static void eg_call_verror(eg_call_t *c, const char *fmt, va_list ap);
static void *eg_h_alloc(edugate_call_t *c, size_t size);
static char *eg_h_strndup(edugate_call_t *c, const char *s, size_t len);
static char *eg_h_sprintf(edugate_call_t *c, const char *fmt, ...);
static void *eg_h_state_alloc(const edugate_host_t *h, size_t size);
static void eg_h_log(edugate_call_t *c, int level, const char *fmt, ...);
static void eg_h_error(edugate_call_t *c, const char *fmt, ...);
static int eg_h_sha256(const void *data, size_t len, unsigned char out[32]);
static int eg_h_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32]);
static char *eg_h_base64(edugate_call_t *c, const void *data, size_t len,
    int flags);
static char *eg_h_hex(edugate_call_t *c, const void *data, size_t len);
static const char *eg_h_arg(int argc, const char *const *argv,
    const char *key);
static int eg_h_set_header(edugate_call_t *c, const char *name,
    const char *value);
static int eg_h_set_arg(edugate_call_t *c, const char *name,
    const char *value);
static int eg_h_set_cookie(edugate_call_t *c, const char *name,
    const char *value);
static int eg_h_set_path(edugate_call_t *c, const char *method,
    const char *path);
static const char *eg_h_param(const edugate_query_t *q, const char *name);
static int eg_listed_nocase(const char *const *list, const char *name);
static int eg_put(eg_call_t *c, eg_kv_t **list, const char *name,
    const char *value, int nocase);
static int eg_token_char(unsigned char ch);
static int eg_arg_char(unsigned char ch);
static int eg_name_ok(const char *name, int (*char_ok)(unsigned char ch));
static int eg_hex_value(char ch);


/* headers that carry the connection, the body or our own identity */
static const char  *eg_reserved_headers[] = {
    "host", "connection", "keep-alive", "proxy-connection",
    "transfer-encoding", "te", "trailer", "upgrade", "content-length",
    "content-type", "expect", "cookie", NULL
};


eg_call_t *
eg_call_new(eg_plugin_t *p, const char *hook, int outputs)
{
    eg_call_t  *c;

    c = calloc(1, sizeof(eg_call_t));
    if (c == NULL) {
        return NULL;
    }

    c->plugin = p;
    c->hook = hook;
    c->outputs = outputs;
    c->budget = EG_CALL_BUDGET;

    return c;
}


void
eg_call_free(eg_call_t *c)
{
    eg_mem_t  *m, *next;

    if (c == NULL) {
        return;
    }

    eg_record_release(c);

    for (m = c->mem; m; m = next) {
        next = m->next;
        free(m);
    }

    free(c);
}


/*
 * One malloc() per allocation: calls allocate little, and a sanitizer
 * then guards every block a plugin writes into.
 */

void *
eg_call_alloc(eg_call_t *c, size_t size)
{
    eg_mem_t  *m;

    if (size > c->budget - c->used) {
        eg_call_error(c, "the call's memory budget of %zu bytes is spent",
                      c->budget);
        return NULL;
    }

    m = calloc(1, sizeof(eg_mem_t) + size + (size == 0));
    if (m == NULL) {
        eg_call_error(c, "out of memory");
        return NULL;
    }

    c->used += size;
    m->next = c->mem;
    c->mem = m;

    return m + 1;
}


char *
eg_call_strndup(eg_call_t *c, const char *s, size_t len)
{
    char    *p;
    size_t   n;

    if (s == NULL) {
        return NULL;
    }

    for (n = 0; n < len && s[n]; n++) { /* void */ }

    p = eg_call_alloc(c, n + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, n);
    p[n] = '\0';

    return p;
}


void
eg_call_error(eg_call_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    eg_call_verror(c, fmt, ap);
    va_end(ap);
}


static void
eg_call_verror(eg_call_t *c, const char *fmt, va_list ap)
{
    if (c->error[0] == '\0') {
        vsnprintf(c->error, sizeof(c->error), fmt, ap);
    }
}


void
eg_host_fill(edugate_host_t *h)
{
    memset(h, 0, sizeof(edugate_host_t));

    h->size = sizeof(edugate_host_t);
    h->abi_major = EDUGATE_ABI_MAJOR;
    h->abi_minor = EDUGATE_ABI_MINOR;

    h->alloc = eg_h_alloc;
    h->strndup = eg_h_strndup;
    h->sprintf = eg_h_sprintf;
    h->state_alloc = eg_h_state_alloc;
    h->log = eg_h_log;
    h->error = eg_h_error;
    h->sha256 = eg_h_sha256;
    h->hmac_sha256 = eg_h_hmac_sha256;
    h->base64 = eg_h_base64;
    h->hex = eg_h_hex;
    h->arg = eg_h_arg;

    h->node_type = eg_node_type;
    h->node_name = eg_node_name;
    h->node_ns = eg_node_ns;
    h->node_text = eg_node_text;
    h->node_attr = eg_node_attr;
    h->node_count = eg_node_count;
    h->node_child = eg_node_child;
    h->node_get = eg_node_get;
    h->node_text_at = eg_node_text_at;

    h->record_new = eg_record_new;
    h->record_set = eg_record_set;
    h->record_set_number = eg_record_set_number;
    h->record_append = eg_record_append;
    h->report = eg_report;
    h->code_map = eg_code_map;

    h->set_header = eg_h_set_header;
    h->set_arg = eg_h_set_arg;
    h->set_cookie = eg_h_set_cookie;
    h->set_path = eg_h_set_path;
    h->param = eg_h_param;
}


static void *
eg_h_alloc(edugate_call_t *c, size_t size)
{
    return eg_call_alloc(c, size);
}


static char *
eg_h_strndup(edugate_call_t *c, const char *s, size_t len)
{
    return eg_call_strndup(c, s, len);
}


static char *
eg_h_sprintf(edugate_call_t *c, const char *fmt, ...)
{
    int       n;
    char     *p;
    va_list   ap;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    if (n < 0) {
        eg_call_error(c, "sprintf(): bad format");
        return NULL;
    }

    p = eg_call_alloc(c, (size_t) n + 1);
    if (p == NULL) {
        return NULL;
    }

    va_start(ap, fmt);
    vsnprintf(p, (size_t) n + 1, fmt, ap);
    va_end(ap);

    return p;
}


/* state memory is only handed out during init(): it is freed at close */

static void *
eg_h_state_alloc(const edugate_host_t *h, size_t size)
{
    eg_mem_t     *m;
    eg_plugin_t  *p;

    p = ((const eg_host_t *) h)->plugin;

    if (!p->in_init || size > EG_CALL_BUDGET) {
        return NULL;
    }

    m = calloc(1, sizeof(eg_mem_t) + size + (size == 0));
    if (m == NULL) {
        return NULL;
    }

    m->next = p->state_mem;
    p->state_mem = m;

    return m + 1;
}


static void
eg_h_log(edugate_call_t *c, int level, const char *fmt, ...)
{
    char       buf[EG_CALL_LOG_LEN];
    va_list    ap;
    eg_log_t  *l, **last;

    if (level < EDUGATE_LOG_ERROR || level > EDUGATE_LOG_DEBUG) {
        level = EDUGATE_LOG_ERROR;
    }

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    if (c->log_handler) {
        c->log_handler(c->log_data, c->plugin, level, buf);
        return;
    }

    if (c->nlogs == EG_CALL_LOGS_MAX) {
        c->dropped_logs++;
        return;
    }

    l = eg_call_alloc(c, sizeof(eg_log_t));
    if (l == NULL) {
        return;
    }

    l->level = level;
    l->text = eg_call_strndup(c, buf, sizeof(buf));

    for (last = &c->logs; *last; last = &(*last)->next) { /* void */ }

    *last = l;
    c->nlogs++;
}


static void
eg_h_error(edugate_call_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    eg_call_verror(c, fmt, ap);
    va_end(ap);
}


static int
eg_h_sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int  n;

    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1
           && n == 32 ? EDUGATE_OK : EDUGATE_ERROR;
}


static int
eg_h_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32])
{
    unsigned int  n;

    if (keylen > 0x7fffffff) {
        return EDUGATE_ERROR;
    }

    return HMAC(EVP_sha256(), key, (int) keylen, data, len, out, &n) != NULL
           && n == 32 ? EDUGATE_OK : EDUGATE_ERROR;
}


static char *
eg_h_base64(edugate_call_t *c, const void *data, size_t len, int flags)
{
    char    *p;
    size_t   n;

    if (len > c->budget / 2) {
        eg_call_error(c, "base64(): input too large");
        return NULL;
    }

    p = eg_call_alloc(c, (len + 2) / 3 * 4 + 1);
    if (p == NULL) {
        return NULL;
    }

    if (flags & EDUGATE_B64_URL) {
        n = eg_b64url_encode((unsigned char *) p, data, len);

        while (!(flags & EDUGATE_B64_NOPAD) && n % 4) {
            p[n++] = '=';
        }

    } else {
        n = (size_t) EVP_EncodeBlock((unsigned char *) p, data, (int) len);

        while ((flags & EDUGATE_B64_NOPAD) && n && p[n - 1] == '=') {
            n--;
        }
    }

    p[n] = '\0';

    return p;
}


static char *
eg_h_hex(edugate_call_t *c, const void *data, size_t len)
{
    char  *p;

    if (len > c->budget / 2) {
        eg_call_error(c, "hex(): input too large");
        return NULL;
    }

    p = eg_call_alloc(c, 2 * len + 1);
    if (p == NULL) {
        return NULL;
    }

    eg_hex_encode((unsigned char *) p, data, len);

    return p;
}


static const char *
eg_h_arg(int argc, const char *const *argv, const char *key)
{
    int     i;
    size_t  n;

    if (argv == NULL || key == NULL) {
        return NULL;
    }

    n = strlen(key);

    for (i = 0; i < argc; i++) {
        if (argv[i] && strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') {
            return argv[i] + n + 1;
        }
    }

    return NULL;
}


static int
eg_h_set_header(edugate_call_t *c, const char *name, const char *value)
{
    if (c->outputs == EG_OUT_IDENTITY
        && !eg_listed_nocase(c->plugin->about.identity_headers, name))
    {
        eg_call_error(c, "set_header(\"%.64s\"): not a header describe() "
                      "lists", name ? name : "(null)");
        return EDUGATE_NOT_ALLOWED;
    }

    if (c->outputs == EG_OUT_RECORDS) {
        eg_call_error(c, "set_header() called in %s", c->hook);
        return EDUGATE_NOT_ALLOWED;
    }

    if (!eg_header_name_ok(name) || !eg_header_value_ok(value)) {
        eg_call_error(c, "set_header(\"%.64s\"): a reserved or malformed "
                      "name, or a value with control characters or over "
                      "%d bytes", name ? name : "(null)", EG_VALUE_MAX);
        return EDUGATE_INVALID;
    }

    return eg_put(c, &c->headers, name, value, 1);
}


static int
eg_h_set_arg(edugate_call_t *c, const char *name, const char *value)
{
    if (c->outputs == EG_OUT_IDENTITY
        && !eg_plugin_listed(c->plugin->about.identity_args, name))
    {
        eg_call_error(c, "set_arg(\"%.64s\"): not an argument describe() "
                      "lists", name ? name : "(null)");
        return EDUGATE_NOT_ALLOWED;
    }

    if (c->outputs == EG_OUT_RECORDS) {
        eg_call_error(c, "set_arg() called in %s", c->hook);
        return EDUGATE_NOT_ALLOWED;
    }

    if (!eg_arg_name_ok(name) || value == NULL
        || strlen(value) > EG_VALUE_MAX)
    {
        eg_call_error(c, "set_arg(\"%.64s\"): a malformed name, or no value "
                      "or one over %d bytes", name ? name : "(null)",
                      EG_VALUE_MAX);
        return EDUGATE_INVALID;
    }

    return eg_put(c, &c->args, name, value, 0);
}


static int
eg_h_set_cookie(edugate_call_t *c, const char *name, const char *value)
{
    if (c->outputs != EG_OUT_IDENTITY
        || !eg_plugin_listed(c->plugin->about.identity_cookies, name))
    {
        eg_call_error(c, "set_cookie(\"%.64s\"): not a cookie describe() "
                      "lists for the identity hook", name ? name : "(null)");
        return EDUGATE_NOT_ALLOWED;
    }

    if (!eg_cookie_name_ok(name) || !eg_cookie_value_ok(value)) {
        eg_call_error(c, "set_cookie(\"%.64s\"): a malformed name or value",
                      name);
        return EDUGATE_INVALID;
    }

    return eg_put(c, &c->cookies, name, value, 0);
}


static int
eg_h_set_path(edugate_call_t *c, const char *method, const char *path)
{
    size_t       n;
    const char  *p;

    if (c->outputs != EG_OUT_REQUEST) {
        eg_call_error(c, "set_path() called in %s", c->hook);
        return EDUGATE_NOT_ALLOWED;
    }

    if (method == NULL || (strcmp(method, "GET") != 0
                           && strcmp(method, "POST") != 0))
    {
        eg_call_error(c, "set_path(): method must be GET or POST");
        return EDUGATE_INVALID;
    }

    n = path ? strlen(path) : 0;

    if (n == 0 || n > EG_PATH_MAX || path[0] != '/' || strstr(path, "/../")
        || strstr(path, "/./") || (n >= 3 && strcmp(path + n - 3, "/..") == 0))
    {
        eg_call_error(c, "set_path(): \"%.64s\" is not an absolute path "
                      "without dot segments", path ? path : "(null)");
        return EDUGATE_INVALID;
    }

    for (p = path; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '?' || *p == '#'
            || *p == '\\')
        {
            eg_call_error(c, "set_path(): the path holds a character that "
                          "needs encoding (arguments go to set_arg())");
            return EDUGATE_INVALID;
        }
    }

    c->method = eg_call_strndup(c, method, 8);
    c->path = eg_call_strndup(c, path, n);

    return (c->method && c->path) ? EDUGATE_OK : EDUGATE_NO_MEMORY;
}


static const char *
eg_h_param(const edugate_query_t *q, const char *name)
{
    uint32_t  i;

    if (q == NULL || name == NULL) {
        return NULL;
    }

    for (i = 0; i < q->nparams; i++) {
        if (q->params[i].name && strcmp(q->params[i].name, name) == 0) {
            return q->params[i].value;
        }
    }

    return NULL;
}


int
eg_plugin_listed(const char *const *list, const char *name)
{
    size_t  i;

    for (i = 0; list && name && list[i]; i++) {
        if (strcmp(list[i], name) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
eg_listed_nocase(const char *const *list, const char *name)
{
    size_t  i;

    for (i = 0; list && name && list[i]; i++) {
        if (strcasecmp(list[i], name) == 0) {
            return 1;
        }
    }

    return 0;
}


/* a name set twice keeps its last value, as a header table would */

static int
eg_put(eg_call_t *c, eg_kv_t **list, const char *name, const char *value,
    int nocase)
{
    eg_kv_t  *kv, **last;

    for (last = list; *last; last = &(*last)->next) {
        kv = *last;

        if ((nocase ? strcasecmp(kv->name, name) : strcmp(kv->name, name))
            == 0)
        {
            kv->value = eg_call_strndup(c, value, EG_VALUE_MAX);
            return kv->value ? EDUGATE_OK : EDUGATE_NO_MEMORY;
        }
    }

    kv = eg_call_alloc(c, sizeof(eg_kv_t));
    if (kv == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    kv->name = eg_call_strndup(c, name, EG_NAME_MAX);
    kv->value = eg_call_strndup(c, value, EG_VALUE_MAX);

    if (kv->name == NULL || kv->value == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    *last = kv;

    return EDUGATE_OK;
}


static int
eg_token_char(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')
           || (ch >= 'A' && ch <= 'Z') || (ch && strchr("!#$%&'*+-.^_`|~",
                                                        ch) != NULL);
}


static int
eg_arg_char(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')
           || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '-'
           || ch == '.';
}


static int
eg_name_ok(const char *name, int (*char_ok)(unsigned char ch))
{
    size_t  i, n;

    n = name ? strlen(name) : 0;

    if (n == 0 || n > EG_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!char_ok((unsigned char) name[i])) {
            return 0;
        }
    }

    return 1;
}


int
eg_header_name_ok(const char *name)
{
    return eg_name_ok(name, eg_token_char)
           && strncasecmp(name, "x-edugate-", 10) != 0
           && strncasecmp(name, "x_edugate_", 10) != 0
           && !eg_listed_nocase(eg_reserved_headers, name);
}


int
eg_arg_name_ok(const char *name)
{
    return eg_name_ok(name, eg_arg_char);
}


/* the gateway's own cookies are never a plugin's */

int
eg_cookie_name_ok(const char *name)
{
    return eg_name_ok(name, eg_token_char)
           && strncasecmp(name, "edugate", 7) != 0;
}


int
eg_header_value_ok(const char *value)
{
    size_t               n;
    const unsigned char  *p;

    if (value == NULL || (n = strlen(value)) > EG_VALUE_MAX) {
        return 0;
    }

    for (p = (const unsigned char *) value; *p; p++) {
        if ((*p < 0x20 && *p != '\t') || *p >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


int
eg_cookie_value_ok(const char *value)
{
    const unsigned char  *p;

    if (value == NULL || strlen(value) > EG_VALUE_MAX) {
        return 0;
    }

    /* RFC 6265 cookie-octet */
    for (p = (const unsigned char *) value; *p; p++) {
        if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == ',' || *p == ';'
            || *p == '\\')
        {
            return 0;
        }
    }

    return 1;
}


int
eg_pairwise_id(const unsigned char *secret, size_t slen, const char *vendor,
    const char *uid, char out[EG_PAIRWISE_LEN + 1])
{
    size_t          vlen, ulen;
    unsigned int    n;
    unsigned char   md[EVP_MAX_MD_SIZE], *msg;

    vlen = strlen(vendor);
    ulen = strlen(uid);

    msg = malloc(vlen + 1 + ulen);
    if (msg == NULL || slen > 0x7fffffff) {
        free(msg);
        return -1;
    }

    memcpy(msg, vendor, vlen);
    msg[vlen] = '|';
    memcpy(msg + vlen + 1, uid, ulen);

    if (HMAC(EVP_sha256(), secret, (int) slen, msg, vlen + 1 + ulen, md, &n)
        == NULL || n < EG_PAIRWISE_LEN / 2)
    {
        free(msg);
        return -1;
    }

    free(msg);

    eg_hex_encode((unsigned char *) out, md, EG_PAIRWISE_LEN / 2);
    out[EG_PAIRWISE_LEN] = '\0';

    return 0;
}


size_t
eg_query_strip(char *out, const char *in, size_t len,
    const char *const *names)
{
    int          hi, lo;
    char         name[EG_NAME_MAX + 1];
    size_t       n;
    const char  *p, *end, *start, *eq, *q;

    p = in;
    end = in + len;
    n = 0;

    while (p < end) {
        start = p;

        while (p < end && *p != '&') {
            p++;
        }

        eq = memchr(start, '=', p - start);
        if (eq == NULL) {
            eq = p;
        }

        /* the name as the application will decode it */
        len = 0;

        for (q = start; q < eq && len <= EG_NAME_MAX; q++) {
            if (*q == '%' && eq - q > 2 && (hi = eg_hex_value(q[1])) >= 0
                && (lo = eg_hex_value(q[2])) >= 0)
            {
                name[len++] = (char) (hi * 16 + lo);
                q += 2;

            } else {
                name[len++] = (*q == '+') ? ' ' : *q;
            }
        }

        if (p > start
            && !(len <= EG_NAME_MAX
                 && (name[len] = '\0', eg_listed_nocase(names, name))))
        {
            if (n) {
                out[n++] = '&';
            }

            memcpy(out + n, start, p - start);
            n += p - start;
        }

        p += (p < end);
    }

    return n;
}


size_t
eg_cookie_strip(char *out, const char *in, size_t len,
    const char *const *names)
{
    char         name[EG_NAME_MAX + 1];
    size_t       n, nlen;
    const char  *p, *end, *start, *stop, *eq;

    p = in;
    end = in + len;
    n = 0;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == ';')) {
            p++;
        }

        start = p;

        while (p < end && *p != ';') {
            p++;
        }

        stop = p;

        while (stop > start && stop[-1] == ' ') {
            stop--;
        }

        if (stop == start) {
            continue;
        }

        eq = memchr(start, '=', stop - start);
        nlen = (eq ? eq : stop) - start;

        while (nlen && start[nlen - 1] == ' ') {
            nlen--;
        }

        if (nlen <= EG_NAME_MAX) {
            memcpy(name, start, nlen);
            name[nlen] = '\0';

            if (eg_listed_nocase(names, name)) {
                continue;
            }
        }

        if (n) {
            out[n++] = ';';
            out[n++] = ' ';
        }

        memcpy(out + n, start, stop - start);
        n += stop - start;
    }

    return n;
}


static int
eg_hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    ch |= 0x20;

    return (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
}


int
eg_vendor_uid_ok(const unsigned char *s, size_t n)
{
    size_t  i;

    if (n == 0 || n > 128) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}
