/*
 * Pins the session identity record: field limits, role and org matching,
 * org codes taken from the entry DN, and the JSON form kept in Redis.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "eg_identity.h"


/* a literal and its length, embedded NULs included */
#define T(s)  s, sizeof(s) - 1

#define STU01_DN                                                              \
    "uid=stu01,ou=people,eduOrgCode=3137000001,eduOrgCode=370112,"            \
    "eduOrgCode=370100,eduOrgCode=370000,dc=edu,dc=cn"

#define STU01_PATH  "370000/370100/370112/3137000001"

#define ZHANG  "\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e"


static char *
repeat(char c, size_t n)
{
    char  *s;

    s = malloc(n + 1);
    assert_non_null(s);

    memset(s, c, n);
    s[n] = '\0';

    return s;
}


static void
fill_stu01(eg_identity_t *id)
{
    memset(id, 0, sizeof(eg_identity_t));

    assert_int_equal(eg_identity_set(id, EG_ID_UID, T("stu01")), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_NAME, T(ZHANG)), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_ROLES, T("student")), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_LEVEL, T("school")), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_SCHOOL, T("3137000001")), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_GRADE, T("07")), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_CLASS, T("1")), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_UUID,
                         T("0c6d3e4a-1b2c-4d5e-8f90-a1b2c3d4e5f6")), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_DN, T(STU01_DN)), 0);
    assert_int_equal(eg_identity_org_from_dn(id, STU01_DN, "eduOrgCode"), 0);

    id->auth_time = 1700000000;
    id->expires = 1700028800;
}


static void
test_field_table(void **state)
{
    size_t         cap;
    eg_identity_t  id;

    (void) state;

    assert_ptr_equal(eg_identity_field(&id, EG_ID_UID, &cap), id.uid);
    assert_int_equal(cap, EG_ID_UID_MAX);
    assert_ptr_equal(eg_identity_field(&id, EG_ID_CLASS, &cap), id.klass);
    assert_int_equal(cap, EG_ID_SHORT_MAX);
    assert_ptr_equal(eg_identity_field(&id, EG_ID_DN, &cap), id.dn);
    assert_int_equal(cap, EG_ID_DN_MAX);
    assert_ptr_equal(eg_identity_field(&id, EG_ID_ORG_PATH, &cap),
                     id.org_path);
    assert_int_equal(cap, EG_ID_PATH_MAX);
    assert_null(eg_identity_field(&id, EG_ID_NFIELDS, &cap));

    assert_string_equal(eg_identity_field_name(EG_ID_UID), "uid");
    assert_string_equal(eg_identity_field_name(EG_ID_ORG_PATH), "org_path");
    assert_string_equal(eg_identity_field_name(EG_ID_CLASS), "class");
    assert_string_equal(eg_identity_field_name(EG_ID_DN), "dn");
    assert_null(eg_identity_field_name(EG_ID_NFIELDS));
}


static void
test_set_limits(void **state)
{
    char           *s;
    eg_identity_t   id;

    (void) state;

    memset(&id, 0, sizeof(id));

    assert_int_equal(eg_identity_set(&id, EG_ID_UID, T("stu01")), 0);
    assert_string_equal(id.uid, "stu01");

    /* refused values are never truncated, the old value stays */
    s = repeat('a', EG_ID_UID_MAX + 1);
    assert_int_equal(eg_identity_set(&id, EG_ID_UID, s, strlen(s)), -1);
    assert_string_equal(id.uid, "stu01");

    assert_int_equal(eg_identity_set(&id, EG_ID_UID, s, EG_ID_UID_MAX), 0);
    assert_int_equal(strlen(id.uid), EG_ID_UID_MAX);
    free(s);

    assert_int_equal(eg_identity_set(&id, EG_ID_NAME, T("a\nb")), -1);
    assert_int_equal(eg_identity_set(&id, EG_ID_NAME, T("a\0b")), -1);
    assert_int_equal(eg_identity_set(&id, EG_ID_NAME, T("a\x7f")), -1);
    assert_int_equal(eg_identity_set(&id, EG_ID_NAME, T("\xc0\xaf")), -1);
    assert_int_equal(eg_identity_set(&id, EG_ID_NAME, T(ZHANG)), 0);
    assert_string_equal(id.name, ZHANG);

    assert_int_equal(eg_identity_set(&id, EG_ID_NAME, T("")), 0);
    assert_string_equal(id.name, "");

    assert_int_equal(eg_identity_set(&id, EG_ID_NFIELDS, T("x")), -1);
}


