/*
 * Copyright (C) EduGate contributors
 *
 * Canonical records (schemas/std/v1) in the shape of the OneRoster 1.2
 * REST binding: the collection key OneRoster names, OneRoster's field
 * names where the data standard gives a counterpart, references as
 * {href, sourcedId, type}, and every China-specific field under
 * metadata.cn.<JY/T mnemonic>.  One mapping table per entity.
 * nginx-free.
 */

#ifndef _EG_ONEROSTER_H_INCLUDED_
#define _EG_ONEROSTER_H_INCLUDED_

#include <jansson.h>


/* the base of every href: the pull API's collections */
#define EG_ONEROSTER_HREF  "/std/v1/"


/* the key of a canonical collection in OneRoster ("students": "users") */
const char *eg_oneroster_key(const char *coll);

/* one canonical record of the collection as a new OneRoster object */
json_t *eg_oneroster_record(const char *coll, json_t *rec);

/*
 * The family and given name of a whole name: a name with U+00B7 is
 * given·…·family; otherwise the first character, or a compound surname
 * of two, is the family name.  Both are malloc()ed; 0, or -1.
 */
int eg_oneroster_split_name(const char *name, char **family,
    char **given);

#endif /* _EG_ONEROSTER_H_INCLUDED_ */
