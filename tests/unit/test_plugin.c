/*
 * Pins the checks a plugin passes before it is loaded and the messages of
 * each refusal: instance names, who may write the file and every
 * directory on its way (through symbolic links too), the SHA-256 pin, the
 * descriptor (ABI major and minor, sizes, name) and what describe() may
 * declare.  The gateway and edugate-plugin-check share these functions.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "eg_plugin.h"


static char  dir[4096];


static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE  *f;

    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}


static int
setup(void **state)
{
    (void) state;

    assert_non_null(getcwd(dir, sizeof(dir) - 200));
    snprintf(dir + strlen(dir), 200, "/build/unit/trust-%d", (int) getpid());

    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(chmod(dir, 0755), 0);

    return 0;
}


static int
teardown(void **state)
{
    char  cmd[4200];

    (void) state;

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);

    return 0;
}


static void
expect_untrusted(const char *path, const char *why)
{
    char  err[EG_PLUGIN_ERR_MAX];

    assert_int_equal(eg_plugin_trusted(path, err, sizeof(err)), -1);

    if (strstr(err, why) == NULL) {
        fail_msg("\"%s\" not in \"%s\"", why, err);
    }
}


static void
test_names(void **state)
{
    (void) state;

    assert_true(eg_plugin_name_valid("smartcampus", 11));
    assert_true(eg_plugin_name_valid("yue-juan_2", 10));
    assert_false(eg_plugin_name_valid("", 0));
    assert_false(eg_plugin_name_valid("Smart", 5));
    assert_false(eg_plugin_name_valid("-x", 2));
    assert_false(eg_plugin_name_valid("a b", 3));
    assert_false(eg_plugin_name_valid("a:b", 3));
    assert_false(eg_plugin_name_valid("abcdefghijabcdefghijabcdefghijabc",
                                      33));
}


static void
test_trust(void **state)
{
    char  path[4400], sub[4400], link[4400], err[EG_PLUGIN_ERR_MAX];

    (void) state;

    snprintf(path, sizeof(path), "%s/good.so", dir);
    write_file(path, "x", 0644);
    assert_int_equal(eg_plugin_trusted(path, err, sizeof(err)), 0);

    expect_untrusted("plugins/x.so", "is not an absolute path");

    snprintf(path, sizeof(path), "%s/missing.so", dir);
    expect_untrusted(path, "No such file or directory");

    snprintf(path, sizeof(path), "%s/open.so", dir);
    write_file(path, "x", 0666);
    expect_untrusted(path, "is writable by users other than its owner "
                           "(mode 0666)");

    snprintf(path, sizeof(path), "%s/group.so", dir);
    write_file(path, "x", 0664);
    expect_untrusted(path, "(mode 0664)");

    /* a directory anyone may write into, even with the file's mode right */
    snprintf(sub, sizeof(sub), "%s/shared", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(chmod(sub, 01777), 0);
    snprintf(path, sizeof(path), "%s/shared/p.so", dir);
    write_file(path, "x", 0644);
    expect_untrusted(path, "shared\" is writable by users other than its "
                           "owner (mode 1777)");

    /* higher up, a root-owned sticky directory (as /tmp) is no hole */
    if (geteuid() == 0) {
        snprintf(path, sizeof(path), "%s/shared/lib", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/shared/lib/p.so", dir);
        write_file(path, "x", 0644);
        assert_int_equal(eg_plugin_trusted(path, err, sizeof(err)), 0);
        snprintf(path, sizeof(path), "%s/shared/p.so", dir);
    }

    /* a link in a trusted directory into the writable one */
    snprintf(link, sizeof(link), "%s/link.so", dir);
    assert_int_equal(symlink(path, link), 0);
    expect_untrusted(link, "shared\" is writable");

    snprintf(path, sizeof(path), "%s", dir);
    expect_untrusted(path, "is not a regular file");

    /* /tmp, where anyone may drop a file, is never a plugin directory */
    expect_untrusted("/tmp/x.so", "");
}


static void
test_pin(void **state)
{
    char  path[4400], err[EG_PLUGIN_ERR_MAX];

    (void) state;

    snprintf(path, sizeof(path), "%s/pinned.so", dir);
    write_file(path, "abc", 0644);

    assert_int_equal(eg_plugin_pin_matches(path, "ba7816bf8f01cfea414140de5d"
                                           "ae2223b00361a396177a9cb410ff61f2"
                                           "0015ad", err, sizeof(err)), 0);
    assert_int_equal(eg_plugin_pin_matches(path, "BA7816BF8F01CFEA414140DE5D"
                                           "AE2223B00361A396177A9CB410FF61F2"
                                           "0015AD", err, sizeof(err)), 0);

    assert_int_equal(eg_plugin_pin_matches(path, "00" "7816bf8f01cfea414140d"
                                           "e5dae2223b00361a396177a9cb410ff6"
                                           "1f20015ad", err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "is ba7816bf"));
    assert_non_null(strstr(err, "not the pinned 007816bf"));

    assert_int_equal(eg_plugin_pin_matches(path, "abc", err, sizeof(err)),
                     -1);
    assert_string_equal(err, "sha256= needs 64 hexadecimal digits");
}


static void
expect_desc(const edugate_plugin_t *d, const char *why)
{
    char  err[EG_PLUGIN_ERR_MAX];

    if (why == NULL) {
        assert_int_equal(eg_plugin_check_desc(d, err, sizeof(err)), 0);
        return;
    }

    assert_int_equal(eg_plugin_check_desc(d, err, sizeof(err)), -1);

    if (strstr(err, why) == NULL) {
        fail_msg("\"%s\" not in \"%s\"", why, err);
    }
}


static void
test_descriptor(void **state)
{
    edugate_plugin_t  d;

    (void) state;

    memset(&d, 0, sizeof(d));
    d.abi_major = EDUGATE_ABI_MAJOR;
    d.abi_minor = EDUGATE_ABI_MINOR;
    d.size = sizeof(edugate_plugin_t);
    d.host_size = sizeof(edugate_host_t);
    d.name = "vendor";

    expect_desc(&d, NULL);
    expect_desc(NULL, "returned no descriptor");

    d.abi_major = EDUGATE_ABI_MAJOR + 1;
    expect_desc(&d, "built for ABI 2.0, the gateway has ABI 1.0 (the major "
                    "versions must be equal)");
    d.abi_major = 0;
    expect_desc(&d, "built for ABI 0.0");
    d.abi_major = EDUGATE_ABI_MAJOR;

    d.abi_minor = EDUGATE_ABI_MINOR + 1;
    expect_desc(&d, "built for ABI 1.1, newer than the gateway's ABI 1.0");
    d.abi_minor = EDUGATE_ABI_MINOR;

    d.size--;
    expect_desc(&d, "descriptor is");
    d.size++;

    d.host_size += 8;
    expect_desc(&d, "host table is");
    d.host_size -= 8;

    d.name = NULL;
    expect_desc(&d, "descriptor has no name");
    d.name = "Vendor A";
    expect_desc(&d, "descriptor name \"Vendor A\" is not");
    d.name = "vendor";

    d.fini = (void (*)(void *)) free;
    expect_desc(&d, "fini() without init()");
}


static void
test_about(void **state)
{
    char                    err[EG_PLUGIN_ERR_MAX];
    edugate_description_t   d;

    const char *const  good[] = { "X-Vendor-User", NULL };
    const char *const  host[] = { "X-Vendor-User", "Host", NULL };
    const char *const  ours[] = { "edugate_session", NULL };
    const char *const  bad_entity[] = { "students", "pupils", NULL };

    (void) state;

    memset(&d, 0, sizeof(d));
    d.identity_headers = good;
    assert_int_equal(eg_plugin_check_about(&d, err, sizeof(err)), 0);

    d.identity_headers = host;
    assert_int_equal(eg_plugin_check_about(&d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "header \"Host\""));

    d.identity_headers = NULL;
    d.identity_cookies = ours;
    assert_int_equal(eg_plugin_check_about(&d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cookie \"edugate_session\""));

    d.identity_cookies = NULL;
    d.entities = bad_entity;
    assert_int_equal(eg_plugin_check_about(&d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "entity \"pupils\""));

    d.entities = NULL;
    d.payload = "csv";
    assert_int_equal(eg_plugin_check_about(&d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "payload \"csv\""));
}


static void
test_open_refusals(void **state)
{
    char          path[4400], err[EG_PLUGIN_ERR_MAX];
    eg_plugin_t  *p;

    (void) state;

    p = eg_plugin_open("Bad Name", "/x.so", NULL, 0, NULL, err,
                       sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "invalid name"));

    /* not an ELF object: dlopen() says why */
    snprintf(path, sizeof(path), "%s/text.so", dir);
    write_file(path, "not a shared object", 0644);

    p = eg_plugin_open("text", path, NULL, 0, NULL, err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "cannot load: "));
}


static void
test_table_path(void **state)
{
    char  *s;

    (void) state;

    s = eg_plugin_table_path("/usr/lib/edugate/smartcampus.so");
    assert_string_equal(s, "/usr/lib/edugate/smartcampus.csv");
    free(s);

    s = eg_plugin_table_path("/opt/vendor");
    assert_string_equal(s, "/opt/vendor.csv");
    free(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_trust),
        cmocka_unit_test(test_pin),
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_about),
        cmocka_unit_test(test_open_refusals),
        cmocka_unit_test(test_table_path),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