static void
test_roles_append(void **state)
{
    char           *s;
    size_t          left;
    eg_identity_t   id;

    (void) state;

    memset(&id, 0, sizeof(id));

    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("student")), 0);
    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("teacher")), 0);
    assert_string_equal(id.roles, "student,teacher");

    /* a directory value can never smuggle in a second role */
    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("x,itadmin")), -1);
    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("")), -1);
    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("a\nb")), -1);
    assert_string_equal(id.roles, "student,teacher");

    /* fill up to the last byte, then one more is refused */
    left = EG_ID_ROLES_MAX - strlen(id.roles) - 1;
    s = repeat('r', left + 1);
    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, s, left + 1), -1);
    assert_string_equal(id.roles, "student,teacher");

    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, s, left), 0);
    assert_int_equal(strlen(id.roles), EG_ID_ROLES_MAX);
    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("x")), -1);
    assert_int_equal(strlen(id.roles), EG_ID_ROLES_MAX);
    free(s);
}


static void
test_has_role(void **state)
{
    eg_identity_t  id;

    (void) state;

    memset(&id, 0, sizeof(id));

    assert_false(eg_identity_has_role(&id, T("")));
    assert_false(eg_identity_has_role(&id, T("student")));

    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("student")), 0);
    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("teacher")), 0);

    assert_true(eg_identity_has_role(&id, T("student")));
    assert_true(eg_identity_has_role(&id, T("teacher")));
    assert_false(eg_identity_has_role(&id, T("stud")));
    assert_false(eg_identity_has_role(&id, T("eacher")));
    assert_false(eg_identity_has_role(&id, T("Student")));
    assert_false(eg_identity_has_role(&id, T("student,teacher")));
    assert_false(eg_identity_has_role(&id, T("t,teacher")));
    assert_false(eg_identity_has_role(&id, T(",")));
    assert_false(eg_identity_has_role(&id, T("")));
    assert_false(eg_identity_has_role(&id, T("itadmin")));
    assert_false(eg_identity_has_role(&id, T("student\0")));
}


static void
test_in_org(void **state)
{
    eg_identity_t  id;

    (void) state;

    memset(&id, 0, sizeof(id));

    assert_false(eg_identity_in_org(&id, T("")));
    assert_false(eg_identity_in_org(&id, T("370000")));

    strcpy(id.org_path, STU01_PATH);

    assert_true(eg_identity_in_org(&id, T("370000")));
    assert_true(eg_identity_in_org(&id, T("370100")));
    assert_true(eg_identity_in_org(&id, T("370112")));
    assert_true(eg_identity_in_org(&id, T("3137000001")));
    assert_false(eg_identity_in_org(&id, T("3700")));
    assert_false(eg_identity_in_org(&id, T("37000")));
    assert_false(eg_identity_in_org(&id, T("3700000")));
    assert_false(eg_identity_in_org(&id, T("137000001")));
    assert_false(eg_identity_in_org(&id, T("370000/370100")));
    assert_false(eg_identity_in_org(&id, T("/")));
    assert_false(eg_identity_in_org(&id, T("")));
    assert_false(eg_identity_in_org(&id, T("2137000002")));
}


static void
test_org_from_dn(void **state)
{
    eg_identity_t  id;

    (void) state;

    memset(&id, 0, sizeof(id));

    assert_int_equal(eg_identity_org_from_dn(&id, STU01_DN, "eduOrgCode"), 0);
    assert_string_equal(id.org, "3137000001");
    assert_string_equal(id.org_path, STU01_PATH);

    assert_int_equal(eg_identity_org_from_dn(&id,
                         "uid=itadmin,ou=people,eduOrgCode=370112,"
                         "eduOrgCode=370100,eduOrgCode=370000,dc=edu,dc=cn",
                         "eduOrgCode"), 0);
    assert_string_equal(id.org, "370112");
    assert_string_equal(id.org_path, "370000/370100/370112");
}


