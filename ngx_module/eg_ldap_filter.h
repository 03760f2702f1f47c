/*
 * Copyright (C) EduGate contributors
 *
 * LDAP search filter building: RFC 4515 value escaping and the
 * "{user}" template of edugate_ldap_filter.
 */

#ifndef _EG_LDAP_FILTER_H_INCLUDED_
#define _EG_LDAP_FILTER_H_INCLUDED_

#include <stddef.h>


#define EG_LDAP_FILTER_PLACEHOLDER  "{user}"


/* bytes needed to escape s: "*", "(", ")", "\" and NUL become \XX */
size_t eg_ldap_filter_escape_len(const unsigned char *s, size_t n);
size_t eg_ldap_filter_escape(unsigned char *dst, const unsigned char *s,
    size_t n);

/*
 * Returns NULL if the template is usable (balanced parentheses, starts with
 * "(", contains the placeholder at least once), else a short reason.
 */
const char *eg_ldap_filter_template_check(const unsigned char *tpl, size_t n);

/*
 * Writes the filter with every placeholder replaced by the escaped user
 * value and a terminating NUL.  Returns the filter length, or the length
 * needed (excluding the NUL) when dst is NULL or dstlen too small.
 */
size_t eg_ldap_filter_build(unsigned char *dst, size_t dstlen,
    const unsigned char *tpl, size_t tlen, const unsigned char *user,
    size_t ulen);

#endif /* _EG_LDAP_FILTER_H_INCLUDED_ */
