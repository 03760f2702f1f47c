/*
 * Copyright (C) EduGate contributors
 *
 * The order of the checks is the order of the reasons a vendor meets:
 * the file, who may have replaced it, its hash, whether it links, whether
 * it is an EduGate plugin at all, which ABI it was built for, its
 * descriptor, its initialisation.  Each failure is one line.
 */


#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "eg_plugin.h"
#include "eg_codec.h"
#include "eg_codemap.h"
#include "eg_host.h"
#include "eg_record.h"


#define EG_PIN_CHUNK  65536

/* the end of a member: sizes of older minors stay what they were */
#define EG_END(type, member)  (offsetof(type, member)                       \
                               + sizeof(((type *) 0)->member))


typedef struct {
    uint32_t               plugin_size;
    uint32_t               host_size;
} eg_abi_sizes_t;


static int eg_plugin_dir_trusted(const char *path, char *err,
    size_t errlen);
static int eg_plugin_owner_ok(const char *path, struct stat *st, char *err,
    size_t errlen);
static int eg_plugin_list_ok(const char *const *list, const char *what,
    int (*ok)(const char *name), char *err, size_t errlen);
static int eg_plugin_table_ok(const char *name);


/* indexed by minor; a new minor appends a row */
static const eg_abi_sizes_t  eg_abi_sizes[] = {
    /* 1.0 */ { EG_END(edugate_plugin_t, to_vendor),
                EG_END(edugate_host_t, param) },
};


eg_plugin_t *
eg_plugin_open(const char *name, const char *path, const char *pin, int argc,
    const char *const *argv, char *err, size_t errlen)
{
    int                      rc;
    char                     msg[EG_PLUGIN_ERR_MAX];
    void                    *entry;
    eg_plugin_t             *p;
    const edugate_plugin_t  *(*get)(void);

    if (!eg_plugin_name_valid(name, strlen(name))) {
        snprintf(err, errlen, "invalid name: use 1 to %d of a-z 0-9 _ -",
                 EG_PLUGIN_NAME_MAX);
        return NULL;
    }

    if (eg_plugin_trusted(path, err, errlen) != 0) {
        return NULL;
    }

    if (pin && eg_plugin_pin_matches(path, pin, err, errlen) != 0) {
        return NULL;
    }

    p = calloc(1, sizeof(eg_plugin_t));
    if (p == NULL || (p->path = strdup(path)) == NULL) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    memcpy(p->name, name, strlen(name) + 1);

    eg_host_fill(&p->host.pub);
    p->host.plugin = p;
    p->about.size = sizeof(edugate_description_t);

    /* RTLD_LOCAL: a plugin's symbols never satisfy another's */
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);

    if (p->dl == NULL) {
        snprintf(err, errlen, "cannot load: %s", dlerror());
        eg_plugin_close(p);
        return NULL;
    }

    entry = dlsym(p->dl, EDUGATE_PLUGIN_ENTRY_NAME);

    if (entry == NULL) {
        snprintf(err, errlen, "no \"%s\" symbol: not an EduGate plugin",
                 EDUGATE_PLUGIN_ENTRY_NAME);
        eg_plugin_close(p);
        return NULL;
    }

    *(void **) &get = entry;

    p->desc = get();

    if (eg_plugin_check_desc(p->desc, err, errlen) != 0) {
        p->desc = NULL;
        eg_plugin_close(p);
        return NULL;
    }

    if (p->desc->init) {
        msg[0] = '\0';
        p->in_init = 1;

        rc = p->desc->init(&p->host.pub, argc, argv, &p->state, msg,
                           sizeof(msg));

        p->in_init = 0;
        msg[sizeof(msg) - 1] = '\0';

        if (rc != EDUGATE_OK) {
            if (msg[0]) {
                snprintf(err, errlen, "init failed: %s", msg);

            } else {
                snprintf(err, errlen, "init failed with code %d and no "
                         "message", rc);
            }

            eg_plugin_close(p);
            return NULL;
        }
    }

    p->initialized = 1;

    if (p->desc->describe) {
        rc = p->desc->describe(p->state, &p->about);

        p->about.size = sizeof(edugate_description_t);

        if (rc != EDUGATE_OK) {
            snprintf(err, errlen, "describe() failed with code %d", rc);
            eg_plugin_close(p);
            return NULL;
        }
    }

    if (eg_plugin_check_about(&p->about, err, errlen) != 0) {
        eg_plugin_close(p);
        return NULL;
    }

    if (p->desc->identity && p->about.identity_headers == NULL
        && p->about.identity_args == NULL
        && p->about.identity_cookies == NULL)
    {
        snprintf(err, errlen, "has an identity hook but describe() lists no "
                 "header, argument or cookie it sets");
        eg_plugin_close(p);
        return NULL;
    }

    if (p->desc->to_standard && p->about.entities == NULL) {
        snprintf(err, errlen, "has a to_standard hook but describe() lists "
                 "no entity");
        eg_plugin_close(p);
        return NULL;
    }

    return p;
}


