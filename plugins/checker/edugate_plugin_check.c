/*
 * Copyright (C) EduGate contributors
 *
 * edugate-plugin-check: loads a vendor adapter plugin exactly as the
 * gateway does (the same code, checks and messages), prints what it
 * supports, runs every hook (identity on sample people, to_standard over
 * the fixtures, to_vendor on sample queries), checks the records it
 * builds, optionally fuzzes the data hooks with mutated fixtures, and
 * exits non-zero on any failure.
 *
 *   edugate-plugin-check [options] <plugin.so> [fixtures-dir]
 *
 * Fixtures: <dir>/args holds key=value lines for init(); <dir>/<entity>/
 * holds vendor payloads (*.json, *.xml), each optionally with
 * <name>.expected.json (records it must produce, as a subset) and a
 * query file (key=value filters for to_vendor) with query.expected (the
 * request line to_vendor must build).  A payload named *.bad.* must be
 * refused by the plugin.
 */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eg_host.h"
#include "eg_plugin.h"
#include "eg_record.h"
#include "eg_tree.h"
#include "check_elf.h"


#define CHECK_ARGS_MAX     64
#define CHECK_FILES_MAX    256
#define CHECK_TEXT_MAX     (8 * 1024 * 1024)


typedef struct {
    char                  *path;
    char                  *entity;
    unsigned char         *data;
    size_t                 len;
    int                    format;
    int                    bad;
} check_fixture_t;


static void check_usage(void);
static void check_fail(const char *fmt, ...);
static void check_ok(const char *fmt, ...);
static void check_signals(void);
static void check_say(const char *s);
static void check_crash(int signo);
static void check_alarm(int signo);
static void check_enter(const char *hook, const char *what);
static void check_leave(void);
static void check_log(void *data, eg_plugin_t *p, int level,
    const char *msg);
static char *check_read(const char *path, size_t *len);
static void check_args_file(const char *dir);
static void check_describe(eg_plugin_t *p);
static void check_identity(eg_plugin_t *p);
static void check_identity_one(eg_plugin_t *p, const char *what,
    edugate_identity_t *id, int must_work);
static void check_fixtures(eg_plugin_t *p, const char *dir);
static void check_payload(eg_plugin_t *p, check_fixture_t *f);
static void check_vendor(eg_plugin_t *p, const char *dir);
static void check_fuzz(eg_plugin_t *p, unsigned seconds, uint64_t seed);
static void check_print_list(const char *what, const char *const *list);


static const char       *check_name;
static const char *volatile  check_hook;
static const char *volatile  check_what;
static unsigned          check_timeout = 2;
static unsigned          check_failures;
static unsigned          check_passes;
static int               check_verbose;

static const char       *check_argv[CHECK_ARGS_MAX];
static int               check_argc;

static check_fixture_t   check_files[CHECK_FILES_MAX];
static size_t            check_nfiles;


