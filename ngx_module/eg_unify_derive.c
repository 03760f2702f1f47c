/*
 * Copyright (C) EduGate contributors
 *
 * Ids derived from other ids (sessions, homeroom classes, courses with a
 * code, enrollments, results), the references the gateway adds (a
 * school's district, a line item's grade course), and the finishing
 * touches of a record.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_unify_int.h"


static int eg_unify_derived_set(eg_urec_t *r, const char *field,
    const char *id, const char *from);


/*
 * References the gateway adds: a school's district, from its division
 * code; a homeroom class's course, the grade's synthetic homeroom course
 * the standard asks for (OneRoster wants a course for every class); a
 * line item's grade course, from the hints, when the export names
 * neither class nor course.  The district keeps those courses with its
 * master data.
 */

int
eg_unify_derived_refs(eg_unify_t *u, eg_urec_t *r, int apply)
{
    int          res;
    char         id[EG_UUID_LEN + 1], school[EG_UUID_LEN + 1];
    char         name[EG_UKEY_MAX];
    const char  *coll, *level, *div, *code, *grade, *subject, *kind;

    coll = eg_unify_colls[r->coll].name;

    if (strcmp(coll, "orgs") == 0) {
        level = eg_unify_str(r->obj, "level");
        div = eg_unify_str(r->obj, "divisionCode");

        if (level == NULL || strcmp(level, "school") != 0
            || json_object_get(r->raw, "parentId") != NULL
            || !eg_unify_division(div))
        {
            return 0;
        }

        snprintf(name, sizeof(name), "org|district|%s", div);
        res = eg_unify_nk_id(u, name, 1, id);

        if (!apply || res == EG_URES_NONE) {
            return 0;
        }

        return eg_unify_derived_set(r, "parentId", id, div);
    }

    if (strcmp(coll, "classes") == 0) {
        kind = eg_unify_str(r->obj, "classKind");
        grade = eg_unify_str(r->obj, "gradeLevel");

        if (kind == NULL || strcmp(kind, "homeroom") != 0 || grade == NULL
            || json_object_get(r->raw, "courseId") != NULL
            || eg_unify_ref_id(u, r, "schoolId", eg_unify_coll("orgs"),
                               school) != 0)
        {
            return u->nomem ? -1 : 0;
        }

        if (!apply) {
            return 0;
        }

        if (eg_unify_v5(u, id, "course|%s|grade|%.8s|homeroom", school,
                        grade) != 0)
        {
            return -1;
        }

        snprintf(name, sizeof(name), "%.8s|homeroom", grade);

        return eg_unify_derived_set(r, "courseId", id, name);
    }

    if (strcmp(coll, "lineItems") != 0
        || json_object_get(r->raw, "classId") != NULL
        || json_object_get(r->raw, "courseId") != NULL)
    {
        return 0;
    }

    code = eg_unify_str(r->hints, "schoolCode");
    grade = eg_unify_str(r->hints, "gradeLevel");
    subject = eg_unify_str(r->obj, "subjectCode");

    if (code == NULL || grade == NULL || subject == NULL) {
        return 0;
    }

    res = eg_unify_ref(u, r, eg_unify_coll("orgs"), code, school);

    if (!apply || res == EG_URES_NONE || school[0] == '\0'
        || eg_unify_v5(u, id, "course|%s|grade|%.8s|%.8s", school, grade,
                       subject) != 0)
    {
        return u->nomem ? -1 : 0;
    }

    snprintf(name, sizeof(name), "%s|%s|%s", code, grade, subject);

    return eg_unify_derived_set(r, "courseId", id, name);
}


