/*
 * Copyright (C) EduGate contributors
 *
 * application/x-www-form-urlencoded reader for the login form and query
 * strings.  Values are length-counted, so an embedded NUL can never shorten
 * a password; such a value is refused instead.
 */

#ifndef _EG_FORM_H_INCLUDED_
#define _EG_FORM_H_INCLUDED_

#include <stddef.h>


typedef enum {
    EG_FORM_OK = 0,
    EG_FORM_DUPLICATE,      /* a wanted field appears twice */
    EG_FORM_BAD_ENCODING,   /* broken %XX escape */
    EG_FORM_NUL             /* a wanted value decodes to a NUL byte */
} eg_form_rc_e;


typedef struct {
    const char     *name;   /* field name, NUL-terminated */
    unsigned char  *value;  /* decoded value, points into the caller buffer */
    size_t          len;
    unsigned        seen:1;
} eg_form_field_t;


/*
 * Decodes the fields named in "fields" from "body"; other fields are
 * skipped.  "buf" must hold at least "len" bytes: decoded values never grow.
 */
eg_form_rc_e eg_form_parse(const unsigned char *body, size_t len,
    eg_form_field_t *fields, size_t nfields, unsigned char *buf);
const char *eg_form_strerror(eg_form_rc_e rc);

/*
 * One form-encoded value ("+" is a space) into dst (n bytes suffice).
 * 0 with *len set, or -1 on a broken escape.  A NUL byte is decoded like
 * any other: the caller decides.
 */
int eg_form_decode(unsigned char *dst, const unsigned char *src, size_t n,
    size_t *len);

#endif /* _EG_FORM_H_INCLUDED_ */
