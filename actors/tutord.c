/*  tutord — the engine's process: broker, supervised actors and web bridge, as TUTORD_ACTORS says.
 *
 *  Start order is bind-before-connect: the broker (request and event planes), then the
 *  supervisor with the domain actors, then the web bridge. On SIGINT/SIGTERM the process drains:
 *  the bridge stops taking requests (503), the broker waits up to TUTORD_DRAIN_MS for requests in
 *  flight, then everything is stopped in reverse order and the process exits 0.
 *  A bad configuration stops start-up with one line naming the variable (exit 2); a part that
 *  cannot start (port in use) stops it with one line too (exit 1).
 */
#include <czmq.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "registry/td_registry.h"
#include "td_broker.h"
#include "td_config.h"
#include "td_log.h"
#include "td_names.h"
#include "td_supervisor.h"
#include "td_web.h"

#define TUTORD_VERSION "0.1.0"

static void
s_usage (FILE *out)
{
    fputs ("usage: tutord [--help] [--version]\n"
           "Runs the tutord engine: the broker, the actors of TUTORD_ACTORS and the web bridge,\n"
           "in the foreground until SIGINT or SIGTERM.\n\n", out);
    td_config_usage (out);
}

//  True when the actor is still running after ms: an actor that cannot start ends at once, and
//  its zactor pipe then carries the shim's final signal.
static bool
s_still_running (zactor_t *actor, int ms)
{
    zpoller_t *poller = zpoller_new (actor, NULL);
    if (!poller)
        return false;
    zpoller_set_nonstop (poller, true);
    void *which = zpoller_wait (poller, ms);
    zpoller_destroy (&poller);
    return which == NULL;
}

//  Stop an actor. One that is still running gets $TERM and is waited for without a limit: the
//  process must not exit while its threads use ZeroMQ. One that already ended (it failed to
//  start) would never answer, so its wait is cut short.
static void
s_stop (zactor_t **actor_p, bool ended)
{
    if (*actor_p) {
        zsock_set_rcvtimeo (zactor_sock (*actor_p), ended? 500: -1);
        zactor_destroy (actor_p);
    }
}

//  glibc hands the top of a heap back to the kernel once more than 128 KiB is free there, and
//  serves blocks from 128 KiB up with mmap. A server that builds and frees replies of tens or
//  hundreds of KiB per request (a course tree is 79 KB) then page-faults the same memory in again
//  on every request: about 11 % of the machine in tools/bench/bench_catalog.sh, and half the
//  throughput. Keeping up to 64 MiB free per heap and no mmap below 32 MiB removes that; the
//  cost is memory kept after a peak. TUTORD_MALLOC=default leaves glibc's settings alone.
static void
s_tune_malloc (void)
{
#if defined(__SANITIZE_ADDRESS__)
    return;                         //  ASan's allocator ignores mallopt (and answers 0)
#endif
    if (mallopt (M_TRIM_THRESHOLD, 64 << 20) != 1
    ||  mallopt (M_TOP_PAD, 8 << 20) != 1
    ||  mallopt (M_MMAP_THRESHOLD, 32 << 20) != 1)
        td_warn ("tutord", NULL, "cannot tune malloc; running with glibc's defaults");
}

