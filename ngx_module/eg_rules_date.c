/*
 * Copyright (C) EduGate contributors
 *
 * Dates (R22a-R22h) and the delta-feed header (R29).  Dates are checked
 * as real calendar days and then compared as ISO strings.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_rules.h"


#define EG_CLOCK_SKEW  300


static void eg_dates_parse(eg_rule_ctx_t *rc);
static void eg_dates_order(eg_rule_ctx_t *rc, const char *from,
    const char *to);
static void eg_dates_session(eg_rule_ctx_t *rc);
static void eg_dates_student(eg_rule_ctx_t *rc);
static void eg_dates_within_term(eg_rule_ctx_t *rc);
static void eg_dates_enrollment(eg_rule_ctx_t *rc);
static int eg_timestamp(const char *s, long long *t);
static long long eg_days(int y, int m, int d);
static int eg_year_month(const char *s, int *y, int *m);


static const char  *eg_date_fields[] = {
    "birthDate", "startDate", "endDate", "beginDate", "assignDate",
    "dueDate", "scoreDate", NULL
};


void
eg_rules_dates(eg_rule_ctx_t *rc)
{
    const char  *birth;

    eg_dates_parse(rc);

    switch (rc->entity) {

    case EG_STD_SESSION:
        eg_dates_order(rc, "startDate", "endDate");
        eg_dates_session(rc);
        break;

    case EG_STD_ENROLLMENT:
        eg_dates_order(rc, "beginDate", "endDate");
        eg_dates_enrollment(rc);
        break;

    case EG_STD_SCHOOL_ENROLLMENT:
        eg_dates_order(rc, "beginDate", "endDate");
        break;

    case EG_STD_LINE_ITEM:
        eg_dates_order(rc, "assignDate", "dueDate");
        break;

    case EG_STD_RESULT:
        eg_dates_within_term(rc);
        break;

    case EG_STD_STUDENT:
    case EG_STD_STAFF:
        birth = eg_rule_str(rc->rec, "birthDate");
        if (eg_rule_date(birth) && strcmp(birth, rc->ctx->today) > 0) {
            eg_rule_report(rc, "birthDate", "R22c", EG_STD_ERROR, birth,
                           rc->ctx->today, "出生日期晚于今天",
                           "birthDate is in the future");
        }
        if (rc->entity == EG_STD_STUDENT) {
            eg_dates_student(rc);
        }
        break;

    default:
        break;
    }
}


/* R29: a delta feed must say what each record is and when it changed */
void
eg_rules_feed(eg_rule_ctx_t *rc)
{
    long long    t;
    const char  *ts;

    ts = eg_rule_str(rc->rec, "dateLastModified");

    if (rc->delta) {
        if (eg_rule_str(rc->rec, "status") == NULL) {
            eg_rule_report(rc, "status", "R29", EG_STD_ERROR, NULL,
                           "active or tobedeleted", "增量数据缺少状态",
                           "a delta feed record needs status");
        }
        if (ts == NULL) {
            eg_rule_report(rc, "dateLastModified", "R29", EG_STD_ERROR, NULL,
                           "an ISO 8601 timestamp",
                           "增量数据缺少修改时间",
                           "a delta feed record needs dateLastModified");
        }
    }

    if (ts == NULL) {
        return;
    }

    if (!eg_timestamp(ts, &t)) {
        eg_rule_report(rc, "dateLastModified", "R22a", EG_STD_ERROR, ts,
                       "YYYY-MM-DDThh:mm:ss+08:00", "时间格式错误",
                       "malformed timestamp");

    } else if (t > (long long) rc->ctx->now + EG_CLOCK_SKEW) {
        eg_rule_report(rc, "dateLastModified", "R22f", EG_STD_WARNING, ts,
                       "not after now", "修改时间晚于当前时间",
                       "dateLastModified is in the future");
    }
}


static void
eg_dates_parse(eg_rule_ctx_t *rc)
{
    int          y, m;
    size_t       i;
    const char  *v;

    for (i = 0; eg_date_fields[i] != NULL; i++) {
        v = eg_rule_str(rc->rec, eg_date_fields[i]);
        if (v != NULL && !eg_rule_date(v)) {
            eg_rule_report(rc, eg_date_fields[i], "R22a", EG_STD_ERROR, v,
                           "YYYY-MM-DD", "日期无效", "not a valid date");
        }
    }

    v = eg_rule_str(rc->rec, "entryDate");
    if (v != NULL && !eg_year_month(v, &y, &m)) {
        eg_rule_report(rc, "entryDate", "R22a", EG_STD_ERROR, v, "YYYY-MM",
                       "年月无效", "not a valid year-month");
    }
}


