/*
 * libFuzzer target: a vendor's XML payload through eg_tree_parse, as
 * ngx_http_edugate_std_work.c parses it (same limits, the charset of the
 * Content-Type handed to libxml2), then the walk of fuzz_tree.h.  DTDs,
 * entities and encodings the document declares are the input's to try.
 */


#include "fuzz_tree.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_tree_run(data, size, EG_TREE_FORMAT_XML);

    return 0;
}
