/*
 * Pins the worked vendor examples of the data standard (DATA-STANDARD.md
 * section 5): their canonical forms, read from the XML fixtures that
 * xmllint validates, produce exactly the violations the standard lists.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "std_support.h"


typedef struct {
    eg_codes_t  *codes;
} std_state_t;


static int
setup(void **state)
{
    std_state_t  *s;

    s = calloc(1, sizeof(std_state_t));
    assert_non_null(s);
    s->codes = std_codes();
    *state = s;

    return 0;
}


static int
teardown(void **state)
{
    std_state_t  *s = *state;

    eg_codes_free(s->codes);
    free(s);

    return 0;
}


static eg_std_report_t *
run(std_state_t *s, const char *feed, const char *known, const char *today)
{
    json_t           *batch, *reg;
    eg_std_ctx_t      ctx;
    eg_std_report_t  *rep;

    batch = std_fixture(feed);
    reg = known ? std_fixture(known) : NULL;

    eg_std_ctx_init(&ctx, s->codes);
    assert_int_equal(eg_std_ctx_set_today(&ctx, today), 0);
    ctx.now = 1736501525;   /* 2025-01-10T17:32:05+08:00 */

    if (reg != NULL) {
        eg_std_registry_from_batch(&ctx.registry, reg);
    }

    rep = eg_std_validate(&ctx, batch);
    assert_non_null(rep);

    json_decref(batch);
    json_decref(reg);

    return rep;
}


static void
test_vendor_a(void **state)
{
    eg_std_report_t  *rep;

    static const std_expect_t  exp[] = {
        { "u_88214", "name", "R26", 'I' },
        { "u_88214", "birthDate", "R06", 'E' },
        { "u_88214", "studentRegNo", "R11", 'I' },
        { "u_88214", "enrolmentStatus", "R20", 'I' },
        { "u_88215", "idNumber", "R02", 'E' },
        { "u_88215", "studentRegNo", "R09", 'W' },
        { "u_88215", "homeroomClassId", "R21a", 'E' },
    };

    rep = run(*state, "vendor-a.xml", "registry-a.xml", "2024-09-03");
    std_expect(rep, exp, sizeof(exp) / sizeof(exp[0]));

    /* u_88214 and u_88215 are rejected, the other six records pass */
    assert_int_equal(rep->nr, 8);
    assert_int_equal(rep->errors, 3);
    assert_int_equal(rep->warnings, 1);
    assert_int_equal(rep->infos, 3);

    eg_std_report_free(rep);
}


static void
test_vendor_b(void **state)
{
    eg_std_report_t  *rep;

    static const std_expect_t  exp[] = {
        { "250302018", "examStatus", "R20", 'W' },
        { "250302031", "score", "R23", 'E' },
        { "250302031", "studentId", "R21f", 'E' },
    };

    rep = run(*state, "vendor-b.xml", "registry-b.xml", "2025-01-10");
    std_expect(rep, exp, sizeof(exp) / sizeof(exp[0]));
    eg_std_report_free(rep);
}


/* strict registry policy: the student rejected in 5.1 is unknown */
static void
test_vendor_b_strict(void **state)
{
    eg_std_report_t  *rep;

    static const std_expect_t  exp[] = {
        { "250302018", "examStatus", "R20", 'W' },
        { "250302018", "studentId", "R21f", 'E' },
        { "250302031", "score", "R23", 'E' },
        { "250302031", "studentId", "R21f", 'E' },
    };

    rep = run(*state, "vendor-b.xml", "registry-b-strict.xml", "2025-01-10");
    std_expect(rep, exp, sizeof(exp) / sizeof(exp[0]));
    eg_std_report_free(rep);
}


/*
 * Vendor C's teacher T0193 holds an ID issued in 成都东城区 510102,
 * abolished in 1990.  The generated table has current codes only, so the
 * test adds that one historical row, as a history source would.
 */
static void
test_vendor_c(void **state)
{
    char              err[256];
    std_state_t      *s = *state;
    eg_std_report_t  *rep;

    static const std_expect_t  exp[] = {
        { "T0193", "ethnicity", "R20", 'I' },
        { "T0193", "politicalStatus", "R20", 'I' },
        { "T0193", "education", "R20", 'W' },
        { "T0207", "phone", "R27", 'W' },
    };

    assert_int_equal(eg_codes_load_file(s->codes, STD_FIXTURES
                                        "codes/xzqh-history.csv", err,
                                        sizeof(err)), 0);

    rep = run(s, "vendor-c.xml", "registry-b.xml", "2025-01-10");
    std_expect(rep, exp, sizeof(exp) / sizeof(exp[0]));
    eg_std_report_free(rep);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_vendor_a),
        cmocka_unit_test(test_vendor_b),
        cmocka_unit_test(test_vendor_b_strict),
        cmocka_unit_test(test_vendor_c),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