static void
test_org_from_dn_spelling(void **state)
{
    eg_identity_t  id;

    (void) state;

    memset(&id, 0, sizeof(id));

    /* attribute types compare without ASCII case */
    assert_int_equal(eg_identity_org_from_dn(&id,
                         "uid=a,EDUORGCODE=370112,eduorgcode=370000,dc=cn",
                         "eduOrgCode"), 0);
    assert_string_equal(id.org, "370112");
    assert_string_equal(id.org_path, "370000/370112");

    assert_int_equal(eg_identity_org_from_dn(&id, STU01_DN, "EduOrgCode"),
                     0);
    assert_string_equal(id.org_path, STU01_PATH);

    /* multi-valued RDN */
    assert_int_equal(eg_identity_org_from_dn(&id,
                         "uid=a+eduOrgCode=370112,eduOrgCode=370000,dc=cn",
                         "eduOrgCode"), 0);
    assert_string_equal(id.org, "370112");
    assert_string_equal(id.org_path, "370000/370112");

    /* escaped values are read unescaped */
    assert_int_equal(eg_identity_org_from_dn(&id,
                         "uid=a,eduOrgCode=37\\2C01,dc=cn", "eduOrgCode"), 0);
    assert_string_equal(id.org, "37,01");

    /* a different attribute type that merely starts the same */
    assert_int_equal(eg_identity_org_from_dn(&id,
                         "uid=a,eduOrgCodeX=1,eduOrgCode=370000,dc=cn",
                         "eduOrgCode"), 0);
    assert_string_equal(id.org_path, "370000");
}


static void
test_org_from_dn_no_org(void **state)
{
    eg_identity_t  id;

    (void) state;

    memset(&id, 0, sizeof(id));
    strcpy(id.org, "old");
    strcpy(id.org_path, "old");

    assert_int_equal(eg_identity_org_from_dn(&id,
                         "cn=edugate,ou=services,dc=edu,dc=cn", "eduOrgCode"),
                     0);
    assert_string_equal(id.org, "");
    assert_string_equal(id.org_path, "");

    assert_int_equal(eg_identity_org_from_dn(&id, "", "eduOrgCode"), 0);
    assert_string_equal(id.org, "");
}


static void
check_bad_dn(const char *dn)
{
    eg_identity_t  id;

    memset(&id, 0, sizeof(id));
    strcpy(id.org, "keep");
    strcpy(id.org_path, "keep/me");

    assert_int_equal(eg_identity_org_from_dn(&id, dn, "eduOrgCode"), -1);
    assert_string_equal(id.org, "keep");
    assert_string_equal(id.org_path, "keep/me");
}


static void
test_org_from_dn_bad(void **state)
{
    int             i;
    char           *code, dn[1024];
    eg_identity_t   id;

    (void) state;

    check_bad_dn("not a dn");
    check_bad_dn("uid=a,,dc=cn");
    check_bad_dn("uid=a,eduOrgCode");
    check_bad_dn("=x,dc=cn");

    /* values that cannot be org codes */
    check_bad_dn("uid=a,eduOrgCode=37\\2F00,dc=cn");
    check_bad_dn("uid=a,eduOrgCode=#04023132,dc=cn");
    check_bad_dn("uid=a,eduOrgCode=,dc=cn");
    check_bad_dn("uid=a,eduOrgCode=37\\0A00,dc=cn");
    check_bad_dn("uid=a,eduOrgCode=\\C0\\AF,dc=cn");

    code = repeat('1', EG_ID_CODE_MAX + 1);
    snprintf(dn, sizeof(dn), "uid=a,eduOrgCode=%s,dc=cn", code);
    check_bad_dn(dn);
    free(code);

    /* org_path would not fit */
    code = repeat('2', EG_ID_CODE_MAX);
    strcpy(dn, "uid=a");

    for (i = 0; i < 8; i++) {
        strcat(dn, ",eduOrgCode=");
        strcat(dn, code);
    }

    free(code);
    check_bad_dn(dn);

    memset(&id, 0, sizeof(id));
    assert_int_equal(eg_identity_org_from_dn(&id, NULL, "eduOrgCode"), -1);
    assert_int_equal(eg_identity_org_from_dn(&id, STU01_DN, ""), -1);
}


/* 7 codes of 32 bytes, then the topmost one of "last" bytes */

static int
org_path_of(eg_identity_t *id, size_t last)
{
    int     i;
    char    code[EG_ID_CODE_MAX + 1], dn[1024];

    memset(code, '3', EG_ID_CODE_MAX);
    code[EG_ID_CODE_MAX] = '\0';
    strcpy(dn, "uid=a");

    for (i = 0; i < 7; i++) {
        strcat(dn, ",eduOrgCode=");
        strcat(dn, code);
    }

    code[last] = '\0';
    strcat(dn, ",eduOrgCode=");
    strcat(dn, code);

    memset(id, 0, sizeof(eg_identity_t));

    return eg_identity_org_from_dn(id, dn, "eduOrgCode");
}