void
eg_plugin_close(eg_plugin_t *p)
{
    eg_mem_t  *m, *next;

    if (p == NULL) {
        return;
    }

    if (p->initialized && p->desc && p->desc->fini) {
        p->desc->fini(p->state);
    }

    for (m = p->state_mem; m; m = next) {
        next = m->next;
        free(m);
    }

    if (p->dl) {
        dlclose(p->dl);
    }

    eg_codemap_free(p->codes);
    free(p->path);
    free(p);
}


int
eg_plugin_name_valid(const char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len > EG_PLUGIN_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= '0' && name[i] <= '9')
              || (i > 0 && (name[i] == '_' || name[i] == '-'))))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Only root and the user loading the file may be able to change it: the
 * file, every directory on the way to it, and, through symbolic links,
 * every directory on the way to what they point at.
 */

int
eg_plugin_trusted(const char *path, char *err, size_t errlen)
{
    char         real[PATH_MAX];
    struct stat  st;

    if (path[0] != '/') {
        snprintf(err, errlen, "\"%s\" is not an absolute path", path);
        return -1;
    }

    if (lstat(path, &st) != 0) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    if (eg_plugin_dir_trusted(path, err, errlen) != 0) {
        return -1;
    }

    if (realpath(path, real) == NULL) {
        snprintf(err, errlen, "cannot resolve \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    if (strcmp(real, path) != 0
        && eg_plugin_dir_trusted(real, err, errlen) != 0)
    {
        return -1;
    }

    if (stat(real, &st) != 0) {
        snprintf(err, errlen, "cannot open \"%s\": %s", real,
                 strerror(errno));
        return -1;
    }

    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "\"%s\" is not a regular file", real);
        return -1;
    }

    return eg_plugin_owner_ok(real, &st, err, errlen);
}


static int
eg_plugin_dir_trusted(const char *path, char *err, size_t errlen)
{
    char         dir[PATH_MAX];
    size_t       len;
    struct stat  st;
    const char  *slash, *last;

    len = strlen(path);
    last = strrchr(path, '/');

    if (len >= sizeof(dir)) {
        snprintf(err, errlen, "\"%.64s...\" is too long a path", path);
        return -1;
    }

    for (slash = path; (slash = strchr(slash, '/')) != NULL; slash++) {
        len = (slash == path) ? 1 : (size_t) (slash - path);

        memcpy(dir, path, len);
        dir[len] = '\0';

        if (stat(dir, &st) != 0) {
            snprintf(err, errlen, "cannot open \"%s\": %s", dir,
                     strerror(errno));
            return -1;
        }

        /*
         * Above the plugin's own directory, a root-owned sticky directory
         * such as /tmp may be writable by all: nobody but an entry's owner
         * can rename or remove it, and the entries below are checked in
         * their turn.  The plugin's own directory never may.
         */

        if (slash != last && st.st_uid == 0 && (st.st_mode & S_ISVTX)) {
            continue;
        }

        if (eg_plugin_owner_ok(dir, &st, err, errlen) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
eg_plugin_owner_ok(const char *path, struct stat *st, char *err,
    size_t errlen)
{
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        snprintf(err, errlen, "\"%s\" is owned by uid %u, neither root nor "
                 "the user loading it", path, (unsigned) st->st_uid);
        return -1;
    }

    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, errlen, "\"%s\" is writable by users other than its "
                 "owner (mode %04o)", path, (unsigned) (st->st_mode & 07777));
        return -1;
    }

    return 0;
}