int
main(int argc, char **argv)
{
    int           i;
    char          err[EG_PLUGIN_ERR_MAX], path[PATH_MAX], name[64], *csv;
    char         *eq, *fixtures;
    size_t        n;
    unsigned      fuzz;
    uint64_t      seed;
    const char   *base, *tables[CHECK_ARGS_MAX][2];
    eg_plugin_t  *p;
    int           ntables;

    /* lines in order when stdout and stderr go to one place */
    setvbuf(stdout, NULL, _IOLBF, 0);

    fuzz = 0;
    seed = (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 32);
    ntables = 0;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--fuzz") == 0 && i + 1 < argc) {
            fuzz = (unsigned) strtoul(argv[++i], NULL, 10);

        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);

        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            check_timeout = (unsigned) strtoul(argv[++i], NULL, 10);

        } else if (strcmp(argv[i], "--arg") == 0 && i + 1 < argc
                   && check_argc < CHECK_ARGS_MAX)
        {
            check_argv[check_argc++] = argv[++i];

        } else if (strcmp(argv[i], "--table") == 0 && i + 1 < argc
                   && ntables < CHECK_ARGS_MAX
                   && (eq = strchr(argv[i + 1], '=')) != NULL)
        {
            *eq = '\0';
            tables[ntables][0] = argv[++i];
            tables[ntables++][1] = eq + 1;

        } else if (strcmp(argv[i], "--verbose") == 0) {
            check_verbose = 1;

        } else {
            check_usage();
            return 2;
        }
    }

    if (i >= argc || argc - i > 2 || check_timeout == 0) {
        check_usage();
        return 2;
    }

    fixtures = (i + 1 < argc) ? argv[i + 1] : NULL;

    /* as nginx does with a relative path: absolute, links unresolved */
    if (argv[i][0] == '/') {
        snprintf(path, sizeof(path), "%s", argv[i]);

    } else if (getcwd(path, sizeof(path)) == NULL
               || strlen(path) + strlen(argv[i]) + 2 > sizeof(path))
    {
        fprintf(stderr, "edugate-plugin-check: path too long\n");
        return 2;

    } else {
        strcat(path, "/");
        strcat(path, argv[i]);
    }

    base = strrchr(path, '/') + 1;
    n = strcspn(base, ".");
    snprintf(name, sizeof(name), "%.*s", (int) (n < 32 ? n : 32), base);

    for (n = 0; name[n]; n++) {
        if (!((name[n] >= 'a' && name[n] <= 'z')
              || (name[n] >= '0' && name[n] <= '9')))
        {
            name[n] = (name[n] >= 'A' && name[n] <= 'Z') ? name[n] + 32 : '_';
        }
    }

    check_name = name;

    if (fixtures) {
        check_args_file(fixtures);
    }

    printf("edugate-plugin-check: %s\n", path);

    check_signals();

    check_enter("init", NULL);
    p = eg_plugin_open(check_name, path, NULL, check_argc, check_argv, err,
                       sizeof(err));
    check_leave();

    if (p == NULL) {
        fprintf(stderr, "edugate-plugin-check: plugin \"%s\": %s\n",
                check_name, err);
        return 1;
    }

    check_ok("loads: %s %s (ABI %u.%u, gateway ABI %d.%d)", p->desc->name,
             p->desc->version ? p->desc->version : "", p->desc->abi_major,
             p->desc->abi_minor, EDUGATE_ABI_MAJOR, EDUGATE_ABI_MINOR);

    if (check_elf(path, err, sizeof(err)) != 0) {
        check_fail("%s", err);

    } else {
        check_ok("exports only %s and links no library", EDUGATE_ENTRY);
    }

    csv = eg_plugin_table_path(path);

    if (csv == NULL
        || eg_plugin_load_tables(p, csv, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "edugate-plugin-check: plugin \"%s\": %s\n",
                check_name, csv ? err : "out of memory");
        free(csv);
        eg_plugin_close(p);
        return 1;
    }

    free(csv);

    for (i = 0; i < ntables; i++) {
        if (eg_plugin_override_table(p, tables[i][0], tables[i][1], err,
                                     sizeof(err))
            != 0)
        {
            fprintf(stderr, "edugate-plugin-check: plugin \"%s\": %s\n",
                    check_name, err);
            eg_plugin_close(p);
            return 1;
        }
    }

    if (eg_plugin_tables_ready(p, err, sizeof(err)) != 0) {
        fprintf(stderr, "edugate-plugin-check: plugin \"%s\": %s\n",
                check_name, err);
        eg_plugin_close(p);
        return 1;
    }

    check_describe(p);
    check_identity(p);

    if (fixtures) {
        check_fixtures(p, fixtures);
        check_vendor(p, fixtures);

    } else if (p->desc->to_standard || p->desc->to_vendor) {
        printf("  (no fixtures directory: data hooks not run)\n");
    }

    if (fuzz) {
        check_fuzz(p, fuzz, seed);
    }

    eg_plugin_close(p);

    for (n = 0; n < check_nfiles; n++) {
        free(check_files[n].path);
        free(check_files[n].entity);
        free(check_files[n].data);
    }

    if (check_failures) {
        fprintf(stderr, "edugate-plugin-check: plugin \"%s\": %u of %u "
                "checks FAILED\n", check_name, check_failures,
                check_failures + check_passes);
        return 1;
    }

    printf("edugate-plugin-check: plugin \"%s\": all %u checks passed\n",
           check_name, check_passes);

    return 0;
}


static void
check_usage(void)
{
    fprintf(stderr,
            "usage: edugate-plugin-check [--arg key=value]... "
            "[--table name=file.csv]...\n"
            "           [--fuzz seconds] [--seed n] [--timeout seconds] "
            "[--verbose]\n"
            "           <plugin.so> [fixtures-dir]\n");
}


