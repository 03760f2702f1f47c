/*
 * Copyright (C) EduGate contributors
 *
 * Identity numbers: 居民身份证号 (R01-R07), 学籍号 (R08-R11) and
 * 统一社会信用代码 (R25).  ID numbers reach the report masked only.
 */


#include <string.h>
#include <strings.h>

#include "eg_rules.h"


static int eg_id_format(const char *id);
static int eg_id_birth(eg_rule_ctx_t *rc, const char *body, char *date);
static int eg_id_area_known(eg_rule_ctx_t *rc, const char *body);
static int eg_all_digits(const char *s, size_t n);


static const char  eg_uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";


char
eg_id_check_char(const char *digits17)
{
    int  i, sum;

    static const int   w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
                                 8, 4, 2 };
    static const char  c[] = "10X98765432";

    sum = 0;
    for (i = 0; i < 17; i++) {
        sum += (digits17[i] - '0') * w[i];
    }

    return c[sum % 11];
}


char
eg_uscc_check_char(const char *s)
{
    int          i, sum;
    const char  *p;

    static const int  w[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13,
                                8, 24, 10, 30, 28 };

    sum = 0;
    for (i = 0; i < 17; i++) {
        if (s[i] == '\0') {
            return 0;
        }
        p = strchr(eg_uscc_alphabet, s[i]);
        if (p == NULL) {
            return 0;
        }
        sum += (int) (p - eg_uscc_alphabet) * w[i];
    }

    return eg_uscc_alphabet[(31 - sum % 31) % 31];
}


void
eg_rules_idnumber(eg_rule_ctx_t *rc)
{
    char         id[19], date[11], check, expect;
    size_t       i, len;
    const char  *type, *raw, *sex, *birth;

    type = eg_rule_str(rc->rec, "idType");
    raw = eg_rule_str(rc->rec, "idNumber");

    if (type == NULL || strcmp(type, "1") != 0 || raw == NULL) {
        return;
    }

    len = strlen(raw);

    if (len == 15 && eg_all_digits(raw, 15)) {
        /* a pre-1999 number: insert the century, add a check digit */
        memcpy(id, raw, 6);
        memcpy(id + 6, "19", 2);
        memcpy(id + 8, raw + 6, 9);
        id[17] = eg_id_check_char(id);
        id[18] = '\0';
        eg_rule_report(rc, "idNumber", "R07", EG_STD_WARNING, raw, id,
                       "15位旧身份证号已升为18位",
                       "15-digit legacy ID number converted to 18 digits");

    } else if (len == 18) {
        for (i = 0; i < 18; i++) {
            id[i] = (raw[i] == 'x') ? 'X' : raw[i];
        }
        id[18] = '\0';

    } else {
        id[0] = '\0';
    }

    if (!eg_id_format(id)) {
        eg_rule_report(rc, "idNumber", "R01", EG_STD_ERROR, raw,
                       "18 characters: 6-digit area, birth date, "
                       "3-digit sequence, check digit",
                       "居民身份证号格式错误",
                       "malformed resident ID number");
        return;
    }

    check = eg_id_check_char(id);
    if (id[17] != check) {
        char  exp[2] = { check, '\0' };

        eg_rule_report(rc, "idNumber", "R02", EG_STD_ERROR, raw, exp,
                       "身份证号校验码错误 (GB 11643)",
                       "ID number check digit is wrong (GB 11643)");
    }

    if (!eg_id_birth(rc, id, date)) {
        eg_rule_report(rc, "idNumber", "R03", EG_STD_ERROR, raw,
                       "a real birth date from 1900 up to today",
                       "身份证号出生日期无效",
                       "the birth date in the ID number is not valid");
        return;
    }

    if (!eg_id_area_known(rc, id)) {
        eg_rule_report(rc, "idNumber", "R04", EG_STD_WARNING, raw,
                       "an area code of GB/T 2260",
                       "身份证号地址码不在行政区划代码中",
                       "the area code of the ID number is not in GB/T 2260");
    }

    sex = eg_rule_str(rc->rec, "sex");
    if (sex != NULL && (strcmp(sex, "1") == 0 || strcmp(sex, "2") == 0)) {
        expect = ((id[16] - '0') % 2) ? '1' : '2';
        if (sex[0] != expect) {
            char  exp[2] = { expect, '\0' };

            eg_rule_report(rc, "sex", "R05", EG_STD_ERROR,
                           eg_rule_actual(rc, "sex"), exp,
                           "性别与身份证号第17位奇偶不符",
                           "sex disagrees with the 17th digit of the ID");
        }
    }

    /* a birth date that is no date at all is R22a's */
    birth = eg_rule_str(rc->rec, "birthDate");
    if (eg_rule_date(birth) && strcmp(birth, date) != 0) {
        eg_rule_report(rc, "birthDate", "R06", EG_STD_ERROR,
                       eg_rule_actual(rc, "birthDate"), date,
                       "出生日期与身份证号不符",
                       "birth date disagrees with the ID number");
    }
}


