/*
 * Copyright (C) EduGate contributors
 *
 * Unified ids for the records a plugin's to_standard hooks made.  Those
 * records name themselves and each other with the vendor's ids
 * ("C202102"), with natural keys (a 学籍号, a 学校标识码, a semester
 * "2024-2025-1") or with hints (a line item's school code and grade).
 * Here every record gets its unified id and every reference the id of
 * what it names (DATA-STANDARD 2.3):
 *
 *   - a natural key: UUIDv5 under the district's namespace of
 *     "org|school|<学校标识码>", "org|<level>|<division code>",
 *     "student|<G or J 学籍号>";
 *   - derived from other ids: "session|<orgId>|<schoolYear>|<termCode>",
 *     "class|<schoolId>|<schoolYear>|homeroom|<grade>|<classNo>",
 *     "course|<orgId>|<courseCode>", "enr|<classId>|<personId>|<role>|
 *     <beginDate>", "res|<lineItemId>|<studentId>";
 *   - else an id the registry assigns once and keeps in the crosswalk
 *     (vendor, tenant, entity, vendor id).
 *
 * nginx-free: the Redis work is a sequence of steps the caller carries
 * out, each a command (MGET or EVAL of the assignment script) whose reply
 * goes back to eg_unify_reply().  Keys are described in README's Redis
 * table.
 */

#ifndef _EG_UNIFY_H_INCLUDED_
#define _EG_UNIFY_H_INCLUDED_

#include <stddef.h>

#include <jansson.h>


#define EG_UNIFY_DONE     0
#define EG_UNIFY_COMMAND  1


typedef struct {
    const char           *vendor;       /* the plugin's name */
    const char           *tenant;       /* when records name none, or NULL */
    const char           *batch_id;
    unsigned char         ns[16];       /* the district's namespace */
    const char *const    *own;          /* entities the plugin produces */
} eg_unify_conf_t;


/*
 * A command may be sent in pieces: its first head arguments, then whole
 * groups of stride arguments; the replies of the pieces, one after the
 * other, are the reply of the command.
 */
typedef struct {
    size_t                argc;
    const char          **argv;
    size_t               *argvlen;
    size_t                head;
    size_t                stride;
} eg_unify_step_t;


typedef struct eg_unify_s  eg_unify_t;


/*
 * Takes records as to_standard made them: {"students": [...], ...}; the
 * object is kept and changed in place.  NULL when out of memory.
 */
eg_unify_t *eg_unify_new(const eg_unify_conf_t *conf, json_t *records);
void eg_unify_free(eg_unify_t *u);

/*
 * The next Redis command (EG_UNIFY_COMMAND), or EG_UNIFY_DONE once every
 * id is known; -1 when out of memory.  The step's strings live until the
 * next call.
 */
int eg_unify_step(eg_unify_t *u, eg_unify_step_t *step);

/*
 * The reply to the step: n strings (NULL for nil) in the order of its
 * keys or records.  -1 when the reply does not fit the step.
 */
int eg_unify_reply(eg_unify_t *u, size_t n, const char *const *values,
    const size_t *lens);

/*
 * The records with ids, references resolved, hints removed, and the
 * plugin's violations moved out (eg_unify_violations()).  Borrowed.
 */
json_t *eg_unify_records(eg_unify_t *u);

/*
 * The violations the plugin reported about the record (a JSON array,
 * borrowed, may be NULL) and about the whole payload.
 */
json_t *eg_unify_violations(eg_unify_t *u, json_t *record);
json_t *eg_unify_payload_violations(eg_unify_t *u);

/* crosswalk bindings of derived records: key, id, key, id, ... */
json_t *eg_unify_bindings(eg_unify_t *u);

/* the Lua text of the assignment script */
const char *eg_unify_script(void);

#endif /* _EG_UNIFY_H_INCLUDED_ */
