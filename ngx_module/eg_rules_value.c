/*
 * Copyright (C) EduGate contributors
 *
 * Values checked on their own: scores against their line item (R23),
 * person names (R26) and mobile numbers (R27).
 */


#include <stdio.h>
#include <string.h>

#include "eg_rules.h"
#include "eg_text.h"


#define EG_NAME_MAX  50


static void eg_score_line_item(eg_rule_ctx_t *rc);
static void eg_score_result(eg_rule_ctx_t *rc);
static unsigned eg_utf8_next(const unsigned char **p,
    const unsigned char *end);
static int eg_name_separator(unsigned cp);
static size_t eg_utf8_put(char *out, unsigned cp);


void
eg_rules_score(eg_rule_ctx_t *rc)
{
    if (rc->entity == EG_STD_LINE_ITEM) {
        eg_score_line_item(rc);

    } else {
        eg_score_result(rc);
    }
}


static void
eg_score_line_item(eg_rule_ctx_t *rc)
{
    int     a, b;
    double  min, max;

    a = eg_rule_num(rc->rec, "resultValueMin", &min);
    b = eg_rule_num(rc->rec, "resultValueMax", &max);

    if (a < 0 || b < 0) {
        eg_rule_report(rc, a < 0 ? "resultValueMin" : "resultValueMax",
                       "R23", EG_STD_ERROR, NULL, "a decimal number",
                       "分值不是数字", "the score bound is not a number");
        return;
    }

    if (a == 1 && b == 1 && min > max) {
        eg_rule_report(rc, "resultValueMax", "R23", EG_STD_ERROR,
                       eg_rule_str(rc->rec, "resultValueMax"),
                       eg_rule_str(rc->rec, "resultValueMin"),
                       "满分小于最低分",
                       "resultValueMax is below the minimum");
    }
}


static void
eg_score_result(eg_rule_ctx_t *rc)
{
    int          has, known, in;
    char         got[32], range[64];
    size_t       i;
    double       score, min, max;
    json_t      *li, *scale, *item;
    const char  *status, *text;

    status = eg_rule_str(rc->rec, "scoreStatus");
    text = eg_rule_str(rc->rec, "textScore");
    has = eg_rule_num(rc->rec, "score", &score);

    if (has < 0) {
        eg_rule_report(rc, "score", "R23", EG_STD_ERROR, NULL,
                       "a decimal number", "成绩不是数字",
                       "score is not a number");
        return;
    }

    if (status != NULL && strcmp(status, "not submitted") == 0
        && (has == 1 || text != NULL))
    {
        eg_rule_report(rc, "score", "R23", EG_STD_ERROR, NULL, "empty",
                       "未提交的成绩不应有分数",
                       "a score that was not submitted must be empty");
        return;
    }

    if (status != NULL && strcmp(status, "fully graded") == 0
        && has == 0 && text == NULL)
    {
        eg_rule_report(rc, "score", "R23", EG_STD_ERROR, NULL,
                       "score or textScore", "已评分的成绩缺少分数",
                       "a fully graded result needs a score");
        return;
    }

    li = eg_rule_get(rc, EG_STD_LINE_ITEM, eg_rule_str(rc->rec, "lineItemId"),
                     &known);
    if (li == NULL) {
        return;
    }

    if (has == 1 && eg_rule_num(li, "resultValueMin", &min) == 1
        && eg_rule_num(li, "resultValueMax", &max) == 1
        && (score < min || score > max))
    {
        snprintf(got, sizeof(got), "%g", score);
        snprintf(range, sizeof(range), "%g..%g", min, max);
        eg_rule_report(rc, "score", "R23", EG_STD_ERROR, got, range,
                       "成绩超出分值范围",
                       "score outside the line item's "
                       "range");
    }

    scale = eg_rule_list(li, "scoreScale");
    if (text != NULL && json_array_size(scale) > 0) {
        in = 0;
        json_array_foreach(scale, i, item) {
            if (json_string_value(item)
                && strcmp(json_string_value(item), text) == 0)
            {
                in = 1;
            }
        }

        if (!in) {
            eg_rule_report(rc, "textScore", "R23", EG_STD_ERROR, text,
                           "a grade of the line item's scale",
                           "等级成绩不在等级表中",
                           "textScore is not in the line item's scale");
        }
    }
}


