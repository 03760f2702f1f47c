/*
 * libFuzzer target for the data standard's reader and rule engine: the
 * input is taken as the XML rendering and, when that fails, as the JSON
 * rendering of a batch; whatever parses is validated against the shipped
 * code tables and a small registry, and the report is rendered.  Finds
 * crashes, leaks and undefined behaviour (built with ASan and UBSan).
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_std.h"
#include "eg_std_xml.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static eg_codes_t  *fuzz_codes;
static json_t      *fuzz_known;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  err[256];

    (void) argc;
    (void) argv;

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

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char              err[256], *text;
    json_t           *batch;
    eg_std_ctx_t      ctx;
    eg_std_report_t  *rep;

    batch = eg_std_xml_read((const char *) data, size, err, sizeof(err));
    if (batch == NULL) {
        batch = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                           NULL);
    }

    if (batch == NULL) {
        return 0;
    }

    eg_std_ctx_init(&ctx, fuzz_codes);
    eg_std_ctx_set_today(&ctx, "2025-01-10");
    eg_std_registry_from_batch(&ctx.registry, fuzz_known);

    rep = eg_std_validate(&ctx, batch);
    if (rep != NULL) {
        text = eg_std_report_json(rep);
        free(text);
        eg_std_report_free(rep);
    }

    json_decref(batch);

    return 0;
}
