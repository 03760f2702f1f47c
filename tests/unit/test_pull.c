/*
 * Pins the nginx-free half of the standard pull: the client's filters
 * (names, percent-decoding, UTF-8, bounds, duplicates), Accept
 * negotiation, the vendor request's escaping, the OneRoster 1.2 mapping
 * of each entity (collection keys, field names, references, the
 * metadata.cn.* fields, names split for familyName/givenName), and the
 * answer: only the pulled collection, the report of its records, and XML
 * that the standard's XSD takes (records it refuses left out, counted);
 * OneRoster paging: limit and offset taken out of the filters and
 * checked, the page cut from the collection in the vendor's order while
 * the report stays the whole collection's, the Link header's relations.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "eg_oneroster.h"
#include "eg_pull.h"
#include "eg_std.h"


#define SCHOOL   "8c4f4f2e-c1ba-5d64-a5cb-67137aa14004"
#define CLASS    "5674d74b-ff9b-5366-8f51-2b25c7953529"
#define TERM     "8235b7c6-6fb5-5757-b571-9202464b2b29"
#define STU1     "6ffeefe1-3164-565e-8b5c-7ee7a177624f"
#define STU2     "0b6d7c1e-2f5a-4c3b-9d8e-1a2b3c4d5e6f"


static void
test_query_parse(void **state)
{
    char             err[128];
    eg_pull_query_t  q;
    const char      *args;

    (void) state;

    args = "school=2151049901&semester=2024-2025-1&x.y=%E4%B8%80+b&&flag";
    assert_int_equal(eg_pull_query_parse(&q, args, strlen(args), err,
                                         sizeof(err)), 0);
    assert_int_equal(q.n, 4);
    assert_string_equal(q.params[0].name, "school");
    assert_string_equal(q.params[0].value, "2151049901");
    assert_string_equal(q.params[1].value, "2024-2025-1");
    assert_string_equal(q.params[2].name, "x.y");
    assert_string_equal(q.params[2].value, "\xe4\xb8\x80 b");
    assert_string_equal(q.params[3].name, "flag");
    assert_string_equal(q.params[3].value, "");

    assert_int_equal(eg_pull_query_parse(&q, "", 0, err, sizeof(err)), 0);
    assert_int_equal(q.n, 0);
}


static void
test_query_refused(void **state)
{
    char             err[128], many[512], big[600];
    size_t           i, n;
    eg_pull_query_t  q;

    static const char  *bad[][2] = {
        { "a=1&a=2", "given twice" },
        { "sch ool=1", "[A-Za-z0-9_.]" },
        { "=1", "[A-Za-z0-9_.]" },
        { "a%41=1", "[A-Za-z0-9_.]" },
        { "a=%ZZ", "percent escape" },
        { "a=%4", "percent escape" },
        { "a=x%00y", "control character" },
        { "a=%0a", "control character" },
        { "a=%7f", "control character" },
        { "a=%ff%fe", "not UTF-8" },
        { "a=%c0%af", "not UTF-8" },
        { "a=%ed%a0%80", "not UTF-8" },
        { "a=%e4%b8", "not UTF-8" },
        { "abcdefghijabcdefghijabcdefghijabc=1", "[A-Za-z0-9_.]" },
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(eg_pull_query_parse(&q, bad[i][0],
                                             strlen(bad[i][0]), err,
                                             sizeof(err)), -1);
        if (strstr(err, bad[i][1]) == NULL) {
            fail_msg("%s: \"%s\", expected \"%s\"", bad[i][0], err,
                     bad[i][1]);
        }
    }

    for (i = 0, n = 0; i < EG_PULL_PARAMS_MAX + 1; i++) {
        n += snprintf(many + n, sizeof(many) - n, "%sf%zu=1", i ? "&" : "",
                      i);
    }

    assert_int_equal(eg_pull_query_parse(&q, many, n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than"));

    /* limit and offset are not filters: 16 filters and both pass */
    for (i = 0, n = 0; i < EG_PULL_PARAMS_MAX; i++) {
        n += snprintf(many + n, sizeof(many) - n, "f%zu=1&", i);
    }

    n += snprintf(many + n, sizeof(many) - n, "limit=1&offset=2");
    assert_int_equal(eg_pull_query_parse(&q, many, n, err, sizeof(err)), 0);
    assert_int_equal(q.n, EG_PULL_PARAMS_MAX + 2);

    /* EG_PULL_VALUE_MAX bytes pass, one more does not */
    memcpy(big, "a=", 2);
    memset(big + 2, 'x', EG_PULL_VALUE_MAX + 1);
    assert_int_equal(eg_pull_query_parse(&q, big, 2 + EG_PULL_VALUE_MAX,
                                         err, sizeof(err)), 0);
    assert_int_equal(eg_pull_query_parse(&q, big, 3 + EG_PULL_VALUE_MAX,
                                         err, sizeof(err)), -1);
    assert_non_null(strstr(err, "over"));
}