static void
check_fail(const char *fmt, ...)
{
    va_list  ap;

    check_failures++;

    fprintf(stderr, "  FAIL ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}


static void
check_ok(const char *fmt, ...)
{
    va_list  ap;

    check_passes++;

    printf("  ok   ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}


static void
check_signals(void)
{
    size_t            i;
    struct sigaction  sa;

    static const int  sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);

    sa.sa_handler = check_crash;
    for (i = 0; i < sizeof(sigs) / sizeof(int); i++) {
        sigaction(sigs[i], &sa, NULL);
    }

    sa.sa_handler = check_alarm;
    sigaction(SIGALRM, &sa, NULL);
}


/* async-signal-safe: write() and _exit() only */

static void
check_say(const char *s)
{
    (void) write(STDERR_FILENO, s, strlen(s));
}


static void
check_crash(int signo)
{
    char  num[4];

    num[0] = (char) ('0' + signo / 10);
    num[1] = (char) ('0' + signo % 10);
    num[2] = '\0';

    check_say("edugate-plugin-check: plugin \"");
    check_say(check_name);
    check_say("\": crashed with signal ");
    check_say(num[0] == '0' ? num + 1 : num);
    check_say(" in its ");
    check_say(check_hook ? check_hook : "?");
    check_say(" hook");

    if (check_what) {
        check_say(" (");
        check_say(check_what);
        check_say(")");
    }

    check_say("\n");
    _exit(3);
}


static void
check_alarm(int signo)
{
    char  num[12];
    int   i;
    unsigned  t;

    (void) signo;

    i = sizeof(num) - 1;
    num[i] = '\0';
    t = check_timeout;

    do {
        num[--i] = (char) ('0' + t % 10);
        t /= 10;
    } while (t && i > 0);

    check_say("edugate-plugin-check: plugin \"");
    check_say(check_name);
    check_say("\": its ");
    check_say(check_hook ? check_hook : "?");
    check_say(" hook did not return within ");
    check_say(num + i);
    check_say(" s");

    if (check_what) {
        check_say(" (");
        check_say(check_what);
        check_say(")");
    }

    check_say("\n");
    _exit(4);
}


static void
check_enter(const char *hook, const char *what)
{
    check_hook = hook;
    check_what = what;
    alarm(check_timeout);
}


static void
check_leave(void)
{
    alarm(0);
    check_hook = NULL;
    check_what = NULL;
}


static void
check_log(void *data, eg_plugin_t *p, int level, const char *msg)
{
    static const char  *names[] = { "?", "error", "warn", "info", "debug" };

    (void) data;

    printf("       log [%s] %s: %s\n", names[level], p->name, msg);
}


static char *
check_read(const char *path, size_t *len)
{
    FILE   *f;
    char   *buf;
    size_t  n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    buf = malloc(CHECK_TEXT_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }

    n = fread(buf, 1, CHECK_TEXT_MAX, f);
    fclose(f);

    buf[n] = '\0';
    *len = n;

    return buf;
}


/* <fixtures>/args: the plugin's arguments, one key=value a line */

static void
check_args_file(const char *dir)
{
    char    path[PATH_MAX], *text, *line, *save;
    size_t  len;

    snprintf(path, sizeof(path), "%s/args", dir);

    text = check_read(path, &len);
    if (text == NULL) {
        return;
    }

    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
    {
        if (line[0] != '#' && strchr(line, '=')
            && check_argc < CHECK_ARGS_MAX)
        {
            /* kept for the plugin's lifetime, as nginx keeps its own */
            check_argv[check_argc++] = line;
        }
    }
}


static void
check_describe(eg_plugin_t *p)
{
    printf("  summary:  %s\n", p->about.summary ? p->about.summary : "-");
    printf("  hooks:    %s%s%s%s%s\n", p->desc->identity ? "identity " : "",
           p->desc->to_standard ? "to_standard " : "",
           p->desc->to_vendor ? "to_vendor " : "",
           p->desc->describe ? "describe " : "",
           p->desc->init ? "init" : "");
    printf("  payload:  %s\n", p->about.payload ? p->about.payload : "-");

    check_print_list("entities", p->about.entities);
    check_print_list("tables", p->about.tables);
    check_print_list("headers", p->about.identity_headers);
    check_print_list("args", p->about.identity_args);
    check_print_list("cookies", p->about.identity_cookies);

    if ((p->desc->to_standard || p->desc->to_vendor)
        && p->about.payload == NULL)
    {
        check_fail("describe(): data hooks but no payload format");
    }
}


static void
check_print_list(const char *what, const char *const *list)
{
    size_t  i;

    printf("  %-9s ", what);

    for (i = 0; list && list[i]; i++) {
        printf("%s%s", i ? ", " : "", list[i]);
    }

    printf("%s\n", i ? "" : "-");
}


static void
check_identity(eg_plugin_t *p)
{
    char                 pairwise[EG_PAIRWISE_LEN + 1];
    edugate_identity_t   id;

    static const char  secret[] = "edugate-plugin-check-secret";

    if (p->desc->identity == NULL) {
        return;
    }

    memset(&id, 0, sizeof(id));
    id.size = sizeof(id);
    id.uid = "stu02";
    id.vendor_uid = "u_88213";
    id.name = "李小红";
    id.roles = "student";
    id.org = "2137000002";
    id.org_path = "370000/370100/370112/2137000002";
    id.level = "school";
    id.school = "2137000002";
    id.grade = "03";
    id.klass = "2";
    id.now = time(NULL);
    id.auth_time = id.now - 60;

    check_identity_one(p, "a mapped person", &id, 1);

    eg_pairwise_id((const unsigned char *) secret, sizeof(secret) - 1,
                   p->name, "tea01", pairwise);
    id.uid = "tea01";
    id.vendor_uid = pairwise;
    id.flags = EDUGATE_ID_PAIRWISE;
    id.roles = "teacher";
    id.grade = "";
    id.klass = "";

    check_identity_one(p, "a pairwise person", &id, 1);

    /* refusing these is fine; crashing or hanging is not */
    id.uid = "x\"y\\z";
    id.name = "\r\nX-Forged: 1";
    id.roles = "";
    id.school = "";
    id.org_path = "";

    check_identity_one(p, "odd identity values", &id, 0);
}


static void
check_identity_one(eg_plugin_t *p, const char *what, edugate_identity_t *id,
    int must_work)
{
    int         rc;
    eg_kv_t    *kv;
    eg_call_t  *c;

    c = eg_call_new(p, "identity", EG_OUT_IDENTITY);
    if (c == NULL) {
        check_fail("out of memory");
        return;
    }

    c->log_handler = check_log;

    check_enter("identity", what);
    rc = p->desc->identity(&p->host.pub, c, p->state, id);
    check_leave();

    if (must_work && (rc != EDUGATE_OK || c->error[0])) {
        check_fail("identity hook, %s: code %d: %s", what, rc,
                   c->error[0] ? c->error : "no reason given");

    } else if (must_work && !c->headers && !c->args && !c->cookies) {
        check_fail("identity hook, %s: set no header, argument or cookie",
                   what);

    } else {
        check_ok("identity hook, %s: code %d", what, rc);

        for (kv = c->headers; kv && must_work; kv = kv->next) {
            printf("       header %s: %s\n", kv->name, kv->value);
        }

        for (kv = c->args; kv && must_work; kv = kv->next) {
            printf("       arg    %s=%s\n", kv->name, kv->value);
        }

        for (kv = c->cookies; kv && must_work; kv = kv->next) {
            printf("       cookie %s=%s\n", kv->name, kv->value);
        }
    }

    eg_call_free(c);
}


static void
check_fixtures(eg_plugin_t *p, const char *dir)
{
    char              path[PATH_MAX];
    size_t            i, len;
    DIR              *d, *e;
    struct stat       st;
    struct dirent    *de, *fe;
    check_fixture_t  *f;
    const char       *ext;

    d = opendir(dir);
    if (d == NULL) {
        check_fail("cannot open fixtures \"%s\": %s", dir, strerror(errno));
        return;
    }

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);

        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            continue;
        }

        if (!eg_plugin_listed(p->about.entities, de->d_name)) {
            check_fail("fixtures for \"%s\", an entity describe() does not "
                       "list", de->d_name);
            continue;
        }

        e = opendir(path);

        while (e && (fe = readdir(e)) != NULL) {
            ext = strrchr(fe->d_name, '.');
            len = strlen(fe->d_name);

            if (ext == NULL || (strcmp(ext, ".json") != 0
                                && strcmp(ext, ".xml") != 0)
                || (len > 14
                    && strcmp(fe->d_name + len - 14, ".expected.json") == 0)
                || check_nfiles == CHECK_FILES_MAX)
            {
                continue;
            }

            f = &check_files[check_nfiles];
            f->entity = strdup(de->d_name);
            f->format = eg_tree_format(ext + 1);
            f->bad = strstr(fe->d_name, ".bad.") != NULL;

            if (asprintf(&f->path, "%s/%s", path, fe->d_name) < 0
                || f->entity == NULL)
            {
                check_fail("out of memory");
                break;
            }

            f->data = (unsigned char *) check_read(f->path, &f->len);

            if (f->data == NULL) {
                check_fail("cannot read \"%s\"", f->path);
                continue;
            }

            check_nfiles++;
        }

        if (e) {
            closedir(e);
        }
    }

    closedir(d);

    if (p->desc->to_standard && check_nfiles == 0) {
        check_fail("a to_standard hook but no fixture to run it on");
    }

    for (i = 0; i < check_nfiles && p->desc->to_standard; i++) {
        check_payload(p, &check_files[i]);
    }
}


