/*
 * libFuzzer target: the JSON rendering of a data-standard batch, parsed
 * as the engine's callers parse it (jansson, duplicate keys refused), then
 * the rule engine with the real code tables and a registry, and the
 * report (fuzz_std.h).  Values of any JSON type stand where the schema
 * wants strings, lists or objects.
 */


#include "fuzz_std.h"


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    fuzz_std_init();

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t  *batch;

    batch = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                       NULL);
    if (batch == NULL) {
        return 0;
    }

    fuzz_std_validate(batch, NULL, "2025-01-10", 8);
    json_decref(batch);

    return 0;
}