static void
test_accept(void **state)
{
    size_t  i;

    static const struct {
        const char  *accept;
        int          want;
    } cases[] = {
        { "", EG_PULL_JSON },
        { "  ", EG_PULL_JSON },
        { "*/*", EG_PULL_JSON },
        { "application/json", EG_PULL_JSON },
        { "Application/JSON; charset=utf-8", EG_PULL_JSON },
        { "application/*", EG_PULL_JSON },
        { "application/xml", EG_PULL_XML },
        { "text/xml", EG_PULL_XML },
        { "text/html, application/xml;q=0.9, */*;q=0.8", EG_PULL_XML },
        { "application/xml;q=0.5, application/json", EG_PULL_JSON },
        { "application/json;q=0.5, application/xml", EG_PULL_XML },
        { "application/json, application/xml", EG_PULL_JSON },
        { "text/html", 0 },
        { "image/png, text/csv", 0 },
        { "application/json;q=0", 0 },
        { "application/jsonx", 0 },
        { "application/json;q=abc", 0 },
        { "application/json;q=0.001", EG_PULL_JSON },
        { "application/xml;q=0.301, application/json;q=0.3", EG_PULL_XML },
        { "application/json; level=1; q=0.2, text/xml;q=0.25", EG_PULL_XML },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (eg_pull_accept(cases[i].accept, strlen(cases[i].accept))
            != cases[i].want)
        {
            fail_msg("Accept \"%s\": %d, expected %d", cases[i].accept,
                     eg_pull_accept(cases[i].accept,
                                    strlen(cases[i].accept)),
                     cases[i].want);
        }
    }

    assert_int_equal(eg_pull_accept(NULL, 0), EG_PULL_JSON);
}


static void
test_escape(void **state)
{
    char         out[64];
    const char  *in = "2024-2025_1.~ a&b=c/\xe4\xb8\x80";

    (void) state;

    assert_int_equal(eg_pull_escape(out, in, strlen(in)),
                     strlen("2024-2025_1.~%20a%26b%3Dc%2F%E4%B8%80"));
    assert_string_equal(out, "2024-2025_1.~%20a%26b%3Dc%2F%E4%B8%80");
}


/* a query that parses, its paging arguments taken */
static void
take(eg_pull_query_t *q, eg_pull_page_t *page, const char *args)
{
    char  err[128];

    assert_int_equal(eg_pull_query_parse(q, args, strlen(args), err,
                                         sizeof(err)), 0);
    assert_int_equal(eg_pull_page_take(q, page, err, sizeof(err)), 0);
}


static void
test_page_take(void **state)
{
    char             err[128];
    size_t           i;
    eg_pull_query_t  q;
    eg_pull_page_t   page;
    const char      *args;

    static const char  *bad[][2] = {
        { "limit=0", "\"limit\" must be an integer from 1 to 1000" },
        { "limit=1001", "\"limit\"" },
        { "limit=-1", "\"limit\"" },
        { "limit=%2B5", "\"limit\"" },
        { "limit=+5", "\"limit\"" },
        { "limit=", "\"limit\"" },
        { "limit", "\"limit\"" },
        { "limit=1e2", "\"limit\"" },
        { "limit=0x10", "\"limit\"" },
        { "limit=5%20", "\"limit\"" },
        { "limit=99999999999999999999999", "\"limit\"" },
        { "offset=-1", "\"offset\" must be an integer from 0 to "
                       "1000000000" },
        { "offset=1000000001", "\"offset\"" },
        { "offset=abc", "\"offset\"" },
        { "offset=1.5", "\"offset\"" },
    };

    (void) state;

    /* absent: OneRoster's defaults; nothing taken */
    args = "school=1&semester=2";
    take(&q, &page, args);
    assert_int_equal(page.limit, EG_PULL_LIMIT_DEFAULT);
    assert_int_equal(page.limit, 100);
    assert_int_equal(page.offset, 0);
    assert_int_equal(q.n, 2);

    /* taken out wherever they are; the filters keep their order */
    args = "limit=7&school=1&offset=14&semester=2&x=3";
    take(&q, &page, args);
    assert_int_equal(page.limit, 7);
    assert_int_equal(page.offset, 14);
    assert_int_equal(q.n, 3);
    assert_string_equal(q.params[0].name, "school");
    assert_string_equal(q.params[1].name, "semester");
    assert_string_equal(q.params[2].name, "x");

    /* the bounds themselves pass; percent-escaped digits are digits */
    args = "limit=1000&offset=1000000000";
    take(&q, &page, args);
    assert_int_equal(page.limit, 1000);
    assert_int_equal(page.offset, 1000000000);
    assert_int_equal(q.n, 0);

    args = "limit=%31&offset=007";
    take(&q, &page, args);
    assert_int_equal(page.limit, 1);
    assert_int_equal(page.offset, 7);

    /* names are case-sensitive: LIMIT is a filter like any other */
    args = "LIMIT=5";
    take(&q, &page, args);
    assert_int_equal(page.limit, 100);
    assert_int_equal(q.n, 1);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(eg_pull_query_parse(&q, bad[i][0],
                                             strlen(bad[i][0]), err,
                                             sizeof(err)), 0);
        assert_int_equal(eg_pull_page_take(&q, &page, err, sizeof(err)),
                         -1);
        if (strstr(err, bad[i][1]) == NULL) {
            fail_msg("%s: \"%s\", expected \"%s\"", bad[i][0], err,
                     bad[i][1]);
        }
    }

    /* twice is refused as for any filter */
    args = "limit=1&limit=2";
    assert_int_equal(eg_pull_query_parse(&q, args, strlen(args), err,
                                         sizeof(err)), -1);
    assert_non_null(strstr(err, "given twice"));
}


