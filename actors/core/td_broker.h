/*  td_broker — the broker actor: request plane (ROUTER, routed by service) and event plane
 *  (XSUB -> XPUB, via td_evproxy).
 *
 *  Start with zactor_new (td_broker_actor, &args); args must outlive the actor. When an endpoint
 *  cannot be bound the actor logs why and ends at once, so its pipe turns readable (the shim's
 *  final signal): poll it briefly after zactor_new to tell.
 *  Pipe commands (each answered as noted):
 *    "DRAIN" <ms as string>  stop taking new requests (answer 503), wait until no request is in
 *                            flight or ms passed; replies with the picture "i": requests left.
 *    "STATUS"                replies "s": JSON text of td_broker status (services, workers,
 *                            queued, in flight, totals).
 *    "$TERM"                 ends the actor.
 *  Requests to service "broker": "ping" -> 200 {"actor":"broker"}; "status" -> 200 the status map
 *  {"services": {name: {"workers", "queued", "inflight"}}, "requests", "replies", "unavailable",
 *   "timeouts", "invalid"}.
 *  The status map (and STATUS JSON) also carries "late" (worker replies dropped because the
 *  request had already been answered 504/503), "queued", "inflight", "workers" (totals) and
 *  "draining" (bool).
 */
#ifndef TD_BROKER_H
#define TD_BROKER_H

#include <czmq.h>

typedef struct {
    const char *request_endpoints;  //  zsock_attach list, e.g. "@inproc://tutord-broker,@tcp://127.0.0.1:5555"
    const char *events_in;          //  XSUB binds, e.g. "@inproc://tutord-events-in,@tcp://127.0.0.1:5557"
    const char *events_out;         //  XPUB binds, e.g. "@inproc://tutord-events,@tcp://127.0.0.1:5556"
    const char *events_local_in;    //  XSUB binds for this process's publishers (NULL: they use events_in)
    const char *events_remote_out;  //  XPUB binds of what came in on events_in only (NULL: none)
    const char *journal_skip;       //  type prefixes the event journal leaves out; NULL -> TD_JOURNAL_SKIP_DEFAULT
    int heartbeat_ms;               //  0 -> TD_HEARTBEAT_MS
    int liveness;                   //  0 -> TD_LIVENESS
    int queue_limit;                //  queued requests per service before 503; 0 -> 10000
} td_broker_args_t;

void td_broker_actor (zsock_t *pipe, void *args);

#endif
