/*
 * Pins the nginx-free rules of CAS proxying and single logout: the
 * PGT / PGTIOU / PT artifacts and their syntax, which pgtUrls may be
 * called back and the callback target built from them, the proxy chain
 * kept in ticket records, the answers that carry it (checked against
 * schemas/cas/cas3.xsd), and the SAML LogoutRequest sent to services.
 * Run from the top of the repository (as `make unit` does).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "eg_cas.h"


#define U(s)  ((const unsigned char *) (s))

#define XSD   "schemas/cas/cas3.xsd"


static const unsigned char  hash[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";


static int
alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9');
}


static void
test_artifacts(void **state)
{
    size_t          i;
    unsigned char   pgt[EG_CAS_PGT_LEN + 1], iou[EG_CAS_PGTIOU_LEN + 1];
    unsigned char   pt[EG_CAS_TICKET_LEN + 1], other[EG_CAS_PGT_LEN];

    (void) state;

    pgt[EG_CAS_PGT_LEN] = '#';
    iou[EG_CAS_PGTIOU_LEN] = '#';
    pt[EG_CAS_TICKET_LEN] = '#';

    assert_int_equal(eg_cas_artifact_new(pgt, "PGT-"), 0);
    assert_int_equal(eg_cas_artifact_new(iou, "PGTIOU-"), 0);
    assert_int_equal(eg_cas_artifact_new(pt, "PT-"), 0);

    /* nothing written past the end */
    assert_int_equal(pgt[EG_CAS_PGT_LEN], '#');
    assert_int_equal(iou[EG_CAS_PGTIOU_LEN], '#');
    assert_int_equal(pt[EG_CAS_TICKET_LEN], '#');

    assert_memory_equal(pgt, "PGT-", 4);
    assert_memory_equal(iou, "PGTIOU-", 7);

    for (i = 4; i < EG_CAS_PGT_LEN; i++) {
        assert_true(alnum(pgt[i]));
    }

    for (i = 7; i < EG_CAS_PGTIOU_LEN; i++) {
        assert_true(alnum(iou[i]));
    }

    /* at least 128 random bits in a PGT: 62^22 > 2^128 */
    assert_true(EG_CAS_PGT_LEN - 4 >= 22);

    assert_true(eg_cas_pgt_check(pgt, EG_CAS_PGT_LEN));
    assert_int_equal(eg_cas_ticket_check(pt, EG_CAS_TICKET_LEN),
                     EG_CAS_TICKET_PROXY);

    /* each artifact is accepted where it belongs only */
    assert_int_equal(eg_cas_ticket_check(pgt, EG_CAS_PGT_LEN),
                     EG_CAS_TICKET_BAD);
    assert_int_equal(eg_cas_ticket_check(iou, EG_CAS_PGTIOU_LEN),
                     EG_CAS_TICKET_BAD);
    assert_false(eg_cas_pgt_check(iou, EG_CAS_PGTIOU_LEN));
    assert_false(eg_cas_pgt_check(pt, EG_CAS_TICKET_LEN));

    assert_int_equal(eg_cas_artifact_new(other, "PGT-"), 0);
    assert_memory_not_equal(pgt, other, EG_CAS_PGT_LEN);
}


static int
pgt(const char *t)
{
    return eg_cas_pgt_check(U(t), strlen(t));
}


static void
test_pgt_syntax(void **state)
{
    char  big[EG_CAS_TICKET_MAX + 2];

    (void) state;

    assert_true(pgt("PGT-1"));
    assert_true(pgt("PGT-490649-W81Y9Sa2vTM7hda7xNTkezTbVge4CUsybAr"));

    assert_false(pgt(""));
    assert_false(pgt("PGT-"));
    assert_false(pgt("pgt-abc"));
    assert_false(pgt("PGTIOU-abc"));
    assert_false(pgt("ST-abc"));
    assert_false(pgt("PGT-a b"));
    assert_false(pgt("PGT-a\r\nDEL x"));
    assert_false(pgt("PGT-a_b"));
    assert_false(pgt("PGT-*"));
    assert_false(eg_cas_pgt_check(U("PGT-a\0b"), 7));

    memcpy(big, "PGT-", 4);
    memset(big + 4, 'a', sizeof(big) - 4);
    assert_true(eg_cas_pgt_check(U(big), EG_CAS_TICKET_MAX));
    assert_false(eg_cas_pgt_check(U(big), EG_CAS_TICKET_MAX + 1));
}


static const char *
callback_check(const char *url)
{
    return eg_cas_callback_check(U(url), strlen(url));
}


