/*
 * Copyright (C) EduGate contributors
 */


#include <string.h>

#include "eg_ldap_filter.h"


#define EG_PH_LEN  (sizeof(EG_LDAP_FILTER_PLACEHOLDER) - 1)


static int eg_ldap_filter_special(unsigned char c);
static int eg_ldap_filter_is_ph(const unsigned char *p,
    const unsigned char *end);


static const unsigned char  eg_ldap_hex[] = "0123456789abcdef";


size_t
eg_ldap_filter_escape_len(const unsigned char *s, size_t n)
{
    size_t  i, len;

    len = n;

    for (i = 0; i < n; i++) {
        if (eg_ldap_filter_special(s[i])) {
            len += 2;
        }
    }

    return len;
}


size_t
eg_ldap_filter_escape(unsigned char *dst, const unsigned char *s, size_t n)
{
    size_t          i;
    unsigned char  *d;

    d = dst;

    for (i = 0; i < n; i++) {
        if (eg_ldap_filter_special(s[i])) {
            *d++ = '\\';
            *d++ = eg_ldap_hex[s[i] >> 4];
            *d++ = eg_ldap_hex[s[i] & 0x0f];

        } else {
            *d++ = s[i];
        }
    }

    return d - dst;
}


/*
 * Parentheses are counted raw: inside a filter value they must already be
 * written as \28 and \29, so every literal one is structure.  The outermost
 * filter has to end with the template, otherwise the substituted text could
 * be followed by a second top-level filter.
 */

const char *
eg_ldap_filter_template_check(const unsigned char *tpl, size_t n)
{
    size_t                depth;
    const unsigned char  *p, *end;

    if (n == 0 || tpl[0] != '(') {
        return "must start with \"(\"";
    }

    if (memchr(tpl, '\0', n) != NULL) {
        return "contains a NUL byte";
    }

    depth = 0;
    end = tpl + n;

    for (p = tpl; p < end; p++) {

        if (*p == '(') {
            depth++;
            continue;
        }

        if (*p != ')') {
            continue;
        }

        if (depth == 0) {
            return "has unbalanced parentheses";
        }

        depth--;

        if (depth == 0 && p + 1 != end) {
            return "has text after the outermost filter";
        }
    }

    if (depth != 0) {
        return "has unbalanced parentheses";
    }

    for (p = tpl; p < end; p++) {
        if (eg_ldap_filter_is_ph(p, end)) {
            return NULL;
        }
    }

    return "has no " EG_LDAP_FILTER_PLACEHOLDER " placeholder";
}


size_t
eg_ldap_filter_build(unsigned char *dst, size_t dstlen,
    const unsigned char *tpl, size_t tlen, const unsigned char *user,
    size_t ulen)
{
    size_t                need, elen;
    unsigned char        *d;
    const unsigned char  *p, *end;

    elen = eg_ldap_filter_escape_len(user, ulen);
    end = tpl + tlen;
    need = 0;

    for (p = tpl; p < end; /* void */) {
        if (eg_ldap_filter_is_ph(p, end)) {
            need += elen;
            p += EG_PH_LEN;

        } else {
            need++;
            p++;
        }
    }

    if (dst == NULL || dstlen <= need) {
        return need;
    }

    d = dst;

    for (p = tpl; p < end; /* void */) {
        if (eg_ldap_filter_is_ph(p, end)) {
            d += eg_ldap_filter_escape(d, user, ulen);
            p += EG_PH_LEN;

        } else {
            *d++ = *p++;
        }
    }

    *d = '\0';

    return need;
}


static int
eg_ldap_filter_special(unsigned char c)
{
    return c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0';
}


static int
eg_ldap_filter_is_ph(const unsigned char *p, const unsigned char *end)
{
    return (size_t) (end - p) >= EG_PH_LEN
           && memcmp(p, EG_LDAP_FILTER_PLACEHOLDER, EG_PH_LEN) == 0;
}
