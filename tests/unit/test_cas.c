/*
 * Pins the CAS server's nginx-free rules: which service URLs match a
 * registration (exact is byte-exact; a prefix ends at a path boundary and
 * cannot be escaped with dot segments), the service ticket syntax and
 * generator, the ticket record, and that hostile attribute values stay
 * text in the XML answer.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_cas.h"


#define U(s)  ((const unsigned char *) (s))

#define SVC(url, match, attrs)  { U(url), sizeof(url) - 1, match, attrs, NULL }


static const eg_cas_service_t  exact =
    SVC("http://127.0.0.1:8082/cas-app/", EG_CAS_MATCH_EXACT, 0);
static const eg_cas_service_t  prefix =
    SVC("https://app.example/portal/", EG_CAS_MATCH_PREFIX, 0);
static const eg_cas_service_t  bare =
    SVC("https://app.example", EG_CAS_MATCH_PREFIX, 0);
static const eg_cas_service_t  noslash =
    SVC("https://school.example/lms", EG_CAS_MATCH_PREFIX, 0);


/* through an exact-size heap copy, for the sanitizer */

static int
match(const eg_cas_service_t *svc, const char *url)
{
    int             rc;
    size_t          n;
    unsigned char  *copy;

    n = strlen(url);
    copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, url, n);

    rc = (eg_cas_service_check(copy, n) == NULL)
         && eg_cas_service_match(svc, copy, n);

    free(copy);

    return rc;
}


static void
test_exact_is_byte_exact(void **state)
{
    (void) state;

    assert_true(match(&exact, "http://127.0.0.1:8082/cas-app/"));

    assert_false(match(&exact, "http://127.0.0.1:8082/cas-app"));
    assert_false(match(&exact, "http://127.0.0.1:8082/cas-app/x"));
    assert_false(match(&exact, "http://127.0.0.1:8082/cas-app/?a=1"));
    assert_false(match(&exact, "HTTP://127.0.0.1:8082/cas-app/"));
    assert_false(match(&exact, "http://127.0.0.1:8082/CAS-APP/"));
    assert_false(match(&exact, "http://127.0.0.1:8082/cas-app/#x"));
    assert_false(match(&exact, "http://127.0.0.1:8082/cas-app//"));
    assert_false(match(&exact, "http://127.0.0.1:80820/cas-app/"));
    assert_false(match(&exact, "https://127.0.0.1:8082/cas-app/"));
}


static void
test_prefix_boundary(void **state)
{
    (void) state;

    assert_true(match(&prefix, "https://app.example/portal/"));
    assert_true(match(&prefix, "https://app.example/portal/a/b"));
    assert_true(match(&prefix, "https://app.example/portal/?x=1&y=2"));
    assert_true(match(&prefix, "https://app.example/portal/a.b/c..d/.e"));

    assert_false(match(&prefix, "https://app.example/portal"));
    assert_false(match(&prefix, "https://app.example/portalx/"));
    assert_false(match(&prefix, "https://app.example/Portal/"));

    assert_true(match(&bare, "https://app.example"));
    assert_true(match(&bare, "https://app.example/"));
    assert_true(match(&bare, "https://app.example?x=1"));
    assert_false(match(&bare, "https://app.example.evil/"));
    assert_false(match(&bare, "https://app.example@evil/"));
    assert_false(match(&bare, "https://app.example:8443/"));
    assert_false(match(&bare, "https://app.examplex/"));
    assert_false(match(&bare, "https://APP.example/"));

    assert_true(match(&noslash, "https://school.example/lms"));
    assert_true(match(&noslash, "https://school.example/lms/"));
    assert_true(match(&noslash, "https://school.example/lms/course?id=1"));
    assert_true(match(&noslash, "https://school.example/lms?x"));
    assert_false(match(&noslash, "https://school.example/lms-admin"));
    assert_false(match(&noslash, "https://school.example/lmsx"));
}


static void
test_prefix_cannot_climb_out(void **state)
{
    (void) state;

    assert_false(match(&prefix, "https://app.example/portal/../admin"));
    assert_false(match(&prefix, "https://app.example/portal/.."));
    assert_false(match(&prefix, "https://app.example/portal/a/../../x"));
    assert_false(match(&prefix, "https://app.example/portal/./x"));
    assert_false(match(&prefix, "https://app.example/portal/..;/admin"));
    assert_false(match(&prefix, "https://app.example/portal/%2e%2e/x"));
    assert_false(match(&prefix, "https://app.example/portal/%2E./x"));
    assert_false(match(&prefix, "https://app.example/portal/..%2fadmin"));
    assert_false(match(&prefix, "https://app.example/portal/..%5Cadmin"));
    assert_false(match(&prefix, "https://app.example/portal/..\\admin"));
    assert_false(match(&noslash, "https://school.example/lms/.."));

    /* after "?" it is the query: dots are data there */
    assert_true(match(&prefix, "https://app.example/portal/?next=../x"));
}