static void
test_callback_check(void **state)
{
    (void) state;

    assert_null(callback_check("https://app.example/pgt"));
    assert_null(callback_check("https://app.example/pgt?a=1&b"));
    assert_null(callback_check("http://127.0.0.1:9000/pgt"));
    assert_null(callback_check("https://app.example/pgt?pgtIouX=1"));

    /* planted values would come before ours */
    assert_non_null(callback_check("https://app.example/pgt?pgtIou=X"));
    assert_non_null(callback_check("https://app.example/pgt?a&pgtId=PGT-1"));
    assert_non_null(callback_check("https://app.example/pgt?pgtId"));

    /* and what no service URL may hold */
    assert_non_null(callback_check("https://u@app.example/pgt"));
    assert_non_null(callback_check("https://app.example/pgt#f"));
    assert_non_null(callback_check("ftp://app.example/pgt"));
    assert_non_null(callback_check("https://app.example/p gt"));
    assert_non_null(callback_check(""));
}


static void
check_callback(const char *target, const char *want_prefix)
{
    size_t          n, len;
    unsigned char   iou[EG_CAS_PGTIOU_LEN], pgt[EG_CAS_PGT_LEN];
    unsigned char  *buf;
    char            want[512];

    memcpy(iou, "PGTIOU-", 7);
    memset(iou + 7, 'i', EG_CAS_PGTIOU_LEN - 7);
    memcpy(pgt, "PGT-", 4);
    memset(pgt + 4, 'g', EG_CAS_PGT_LEN - 4);

    len = eg_cas_callback_len(strlen(target));
    buf = malloc(len);
    assert_non_null(buf);

    n = eg_cas_callback(buf, U(target), strlen(target), iou, pgt);
    assert_true(n <= len);

    snprintf(want, sizeof(want), "%spgtIou=%.*s&pgtId=%.*s", want_prefix,
             (int) EG_CAS_PGTIOU_LEN, iou, (int) EG_CAS_PGT_LEN, pgt);

    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);

    free(buf);
}


static void
test_callback_target(void **state)
{
    (void) state;

    check_callback("/pgt", "/pgt?");
    check_callback("/pgt?a=1", "/pgt?a=1&");
    check_callback("/pgt?", "/pgt?");
    check_callback("/pgt?a=1&", "/pgt?a=1&");
    check_callback("", "/?");
    check_callback("?a=1", "/?a=1&");
}


static void
identity(eg_identity_t *id)
{
    memset(id, 0, sizeof(eg_identity_t));

    assert_int_equal(eg_identity_set(id, EG_ID_UID, "tea01", 5), 0);
    assert_int_equal(eg_identity_set(id, EG_ID_NAME, "王老师", 9), 0);
    id->auth_time = 1700000000;
    id->expires = 1700028800;
}


static void
test_record_proxies(void **state)
{
    char             *json;
    eg_identity_t     id;
    eg_cas_record_t  *rec;
    const char       *chain[EG_CAS_PROXIES_MAX + 1] = {
        "https://b.example/pgt", "https://a.example/pgt?x=1&y=2",
        "https://c.example/", "https://d.example/", "https://e.example/"
    };

    (void) state;

    identity(&id);

    rec = malloc(sizeof(eg_cas_record_t));
    assert_non_null(rec);

    json = eg_cas_record_encode(&id, 0, U("https://c.example/app"), 21,
                                hash, 0, chain, 2);
    assert_non_null(json);
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), 0);
    free(json);

    assert_int_equal(rec->nproxies, 2);
    assert_string_equal(rec->proxies[0], "https://b.example/pgt");
    assert_string_equal(rec->proxies[1], "https://a.example/pgt?x=1&y=2");
    assert_string_equal(rec->service, "https://c.example/app");

    /* the longest chain kept, and one more is refused */
    json = eg_cas_record_encode(&id, 0, U("https://c.example/app"), 21,
                                hash, 0, chain, EG_CAS_PROXIES_MAX);
    assert_non_null(json);
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), 0);
    assert_int_equal(rec->nproxies, EG_CAS_PROXIES_MAX);
    free(json);

    assert_null(eg_cas_record_encode(&id, 0, U("https://c.example/app"), 21,
                                     hash, 0, chain,
                                     EG_CAS_PROXIES_MAX + 1));

    /* no chain: none read back */
    json = eg_cas_record_encode(&id, 0, U("https://c.example/app"), 21,
                                hash, 1, NULL, 0);
    assert_non_null(json);
    assert_null(strstr(json, "proxies"));
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), 0);
    assert_int_equal(rec->nproxies, 0);
    free(json);

