/*
 * Copyright (C) EduGate contributors
 *
 * References within the batch and to known records (R21a-R21g).
 * References the catalogue does not name go with the R21 letter of their
 * relationship: classes and a class's course R21a, schools and owning
 * orgs R21b, persons R21c, sessions R21d, head teachers R21e, line items,
 * their course and results' students R21f.
 */


#include <string.h>

#include "eg_rules.h"


static json_t *eg_ref(eg_rule_ctx_t *rc, eg_std_entity_e entity,
    const char *field, const char *rule);
static void eg_ref_class(eg_rule_ctx_t *rc, const char *field);
static void eg_ref_terms(eg_rule_ctx_t *rc);
static void eg_ref_session(eg_rule_ctx_t *rc, const char *field,
    const char *type);
static void eg_ref_enrollment(eg_rule_ctx_t *rc);
static void eg_ref_result(eg_rule_ctx_t *rc);
static int eg_has_active(eg_rule_ctx_t *rc, eg_std_entity_e entity,
    const char *field, const char *id);


void
eg_rules_refs(eg_rule_ctx_t *rc)
{
    json_t  *cls, *staff, *school;

    switch (rc->entity) {

    case EG_STD_SESSION:
        eg_ref(rc, EG_STD_ORG, "orgId", "R21b");
        eg_ref_session(rc, "parentId", "schoolYear");
        break;

    case EG_STD_COURSE:
        eg_ref(rc, EG_STD_ORG, "orgId", "R21b");
        eg_ref_session(rc, "schoolYearId", "schoolYear");
        break;

    case EG_STD_CLASS:
        eg_ref(rc, EG_STD_ORG, "schoolId", "R21b");
        eg_ref(rc, EG_STD_COURSE, "courseId", "R21a");
        eg_ref_terms(rc);

        staff = eg_ref(rc, EG_STD_STAFF, "headTeacherId", "R21e");
        if (staff != NULL
            && !eg_rule_same(staff, "schoolId", rc->rec, "schoolId"))
        {
            eg_rule_report(rc, "headTeacherId", "R21e", EG_STD_ERROR,
                           eg_rule_str(staff, "schoolId"),
                           eg_rule_str(rc->rec, "schoolId"),
                           "班主任不是本校教职工",
                           "the head teacher is not staff of the school");
        }
        break;

    case EG_STD_STUDENT:
        school = eg_ref(rc, EG_STD_ORG, "schoolId", "R21b");
        eg_ref_class(rc, "homeroomClassId");
        cls = NULL;
        if (school != NULL
            && eg_rule_str(rc->rec, "homeroomClassId") != NULL)
        {
            int  known;

            cls = eg_rule_get(rc, EG_STD_CLASS,
                              eg_rule_str(rc->rec, "homeroomClassId"),
                              &known);
        }
        if (cls != NULL
            && !eg_rule_same(cls, "schoolId", rc->rec, "schoolId"))
        {
            eg_rule_report(rc, "schoolId", "R21b", EG_STD_ERROR,
                           eg_rule_str(rc->rec, "schoolId"),
                           eg_rule_str(cls, "schoolId"),
                           "学生学校与行政班学校不符",
                           "the student's school is not the homeroom "
                           "class's");
        }
        break;

    case EG_STD_STAFF:
        eg_ref(rc, EG_STD_ORG, "schoolId", "R21b");
        eg_ref(rc, EG_STD_ORG, "orgId", "R21b");
        break;

    case EG_STD_ENROLLMENT:
        eg_ref_enrollment(rc);
        break;

    case EG_STD_SCHOOL_ENROLLMENT:
        eg_ref(rc, EG_STD_ORG, "schoolId", "R21b");
        eg_ref(rc, EG_STD_STUDENT, "personId", "R21c");
        break;

    case EG_STD_LINE_ITEM:
        eg_ref_class(rc, "classId");
        eg_ref(rc, EG_STD_COURSE, "courseId", "R21f");
        if (eg_rule_str(rc->rec, "classId") == NULL
            && eg_rule_str(rc->rec, "courseId") == NULL)
        {
            eg_rule_report(rc, "courseId", "R21f", EG_STD_ERROR, NULL,
                           "classId or courseId",
                           "考试须属于班级或课程",
                           "a line item needs classId or courseId");
        }
        eg_ref_session(rc, "termId", NULL);
        break;

    case EG_STD_RESULT:
        eg_ref_result(rc);
        break;

    default:
        break;
    }
}


/* the referenced record, or NULL (reported when the field is set) */
static json_t *
eg_ref(eg_rule_ctx_t *rc, eg_std_entity_e entity, const char *field,
    const char *rule)
{
    int          known;
    json_t      *rec;
    const char  *id;

    id = eg_rule_str(rc->rec, field);
    if (id == NULL) {
        return NULL;
    }

    rec = eg_rule_get(rc, entity, id, &known);
    if (rec == NULL) {
        eg_rule_report(rc, field, rule, EG_STD_ERROR,
                       eg_rule_actual(rc, field), eg_std_entity_name(entity),
                       "引用的记录在本批次"
                       "和已知记录中均不存在",
                       "the referenced record is neither in the feed nor "
                       "in the registry");
    }

    return rec;
}


