/*  test_grader — the grader actor against a real broker, real PostgreSQL and the real sandbox.
 *
 *  Needs TUTORD_TEST_DB (migrated; tools/check does it) and root for the sandbox. Covered:
 *  verdicts in Python and C produced by programs built to produce them, scores with weights,
 *  hidden tests hiding their data, the grade.* event stream, execute, bad input with its field,
 *  and durability: a submission left 'running' by a grader that died is run again and finishes
 *  exactly once, and a result from a stale claim is dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "td_test.h"
#include <czmq.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "td_actor.h"
#include "td_broker.h"
#include "td_client.h"
#include "td_db.h"
#include "td_json.h"
#include "td_mp.h"

extern const td_actor_spec_t td_grader_actor;

static td_config_t s_cfg;
static td_broker_args_t s_broker_args;
static td_actor_args_t s_grader_args;
static zactor_t *s_broker, *s_grader;
static td_client_t *s_client;
static zsock_t *s_sub;
static td_db_t *s_db;

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_cfg, 0, sizeof s_cfg);
    s_cfg.run_broker = true;
    s_cfg.heartbeat_ms = 500;
    s_cfg.grader_workers = 2;
    snprintf (s_cfg.db, sizeof s_cfg.db, "%s", td_test_env ("TUTORD_TEST_DB"));
    snprintf (s_cfg.python, sizeof s_cfg.python, "/usr/bin/python3");
    s_db = td_db_new (s_cfg.db, "test");
    //  Only this test's own rows (system user u-test, or none): API tests may run alongside.
    PGresult *res = td_db_exec (s_db, NULL, "DELETE FROM grader_submissions "
                                "WHERE user_id = 'u-test' OR user_id IS NULL", 0, NULL);
    if (!res)
        fail_msg ("cannot clear grader_submissions (migrated?): %s", td_db_last_error (s_db));
    PQclear (res);
    s_broker_args = (td_broker_args_t) {
        .request_endpoints = "@" TD_INPROC_BROKER, .events_in = "@" TD_INPROC_EVENTS_IN,
        .events_out = "@" TD_INPROC_EVENTS, .heartbeat_ms = 500
    };
    s_broker = zactor_new (td_broker_actor, &s_broker_args);
    assert_non_null (s_broker);
    s_sub = zsock_new_sub (">" TD_INPROC_EVENTS, "grade.");
    assert_non_null (s_sub);
    s_grader_args = (td_actor_args_t) { .spec = &td_grader_actor, .cfg = &s_cfg };
    s_grader = zactor_new (td_actor_task, &s_grader_args);
    assert_non_null (s_grader);
    s_client = td_client_new (TD_INPROC_BROKER);
    assert_non_null (s_client);
    //  The grader registers once its sandbox and runners are up.
    assert_true (td_test_wait_ping (s_client, "grade", 20000));
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    td_client_destroy (&s_client);
    zactor_destroy (&s_grader);
    zsock_destroy (&s_sub);
    zactor_destroy (&s_broker);
    td_db_destroy (&s_db);
    return 0;
}

//  Call grade/type with a JSON body as the system caller; returns the reply body as JSON and
//  sets *status.
static json_t *
s_call (const char *type, const char *json_body, int *status, int timeout_ms)
{
    msgpack_sbuffer body, auth;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&auth);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    td_error_t err;
    json_t *j = td_json_parse (json_body, strlen (json_body), 0, &err);
    if (!j)
        fail_msg ("bad test JSON: %s", err.message);
    assert_int_equal (td_json_to_mp (j, &pk, &err), 0);
    json_decref (j);
    msgpack_packer_init (&pk, &auth, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    td_mp_pack_kv_str (&pk, "kind", "system");
    td_mp_pack_kv_str (&pk, "user", "u-test");
    char id [33];
    td_new_id (id);
    td_request_spec_t spec = { .id = id, .type = type, .body = body.data, .body_size = body.size,
                               .auth = auth.data, .auth_size = auth.size };
    td_msg_t *reply = td_client_call (s_client, "grade", &spec, timeout_ms, &err);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&auth);
    if (!reply)
        fail_msg ("no reply to %s: %s", type, err.message);
    *status = td_msg_status (reply);
    json_t *out = *status < 400? td_mp_to_json (td_msg_body (reply), &err)
                               : json_pack ("{s:s, s:s}", "code", td_errcode_name (td_msg_error (reply)),
                                            "field", td_msg_error_field (reply));
    td_msg_destroy (&reply);
    return out;
}

static json_t *
s_grade (const char *submission, int *status)
{
    char *body = zsys_sprintf ("{\"wait\": \"true\", \"body\": %s}", submission);
    json_t *r = s_call ("submit", body, status, 60000);
    zstr_free (&body);
    return r;
}

static const char *
s_verdict (json_t *r)
{
    return json_string_value (json_object_get (r, "verdict"));
}

static void
test_python_verdicts (void **state)
{
    (void) state;
    int status;
    //  accepted, with a number tolerance and a trimmed comparison
    json_t *r = s_grade ("{\"language\":\"python\",\"code\":\"a,b=map(int,input().split())\\nprint(a+b)\\nprint(a/b)  \\n\","
                         "\"tests\":[{\"name\":\"sum\",\"stdin\":\"2 3\",\"expected_stdout\":\"5\\n0.6667\",\"match\":\"number\",\"tolerance\":0.001},"
                         "{\"name\":\"trim\",\"stdin\":\"4 2\",\"expected_stdout\":\"6\\n2.0\",\"match\":\"trim\",\"hidden\":true}]}",
                         &status);
    assert_int_equal (status, 200);
    assert_string_equal (json_string_value (json_object_get (r, "status")), "done");
    assert_string_equal (s_verdict (r), "accepted");
    assert_true (json_number_value (json_object_get (r, "score")) == 100.0);
    json_t *hidden = json_array_get (json_object_get (r, "tests"), 1);
    assert_null (json_object_get (hidden, "expected_stdout"));
    assert_null (json_object_get (hidden, "stdout"));
    json_decref (r);

    //  wrong answer on one of two tests weighted 3:1 -> score 75
    r = s_grade ("{\"language\":\"python\",\"code\":\"n=int(input())\\nprint(n*2 if n<5 else n)\","
                 "\"tests\":[{\"stdin\":\"1\",\"expected_stdout\":\"2\\n\",\"weight\":3},"
                 "{\"stdin\":\"7\",\"expected_stdout\":\"14\\n\",\"weight\":1}]}", &status);
    assert_int_equal (status, 200);
    assert_string_equal (s_verdict (r), "wrong_answer");
    assert_true (json_number_value (json_object_get (r, "score")) == 75.0);
    json_decref (r);

    r = s_grade ("{\"language\":\"python\",\"code\":\"raise SystemExit(3)\","
                 "\"tests\":[{\"expected_stdout\":\"\"}]}", &status);
    assert_string_equal (s_verdict (r), "runtime_error");
    json_decref (r);

    r = s_grade ("{\"language\":\"python\",\"code\":\"while True: pass\","
                 "\"tests\":[{\"expected_stdout\":\"\"}]}", &status);
    assert_string_equal (s_verdict (r), "time_limit");
    json_decref (r);

    r = s_grade ("{\"language\":\"python\",\"code\":\"print(input().upper())\","
                 "\"tests\":[{\"stdin\":\"Hello\",\"expected_stdout\":\"hello\",\"match\":\"ignore_case\"},"
                 "{\"stdin\":\"abc\",\"expected_stdout\":\"A.C\",\"match\":\"regex\"}]}", &status);
    assert_string_equal (s_verdict (r), "accepted");
    json_decref (r);
}

static void
test_c_verdicts (void **state)
{
    (void) state;
    int status;
    json_t *r = s_grade ("{\"language\":\"c\",\"code\":\"#include <stdio.h>\\nint main(void){int a,b;"
                         "if(scanf(\\\"%d %d\\\",&a,&b)!=2)return 1;printf(\\\"%d\\\\n\\\",a*b);return 0;}\","
                         "\"tests\":[{\"stdin\":\"6 7\",\"expected_stdout\":\"42\\n\"},{\"stdin\":\"0 9\",\"expected_stdout\":\"0\\n\"}]}",
                         &status);
    assert_int_equal (status, 200);
    assert_string_equal (s_verdict (r), "accepted");
    json_decref (r);

    r = s_grade ("{\"language\":\"c\",\"code\":\"int main(void){ return undefined_thing; }\","
                 "\"tests\":[{\"expected_stdout\":\"\"}]}", &status);
    assert_string_equal (s_verdict (r), "compile_error");
    assert_non_null (strstr (json_string_value (json_object_get (r, "compile_output")), "undefined_thing"));
    json_decref (r);
}

static void
test_function_class_and_prints (void **state)
{
    (void) state;
    int status;
    const char *code = "\"import math\\n"
        "def area(r):\\n    print('computing')\\n    return math.pi * r * r\\n"
        "def words(s):\\n    return s.split()\\n"
        "def boom():\\n    raise ValueError('nope')\\n"
        "class Stack:\\n    def __init__(self):\\n        self.items = []\\n"
        "    def push(self, x):\\n        self.items.append(x)\\n"
        "    def pop(self):\\n        return self.items.pop()\\n"
        "    def size(self):\\n        return len(self.items)\\n"
        "for i in range(3):\\n    print(i)\\n\"";
    char *sub = zsys_sprintf ("{\"language\":\"python\",\"code\":%s,\"tests\":["
        "{\"name\":\"area\",\"kind\":\"function\",\"function\":\"area\",\"args\":[2],\"expected_return\":12.566,\"tolerance\":0.001,\"expected_type\":\"float\"},"
        "{\"name\":\"words\",\"kind\":\"function\",\"function\":\"words\",\"args\":[\"a b  c\"],\"expected_return\":[\"a\",\"b\",\"c\"]},"
        "{\"name\":\"type\",\"kind\":\"function\",\"function\":\"words\",\"args\":[\"x\"],\"expected_return\":[\"x\"],\"expected_type\":\"tuple\"},"
        "{\"name\":\"raises\",\"kind\":\"function\",\"function\":\"boom\",\"expected_return\":null},"
        "{\"name\":\"missing\",\"kind\":\"function\",\"function\":\"nothere\",\"expected_return\":1},"
        "{\"name\":\"stack\",\"kind\":\"class\",\"class\":\"Stack\",\"calls\":["
            "{\"method\":\"push\",\"args\":[1]},{\"method\":\"push\",\"args\":[2]},"
            "{\"method\":\"pop\",\"expected_return\":2},{\"method\":\"size\",\"expected_return\":1,\"expected_type\":\"int\"}]},"
        "{\"name\":\"prints\",\"kind\":\"prints\",\"expected_prints\":3}]}", code);
    json_t *r = s_grade (sub, &status);
    zstr_free (&sub);
    assert_int_equal (status, 200);
    json_t *tests = json_object_get (r, "tests");
    const char *want [] = { "accepted", "accepted", "wrong_answer", "runtime_error",
                            "runtime_error", "accepted", "accepted" };
    for (size_t i = 0; i < 7; i++) {
        const char *got = json_string_value (json_object_get (json_array_get (tests, i), "verdict"));
        if (!got || strcmp (got, want [i]) != 0)
            fail_msg ("test %zu: %s, want %s", i, got? got: "(none)", want [i]);
    }
    json_t *raised = json_object_get (json_array_get (tests, 3), "exception");
    assert_string_equal (json_string_value (json_object_get (raised, "type")), "ValueError");
    assert_string_equal (s_verdict (r), "wrong_answer");
    json_decref (r);

    //  Scenario tests are for Python; their fields are checked.
    r = s_call ("submit", "{\"body\":{\"language\":\"c\",\"code\":\"x\",\"tests\":[{\"kind\":\"function\",\"function\":\"f\",\"expected_return\":1}]}}", &status, 5000);
    assert_int_equal (status, 400);
    assert_string_equal (json_string_value (json_object_get (r, "field")), "tests[0].kind");
    json_decref (r);
    r = s_call ("submit", "{\"body\":{\"language\":\"python\",\"code\":\"x\",\"tests\":[{\"kind\":\"function\",\"function\":\"os.system\",\"expected_return\":1}]}}", &status, 5000);
    assert_int_equal (status, 400);
    assert_string_equal (json_string_value (json_object_get (r, "field")), "tests[0].function");
    json_decref (r);
    r = s_call ("submit", "{\"body\":{\"language\":\"python\",\"code\":\"x\",\"tests\":[{\"kind\":\"prints\",\"expected_prints\":-2}]}}", &status, 5000);
    assert_int_equal (status, 400);
    assert_string_equal (json_string_value (json_object_get (r, "field")), "tests[0].expected_prints");
    json_decref (r);
}

static void
test_events_stream (void **state)
{
    (void) state;
    int status;
    json_t *r = s_call ("submit", "{\"body\":{\"language\":\"python\",\"code\":\"print(input())\","
                        "\"tests\":[{\"stdin\":\"a\",\"expected_stdout\":\"a\\n\"},{\"stdin\":\"b\",\"expected_stdout\":\"b\\n\"}]}}",
                        &status, 10000);
    assert_int_equal (status, 202);
    assert_string_equal (json_string_value (json_object_get (r, "status")), "queued");
    const char *id = json_string_value (json_object_get (r, "id"));
    int queued = 0, progress = 0, result = 0;
    zpoller_t *poller = zpoller_new (s_sub, NULL);
    int64_t until = zclock_mono () + 30000;
    while (!result && zclock_mono () < until && zpoller_wait (poller, 1000)) {
        zmsg_t *msg = zmsg_recv (s_sub);
        zframe_t *type = zmsg_first (msg), *data = zmsg_next (msg);
        td_error_t err;
        td_msg_t *ev = data? td_msg_decode (TD_MSG_EVENT, zframe_data (data), zframe_size (data), &err): NULL;
        if (ev && streq (td_msg_subject (ev), id)) {
            assert_string_equal (td_msg_user (ev), "u-test");
            if (zframe_streq (type, "grade.queued"))
                queued++;
            else
            if (zframe_streq (type, "grade.progress"))
                progress++;
            else
            if (zframe_streq (type, "grade.result")) {
                result++;
                assert_true (td_mp_streq (td_mp_get (td_msg_body (ev), "verdict"), "accepted"));
            }
        }
        td_msg_destroy (&ev);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    assert_int_equal (result, 1);
    assert_int_equal (progress, 2);
    assert_true (queued <= 1);      //  the subscription may have joined after the queued event

    //  And the final state is readable.
    char *body = zsys_sprintf ("{\"id\":\"%s\"}", id);
    json_t *got = s_call ("get", body, &status, 5000);
    assert_int_equal (status, 200);
    assert_string_equal (s_verdict (got), "accepted");
    assert_int_equal (json_array_size (json_object_get (got, "tests")), 2);
    json_decref (got);
    zstr_free (&body);
    json_decref (r);
}

static void
test_execute (void **state)
{
    (void) state;
    int status;
    json_t *r = s_call ("execute", "{\"body\":{\"language\":\"python\",\"code\":\"import sys\\n"
                        "print(sum(map(int, sys.stdin.read().split())))\",\"stdin\":\"1 2 3\"}}", &status, 20000);
    assert_int_equal (status, 200);
    assert_string_equal (s_verdict (r), "accepted");
    assert_string_equal (json_string_value (json_object_get (r, "stdout")), "6\n");
    assert_int_equal (json_integer_value (json_object_get (r, "exit_code")), 0);
    assert_false (json_is_true (json_object_get (r, "truncated")));
    json_decref (r);
    r = s_call ("execute", "{\"body\":{\"language\":\"python\",\"code\":\"import sys\\nsys.stdout.buffer.write(b'\\\\xff\\\\x00ok')\"}}",
                &status, 20000);
    assert_int_equal (status, 200);
    assert_string_equal (json_string_value (json_object_get (r, "stdout")), "??ok");
    json_decref (r);
}

static void
test_bad_input (void **state)
{
    (void) state;
    struct { const char *body; int status; const char *field; } cases [] = {
        { "{\"body\":{\"language\":\"ruby\",\"code\":\"x\",\"tests\":[{\"expected_stdout\":\"\"}]}}", 400, "language" },
        { "{\"body\":{\"language\":\"python\",\"tests\":[{\"expected_stdout\":\"\"}]}}", 400, "code" },
        { "{\"body\":{\"language\":\"python\",\"code\":\"x\"}}", 400, "tests" },
        { "{\"body\":{\"language\":\"python\",\"code\":\"x\",\"tests\":[]}}", 400, "tests" },
        { "{\"body\":{\"language\":\"python\",\"code\":\"x\",\"tests\":[{}]}}", 400, "tests[0].expected_stdout" },
        { "{\"body\":{\"language\":\"python\",\"code\":\"x\",\"tests\":[{\"expected_stdout\":\"\",\"match\":\"fuzzy\"}]}}", 400, "tests[0].match" },
        { "{\"body\":{\"language\":\"python\",\"code\":\"x\",\"tests\":[{\"expected_stdout\":\"(\",\"match\":\"regex\"}]}}", 400, "tests[0].expected_stdout" },
        { "{\"body\":{\"language\":\"python\",\"code\":\"x\",\"tests\":[{\"expected_stdout\":\"\",\"weight\":-1}]}}", 400, "tests[0].weight" },
        { "{\"body\":{\"language\":\"python\",\"code\":\"x\",\"tests\":[{\"expected_stdout\":1}]}}", 400, "tests[0].expected_stdout" },
        { "{\"body\":[1,2]}", 400, "body" },
        { "{\"body\":{\"item_id\":\"nope\",\"code\":\"x\"}}", 404, "item_id" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int status;
        json_t *r = s_call ("submit", cases [i].body, &status, 5000);
        if (status != cases [i].status
        ||  strcmp (json_string_value (json_object_get (r, "field")), cases [i].field) != 0)
            fail_msg ("case %zu: status %d field %s", i, status,
                      json_string_value (json_object_get (r, "field")));
        json_decref (r);
    }
    //  Too large: 70 KB of code.
    char *big = malloc (80000);
    memset (big, 'x', 70000);
    big [70000] = 0;
    char *body = zsys_sprintf ("{\"body\":{\"language\":\"python\",\"code\":\"%s\",\"tests\":[{\"expected_stdout\":\"\"}]}}", big);
    int status;
    json_t *r = s_call ("submit", body, &status, 5000);
    assert_int_equal (status, 413);
    json_decref (r);
    zstr_free (&body);
    free (big);
    r = s_call ("get", "{\"id\":\"not-a-uuid\"}", &status, 5000);
    assert_int_equal (status, 404);
    json_decref (r);
    r = s_call ("get", "{\"id\":\"00000000-0000-0000-0000-000000000000\"}", &status, 5000);
    assert_int_equal (status, 404);
    json_decref (r);
}

//  A row left 'running' by a grader that died (its lock key is held by nobody) is run again.
static void
test_orphan_is_requeued_and_finishes_once (void **state)
{
    (void) state;
    const char *params [] = {
        "{\"language\":\"python\",\"code\":\"print(41+1)\",\"tests\":[{\"expected_stdout\":\"42\\n\"}]}"
    };
    PGresult *res = td_db_exec (s_db, NULL,
        "INSERT INTO grader_submissions (language, spec, status, claim, claimed_by, attempts, lease_until) "
        "VALUES ('python', $1::jsonb, 'running', gen_random_uuid (), 4242424242, 1, now () + interval '1 hour') "
        "RETURNING id::text", 1, params);
    assert_non_null (res);
    char id [64];
    snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    const char *idp [] = { id };
    int64_t until = zclock_mono () + 30000;
    bool done = false;
    while (!done && zclock_mono () < until) {
        zclock_sleep (200);
        res = td_db_exec (s_db, NULL, "SELECT status, verdict, attempts FROM grader_submissions WHERE id = $1::uuid", 1, idp);
        assert_non_null (res);
        done = strcmp (PQgetvalue (res, 0, 0), "done") == 0;
        if (done) {
            assert_string_equal (PQgetvalue (res, 0, 1), "accepted");
            assert_string_equal (PQgetvalue (res, 0, 2), "2");
        }
        PQclear (res);
    }
    assert_true (done);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_python_verdicts),
        cmocka_unit_test (test_c_verdicts),
        cmocka_unit_test (test_function_class_and_prints),
        cmocka_unit_test (test_events_stream),
        cmocka_unit_test (test_execute),
        cmocka_unit_test (test_bad_input),
        cmocka_unit_test (test_orphan_is_requeued_and_finishes_once),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
