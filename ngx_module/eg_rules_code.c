/*
 * Copyright (C) EduGate contributors
 *
 * Coded fields: membership of their code table (R19), the adapter's
 * mapping notes (R20) and the cross-field rules of persons (R28).
 */


#include <string.h>

#include "eg_rules.h"


#define EG_BIT(e)     (1u << (e))
#define EG_PERSON     (EG_BIT(EG_STD_STUDENT) | EG_BIT(EG_STD_STAFF))
#define EG_ORGS       (EG_BIT(EG_STD_ORG) | EG_BIT(EG_STD_SCHOOL))


typedef struct {
    unsigned     entities;
    const char  *field;
    const char  *scheme;
    unsigned     list:1;
    unsigned     leaf3:1;
} eg_code_field_t;


static void eg_rules_code_value(eg_rule_ctx_t *rc, const eg_code_field_t *f,
    const char *value);


static const eg_code_field_t  eg_code_fields[] = {
    { EG_PERSON, "sex", "xb", 0, 0 },
    { EG_PERSON, "ethnicity", "mz", 0, 0 },
    { EG_PERSON, "nationality", "gjdq", 0, 0 },
    { EG_PERSON, "idType", "sfzjlx", 0, 0 },
    { EG_PERSON, "hkmtoCode", "gatqw", 0, 0 },
    { EG_PERSON, "politicalStatus", "zzmm", 0, 0 },
    { EG_BIT(EG_STD_STUDENT), "enrolmentStatus", "xsdqzt", 0, 0 },
    { EG_BIT(EG_STD_STUDENT) | EG_BIT(EG_STD_CLASS), "gradeLevel", "grade",
      0, 0 },
    { EG_BIT(EG_STD_STAFF), "education", "xl", 0, 0 },
    { EG_BIT(EG_STD_STAFF), "mainStage", "rkxd", 0, 0 },
    { EG_BIT(EG_STD_STAFF), "subjects", "zxxkc", 1, 0 },
    { EG_ORGS, "schoolType", "bxlx", 0, 1 },
    { EG_ORGS, "sponsorCategory", "xxbb", 0, 0 },
    { EG_ORGS, "stages", "rkxd", 1, 0 },
    { EG_BIT(EG_STD_SESSION), "termCode", "xq", 0, 0 },
    { EG_BIT(EG_STD_COURSE) | EG_BIT(EG_STD_LINE_ITEM), "subjectCode",
      "zxxkc", 0, 0 },
    { EG_BIT(EG_STD_COURSE), "courseLevel", "kcdj", 0, 0 },
    { EG_BIT(EG_STD_COURSE), "gradeLevels", "grade", 1, 0 },
    { EG_BIT(EG_STD_CLASS), "stage", "rkxd", 0, 0 },
    { EG_BIT(EG_STD_CLASS), "classType", "zxxbjlx", 0, 0 },
    { EG_BIT(EG_STD_CLASS), "schoolingLength", "xz", 0, 0 },
    { EG_BIT(EG_STD_LINE_ITEM), "examCategory", "kslb", 0, 0 },
    { EG_BIT(EG_STD_LINE_ITEM), "examMethod", "ksfs", 0, 0 },
    { EG_BIT(EG_STD_RESULT), "examStatus", "ksxz", 0, 0 },
};

#define EG_NCODE_FIELDS  (sizeof(eg_code_fields) / sizeof(eg_code_fields[0]))


void
eg_rules_codes(eg_rule_ctx_t *rc)
{
    size_t                  i, j;
    json_t                 *list, *item;
    const char             *type, *v;
    const eg_code_field_t  *f;

    for (i = 0; i < EG_NCODE_FIELDS; i++) {
        f = &eg_code_fields[i];

        if (!(f->entities & EG_BIT(rc->entity))) {
            continue;
        }

        if (!f->list) {
            eg_rules_code_value(rc, f, eg_rule_str(rc->rec, f->field));
            continue;
        }

        list = eg_rule_list(rc->rec, f->field);
        json_array_foreach(list, j, item) {
            v = json_string_value(item);
            eg_rules_code_value(rc, f, (v && v[0]) ? v : "(empty)");
        }
    }

    /* fields the model requires only in some cases */
    if (rc->entity == EG_STD_SCHOOL) {
        if (eg_rule_str(rc->rec, "schoolType") == NULL) {
            eg_rule_report(rc, "schoolType", "R19", EG_STD_ERROR, NULL,
                           "a 3-digit 办学类型 (JY/T 1001 BXLX)",
                           "学校缺少办学类型", "schoolType is missing");
        }
        if (json_array_size(eg_rule_list(rc->rec, "stages")) == 0) {
            eg_rule_report(rc, "stages", "R19", EG_STD_ERROR, NULL,
                           "the stages offered (JY/T 1001 RKXD)",
                           "学校缺少学段", "stages is missing");
        }
    }

    if (rc->entity == EG_STD_SESSION) {
        type = eg_rule_str(rc->rec, "type");
        if (type && strcmp(type, "semester") == 0
            && eg_rule_str(rc->rec, "termCode") == NULL)
        {
            eg_rule_report(rc, "termCode", "R19", EG_STD_ERROR, NULL,
                           "JY/T 1001 XQ", "学期缺少学期码",
                           "a semester needs termCode");
        }
    }

    /* the birthplace may be a division abolished since */
    v = eg_rule_str(rc->rec, "birthplace");
    if ((rc->entity == EG_STD_STUDENT || rc->entity == EG_STD_STAFF)
        && v != NULL && eg_codes_count(rc->ctx->codes, "xzqh") > 0
        && eg_codes_find(rc->ctx->codes, "xzqh", v, NULL) == NULL)
    {
        eg_rule_report(rc, "birthplace", "R04", EG_STD_WARNING, v,
                       "a GB/T 2260 code of any year",
                       "出生地代码不在行政区划代码中",
                       "birthplace is not in GB/T 2260");
    }
}