int
eg_unify_derived_id(eg_unify_t *u, eg_urec_t *r)
{
    int          rc, k;
    char         a[EG_UUID_LEN + 1], b[EG_UUID_LEN + 1];
    json_t      *terms, *idx;
    const char  *coll, *year, *code, *type, *grade, *no, *t, *role, *begin;

    coll = eg_unify_colls[r->coll].name;
    rc = 1;

    if (strcmp(coll, "academicSessions") == 0) {
        year = eg_unify_str(r->obj, "schoolYear");
        type = eg_unify_str(r->obj, "type");
        code = (type && strcmp(type, "schoolYear") == 0)
               ? "Y" : eg_unify_str(r->obj, "termCode");

        if (year && code
            && eg_unify_ref_id(u, r, "orgId", eg_unify_coll("orgs"), a) == 0)
        {
            rc = eg_unify_v5(u, r->id, "session|%s|%.16s|%.8s", a, year,
                             code);
        }

    } else if (strcmp(coll, "courses") == 0) {
        code = eg_unify_str(r->obj, "courseCode");

        if (code
            && eg_unify_ref_id(u, r, "orgId", eg_unify_coll("orgs"), a) == 0)
        {
            rc = eg_unify_v5(u, r->id, "course|%s|%.200s", a, code);
        }

    } else if (strcmp(coll, "classes") == 0) {
        type = eg_unify_str(r->obj, "classKind");
        grade = eg_unify_str(r->obj, "gradeLevel");
        no = eg_unify_str(r->obj, "classNo");

        /* the school year of its first term, in the batch or as text */
        terms = json_object_get(r->raw, "termIds");
        t = json_string_value(json_array_get(terms, 0));
        year = NULL;

        if (t && eg_unify_session_text(t)) {
            year = t;

        } else if (t) {
            k = eg_unify_coll("academicSessions");
            idx = json_object_get(u->by_local[k], t);
            year = idx ? eg_unify_str(u->r[json_integer_value(idx)].obj,
                                      "schoolYear")
                       : NULL;
        }

        if (type && strcmp(type, "homeroom") == 0 && grade && no && year
            && strlen(year) >= 9
            && eg_unify_ref_id(u, r, "schoolId", eg_unify_coll("orgs"), a)
               == 0)
        {
            rc = eg_unify_v5(u, r->id, "class|%s|%.9s|homeroom|%.8s|%.20s",
                             a, year, grade, no);
        }

    } else if (strcmp(coll, "enrollments") == 0) {
        role = eg_unify_str(r->obj, "role");
        begin = eg_unify_str(r->obj, "beginDate");

        if (role
            && eg_unify_ref_id(u, r, "classId", eg_unify_coll("classes"), a)
               == 0
            && eg_unify_ref_id(u, r, "personId",
                               eg_unify_coll(strcmp(role, "student") == 0
                                             ? "students" : "staff"), b)
               == 0)
        {
            rc = eg_unify_v5(u, r->id, "enr|%s|%s|%.32s|%.10s", a, b, role,
                             begin ? begin : "");
        }

    } else if (strcmp(coll, "results") == 0) {
        if (eg_unify_ref_id(u, r, "lineItemId", eg_unify_coll("lineItems"),
                            a) == 0
            && eg_unify_ref_id(u, r, "studentId", eg_unify_coll("students"),
                               b) == 0)
        {
            rc = eg_unify_v5(u, r->id, "res|%s|%s", a, b);
        }
    }

    if (rc < 0 || u->nomem) {
        return -1;
    }

    if (rc > 0 || r->local == NULL) {
        return 0;
    }

    /* the crosswalk learns derived ids when the batch is stored */
    return json_array_append_new(u->bindings, json_string(r->xw))
           || json_array_append_new(u->bindings, json_string(r->id));
}


int
eg_unify_complete(eg_unify_t *u, eg_urec_t *r)
{
    json_t      *src, *v;
    const char  *key;
    void        *tmp;

    if (json_object_set_new(r->obj, "id", json_string(r->id)) != 0) {
        return -1;
    }

    src = json_object_get(r->obj, "source");

    if (!json_is_object(src)) {
        src = json_object();
        if (json_object_set_new(r->obj, "source", src) != 0) {
            return -1;
        }
    }

    if (json_object_set_new(src, "vendorId", json_string(u->conf.vendor))
        || (r->tenant && json_object_set_new(src, "tenant",
                                              json_string(r->tenant)))
        || (u->conf.batch_id
            && json_object_set_new(src, "batchId",
                                   json_string(u->conf.batch_id))))
    {
        return -1;
    }

    /* null is absent in the standard (schemas/README.md) */
    json_object_foreach_safe(r->obj, tmp, key, v) {
        if (json_is_null(v)) {
            json_object_del(r->obj, key);
        }
    }

    return 0;
}


static int
eg_unify_derived_set(eg_urec_t *r, const char *field, const char *id,
    const char *from)
{
    int      rc;
    json_t  *raw;

    raw = json_string(from);

    rc = (raw == NULL
          || json_object_set_new(r->obj, field, json_string(id)) != 0
          || eg_unify_prov(r, field, raw, "natural-key") != 0) ? -1 : 0;

    json_decref(raw);

    return rc;
}
