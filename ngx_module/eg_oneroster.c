/*
 * Copyright (C) EduGate contributors
 *
 * The OneRoster 1.2 rendering of canonical records.  Each entity has a
 * table: canonical field, where it goes, how.  The targets follow the
 * "OneRoster" column of DATA-STANDARD.md section 2; fields without a
 * counterpart go under metadata.cn.<mnemonic> (the JY/T mnemonic in lower
 * case, as the OneRoster Japan Profile does with metadata.jp.*), and a
 * field no table names under metadata.cn.<its canonical name>, so that
 * nothing the standard carries is lost.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_oneroster.h"


typedef enum {
    EG_OR_COPY = 0,     /* the value as it is */
    EG_OR_REF,          /* id -> {href, sourcedId, type} */
    EG_OR_REFS,         /* list of ids -> list of references */
    EG_OR_LIST,         /* a single value -> a list of one */
    EG_OR_ORGTYPE,      /* org level -> orgs.type */
    EG_OR_NAME,         /* whole name -> familyName, givenName, cn.xm */
    EG_OR_YEAR,         /* "2024-2025" -> "2025" (the end year), cn.xn */
    EG_OR_USERID,       /* a number -> userIds[{type, identifier}] */
    EG_OR_ROLE,         /* school or org -> roles[], primaryOrg */
    EG_OR_ENABLED,      /* 学生当前状态 -> enabledUser, cn.xsdqztm */
    EG_OR_DROP          /* never rendered */
} eg_or_kind_e;


typedef struct {
    const char     *field;
    const char     *target;
    eg_or_kind_e    kind;
    const char     *arg;        /* REF: "<collection> <type>"; USERID: type */
} eg_or_map_t;


typedef struct {
    const char         *coll;
    const char         *key;
    const char         *role;   /* of users: the OneRoster role */
    const eg_or_map_t  *map;
} eg_or_entity_t;


static const eg_or_map_t  eg_or_common[] = {
    { "id", "sourcedId", EG_OR_COPY, NULL },
    { "status", "status", EG_OR_COPY, NULL },
    { "dateLastModified", "dateLastModified", EG_OR_COPY, NULL },
    { "source", "metadata.cn.src", EG_OR_COPY, NULL },
    { "ext", "metadata.cn.ext", EG_OR_COPY, NULL },
    { "idNumber", NULL, EG_OR_DROP, NULL },
    { NULL, NULL, 0, NULL }
};

static const eg_or_map_t  eg_or_orgs[] = {
    { "name", "name", EG_OR_COPY, NULL },
    { "level", "type", EG_OR_ORGTYPE, NULL },
    { "identifier", "identifier", EG_OR_COPY, NULL },
    { "schoolCode", "identifier", EG_OR_COPY, NULL },
    { "parentId", "parent", EG_OR_REF, "orgs org" },
    { "divisionCode", "metadata.cn.xzqhm", EG_OR_COPY, NULL },
    { "uscc", "metadata.cn.uscc", EG_OR_COPY, NULL },
    { "locationCode", "metadata.cn.xxzddyym", EG_OR_COPY, NULL },
    { "schoolType", "metadata.cn.xxbxlxm", EG_OR_COPY, NULL },
    { "sponsorCategory", "metadata.cn.xxbbm", EG_OR_COPY, NULL },
    { "sponsor", "metadata.cn.xxjbzm", EG_OR_COPY, NULL },
    { "urbanRural", "metadata.cn.szdcxlxm", EG_OR_COPY, NULL },
    { "stages", "metadata.cn.xd", EG_OR_COPY, NULL },
    { "address", "metadata.cn.xxdz", EG_OR_COPY, NULL },
    { "postcode", "metadata.cn.xxyzbm", EG_OR_COPY, NULL },
    { "phone", "metadata.cn.lxdh", EG_OR_COPY, NULL },
    { "foundedOn", "metadata.cn.jxny", EG_OR_COPY, NULL },
    { "principalName", "metadata.cn.xzxm", EG_OR_COPY, NULL },
    { NULL, NULL, 0, NULL }
};