static void
eg_dates_order(eg_rule_ctx_t *rc, const char *from, const char *to)
{
    const char  *a, *b;

    a = eg_rule_str(rc->rec, from);
    b = eg_rule_str(rc->rec, to);

    if (eg_rule_date(a) && eg_rule_date(b) && strcmp(a, b) > 0) {
        eg_rule_report(rc, to, "R22a", EG_STD_ERROR, b, a,
                       "结束日期早于开始日期",
                       "the end is before the start");
    }
}


/* R22b */
static void
eg_dates_session(eg_rule_ctx_t *rc)
{
    int          y1, y2, ms, known;
    char         lo[32], hi[32];
    json_t      *parent;
    const char  *year, *type, *start, *end, *ps, *pe;

    static const int  mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31 };

    year = eg_rule_str(rc->rec, "schoolYear");
    type = eg_rule_str(rc->rec, "type");
    start = eg_rule_str(rc->rec, "startDate");
    end = eg_rule_str(rc->rec, "endDate");

    if (year == NULL || strlen(year) != 9 || year[4] != '-') {
        return;
    }

    y1 = atoi(year);
    y2 = atoi(year + 5);

    if (y2 != y1 + 1) {
        eg_rule_report(rc, "schoolYear", "R22b", EG_STD_WARNING, year,
                       "YYYY-(YYYY+1)", "学年应跨两个相邻年份",
                       "a school year spans two consecutive years");
        return;
    }

    if (type == NULL || strcmp(type, "schoolYear") == 0
        || !eg_rule_date(start) || !eg_rule_date(end))
    {
        return;
    }

    /* the 学年 window: the 1st of year_start in Y to its end in Y+1 */
    ms = rc->ctx->year_start;
    if (ms < 1 || ms > 12) {
        ms = 8;
    }

    snprintf(lo, sizeof(lo), "%04d-%02d-01", y1, ms);
    snprintf(hi, sizeof(hi), "%04d-%02d-%02d", y2, ms, mdays[ms - 1]);

    parent = eg_rule_get(rc, EG_STD_SESSION,
                         eg_rule_str(rc->rec, "parentId"), &known);
    ps = parent ? eg_rule_str(parent, "startDate") : NULL;
    pe = parent ? eg_rule_str(parent, "endDate") : NULL;

    if (strcmp(start, lo) < 0 || strcmp(end, hi) > 0
        || (eg_rule_date(ps) && strcmp(start, ps) < 0)
        || (eg_rule_date(pe) && strcmp(end, pe) > 0))
    {
        eg_rule_report(rc, "startDate", "R22b", EG_STD_WARNING, start, lo,
                       "学期超出所属学年", "the term lies outside its "
                       "school year");
    }
}


/* R22d and R22e */
static void
eg_dates_student(eg_rule_ctx_t *rc)
{
    int          by, bm, bd, ey, em, year, age, grade, known;
    char         exp[32];
    json_t      *cls, *term, *ids;
    const char  *birth, *g, *sy, *entry;

    birth = eg_rule_str(rc->rec, "birthDate");
    if (birth == NULL || !eg_rule_ymd(birth, 0, &by, &bm, &bd)) {
        return;
    }

    entry = eg_rule_str(rc->rec, "entryDate");
    if (entry != NULL && eg_year_month(entry, &ey, &em)
        && ey * 12 + em < (by + 3) * 12 + bm)
    {
        eg_rule_report(rc, "entryDate", "R22e", EG_STD_WARNING, entry,
                       "at least 3 years after birthDate",
                       "入学年月早于出生后3年",
                       "entryDate is less than 3 years after birth");
    }

    g = eg_rule_str(rc->rec, "gradeLevel");
    if (g == NULL || g[0] < '0' || g[0] > '9') {
        return;
    }

    grade = atoi(g);

    /* the school year of the homeroom class's term, else of today */
    sy = NULL;
    cls = eg_rule_get(rc, EG_STD_CLASS,
                      eg_rule_str(rc->rec, "homeroomClassId"), &known);
    ids = cls ? eg_rule_list(cls, "termIds") : NULL;
    if (json_array_size(ids) > 0) {
        term = eg_rule_get(rc, EG_STD_SESSION,
                           json_string_value(json_array_get(ids, 0)), &known);
        sy = term ? eg_rule_str(term, "schoolYear") : NULL;
    }

    if (sy != NULL) {
        year = atoi(sy);

    } else {
        year = atoi(rc->ctx->today);
        if (atoi(rc->ctx->today + 5) < rc->ctx->year_start) {
            year--;
        }
    }

    /* age on Sep 1 of the school year */
    age = year - by - ((bm > 9 || (bm == 9 && bd > 1)) ? 1 : 0);

    if (age < grade + 5 - 2 || age > grade + 5 + 2) {
        snprintf(exp, sizeof(exp), "%d-%d", grade + 3, grade + 7);
        eg_rule_report(rc, "birthDate", "R22d", EG_STD_WARNING, birth, exp,
                       "年龄与年级不相称",
                       "age implausible for gradeLevel");
    }
}