int
eg_plugin_pin_matches(const char *path, const char *pin, char *err,
    size_t errlen)
{
    int            ok;
    FILE          *f;
    size_t         n;
    unsigned int   len;
    EVP_MD_CTX    *md;
    unsigned char  buf[EG_PIN_CHUNK], digest[EVP_MAX_MD_SIZE];
    char           hex[EG_SHA256_HEX_LEN + 1];

    if (strlen(pin) != EG_SHA256_HEX_LEN
        || strspn(pin, "0123456789abcdefABCDEF") != EG_SHA256_HEX_LEN)
    {
        snprintf(err, errlen, "sha256= needs 64 hexadecimal digits");
        return -1;
    }

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    md = EVP_MD_CTX_new();
    ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;

    while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        ok = EVP_DigestUpdate(md, buf, n) == 1;
    }

    ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, digest, &len) == 1;

    EVP_MD_CTX_free(md);
    fclose(f);

    if (!ok) {
        snprintf(err, errlen, "cannot hash \"%s\"", path);
        return -1;
    }

    eg_hex_encode((unsigned char *) hex, digest, len);
    hex[EG_SHA256_HEX_LEN] = '\0';

    if (strcasecmp(hex, pin) != 0) {
        snprintf(err, errlen, "SHA-256 of \"%s\" is %s, not the pinned %s",
                 path, hex, pin);
        return -1;
    }

    return 0;
}


int
eg_plugin_check_desc(const edugate_plugin_t *d, char *err, size_t errlen)
{
    const eg_abi_sizes_t  *want;

    if (d == NULL) {
        snprintf(err, errlen, "%s() returned no descriptor",
                 EDUGATE_PLUGIN_ENTRY_NAME);
        return -1;
    }

    if (d->abi_major != EDUGATE_ABI_MAJOR) {
        snprintf(err, errlen, "built for ABI %u.%u, the gateway has ABI "
                 "%d.%d (the major versions must be equal)", d->abi_major,
                 d->abi_minor, EDUGATE_ABI_MAJOR, EDUGATE_ABI_MINOR);
        return -1;
    }

    if (d->abi_minor > EDUGATE_ABI_MINOR) {
        snprintf(err, errlen, "built for ABI %u.%u, newer than the "
                 "gateway's ABI %d.%d", d->abi_major, d->abi_minor,
                 EDUGATE_ABI_MAJOR, EDUGATE_ABI_MINOR);
        return -1;
    }

    want = &eg_abi_sizes[d->abi_minor];

    if (d->size != want->plugin_size) {
        snprintf(err, errlen, "descriptor is %u bytes, ABI %u.%u has %u "
                 "(built with another edugate_plugin.h?)", d->size,
                 d->abi_major, d->abi_minor, want->plugin_size);
        return -1;
    }

    if (d->host_size != want->host_size) {
        snprintf(err, errlen, "host table is %u bytes for the plugin, ABI "
                 "%u.%u has %u (built with another edugate_plugin.h?)",
                 d->host_size, d->abi_major, d->abi_minor,
                 want->host_size);
        return -1;
    }

    if (d->name == NULL) {
        snprintf(err, errlen, "descriptor has no name");
        return -1;
    }

    if (!eg_plugin_name_valid(d->name, strnlen(d->name, 64))) {
        snprintf(err, errlen, "descriptor name \"%.32s\" is not 1 to %d of "
                 "a-z 0-9 _ -", d->name, EG_PLUGIN_NAME_MAX);
        return -1;
    }

    if (d->fini && d->init == NULL) {
        snprintf(err, errlen, "has fini() without init()");
        return -1;
    }

    return 0;
}


