/*
 * Copyright (C) EduGate contributors
 *
 * UUIDs of the data standard's unified ids (RFC 9562): version 5, a name
 * hashed under a district's namespace, for records with an authoritative
 * natural key; version 4, random, for the registry's own ids.
 */

#ifndef _EG_UUID_H_INCLUDED_
#define _EG_UUID_H_INCLUDED_

#include <stddef.h>


#define EG_UUID_LEN  36             /* text, without the NUL */


/* 0 and the 16 bytes of "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", or -1 */
int eg_uuid_parse(const char *s, size_t len, unsigned char out[16]);
/* 1 if s is a UUID in text form (any version, any case) */
int eg_uuid_valid(const char *s);
/* lowercase text form; out has room for EG_UUID_LEN + 1 */
void eg_uuid_format(const unsigned char u[16], char *out);

/* version 5 of name under ns; 0, or -1 when the digest fails */
int eg_uuid_v5(const unsigned char ns[16], const char *name, size_t len,
    char *out);
/* version 4 from the system's random source; 0, or -1 */
int eg_uuid_v4(char *out);

#endif /* _EG_UUID_H_INCLUDED_ */
