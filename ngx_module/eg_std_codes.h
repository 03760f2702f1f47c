/*
 * Copyright (C) EduGate contributors
 *
 * Code tables of the data standard, loaded from CSV (schemas/std/v1/codes
 * and the generated tables) into one hash table keyed by scheme and code.
 * A code may have several rows with disjoint validity (history).
 */

#ifndef _EG_STD_CODES_H_INCLUDED_
#define _EG_STD_CODES_H_INCLUDED_

#include <stddef.h>


typedef struct {
    const char  *scheme;
    const char  *code;
    const char  *name;
    const char  *level;         /* "" when the table has no level column */
    const char  *parent;        /* "" when none */
    const char  *valid_from;    /* YYYY-MM-DD or "" (open) */
    const char  *valid_to;      /* YYYY-MM-DD or "" (open) */
    const char  *source;
} eg_code_t;


typedef struct eg_codes_s  eg_codes_t;


eg_codes_t *eg_codes_new(void);
void eg_codes_free(eg_codes_t *codes);

/*
 * Loads one CSV file.  The header names the columns: code is required;
 * scheme, name, level, parent, valid_from, valid_to, source are optional
 * (without a scheme column the scheme is the file name without ".csv").
 * Fields may be quoted as in RFC 4180.  On error returns -1 with
 * "file:line: why" in err (the place first, so that a long code cannot
 * truncate it away); rows loaded before stay loaded.
 */
int eg_codes_load_file(eg_codes_t *codes, const char *path, char *err,
    size_t errlen);
/* every *.csv of a directory, in name order */
int eg_codes_load_dir(eg_codes_t *codes, const char *dir, char *err,
    size_t errlen);
/* the same from memory (the buffer is copied) */
int eg_codes_load_buf(eg_codes_t *codes, const char *name, const char *buf,
    size_t len, char *err, size_t errlen);

/*
 * For loaders: add a row (its strings must live as long as the table:
 * hand their buffer over with eg_codes_keep); a row whose validity
 * overlaps a row of the same code is refused.
 */
int eg_codes_add(eg_codes_t *codes, const eg_code_t *row, char *err,
    size_t errlen);
int eg_codes_keep(eg_codes_t *codes, char *buf);

/*
 * The row of scheme/code valid on date (YYYY-MM-DD), or, when date is
 * NULL, the most recent row whatever its validity.  NULL if none.
 */
const eg_code_t *eg_codes_find(const eg_codes_t *codes, const char *scheme,
    const char *code, const char *date);
/* rows of a scheme; 0 if the scheme was never loaded */
size_t eg_codes_count(const eg_codes_t *codes, const char *scheme);
/* 1 if some row of scheme has parent equal to code */
int eg_codes_has_child(const eg_codes_t *codes, const char *scheme,
    const char *code);

#endif /* _EG_STD_CODES_H_INCLUDED_ */