static void
test_org_path_exactly_full(void **state)
{
    eg_identity_t  id;

    (void) state;

    /* 7 * 32 + 25 bytes of codes and 7 separators: 256 */
    assert_int_equal(org_path_of(&id, 25), 0);
    assert_int_equal(strlen(id.org_path), EG_ID_PATH_MAX);
    assert_int_equal(strlen(id.org), EG_ID_CODE_MAX);

    assert_int_equal(org_path_of(&id, 26), -1);
    assert_string_equal(id.org_path, "");
}


static void
test_json_round_trip(void **state)
{
    char           *json;
    eg_identity_t   id, back;

    (void) state;

    fill_stu01(&id);
    assert_int_equal(eg_identity_set(&id, EG_ID_ROLES, T("teacher")), 0);

    json = eg_identity_to_json(&id);
    assert_non_null(json);

    memset(&back, 0xa5, sizeof(back));
    assert_int_equal(eg_identity_from_json(&back, json, strlen(json)), 0);
    assert_memory_equal(&back, &id, sizeof(id));

    free(json);
}


static void
test_json_round_trip_odd_text(void **state)
{
    char           *json;
    eg_identity_t   id, back;

    (void) state;

    memset(&id, 0, sizeof(id));
    assert_int_equal(eg_identity_set(&id, EG_ID_UID, T("a\"b\\c")), 0);
    assert_int_equal(eg_identity_set(&id, EG_ID_NAME,
                                      T("</script>\xf0\x9f\x98\x80")), 0);
    id.auth_time = 0;
    id.expires = INT64_MAX;

    json = eg_identity_to_json(&id);
    assert_non_null(json);

    assert_int_equal(eg_identity_from_json(&back, json, strlen(json)), 0);
    assert_memory_equal(&back, &id, sizeof(id));

    free(json);
}


static void
test_json_keys(void **state)
{
    char           *json;
    json_t         *root;
    eg_identity_t   id;

    (void) state;

    fill_stu01(&id);

    json = eg_identity_to_json(&id);
    assert_non_null(json);

    root = json_loads(json, 0, NULL);
    assert_non_null(root);

    assert_string_equal(json_string_value(json_object_get(root, "uid")),
                        "stu01");
    assert_string_equal(json_string_value(json_object_get(root, "name")),
                        ZHANG);
    assert_string_equal(json_string_value(json_object_get(root, "org")),
                        "3137000001");
    assert_string_equal(json_string_value(json_object_get(root, "org_path")),
                        STU01_PATH);
    assert_string_equal(json_string_value(json_object_get(root, "class")),
                        "1");
    assert_string_equal(json_string_value(json_object_get(root, "dn")),
                        STU01_DN);
    assert_true(json_is_integer(json_object_get(root, "auth_time")));
    assert_int_equal(json_integer_value(json_object_get(root, "expires")),
                     1700028800);
    assert_int_equal(json_object_size(root), 13);

    json_decref(root);
    free(json);
}


static void
test_to_json_refuses_broken_record(void **state)
{
    eg_identity_t  id;

    (void) state;

    fill_stu01(&id);
    memset(id.grade, 'g', sizeof(id.grade));
    assert_null(eg_identity_to_json(&id));

    fill_stu01(&id);
    strcpy(id.name, "\xc0\xaf");
    assert_null(eg_identity_to_json(&id));
}


static void
check_from_json(const char *json, int rc)
{
    eg_identity_t  id;

    memset(&id, 0xa5, sizeof(id));

    assert_int_equal(eg_identity_from_json(&id, json, strlen(json)), rc);

    if (rc != 0) {
        assert_string_equal(id.uid, "");
        assert_int_equal(id.expires, 0);
    }
}


#define RECORD(fields)                                                        \
    "{\"uid\":\"stu01\",\"auth_time\":1700000000,\"expires\":1700028800"      \
    fields "}"