static void
links_are(const char *args, size_t limit, size_t offset, size_t total,
    const char *expected)
{
    char            *links;
    const char      *path = "/std/v1/students";
    eg_pull_query_t  q;
    eg_pull_page_t   page;

    take(&q, &page, args);
    page.limit = limit;
    page.offset = offset;

    links = eg_pull_links(path, strlen(path), &q, &page, total);
    assert_non_null(links);

    if (strcmp(links, expected) != 0) {
        fail_msg("%s limit %zu offset %zu total %zu:\n  %s\nexpected\n  %s",
                 args, limit, offset, total, links, expected);
    }

    free(links);
}


#define L(o, rel)                                                            \
    "</std/v1/students?school=2151049901&limit=2&offset=" #o ">; rel=\""   \
    rel "\""

static void
test_links(void **state)
{
    char             err[128], *links;
    const char      *path = "/std/v1/\xe4\xb8\x80 x";
    eg_pull_query_t  q;
    eg_pull_page_t   page;
    const char      *args;

    (void) state;

    /* the first page of 5 by 2; the middle; the last; alone */
    links_are("school=2151049901", 2, 0, 5,
              L(0, "first") ", " L(2, "next") ", " L(4, "last"));
    links_are("school=2151049901&offset=2&limit=2", 2, 2, 5,
              L(0, "first") ", " L(0, "prev") ", " L(4, "next") ", "
              L(4, "last"));
    links_are("school=2151049901", 2, 4, 5,
              L(0, "first") ", " L(2, "prev") ", " L(4, "last"));
    links_are("school=2151049901", 2, 0, 2,
              L(0, "first") ", " L(0, "last"));

    /* pages off the grid: prev never below 0 */
    links_are("school=2151049901", 2, 1, 5,
              L(0, "first") ", " L(0, "prev") ", " L(3, "next") ", "
              L(4, "last"));

    /* past the end: prev is the last page; nothing at all: page 0 */
    links_are("school=2151049901", 2, 40, 5,
              L(0, "first") ", " L(4, "prev") ", " L(4, "last"));
    links_are("school=2151049901", 2, 0, 0,
              L(0, "first") ", " L(0, "last"));
    links_are("school=2151049901", 2, 6, 0,
              L(0, "first") ", " L(0, "prev") ", " L(0, "last"));

    /* every filter kept, re-encoded; the path encoded but for '/' */
    args = "a=%E4%B8%80+b%26c%3D&flag&limit=3&offset=3";
    take(&q, &page, args);

    links = eg_pull_links(path, strlen(path), &q, &page, 7);
    assert_non_null(links);
    assert_string_equal(links,
        "</std/v1/%E4%B8%80%20x?a=%E4%B8%80%20b%26c%3D&flag=&limit=3"
        "&offset=0>; rel=\"first\", "
        "</std/v1/%E4%B8%80%20x?a=%E4%B8%80%20b%26c%3D&flag=&limit=3"
        "&offset=0>; rel=\"prev\", "
        "</std/v1/%E4%B8%80%20x?a=%E4%B8%80%20b%26c%3D&flag=&limit=3"
        "&offset=6>; rel=\"next\", "
        "</std/v1/%E4%B8%80%20x?a=%E4%B8%80%20b%26c%3D&flag=&limit=3"
        "&offset=6>; rel=\"last\"");
    free(links);

    /*
     * A link of a page of 16 filters is a query the gateway takes: the
     * paging arguments do not count as filters (found by
     * fuzz_pull_query).
     */
    args = ".0d&.o&.1d&11.t&l...&dit.0d00.d&&.t&.1.t&.1&0.............&&"
           "..d.&t&d_&1......&..&...d.d";
    assert_int_equal(eg_pull_query_parse(&q, args, strlen(args), err,
                                         sizeof(err)), 0);
    assert_int_equal(q.n, EG_PULL_PARAMS_MAX);
    assert_int_equal(eg_pull_page_take(&q, &page, err, sizeof(err)), 0);
    links = eg_pull_links("/s", 2, &q, &page, 12336);
    assert_non_null(links);
    assert_non_null(strstr(links, "...d.d=&limit=100&offset=100>"));
    *strchr(links, '>') = '\0';
    assert_int_equal(eg_pull_query_parse(&q, links + 4, strlen(links + 4),
                                         err, sizeof(err)), 0);
    assert_int_equal(eg_pull_page_take(&q, &page, err, sizeof(err)), 0);
    assert_int_equal(q.n, EG_PULL_PARAMS_MAX);
    free(links);

    /* the largest query there can be fits */
    q.n = 0;
    page.limit = EG_PULL_LIMIT_MAX;
    page.offset = EG_PULL_OFFSET_MAX;

    for (q.n = 0; q.n < EG_PULL_PARAMS_MAX; q.n++) {
        q.params[q.n].name = "abcdefghijabcdefghijabcdefghij.x";
        q.params[q.n].value =
            "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
            "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
    }

    links = eg_pull_links(path, strlen(path), &q, &page, (size_t) -1);
    assert_non_null(links);
    assert_non_null(strstr(links, "rel=\"next\""));
    assert_non_null(strstr(links, "&offset=1000001000>; rel=\"next\""));
    free(links);
}


