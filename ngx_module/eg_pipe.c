/*
 * Copyright (C) EduGate contributors
 *
 * Known records, validation and the report.  The forwarded batch, the
 * registry and the counters are in eg_pipe_out.c.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_pipe_int.h"
#include "eg_uuid.h"


/*
 * Records by id ("r"): those the batch refers to and does not carry, and
 * the registry's version of the batch's own, which completes them; each
 * with what it refers to in turn (a school's district, its city).  And
 * the records that share a value the rules compare ("f": 学籍号, 学号,
 * a student's enrollments).  Read-only; a find returns at most 100
 * records.  Every question is four arguments ("r", coll, id, ""), so
 * that a big batch's questions go in pieces (a record two pieces both
 * reach comes back twice: eg_pipe_known() keeps one).
 */
static const char  eg_pipe_fetch_lua[] =
    "local refs = { parentId = 'same', orgId = 'orgs', schoolId = 'orgs',"
    " courseId = 'courses', termIds = 'academicSessions',"
    " termId = 'academicSessions', schoolYearId = 'academicSessions',"
    " homeroomClassId = 'classes', classId = 'classes',"
    " lineItemId = 'lineItems', studentId = 'students',"
    " headTeacherId = 'staff' }\n"
    "local seen, out = {}, {}\n"
    "local function get(coll, id, depth)\n"
    "  local k = coll .. ':' .. id\n"
    "  if seen[k] then return end\n"
    "  seen[k] = true\n"
    "  local v = redis.call('GET', 'eg:std:rec:' .. k)\n"
    "  if not v then return end\n"
    "  out[#out + 1] = coll\n"
    "  out[#out + 1] = v\n"
    "  if depth >= 3 then return end\n"
    "  local ok, rec = pcall(cjson.decode, v)\n"
    "  if not ok or type(rec) ~= 'table' then return end\n"
    "  for f, c in pairs(refs) do\n"
    "    local x = rec[f]\n"
    "    if f == 'parentId' then c = coll end\n"
    "    if type(x) == 'string' then get(c, x, depth + 1)\n"
    "    elseif type(x) == 'table' then\n"
    "      for _, y in ipairs(x) do\n"
    "        if type(y) == 'string' then get(c, y, depth + 1) end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if type(rec.personId) == 'string' then\n"
    "    get('students', rec.personId, depth + 1)\n"
    "    get('staff', rec.personId, depth + 1)\n"
    "  end\n"
    "end\n"
    "local i = 1\n"
    "while i <= #ARGV do\n"
    "  if ARGV[i] == 'r' then\n"
    "    get(ARGV[i + 1], ARGV[i + 2], 1)\n"
    "  else\n"
    "    local m = redis.call('SMEMBERS', 'eg:std:idx:' .. ARGV[i + 1]"
    " .. ':' .. ARGV[i + 2] .. ':' .. ARGV[i + 3])\n"
    "    for j = 1, math.min(#m, 100) do get(ARGV[i + 1], m[j], 2) end\n"
    "  end\n"
    "  i = i + 4\n"
    "end\n"
    "return out\n";


typedef struct {
    const char  *rule;
    const char  *zh;
    const char  *en;
} eg_pipe_title_t;


static int eg_pipe_want(json_t *args, json_t *ids, const char *coll,
    const char *id);
static int eg_pipe_find(json_t *args, const char *coll, const char *field,
    const char *value);
static int eg_pipe_complete(json_t *records, json_t *known);
static int eg_pipe_plugin_violations(eg_unify_t *u, json_t *records,
    eg_std_report_t *rep);
static int eg_pipe_has(eg_std_report_t *rep, size_t record,
    const char *field, const char *rule);
static const eg_pipe_title_t *eg_pipe_title(const char *rule);


