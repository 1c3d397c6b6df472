/*  test_web_http — the bridge's pure HTTP helpers: Content-Type checks, X-Request-Id sanity,
 *  static file paths (no way out of the static folder) and MIME types.
 *
 *  These are the checks hostile clients poke at first: odd media types to slip a body past
 *  the JSON parser, header values to inject into logs, paths to read files outside the root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_web_int.h"

static void
test_content_type (void **state)
{
    (void) state;
    const char *good [] = {
        "application/json", "Application/JSON", "application/json; charset=utf-8",
        "application/json;charset=UTF-8", "application/json; charset=\"utf-8\"",
        " application/json ", "application/json; charset=utf8", NULL
    };
    const char *bad [] = {
        "", "text/plain", "application/jsonx", "application/json-patch+json",
        "application/json; charset=latin1", "application/json; charset=", "application/json;",
        "application/json; =utf-8", "application/json garbage", "application/json; charset=\"utf-8",
        "multipart/form-data", "application/x-www-form-urlencoded", NULL
    };
    for (int i = 0; good [i]; i++)
        if (!td_http_content_type_json (good [i]))
            fail_msg ("refused '%s'", good [i]);
    for (int i = 0; bad [i]; i++)
        if (td_http_content_type_json (bad [i]))
            fail_msg ("accepted '%s'", bad [i]);
    assert_false (td_http_content_type_json (NULL));
}

static void
test_rid (void **state)
{
    (void) state;
    assert_true (td_http_rid_valid ("abc-123_X.y"));
    assert_false (td_http_rid_valid (""));
    assert_false (td_http_rid_valid (NULL));
    assert_false (td_http_rid_valid ("a b"));
    assert_false (td_http_rid_valid ("a\nb"));
    assert_false (td_http_rid_valid ("a\"b"));
    assert_false (td_http_rid_valid ("caf\xc3\xa9"));
    char rid [TD_WEB_RID_MAX + 2];
    memset (rid, 'r', sizeof rid);
    rid [TD_WEB_RID_MAX] = 0;
    assert_true (td_http_rid_valid (rid));
    rid [TD_WEB_RID_MAX] = 'r';
    rid [TD_WEB_RID_MAX + 1] = 0;
    assert_false (td_http_rid_valid (rid));
}

static void
test_static_path (void **state)
{
    (void) state;
    char out [256];
    assert_int_equal (td_http_static_path ("/srv/c", "/", out, sizeof out), 0);
    assert_string_equal (out, "/srv/c/index.html");
    assert_int_equal (td_http_static_path ("/srv/c", "/app.js", out, sizeof out), 0);
    assert_string_equal (out, "/srv/c/app.js");
    assert_int_equal (td_http_static_path ("/srv/c", "/img/", out, sizeof out), 0);
    assert_string_equal (out, "/srv/c/img/index.html");
    const char *bad [] = {
        "/..", "/../etc/passwd", "/a/../../etc/passwd", "/a/..", "/./x", "/.git/config",
        "/.env", "/a/.hidden", "/a\\..\\b", "/a\x01", "relative", "", "/..%2f", NULL
    };
    for (int i = 0; bad [i]; i++)
        if (td_http_static_path ("/srv/c", bad [i], out, sizeof out) == 0)
            fail_msg ("accepted '%s' -> %s", bad [i], out);
    assert_int_equal (td_http_static_path ("/srv/c", NULL, out, sizeof out), -1);
    assert_int_equal (td_http_static_path ("", "/x", out, sizeof out), -1);
    //  Too long for the buffer
    char small [12];
    assert_int_equal (td_http_static_path ("/srv/c", "/abcdefghij", small, sizeof small), -1);
    //  Names that merely contain dots are fine
    assert_int_equal (td_http_static_path ("/srv/c", "/a..b/c.d.js", out, sizeof out), 0);
}

static void
test_mime (void **state)
{
    (void) state;
    assert_string_equal (td_http_mime ("/x/index.html"), "text/html; charset=utf-8");
    assert_string_equal (td_http_mime ("app.JS"), "text/javascript; charset=utf-8");
    assert_string_equal (td_http_mime ("style.css"), "text/css; charset=utf-8");
    assert_string_equal (td_http_mime ("a.json"), "application/json");
    assert_string_equal (td_http_mime ("logo.svg"), "image/svg+xml");
    assert_string_equal (td_http_mime ("x.png"), "image/png");
    assert_string_equal (td_http_mime ("README"), "application/octet-stream");
    assert_string_equal (td_http_mime ("dir.d/README"), "application/octet-stream");
    assert_string_equal (td_http_mime (NULL), "application/octet-stream");
}

static void
test_error_text (void **state)
{
    (void) state;
    char *t = td_http_error_text (TD_ERR_NOT_FOUND, "No such thing.", NULL);
    assert_string_equal (t, "{\"error\":{\"code\":\"not_found\",\"message\":\"No such thing.\"}}");
    free (t);
    t = td_http_error_text (TD_ERR_INVALID_INPUT, "Bad.", "email");
    assert_non_null (strstr (t, "\"field\":\"email\""));
    free (t);
    //  Never an empty message
    t = td_http_error_text (TD_ERR_UNAVAILABLE, NULL, NULL);
    assert_non_null (strstr (t, "\"message\":\""));
    assert_null (strstr (t, "\"message\":\"\""));
    free (t);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_content_type),
        cmocka_unit_test (test_rid),
        cmocka_unit_test (test_static_path),
        cmocka_unit_test (test_mime),
        cmocka_unit_test (test_error_text),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