static void
name_is(const char *name, const char *family, const char *given)
{
    char  *f, *g;

    assert_int_equal(eg_oneroster_split_name(name, &f, &g), 0);
    assert_string_equal(f, family);
    assert_string_equal(g, given);
    free(f);
    free(g);
}


static void
test_split_name(void **state)
{
    char  *f, *g;

    (void) state;

    name_is("李思雨", "李", "思雨");
    name_is("欧阳娜娜", "欧阳", "娜娜");
    name_is("司马", "司", "马");
    name_is("李", "李", "");
    name_is("阿依古丽\xc2\xb7买买提", "买买提", "阿依古丽");
    name_is("艾力\xc2\xb7买买提\xc2\xb7阿不都", "阿不都", "艾力");
    name_is("Ann", "A", "nn");

    assert_int_equal(eg_oneroster_split_name("", &f, &g), -1);
}


static json_t *
load(const char *text)
{
    json_t        *v;
    json_error_t   err;

    v = json_loads(text, 0, &err);
    if (v == NULL) {
        fail_msg("%s: %s", text, err.text);
    }

    return v;
}


static const char *
str_at(json_t *o, const char *path)
{
    char        key[64];
    const char *dot;

    while ((dot = strchr(path, '.')) != NULL) {
        snprintf(key, sizeof(key), "%.*s", (int) (dot - path), path);
        o = json_object_get(o, key);
        path = dot + 1;
    }

    return json_string_value(json_object_get(o, path));
}


static void
test_oneroster_student(void **state)
{
    char    *text;
    json_t  *rec, *u, *ids, *role;

    (void) state;

    assert_string_equal(eg_oneroster_key("students"), "users");
    assert_string_equal(eg_oneroster_key("staff"), "users");
    assert_string_equal(eg_oneroster_key("classes"), "classes");
    assert_string_equal(eg_oneroster_key("schools"), "orgs");
    assert_null(eg_oneroster_key("teachers"));

    rec = load("{\"id\": \"" STU1 "\", \"name\": \"李思雨\", \"sex\": \"2\","
               " \"birthDate\": \"2016-05-12\", \"ethnicity\": \"01\","
               " \"nationality\": \"CHN\", \"idType\": \"1\","
               " \"idNumber\": \"510104201605120323\","
               " \"idNumberHmac\": \"ab\","
               " \"studentRegNo\": \"G510104201605120323\","
               " \"studentNo\": \"2022020117\", \"schoolId\": \"" SCHOOL "\","
               " \"homeroomClassId\": \"" CLASS "\", \"gradeLevel\": \"03\","
               " \"enrolmentStatus\": \"01\", \"entryDate\": \"2022-09\","
               " \"dateLastModified\": \"2024-09-03T08:15:22Z\","
               " \"source\": {\"vendorId\": \"smartcampus\","
               "   \"vendorLocalId\": \"u_88213\"},"
               " \"_prov\": {\"sex\": {\"raw\": \"F\"}},"
               " \"householdType\": null, \"favouriteColour\": \"blue\"}");

    u = eg_oneroster_record("students", rec);
    assert_non_null(u);

    assert_string_equal(str_at(u, "sourcedId"), STU1);
    assert_string_equal(str_at(u, "status"), "active");
    assert_string_equal(str_at(u, "dateLastModified"),
                        "2024-09-03T08:15:22Z");
    assert_string_equal(str_at(u, "familyName"), "李");
    assert_string_equal(str_at(u, "givenName"), "思雨");
    assert_true(json_is_true(json_object_get(u, "enabledUser")));
    assert_string_equal(str_at(u, "identifier"), "G510104201605120323");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(u, "grades"), 0)), "03");

    ids = json_object_get(u, "userIds");
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(str_at(json_array_get(ids, 0), "type"), "XJH");
    assert_string_equal(str_at(json_array_get(ids, 1), "type"), "XH");
    assert_string_equal(str_at(json_array_get(ids, 1), "identifier"),
                        "2022020117");

    role = json_array_get(json_object_get(u, "roles"), 0);
    assert_string_equal(str_at(role, "roleType"), "primary");
    assert_string_equal(str_at(role, "role"), "student");
    assert_string_equal(str_at(role, "org.href"), "/std/v1/orgs/" SCHOOL);
    assert_string_equal(str_at(role, "org.type"), "org");
    assert_string_equal(str_at(u, "primaryOrg.sourcedId"), SCHOOL);

    assert_string_equal(str_at(u, "metadata.cn.xm"), "李思雨");
    assert_string_equal(str_at(u, "metadata.cn.xbm"), "2");
    assert_string_equal(str_at(u, "metadata.cn.csrq"), "2016-05-12");
    assert_string_equal(str_at(u, "metadata.cn.mzm"), "01");
    assert_string_equal(str_at(u, "metadata.cn.gjdqm"), "CHN");
    assert_string_equal(str_at(u, "metadata.cn.sfzjlxm"), "1");
    assert_string_equal(str_at(u, "metadata.cn.sfzjhHmac"), "ab");
    assert_string_equal(str_at(u, "metadata.cn.xsdqztm"), "01");
    assert_string_equal(str_at(u, "metadata.cn.rxny"), "2022-09");
    assert_string_equal(str_at(u, "metadata.cn.bj.sourcedId"), CLASS);
    assert_string_equal(str_at(u, "metadata.cn.bj.href"),
                        "/std/v1/classes/" CLASS);
    assert_string_equal(str_at(u, "metadata.cn.src.vendorLocalId"),
                        "u_88213");
    /* what no table names keeps its name; nulls and _prov go */
    assert_string_equal(str_at(u, "metadata.cn.favouriteColour"), "blue");
    assert_null(json_object_get(json_object_get(json_object_get(u,
                "metadata"), "cn"), "hkxzm"));
    text = json_dumps(u, 0);
    assert_null(strstr(text, "\"510104201605120323\""));
    free(text);
    assert_null(json_object_get(u, "_prov"));
    assert_null(json_object_get(u, "idNumber"));

    json_decref(u);
    json_decref(rec);

    /* a student not in school */
    rec = load("{\"id\": \"" STU2 "\", \"enrolmentStatus\": \"02\","
               " \"status\": \"tobedeleted\"}");
    u = eg_oneroster_record("students", rec);
    assert_true(json_is_false(json_object_get(u, "enabledUser")));
    assert_string_equal(str_at(u, "status"), "tobedeleted");
    json_decref(u);
    json_decref(rec);
}


