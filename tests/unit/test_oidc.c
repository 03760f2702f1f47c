/*
 * Pins the OIDC provider's nginx-free rules: scope lists, what a
 * registered redirect URI may be and that matching is byte-exact, PKCE
 * S256 (with the RFC 7636 appendix B example), the authorization
 * response URL, client secrets, the grant record and the
 * claims each scope releases.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eg_oidc.h"


#define U(s)   ((const unsigned char *) (s))
#define S(s)   { sizeof(s) - 1, U(s) }


static int
scopes(const char *s, unsigned *bits)
{
    eg_str_t  bad;

    return eg_oidc_scope_parse(U(s), strlen(s), bits, &bad);
}


static void
test_scope_parse(void **state)
{
    char      buf[EG_OIDC_SCOPE_MAX];
    size_t    n;
    unsigned  bits;

    (void) state;

    assert_int_equal(scopes("openid", &bits), 0);
    assert_int_equal(bits, EG_OIDC_SCOPE_OPENID);

    assert_int_equal(scopes("edu openid offline_access profile", &bits), 0);
    assert_int_equal(bits, EG_OIDC_SCOPE_OPENID | EG_OIDC_SCOPE_PROFILE
                           | EG_OIDC_SCOPE_EDU | EG_OIDC_SCOPE_OFFLINE);
    n = eg_oidc_scope_string(bits, buf);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "openid profile edu offline_access");

    /* unknown, case variants, empty tokens and other separators */
    assert_int_equal(scopes("openid admin", &bits), -1);
    assert_int_equal(scopes("OpenID", &bits), -1);
    assert_int_equal(scopes("openid  profile", &bits), -1);
    assert_int_equal(scopes(" openid", &bits), -1);
    assert_int_equal(scopes("openid ", &bits), -1);
    assert_int_equal(scopes("openid,profile", &bits), -1);
    assert_int_equal(scopes("", &bits), -1);
    assert_int_equal(scopes("openid\tprofile", &bits), -1);

    assert_int_equal(eg_oidc_scope_parse_list(U("openid,edu"), 10, &bits),
                     0);
    assert_int_equal(bits, EG_OIDC_SCOPE_OPENID | EG_OIDC_SCOPE_EDU);
    assert_int_equal(eg_oidc_scope_parse_list(U("openid,"), 7, &bits), -1);

    assert_int_equal(eg_oidc_scope_string(0, buf), 0);
    assert_string_equal(buf, "");

    assert_int_equal(eg_oidc_grant_types_parse(
                         U("client_credentials,authorization_code"), 37,
                         &bits), 0);
    assert_int_equal(bits, EG_OIDC_GRANT_CODE | EG_OIDC_GRANT_CLIENT);
    assert_int_equal(eg_oidc_grant_types_parse(U("client_credentials"), 18,
                                               &bits), 0);
    assert_int_equal(bits, EG_OIDC_GRANT_CLIENT);
    assert_int_equal(eg_oidc_grant_types_parse(U("password"), 8, &bits), -1);
    assert_int_equal(eg_oidc_grant_types_parse(U("implicit,"), 9, &bits),
                     -1);
    assert_int_equal(eg_oidc_grant_types_parse(U(""), 0, &bits), -1);
}


static const char *
check(const char *uri)
{
    return eg_oidc_uri_check(U(uri), strlen(uri));
}


static void
test_uri_check(void **state)
{
    (void) state;

    assert_null(check("https://app.example/cb"));
    assert_null(check("https://app.example:8443/cb?x=1"));
    assert_null(check("http://127.0.0.1:8081/callback"));
    assert_null(check("http://localhost/cb"));
    assert_null(check("http://[::1]:9000/cb"));

    assert_non_null(check("http://app.example/cb"));
    assert_non_null(check("http://127.0.0.1.evil.example/cb"));
    assert_non_null(check("http://localhost.evil/cb"));
    assert_non_null(check("https://app.example/cb#x"));
    assert_non_null(check("https://user@app.example/cb"));
    assert_non_null(check("https://app.example/c b"));
    assert_non_null(check("https://app.example/\xe4"));
    assert_non_null(check("https://app.example\\cb"));
    assert_non_null(check("javascript:alert(1)"));
    assert_non_null(check("//app.example/cb"));
    assert_non_null(check("/cb"));
    assert_non_null(check("https:///cb"));
    assert_non_null(check("http://[::1/cb"));
    assert_non_null(check(""));
}


static void
test_origin_and_registered(void **state)
{
    eg_str_t        o;
    const eg_str_t  list[] = { S("https://app.example/cb"),
                               S("http://127.0.0.1:8081/callback") };

    (void) state;

    o = eg_oidc_origin(U("http://127.0.0.1:8081/spa/callback"), 34);
    assert_int_equal(o.len, 21);
    assert_memory_equal(o.data, "http://127.0.0.1:8081", 21);

    o = eg_oidc_origin(U("https://app.example?x"), 21);
    assert_int_equal(o.len, 19);

    assert_true(eg_oidc_uri_registered(list, 2, U("https://app.example/cb"),
                                       22));
    assert_false(eg_oidc_uri_registered(list, 2,
                                        U("https://app.example/cb/"), 23));
    assert_false(eg_oidc_uri_registered(list, 2,
                                        U("https://APP.example/cb"), 22));
    assert_false(eg_oidc_uri_registered(list, 2, U("https://app.example/c"),
                                        21));
    assert_false(eg_oidc_uri_registered(list, 0, U("https://app.example/cb"),
                                        22));
}