void
eg_rules_regno(eg_rule_ctx_t *rc)
{
    char         date[11], check;
    const char  *reg, *body, *idn, *birth, *type;

    reg = eg_rule_str(rc->rec, "studentRegNo");
    if (reg == NULL) {
        return;
    }

    if (strlen(reg) != 19 || strchr("GJL", reg[0]) == NULL
        || !eg_all_digits(reg + 1, 17)
        || !(eg_all_digits(reg + 18, 1) || reg[18] == 'X'))
    {
        eg_rule_report(rc, "studentRegNo", "R08", EG_STD_ERROR, reg,
                       "G, J or L and 18 characters",
                       "学籍号格式错误",
                       "malformed student number (学籍号)");
        return;
    }

    body = reg + 1;
    check = eg_id_check_char(body);

    switch (reg[0]) {

    case 'G':
        if (body[17] != check || !eg_id_birth(rc, body, date)) {
            eg_rule_report(rc, "studentRegNo", "R09", EG_STD_ERROR, reg,
                           "G and a valid ID number",
                           "G字头学籍号的身份证号部分无效",
                           "the ID number inside the G student number is "
                           "not valid");
            return;
        }

        type = eg_rule_str(rc->rec, "idType");
        idn = eg_rule_str(rc->rec, "idNumber");

        if (type && strcmp(type, "1") == 0 && idn && strlen(idn) == 18
            && strncasecmp(body, idn, 18) != 0)
        {
            eg_rule_report(rc, "studentRegNo", "R09", EG_STD_WARNING, reg,
                           idn, "G字头学籍号与身份证号不一致",
                           "the G student number differs from the ID "
                           "number");
        }
        return;

    case 'J':
        birth = eg_rule_str(rc->rec, "birthDate");

        if (body[17] != check || !eg_id_birth(rc, body, date)
            || !eg_id_area_known(rc, body)
            || (eg_rule_date(birth) && strcmp(birth, date) != 0))
        {
            eg_rule_report(rc, "studentRegNo", "R10", EG_STD_ERROR, reg,
                           "J, area, the birth date, sequence, check digit",
                           "J字头学籍号无效或出生日期不符",
                           "the J student number is not valid or its birth "
                           "date disagrees");
        }
        return;

    default:
        if (reg[18] == 'X' || !eg_id_birth(rc, body, date)) {
            eg_rule_report(rc, "studentRegNo", "R11", EG_STD_ERROR, reg,
                           "L, area, a valid birth date, 4 digits",
                           "L字头临时学籍号无效",
                           "the temporary L student number is not valid");
            return;
        }

        if (!eg_id_area_known(rc, body)) {
            eg_rule_report(rc, "studentRegNo", "R04", EG_STD_WARNING, reg,
                           "an area code of GB/T 2260",
                           "学籍号地址码不在行政区划代码中",
                           "the area code of the student number is not in "
                           "GB/T 2260");
        }

        eg_rule_report(rc, "studentRegNo", "R11", EG_STD_INFO, reg, NULL,
                       "临时学籍号，等待G字头学籍号替换",
                       "temporary student number, awaiting its G "
                       "supersession");
    }
}