#define REC(proxies)                                                      \
    "{\"uid\":\"a\",\"auth_time\":1,\"expires\":2,\"service\":\"x\","     \
    "\"session\":\"0123456789abcdef0123456789abcdef0123456789abcdef"      \
    "0123456789abcdef\",\"fresh\":false,\"proxies\":" proxies "}"

    json = REC("[\"https://a/\"]");
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), 0);
    assert_int_equal(rec->nproxies, 1);

    json = REC("\"https://a/\"");
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), -1);
    json = REC("[1]");
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), -1);
    json = REC("[\"\"]");
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), -1);
    json = REC("[\"a\\u0000b\"]");
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), -1);
    json = REC("[\"a\",\"b\",\"c\",\"d\",\"e\"]");
    assert_int_equal(eg_cas_record_decode(rec, json, strlen(json)), -1);

    free(rec);
}


/* 0 if the document is a CAS 3.0 answer */

static int
schema_valid(const unsigned char *doc, size_t len)
{
    int                     rc;
    xmlDocPtr               d;
    xmlSchemaPtr            schema;
    xmlSchemaParserCtxtPtr  pctx;
    xmlSchemaValidCtxtPtr   vctx;

    pctx = xmlSchemaNewParserCtxt(XSD);
    assert_non_null(pctx);
    schema = xmlSchemaParse(pctx);
    assert_non_null(schema);
    vctx = xmlSchemaNewValidCtxt(schema);
    assert_non_null(vctx);

    d = xmlReadMemory((const char *) doc, (int) len, "answer.xml", NULL,
                      XML_PARSE_NONET);
    assert_non_null(d);

    rc = xmlSchemaValidateDoc(vctx, d);

    xmlFreeDoc(d);
    xmlSchemaFreeValidCtxt(vctx);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pctx);

    return rc;
}


static char *
text(unsigned char *out, size_t len)
{
    char  *s;

    assert_int_equal(schema_valid(out, len), 0);

    s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, out, len);
    s[len] = '\0';

    eg_cas_xml_free(out);

    return s;
}


static void
test_success_with_proxies(void **state)
{
    char             *xml, *a, *b, *c;
    size_t            len;
    unsigned char    *out;
    eg_cas_record_t  *rec;

    (void) state;

    rec = calloc(1, sizeof(eg_cas_record_t));
    assert_non_null(rec);
    identity(&rec->id);

    rec->nproxies = 2;
    strcpy(rec->proxies[0], "https://proxy2.example/pgt?a=1&b=<2>");
    strcpy(rec->proxies[1], "https://proxy1.example/pgt");

    assert_int_equal(eg_cas_xml_success(rec, 1u << EG_CAS_ATTR_NAME, 1,
                                        "PGTIOU-abc", &out, &len), 0);
    xml = text(out, len);

    a = strstr(xml, "<cas:name>王老师</cas:name>");
    b = strstr(xml, "<cas:proxyGrantingTicket>PGTIOU-abc"
                    "</cas:proxyGrantingTicket>");
    c = strstr(xml, "<cas:proxy>https://proxy2.example/pgt?a=1&amp;b=&lt;2"
                    "&gt;</cas:proxy>");

    /* the order of the schema: attributes, PGT IOU, proxies (last first) */
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    assert_true(c < strstr(xml, "<cas:proxy>https://proxy1.example/pgt"
                                "</cas:proxy>"));
    free(xml);

    /* CAS 2.0 with a chain, no IOU */
    assert_int_equal(eg_cas_xml_success(rec, 0, 0, NULL, &out, &len), 0);
    xml = text(out, len);
    assert_null(strstr(xml, "proxyGrantingTicket"));
    assert_null(strstr(xml, "attributes"));
    assert_non_null(strstr(xml, "<cas:proxies>"));
    free(xml);

    /* no chain: no <cas:proxies> */
    rec->nproxies = 0;
    assert_int_equal(eg_cas_xml_success(rec, 0, 0, "PGTIOU-x", &out, &len),
                     0);
    xml = text(out, len);
    assert_null(strstr(xml, "proxies"));
    free(xml);

    /* a value that is not text never becomes XML */
    assert_int_equal(eg_cas_xml_success(rec, 0, 0, "PGTIOU-\n", &out, &len),
                     -1);
    rec->nproxies = 1;
    strcpy(rec->proxies[0], "https://a/\x01");
    assert_int_equal(eg_cas_xml_success(rec, 0, 0, NULL, &out, &len), -1);

    free(rec);
}


