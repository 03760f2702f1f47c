/*
 * Copyright (C) EduGate contributors
 */


#include <string.h>

#include "eg_text.h"


#define EG_LANG_OTHER  0
#define EG_LANG_EN     1
#define EG_LANG_ZH     2
#define EG_LANG_ANY    3


typedef struct {
    int     q;      /* thousandths, -1 if not listed */
    size_t  pos;    /* index of the item that gave q */
} eg_lang_rank_t;


static size_t eg_utf8_seq(const unsigned char *p, const unsigned char *end);
static size_t eg_log_keep(const unsigned char *p, const unsigned char *end);
static int eg_lang_item(const unsigned char *p, const unsigned char *end,
    int *q);
static int eg_lang_qvalue(const unsigned char *p, const unsigned char *end);
static int eg_lang_kind(const unsigned char *tag, size_t len);
static int eg_lang_is(const unsigned char *tag, size_t len,
    const char *prefix);
static void eg_lang_note(eg_lang_rank_t *r, int q, size_t pos);


static const unsigned char  eg_text_hex[] = "0123456789abcdef";


int
eg_utf8_valid(const unsigned char *s, size_t n)
{
    size_t                len;
    const unsigned char  *p, *end;

    p = s;
    end = s + n;

    while (p < end) {
        len = eg_utf8_seq(p, end);
        if (len == 0) {
            return 0;
        }

        p += len;
    }

    return 1;
}


int
eg_has_ctl(const unsigned char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
    }

    return 0;
}


size_t
eg_html_escape_len(const unsigned char *s, size_t n)
{
    size_t  i, len;

    len = n;

    for (i = 0; i < n; i++) {
        switch (s[i]) {

        case '&':
        case '\'':
            len += sizeof("&amp;") - 2;
            break;

        case '<':
        case '>':
            len += sizeof("&lt;") - 2;
            break;

        case '"':
            len += sizeof("&quot;") - 2;
            break;
        }
    }

    return len;
}


size_t
eg_html_escape(unsigned char *dst, const unsigned char *s, size_t n)
{
    size_t          i;
    const char     *e;
    unsigned char  *d;

    d = dst;

    for (i = 0; i < n; i++) {
        switch (s[i]) {

        case '&':
            e = "&amp;";
            break;

        case '<':
            e = "&lt;";
            break;

        case '>':
            e = "&gt;";
            break;

        case '"':
            e = "&quot;";
            break;

        case '\'':
            e = "&#39;";
            break;

        default:
            *d++ = s[i];
            continue;
        }

        while (*e) {
            *d++ = (unsigned char) *e++;
        }
    }

    return d - dst;
}


/*
 * A byte that is not part of valid UTF-8 becomes \ufffd, so the output is
 * always a valid JSON string whatever the directory or the client sent.
 */

size_t
eg_json_escape_len(const unsigned char *s, size_t n)
{
    size_t                len, seq;
    const unsigned char  *p, *end;

    len = 0;
    p = s;
    end = s + n;

    while (p < end) {
        seq = eg_utf8_seq(p, end);

        if (seq == 0) {
            len += sizeof("\\ufffd") - 1;
            p++;
            continue;
        }

        if (seq > 1) {
            len += seq;
            p += seq;
            continue;
        }

        switch (*p) {

        case '"':
        case '\\':
        case '\b':
        case '\f':
        case '\n':
        case '\r':
        case '\t':
            len += 2;
            break;

        default:
            if (*p < 0x20 || *p == 0x7f) {
                len += sizeof("\\u0000") - 1;

            } else {
                len++;
            }
        }

        p++;
    }

    return len;
}