static const eg_or_map_t  eg_or_sessions[] = {
    { "title", "title", EG_OR_COPY, NULL },
    { "type", "type", EG_OR_COPY, NULL },
    { "startDate", "startDate", EG_OR_COPY, NULL },
    { "endDate", "endDate", EG_OR_COPY, NULL },
    { "schoolYear", "schoolYear", EG_OR_YEAR, NULL },
    { "termCode", "metadata.cn.xqm", EG_OR_COPY, NULL },
    { "parentId", "parent", EG_OR_REF, "academicSessions academicSession" },
    { "orgId", "org", EG_OR_REF, "orgs org" },
    { NULL, NULL, 0, NULL }
};

static const eg_or_map_t  eg_or_courses[] = {
    { "title", "title", EG_OR_COPY, NULL },
    { "courseCode", "courseCode", EG_OR_COPY, NULL },
    { "subjectCode", "subjectCodes", EG_OR_LIST, NULL },
    { "courseLevel", "metadata.cn.kcdjm", EG_OR_COPY, NULL },
    { "gradeLevels", "grades", EG_OR_COPY, NULL },
    { "orgId", "org", EG_OR_REF, "orgs org" },
    { "schoolYearId", "schoolYear", EG_OR_REF,
      "academicSessions academicSession" },
    { NULL, NULL, 0, NULL }
};

static const eg_or_map_t  eg_or_classes[] = {
    { "title", "title", EG_OR_COPY, NULL },
    { "classKind", "classType", EG_OR_COPY, NULL },
    { "classNo", "classCode", EG_OR_COPY, NULL },
    { "schoolId", "school", EG_OR_REF, "orgs org" },
    { "courseId", "course", EG_OR_REF, "courses course" },
    { "termIds", "terms", EG_OR_REFS, "academicSessions academicSession" },
    { "gradeLevel", "grades", EG_OR_LIST, NULL },
    { "stage", "metadata.cn.xd", EG_OR_COPY, NULL },
    { "cohortYear", "metadata.cn.rxnf", EG_OR_COPY, NULL },
    { "classType", "metadata.cn.bjlxm", EG_OR_COPY, NULL },
    { "schoolingLength", "metadata.cn.xz", EG_OR_COPY, NULL },
    { "headTeacherId", "metadata.cn.bzr", EG_OR_REF, "users user" },
    { NULL, NULL, 0, NULL }
};

/* Person: what students and staff share */
#define EG_OR_PERSON                                                         \
    { "name", NULL, EG_OR_NAME, NULL },                                      \
    { "namePinyin", "metadata.cn.xmpy", EG_OR_COPY, NULL },                  \
    { "sex", "metadata.cn.xbm", EG_OR_COPY, NULL },                          \
    { "birthDate", "metadata.cn.csrq", EG_OR_COPY, NULL },                   \
    { "ethnicity", "metadata.cn.mzm", EG_OR_COPY, NULL },                    \
    { "nationality", "metadata.cn.gjdqm", EG_OR_COPY, NULL },                \
    { "idType", "metadata.cn.sfzjlxm", EG_OR_COPY, NULL },                   \
    { "idNumberHmac", "metadata.cn.sfzjhHmac", EG_OR_COPY, NULL },           \
    { "hkmtoCode", "metadata.cn.gatqwm", EG_OR_COPY, NULL },                 \
    { "birthplace", "metadata.cn.csdm", EG_OR_COPY, NULL },                  \
    { "politicalStatus", "metadata.cn.zzmmm", EG_OR_COPY, NULL },            \
    { "healthStatus", "metadata.cn.jkzkm", EG_OR_COPY, NULL },               \
    { "householdType", "metadata.cn.hkxzm", EG_OR_COPY, NULL },              \
    { "phone", "phone", EG_OR_COPY, NULL }

