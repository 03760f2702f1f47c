/*
 * Copyright (C) EduGate contributors
 *
 * The rule engine of the education data standard (schemas/std/v1): it
 * takes a batch of canonical records as a jansson object shaped like the
 * JSON rendering ({"students": [{...}], "classes": [...], ...}) and
 * returns the violations of rules R01-R29 (DATA-STANDARD.md section 4),
 * each with its rule id and severity.  nginx-free.
 */

#ifndef _EG_STD_H_INCLUDED_
#define _EG_STD_H_INCLUDED_

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "eg_std_codes.h"


typedef enum {
    EG_STD_ORG = 0,
    EG_STD_SCHOOL,
    EG_STD_SESSION,
    EG_STD_COURSE,
    EG_STD_CLASS,
    EG_STD_STUDENT,
    EG_STD_STAFF,
    EG_STD_ENROLLMENT,
    EG_STD_SCHOOL_ENROLLMENT,
    EG_STD_LINE_ITEM,
    EG_STD_RESULT,
    EG_STD_NENTITIES
} eg_std_entity_e;


#define EG_STD_ERROR    'E'
#define EG_STD_WARNING  'W'
#define EG_STD_INFO     'I'


/*
 * Records known from earlier feeds.  Both callbacks return new references
 * (the engine releases them) or NULL.  lookup: the record of that entity
 * with that unified id (EG_STD_ORG also finds schools).  find: a JSON
 * array of the records of that entity whose top-level string field equals
 * value; the engine asks for students.studentRegNo, students.studentNo,
 * enrollments.personId, enrollments.classId, results.lineItemId,
 * schoolEnrollments.personId, and for the org tree orgs.parentId and
 * students.schoolId (R21g).
 */
typedef struct {
    json_t  *(*lookup)(void *data, eg_std_entity_e entity, const char *id);
    json_t  *(*find)(void *data, eg_std_entity_e entity, const char *field,
                     const char *value);
    void     *data;
} eg_std_registry_t;


typedef struct {
    const eg_codes_t   *codes;
    eg_std_registry_t   registry;       /* callbacks may be NULL */
    char                today[11];      /* YYYY-MM-DD, the validation day */
    time_t              now;            /* for dateLastModified (R22f) */
    int                 year_start;     /* 学年 window starts on the 1st of
                                           this month, default 8 (R22b) */
    int                 snapshot;       /* a bulk feed is a full snapshot */
} eg_std_ctx_t;


typedef struct {
    size_t            record;           /* index into eg_std_report_t.r */
    char             *field;
    const char       *rule;             /* "R02", "R21a" */
    char              severity;         /* 'E', 'W' or 'I' */
    char             *actual;           /* masked, may be NULL */
    char             *expected;         /* masked, may be NULL */
    const char       *message_zh;
    const char       *message_en;
} eg_std_violation_t;


typedef struct {
    eg_std_entity_e   entity;
    char             *vendor_local_id;  /* may be NULL */
    char             *unified_id;       /* may be NULL */
    unsigned          errors;
    unsigned          warnings;
    unsigned          infos;
    unsigned          deleted:1;        /* omitted from a full snapshot */
} eg_std_record_t;


typedef struct {
    char                *batch_id;
    eg_std_record_t     *r;
    size_t               nr;
    size_t               rcap;
    eg_std_violation_t  *v;
    size_t               nv;
    size_t               vcap;
    unsigned             errors;
    unsigned             warnings;
    unsigned             infos;
    int                  nomem;
} eg_std_report_t;


/* ctx defaults: today from the clock, year_start 8, no registry */
void eg_std_ctx_init(eg_std_ctx_t *ctx, const eg_codes_t *codes);
int eg_std_ctx_set_today(eg_std_ctx_t *ctx, const char *date);

/*
 * Validates every record of a batch.  NULL only when out of memory; a
 * record that breaks an E rule is "rejected" in the report.
 */
eg_std_report_t *eg_std_validate(const eg_std_ctx_t *ctx, json_t *batch);

/* a registry over a batch-shaped object of known records (kept, not
   copied: it must outlive the validation) */
void eg_std_registry_from_batch(eg_std_registry_t *reg, json_t *known);

const char *eg_std_entity_name(eg_std_entity_e entity);
const char *eg_std_entity_collection(eg_std_entity_e entity);
int eg_std_entity_from_collection(const char *key);

/* report */
eg_std_report_t *eg_std_report_new(const char *batch_id);
size_t eg_std_report_record(eg_std_report_t *rep, eg_std_entity_e entity,
    const char *vendor_local_id, const char *unified_id);
void eg_std_report_add(eg_std_report_t *rep, size_t record,
    const char *field, const char *rule, char severity, const char *actual,
    const char *expected, const char *message_zh, const char *message_en);
int eg_std_report_rejected(const eg_std_report_t *rep, size_t record);
/* the report as JSON text (malloc'd), NULL if out of memory */
char *eg_std_report_json(const eg_std_report_t *rep);
void eg_std_report_free(eg_std_report_t *rep);

/*
 * Report-safe copy of a value (malloc'd): any run of 14 or more digits
 * (an ID number, a 学籍号 body) keeps its first and last 4 characters, a
 * phone number its first 3 and last 4; the rest becomes '*'.
 */
char *eg_std_mask(const char *field, const char *value);

#endif /* _EG_STD_H_INCLUDED_ */
