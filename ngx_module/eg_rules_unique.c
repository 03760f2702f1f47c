/*
 * Copyright (C) EduGate contributors
 *
 * Uniqueness (R24), once per batch: vendor ids within the feed, 学籍号
 * among active students district-wide (a transfer that closed the old
 * 学籍注册 frees the number), 学号 within a school, one homeroom per
 * student and term.
 */


#include <string.h>

#include "eg_rules.h"


static void eg_unique_vendor_ids(eg_rule_ctx_t *rc);
static void eg_unique_students(eg_rule_ctx_t *rc);
static void eg_unique_homeroom(eg_rule_ctx_t *rc);
static int eg_transferred(eg_rule_ctx_t *rc, const char *person);
static int eg_share_term(json_t *a, json_t *b);


/* R24, over the whole batch */
void
eg_rules_unique(eg_rule_ctx_t *rc)
{
    eg_unique_vendor_ids(rc);
    eg_unique_students(rc);
    eg_unique_homeroom(rc);
}


static void
eg_unique_vendor_ids(eg_rule_ctx_t *rc)
{
    int          e;
    size_t       i;
    json_t      *seen, *rec;
    const char  *local;

    for (e = 0; e < EG_STD_NENTITIES; e++) {
        seen = json_object();
        if (seen == NULL) {
            rc->report->nomem = 1;
            return;
        }

        json_array_foreach(eg_rule_batch_records(rc, e), i, rec) {
            local = eg_rule_str(json_object_get(rec, "source"),
                                "vendorLocalId");
            if (local == NULL) {
                continue;
            }

            if (json_object_get(seen, local) != NULL) {
                rc->rec = rec;
                rc->index = eg_rule_batch_index(rc, rec);
                eg_rule_report(rc, "source.vendorLocalId", "R24",
                               EG_STD_ERROR, local, NULL,
                               "同一批次中厂商标识重复",
                               "the vendor id occurs twice in the feed");
                continue;
            }

            json_object_set_new(seen, local, json_true());
        }

        json_decref(seen);
    }
}


static void
eg_unique_students(eg_rule_ctx_t *rc)
{
    size_t       i, j;
    json_t      *rec, *others, *o;
    const char  *id, *reg, *no, *oid;

    json_array_foreach(eg_rule_batch_records(rc, EG_STD_STUDENT), i, rec) {
        if (!eg_rule_active(rec)) {
            continue;
        }

        rc->rec = rec;
        rc->index = eg_rule_batch_index(rc, rec);
        id = eg_rule_str(rec, "id");
        reg = eg_rule_str(rec, "studentRegNo");
        no = eg_rule_str(rec, "studentNo");

        if (reg != NULL) {
            others = eg_rule_find(rc, EG_STD_STUDENT, "studentRegNo", reg);

            json_array_foreach(others, j, o) {
                oid = eg_rule_str(o, "id");
                if (o == rec || !eg_rule_active(o)
                    || (id && oid && strcmp(id, oid) == 0)
                    || (oid && eg_transferred(rc, oid)))
                {
                    continue;
                }

                eg_rule_report(rc, "studentRegNo", "R24", EG_STD_ERROR, reg,
                               NULL, "学籍号已被另一"
                                     "名在籍学生使用",
                               "another active student holds this student "
                               "number");
                break;
            }

            json_decref(others);
        }

        if (no != NULL) {
            others = eg_rule_find(rc, EG_STD_STUDENT, "studentNo", no);

            json_array_foreach(others, j, o) {
                oid = eg_rule_str(o, "id");
                if (o == rec || !eg_rule_active(o)
                    || (id && oid && strcmp(id, oid) == 0)
                    || !eg_rule_same(o, "schoolId", rec, "schoolId"))
                {
                    continue;
                }

                eg_rule_report(rc, "studentNo", "R24", EG_STD_ERROR, no,
                               NULL, "学号在本校重复",
                               "the school number is taken in this school");
                break;
            }

            json_decref(others);
        }
    }
}


/* a transfer closed the old 学籍注册: its 学籍号 may move on */
static int
eg_transferred(eg_rule_ctx_t *rc, const char *person)
{
    int          closed;
    size_t       i;
    json_t      *list, *se;
    const char  *end;

    list = eg_rule_find(rc, EG_STD_SCHOOL_ENROLLMENT, "personId", person);
    closed = 0;

    json_array_foreach(list, i, se) {
        end = eg_rule_str(se, "endDate");
        if (end != NULL && strcmp(end, rc->ctx->today) <= 0) {
            closed = 1;
        }
    }

    json_decref(list);

    return closed;
}


static void
eg_unique_homeroom(eg_rule_ctx_t *rc)
{
    int          known;
    size_t       i, j;
    json_t      *e, *cls, *others, *o, *ocls;
    const char  *role, *pid, *kind;

    json_array_foreach(eg_rule_batch_records(rc, EG_STD_ENROLLMENT), i, e) {
        role = eg_rule_str(e, "role");
        pid = eg_rule_str(e, "personId");

        if (role == NULL || strcmp(role, "student") != 0 || pid == NULL
            || !eg_rule_enrollment_on(e, NULL))
        {
            continue;
        }

        rc->rec = e;
        rc->index = eg_rule_batch_index(rc, e);
        cls = eg_rule_get(rc, EG_STD_CLASS, eg_rule_str(e, "classId"),
                          &known);
        kind = cls ? eg_rule_str(cls, "classKind") : NULL;

        if (kind == NULL || strcmp(kind, "homeroom") != 0) {
            continue;
        }

        others = eg_rule_find(rc, EG_STD_ENROLLMENT, "personId", pid);

        json_array_foreach(others, j, o) {
            if (o == e || eg_rule_same(o, "classId", e, "classId")
                || !eg_rule_enrollment_on(o, NULL)
                || eg_rule_str(o, "role") == NULL
                || strcmp(eg_rule_str(o, "role"), "student") != 0)
            {
                continue;
            }

            ocls = eg_rule_get(rc, EG_STD_CLASS, eg_rule_str(o, "classId"),
                               &known);
            kind = ocls ? eg_rule_str(ocls, "classKind") : NULL;

            if (kind != NULL && strcmp(kind, "homeroom") == 0
                && eg_share_term(cls, ocls))
            {
                eg_rule_report(rc, "classId", "R24", EG_STD_ERROR,
                               eg_rule_str(e, "classId"),
                               eg_rule_str(o, "classId"),
                               "学生同一学期有两个行政班",
                               "the student has two homeroom classes in "
                               "one term");
                break;
            }
        }

        json_decref(others);
    }
}


static int
eg_share_term(json_t *a, json_t *b)
{
    size_t   i, j;
    json_t  *x, *y;

    json_array_foreach(eg_rule_list(a, "termIds"), i, x) {
        json_array_foreach(eg_rule_list(b, "termIds"), j, y) {
            if (json_equal(x, y)) {
                return 1;
            }
        }
    }

    return 0;
}
