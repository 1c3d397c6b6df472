/*  test_grader_items — submissions to catalog items through the real broker, grader and catalog.
 *
 *  Needs TUTORD_TEST_DB (migrated) and root for the sandbox. Covered: the catalog's item.grading
 *  (system only; may_submit by the catalog's own read rule), an exercise graded by item_id with
 *  its hidden test run and hidden, a question answered at once, the grader's answers while the
 *  catalog is absent (503 at once) or hung (503 when the broker drops it, while the grader keeps
 *  answering other requests: its thread never waits for the catalog), result.list paging and its
 *  one-second settling, and td_actor_call itself (reply, broker 503, expiry, destroy: each call
 *  ends exactly once).
 *  TUTORD_TEST_SERIAL: it counts finished submissions in the shared table.
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
#include "td_actor_call.h"
#include "td_broker.h"
#include "td_client.h"
#include "td_db.h"
#include "td_json.h"
#include "td_mp.h"

extern const td_actor_spec_t td_grader_actor;
extern const td_actor_spec_t td_catalog_actor;

static td_config_t s_cfg;
static td_broker_args_t s_broker_args;
static td_actor_args_t s_grader_args, s_catalog_args;
static zactor_t *s_broker, *s_grader, *s_catalog;
static td_client_t *s_client;
static td_db_t *s_db;
static char s_run [33], s_org [48], s_learner [512], s_outsider [512];
static char s_exercise [40], s_question [40], s_draft_item [40];
static char s_last_answer [40];         //  the newest finished submission of this run
#define SYSTEM "{\"kind\": \"system\", \"user\": \"u-items\"}"

//  Call service/type as auth with a JSON body; the reply body (errors: {code, field}), *status.
static json_t *
s_call (const char *service, const char *auth, const char *type, int *status, int timeout_ms,
        const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *text = zsys_vprintf (fmt, args);
    va_end (args);
    json_t *out = td_test_call_json (s_client, service, auth, type, text, timeout_ms, status);
    zstr_free (&text);
    return out;
}

static const char *
s_str (json_t *o, const char *key)
{
    const char *v = json_string_value (json_object_get (o, key));
    return v? v: "";
}

static void
s_clear (void)
{
    const char *params [] = { s_org };
    PGresult *res = td_db_exec (s_db, NULL, "DELETE FROM catalog_courses WHERE org_id = $1", 1, params);
    if (!res)
        fail_msg ("cannot clear (migrated?): %s", td_db_last_error (s_db));
    PQclear (res);
}

//  Create through catalog/type (system) under parent with a JSON body; the new id into out.
static void
s_create (const char *type, const char *parent, const char *body, char *out)
{
    int code;
    json_t *r = s_call ("catalog", SYSTEM, type, &code, 10000, "{\"id\": \"%s\", \"body\": %s}",
                        parent, body);
    if (code != 201)
        fail_msg ("%s answered %d (%s)", type, code, s_str (r, "field"));
    snprintf (out, 40, "%s", s_str (r, "id"));
    json_decref (r);
}

//  An org-visible course of our org (published or draft) with an exercise and a question.
static void
s_course (bool publish, char *exercise, char *question)
{
    char course [40], module [40], lesson [40], slug [160];
    snprintf (slug, sizeof slug, "{\"slug\": \"items-%s-%d\", \"title\": \"Items\", \"visibility\": \"org\"}",
              s_run, publish);
    s_create ("course.create", s_org, slug, course);
    s_create ("module.create", course, "{\"slug\": \"mod\", \"title\": \"M\"}", module);
    s_create ("lesson.create", module, "{\"slug\": \"les\", \"title\": \"L\"}", lesson);
    s_create ("item.create", lesson,
        "{\"slug\": \"exer\", \"kind\": \"exercise\", \"title\": \"Double\", \"content\": {"
        " \"language\": \"python\", \"instructions\": \"Double it.\", \"starter_code\": \"\","
        " \"hints\": [\"int()\"], \"solution\": \"print(2 * int(input()))\", \"tests\": ["
        "  {\"name\": \"two\", \"stdin\": \"2\", \"expected_stdout\": \"4\\n\"},"
        "  {\"name\": \"hidden\", \"stdin\": \"50\", \"expected_stdout\": \"100\\n\", \"hidden\": true}]}}",
        exercise);
    char q [40];
    s_create ("item.create", lesson,
        "{\"slug\": \"ques\", \"kind\": \"question\", \"title\": \"Q\", \"content\": {"
        " \"type\": \"numeric\", \"prompt\": \"6*7\", \"answer\": 42, \"tolerance\": 0.5}}", q);
    if (question)
        snprintf (question, 40, "%s", q);
    if (publish) {
        int code;
        json_t *r = s_call ("catalog", SYSTEM, "course.publish", &code, 10000, "{\"id\": \"%s\"}", course);
        assert_int_equal (code, 200);
        json_decref (r);
    }
}

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_cfg, 0, sizeof s_cfg);
    s_cfg.run_broker = true;
    s_cfg.heartbeat_ms = 500;
    s_cfg.grader_workers = 2;
    s_cfg.faults = true;                    //  fault.hang on the catalog
    snprintf (s_cfg.db, sizeof s_cfg.db, "%s", td_test_env ("TUTORD_TEST_DB"));
    snprintf (s_cfg.python, sizeof s_cfg.python, "/usr/bin/python3");
    s_db = td_db_new (s_cfg.db, "test");
    td_new_id (s_run);
    snprintf (s_org, sizeof s_org, "org-%s", s_run);
    snprintf (s_learner, sizeof s_learner, "{\"kind\": \"user\", \"user\": \"l-%s\","
              " \"memberships\": [{\"org\": \"%s\", \"role\": \"learner\"}]}", s_run, s_org);
    snprintf (s_outsider, sizeof s_outsider, "{\"kind\": \"user\", \"user\": \"o-%s\","
              " \"memberships\": [{\"org\": \"elsewhere-%s\", \"role\": \"admin\"}]}", s_run, s_run);
    s_clear ();
    s_broker_args = (td_broker_args_t) {
        .request_endpoints = "@" TD_INPROC_BROKER, .events_in = "@" TD_INPROC_EVENTS_IN,
        .events_out = "@" TD_INPROC_EVENTS, .heartbeat_ms = 500
    };
    s_broker = zactor_new (td_broker_actor, &s_broker_args);
    assert_non_null (s_broker);
    s_grader_args = (td_actor_args_t) { .spec = &td_grader_actor, .cfg = &s_cfg };
    s_grader = zactor_new (td_actor_task, &s_grader_args);
    s_client = td_client_new (TD_INPROC_BROKER);
    assert_non_null (s_grader);
    assert_non_null (s_client);
    assert_true (td_test_wait_ping (s_client, "grade", 20000));
    return 0;
}

static void
s_start_catalog (void)
{
    s_catalog_args = (td_actor_args_t) { .spec = &td_catalog_actor, .cfg = &s_cfg };
    s_catalog = zactor_new (td_actor_task, &s_catalog_args);
    assert_non_null (s_catalog);
    assert_true (td_test_wait_ping (s_client, "catalog", 20000));
}

static int
s_teardown (void **state)
{
    (void) state;
    s_clear ();
    td_client_destroy (&s_client);
    zactor_destroy (&s_grader);
    zactor_destroy (&s_catalog);
    zactor_destroy (&s_broker);
    td_db_destroy (&s_db);
    return 0;
}

//  Runs first: no catalog in this process yet, so the broker answers the look-up 503 at once.
static void
test_catalog_absent_is_unavailable (void **state)
{
    (void) state;
    int status;
    int64_t start = zclock_mono ();
    json_t *r = s_call ("grade", s_learner, "submit", &status, 10000,
                        "{\"body\": {\"item_id\": \"0f8fad5b-d9cb-469f-a165-70867728950e\", \"code\": \"x\"}}");
    assert_int_equal (status, 503);
    assert_true (zclock_mono () - start < 3000);
    json_decref (r);
    s_start_catalog ();
    s_course (true, s_exercise, s_question);
    s_course (false, s_draft_item, NULL);
}

static void
test_item_grading_verb (void **state)
{
    (void) state;
    int status;
    //  system only
    json_t *r = s_call ("catalog", s_learner, "item.grading", &status, 5000,
                        "{\"item_id\": \"%s\"}", s_exercise);
    assert_int_equal (status, 403);
    json_decref (r);
    //  the whole content, and the learner's right decided by the catalog's rule
    r = s_call ("catalog", SYSTEM, "item.grading", &status, 5000,
                "{\"item_id\": \"%s\", \"auth\": %s}", s_exercise, s_learner);
    assert_int_equal (status, 200);
    assert_string_equal (s_str (r, "kind"), "exercise");
    assert_string_equal (s_str (r, "org_id"), s_org);
    assert_true (json_is_true (json_object_get (r, "may_submit")));
    assert_string_equal (s_str (json_object_get (r, "content"), "solution"), "print(2 * int(input()))");
    assert_non_null (json_object_get (r, "course_id"));
    assert_non_null (json_object_get (r, "lesson_id"));
    json_decref (r);
    //  an org course is not for an outsider; a draft not for a learner; nil auth is anonymous
    const char *cases [][2] = { { s_exercise, s_outsider }, { s_draft_item, s_learner },
                                { s_exercise, "null" } };
    for (size_t i = 0; i < 3; i++) {
        r = s_call ("catalog", SYSTEM, "item.grading", &status, 5000,
                    "{\"item_id\": \"%s\", \"auth\": %s}", cases [i][0], cases [i][1]);
        assert_int_equal (status, 200);
        assert_false (json_is_true (json_object_get (r, "may_submit")));
        json_decref (r);
    }
    r = s_call ("catalog", SYSTEM, "item.grading", &status, 5000,
                "{\"item_id\": \"0f8fad5b-d9cb-469f-a165-70867728950e\", \"auth\": null}");
    assert_int_equal (status, 404);
    json_decref (r);
    r = s_call ("catalog", SYSTEM, "item.grading", &status, 5000,
                "{\"item_id\": \"%s\", \"auth\": {\"kind\": \"wizard\"}}", s_exercise);
    assert_int_equal (status, 400);
    assert_string_equal (s_str (r, "field"), "auth");
    json_decref (r);
}

static void
test_submissions_by_item (void **state)
{
    (void) state;
    int status;
    json_t *r = s_call ("grade", s_learner, "submit", &status, 60000,
                        "{\"wait\": \"true\", \"body\": {\"item_id\": \"%s\", \"code\": \"print(2 * int(input()))\"}}",
                        s_exercise);
    assert_int_equal (status, 200);
    assert_string_equal (s_str (r, "verdict"), "accepted");
    assert_true (json_is_true (json_object_get (r, "passed")));
    assert_int_equal (json_array_size (json_object_get (r, "tests")), 2);
    char *text = json_dumps (r, 0);
    assert_null (strstr (text, "100\\n"));     //  the hidden test's expected output
    free (text);
    json_decref (r);
    //  wrong on the hidden test only: half the weight
    r = s_call ("grade", s_learner, "submit", &status, 60000,
                "{\"wait\": \"true\", \"body\": {\"item_id\": \"%s\", \"code\": \"print(4)\"}}", s_exercise);
    assert_int_equal (status, 200);
    assert_string_equal (s_str (r, "verdict"), "wrong_answer");
    assert_true (json_number_value (json_object_get (r, "score")) == 50);
    json_decref (r);
    //  a question: graded at once
    r = s_call ("grade", s_learner, "submit", &status, 10000,
                "{\"body\": {\"item_id\": \"%s\", \"answer\": 42.4}}", s_question);
    assert_int_equal (status, 202);
    assert_string_equal (s_str (r, "status"), "done");
    assert_true (json_is_true (json_object_get (r, "passed")));
    json_decref (r);
    //  who may not see the item: 404, as for no item at all
    r = s_call ("grade", s_outsider, "submit", &status, 10000,
                "{\"body\": {\"item_id\": \"%s\", \"code\": \"x\"}}", s_exercise);
    assert_int_equal (status, 404);
    assert_string_equal (s_str (r, "field"), "item_id");
    json_decref (r);
    r = s_call ("grade", s_learner, "submit", &status, 10000,
                "{\"body\": {\"item_id\": \"%s\", \"code\": \"x\"}}", s_draft_item);
    assert_int_equal (status, 404);
    json_decref (r);
}

//  A hung catalog: the look-up ends with 503 (the broker gives up on the silent worker, or the
//  look-up's deadline passes), and meanwhile the grader answers
//  other requests at once (its thread never waits for the catalog).
static void
test_hung_catalog_does_not_block_the_grader (void **state)
{
    (void) state;
    int status;
    json_t *r = s_call ("catalog", SYSTEM, "fault.hang", &status, 5000, "{\"ms\": 7000}");
    assert_int_equal (status, 202);
    json_decref (r);
    //  send the submission without waiting for it
    msgpack_sbuffer body, ab, req;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&ab);
    msgpack_sbuffer_init (&req);
    char *text = zsys_sprintf ("{\"body\": {\"item_id\": \"%s\", \"code\": \"print(1)\"}}", s_exercise);
    td_test_pack (text, &body);
    td_test_pack (s_learner, &ab);
    zstr_free (&text);
    td_client_t *other = td_client_new (TD_INPROC_BROKER);
    assert_non_null (other);
    char id [33];
    td_new_id (id);
    td_request_spec_t spec = { .id = id, .type = "submit", .body = body.data, .body_size = body.size,
                               .auth = ab.data, .auth_size = ab.size,
                               .deadline = td_now_ms () + 20000 };
    td_error_t err;
    assert_int_equal (td_request_pack (&req, &spec, &err), 0);
    int64_t start = zclock_mono ();
    assert_int_equal (td_client_send (other, "grade", req.data, req.size), 0);
    zclock_sleep (300);
    //  the grader answers while its look-up waits
    int64_t ping_at = zclock_mono ();
    r = s_call ("grade", SYSTEM, "get", &status, 2000, "{\"id\": \"0f8fad5b-d9cb-469f-a165-70867728950e\"}");
    assert_int_equal (status, 404);
    assert_true (zclock_mono () - ping_at < 1000);
    json_decref (r);
    bool final = false;
    td_msg_t *reply = NULL;
    while (!final) {
        td_msg_destroy (&reply);
        reply = td_client_recv (other, 15000, &final, &err);
        if (!reply)
            fail_msg ("no answer to a submission while the catalog hangs: %s", err.message);
    }
    assert_int_equal (td_msg_status (reply), 503);
    int64_t took = zclock_mono () - start;
    //  the broker drops the silent catalog after its heartbeat liveness (1.5 s here) and answers
    //  its in-flight look-up 503; at worst the look-up's own 5 s deadline ends it
    assert_true (took >= 1000 && took < 9000);
    td_msg_destroy (&reply);
    td_client_destroy (&other);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&ab);
    msgpack_sbuffer_destroy (&req);
    //  the catalog comes back, and so do item submissions
    zclock_sleep (2500);
    assert_true (td_test_wait_ping (s_client, "catalog", 20000));
    r = s_call ("grade", s_learner, "submit", &status, 10000,
                "{\"body\": {\"item_id\": \"%s\", \"answer\": 41}}", s_question);
    assert_int_equal (status, 202);
    assert_false (json_is_true (json_object_get (r, "passed")));
    snprintf (s_last_answer, sizeof s_last_answer, "%s", s_str (r, "id"));
    json_decref (r);
}

//  Whether the feed (every page, from the start) holds submission id.
static bool
s_feed_has (const char *id)
{
    char cursor [256] = "";
    bool found = false, more = true;
    while (more) {
        int status;
        json_t *r = *cursor? s_call ("grade", SYSTEM, "result.list", &status, 5000,
                                     "{\"since\": \"%s\", \"limit\": 500}", cursor)
                           : s_call ("grade", SYSTEM, "result.list", &status, 5000, "{\"limit\": 500}");
        assert_int_equal (status, 200);
        size_t i;
        json_t *x;
        json_array_foreach (json_object_get (r, "results"), i, x)
            found = found || strcmp (s_str (x, "submission_id"), id) == 0;
        more = json_is_true (json_object_get (r, "more"));
        if (json_is_string (json_object_get (r, "next")))
            snprintf (cursor, sizeof cursor, "%s", s_str (r, "next"));
        json_decref (r);
    }
    return found;
}

static void
test_result_list_pages (void **state)
{
    (void) state;
    int status;
    //  a result finished within the last second is not served yet (it may still be committing)
    assert_true (*s_last_answer);
    assert_false (s_feed_has (s_last_answer));
    zclock_sleep (1500);
    assert_true (s_feed_has (s_last_answer));
    //  every page of one, from the start: each finished submission once, in finish order
    char cursor [256] = "";
    size_t seen = 0, ours = 0;
    char last [64] = "";
    for (int page = 0; page < 100000; page++) {
        json_t *r = *cursor? s_call ("grade", SYSTEM, "result.list", &status, 5000,
                                     "{\"since\": \"%s\", \"limit\": 50}", cursor)
                           : s_call ("grade", SYSTEM, "result.list", &status, 5000, "{\"limit\": 50}");
        assert_int_equal (status, 200);
        json_t *list = json_object_get (r, "results");
        size_t i;
        json_t *x;
        json_array_foreach (list, i, x) {
            const char *at = s_str (x, "finished_at");
            assert_true (strcmp (last, at) <= 0);
            snprintf (last, sizeof last, "%s", at);
            if (strncmp (s_str (x, "user_id"), "l-", 2) == 0 && strstr (s_str (x, "user_id"), s_run))
                ours++;
            seen++;
        }
        bool more = json_is_true (json_object_get (r, "more"));
        if (json_is_string (json_object_get (r, "next")))
            snprintf (cursor, sizeof cursor, "%s", s_str (r, "next"));
        json_decref (r);
        if (!more)
            break;
    }
    assert_int_equal (ours, 4);              //  2 exercises, 2 answers of this run's learner
    assert_true (seen >= ours);
    json_t *r = s_call ("grade", s_learner, "result.list", &status, 5000, "{}");
    assert_int_equal (status, 403);
    json_decref (r);
}

//  td_actor_call on its own: a call ends exactly once, by its reply, by expiry when nothing
//  answers (no broker behind the endpoint), or by the owner's destroy.
typedef struct {
    int calls;
    int status;
    td_errcode_t code;
} s_seen_t;

static void
s_seen (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    (void) actor;
    s_seen_t *seen = (s_seen_t *) arg;
    seen->calls++;
    seen->status = reply? td_msg_status (reply): 0;
    seen->code = reply? TD_OK: err->code;
}

static void
test_actor_call_ends_each_call_once (void **state)
{
    (void) state;
    td_error_t err;
    td_request_spec_t ping = { .type = "ping" };
    //  a reply: through the real broker
    td_acall_t *ac = td_acall_new (TD_INPROC_BROKER, "test");
    assert_non_null (ac);
    s_seen_t a = { 0 };
    assert_int_equal (td_acall_send (ac, "grade", &ping, 5000, s_seen, &a, &err), 0);
    assert_int_equal (td_acall_pending (ac), 1);
    int64_t until = zclock_mono () + 5000;
    while (a.calls == 0 && zclock_mono () < until) {
        zmq_pollitem_t item = { zsock_resolve (td_acall_sock (ac)), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 100);
        td_acall_dispatch (ac, NULL);
    }
    assert_int_equal (a.calls, 1);
    assert_int_equal (a.status, 200);
    assert_int_equal (td_acall_pending (ac), 0);
    //  no such service: the broker answers 503 at once
    s_seen_t b = { 0 };
    assert_int_equal (td_acall_send (ac, "no-such-service", &ping, 5000, s_seen, &b, &err), 0);
    until = zclock_mono () + 5000;
    while (b.calls == 0 && zclock_mono () < until) {
        zclock_sleep (20);
        td_acall_dispatch (ac, NULL);
    }
    assert_int_equal (b.calls, 1);
    assert_int_equal (b.status, 503);
    //  bad arguments never call back
    s_seen_t c = { 0 };
    assert_int_equal (td_acall_send (ac, "grade", &ping, 0, s_seen, &c, &err), -1);
    assert_int_equal (td_acall_send (ac, "Bad Name", &ping, 1000, s_seen, &c, &err), -1);
    assert_int_equal (c.calls, 0);
    assert_int_equal (td_acall_pending (ac), 0);
    td_acall_destroy (&ac, NULL);
    assert_null (ac);

    //  nobody behind the endpoint: expiry ends the call after its timeout (+ 1 s grace)
    ac = td_acall_new ("inproc://td-test-nobody-here", "test");
    assert_non_null (ac);
    s_seen_t d = { 0 }, e = { 0 };
    assert_int_equal (td_acall_send (ac, "grade", &ping, 200, s_seen, &d, &err), 0);
    assert_int_equal (td_acall_send (ac, "grade", &ping, 60000, s_seen, &e, &err), 0);
    td_acall_expire (ac, NULL);
    assert_int_equal (d.calls, 0);                  //  not yet
    zclock_sleep (1400);
    td_acall_expire (ac, NULL);
    td_acall_dispatch (ac, NULL);
    assert_int_equal (d.calls, 1);
    assert_int_equal (d.code, TD_ERR_TIMEOUT);
    td_acall_expire (ac, NULL);
    assert_int_equal (d.calls, 1);                  //  once
    assert_int_equal (e.calls, 0);
    //  the owner stops: the rest end as unavailable, once
    td_acall_destroy (&ac, NULL);
    assert_int_equal (e.calls, 1);
    assert_int_equal (e.code, TD_ERR_UNAVAILABLE);
    assert_int_equal (d.calls, 1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_catalog_absent_is_unavailable),
        cmocka_unit_test (test_item_grading_verb),
        cmocka_unit_test (test_submissions_by_item),
        cmocka_unit_test (test_hung_catalog_does_not_block_the_grader),
        cmocka_unit_test (test_result_list_pages),
        cmocka_unit_test (test_actor_call_ends_each_call_once),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
