/*
 * Copyright (C) EduGate contributors
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_std_codes.h"


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


static uint32_t eg_codes_hash(unsigned char kind, const char *scheme,
    const char *code);
static size_t eg_codes_slot(const eg_codes_t *codes, unsigned char kind,
    const char *scheme, const char *code, uint32_t hash);
static int eg_codes_grow(eg_codes_t *codes);
static int eg_codes_overlap(const eg_code_t *a, const eg_code_t *b);
static int eg_codes_count_scheme(eg_codes_t *codes, const char *scheme);


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
eg_codes_keep(eg_codes_t *codes, char *buf)
{
    char  **bufs;

    bufs = realloc(codes->bufs, (codes->nbufs + 1) * sizeof(char *));
    if (bufs == NULL) {
        return -1;
    }

    codes->bufs = bufs;
    codes->bufs[codes->nbufs++] = buf;

    return 0;
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


int
eg_codes_add(eg_codes_t *codes, const eg_code_t *row, char *err,
    size_t errlen)
{
    int32_t    r;
    size_t     cap, i;
    int32_t   *prev;
    eg_code_t *rows;

    i = eg_codes_slot(codes, EG_CODES_ROW, row->scheme, row->code,
                      eg_codes_hash(EG_CODES_ROW, row->scheme, row->code));

    for (r = codes->slots[i].row; r >= 0; r = codes->prev[r]) {
        if (eg_codes_overlap(&codes->rows[r], row)) {
            snprintf(err, errlen, "duplicate code %.40s in %.40s",
                     row->code, row->scheme);
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