/* R22g: the score date inside the line item's term */
static void
eg_dates_within_term(eg_rule_ctx_t *rc)
{
    int          known;
    json_t      *li, *term;
    const char  *date, *s, *e;

    date = eg_rule_str(rc->rec, "scoreDate");
    li = eg_rule_get(rc, EG_STD_LINE_ITEM, eg_rule_str(rc->rec, "lineItemId"),
                     &known);
    term = li ? eg_rule_get(rc, EG_STD_SESSION, eg_rule_str(li, "termId"),
                            &known)
              : NULL;

    if (!eg_rule_date(date) || term == NULL) {
        return;
    }

    s = eg_rule_str(term, "startDate");
    e = eg_rule_str(term, "endDate");

    if ((eg_rule_date(s) && strcmp(date, s) < 0)
        || (eg_rule_date(e) && strcmp(date, e) > 0))
    {
        eg_rule_report(rc, "scoreDate", "R22g", EG_STD_WARNING, date, s,
                       "成绩日期不在学期内",
                       "scoreDate lies outside the term");
    }
}


/* R22h: enrollment dates inside the class's terms */
static void
eg_dates_enrollment(eg_rule_ctx_t *rc)
{
    int          known;
    size_t       i;
    json_t      *cls, *id, *term;
    const char  *begin, *end, *s, *e, *lo, *hi;

    cls = eg_rule_get(rc, EG_STD_CLASS, eg_rule_str(rc->rec, "classId"),
                      &known);
    if (cls == NULL) {
        return;
    }

    lo = NULL;
    hi = NULL;

    json_array_foreach(eg_rule_list(cls, "termIds"), i, id) {
        term = eg_rule_get(rc, EG_STD_SESSION, json_string_value(id), &known);
        s = term ? eg_rule_str(term, "startDate") : NULL;
        e = term ? eg_rule_str(term, "endDate") : NULL;

        if (eg_rule_date(s) && (lo == NULL || strcmp(s, lo) < 0)) {
            lo = s;
        }
        if (eg_rule_date(e) && (hi == NULL || strcmp(e, hi) > 0)) {
            hi = e;
        }
    }

    begin = eg_rule_str(rc->rec, "beginDate");
    end = eg_rule_str(rc->rec, "endDate");

    if ((eg_rule_date(begin) && ((lo && strcmp(begin, lo) < 0)
                                 || (hi && strcmp(begin, hi) > 0)))
        || (eg_rule_date(end) && ((lo && strcmp(end, lo) < 0)
                                  || (hi && strcmp(end, hi) > 0))))
    {
        eg_rule_report(rc, "beginDate", "R22h", EG_STD_WARNING, begin, lo,
                       "选课日期不在班级学期内",
                       "the enrollment lies outside the class's terms");
    }
}


/* ISO 8601 with seconds and an offset (Z or +hh:mm) to epoch seconds */
static int
eg_timestamp(const char *s, long long *t)
{
    int          y, mo, d, h, mi, sec, oh, om, sign;
    char         date[11];
    size_t       len;
    const char  *p;

    if (strlen(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
        return 0;
    }

    memcpy(date, s, 10);
    date[10] = '\0';

    if (!eg_rule_ymd(date, 0, &y, &mo, &d)) {
        return 0;
    }

    if (sscanf(s + 11, "%2d:%2d:%2d", &h, &mi, &sec) != 3
        || h > 23 || mi > 59 || sec > 60)
    {
        return 0;
    }

    p = s + 19;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            /* void */
        }
    }

    len = strlen(p);

    if (len == 1 && *p == 'Z') {
        oh = 0;
        om = 0;
        sign = 1;

    } else if (len == 6 && (p[0] == '+' || p[0] == '-') && p[3] == ':'
               && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2
               && oh <= 14 && om <= 59)
    {
        sign = (p[0] == '-') ? -1 : 1;

    } else {
        return 0;
    }

    *t = eg_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
         - sign * (oh * 3600 + om * 60);

    return 1;
}


/* days since 1970-01-01 of a proleptic Gregorian date */
static long long
eg_days(int y, int m, int d)
{
    long long  era, yoe, doy, doe;

    y -= (m <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


static int
eg_year_month(const char *s, int *y, int *m)
{
    char  date[11];
    int   d;

    if (strlen(s) != 7) {
        return 0;
    }

    memcpy(date, s, 7);
    memcpy(date + 7, "-01", 4);

    return eg_rule_ymd(date, 0, y, m, &d);
}