/* by rule number: R01 ... R29 */
static const eg_pipe_title_t  eg_pipe_titles[] = {
    { "R", "不符合数据标准",
      "breaks the data standard" },
    { "R01", "身份证件号码格式不符",
      "identity number format" },
    { "R02", "身份证件号码校验位不符",
      "identity number check digit" },
    { "R03", "身份证件号码中的出生日期无效",
      "birth date in the identity number" },
    { "R04", "身份证件号码中的行政区划不存在",
      "division in the identity number" },
    { "R05", "性别与身份证件号码不符",
      "sex and identity number disagree" },
    { "R06", "出生日期与身份证件号码不符",
      "birth date and identity number disagree" },
    { "R07", "15位身份证件号码已升位",
      "15-digit identity number" },
    { "R08", "学籍号格式不符",
      "学籍号 format" },
    { "R09", "学籍号（G）与身份证件不符",
      "G 学籍号 rule" },
    { "R10", "学籍号（J）不符合规则",
      "J 学籍号 rule" },
    { "R11", "临时学籍号",
      "temporary 学籍号" },
    { "R12", "学校标识码格式不符",
      "school code format" },
    { "R13", "学校标识码与行政区划省份不符",
      "school code province" },
    { "R14", "学校标识码与办学类型不符",
      "school code category" },
    { "R15", "高校学校标识码不符",
      "higher-education school code" },
    { "R16", "行政区划代码未在用",
      "division code not in use" },
    { "R17", "行政区划代码与机构层级不符",
      "division code level" },
    { "R18", "机构上下级关系不符",
      "org hierarchy" },
    { "R19", "代码不在代码表中",
      "code not in its code table" },
    { "R20", "代码经名称或同义词映射",
      "code mapped by name or synonym" },
    { "R21", "引用的记录不存在或不符",
      "reference not found or wrong" },
    { "R22", "日期不符合规则",
      "date rule" },
    { "R23", "成绩不符合规则",
      "score rule" },
    { "R24", "记录重复",
      "duplicate record" },
    { "R25", "统一社会信用代码不符合规则",
      "unified social credit code" },
    { "R26", "姓名已规范化或不符合规则",
      "name normalised or invalid" },
    { "R27", "手机号码格式不符",
      "mobile number format" },
    { "R28", "字段之间不一致",
      "fields disagree" },
    { "R29", "增量数据缺少状态或修改时间",
      "delta feed header" },
};


const char *
eg_pipe_fetch_script(void)
{
    return eg_pipe_fetch_lua;
}


json_t *
eg_pipe_fetch_args(json_t *records)
{
    int               target;
    size_t            i, j;
    json_t           *args, *ids, *list, *rec, *v, *item;
    const char       *coll, *id, *s, *role;
    const eg_uref_t  *def;

    args = json_array();
    ids = json_object();

    if (args == NULL || ids == NULL) {
        goto failed;
    }

    /* what the batch carries is fetched once, as it was known */
    json_object_foreach(records, coll, list) {
        json_array_foreach(list, i, rec) {
            id = json_string_value(json_object_get(rec, "id"));

            if (id && (json_object_set_new(ids, id, json_true()) != 0
                       || json_array_append_new(args, json_string("r"))
                       || json_array_append_new(args, json_string(coll))
                       || json_array_append_new(args, json_string(id))
                       || json_array_append_new(args, json_string(""))))
            {
                goto failed;
            }
        }
    }

    json_object_foreach(records, coll, list) {
        json_array_foreach(list, i, rec) {
            for (def = eg_unify_refs; def->coll; def++) {
                if (strcmp(def->coll, coll) != 0) {
                    continue;
                }

                v = json_object_get(rec, def->field);

                for (j = 0; j < (def->list ? json_array_size(v) : 1); j++) {
                    item = def->list ? json_array_get(v, j) : v;
                    s = json_string_value(item);

                    if (s == NULL || !eg_uuid_valid(s)) {
                        continue;
                    }

                    if (def->target) {
                        if (eg_pipe_want(args, ids, def->target, s) != 0) {
                            goto failed;
                        }

                        continue;
                    }

                    role = json_string_value(json_object_get(rec, "role"));
                    target = (role && strcmp(role, "student") != 0);

                    if (eg_pipe_want(args, ids, target ? "staff"
                                                       : "students", s)
                        != 0)
                    {
                        goto failed;
                    }
                }
            }

            if (eg_pipe_finds(args, coll, rec) != 0) {
                goto failed;
            }
        }
    }

    json_decref(ids);

    return args;

failed:

    json_decref(args);
    json_decref(ids);

    return NULL;
}