static void
eg_rules_code_value(eg_rule_ctx_t *rc, const eg_code_field_t *f,
    const char *value)
{
    const eg_code_t  *row;

    if (value == NULL || eg_codes_count(rc->ctx->codes, f->scheme) == 0) {
        return;
    }

    row = eg_codes_find(rc->ctx->codes, f->scheme, value, rc->ctx->today);

    if (row == NULL) {
        if (eg_codes_find(rc->ctx->codes, f->scheme, value, NULL) != NULL) {
            eg_rule_report(rc, f->field, "R19", EG_STD_ERROR, value,
                           f->scheme, "代码已不在有效期内",
                           "the code is no longer in force");
        } else {
            eg_rule_report(rc, f->field, "R19", EG_STD_ERROR, value,
                           f->scheme, "代码不在代码表中",
                           "the code is not in its code table");
        }
        return;
    }

    if (f->leaf3 && strlen(value) != 3) {
        eg_rule_report(rc, f->field, "R19", EG_STD_ERROR, value,
                       "a 3-digit leaf code", "应使用最细一级代码",
                       "a leaf code is required");
    }
}


void
eg_rules_mapping(eg_rule_ctx_t *rc)
{
    json_t      *prov, *note;
    const char  *field, *kind, *raw, *zh, *en;
    char         sev;

    prov = json_object_get(rc->rec, "_prov");

    json_object_foreach(prov, field, note) {
        kind = eg_rule_str(note, "mapping");
        raw = eg_rule_str(note, "raw");

        if (kind == NULL) {
            continue;
        }

        sev = EG_STD_INFO;

        if (strcmp(kind, "synonym") == 0) {
            zh = "按同义词映射";
            en = "mapped through a synonym";

        } else if (strcmp(kind, "name") == 0) {
            zh = "按名称映射为代码";
            en = "mapped from a name to its code";

        } else if (strcmp(kind, "zeropad") == 0) {
            zh = "代码已补零";
            en = "code zero-padded";

        } else if (strcmp(kind, "ambiguous") == 0) {
            sev = EG_STD_WARNING;
            zh = "一对多映射，请配置该厂商的映射";
            en = "one-to-many mapping: configure this vendor's mapping";

        } else {
            /* exact, crosswalk, natural-key, unresolved, and names
               normalised (R26) say nothing by themselves */
            continue;
        }

        eg_rule_report(rc, field, "R20", sev, raw,
                       eg_rule_str(rc->rec, field), zh, en);
    }
}


void
eg_rules_cross(eg_rule_ctx_t *rc)
{
    const char  *type, *nat, *hk, *idn;

    type = eg_rule_str(rc->rec, "idType");
    nat = eg_rule_str(rc->rec, "nationality");
    hk = eg_rule_str(rc->rec, "hkmtoCode");
    idn = eg_rule_str(rc->rec, "idNumber");

    if (type != NULL && strcmp(type, "1") == 0) {
        if (nat != NULL && strcmp(nat, "CHN") != 0) {
            eg_rule_report(rc, "nationality", "R28", EG_STD_ERROR, nat,
                           "CHN", "居民身份证持有人国籍应为中国",
                           "a resident ID card holder is of nationality "
                           "CHN");
        }

        if (hk != NULL && strcmp(hk, "00") != 0) {
            eg_rule_report(rc, "hkmtoCode", "R28", EG_STD_ERROR, hk, "00",
                           "居民身份证持有人港澳"
                           "台侨外码应为空或00",
                           "a resident ID card holder has no "
                           "HK/Macao/Taiwan/overseas code");
        }
    }

    if (type != NULL && strchr("678", type[0]) != NULL && type[1] == '\0'
        && (hk == NULL || strlen(hk) != 2 || hk[0] != '0' || hk[1] < '1'
            || hk[1] > '6'))
    {
        eg_rule_report(rc, "hkmtoCode", "R28", EG_STD_ERROR, hk, "01-06",
                       "港澳台证件持有人须填港澳台码01-06",
                       "HK, Macao and Taiwan documents need hkmtoCode "
                       "01-06");

    } else if (type != NULL && (strcmp(type, "9") == 0
                                || strcmp(type, "A") == 0) && hk == NULL)
    {
        eg_rule_report(rc, "hkmtoCode", "R28", EG_STD_ERROR, NULL,
                       "JY/T 1001 GATQW",
                       "境外证件持有人须填港澳台侨外码",
                       "holders of foreign documents need hkmtoCode");
    }

    if (type != NULL && strcmp(type, "Z") == 0) {
        eg_rule_report(rc, "idType", "R28", EG_STD_WARNING, type, NULL,
                       "无身份证件，学校须留存就读证明",
                       "no identity document: the school keeps a "
                       "certificate of attendance");

    } else if (type != NULL && idn == NULL) {
        eg_rule_report(rc, "idNumber", "R28", EG_STD_ERROR, NULL,
                       "the number of the document", "缺少身份证件号",
                       "idNumber is missing");
    }

    if (nat != NULL && strcmp(nat, "CHN") == 0
        && eg_rule_str(rc->rec, "ethnicity") == NULL)
    {
        eg_rule_report(rc, "ethnicity", "R28", EG_STD_ERROR, NULL,
                       "GB 3304", "中国国籍须填民族",
                       "ethnicity is required for nationality CHN");
    }
}
