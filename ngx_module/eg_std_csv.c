/*
 * Copyright (C) EduGate contributors
 *
 * Loading code tables from CSV files (RFC 4180, columns named by the
 * header) into the table of eg_std_codes.c.
 */


#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_std_codes.h"


#define EG_CODES_MAX_COLS   16
#define EG_CODES_MAX_FILE   (16 * 1024 * 1024)


typedef struct {
    char    *p;
    char    *end;
    size_t   line;
} eg_csv_t;


static int eg_csv_record(eg_csv_t *csv, char **f, size_t *nf);
static int eg_codes_date_ok(const char *s);


static const char  *eg_codes_cols[] = {
    "scheme", "code", "name", "level", "parent", "valid_from", "valid_to",
    "source"
};

#define EG_CODES_NCOLS  (sizeof(eg_codes_cols) / sizeof(eg_codes_cols[0]))


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
    char       *copy, *f[EG_CODES_MAX_COLS], why[128];
    size_t      nf, nhead, i, j;
    eg_csv_t    csv;
    eg_code_t   row;
    const char *v[EG_CODES_NCOLS];

    /* the rows' strings, the default scheme name among them, live here */
    copy = malloc(len + 1 + strlen(name) + 1);
    if (copy == NULL || eg_codes_keep(codes, copy) != 0) {
        free(copy);
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }

    memcpy(copy, buf, len);
    copy[len] = '\0';
    strcpy(copy + len + 1, name);
    name = copy + len + 1;

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

        /* the place first: a long code must not push it out of err */
        if (eg_codes_add(codes, &row, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s:%zu: %s", name, csv.line, why);
            return -1;
        }
    }
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
