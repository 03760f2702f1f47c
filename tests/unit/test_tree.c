/*
 * Pins the vendor payload tree: JSON and XML seen the same way by
 * plugins (names, text, attributes, paths), GBK transcoded to UTF-8, and
 * every hostile document refused before a plugin sees it: DTDs and
 * entities (billion laughs, external entities), duplicate JSON keys, NUL
 * characters, documents over the size, depth or node limits.  Mutations
 * for fuzzing keep the tree readable.
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

#include "eg_tree.h"


#define U(s)  ((const unsigned char *) (s))


static eg_tree_t *
parse(const char *doc, int format, char *err)
{
    return eg_tree_parse(U(doc), strlen(doc), format, NULL, NULL, err, 256);
}


static void
refused(const char *doc, int format, const char *why)
{
    char        err[256];
    eg_tree_t  *t;

    t = parse(doc, format, err);
    assert_null(t);

    if (strstr(err, why) == NULL) {
        fail_msg("\"%s\" not in \"%s\"", why, err);
    }
}


static void
test_json(void **state)
{
    char                   err[256];
    eg_tree_t             *t;
    const edugate_node_t  *root, *list, *s;

    (void) state;

    t = parse("{\"school\":{\"moeCode\":\"2151049901\"},"
              "\"students\":[{\"uid\":\"u_1\",\"age\":9,\"ok\":true,"
              "\"x\":null,\"score\":92.5}]}", EG_TREE_FORMAT_JSON, err);
    assert_non_null(t);

    root = eg_tree_root(t);
    assert_int_equal(eg_node_type(root), EDUGATE_NODE_OBJECT);
    assert_string_equal(eg_node_text_at(root, "school/moeCode"),
                        "2151049901");

    list = eg_node_get(root, "students");
    assert_int_equal(eg_node_type(list), EDUGATE_NODE_ARRAY);
    assert_int_equal(eg_node_count(list), 1);

    s = eg_node_child(list, 0);
    assert_string_equal(eg_node_text_at(s, "uid"), "u_1");
    assert_string_equal(eg_node_text_at(s, "age"), "9");
    assert_int_equal(eg_node_type(eg_node_get(s, "age")), EDUGATE_NODE_NUMBER);
    assert_string_equal(eg_node_text_at(s, "ok"), "true");
    assert_int_equal(eg_node_type(eg_node_get(s, "x")), EDUGATE_NODE_NULL);
    assert_null(eg_node_text_at(s, "x"));
    assert_string_equal(eg_node_text_at(s, "score"), "92.5");
    assert_string_equal(eg_node_name(eg_node_child(s, 0)), "uid");

    assert_null(eg_node_child(list, 1));
    assert_null(eg_node_get(root, "school/none"));
    assert_null(eg_node_get(root, "school//moeCode"));
    assert_null(eg_node_get(root, ""));
    assert_null(eg_node_text_at(root, "school"));

    eg_tree_free(t);
}


static void
test_xml(void **state)
{
    char                   err[256];
    eg_tree_t             *t;
    const edugate_node_t  *root, *recs, *r;

    (void) state;

    t = parse("<?xml version=\"1.0\"?>\n"
              "<ScoreExport xmlns=\"http://www.example-yuejuan.cn/export/v3\""
              " ver=\"3.2\">\n"
              "  <Exam examId=\"EX-1\" examType=\"QM\"/>\n"
              "  <Records>\n"
              "    <R><KH>250302017</KH><DF> 92.5 </DF><DF2/></R>\n"
              "    <R><KH>2</KH><DF/><!-- absent --></R>\n"
              "  </Records>\n"
              "</ScoreExport>", EG_TREE_FORMAT_XML, err);
    assert_non_null(t);

    root = eg_tree_root(t);
    assert_int_equal(eg_node_type(root), EDUGATE_NODE_ELEMENT);
    assert_string_equal(eg_node_name(root), "ScoreExport");
    assert_string_equal(eg_node_attr(root, "ver"), "3.2");
    assert_null(eg_node_attr(root, "none"));
    assert_string_equal(eg_node_text(root), "");

    assert_string_equal(eg_node_text_at(root, "Exam/@examId"), "EX-1");
    assert_string_equal(eg_node_text_at(root, "@ver"), "3.2");
    assert_null(eg_node_text_at(root, "Exam/@none"));
    assert_null(eg_node_text_at(root, "Exam@examId"));

    recs = eg_node_get(root, "Records");
    assert_int_equal(eg_node_count(recs), 2);

    r = eg_node_child(recs, 0);
    assert_string_equal(eg_node_text_at(r, "KH"), "250302017");
    assert_string_equal(eg_node_text_at(r, "DF"), "92.5");
    assert_string_equal(eg_node_text_at(r, "DF2"), "");
    assert_string_equal(eg_node_text_at(eg_node_child(recs, 1), "DF"), "");

    eg_tree_free(t);
}


static void
test_gbk(void **state)
{
    char                   err[256];
    eg_tree_t             *t;
    const edugate_node_t  *root;

    (void) state;

    t = parse("<?xml version=\"1.0\" encoding=\"GBK\"?>"
              "<Unit unitName=\"\xbd\xf5\xbd\xad\xc7\xf8\">"
              "<XM>\xc0\xee\xcb\xbc\xd3\xea</XM></Unit>", EG_TREE_FORMAT_XML,
              err);
    assert_non_null(t);

    root = eg_tree_root(t);
    assert_string_equal(eg_node_attr(root, "unitName"),
                        "\xe9\x94\xa6\xe6\xb1\x9f\xe5\x8c\xba");
    assert_string_equal(eg_node_text_at(root, "XM"),
                        "\xe6\x9d\x8e\xe6\x80\x9d\xe9\x9b\xa8");
    eg_tree_free(t);

    /* a JSON payload sent in GBK, as its Content-Type charset says */
    t = eg_tree_parse(U("{\"n\":\"\xc0\xee\"}"), 10, EG_TREE_FORMAT_JSON,
                      "GBK", NULL, err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(eg_node_text_at(eg_tree_root(t), "n"),
                        "\xe6\x9d\x8e");
    eg_tree_free(t);

    assert_null(eg_tree_parse(U("{}"), 2, EG_TREE_FORMAT_JSON, "NOPE-9",
                              NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "unknown charset"));
}


