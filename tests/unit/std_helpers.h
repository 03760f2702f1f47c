/*
 * Helpers shared by the data standard's unit tests: the shipped and
 * generated code tables, fixtures, and matching a report against the
 * violations a test expects.
 */

#ifndef STD_HELPERS_H
#define STD_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "eg_std.h"
#include "eg_std_xml.h"


#define STD_CODES      "schemas/std/v1/codes"
#define STD_GENERATED  "build/std/codes"
#define STD_FIXTURES   "tests/fixtures/std/"


typedef struct {
    const char  *vendor_local_id;   /* or the unified id when NULL */
    const char  *field;
    const char  *rule;
    char         severity;
} std_expect_t;


static inline eg_codes_t *
std_codes(void)
{
    char         err[256];
    eg_codes_t  *codes;

    codes = eg_codes_new();
    assert_non_null(codes);

    if (eg_codes_load_dir(codes, STD_CODES, err, sizeof(err)) != 0
        || eg_codes_load_dir(codes, STD_GENERATED, err, sizeof(err)) != 0)
    {
        fail_msg("code tables: %s (run make schemas)", err);
    }

    return codes;
}


static inline json_t *
std_fixture(const char *name)
{
    char     path[256], err[256];
    json_t  *batch;

    snprintf(path, sizeof(path), "%s%s", STD_FIXTURES, name);
    batch = eg_std_xml_read_file(path, err, sizeof(err));
    if (batch == NULL) {
        fail_msg("%s: %s", path, err);
    }

    return batch;
}


static inline void
std_dump(const eg_std_report_t *rep)
{
    size_t                     i;
    const eg_std_violation_t  *v;
    const eg_std_record_t     *r;

    for (i = 0; i < rep->nv; i++) {
        v = &rep->v[i];
        r = &rep->r[v->record];
        print_message("  %s %s %s %s %c actual=%s expected=%s\n",
                      eg_std_entity_name(r->entity),
                      r->vendor_local_id ? r->vendor_local_id
                                         : (r->unified_id ? r->unified_id
                                                          : "-"),
                      v->field ? v->field : "-", v->rule, v->severity,
                      v->actual ? v->actual : "-",
                      v->expected ? v->expected : "-");
    }
}


/* the report holds exactly the expected violations, in any order */
static inline void
std_expect(const eg_std_report_t *rep, const std_expect_t *exp, size_t n)
{
    int                        ok;
    size_t                     i, j, hits;
    const char                *who;
    const eg_std_violation_t  *v;
    const eg_std_record_t     *r;

    ok = (rep->nv == n);

    for (i = 0; i < n && ok; i++) {
        hits = 0;
        for (j = 0; j < rep->nv; j++) {
            v = &rep->v[j];
            r = &rep->r[v->record];
            who = r->vendor_local_id ? r->vendor_local_id : r->unified_id;

            if (who && strcmp(who, exp[i].vendor_local_id) == 0
                && v->field && strcmp(v->field, exp[i].field) == 0
                && strcmp(v->rule, exp[i].rule) == 0
                && v->severity == exp[i].severity)
            {
                hits++;
            }
        }
        ok = (hits == 1);
    }

    if (!ok) {
        print_message("expected %zu violations, got %zu:\n", n, rep->nv);
        std_dump(rep);
        fail();
    }
}

#endif /* STD_HELPERS_H */