int
main (int argc, char *argv [])
{
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            s_usage (stdout);
            return 0;
        }
        if (strcmp (argv [i], "--version") == 0) {
            printf ("tutord %s\n", TUTORD_VERSION);
            return 0;
        }
        fprintf (stderr, "tutord: unknown option '%s' (see tutord --help)\n", argv [i]);
        return 2;
    }
    static td_config_t cfg;
    char errbuf [512];
    if (td_config_load (&cfg, errbuf, sizeof errbuf) != 0) {
        fprintf (stderr, "tutord: %s\n", errbuf);
        return 2;
    }
    char logdir [PATH_MAX + 8];
    snprintf (logdir, sizeof logdir, "%s/log", cfg.var_dir);
    if (td_log_open (logdir, (td_log_level_t) cfg.log_level) != 0)
        td_warn ("tutord", NULL, "cannot open %s/tutord.log; logging to stderr only", logdir);
    signal (SIGPIPE, SIG_IGN);
    if (cfg.malloc_tuned)
        s_tune_malloc ();
    //  libzmq's I/O threads carry every tcp peer's frames (actors of other hosts, analysts,
    //  tutorctl); one was the broker's bottleneck over tcp (tools/bench/README.md, bench_broker
    //  with BENCH_IO_THREADS). inproc traffic does not use them.
    zsys_set_io_threads ((size_t) cfg.io_threads);
    zsys_init ();                   //  installs czmq's SIGINT/SIGTERM handler (zsys_interrupted)
    zsys_set_logstream (NULL);
    td_info ("tutord", NULL, "starting %s (var %s, http %s:%d)", TUTORD_VERSION, cfg.var_dir,
             cfg.http_host, cfg.http_port);

    int rc = 0;
    zactor_t *broker = NULL, *supervisor = NULL, *web = NULL;
    bool broker_ended = false, web_ended = false;
    char request_eps [1100], events_in [1100], events_out [1100];
    snprintf (request_eps, sizeof request_eps, "@%s,@%s", TD_INPROC_BROKER, cfg.broker);
    snprintf (events_out, sizeof events_out, "@%s,@%s", TD_INPROC_EVENTS, cfg.events);
    //  The local event path: this process's publishers get an XSUB of their own, and the web
    //  bridge takes the rest from a remote-only XPUB (td_config_events_direct)
    bool direct = td_config_events_direct (&cfg);
    if (direct)
        snprintf (events_in, sizeof events_in, "@%s", cfg.events_in);
    else
        snprintf (events_in, sizeof events_in, "@%s,@%s", TD_INPROC_EVENTS_IN, cfg.events_in);
    td_broker_args_t broker_args = {
        .request_endpoints = request_eps, .events_in = events_in, .events_out = events_out,
        .events_local_in = direct? "@" TD_INPROC_EVENTS_IN: NULL,
        .events_remote_out = direct? "@" TD_INPROC_EVENTS_REMOTE: NULL,
        .heartbeat_ms = cfg.heartbeat_ms, .journal_skip = cfg.journal_skip
    };
    if (cfg.run_broker) {
        broker = zactor_new (td_broker_actor, &broker_args);
        if (!broker || (broker_ended = !s_still_running (broker, 50))) {
            td_error ("tutord", NULL, "the broker cannot start: is %s, %s or %s in use?",
                      cfg.broker, cfg.events, cfg.events_in);
            rc = 1;
        }
    }
    //  One slot per actor, and TUTORD_SRS_WORKERS slots of srs: a review is one commit on the
    //  actor's one connection, so review throughput grows with srs actors (tools/bench/README.md).
    const td_actor_spec_t *specs [40];
    size_t count = 0;
    for (size_t i = 0; i < td_actor_names_count; i++)
        if (cfg.run_actor [i]) {
            const td_actor_spec_t *spec = td_registry_find (td_actor_names [i].actor);
            int copies = spec && strcmp (spec->name, "srs") == 0? cfg.srs_workers: 1;
            for (int c = 0; spec && c < copies && count < sizeof specs / sizeof specs [0]; c++)
                specs [count++] = spec;
        }
    td_supervisor_args_t sup_args = { .cfg = &cfg, .specs = specs, .count = count };
    if (rc == 0 && count > 0) {
        supervisor = zactor_new (td_supervisor_actor, &sup_args);
        if (!supervisor) {
            td_error ("tutord", NULL, "the supervisor cannot start");
            rc = 1;
        }
    }
    if (rc == 0 && cfg.run_web) {
        web = zactor_new (td_web_actor, &cfg);
        if (!web || (web_ended = !s_still_running (web, 100))) {
            td_error ("tutord", NULL, "the web bridge cannot listen on %s:%d: is it in use?",
                      cfg.http_host, cfg.http_port);
            rc = 1;
        }
    }
    if (rc == 0) {
        td_info ("tutord", NULL, "running %zu actors%s%s", count,
                 cfg.run_broker? ", the broker": "", cfg.run_web? ", the web bridge": "");
        while (!zsys_interrupted)
            zclock_sleep (100);
        td_info ("tutord", NULL, "stopping: draining for up to %d ms", cfg.drain_ms);
        if (web) {
            zstr_send (web, "DRAIN");
            zsock_set_rcvtimeo (zactor_sock (web), cfg.drain_ms + 2000);
            if (zsock_wait (web) != 0)
                td_warn ("tutord", NULL, "the web bridge did not confirm the drain");
        }
        if (broker) {
            zsock_set_rcvtimeo (zactor_sock (broker), cfg.drain_ms + 2000);
            int left = -1;
            char ms [16];
            snprintf (ms, sizeof ms, "%d", cfg.drain_ms);
            if (zsock_send (broker, "ss", "DRAIN", ms) != 0 || zsock_recv (broker, "i", &left) != 0)
                td_warn ("tutord", NULL, "the broker did not confirm the drain");
            else
            if (left > 0)
                td_warn ("tutord", NULL, "%d requests still in flight after the drain", left);
        }
    }
    s_stop (&web, web_ended);
    s_stop (&supervisor, false);
    s_stop (&broker, broker_ended);
    td_info ("tutord", NULL, "stopped");
    td_log_close ();
    return rc;
}