static void
test_from_json_minimal(void **state)
{
    eg_identity_t  id;

    (void) state;

    assert_int_equal(eg_identity_from_json(&id, T(RECORD(""))), 0);
    assert_string_equal(id.uid, "stu01");
    assert_string_equal(id.roles, "");
    assert_int_equal(id.auth_time, 1700000000);
    assert_int_equal(id.expires, 1700028800);

    /* keys of a newer version are ignored */
    check_from_json(RECORD(",\"mfa\":true,\"extra\":{\"a\":[1]}"), 0);
    check_from_json(RECORD(",\"name\":\"\""), 0);
}


static void
test_from_json_rejects(void **state)
{
    char  *big, json[512];

    (void) state;

    check_from_json("", -1);
    check_from_json("{", -1);
    check_from_json("[]", -1);
    check_from_json("\"stu01\"", -1);
    check_from_json("null", -1);
    check_from_json("42", -1);
    check_from_json("{}", -1);

    /* required keys */
    check_from_json("{\"auth_time\":1,\"expires\":2}", -1);
    check_from_json("{\"uid\":\"a\",\"expires\":2}", -1);
    check_from_json("{\"uid\":\"a\",\"auth_time\":1}", -1);
    check_from_json("{\"uid\":\"\",\"auth_time\":1,\"expires\":2}", -1);

    /* wrong types */
    check_from_json("{\"uid\":7,\"auth_time\":1,\"expires\":2}", -1);
    check_from_json("{\"uid\":null,\"auth_time\":1,\"expires\":2}", -1);
    check_from_json("{\"uid\":\"a\",\"auth_time\":\"1\",\"expires\":2}", -1);
    check_from_json("{\"uid\":\"a\",\"auth_time\":1.5,\"expires\":2}", -1);
    check_from_json("{\"uid\":\"a\",\"auth_time\":1,\"expires\":true}", -1);
    check_from_json("{\"uid\":\"a\",\"auth_time\":-1,\"expires\":2}", -1);
    check_from_json(RECORD(",\"name\":[\"x\"]"), -1);
    check_from_json(RECORD(",\"roles\":{}"), -1);
    check_from_json(RECORD(",\"class\":1"), -1);

    /* content */
    check_from_json(RECORD(",\"name\":\"a\\nb\""), -1);
    check_from_json(RECORD(",\"name\":\"a\\u0000b\""), -1);
    check_from_json(RECORD(",\"name\":\"\\ud800\""), -1);
    check_from_json(RECORD(",\"uid\":\"other\""), -1);
    check_from_json(RECORD("} "), -1);
    check_from_json(RECORD(" x"), -1);

    big = repeat('u', EG_ID_UID_MAX + 1);
    snprintf(json, sizeof(json),
             "{\"uid\":\"%s\",\"auth_time\":1,\"expires\":2}", big);
    check_from_json(json, -1);
    free(big);

    big = repeat('g', EG_ID_SHORT_MAX + 1);
    snprintf(json, sizeof(json), RECORD(",\"grade\":\"%s\""), big);
    check_from_json(json, -1);
    free(big);

    big = repeat('g', EG_ID_SHORT_MAX);
    snprintf(json, sizeof(json), RECORD(",\"grade\":\"%s\""), big);
    check_from_json(json, 0);
    free(big);
}


static void
test_from_json_is_length_counted(void **state)
{
    size_t          n;
    eg_identity_t   id;
    const char     *json = RECORD("") "garbage";

    (void) state;

    n = sizeof(RECORD("")) - 1;

    assert_int_equal(eg_identity_from_json(&id, json, n), 0);
    assert_int_equal(eg_identity_from_json(&id, json, n - 1), -1);
    assert_int_equal(eg_identity_from_json(&id, json, n + 1), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_field_table),
        cmocka_unit_test(test_set_limits),
        cmocka_unit_test(test_roles_append),
        cmocka_unit_test(test_has_role),
        cmocka_unit_test(test_in_org),
        cmocka_unit_test(test_org_from_dn),
        cmocka_unit_test(test_org_from_dn_spelling),
        cmocka_unit_test(test_org_from_dn_no_org),
        cmocka_unit_test(test_org_from_dn_bad),
        cmocka_unit_test(test_org_path_exactly_full),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_round_trip_odd_text),
        cmocka_unit_test(test_json_keys),
        cmocka_unit_test(test_to_json_refuses_broken_record),
        cmocka_unit_test(test_from_json_minimal),
        cmocka_unit_test(test_from_json_rejects),
        cmocka_unit_test(test_from_json_is_length_counted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