static void
test_service_syntax(void **state)
{
    char  big[EG_CAS_SERVICE_MAX + 2];

    (void) state;

    assert_null(eg_cas_service_check(U("http://a/"), 9));
    assert_null(eg_cas_service_check(U("https://a"), 9));

    assert_non_null(eg_cas_service_check(U(""), 0));
    assert_non_null(eg_cas_service_check(U("ftp://a/"), 8));
    assert_non_null(eg_cas_service_check(U("//a/"), 4));
    assert_non_null(eg_cas_service_check(U("/cas-app/"), 9));
    assert_non_null(eg_cas_service_check(U("http:///x"), 9));
    assert_non_null(eg_cas_service_check(U("http://u@a/"), 11));
    assert_non_null(eg_cas_service_check(U("http://a/ b"), 11));
    assert_non_null(eg_cas_service_check(U("http://a/\r\nX: y"), 15));
    assert_non_null(eg_cas_service_check(U("http://a/#f"), 11));
    assert_non_null(eg_cas_service_check(U("http://a\\b/"), 11));
    assert_non_null(eg_cas_service_check(U("http://a/\xc3\xa9"), 11));
    assert_non_null(eg_cas_service_check(U("http://a/\0"), 10));

    /* a planted ticket would come before ours */
    assert_non_null(eg_cas_service_check(U("http://a/?ticket=ST-1"), 20));
    assert_non_null(eg_cas_service_check(U("http://a/?x=1&ticket"), 20));
    assert_null(eg_cas_service_check(U("http://a/?tickets=1"), 19));
    assert_null(eg_cas_service_check(U("http://a/?x=ticket"), 18));
    assert_null(eg_cas_service_check(U("http://a/ticket=1"), 17));

    memcpy(big, "http://a/", 9);
    memset(big + 9, 'x', sizeof(big) - 9);
    assert_null(eg_cas_service_check(U(big), EG_CAS_SERVICE_MAX));
    assert_non_null(eg_cas_service_check(U(big), EG_CAS_SERVICE_MAX + 1));
}


static void
test_service_find(void **state)
{
    eg_cas_service_t         svcs[2] = { exact, prefix };
    const eg_cas_service_t  *found;

    (void) state;

    found = eg_cas_service_find(svcs, 2,
                                U("https://app.example/portal/x"), 28);
    assert_ptr_equal(found, &svcs[1]);

    found = eg_cas_service_find(svcs, 2,
                                U("http://127.0.0.1:8082/cas-app/"), 30);
    assert_ptr_equal(found, &svcs[0]);

    assert_null(eg_cas_service_find(svcs, 2, U("https://app.example/"), 20));
    assert_null(eg_cas_service_find(svcs, 2,
                                    U("https://app.example/portal/#x"), 29));
}


static void
test_attr_parse(void **state)
{
    unsigned  a;

    (void) state;

    assert_int_equal(eg_cas_attr_parse(U("name"), 4, &a), 0);
    assert_int_equal(a, 1u << EG_CAS_ATTR_NAME);

    assert_int_equal(eg_cas_attr_parse(
        U("name,roles,org,orgPath,level,school,grade,class"), 47, &a), 0);
    assert_int_equal(a, (1u << EG_CAS_NATTRS) - 1);

    assert_int_equal(eg_cas_attr_parse(U(""), 0, &a), -1);
    assert_int_equal(eg_cas_attr_parse(U("name,"), 5, &a), -1);
    assert_int_equal(eg_cas_attr_parse(U(",name"), 5, &a), -1);
    assert_int_equal(eg_cas_attr_parse(U("Name"), 4, &a), -1);
    assert_int_equal(eg_cas_attr_parse(U("uid"), 3, &a), -1);
    assert_int_equal(eg_cas_attr_parse(U("dn"), 2, &a), -1);
    assert_int_equal(eg_cas_attr_parse(U("org_path"), 8, &a), -1);

    assert_string_equal(eg_cas_attr_name(EG_CAS_ATTR_ORG_PATH), "orgPath");
    assert_null(eg_cas_attr_name(EG_CAS_NATTRS));
}


