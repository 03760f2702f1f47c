/*
 * Copyright (C) EduGate contributors
 *
 * Standard records built by a plugin's to_standard hook (jansson objects
 * held by the call), the violations reported about them, and the
 * structural check of a record that the checker applies until the
 * standard's schemas exist.
 */

#ifndef _EG_RECORD_H_INCLUDED_
#define _EG_RECORD_H_INCLUDED_

#include <stddef.h>

#include "eg_host.h"


/* the entities of the standard (DATA-STANDARD section 2.2) */
int eg_record_entity_known(const char *entity);

edugate_record_t *eg_record_new(eg_call_t *c, const char *entity);
int eg_record_set(edugate_record_t *r, const char *field, const char *value);
int eg_record_set_number(edugate_record_t *r, const char *field,
    const char *decimal);
int eg_record_append(edugate_record_t *r, const char *field,
    const char *value);
void eg_report(eg_call_t *c, edugate_record_t *r, const char *rule,
    int severity, const char *field, const char *actual,
    const char *message);
const char *eg_code_map(eg_call_t *c, edugate_record_t *r,
    const char *field, const char *table, const char *value);

/* {"<entity>": [records], "_violations": [...]}, malloc()ed, or NULL */
char *eg_record_dump(eg_call_t *c);
void eg_record_release(eg_call_t *c);

/*
 * Structure of every record of the call: required fields present (or
 * null with a violation naming them), dates, enumerations.  0, or -1
 * with the first problem in err.
 */
int eg_record_check(eg_call_t *c, char *err, size_t errlen);

/*
 * Every member of want is in got, equal (arrays: same length, element by
 * element); for fixtures' expected output.  Both are JSON texts.  0, or
 * -1 with the first difference in err.
 */
int eg_record_expect(const char *got, const char *want, char *err,
    size_t errlen);

#endif /* _EG_RECORD_H_INCLUDED_ */
