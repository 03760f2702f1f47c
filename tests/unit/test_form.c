/*
 * Pins the login form reader: decoding, refused escapes, duplicates and
 * NUL bytes that must never shorten a password.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_form.h"


#define F_USERNAME  0
#define F_PASSWORD  1
#define F_CSRF      2
#define F_RETURN    3
#define F_N         4


typedef struct {
    eg_form_field_t   f[F_N];
    unsigned char    *body;
    unsigned char    *buf;
} form_t;


/* parses n bytes of s through exact-size heap copies, for the sanitizer */

static eg_form_rc_e
parse_n(form_t *form, const char *s, size_t n)
{
    form->f[F_USERNAME].name = "username";
    form->f[F_PASSWORD].name = "password";
    form->f[F_CSRF].name = "csrf";
    form->f[F_RETURN].name = "return";

    form->body = malloc(n ? n : 1);
    form->buf = malloc(n ? n : 1);
    assert_non_null(form->body);
    assert_non_null(form->buf);

    memcpy(form->body, s, n);

    return eg_form_parse(form->body, n, form->f, F_N, form->buf);
}


static eg_form_rc_e
parse(form_t *form, const char *s)
{
    return parse_n(form, s, strlen(s));
}


static void
done(form_t *form)
{
    free(form->body);
    free(form->buf);
}


static void
assert_value(form_t *form, int i, const char *v, size_t n)
{
    assert_true(form->f[i].seen);
    assert_int_equal(form->f[i].len, n);

    if (n) {
        assert_memory_equal(form->f[i].value, v, n);
    }
}


static void
test_login_form(void **state)
{
    form_t  form;

    (void) state;

    assert_int_equal(parse(&form, "username=alice&password=s3cret&csrf=abc"
                                  "&return=%2Fapps%2Fecho%2F"), EG_FORM_OK);

    assert_value(&form, F_USERNAME, "alice", 5);
    assert_value(&form, F_PASSWORD, "s3cret", 6);
    assert_value(&form, F_CSRF, "abc", 3);
    assert_value(&form, F_RETURN, "/apps/echo/", 11);

    done(&form);
}


static void
test_plus_and_escapes(void **state)
{
    form_t  form;

    (void) state;

    assert_int_equal(parse(&form, "username=a+b%20c%2B%2b&password=%e5%bc%a0"
                                  "%41%3d%26"), EG_FORM_OK);

    assert_value(&form, F_USERNAME, "a b c++", 7);
    assert_value(&form, F_PASSWORD, "\xe5\xbc\xa0" "A=&", 6);

    done(&form);
}


static void
test_unknown_fields_skipped(void **state)
{
    form_t  form;

    (void) state;

    assert_int_equal(parse(&form, "x=1&username=bob&x=2&Password=no"
                                  "&lang=en&y"), EG_FORM_OK);

    assert_value(&form, F_USERNAME, "bob", 3);
    assert_false(form.f[F_PASSWORD].seen);
    assert_null(form.f[F_PASSWORD].value);
    assert_int_equal(form.f[F_PASSWORD].len, 0);
    assert_false(form.f[F_CSRF].seen);
    assert_false(form.f[F_RETURN].seen);

    done(&form);
}


static void
test_nul_in_password(void **state)
{
    form_t  form;

    (void) state;

    assert_int_equal(parse(&form, "username=alice&password=%00x"),
                     EG_FORM_NUL);
    done(&form);

    assert_int_equal(parse(&form, "username=alice&password=correct%00junk"),
                     EG_FORM_NUL);
    done(&form);

    assert_int_equal(parse(&form, "password=%00"), EG_FORM_NUL);
    done(&form);

    /* a raw NUL byte in the body is refused the same way */
    assert_int_equal(parse_n(&form, "password=ab\0cd", 14), EG_FORM_NUL);
    done(&form);

    /* but it does not matter in a field nobody asked for */
    assert_int_equal(parse(&form, "junk=%00&password=pw"), EG_FORM_OK);
    assert_value(&form, F_PASSWORD, "pw", 2);
    done(&form);
}


static void
test_empty_values(void **state)
{
    form_t  form;

    (void) state;

    assert_int_equal(parse(&form, "username=alice&password="), EG_FORM_OK);
    assert_value(&form, F_USERNAME, "alice", 5);
    assert_value(&form, F_PASSWORD, "", 0);
    done(&form);

    assert_int_equal(parse(&form, "password&username=alice"), EG_FORM_OK);
    assert_value(&form, F_PASSWORD, "", 0);
    assert_value(&form, F_USERNAME, "alice", 5);
    done(&form);

    assert_int_equal(parse(&form, "username=a=b"), EG_FORM_OK);
    assert_value(&form, F_USERNAME, "a=b", 3);
    done(&form);
}