static void
check_payload(eg_plugin_t *p, check_fixture_t *f)
{
    int         rc;
    char        err[512], want_path[PATH_MAX], *dump, *want;
    size_t      len;
    eg_call_t  *c;
    eg_tree_t  *t;

    t = eg_tree_parse(f->data, f->len, f->format, NULL, NULL, err,
                      sizeof(err));

    if (t == NULL) {
        if (f->bad) {
            check_ok("%s: refused by the host parser: %s", f->path, err);

        } else {
            check_fail("%s: %s", f->path, err);
        }

        return;
    }

    c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
    if (c == NULL) {
        eg_tree_free(t);
        check_fail("out of memory");
        return;
    }

    c->log_handler = check_log;

    check_enter("to_standard", f->path);
    rc = p->desc->to_standard(&p->host.pub, c, p->state, f->entity,
                              eg_tree_root(t));
    check_leave();

    dump = eg_record_dump(c);

    if (f->bad) {
        if (rc == EDUGATE_BAD_INPUT || rc == EDUGATE_ERROR) {
            check_ok("%s: refused (code %d): %s", f->path, rc, c->error);

        } else {
            check_fail("%s: a bad payload accepted (code %d)", f->path, rc);
        }

    } else if (rc != EDUGATE_OK || c->error[0]) {
        check_fail("%s: to_standard failed with code %d: %s", f->path, rc,
                   c->error[0] ? c->error : "no reason given");

    } else if (eg_record_check(c, err, sizeof(err)) != 0) {
        check_fail("%s: %s", f->path, err);

    } else if (dump == NULL) {
        check_fail("%s: records cannot be written as JSON", f->path);

    } else {
        snprintf(want_path, sizeof(want_path), "%.*s.expected.json",
                 (int) (strrchr(f->path, '.') - f->path), f->path);

        want = check_read(want_path, &len);

        if (want && eg_record_expect(dump, want, err, sizeof(err)) != 0) {
            check_fail("%s: differs from %s: %s", f->path, want_path, err);

        } else {
            check_ok("%s: %u records%s", f->path, c->nrecords,
                     want ? ", as expected" : "");
        }

        free(want);
    }

    if (dump && check_verbose) {
        printf("%s\n", dump);
    }

    free(dump);
    eg_call_free(c);
    eg_tree_free(t);
}


