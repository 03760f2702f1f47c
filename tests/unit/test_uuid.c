/*
 * Pins the unified-id UUIDs: version 5 agrees with RFC 9562's example and
 * with Python's uuid.uuid5 on a UTF-8 name, version 4 has its version and
 * variant bits and differs every time, and the parser refuses what is not
 * a UUID.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_uuid.h"


static void
test_v5(void **state)
{
    char           out[EG_UUID_LEN + 1];
    unsigned char  dns[16], url[16];
    const char    *name;

    (void) state;

    assert_int_equal(eg_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                                   36, dns), 0);
    assert_int_equal(eg_uuid_parse("6BA7B811-9DAD-11D1-80B4-00C04FD430C8",
                                   36, url), 0);

    /* RFC 9562 appendix A.4 */
    assert_int_equal(eg_uuid_v5(dns, "www.example.com", 15, out), 0);
    assert_string_equal(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");

    assert_int_equal(eg_uuid_v5(dns, "python.org", 10, out), 0);
    assert_string_equal(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");

    /* python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL,
       "student|G510104201605120323"))' and the same with Chinese text */
    name = "student|G510104201605120323";
    assert_int_equal(eg_uuid_v5(url, name, strlen(name), out), 0);
    assert_string_equal(out, "fc49b2c3-54d9-5de8-9b7c-db14a5c138f3");

    name = "course|\xe4\xb8\x89\xe5\xb9\xb4\xe7\xba\xa7";
    assert_int_equal(eg_uuid_v5(url, name, strlen(name), out), 0);
    assert_string_equal(out, "2555f532-ddc4-53cb-a083-8633b430b03e");
}


static void
test_v4(void **state)
{
    char  a[EG_UUID_LEN + 1], b[EG_UUID_LEN + 1];

    (void) state;

    assert_int_equal(eg_uuid_v4(a), 0);
    assert_int_equal(eg_uuid_v4(b), 0);

    assert_true(eg_uuid_valid(a));
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_string_not_equal(a, b);
}


static void
test_parse(void **state)
{
    unsigned char  u[16];
    char           out[EG_UUID_LEN + 1];

    static const char  *bad[] = {
        "",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c88",
        "6ba7b810x9dad-11d1-80b4-00c04fd430c8",
        "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
        "{6ba7b810-9dad-11d1-80b4-00c04fd430c}",
        "C202102",
        NULL
    };
    const char **p;

    (void) state;

    for (p = bad; *p; p++) {
        assert_false(eg_uuid_valid(*p));
    }

    assert_false(eg_uuid_valid(NULL));
    assert_int_equal(eg_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                                   35, u), -1);

    assert_int_equal(eg_uuid_parse("6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
                                   36, u), 0);
    eg_uuid_format(u, out);
    assert_string_equal(out, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_v5),
        cmocka_unit_test(test_v4),
        cmocka_unit_test(test_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
