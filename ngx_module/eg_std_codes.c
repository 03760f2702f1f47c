/*
 * Copyright (C) EduGate contributors
 */


#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_std_codes.h"


#define EG_CODES_MAX_COLS   16
#define EG_CODES_MAX_FILE   (16 * 1024 * 1024)

#define EG_CODES_ROW        0
#define EG_CODES_PARENT     1


typedef struct {
    uint32_t       hash;
    int32_t        row;             /* -1: empty slot */
    unsigned char  kind;
} eg_codes_slot_t;


typedef struct {
    char          *scheme;
    size_t         count;
} eg_codes_scheme_t;


struct eg_codes_s {
    eg_code_t          *rows;
    int32_t            *prev;       /* older row with the same key, -1 */
    size_t              nrows;
    size_t              rcap;
    eg_codes_slot_t    *slots;
    size_t              nslots;     /* a power of two */
    size_t              nused;
    char              **bufs;
    size_t              nbufs;
    eg_codes_scheme_t  *schemes;
    size_t              nschemes;
};


typedef struct {
    char  *p;
    char  *end;
    size_t line;
} eg_csv_t;


static int eg_csv_record(eg_csv_t *csv, char **f, size_t *nf);
static uint32_t eg_codes_hash(unsigned char kind, const char *scheme,
    const char *code);
static size_t eg_codes_slot(const eg_codes_t *codes, unsigned char kind,
    const char *scheme, const char *code, uint32_t hash);
static int eg_codes_grow(eg_codes_t *codes);
static int eg_codes_insert(eg_codes_t *codes, eg_code_t *row, char *err,
    size_t errlen);
static int eg_codes_date_ok(const char *s);
static int eg_codes_overlap(const eg_code_t *a, const eg_code_t *b);
static int eg_codes_count_scheme(eg_codes_t *codes, const char *scheme);


static const char  *eg_codes_cols[] = {
    "scheme", "code", "name", "level", "parent", "valid_from", "valid_to",
    "source"
};

#define EG_CODES_NCOLS  (sizeof(eg_codes_cols) / sizeof(eg_codes_cols[0]))


eg_codes_t *
eg_codes_new(void)
{
    eg_codes_t  *codes;

    codes = calloc(1, sizeof(eg_codes_t));
    if (codes == NULL) {
        return NULL;
    }

    if (eg_codes_grow(codes) != 0) {
        free(codes);
        return NULL;
    }

    return codes;
}


void
eg_codes_free(eg_codes_t *codes)
{
    size_t  i;

    if (codes == NULL) {
        return;
    }

    for (i = 0; i < codes->nbufs; i++) {
        free(codes->bufs[i]);
    }

    for (i = 0; i < codes->nschemes; i++) {
        free(codes->schemes[i].scheme);
    }

    free(codes->bufs);
    free(codes->schemes);
    free(codes->rows);
    free(codes->prev);
    free(codes->slots);
    free(codes);
}


int
eg_codes_load_file(eg_codes_t *codes, const char *path, char *err,
    size_t errlen)
{
    int          rc;
    long         size;
    FILE        *f;
    char        *buf, name[256];
    const char  *base, *dot;
    size_t       n;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || size > EG_CODES_MAX_FILE || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        snprintf(err, errlen, "%s: cannot read or too big", path);
        return -1;
    }

    buf = malloc((size_t) size + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }

    n = fread(buf, 1, (size_t) size, f);
    fclose(f);

    if (n != (size_t) size) {
        free(buf);
        snprintf(err, errlen, "%s: short read", path);
        return -1;
    }

    base = strrchr(path, '/');
    base = (base == NULL) ? path : base + 1;
    dot = strrchr(base, '.');
    n = (dot == NULL) ? strlen(base) : (size_t) (dot - base);
    if (n >= sizeof(name)) {
        n = sizeof(name) - 1;
    }

    memcpy(name, base, n);
    name[n] = '\0';

    rc = eg_codes_load_buf(codes, name, buf, (size_t) size, err, errlen);
    free(buf);

    return rc;
}


static int
eg_codes_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


