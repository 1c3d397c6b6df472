/*  test_core_broker — the real broker actor, real workers and clients, over inproc and tcp.
 *
 *  Why: the broker is the one component every request crosses; these tests try to break it
 *  the ways production will: workers that crash mid-load or go silent, deadlines that pass,
 *  full queues, garbage from clients and workers, a broker that restarts under its workers.
 *  Each test starts its own broker on fresh endpoints, with 100 ms heartbeats to stay fast.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <jansson.h>
#include <string.h>

#include "td_broker.h"
#include "td_worker.h"
#include "td_client.h"
#include "td_events.h"
#include "td_wire.h"
#include "td_msg.h"
#include "td_mp.h"
#include "td_log.h"

#define HB 100                      //  heartbeat for tests, ms

//  ---------------------------------------------------------------------------------------------
//  Endpoints and broker

typedef struct {
    bool tcp;
    char requests [128];            //  what workers and clients connect to
    char bind [160];                //  what the broker binds
    char events_in [128], events_out [128];
    char events_in_bind [160], events_out_bind [160];
    td_broker_args_t args;
    zactor_t *broker;
} fixture_t;

static int s_counter;

//  A random port below the ephemeral range (32768+, where outgoing connections take their
//  local ports); a collision ends the broker at once and s_fixture retries.
static void
s_endpoint (bool tcp, char *connect, size_t size, char *bind, size_t bsize)
{
    if (tcp)
        snprintf (connect, size, "tcp://127.0.0.1:%d", 20000 + randof (12000));
    else
        snprintf (connect, size, "inproc://test-broker-%d-%d", getpid (), ++s_counter);
    snprintf (bind, bsize, "@%s", connect);
}

static void
s_broker_start (fixture_t *fx, int queue_limit)
{
    fx->args.request_endpoints = fx->bind;
    fx->args.events_in = fx->events_in_bind;
    fx->args.events_out = fx->events_out_bind;
    fx->args.heartbeat_ms = HB;
    fx->args.liveness = 3;
    fx->args.queue_limit = queue_limit;
    fx->broker = zactor_new (td_broker_actor, &fx->args);
    assert_non_null (fx->broker);
}

//  A broker that cannot bind ends at once: its pipe turns readable.
static bool
s_ended (zactor_t *broker, int ms)
{
    zpoller_t *poller = zpoller_new (broker, NULL);
    assert_non_null (poller);
    bool ended = zpoller_wait (poller, ms) != NULL;
    zpoller_destroy (&poller);
    return ended;
}

static fixture_t *
s_fixture (bool tcp, int queue_limit)
{
    fixture_t *fx = (fixture_t *) calloc (1, sizeof (fixture_t));
    assert_non_null (fx);
    fx->tcp = tcp;
    for (int attempt = 0; attempt < 10; attempt++) {
        s_endpoint (tcp, fx->requests, sizeof fx->requests, fx->bind, sizeof fx->bind);
        s_endpoint (tcp, fx->events_in, sizeof fx->events_in, fx->events_in_bind, sizeof fx->events_in_bind);
        s_endpoint (tcp, fx->events_out, sizeof fx->events_out, fx->events_out_bind, sizeof fx->events_out_bind);
        s_broker_start (fx, queue_limit);
        if (!s_ended (fx->broker, 30))
            return fx;
        zsock_set_rcvtimeo (zactor_sock (fx->broker), 500);
        zactor_destroy (&fx->broker);
    }
    fail_msg ("could not start a broker");
    return fx;
}

static void
s_fixture_destroy (fixture_t **fx_p)
{
    zactor_destroy (&(*fx_p)->broker);
    free (*fx_p);
    *fx_p = NULL;
}

//  The broker's STATUS as JSON; caller frees with json_decref... kept as text for simplicity.
static char *
s_status (fixture_t *fx)
{
    assert_int_equal (zstr_send (fx->broker, "STATUS"), 0);
    char *text = zstr_recv (fx->broker);
    assert_non_null (text);
    return text;
}

//  Integer field of STATUS: a total (service NULL) or a service's; -1 when absent.
static long
s_status_num (fixture_t *fx, const char *service, const char *field)
{
    char *text = s_status (fx);
    json_error_t jerr;
    json_t *root = json_loads (text, 0, &jerr);
    free (text);
    assert_non_null (root);
    json_t *from = service? json_object_get (json_object_get (root, "services"), service): root;
    json_t *value = from? json_object_get (from, field): NULL;
    long result = json_is_integer (value)? (long) json_integer_value (value): -1;
    json_decref (root);
    return result;
}

//  Wait until service has n workers (or fail after ms).
static void
s_wait_workers (fixture_t *fx, const char *service, long n, int ms)
{
    int64_t end = zclock_mono () + ms;
    while (zclock_mono () < end) {
        if (s_status_num (fx, service, "workers") == n)
            return;
        zclock_sleep (10);
    }
    fail_msg ("service %s never reached %ld workers", service, n);
}

//  ---------------------------------------------------------------------------------------------
//  A test worker: a zactor around td_worker, with behaviours

typedef enum { MODE_ECHO, MODE_SIT, MODE_STREAM, MODE_DELAY } mode_t_;

typedef struct {
    const char *endpoint;
    const char *service;
    const char *name;
    int capacity;
    mode_t_ mode;
    int delay_ms;
} worker_args_t;

typedef struct {
    td_job_t *job;
    int64_t due;
} held_t;

static int
s_answer (td_worker_t *w, td_job_t **job_p, const char *name, int n)
{
    const td_msg_t *msg = td_job_msg (*job_p);
    msgpack_sbuffer body, out;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 3);
    rc |= td_mp_pack_kv_str (&pk, "worker", name);
    rc |= td_mp_pack_kv_str (&pk, "type", td_msg_type (msg));
    rc |= td_mp_pack_kv_int (&pk, "n", n);
    td_reply_spec_t spec = { .id = td_msg_id (msg), .rid = td_msg_rid (msg), .status = 200,
                             .body = body.data, .body_size = body.size };
    td_error_t err;
    rc |= td_reply_pack (&out, &spec, &err);
    if (rc == 0)
        rc = td_worker_final (w, job_p, out.data, out.size);
    else
        td_job_destroy (job_p);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&out);
    return rc;
}

static void
s_stream (td_worker_t *w, td_job_t *job)
{
    const td_msg_t *msg = td_job_msg (job);
    for (uint32_t seq = 0; seq < 3; seq++) {
        msgpack_sbuffer body, out;
        msgpack_sbuffer_init (&body);
        msgpack_sbuffer_init (&out);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
        int rc = msgpack_pack_map (&pk, 1);
        rc |= td_mp_pack_kv_int (&pk, "i", seq);
        td_reply_spec_t spec = { .id = td_msg_id (msg), .status = 200, .seq = seq,
                                 .body = body.data, .body_size = body.size };
        td_error_t err;
        rc |= td_partial_pack (&out, &spec, &err);
        assert (rc == 0);
        rc = td_worker_partial (w, job, out.data, out.size);
        assert (rc == 0);
        msgpack_sbuffer_destroy (&body);
        msgpack_sbuffer_destroy (&out);
    }
}

static void
s_worker_actor (zsock_t *pipe, void *varg)
{
    worker_args_t *args = (worker_args_t *) varg;
    td_worker_t *w = td_worker_new (args->endpoint, args->service, args->name, args->capacity, HB);
    assert (w);
    zlistx_t *held = zlistx_new ();
    int handled = 0, max_concurrent = 0;
    bool crashed = false;
    zsock_signal (pipe, 0);
    while (true) {
        zmq_pollitem_t items [] = {
            { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve (td_worker_sock (w)), 0, ZMQ_POLLIN, 0 }
        };
        int timeout = td_worker_timeout_ms (w);
        if (zlistx_size (held) && args->mode == MODE_DELAY && timeout > 5)
            timeout = 5;
        if (zmq_poll (items, 2, timeout) < 0)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            char *cmd = zstr_recv (pipe);
            if (!cmd || streq (cmd, "$TERM")) {
                zstr_free (&cmd);
                break;
            }
            if (streq (cmd, "COUNT"))
                zsock_send (pipe, "i", handled);
            else
            if (streq (cmd, "MAX"))
                zsock_send (pipe, "i", max_concurrent);
            else
            if (streq (cmd, "FLUSH")) {
                held_t *h;
                while ((h = (held_t *) zlistx_first (held))) {
                    s_answer (w, &h->job, args->name, ++handled);
                    free (h);
                    zlistx_delete (held, zlistx_cursor (held));
                }
                zsock_signal (pipe, 0);
            }
            else
            if (streq (cmd, "FREEZE")) {
                zsock_signal (pipe, 0);
                zclock_sleep (8 * HB);
            }
            else
            if (streq (cmd, "CRASH")) {
                //  Close the socket without DISCONNECT, as a dying process would
                zsock_disconnect (td_worker_sock (w), "%s", args->endpoint);
                crashed = true;
                zsock_signal (pipe, 0);
                zstr_free (&cmd);
                break;
            }
            zstr_free (&cmd);
            continue;
        }
        if (items [1].revents & ZMQ_POLLIN) {
            td_job_t *job;
            while ((job = td_worker_recv (w))) {
                if (args->mode == MODE_ECHO)
                    s_answer (w, &job, args->name, ++handled);
                else
                if (args->mode == MODE_STREAM) {
                    s_stream (w, job);
                    s_answer (w, &job, args->name, ++handled);
                }
                else {
                    held_t *h = (held_t *) malloc (sizeof (held_t));
                    assert (h);
                    h->job = job;
                    h->due = zclock_mono () + args->delay_ms;
                    zlistx_add_end (held, h);
                    if ((int) zlistx_size (held) > max_concurrent)
                        max_concurrent = (int) zlistx_size (held);
                }
            }
        }
        if (args->mode == MODE_DELAY) {
            int64_t now = zclock_mono ();
            held_t *h = (held_t *) zlistx_first (held);
            while (h) {
                if (h->due <= now) {
                    s_answer (w, &h->job, args->name, ++handled);
                    free (h);
                    zlistx_delete (held, zlistx_cursor (held));
                    h = (held_t *) zlistx_first (held);
                }
                else
                    h = (held_t *) zlistx_next (held);
            }
        }
        td_worker_tick (w);
    }
    held_t *h;
    while ((h = (held_t *) zlistx_first (held))) {
        td_job_destroy (&h->job);
        free (h);
        zlistx_delete (held, zlistx_cursor (held));
    }
    zlistx_destroy (&held);
    (void) crashed;
    td_worker_destroy (&w);
    free (args);
}

//  The actor gets a heap copy of args (freed when it ends), so a test that fails part-way
//  leaves no thread reading a dead stack frame.
static zactor_t *
s_worker (worker_args_t *args)
{
    worker_args_t *copy = (worker_args_t *) malloc (sizeof (worker_args_t));
    assert_non_null (copy);
    *copy = *args;
    zactor_t *actor = zactor_new (s_worker_actor, copy);
    assert_non_null (actor);
    return actor;
}

static int
s_worker_int (zactor_t *worker, const char *cmd)
{
    assert_int_equal (zstr_send (worker, cmd), 0);
    int value = -1;
    assert_int_equal (zsock_recv (worker, "i", &value), 0);
    return value;
}

//  ---------------------------------------------------------------------------------------------
//  Client helpers

static td_msg_t *
s_call (td_client_t *client, const char *service, const char *type, int timeout_ms)
{
    char id [33];
    td_new_id (id);
    td_request_spec_t spec = { .id = id, .type = type };
    td_error_t err;
    td_msg_t *reply = td_client_call (client, service, &spec, timeout_ms, &err);
    if (reply)
        assert_string_equal (td_msg_id (reply), id);
    return reply;
}

static void
s_send (td_client_t *client, const char *service, const char *id, int64_t deadline)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    td_request_spec_t spec = { .id = id, .type = "work", .deadline = deadline };
    td_error_t err;
    assert_int_equal (td_request_pack (&buf, &spec, &err), 0);
    assert_int_equal (td_client_send (client, service, buf.data, buf.size), 0);
    msgpack_sbuffer_destroy (&buf);
}

static const char *
s_body_str (const td_msg_t *msg, const char *key, char *buf, size_t size)
{
    const msgpack_object *o = td_mp_get (td_msg_body (msg), key);
    if (!o || !td_mp_strcpy (o, buf, size))
        snprintf (buf, size, "?");
    return buf;
}

//  ---------------------------------------------------------------------------------------------
//  Tests

static void
s_ping_status (bool tcp)
{
    fixture_t *fx = s_fixture (tcp, 0);
    td_client_t *client = td_client_new (fx->requests);
    assert_non_null (client);
    td_msg_t *reply = s_call (client, "broker", "ping", 2000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 200);
    char buf [64];
    assert_string_equal (s_body_str (reply, "actor", buf, sizeof buf), "broker");
    td_msg_destroy (&reply);

    reply = s_call (client, "broker", "status", 2000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 200);
    const msgpack_object *services = td_mp_get (td_msg_body (reply), "services");
    assert_non_null (services);
    assert_int_equal (services->type, MSGPACK_OBJECT_MAP);
    int64_t requests;
    assert_true (td_mp_int (td_mp_get (td_msg_body (reply), "requests"), &requests));
    assert_true (requests >= 2);
    td_msg_destroy (&reply);

    reply = s_call (client, "broker", "nosuchthing", 2000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 404);
    td_msg_destroy (&reply);

    char *text = s_status (fx);
    assert_non_null (strstr (text, "\"services\""));
    free (text);
    td_client_destroy (&client);
    s_fixture_destroy (&fx);
}

static void test_ping_status_inproc (void **state) { (void) state; s_ping_status (false); }
static void test_ping_status_tcp (void **state) { (void) state; s_ping_status (true); }

static void
s_round_trip (bool tcp)
{
    fixture_t *fx = s_fixture (tcp, 0);
    worker_args_t wa = { fx->requests, "echo", "w1", 0, MODE_ECHO, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "echo", 1, 2000);
    td_client_t *client = td_client_new (fx->requests);
    for (int i = 0; i < 20; i++) {
        td_msg_t *reply = s_call (client, "echo", "hello", 2000);
        assert_non_null (reply);
        assert_int_equal (td_msg_status (reply), 200);
        assert_int_equal (td_msg_kind (reply), TD_MSG_REPLY);
        char buf [64];
        assert_string_equal (s_body_str (reply, "type", buf, sizeof buf), "hello");
        assert_string_equal (s_body_str (reply, "worker", buf, sizeof buf), "w1");
        td_msg_destroy (&reply);
    }
    assert_int_equal (s_status_num (fx, "echo", "inflight"), 0);
    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

static void test_round_trip_inproc (void **state) { (void) state; s_round_trip (false); }
static void test_round_trip_tcp (void **state) { (void) state; s_round_trip (true); }

//  Two workers, each holding requests 100 ms: ten pipelined requests split 5/5, and a worker of
//  capacity 2 never holds more than 2.
static void
test_least_loaded (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (false, 0);
    worker_args_t a = { fx->requests, "slow", "wa", 10, MODE_DELAY, 100 };
    worker_args_t b = { fx->requests, "slow", "wb", 2, MODE_DELAY, 100 };
    zactor_t *wa = s_worker (&a);
    zactor_t *wb = s_worker (&b);
    s_wait_workers (fx, "slow", 2, 2000);
    td_client_t *client = td_client_new (fx->requests);
    //  4 requests: least loaded alternates, 2 each
    char id [32];
    for (int i = 0; i < 4; i++) {
        snprintf (id, sizeof id, "r%d", i);
        s_send (client, "slow", id, 0);
    }
    int count_a = 0, count_b = 0;
    for (int i = 0; i < 4; i++) {
        bool final;
        td_error_t err;
        td_msg_t *reply = td_client_recv (client, 2000, &final, &err);
        assert_non_null (reply);
        assert_int_equal (td_msg_status (reply), 200);
        char buf [16];
        s_body_str (reply, "worker", buf, sizeof buf);
        if (streq (buf, "wa"))
            count_a++;
        else
            count_b++;
        td_msg_destroy (&reply);
    }
    assert_int_equal (count_a, 2);
    assert_int_equal (count_b, 2);
    //  12 more: wb is full at 2, so wa takes 10
    for (int i = 0; i < 12; i++) {
        snprintf (id, sizeof id, "s%d", i);
        s_send (client, "slow", id, 0);
    }
    count_a = count_b = 0;
    for (int i = 0; i < 12; i++) {
        bool final;
        td_error_t err;
        td_msg_t *reply = td_client_recv (client, 2000, &final, &err);
        assert_non_null (reply);
        assert_int_equal (td_msg_status (reply), 200);
        char buf [16];
        s_body_str (reply, "worker", buf, sizeof buf);
        if (streq (buf, "wa"))
            count_a++;
        else
            count_b++;
        td_msg_destroy (&reply);
    }
    assert_int_equal (count_a + count_b, 12);
    assert_true (count_a >= 8);
    assert_true (s_worker_int (wb, "MAX") <= 2);
    assert_true (s_worker_int (wa, "MAX") <= 10);
    td_client_destroy (&client);
    zactor_destroy (&wa);
    zactor_destroy (&wb);
    s_fixture_destroy (&fx);
}

//  Two workers of one service; one crashes (socket closed, no DISCONNECT) with requests in
//  flight. Every request gets an answer (200 or 503); later ones all go to the survivor.
static void
s_crash (bool tcp)
{
    fixture_t *fx = s_fixture (tcp, 0);
    //  Capacity 4 each and 16 outstanding: 8 in flight, 8 queued, so when the victim dies
    //  its in-flight requests are answered 503 and the queue drains into the survivor.
    worker_args_t a = { fx->requests, "job", "victim", 4, MODE_DELAY, 30 };
    worker_args_t b = { fx->requests, "job", "survivor", 4, MODE_DELAY, 30 };
    zactor_t *wa = s_worker (&a);
    zactor_t *wb = s_worker (&b);
    s_wait_workers (fx, "job", 2, 2000);
    td_client_t *client = td_client_new (fx->requests);
    const int total = 200;
    int sent = 0, answered = 0, ok = 0, unavailable = 0;
    bool crashed = false;
    int64_t start = zclock_mono ();
    while (answered < total) {
        //  Keep 16 in flight
        while (sent < total && sent - answered < 16) {
            char id [32];
            snprintf (id, sizeof id, "c%d", sent++);
            s_send (client, "job", id, 0);
        }
        //  Crash the victim once the load is steady and requests are queued behind it
        if (!crashed && answered >= 40
        && (s_status_num (fx, "job", "queued") > 0 || answered >= 120)) {
            assert_int_equal (zstr_send (wa, "CRASH"), 0);
            assert_int_equal (zsock_wait (wa), 0);
            crashed = true;
        }
        bool final;
        td_error_t err;
        td_msg_t *reply = td_client_recv (client, 3000, &final, &err);
        assert_non_null (reply);        //  nothing hangs
        assert_true (final);
        int status = td_msg_status (reply);
        if (status == 200)
            ok++;
        else {
            assert_int_equal (status, 503);
            assert_int_equal (td_msg_error (reply), TD_ERR_UNAVAILABLE);
            assert_non_null (strstr (td_msg_error_message (reply), "heartbeat"));
            unavailable++;
        }
        answered++;
        td_msg_destroy (&reply);
    }
    assert_true (zclock_mono () - start < 20000);
    assert_int_equal (ok + unavailable, total);
    assert_true (unavailable >= 1);     //  the victim held some when it died
    assert_true (unavailable <= 4);     //  only what the victim held; the queue survived
    s_wait_workers (fx, "job", 1, 2000);
    //  Now everything goes to the survivor
    for (int i = 0; i < 20; i++) {
        td_msg_t *reply = s_call (client, "job", "after", 3000);
        assert_non_null (reply);
        assert_int_equal (td_msg_status (reply), 200);
        char buf [16];
        assert_string_equal (s_body_str (reply, "worker", buf, sizeof buf), "survivor");
        td_msg_destroy (&reply);
    }
    td_client_destroy (&client);
    zactor_destroy (&wa);
    zactor_destroy (&wb);
    s_fixture_destroy (&fx);
}

static void test_crash_inproc (void **state) { (void) state; s_crash (false); }
static void test_crash_tcp (void **state) { (void) state; s_crash (true); }

static void
s_no_worker (bool tcp)
{
    fixture_t *fx = s_fixture (tcp, 0);
    td_client_t *client = td_client_new (fx->requests);
    //  warm up the connection
    td_msg_t *reply = s_call (client, "broker", "ping", 2000);
    assert_non_null (reply);
    td_msg_destroy (&reply);
    int64_t start = zclock_mono ();
    reply = s_call (client, "nobody", "anything", 5000);
    int64_t took = zclock_mono () - start;
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 503);
    assert_int_equal (td_msg_error (reply), TD_ERR_UNAVAILABLE);
    assert_true (took < 100);
    td_msg_destroy (&reply);
    td_client_destroy (&client);
    s_fixture_destroy (&fx);
}

static void test_no_worker_inproc (void **state) { (void) state; s_no_worker (false); }
static void test_no_worker_tcp (void **state) { (void) state; s_no_worker (true); }

//  A worker sits on a request past its deadline: the broker answers 504; the late reply is
//  dropped and the next request is served normally.
static void
test_deadline (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (false, 0);
    worker_args_t wa = { fx->requests, "sit", "sitter", 4, MODE_SIT, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "sit", 1, 2000);
    td_client_t *client = td_client_new (fx->requests);
    int64_t start = zclock_mono ();
    s_send (client, "sit", "late-1", td_now_ms () + 200);
    bool final;
    td_error_t err;
    td_msg_t *reply = td_client_recv (client, 2000, &final, &err);
    int64_t took = zclock_mono () - start;
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 504);
    assert_int_equal (td_msg_error (reply), TD_ERR_TIMEOUT);
    assert_string_equal (td_msg_id (reply), "late-1");
    assert_true (took >= 150 && took < 600);
    td_msg_destroy (&reply);
    assert_int_equal (s_status_num (fx, "sit", "inflight"), 0);
    //  The worker answers now: dropped by the broker
    assert_int_equal (zstr_send (worker, "FLUSH"), 0);
    assert_int_equal (zsock_wait (worker), 0);
    reply = td_client_recv (client, 300, &final, &err);
    assert_null (reply);
    assert_int_equal (err.code, TD_ERR_TIMEOUT);
    assert_int_equal (s_status_num (fx, NULL, "late"), 1);
    assert_int_equal (s_status_num (fx, NULL, "timeouts"), 1);

    //  td_client_call against a sitting worker ends in time with the broker's 504
    start = zclock_mono ();
    reply = s_call (client, "sit", "slow", 250);
    took = zclock_mono () - start;
    if (reply) {
        assert_int_equal (td_msg_status (reply), 504);
        td_msg_destroy (&reply);
    }
    assert_true (took < 400);
    //  An already-expired deadline is answered 504 at once
    s_send (client, "sit", "dead-on-arrival", td_now_ms () - 10);
    reply = td_client_recv (client, 500, &final, &err);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 504);
    td_msg_destroy (&reply);

    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

//  Queue limit: one worker of capacity 1 sitting, limit 5 -> the 7th request is refused 503.
static void
test_queue_limit (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (false, 5);
    worker_args_t wa = { fx->requests, "sit", "sitter", 1, MODE_SIT, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "sit", 1, 2000);
    td_client_t *client = td_client_new (fx->requests);
    for (int i = 0; i < 7; i++) {
        char id [16];
        snprintf (id, sizeof id, "q%d", i);
        s_send (client, "sit", id, 0);
    }
    bool final;
    td_error_t err;
    td_msg_t *reply = td_client_recv (client, 1000, &final, &err);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 503);
    assert_string_equal (td_msg_id (reply), "q6");
    td_msg_destroy (&reply);
    assert_int_equal (s_status_num (fx, "sit", "queued"), 5);
    assert_int_equal (s_status_num (fx, "sit", "inflight"), 1);
    //  Flush repeatedly: each flush answers the one in flight, the next is dispatched
    int got = 0;
    int64_t end = zclock_mono () + 3000;
    while (got < 6 && zclock_mono () < end) {
        assert_int_equal (zstr_send (worker, "FLUSH"), 0);
        assert_int_equal (zsock_wait (worker), 0);
        while ((reply = td_client_recv (client, 20, &final, &err))) {
            assert_int_equal (td_msg_status (reply), 200);
            char id [16];
            snprintf (id, sizeof id, "q%d", got);
            assert_string_equal (td_msg_id (reply), id);      //  FIFO
            got++;
            td_msg_destroy (&reply);
        }
    }
    assert_int_equal (got, 6);
    assert_true (s_worker_int (worker, "MAX") == 1);
    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

//  The next client reply on a raw DEALER, skipping DISCONNECTs the broker sent to the same
//  socket for its worker garbage. The reply must be ["TDC1" 0x03 service][reply] or merged
//  ["TDC1" 0x83 len service reply] (checked byte by byte, not with td_wire_read); it is
//  returned split, [header][reply], and *merged (when not NULL) says which layout came.
static zmsg_t *
s_recv_reply (zsock_t *sock, const char *service, bool *merged)
{
    size_t size = strlen (service);
    while (true) {
        zmsg_t *msg = zmsg_recv (sock);
        assert_non_null (msg);
        zframe_t *head = zmsg_first (msg);
        if (zmsg_size (msg) == 2) {
            assert_int_equal (zframe_size (head), 5 + size);
            assert_memory_equal (zframe_data (head), "TDC1\x03", 5);
            assert_memory_equal (zframe_data (head) + 5, service, size);
            if (merged)
                *merged = false;
            return msg;
        }
        assert_int_equal (zmsg_size (msg), 1);
        if (zframe_size (head) > 5 && memcmp (zframe_data (head), "TDC1\x83", 5) == 0) {
            const byte *data = zframe_data (head);
            assert_int_equal (data [5], size);
            assert_true (zframe_size (head) > 6 + size);
            assert_memory_equal (data + 6, service, size);
            zmsg_t *split = zmsg_new ();
            assert_non_null (split);
            byte split_head [5 + 64];
            memcpy (split_head, "TDC1\x03", 5);
            memcpy (split_head + 5, service, size);
            assert_int_equal (zmsg_addmem (split, split_head, 5 + size), 0);
            assert_int_equal (zmsg_addmem (split, data + 6 + size, zframe_size (head) - 6 - size), 0);
            zmsg_destroy (&msg);
            if (merged)
                *merged = true;
            return split;
        }
        assert_true (zframe_size (head) == 5 && memcmp (zframe_data (head), "TDW1\x06", 5) == 0);
        zmsg_destroy (&msg);
    }
}

static void
s_sendv (zsock_t *sock, int n, ...)
{
    va_list ap;
    va_start (ap, n);
    for (int i = 0; i < n; i++) {
        const void *data = va_arg (ap, const void *);
        size_t size = va_arg (ap, size_t);
        int rc = zmq_send (zsock_resolve (sock), data, size, i < n - 1? ZMQ_SNDMORE: 0);
        assert_true (rc >= 0);
    }
    va_end (ap);
}

//  A header frame written byte by byte (not with td_wire_head, so the test checks the layout):
//  name, command, argument.
static size_t
s_head (byte *head, const char *name, byte cmd, const void *arg, size_t size)
{
    memcpy (head, name, 4);
    head [4] = cmd;
    memcpy (head + 5, arg, size);
    return 5 + size;
}

//  Wait until the broker's invalid count reaches n (it handles a peer's messages in order, but
//  two peers' in any order).
static long
s_wait_invalid (fixture_t *fx, long n, int ms)
{
    long invalid = s_status_num (fx, NULL, "invalid");
    for (int waited = 0; invalid < n && waited < ms; waited += 10) {
        zclock_sleep (10);
        invalid = s_status_num (fx, NULL, "invalid");
    }
    return invalid;
}

//  Decode the reply in the last frame of answer and check its status and id.
static void
s_check_answer (zmsg_t **answer_p, int status, const char *id)
{
    zframe_t *last = zmsg_last (*answer_p);
    td_error_t err;
    td_msg_t *reply = td_msg_decode (TD_MSG_REPLY, zframe_data (last), zframe_size (last), &err);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), status);
    assert_string_equal (td_msg_id (reply), id);
    td_msg_destroy (&reply);
    zmsg_destroy (answer_p);
}

//  Garbage from a fake client and a fake worker never stops the broker; every piece of it is
//  counted as invalid (I7), and requests that carry an id get their 400.
static void
s_malformed (bool tcp)
{
    fixture_t *fx = s_fixture (tcp, 0);
    worker_args_t wa = { fx->requests, "echo", "w1", 0, MODE_ECHO, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "echo", 1, 2000);
    long invalid0 = s_status_num (fx, NULL, "invalid");
    long expect = 0;                //  invalid messages sent so far

    zsock_t *bad = zsock_new (ZMQ_DEALER);
    assert_non_null (bad);
    assert_int_equal (zsock_connect (bad, "%s", fx->requests), 0);
    zsock_set_rcvtimeo (bad, 2000);
    char long_name [66];
    memset (long_name, 'a', 65);
    long_name [65] = 0;
    byte head [128];
    size_t hs;

    //  Client garbage: header frames too short, of another name, the old layout, commands a
    //  client may not send, bad service names, wrong frame counts, bad msgpack
    s_sendv (bad, 1, "x", (size_t) 1);                                          expect++;
    s_sendv (bad, 1, "", (size_t) 0);                                           expect++;
    s_sendv (bad, 1, "TDC1", (size_t) 4);                                       expect++;
    s_sendv (bad, 2, "TDC1", (size_t) 4, "\x80", (size_t) 1);                   expect++;
    s_sendv (bad, 3, "TDC1", (size_t) 4, "echo", (size_t) 4, "\x80", (size_t) 1);  expect++;  //  old
    s_sendv (bad, 2, "TDX1\x01" "echo", (size_t) 9, "\x80", (size_t) 1);        expect++;
    s_sendv (bad, 2, "tdc1\x01" "echo", (size_t) 9, "\x80", (size_t) 1);        expect++;
    s_sendv (bad, 1, "TDC1\x01" "echo", (size_t) 9);                            expect++;
    s_sendv (bad, 2, "TDC1\x02" "echo", (size_t) 9, "\x80", (size_t) 1);        expect++;
    s_sendv (bad, 2, "TDC1\x03" "echo", (size_t) 9, "\x80", (size_t) 1);        expect++;
    s_sendv (bad, 2, "TDC1\x00" "echo", (size_t) 9, "\x80", (size_t) 1);        expect++;
    s_sendv (bad, 2, "TDC1\xff" "echo", (size_t) 9, "\x80", (size_t) 1);        expect++;
    s_sendv (bad, 2, "TDC1\x01" "echo", (size_t) 9, "\x85\xa1v", (size_t) 3);   expect++;  //  truncated
    s_sendv (bad, 2, "TDC1\x01" "echo", (size_t) 9, "\xc1", (size_t) 1);        expect++;  //  never used
    s_sendv (bad, 2, "TDC1\x01" "echo", (size_t) 9, "", (size_t) 0);            expect++;
    s_sendv (bad, 2, "TDC1\x01", (size_t) 5, "", (size_t) 0);                   expect++;  //  no service
    hs = s_head (head, "TDC1", 0x01, long_name, 65);
    s_sendv (bad, 2, head, hs, "\x80", (size_t) 1);                             expect++;  //  65 bytes
    s_sendv (bad, 2, "TDC1\x01" "ec\0o", (size_t) 9, "\x80", (size_t) 1);       expect++;  //  NUL
    s_sendv (bad, 3, "TDC1\x01" "echo", (size_t) 9, "\x80", (size_t) 1, "x", (size_t) 1);  expect++;
    s_sendv (bad, 4, "TDC1\x01" "echo", (size_t) 9, "a", (size_t) 1, "b", (size_t) 1, "c", (size_t) 1);
    expect++;
    //  20 frames
    for (int i = 0; i < 19; i++)
        assert_true (zmq_send (zsock_resolve (bad), "f", 1, ZMQ_SNDMORE) >= 0);
    assert_true (zmq_send (zsock_resolve (bad), "f", 1, 0) >= 0);
    expect++;

    //  Worker garbage from a peer that never READY'd: header too short, READY without its
    //  payload or with bad service names, unknown commands (each also answered DISCONNECT)
    s_sendv (bad, 1, "TDW1", (size_t) 4);                                       expect++;
    s_sendv (bad, 2, "TDW1", (size_t) 4, "\x01", (size_t) 1);                   expect++;  //  old
    s_sendv (bad, 1, "TDW1\x01" "ok", (size_t) 7);                              expect++;
    s_sendv (bad, 3, "TDW1\x01" "ok", (size_t) 7, "\x80", (size_t) 1, "x", (size_t) 1);  expect++;
    s_sendv (bad, 2, "TDW1\x01", (size_t) 5, "\x80", (size_t) 1);               expect++;
    s_sendv (bad, 2, "TDW1\x01" "BAD NAME", (size_t) 13, "\x80", (size_t) 1);   expect++;
    s_sendv (bad, 2, "TDW1\x01" "broker", (size_t) 11, "\x80", (size_t) 1);     expect++;
    s_sendv (bad, 2, "TDW1\x01\x02", (size_t) 6, "\x80", (size_t) 1);           expect++;
    hs = s_head (head, "TDW1", TD_W_READY, long_name, 65);
    s_sendv (bad, 2, head, hs, "\x80", (size_t) 1);                             expect++;
    s_sendv (bad, 2, "TDW1\x01" "ok", (size_t) 7, "\xc1", (size_t) 1);          expect++;  //  bad map
    s_sendv (bad, 1, "TDW1\x7f", (size_t) 5);                                   expect++;
    s_sendv (bad, 1, "TDW1\x00", (size_t) 5);                                   expect++;
    //  Not invalid, only DISCONNECTed: an unknown worker's reply or heartbeat (broker restart)
    s_sendv (bad, 2, "TDW1\x04" "12345678", (size_t) 13, "x", (size_t) 1);
    s_sendv (bad, 1, "TDW1\x05", (size_t) 5);
    s_sendv (bad, 1, "TDW1\x06", (size_t) 5);

    //  A request that is msgpack but not a valid request, with an id: 400 to that id
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    assert_int_equal (msgpack_pack_map (&pk, 2), 0);
    assert_int_equal (td_mp_pack_kv_str (&pk, "id", "bad-1"), 0);
    assert_int_equal (td_mp_pack_kv_int (&pk, "v", 99), 0);
    s_sendv (bad, 2, "TDC1\x01" "echo", (size_t) 9, buf.data, buf.size);        expect++;
    zmsg_t *answer = s_recv_reply (bad, "echo", NULL);
    s_check_answer (&answer, 400, "bad-1");
    //  A valid request under an invalid, an empty or an oversized service name: 400 too
    msgpack_sbuffer_clear (&buf);
    td_error_t err;
    td_request_spec_t spec = { .id = "bad-2", .type = "x" };
    assert_int_equal (td_request_pack (&buf, &spec, &err), 0);
    s_sendv (bad, 2, "TDC1\x01" "No Such!", (size_t) 13, buf.data, buf.size);   expect++;
    answer = s_recv_reply (bad, "-", NULL);
    s_check_answer (&answer, 400, "bad-2");
    s_sendv (bad, 2, "TDC1\x01", (size_t) 5, buf.data, buf.size);               expect++;
    answer = s_recv_reply (bad, "-", NULL);
    s_check_answer (&answer, 400, "bad-2");
    hs = s_head (head, "TDC1", TD_C_REQUEST, long_name, 65);
    s_sendv (bad, 2, head, hs, buf.data, buf.size);                             expect++;
    answer = s_recv_reply (bad, "-", NULL);
    s_check_answer (&answer, 400, "bad-2");
    //  The longest service name is fine: nobody serves it, so 503 under that name
    hs = s_head (head, "TDC1", TD_C_REQUEST, long_name, 64);
    long_name [64] = 0;
    s_sendv (bad, 2, head, hs, buf.data, buf.size);
    answer = s_recv_reply (bad, long_name, NULL);
    s_check_answer (&answer, 503, "bad-2");
    msgpack_sbuffer_destroy (&buf);
    //  The replies above prove the broker read everything bad sent before them
    assert_int_equal (s_wait_invalid (fx, invalid0 + expect, 2000), invalid0 + expect);

    //  A fake worker registers, then sends replies with bogus tickets and junk commands
    zsock_t *fake = zsock_new (ZMQ_DEALER);
    assert_non_null (fake);
    assert_int_equal (zsock_connect (fake, "%s", fx->requests), 0);
    s_sendv (fake, 2, "TDW1\x01" "fake", (size_t) 9, "\x80", (size_t) 1);
    s_wait_workers (fx, "fake", 1, 2000);
    s_sendv (fake, 2, "TDW1\x04\xff\xff\xff\xff\xff\xff\xff\xff", (size_t) 13, "x", (size_t) 1);
    expect++;
    s_sendv (fake, 2, "TDW1\x03\xff\xff\xff\xff\xff\xff\xff\xff", (size_t) 13, "x", (size_t) 1);
    expect++;
    s_sendv (fake, 2, "TDW1\x04" "short", (size_t) 10, "x", (size_t) 1);      expect++;
    s_sendv (fake, 2, "TDW1\x04" "123456789", (size_t) 14, "x", (size_t) 1);  expect++;
    s_sendv (fake, 2, "TDW1\x04", (size_t) 5, "x", (size_t) 1);               expect++;
    s_sendv (fake, 1, "TDW1\x04" "12345678", (size_t) 13);                    expect++;
    s_sendv (fake, 3, "TDW1\x04" "12345678", (size_t) 13, "x", (size_t) 1, "y", (size_t) 1);
    expect++;
    s_sendv (fake, 2, "TDW1\x05", (size_t) 5, "extra", (size_t) 5);           expect++;
    s_sendv (fake, 1, "TDW1\x05" "zz", (size_t) 7);                           expect++;
    s_sendv (fake, 1, "TDW1\x7f", (size_t) 5);                                expect++;
    s_sendv (fake, 1, "TDW1", (size_t) 4);                                    expect++;
    s_sendv (fake, 1, "TDW1\x05", (size_t) 5);      //  a good heartbeat
    assert_int_equal (s_wait_invalid (fx, invalid0 + expect, 2000), invalid0 + expect);
    //  None of it unregistered the fake worker
    assert_int_equal (s_status_num (fx, "fake", "workers"), 1);

    //  Huge (over TD_MAX_MESSAGE): tcp peers get cut off by libzmq, inproc is refused by decode
    size_t huge_size = TD_MAX_MESSAGE + 1024;
    char *huge = (char *) calloc (1, huge_size);
    assert_non_null (huge);
    s_sendv (bad, 2, "TDC1\x01" "echo", (size_t) 9, huge, huge_size);
    free (huge);

    //  The broker still serves
    td_client_t *client = td_client_new (fx->requests);
    for (int i = 0; i < 5; i++) {
        td_msg_t *reply = s_call (client, "echo", "still", 2000);
        assert_non_null (reply);
        assert_int_equal (td_msg_status (reply), 200);
        td_msg_destroy (&reply);
    }
    assert_true (s_status_num (fx, NULL, "invalid") >= invalid0 + expect);
    td_client_destroy (&client);
    zsock_destroy (&fake);
    zsock_destroy (&bad);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

static void test_malformed_inproc (void **state) { (void) state; s_malformed (false); }
static void test_malformed_tcp (void **state) { (void) state; s_malformed (true); }

//  A merged message written byte by byte (not with td_wire_merged, so the test checks the
//  layout): name, command | 0x80, argument length, argument, body.
static size_t
s_merged (byte *frame, const char *name, byte cmd, const void *arg, size_t arg_size,
          const void *body, size_t body_size)
{
    memcpy (frame, name, 4);
    frame [4] = cmd | TD_WIRE_MERGED;
    frame [5] = (byte) arg_size;
    memcpy (frame + 6, arg, arg_size);
    memcpy (frame + 6 + arg_size, body, body_size);
    return 6 + arg_size + body_size;
}

//  A packed request with this id (and an optional bin body of body_size bytes) into buf.
static void
s_pack_request (msgpack_sbuffer *buf, const char *id, size_t body_size)
{
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    td_request_spec_t spec = { .id = id, .type = "t" };
    if (body_size) {
        char *bytes = (char *) calloc (1, body_size);
        assert_non_null (bytes);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
        assert_int_equal (msgpack_pack_bin (&pk, body_size), 0);
        assert_int_equal (msgpack_pack_bin_body (&pk, bytes, body_size), 0);
        free (bytes);
        spec.body = body.data;
        spec.body_size = body.size;
    }
    td_error_t err;
    msgpack_sbuffer_clear (buf);
    assert_int_equal (td_request_pack (buf, &spec, &err), 0);
    msgpack_sbuffer_destroy (&body);
}

//  The next non-HEARTBEAT message to a fake worker; it sends HEARTBEATs while it waits, so the
//  broker (100 ms heartbeats) keeps it alive.
static zmsg_t *
s_fake_recv (zsock_t *fake)
{
    for (int waited = 0; waited < 3000; waited += 20) {
        assert_true (zmq_send (zsock_resolve (fake), "TDW1\x05", 5, 0) >= 0);
        zpoller_t *poller = zpoller_new (fake, NULL);
        assert_non_null (poller);
        bool readable = zpoller_wait (poller, 20) == fake;
        zpoller_destroy (&poller);
        if (!readable)
            continue;
        zmsg_t *msg = zmsg_recv (fake);
        assert_non_null (msg);
        zframe_t *head = zmsg_first (msg);
        if (zmsg_size (msg) == 1 && zframe_size (head) == 5
        &&  memcmp (zframe_data (head), "TDW1\x05", 5) == 0) {
            zmsg_destroy (&msg);
            continue;
        }
        return msg;
    }
    fail_msg ("the fake worker got nothing");
    return NULL;
}

//  A REQUEST to the fake worker in the layout expected: its ticket into ticket, its body
//  checked against the request sent (buf).
static void
s_fake_request (zsock_t *fake, bool merged, const msgpack_sbuffer *buf, byte *ticket)
{
    zmsg_t *msg = s_fake_recv (fake);
    zframe_t *head = zmsg_first (msg);
    const byte *data = zframe_data (head);
    if (merged) {
        assert_int_equal (zmsg_size (msg), 1);
        assert_int_equal (zframe_size (head), 6 + TD_TICKET_SIZE + buf->size);
        assert_memory_equal (data, "TDW1\x82\x08", 6);
        memcpy (ticket, data + 6, TD_TICKET_SIZE);
        assert_memory_equal (data + 6 + TD_TICKET_SIZE, buf->data, buf->size);
    }
    else {
        assert_int_equal (zmsg_size (msg), 2);
        assert_int_equal (zframe_size (head), 5 + TD_TICKET_SIZE);
        assert_memory_equal (data, "TDW1\x02", 5);
        memcpy (ticket, data + 5, TD_TICKET_SIZE);
        zframe_t *body = zmsg_next (msg);
        assert_int_equal (zframe_size (body), buf->size);
        assert_memory_equal (zframe_data (body), buf->data, buf->size);
    }
    zmsg_destroy (&msg);
}

//  Both layouts of td_wire.h through the real broker, from a raw client and a fake worker: a
//  split and a merged REQUEST are both answered, a merged READY registers, the broker forwards
//  each body in the layout it came in (small merged, large split, no matter the threshold on
//  the way back), and malformed merged frames (length at or past the end, no length byte,
//  trailing frames, a ticket of the wrong size, a HEARTBEAT with a body, a merged client
//  FINAL) are counted invalid and dropped while the broker keeps serving (I7).
static void
s_layouts (bool tcp)
{
    fixture_t *fx = s_fixture (tcp, 0);
    worker_args_t wa = { fx->requests, "echo", "w1", 0, MODE_ECHO, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "echo", 1, 2000);
    long invalid0 = s_status_num (fx, NULL, "invalid");
    long expect = 0;
    zsock_t *raw = zsock_new (ZMQ_DEALER);
    assert_non_null (raw);
    assert_int_equal (zsock_connect (raw, "%s", fx->requests), 0);
    zsock_set_rcvtimeo (raw, 2000);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    size_t big = td_wire_merge_max () + 4096;
    byte *frame = (byte *) malloc (big + 512);
    assert_non_null (frame);
    size_t fs;
    bool merged;

    //  Split and merged requests are both answered; the echo worker's small reply is merged
    s_pack_request (&buf, "split-1", 0);
    s_sendv (raw, 2, "TDC1\x01" "echo", (size_t) 9, buf.data, buf.size);
    zmsg_t *answer = s_recv_reply (raw, "echo", &merged);
    assert_true (merged);
    s_check_answer (&answer, 200, "split-1");
    s_pack_request (&buf, "merged-1", 0);
    fs = s_merged (frame, "TDC1", TD_C_REQUEST, "echo", 4, buf.data, buf.size);
    s_sendv (raw, 1, frame, fs);
    answer = s_recv_reply (raw, "echo", &merged);
    assert_true (merged);
    s_check_answer (&answer, 200, "merged-1");
    //  The broker's own answers are merged too (ping)
    td_request_spec_t ping = { .id = "ping-1", .type = "ping" };
    td_error_t err;
    msgpack_sbuffer_clear (&buf);
    assert_int_equal (td_request_pack (&buf, &ping, &err), 0);
    fs = s_merged (frame, "TDC1", TD_C_REQUEST, "broker", 6, buf.data, buf.size);
    s_sendv (raw, 1, frame, fs);
    answer = s_recv_reply (raw, "broker", &merged);
    assert_true (merged);
    s_check_answer (&answer, 200, "ping-1");

    //  Malformed merged client frames: counted and dropped, never answered
    s_pack_request (&buf, "bad-1", 0);
    fs = s_merged (frame, "TDC1", TD_C_REQUEST, "echo", 4, buf.data, buf.size);
    frame [5] = (byte) (4 + buf.size);                                  //  at the end: no body
    s_sendv (raw, 1, frame, fs);                                                expect++;
    frame [5] = 255;                                                    //  past the end
    s_sendv (raw, 1, frame, fs);                                                expect++;
    frame [5] = 4;
    s_sendv (raw, 1, "TDC1\x81", (size_t) 5);                          //  no length byte
    expect++;
    s_sendv (raw, 2, frame, fs, "x", (size_t) 1);                       //  a trailing frame
    expect++;
    s_sendv (raw, 3, frame, fs, "x", (size_t) 1, "y", (size_t) 1);      //  two
    expect++;
    s_sendv (raw, 2, frame, fs, buf.data, buf.size);                    //  a "body" after it
    expect++;
    fs = s_merged (frame, "TDC1", TD_C_FINAL, "echo", 4, buf.data, buf.size);
    s_sendv (raw, 1, frame, fs);                                        //  not a client's
    expect++;
    //  A merged request under a 65-byte service name is valid msgpack with an id: 400 as split
    char long_name [66];
    memset (long_name, 'a', 65);
    long_name [65] = 0;
    s_pack_request (&buf, "bad-2", 0);
    fs = s_merged (frame, "TDC1", TD_C_REQUEST, long_name, 65, buf.data, buf.size);
    s_sendv (raw, 1, frame, fs);                                                expect++;
    answer = s_recv_reply (raw, "-", NULL);
    s_check_answer (&answer, 400, "bad-2");
    //  Still serving, and every bad frame before this answer was counted
    s_pack_request (&buf, "after-bad", 0);
    fs = s_merged (frame, "TDC1", TD_C_REQUEST, "echo", 4, buf.data, buf.size);
    s_sendv (raw, 1, frame, fs);
    answer = s_recv_reply (raw, "echo", NULL);
    s_check_answer (&answer, 200, "after-bad");
    assert_int_equal (s_wait_invalid (fx, invalid0 + expect, 2000), invalid0 + expect);

    //  A fake worker registers with a merged READY
    zsock_t *fake = zsock_new (ZMQ_DEALER);
    assert_non_null (fake);
    assert_int_equal (zsock_connect (fake, "%s", fx->requests), 0);
    fs = s_merged (frame, "TDW1", TD_W_READY, "fake", 4, "\x80", 1);
    s_sendv (fake, 1, frame, fs);
    s_wait_workers (fx, "fake", 1, 2000);
    //  A merged request reaches it merged; bad merged replies are counted, the good one answers
    byte ticket [TD_TICKET_SIZE];
    s_pack_request (&buf, "to-fake-1", 0);
    fs = s_merged (frame, "TDC1", TD_C_REQUEST, "fake", 4, buf.data, buf.size);
    s_sendv (raw, 1, frame, fs);
    s_fake_request (fake, true, &buf, ticket);
    msgpack_sbuffer reply;
    msgpack_sbuffer_init (&reply);
    td_reply_spec_t rspec = { .id = "to-fake-1", .status = 200 };
    assert_int_equal (td_reply_pack (&reply, &rspec, &err), 0);
    fs = s_merged (frame, "TDW1", TD_W_FINAL, ticket, 5, reply.data, reply.size);
    s_sendv (fake, 1, frame, fs);                                       //  5-byte ticket
    expect++;
    fs = s_merged (frame, "TDW1", TD_W_FINAL, ticket, 8, reply.data, reply.size);
    frame [5] = 250;                                                    //  past the end
    s_sendv (fake, 1, frame, fs);                                               expect++;
    frame [5] = 8;
    s_sendv (fake, 2, frame, fs, "x", (size_t) 1);                      //  a trailing frame
    expect++;
    s_sendv (fake, 1, "TDW1\x85\x00x", (size_t) 7);                    //  HEARTBEAT + body
    expect++;
    s_sendv (fake, 1, frame, fs);                                       //  the good one
    answer = s_recv_reply (raw, "fake", &merged);
    assert_true (merged);
    s_check_answer (&answer, 200, "to-fake-1");
    assert_int_equal (s_wait_invalid (fx, invalid0 + expect, 2000), invalid0 + expect);
    assert_int_equal (s_status_num (fx, "fake", "workers"), 1);

    //  A split request reaches it split (the broker keeps the layout); a split reply too
    s_pack_request (&buf, "to-fake-2", 0);
    s_sendv (raw, 2, "TDC1\x01" "fake", (size_t) 9, buf.data, buf.size);
    s_fake_request (fake, false, &buf, ticket);
    rspec.id = "to-fake-2";
    msgpack_sbuffer_clear (&reply);
    assert_int_equal (td_reply_pack (&reply, &rspec, &err), 0);
    byte head [16];
    size_t hs = s_head (head, "TDW1", TD_W_FINAL, ticket, TD_TICKET_SIZE);
    s_sendv (fake, 2, head, hs, reply.data, reply.size);
    answer = s_recv_reply (raw, "fake", &merged);
    assert_false (merged);
    s_check_answer (&answer, 200, "to-fake-2");

    //  A large body goes through td_client split both ways, and still arrives whole
    td_client_t *client = td_client_new (fx->requests);
    assert_non_null (client);
    s_pack_request (&buf, "big-1", big);
    assert_true (buf.size > td_wire_merge_max ());
    assert_int_equal (td_client_send (client, "fake", buf.data, buf.size), 0);
    s_fake_request (fake, false, &buf, ticket);
    msgpack_sbuffer big_body;
    msgpack_sbuffer_init (&big_body);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &big_body, msgpack_sbuffer_write);
    assert_int_equal (msgpack_pack_bin (&pk, big), 0);
    assert_int_equal (msgpack_pack_bin_body (&pk, frame, big), 0);
    rspec.id = "big-1";
    rspec.body = big_body.data;
    rspec.body_size = big_body.size;
    msgpack_sbuffer_clear (&reply);
    assert_int_equal (td_reply_pack (&reply, &rspec, &err), 0);
    hs = s_head (head, "TDW1", TD_W_FINAL, ticket, TD_TICKET_SIZE);
    s_sendv (fake, 2, head, hs, reply.data, reply.size);
    bool final = false;
    td_msg_t *msg = td_client_recv (client, 2000, &final, &err);
    assert_non_null (msg);
    assert_true (final);
    assert_string_equal (td_msg_id (msg), "big-1");
    assert_int_equal (td_msg_status (msg), 200);
    assert_int_equal (td_msg_body (msg)->type, MSGPACK_OBJECT_BIN);
    assert_int_equal (td_msg_body (msg)->via.bin.size, big);
    td_msg_destroy (&msg);
    //  A large body merged by a peer is accepted all the same (any size may be merged)
    s_pack_request (&buf, "big-2", big);
    fs = s_merged (frame, "TDC1", TD_C_REQUEST, "echo", 4, buf.data, buf.size);
    s_sendv (raw, 1, frame, fs);
    answer = s_recv_reply (raw, "echo", NULL);
    s_check_answer (&answer, 200, "big-2");

    //  Nothing of the above wedged anything
    msg = s_call (client, "echo", "still", 2000);
    assert_non_null (msg);
    assert_int_equal (td_msg_status (msg), 200);
    td_msg_destroy (&msg);
    assert_int_equal (s_status_num (fx, NULL, "invalid"), invalid0 + expect);
    td_client_destroy (&client);
    msgpack_sbuffer_destroy (&big_body);
    msgpack_sbuffer_destroy (&reply);
    msgpack_sbuffer_destroy (&buf);
    free (frame);
    zsock_destroy (&fake);
    zsock_destroy (&raw);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

static void test_layouts_inproc (void **state) { (void) state; s_layouts (false); }
static void test_layouts_tcp (void **state) { (void) state; s_layouts (true); }

//  Thousands of random messages shaped like the protocol (right headers, random commands,
//  tickets, sizes and bytes) from one peer that also READY'd as a worker; then the broker must
//  still route a valid request and answer its own status.
static void
test_random_garbage (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (false, 0);
    worker_args_t wa = { fx->requests, "echo", "w1", 0, MODE_ECHO, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "echo", 1, 2000);
    zsock_t *chaos = zsock_new (ZMQ_DEALER);
    assert_non_null (chaos);
    zsock_set_sndhwm (chaos, 0);
    zsock_set_rcvhwm (chaos, 0);
    assert_int_equal (zsock_connect (chaos, "%s", fx->requests), 0);
    s_sendv (chaos, 2, "TDW1\x01" "chaos", (size_t) 10, "\x80", (size_t) 1);
    const char *heads [] = { "TDC1", "TDW1", "TDC", "", "TDW1\0" };
    const char *names [] = { "TDC1", "TDW1", "TDX1" };
    const size_t arg_sizes [] = { 0, 8, 4, 64, 65, 200 };
    byte buf [512];
    for (int i = 0; i < 5000; i++) {
        int frames = 1 + randof (4);
        for (int f = 0; f < frames; f++) {
            size_t size;
            const void *data = buf;
            if (f == 0 && randof (4) == 0) {
                int which = randof (5);
                data = heads [which];
                size = which == 4? 5: strlen (heads [which]);      //  "TDW1\0": 5 bytes
            }
            else
            if (f == 0) {
                //  A header frame: a name, a command 0..7, an argument of an interesting size
                memcpy (buf, names [randof (3)], 4);
                buf [4] = (byte) randof (8);
                size = 5 + arg_sizes [randof (6)];
                for (size_t b = 5; b < size; b++)
                    buf [b] = randof (2)? (byte) ('a' + randof (26)): (byte) randof (256);
                if (randof (2)) {
                    //  Merged: a length byte that is right, short, long or past the end
                    buf [4] |= TD_WIRE_MERGED;
                    if (size > 5)
                        buf [5] = (byte) (randof (4) == 0? randof (256)
                                                         : arg_sizes [randof (3)] );
                }
            }
            else {
                size = (size_t) randof (sizeof buf);
                for (size_t b = 0; b < size; b++)
                    buf [b] = (byte) randof (256);
                if (size > 0 && randof (2))
                    buf [0] = 0x80 | (byte) randof (16);      //  looks like a msgpack map
            }
            int rc = zmq_send (zsock_resolve (chaos), data, size, f < frames - 1? ZMQ_SNDMORE: 0);
            assert_true (rc >= 0);
        }
    }
    //  Whatever the broker answered the chaos peer, it still serves everyone else
    td_client_t *client = td_client_new (fx->requests);
    td_msg_t *reply = s_call (client, "echo", "after-chaos", 5000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 200);
    td_msg_destroy (&reply);
    reply = s_call (client, "broker", "status", 2000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 200);
    td_msg_destroy (&reply);
    assert_true (s_status_num (fx, NULL, "invalid") > 1000);
    td_client_destroy (&client);
    zsock_destroy (&chaos);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

//  A worker that stops answering (frozen thread) is dropped; its in-flight request gets 503;
//  when it wakes it reconnects and serves again.
static void
test_heartbeat_expiry (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (false, 0);
    worker_args_t wa = { fx->requests, "echo", "w1", 0, MODE_ECHO, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "echo", 1, 2000);
    td_client_t *client = td_client_new (fx->requests);
    assert_int_equal (zstr_send (worker, "FREEZE"), 0);
    assert_int_equal (zsock_wait (worker), 0);
    int64_t start = zclock_mono ();
    s_send (client, "echo", "frozen-1", 0);
    bool final;
    td_error_t err;
    td_msg_t *reply = td_client_recv (client, 3000, &final, &err);
    int64_t took = zclock_mono () - start;
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 503);
    assert_true (took < 3 * HB * 3);
    td_msg_destroy (&reply);
    assert_int_equal (s_status_num (fx, "echo", "workers"), 0);
    //  It thaws, finds itself unknown, reconnects
    s_wait_workers (fx, "echo", 1, 30 * HB);
    reply = s_call (client, "echo", "again", 2000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 200);
    td_msg_destroy (&reply);
    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

//  The broker restarts on the same endpoint; workers come back on their own.
static void
s_broker_restart (bool tcp)
{
    fixture_t *fx = s_fixture (tcp, 0);
    worker_args_t wa = { fx->requests, "echo", "w1", 0, MODE_ECHO, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "echo", 1, 2000);
    zactor_destroy (&fx->broker);
    zclock_sleep (HB);
    for (int attempt = 0; attempt < 20; attempt++) {
        s_broker_start (fx, 0);
        if (!s_ended (fx->broker, 30))
            break;
        zsock_set_rcvtimeo (zactor_sock (fx->broker), 500);
        zactor_destroy (&fx->broker);
        zclock_sleep (50);              //  the old listener may still be closing
    }
    assert_non_null (fx->broker);
    s_wait_workers (fx, "echo", 1, 30 * HB);
    td_client_t *client = td_client_new (fx->requests);
    td_msg_t *reply = s_call (client, "echo", "back", 2000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 200);
    td_msg_destroy (&reply);
    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

static void test_broker_restart_tcp (void **state) { (void) state; s_broker_restart (true); }
static void test_broker_restart_inproc (void **state) { (void) state; s_broker_restart (false); }

//  Partial replies reach the client in order, before the final.
static void
test_partials (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (true, 0);
    worker_args_t wa = { fx->requests, "llm", "streamer", 0, MODE_STREAM, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "llm", 1, 2000);
    td_client_t *client = td_client_new (fx->requests);
    s_send (client, "llm", "stream-1", 0);
    for (uint32_t seq = 0; seq < 3; seq++) {
        bool final = true;
        td_error_t err;
        td_msg_t *msg = td_client_recv (client, 2000, &final, &err);
        assert_non_null (msg);
        assert_false (final);
        assert_int_equal (td_msg_kind (msg), TD_MSG_PARTIAL);
        assert_int_equal (td_msg_seq (msg), seq);
        assert_string_equal (td_msg_id (msg), "stream-1");
        td_msg_destroy (&msg);
    }
    bool final = false;
    td_error_t err;
    td_msg_t *msg = td_client_recv (client, 2000, &final, &err);
    assert_non_null (msg);
    assert_true (final);
    assert_int_equal (td_msg_kind (msg), TD_MSG_REPLY);
    td_msg_destroy (&msg);
    //  td_client_call skips the partials
    msg = s_call (client, "llm", "again", 2000);
    assert_non_null (msg);
    assert_int_equal (td_msg_kind (msg), TD_MSG_REPLY);
    td_msg_destroy (&msg);
    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

//  Events published with td_events reach an XPUB subscriber, filtered by prefix.
static void
s_events (bool tcp)
{
    fixture_t *fx = s_fixture (tcp, 0);
    zsock_t *sub = zsock_new (ZMQ_SUB);
    assert_non_null (sub);
    zsock_set_subscribe (sub, "grade.");
    assert_int_equal (zsock_connect (sub, "%s", fx->events_out), 0);
    td_events_t *events = td_events_new (fx->events_in);
    assert_non_null (events);
    td_event_spec_t other = { .type = "srs.due", .source = "tutord/test" };
    td_event_spec_t spec = { .type = "grade.result", .source = "tutord/test", .user = "u1" };
    td_error_t err;
    zmsg_t *msg = NULL;
    //  PUB/SUB joins late: publish until the subscription has reached the publisher
    for (int i = 0; i < 100 && !msg; i++) {
        assert_int_equal (td_events_publish (events, &other, &err), 0);
        assert_int_equal (td_events_publish (events, &spec, &err), 0);
        zpoller_t *poller = zpoller_new (sub, NULL);
        if (zpoller_wait (poller, 50) == sub)
            msg = zmsg_recv (sub);
        zpoller_destroy (&poller);
    }
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 2);
    char *type = zmsg_popstr (msg);
    assert_string_equal (type, "grade.result");
    free (type);
    zframe_t *frame = zmsg_pop (msg);
    td_msg_t *event = td_msg_decode (TD_MSG_EVENT, zframe_data (frame), zframe_size (frame), &err);
    assert_non_null (event);
    assert_string_equal (td_msg_type (event), "grade.result");
    assert_string_equal (td_msg_user (event), "u1");
    td_msg_destroy (&event);
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
    //  A bad spec is refused
    td_event_spec_t bad = { .type = "NoDot", .source = "tutord/test" };
    assert_int_equal (td_events_publish (events, &bad, &err), -1);
    td_events_destroy (&events);
    zsock_destroy (&sub);
    s_fixture_destroy (&fx);
}

static void test_events_inproc (void **state) { (void) state; s_events (false); }
static void test_events_tcp (void **state) { (void) state; s_events (true); }

//  Receive one event from sub within ms: its type (caller frees), or NULL.
static char *
s_recv_type (zsock_t *sub, int ms)
{
    zpoller_t *poller = zpoller_new (sub, NULL);
    assert_non_null (poller);
    char *type = NULL;
    if (zpoller_wait (poller, ms) == sub) {
        zmsg_t *msg = zmsg_recv (sub);
        assert_non_null (msg);
        assert_int_equal (zmsg_size (msg), 2);
        type = zmsg_popstr (msg);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return type;
}

//  The local event path (td_config_events_direct): this process's publishers have an XSUB of
//  their own, whose events reach the XPUB only (the web bridge has them from the publishers
//  directly); other processes' events reach the XPUB and the remote-only XPUB. Each XPUB's
//  subscriptions reach the publishers that feed it, and nothing reaches a subscriber twice.
static void
test_events_local_and_remote (void **state)
{
    (void) state;
    fixture_t *fx = (fixture_t *) calloc (1, sizeof (fixture_t));
    assert_non_null (fx);
    char local_in [128], local_bind [160], remote_out [128], remote_bind [160];
    s_endpoint (false, fx->requests, sizeof fx->requests, fx->bind, sizeof fx->bind);
    s_endpoint (false, fx->events_in, sizeof fx->events_in, fx->events_in_bind, sizeof fx->events_in_bind);
    s_endpoint (false, fx->events_out, sizeof fx->events_out, fx->events_out_bind, sizeof fx->events_out_bind);
    s_endpoint (false, local_in, sizeof local_in, local_bind, sizeof local_bind);
    s_endpoint (false, remote_out, sizeof remote_out, remote_bind, sizeof remote_bind);
    fx->args.events_local_in = local_bind;
    fx->args.events_remote_out = remote_bind;
    s_broker_start (fx, 0);
    assert_false (s_ended (fx->broker, 30));

    zsock_t *all = zsock_new_sub (fx->events_out, "grade.");        //  analysts, analytics
    zsock_t *remote = zsock_new_sub (remote_out, "grade.");         //  the web bridge
    assert_non_null (all);
    assert_non_null (remote);
    zsock_set_subscribe (remote, "srs.");                           //  only the bridge wants srs.
    td_events_t *here = td_events_new (local_in);                   //  this process's actor
    td_events_t *there = td_events_new (fx->events_in);             //  another process's
    assert_non_null (here);
    assert_non_null (there);
    td_event_spec_t local = { .type = "grade.local", .source = "tutord/test" };
    td_event_spec_t far = { .type = "grade.remote", .source = "tutord/test" };
    td_event_spec_t srs_local = { .type = "srs.local", .source = "tutord/test" };
    td_event_spec_t srs_far = { .type = "srs.remote", .source = "tutord/test" };
    td_error_t err;
    //  PUB/SUB joins late: publish until each subscription has reached each publisher
    bool all_local = false, all_far = false, remote_far = false, remote_srs = false;
    for (int i = 0; i < 200 && !(all_local && all_far && remote_far && remote_srs); i++) {
        assert_int_equal (td_events_publish (here, &local, &err), 0);
        assert_int_equal (td_events_publish (there, &far, &err), 0);
        assert_int_equal (td_events_publish (there, &srs_far, &err), 0);
        char *type;
        while ((type = s_recv_type (all, 10))) {
            all_local |= strcmp (type, "grade.local") == 0;
            all_far |= strcmp (type, "grade.remote") == 0;
            assert_true (strncmp (type, "grade.", 6) == 0);
            free (type);
        }
        while ((type = s_recv_type (remote, 10))) {
            assert_string_not_equal (type, "grade.local");      //  never this process's own
            remote_far |= strcmp (type, "grade.remote") == 0;
            remote_srs |= strcmp (type, "srs.remote") == 0;
            free (type);
        }
    }
    assert_true (all_local && all_far && remote_far && remote_srs);
    //  Now every subscription is in place: a counted burst arrives exactly as expected
    for (int i = 0; i < 50; i++) {
        assert_int_equal (td_events_publish (here, &local, &err), 0);
        assert_int_equal (td_events_publish (here, &srs_local, &err), 0);
        assert_int_equal (td_events_publish (there, &far, &err), 0);
        assert_int_equal (td_events_publish (there, &srs_far, &err), 0);
    }
    int n_all_local = 0, n_all_far = 0, n_remote_far = 0, n_remote_srs = 0;
    char *type;
    while ((type = s_recv_type (all, 300))) {
        n_all_local += strcmp (type, "grade.local") == 0;
        n_all_far += strcmp (type, "grade.remote") == 0;
        assert_true (strncmp (type, "grade.", 6) == 0);
        free (type);
    }
    while ((type = s_recv_type (remote, 300))) {
        n_remote_far += strcmp (type, "grade.remote") == 0;
        n_remote_srs += strcmp (type, "srs.remote") == 0;
        assert_true (strcmp (type, "grade.remote") == 0 || strcmp (type, "srs.remote") == 0);
        free (type);
    }
    assert_int_equal (n_all_local, 50);
    assert_int_equal (n_all_far, 50);
    assert_int_equal (n_remote_far, 50);
    assert_int_equal (n_remote_srs, 50);
    td_events_destroy (&here);
    td_events_destroy (&there);
    zsock_destroy (&all);
    zsock_destroy (&remote);
    s_fixture_destroy (&fx);
}

//  td_events_new takes a list: one PUB, several endpoints (the local event path's publishers)
static void
test_events_endpoint_list (void **state)
{
    (void) state;
    char a [128], a_bind [160], b [128], b_bind [160];
    s_endpoint (false, a, sizeof a, a_bind, sizeof a_bind);
    s_endpoint (false, b, sizeof b, b_bind, sizeof b_bind);
    zsock_t *sa = zsock_new_sub (a_bind, "");
    zsock_t *sb = zsock_new_sub (b_bind, "");
    assert_non_null (sa);
    assert_non_null (sb);
    char list [300];
    snprintf (list, sizeof list, "%s,%s", a, b);
    td_events_t *events = td_events_new (list);
    assert_non_null (events);
    td_event_spec_t spec = { .type = "grade.result", .source = "tutord/test" };
    td_error_t err;
    bool got_a = false, got_b = false;
    for (int i = 0; i < 100 && !(got_a && got_b); i++) {
        assert_int_equal (td_events_publish (events, &spec, &err), 0);
        char *type;
        while ((type = s_recv_type (sa, 10))) {
            got_a = true;
            free (type);
        }
        while ((type = s_recv_type (sb, 10))) {
            got_b = true;
            free (type);
        }
    }
    assert_true (got_a && got_b);
    td_events_destroy (&events);
    assert_null (td_events_new ("nonsense://x"));
    zsock_destroy (&sa);
    zsock_destroy (&sb);
}

//  DRAIN: new requests are refused, in-flight ones finish, the answer counts what is left.
static void
test_drain (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (false, 0);
    worker_args_t wa = { fx->requests, "slow", "w1", 0, MODE_DELAY, 100 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "slow", 1, 2000);
    td_client_t *client = td_client_new (fx->requests);
    s_send (client, "slow", "d1", 0);
    zclock_sleep (20);
    assert_int_equal (zstr_sendx (fx->broker, "DRAIN", "2000", NULL), 0);
    int left = -1;
    assert_int_equal (zsock_recv (fx->broker, "i", &left), 0);
    assert_int_equal (left, 0);
    bool final;
    td_error_t err;
    td_msg_t *reply = td_client_recv (client, 500, &final, &err);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 200);
    td_msg_destroy (&reply);
    reply = s_call (client, "slow", "after-drain", 1000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 503);
    td_msg_destroy (&reply);
    //  DRAIN with work that will not finish in time reports it
    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

//  DRAIN with work that will not finish in time reports what is left, after about ms.
static void
test_drain_timeout (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (false, 0);
    worker_args_t wa = { fx->requests, "sit", "sitter", 1, MODE_SIT, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "sit", 1, 2000);
    td_client_t *client = td_client_new (fx->requests);
    s_send (client, "sit", "s1", 0);
    s_send (client, "sit", "s2", 0);
    zclock_sleep (30);
    int64_t start = zclock_mono ();
    assert_int_equal (zstr_sendx (fx->broker, "DRAIN", "150", NULL), 0);
    int left = -1;
    assert_int_equal (zsock_recv (fx->broker, "i", &left), 0);
    int64_t took = zclock_mono () - start;
    assert_int_equal (left, 2);
    assert_true (took >= 140 && took < 1000);
    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

//  Broker shutdown answers what it holds: nothing is left hanging.
static void
test_shutdown_answers (void **state)
{
    (void) state;
    fixture_t *fx = s_fixture (false, 0);
    worker_args_t wa = { fx->requests, "sit", "sitter", 1, MODE_SIT, 0 };
    zactor_t *worker = s_worker (&wa);
    s_wait_workers (fx, "sit", 1, 2000);
    td_client_t *client = td_client_new (fx->requests);
    s_send (client, "sit", "h1", 0);
    s_send (client, "sit", "h2", 0);
    zclock_sleep (50);
    zactor_destroy (&fx->broker);
    for (int i = 0; i < 2; i++) {
        bool final;
        td_error_t err;
        td_msg_t *reply = td_client_recv (client, 1000, &final, &err);
        assert_non_null (reply);
        assert_int_equal (td_msg_status (reply), 503);
        td_msg_destroy (&reply);
    }
    td_client_destroy (&client);
    zactor_destroy (&worker);
    s_fixture_destroy (&fx);
}

//  The next message a fake broker's ROUTER receives from the worker: [identity][one frame]
//  (merged) or [identity][head][body]; returns the body of a message whose header is
//  name+cmd+arg in the expected layout (checked byte by byte).
static zframe_t *
s_router_expect (zsock_t *router, zframe_t **identity, bool merged, byte cmd, const void *arg,
                 size_t arg_size)
{
    zmsg_t *msg = zmsg_recv (router);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), merged? 2: 3);
    *identity = zmsg_pop (msg);
    zframe_t *head = zmsg_pop (msg);
    const byte *data = zframe_data (head);
    zframe_t *body;
    assert_memory_equal (data, "TDW1", 4);
    if (merged) {
        assert_int_equal (data [4], cmd | TD_WIRE_MERGED);
        assert_int_equal (data [5], arg_size);
        assert_true (zframe_size (head) > 6 + arg_size);
        assert_memory_equal (data + 6, arg, arg_size);
        body = zframe_new (data + 6 + arg_size, zframe_size (head) - 6 - arg_size);
    }
    else {
        assert_int_equal (zframe_size (head), 5 + arg_size);
        assert_int_equal (data [4], cmd);
        assert_memory_equal (data + 5, arg, arg_size);
        body = zmsg_pop (msg);
    }
    zframe_destroy (&head);
    zmsg_destroy (&msg);
    assert_non_null (body);
    return body;
}

//  Send [identity][frames...] from a fake broker's ROUTER.
static void
s_router_sendv (zsock_t *router, zframe_t *identity, int n, ...)
{
    va_list ap;
    va_start (ap, n);
    assert_true (zmq_send (zsock_resolve (router), zframe_data (identity), zframe_size (identity),
                           ZMQ_SNDMORE) >= 0);
    for (int i = 0; i < n; i++) {
        const void *data = va_arg (ap, const void *);
        size_t size = va_arg (ap, size_t);
        assert_true (zmq_send (zsock_resolve (router), data, size, i < n - 1? ZMQ_SNDMORE: 0) >= 0);
    }
    va_end (ap);
}

//  True when the worker's socket turns readable within ms and td_worker_recv then gives a job;
//  the job is returned in *job_p.
static bool
s_worker_job (td_worker_t *w, int ms, td_job_t **job_p)
{
    zpoller_t *poller = zpoller_new (td_worker_sock (w), NULL);
    assert_non_null (poller);
    bool readable = zpoller_wait (poller, ms) == td_worker_sock (w);
    zpoller_destroy (&poller);
    *job_p = readable? td_worker_recv (w): NULL;
    return *job_p != NULL;
}

//  The worker side of both layouts against a fake broker: READY and FINAL are merged (small
//  bodies), a merged and a split REQUEST both become jobs and are answered, a large reply
//  still goes out split, and malformed merged frames (length past the end, no length byte,
//  extra frames, wrong ticket size) are dropped without a job or an answer.
static void
test_worker_layouts (void **state)
{
    (void) state;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert_non_null (router);
    zsock_set_rcvtimeo (router, 2000);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    td_worker_t *w = td_worker_new (endpoint, "echo", "w1", 0, 10 * HB);
    assert_non_null (w);
    zframe_t *identity;
    zframe_t *body = s_router_expect (router, &identity, true, TD_W_READY, "echo", 4);
    td_error_t err;
    assert_int_equal (td_mp_check (zframe_data (body), zframe_size (body), &err), 0);
    zframe_destroy (&body);

    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    td_request_spec_t spec = { .id = "m1", .type = "echo" };
    assert_int_equal (td_request_pack (&buf, &spec, &err), 0);
    byte frame [256];
    assert_true (buf.size + 14 < sizeof frame);
    //  Malformed merged REQUESTs: none becomes a job, none is answered
    memcpy (frame, "TDW1\x82\x08" "TICKET01", 14);
    memcpy (frame + 14, buf.data, buf.size);
    frame [5] = (byte) (8 + buf.size);                         //  length points at the end
    s_router_sendv (router, identity, 1, frame, 14 + buf.size);
    frame [5] = 200;                                           //  length past the end
    s_router_sendv (router, identity, 1, frame, 14 + buf.size);
    s_router_sendv (router, identity, 1, "TDW1\x82", (size_t) 5);        //  no length byte
    frame [5] = 8;
    s_router_sendv (router, identity, 2, frame, 14 + buf.size, "x", (size_t) 1);  //  extra frame
    frame [5] = 7;                                             //  a 7-byte ticket
    s_router_sendv (router, identity, 1, frame, 14 + buf.size);
    s_router_sendv (router, identity, 1, "TDW1\x85\x00x", (size_t) 7);   //  HEARTBEAT with a body
    td_job_t *job = NULL;
    assert_false (s_worker_job (w, 300, &job));
    while ((job = td_worker_recv (w)))
        td_job_destroy (&job);
    zpoller_t *poller = zpoller_new (router, NULL);
    assert_null (zpoller_wait (poller, 100));                  //  nothing was answered
    zpoller_destroy (&poller);

    //  A merged REQUEST is a job; its FINAL goes back merged with the same ticket
    frame [5] = 8;
    s_router_sendv (router, identity, 1, frame, 14 + buf.size);
    assert_true (s_worker_job (w, 1000, &job));
    assert_string_equal (td_msg_id (td_job_msg (job)), "m1");
    assert_true (td_worker_connected (w));
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    td_reply_spec_t rspec = { .id = "m1", .status = 200 };
    assert_int_equal (td_reply_pack (&out, &rspec, &err), 0);
    assert_int_equal (td_worker_final (w, &job, out.data, out.size), 0);
    zframe_t *identity2;
    body = s_router_expect (router, &identity2, true, TD_W_FINAL, "TICKET01", 8);
    assert_true (zframe_size (body) == out.size && memcmp (zframe_data (body), out.data, out.size) == 0);
    zframe_destroy (&body);
    zframe_destroy (&identity2);

    //  A split REQUEST is a job too; a reply over td_wire_merge_max() goes back split
    s_router_sendv (router, identity, 2, "TDW1\x02" "TICKET02", (size_t) 13, buf.data, buf.size);
    assert_true (s_worker_job (w, 1000, &job));
    size_t big_size = td_wire_merge_max () + 1000;
    char *big = (char *) calloc (1, big_size);
    assert_non_null (big);
    msgpack_sbuffer big_body;
    msgpack_sbuffer_init (&big_body);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &big_body, msgpack_sbuffer_write);
    assert_int_equal (msgpack_pack_bin (&pk, big_size), 0);
    assert_int_equal (msgpack_pack_bin_body (&pk, big, big_size), 0);
    free (big);
    msgpack_sbuffer_clear (&out);
    rspec.body = big_body.data;
    rspec.body_size = big_body.size;
    assert_int_equal (td_reply_pack (&out, &rspec, &err), 0);
    assert_int_equal (td_worker_final (w, &job, out.data, out.size), 0);
    body = s_router_expect (router, &identity2, false, TD_W_FINAL, "TICKET02", 8);
    assert_int_equal (zframe_size (body), out.size);
    zframe_destroy (&body);
    zframe_destroy (&identity2);

    msgpack_sbuffer_destroy (&big_body);
    msgpack_sbuffer_destroy (&out);
    msgpack_sbuffer_destroy (&buf);
    zframe_destroy (&identity);
    td_worker_destroy (&w);
    zsock_destroy (&router);
}

//  The worker answers an invalid request 400 itself (the broker would not route one, so a
//  fake broker sends it).
static void
test_worker_validates (void **state)
{
    (void) state;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert_non_null (router);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    td_worker_t *w = td_worker_new (endpoint, "echo", "w1", 0, HB);
    assert_non_null (w);
    zframe_t *identity;             //  ["TDW1" 0x81 4 "echo" map]: a small READY is merged
    zframe_t *map = s_router_expect (router, &identity, true, TD_W_READY, "echo", 4);
    zframe_destroy (&map);
    //  Send a request with a bad version
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    assert_int_equal (msgpack_pack_map (&pk, 2), 0);
    assert_int_equal (td_mp_pack_kv_str (&pk, "id", "x1"), 0);
    assert_int_equal (td_mp_pack_kv_int (&pk, "v", 42), 0);
    assert_int_equal (zsock_send (router, "fbb", identity, "TDW1\x02" "TICKET01", (size_t) 13,
                                  buf.data, buf.size), 0);
    msgpack_sbuffer_destroy (&buf);
    zpoller_t *poller = zpoller_new (td_worker_sock (w), NULL);
    assert_true (zpoller_wait (poller, 1000) == td_worker_sock (w));
    zpoller_destroy (&poller);
    td_job_t *job = td_worker_recv (w);
    assert_null (job);
    assert_true (td_worker_connected (w));
    zframe_t *sender;               //  ["TDW1" 0x84 8 ticket reply]: merged too
    zframe_t *last = s_router_expect (router, &sender, true, TD_W_FINAL, "TICKET01", 8);
    zframe_destroy (&sender);
    td_error_t err;
    td_msg_t *reply = td_msg_decode (TD_MSG_REPLY, zframe_data (last), zframe_size (last), &err);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 400);
    assert_string_equal (td_msg_id (reply), "x1");
    td_msg_destroy (&reply);
    zframe_destroy (&last);
    //  Silence: the worker reconnects with a new socket and READY
    zclock_sleep (3 * HB + 20);
    assert_int_equal (td_worker_tick (w), 1);
    zframe_t *identity2;
    map = s_router_expect (router, &identity2, true, TD_W_READY, "echo", 4);
    zframe_destroy (&map);
    assert_false (zframe_eq (identity, identity2));
    zframe_destroy (&identity);
    zframe_destroy (&identity2);
    td_worker_destroy (&w);
    zsock_destroy (&router);
}

//  A second broker on endpoints in use ends at once, without taking the process down (the event
//  proxy binds in the broker's thread, where a failure is an error, not czmq zproxy's abort).
static void
s_bind_conflict (bool events_only)
{
    fixture_t *fx = s_fixture (true, 0);
    char other [160];
    snprintf (other, sizeof other, "@tcp://127.0.0.1:%d", 20000 + randof (12000));
    td_broker_args_t args = {
        .request_endpoints = events_only? other: fx->bind,
        .events_in = fx->events_in_bind, .events_out = fx->events_out_bind, .heartbeat_ms = HB
    };
    zactor_t *second = zactor_new (td_broker_actor, &args);
    assert_non_null (second);
    assert_true (s_ended (second, 1000));
    zsock_set_rcvtimeo (zactor_sock (second), 500);
    zactor_destroy (&second);
    //  The first one is unharmed
    td_client_t *client = td_client_new (fx->requests);
    td_msg_t *reply = s_call (client, "broker", "ping", 2000);
    assert_non_null (reply);
    assert_int_equal (td_msg_status (reply), 200);
    td_msg_destroy (&reply);
    td_client_destroy (&client);
    s_fixture_destroy (&fx);
}

static void test_bind_conflict (void **state) { (void) state; s_bind_conflict (false); }
static void test_bind_conflict_events (void **state) { (void) state; s_bind_conflict (true); }

static void
test_client_timeout (void **state)
{
    (void) state;
    //  No broker at all: the call returns after its timeout
    td_client_t *client = td_client_new ("tcp://127.0.0.1:1");
    assert_non_null (client);
    td_request_spec_t spec = { .id = "t1", .type = "ping" };
    td_error_t err;
    int64_t start = zclock_mono ();
    td_msg_t *reply = td_client_call (client, "broker", &spec, 150, &err);
    int64_t took = zclock_mono () - start;
    assert_null (reply);
    assert_int_equal (err.code, TD_ERR_TIMEOUT);
    assert_true (took >= 140 && took < 400);
    assert_int_equal (td_client_send (client, "Bad Name", "\x80", 1), -1);
    td_client_destroy (&client);
    //  Bad arguments are refused, not crashed on
    assert_null (td_client_new ("nonsense://x"));
    assert_null (td_worker_new ("nonsense://x", "echo", "w", 0, HB));
    assert_null (td_worker_new ("tcp://127.0.0.1:1", "Bad Service", "w", 0, HB));
    assert_null (td_events_new ("nonsense://x"));
}

//  The client side of both layouts against a fake broker: a small request goes out merged, a
//  large one split; merged and split replies are both read; malformed merged replies (length
//  past the end, no body, a trailing frame, a FINAL under a 0-byte service) are dropped as
//  invalid, never returned, and the next good reply still comes through.
static void
test_client_layouts (void **state)
{
    (void) state;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert_non_null (router);
    zsock_set_rcvtimeo (router, 2000);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    td_client_t *client = td_client_new (endpoint);
    assert_non_null (client);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    s_pack_request (&buf, "c1", 0);
    assert_int_equal (td_client_send (client, "echo", buf.data, buf.size), 0);
    zmsg_t *msg = zmsg_recv (router);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 2);          //  [identity]["TDC1" 0x81 4 "echo" request]
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *head = zmsg_first (msg);
    assert_int_equal (zframe_size (head), 10 + buf.size);
    assert_memory_equal (zframe_data (head), "TDC1\x81\x04" "echo", 10);
    assert_memory_equal (zframe_data (head) + 10, buf.data, buf.size);
    zmsg_destroy (&msg);
    s_pack_request (&buf, "c2", td_wire_merge_max () + 10);
    assert_int_equal (td_client_send (client, "echo", buf.data, buf.size), 0);
    msg = zmsg_recv (router);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 3);          //  [identity]["TDC1" 0x01 "echo"][request]
    zframe_t *other = zmsg_pop (msg);
    assert_true (zframe_eq (identity, other));
    zframe_destroy (&other);
    assert_true (zframe_streq (zmsg_first (msg), "TDC1\x01" "echo"));
    assert_int_equal (zframe_size (zmsg_last (msg)), buf.size);
    zmsg_destroy (&msg);

    td_reply_spec_t rspec = { .id = "c1", .status = 200 };
    td_error_t err;
    msgpack_sbuffer reply;
    msgpack_sbuffer_init (&reply);
    assert_int_equal (td_reply_pack (&reply, &rspec, &err), 0);
    uint8_t frame [256];
    size_t fs = s_merged (frame, "TDC1", TD_C_FINAL, "echo", 4, reply.data, reply.size);
    uint8_t bad [256];
    memcpy (bad, frame, fs);
    bad [5] = (uint8_t) (fs - 6);                               //  length at the end: no body
    assert_int_equal (zsock_send (router, "fb", identity, bad, fs), 0);
    bad [5] = 200;                                              //  past the end
    assert_int_equal (zsock_send (router, "fb", identity, bad, fs), 0);
    assert_int_equal (zsock_send (router, "fbb", identity, frame, fs, "x", (size_t) 1), 0);
    size_t bs = s_merged (bad, "TDC1", TD_C_FINAL, "", 0, reply.data, reply.size);
    assert_int_equal (zsock_send (router, "fb", identity, bad, bs), 0);
    for (int i = 0; i < 4; i++) {
        bool final = false;
        td_msg_t *got = td_client_recv (client, 2000, &final, &err);
        assert_null (got);
        assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    }
    //  A good merged FINAL, then a good split one
    assert_int_equal (zsock_send (router, "fb", identity, frame, fs), 0);
    bool final = false;
    td_msg_t *got = td_client_recv (client, 2000, &final, &err);
    assert_non_null (got);
    assert_true (final);
    assert_string_equal (td_msg_id (got), "c1");
    td_msg_destroy (&got);
    assert_int_equal (zsock_send (router, "fbb", identity, "TDC1\x03" "echo", (size_t) 9,
                                  reply.data, reply.size), 0);
    got = td_client_recv (client, 2000, &final, &err);
    assert_non_null (got);
    assert_true (final);
    assert_string_equal (td_msg_id (got), "c1");
    td_msg_destroy (&got);

    msgpack_sbuffer_destroy (&reply);
    msgpack_sbuffer_destroy (&buf);
    zframe_destroy (&identity);
    td_client_destroy (&client);
    zsock_destroy (&router);
}

int
main (void)
{
    zsys_init ();
    zsys_set_linger (0);
    srandom ((unsigned) (getpid () ^ zclock_usecs ()));    //  distinct ports per process
    td_log_open (NULL, getenv ("TD_TEST_DEBUG")? TD_LOG_DEBUG: TD_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ping_status_inproc),
        cmocka_unit_test (test_ping_status_tcp),
        cmocka_unit_test (test_round_trip_inproc),
        cmocka_unit_test (test_round_trip_tcp),
        cmocka_unit_test (test_least_loaded),
        cmocka_unit_test (test_crash_inproc),
        cmocka_unit_test (test_crash_tcp),
        cmocka_unit_test (test_no_worker_inproc),
        cmocka_unit_test (test_no_worker_tcp),
        cmocka_unit_test (test_deadline),
        cmocka_unit_test (test_queue_limit),
        cmocka_unit_test (test_malformed_inproc),
        cmocka_unit_test (test_malformed_tcp),
        cmocka_unit_test (test_layouts_inproc),
        cmocka_unit_test (test_layouts_tcp),
        cmocka_unit_test (test_random_garbage),
        cmocka_unit_test (test_heartbeat_expiry),
        cmocka_unit_test (test_broker_restart_tcp),
        cmocka_unit_test (test_broker_restart_inproc),
        cmocka_unit_test (test_partials),
        cmocka_unit_test (test_events_inproc),
        cmocka_unit_test (test_events_tcp),
        cmocka_unit_test (test_events_local_and_remote),
        cmocka_unit_test (test_events_endpoint_list),
        cmocka_unit_test (test_drain),
        cmocka_unit_test (test_drain_timeout),
        cmocka_unit_test (test_shutdown_answers),
        cmocka_unit_test (test_worker_validates),
        cmocka_unit_test (test_worker_layouts),
        cmocka_unit_test (test_bind_conflict),
        cmocka_unit_test (test_bind_conflict_events),
        cmocka_unit_test (test_client_timeout),
        cmocka_unit_test (test_client_layouts),
    };
    int failed = cmocka_run_group_tests (tests, NULL, NULL);
    td_log_close ();
    return failed;
}
