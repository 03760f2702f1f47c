/*
 * Copyright (C) EduGate contributors
 *
 * yuejuan: adapter of an exam-marking system.
 *
 * Identity.  Its application takes a short-lived HS256 JWT, signed with
 * the vendor's secret, in the query argument yj_token, with the vendor's
 * user id as "sub".  The plugin builds the token itself from the host's
 * HMAC-SHA256 and base64url: plugins link no JWT library.
 *
 * Data.  Its score export is XML declared encoding="GBK" (the host
 * transcodes it):
 *   <ScoreExport xmlns="http://www.example-yuejuan.cn/export/v3">
 *     <Exam examId= examName= examType="QM|QZ" examDate="YYYYMMDD"
 *           termName="2024年秋季"/>
 *     <Unit unitCode="<school code>" unitName=/>
 *     <Paper subjectCode="YW|SX|YY" subjectName= fullScore= passScore=/>
 *     <Records><R><KH/><XM/><XJH/><BJ>3.2</BJ><DF>92.5</DF><ZT>0</ZT></R>
 *   </Records></ScoreExport>
 * (ZT 0 scored, 1 absent, 3 exempt; BJ "3.2" is grade 3, class 2).  One
 * export becomes one lineItem and its results.  The export names no
 * course: the line item carries the school code and the grade of the
 * paper, and each result the grade and class of the student, which the
 * gateway turns into the grade's course and checks enrollments against.
 *
 * Arguments: secret=<vendor key, 16+ characters> [ttl=<seconds, 60>]
 *            [iss=<issuer, "edugate">]
 */

#include <string.h>

#include <edugate_plugin.h>


#define YJ_SECRET_MIN  16
#define YJ_TTL_MAX     300
#define YJ_NS_SUFFIX   "/export/v3"

/* who the gateway is to the export API */
#define YJ_SERVICE_USER  "edugate-gateway"


typedef struct {
    const char  *secret;
    size_t       secret_len;
    const char  *iss;
    long         ttl;
} yj_state_t;

typedef struct {
    const char  *exam_id;
    const char  *subject;
    const char  *date;          /* YYYY-MM-DD or NULL */
} yj_exam_t;


static int yj_init(const edugate_host_t *h, int argc,
    const char *const *argv, void **state, char *err, size_t errlen);
static int yj_describe(void *state, edugate_description_t *d);
static int yj_identity(const edugate_host_t *h, edugate_call_t *c,
    void *state, const edugate_identity_t *id);
static char *yj_token(const edugate_host_t *h, edugate_call_t *c,
    yj_state_t *st, const char *subject, int64_t now);
static char *yj_b64(const edugate_host_t *h, edugate_call_t *c,
    const char *s);
static char *yj_json_string(const edugate_host_t *h, edugate_call_t *c,
    const char *s);
static int yj_to_standard(const edugate_host_t *h, edugate_call_t *c,
    void *state, const char *entity, const edugate_node_t *doc);
static int yj_line_item(const edugate_host_t *h, edugate_call_t *c,
    const edugate_node_t *doc, yj_exam_t *exam);
static int yj_results(const edugate_host_t *h, edugate_call_t *c,
    const edugate_node_t *doc, yj_exam_t *exam);
static void yj_term(const edugate_host_t *h, edugate_call_t *c,
    edugate_record_t *r, const char *term);
static void yj_class(const edugate_host_t *h, edugate_call_t *c,
    edugate_record_t *r, const char *bj);
static const char *yj_paper_grade(const edugate_host_t *h,
    edugate_call_t *c, const edugate_node_t *doc);
static void yj_number(const edugate_host_t *h, edugate_call_t *c,
    edugate_record_t *r, const char *field, const char *v);
static int yj_to_vendor(const edugate_host_t *h, edugate_call_t *c,
    void *state, const edugate_query_t *q);
static void yj_copy(char *dst, size_t size, const char *src);


static const char *const  yj_entities[] = { "lineItems", "results", NULL };

static const char *const  yj_tables[] = {
    "subject", "exam_type", "score_status", "exam_status", "term_season",
    NULL
};

static const char *const  yj_args[] = { "yj_token", NULL };

static const edugate_plugin_t  yj_plugin = {
    EDUGATE_PLUGIN_HEADER,
    "yuejuan",
    "1.0.0",
    yj_init,
    NULL,
    yj_describe,
    yj_identity,
    yj_to_standard,
    yj_to_vendor
};


EDUGATE_EXPORT const edugate_plugin_t *
edugate_plugin_entry(void)
{
    return &yj_plugin;
}