static const eg_or_map_t  eg_or_students[] = {
    EG_OR_PERSON,
    { "studentRegNo", "identifier", EG_OR_USERID, "XJH" },
    { "studentNo", NULL, EG_OR_USERID, "XH" },
    { "schoolId", NULL, EG_OR_ROLE, NULL },
    { "homeroomClassId", "metadata.cn.bj", EG_OR_REF, "classes class" },
    { "gradeLevel", "grades", EG_OR_LIST, NULL },
    { "entryDate", "metadata.cn.rxny", EG_OR_COPY, NULL },
    { "studentCategory", "metadata.cn.xslbm", EG_OR_COPY, NULL },
    { "enrolmentStatus", NULL, EG_OR_ENABLED, NULL },
    { NULL, NULL, 0, NULL }
};

static const eg_or_map_t  eg_or_staff[] = {
    EG_OR_PERSON,
    { "staffNo", NULL, EG_OR_USERID, "GH" },
    { "schoolId", NULL, EG_OR_ROLE, NULL },
    { "orgId", NULL, EG_OR_ROLE, NULL },
    { "role", NULL, EG_OR_DROP, NULL },
    { "staffCategory", "metadata.cn.jzglbm", EG_OR_COPY, NULL },
    { "post", "metadata.cn.gwzym", EG_OR_COPY, NULL },
    { "mainStage", "metadata.cn.zyrkxd", EG_OR_COPY, NULL },
    { "subjects", "metadata.cn.rkkm", EG_OR_COPY, NULL },
    { "education", "metadata.cn.xlm", EG_OR_COPY, NULL },
    { "establishment", "metadata.cn.bzlbm", EG_OR_COPY, NULL },
    { NULL, NULL, 0, NULL }
};

static const eg_or_map_t  eg_or_enrollments[] = {
    { "classId", "class", EG_OR_REF, "classes class" },
    { "schoolId", "school", EG_OR_REF, "orgs org" },
    { "personId", "user", EG_OR_REF, "users user" },
    { "role", "role", EG_OR_COPY, NULL },
    { "primary", "primary", EG_OR_COPY, NULL },
    { "beginDate", "beginDate", EG_OR_COPY, NULL },
    { "endDate", "endDate", EG_OR_COPY, NULL },
    { "changeType", "metadata.cn.xjydlbm", EG_OR_COPY, NULL },
    { NULL, NULL, 0, NULL }
};

static const eg_or_map_t  eg_or_line_items[] = {
    { "title", "title", EG_OR_COPY, NULL },
    { "classId", "class", EG_OR_REF, "classes class" },
    { "courseId", "metadata.cn.kc", EG_OR_REF, "courses course" },
    { "termId", "academicSession", EG_OR_REF,
      "academicSessions academicSession" },
    { "subjectCode", "metadata.cn.kcm", EG_OR_COPY, NULL },
    { "examCategory", "metadata.cn.kslbm", EG_OR_COPY, NULL },
    { "examMethod", "metadata.cn.ksfsm", EG_OR_COPY, NULL },
    { "assignDate", "assignDate", EG_OR_COPY, NULL },
    { "dueDate", "dueDate", EG_OR_COPY, NULL },
    { "resultValueMin", "resultValueMin", EG_OR_COPY, NULL },
    { "resultValueMax", "resultValueMax", EG_OR_COPY, NULL },
    { NULL, NULL, 0, NULL }
};

static const eg_or_map_t  eg_or_results[] = {
    { "lineItemId", "lineItem", EG_OR_REF, "lineItems lineItem" },
    { "studentId", "student", EG_OR_REF, "users user" },
    { "score", "score", EG_OR_COPY, NULL },
    { "textScore", "textScore", EG_OR_COPY, NULL },
    { "scoreStatus", "scoreStatus", EG_OR_COPY, NULL },
    { "scoreDate", "scoreDate", EG_OR_COPY, NULL },
    { "comment", "comment", EG_OR_COPY, NULL },
    { "examStatus", "metadata.cn.ksxzm", EG_OR_COPY, NULL },
    { NULL, NULL, 0, NULL }
};