int
eg_codes_load_dir(eg_codes_t *codes, const char *dir, char *err,
    size_t errlen)
{
    int             rc;
    DIR            *d;
    char          **names, **tmp, path[4096];
    size_t          n, cap, i, len;
    struct dirent  *de;

    d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: cannot open directory", dir);
        return -1;
    }

    names = NULL;
    n = 0;
    cap = 0;
    rc = 0;

    while ((de = readdir(d)) != NULL) {
        len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".csv") != 0) {
            continue;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            tmp = realloc(names, cap * sizeof(char *));
            if (tmp == NULL) {
                rc = -1;
                break;
            }
            names = tmp;
        }

        names[n] = strdup(de->d_name);
        if (names[n] == NULL) {
            rc = -1;
            break;
        }
        n++;
    }

    closedir(d);

    if (rc != 0) {
        snprintf(err, errlen, "%s: out of memory", dir);
    }

    if (rc == 0 && names != NULL) {
        qsort(names, n, sizeof(char *), eg_codes_name_cmp);
    }

    for (i = 0; i < n; i++) {
        if (rc == 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            rc = eg_codes_load_file(codes, path, err, errlen);
        }
        free(names[i]);
    }

    free(names);

    return rc;
}


int
eg_codes_load_buf(eg_codes_t *codes, const char *name, const char *buf,
    size_t len, char *err, size_t errlen)
{
    int         col[EG_CODES_MAX_COLS];
    char       *copy, *f[EG_CODES_MAX_COLS], **bufs;
    size_t      nf, nhead, i, j;
    eg_csv_t    csv;
    eg_code_t   row;
    const char *v[EG_CODES_NCOLS];

    /* the rows' strings, the default scheme name among them, live here */
    copy = malloc(len + 1 + strlen(name) + 1);
    bufs = realloc(codes->bufs, (codes->nbufs + 1) * sizeof(char *));
    if (copy == NULL || bufs == NULL) {
        free(copy);
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }

    codes->bufs = bufs;
    memcpy(copy, buf, len);
    copy[len] = '\0';
    strcpy(copy + len + 1, name);
    name = copy + len + 1;

    codes->bufs[codes->nbufs++] = copy;

    csv.p = copy;
    csv.end = copy + len;
    csv.line = 0;

    if (len >= 3 && memcmp(copy, "\xef\xbb\xbf", 3) == 0) {
        csv.p += 3;
    }

    if (eg_csv_record(&csv, f, &nhead) != 1) {
        snprintf(err, errlen, "%s:1: no header", name);
        return -1;
    }

    for (i = 0; i < nhead; i++) {
        col[i] = -1;
        for (j = 0; j < EG_CODES_NCOLS; j++) {
            if (strcmp(f[i], eg_codes_cols[j]) == 0) {
                col[i] = (int) j;
            }
        }
    }

    for ( ;; ) {
        switch (eg_csv_record(&csv, f, &nf)) {
        case 0:
            return 0;
        case -1:
            snprintf(err, errlen, "%s:%zu: malformed CSV", name, csv.line);
            return -1;
        }

        if (nf == 1 && f[0][0] == '\0') {
            continue;
        }

        if (nf != nhead) {
            snprintf(err, errlen, "%s:%zu: %zu fields, header has %zu",
                     name, csv.line, nf, nhead);
            return -1;
        }

        for (j = 0; j < EG_CODES_NCOLS; j++) {
            v[j] = "";
        }

        v[0] = name;

        for (i = 0; i < nf; i++) {
            if (col[i] >= 0) {
                v[col[i]] = f[i];
            }
        }

        row.scheme = v[0];
        row.code = v[1];
        row.name = v[2];
        row.level = v[3];
        row.parent = v[4];
        row.valid_from = v[5];
        row.valid_to = v[6];
        row.source = v[7];

        if (row.scheme[0] == '\0' || row.code[0] == '\0'
            || strpbrk(row.code, " \t\r\n") != NULL)
        {
            snprintf(err, errlen, "%s:%zu: empty or blank scheme or code",
                     name, csv.line);
            return -1;
        }

        if (!eg_codes_date_ok(row.valid_from)
            || !eg_codes_date_ok(row.valid_to)
            || (row.valid_from[0] && row.valid_to[0]
                && strcmp(row.valid_from, row.valid_to) > 0))
        {
            snprintf(err, errlen, "%s:%zu: bad valid_from/valid_to",
                     name, csv.line);
            return -1;
        }

        if (eg_codes_insert(codes, &row, err, errlen) != 0) {
            size_t  n = strlen(err);

            snprintf(err + n, errlen - n, " (%s:%zu)", name, csv.line);
            return -1;
        }
    }
}


