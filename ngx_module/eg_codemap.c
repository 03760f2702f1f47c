/*
 * Copyright (C) EduGate contributors
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_codemap.h"
#include "eg_text.h"


#define EG_CODEMAP_FILE_MAX  (4 * 1024 * 1024)
#define EG_CODEMAP_FIELDS    4
#define EG_CODEMAP_CELL_MAX  256


struct eg_codemap_s {
    eg_code_row_t         *rows;
    size_t                 n;
    size_t                 cap;
};


static int eg_codemap_cells(const char **p, const char *end,
    char cells[][EG_CODEMAP_CELL_MAX + 1], size_t *ncells);
static int eg_codemap_add(eg_codemap_t *m, char cells[][EG_CODEMAP_CELL_MAX
    + 1], char *err, size_t errlen);
static void eg_codemap_drop(eg_codemap_t *m, const char *table);
static void eg_row_free(eg_code_row_t *r);


static const char  *eg_codemap_header[EG_CODEMAP_FIELDS] = {
    "table", "vendor_value", "code", "kind"
};


eg_codemap_t *
eg_codemap_new(void)
{
    return calloc(1, sizeof(eg_codemap_t));
}


void
eg_codemap_free(eg_codemap_t *m)
{
    size_t  i;

    if (m == NULL) {
        return;
    }

    for (i = 0; i < m->n; i++) {
        eg_row_free(&m->rows[i]);
    }

    free(m->rows);
    free(m);
}


int
eg_codemap_load(eg_codemap_t *m, const char *path, const char *only,
    char *err, size_t errlen)
{
    int     rc;
    char   *text;
    long    size;
    FILE   *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        snprintf(err, errlen, "cannot read \"%s\": %s", path,
                 strerror(errno));
        fclose(f);
        return -1;
    }

    if (size > EG_CODEMAP_FILE_MAX) {
        snprintf(err, errlen, "\"%s\" is larger than %d bytes", path,
                 EG_CODEMAP_FILE_MAX);
        fclose(f);
        return -1;
    }

    text = malloc(size + 1);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        fclose(f);
        return -1;
    }

    if (fread(text, 1, size, f) != (size_t) size) {
        snprintf(err, errlen, "cannot read \"%s\"", path);
        free(text);
        fclose(f);
        return -1;
    }

    fclose(f);

    rc = eg_codemap_parse(m, text, size, only, path, err, errlen);

    free(text);

    return rc;
}


int
eg_codemap_parse(eg_codemap_t *m, const char *text, size_t len,
    const char *only, const char *origin, char *err, size_t errlen)
{
    int          header;
    char         cells[EG_CODEMAP_FIELDS + 1][EG_CODEMAP_CELL_MAX + 1];
    char         msg[256];
    size_t       ncells, line, i;
    const char  *p, *end;

    if (!eg_utf8_valid((const unsigned char *) text, len)) {
        snprintf(err, errlen, "\"%s\" is not UTF-8", origin);
        return -1;
    }

    if (only) {
        eg_codemap_drop(m, only);
    }

    p = text;
    end = text + len;
    line = 0;
    header = 0;

    /* a UTF-8 byte order mark, as spreadsheet programs write */
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3;
    }

    while (p < end) {
        line++;

        if (*p == '#' || *p == '\n' || *p == '\r') {
            while (p < end && *p++ != '\n') { /* void */ }
            continue;
        }

        if (eg_codemap_cells(&p, end, cells, &ncells) != 0) {
            snprintf(err, errlen, "\"%s\" line %zu: malformed CSV (a cell "
                     "over %d bytes, a control character or a stray "
                     "quote)", origin, line, EG_CODEMAP_CELL_MAX);
            return -1;
        }

        if (ncells != EG_CODEMAP_FIELDS) {
            snprintf(err, errlen, "\"%s\" line %zu: %zu columns, expected "
                     "table,vendor_value,code,kind", origin, line, ncells);
            return -1;
        }

        if (!header) {
            for (i = 0; i < EG_CODEMAP_FIELDS; i++) {
                if (strcmp(cells[i], eg_codemap_header[i]) != 0) {
                    snprintf(err, errlen, "\"%s\" line %zu: the header must "
                             "be table,vendor_value,code,kind", origin,
                             line);
                    return -1;
                }
            }

            header = 1;
            continue;
        }

        if (only && strcmp(cells[0], only) != 0) {
            snprintf(err, errlen, "\"%.200s\" line %zu: a row of table "
                     "\"%.64s\" in an override of table \"%.64s\"", origin,
                     line, cells[0], only);
            return -1;
        }

        if (eg_codemap_add(m, cells, msg, sizeof(msg)) != 0) {
            snprintf(err, errlen, "\"%.200s\" line %zu: %.200s", origin,
                     line, msg);
            return -1;
        }
    }

    if (!header) {
        snprintf(err, errlen, "\"%s\" has no header line", origin);
        return -1;
    }

    return 0;
}


/* one CSV record (RFC 4180 quoting); *p moves past its line end */

