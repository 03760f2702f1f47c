/*
 * libFuzzer target: a code table as CSV (eg_codes_load_buf), as a
 * district ships its own (kslb.csv) next to the standard's.  Every row a
 * load accepts must be found again, by code and on a date inside its
 * validity; a refusal must say which line.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eg_std_codes.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_codes_check(const eg_codes_t *codes, const char *scheme,
    const char *buf, size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          rc;
    char         err[256];
    eg_codes_t  *codes;

    codes = eg_codes_new();
    if (codes == NULL) {
        return 0;
    }

    rc = eg_codes_load_buf(codes, "fz", (const char *) data, size, err,
                           sizeof(err));

    if (rc != 0 && strstr(err, "fz") == NULL) {
        fprintf(stderr, "fuzz_codes_csv: a refusal not naming the table: "
                "%s\n", err);
        abort();
    }

    if (rc == 0) {
        fuzz_codes_check(codes, "fz", (const char *) data, size);
    }

    eg_codes_free(codes);

    return 0;
}


/*
 * A table with only a code column is the common case: each line's first
 * field, when it is a plain code, must be found (the default scheme is
 * the table's name).
 */

static void
fuzz_codes_check(const eg_codes_t *codes, const char *scheme,
    const char *buf, size_t len)
{
    char              code[64];
    size_t            i, n;
    const char       *p, *end, *nl;
    const eg_code_t  *row;

    p = memchr(buf, '\n', len);
    if (p == NULL || memchr(buf, '\0', len) != NULL
        || strncmp(buf, "code\n", 5) != 0)
    {
        return;
    }

    end = buf + len;

    for (p++; p < end; p = nl + 1) {
        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            nl = end;
        }

        n = nl - p;
        if (n == 0 || n >= sizeof(code)) {
            continue;
        }

        for (i = 0; i < n; i++) {
            if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A'
                                                    && p[i] <= 'Z')))
            {
                break;
            }
        }

        if (i < n) {
            continue;
        }

        memcpy(code, p, n);
        code[n] = '\0';

        row = eg_codes_find(codes, scheme, code, NULL);
        if (row == NULL || strcmp(row->code, code) != 0) {
            fprintf(stderr, "fuzz_codes_csv: loaded code %s not found\n",
                    code);
            abort();
        }
    }
}
