/*
 * Copyright (C) EduGate contributors
 *
 * Schools and administrative bodies: 学校标识码 (R12-R15), division code
 * in use (R16), at the org's level (R17), and the org tree (R18).  The
 * GB/T 2260 table (scheme xzqh) drives levels and parents, so the
 * exceptions of R17 and R18 (济源 419001 under its province, 东莞 441900
 * with no districts, the counties of municipalities) need no list here.
 */


#include <string.h>

#include "eg_rules.h"


static void eg_rules_school_code(eg_rule_ctx_t *rc, const char *div);
static const eg_code_t *eg_rules_division(eg_rule_ctx_t *rc,
    const char *level, const char *div, int *level_ok);
static void eg_rules_tree(eg_rule_ctx_t *rc, const char *level,
    const char *div, const eg_code_t *row, int level_ok);
static int eg_school_code_ok(const char *code);
static int eg_two(const char *s, const char *list);
static int eg_city_without_districts(eg_rule_ctx_t *rc, const char *div);


void
eg_rules_org(eg_rule_ctx_t *rc)
{
    int               level_ok;
    const char       *level, *div;
    const eg_code_t  *row;

    level = eg_rule_str(rc->rec, "level");
    div = eg_rule_str(rc->rec, "divisionCode");

    if (level == NULL) {
        return;
    }

    if (strcmp(level, "school") == 0) {
        eg_rules_school_code(rc, div);
    }

    level_ok = 1;
    row = eg_rules_division(rc, level, div, &level_ok);
    eg_rules_tree(rc, level, div, row, level_ok);
}


static void
eg_rules_school_code(eg_rule_ctx_t *rc, const char *div)
{
    const char  *code, *type;

    code = eg_rule_str(rc->rec, "schoolCode");

    if (code == NULL || !eg_school_code_ok(code)) {
        eg_rule_report(rc, "schoolCode", "R12", EG_STD_ERROR,
                       eg_rule_actual(rc, "schoolCode"),
                       "category (2) + province (2) + sequence (6)",
                       "学校标识码缺失或格式错误",
                       "school code (学校标识码) missing or malformed");
        return;
    }

    if (div != NULL && strncmp(code + 2, div, 2) != 0) {
        char  exp[3] = { div[0], div[1], '\0' };

        eg_rule_report(rc, "schoolCode", "R13", EG_STD_ERROR, code, exp,
                       "学校标识码第3-4位与所在省份不符",
                       "digits 3-4 of the school code are not the "
                       "province of divisionCode");
    }

    type = eg_rule_str(rc->rec, "schoolType");
    if (type != NULL && strlen(type) >= 2 && strncmp(code, type, 2) != 0) {
        char  exp[3] = { type[0], type[1], '\0' };

        eg_rule_report(rc, "schoolCode", "R14", EG_STD_WARNING, code, exp,
                       "学校标识码第1-2位与办"
                       "学类型不符（待重新赋码）",
                       "digits 1-2 of the school code do not match "
                       "schoolType (awaiting re-coding)");
    }

    if ((strncmp(code, "41", 2) == 0 || strncmp(code, "42", 2) == 0)
        && code[4] != '0')
    {
        eg_rule_report(rc, "schoolCode", "R15", EG_STD_WARNING, code,
                       "digit 5 = 0, then the 5-digit 学校代码",
                       "高校学校标识码第5位应为0",
                       "digit 5 of a higher-education school code "
                       "should be 0");
    }
}


/* R16 and R17; the division row in use, or NULL */
static const eg_code_t *
eg_rules_division(eg_rule_ctx_t *rc, const char *level, const char *div,
    int *level_ok)
{
    int               ok;
    size_t            len;
    const eg_code_t  *row, *old;

    if (strcmp(level, "national") == 0) {
        /* GB/T 2260 has no national code: the fixed constant 100000 */
        if (div != NULL && strcmp(div, "100000") != 0) {
            eg_rule_report(rc, "divisionCode", "R17", EG_STD_ERROR, div,
                           "100000",
                           "国家级机构的区划代码应为100000",
                           "a national body carries 100000");
        }
        return NULL;
    }

    if (strcmp(level, "campus") == 0 || strcmp(level, "department") == 0) {
        return NULL;
    }

    if (div == NULL) {
        eg_rule_report(rc, "divisionCode", "R16", EG_STD_ERROR, NULL,
                       "a GB/T 2260 code in use",
                       "缺少行政区划代码", "divisionCode is missing");
        return NULL;
    }

    len = strlen(div);

    if (len == 6 && strcmp(level, "province") == 0) {
        ok = strcmp(div + 2, "0000") == 0;

    } else if (len == 6 && strcmp(level, "city") == 0) {
        ok = strcmp(div + 4, "00") == 0 && strcmp(div + 2, "0000") != 0;

    } else if (len == 6) {
        ok = strcmp(div + 4, "00") != 0
             || eg_city_without_districts(rc, div);

    } else {
        ok = 0;
    }

    if (!ok) {
        *level_ok = 0;
        eg_rule_report(rc, "divisionCode", "R17", EG_STD_ERROR, div, level,
                       "行政区划代码与机构层级不符",
                       "divisionCode is not at the org's level");
    }

    if (eg_codes_count(rc->ctx->codes, "xzqh") == 0) {
        return NULL;
    }

    row = eg_codes_find(rc->ctx->codes, "xzqh", div, rc->ctx->today);
    if (row != NULL) {
        return row;
    }

    old = eg_codes_find(rc->ctx->codes, "xzqh", div, NULL);

    if (old != NULL) {
        eg_rule_report(rc, "divisionCode", "R16", EG_STD_WARNING, div,
                       "a GB/T 2260 code in use",
                       "行政区划代码已弃用",
                       "divisionCode is abolished");
    } else {
        eg_rule_report(rc, "divisionCode", "R16", EG_STD_ERROR, div,
                       "a GB/T 2260 code in use",
                       "行政区划代码不存在",
                       "divisionCode is not a GB/T 2260 code");
    }

    return NULL;
}


