/*
 * Pins base64url (RFC 4648 vectors, no padding, canonical decode only),
 * hex, constant-time compare, SHA-256 and random token output.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_codec.h"


#define U(s)  ((const unsigned char *) (s))


static void
check_encode(const char *in, const char *out)
{
    size_t          n;
    unsigned char   buf[64];

    memset(buf, '#', sizeof(buf));

    n = eg_b64url_encode(buf, U(in), strlen(in));

    assert_int_equal(n, strlen(out));
    assert_int_equal(n, eg_b64url_len(strlen(in)));
    assert_memory_equal(buf, out, n);
    assert_int_equal(buf[n], '#');
}


static void
check_decode_fails(const char *in)
{
    unsigned char  buf[64];

    assert_int_equal(eg_b64url_decode(buf, U(in), strlen(in)), -1);
    assert_int_equal(eg_is_b64url(U(in), strlen(in)), 0);
}


static void
test_b64url_rfc4648_vectors(void **state)
{
    (void) state;

    check_encode("", "");
    check_encode("f", "Zg");
    check_encode("fo", "Zm8");
    check_encode("foo", "Zm9v");
    check_encode("foob", "Zm9vYg");
    check_encode("fooba", "Zm9vYmE");
    check_encode("foobar", "Zm9vYmFy");
}


static void
test_b64url_url_safe_alphabet(void **state)
{
    size_t               n;
    unsigned char        buf[8];
    static const char    in[] = { (char) 0xfb, (char) 0xff };

    (void) state;

    n = eg_b64url_encode(buf, U(in), 2);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "-_8", 3);

    assert_int_equal(eg_b64url_decode(buf, U("-_8"), 3), 2);
    assert_memory_equal(buf, in, 2);
}


static void
test_b64url_len_macro(void **state)
{
    (void) state;

    assert_int_equal(eg_b64url_len(0), 0);
    assert_int_equal(eg_b64url_len(1), 2);
    assert_int_equal(eg_b64url_len(2), 3);
    assert_int_equal(eg_b64url_len(3), 4);
    assert_int_equal(eg_b64url_len(32), 43);
}


static void
test_b64url_round_trip_every_length(void **state)
{
    size_t          n, i, elen;
    ssize_t         dlen;
    unsigned char   src[100], *enc, *dec;

    (void) state;

    for (n = 0; n <= sizeof(src); n++) {
        for (i = 0; i < n; i++) {
            src[i] = (unsigned char) (i * 151 + n * 7);
        }

        /* exact-size heap buffers so the sanitizer sees any overrun */
        enc = malloc(eg_b64url_len(n) + 1);
        dec = malloc(n + 1);
        assert_non_null(enc);
        assert_non_null(dec);

        elen = eg_b64url_encode(enc, src, n);
        assert_int_equal(elen, eg_b64url_len(n));
        assert_true(eg_is_b64url(enc, elen));

        dlen = eg_b64url_decode(dec, enc, elen);
        assert_int_equal(dlen, (ssize_t) n);
        assert_memory_equal(dec, src, n);

        free(enc);
        free(dec);
    }
}


static void
test_b64url_all_byte_values(void **state)
{
    size_t          i, elen;
    unsigned char   src[256], enc[eg_b64url_len(256)], dec[256];

    (void) state;

    for (i = 0; i < 256; i++) {
        src[i] = (unsigned char) i;
    }

    elen = eg_b64url_encode(enc, src, sizeof(src));

    for (i = 0; i < elen; i++) {
        assert_true(enc[i] != '+' && enc[i] != '/' && enc[i] != '=');
    }

    assert_int_equal(eg_b64url_decode(dec, enc, elen), 256);
    assert_memory_equal(dec, src, 256);
}


static void
test_b64url_decode_rejects(void **state)
{
    unsigned char  buf[16];

    (void) state;

    check_decode_fails("Zm9v=");
    check_decode_fails("Zg==");
    check_decode_fails("Zm+v");
    check_decode_fails("Zm/v");
    check_decode_fails("Zm9 v");
    check_decode_fails("Z");
    check_decode_fails("Zm9vY");
    check_decode_fails("Zm9v\n");
    check_decode_fails("Zm\xc3\xa9");

    /* unused trailing bits set: "Zh" would also decode to "f" */
    check_decode_fails("Zh");
    check_decode_fails("Zm9");

    /* a NUL inside the counted text is not an alphabet character */
    assert_int_equal(eg_b64url_decode(buf, U("Zm\0v"), 4), -1);
    assert_int_equal(eg_is_b64url(U("Zm\0v"), 4), 0);
}


static void
test_b64url_empty(void **state)
{
    unsigned char  buf[1];

    (void) state;

    assert_int_equal(eg_b64url_decode(buf, U(""), 0), 0);
    assert_int_equal(eg_is_b64url(U(""), 0), 1);
}


static void
test_hex_encode(void **state)
{
    unsigned char  buf[8];

    (void) state;

    memset(buf, '#', sizeof(buf));
    eg_hex_encode(buf, U("\x00\xab\xff\x10"), 4);

    assert_memory_equal(buf, "00abff10", 8);
}


static void
test_const_eq(void **state)
{
    (void) state;

    assert_true(eg_const_eq(U("secret"), U("secret"), 6));
    assert_false(eg_const_eq(U("secret"), U("Secret"), 6));
    assert_false(eg_const_eq(U("secret"), U("secreT"), 6));
    assert_false(eg_const_eq(U("a\0b"), U("a\0c"), 3));
    assert_true(eg_const_eq(U("x"), U("y"), 0));
}


static void
test_sha256_hex(void **state)
{
    unsigned char  buf[EG_SHA256_HEX_LEN + 1];

    (void) state;

    memset(buf, '#', sizeof(buf));

    assert_int_equal(eg_sha256_hex(buf, U("abc"), 3), 0);
    assert_memory_equal(buf, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad", 64);
    assert_int_equal(buf[EG_SHA256_HEX_LEN], '#');

    assert_int_equal(eg_sha256_hex(buf, U(""), 0), 0);
    assert_memory_equal(buf, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855", 64);
}


static void
test_random_b64url_session_id(void **state)
{
    unsigned char  a[44], b[44];

    (void) state;

    memset(a, '#', sizeof(a));
    memset(b, '#', sizeof(b));

    assert_int_equal(eg_random_b64url(a, 32), 0);
    assert_int_equal(eg_random_b64url(b, 32), 0);

    assert_true(eg_is_b64url(a, 43));
    assert_int_equal(a[43], '#');
    assert_false(memcmp(a, b, 43) == 0);
}


static void
test_random_b64url_lengths(void **state)
{
    size_t          n, len;
    unsigned char  *buf, dec[200];

    (void) state;

    for (n = 1; n <= 150; n++) {
        len = eg_b64url_len(n);

        buf = malloc(len);
        assert_non_null(buf);

        assert_int_equal(eg_random_b64url(buf, n), 0);
        assert_int_equal(eg_b64url_decode(dec, buf, len), (ssize_t) n);

        free(buf);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_b64url_rfc4648_vectors),
        cmocka_unit_test(test_b64url_url_safe_alphabet),
        cmocka_unit_test(test_b64url_len_macro),
        cmocka_unit_test(test_b64url_round_trip_every_length),
        cmocka_unit_test(test_b64url_all_byte_values),
        cmocka_unit_test(test_b64url_decode_rejects),
        cmocka_unit_test(test_b64url_empty),
        cmocka_unit_test(test_hex_encode),
        cmocka_unit_test(test_const_eq),
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_random_b64url_session_id),
        cmocka_unit_test(test_random_b64url_lengths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