static eg_cas_ticket_e
ticket(const char *t)
{
    return eg_cas_ticket_check(U(t), strlen(t));
}


static void
test_ticket_syntax(void **state)
{
    char  big[EG_CAS_TICKET_MAX + 2];

    (void) state;

    assert_int_equal(ticket("ST-1"), EG_CAS_TICKET_OK);
    assert_int_equal(ticket("ST-1856339-aA5Yuvrxzpv8Tau1cYQ7"),
                     EG_CAS_TICKET_OK);
    assert_int_equal(ticket("PT-abc"), EG_CAS_TICKET_PROXY);

    assert_int_equal(ticket(""), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("ST-"), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("st-abc"), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("TGT-abc"), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("PGT-abc"), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("ST-1\r\nFLUSHALL"), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("ST-a b"), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("ST-*"), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("ST-a_b"), EG_CAS_TICKET_BAD);
    assert_int_equal(ticket("ST-a%41"), EG_CAS_TICKET_BAD);
    assert_int_equal(eg_cas_ticket_check(U("ST-a\0b"), 6), EG_CAS_TICKET_BAD);

    memcpy(big, "ST-", 3);
    memset(big + 3, 'a', sizeof(big) - 3);
    assert_int_equal(eg_cas_ticket_check(U(big), EG_CAS_TICKET_MAX),
                     EG_CAS_TICKET_OK);
    assert_int_equal(eg_cas_ticket_check(U(big), EG_CAS_TICKET_MAX + 1),
                     EG_CAS_TICKET_BAD);
}


static void
test_ticket_new(void **state)
{
    int            i, j, seen[256];
    unsigned char  a[EG_CAS_TICKET_LEN + 1], b[EG_CAS_TICKET_LEN + 1];

    (void) state;

    assert_true(EG_CAS_TICKET_RANDOM >= 22);   /* 62^22 > 2^128 */

    memset(seen, 0, sizeof(seen));

    for (i = 0; i < 200; i++) {
        a[EG_CAS_TICKET_LEN] = '#';
        assert_int_equal(eg_cas_ticket_new(a), 0);
        assert_int_equal(a[EG_CAS_TICKET_LEN], '#');
        assert_int_equal(eg_cas_ticket_check(a, EG_CAS_TICKET_LEN),
                         EG_CAS_TICKET_OK);

        for (j = 3; j < (int) EG_CAS_TICKET_LEN; j++) {
            assert_true((a[j] >= 'A' && a[j] <= 'Z')
                        || (a[j] >= 'a' && a[j] <= 'z')
                        || (a[j] >= '0' && a[j] <= '9'));
            seen[a[j]] = 1;
        }
    }

    /* 6400 draws reach every one of the 62 letters */
    for (j = 0, i = 0; j < 256; j++) {
        i += seen[j];
    }

    assert_int_equal(i, 62);

    assert_int_equal(eg_cas_ticket_new(b), 0);
    assert_memory_not_equal(a, b, EG_CAS_TICKET_LEN);
}


static void
check_redirect(const char *service, const char *want)
{
    size_t          n;
    unsigned char   buf[256];

    n = eg_cas_redirect(buf, U(service), strlen(service), U("ST-x"), 4);

    assert_true(n <= eg_cas_redirect_len(strlen(service), 4));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
}


static void
test_redirect(void **state)
{
    (void) state;

    check_redirect("http://a/app/", "http://a/app/?ticket=ST-x");
    check_redirect("http://a/app/?x=1", "http://a/app/?x=1&ticket=ST-x");
    check_redirect("http://a/app/?", "http://a/app/?ticket=ST-x");
    check_redirect("http://a/app/?x=1&", "http://a/app/?x=1&ticket=ST-x");
    check_redirect("http://a", "http://a?ticket=ST-x");
}


static void
fill_identity(eg_identity_t *id, const char *name)
{
    memset(id, 0, sizeof(eg_identity_t));

    assert_int_equal(eg_identity_set(id, EG_ID_UID, "stu01", 5), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_NAME, name, strlen(name)), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_ROLES, "student", 7), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_ROLES, "monitor", 7), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_ORG, "3137000001", 10), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_ORG_PATH,
                                     "370000/370100/370112/3137000001",
                                     31), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_LEVEL, "school", 6), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_SCHOOL, "3137000001", 10), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_GRADE, "07", 2), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_CLASS, "1", 1), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_DN, "uid=stu01,dc=edu", 16),
                     0);
    id->auth_time = 1700000000;
    id->expires = 1700028800;
}