static void
test_oneroster_entities(void **state)
{
    json_t  *rec, *o, *terms;

    (void) state;

    rec = load("{\"id\": \"" SCHOOL "\", \"level\": \"school\","
               " \"name\": \"锦江区示例实验小学\","
               " \"schoolCode\": \"2151049901\","
               " \"divisionCode\": \"510104\", \"schoolType\": \"211\","
               " \"stages\": [\"2\"], \"parentId\": \"" STU2 "\"}");
    o = eg_oneroster_record("orgs", rec);
    assert_string_equal(str_at(o, "type"), "school");
    assert_string_equal(str_at(o, "identifier"), "2151049901");
    assert_string_equal(str_at(o, "parent.type"), "org");
    assert_string_equal(str_at(o, "parent.sourcedId"), STU2);
    assert_string_equal(str_at(o, "metadata.cn.xzqhm"), "510104");
    assert_string_equal(str_at(o, "metadata.cn.xxbxlxm"), "211");
    assert_int_equal(json_array_size(json_object_get(json_object_get(
        json_object_get(o, "metadata"), "cn"), "xd")), 1);
    json_decref(o);
    json_decref(rec);

    rec = load("{\"id\": \"x\", \"level\": \"province\","
               " \"name\": \"四川省\"}");
    o = eg_oneroster_record("orgs", rec);
    assert_string_equal(str_at(o, "type"), "state");
    json_decref(o);
    json_decref(rec);

    rec = load("{\"id\": \"x\", \"level\": \"city\"}");
    o = eg_oneroster_record("orgs", rec);
    assert_string_equal(str_at(o, "type"), "ext:city");
    json_decref(o);
    json_decref(rec);

    rec = load("{\"id\": \"" TERM "\", \"type\": \"semester\","
               " \"schoolYear\": \"2024-2025\", \"termCode\": \"1\","
               " \"title\": \"2024-2025学年第一学期\","
               " \"startDate\": \"2024-09-01\", \"endDate\": \"2025-01-19\","
               " \"orgId\": \"" SCHOOL "\"}");
    o = eg_oneroster_record("academicSessions", rec);
    assert_string_equal(str_at(o, "schoolYear"), "2025");
    assert_string_equal(str_at(o, "metadata.cn.xn"), "2024-2025");
    assert_string_equal(str_at(o, "metadata.cn.xqm"), "1");
    assert_string_equal(str_at(o, "org.href"), "/std/v1/orgs/" SCHOOL);
    assert_string_equal(str_at(o, "startDate"), "2024-09-01");
    json_decref(o);
    json_decref(rec);

    rec = load("{\"id\": \"" CLASS "\", \"classKind\": \"homeroom\","
               " \"title\": \"三年级(2)班\", \"classNo\": \"02\","
               " \"schoolId\": \"" SCHOOL "\", \"gradeLevel\": \"03\","
               " \"stage\": \"2\", \"cohortYear\": \"2022\","
               " \"courseId\": \"c\", \"termIds\": [\"" TERM "\", \"t2\"]}");
    o = eg_oneroster_record("classes", rec);
    assert_string_equal(str_at(o, "classType"), "homeroom");
    assert_string_equal(str_at(o, "classCode"), "02");
    assert_string_equal(str_at(o, "school.sourcedId"), SCHOOL);
    assert_string_equal(str_at(o, "course.type"), "course");
    terms = json_object_get(o, "terms");
    assert_int_equal(json_array_size(terms), 2);
    assert_string_equal(str_at(json_array_get(terms, 0), "type"),
                        "academicSession");
    assert_string_equal(str_at(json_array_get(terms, 1), "href"),
                        "/std/v1/academicSessions/t2");
    assert_string_equal(str_at(o, "metadata.cn.rxnf"), "2022");
    json_decref(o);
    json_decref(rec);

    rec = load("{\"id\": \"e\", \"classId\": \"" CLASS "\","
               " \"schoolId\": \"" SCHOOL "\", \"personId\": \"" STU1 "\","
               " \"role\": \"student\", \"beginDate\": \"2024-09-01\"}");
    o = eg_oneroster_record("enrollments", rec);
    assert_string_equal(str_at(o, "class.sourcedId"), CLASS);
    assert_string_equal(str_at(o, "user.type"), "user");
    assert_string_equal(str_at(o, "user.href"), "/std/v1/users/" STU1);
    assert_string_equal(str_at(o, "role"), "student");
    assert_string_equal(str_at(o, "beginDate"), "2024-09-01");
    json_decref(o);
    json_decref(rec);

    rec = load("{\"id\": \"r\", \"lineItemId\": \"li\","
               " \"studentId\": \"" STU1 "\", \"score\": 92.5,"
               " \"scoreStatus\": \"fully graded\", \"examStatus\": \"01\","
               " \"scoreDate\": \"2025-01-08\"}");
    o = eg_oneroster_record("results", rec);
    assert_string_equal(str_at(o, "lineItem.type"), "lineItem");
    assert_string_equal(str_at(o, "student.sourcedId"), STU1);
    assert_true(json_real_value(json_object_get(o, "score")) == 92.5);
    assert_string_equal(str_at(o, "scoreStatus"), "fully graded");
    assert_string_equal(str_at(o, "metadata.cn.ksxzm"), "01");
    json_decref(o);
    json_decref(rec);

    rec = load("{\"id\": \"s\", \"name\": \"王建国\","
               " \"staffNo\": \"T0193\","
               " \"schoolId\": \"" SCHOOL "\", \"role\": \"teacher\","
               " \"subjects\": [\"13\", \"14\"], \"education\": \"21\"}");
    o = eg_oneroster_record("staff", rec);
    assert_string_equal(str_at(json_array_get(json_object_get(o, "roles"),
                                              0), "role"), "teacher");
    assert_string_equal(str_at(json_array_get(json_object_get(o, "userIds"),
                                              0), "type"), "GH");
    assert_string_equal(str_at(o, "metadata.cn.xlm"), "21");
    assert_null(json_object_get(o, "role"));
    json_decref(o);
    json_decref(rec);

    assert_null(eg_oneroster_record("teachers", rec));
}


