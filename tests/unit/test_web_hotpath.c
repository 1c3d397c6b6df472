/*  test_web_hotpath — the bridge's hot path on the lws thread (issue 3's benchmark fix): the
 *  broker DEALER and the event SUB are pumped from the lws event loop, so what used to be
 *  ordered by two threads is now ordered by one loop. These tests check what that must keep:
 *    - 1,008 requests over 16 keep-alive connections, all 16 always in flight: every one
 *      answered exactly once, in order, with its own body (the ZMQ_FD edge is never lost: a
 *      lost wake-up would hang a connection);
 *    - a reply arriving after its request was answered 504 is dropped, and the next request
 *      on the same connection gets its own answer, not the stale one;
 *    - the broker going away and something that never answers taking its endpoint while
 *      requests are pending: each is answered once, by the bridge (504 at deadline + grace),
 *      and once a broker is back on the same endpoint requests work again.
 *  A broker (TCP on loopback, so it can be restarted), a fake "grade" worker and the td_web
 *  actor run in this process; the client speaks raw HTTP/1.1 over TCP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "td_test.h"
#include "td_broker.h"
#include "td_config.h"
#include "td_json.h"
#include "td_mp.h"
#include "td_msg.h"
#include "td_web.h"
#include "td_worker.h"

#define S_HOLD_MS 3000              //  how long the worker sits on a "slow" request

//  Fresh endpoints for every test, so a failed test's broker can't block the next one's
static char s_broker_ep [64];
static char s_events_ep [64];
static char s_events_in_ep [64];

//  A worker of service "grade": "echo" answers its body at once; "slow" answers the same,
//  S_HOLD_MS later; anything else 404.
typedef struct {
    td_job_t *job;
    int64_t due;
} s_held_t;

static void
s_answer (td_worker_t *w, td_job_t **job_p)
{
    const td_msg_t *m = td_job_msg (*job_p);
    bool known = strcmp (td_msg_type (m), "echo") == 0 || strcmp (td_msg_type (m), "slow") == 0
              || strcmp (td_msg_type (m), "ping") == 0;
    msgpack_sbuffer body, reply;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&reply);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    assert_int_equal (msgpack_pack_object (&pk, *td_msg_body (m)), 0);
    td_reply_spec_t spec = {
        .id = td_msg_id (m), .status = known ? 200 : 404,
        .body = known ? body.data : NULL, .body_size = known ? body.size : 0
    };
    assert_int_equal (td_reply_pack (&reply, &spec, NULL), 0);
    td_worker_final (w, job_p, reply.data, reply.size);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&reply);
}

static void
s_worker (zsock_t *pipe, void *args)
{
    (void) args;
    td_worker_t *w = td_worker_new (s_broker_ep, "grade", "grader", 0, 200);
    zpoller_t *poller = zpoller_new (pipe, td_worker_sock (w), NULL);
    s_held_t held [64];
    int nheld = 0;
    zsock_signal (pipe, 0);
    while (true) {
        void *which = zpoller_wait (poller, 20);
        if (which == pipe)
            break;
        if (td_worker_tick (w) == 1) {
            //  Reconnected: the old socket is gone, so poll the new one only
            zpoller_destroy (&poller);
            poller = zpoller_new (pipe, td_worker_sock (w), NULL);
            assert_non_null (poller);
        }
        td_job_t *job;
        while ((job = td_worker_recv (w))) {
            if (strcmp (td_msg_type (td_job_msg (job)), "slow") == 0 && nheld < 64) {
                held [nheld].job = job;
                held [nheld++].due = zclock_mono () + S_HOLD_MS;
            }
            else
                s_answer (w, &job);
        }
        for (int i = 0; i < nheld; )
            if (held [i].due <= zclock_mono ()) {
                s_answer (w, &held [i].job);
                held [i] = held [--nheld];
            }
            else
                i++;
    }
    for (int i = 0; i < nheld; i++)
        td_job_destroy (&held [i].job);
    zpoller_destroy (&poller);
    td_worker_destroy (&w);
}

static void
s_write_all (int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, text, len);
        assert_true (n > 0);
        text += n;
        len -= (size_t) n;
    }
}

//  One request for type ("echo" | "slow") with body {"n":n}, keep-alive, into out; "ping"
//  is a GET with ?n=n (the bridge forwards query parameters in the body).
static size_t
s_request (char *out, size_t size, const char *type, int n)
{
    if (strcmp (type, "ping") == 0) {
        int len = snprintf (out, size, "GET /api/v1/services/grade/ping?n=%d HTTP/1.1\r\n"
                            "Host: t\r\n\r\n", n);
        assert_true (len > 0 && (size_t) len < size);
        return (size_t) len;
    }
    char body [32];
    int blen = snprintf (body, sizeof body, "{\"n\":%d}", n);
    int len = snprintf (out, size, "POST /api/v1/_call/grade/%s HTTP/1.1\r\nHost: t\r\n"
                        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                        type, blen, body);
    assert_true (len > 0 && (size_t) len < size);
    return (size_t) len;
}

//  A connection's read side: bytes received and not yet parsed.
typedef struct {
    int fd;
    char buf [65536];
    size_t len;
} s_conn_t;

//  Parse one whole response off the front of c->buf: status and body (NUL-terminated) into
//  body. 1 when one was taken, 0 when more bytes are needed.
static int
s_take (s_conn_t *c, int *status, char *body, size_t size)
{
    c->buf [c->len] = 0;
    char *end = strstr (c->buf, "\r\n\r\n");
    if (!end)
        return 0;
    if (sscanf (c->buf, "HTTP/1.1 %d", status) != 1)
        fail_msg ("not an HTTP response: %.80s", c->buf);
    const char *cl = strcasestr (c->buf, "content-length:");
    assert_true (cl && cl < end);
    size_t blen = strtoul (cl + 15, NULL, 10);
    size_t head = (size_t) (end + 4 - c->buf);
    if (c->len < head + blen)
        return 0;
    assert_true (blen < size);
    memcpy (body, c->buf + head, blen);
    body [blen] = 0;
    memmove (c->buf, c->buf + head + blen, c->len - head - blen);
    c->len -= head + blen;
    return 1;
}

//  Read until one response is there or timeout_ms passes. 1, or 0 on timeout / close.
static int
s_read_response (s_conn_t *c, int timeout_ms, int *status, char *body, size_t size)
{
    int64_t end = zclock_mono () + timeout_ms;
    while (!s_take (c, status, body, size)) {
        int left = (int) (end - zclock_mono ());
        if (left <= 0)
            return 0;
        struct pollfd pfd = { c->fd, POLLIN, 0 };
        if (poll (&pfd, 1, left) <= 0)
            return 0;
        assert_true (c->len + 1 < sizeof c->buf);
        ssize_t n = read (c->fd, c->buf + c->len, sizeof c->buf - c->len - 1);
        if (n <= 0)
            return 0;
        c->len += (size_t) n;
    }
    return 1;
}

static int
s_body_n (const char *body)
{
    json_t *j = json_loads (body, 0, NULL);
    if (!j)
        fail_msg ("not JSON: %s", body);
    json_t *n = json_object_get (j, "n");
    int v = json_is_integer (n) ? (int) json_integer_value (n)
          : json_is_string (n) ? atoi (json_string_value (n)) : -1;
    json_decref (j);
    return v;
}

static const char *
s_error_code (const char *body, char *out, size_t size)
{
    json_t *j = json_loads (body, 0, NULL);
    const char *code = j ? json_string_value (json_object_get (json_object_get (j, "error"),
                                                               "code")) : NULL;
    snprintf (out, size, "%s", code ? code : "");
    json_decref (j);
    return out;
}

static zactor_t *
s_broker_new (void)
{
    static char endpoint [80];
    snprintf (endpoint, sizeof endpoint, "@%s", s_broker_ep);
    static td_broker_args_t bargs;
    memset (&bargs, 0, sizeof bargs);
    bargs.request_endpoints = endpoint;
    static char events_in [80], events_out [80];
    snprintf (events_in, sizeof events_in, "@%s", s_events_in_ep);
    snprintf (events_out, sizeof events_out, "@%s", s_events_ep);
    bargs.events_in = events_in;
    bargs.events_out = events_out;
    bargs.heartbeat_ms = 200;
    zactor_t *broker = zactor_new (td_broker_actor, &bargs);
    assert_non_null (broker);
    return broker;
}

static void
s_config (td_config_t *cfg, int port, int timeout_ms)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->http_host, sizeof cfg->http_host, "127.0.0.1");
    cfg->http_port = port;
    cfg->run_broker = false;
    snprintf (cfg->broker, sizeof cfg->broker, "%s", s_broker_ep);
    snprintf (cfg->events, sizeof cfg->events, "%s", s_events_ep);
    snprintf (cfg->events_in, sizeof cfg->events_in, "%s", s_events_in_ep);
    cfg->http_max_body = 1024;
    cfg->request_timeout_ms = timeout_ms;
    cfg->heartbeat_ms = 200;
    cfg->drain_ms = 1000;
    cfg->faults = true;             //  the /api/v1/_call/<service>/<type> routes
    snprintf (cfg->llm_provider, sizeof cfg->llm_provider, "offline");
    const char *src = getenv ("TUTORD_SOURCE_DIR");
    snprintf (cfg->static_dir, sizeof cfg->static_dir, "%s/bridges/client", src ? src : "../..");
}

//  Wait until an echo on a fresh connection answers 200 (the worker is registered).
static void
s_wait_ready (int port)
{
    char req [256], body [1024];
    size_t len = s_request (req, sizeof req, "echo", 1);
    for (int i = 0; i < 100; i++) {
        s_conn_t *c = calloc (1, sizeof *c);
        assert_non_null (c);
        c->fd = td_test_connect (port);
        s_write_all (c->fd, req, len);
        int status = 0;
        int got = s_read_response (c, 3000, &status, body, sizeof body);
        close (c->fd);
        free (c);
        if (got && status == 200)
            return;
        zclock_sleep (100);
    }
    fail_msg ("the grade worker never answered");
}

static void
s_setup_endpoint (void)
{
    static int round;
    round++;
    snprintf (s_broker_ep, sizeof s_broker_ep, "tcp://127.0.0.1:%d", td_test_free_port ());
    snprintf (s_events_ep, sizeof s_events_ep, "inproc://hotpath-events-%d", round);
    snprintf (s_events_in_ep, sizeof s_events_in_ep, "inproc://hotpath-events-in-%d", round);
}

//  A broker, the worker and a bridge with the given request timeout, the worker ready.
typedef struct {
    zactor_t *broker, *worker, *web;
    td_config_t cfg;                //  the bridge reads it while it runs
    int port;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig, int timeout_ms)
{
    s_setup_endpoint ();
    rig->broker = s_broker_new ();
    rig->worker = zactor_new (s_worker, NULL);
    assert_non_null (rig->worker);
    rig->port = td_test_free_port ();
    s_config (&rig->cfg, rig->port, timeout_ms);
    rig->web = zactor_new (td_web_actor, &rig->cfg);
    assert_non_null (rig->web);
    s_wait_ready (rig->port);
}

static void
s_rig_stop (s_rig_t *rig)
{
    zactor_destroy (&rig->web);
    zactor_destroy (&rig->worker);
    zactor_destroy (&rig->broker);
}

static void
test_thousand_in_flight (void **state)
{
    (void) state;
    s_rig_t rig;
    s_rig_start (&rig, 5000);
    int port = rig.port;

    //  16 keep-alive connections, each always with one request in flight, 63 in a row each
    //  (GET and POST alternating): the bridge has up to 16 replies to pump per wake-up
    enum { CONNS = 16, PER = 63 };
    s_conn_t *conns = calloc (CONNS, sizeof *conns);
    int sent [CONNS], got [CONNS];
    assert_non_null (conns);
    char req [256], body [1024];
    for (int c = 0; c < CONNS; c++) {
        conns [c].fd = td_test_connect (port);
        size_t len = s_request (req, sizeof req, "ping", c * PER);
        s_write_all (conns [c].fd, req, len);
        sent [c] = 1;
        got [c] = 0;
    }
    int answered = 0;
    int64_t until = zclock_mono () + 30000;
    while (answered < CONNS * PER) {
        if (zclock_mono () > until)
            fail_msg ("only %d of %d requests answered", answered, CONNS * PER);
        struct pollfd pfds [CONNS];
        for (int c = 0; c < CONNS; c++)
            pfds [c] = (struct pollfd) { conns [c].fd, POLLIN, 0 };
        assert_true (poll (pfds, CONNS, 1000) >= 0);
        for (int c = 0; c < CONNS; c++) {
            if (!(pfds [c].revents & POLLIN))
                continue;
            s_conn_t *k = &conns [c];
            ssize_t n = read (k->fd, k->buf + k->len, sizeof k->buf - k->len - 1);
            if (n <= 0)
                fail_msg ("connection %d closed after %d answers", c, got [c]);
            k->len += (size_t) n;
            int status = 0;
            while (s_take (k, &status, body, sizeof body)) {
                if (got [c] >= sent [c])
                    fail_msg ("connection %d: an answer to no request: %s", c, body);
                assert_int_equal (status, 200);
                //  In order, each with its own body
                assert_int_equal (s_body_n (body), c * PER + got [c]);
                got [c]++;
                answered++;
                if (sent [c] < PER) {
                    int i = sent [c]++;
                    size_t len = s_request (req, sizeof req, i % 2 ? "echo" : "ping",
                                            c * PER + i);
                    s_write_all (k->fd, req, len);
                }
            }
        }
    }
    assert_int_equal (answered, CONNS * PER);
    //  Exactly once: nothing more arrives on any connection
    for (int c = 0; c < CONNS; c++) {
        int status = 0;
        assert_int_equal (s_read_response (&conns [c], c ? 10 : 300, &status, body,
                                           sizeof body), 0);
        assert_int_equal (conns [c].len, 0);
        close (conns [c].fd);
    }
    free (conns);
    s_rig_stop (&rig);
}

static void
test_late_reply_dropped (void **state)
{
    (void) state;
    s_rig_t rig;
    s_rig_start (&rig, 300);           //  the worker holds "slow" far longer
    int port = rig.port;

    s_conn_t *c = calloc (1, sizeof *c);
    assert_non_null (c);
    c->fd = td_test_connect (port);
    char req [256], body [1024], code [64];
    int status = 0;
    size_t len = s_request (req, sizeof req, "slow", 41);
    s_write_all (c->fd, req, len);
    int64_t start = zclock_mono ();
    assert_int_equal (s_read_response (c, 5000, &status, body, sizeof body), 1);
    assert_int_equal (status, 504);
    assert_string_equal (s_error_code (body, code, sizeof code), "timeout");
    assert_true (zclock_mono () - start < S_HOLD_MS);
    //  The next request on the same connection is answered while the first one's reply is
    //  still to come; then that late reply arrives and must go nowhere
    len = s_request (req, sizeof req, "echo", 42);
    s_write_all (c->fd, req, len);
    assert_int_equal (s_read_response (c, 5000, &status, body, sizeof body), 1);
    assert_int_equal (status, 200);
    assert_int_equal (s_body_n (body), 42);
    zclock_sleep ((int) (S_HOLD_MS - (zclock_mono () - start)) + 300);
    assert_int_equal (s_read_response (c, 300, &status, body, sizeof body), 0);
    assert_int_equal (c->len, 0);
    //  And the connection still works
    len = s_request (req, sizeof req, "echo", 43);
    s_write_all (c->fd, req, len);
    assert_int_equal (s_read_response (c, 5000, &status, body, sizeof body), 1);
    assert_int_equal (status, 200);
    assert_int_equal (s_body_n (body), 43);
    close (c->fd);
    free (c);
    s_rig_stop (&rig);
}

static void
test_broker_restart_while_pending (void **state)
{
    (void) state;
    s_rig_t rig;
    s_rig_start (&rig, 500);
    int port = rig.port;

    //  The broker goes away; in its place something takes requests and never answers (a
    //  broker that hangs, or dies with them): the bridge alone must answer them
    zactor_destroy (&rig.broker);
    zsock_t *hole = zsock_new (ZMQ_ROUTER);
    assert_non_null (hole);
    assert_true (zsock_bind (hole, "%s", s_broker_ep) >= 0);
    zclock_sleep (500);             //  the bridge's DEALER reconnects
    enum { CONNS = 8 };
    s_conn_t *conns = calloc (CONNS, sizeof *conns);
    assert_non_null (conns);
    char req [256], body [1024], code [64];
    int64_t start = zclock_mono ();
    for (int c = 0; c < CONNS; c++) {
        conns [c].fd = td_test_connect (port);
        size_t len = s_request (req, sizeof req, "echo", c);
        s_write_all (conns [c].fd, req, len);
    }
    int swallowed = 0;
    for (int c = 0; c < CONNS; c++) {
        int status = 0;
        while (!s_take (&conns [c], &status, body, sizeof body)) {
            zmsg_t *m;
            while (zsock_events (hole) & ZMQ_POLLIN)
                if ((m = zmsg_recv (hole))) {
                    swallowed++;
                    zmsg_destroy (&m);
                }
            if (zclock_mono () - start > 6000)
                fail_msg ("connection %d: no answer while the broker hangs", c);
            struct pollfd pfd = { conns [c].fd, POLLIN, 0 };
            if (poll (&pfd, 1, 50) == 1) {
                ssize_t n = read (conns [c].fd, conns [c].buf + conns [c].len,
                                  sizeof conns [c].buf - conns [c].len - 1);
                assert_true (n > 0);
                conns [c].len += (size_t) n;
            }
        }
        assert_int_equal (status, 504);
        assert_string_equal (s_error_code (body, code, sizeof code), "timeout");
    }
    assert_true (swallowed >= 1);   //  they did reach the hole, so the 504s are the bridge's
    //  At the deadline plus the grace (500 + 2000 ms), not before
    assert_true (zclock_mono () - start >= 2000);
    //  A broker is back on the same endpoint: the bridge and the worker reconnect
    zsock_set_linger (hole, 0);
    assert_int_equal (zsock_unbind (hole, "%s", s_broker_ep), 0);
    zsock_destroy (&hole);
    zclock_sleep (200);             //  libzmq closes the listener asynchronously
    rig.broker = s_broker_new ();
    s_wait_ready (port);
    for (int c = 0; c < CONNS; c++) {
        int status = 0;
        //  Answered once only: nothing more came on the connection
        assert_int_equal (s_read_response (&conns [c], c ? 10 : 200, &status, body,
                                           sizeof body), 0);
        assert_int_equal (conns [c].len, 0);
        size_t len = s_request (req, sizeof req, "echo", 100 + c);
        s_write_all (conns [c].fd, req, len);
        assert_int_equal (s_read_response (&conns [c], 5000, &status, body, sizeof body), 1);
        assert_int_equal (status, 200);
        assert_int_equal (s_body_n (body), 100 + c);
        close (conns [c].fd);
    }
    free (conns);
    //  DRAIN sees nothing in flight and confirms
    assert_int_equal (zstr_send (rig.web, "DRAIN"), 0);
    assert_int_equal (zsock_wait (rig.web), 0);
    s_rig_stop (&rig);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_thousand_in_flight),
        cmocka_unit_test (test_late_reply_dropped),
        cmocka_unit_test (test_broker_restart_while_pending),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
