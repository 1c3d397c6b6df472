/*  test_supervisor — the actor framework and the supervisor against a real broker.
 *
 *  A broker and a supervisor run in this process (inproc and a TCP port picked at random);
 *  test actors are real td_actor_task actors. Covered: ping, unknown type answered 404, a handler
 *  that forgets to answer gets 500, fault.exit ends an actor and the supervisor restarts it with
 *  a system.actor_restarted event, a crash loop backs off, a hung actor is dropped by the broker
 *  (503 for its requests) and serves again after, and STATUS tells the states.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <jansson.h>
#include "td_actor.h"
#include "td_broker.h"
#include "td_client.h"
#include "td_json.h"
#include "td_mp.h"
#include "td_supervisor.h"

static td_config_t s_cfg;
static td_broker_args_t s_broker_args;
static char s_events_in [64], s_events_out [64], s_requests [64];

static int
s_forgetful (td_actor_t *self, td_call_t *call)
{
    (void) self;
    (void) call;
    return TD_ACTOR_OK;             //  answers nothing: the framework must answer 500
}

static int
s_echo (td_actor_t *self, td_call_t *call)
{
    (void) self;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    int rc = msgpack_pack_object (&pk, *td_call_body (call));
    if (rc == 0)
        td_call_reply (call, 200, buf.data, buf.size);
    else
        td_call_error (call, TD_ERR_INTERNAL, NULL, "cannot pack");
    msgpack_sbuffer_destroy (&buf);
    return TD_ACTOR_OK;
}

static int s_init_calls;
static int
s_failing_init (td_actor_t *self)
{
    (void) self;
    __atomic_add_fetch (&s_init_calls, 1, __ATOMIC_SEQ_CST);
    return -1;                      //  always fails: a crash loop
}

static const td_verb_t s_verbs [] = {
    { "forgetful", s_forgetful },
    { "echo", s_echo },
    { NULL, NULL }
};
static const td_actor_spec_t s_alpha = { .name = "alpha", .service = "alpha", .verbs = s_verbs };
static const td_actor_spec_t s_beta = { .name = "beta", .service = "beta", .verbs = s_verbs,
                                        .init = s_failing_init };
static const td_actor_spec_t *const s_specs [] = { &s_alpha, &s_beta };

static zactor_t *s_broker, *s_supervisor;
static td_client_t *s_client;
static zsock_t *s_sub;

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_cfg, 0, sizeof s_cfg);
    s_cfg.run_broker = true;
    s_cfg.heartbeat_ms = 100;
    s_cfg.faults = true;
    snprintf (s_cfg.db, sizeof s_cfg.db, "host=/nonexistent");
    int port = 20000 + (int) (getpid () % 20000);
    snprintf (s_requests, sizeof s_requests, "@%s,@tcp://127.0.0.1:%d", TD_INPROC_BROKER, port);
    snprintf (s_events_in, sizeof s_events_in, "@%s", TD_INPROC_EVENTS_IN);
    snprintf (s_events_out, sizeof s_events_out, "@%s", TD_INPROC_EVENTS);
    s_broker_args = (td_broker_args_t) {
        .request_endpoints = s_requests, .events_in = s_events_in, .events_out = s_events_out,
        .heartbeat_ms = 100, .liveness = 3
    };
    s_broker = zactor_new (td_broker_actor, &s_broker_args);
    assert_non_null (s_broker);
    s_sub = zsock_new_sub (">" TD_INPROC_EVENTS, "system.");
    assert_non_null (s_sub);
    static td_supervisor_args_t sup;
    sup = (td_supervisor_args_t) { .cfg = &s_cfg, .specs = s_specs, .count = 2,
                                   .backoff_min_ms = 50, .backoff_max_ms = 400 };
    s_supervisor = zactor_new (td_supervisor_actor, &sup);
    assert_non_null (s_supervisor);
    s_client = td_client_new (TD_INPROC_BROKER);
    assert_non_null (s_client);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    td_client_destroy (&s_client);
    zactor_destroy (&s_supervisor);
    zsock_destroy (&s_sub);
    zactor_destroy (&s_broker);
    return 0;
}

//  Call service/type with a JSON body; returns the reply (caller destroys).
static td_msg_t *
s_call (const char *service, const char *type, const char *json_body, int timeout_ms)
{
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    if (json_body) {
        msgpack_packer pk;
        msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
        td_error_t err;
        json_t *j = td_json_parse (json_body, strlen (json_body), 0, &err);
        assert_non_null (j);
        assert_int_equal (td_json_to_mp (j, &pk, &err), 0);
        json_decref (j);
    }
    char id [33];
    td_new_id (id);
    td_request_spec_t spec = { .id = id, .type = type,
                               .body = body.size? body.data: NULL, .body_size = body.size };
    td_error_t err;
    td_msg_t *reply = td_client_call (s_client, service, &spec, timeout_ms, &err);
    msgpack_sbuffer_destroy (&body);
    return reply;
}

//  Wait until service answers ping 200, up to ms.
static bool
s_wait_up (const char *service, int ms)
{
    int64_t until = zclock_mono () + ms;
    while (zclock_mono () < until) {
        td_msg_t *r = s_call (service, "ping", NULL, 500);
        int status = r? td_msg_status (r): 0;
        td_msg_destroy (&r);
        if (status == 200)
            return true;
        zclock_sleep (20);
    }
    return false;
}

static void
test_ping_and_dispatch (void **state)
{
    (void) state;
    assert_true (s_wait_up ("alpha", 3000));
    td_msg_t *r = s_call ("alpha", "ping", NULL, 1000);
    assert_non_null (r);
    assert_int_equal (td_msg_status (r), 200);
    assert_true (td_mp_streq (td_mp_get (td_msg_body (r), "actor"), "alpha"));
    assert_true (td_mp_streq (td_mp_get (td_msg_body (r), "db"), "none"));
    td_msg_destroy (&r);

    r = s_call ("alpha", "echo", "{\"x\":[1,2,{\"y\":\"z\"}]}", 1000);
    assert_non_null (r);
    assert_int_equal (td_msg_status (r), 200);
    int64_t two = 0;
    assert_true (td_mp_int (&td_mp_get (td_msg_body (r), "x")->via.array.ptr [1], &two));
    assert_int_equal (two, 2);
    td_msg_destroy (&r);

    r = s_call ("alpha", "no.such.verb", NULL, 1000);
    assert_non_null (r);
    assert_int_equal (td_msg_status (r), 404);
    assert_int_equal (td_msg_error (r), TD_ERR_NOT_FOUND);
    td_msg_destroy (&r);

    r = s_call ("alpha", "forgetful", NULL, 1000);
    assert_non_null (r);
    assert_int_equal (td_msg_status (r), 500);
    assert_int_equal (td_msg_error (r), TD_ERR_INTERNAL);
    td_msg_destroy (&r);
}

static bool
s_wait_event (const char *subject, int ms, int64_t *restarts)
{
    zpoller_t *poller = zpoller_new (s_sub, NULL);
    int64_t until = zclock_mono () + ms;
    bool found = false;
    while (!found && zclock_mono () < until) {
        if (!zpoller_wait (poller, (int) (until - zclock_mono ())))
            break;
        zmsg_t *msg = zmsg_recv (s_sub);
        zframe_t *type = zmsg_first (msg);
        zframe_t *data = zmsg_next (msg);
        if (type && data && zframe_streq (type, "system.actor_restarted")) {
            td_error_t err;
            td_msg_t *ev = td_msg_decode (TD_MSG_EVENT, zframe_data (data), zframe_size (data), &err);
            assert_non_null (ev);
            if (strcmp (td_msg_subject (ev), subject) == 0) {
                found = true;
                assert_true (td_mp_int (td_mp_get (td_msg_body (ev), "restarts"), restarts));
            }
            td_msg_destroy (&ev);
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return found;
}

static void
test_fault_exit_is_restarted (void **state)
{
    (void) state;
    assert_true (s_wait_up ("alpha", 3000));
    td_msg_t *r = s_call ("alpha", "fault.exit", NULL, 1000);
    assert_non_null (r);
    assert_int_equal (td_msg_status (r), 202);
    td_msg_destroy (&r);
    int64_t restarts = 0;
    assert_true (s_wait_event ("alpha", 3000, &restarts));
    assert_true (restarts >= 1);
    assert_true (s_wait_up ("alpha", 3000));

    //  STATUS shows alpha up with its restart counted.
    assert_int_equal (zstr_send (s_supervisor, "STATUS"), 0);
    char *text = zstr_recv (s_supervisor);
    assert_non_null (text);
    json_error_t jerr;
    json_t *status = json_loads (text, 0, &jerr);
    assert_non_null (status);
    assert_string_equal (json_string_value (json_object_get (json_object_get (status, "alpha"), "state")), "up");
    assert_true (json_integer_value (json_object_get (json_object_get (status, "alpha"), "restarts")) >= 1);
    json_decref (status);
    zstr_free (&text);
}

//  beta's init always fails: restarts keep coming, spaced by a growing backoff (50..400 ms).
static void
test_crash_loop_backs_off (void **state)
{
    (void) state;
    zclock_sleep (1000);            //  past the first doublings: backoff is at its 400 ms cap
    int before = __atomic_load_n (&s_init_calls, __ATOMIC_SEQ_CST);
    zclock_sleep (2000);
    int calls = __atomic_load_n (&s_init_calls, __ATOMIC_SEQ_CST) - before;
    //  Without backoff there would be thousands; at 400 ms apart, about 5 in 2 s.
    assert_true (calls >= 3);
    assert_true (calls <= 7);
    //  beta never serves: its service has no worker, and the broker says so at once.
    int64_t t0 = zclock_mono ();
    td_msg_t *r = s_call ("beta", "ping", NULL, 2000);
    assert_non_null (r);
    assert_int_equal (td_msg_status (r), 503);
    assert_true (zclock_mono () - t0 < 500);
    td_msg_destroy (&r);
}

//  A hung actor stops heartbeating: the broker drops it, answers 503, and takes it back after.
static void
test_hung_actor_is_dropped_then_recovers (void **state)
{
    (void) state;
    assert_true (s_wait_up ("alpha", 3000));
    td_msg_t *r = s_call ("alpha", "fault.hang", "{\"ms\":800}", 1000);
    assert_non_null (r);
    assert_int_equal (td_msg_status (r), 202);
    td_msg_destroy (&r);
    //  Requests during the hang never hang the caller: a timeout or 503 comes back.
    r = s_call ("alpha", "ping", NULL, 2000);
    assert_non_null (r);
    assert_true (td_msg_status (r) == 503 || td_msg_status (r) == 504 || td_msg_status (r) == 200);
    td_msg_destroy (&r);
    assert_true (s_wait_up ("alpha", 5000));

    r = s_call ("alpha", "fault.hang", "{\"ms\":\"long\"}", 1000);
    assert_non_null (r);
    assert_int_equal (td_msg_status (r), 400);
    td_msg_destroy (&r);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ping_and_dispatch),
        cmocka_unit_test (test_fault_exit_is_restarted),
        cmocka_unit_test (test_crash_loop_backs_off),
        cmocka_unit_test (test_hung_actor_is_dropped_then_recovers),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
