/*
 * Copyright (C) EduGate contributors
 *
 * smartcampus: adapter of a campus SaaS with a JSON roster API.
 *
 * Identity.  Its application trusts three headers:
 *   X-SmartCampus-User  its own user id of the person
 *   X-SmartCampus-Ts    unix time of the request
 *   X-SmartCampus-Sign  hex HMAC-SHA256(secret, user "|" ts)
 * and refuses a bad or stale signature.
 *
 * Data.  Its roster (GET /api/v2/roster?orgId=&semester=) holds the
 * school, the semester, classes and students with the vendor's own field
 * names and codes; to_standard turns it into the records of one standard
 * entity: orgs, academicSessions, classes, students or enrollments.
 * References between records hold the vendor's ids (orgId, clsId, uid,
 * the semester string); the gateway maps them to unified ids, so a class
 * missing from this roster is for the gateway to look up, not for the
 * adapter to judge.
 *
 * Arguments: secret=<shared secret, 16+ characters> [tenant=<code>]
 */

#include <string.h>

#include <edugate_plugin.h>


#define SC_SECRET_MIN  16

/* who the gateway is to the roster API */
#define SC_SERVICE_USER  "edugate-gateway"


typedef struct {
    const char  *secret;
    size_t       secret_len;
    const char  *tenant;
} sc_state_t;


static int sc_init(const edugate_host_t *h, int argc,
    const char *const *argv, void **state, char *err, size_t errlen);
static int sc_describe(void *state, edugate_description_t *d);
static int sc_identity(const edugate_host_t *h, edugate_call_t *c,
    void *state, const edugate_identity_t *id);
static int sc_to_standard(const edugate_host_t *h, edugate_call_t *c,
    void *state, const char *entity, const edugate_node_t *roster);
static int sc_to_vendor(const edugate_host_t *h, edugate_call_t *c,
    void *state, const edugate_query_t *q);
static int sc_orgs(const edugate_host_t *h, edugate_call_t *c,
    sc_state_t *st, const edugate_node_t *roster);
static int sc_sessions(const edugate_host_t *h, edugate_call_t *c,
    sc_state_t *st, const edugate_node_t *roster);
static int sc_classes(const edugate_host_t *h, edugate_call_t *c,
    sc_state_t *st, const edugate_node_t *roster);
static int sc_students(const edugate_host_t *h, edugate_call_t *c,
    sc_state_t *st, const edugate_node_t *roster, int enrollments);
static edugate_record_t *sc_record(const edugate_host_t *h,
    edugate_call_t *c, sc_state_t *st, const char *entity,
    const char *local_id);
static const edugate_node_t *sc_class_of(const edugate_host_t *h,
    const edugate_node_t *roster, const char *cls_id);
static void sc_class_no(const edugate_host_t *h, edugate_call_t *c,
    edugate_record_t *r, const char *title);
static void sc_date(const edugate_host_t *h, edugate_call_t *c,
    edugate_record_t *r, const char *field, const char *v);
static void sc_name(const edugate_host_t *h, edugate_call_t *c,
    edugate_record_t *r, const char *v);
static const char *sc_stage_of(const char *grade);
static char *sc_cohort_grade(const edugate_host_t *h, edugate_call_t *c,
    const char *student_no, const char *semester);
static void sc_copy(char *dst, size_t size, const char *src);


static const char *const  sc_entities[] = {
    "orgs", "academicSessions", "classes", "students", "enrollments", NULL
};

static const char *const  sc_tables[] = {
    "sex", "nation", "id_type", "student_state", "grade", "term",
    "school_type", "stage", NULL
};

static const char *const  sc_headers[] = {
    "X-SmartCampus-User", "X-SmartCampus-Ts", "X-SmartCampus-Sign", NULL
};

static const edugate_plugin_t  sc_plugin = {
    EDUGATE_PLUGIN_HEADER,
    "smartcampus",
    "1.0.0",
    sc_init,
    NULL,
    sc_describe,
    sc_identity,
    sc_to_standard,
    sc_to_vendor
};


EDUGATE_EXPORT const edugate_plugin_t *
edugate_plugin_entry(void)
{
    return &sc_plugin;
}


