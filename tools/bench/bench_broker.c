/*  bench_broker — request/reply throughput and latency through the real broker, against a bare
 *  czmq ROUTER->ROUTER relay of the same payload size (the floor).
 *
 *  Why: the broker sits on every request; this says what it costs over the transport itself.
 *  Broker path: the client packs each request with td_request_pack, the broker validates and
 *  routes it, the worker decodes it with td_msg_decode and answers with td_reply_pack, the
 *  client decodes the reply (td_client_recv). Floor path: client DEALER -> relay ROUTER
 *  (frontend) -> relay ROUTER (backend) -> worker DEALER and back, same bytes, no decoding.
 *  Both keep a window of W requests outstanding and send N in all; round-trip times are
 *  measured per request.
 *
 *  The broker path uses td_client, td_broker and td_worker themselves, so it carries the real
 *  wire layouts (td_wire.h): a body of at most td_wire_merge_max() bytes travels merged with its
 *  header (one frame per hop), larger ones split. -m sets that limit for the run (0: never
 *  merge, the old 8-frame round trip), to measure where merging stops paying.
 *
 *  Usage: bench_broker [-n requests] [-w window] [-s body bytes] [-t inproc|tcp|both] [-r runs]
 *                      [-m merge max bytes] [-o broker|floor|zmsg: one path only, for profiling]
 *  BENCH_IO_THREADS (1..16, default 2 as TUTORD_IO_THREADS): libzmq I/O threads of the process,
 *  shared by the floor and the broker path.
 */
#include <czmq.h>
#include <getopt.h>
#include <string.h>
#include <stdlib.h>

#include "td_broker.h"
#include "td_worker.h"
#include "td_client.h"
#include "td_wire.h"
#include "td_msg.h"
#include "td_mp.h"
#include "td_log.h"

typedef struct {
    double rate;                    //  requests per second
    double p50, p99;                //  round trip, microseconds
    int errors;
} result_t;

static int
s_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y? -1: x > y;
}

#define MAX_REPEATS 15

//  The first three fields of /proc/loadavg, or "?" (the figures are noisy on a shared machine:
//  printed with them so a reader can judge).
static const char *
s_loadavg (void)
{
    static char text [64] = "?";
    FILE *file = fopen ("/proc/loadavg", "r");
    if (file) {
        double a, b, c;
        if (fscanf (file, "%lf %lf %lf", &a, &b, &c) == 3)
            snprintf (text, sizeof text, "%.2f %.2f %.2f", a, b, c);
        fclose (file);
    }
    return text;
}

static int
s_cmp_rate (const void *a, const void *b)
{
    double x = ((const result_t *) a)->rate, y = ((const result_t *) b)->rate;
    return x < y? -1: x > y;
}

static void
s_summarise (result_t *r, int64_t *rtt, int n, int64_t elapsed_us)
{
    qsort (rtt, (size_t) n, sizeof (int64_t), s_cmp_i64);
    r->rate = elapsed_us > 0? (double) n * 1e6 / (double) elapsed_us: 0;
    r->p50 = (double) rtt [n / 2];
    r->p99 = (double) rtt [(int) ((double) n * 0.99)];
}

//  True when an actor ended at once (it could not bind): its pipe turns readable.
static bool
s_ended (zactor_t *actor)
{
    zpoller_t *poller = zpoller_new (actor, NULL);
    bool ended = poller && zpoller_wait (poller, 30) != NULL;
    zpoller_destroy (&poller);
    if (ended) {
        zsock_set_rcvtimeo (zactor_sock (actor), 500);
        zactor_destroy (&actor);
    }
    return ended;
}

//  ---------------------------------------------------------------------------------------------
//  Broker path

typedef struct {
    const char *endpoint;
    int capacity;
    size_t body_size;
} worker_args_t;

