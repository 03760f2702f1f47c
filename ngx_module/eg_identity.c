/*
 * Copyright (C) EduGate contributors
 */


#include <stddef.h>
#include <string.h>

#include <jansson.h>
#include <ldap.h>

#include "eg_identity.h"
#include "eg_text.h"


#define EG_ID_MAX_ORGS  (EG_ID_PATH_MAX / 2 + 1)


typedef struct {
    const char  *name;
    size_t       offset;
    size_t       size;
} eg_identity_slot_t;


#define eg_identity_slot(name, field)                                         \
    { name, offsetof(eg_identity_t, field),                                   \
      sizeof(((eg_identity_t *) 0)->field) }


static int eg_identity_value_ok(const char *v, size_t n, size_t cap);
static int eg_identity_item_in(const char *list, char sep, const char *v,
    size_t n);
static int eg_identity_attr_is(const struct berval *attr, const char *name);


/* in eg_id_field_e order */
static const eg_identity_slot_t  eg_identity_slots[EG_ID_NFIELDS] = {
    eg_identity_slot("uid", uid),
    eg_identity_slot("name", name),
    eg_identity_slot("roles", roles),
    eg_identity_slot("org", org),
    eg_identity_slot("org_path", org_path),
    eg_identity_slot("level", level),
    eg_identity_slot("school", school),
    eg_identity_slot("grade", grade),
    eg_identity_slot("class", klass),
    eg_identity_slot("uuid", uuid),
    eg_identity_slot("dn", dn)
};


char *
eg_identity_field(eg_identity_t *id, eg_id_field_e f, size_t *cap)
{
    if ((unsigned) f >= EG_ID_NFIELDS) {
        *cap = 0;
        return NULL;
    }

    *cap = eg_identity_slots[f].size - 1;

    return (char *) id + eg_identity_slots[f].offset;
}


const char *
eg_identity_field_name(eg_id_field_e f)
{
    if ((unsigned) f >= EG_ID_NFIELDS) {
        return NULL;
    }

    return eg_identity_slots[f].name;
}


/*
 * A role may not contain the separator: a directory value "a,b" would
 * otherwise grant two roles.
 */

int
eg_identity_set(eg_identity_t *id, eg_id_field_e f, const char *v, size_t n)
{
    char    *p;
    size_t   cap, used;

    p = eg_identity_field(id, f, &cap);
    if (p == NULL) {
        return -1;
    }

    if (f != EG_ID_ROLES) {
        if (!eg_identity_value_ok(v, n, cap)) {
            return -1;
        }

        memcpy(p, v, n);
        p[n] = '\0';

        return 0;
    }

    if (n == 0 || memchr(v, ',', n) != NULL) {
        return -1;
    }

    used = strlen(p);

    if (used) {
        if (used == cap) {
            return -1;
        }

        cap -= used + 1;
    }

    if (!eg_identity_value_ok(v, n, cap)) {
        return -1;
    }

    if (used) {
        p[used++] = ',';
    }

    memcpy(p + used, v, n);
    p[used + n] = '\0';

    return 0;
}


char *
eg_identity_to_json(const eg_identity_t *id)
{
    char           *out;
    size_t          len;
    json_t         *obj, *v;
    const char     *p;
    eg_id_field_e   f;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    for (f = 0; f < EG_ID_NFIELDS; f++) {
        p = (const char *) id + eg_identity_slots[f].offset;

        len = strnlen(p, eg_identity_slots[f].size);
        if (len == eg_identity_slots[f].size) {
            goto failed;
        }

        v = json_stringn(p, len);
        if (v == NULL
            || json_object_set_new(obj, eg_identity_slots[f].name, v) != 0)
        {
            goto failed;
        }
    }

    v = json_integer(id->auth_time);
    if (v == NULL || json_object_set_new(obj, "auth_time", v) != 0) {
        goto failed;
    }

    v = json_integer(id->expires);
    if (v == NULL || json_object_set_new(obj, "expires", v) != 0) {
        goto failed;
    }

    out = json_dumps(obj, JSON_COMPACT);

    json_decref(obj);

    return out;

failed:

    json_decref(obj);

    return NULL;
}


/*
 * Keys this version does not know are ignored, so that nodes of a newer
 * version can share the session store during a rolling upgrade.
 */

