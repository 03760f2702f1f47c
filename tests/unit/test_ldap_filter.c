/*
 * Pins RFC 4515 escaping of the user name and the checks on the
 * edugate_ldap_filter template, so that no user name can widen a search.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_ldap_filter.h"


#define U(s)  ((const unsigned char *) (s))

/* a literal and its length, embedded NULs included */
#define T(s)  s, sizeof(s) - 1

#define DEFAULT_TPL  "(&(objectClass=eduPerson)(uid={user}))"


static void
check_escape_n(const char *in, size_t n, const char *out)
{
    size_t          len;
    unsigned char  *buf;

    len = eg_ldap_filter_escape_len(U(in), n);
    assert_int_equal(len, strlen(out));

    buf = malloc(len + 1);
    assert_non_null(buf);

    assert_int_equal(eg_ldap_filter_escape(buf, U(in), n), len);
    assert_memory_equal(buf, out, len);

    free(buf);
}


static void
check_escape(const char *in, const char *out)
{
    check_escape_n(in, strlen(in), out);
}


static void
check_build(const char *tpl, const char *user, size_t ulen, const char *out)
{
    size_t          need, rc;
    unsigned char  *buf;

    need = eg_ldap_filter_build(NULL, 0, U(tpl), strlen(tpl), U(user), ulen);
    assert_int_equal(need, strlen(out));

    buf = malloc(need + 1);
    assert_non_null(buf);

    rc = eg_ldap_filter_build(buf, need + 1, U(tpl), strlen(tpl), U(user),
                              ulen);
    assert_int_equal(rc, need);
    assert_string_equal((char *) buf, out);

    free(buf);
}


static void
test_escape_injection_strings(void **state)
{
    (void) state;

    check_escape("*)(uid=*", "\\2a\\29\\28uid=\\2a");
    check_escape("alice)(|(uid=*", "alice\\29\\28|\\28uid=\\2a");
    check_escape("x))((cn=alice", "x\\29\\29\\28\\28cn=alice");
    check_escape("*)(objectClass=*", "\\2a\\29\\28objectClass=\\2a");
    check_escape("*", "\\2a");
    check_escape("a\\2a", "a\\5c2a");
}


static void
test_escape_nul(void **state)
{
    (void) state;

    check_escape_n("alice\0x", 7, "alice\\00x");
    check_escape_n("\0", 1, "\\00");
}


static void
test_escape_leaves_the_rest(void **state)
{
    (void) state;

    check_escape("", "");
    check_escape("stu01", "stu01");
    check_escape("a.b-c_d@e=f&|!~", "a.b-c_d@e=f&|!~");
    check_escape("\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e",
                 "\xe5\xbc\xa0\xe5\xb0\x8f\xe6\x98\x8e");
}


static void
test_build_default_template(void **state)
{
    (void) state;

    check_build(DEFAULT_TPL, "stu01", 5,
                "(&(objectClass=eduPerson)(uid=stu01))");

    check_build(DEFAULT_TPL, "*)(uid=*", 8,
                "(&(objectClass=eduPerson)(uid=\\2a\\29\\28uid=\\2a))");

    check_build(DEFAULT_TPL, "alice)(|(uid=*", 14,
                "(&(objectClass=eduPerson)"
                "(uid=alice\\29\\28|\\28uid=\\2a))");

    check_build(DEFAULT_TPL, "x))((cn=alice", 13,
                "(&(objectClass=eduPerson)(uid=x\\29\\29\\28\\28cn=alice))");

    check_build(DEFAULT_TPL, "alice\0", 6,
                "(&(objectClass=eduPerson)(uid=alice\\00))");
}


static void
test_build_every_placeholder(void **state)
{
    (void) state;

    check_build("(|(uid={user})(mail={user}))", "a*", 2,
                "(|(uid=a\\2a)(mail=a\\2a))");

    /* the value is inserted once, never expanded again */
    check_build("(uid={user})", "{user}", 6, "(uid={user})");

    check_build("(uid={use{user}r})", "x", 1, "(uid={usexr})");
    check_build("(uid={user}", "", 0, "(uid=");
}


static void
test_build_small_buffer(void **state)
{
    size_t          need;
    unsigned char   buf[64];
    const char     *tpl = "(uid={user})";

    (void) state;

    need = eg_ldap_filter_build(NULL, 100, U(tpl), strlen(tpl), U("a("), 2);
    assert_int_equal(need, 10);

    /* no room for the NUL: nothing is written */
    memset(buf, '#', sizeof(buf));
    assert_int_equal(eg_ldap_filter_build(buf, need, U(tpl), strlen(tpl),
                                          U("a("), 2), need);
    assert_int_equal(buf[0], '#');

    assert_int_equal(eg_ldap_filter_build(buf, 0, U(tpl), strlen(tpl),
                                          U("a("), 2), need);

    assert_int_equal(eg_ldap_filter_build(buf, need + 1, U(tpl), strlen(tpl),
                                          U("a("), 2), need);
    assert_string_equal((char *) buf, "(uid=a\\28)");
}


static void
check_template(const char *tpl, size_t n, int ok)
{
    const char  *reason;

    reason = eg_ldap_filter_template_check(U(tpl), n);

    if (ok) {
        assert_null(reason);

    } else {
        assert_non_null(reason);
        assert_true(strlen(reason) > 0);
    }
}


static void
test_template_check(void **state)
{
    (void) state;

    check_template(T(DEFAULT_TPL), 1);
    check_template(T("(uid={user})"), 1);
    check_template(T("(|(uid={user})(mail={user}))"), 1);
    check_template(T("(&(cn=a\\28b\\29)(uid={user}))"), 1);

    check_template(T(""), 0);
    check_template(T("uid={user}"), 0);
    check_template(T(" (uid={user})"), 0);
    check_template(T("(uid={user}"), 0);
    check_template(T("(uid={user}))"), 0);
    check_template(T("(uid={user})(cn=x)"), 0);
    check_template(T("(cn=a\\28b\\29)(uid={user})"), 0);
    check_template(T("(uid={user}) "), 0);
    check_template(T("(&(uid={user})))("), 0);
    check_template(T(")(uid={user})("), 0);
    check_template(T("(uid=alice)"), 0);
    check_template(T("(uid={USER})"), 0);
    check_template(T("(uid={user})\0"), 0);
    check_template(T("(uid=\0{user})"), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_escape_injection_strings),
        cmocka_unit_test(test_escape_nul),
        cmocka_unit_test(test_escape_leaves_the_rest),
        cmocka_unit_test(test_build_default_template),
        cmocka_unit_test(test_build_every_placeholder),
        cmocka_unit_test(test_build_small_buffer),
        cmocka_unit_test(test_template_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