static int
eg_codemap_cells(const char **p, const char *end,
    char cells[][EG_CODEMAP_CELL_MAX + 1], size_t *ncells)
{
    int          quoted;
    size_t       n, len;
    const char  *s;

    s = *p;
    n = 0;

    for ( ;; ) {
        if (n > EG_CODEMAP_FIELDS) {
            return -1;
        }

        len = 0;
        quoted = (s < end && *s == '"');
        s += quoted;

        while (s < end) {
            if (quoted && *s == '"') {
                if (s + 1 < end && s[1] == '"') {
                    s++;

                } else {
                    quoted = 0;
                    s++;

                    if (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                        return -1;
                    }

                    continue;
                }

            } else if (!quoted && (*s == ',' || *s == '\n' || *s == '\r')) {
                break;

            } else if (!quoted && *s == '"') {
                return -1;
            }

            if ((unsigned char) *s < 0x20 && *s != '\t') {
                return -1;
            }

            if (len == EG_CODEMAP_CELL_MAX) {
                return -1;
            }

            cells[n][len++] = *s++;
        }

        if (quoted) {
            return -1;
        }

        /* unquoted cells are trimmed; spreadsheets pad them */
        while (len && (cells[n][len - 1] == ' ' || cells[n][len - 1] == '\t'))
        {
            len--;
        }

        cells[n][len] = '\0';
        n++;

        if (s < end && *s == ',') {
            s++;
            continue;
        }

        break;
    }

    while (s < end && (*s == '\r' || *s == '\n')) {
        if (*s++ == '\n') {
            break;
        }
    }

    *p = s;
    *ncells = n;

    return 0;
}


static int
eg_codemap_add(eg_codemap_t *m, char cells[][EG_CODEMAP_CELL_MAX + 1],
    char *err, size_t errlen)
{
    int             kind;
    size_t          cap;
    eg_code_row_t  *row, *rows;

    if (cells[0][0] == '\0' || cells[1][0] == '\0') {
        snprintf(err, errlen, "empty table or vendor value");
        return -1;
    }

    if (cells[3][0] == '\0' || strcmp(cells[3], "exact") == 0) {
        kind = EG_CODE_EXACT;

    } else if (strcmp(cells[3], "synonym") == 0) {
        kind = EG_CODE_SYNONYM;

    } else if (strcmp(cells[3], "ambiguous") == 0) {
        kind = EG_CODE_AMBIGUOUS;

    } else {
        snprintf(err, errlen, "kind \"%.32s\" is none of exact, synonym, "
                 "ambiguous", cells[3]);
        return -1;
    }

    if (cells[2][0] == '\0' && kind != EG_CODE_AMBIGUOUS) {
        snprintf(err, errlen, "no code for \"%.64s\" (only an ambiguous value "
                 "may have none)", cells[1]);
        return -1;
    }

    if (eg_codemap_find(m, cells[0], cells[1]) != NULL) {
        snprintf(err, errlen, "\"%.64s\" is listed twice in table \"%.64s\"",
                 cells[1], cells[0]);
        return -1;
    }

    if (m->n == m->cap) {
        cap = m->cap ? m->cap * 2 : 64;

        rows = realloc(m->rows, cap * sizeof(eg_code_row_t));
        if (rows == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        m->rows = rows;
        m->cap = cap;
    }

    row = &m->rows[m->n];

    row->table = strdup(cells[0]);
    row->value = strdup(cells[1]);
    row->code = strdup(cells[2]);
    row->kind = kind;

    if (row->table == NULL || row->value == NULL || row->code == NULL) {
        eg_row_free(row);
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    m->n++;

    return 0;
}


static void
eg_codemap_drop(eg_codemap_t *m, const char *table)
{
    size_t  i, j;

    for (i = 0, j = 0; i < m->n; i++) {
        if (strcmp(m->rows[i].table, table) == 0) {
            eg_row_free(&m->rows[i]);
            continue;
        }

        m->rows[j++] = m->rows[i];
    }

    m->n = j;
}


static void
eg_row_free(eg_code_row_t *r)
{
    free(r->table);
    free(r->value);
    free(r->code);
}


const eg_code_row_t *
eg_codemap_find(const eg_codemap_t *m, const char *table, const char *value)
{
    size_t  i;

    if (m == NULL || table == NULL || value == NULL) {
        return NULL;
    }

    for (i = 0; i < m->n; i++) {
        if (strcmp(m->rows[i].value, value) == 0
            && strcmp(m->rows[i].table, table) == 0)
        {
            return &m->rows[i];
        }
    }

    return NULL;
}


size_t
eg_codemap_count(const eg_codemap_t *m, const char *table)
{
    size_t  i, n;

    if (m == NULL) {
        return 0;
    }

    for (i = 0, n = 0; i < m->n; i++) {
        n += (strcmp(m->rows[i].table, table) == 0);
    }

    return n;
}


const char *
eg_codemap_stray(const eg_codemap_t *m, const char *const *tables)
{
    size_t  i, k;

    if (m == NULL) {
        return NULL;
    }

    for (i = 0; i < m->n; i++) {
        for (k = 0; tables && tables[k]; k++) {
            if (strcmp(tables[k], m->rows[i].table) == 0) {
                break;
            }
        }

        if (tables == NULL || tables[k] == NULL) {
            return m->rows[i].table;
        }
    }

    return NULL;
}