typedef struct {
    void  *schema;
} render_state_t;


static int
setup(void **state)
{
    char             err[256];
    render_state_t  *s;

    s = calloc(1, sizeof(render_state_t));
    assert_non_null(s);

    s->schema = eg_pipe_schema_load("schemas/std/v1/batch.xsd", err,
                                    sizeof(err));
    if (s->schema == NULL) {
        fail_msg("%s", err);
    }

    *state = s;

    return 0;
}


static int
teardown(void **state)
{
    render_state_t  *s = *state;

    eg_pipe_schema_free(s->schema);
    free(s);

    return 0;
}


/* a batch as the pipeline forwards it, and the report of its records */

static void
result(eg_pipe_result_t *res, const char *bad_regno)
{
    char     text[2048];
    size_t   r;

    memset(res, 0, sizeof(eg_pipe_result_t));

    snprintf(text, sizeof(text),
             "{\"batchId\": \"sc-pull-1\", \"vendorId\": \"smartcampus\","
             " \"feed\": \"bulk\", \"generatedAt\": \"2024-09-03T08:15:22Z\","
             " \"classes\": [{\"id\": \"" CLASS "\", \"status\": \"active\","
             "   \"classKind\": \"homeroom\", \"title\": \"三年级(2)班\","
             "   \"classNo\": \"02\", \"schoolId\": \"" SCHOOL "\","
             "   \"stage\": \"2\", \"gradeLevel\": \"03\","
             "   \"courseId\": \"" TERM "\", \"termIds\": [\"" TERM "\"],"
             "   \"source\": {\"vendorId\": \"smartcampus\","
             "     \"vendorLocalId\": \"C202102\"}}],"
             " \"students\": [{\"id\": \"" STU1 "\", \"status\": \"active\","
             "   \"name\": \"李思雨\", \"sex\": \"2\","
             "   \"birthDate\": \"2016-05-12\", \"ethnicity\": \"01\","
             "   \"nationality\": \"CHN\", \"idType\": \"1\","
             "   \"studentRegNo\": \"G510104201605120323\","
             "   \"schoolId\": \"" SCHOOL "\", \"gradeLevel\": \"03\","
             "   \"enrolmentStatus\": \"01\","
             "   \"source\": {\"vendorId\": \"smartcampus\","
             "     \"vendorLocalId\": \"u_88213\"}},"
             "  {\"id\": \"" STU2 "\", \"status\": \"active\","
             "   \"name\": \"张浩然\", \"sex\": \"1\","
             "   \"birthDate\": \"2016-02-18\", \"ethnicity\": \"01\","
             "   \"nationality\": \"CHN\", \"idType\": \"1\","
             "   \"studentRegNo\": \"%s\","
             "   \"schoolId\": \"" SCHOOL "\", \"gradeLevel\": \"03\","
             "   \"enrolmentStatus\": \"01\","
             "   \"source\": {\"vendorId\": \"smartcampus\","
             "     \"vendorLocalId\": \"u_88215\"}}]}", bad_regno);

    res->forward = load(text);
    res->report = eg_std_report_new("sc-pull-1");
    assert_non_null(res->report);

    r = eg_std_report_record(res->report, EG_STD_CLASS, "C202102", CLASS);
    eg_std_report_add(res->report, r, "headTeacherId", "R21e", 'W', "T0193",
                      NULL, "班主任不在本校", "head teacher elsewhere");
    eg_std_report_record(res->report, EG_STD_STUDENT, "u_88213", STU1);
    r = eg_std_report_record(res->report, EG_STD_STUDENT, "u_88215", STU2);
    eg_std_report_add(res->report, r, "idNumber", "R02", 'E',
                      "510112201602182116", "5", "身份证号校验码错误",
                      "ID number check digit is wrong");
    eg_std_report_add(res->report, r, "studentRegNo", "R09", 'W',
                      "G510112201602182115", NULL, "学籍号", "reg no");
}