/*
 * One byte of windows-1252 (0x80 the euro sign, 0x91 a quote) is three
 * of UTF-8: a payload of them is more than twice its size once
 * transcoded, and is still read (found by fuzz_tree_json).  A payload
 * cut inside a GBK character is refused.
 */

static void
test_charset_growth(void **state)
{
    char        err[256], doc[1024], want[4096];
    size_t      i, n, w;
    eg_tree_t  *t;

    (void) state;

    n = 0;
    w = 0;
    doc[n++] = '[';
    doc[n++] = '"';
    want[w] = '\0';

    for (i = 0; i < 500; i++) {
        doc[n++] = (i & 1) ? '\x91' : '\x80';
        memcpy(want + w, (i & 1) ? "\xe2\x80\x98" : "\xe2\x82\xac", 3);
        w += 3;
    }

    want[w] = '\0';
    doc[n++] = '"';
    doc[n++] = ']';

    t = eg_tree_parse(U(doc), n, EG_TREE_FORMAT_JSON, "windows-1252", NULL,
                      err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(eg_node_text(eg_node_child(eg_tree_root(t), 0)),
                        want);
    eg_tree_free(t);

    assert_null(eg_tree_parse(U("{\"n\":\"\xc0"), 7, EG_TREE_FORMAT_JSON,
                              "GBK", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "not valid GBK"));
}


static void
test_hostile_xml(void **state)
{
    (void) state;

    refused("<?xml version=\"1.0\"?>\n"
            "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
            "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
            "<lolz>&lol2;</lolz>", EG_TREE_FORMAT_XML,
            "document type declaration");

    refused("<?xml version=\"1.0\"?>\n"
            "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
            "<r>&x;</r>", EG_TREE_FORMAT_XML, "document type declaration");

    refused("<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/x.dtd\"><r/>",
            EG_TREE_FORMAT_XML, "document type declaration");

    refused("<r>&undeclared;</r>", EG_TREE_FORMAT_XML, "invalid XML");
    refused("<r><a></r>", EG_TREE_FORMAT_XML, "invalid XML at line 1");
    refused("", EG_TREE_FORMAT_XML, "invalid XML");
}


/* a document that lies about its encoding: one error, nothing on stderr */

static void
test_bad_encoding_quiet(void **state)
{
    int          saved, fd;
    char         err[256], path[] = "/tmp/eg-tree-stderr-XXXXXX";
    eg_tree_t   *t;
    struct stat  st;

    (void) state;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);

    t = parse("<?xml version=\"1.0\" encoding=\"GBK\"?>"
              "<r a=\"\xbc\">\x95\x30</r>", EG_TREE_FORMAT_XML, err);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);

    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    unlink(path);

    assert_null(t);
    assert_non_null(strstr(err, "invalid XML"));
    assert_int_equal(st.st_size, 0);
}


