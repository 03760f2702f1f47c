/*
 * Copyright (C) EduGate contributors
 *
 * Text checks and escapes for untrusted input: UTF-8 validity, control
 * characters, HTML and JSON escaping, language choice.
 */

#ifndef _EG_TEXT_H_INCLUDED_
#define _EG_TEXT_H_INCLUDED_

#include <stddef.h>


int eg_utf8_valid(const unsigned char *s, size_t n);
/* C0 controls and DEL */
int eg_has_ctl(const unsigned char *s, size_t n);

/* & < > " ' become entities */
size_t eg_html_escape_len(const unsigned char *s, size_t n);
size_t eg_html_escape(unsigned char *dst, const unsigned char *s, size_t n);

/* JSON string body (no quotes): " \ and controls escaped, UTF-8 kept */
size_t eg_json_escape_len(const unsigned char *s, size_t n);
size_t eg_json_escape(unsigned char *dst, const unsigned char *s, size_t n);

/*
 * Log-safe copy: bytes outside printable ASCII and UTF-8 become \xHH, so a
 * user-supplied value can never forge a log line.
 */
size_t eg_log_escape_len(const unsigned char *s, size_t n);
size_t eg_log_escape(unsigned char *dst, const unsigned char *s, size_t n);

/*
 * 1 if an Accept-Language value ranks English above Chinese (q-values
 * honoured; "en", "en-US" count as English, "zh*" as Chinese), else 0.
 */
int eg_lang_prefers_en(const unsigned char *s, size_t n);

#endif /* _EG_TEXT_H_INCLUDED_ */