static void
test_render_json(void **state)
{
    char              *text;
    size_t             len, total;
    json_t            *doc, *users, *cn, *t, *v;
    eg_pull_conf_t     conf;
    eg_pipe_result_t   res;

    (void) state;

    result(&res, "G510112201602182115");

    memset(&conf, 0, sizeof(conf));
    conf.coll = "students";
    conf.vendor = "smartcampus";
    conf.format = EG_PULL_JSON;
    conf.observe = 1;

    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    assert_int_equal(total, 2);

    doc = load(text);
    users = json_object_get(doc, "users");
    assert_int_equal(json_array_size(users), 2);
    assert_null(json_object_get(doc, "classes"));
    assert_string_equal(str_at(json_array_get(users, 1), "familyName"),
                        "张");
    assert_string_equal(json_object_iter_key(json_object_iter(
                            json_array_get(users, 0))), "sourcedId");
    assert_string_equal(str_at(json_array_get(users, 0),
                               "dateLastModified"), "2024-09-03T08:15:22Z");

    cn = json_object_get(json_object_get(doc, "metadata"), "cn");
    assert_string_equal(str_at(cn, "batchId"), "sc-pull-1");
    assert_string_equal(str_at(cn, "vendor"), "smartcampus");
    assert_string_equal(str_at(cn, "entity"), "students");
    assert_string_equal(str_at(cn, "mode"), "observe");

    /* the class's warning is not the students' */
    t = json_object_get(cn, "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "records")), 2);
    assert_int_equal(json_integer_value(json_object_get(t, "rejected")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "accepted")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "violations")),
                     2);
    assert_int_equal(json_integer_value(json_object_get(t, "E")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "W")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "returned")), 2);

    v = json_object_get(cn, "violations");
    assert_int_equal(json_array_size(v), 2);
    assert_string_equal(str_at(json_array_get(v, 0), "actual"),
                        "5101**********2116");
    assert_null(strstr(text, "510112201602182116"));
    assert_int_equal(json_array_size(json_object_get(cn, "records")), 1);

    json_decref(doc);
    free(text);

    /* the classes: the class's own report */
    conf.coll = "classes";
    text = eg_pull_render(&conf, &res, &len, &total);
    doc = load(text);
    assert_int_equal(json_array_size(json_object_get(doc, "classes")), 1);
    cn = json_object_get(json_object_get(doc, "metadata"), "cn");
    assert_int_equal(json_array_size(json_object_get(cn, "violations")), 1);
    assert_string_equal(str_at(json_array_get(json_object_get(cn,
                                   "violations"), 0), "ruleId"), "R21e");
    json_decref(doc);
    free(text);

    json_decref(res.forward);
    eg_std_report_free(res.report);
}