static void
s_worker_actor (zsock_t *pipe, void *varg)
{
    worker_args_t *args = (worker_args_t *) varg;
    td_worker_t *w = td_worker_new (args->endpoint, "bench", "bench", args->capacity, 0);
    //  The reply body: a bin of body_size bytes, packed once
    msgpack_sbuffer body, out;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    char *payload = (char *) calloc (1, args->body_size + 1);
    int rc = msgpack_pack_bin (&pk, args->body_size);
    rc |= msgpack_pack_bin_body (&pk, payload, args->body_size);
    free (payload);
    zsock_signal (pipe, 0);
    if (!w || rc) {
        fprintf (stderr, "bench: worker could not start\n");
        td_worker_destroy (&w);
        msgpack_sbuffer_destroy (&body);
        msgpack_sbuffer_destroy (&out);
        return;
    }
    while (true) {
        zmq_pollitem_t items [] = {
            { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve (td_worker_sock (w)), 0, ZMQ_POLLIN, 0 }
        };
        if (zmq_poll (items, 2, td_worker_timeout_ms (w)) < 0)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            char *cmd = zstr_recv (pipe);
            bool term = !cmd || streq (cmd, "$TERM");
            zstr_free (&cmd);
            if (term)
                break;
        }
        if (items [1].revents & ZMQ_POLLIN) {
            td_job_t *job;
            while ((job = td_worker_recv (w))) {
                const td_msg_t *msg = td_job_msg (job);
                td_reply_spec_t spec = { .id = td_msg_id (msg), .rid = td_msg_rid (msg),
                                         .status = 200, .body = body.data,
                                         .body_size = body.size };
                td_error_t err;
                msgpack_sbuffer_clear (&out);
                if (td_reply_pack (&out, &spec, &err) == 0)
                    td_worker_final (w, &job, out.data, out.size);
                else
                    td_job_destroy (&job);
            }
        }
        td_worker_tick (w);
    }
    td_worker_destroy (&w);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&out);
}

static int
s_status_workers (zactor_t *broker)
{
    zstr_send (broker, "STATUS");
    char *text = zstr_recv (broker);
    int ready = text && strstr (text, "\"bench\":{\"inflight\":0,\"queued\":0,\"workers\":1}");
    zstr_free (&text);
    return ready;
}

static int
s_run_broker (const char *bind, const char *endpoint, int n, int window, size_t body_size,
              result_t *r, size_t *request_size)
{
    td_broker_args_t bargs = { .request_endpoints = bind };
    zactor_t *broker = zactor_new (td_broker_actor, &bargs);
    if (!broker || s_ended (broker))
        return -1;                  //  port taken: the caller tries another
    worker_args_t wargs = { endpoint, window * 2, body_size };
    zactor_t *worker = zactor_new (s_worker_actor, &wargs);
    for (int i = 0; i < 500 && !s_status_workers (broker); i++)
        zclock_sleep (10);
    td_client_t *client = td_client_new (endpoint);
    int64_t *sent_at = (int64_t *) calloc ((size_t) n, sizeof (int64_t));
    int64_t *rtt = (int64_t *) calloc ((size_t) n, sizeof (int64_t));
    char *payload = (char *) calloc (1, body_size + 1);
    msgpack_sbuffer body, req;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&req);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    if (!client || !sent_at || !rtt || !payload
    ||  msgpack_pack_bin (&pk, body_size) || msgpack_pack_bin_body (&pk, payload, body_size)) {
        fprintf (stderr, "bench: out of memory\n");
        exit (1);
    }
    int sent = 0, done = 0;
    memset (r, 0, sizeof *r);
    int64_t start = zclock_usecs ();
    while (done < n) {
        while (sent < n && sent - done < window) {
            char id [16];
            snprintf (id, sizeof id, "%d", sent);
            td_request_spec_t spec = { .id = id, .type = "echo", .body = body.data,
                                       .body_size = body.size };
            td_error_t err;
            msgpack_sbuffer_clear (&req);
            if (td_request_pack (&req, &spec, &err)) {
                fprintf (stderr, "bench: %s\n", err.message);
                exit (1);
            }
            *request_size = req.size;
            sent_at [sent] = zclock_usecs ();
            if (td_client_send (client, "bench", req.data, req.size)) {
                fprintf (stderr, "bench: send failed\n");
                exit (1);
            }
            sent++;
        }
        bool final;
        td_error_t err;
        td_msg_t *reply = td_client_recv (client, 5000, &final, &err);
        if (!reply) {
            fprintf (stderr, "bench: no reply: %s\n", err.message);
            exit (1);
        }
        int index = atoi (td_msg_id (reply));
        if (td_msg_status (reply) != 200)
            r->errors++;
        if (index >= 0 && index < n)
            rtt [done] = zclock_usecs () - sent_at [index];
        done++;
        td_msg_destroy (&reply);
    }
    s_summarise (r, rtt, n, zclock_usecs () - start);
    td_client_destroy (&client);
    zactor_destroy (&worker);
    zactor_destroy (&broker);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&req);
    free (payload);
    free (sent_at);
    free (rtt);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Floor: bare czmq relay