static int
sc_init(const edugate_host_t *h, int argc, const char *const *argv,
    void **state, char *err, size_t errlen)
{
    const char  *secret;
    sc_state_t  *st;

    secret = h->arg(argc, argv, "secret");

    if (secret == NULL || strlen(secret) < SC_SECRET_MIN) {
        sc_copy(err, errlen, "needs secret=<the secret shared with the "
                "vendor, 16 or more characters>");
        return EDUGATE_BAD_CONFIG;
    }

    st = h->state_alloc(h, sizeof(sc_state_t));
    if (st == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    st->secret = secret;
    st->secret_len = strlen(secret);
    st->tenant = h->arg(argc, argv, "tenant");

    *state = st;

    return EDUGATE_OK;
}


static int
sc_describe(void *state, edugate_description_t *d)
{
    (void) state;

    d->summary = "smartcampus: signed header identity, JSON roster";
    d->payload = "json";
    d->entities = sc_entities;
    d->tables = sc_tables;
    d->identity_headers = sc_headers;

    return EDUGATE_OK;
}


static int
sc_identity(const edugate_host_t *h, edugate_call_t *c, void *state,
    const edugate_identity_t *id)
{
    sc_state_t     *st = state;
    char           *ts, *msg, *sign;
    unsigned char   mac[32];

    ts = h->sprintf(c, "%lld", (long long) id->now);
    msg = h->sprintf(c, "%s|%s", id->vendor_uid, ts ? ts : "");

    if (ts == NULL || msg == NULL
        || h->hmac_sha256(st->secret, st->secret_len, msg, strlen(msg), mac)
           != EDUGATE_OK
        || (sign = h->hex(c, mac, sizeof(mac))) == NULL)
    {
        return EDUGATE_NO_MEMORY;
    }

    if (h->set_header(c, "X-SmartCampus-User", id->vendor_uid) != EDUGATE_OK
        || h->set_header(c, "X-SmartCampus-Ts", ts) != EDUGATE_OK
        || h->set_header(c, "X-SmartCampus-Sign", sign) != EDUGATE_OK)
    {
        return EDUGATE_ERROR;
    }

    return EDUGATE_OK;
}


static int
sc_to_standard(const edugate_host_t *h, edugate_call_t *c, void *state,
    const char *entity, const edugate_node_t *roster)
{
    sc_state_t  *st = state;

    if (h->node_type(roster) != EDUGATE_NODE_OBJECT
        || h->node_get(roster, "school") == NULL)
    {
        h->error(c, "not a roster: no \"school\" object");
        return EDUGATE_BAD_INPUT;
    }

    if (strcmp(entity, "orgs") == 0) {
        return sc_orgs(h, c, st, roster);
    }

    if (strcmp(entity, "academicSessions") == 0) {
        return sc_sessions(h, c, st, roster);
    }

    if (strcmp(entity, "classes") == 0) {
        return sc_classes(h, c, st, roster);
    }

    if (strcmp(entity, "students") == 0) {
        return sc_students(h, c, st, roster, 0);
    }

    if (strcmp(entity, "enrollments") == 0) {
        return sc_students(h, c, st, roster, 1);
    }

    return EDUGATE_DECLINED;
}


static int
sc_orgs(const edugate_host_t *h, edugate_call_t *c, sc_state_t *st,
    const edugate_node_t *roster)
{
    const char            *kind, *stage;
    edugate_record_t      *r;
    const edugate_node_t  *school;

    school = h->node_get(roster, "school");

    r = sc_record(h, c, st, "orgs", h->node_text_at(school, "orgId"));
    if (r == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    kind = h->node_text_at(school, "schoolKind");

    h->record_set(r, "level", "school");
    h->record_set(r, "name", h->node_text_at(school, "orgName"));
    h->record_set(r, "schoolCode", h->node_text_at(school, "moeCode"));
    h->record_set(r, "divisionCode", h->node_text_at(school, "areaCode"));
    h->code_map(c, r, "schoolType", "school_type", kind);

    stage = h->code_map(c, NULL, NULL, "stage", kind);

    if (stage) {
        h->record_append(r, "stages", stage);
    }

    return EDUGATE_OK;
}


/* "2024-2025-1": school year 2024-2025, term 1 (autumn) */

static int
sc_sessions(const edugate_host_t *h, edugate_call_t *c, sc_state_t *st,
    const edugate_node_t *roster)
{
    char               year[10], term[2];
    const char        *sem;
    edugate_record_t  *r;

    sem = h->node_text_at(roster, "semester");

    r = sc_record(h, c, st, "academicSessions", sem);
    if (r == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    h->record_set(r, "type", "semester");
    h->record_set(r, "orgId",
                  h->node_text_at(roster, "school/orgId"));

    if (sem == NULL || strlen(sem) != 11 || sem[4] != '-' || sem[9] != '-'
        || strspn(sem, "0123456789") != 4)
    {
        h->record_set(r, "schoolYear", NULL);
        h->record_set(r, "title", NULL);
        h->report(c, r, "R22a", EDUGATE_SEV_ERROR, "schoolYear", sem,
                  "semester is not YYYY-YYYY-n");
        return EDUGATE_OK;
    }

    memcpy(year, sem, 9);
    year[9] = '\0';
    term[0] = sem[10];
    term[1] = '\0';

    h->record_set(r, "schoolYear", year);
    h->record_set(r, "title", h->sprintf(c, "%s学年第%s学期", year,
                                         term[0] == '1' ? "一" : "二"));
    h->code_map(c, r, "termCode", "term", term);

    return EDUGATE_OK;
}


static int
sc_classes(const edugate_host_t *h, edugate_call_t *c, sc_state_t *st,
    const edugate_node_t *roster)
{
    size_t                 i, n;
    const char            *grade, *title, *sem, *school;
    edugate_record_t      *r;
    const edugate_node_t  *list, *k;

    sem = h->node_text_at(roster, "semester");
    school = h->node_text_at(roster, "school/orgId");
    list = h->node_get(roster, "classes");
    n = h->node_count(list);

    for (i = 0; i < n; i++) {
        k = h->node_child(list, i);

        r = sc_record(h, c, st, "classes", h->node_text_at(k, "clsId"));
        if (r == NULL) {
            return EDUGATE_NO_MEMORY;
        }

        title = h->node_text_at(k, "clsName");

        h->record_set(r, "classKind", "homeroom");
        h->record_set(r, "title", title);
        h->record_set(r, "schoolId", school);
        sc_class_no(h, c, r, title);

        grade = h->code_map(c, r, "gradeLevel", "grade",
                            h->node_text_at(k, "gradeName"));
        h->record_set(r, "stage", sc_stage_of(grade));
        h->record_set(r, "cohortYear", h->node_text_at(k, "enterYear"));
        h->record_set(r, "headTeacherId",
                      h->node_text_at(k, "masterTeacherNo"));

        if (sem) {
            h->record_append(r, "termIds", sem);
        }
    }

    return EDUGATE_OK;
}


static int
sc_students(const edugate_host_t *h, edugate_call_t *c, sc_state_t *st,
    const edugate_node_t *roster, int enrollments)
{
    char                  *grade;
    size_t                 i, n;
    const char            *uid, *cls, *id_type, *school, *sem, *no;
    edugate_record_t      *r;
    const edugate_node_t  *list, *s, *k;

    list = h->node_get(roster, "students");
    school = h->node_text_at(roster, "school/orgId");
    sem = h->node_text_at(roster, "semester");

    if (list && h->node_type(list) != EDUGATE_NODE_ARRAY) {
        h->error(c, "\"students\" is not a list");
        return EDUGATE_BAD_INPUT;
    }

    n = h->node_count(list);

    for (i = 0; i < n; i++) {
        s = h->node_child(list, i);
        uid = h->node_text_at(s, "uid");
        cls = h->node_text_at(s, "clsId");

        if (enrollments) {
            r = sc_record(h, c, st, "enrollments",
                          h->sprintf(c, "%s|%s", cls ? cls : "",
                                     uid ? uid : ""));
            if (r == NULL) {
                return EDUGATE_NO_MEMORY;
            }

            h->record_set(r, "role", "student");
            h->record_set(r, "classId", cls);
            h->record_set(r, "schoolId", school);
            h->record_set(r, "personId", uid);
            continue;
        }

        r = sc_record(h, c, st, "students", uid);
        if (r == NULL) {
            return EDUGATE_NO_MEMORY;
        }

        no = h->node_text_at(s, "stuNo");

        sc_name(h, c, r, h->node_text_at(s, "realName"));
        h->code_map(c, r, "sex", "sex", h->node_text_at(s, "sex"));
        sc_date(h, c, r, "birthDate", h->node_text_at(s, "birthday"));
        h->code_map(c, r, "ethnicity", "nation",
                    h->node_text_at(s, "nation"));

        id_type = h->code_map(c, r, "idType", "id_type",
                              h->node_text_at(s, "idType"));

        /* a resident identity card is held by Chinese nationals */
        if (id_type && strcmp(id_type, "1") == 0) {
            h->record_set(r, "nationality", "CHN");
        }

        h->record_set(r, "idNumber", h->node_text_at(s, "idCard"));
        h->record_set(r, "studentRegNo", h->node_text_at(s, "xjh"));
        h->record_set(r, "studentNo", no);
        h->record_set(r, "schoolId", school);
        h->record_set(r, "homeroomClassId", cls);
        h->code_map(c, r, "enrolmentStatus", "student_state",
                    h->node_text_at(s, "state"));

        k = sc_class_of(h, roster, cls);

        if (k) {
            h->code_map(c, r, "gradeLevel", "grade",
                        h->node_text_at(k, "gradeName"));
            continue;
        }

        /*
         * Without the class, the grade follows from the entry year that
         * the vendor's student numbers begin with.
         */

        grade = sc_cohort_grade(h, c, no, sem);
        h->record_set(r, "gradeLevel", grade);

        if (grade == NULL) {
            h->report(c, r, "R21a", EDUGATE_SEV_ERROR, "gradeLevel", NULL,
                      "no grade: the class is not in the roster and the "
                      "student number has no entry year");
        }
    }

    return EDUGATE_OK;
}


static edugate_record_t *
sc_record(const edugate_host_t *h, edugate_call_t *c, sc_state_t *st,
    const char *entity, const char *local_id)
{
    edugate_record_t  *r;

    r = h->record_new(c, entity);
    if (r == NULL) {
        return NULL;
    }

    h->record_set(r, "source.vendorLocalId", local_id);

    if (st->tenant) {
        h->record_set(r, "source.tenant", st->tenant);
    }

    return r;
}


static const edugate_node_t *
sc_class_of(const edugate_host_t *h, const edugate_node_t *roster,
    const char *cls_id)
{
    size_t                 i, n;
    const char            *v;
    const edugate_node_t  *list, *k;

    list = h->node_get(roster, "classes");
    n = h->node_count(list);

    for (i = 0; cls_id && i < n; i++) {
        k = h->node_child(list, i);
        v = h->node_text_at(k, "clsId");

        if (v && strcmp(v, cls_id) == 0) {
            return k;
        }
    }

    return NULL;
}


/* "三年级(2)班" or "三年级（12）班" -> "02", "12" */

static void
sc_class_no(const edugate_host_t *h, edugate_call_t *c, edugate_record_t *r,
    const char *title)
{
    char         no[3];
    size_t       n;
    const char  *p, *digits;

    digits = NULL;

    if (title && (p = strchr(title, '(')) != NULL) {
        digits = p + 1;

    } else if (title && (p = strstr(title, "\xef\xbc\x88")) != NULL) {
        digits = p + 3;                         /* full-width ( */
    }

    n = digits ? strspn(digits, "0123456789") : 0;

    if (n == 0 || n > 2) {
        h->record_set(r, "classNo", NULL);
        h->report(c, r, "R19", EDUGATE_SEV_ERROR, "classNo", title,
                  "no class number in the class name");
        return;
    }

    no[0] = (n == 1) ? '0' : digits[0];
    no[1] = digits[n - 1];
    no[2] = '\0';

    h->record_set(r, "classNo", no);
}


/* "2016/05/12" and "2016-05-12" -> "2016-05-12" */

static void
sc_date(const edugate_host_t *h, edugate_call_t *c, edugate_record_t *r,
    const char *field, const char *v)
{
    char  d[11];

    if (v && strlen(v) == 10 && (v[4] == '/' || v[4] == '-')
        && v[7] == v[4] && strspn(v, "0123456789") == 4
        && strspn(v + 5, "0123456789") == 2
        && strspn(v + 8, "0123456789") == 2)
    {
        memcpy(d, v, 10);
        d[4] = '-';
        d[7] = '-';
        d[10] = '\0';
        h->record_set(r, field, d);
        return;
    }

    h->record_set(r, field, NULL);
    h->report(c, r, "R22a", EDUGATE_SEV_ERROR, field, v,
              "not a date the vendor writes (YYYY/MM/DD or YYYY-MM-DD)");
}


/*
 * Names of minorities join their parts with U+00B7; the vendor's app also
 * lets people type "." or U+2022, which the standard normalises (R26).
 */

static void
sc_name(const edugate_host_t *h, edugate_call_t *c, edugate_record_t *r,
    const char *v)
{
    char        *name, *p;
    size_t       len;
    const char  *s;
    int          changed;

    if (v == NULL) {
        h->record_set(r, "name", NULL);
        return;
    }

    len = strlen(v);

    name = h->alloc(c, 2 * len + 1);
    if (name == NULL) {
        return;
    }

    changed = 0;

    for (s = v, p = name; *s; ) {
        if (*s == '.') {
            *p++ = '\xc2';
            *p++ = '\xb7';
            s++;
            changed = 1;

        } else if (strncmp(s, "\xe2\x80\xa2", 3) == 0) {
            *p++ = '\xc2';
            *p++ = '\xb7';
            s += 3;
            changed = 1;

        } else {
            *p++ = *s++;
        }
    }

    *p = '\0';

    h->record_set(r, "name", name);

    if (changed) {
        h->report(c, r, "R26", EDUGATE_SEV_INFO, "name", v,
                  "separator normalised to U+00B7");
    }
}


/* the stage (RKXD) of a grade in a 6-3-3 region */

static const char *
sc_stage_of(const char *grade)
{
    if (grade == NULL || strlen(grade) != 2) {
        return NULL;
    }

    if (strcmp(grade, "06") <= 0) {
        return "2";
    }

    return strcmp(grade, "09") <= 0 ? "3" : "4";
}


/* entry year 2022 in school year 2024-2025: grade "03" */

static char *
sc_cohort_grade(const edugate_host_t *h, edugate_call_t *c,
    const char *student_no, const char *semester)
{
    long  entry, year, grade;

    if (student_no == NULL || semester == NULL
        || strspn(student_no, "0123456789") < 4
        || strspn(semester, "0123456789") != 4)
    {
        return NULL;
    }

    entry = (student_no[0] - '0') * 1000 + (student_no[1] - '0') * 100
            + (student_no[2] - '0') * 10 + (student_no[3] - '0');
    year = (semester[0] - '0') * 1000 + (semester[1] - '0') * 100
           + (semester[2] - '0') * 10 + (semester[3] - '0');

    grade = year - entry + 1;

    if (grade < 1 || grade > 12) {
        return NULL;
    }

    return h->sprintf(c, "%02ld", grade);
}


/*
 * The roster API: by the vendor's orgId or by the school's 学校标识码
 * (moeCode), optionally one semester.  It trusts the signature the
 * application does, made for the gateway's own service account.
 */

static int
sc_to_vendor(const edugate_host_t *h, edugate_call_t *c, void *state,
    const edugate_query_t *q)
{
    sc_state_t     *st = state;
    char           *ts, *msg, *sign;
    const char     *org, *school, *sem;
    unsigned char   mac[32];

    org = h->param(q, "orgId");
    school = h->param(q, "school");
    sem = h->param(q, "semester");

    if (org == NULL && school == NULL) {
        h->error(c, "the roster API needs the school: school=<学校标识码> "
                 "or orgId=<the vendor's id>");
        return EDUGATE_BAD_INPUT;
    }

    ts = h->sprintf(c, "%lld", (long long) q->now);
    msg = h->sprintf(c, "%s|%s", SC_SERVICE_USER, ts ? ts : "");

    if (ts == NULL || msg == NULL
        || h->hmac_sha256(st->secret, st->secret_len, msg, strlen(msg), mac)
           != EDUGATE_OK
        || (sign = h->hex(c, mac, sizeof(mac))) == NULL)
    {
        return EDUGATE_NO_MEMORY;
    }

    if (h->set_path(c, "GET", "/api/v2/roster") != EDUGATE_OK
        || (org && h->set_arg(c, "orgId", org) != EDUGATE_OK)
        || (school && h->set_arg(c, "moeCode", school) != EDUGATE_OK)
        || (sem && h->set_arg(c, "semester", sem) != EDUGATE_OK)
        || h->set_header(c, "X-SmartCampus-User", SC_SERVICE_USER)
           != EDUGATE_OK
        || h->set_header(c, "X-SmartCampus-Ts", ts) != EDUGATE_OK
        || h->set_header(c, "X-SmartCampus-Sign", sign) != EDUGATE_OK)
    {
        return EDUGATE_ERROR;
    }

    return EDUGATE_OK;
}


static void
sc_copy(char *dst, size_t size, const char *src)
{
    size_t  n;

    if (size == 0) {
        return;
    }

    n = strlen(src);
    n = n < size - 1 ? n : size - 1;

    memcpy(dst, src, n);
    dst[n] = '\0';
}