static int
xml_valid(void *schema, const char *text, size_t len)
{
    int                    rc;
    xmlDocPtr              doc;
    xmlSchemaValidCtxtPtr  v;

    doc = xmlReadMemory(text, (int) len, "pull.xml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);

    v = xmlSchemaNewValidCtxt(schema);
    rc = xmlSchemaValidateDoc(v, doc);

    xmlSchemaFreeValidCtxt(v);
    xmlFreeDoc(doc);

    return rc == 0;
}


static void
test_render_xml(void **state)
{
    render_state_t    *s = *state;
    char              *text;
    size_t             len, total;
    eg_pull_conf_t     conf;
    eg_pipe_result_t   res;

    result(&res, "G510112201602182115");

    memset(&conf, 0, sizeof(conf));
    conf.coll = "students";
    conf.vendor = "smartcampus";
    conf.format = EG_PULL_XML;
    conf.schema = s->schema;

    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(text);
    assert_true(xml_valid(s->schema, text, len));
    assert_non_null(strstr(text, "<batch xmlns=\"urn:edugate:std:v1\">"));
    assert_non_null(strstr(text, "<students><item><id>" STU1));
    assert_non_null(strstr(text, "<ruleId>R02</ruleId>"));
    assert_null(strstr(text, "R21e"));
    assert_null(strstr(text, "<classes>"));
    assert_non_null(strstr(text, "<returned>2</returned>"));
    assert_non_null(strstr(text, "<omitted>0</omitted>"));
    assert_non_null(strstr(text, "<mode>enforce</mode>"));
    free(text);

    json_decref(res.forward);
    eg_std_report_free(res.report);

    /* a record the schema refuses is left out, and counted */
    result(&res, "X-not-a-number");

    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(text);
    assert_true(xml_valid(s->schema, text, len));
    assert_null(strstr(text, "<item><id>" STU2));
    assert_non_null(strstr(text, "<returned>1</returned>"));
    assert_non_null(strstr(text, "<omitted>1</omitted>"));
    free(text);

    /* JSON has no schema to meet: both go */
    conf.format = EG_PULL_JSON;
    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(strstr(text, "\"returned\":2"));
    free(text);

    json_decref(res.forward);
    eg_std_report_free(res.report);
}


/* a page of the collection; the report is still every page's */

static void
test_render_page(void **state)
{
    render_state_t    *s = *state;
    char              *text;
    size_t             len, total;
    json_t            *doc, *users, *t;
    eg_pull_conf_t     conf;
    eg_pipe_result_t   res;

    result(&res, "G510112201602182115");

    memset(&conf, 0, sizeof(conf));
    conf.coll = "students";
    conf.vendor = "smartcampus";
    conf.format = EG_PULL_JSON;
    conf.observe = 1;

    /* each page in the vendor's order: STU1, then STU2 */
    conf.page.limit = 1;
    conf.page.offset = 0;
    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(text);
    assert_int_equal(total, 2);
    doc = load(text);
    users = json_object_get(doc, "users");
    assert_int_equal(json_array_size(users), 1);
    assert_string_equal(str_at(json_array_get(users, 0), "sourcedId"),
                        STU1);
    t = json_object_get(json_object_get(json_object_get(doc, "metadata"),
                                        "cn"), "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "records")), 2);
    assert_int_equal(json_integer_value(json_object_get(t, "returned")), 2);
    assert_int_equal(json_array_size(json_object_get(json_object_get(
                         json_object_get(doc, "metadata"), "cn"),
                         "violations")), 2);
    json_decref(doc);
    free(text);

    conf.page.offset = 1;
    text = eg_pull_render(&conf, &res, &len, &total);
    doc = load(text);
    users = json_object_get(doc, "users");
    assert_int_equal(json_array_size(users), 1);
    assert_string_equal(str_at(json_array_get(users, 0), "sourcedId"),
                        STU2);
    json_decref(doc);
    free(text);

    /* past the end: an empty collection, still counted */
    conf.page.limit = 100;
    conf.page.offset = 2;
    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(text);
    assert_int_equal(total, 2);
    doc = load(text);
    users = json_object_get(doc, "users");
    assert_true(json_is_array(users));
    assert_int_equal(json_array_size(users), 0);
    json_decref(doc);
    free(text);

    conf.page.offset = EG_PULL_OFFSET_MAX;
    conf.page.limit = EG_PULL_LIMIT_MAX;
    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"users\":[]"));
    free(text);

    json_decref(res.forward);
    eg_std_report_free(res.report);
    result(&res, "X-not-a-number");

    /* XML: what the schema refuses is on no page and in no count */
    conf.format = EG_PULL_XML;
    conf.schema = s->schema;
    conf.page.limit = 1;
    conf.page.offset = 0;
    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(text);
    assert_int_equal(total, 1);
    assert_true(xml_valid(s->schema, text, len));
    assert_non_null(strstr(text, "<item><id>" STU1));
    assert_non_null(strstr(text, "<omitted>1</omitted>"));
    free(text);

    conf.page.offset = 1;
    text = eg_pull_render(&conf, &res, &len, &total);
    assert_non_null(text);
    assert_true(xml_valid(s->schema, text, len));
    assert_null(strstr(text, "<item><id>"));
    assert_non_null(strstr(text, "<ruleId>R02</ruleId>"));
    free(text);

    json_decref(res.forward);
    eg_std_report_free(res.report);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_query_refused),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_page_take),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_split_name),
        cmocka_unit_test(test_oneroster_student),
        cmocka_unit_test(test_oneroster_entities),
        cmocka_unit_test(test_render_json),
        cmocka_unit_test(test_render_xml),
        cmocka_unit_test(test_render_page),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
