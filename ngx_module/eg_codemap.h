/*
 * Copyright (C) EduGate contributors
 *
 * Code-mapping tables: a vendor's values for a coded field and the
 * standard codes they stand for, kept as data (CSV), as Ed-Fi keeps its
 * descriptor mappings.  Columns: table,vendor_value,code,kind where kind
 * is "exact" (or empty), "synonym" (mapped by a name or a synonym: noted)
 * or "ambiguous" (flagged; an empty code leaves the field empty).
 */

#ifndef _EG_CODEMAP_H_INCLUDED_
#define _EG_CODEMAP_H_INCLUDED_

#include <stddef.h>


#define EG_CODE_EXACT      0
#define EG_CODE_SYNONYM    1
#define EG_CODE_AMBIGUOUS  2


typedef struct {
    char                  *table;
    char                  *value;
    char                  *code;        /* "" when ambiguous and unmapped */
    int                    kind;
} eg_code_row_t;

typedef struct eg_codemap_s  eg_codemap_t;


eg_codemap_t *eg_codemap_new(void);
void eg_codemap_free(eg_codemap_t *m);

/*
 * Adds the rows of a CSV text; with only set, every row must belong to
 * that table and they replace its rows (an override).  origin names the
 * text in messages.  0, or -1 with err.
 */
int eg_codemap_parse(eg_codemap_t *m, const char *text, size_t len,
    const char *only, const char *origin, char *err, size_t errlen);
int eg_codemap_load(eg_codemap_t *m, const char *path, const char *only,
    char *err, size_t errlen);

const eg_code_row_t *eg_codemap_find(const eg_codemap_t *m,
    const char *table, const char *value);
size_t eg_codemap_count(const eg_codemap_t *m, const char *table);

/* the first table of a row not in the list (NULL-terminated), or NULL */
const char *eg_codemap_stray(const eg_codemap_t *m,
    const char *const *tables);

#endif /* _EG_CODEMAP_H_INCLUDED_ */