static int
yj_init(const edugate_host_t *h, int argc, const char *const *argv,
    void **state, char *err, size_t errlen)
{
    long         ttl;
    const char  *secret, *v;
    yj_state_t  *st;

    secret = h->arg(argc, argv, "secret");

    if (secret == NULL || strlen(secret) < YJ_SECRET_MIN) {
        yj_copy(err, errlen, "needs secret=<the vendor's token key, 16 or "
                "more characters>");
        return EDUGATE_BAD_CONFIG;
    }

    ttl = 60;
    v = h->arg(argc, argv, "ttl");

    if (v) {
        for (ttl = 0; *v >= '0' && *v <= '9' && ttl <= YJ_TTL_MAX; v++) {
            ttl = ttl * 10 + (*v - '0');
        }

        if (*v != '\0' || ttl < 1 || ttl > YJ_TTL_MAX) {
            yj_copy(err, errlen, "ttl= must be 1 to 300 seconds");
            return EDUGATE_BAD_CONFIG;
        }
    }

    st = h->state_alloc(h, sizeof(yj_state_t));
    if (st == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    st->secret = secret;
    st->secret_len = strlen(secret);
    st->ttl = ttl;
    st->iss = h->arg(argc, argv, "iss");

    if (st->iss == NULL) {
        st->iss = "edugate";
    }

    *state = st;

    return EDUGATE_OK;
}


static int
yj_describe(void *state, edugate_description_t *d)
{
    (void) state;

    d->summary = "yuejuan: HS256 token in yj_token, GBK XML score export";
    d->payload = "xml";
    d->entities = yj_entities;
    d->tables = yj_tables;
    d->identity_args = yj_args;

    return EDUGATE_OK;
}


static int
yj_identity(const edugate_host_t *h, edugate_call_t *c, void *state,
    const edugate_identity_t *id)
{
    char  *jwt;

    jwt = yj_token(h, c, state, id->vendor_uid, id->now);

    if (jwt == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    return h->set_arg(c, "yj_token", jwt) == EDUGATE_OK ? EDUGATE_OK
                                                         : EDUGATE_ERROR;
}


/* the HS256 token the vendor trusts, for sub, valid ttl seconds */

static char *
yj_token(const edugate_host_t *h, edugate_call_t *c, yj_state_t *st,
    const char *subject, int64_t now)
{
    char           *head, *body, *input, *sig, *sub, *iss;
    unsigned char   mac[32];

    sub = yj_json_string(h, c, subject);
    iss = yj_json_string(h, c, st->iss);

    if (sub == NULL || iss == NULL) {
        return NULL;
    }

    head = yj_b64(h, c, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    body = yj_b64(h, c, h->sprintf(c, "{\"sub\":%s,\"iss\":%s,\"iat\":%lld,"
                                   "\"exp\":%lld}", sub, iss,
                                   (long long) now,
                                   (long long) (now + st->ttl)));
    input = h->sprintf(c, "%s.%s", head ? head : "", body ? body : "");

    if (head == NULL || body == NULL || input == NULL
        || h->hmac_sha256(st->secret, st->secret_len, input, strlen(input),
                          mac)
           != EDUGATE_OK)
    {
        return NULL;
    }

    sig = h->base64(c, mac, sizeof(mac), EDUGATE_B64_URL | EDUGATE_B64_NOPAD);

    return sig ? h->sprintf(c, "%s.%s", input, sig) : NULL;
}


static char *
yj_b64(const edugate_host_t *h, edugate_call_t *c, const char *s)
{
    if (s == NULL) {
        return NULL;
    }

    return h->base64(c, s, strlen(s), EDUGATE_B64_URL | EDUGATE_B64_NOPAD);
}


/* a JSON string literal; the host hands over no control characters */

static char *
yj_json_string(const edugate_host_t *h, edugate_call_t *c, const char *s)
{
    char    *out, *p;
    size_t   n;

    n = strlen(s);

    out = h->alloc(c, 2 * n + 3);
    if (out == NULL) {
        return NULL;
    }

    p = out;
    *p++ = '"';

    for ( /* void */ ; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *p++ = '\\';
        }

        *p++ = *s;
    }

    *p++ = '"';
    *p = '\0';

    return out;
}


static int
yj_to_standard(const edugate_host_t *h, edugate_call_t *c, void *state,
    const char *entity, const edugate_node_t *doc)
{
    size_t       n;
    const char  *ns, *d;
    yj_exam_t    exam;

    (void) state;

    if (h->node_type(doc) != EDUGATE_NODE_ELEMENT
        || strcmp(h->node_name(doc), "ScoreExport") != 0)
    {
        h->error(c, "not a ScoreExport document");
        return EDUGATE_BAD_INPUT;
    }

    /* another version of the export may mean other fields */
    ns = h->node_ns(doc);
    n = strlen(ns);

    if (n < sizeof(YJ_NS_SUFFIX) - 1
        || strcmp(ns + n - (sizeof(YJ_NS_SUFFIX) - 1), YJ_NS_SUFFIX) != 0)
    {
        h->error(c, "export namespace \"%.80s\" is not version 3", ns);
        return EDUGATE_BAD_INPUT;
    }

    exam.exam_id = h->node_text_at(doc, "Exam/@examId");
    exam.subject = h->node_text_at(doc, "Paper/@subjectCode");

    if (exam.exam_id == NULL || exam.subject == NULL) {
        h->error(c, "the export names no exam or no paper");
        return EDUGATE_BAD_INPUT;
    }

    /* YYYYMMDD -> YYYY-MM-DD */
    d = h->node_text_at(doc, "Exam/@examDate");
    n = d ? strlen(d) : 0;

    exam.date = (n == 8 && strspn(d, "0123456789") == 8)
                ? h->sprintf(c, "%.4s-%.2s-%.2s", d, d + 4, d + 6) : NULL;

    if (strcmp(entity, "lineItems") == 0) {
        return yj_line_item(h, c, doc, &exam);
    }

    if (strcmp(entity, "results") == 0) {
        return yj_results(h, c, doc, &exam);
    }

    return EDUGATE_DECLINED;
}


static int
yj_line_item(const edugate_host_t *h, edugate_call_t *c,
    const edugate_node_t *doc, yj_exam_t *exam)
{
    const char        *name, *subject;
    edugate_record_t  *r;

    r = h->record_new(c, "lineItems");
    if (r == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    name = h->node_text_at(doc, "Exam/@examName");
    subject = h->node_text_at(doc, "Paper/@subjectName");

    h->record_set(r, "source.vendorLocalId",
                  h->sprintf(c, "%s|%s", exam->exam_id, exam->subject));
    h->record_set(r, "title", (name && subject)
                              ? h->sprintf(c, "%s（%s）", name, subject)
                              : name);
    h->code_map(c, r, "subjectCode", "subject", exam->subject);
    h->code_map(c, r, "examCategory", "exam_type",
                h->node_text_at(doc, "Exam/@examType"));
    h->record_set(r, "schoolCode", h->node_text_at(doc, "Unit/@unitCode"));
    h->record_set(r, "gradeLevel", yj_paper_grade(h, c, doc));
    h->record_set(r, "assignDate", exam->date);

    if (exam->date == NULL) {
        h->report(c, r, "R22a", EDUGATE_SEV_ERROR, "assignDate",
                  h->node_text_at(doc, "Exam/@examDate"),
                  "examDate is not YYYYMMDD");
    }

    yj_term(h, c, r, h->node_text_at(doc, "Exam/@termName"));

    h->record_set_number(r, "resultValueMin", "0");
    yj_number(h, c, r, "resultValueMax",
              h->node_text_at(doc, "Paper/@fullScore"));

    return EDUGATE_OK;
}


static int
yj_results(const edugate_host_t *h, edugate_call_t *c,
    const edugate_node_t *doc, yj_exam_t *exam)
{
    size_t                 i, n;
    const char            *df;
    edugate_record_t      *r;
    const edugate_node_t  *recs, *x;

    recs = h->node_get(doc, "Records");
    n = h->node_count(recs);

    for (i = 0; i < n; i++) {
        x = h->node_child(recs, i);

        if (strcmp(h->node_name(x), "R") != 0) {
            continue;
        }

        r = h->record_new(c, "results");
        if (r == NULL) {
            return EDUGATE_NO_MEMORY;
        }

        h->record_set(r, "source.vendorLocalId", h->node_text_at(x, "KH"));
        h->record_set(r, "lineItemId",
                      h->sprintf(c, "%s|%s", exam->exam_id, exam->subject));
        h->record_set(r, "studentId", h->node_text_at(x, "XJH"));
        h->record_set(r, "studentName", h->node_text_at(x, "XM"));
        h->code_map(c, r, "scoreStatus", "score_status",
                    h->node_text_at(x, "ZT"));
        h->code_map(c, r, "examStatus", "exam_status",
                    h->node_text_at(x, "ZT"));

        df = h->node_text_at(x, "DF");

        if (df == NULL || df[0] == '\0') {
            h->record_set(r, "score", NULL);

        } else {
            yj_number(h, c, r, "score", df);
        }

        h->record_set(r, "scoreDate", exam->date);

        if (exam->date == NULL) {
            h->report(c, r, "R22a", EDUGATE_SEV_ERROR, "scoreDate", NULL,
                      "examDate is not YYYYMMDD");
        }

        yj_class(h, c, r, h->node_text_at(x, "BJ"));
    }

    return EDUGATE_OK;
}


/* "2024年秋季": 2024-2025 term 1; "2025年春季": 2024-2025 term 2 */

static void
yj_term(const edugate_host_t *h, edugate_call_t *c, edugate_record_t *r,
    const char *term)
{
    long         y;
    const char  *code;

    if (term == NULL || strlen(term) != 13 || strspn(term, "0123456789") != 4
        || strncmp(term + 4, "年", 3) != 0)
    {
        h->record_set(r, "termId", NULL);
        h->report(c, r, "R22a", EDUGATE_SEV_WARN, "termId", term,
                  "termName is not YYYY年秋季 or YYYY年春季");
        return;
    }

    code = h->code_map(c, NULL, NULL, "term_season", term + 7);

    if (code == NULL) {
        h->record_set(r, "termId", NULL);
        return;
    }

    y = (term[0] - '0') * 1000 + (term[1] - '0') * 100 + (term[2] - '0') * 10
        + (term[3] - '0');

    if (strcmp(code, "2") == 0) {
        y--;
    }

    h->record_set(r, "termId", h->sprintf(c, "%ld-%ld-%s", y, y + 1, code));
}


/* the grade all records of the paper share, or NULL */

static const char *
yj_paper_grade(const edugate_host_t *h, edugate_call_t *c,
    const edugate_node_t *doc)
{
    size_t                 i, n, g;
    const char            *bj, *grade;
    const edugate_node_t  *recs;

    recs = h->node_get(doc, "Records");
    n = h->node_count(recs);
    grade = NULL;

    for (i = 0; i < n; i++) {
        if (strcmp(h->node_name(h->node_child(recs, i)), "R") != 0) {
            continue;
        }

        bj = h->node_text_at(h->node_child(recs, i), "BJ");
        g = bj ? strspn(bj, "0123456789") : 0;

        if (g == 0 || g > 2 || bj[g] != '.') {
            return NULL;
        }

        bj = h->sprintf(c, "%s%.*s", g == 1 ? "0" : "", (int) g, bj);

        if (bj == NULL || (grade && strcmp(grade, bj) != 0)) {
            return NULL;
        }

        grade = bj;
    }

    return grade;
}


/* "3.2": grade 3, class 2 */

static void
yj_class(const edugate_host_t *h, edugate_call_t *c, edugate_record_t *r,
    const char *bj)
{
    size_t       g, k;
    const char  *dot;

    dot = bj ? strchr(bj, '.') : NULL;
    g = dot ? strspn(bj, "0123456789") : 0;
    k = dot ? strspn(dot + 1, "0123456789") : 0;

    if (g == 0 || g > 2 || (size_t) (dot - bj) != g || k == 0 || k > 2
        || dot[1 + k] != '\0')
    {
        h->report(c, r, "R19", EDUGATE_SEV_WARN, "classNo", bj,
                  "BJ is not <grade>.<class>");
        return;
    }

    h->record_set(r, "gradeLevel", h->sprintf(c, "%s%.*s", g == 1 ? "0" : "",
                                              (int) g, bj));
    h->record_set(r, "classNo", h->sprintf(c, "%s%.*s", k == 1 ? "0" : "",
                                           (int) k, dot + 1));
}


static void
yj_number(const edugate_host_t *h, edugate_call_t *c, edugate_record_t *r,
    const char *field, const char *v)
{
    if (v && h->record_set_number(r, field, v) == EDUGATE_OK) {
        return;
    }

    h->record_set(r, field, NULL);
    h->report(c, r, "R23", EDUGATE_SEV_ERROR, field, v, "not a number");
}


static int
yj_to_vendor(const edugate_host_t *h, edugate_call_t *c, void *state,
    const edugate_query_t *q)
{
    char        *jwt, *bearer;
    const char  *exam, *subject;

    exam = h->param(q, "examId");
    subject = h->param(q, "subjectCode");

    if (exam == NULL) {
        h->error(c, "the score export needs the vendor's examId");
        return EDUGATE_BAD_INPUT;
    }

    /* the export API takes the gateway's own token as a bearer token */
    jwt = yj_token(h, c, state, YJ_SERVICE_USER, q->now);
    bearer = jwt ? h->sprintf(c, "Bearer %s", jwt) : NULL;

    if (bearer == NULL) {
        return EDUGATE_NO_MEMORY;
    }

    if (h->set_path(c, "GET", "/export/scores.xml") != EDUGATE_OK
        || h->set_arg(c, "examId", exam) != EDUGATE_OK
        || (subject && h->set_arg(c, "subject", subject) != EDUGATE_OK)
        || h->set_header(c, "Authorization", bearer) != EDUGATE_OK)
    {
        return EDUGATE_ERROR;
    }

    return EDUGATE_OK;
}


static void
yj_copy(char *dst, size_t size, const char *src)
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
