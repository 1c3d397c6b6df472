/*  test_web_ws — parsing of WebSocket client frames (CONTRACT.md §4) and topic prefixes.
 *
 *  Every frame a browser sends goes through td_ws_op_parse; bad frames must come back as an
 *  error with the right code and field (and the call id when one was readable), never crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_web_int.h"

static int
s_parse (const char *text, td_wsop_t *op, td_error_t *err)
{
    td_error_clear (err);
    return td_ws_op_parse (text, strlen (text), op, err);
}

static void
test_subscribe (void **state)
{
    (void) state;
    td_wsop_t op;
    td_error_t err;
    assert_int_equal (s_parse ("{\"op\":\"subscribe\",\"topics\":[\"grade.\",\"llm\"]}", &op, &err), 0);
    assert_int_equal (op.kind, TD_WSOP_SUBSCRIBE);
    assert_int_equal (op.ntopics, 2);
    assert_string_equal (op.topics [0], "grade.");
    td_ws_op_clear (&op);
    assert_int_equal (s_parse ("{\"op\":\"unsubscribe\",\"topics\":[\"grade.\"]}", &op, &err), 0);
    assert_int_equal (op.kind, TD_WSOP_UNSUBSCRIBE);
    td_ws_op_clear (&op);

    const char *bad [] = {
        "{\"op\":\"subscribe\"}",
        "{\"op\":\"subscribe\",\"topics\":[]}",
        "{\"op\":\"subscribe\",\"topics\":\"grade.\"}",
        "{\"op\":\"subscribe\",\"topics\":[1]}",
        "{\"op\":\"subscribe\",\"topics\":[\"\"]}",
        "{\"op\":\"subscribe\",\"topics\":[\"Grade.\"]}",
        "{\"op\":\"subscribe\",\"topics\":[\"grade.*\"]}",
        "{\"op\":\"subscribe\",\"topics\":[\".grade\"]}",
        NULL
    };
    for (int i = 0; bad [i]; i++) {
        if (s_parse (bad [i], &op, &err) == 0)
            fail_msg ("accepted %s", bad [i]);
        assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
        assert_string_equal (err.field, "topics");
        td_ws_op_clear (&op);
    }
    //  33 prefixes
    char many [33 * 8 + 64];
    strcpy (many, "{\"op\":\"subscribe\",\"topics\":[");
    for (int i = 0; i < 33; i++)
        sprintf (many + strlen (many), "%s\"t%d\"", i ? "," : "", i);
    strcat (many, "]}");
    assert_int_equal (s_parse (many, &op, &err), -1);
    td_ws_op_clear (&op);
}

static void
test_call (void **state)
{
    (void) state;
    td_wsop_t op;
    td_error_t err;
    assert_int_equal (s_parse ("{\"op\":\"call\",\"id\":\"c1\",\"method\":\"POST\","
                               "\"path\":\"/api/v1/submissions?wait=true\",\"body\":{\"a\":1}}",
                               &op, &err), 0);
    assert_int_equal (op.kind, TD_WSOP_CALL);
    assert_string_equal (op.id_json, "\"c1\"");
    assert_int_equal (op.method, TD_METHOD_POST);
    assert_string_equal (op.path, "/api/v1/submissions?wait=true");
    assert_true (json_is_object (op.body));
    td_ws_op_clear (&op);
    //  Integer ids and null bodies
    assert_int_equal (s_parse ("{\"op\":\"call\",\"id\":42,\"method\":\"GET\",\"path\":\"/health\","
                               "\"body\":null}", &op, &err), 0);
    assert_string_equal (op.id_json, "42");
    assert_null (op.body);
    td_ws_op_clear (&op);

    struct { const char *text, *field; bool has_id; } bad [] = {
        { "{\"op\":\"call\",\"method\":\"GET\",\"path\":\"/health\"}", "id", false },
        { "{\"op\":\"call\",\"id\":{},\"method\":\"GET\",\"path\":\"/health\"}", "id", false },
        { "{\"op\":\"call\",\"id\":\"c\",\"method\":\"get\",\"path\":\"/health\"}", "method", true },
        { "{\"op\":\"call\",\"id\":\"c\",\"method\":\"BREW\",\"path\":\"/health\"}", "method", true },
        { "{\"op\":\"call\",\"id\":\"c\",\"method\":\"GET\"}", "path", true },
        { "{\"op\":\"call\",\"id\":\"c\",\"method\":\"GET\",\"path\":\"health\"}", "path", true },
        { "{\"op\":\"call\",\"id\":\"c\",\"method\":\"GET\",\"path\":7}", "path", true },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        if (s_parse (bad [i].text, &op, &err) == 0)
            fail_msg ("accepted %s", bad [i].text);
        assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
        assert_string_equal (err.field, bad [i].field);
        assert_int_equal (op.id_json != NULL, bad [i].has_id);
        td_ws_op_clear (&op);
    }
}

static void
test_garbage (void **state)
{
    (void) state;
    td_wsop_t op;
    td_error_t err;
    const char *bad [] = {
        "", "x", "[]", "1", "null", "\"op\"", "{", "{\"op\":1}", "{\"op\":\"nope\"}", "{}",
        "{\"op\":\"ping\",\"op\":\"call\"}", "{\"op\":\"ping\"}{}", NULL
    };
    for (int i = 0; bad [i]; i++) {
        if (s_parse (bad [i], &op, &err) == 0)
            fail_msg ("accepted %s", bad [i]);
        assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
        td_ws_op_clear (&op);
    }
    //  Invalid UTF-8 and embedded NUL
    const char nul [] = "{\"op\":\"pi\0ng\"}";
    assert_int_equal (td_ws_op_parse (nul, sizeof nul - 1, &op, &err), -1);
    td_ws_op_clear (&op);
    assert_int_equal (s_parse ("{\"op\":\"\xff\"}", &op, &err), -1);
    td_ws_op_clear (&op);
    //  Deep nesting
    char deep [4096] = "";
    for (int i = 0; i < 1000; i++)
        strcat (deep, "[");
    assert_int_equal (s_parse (deep, &op, &err), -1);
    td_ws_op_clear (&op);
    //  ping is fine; unknown keys are ignored
    assert_int_equal (s_parse ("{\"op\":\"ping\",\"extra\":[1]}", &op, &err), 0);
    assert_int_equal (op.kind, TD_WSOP_PING);
    td_ws_op_clear (&op);
}

static void
test_topics (void **state)
{
    (void) state;
    assert_true (td_ws_topic_valid ("grade."));
    assert_true (td_ws_topic_valid ("a"));
    assert_true (td_ws_topic_valid ("system.actor_restarted"));
    assert_false (td_ws_topic_valid (""));
    assert_false (td_ws_topic_valid (NULL));
    assert_false (td_ws_topic_valid ("1grade"));
    assert_false (td_ws_topic_valid ("gr ade"));
    char longname [TD_MAX_NAME + 2];
    memset (longname, 'a', sizeof longname);
    longname [TD_MAX_NAME] = 0;
    assert_true (td_ws_topic_valid (longname));
    longname [TD_MAX_NAME] = 'a';
    longname [TD_MAX_NAME + 1] = 0;
    assert_false (td_ws_topic_valid (longname));

    td_pss_t *pss = calloc (1, sizeof *pss);
    assert_non_null (pss);
    assert_false (td_ws_topic_match (pss, "grade.result"));
    strcpy (pss->topics [0], "grade.");
    strcpy (pss->topics [1], "llm.de");
    pss->ntopics = 2;
    assert_true (td_ws_topic_match (pss, "grade.result"));
    assert_true (td_ws_topic_match (pss, "llm.delta"));
    assert_false (td_ws_topic_match (pss, "llm.done"));
    assert_false (td_ws_topic_match (pss, "grade"));
    assert_false (td_ws_topic_match (pss, "srs.due"));
    free (pss);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_subscribe),
        cmocka_unit_test (test_call),
        cmocka_unit_test (test_garbage),
        cmocka_unit_test (test_topics),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
