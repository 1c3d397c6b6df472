/*  test_web_routes — the bridge's route table: matching, path parameters, methods, query strings,
 *  the forwarded body, and that every route is described in bridges/web/openapi.json.
 *
 *  Routing decides which service hears a request, so the tests try paths that almost match:
 *  trailing slashes, empty segments, extra segments, bad escapes, shadowed parameters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_json.h"
#include "td_mp.h"
#include "td_routes.h"

static const td_route_t s_table [] = {
    { TD_METHOD_GET,    "/health",                     TD_ROUTE_HEALTH,  NULL,        NULL,   0 },
    { TD_METHOD_GET,    "/api/v1/courses",             TD_ROUTE_FORWARD, "catalog",   "list", 0 },
    { TD_METHOD_POST,   "/api/v1/courses",             TD_ROUTE_FORWARD, "catalog",   "create", 0 },
    { TD_METHOD_GET,    "/api/v1/courses/{id}",        TD_ROUTE_FORWARD, "catalog",   "get",  0 },
    { TD_METHOD_DELETE, "/api/v1/courses/{id}",        TD_ROUTE_FORWARD, "catalog",   "delete", 0 },
    { TD_METHOD_GET,    "/api/v1/courses/{id}/lessons/{lesson}", TD_ROUTE_FORWARD, "catalog", "lesson", 0 },
    { TD_METHOD_POST,   "/api/v1/_call/{service}/{type}", TD_ROUTE_FORWARD, "{service}", "{type}",
      TD_ROUTE_FAULTS | TD_ROUTE_RAW },
};
#define S_COUNT (sizeof s_table / sizeof s_table [0])

static td_match_t
s_match (td_method_t m, const char *path, const td_route_t **r, td_params_t *p, unsigned *allowed)
{
    return td_route_match (s_table, S_COUNT, m, path, false, r, p, allowed);
}

static void
test_literal_and_params (void **state)
{
    (void) state;
    const td_route_t *r = NULL;
    td_params_t p;
    assert_int_equal (s_match (TD_METHOD_GET, "/health", &r, &p, NULL), TD_MATCH_OK);
    assert_int_equal (r->kind, TD_ROUTE_HEALTH);
    assert_int_equal (p.count, 0);
    assert_int_equal (s_match (TD_METHOD_GET, "/api/v1/courses/c-42", &r, &p, NULL), TD_MATCH_OK);
    assert_string_equal (r->type, "get");
    assert_int_equal (p.count, 1);
    assert_string_equal (td_params_get (&p, "id"), "c-42");
    assert_int_equal (s_match (TD_METHOD_GET, "/api/v1/courses/a/lessons/b", &r, &p, NULL),
                      TD_MATCH_OK);
    assert_string_equal (td_params_get (&p, "id"), "a");
    assert_string_equal (td_params_get (&p, "lesson"), "b");
    assert_null (td_params_get (&p, "nope"));
    //  Same path, two methods
    assert_int_equal (s_match (TD_METHOD_POST, "/api/v1/courses", &r, &p, NULL), TD_MATCH_OK);
    assert_string_equal (r->type, "create");
}

static void
test_near_misses (void **state)
{
    (void) state;
    const char *paths [] = {
        "/health/", "/healthz", "/Health", "health", "", "/", "/api/v1/courses/",
        "/api/v1/courses//lessons/b", "/api/v1/courses/a/lessons/", "/api/v1/courses/a/b",
        "/api/v1/courses/a/lessons/b/c", "//health", "/api/v1", NULL
    };
    for (int i = 0; paths [i]; i++) {
        unsigned allowed = 0;
        td_match_t m = s_match (TD_METHOD_GET, paths [i], NULL, NULL, &allowed);
        if (m != TD_MATCH_NOT_FOUND)
            fail_msg ("%s matched", paths [i]);
    }
    assert_int_equal (s_match (TD_METHOD_GET, NULL, NULL, NULL, NULL), TD_MATCH_NOT_FOUND);
}

static void
test_method_not_allowed (void **state)
{
    (void) state;
    unsigned allowed = 0;
    assert_int_equal (s_match (TD_METHOD_PUT, "/api/v1/courses/x", NULL, NULL, &allowed),
                      TD_MATCH_METHOD);
    assert_int_equal (allowed, TD_METHOD_GET | TD_METHOD_DELETE);
    char buf [64];
    assert_string_equal (td_allow_format (allowed, buf, sizeof buf), "GET, DELETE");
    assert_int_equal (s_match (TD_METHOD_POST, "/health", NULL, NULL, &allowed), TD_MATCH_METHOD);
    assert_string_equal (td_allow_format (allowed, buf, sizeof buf), "GET");
    //  A tiny buffer truncates cleanly
    char tiny [5];
    td_allow_format (TD_METHOD_GET | TD_METHOD_POST, tiny, sizeof tiny);
    assert_string_equal (tiny, "GET");
}

static void
test_faults_routes (void **state)
{
    (void) state;
    const td_route_t *r = NULL;
    td_params_t p;
    assert_int_equal (s_match (TD_METHOD_POST, "/api/v1/_call/grade/echo", &r, &p, NULL),
                      TD_MATCH_NOT_FOUND);
    assert_int_equal (td_route_match (s_table, S_COUNT, TD_METHOD_POST, "/api/v1/_call/grade/echo",
                                      true, &r, &p, NULL), TD_MATCH_OK);
    const char *service, *type;
    assert_int_equal (td_route_target (r, &p, &service, &type, NULL), 0);
    assert_string_equal (service, "grade");
    assert_string_equal (type, "echo");
    //  A parameter that is not a valid service name is a 404, not a forwarded request
    td_error_t err;
    assert_int_equal (td_route_match (s_table, S_COUNT, TD_METHOD_POST, "/api/v1/_call/GR ADE/x",
                                      true, &r, &p, NULL), TD_MATCH_OK);
    assert_int_equal (td_route_target (r, &p, &service, &type, &err), -1);
    assert_int_equal (err.code, TD_ERR_NOT_FOUND);
}

static void
test_methods (void **state)
{
    (void) state;
    assert_int_equal (td_method_parse ("GET"), TD_METHOD_GET);
    assert_int_equal (td_method_parse ("DELETE"), TD_METHOD_DELETE);
    assert_int_equal (td_method_parse ("get"), 0);
    assert_int_equal (td_method_parse ("BREW"), 0);
    assert_int_equal (td_method_parse (NULL), 0);
    assert_string_equal (td_method_name (TD_METHOD_PATCH), "PATCH");
}

static void
test_url_decode_and_query (void **state)
{
    (void) state;
    char out [16];
    assert_int_equal (td_url_decode ("a%20b+c", 7, out, sizeof out, true), 5);
    assert_string_equal (out, "a b c");
    assert_int_equal (td_url_decode ("a+b", 3, out, sizeof out, false), 3);
    assert_string_equal (out, "a+b");
    assert_int_equal (td_url_decode ("%zz", 3, out, sizeof out, false), -1);
    assert_int_equal (td_url_decode ("%2", 2, out, sizeof out, false), -1);
    assert_int_equal (td_url_decode ("%", 1, out, sizeof out, false), -1);
    assert_int_equal (td_url_decode ("%00", 3, out, sizeof out, false), -1);
    assert_int_equal (td_url_decode ("0123456789abcdefg", 17, out, sizeof out, false), -1);

    td_params_t q = { 0 };
    td_error_t err;
    assert_int_equal (td_query_parse ("limit=10&cursor=a%2Fb&flag&&=x&e=", &q, &err), 0);
    assert_int_equal (q.count, 4);         //  "&&" and "=x" carry no name: skipped
    assert_string_equal (td_params_get (&q, "e"), "");
    assert_string_equal (td_params_get (&q, "limit"), "10");
    assert_string_equal (td_params_get (&q, "cursor"), "a/b");
    assert_string_equal (td_params_get (&q, "flag"), "");
}

static void
test_query_hostile (void **state)
{
    (void) state;
    td_params_t q = { 0 };
    td_error_t err;
    assert_int_equal (td_query_parse ("a=%ff%fe", &q, &err), -1);      //  not UTF-8
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    q.count = 0;
    assert_int_equal (td_query_parse ("a=%zz", &q, &err), -1);
    //  Too many parameters
    char many [TD_PARAMS_MAX * 4 + 16] = "";
    for (int i = 0; i <= TD_PARAMS_MAX; i++)
        strcat (many, "a=1&");
    q.count = 0;
    assert_int_equal (td_query_parse (many, &q, &err), -1);
    //  A value too long
    char *longv = malloc (TD_PARAM_VALUE_MAX + 8);
    assert_non_null (longv);
    memset (longv, 'v', TD_PARAM_VALUE_MAX + 7);
    longv [0] = 'k', longv [1] = '=';
    longv [TD_PARAM_VALUE_MAX + 7] = 0;
    q.count = 0;
    assert_int_equal (td_query_parse (longv, &q, &err), -1);
    free (longv);
}

static void
test_target_parse (void **state)
{
    (void) state;
    char path [64];
    td_params_t q;
    td_error_t err;
    assert_int_equal (td_target_parse ("/api/v1/courses/a%20b?limit=5", path, sizeof path, &q, &err), 0);
    assert_string_equal (path, "/api/v1/courses/a b");
    assert_string_equal (td_params_get (&q, "limit"), "5");
    assert_int_equal (td_target_parse ("api/v1", path, sizeof path, &q, &err), -1);
    assert_int_equal (td_target_parse ("/a%ff", path, sizeof path, &q, &err), -1);
    assert_int_equal (td_target_parse (NULL, path, sizeof path, &q, &err), -1);
}

static void
test_body_pack (void **state)
{
    (void) state;
    const td_route_t *r = NULL;
    td_params_t p, q = { 0 };
    td_error_t err;
    assert_int_equal (s_match (TD_METHOD_GET, "/api/v1/courses/c1", &r, &p, NULL), TD_MATCH_OK);
    assert_int_equal (td_query_parse ("id=shadowed&limit=3&limit=4&body=no", &q, &err), 0);
    json_t *body = json_pack ("{s:i}", "n", 1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (td_route_body_pack (&sb, r, &p, &q, NULL, body, &err), 0);
    json_t *j = td_mp_bytes_to_json (sb.data, sb.size, &err);
    assert_non_null (j);
    char *text = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "{\"body\":{\"n\":1},\"id\":\"c1\",\"limit\":\"3\"}");
    free (text);
    json_decref (j);
    msgpack_sbuffer_destroy (&sb);

    //  No body -> nil
    msgpack_sbuffer_init (&sb);
    assert_int_equal (td_route_body_pack (&sb, r, &p, NULL, NULL, NULL, &err), 0);
    j = td_mp_bytes_to_json (sb.data, sb.size, &err);
    text = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "{\"body\":null,\"id\":\"c1\"}");
    free (text);
    json_decref (j);
    msgpack_sbuffer_destroy (&sb);

    //  Raw routes forward the body itself, query and path parameters are not added
    assert_int_equal (td_route_match (s_table, S_COUNT, TD_METHOD_POST, "/api/v1/_call/grade/echo",
                                      true, &r, &p, NULL), TD_MATCH_OK);
    msgpack_sbuffer_init (&sb);
    assert_int_equal (td_route_body_pack (&sb, r, &p, &q, NULL, body, &err), 0);
    j = td_mp_bytes_to_json (sb.data, sb.size, &err);
    assert_true (json_equal (j, body));
    json_decref (j);
    msgpack_sbuffer_destroy (&sb);
    json_decref (body);
}

//  Every route of the real table is in openapi.json, with its method.
static void
test_openapi_covers_table (void **state)
{
    (void) state;
    const char *src = getenv ("TUTORD_SOURCE_DIR");
    char path [4096];
    snprintf (path, sizeof path, "%s/bridges/web/openapi.json", src ? src : "../..");
    json_error_t jerr;
    json_t *doc = json_load_file (path, 0, &jerr);
    if (!doc)
        fail_msg ("%s: %s", path, jerr.text);
    assert_string_equal (json_string_value (json_object_get (doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get (doc, "paths");
    assert_true (json_is_object (paths));
    for (size_t i = 0; i < td_routes_count; i++) {
        const td_route_t *r = &td_routes [i];
        json_t *item = json_object_get (paths, r->pattern);
        if (!item)
            fail_msg ("route %s is not in openapi.json", r->pattern);
        char method [16];
        snprintf (method, sizeof method, "%s", td_method_name (r->method));
        for (char *c = method; *c; c++)
            *c = (char) (*c - 'A' + 'a');
        if (!json_object_get (item, method))
            fail_msg ("%s %s is not in openapi.json", method, r->pattern);
    }
    json_decref (doc);
}

//  The real table has no two routes with the same method and pattern.
static void
test_table_unique (void **state)
{
    (void) state;
    for (size_t i = 0; i < td_routes_count; i++)
        for (size_t k = i + 1; k < td_routes_count; k++)
            if (td_routes [i].method == td_routes [k].method
            &&  strcmp (td_routes [i].pattern, td_routes [k].pattern) == 0)
                fail_msg ("duplicate route %s", td_routes [i].pattern);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_literal_and_params),
        cmocka_unit_test (test_near_misses),
        cmocka_unit_test (test_method_not_allowed),
        cmocka_unit_test (test_faults_routes),
        cmocka_unit_test (test_methods),
        cmocka_unit_test (test_url_decode_and_query),
        cmocka_unit_test (test_query_hostile),
        cmocka_unit_test (test_target_parse),
        cmocka_unit_test (test_body_pack),
        cmocka_unit_test (test_openapi_covers_table),
        cmocka_unit_test (test_table_unique),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