/* R21a: a class that exists and is active */
static void
eg_ref_class(eg_rule_ctx_t *rc, const char *field)
{
    json_t  *cls;

    cls = eg_ref(rc, EG_STD_CLASS, field, "R21a");

    if (cls != NULL && !eg_rule_active(cls)) {
        eg_rule_report(rc, field, "R21a", EG_STD_ERROR,
                       eg_rule_actual(rc, field), "an active class",
                       "引用的班级已删除",
                       "the class is being deleted");
    }
}


/* R21d: a session of the given type (NULL: semester, term or period) */
static void
eg_ref_session(eg_rule_ctx_t *rc, const char *field, const char *type)
{
    json_t      *s;
    const char  *t;

    s = eg_ref(rc, EG_STD_SESSION, field, "R21d");
    if (s == NULL) {
        return;
    }

    t = eg_rule_str(s, "type");

    if (t == NULL
        || (type != NULL && strcmp(t, type) != 0)
        || (type == NULL && strcmp(t, "schoolYear") == 0))
    {
        eg_rule_report(rc, field, "R21d", EG_STD_ERROR, t,
                       type ? type : "semester, term or gradingPeriod",
                       "引用的学年学期类型不符",
                       "the session is of the wrong type");
    }
}


/* R21d: a class's terms exist, are terms, and share one school year */
static void
eg_ref_terms(eg_rule_ctx_t *rc)
{
    int          known;
    size_t       i;
    json_t      *ids, *id, *term;
    const char  *year, *y, *t;

    ids = eg_rule_list(rc->rec, "termIds");
    year = NULL;

    json_array_foreach(ids, i, id) {
        term = eg_rule_get(rc, EG_STD_SESSION, json_string_value(id), &known);

        if (term == NULL) {
            eg_rule_report(rc, "termIds", "R21d", EG_STD_ERROR,
                           json_string_value(id), "academicSession",
                           "班级的学期不存在",
                           "a term of the class is unknown");
            continue;
        }

        t = eg_rule_str(term, "type");
        if (t == NULL || (strcmp(t, "semester") != 0
                          && strcmp(t, "term") != 0))
        {
            eg_rule_report(rc, "termIds", "R21d", EG_STD_ERROR, t,
                           "semester or term", "班级的学期类型不符",
                           "a term of the class is not a semester or term");
            continue;
        }

        y = eg_rule_str(term, "schoolYear");
        if (year == NULL) {
            year = y;

        } else if (y == NULL || strcmp(year, y) != 0) {
            eg_rule_report(rc, "termIds", "R21d", EG_STD_ERROR, y, year,
                           "班级的学期不属于同一学年",
                           "the terms of the class span school years");
        }
    }
}


static void
eg_ref_enrollment(eg_rule_ctx_t *rc)
{
    int          teacher, head;
    json_t      *cls, *person;
    const char  *role, *kind;

    eg_ref_class(rc, "classId");

    cls = NULL;
    if (eg_rule_str(rc->rec, "classId") != NULL) {
        cls = eg_rule_get(rc, EG_STD_CLASS, eg_rule_str(rc->rec, "classId"),
                          &teacher);
    }

    if (cls != NULL && !eg_rule_same(cls, "schoolId", rc->rec, "schoolId")) {
        eg_rule_report(rc, "schoolId", "R21b", EG_STD_ERROR,
                       eg_rule_str(rc->rec, "schoolId"),
                       eg_rule_str(cls, "schoolId"),
                       "选课记录的学校与班级的学校不符",
                       "the enrollment's school is not the class's");
    }

    role = eg_rule_str(rc->rec, "role");
    if (role == NULL) {
        return;
    }

    teacher = strcmp(role, "student") != 0;
    kind = (cls != NULL) ? eg_rule_str(cls, "classKind") : NULL;
    head = teacher && strcmp(role, "teacher") == 0
           && eg_rule_bool(rc->rec, "primary")
           && kind != NULL && strcmp(kind, "homeroom") == 0;

    person = eg_ref(rc, teacher ? EG_STD_STAFF : EG_STD_STUDENT, "personId",
                    head ? "R21e" : "R21c");

    if (person != NULL
        && !eg_rule_same(person, "schoolId", rc->rec, "schoolId")
        && !(teacher && eg_rule_str(person, "orgId") != NULL
             && eg_rule_same(person, "orgId", rc->rec, "schoolId")))
    {
        eg_rule_report(rc, "personId", head ? "R21e" : "R21c",
                       EG_STD_ERROR, eg_rule_str(person, "schoolId"),
                       eg_rule_str(rc->rec, "schoolId"),
                       head ? "班主任不是本校教职工"
                            : "人员不在该校，或"
                              "角色与选课角色不符",
                       head ? "the head teacher is not staff of the school"
                            : "the person holds no compatible role at the "
                              "school");
    }
}