/* the records the rules look up by value rather than by id */

int
eg_pipe_finds(json_t *args, const char *coll, json_t *rec)
{
    const char  *id, *v, *status;

    id = json_string_value(json_object_get(rec, "id"));

    if (strcmp(coll, "students") == 0) {
        v = json_string_value(json_object_get(rec, "studentRegNo"));
        if (v && eg_pipe_find(args, coll, "studentRegNo", v) != 0) {
            return -1;
        }

        v = json_string_value(json_object_get(rec, "studentNo"));
        if (v && eg_pipe_find(args, coll, "studentNo", v) != 0) {
            return -1;
        }

    } else if (strcmp(coll, "results") == 0) {
        v = json_string_value(json_object_get(rec, "studentId"));
        if (v && eg_pipe_find(args, "enrollments", "personId", v) != 0) {
            return -1;
        }
    }

    /* R21g: what still depends on a record being deleted */
    status = json_string_value(json_object_get(rec, "status"));

    if (id == NULL || status == NULL || strcmp(status, "tobedeleted") != 0) {
        return 0;
    }

    if (strcmp(coll, "classes") == 0) {
        return eg_pipe_find(args, "enrollments", "classId", id);
    }

    if (strcmp(coll, "students") == 0 || strcmp(coll, "staff") == 0) {
        return eg_pipe_find(args, "enrollments", "personId", id);
    }

    if (strcmp(coll, "lineItems") == 0) {
        return eg_pipe_find(args, "results", "lineItemId", id);
    }

    if (strcmp(coll, "orgs") == 0) {
        return eg_pipe_find(args, "orgs", "parentId", id)
               || eg_pipe_find(args, "students", "schoolId", id);
    }

    return 0;
}


static int
eg_pipe_want(json_t *args, json_t *ids, const char *coll, const char *id)
{
    char  key[96];

    if (json_object_get(ids, id)) {
        return 0;
    }

    snprintf(key, sizeof(key), "%s:%s", coll, id);

    if (json_object_get(ids, key)) {
        return 0;
    }

    return json_object_set_new(ids, key, json_true())
           || json_array_append_new(args, json_string("r"))
           || json_array_append_new(args, json_string(coll))
           || json_array_append_new(args, json_string(id))
           || json_array_append_new(args, json_string(""));
}


static int
eg_pipe_find(json_t *args, const char *coll, const char *field,
    const char *value)
{
    return json_array_append_new(args, json_string("f"))
           || json_array_append_new(args, json_string(coll))
           || json_array_append_new(args, json_string(field))
           || json_array_append_new(args, json_string(value));
}


json_t *
eg_pipe_known(size_t n, const char *const *values, const size_t *lens)
{
    size_t        i;
    json_t       *known, *list, *rec, *seen;
    const char   *id;
    json_error_t  err;
    char          coll[32], key[128];

    known = json_object();
    seen = json_object();

    if (known == NULL || seen == NULL) {
        json_decref(known);
        json_decref(seen);
        return NULL;
    }

    for (i = 0; i + 1 < n; i += 2) {
        if (values[i] == NULL || values[i + 1] == NULL
            || lens[i] >= sizeof(coll))
        {
            continue;
        }

        memcpy(coll, values[i], lens[i]);
        coll[lens[i]] = '\0';

        if (eg_unify_coll(coll) < 0) {
            continue;
        }

        rec = json_loadb(values[i + 1], lens[i + 1], JSON_REJECT_DUPLICATES,
                         &err);

        if (!json_is_object(rec)) {
            json_decref(rec);
            continue;
        }

        /* the same record reached by two pieces of the fetch */
        id = json_string_value(json_object_get(rec, "id"));

        if (id) {
            snprintf(key, sizeof(key), "%s:%.80s", coll, id);

            if (json_object_get(seen, key)) {
                json_decref(rec);
                continue;
            }

            if (json_object_set_new(seen, key, json_true()) != 0) {
                json_decref(rec);
                goto failed;
            }
        }

        list = json_object_get(known, coll);

        if (list == NULL) {
            list = json_array();
            if (json_object_set_new(known, coll, list) != 0) {
                json_decref(rec);
                goto failed;
            }
        }

        if (json_array_append_new(list, rec) != 0) {
            goto failed;
        }
    }

    json_decref(seen);

    return known;

failed:

    json_decref(seen);
    json_decref(known);

    return NULL;
}


