/*
 * Copyright (C) EduGate contributors
 */


#include <string.h>

#include "eg_form.h"


static int eg_form_hex(unsigned char c);


/*
 * A broken escape is refused anywhere in the body, even in a field nobody
 * asked for: no browser sends one, and guessing what it meant is where two
 * readers of the same body start to disagree.  Names are decoded too, so
 * "pass%77ord" is the same field as "password".
 */

eg_form_rc_e
eg_form_parse(const unsigned char *body, size_t len, eg_form_field_t *fields,
    size_t nfields, unsigned char *buf)
{
    size_t                i, nlen, vlen, dlen;
    unsigned char        *w;
    eg_form_field_t      *f;
    const unsigned char  *p, *end, *amp, *eq, *value;

    for (i = 0; i < nfields; i++) {
        fields[i].value = NULL;
        fields[i].len = 0;
        fields[i].seen = 0;
    }

    w = buf;
    p = body;
    end = body + len;

    while (p < end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            p++;
            continue;
        }

        eq = memchr(p, '=', amp - p);

        if (eq == NULL) {
            nlen = amp - p;
            value = amp;
            vlen = 0;

        } else {
            nlen = eq - p;
            value = eq + 1;
            vlen = amp - value;
        }

        /* the decoded name is compared in place, a value may overwrite it */

        if (eg_form_decode(w, p, nlen, &dlen) != 0) {
            return EG_FORM_BAD_ENCODING;
        }

        f = NULL;

        for (i = 0; i < nfields; i++) {
            if (strlen(fields[i].name) == dlen
                && memcmp(fields[i].name, w, dlen) == 0)
            {
                f = &fields[i];
                break;
            }
        }

        if (eg_form_decode(w, value, vlen, &dlen) != 0) {
            return EG_FORM_BAD_ENCODING;
        }

        if (f != NULL) {
            if (f->seen) {
                return EG_FORM_DUPLICATE;
            }

            if (memchr(w, '\0', dlen) != NULL) {
                return EG_FORM_NUL;
            }

            f->value = w;
            f->len = dlen;
            f->seen = 1;

            w += dlen;
        }

        p = amp;
    }

    return EG_FORM_OK;
}


const char *
eg_form_strerror(eg_form_rc_e rc)
{
    switch (rc) {

    case EG_FORM_OK:
        return "ok";

    case EG_FORM_DUPLICATE:
        return "duplicate field";

    case EG_FORM_BAD_ENCODING:
        return "broken percent escape";

    case EG_FORM_NUL:
        return "NUL byte in a field value";
    }

    return "unknown form error";
}


int
eg_form_decode(unsigned char *dst, const unsigned char *src, size_t n,
    size_t *len)
{
    int             hi, lo;
    size_t          i;
    unsigned char  *d;

    d = dst;

    for (i = 0; i < n; i++) {

        if (src[i] == '+') {
            *d++ = ' ';
            continue;
        }

        if (src[i] != '%') {
            *d++ = src[i];
            continue;
        }

        if (n - i < 3) {
            return -1;
        }

        hi = eg_form_hex(src[i + 1]);
        lo = eg_form_hex(src[i + 2]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        *d++ = (unsigned char) ((hi << 4) | lo);
        i += 2;
    }

    *len = d - dst;

    return 0;
}


static int
eg_form_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