const eg_code_t *
eg_codes_find(const eg_codes_t *codes, const char *scheme, const char *code,
    const char *date)
{
    int32_t           r;
    size_t            i;
    const eg_code_t  *row, *best;

    i = eg_codes_slot(codes, EG_CODES_ROW, scheme, code,
                      eg_codes_hash(EG_CODES_ROW, scheme, code));
    best = NULL;

    for (r = codes->slots[i].row; r >= 0; r = codes->prev[r]) {
        row = &codes->rows[r];

        if (date != NULL) {
            if ((row->valid_from[0] == '\0'
                 || strcmp(row->valid_from, date) <= 0)
                && (row->valid_to[0] == '\0'
                    || strcmp(date, row->valid_to) <= 0))
            {
                return row;
            }
            continue;
        }

        if (row->valid_to[0] == '\0') {
            return row;
        }

        if (best == NULL || strcmp(row->valid_to, best->valid_to) > 0) {
            best = row;
        }
    }

    return best;
}


size_t
eg_codes_count(const eg_codes_t *codes, const char *scheme)
{
    size_t  i;

    for (i = 0; i < codes->nschemes; i++) {
        if (strcmp(codes->schemes[i].scheme, scheme) == 0) {
            return codes->schemes[i].count;
        }
    }

    return 0;
}


int
eg_codes_has_child(const eg_codes_t *codes, const char *scheme,
    const char *code)
{
    size_t  i;

    i = eg_codes_slot(codes, EG_CODES_PARENT, scheme, code,
                      eg_codes_hash(EG_CODES_PARENT, scheme, code));

    return codes->slots[i].row >= 0;
}


/*
 * One CSV record, parsed in place: 1 with the fields, 0 at the end of the
 * buffer, -1 when a quote is left open or followed by other characters.
 */