typedef struct {
    const char *frontend, *backend;
} relay_args_t;

static void
s_relay_actor (zsock_t *pipe, void *varg)
{
    relay_args_t *args = (relay_args_t *) varg;
    zsock_t *frontend = zsock_new_router (args->frontend);
    zsock_t *backend = zsock_new_router (args->backend);
    if (!frontend || !backend) {
        zsock_destroy (&frontend);
        zsock_destroy (&backend);
        zsock_signal (pipe, 0);
        return;                     //  ending at once tells s_run_floor the port was taken
    }
    zsock_set_sndhwm (frontend, 100000);
    zsock_set_rcvhwm (frontend, 100000);
    zsock_set_sndhwm (backend, 100000);
    zsock_set_rcvhwm (backend, 100000);
    zpoller_t *poller = zpoller_new (pipe, frontend, backend, NULL);
    zpoller_set_nonstop (poller, true);
    zframe_t *worker = NULL;        //  the one worker's identity, from its READY
    zsock_signal (pipe, 0);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe || !which)
            break;
        zmsg_t *msg = zmsg_recv (which);
        if (!msg)
            break;
        if (which == backend) {
            zframe_t *identity = zmsg_pop (msg);
            if (zmsg_size (msg) == 1) {         //  READY
                zframe_destroy (&worker);
                worker = identity;
                zmsg_destroy (&msg);
            }
            else {
                zframe_destroy (&identity);     //  [client][payload] -> frontend
                if (zmsg_send (&msg, frontend))
                    zmsg_destroy (&msg);
            }
        }
        else
        if (worker) {
            zframe_t *identity = zframe_dup (worker);
            zmsg_prepend (msg, &identity);      //  [worker][client][payload] -> backend
            if (zmsg_send (&msg, backend))
                zmsg_destroy (&msg);
        }
        else
            zmsg_destroy (&msg);
    }
    zframe_destroy (&worker);
    zpoller_destroy (&poller);
    zsock_destroy (&frontend);
    zsock_destroy (&backend);
}

//  The lean floor: the same relay on libzmq messages, draining each socket in batches and
//  moving frames without copies — what a relay costs when written for speed.
static int
s_forward (void *from, void *to, zmq_msg_t *prefix)
{
    //  One message from `from` to `to`; the first part of it (the sender's identity) is
    //  dropped when prefix is NULL... see the callers. Returns 0 when a message moved.
    zmq_msg_t part;
    zmq_msg_init (&part);
    if (zmq_msg_recv (&part, from, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&part);
        return -1;
    }
    bool more = zmq_msg_more (&part);
    if (prefix) {
        //  frontend -> backend: [worker][client identity][payload...]
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, prefix);
        zmq_msg_send (&copy, to, ZMQ_SNDMORE);
        zmq_msg_close (&copy);
        zmq_msg_send (&part, to, more? ZMQ_SNDMORE: 0);
    }
    //  backend -> frontend: drop the worker identity, forward the rest
    zmq_msg_close (&part);
    while (more) {
        zmq_msg_init (&part);
        zmq_msg_recv (&part, from, 0);
        more = zmq_msg_more (&part);
        zmq_msg_send (&part, to, more? ZMQ_SNDMORE: 0);
        zmq_msg_close (&part);
    }
    return 0;
}