/* R18 */
static void
eg_rules_tree(eg_rule_ctx_t *rc, const char *level, const char *div,
    const eg_code_t *row, int level_ok)
{
    int               known;
    char              up[7];
    json_t           *parent;
    const char       *pid, *plevel, *pdiv, *want, *alt;
    const eg_code_t  *prow;

    if (strcmp(level, "national") == 0) {
        return;
    }

    pid = eg_rule_str(rc->rec, "parentId");
    if (pid == NULL) {
        eg_rule_report(rc, "parentId", "R18", EG_STD_ERROR, NULL,
                       "the org one level up", "缺少上级机构",
                       "parentId is missing");
        return;
    }

    parent = eg_rule_get(rc, EG_STD_ORG, pid, &known);
    if (parent == NULL) {
        eg_rule_report(rc, "parentId", "R18", EG_STD_ERROR,
                       eg_rule_actual(rc, "parentId"), "a known org",
                       "上级机构不存在", "the parent org is unknown");
        return;
    }

    plevel = eg_rule_str(parent, "level");
    pdiv = eg_rule_str(parent, "divisionCode");
    prow = NULL;

    if (row != NULL && row->parent[0] != '\0') {
        prow = eg_codes_find(rc->ctx->codes, "xzqh", row->parent, NULL);
    }

    want = NULL;
    alt = NULL;

    if (strcmp(level, "province") == 0) {
        want = "national";

    } else if (strcmp(level, "city") == 0) {
        want = "province";

    } else if (strcmp(level, "district") == 0) {
        /* counties of municipalities and 省直辖县 hang under a province */
        want = "city";
        if (prow != NULL && strcmp(prow->level, "province") == 0) {
            want = "province";
        }

    } else if (strcmp(level, "school") == 0) {
        want = "district";
        if (div != NULL && eg_city_without_districts(rc, div)) {
            alt = "city";
        }

    } else if (strcmp(level, "campus") == 0) {
        want = "school";
    }

    if (want != NULL && (plevel == NULL
                         || (strcmp(plevel, want) != 0
                             && (alt == NULL || strcmp(plevel, alt) != 0))))
    {
        eg_rule_report(rc, "parentId", "R18", EG_STD_ERROR, plevel, want,
                       "上级机构不是上一级",
                       "the parent is not one level up");
        return;
    }

    /* a code at the wrong level (R17) says nothing about its parent */
    if (div == NULL || pdiv == NULL || !level_ok) {
        return;
    }

    if (strcmp(level, "school") == 0) {
        if (strcmp(div, pdiv) != 0) {
            eg_rule_report(rc, "divisionCode", "R18", EG_STD_ERROR, div,
                           pdiv, "学校所在区县与上级教育局不符",
                           "the school's divisionCode is not its "
                           "district's");
        }
        return;
    }

    if (strcmp(level, "city") == 0 || strcmp(level, "district") == 0) {
        if (row != NULL && row->parent[0] != '\0') {
            want = row->parent;

        } else {
            memcpy(up, div, 6);
            up[6] = '\0';
            memcpy(up + (strcmp(level, "city") == 0 ? 2 : 4), "0000",
                   strcmp(level, "city") == 0 ? 4 : 2);
            want = up;
        }

        if (strcmp(want, pdiv) != 0) {
            eg_rule_report(rc, "divisionCode", "R18", EG_STD_ERROR, pdiv,
                           want, "上级机构的区划代"
                                 "码不是本区划的上级",
                           "the parent's divisionCode is not the parent "
                           "division of divisionCode");
        }
    }
}


static int
eg_school_code_ok(const char *code)
{
    size_t  i;

    if (strlen(code) != 10) {
        return 0;
    }

    for (i = 0; i < 10; i++) {
        if (code[i] < '0' || code[i] > '9') {
            return 0;
        }
    }

    /* category, then province [secondary: 学校(机构)代码编制规则] */
    return eg_two(code, "11 21 22 31 32 33 34 35 36 37 41 42 51 91 92 93")
           && eg_two(code + 2, "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 "
                               "41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 "
                               "65 71 81 82");
}


static int
eg_two(const char *s, const char *list)
{
    const char  *p;

    for (p = list; p[0] && p[1]; p += (p[2] == ' ') ? 3 : 2) {
        if (p[0] == s[0] && p[1] == s[1]) {
            return 1;
        }
    }

    return 0;
}


/*
 * A prefecture-level city without districts (东莞 441900, 中山 442000,
 * 儋州 460400, 嘉峪关 620200) hosts schools directly: a city row of the
 * table that is nobody's parent.
 */
static int
eg_city_without_districts(eg_rule_ctx_t *rc, const char *div)
{
    const eg_code_t  *row;

    row = eg_codes_find(rc->ctx->codes, "xzqh", div, NULL);

    return row != NULL && strcmp(row->level, "city") == 0
           && !eg_codes_has_child(rc->ctx->codes, "xzqh", div);
}