int
eg_pipe_run(const eg_pipe_conf_t *conf, eg_unify_t *u, json_t *known,
    eg_pipe_result_t *res)
{
    json_t        *records;
    eg_std_ctx_t   ctx;

    memset(res, 0, sizeof(eg_pipe_result_t));

    records = eg_unify_records(u);

    if (eg_pipe_complete(records, known) != 0) {
        return -1;
    }

    eg_std_ctx_init(&ctx, conf->codes);
    ctx.now = conf->now;

    if (conf->today && eg_std_ctx_set_today(&ctx, conf->today) != 0) {
        return -1;
    }

    eg_std_registry_from_batch(&ctx.registry, known);

    if (json_object_set_new(records, "batchId",
                            json_string(conf->batch_id)) != 0
        || (conf->delta
            && json_object_set_new(records, "feed", json_string("delta"))
               != 0))
    {
        json_object_del(records, "batchId");
        return -1;
    }

    res->report = eg_std_validate(&ctx, records);

    json_object_del(records, "batchId");
    json_object_del(records, "feed");

    if (res->report == NULL
        || eg_pipe_plugin_violations(u, records, res->report) != 0
        || eg_pipe_cascade(records, res->report) != 0
        || res->report->nomem)
    {
        return -1;
    }

    /* what the rules let through meets the schema, then its dependents */
    if (conf->schema) {
        res->texts = json_array();

        if (res->texts == NULL
            || eg_pipe_xsd(conf->schema, records, res->report, res->texts)
               != 0
            || eg_pipe_cascade(records, res->report) != 0)
        {
            return -1;
        }
    }

    res->payload = json_incref(eg_unify_payload_violations(u));

    /* what a full snapshot leaves out: every record it carries counts */
    if (conf->snapshot && !conf->delta
        && eg_pipe_snapshot_args(conf, records, res) != 0)
    {
        return -1;
    }

    return eg_pipe_output(conf, u, known, res);
}


void
eg_pipe_result_free(eg_pipe_result_t *res)
{
    eg_std_report_free(res->report);
    json_decref(res->forward);
    json_decref(res->store);
    json_decref(res->counters);
    json_decref(res->payload);
    json_decref(res->texts);
    json_decref(res->snapshot);
    json_decref(res->groups);
    json_decref(res->counts);
    json_decref(res->by_id);

    memset(res, 0, sizeof(eg_pipe_result_t));
}


/*
 * What the vendor leaves out of a record the registry knows stays as it
 * was: a semester's dates come from the district's calendar.  But not
 * the state of a deleted copy (a full snapshot's deletion): a record the
 * vendor sends again is present, active unless it says otherwise.  The
 * known records of a collection are looked up by id through an index,
 * not a scan per record.
 */

