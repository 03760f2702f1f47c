/*
 * libFuzzer target: a vendor's XML payload through eg_tree_parse, as
 * ngx_http_edugate_std_work.c parses it (same limits, the charset of the
 * Content-Type handed to libxml2), then the walk of fuzz_tree.h.  DTDs,
 * entities and encodings the document declares are the input's to try.
 */


#include <stdarg.h>

#include <libxml/parser.h>

#include "fuzz_tree.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* a message on libxml2's generic handler would be in nginx's error log */

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


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    xmlSetGenericErrorFunc(NULL, fuzz_xml_loud);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_tree_run(data, size, EG_TREE_FORMAT_XML);

    return 0;
}