static int
eg_csv_record(eg_csv_t *csv, char **f, size_t *nf)
{
    char  *p, *w;

    p = csv->p;
    *nf = 0;

    if (p >= csv->end) {
        return 0;
    }

    csv->line++;

    for ( ;; ) {
        if (*nf == EG_CODES_MAX_COLS) {
            return -1;
        }

        f[(*nf)++] = p;
        w = p;

        if (p < csv->end && *p == '"') {
            p++;
            for ( ;; ) {
                if (p >= csv->end) {
                    return -1;
                }
                if (*p == '"') {
                    if (p + 1 < csv->end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\n') {
                    csv->line++;
                }
                *w++ = *p++;
            }

            if (p < csv->end && *p != ',' && *p != '\n' && *p != '\r') {
                return -1;
            }

        } else {
            while (p < csv->end && *p != ',' && *p != '\n' && *p != '\r') {
                if (*p == '"') {
                    return -1;
                }
                w++;
                p++;
            }
        }

        if (p >= csv->end) {
            *w = '\0';
            csv->p = p;
            return 1;
        }

        if (*p == ',') {
            *w = '\0';
            p++;
            continue;
        }

        if (*p == '\r') {
            *w = '\0';
            p++;
            if (p < csv->end && *p == '\n') {
                p++;
            }
            csv->p = p;
            return 1;
        }

        *w = '\0';
        csv->p = p + 1;
        return 1;
    }
}


static uint32_t
eg_codes_hash(unsigned char kind, const char *scheme, const char *code)
{
    uint32_t  h;

    /* FNV-1a over kind, scheme, a separator and code */
    h = 2166136261u;
    h = (h ^ kind) * 16777619u;

    while (*scheme) {
        h = (h ^ (unsigned char) *scheme++) * 16777619u;
    }

    h = (h ^ 0xff) * 16777619u;

    while (*code) {
        h = (h ^ (unsigned char) *code++) * 16777619u;
    }

    return h;
}


/* the slot holding the key, or the empty slot where it would go */
static size_t
eg_codes_slot(const eg_codes_t *codes, unsigned char kind,
    const char *scheme, const char *code, uint32_t hash)
{
    size_t            i, mask;
    const char       *key;
    eg_code_t        *row;
    eg_codes_slot_t  *s;

    mask = codes->nslots - 1;

    for (i = hash & mask; ; i = (i + 1) & mask) {
        s = &codes->slots[i];

        if (s->row < 0) {
            return i;
        }

        if (s->hash != hash || s->kind != kind) {
            continue;
        }

        row = &codes->rows[s->row];
        key = (kind == EG_CODES_ROW) ? row->code : row->parent;

        if (strcmp(row->scheme, scheme) == 0 && strcmp(key, code) == 0) {
            return i;
        }
    }
}


static int
eg_codes_grow(eg_codes_t *codes)
{
    size_t            i, j, n, old;
    eg_code_t        *row;
    eg_codes_slot_t  *slots, *s;

    old = codes->nslots;
    n = old ? old * 2 : 256;

    slots = malloc(n * sizeof(eg_codes_slot_t));
    if (slots == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        slots[i].row = -1;
    }

    s = codes->slots;
    codes->slots = slots;
    codes->nslots = n;

    for (i = 0; i < old; i++) {
        if (s[i].row < 0) {
            continue;
        }

        row = &codes->rows[s[i].row];
        j = eg_codes_slot(codes, s[i].kind, row->scheme,
                          s[i].kind == EG_CODES_ROW ? row->code
                                                    : row->parent,
                          s[i].hash);
        codes->slots[j] = s[i];
    }

    free(s);

    return 0;
}


static int
eg_codes_put(eg_codes_t *codes, unsigned char kind, int32_t r)
{
    size_t            i;
    uint32_t          hash;
    const char       *key;
    eg_code_t        *row;
    eg_codes_slot_t  *s;

    if ((codes->nused + 1) * 2 > codes->nslots && eg_codes_grow(codes) != 0) {
        return -1;
    }

    row = &codes->rows[r];
    key = (kind == EG_CODES_ROW) ? row->code : row->parent;
    hash = eg_codes_hash(kind, row->scheme, key);
    i = eg_codes_slot(codes, kind, row->scheme, key, hash);
    s = &codes->slots[i];

    if (kind == EG_CODES_ROW) {
        codes->prev[r] = s->row;
    }

    if (s->row < 0) {
        codes->nused++;
    }

    if (s->row < 0 || kind == EG_CODES_ROW) {
        s->row = r;
        s->hash = hash;
        s->kind = kind;
    }

    return 0;
}


static int
eg_codes_insert(eg_codes_t *codes, eg_code_t *row, char *err, size_t errlen)
{
    int32_t    r;
    size_t     cap, i;
    int32_t   *prev;
    eg_code_t *rows;

    i = eg_codes_slot(codes, EG_CODES_ROW, row->scheme, row->code,
                      eg_codes_hash(EG_CODES_ROW, row->scheme, row->code));

    for (r = codes->slots[i].row; r >= 0; r = codes->prev[r]) {
        if (eg_codes_overlap(&codes->rows[r], row)) {
            snprintf(err, errlen, "duplicate code %s in %s", row->code,
                     row->scheme);
            return -1;
        }
    }

    if (codes->nrows == codes->rcap) {
        cap = codes->rcap ? codes->rcap * 2 : 512;
        rows = realloc(codes->rows, cap * sizeof(eg_code_t));
        if (rows == NULL) {
            goto nomem;
        }
        codes->rows = rows;

        prev = realloc(codes->prev, cap * sizeof(int32_t));
        if (prev == NULL) {
            goto nomem;
        }
        codes->prev = prev;
        codes->rcap = cap;
    }

    r = (int32_t) codes->nrows;
    codes->rows[r] = *row;
    codes->nrows++;

    if (eg_codes_put(codes, EG_CODES_ROW, r) != 0
        || (row->parent[0] && eg_codes_put(codes, EG_CODES_PARENT, r) != 0)
        || eg_codes_count_scheme(codes, row->scheme) != 0)
    {
        goto nomem;
    }

    return 0;

nomem:

    snprintf(err, errlen, "out of memory");
    return -1;
}


static int
eg_codes_count_scheme(eg_codes_t *codes, const char *scheme)
{
    size_t              i;
    eg_codes_scheme_t  *s;

    for (i = 0; i < codes->nschemes; i++) {
        if (strcmp(codes->schemes[i].scheme, scheme) == 0) {
            codes->schemes[i].count++;
            return 0;
        }
    }

    s = realloc(codes->schemes, (i + 1) * sizeof(eg_codes_scheme_t));
    if (s == NULL) {
        return -1;
    }

    codes->schemes = s;
    s[i].scheme = strdup(scheme);
    if (s[i].scheme == NULL) {
        return -1;
    }

    s[i].count = 1;
    codes->nschemes++;

    return 0;
}


static int
eg_codes_date_ok(const char *s)
{
    size_t  i;

    if (s[0] == '\0') {
        return 1;
    }

    for (i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return s[10] == '\0';
}


static int
eg_codes_overlap(const eg_code_t *a, const eg_code_t *b)
{
    /* [from, to] with "" as the open end on either side */
    if (a->valid_to[0] && b->valid_from[0]
        && strcmp(a->valid_to, b->valid_from) < 0)
    {
        return 0;
    }

    if (b->valid_to[0] && a->valid_from[0]
        && strcmp(b->valid_to, a->valid_from) < 0)
    {
        return 0;
    }

    return 1;
}