static void
test_hostile_json(void **state)
{
    (void) state;

    refused("{\"a\":1,\"a\":2}", EG_TREE_FORMAT_JSON, "duplicate");
    refused("{\"a\":\"x\\u0000y\"}", EG_TREE_FORMAT_JSON, "invalid JSON");
    refused("{\"a\":\"\xff\"}", EG_TREE_FORMAT_JSON, "invalid JSON");
    refused("{\"a\":1", EG_TREE_FORMAT_JSON, "invalid JSON");
    refused("{}", 0, "unknown payload format");
}


static void
test_limits(void **state)
{
    int                i;
    char              *deep, err[256];
    eg_tree_t         *t;
    eg_tree_limits_t   lim;

    (void) state;

    lim.max_bytes = 64;
    lim.max_depth = 4;
    lim.max_nodes = 6;

    t = eg_tree_parse(U("[[[[1]]]]"), 9, EG_TREE_FORMAT_JSON, NULL, &lim,
                      err, sizeof(err));
    assert_non_null(t);
    eg_tree_free(t);

    assert_null(eg_tree_parse(U("[[[[[1]]]]]"), 11, EG_TREE_FORMAT_JSON,
                              NULL, &lim, err, sizeof(err)));
    assert_non_null(strstr(err, "deeper than 4"));

    assert_null(eg_tree_parse(U("<a><b><c><d><e><f/></e></d></c></b></a>"), 40,
                              EG_TREE_FORMAT_XML, NULL, &lim, err,
                              sizeof(err)));
    assert_non_null(strstr(err, "deeper than 4"));

    assert_null(eg_tree_parse(U("[1,2,3,4,5,6]"), 13, EG_TREE_FORMAT_JSON,
                              NULL, &lim, err, sizeof(err)));
    assert_non_null(strstr(err, "more than 6 nodes"));

    assert_null(eg_tree_parse(U("[\"01234567890123456789012345678901234"
                                "567890123456789012345678901\"]"), 68,
                              EG_TREE_FORMAT_JSON, NULL, &lim, err,
                              sizeof(err)));
    assert_non_null(strstr(err, "over the limit of 64"));

    /* deep nesting under the default limit of 64 levels */
    deep = malloc(20001);
    assert_non_null(deep);

    for (i = 0; i < 10000; i++) {
        deep[i] = '[';
        deep[20000 - 1 - i] = ']';
    }

    deep[20000] = '\0';

    assert_null(eg_tree_parse(U(deep), 20000, EG_TREE_FORMAT_JSON, NULL,
                              NULL, err, sizeof(err)));
    free(deep);
}


static void
walk(const edugate_node_t *n)
{
    size_t  i;

    if (eg_node_text(n)) {
        assert_true(strlen(eg_node_text(n)) < 10000);
    }

    for (i = 0; i < eg_node_count(n); i++) {
        assert_non_null(eg_node_child(n, i));
        walk(eg_node_child(n, i));
    }
}


static void
test_mutate(void **state)
{
    int         i, k;
    char        err[256];
    uint64_t    rng;
    eg_tree_t  *t;

    (void) state;

    rng = 42;

    for (i = 0; i < 300; i++) {
        t = parse(i & 1 ? "{\"a\":[{\"b\":\"1\"},{\"c\":2}],\"d\":{}}"
                        : "<r x=\"1\"><a>1</a><b y=\"2\">t</b></r>",
                  i & 1 ? EG_TREE_FORMAT_JSON : EG_TREE_FORMAT_XML, err);
        assert_non_null(t);

        for (k = 0; k < 5; k++) {
            eg_tree_mutate(t, &rng);
            walk(eg_tree_root(t));
        }

        eg_tree_free(t);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_xml),
        cmocka_unit_test(test_gbk),
        cmocka_unit_test(test_charset_growth),
        cmocka_unit_test(test_hostile_xml),
        cmocka_unit_test(test_bad_encoding_quiet),
        cmocka_unit_test(test_hostile_json),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_mutate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