static void
test_pkce(void **state)
{
    const char  *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const char  *challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    char         long_v[130];

    (void) state;

    assert_true(eg_oidc_challenge_ok(U(challenge), strlen(challenge)));
    assert_false(eg_oidc_challenge_ok(U(challenge), 42));
    assert_false(eg_oidc_challenge_ok(U("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuG"
                                        "JSstw+cM"), 43));

    assert_int_equal(eg_oidc_pkce_verify(U(verifier), strlen(verifier),
                                         challenge), 0);
    assert_int_equal(eg_oidc_pkce_verify(U(verifier), strlen(verifier),
                                         "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuG"
                                         "JSstw-cN"), -2);

    /* the verifier itself: 43..128 unreserved characters */
    assert_int_equal(eg_oidc_pkce_verify(U(verifier), 42, challenge), -1);
    assert_int_equal(eg_oidc_pkce_verify(U("dBjftJeZ4CVP mB92K27uhbUJU1p1r_"
                                           "wW1gFWFOEjXk"), 43, challenge),
                     -1);
    memset(long_v, 'a', sizeof(long_v));
    assert_int_equal(eg_oidc_pkce_verify(U(long_v), 129, challenge), -1);
    assert_int_equal(eg_oidc_pkce_verify(U(long_v), 128, challenge), -2);

    /* "plain": the challenge as verifier never matches */
    assert_int_equal(eg_oidc_pkce_verify(U(challenge), strlen(challenge),
                                         challenge), -2);
}


static void
test_redirect(void **state)
{
    unsigned char     buf[256];
    size_t            n;
    eg_oidc_param_t   p[3] = {
        { "code", S("abc") },
        { "state", S("x y&z=1/é") },
        { "iss", S("http://127.0.0.1:8080") }
    };

    (void) state;

    n = eg_oidc_redirect(buf, U("https://app.example/cb"), 22, p, 3);
    assert_int_equal(n, eg_oidc_redirect_len(U("https://app.example/cb"), 22,
                                             p, 3));
    buf[n] = '\0';
    assert_string_equal(buf, "https://app.example/cb?code=abc"
                        "&state=x%20y%26z%3D1%2F%C3%A9"
                        "&iss=http%3A%2F%2F127.0.0.1%3A8080");

    p[1].value.data = NULL;
    n = eg_oidc_redirect(buf, U("https://app.example/cb?a=1"), 26, p, 2);
    buf[n] = '\0';
    assert_string_equal(buf, "https://app.example/cb?a=1&code=abc");
}


static void
test_clients_and_secrets(void **state)
{
    const eg_str_t          cb[] = { S("https://a.example/cb") };
    eg_oidc_client_t        c[2];
    const eg_oidc_client_t *found;

    (void) state;

    memset(c, 0, sizeof(c));
    c[0].id.data = U("portal");
    c[0].id.len = 6;
    c[0].secret.data = U("portal-secret-0123");
    c[0].secret.len = 18;
    c[0].redirect_uris = cb;
    c[0].nredirect = 1;
    c[1].id.data = U("spa");
    c[1].id.len = 3;

    found = eg_oidc_client_find(c, 2, U("spa"), 3);
    assert_ptr_equal(found, &c[1]);
    assert_null(eg_oidc_client_find(c, 2, U("sp"), 2));
    assert_null(eg_oidc_client_find(c, 2, U("portalx"), 7));

    assert_true(eg_oidc_secret_ok(&c[0], U("portal-secret-0123"), 18));
    assert_false(eg_oidc_secret_ok(&c[0], U("portal-secret-012"), 17));
    assert_false(eg_oidc_secret_ok(&c[0], U("portal-secret-0124"), 18));
    assert_false(eg_oidc_secret_ok(&c[0], U(""), 0));
    /* a public client has no secret that could match */
    assert_false(eg_oidc_secret_ok(&c[1], U(""), 0));
    assert_false(eg_oidc_secret_ok(&c[1], U("x"), 1));
}


static void
fill_identity(eg_identity_t *id)
{
    memset(id, 0, sizeof(eg_identity_t));
    strcpy(id->uid, "stu01");
    strcpy(id->name, "张小明");
    strcpy(id->roles, "student,monitor");
    strcpy(id->org, "3137000001");
    strcpy(id->org_path, "370000/370100/370112/3137000001");
    strcpy(id->level, "school");
    strcpy(id->school, "3137000001");
    strcpy(id->grade, "07");
    strcpy(id->klass, "1");
    id->auth_time = 1795400000;
    id->expires = 1795430000;
}