size_t
eg_json_escape(unsigned char *dst, const unsigned char *s, size_t n)
{
    size_t                seq;
    unsigned char         c, *d;
    const unsigned char  *p, *end;

    d = dst;
    p = s;
    end = s + n;

    while (p < end) {
        seq = eg_utf8_seq(p, end);

        if (seq == 0) {
            memcpy(d, "\\ufffd", sizeof("\\ufffd") - 1);
            d += sizeof("\\ufffd") - 1;
            p++;
            continue;
        }

        if (seq > 1) {
            memcpy(d, p, seq);
            d += seq;
            p += seq;
            continue;
        }

        c = *p++;

        switch (c) {

        case '"':
        case '\\':
            *d++ = '\\';
            *d++ = c;
            break;

        case '\b':
            *d++ = '\\';
            *d++ = 'b';
            break;

        case '\f':
            *d++ = '\\';
            *d++ = 'f';
            break;

        case '\n':
            *d++ = '\\';
            *d++ = 'n';
            break;

        case '\r':
            *d++ = '\\';
            *d++ = 'r';
            break;

        case '\t':
            *d++ = '\\';
            *d++ = 't';
            break;

        default:
            if (c < 0x20 || c == 0x7f) {
                *d++ = '\\';
                *d++ = 'u';
                *d++ = '0';
                *d++ = '0';
                *d++ = eg_text_hex[c >> 4];
                *d++ = eg_text_hex[c & 0x0f];

            } else {
                *d++ = c;
            }
        }
    }

    return d - dst;
}


size_t
eg_log_escape_len(const unsigned char *s, size_t n)
{
    size_t                len, keep;
    const unsigned char  *p, *end;

    len = 0;
    p = s;
    end = s + n;

    while (p < end) {
        keep = eg_log_keep(p, end);

        if (keep) {
            len += keep;
            p += keep;

        } else {
            len += sizeof("\\x00") - 1;
            p++;
        }
    }

    return len;
}


size_t
eg_log_escape(unsigned char *dst, const unsigned char *s, size_t n)
{
    size_t                keep;
    unsigned char        *d;
    const unsigned char  *p, *end;

    d = dst;
    p = s;
    end = s + n;

    while (p < end) {
        keep = eg_log_keep(p, end);

        if (keep) {
            memcpy(d, p, keep);
            d += keep;
            p += keep;
            continue;
        }

        *d++ = '\\';
        *d++ = 'x';
        *d++ = eg_text_hex[*p >> 4];
        *d++ = eg_text_hex[*p & 0x0f];
        p++;
    }

    return d - dst;
}


/*
 * Each language keeps its best q-value and the position of the item that
 * gave it; "*" stands in for a language that is not listed by name.
 */

int
eg_lang_prefers_en(const unsigned char *s, size_t n)
{
    int                   q, kind;
    size_t                pos;
    eg_lang_rank_t        en, zh, any;
    const unsigned char  *p, *end, *comma;

    if (n == 0) {
        return 0;
    }

    en.q = -1;
    zh.q = -1;
    any.q = -1;
    en.pos = 0;
    zh.pos = 0;
    any.pos = 0;

    p = s;
    end = s + n;

    for (pos = 0; p < end; pos++) {
        comma = memchr(p, ',', end - p);
        if (comma == NULL) {
            comma = end;
        }

        q = 0;
        kind = eg_lang_item(p, comma, &q);

        switch (kind) {

        case EG_LANG_EN:
            eg_lang_note(&en, q, pos);
            break;

        case EG_LANG_ZH:
            eg_lang_note(&zh, q, pos);
            break;

        case EG_LANG_ANY:
            eg_lang_note(&any, q, pos);
            break;
        }

        if (comma == end) {
            break;
        }

        p = comma + 1;
    }

    if (en.q < 0) {
        en = any;
    }

    if (zh.q < 0) {
        zh = any;
    }

    if (en.q <= 0) {
        return 0;
    }

    if (zh.q <= 0) {
        return 1;
    }

    if (en.q != zh.q) {
        return en.q > zh.q;
    }

    return en.pos < zh.pos;
}


/* length of a UTF-8 sequence at p (Unicode table 3-7), 0 if invalid */