static void
check_vendor(eg_plugin_t *p, const char *dir)
{
    int               rc;
    char              path[PATH_MAX], line[4096], *text, *want, *save, *s;
    size_t            i, len, np, n;
    eg_kv_t          *kv;
    eg_call_t        *c;
    edugate_query_t   q;
    edugate_param_t   params[16];

    for (i = 0; p->desc->to_vendor && p->about.entities
                && p->about.entities[i]; i++)
    {
        snprintf(path, sizeof(path), "%s/%s/query", dir,
                 p->about.entities[i]);

        text = check_read(path, &len);
        np = 0;

        for (s = text ? strtok_r(text, "\n", &save) : NULL; s && np < 16;
             s = strtok_r(NULL, "\n", &save))
        {
            if (s[0] != '#' && strchr(s, '=')) {
                params[np].name = s;
                params[np].value = strchr(s, '=') + 1;
                *strchr(s, '=') = '\0';
                np++;
            }
        }

        memset(&q, 0, sizeof(q));
        q.size = sizeof(q);
        q.entity = p->about.entities[i];
        q.params = params;
        q.nparams = (uint32_t) np;
        q.now = time(NULL);

        c = eg_call_new(p, "to_vendor", EG_OUT_REQUEST);
        if (c == NULL) {
            free(text);
            check_fail("out of memory");
            return;
        }

        c->log_handler = check_log;

        check_enter("to_vendor", q.entity);
        rc = p->desc->to_vendor(&p->host.pub, c, p->state, &q);
        check_leave();

        n = 0;

        if (rc == EDUGATE_OK && c->path) {
            n = snprintf(line, sizeof(line), "%s %s", c->method, c->path);

            for (kv = c->args; kv && n < sizeof(line); kv = kv->next) {
                n += snprintf(line + n, sizeof(line) - n, "%c%s=%s",
                              kv == c->args ? '?' : '&', kv->name,
                              kv->value);
            }
        }

        strcat(path, ".expected");
        want = check_read(path, &len);

        while (want && len && (want[len - 1] == '\n' || want[len - 1] == ' '))
        {
            want[--len] = '\0';
        }

        if (rc == EDUGATE_DECLINED && want == NULL) {
            check_ok("to_vendor(%s): declined", q.entity);

        } else if (rc != EDUGATE_OK || c->path == NULL) {
            check_fail("to_vendor(%s): code %d, %s", q.entity, rc,
                       c->error[0] ? c->error : "no request path");

        } else if (want && strcmp(want, line) != 0) {
            check_fail("to_vendor(%s): built \"%s\", expected \"%s\"",
                       q.entity, line, want);

        } else {
            check_ok("to_vendor(%s): %s", q.entity, line);
        }

        free(want);
        free(text);
        eg_call_free(c);
    }
}