static const eg_or_entity_t  eg_or_entities[] = {
    { "orgs", "orgs", NULL, eg_or_orgs },
    { "schools", "orgs", NULL, eg_or_orgs },
    { "academicSessions", "academicSessions", NULL, eg_or_sessions },
    { "courses", "courses", NULL, eg_or_courses },
    { "classes", "classes", NULL, eg_or_classes },
    { "students", "users", "student", eg_or_students },
    { "staff", "users", NULL, eg_or_staff },
    { "enrollments", "enrollments", NULL, eg_or_enrollments },
    { "schoolEnrollments", "schoolEnrollments", NULL, eg_or_enrollments },
    { "lineItems", "lineItems", NULL, eg_or_line_items },
    { "results", "results", NULL, eg_or_results },
    { NULL, NULL, NULL, NULL }
};

/* DATA-STANDARD 2.2, Org: level -> orgs.type */
static const char  *eg_or_org_types[][2] = {
    { "national", "national" },
    { "province", "state" },
    { "city", "ext:city" },
    { "district", "district" },
    { "school", "school" },
    { "campus", "ext:campus" },
    { "department", "department" },
    { NULL, NULL }
};

static const char  *eg_or_compound[] = {
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫",
    "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯",
    "长孙", "宇文", "轩辕", "端木", "南宫", "独孤",
    "西门", "申屠", NULL
};


static const eg_or_entity_t *eg_or_entity(const char *coll);
static const eg_or_map_t *eg_or_find(const eg_or_map_t *map,
    const char *field);
static int eg_or_apply(const eg_or_entity_t *ent, const eg_or_map_t *m,
    const char *field, json_t *out, json_t *rec, json_t *v);
static int eg_or_set(json_t *obj, const char *path, json_t *v);
static json_t *eg_or_ref(const char *arg, json_t *id);
static int eg_or_role(const eg_or_entity_t *ent, json_t *out, json_t *rec,
    json_t *id);
static size_t eg_or_utf8_len(const char *s);


const char *
eg_oneroster_key(const char *coll)
{
    const eg_or_entity_t  *ent;

    ent = eg_or_entity(coll);

    return ent ? ent->key : NULL;
}


json_t *
eg_oneroster_record(const char *coll, json_t *rec)
{
    json_t                *out, *v, *id;
    const char            *field, *status;
    const eg_or_map_t     *m;
    const eg_or_entity_t  *ent;

    ent = eg_or_entity(coll);
    if (ent == NULL || !json_is_object(rec)) {
        return NULL;
    }

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    /* OneRoster's header first, as its examples show it */
    id = json_object_get(rec, "id");
    status = json_string_value(json_object_get(rec, "status"));

    if ((id && eg_or_set(out, "sourcedId", json_incref(id)) != 0)
        || eg_or_set(out, "status", json_string(status ? status : "active"))
           != 0)
    {
        json_decref(out);
        return NULL;
    }

    json_object_foreach(rec, field, v) {
        if (json_is_null(v) || field[0] == '_' || strcmp(field, "id") == 0
            || strcmp(field, "status") == 0)
        {
            continue;
        }

        m = eg_or_find(eg_or_common, field);
        if (m == NULL) {
            m = eg_or_find(ent->map, field);
        }

        if (eg_or_apply(ent, m, field, out, rec, v) != 0) {
            json_decref(out);
            return NULL;
        }
    }

    return out;
}


static const eg_or_entity_t *
eg_or_entity(const char *coll)
{
    size_t  i;

    for (i = 0; coll && eg_or_entities[i].coll; i++) {
        if (strcmp(eg_or_entities[i].coll, coll) == 0) {
            return &eg_or_entities[i];
        }
    }

    return NULL;
}


