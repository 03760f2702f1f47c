/*
 * Copyright (C) EduGate contributors
 *
 * What the rule files (eg_rules_*.c) share with the engine
 * (eg_std_engine.c): the per-record context, value accessors, reference
 * resolution across the batch and the registry, and the rule groups.
 */

#ifndef _EG_RULES_H_INCLUDED_
#define _EG_RULES_H_INCLUDED_

#include "eg_std.h"


typedef struct eg_std_batch_s  eg_std_batch_t;


typedef struct {
    const eg_std_ctx_t  *ctx;
    eg_std_batch_t      *batch;
    eg_std_report_t     *report;
    eg_std_entity_e      entity;
    json_t              *rec;
    size_t               index;         /* the record in the report */
    unsigned             delta:1;       /* the batch is a delta feed */
} eg_rule_ctx_t;


void eg_rule_report(eg_rule_ctx_t *rc, const char *field, const char *rule,
    char severity, const char *actual, const char *expected,
    const char *message_zh, const char *message_en);

/* a non-empty string field, else NULL */
const char *eg_rule_str(json_t *rec, const char *field);
/* the vendor's raw value from _prov when the adapter kept it, else the
   field's own value */
const char *eg_rule_actual(eg_rule_ctx_t *rc, const char *field);
/* the mapping kind the adapter noted in _prov for a field, or NULL */
const char *eg_rule_mapping(json_t *rec, const char *field);
/* 1 with the number (JSON number or numeric string), 0 absent, -1 bad */
int eg_rule_num(json_t *rec, const char *field, double *v);
/* 1 true, 0 false or absent */
int eg_rule_bool(json_t *rec, const char *field);
/* the array of a list field, NULL if absent or not a list */
json_t *eg_rule_list(json_t *rec, const char *field);
/* 1 if s is a real calendar date YYYY-MM-DD (or YYYYMMDD when compact) */
int eg_rule_date(const char *s);
int eg_rule_ymd(const char *s, int compact, int *y, int *m, int *d);
/* "active" unless status says tobedeleted */
int eg_rule_active(json_t *rec);
/* 1 unless both fields are set and differ */
int eg_rule_same(json_t *a, const char *fa, json_t *b, const char *fb);
/* 1 if the record is an active enrollment at date (NULL: any time) */
int eg_rule_enrollment_on(json_t *enr, const char *date);

/*
 * A record by unified id from the batch, then the registry (borrowed:
 * valid until the validation ends).  *known is set to 1 when it came from
 * the registry.  EG_STD_ORG also finds schools.
 */
json_t *eg_rule_get(eg_rule_ctx_t *rc, eg_std_entity_e entity,
    const char *id, int *known);
/* records of the batch and the registry whose field equals value (new
   reference, an array, never NULL unless out of memory) */
json_t *eg_rule_find(eg_rule_ctx_t *rc, eg_std_entity_e entity,
    const char *field, const char *value);
/* the records of one entity in the batch (borrowed array, may be empty) */
json_t *eg_rule_batch_records(eg_rule_ctx_t *rc, eg_std_entity_e entity);
/* the report index of a batch record */
size_t eg_rule_batch_index(eg_rule_ctx_t *rc, json_t *rec);

/* GB 11643 / ISO 7064 MOD 11-2 check character of 17 digits */
char eg_id_check_char(const char *digits17);
/* GB 32100 check character of the first 17 characters, 0 if a character
   is outside the code's alphabet */
char eg_uscc_check_char(const char *s);

/* rule groups, one file each */
void eg_rules_idnumber(eg_rule_ctx_t *rc);      /* R01-R07 */
void eg_rules_regno(eg_rule_ctx_t *rc);         /* R08-R11 */
void eg_rules_uscc(eg_rule_ctx_t *rc);          /* R25 */
void eg_rules_org(eg_rule_ctx_t *rc);           /* R12-R18 */
void eg_rules_codes(eg_rule_ctx_t *rc);         /* R19 */
void eg_rules_mapping(eg_rule_ctx_t *rc);       /* R20 */
void eg_rules_cross(eg_rule_ctx_t *rc);         /* R28 */
void eg_rules_refs(eg_rule_ctx_t *rc);          /* R21a-R21f */
void eg_rules_dependents(eg_rule_ctx_t *rc);    /* R21g */
void eg_rules_unique(eg_rule_ctx_t *rc);        /* R24, once per batch */
void eg_rules_dates(eg_rule_ctx_t *rc);         /* R22a-R22h */
void eg_rules_score(eg_rule_ctx_t *rc);         /* R23 */
void eg_rules_name(eg_rule_ctx_t *rc);          /* R26 */
void eg_rules_phone(eg_rule_ctx_t *rc);         /* R27 */
void eg_rules_feed(eg_rule_ctx_t *rc);          /* R29 per record */

#endif /* _EG_RULES_H_INCLUDED_ */