/* R26 */
void
eg_rules_name(eg_rule_ctx_t *rc)
{
    int                   digit, latin, cjk, sep, space;
    char                  fixed[4 * EG_NAME_MAX + 8];
    size_t                n, w, len;
    unsigned              cp;
    const char           *name, *raw, *map;
    const unsigned char  *p, *end;

    name = eg_rule_str(rc->rec, "name");
    if (name == NULL) {
        return;
    }

    len = strlen(name);

    if (!eg_utf8_valid((const unsigned char *) name, len)) {
        eg_rule_report(rc, "name", "R26", EG_STD_WARNING, NULL, "UTF-8",
                       "姓名不是有效的UTF-8", "name is not valid UTF-8");
        return;
    }

    raw = eg_rule_actual(rc, "name");
    map = eg_rule_mapping(rc->rec, "name");

    if (map != NULL && strcmp(map, "normalised") == 0 && raw != NULL
        && strcmp(raw, name) != 0)
    {
        eg_rule_report(rc, "name", "R26", EG_STD_INFO, raw, name,
                       "姓名间隔号已规范为·",
                       "name separator normalised "
                       "to U+00B7");
    }

    p = (const unsigned char *) name;
    end = p + len;
    n = 0;
    w = 0;
    digit = 0;
    latin = 0;
    cjk = 0;
    sep = 0;
    space = (name[0] == ' ' || name[len - 1] == ' '
             || strncmp(name, "\xe3\x80\x80", 3) == 0
             || (len >= 3 && strcmp(name + len - 3, "\xe3\x80\x80") == 0));

    while (p < end) {
        cp = eg_utf8_next(&p, end);
        n++;

        if ((cp >= '0' && cp <= '9') || (cp >= 0xff10 && cp <= 0xff19)) {
            digit = 1;
        }
        if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) {
            latin = 1;
        }
        if (cp >= 0x4e00 && cp <= 0x9fff) {
            cjk = 1;
        }
        if (eg_name_separator(cp)) {
            sep = 1;
            cp = 0xb7;
        }
        if (w + 4 < sizeof(fixed) - 1) {
            w += eg_utf8_put(fixed + w, cp);
        }
    }

    fixed[w] = '\0';

    if (space || n > EG_NAME_MAX || digit) {
        eg_rule_report(rc, "name", "R26", EG_STD_WARNING, name,
                       "1-50 characters, trimmed, no digits",
                       "姓名有首尾空格、过长或含数字",
                       "name untrimmed, too long, or with digits");
    }

    if (sep && n <= EG_NAME_MAX) {
        eg_rule_report(rc, "name", "R26", EG_STD_WARNING, name, fixed,
                       "姓名间隔号应为·（U+00B7）",
                       "name parts are separated by U+00B7");
    }

    if (latin && cjk) {
        eg_rule_report(rc, "name", "R26", EG_STD_WARNING, name, NULL,
                       "姓名混用拉丁字母和汉字",
                       "name mixes Latin letters and Chinese characters");
    }
}


/* R27 */
void
eg_rules_phone(eg_rule_ctx_t *rc)
{
    size_t       i;
    const char  *phone;

    phone = eg_rule_str(rc->rec, "phone");
    if (phone == NULL) {
        return;
    }

    if (strlen(phone) == 11 && phone[0] == '1' && phone[1] >= '3'
        && phone[1] <= '9')
    {
        for (i = 2; i < 11 && phone[i] >= '0' && phone[i] <= '9'; i++) {
            /* void */
        }

        if (i == 11) {
            return;
        }
    }

    eg_rule_report(rc, "phone", "R27", EG_STD_WARNING, phone,
                   "11 digits: 1[3-9]xxxxxxxxx", "手机号码格式错误",
                   "not a mobile number");
}


/* '.', '•' (U+2022), '・' (U+30FB), '．' (U+FF0E), '‧' (U+2027) */
static int
eg_name_separator(unsigned cp)
{
    return cp == '.' || cp == 0x2022 || cp == 0x30fb || cp == 0xff0e
           || cp == 0x2027;
}


/* the next code point of valid UTF-8 */
static unsigned
eg_utf8_next(const unsigned char **p, const unsigned char *end)
{
    unsigned              cp, n, i;
    const unsigned char  *s;

    s = *p;

    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }

    n = (s[0] >= 0xf0) ? 3 : (s[0] >= 0xe0) ? 2 : 1;
    cp = s[0] & (0x3f >> n);

    for (i = 1; i <= n && s + i < end; i++) {
        cp = (cp << 6) | (s[i] & 0x3f);
    }

    *p = s + i;

    return cp;
}


static size_t
eg_utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char) cp;
        return 1;
    }

    if (cp < 0x800) {
        out[0] = (char) (0xc0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3f));
        return 2;
    }

    if (cp < 0x10000) {
        out[0] = (char) (0xe0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char) (0x80 | (cp & 0x3f));
        return 3;
    }

    out[0] = (char) (0xf0 | (cp >> 18));
    out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char) (0x80 | (cp & 0x3f));
    return 4;
}