static void
s_lean_relay_actor (zsock_t *pipe, void *varg)
{
    relay_args_t *args = (relay_args_t *) varg;
    zsock_t *frontend = zsock_new (ZMQ_ROUTER);
    zsock_t *backend = zsock_new (ZMQ_ROUTER);
    zsock_set_sndhwm (frontend, 100000);
    zsock_set_rcvhwm (frontend, 100000);
    zsock_set_sndhwm (backend, 100000);
    zsock_set_rcvhwm (backend, 100000);
    if (zsock_attach (frontend, args->frontend, true) || zsock_attach (backend, args->backend, true)) {
        zsock_destroy (&frontend);
        zsock_destroy (&backend);
        zsock_signal (pipe, 0);
        return;                     //  ending at once tells s_run_floor the port was taken
    }
    void *fh = zsock_resolve (frontend), *bh = zsock_resolve (backend);
    zmq_msg_t worker;
    zmq_msg_init (&worker);
    bool have_worker = false;
    zsock_signal (pipe, 0);
    while (true) {
        zmq_pollitem_t items [] = {
            { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
            { fh, 0, ZMQ_POLLIN, 0 },
            { bh, 0, ZMQ_POLLIN, 0 }
        };
        if (zmq_poll (items, 3, -1) < 0 || (items [0].revents & ZMQ_POLLIN))
            break;
        if (!have_worker && (items [2].revents & ZMQ_POLLIN)) {
            //  READY: [worker]["READY"]
            zmq_msg_t ready;
            zmq_msg_init (&ready);
            if (zmq_msg_recv (&worker, bh, 0) >= 0 && zmq_msg_recv (&ready, bh, 0) >= 0)
                have_worker = true;
            zmq_msg_close (&ready);
            continue;
        }
        for (int i = 0; i < 512 && have_worker && s_forward (fh, bh, &worker) == 0; i++)
            ;
        for (int i = 0; i < 512 && s_forward (bh, fh, NULL) == 0; i++)
            ;
    }
    zmq_msg_close (&worker);
    zsock_destroy (&frontend);
    zsock_destroy (&backend);
}

static void
s_echo_actor (zsock_t *pipe, void *varg)
{
    zsock_t *dealer = zsock_new_dealer ((const char *) varg);
    zsock_set_sndhwm (dealer, 100000);
    zsock_set_rcvhwm (dealer, 100000);
    zstr_send (dealer, "READY");
    zpoller_t *poller = zpoller_new (pipe, dealer, NULL);
    zpoller_set_nonstop (poller, true);
    zsock_signal (pipe, 0);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which != dealer)
            break;
        zmsg_t *msg = zmsg_recv (dealer);
        if (!msg || zmsg_send (&msg, dealer))
            zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
}

static int
s_run_floor (zactor_fn *relay_fn, const char *front, const char *back, int n, int window,
             size_t size, result_t *r)
{
    char fbind [128], bbind [128];
    snprintf (fbind, sizeof fbind, "@%s", front);
    snprintf (bbind, sizeof bbind, "@%s", back);
    relay_args_t rargs = { fbind, bbind };
    zactor_t *relay = zactor_new (relay_fn, &rargs);
    if (!relay || s_ended (relay))
        return -1;
    char bconnect [128];
    snprintf (bconnect, sizeof bconnect, ">%s", back);
    zactor_t *echo = zactor_new (s_echo_actor, bconnect);
    zclock_sleep (100);             //  let READY reach the relay
    zsock_t *client = zsock_new (ZMQ_DEALER);
    zsock_set_sndhwm (client, 100000);
    zsock_set_rcvhwm (client, 100000);
    if (!client || zsock_connect (client, "%s", front)) {
        fprintf (stderr, "bench: floor client failed\n");
        exit (1);
    }
    int64_t *sent_at = (int64_t *) calloc ((size_t) n, sizeof (int64_t));
    int64_t *rtt = (int64_t *) calloc ((size_t) n, sizeof (int64_t));
    byte *payload = (byte *) calloc (1, size < 8? 8: size);
    if (!sent_at || !rtt || !payload)
        exit (1);
    int sent = 0, done = 0;
    memset (r, 0, sizeof *r);
    int64_t start = zclock_usecs ();
    while (done < n) {
        while (sent < n && sent - done < window) {
            int32_t seq = sent;
            memcpy (payload, &seq, sizeof seq);
            sent_at [sent] = zclock_usecs ();
            zframe_t *frame = zframe_new (payload, size < 8? 8: size);
            if (zframe_send (&frame, client, 0)) {
                zframe_destroy (&frame);
                exit (1);
            }
            sent++;
        }
        zframe_t *frame = zframe_recv (client);
        if (!frame)
            exit (1);
        int32_t seq;
        memcpy (&seq, zframe_data (frame), sizeof seq);
        if (seq >= 0 && seq < n)
            rtt [done] = zclock_usecs () - sent_at [seq];
        done++;
        zframe_destroy (&frame);
    }
    s_summarise (r, rtt, n, zclock_usecs () - start);
    zsock_destroy (&client);
    zactor_destroy (&echo);
    zactor_destroy (&relay);
    free (sent_at);
    free (rtt);
    free (payload);
    return 0;
}

