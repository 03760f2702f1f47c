/*
 * What the data-standard targets (fuzz_std_xml.c, fuzz_std_json.c,
 * fuzz_rules.c) share: the real code tables (schemas/std/v1/codes and
 * the generated ones of `make schemas`), a registry of known records,
 * and a validation whose report is checked for what must always hold:
 * totals that add up, violations that point at a record and carry a rule
 * and a severity, no ID number left unmasked, JSON that parses back.
 * Run from the top directory of the tree.
 */

#ifndef _FUZZ_STD_H_INCLUDED_
#define _FUZZ_STD_H_INCLUDED_

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "eg_std.h"
#include "eg_std_xml.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static eg_codes_t  *fuzz_codes;
static json_t      *fuzz_known;


static void
fuzz_std_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_std: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}


/*
 * libxml2's generic handler writes to stderr, nginx's error log: the
 * readers must keep it quiet, so any message that reaches it is a bug.
 */

static void
fuzz_xml_loud(void *ctx, const char *msg, ...)
{
    va_list  args;

    (void) ctx;

    fprintf(stderr, "fuzz: libxml2 wrote to its generic handler: ");
    va_start(args, msg);
    vfprintf(stderr, msg, args);
    va_end(args);
    abort();
}


static void
fuzz_std_init(void)
{
    char  err[256];

    xmlSetGenericErrorFunc(NULL, fuzz_xml_loud);

    fuzz_codes = eg_codes_new();

    if (fuzz_codes == NULL
        || eg_codes_load_dir(fuzz_codes, "schemas/std/v1/codes", err,
                             sizeof(err)) != 0
        || eg_codes_load_dir(fuzz_codes, "build/std/codes", err,
                             sizeof(err)) != 0)
    {
        fprintf(stderr, "fuzz_std: code tables: %s (run from the top "
                "directory after make schemas)\n", err);
        exit(1);
    }

    fuzz_known = eg_std_xml_read_file("tests/fixtures/std/registry-b.xml",
                                      err, sizeof(err));
    if (fuzz_known == NULL) {
        fprintf(stderr, "fuzz_std: registry: %s\n", err);
        exit(1);
    }
}


/* a run of 14 digits is an ID number or a 学籍号 body: never in a report */

static int
fuzz_std_unmasked(const char *s)
{
    size_t  run;

    for (run = 0; s != NULL && *s; s++) {
        run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
        if (run >= 14) {
            return 1;
        }
    }

    return 0;
}


static void
fuzz_std_check_report(const eg_std_report_t *rep)
{
    char                      *text;
    size_t                     i;
    json_t                    *back;
    unsigned                   e, w, n;
    const eg_std_violation_t  *v;

    if (rep->nomem) {
        return;
    }

    e = w = n = 0;

    for (i = 0; i < rep->nr; i++) {
        e += rep->r[i].errors;
        w += rep->r[i].warnings;
        n += rep->r[i].infos;
    }

    if (e != rep->errors || w != rep->warnings || n != rep->infos
        || (size_t) e + w + n != rep->nv)
    {
        fuzz_std_fail("totals do not add up", NULL);
    }

    for (i = 0; i < rep->nv; i++) {
        v = &rep->v[i];

        if (v->record >= rep->nr) {
            fuzz_std_fail("a violation of no record", v->rule);
        }

        if (v->rule == NULL || v->rule[0] != 'R' || v->message_zh == NULL
            || v->message_en == NULL)
        {
            fuzz_std_fail("a violation without rule or message", v->rule);
        }

        if (v->severity != EG_STD_ERROR && v->severity != EG_STD_WARNING
            && v->severity != EG_STD_INFO)
        {
            fuzz_std_fail("a violation without a severity", v->rule);
        }

        if (fuzz_std_unmasked(v->actual) || fuzz_std_unmasked(v->expected)) {
            fuzz_std_fail("an unmasked ID number in the report", v->rule);
        }
    }

    text = eg_std_report_json(rep);
    if (text == NULL) {
        return;
    }

    back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (back == NULL) {
        fuzz_std_fail("the report is not JSON", NULL);
    }

    json_decref(back);
    free(text);
}


/*
 * Validates twice with the same inputs: the two reports must be the same
 * text, or the engine kept state between batches or read memory it never
 * wrote.  known: the registry's records, NULL for registry-b.xml.
 */

static void
fuzz_std_validate(json_t *batch, json_t *known, const char *today,
    int year_start)
{
    int               i;
    char             *text[2];
    eg_std_ctx_t      ctx;
    eg_std_report_t  *rep;

    eg_std_ctx_init(&ctx, fuzz_codes);
    if (eg_std_ctx_set_today(&ctx, today) != 0) {
        eg_std_ctx_set_today(&ctx, "2025-01-10");
    }

    ctx.year_start = year_start;
    ctx.now = 1736467200;           /* 2025-01-10, the same for a rerun */
    eg_std_registry_from_batch(&ctx.registry, known ? known : fuzz_known);

    for (i = 0; i < 2; i++) {
        text[i] = NULL;

        rep = eg_std_validate(&ctx, batch);
        if (rep != NULL) {
            fuzz_std_check_report(rep);
            text[i] = eg_std_report_json(rep);
            eg_std_report_free(rep);
        }
    }

    if (text[0] != NULL && text[1] != NULL && strcmp(text[0], text[1]) != 0)
    {
        fuzz_std_fail("two validations of one batch differ", NULL);
    }

    free(text[0]);
    free(text[1]);
}

#endif /* _FUZZ_STD_H_INCLUDED_ */
