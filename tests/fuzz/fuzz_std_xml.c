/*
 * libFuzzer target: the XML rendering of a data-standard batch (or a
 * single record) through eg_std_xml_read, then the rule engine with the
 * real code tables and a registry, and the report (fuzz_std.h).
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
    char     err[256];
    json_t  *batch;

    batch = eg_std_xml_read((const char *) data, size, err, sizeof(err));

    if (batch == NULL) {
        if (err[0] == '\0') {
            fuzz_std_fail("a refusal without a reason", NULL);
        }
        return 0;
    }

    if (!json_is_object(batch)) {
        fuzz_std_fail("the reader's batch is not an object", NULL);
    }

    fuzz_std_validate(batch, NULL, "2025-01-10", 8);
    json_decref(batch);

    return 0;
}