/* R21f */
static void
eg_ref_result(eg_rule_ctx_t *rc)
{
    int          ok, known;
    size_t       i;
    json_t      *li, *student, *course, *enrs, *e, *g;
    const char  *cid, *sid, *date, *st, *grade, *org;

    li = eg_ref(rc, EG_STD_LINE_ITEM, "lineItemId", "R21f");
    sid = eg_rule_str(rc->rec, "studentId");

    if (sid == NULL) {
        return;
    }

    student = eg_rule_get(rc, EG_STD_STUDENT, sid, &known);
    if (student == NULL) {
        eg_rule_report(rc, "studentId", "R21f", EG_STD_ERROR,
                       eg_rule_actual(rc, "studentId"), "a known student",
                       "学生在本批次和已知记录中"
                       "均不存在，未在该班级注册",
                       "the student is unknown and not enrolled");
        return;
    }

    if (li == NULL) {
        return;
    }

    date = eg_rule_str(rc->rec, "scoreDate");
    cid = eg_rule_str(li, "classId");
    ok = 0;

    if (cid != NULL) {
        enrs = eg_rule_find(rc, EG_STD_ENROLLMENT, "personId", sid);

        json_array_foreach(enrs, i, e) {
            if (eg_rule_same(e, "classId", li, "classId")
                && eg_rule_str(e, "role") != NULL
                && strcmp(eg_rule_str(e, "role"), "student") == 0
                && eg_rule_enrollment_on(e, date))
            {
                ok = 1;
            }
        }

        json_decref(enrs);

    } else {
        /* a course-wide exam: the school and grade of the course */
        course = eg_rule_get(rc, EG_STD_COURSE, eg_rule_str(li, "courseId"),
                             &known);
        st = eg_rule_str(student, "enrolmentStatus");
        grade = eg_rule_str(student, "gradeLevel");

        ok = eg_rule_active(student) && (st == NULL || strcmp(st, "01") == 0);

        if (ok && course != NULL) {
            org = eg_rule_str(course, "orgId");
            if (org != NULL && eg_rule_get(rc, EG_STD_SCHOOL, org, &known)
                && !eg_rule_same(student, "schoolId", course, "orgId"))
            {
                ok = 0;
            }

            if (json_array_size(eg_rule_list(course, "gradeLevels")) > 0) {
                int  in = 0;

                json_array_foreach(eg_rule_list(course, "gradeLevels"), i, g)
                {
                    if (grade && json_string_value(g)
                        && strcmp(grade, json_string_value(g)) == 0)
                    {
                        in = 1;
                    }
                }
                ok = ok && in;
            }
        }
    }

    if (!ok) {
        eg_rule_report(rc, "studentId", "R21f", EG_STD_ERROR,
                       eg_rule_actual(rc, "studentId"),
                       cid ? "enrolled in the line item's class"
                           : "enrolled at the course's school and grade",
                       "学生在考试日期未在该班级或年级注册",
                       "the student is not enrolled where the exam was "
                       "given on scoreDate");
    }
}


/* R21g */
void
eg_rules_dependents(eg_rule_ctx_t *rc)
{
    int          n;
    const char  *id;

    if (eg_rule_active(rc->rec)) {
        return;
    }

    id = eg_rule_str(rc->rec, "id");
    if (id == NULL) {
        return;
    }

    n = 0;

    switch (rc->entity) {

    case EG_STD_CLASS:
        n = eg_has_active(rc, EG_STD_ENROLLMENT, "classId", id);
        break;

    case EG_STD_STUDENT:
    case EG_STD_STAFF:
        n = eg_has_active(rc, EG_STD_ENROLLMENT, "personId", id);
        break;

    case EG_STD_LINE_ITEM:
        n = eg_has_active(rc, EG_STD_RESULT, "lineItemId", id);
        break;

    case EG_STD_ORG:
    case EG_STD_SCHOOL:
        n = eg_has_active(rc, EG_STD_ORG, "parentId", id)
            || eg_has_active(rc, EG_STD_SCHOOL, "parentId", id)
            || eg_has_active(rc, EG_STD_STUDENT, "schoolId", id);
        break;

    case EG_STD_COURSE:
        n = eg_has_active(rc, EG_STD_CLASS, "courseId", id);
        break;

    default:
        break;
    }

    if (n) {
        eg_rule_report(rc, "status", "R21g", EG_STD_WARNING, "tobedeleted",
                       NULL, "删除的记录仍有有效的从属记录",
                       "the deleted record still has active dependents");
    }
}


static int
eg_has_active(eg_rule_ctx_t *rc, eg_std_entity_e entity, const char *field,
    const char *id)
{
    int      found;
    size_t   i;
    json_t  *list, *rec;

    list = eg_rule_find(rc, entity, field, id);
    found = 0;

    json_array_foreach(list, i, rec) {
        if (eg_rule_active(rec)) {
            found = 1;
        }
    }

    json_decref(list);

    return found;
}