static const eg_or_map_t *
eg_or_find(const eg_or_map_t *map, const char *field)
{
    size_t  i;

    for (i = 0; map[i].field; i++) {
        if (strcmp(map[i].field, field) == 0) {
            return &map[i];
        }
    }

    return NULL;
}


static int
eg_or_apply(const eg_or_entity_t *ent, const eg_or_map_t *m,
    const char *field, json_t *out, json_t *rec, json_t *v)
{
    int          rc;
    char         path[128], *family, *given;
    size_t       i;
    json_t      *list, *item;
    const char  *s;

    if (m == NULL) {
        /* a field no table names keeps its canonical name */
        snprintf(path, sizeof(path), "metadata.cn.%.100s", field);
        return eg_or_set(out, path, json_incref(v));
    }

    switch (m->kind) {

    case EG_OR_DROP:
        return 0;

    case EG_OR_REF:
        return eg_or_set(out, m->target, eg_or_ref(m->arg, v));

    case EG_OR_REFS:
        list = json_array();
        if (list == NULL) {
            return -1;
        }

        json_array_foreach(v, i, item) {
            if (json_array_append_new(list, eg_or_ref(m->arg, item)) != 0) {
                json_decref(list);
                return -1;
            }
        }

        return eg_or_set(out, m->target, list);

    case EG_OR_LIST:
        list = json_array();
        if (list == NULL || json_array_append(list, v) != 0) {
            json_decref(list);
            return -1;
        }

        return eg_or_set(out, m->target, list);

    case EG_OR_ORGTYPE:
        s = json_string_value(v);

        for (i = 0; s && eg_or_org_types[i][0]; i++) {
            if (strcmp(eg_or_org_types[i][0], s) == 0) {
                return eg_or_set(out, m->target,
                                 json_string(eg_or_org_types[i][1]));
            }
        }

        return eg_or_set(out, "metadata.cn.level", json_incref(v));

    case EG_OR_NAME:
        s = json_string_value(v);

        if (s == NULL || eg_oneroster_split_name(s, &family, &given) != 0) {
            return eg_or_set(out, "metadata.cn.xm", json_incref(v));
        }

        rc = eg_or_set(out, "familyName", json_string(family))
             || eg_or_set(out, "givenName", json_string(given))
             || eg_or_set(out, "metadata.cn.xm", json_incref(v));

        free(family);
        free(given);

        return rc ? -1 : 0;

    case EG_OR_YEAR:
        s = json_string_value(v);

        if (s && strlen(s) == 9 && s[4] == '-') {
            if (eg_or_set(out, m->target, json_string(s + 5)) != 0) {
                return -1;
            }
        }

        return eg_or_set(out, "metadata.cn.xn", json_incref(v));

    case EG_OR_USERID:
        list = json_object_get(out, "userIds");

        if (list == NULL) {
            list = json_array();
            if (json_object_set_new(out, "userIds", list) != 0) {
                return -1;
            }
        }

        if (json_array_append_new(list,
                                  json_pack("{s:s, s:O}", "type", m->arg,
                                            "identifier", v))
            != 0)
        {
            return -1;
        }

        return m->target ? eg_or_set(out, m->target, json_incref(v)) : 0;

    case EG_OR_ROLE:
        return eg_or_role(ent, out, rec, v);

    case EG_OR_ENABLED:
        s = json_string_value(v);

        return (eg_or_set(out, "enabledUser",
                          json_boolean(s && strcmp(s, "01") == 0))
                || eg_or_set(out, "metadata.cn.xsdqztm", json_incref(v)))
               ? -1 : 0;

    default:
        return eg_or_set(out, m->target, json_incref(v));
    }
}


/* "a.b.c": objects on the way are made; the reference to v is stolen */