static void
test_grant_round_trip(void **state)
{
    char             *json;
    eg_oidc_grant_t   g, back;

    (void) state;

    memset(&g, 0, sizeof(g));
    strcpy(g.client_id, "demo-portal");
    strcpy(g.redirect_uri, "http://127.0.0.1:8081/callback");
    strcpy(g.nonce, "n-\"quoted\"");
    strcpy(g.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    memset(g.sid_hash, 'a', 64);
    g.scopes = EG_OIDC_SCOPE_OPENID | EG_OIDC_SCOPE_EDU;
    fill_identity(&g.identity);

    json = eg_oidc_grant_encode(&g);
    assert_non_null(json);
    assert_int_equal(eg_oidc_grant_decode(&back, json, strlen(json)), 0);
    assert_string_equal(back.client_id, g.client_id);
    assert_string_equal(back.redirect_uri, g.redirect_uri);
    assert_string_equal(back.nonce, g.nonce);
    assert_string_equal(back.challenge, g.challenge);
    assert_string_equal(back.sid_hash, g.sid_hash);
    assert_int_equal(back.scopes, g.scopes);
    assert_string_equal(back.identity.name, "张小明");
    assert_int_equal(back.identity.auth_time, 1795400000);
    free(json);

    assert_int_equal(eg_oidc_grant_decode(&back, "{}", 2), -1);
    assert_int_equal(eg_oidc_grant_decode(&back, "[", 1), -1);
    json = "{\"c\":\"x\",\"r\":\"y\",\"n\":\"\",\"p\":\"\",\"h\":\"\","
           "\"s\":1,\"id\":\"not json\"}";
    assert_int_equal(eg_oidc_grant_decode(&back, json, strlen(json)), -1);
    json = "{\"c\":\"x\\u0000y\",\"r\":\"y\",\"n\":\"\",\"p\":\"\","
           "\"h\":\"\",\"s\":1,\"id\":\"{}\"}";
    assert_int_equal(eg_oidc_grant_decode(&back, json, strlen(json)), -1);
}


static void
test_claims_per_scope(void **state)
{
    json_t         *o, *roles;
    eg_identity_t   id;

    (void) state;

    fill_identity(&id);

    o = json_object();
    assert_int_equal(eg_oidc_add_claims(o, &id, EG_OIDC_SCOPE_OPENID), 0);
    assert_int_equal(json_object_size(o), 1);
    assert_string_equal(json_string_value(json_object_get(o, "sub")),
                        "stu01");
    json_decref(o);

    o = json_object();
    assert_int_equal(eg_oidc_add_claims(o, &id, EG_OIDC_SCOPE_OPENID
                                                | EG_OIDC_SCOPE_PROFILE), 0);
    assert_string_equal(json_string_value(json_object_get(o, "name")),
                        "张小明");
    assert_null(json_object_get(o, "roles"));
    json_decref(o);

    o = json_object();
    assert_int_equal(eg_oidc_add_claims(o, &id, EG_OIDC_SCOPE_EDU), 0);
    roles = json_object_get(o, "roles");
    assert_int_equal(json_array_size(roles), 2);
    assert_string_equal(json_string_value(json_array_get(roles, 1)),
                        "monitor");
    assert_string_equal(json_string_value(json_object_get(o, "org_path")),
                        "370000/370100/370112/3137000001");
    assert_string_equal(json_string_value(json_object_get(o, "class")),
                        "1");
    assert_null(json_object_get(o, "name"));
    json_decref(o);

    /* empty fields are left out, not sent as "" */
    id.grade[0] = '\0';
    o = json_object();
    assert_int_equal(eg_oidc_add_claims(o, &id, EG_OIDC_SCOPE_EDU), 0);
    assert_null(json_object_get(o, "grade"));
    json_decref(o);
}


static void
test_sid_and_printable(void **state)
{
    char  a[EG_OIDC_SID_LEN + 1], b[EG_OIDC_SID_LEN + 1];

    (void) state;

    assert_int_equal(eg_oidc_sid(a, "00aa"), 0);
    assert_int_equal(eg_oidc_sid(b, "00ab"), 0);
    assert_int_equal(strlen(a), EG_OIDC_SID_LEN);
    assert_string_not_equal(a, b);
    assert_null(strstr(a, "00aa"));

    assert_true(eg_oidc_printable(U("abc ~"), 5, 5));
    assert_false(eg_oidc_printable(U("abc"), 3, 2));
    assert_false(eg_oidc_printable(U("a\tb"), 3, 10));
    assert_false(eg_oidc_printable(U("a\x7f"), 2, 10));
    assert_false(eg_oidc_printable(U("\xc3\xa9"), 2, 10));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_scope_parse),
        cmocka_unit_test(test_uri_check),
        cmocka_unit_test(test_origin_and_registered),
        cmocka_unit_test(test_pkce),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_clients_and_secrets),
        cmocka_unit_test(test_grant_round_trip),
        cmocka_unit_test(test_claims_per_scope),
        cmocka_unit_test(test_sid_and_printable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