//  ---------------------------------------------------------------------------------------------

//  Packed size of a typical request (a 6-digit id), so the floor moves as many bytes.
static size_t
s_request_size (size_t body_size)
{
    msgpack_sbuffer body, req;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&req);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    char *payload = (char *) calloc (1, body_size + 1);
    size_t size = 0;
    td_request_spec_t spec = { .id = "100000", .type = "echo" };
    td_error_t err;
    if (payload && msgpack_pack_bin (&pk, body_size) == 0
    &&  msgpack_pack_bin_body (&pk, payload, body_size) == 0) {
        spec.body = body.data;
        spec.body_size = body.size;
        if (td_request_pack (&req, &spec, &err) == 0)
            size = req.size;
    }
    free (payload);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&req);
    return size;
}

int
main (int argc, char *argv [])
{
    int n = 200000, window = 100;
    size_t body_size = 64;
    const char *transport = "both";
    int repeats = 3;
    int only = -1;                  //  -o: run one path only (for profiling)
    int opt;
    long merge_max = -1;            //  -m: td_wire_set_merge_max, -1 keeps the default
    while ((opt = getopt (argc, argv, "n:w:s:t:r:o:m:h")) != -1) {
        switch (opt) {
            case 'n': n = atoi (optarg); break;
            case 'w': window = atoi (optarg); break;
            case 's': body_size = (size_t) atol (optarg); break;
            case 't': transport = optarg; break;
            case 'r': repeats = atoi (optarg); break;
            case 'm': merge_max = atol (optarg); break;
            case 'o': only = streq (optarg, "broker")? 0: streq (optarg, "floor")? 1: 2; break;
            default:
                printf ("usage: bench_broker [-n requests] [-w window] [-s body bytes] "
                        "[-t inproc|tcp|both] [-r repeats] [-m merge max bytes] "
                        "[-o broker|floor|zmsg]\n");
                return opt == 'h'? 0: 2;
        }
    }
    if (n < 100 || window < 1 || body_size > 1024 * 1024 || repeats < 1 || repeats > MAX_REPEATS
    ||  merge_max < -1 || merge_max > TD_MAX_MESSAGE
    || (!streq (transport, "inproc") && !streq (transport, "tcp") && !streq (transport, "both"))) {
        fprintf (stderr, "bench_broker: bad arguments (see -h)\n");
        return 2;
    }
    if (merge_max >= 0)
        td_wire_set_merge_max ((size_t) merge_max);
    //  libzmq I/O threads, for the floor and the broker alike: tutord's default
    //  (TUTORD_IO_THREADS, 2) unless BENCH_IO_THREADS says otherwise
    int io_threads = getenv ("BENCH_IO_THREADS")? atoi (getenv ("BENCH_IO_THREADS")): 2;
    if (io_threads < 1 || io_threads > 16) {
        fprintf (stderr, "bench_broker: BENCH_IO_THREADS must be 1 to 16\n");
        return 2;
    }
    zsys_set_io_threads ((size_t) io_threads);
    zsys_init ();
    zsys_set_linger (0);
    srandom ((unsigned) (getpid () ^ zclock_usecs ()));    //  distinct ports per process
    td_log_open (NULL, TD_LOG_WARN);
    printf ("$");
    for (int i = 0; i < argc; i++)
        printf (" %s", argv [i]);
    printf ("\n# %d requests per run, window %d, body %zu bytes (bin), median of %d interleaved runs\n",
            n, window, body_size, repeats);
    printf ("# broker path: bodies up to %zu bytes merged with their header (one frame per hop)"
            ", larger split; %d I/O thread(s); load average %s\n", td_wire_merge_max (),
            io_threads, s_loadavg ());
    printf ("# floor: lean ROUTER->ROUTER relay (libzmq messages, batched); zmsg: the same relay "
            "written with zmsg_recv/zmsg_send\n");
    printf ("%-9s %-7s %10s %12s %9s %9s %7s\n",
            "transport", "path", "bytes/req", "req/s", "p50 us", "p99 us", "errors");
    for (int t = 0; t < 2; t++) {
        bool tcp = t == 1;
        if ((tcp && streq (transport, "inproc")) || (!tcp && streq (transport, "tcp")))
            continue;
        //  Interleave the paths and repeat, so a noisy neighbour hurts all of them alike;
        //  report the run with the median rate of each path.
        result_t runs [3][MAX_REPEATS];
        size_t request_size = s_request_size (body_size);
        int port = 20000 + randof (12000);
        for (int rep = 0; rep < repeats; rep++) {
            for (int path = 0; path < 3; path++) {
                if (only >= 0 && path != only) {
                    memset (&runs [path][rep], 0, sizeof (result_t));
                    continue;
                }
                int rc = -1;
                for (int attempt = 0; attempt < 10 && rc; attempt++) {
                    char front [64], back [64], bind [80];
                    if (tcp) {
                        snprintf (front, sizeof front, "tcp://127.0.0.1:%d", port++);
                        snprintf (back, sizeof back, "tcp://127.0.0.1:%d", port++);
                    }
                    else {
                        snprintf (front, sizeof front, "inproc://bench-front-%d", port);
                        snprintf (back, sizeof back, "inproc://bench-back-%d", port++);
                    }
                    snprintf (bind, sizeof bind, "@%s", front);
                    if (path == 0)
                        rc = s_run_broker (bind, front, n, window, body_size, &runs [0][rep],
                                           &request_size);
                    else
                        rc = s_run_floor (path == 1? s_lean_relay_actor: s_relay_actor, front,
                                          back, n, window, request_size, &runs [path][rep]);
                }
                if (rc) {
                    fprintf (stderr, "bench_broker: no free port found\n");
                    return 1;
                }
            }
        }
        const char *name = tcp? "tcp": "inproc";
        const char *paths [] = { "broker", "floor", "zmsg" };
        result_t median [3];
        for (int path = 0; path < 3; path++) {
            qsort (runs [path], (size_t) repeats, sizeof (result_t), s_cmp_rate);
            median [path] = runs [path][repeats / 2];
        }
        for (int path = 1; path <= 3; path++) {
            int i = path % 3;           //  floor, zmsg, broker
            printf ("%-9s %-7s %10zu %12.0f %9.0f %9.0f %7d\n", name, paths [i], request_size,
                    median [i].rate, median [i].p50, median [i].p99, median [i].errors);
        }
        printf ("%-9s %-7s %10s %12.2f   (broker / floor)\n", name, "ratio", "",
                median [1].rate > 0? median [0].rate / median [1].rate: 0);
        printf ("%-9s %-7s %10s %12.2f   (broker / zmsg)\n", name, "ratio", "",
                median [2].rate > 0? median [0].rate / median [2].rate: 0);
        printf ("# %s done, load average %s\n", name, s_loadavg ());
        fflush (stdout);
    }
    td_log_close ();
    return 0;
}