static const unsigned char  hash[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";


static void
test_record_round_trip(void **state)
{
    char             *json;
    eg_identity_t     id;
    eg_cas_record_t  *rec;

    (void) state;

    fill_identity(&id, "张小明");

    json = eg_cas_record_encode(&id, (1u << EG_CAS_ATTR_NAME)
                                     | (1u << EG_CAS_ATTR_ROLES),
                                U("http://a/app/"), 13, hash, 1, NULL, 0);
    assert_non_null(json);

    /* only what the service may see is stored */
    assert_null(strstr(json, "3137000001"));
    assert_null(strstr(json, "dn"));

    rec = malloc(sizeof(eg_cas_record_t));
    assert_non_null(rec);

    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), 0);
    assert_string_equal(rec->id.uid, "stu01");
    assert_string_equal(rec->id.name, "张小明");
    assert_string_equal(rec->id.roles, "student,monitor");
    assert_string_equal(rec->id.school, "");
    assert_int_equal(rec->id.auth_time, 1700000000);
    assert_string_equal(rec->service, "http://a/app/");
    assert_int_equal(rec->service_len, 13);
    assert_memory_equal(rec->session, hash, EG_SHA256_HEX_LEN);
    assert_int_equal(rec->fresh, 1);

    free(json);

    json = eg_cas_record_encode(&id, 0, U("http://a/app/"), 13, hash, 0,
                                NULL, 0);
    assert_non_null(json);
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), 0);
    assert_int_equal(rec->fresh, 0);
    assert_string_equal(rec->id.name, "");
    free(json);

    assert_int_equal(eg_cas_record_decode(rec, "{}", 2), -1);
    assert_int_equal(eg_cas_record_decode(rec, "nonsense", 8), -1);
    json = "{\"uid\":\"a\",\"auth_time\":1,\"expires\":2,\"service\":\"x\","
           "\"session\":\"short\",\"fresh\":true}";
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), -1);

    free(rec);
}


/* a record holding the identity, as the server builds it */

static int
success(const eg_identity_t *id, unsigned attrs, int cas3, int fresh,
    unsigned char **out, size_t *len)
{
    int               rc;
    eg_cas_record_t  *rec;

    rec = calloc(1, sizeof(eg_cas_record_t));
    assert_non_null(rec);

    rec->id = *id;
    rec->fresh = fresh;

    rc = eg_cas_xml_success(rec, attrs, cas3, NULL, out, len);

    free(rec);

    return rc;
}


static char *
xml_success(eg_identity_t *id, unsigned attrs, int cas3, int fresh)
{
    char           *s;
    size_t          len;
    unsigned char  *out;

    assert_int_equal(success(id, attrs, cas3, fresh, &out, &len), 0);

    s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, out, len);
    s[len] = '\0';
    assert_int_equal(strlen(s), len);

    eg_cas_xml_free(out);

    return s;
}