int
eg_identity_from_json(eg_identity_t *id, const char *json, size_t n)
{
    char           *p;
    size_t          cap, len;
    json_t         *root, *v, *at, *exp;
    const char     *s;
    eg_id_field_e   f;

    memset(id, 0, sizeof(eg_identity_t));

    root = json_loadb(json, n, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL) {
        return -1;
    }

    if (!json_is_object(root)) {
        goto failed;
    }

    for (f = 0; f < EG_ID_NFIELDS; f++) {
        v = json_object_get(root, eg_identity_slots[f].name);

        if (v == NULL) {
            if (f == EG_ID_UID) {
                goto failed;
            }

            continue;
        }

        if (!json_is_string(v)) {
            goto failed;
        }

        s = json_string_value(v);
        len = json_string_length(v);
        p = eg_identity_field(id, f, &cap);

        if (!eg_identity_value_ok(s, len, cap)) {
            goto failed;
        }

        memcpy(p, s, len);
        p[len] = '\0';
    }

    at = json_object_get(root, "auth_time");
    exp = json_object_get(root, "expires");

    if (id->uid[0] == '\0'
        || !json_is_integer(at) || !json_is_integer(exp)
        || json_integer_value(at) < 0 || json_integer_value(exp) < 0)
    {
        goto failed;
    }

    id->auth_time = json_integer_value(at);
    id->expires = json_integer_value(exp);

    json_decref(root);

    return 0;

failed:

    json_decref(root);
    memset(id, 0, sizeof(eg_identity_t));

    return -1;
}


/*
 * RDNs come from ldap_str2dn() nearest first.  The codes are collected
 * before anything is written, so a bad DN leaves the identity unchanged.
 */

int
eg_identity_org_from_dn(eg_identity_t *id, const char *dn,
    const char *org_attr)
{
    int             rc;
    char            path[EG_ID_PATH_MAX + 1];
    size_t          i, j, k, norgs, len;
    LDAPDN          ldn;
    LDAPAVA        *ava;
    struct berval  *orgs[EG_ID_MAX_ORGS];

    if (dn == NULL || org_attr == NULL || org_attr[0] == '\0') {
        return -1;
    }

    ldn = NULL;

    if (ldap_str2dn(dn, &ldn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
        return -1;
    }

    rc = -1;
    norgs = 0;

    for (i = 0; ldn != NULL && ldn[i] != NULL; i++) {
        for (j = 0; ldn[i][j] != NULL; j++) {
            ava = ldn[i][j];

            if (!eg_identity_attr_is(&ava->la_attr, org_attr)) {
                continue;
            }

            if ((ava->la_flags & LDAP_AVA_BINARY)
                || ava->la_value.bv_len == 0
                || !eg_identity_value_ok(ava->la_value.bv_val,
                                         ava->la_value.bv_len, EG_ID_CODE_MAX)
                || memchr(ava->la_value.bv_val, '/', ava->la_value.bv_len)
                || norgs == EG_ID_MAX_ORGS)
            {
                goto done;
            }

            orgs[norgs++] = &ava->la_value;
        }
    }

    len = 0;

    for (k = norgs; k > 0; k--) {
        if (len + (len ? 1 : 0) + orgs[k - 1]->bv_len > EG_ID_PATH_MAX) {
            goto done;
        }

        if (len) {
            path[len++] = '/';
        }

        memcpy(path + len, orgs[k - 1]->bv_val, orgs[k - 1]->bv_len);
        len += orgs[k - 1]->bv_len;
    }

    path[len] = '\0';

    memcpy(id->org_path, path, len + 1);

    if (norgs) {
        memcpy(id->org, orgs[0]->bv_val, orgs[0]->bv_len);
        id->org[orgs[0]->bv_len] = '\0';

    } else {
        id->org[0] = '\0';
    }

    rc = 0;

done:

    if (ldn != NULL) {
        ldap_dnfree(ldn);
    }

    return rc;
}


int
eg_identity_has_role(const eg_identity_t *id, const char *role, size_t n)
{
    return eg_identity_item_in(id->roles, ',', role, n);
}


int
eg_identity_in_org(const eg_identity_t *id, const char *code, size_t n)
{
    return eg_identity_item_in(id->org_path, '/', code, n);
}


static int
eg_identity_value_ok(const char *v, size_t n, size_t cap)
{
    if (n > cap) {
        return 0;
    }

    return !eg_has_ctl((const unsigned char *) v, n)
           && eg_utf8_valid((const unsigned char *) v, n);
}


static int
eg_identity_item_in(const char *list, char sep, const char *v, size_t n)
{
    const char  *p, *item;

    if (n == 0) {
        return 0;
    }

    p = list;

    for ( ;; ) {
        item = p;

        while (*p != '\0' && *p != sep) {
            p++;
        }

        if ((size_t) (p - item) == n && memcmp(item, v, n) == 0) {
            return 1;
        }

        if (*p == '\0') {
            return 0;
        }

        p++;
    }
}


static int
eg_identity_attr_is(const struct berval *attr, const char *name)
{
    size_t         i;
    unsigned char  c1, c2;

    if (attr->bv_len != strlen(name)) {
        return 0;
    }

    for (i = 0; i < attr->bv_len; i++) {
        c1 = (unsigned char) attr->bv_val[i];
        c2 = (unsigned char) name[i];

        if (c1 >= 'A' && c1 <= 'Z') {
            c1 |= 0x20;
        }

        if (c2 >= 'A' && c2 <= 'Z') {
            c2 |= 0x20;
        }

        if (c1 != c2) {
            return 0;
        }
    }

    return 1;
}
