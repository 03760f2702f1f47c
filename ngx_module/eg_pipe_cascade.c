/*
 * Copyright (C) EduGate contributors
 */


#include <string.h>

#include "eg_pipe_int.h"


static const char *eg_pipe_ref_rule(const char *coll, const char *field,
    const char *target);


/*
 * A record that refers to a record rejected in the same batch goes with
 * it: an enrollment of a rejected student is not forwarded alone.  Until
 * nothing changes, as a rejected class takes its students, which take
 * their enrollments.
 */

int
eg_pipe_cascade(json_t *records, eg_std_report_t *rep)
{
    int               e, changed;
    size_t            i, j, idx;
    json_t           *by_id, *list, *rec, *v, *item, *at;
    const char       *coll, *s, *rule, *ref;
    const eg_uref_t  *def;

    by_id = json_object();
    if (by_id == NULL) {
        return -1;
    }

    /* record -> its index in the report, in the engine's order */
    idx = 0;

    for (e = 0; e < EG_STD_NENTITIES; e++) {
        json_array_foreach(json_object_get(records,
                                           eg_std_entity_collection(e)),
                           i, rec)
        {
            if (!json_is_object(rec)) {
                continue;
            }

            s = json_string_value(json_object_get(rec, "id"));

            if (s && json_object_set_new(by_id, s, json_integer(idx)) != 0) {
                json_decref(by_id);
                return -1;
            }

            idx++;
        }
    }

    do {
        changed = 0;

        json_object_foreach(records, coll, list) {
            json_array_foreach(list, i, rec) {
                s = json_string_value(json_object_get(rec, "id"));
                at = s ? json_object_get(by_id, s) : NULL;

                if (at == NULL
                    || eg_std_report_rejected(rep, json_integer_value(at)))
                {
                    continue;
                }

                for (def = eg_unify_refs; def->coll; def++) {
                    if (strcmp(def->coll, coll) != 0) {
                        continue;
                    }

                    v = json_object_get(rec, def->field);

                    for (j = 0; j < (def->list ? json_array_size(v) : 1);
                         j++)
                    {
                        ref = json_string_value(def->list
                                                ? json_array_get(v, j) : v);
                        item = ref ? json_object_get(by_id, ref) : NULL;

                        if (item == NULL
                            || !eg_std_report_rejected(rep,
                                                 json_integer_value(item)))
                        {
                            continue;
                        }

                        rule = eg_pipe_ref_rule(coll, def->field,
                                                def->target);

                        eg_std_report_add(rep, json_integer_value(at),
                                          def->field, rule, EG_STD_ERROR,
                                          rep->r[json_integer_value(item)]
                                              .vendor_local_id,
                                          "an accepted record",
                                          "引用的记录在本批次中"
                                          "被拒绝",
                                          "refers to a record rejected in "
                                          "this batch");
                        changed = 1;
                        break;
                    }

                    if (eg_std_report_rejected(rep, json_integer_value(at)))
                    {
                        break;
                    }
                }
            }
        }

    } while (changed && !rep->nomem);

    json_decref(by_id);

    return rep->nomem ? -1 : 0;
}


/* the R21 letter of a reference, as the rule engine files them */

static const char *
eg_pipe_ref_rule(const char *coll, const char *field, const char *target)
{
    if (strcmp(coll, "results") == 0 || strcmp(coll, "lineItems") == 0) {
        return "R21f";
    }

    if (strcmp(field, "headTeacherId") == 0) {
        return "R21e";
    }

    if (target == NULL || strcmp(target, "students") == 0
        || strcmp(target, "staff") == 0)
    {
        return "R21c";
    }

    if (strcmp(target, "orgs") == 0) {
        return "R21b";
    }

    return strcmp(target, "academicSessions") == 0 ? "R21d" : "R21a";
}