int
eg_plugin_check_about(const edugate_description_t *about, char *err,
    size_t errlen)
{
    if (about->payload && !(strcmp(about->payload, "json") == 0
                            || strcmp(about->payload, "xml") == 0))
    {
        snprintf(err, errlen, "describe(): payload \"%.16s\" is neither "
                 "json nor xml", about->payload);
        return -1;
    }

    if (eg_plugin_list_ok(about->entities, "entity", eg_record_entity_known,
                          err, errlen) != 0
        || eg_plugin_list_ok(about->tables, "code table",
                             eg_plugin_table_ok, err, errlen) != 0
        || eg_plugin_list_ok(about->identity_headers, "header",
                             eg_header_name_ok, err, errlen) != 0
        || eg_plugin_list_ok(about->identity_args, "argument",
                             eg_arg_name_ok, err, errlen) != 0
        || eg_plugin_list_ok(about->identity_cookies, "cookie",
                             eg_cookie_name_ok, err, errlen) != 0)
    {
        return -1;
    }

    return 0;
}


static int
eg_plugin_list_ok(const char *const *list, const char *what,
    int (*ok)(const char *name), char *err, size_t errlen)
{
    size_t  i;

    for (i = 0; list && list[i]; i++) {
        if (i == 64) {
            snprintf(err, errlen, "describe() lists more than 64 %ss", what);
            return -1;
        }

        if (!ok(list[i])) {
            snprintf(err, errlen, "describe() lists %s \"%.64s\", which a "
                     "plugin may not use (reserved or malformed)", what,
                     list[i]);
            return -1;
        }
    }

    return 0;
}


static int
eg_plugin_table_ok(const char *name)
{
    return eg_arg_name_ok(name);
}


char *
eg_plugin_table_path(const char *so_path)
{
    char    *p;
    size_t   len;

    len = strlen(so_path);

    p = malloc(len + 5);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, so_path, len + 1);

    if (len > 3 && strcmp(p + len - 3, ".so") == 0) {
        len -= 3;
    }

    memcpy(p + len, ".csv", 5);

    return p;
}


int
eg_plugin_load_tables(eg_plugin_t *p, const char *csv, char *err,
    size_t errlen)
{
    const char  *stray;

    if (p->codes == NULL) {
        p->codes = eg_codemap_new();
        if (p->codes == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }

    if (p->about.tables == NULL && access(csv, F_OK) != 0) {
        return 0;
    }

    if (eg_plugin_trusted(csv, err, errlen) != 0
        || eg_codemap_load(p->codes, csv, NULL, err, errlen) != 0)
    {
        return -1;
    }

    stray = eg_codemap_stray(p->codes, p->about.tables);

    if (stray) {
        snprintf(err, errlen, "\"%s\" has rows of table \"%s\", which "
                 "describe() does not list", csv, stray);
        return -1;
    }

    return 0;
}


int
eg_plugin_override_table(eg_plugin_t *p, const char *table, const char *csv,
    char *err, size_t errlen)
{
    if (!eg_plugin_listed(p->about.tables, table)) {
        snprintf(err, errlen, "uses no code table \"%s\"", table);
        return -1;
    }

    if (eg_plugin_trusted(csv, err, errlen) != 0) {
        return -1;
    }

    return eg_codemap_load(p->codes, csv, table, err, errlen);
}


int
eg_plugin_tables_ready(eg_plugin_t *p, char *err, size_t errlen)
{
    size_t  i;

    for (i = 0; p->about.tables && p->about.tables[i]; i++) {
        if (eg_codemap_count(p->codes, p->about.tables[i]) == 0) {
            snprintf(err, errlen, "code table \"%s\" has no rows (expected "
                     "in the plugin's .csv file or an override)",
                     p->about.tables[i]);
            return -1;
        }
    }

    return 0;
}
