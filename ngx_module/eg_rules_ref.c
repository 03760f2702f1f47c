/*
 * Copyright (C) EduGate contributors
 *
 * References within the batch and to known records (R21a-R21g) and
 * uniqueness (R24).  References the catalogue does not name go with the
 * R21 letter of their relationship: classes and a class's course R21a,
 * schools and owning orgs R21b, persons R21c, sessions R21d, head
 * teachers R21e, line items, their course and results' students R21f.
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
static int eg_same(json_t *a, const char *fa, json_t *b, const char *fb);
static int eg_has_active(eg_rule_ctx_t *rc, eg_std_entity_e entity,
    const char *field, const char *id);
static void eg_unique_vendor_ids(eg_rule_ctx_t *rc);
static void eg_unique_students(eg_rule_ctx_t *rc);
static void eg_unique_homeroom(eg_rule_ctx_t *rc);
static int eg_transferred(eg_rule_ctx_t *rc, const char *person);
static int eg_share_term(json_t *a, json_t *b);


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
        if (staff != NULL && !eg_same(staff, "schoolId", rc->rec, "schoolId"))
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
        if (cls != NULL && !eg_same(cls, "schoolId", rc->rec, "schoolId")) {
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

    if (cls != NULL && !eg_same(cls, "schoolId", rc->rec, "schoolId")) {
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
        && !eg_same(person, "schoolId", rc->rec, "schoolId")
        && !(teacher && eg_rule_str(person, "orgId") != NULL
             && eg_same(person, "orgId", rc->rec, "schoolId")))
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
            if (eg_same(e, "classId", li, "classId")
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
                && !eg_same(student, "schoolId", course, "orgId"))
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
                    || !eg_same(o, "schoolId", rec, "schoolId"))
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
            if (o == e || eg_same(o, "classId", e, "classId")
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


static int
eg_same(json_t *a, const char *fa, json_t *b, const char *fb)
{
    const char  *x, *y;

    x = eg_rule_str(a, fa);
    y = eg_rule_str(b, fb);

    /* an absent side cannot disagree */
    return x == NULL || y == NULL || strcmp(x, y) == 0;
}