static int
eg_pipe_complete(json_t *records, json_t *known)
{
    int          rc, deleted;
    size_t       i, j;
    json_t      *list, *rec, *kl, *k, *v, *by_id, *same;
    const char  *coll, *id, *kid, *key, *st;

    json_object_foreach(records, coll, list) {
        kl = json_object_get(known, coll);

        if (json_array_size(kl) == 0) {
            continue;
        }

        by_id = json_object();
        if (by_id == NULL) {
            return -1;
        }

        rc = 0;

        json_array_foreach(kl, j, k) {
            kid = json_string_value(json_object_get(k, "id"));
            if (kid == NULL) {
                continue;
            }

            same = json_object_get(by_id, kid);

            if (same == NULL) {
                same = json_array();
                if (same == NULL
                    || json_object_set_new_nocheck(by_id, kid, same) != 0)
                {
                    rc = -1;
                    break;
                }
            }

            if (json_array_append(same, k) != 0) {
                rc = -1;
                break;
            }
        }

        json_array_foreach(list, i, rec) {
            id = json_string_value(json_object_get(rec, "id"));

            if (rc != 0 || id == NULL) {
                continue;
            }

            json_array_foreach(json_object_get(by_id, id), j, k) {
                st = json_string_value(json_object_get(k, "status"));
                deleted = st != NULL && strcmp(st, "tobedeleted") == 0;

                json_object_foreach(k, key, v) {
                    if (key[0] == '_' || strcmp(key, "source") == 0
                        || (deleted
                            && (strcmp(key, "status") == 0
                                || strcmp(key, "dateLastModified") == 0))
                        || json_object_get(rec, key) != NULL)
                    {
                        continue;
                    }

                    if (json_object_set(rec, key, v) != 0) {
                        rc = -1;
                        break;
                    }
                }
            }
        }

        json_decref(by_id);

        if (rc != 0) {
            return -1;
        }
    }

    return 0;
}


/*
 * The plugin's own findings join the engine's, once per record, field
 * and rule: a synonym the plugin mapped is also in _prov, where the
 * engine finds it.  The report keeps pointers to the strings: they live
 * in u until the report is gone.
 */

static int
eg_pipe_plugin_violations(eg_unify_t *u, json_t *records,
    eg_std_report_t *rep)
{
    int                     e;
    char                    sev;
    size_t                  i, j, idx;
    json_t                 *list, *rec, *viol, *v;
    const char             *rule, *field, *s, *msg;
    const eg_pipe_title_t  *t;

    idx = 0;

    /* the engine numbers records by entity, then batch order */
    for (e = 0; e < EG_STD_NENTITIES; e++) {
        list = json_object_get(records, eg_std_entity_collection(e));

        json_array_foreach(list, i, rec) {
            if (!json_is_object(rec)) {
                continue;
            }

            viol = eg_unify_violations(u, rec);

            json_array_foreach(viol, j, v) {
                rule = json_string_value(json_object_get(v, "rule"));
                field = json_string_value(json_object_get(v, "field"));
                s = json_string_value(json_object_get(v, "severity"));
                msg = json_string_value(json_object_get(v, "message"));

                if (rule == NULL || s == NULL || idx >= rep->nr
                    || eg_pipe_has(rep, idx, field, rule))
                {
                    continue;
                }

                sev = s[0];
                t = eg_pipe_title(rule);

                eg_std_report_add(rep, idx, field, rule, sev,
                                  json_string_value(json_object_get(v,
                                                                 "actual")),
                                  NULL, t->zh, msg ? msg : t->en);
            }

            idx++;
        }
    }

    return rep->nomem ? -1 : 0;
}


static int
eg_pipe_has(eg_std_report_t *rep, size_t record, const char *field,
    const char *rule)
{
    size_t               i;
    eg_std_violation_t  *v;

    for (i = 0; i < rep->nv; i++) {
        v = &rep->v[i];

        if (v->record == record && strcmp(v->rule, rule) == 0
            && ((field == NULL && v->field == NULL)
                || (field && v->field && strcmp(field, v->field) == 0)))
        {
            return 1;
        }
    }

    return 0;
}


static const eg_pipe_title_t *
eg_pipe_title(const char *rule)
{
    int  n;

    n = (rule[1] >= '0' && rule[1] <= '9' && rule[2] >= '0' && rule[2] <= '9')
        ? (rule[1] - '0') * 10 + (rule[2] - '0') : 0;

    return &eg_pipe_titles[(n >= 1 && n <= 29) ? n : 0];
}