static size_t
eg_utf8_seq(const unsigned char *p, const unsigned char *end)
{
    size_t         len, i;
    unsigned char  c, lo, hi;

    c = p[0];

    if (c < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;

        if (c == 0xe0) {
            lo = 0xa0;

        } else if (c == 0xed) {
            hi = 0x9f;
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;

        if (c == 0xf0) {
            lo = 0x90;

        } else if (c == 0xf4) {
            hi = 0x8f;
        }

    } else {
        return 0;
    }

    if ((size_t) (end - p) < len) {
        return 0;
    }

    if (p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < len; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return len;
}


/*
 * How many bytes at p go to the log unchanged.  Backslash and double quote
 * are escaped too, so that an escape sequence or a quoted field in the log
 * can only come from us; C1 controls are escaped as terminals obey them.
 */

static size_t
eg_log_keep(const unsigned char *p, const unsigned char *end)
{
    size_t  len;

    if (*p < 0x80) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '"') {
            return 0;
        }

        return 1;
    }

    len = eg_utf8_seq(p, end);

    if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
        return 0;
    }

    return len;
}


/* the item's language kind, or EG_LANG_OTHER if it is malformed */

static int
eg_lang_item(const unsigned char *p, const unsigned char *end, int *q)
{
    size_t                len;
    const unsigned char  *tag, *semi;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    tag = p;

    while (p < end
           && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
               || (*p >= '0' && *p <= '9') || *p == '-' || *p == '*'))
    {
        p++;
    }

    len = p - tag;

    if (len == 0) {
        return EG_LANG_OTHER;
    }

    *q = 1000;

    for ( ;; ) {
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == end) {
            break;
        }

        if (*p != ';') {
            return EG_LANG_OTHER;
        }

        p++;

        semi = memchr(p, ';', end - p);
        if (semi == NULL) {
            semi = end;
        }

        while (p < semi && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p < semi && (*p == 'q' || *p == 'Q')) {
            *q = eg_lang_qvalue(p + 1, semi);
            if (*q < 0) {
                return EG_LANG_OTHER;
            }
        }

        p = semi;
    }

    return eg_lang_kind(tag, len);
}


/* "=0.5" etc. up to the end of the parameter, in thousandths, or -1 */

static int
eg_lang_qvalue(const unsigned char *p, const unsigned char *end)
{
    int     q, scale;
    size_t  digits;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == end || *p != '=') {
        return -1;
    }

    p++;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == end || (*p != '0' && *p != '1')) {
        return -1;
    }

    q = (*p++ - '0') * 1000;

    if (p < end && *p == '.') {
        p++;
        scale = 100;

        for (digits = 0; p < end && *p >= '0' && *p <= '9'; digits++) {
            if (digits == 3) {
                return -1;
            }

            q += (*p++ - '0') * scale;
            scale /= 10;
        }
    }

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p != end || q > 1000) {
        return -1;
    }

    return q;
}


static int
eg_lang_kind(const unsigned char *tag, size_t len)
{
    if (len == 1 && tag[0] == '*') {
        return EG_LANG_ANY;
    }

    if (eg_lang_is(tag, len, "en")) {
        return EG_LANG_EN;
    }

    if (eg_lang_is(tag, len, "zh")) {
        return EG_LANG_ZH;
    }

    return EG_LANG_OTHER;
}


/* "en" matches "en", "EN", "en-US", but not "eng" */

static int
eg_lang_is(const unsigned char *tag, size_t len, const char *prefix)
{
    if (len < 2
        || (tag[0] | 0x20) != prefix[0]
        || (tag[1] | 0x20) != prefix[1])
    {
        return 0;
    }

    return len == 2 || tag[2] == '-';
}


static void
eg_lang_note(eg_lang_rank_t *r, int q, size_t pos)
{
    if (q > r->q) {
        r->q = q;
        r->pos = pos;
    }
}