/*
 * Mutated fixtures: bytes (for the host's parsers) or the parsed tree
 * (for the plugin).  A hook may refuse anything; it may not crash, hang,
 * return a code outside the ABI, or build records that cannot be written.
 */

static void
check_fuzz(eg_plugin_t *p, unsigned seconds, uint64_t seed)
{
    int               rc;
    char              err[256], what[PATH_MAX + 64], *dump;
    size_t            k, len, pos, runs, parsed, accepted;
    time_t            end;
    unsigned          failures;
    uint64_t          rng;
    eg_call_t        *c;
    eg_tree_t        *t;
    unsigned char    *buf;
    check_fixture_t  *f;

    if (p->desc->to_standard == NULL || check_nfiles == 0) {
        check_fail("--fuzz: no to_standard hook or no fixtures to mutate");
        return;
    }

    rng = seed ? seed : 1;
    failures = check_failures;
    end = time(NULL) + seconds;
    runs = parsed = accepted = 0;

    while (time(NULL) < end) {
        f = &check_files[eg_rng_next(&rng) % check_nfiles];
        runs++;

        buf = malloc(f->len + 16);
        if (buf == NULL) {
            break;
        }

        memcpy(buf, f->data, f->len);
        len = f->len;

        if (eg_rng_next(&rng) & 1) {
            for (k = 1 + eg_rng_next(&rng) % 4; k && len; k--) {
                pos = eg_rng_next(&rng) % len;

                switch (eg_rng_next(&rng) % 3) {
                case 0:
                    buf[pos] ^= (unsigned char) (1 << (eg_rng_next(&rng) % 8));
                    break;
                case 1:
                    len = pos;
                    break;
                default:
                    buf[pos] = (unsigned char) eg_rng_next(&rng);
                }
            }
        }

        t = eg_tree_parse(buf, len, f->format, NULL, NULL, err, sizeof(err));
        free(buf);

        if (t == NULL) {
            continue;
        }

        parsed++;

        for (k = eg_rng_next(&rng) % 4; k; k--) {
            eg_tree_mutate(t, &rng);
        }

        c = eg_call_new(p, "to_standard", EG_OUT_RECORDS);
        if (c == NULL) {
            eg_tree_free(t);
            break;
        }

        snprintf(what, sizeof(what), "fuzz run %zu of seed %llu on %s",
                 runs, (unsigned long long) seed, f->path);

        check_enter("to_standard", what);
        rc = p->desc->to_standard(&p->host.pub, c, p->state, f->entity,
                                  eg_tree_root(t));
        check_leave();

        if (rc != EDUGATE_OK && rc != EDUGATE_DECLINED
            && rc != EDUGATE_ERROR && rc != EDUGATE_BAD_INPUT
            && rc != EDUGATE_NO_MEMORY)
        {
            check_fail("%s: code %d is not an ABI return code", what, rc);
        }

        if (rc == EDUGATE_OK) {
            accepted++;
            dump = eg_record_dump(c);

            if (dump == NULL) {
                check_fail("%s: records cannot be written as JSON", what);
            }

            free(dump);
        }

        eg_call_free(c);
        eg_tree_free(t);

        if (check_failures != failures) {
            return;
        }
    }

    check_ok("fuzz: %zu runs in %u s (seed %llu): %zu parsed, %zu accepted",
             runs, seconds, (unsigned long long) seed, parsed, accepted);
}
