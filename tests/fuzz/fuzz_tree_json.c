/*
 * libFuzzer target: a vendor's JSON payload through eg_tree_parse, as
 * ngx_http_edugate_std_work.c parses it (same limits, any charset of the
 * Content-Type), then the walk of fuzz_tree.h.  A payload that iconv can
 * transcode must not be refused as "not valid" in its charset: the
 * transcoding buffer has to be large enough for any charset.
 */


#include <iconv.h>

#include "fuzz_tree.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_transcodes(const char *charset, const unsigned char *p,
    size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 err[256];
    size_t               len;
    const char          *charset;
    eg_tree_t           *t;
    eg_tree_limits_t     lim;
    const unsigned char *p;

    fuzz_tree_run(data, size, EG_TREE_FORMAT_JSON);

    fuzz_tree_input(data, size, &p, &len, &charset);

    if (charset == NULL) {
        return 0;
    }

    fuzz_tree_limits(&lim);

    t = eg_tree_parse(p, len, EG_TREE_FORMAT_JSON, charset, &lim, err,
                      sizeof(err));
    if (t != NULL) {
        eg_tree_free(t);
        return 0;
    }

    if (strncmp(err, "payload is not valid", 20) == 0
        && fuzz_transcodes(charset, p, len))
    {
        fprintf(stderr, "fuzz_tree_json: refused as %s although iconv "
                "transcodes it: %s\n", charset, err);
        abort();
    }

    return 0;
}


/* 1 if iconv turns the whole input into UTF-8 (4 bytes per input byte
   is enough for every charset: no byte stands for two characters) */

static int
fuzz_transcodes(const char *charset, const unsigned char *p, size_t len)
{
    int      ok;
    char    *ip, *op, *out;
    size_t   il, ol;
    iconv_t  cd;

    cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t) -1) {
        return 0;
    }

    out = malloc(len * 4 + 16);
    if (out == NULL) {
        iconv_close(cd);
        return 0;
    }

    ip = (char *) p;
    il = len;
    op = out;
    ol = len * 4 + 16;

    ok = iconv(cd, &ip, &il, &op, &ol) != (size_t) -1;

    iconv_close(cd);
    free(out);

    return ok;
}