void
eg_rules_uscc(eg_rule_ctx_t *rc)
{
    char              check, area[7];
    const char       *uscc, *cat, *div, *level;
    const eg_code_t  *c;

    uscc = eg_rule_str(rc->rec, "uscc");
    if (uscc == NULL) {
        return;
    }

    check = eg_uscc_check_char(uscc);

    if (strlen(uscc) != 18 || check == 0) {
        eg_rule_report(rc, "uscc", "R25", EG_STD_ERROR, uscc,
                       "18 characters of GB 32100",
                       "统一社会信用代码格式错误",
                       "malformed unified social credit code");
        return;
    }

    if (uscc[17] != check) {
        char  exp[2] = { check, '\0' };

        eg_rule_report(rc, "uscc", "R25", EG_STD_ERROR, uscc, exp,
                       "统一社会信用代码校验码错误 (GB 32100)",
                       "unified social credit code check character is "
                       "wrong (GB 32100)");
        return;
    }

    level = eg_rule_str(rc->rec, "level");
    cat = eg_rule_str(rc->rec, "sponsorCategory");

    if (level != NULL && strcmp(level, "school") == 0 && cat != NULL
        && ((strcmp(cat, "21") == 0 && strncmp(uscc, "12", 2) != 0)
            || (strcmp(cat, "22") == 0 && strncmp(uscc, "52", 2) != 0)))
    {
        eg_rule_report(rc, "uscc", "R25", EG_STD_WARNING, uscc,
                       strcmp(cat, "21") == 0 ? "12…" : "52…",
                       "信用代码登记管理部"
                       "门类别与学校办别不符",
                       "the code's registration category does not match "
                       "public (12) or private (52) sponsorship");
    }

    memcpy(area, uscc + 2, 6);
    area[6] = '\0';
    div = eg_rule_str(rc->rec, "divisionCode");

    if (eg_codes_count(rc->ctx->codes, "xzqh") > 0) {
        c = eg_codes_find(rc->ctx->codes, "xzqh", area, NULL);
        if (c == NULL || (div != NULL && strncmp(area, div, 2) != 0)) {
            eg_rule_report(rc, "uscc", "R25", EG_STD_WARNING, uscc, div,
                           "信用代码中的行政区"
                           "划码与机构所在地不符",
                           "the division code inside the credit code is "
                           "unknown or far from divisionCode");
        }
    }
}


static int
eg_id_format(const char *id)
{
    int  y, m, d;

    if (strlen(id) != 18 || !eg_all_digits(id, 17)
        || !(eg_all_digits(id + 17, 1) || id[17] == 'X'))
    {
        return 0;
    }

    /* (18|19|20)YY, month 01-12, day 01-31: calendar validity is R03 */
    y = (id[6] - '0') * 10 + (id[7] - '0');
    m = (id[10] - '0') * 10 + (id[11] - '0');
    d = (id[12] - '0') * 10 + (id[13] - '0');

    return y >= 18 && y <= 20 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}


/* the birth date of an 18-character body as YYYY-MM-DD, if real, from
   1900 and not after the validation day */
static int
eg_id_birth(eg_rule_ctx_t *rc, const char *body, char *date)
{
    int  y, m, d;

    if (!eg_rule_ymd(body + 6, 1, &y, &m, &d)) {
        return 0;
    }

    date[0] = body[6];
    date[1] = body[7];
    date[2] = body[8];
    date[3] = body[9];
    date[4] = '-';
    date[5] = body[10];
    date[6] = body[11];
    date[7] = '-';
    date[8] = body[12];
    date[9] = body[13];
    date[10] = '\0';

    return y >= 1900 && strcmp(date, rc->ctx->today) <= 0;
}


/*
 * ID numbers keep the area code of the year they were issued, so any row
 * of the division table counts, abolished ones too.  Without a table the
 * check cannot run and passes.
 */
static int
eg_id_area_known(eg_rule_ctx_t *rc, const char *body)
{
    char  area[7];

    if (eg_codes_count(rc->ctx->codes, "xzqh") == 0) {
        return 1;
    }

    memcpy(area, body, 6);
    area[6] = '\0';

    return eg_codes_find(rc->ctx->codes, "xzqh", area, NULL) != NULL;
}


static int
eg_all_digits(const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}
