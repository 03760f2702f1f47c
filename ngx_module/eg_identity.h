/*
 * Copyright (C) EduGate contributors
 *
 * The identity of a logged-in person as stored in a session record: filled
 * from the directory at login, serialized to JSON for Redis, read back on
 * every request.  Fixed-size fields keep it usable from the LDAP worker
 * thread, which must not touch nginx pools.
 */

#ifndef _EG_IDENTITY_H_INCLUDED_
#define _EG_IDENTITY_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>


#define EG_ID_UID_MAX     64
#define EG_ID_NAME_MAX    128
#define EG_ID_ROLES_MAX   256
#define EG_ID_CODE_MAX    32
#define EG_ID_PATH_MAX    256
#define EG_ID_LEVEL_MAX   32
#define EG_ID_SHORT_MAX   16
#define EG_ID_UUID_MAX    64
#define EG_ID_DN_MAX      512


typedef struct {
    char     uid[EG_ID_UID_MAX + 1];
    char     name[EG_ID_NAME_MAX + 1];
    char     roles[EG_ID_ROLES_MAX + 1];    /* comma-separated */
    char     org[EG_ID_CODE_MAX + 1];       /* nearest org code */
    char     org_path[EG_ID_PATH_MAX + 1];  /* "370000/370100/370112" */
    char     level[EG_ID_LEVEL_MAX + 1];
    char     school[EG_ID_CODE_MAX + 1];
    char     grade[EG_ID_SHORT_MAX + 1];
    char     klass[EG_ID_SHORT_MAX + 1];
    char     uuid[EG_ID_UUID_MAX + 1];      /* directory entryUUID */
    char     dn[EG_ID_DN_MAX + 1];
    int64_t  auth_time;                     /* unix seconds */
    int64_t  expires;                       /* absolute session end */
} eg_identity_t;


typedef enum {
    EG_ID_UID = 0,
    EG_ID_NAME,
    EG_ID_ROLES,
    EG_ID_ORG,
    EG_ID_ORG_PATH,
    EG_ID_LEVEL,
    EG_ID_SCHOOL,
    EG_ID_GRADE,
    EG_ID_CLASS,
    EG_ID_UUID,
    EG_ID_DN,
    EG_ID_NFIELDS
} eg_id_field_e;


/* the field's buffer and capacity (without the NUL) */
char *eg_identity_field(eg_identity_t *id, eg_id_field_e f, size_t *cap);
const char *eg_identity_field_name(eg_id_field_e f);

/*
 * Sets a field from a length-counted value; an over-long value or one with
 * control characters is refused (-1), never truncated.  For EG_ID_ROLES
 * the value is appended to the comma-separated list.
 */
int eg_identity_set(eg_identity_t *id, eg_id_field_e f, const char *v,
    size_t n);

/* malloc()ed NUL-terminated JSON, free() by the caller; NULL on failure */
char *eg_identity_to_json(const eg_identity_t *id);
/* 0 on success, -1 if not a well-formed record */
int eg_identity_from_json(eg_identity_t *id, const char *json, size_t n);

/*
 * Derives org and org_path from the entry DN: every RDN whose attribute type
 * equals org_attr (ASCII case-insensitive) is an org code; the nearest one
 * is "org", the list from the top is "org_path".  0, or -1 on a bad DN.
 */
int eg_identity_org_from_dn(eg_identity_t *id, const char *dn,
    const char *org_attr);

int eg_identity_has_role(const eg_identity_t *id, const char *role,
    size_t n);
int eg_identity_in_org(const eg_identity_t *id, const char *code, size_t n);

#endif /* _EG_IDENTITY_H_INCLUDED_ */
