/*
 * Copyright (C) EduGate contributors
 *
 * What the two files of the id mapping share: eg_unify.c runs the steps,
 * eg_unify_ref.c resolves references and derives ids.
 */

#ifndef _EG_UNIFY_INT_H_INCLUDED_
#define _EG_UNIFY_INT_H_INCLUDED_

#include "eg_unify.h"
#include "eg_uuid.h"


#define EG_UCOLLS           9
#define EG_UKEY_MAX         640

#define EG_USTAGE_ASSIGN0   0
#define EG_USTAGE_LOOKUP    1
#define EG_USTAGE_DERIVE    2
#define EG_USTAGE_ASSIGN1   3
#define EG_USTAGE_FINISH    4
#define EG_USTAGE_DONE      5


typedef struct {
    const char           *name;         /* collection */
    int                   level;        /* 0 own key, 1 derived from
                                           level 0, 2 from any */
} eg_ucoll_t;

typedef struct {
    const char           *coll;
    const char           *field;
    const char           *target;       /* NULL: by the record's role */
    int                   list;
} eg_uref_t;

typedef struct {
    const char           *coll;
    const char           *field;
} eg_uhint_t;

typedef struct {
    json_t               *obj;
    int                   coll;
    const char           *local;        /* source.vendorLocalId */
    const char           *tenant;
    char                 *nk;           /* natural-key name */
    int                   perm;         /* the key is authoritative */
    char                 *xw;           /* crosswalk key */
    json_t               *raw;          /* references as the vendor wrote */
    json_t               *hints;
    json_t               *violations;
    char                  id[EG_UUID_LEN + 1];
} eg_urec_t;

struct eg_unify_s {
    eg_unify_conf_t       conf;
    json_t               *records;
    eg_urec_t            *r;
    size_t                nr;
    json_t               *by_local[EG_UCOLLS];  /* vendor id -> index */
    json_t               *lookups;              /* key -> value or null */
    json_t               *want;                 /* keys of a dry run */
    json_t               *payload;
    json_t               *bindings;
    int                   stage;
    int                   nomem;

    json_t               *strs;                 /* the step's strings */
    const char          **argv;
    size_t               *argvlen;
    size_t                argc;
    size_t                argcap;
    size_t               *pending;              /* records of the step */
    size_t                npending;
};


extern const eg_ucoll_t  eg_unify_colls[EG_UCOLLS];
extern const eg_uref_t   eg_unify_refs[];
extern const eg_uhint_t  eg_unify_hints[];


/* what eg_unify_ref.c resolved a reference by */
#define EG_URES_NONE       0
#define EG_URES_ID         1
#define EG_URES_BATCH      2
#define EG_URES_NATURAL    3
#define EG_URES_CROSSWALK  4


/* eg_unify_ref.c */
const char *eg_unify_str(json_t *obj, const char *field);
int eg_unify_session_text(const char *s);
int eg_unify_school_code(const char *s);
int eg_unify_division(const char *s);
int eg_unify_regno(const char *s);
int eg_unify_coll(const char *name);
int eg_unify_xw_key(eg_unify_t *u, const char *tenant, int coll,
    const char *local, char *key);
/* EG_URES_*, the id in id (EG_UUID_LEN + 1) */
int eg_unify_ref(eg_unify_t *u, eg_urec_t *r, int target, const char *v,
    char *id);
/* a reference's id, a placeholder when unresolved; 1 when none */
int eg_unify_ref_id(eg_unify_t *u, eg_urec_t *r, const char *field,
    int target, char *id);
/* the registry's id of a natural key, else (fallback) its UUIDv5 */
int eg_unify_nk_id(eg_unify_t *u, const char *name, int fallback,
    char *id);
int eg_unify_v5(eg_unify_t *u, char *id, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int eg_unify_prov(eg_urec_t *r, const char *field, json_t *raw,
    const char *mapping);
/* every reference of a record; apply 0 is the dry run of LOOKUP */
int eg_unify_resolve_all(eg_unify_t *u, eg_urec_t *r, int apply);

/* eg_unify_derive.c */
int eg_unify_derived_refs(eg_unify_t *u, eg_urec_t *r, int apply);
/* the id of a record derived from the ids it refers to */
int eg_unify_derived_id(eg_unify_t *u, eg_urec_t *r);
/* id, source; nulls and hints gone */
int eg_unify_complete(eg_unify_t *u, eg_urec_t *r);

#endif /* _EG_UNIFY_INT_H_INCLUDED_ */
