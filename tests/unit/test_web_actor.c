/*  test_web_actor — the web bridge end to end in one process: a broker, one fake worker and the
 *  td_web actor on a free port, spoken to over a plain TCP socket.
 *
 *  The pure parts have their own tests; this one checks the wiring between the two threads
 *  (lws thread -> actor -> broker -> worker -> actor -> lws thread), the error shape on the
 *  wire, DRAIN, a failure to listen (signal -1), and a clean $TERM (no leaks under ASan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
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

//  A worker of service "grade" that answers ping {"db":"ok"} and everything else 404.
static void
s_worker (zsock_t *pipe, void *args)
{
    (void) args;
    td_worker_t *w = td_worker_new (TD_INPROC_BROKER, "grade", "grader", 0, 200);
    zpoller_t *poller = zpoller_new (pipe, td_worker_sock (w), NULL);
    zsock_signal (pipe, 0);
    while (true) {
        void *which = zpoller_wait (poller, 50);
        if (which == pipe)
            break;
        if (td_worker_tick (w) == 1)
            zpoller_add (poller, td_worker_sock (w));
        td_job_t *job;
        while ((job = td_worker_recv (w))) {
            const td_msg_t *m = td_job_msg (job);
            bool ping = strcmp (td_msg_type (m), "ping") == 0;
            msgpack_sbuffer body, reply;
            msgpack_sbuffer_init (&body);
            msgpack_sbuffer_init (&reply);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
            msgpack_pack_map (&pk, 1);
            td_mp_pack_kv_str (&pk, "db", "ok");
            td_reply_spec_t spec = {
                .id = td_msg_id (m), .status = ping ? 200 : 404,
                .body = ping ? body.data : NULL, .body_size = ping ? body.size : 0
            };
            assert_int_equal (td_reply_pack (&reply, &spec, NULL), 0);
            td_worker_final (w, &job, reply.data, reply.size);
            msgpack_sbuffer_destroy (&body);
            msgpack_sbuffer_destroy (&reply);
        }
    }
    zpoller_destroy (&poller);
    td_worker_destroy (&w);
}

//  One HTTP/1.1 exchange with Connection: close. Returns the status; body into buf.
static int
s_http (int port, const char *request, char *buf, size_t size)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    assert_true (fd >= 0);
    struct timeval tv = { 5, 0 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
    size_t len = strlen (request);
    assert_int_equal (write (fd, request, len), (ssize_t) len);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < size && (n = read (fd, buf + got, size - got - 1)) > 0)
        got += (size_t) n;
    buf [got] = 0;
    close (fd);
    int status = 0;
    if (sscanf (buf, "HTTP/1.1 %d", &status) != 1)
        return -1;
    char *body = strstr (buf, "\r\n\r\n");
    if (body)
        memmove (buf, body + 4, strlen (body + 4) + 1);
    return status;
}

static json_t *
s_json (const char *text)
{
    json_t *j = json_loads (text, 0, NULL);
    if (!j)
        fail_msg ("not JSON: %s", text);
    return j;
}

static void
s_config (td_config_t *cfg, int port)
{
    memset (cfg, 0, sizeof *cfg);
    snprintf (cfg->http_host, sizeof cfg->http_host, "127.0.0.1");
    cfg->http_port = port;
    cfg->run_broker = true;
    cfg->http_max_body = 1024;
    cfg->request_timeout_ms = 2000;
    cfg->heartbeat_ms = 200;
    cfg->faults = true;
    snprintf (cfg->llm_provider, sizeof cfg->llm_provider, "offline");
    const char *src = getenv ("TUTORD_SOURCE_DIR");
    snprintf (cfg->static_dir, sizeof cfg->static_dir, "%s/bridges/client", src ? src : "../..");
}

static void
test_end_to_end (void **state)
{
    (void) state;
    td_broker_args_t bargs = {
        .request_endpoints = "@" TD_INPROC_BROKER, .events_in = "@" TD_INPROC_EVENTS_IN,
        .events_out = "@" TD_INPROC_EVENTS, .heartbeat_ms = 200
    };
    zactor_t *broker = zactor_new (td_broker_actor, &bargs);
    zactor_t *worker = zactor_new (s_worker, NULL);
    td_config_t cfg;
    int port = td_test_free_port ();
    s_config (&cfg, port);
    zactor_t *web = zactor_new (td_web_actor, &cfg);
    assert_non_null (web);
    zclock_sleep (300);             //  let the worker say READY

    char buf [16384];
    //  A forwarded request
    assert_int_equal (s_http (port, "GET /api/v1/services/grade/ping HTTP/1.1\r\nHost: t\r\n"
                              "X-Request-Id: t-1\r\nConnection: close\r\n\r\n", buf, sizeof buf), 200);
    json_t *j = s_json (buf);
    assert_string_equal (json_string_value (json_object_get (j, "db")), "ok");
    json_decref (j);
    //  Health: only one of eight actors is up -> 503 degraded, every key present
    assert_int_equal (s_http (port, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                              buf, sizeof buf), 503);
    j = s_json (buf);
    assert_string_equal (json_string_value (json_object_get (j, "status")), "degraded");
    assert_string_equal (json_string_value (json_object_get (j, "broker")), "ok");
    assert_string_equal (json_string_value (json_object_get (j, "llm")), "offline");
    json_t *actors = json_object_get (j, "actors");
    assert_string_equal (json_string_value (json_object_get (actors, "grader")), "up");
    assert_string_equal (json_string_value (json_object_get (actors, "srs")), "down");
    json_decref (j);
    //  Errors have the contract's shape
    struct { const char *req; int status; const char *code; } errs [] = {
        { "GET /api/v1/nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404, "not_found" },
        { "DELETE /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405, "method_not_allowed" },
        { "POST /api/v1/_call/grade/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
          "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}", 415, "unsupported_media_type" },
        { "POST /api/v1/_call/grade/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
          "Content-Type: application/json\r\nContent-Length: 3\r\n\r\n{x}", 400, "invalid_input" },
        { "POST /api/v1/_call/grade/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
          "Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n", 413, "too_large" },
        { "POST /api/v1/_call/nosuch/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
          "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 503, "unavailable" },
        { "POST /api/v1/_call/grade/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
          "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 404, "not_found" },
        { "GET /../../etc/passwd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404, "not_found" },
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs [0]; i++) {
        char *big = NULL;
        const char *req = errs [i].req;
        if (errs [i].status == 413) {
            //  Send the whole oversized body: the answer comes after it is read
            big = calloc (1, strlen (req) + 2001);
            strcpy (big, req);
            memset (big + strlen (req), ' ', 2000);
            req = big;
        }
        int status = s_http (port, req, buf, sizeof buf);
        free (big);
        if (status != errs [i].status)
            fail_msg ("case %zu: status %d, body %s", i, status, buf);
        j = s_json (buf);
        json_t *e = json_object_get (j, "error");
        assert_string_equal (json_string_value (json_object_get (e, "code")), errs [i].code);
        assert_true (json_string_length (json_object_get (e, "message")) > 0);
        json_decref (j);
    }
    //  Static client
    assert_int_equal (s_http (port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                              buf, sizeof buf), 200);
    assert_non_null (strstr (buf, "<html"));
    //  Metrics count what happened
    assert_int_equal (s_http (port, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                              buf, sizeof buf), 200);
    assert_non_null (strstr (buf, "tutord_http_requests_total{route=\"/health\",method=\"GET\",status=\"503\"} 1"));
    assert_non_null (strstr (buf, "tutord_broker_workers{service=\"grade\"} 1"));
    //  DRAIN: new requests get 503
    assert_int_equal (zstr_send (web, "DRAIN"), 0);
    assert_int_equal (zsock_wait (web), 0);
    assert_int_equal (s_http (port, "GET /api/v1/services/grade/ping HTTP/1.1\r\nHost: t\r\n"
                              "Connection: close\r\n\r\n", buf, sizeof buf), 503);
    j = s_json (buf);
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "error"), "code")),
                         "unavailable");
    json_decref (j);

    //  A second bridge on the same port cannot listen: it signals -1 and ends
    zactor_t *second = zactor_new (td_web_actor, &cfg);
    zactor_destroy (&second);

    zactor_destroy (&web);
    zactor_destroy (&worker);
    zactor_destroy (&broker);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_end_to_end),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