static void
test_xml_success(void **state)
{
    char           *xml;
    eg_identity_t   id;

    (void) state;

    fill_identity(&id, "张小明");

    xml = xml_success(&id, (1u << EG_CAS_NATTRS) - 1, 1, 1);

    assert_non_null(strstr(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_non_null(strstr(xml, "<cas:serviceResponse "
                                "xmlns:cas=\"http://www.yale.edu/tp/cas\">"));
    assert_non_null(strstr(xml, "<cas:user>stu01</cas:user>"));
    assert_non_null(strstr(xml, "<cas:authenticationDate>"
                                "2023-11-14T22:13:20Z"
                                "</cas:authenticationDate>"));
    assert_non_null(strstr(xml, "<cas:isFromNewLogin>true<"));
    assert_non_null(strstr(xml, "<cas:longTermAuthenticationRequestTokenUsed>"
                                "false<"));
    assert_non_null(strstr(xml, "<cas:name>张小明</cas:name>"));
    assert_non_null(strstr(xml, "<cas:roles>student</cas:roles>"));
    assert_non_null(strstr(xml, "<cas:roles>monitor</cas:roles>"));
    assert_non_null(strstr(xml, "<cas:orgPath>370000/370100/370112/"
                                "3137000001</cas:orgPath>"));
    assert_non_null(strstr(xml, "<cas:class>1</cas:class>"));
    assert_null(strstr(xml, "uid=stu01"));
    free(xml);

    /* CAS 2.0: the user only */
    xml = xml_success(&id, (1u << EG_CAS_NATTRS) - 1, 0, 1);
    assert_non_null(strstr(xml, "<cas:user>stu01</cas:user>"));
    assert_null(strstr(xml, "attributes"));
    assert_null(strstr(xml, "张小明"));
    free(xml);

    /* only the released ones, and empty values are left out */
    id.grade[0] = '\0';
    xml = xml_success(&id, (1u << EG_CAS_ATTR_SCHOOL)
                           | (1u << EG_CAS_ATTR_GRADE), 1, 0);
    assert_non_null(strstr(xml, "<cas:school>3137000001</cas:school>"));
    assert_non_null(strstr(xml, "<cas:isFromNewLogin>false<"));
    assert_null(strstr(xml, "cas:grade"));
    assert_null(strstr(xml, "cas:name"));
    assert_null(strstr(xml, "cas:roles"));
    free(xml);
}


static void
test_xml_escapes_hostile_values(void **state)
{
    char           *xml;
    eg_identity_t   id;

    (void) state;

    fill_identity(&id, "</cas:user><cas:user>admin & ]]> \"'");

    xml = xml_success(&id, 1u << EG_CAS_ATTR_NAME, 1, 0);

    assert_non_null(strstr(xml, "<cas:name>&lt;/cas:user&gt;&lt;cas:user&gt;"
                                "admin &amp; ]]&gt; \"'</cas:name>"));
    assert_null(strstr(xml, "<cas:user>admin"));
    assert_null(strstr(xml, "]]>"));
    free(xml);

    /* a value that is not UTF-8 text never becomes XML */
    fill_identity(&id, "x");
    id.name[0] = '\x01';
    assert_int_equal(success(&id, 1u << EG_CAS_ATTR_NAME, 1, 0,
                                        (unsigned char **) &xml, NULL), -1);

    fill_identity(&id, "x");
    memcpy(id.name, "\xc3\x28", 3);
    assert_int_equal(success(&id, 1u << EG_CAS_ATTR_NAME, 1, 0,
                                        (unsigned char **) &xml, NULL), -1);

    /* not released: not even checked */
    assert_int_equal(success(&id, 0, 1, 0,
                                        (unsigned char **) &xml,
                                        &(size_t) { 0 }), 0);
    eg_cas_xml_free((unsigned char *) xml);

    fill_identity(&id, "x");
    id.uid[0] = '\0';
    assert_int_equal(success(&id, 0, 0, 0,
                                        (unsigned char **) &xml, NULL), -1);
}


static void
test_xml_failure(void **state)
{
    size_t          len;
    unsigned char  *out;

    (void) state;

    assert_int_equal(eg_cas_xml_failure("INVALID_TICKET",
                                        "ticket <unknown> & used", &out,
                                        &len), 0);
    out[len - 1] = '\0';
    assert_non_null(strstr((char *) out,
                           "<cas:authenticationFailure "
                           "code=\"INVALID_TICKET\">ticket &lt;unknown&gt; "
                           "&amp; used</cas:authenticationFailure>"));
    eg_cas_xml_free(out);

    assert_int_equal(eg_cas_xml_failure("X", "a\nb", &out, &len), -1);
}


static void
check_cas1(const char *user, const char *want)
{
    size_t         n;
    unsigned char  buf[EG_CAS1_MAX];

    n = eg_cas1_response(buf, user);

    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
}


static void
test_cas1(void **state)
{
    char  uid[EG_ID_UID_MAX + 2];

    (void) state;

    check_cas1("stu01", "yes\nstu01\n");
    check_cas1(NULL, "no\n");
    check_cas1("", "no\n");
    check_cas1("a\nyes", "no\n");

    memset(uid, 'u', sizeof(uid) - 1);
    uid[EG_ID_UID_MAX] = '\0';
    assert_int_equal(eg_cas1_response((unsigned char[EG_CAS1_MAX]) { 0 },
                                      uid), EG_CAS1_MAX);
    uid[EG_ID_UID_MAX] = 'u';
    uid[EG_ID_UID_MAX + 1] = '\0';
    check_cas1(uid, "no\n");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_exact_is_byte_exact),
        cmocka_unit_test(test_prefix_boundary),
        cmocka_unit_test(test_prefix_cannot_climb_out),
        cmocka_unit_test(test_service_syntax),
        cmocka_unit_test(test_service_find),
        cmocka_unit_test(test_attr_parse),
        cmocka_unit_test(test_ticket_syntax),
        cmocka_unit_test(test_ticket_new),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_xml_success),
        cmocka_unit_test(test_xml_escapes_hostile_values),
        cmocka_unit_test(test_xml_failure),
        cmocka_unit_test(test_cas1),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