static void
test_duplicates(void **state)
{
    form_t  form;

    (void) state;

    assert_int_equal(parse(&form, "password=a&password=b"),
                     EG_FORM_DUPLICATE);
    done(&form);

    assert_int_equal(parse(&form, "username=alice&username=alice"),
                     EG_FORM_DUPLICATE);
    done(&form);

    assert_int_equal(parse(&form, "password=&password"), EG_FORM_DUPLICATE);
    done(&form);

    /* the name is decoded before it is compared */
    assert_int_equal(parse(&form, "password=a&pass%77ord=b"),
                     EG_FORM_DUPLICATE);
    done(&form);

    assert_int_equal(parse(&form, "return=%2F&return=%2F%2Fevil.com"),
                     EG_FORM_DUPLICATE);
    done(&form);

    /* unknown fields may repeat */
    assert_int_equal(parse(&form, "x=1&x=2&password=p"), EG_FORM_OK);
    done(&form);
}


static void
test_broken_escapes(void **state)
{
    form_t  form;

    (void) state;

    assert_int_equal(parse(&form, "password=%4"), EG_FORM_BAD_ENCODING);
    done(&form);

    assert_int_equal(parse(&form, "password=%zz"), EG_FORM_BAD_ENCODING);
    done(&form);

    assert_int_equal(parse(&form, "password=%"), EG_FORM_BAD_ENCODING);
    done(&form);

    assert_int_equal(parse(&form, "password=%4&username=a"),
                     EG_FORM_BAD_ENCODING);
    done(&form);

    assert_int_equal(parse(&form, "password=%g0"), EG_FORM_BAD_ENCODING);
    done(&form);

    assert_int_equal(parse(&form, "password=%%41"), EG_FORM_BAD_ENCODING);
    done(&form);

    /* in a name, and in a field nobody asked for */
    assert_int_equal(parse(&form, "pass%4word=x"), EG_FORM_BAD_ENCODING);
    done(&form);

    assert_int_equal(parse(&form, "x=%zz&password=pw"), EG_FORM_BAD_ENCODING);
    done(&form);
}


static void
test_separators(void **state)
{
    form_t  form;

    (void) state;

    assert_int_equal(parse(&form, ""), EG_FORM_OK);
    assert_false(form.f[F_USERNAME].seen);
    done(&form);

    assert_int_equal(parse(&form, "&&username=a&&&password=b&"), EG_FORM_OK);
    assert_value(&form, F_USERNAME, "a", 1);
    assert_value(&form, F_PASSWORD, "b", 1);
    done(&form);

    /* an encoded "&" or "=" is data, not structure */
    assert_int_equal(parse(&form, "username=a%26password%3Dx"), EG_FORM_OK);
    assert_value(&form, F_USERNAME, "a&password=x", 12);
    assert_false(form.f[F_PASSWORD].seen);
    done(&form);
}


static void
test_long_password_kept_whole(void **state)
{
    char    body[700];
    size_t  n, i;
    form_t  form;

    (void) state;

    n = sizeof("password=") - 1;
    memcpy(body, "password=", n);

    for (i = 0; i < 200; i++) {
        memcpy(body + n, "%41", 3);
        n += 3;
    }

    assert_int_equal(parse_n(&form, body, n), EG_FORM_OK);
    assert_int_equal(form.f[F_PASSWORD].len, 200);

    for (i = 0; i < 200; i++) {
        assert_int_equal(form.f[F_PASSWORD].value[i], 'A');
    }

    done(&form);
}


/* one value on its own, as in HTTP Basic credentials (RFC 6749 2.3.1) */

static void
test_decode_one_value(void **state)
{
    size_t         n;
    unsigned char  out[32];

    (void) state;

    assert_int_equal(eg_form_decode(out, (const unsigned char *) "a%3Ab+c",
                                    7, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "a:b c", 5);
    assert_int_equal(eg_form_decode(out, (const unsigned char *) "%41", 3,
                                    &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(eg_form_decode(out, (const unsigned char *) "%00", 3,
                                    &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 0);
    assert_int_equal(eg_form_decode(out, (const unsigned char *) "%4", 2,
                                    &n), -1);
    assert_int_equal(eg_form_decode(out, (const unsigned char *) "%", 1,
                                    &n), -1);
    assert_int_equal(eg_form_decode(out, (const unsigned char *) "%zz", 3,
                                    &n), -1);
    assert_int_equal(eg_form_decode(out, (const unsigned char *) "", 0,
                                    &n), 0);
    assert_int_equal(n, 0);
}


static void
test_strerror(void **state)
{
    (void) state;

    assert_string_equal(eg_form_strerror(EG_FORM_OK), "ok");
    assert_non_null(eg_form_strerror(EG_FORM_DUPLICATE));
    assert_non_null(eg_form_strerror(EG_FORM_BAD_ENCODING));
    assert_non_null(eg_form_strerror(EG_FORM_NUL));
    assert_string_not_equal(eg_form_strerror(EG_FORM_DUPLICATE),
                            eg_form_strerror(EG_FORM_NUL));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_login_form),
        cmocka_unit_test(test_plus_and_escapes),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_nul_in_password),
        cmocka_unit_test(test_empty_values),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_broken_escapes),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_long_password_kept_whole),
        cmocka_unit_test(test_decode_one_value),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