static int
eg_or_set(json_t *obj, const char *path, json_t *v)
{
    char         key[64];
    size_t       n;
    json_t      *next;
    const char  *dot;

    if (v == NULL) {
        return -1;
    }

    while ((dot = strchr(path, '.')) != NULL) {
        n = (size_t) (dot - path);

        if (n >= sizeof(key)) {
            json_decref(v);
            return -1;
        }

        memcpy(key, path, n);
        key[n] = '\0';

        next = json_object_get(obj, key);

        if (next == NULL) {
            next = json_object();
            if (json_object_set_new(obj, key, next) != 0) {
                json_decref(v);
                return -1;
            }
        }

        obj = next;
        path = dot + 1;
    }

    return json_object_set_new(obj, path, v);
}


/* arg is "<collection> <type>" */

static json_t *
eg_or_ref(const char *arg, json_t *id)
{
    char         href[256];
    const char  *sp, *s;

    s = json_string_value(id);
    sp = strchr(arg, ' ');

    if (s == NULL || sp == NULL) {
        return NULL;
    }

    snprintf(href, sizeof(href), "%s%.*s/%s", EG_ONEROSTER_HREF,
             (int) (sp - arg), arg, s);

    return json_pack("{s:s, s:s, s:s}", "href", href, "sourcedId", s,
                     "type", sp + 1);
}


/* a user's organisation: roles[{roleType, role, org}] and primaryOrg */

static int
eg_or_role(const eg_or_entity_t *ent, json_t *out, json_t *rec, json_t *id)
{
    json_t      *roles, *org;
    const char  *role;

    role = ent->role ? ent->role
                     : json_string_value(json_object_get(rec, "role"));

    org = eg_or_ref("orgs org", id);
    if (org == NULL) {
        return -1;
    }

    roles = json_object_get(out, "roles");

    if (roles == NULL) {
        roles = json_array();
        if (json_object_set_new(out, "roles", roles) != 0) {
            json_decref(org);
            return -1;
        }
    }

    if (json_array_append_new(roles,
                              json_pack("{s:s, s:s, s:O}", "roleType",
                                        json_array_size(roles)
                                        ? "secondary" : "primary",
                                        "role", role ? role : "teacher",
                                        "org", org))
        != 0)
    {
        json_decref(org);
        return -1;
    }

    if (json_object_get(out, "primaryOrg") == NULL) {
        return json_object_set_new(out, "primaryOrg", org);
    }

    json_decref(org);

    return 0;
}


int
eg_oneroster_split_name(const char *name, char **family, char **given)
{
    size_t       n, i, cut;
    const char  *dot, *last;

    static const char  middot[] = "\xc2\xb7";

    *family = NULL;
    *given = NULL;

    n = strlen(name);

    if (n == 0) {
        return -1;
    }

    dot = strstr(name, middot);

    if (dot) {
        /* 阿依古丽·买买提: given name first, family name last */
        last = dot;

        while (strstr(last + 2, middot) != NULL) {
            last = strstr(last + 2, middot);
        }

        *given = strndup(name, (size_t) (dot - name));
        *family = strdup(last + 2);

    } else {
        cut = eg_or_utf8_len(name);

        for (i = 0; eg_or_compound[i]; i++) {
            if (strncmp(name, eg_or_compound[i], strlen(eg_or_compound[i]))
                == 0 && strlen(eg_or_compound[i]) < n)
            {
                cut = strlen(eg_or_compound[i]);
                break;
            }
        }

        if (cut >= n) {
            *family = strdup(name);
            *given = strdup("");

        } else {
            *family = strndup(name, cut);
            *given = strdup(name + cut);
        }
    }

    if (*family == NULL || *given == NULL) {
        free(*family);
        free(*given);
        *family = NULL;
        *given = NULL;
        return -1;
    }

    return 0;
}


/* the length of the first UTF-8 character */

static size_t
eg_or_utf8_len(const char *s)
{
    unsigned char  c = (unsigned char) s[0];

    if (c >= 0xf0) {
        return 4;
    }

    if (c >= 0xe0) {
        return 3;
    }

    if (c >= 0xc0) {
        return 2;
    }

    return 1;
}