static void
test_proxy_answers(void **state)
{
    char           *xml;
    size_t          len;
    unsigned char  *out;

    (void) state;

    assert_int_equal(eg_cas_xml_proxy_success("PT-123", &out, &len), 0);
    xml = text(out, len);
    assert_non_null(strstr(xml, "<cas:proxySuccess>"));
    assert_non_null(strstr(xml, "<cas:proxyTicket>PT-123</cas:proxyTicket>"));
    free(xml);

    assert_int_equal(eg_cas_xml_proxy_failure("INVALID_REQUEST",
                                              "'pgt' & 'targetService' are "
                                              "both required", &out, &len),
                     0);
    xml = text(out, len);
    assert_non_null(strstr(xml, "<cas:proxyFailure code=\"INVALID_REQUEST\">"
                                "'pgt' &amp; 'targetService' are both "
                                "required</cas:proxyFailure>"));
    free(xml);

    assert_int_equal(eg_cas_xml_proxy_success("", &out, &len), -1);
    assert_int_equal(eg_cas_xml_proxy_failure("X", "a\rb", &out, &len), -1);
}


static void
test_logout_request(void **state)
{
    char           *first;
    size_t          len;
    xmlDocPtr       doc;
    xmlNodePtr      root, name, index;
    unsigned char  *out;
    xmlChar        *v;

    (void) state;

    assert_int_equal(eg_cas_xml_logout_request("ST-abc123", 1700000000,
                                               &out, &len), 0);

    first = malloc(len + 1);
    assert_non_null(first);
    memcpy(first, out, len);
    first[len] = '\0';

    /* what clients search for as plain text */
    assert_non_null(strstr(first, "<samlp:SessionIndex>ST-abc123"
                                  "</samlp:SessionIndex>"));
    assert_non_null(strstr(first, "<saml:NameID>@NOT_USED@</saml:NameID>"));

    doc = xmlReadMemory((const char *) out, (int) len, "lr.xml", NULL,
                        XML_PARSE_NONET);
    assert_non_null(doc);

    root = xmlDocGetRootElement(doc);
    assert_string_equal((char *) root->name, "LogoutRequest");
    assert_string_equal((char *) root->ns->href,
                        "urn:oasis:names:tc:SAML:2.0:protocol");

    v = xmlGetProp(root, BAD_CAST "Version");
    assert_string_equal((char *) v, "2.0");
    xmlFree(v);

    v = xmlGetProp(root, BAD_CAST "IssueInstant");
    assert_string_equal((char *) v, "2023-11-14T22:13:20Z");
    xmlFree(v);

    v = xmlGetProp(root, BAD_CAST "ID");
    assert_int_equal(strlen((char *) v), 3 + EG_CAS_TICKET_RANDOM);
    assert_memory_equal(v, "LR-", 3);
    xmlFree(v);

    name = xmlFirstElementChild(root);
    index = xmlNextElementSibling(name);
    assert_string_equal((char *) name->name, "NameID");
    assert_string_equal((char *) name->ns->href,
                        "urn:oasis:names:tc:SAML:2.0:assertion");
    assert_string_equal((char *) index->name, "SessionIndex");
    assert_string_equal((char *) index->ns->href,
                        "urn:oasis:names:tc:SAML:2.0:protocol");
    assert_null(xmlNextElementSibling(index));

    xmlFreeDoc(doc);
    eg_cas_xml_free(out);

    /* a fresh ID every time; a proxy ticket is a session index too */
    assert_int_equal(eg_cas_xml_logout_request("ST-abc123", 1700000000,
                                               &out, &len), 0);
    assert_memory_not_equal(out, first, len);
    eg_cas_xml_free(out);
    free(first);

    assert_int_equal(eg_cas_xml_logout_request("PT-x", 0, &out, &len), 0);
    eg_cas_xml_free(out);

    /* only a well-formed ticket goes into the document */
    assert_int_equal(eg_cas_xml_logout_request("ST-<x>", 0, &out, &len), -1);
    assert_int_equal(eg_cas_xml_logout_request("PGT-x", 0, &out, &len), -1);
    assert_int_equal(eg_cas_xml_logout_request("", 0, &out, &len), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_artifacts),
        cmocka_unit_test(test_pgt_syntax),
        cmocka_unit_test(test_callback_check),
        cmocka_unit_test(test_callback_target),
        cmocka_unit_test(test_record_proxies),
        cmocka_unit_test(test_success_with_proxies),
        cmocka_unit_test(test_proxy_answers),
        cmocka_unit_test(test_logout_request),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
