/*  td_metrics — the bridge's Prometheus counters and their text exposition.
 *
 *  Written by two threads (the lws thread counts HTTP requests and WebSocket connections, the
 *  bridge actor counts actor restarts from system.actor_restarted events), so every entry point
 *  takes one mutex. Series are bounded: labels come from the route table and the actor names,
 *  and past TD_METRICS_MAX_SERIES new label sets fold into route="other".
 */
#ifndef TD_METRICS_H
#define TD_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct td_metrics td_metrics_t;

#define TD_METRICS_MAX_SERIES  512     //  (route, method, status) request counters
#define TD_METRICS_MAX_ROUTES  128     //  duration histograms
#define TD_METRICS_MAX_ACTORS  32      //  restart counters
#define TD_METRICS_BUCKETS     12

td_metrics_t *td_metrics_new (void);
void td_metrics_destroy (td_metrics_t **self_p);
//  Count one finished HTTP request. route is the route pattern (or "static", "unmatched").
void td_metrics_http (td_metrics_t *self, const char *route, const char *method, int status,
                      double seconds);
//  +1 / -1 open WebSocket connections.
void td_metrics_ws (td_metrics_t *self, int delta);
//  Count one restart of actor.
void td_metrics_restart (td_metrics_t *self, const char *actor);
//  The principal cache's figures (td_authcache / td_authlisten), copied in by the lws thread.
typedef struct {
    bool present;                   //  false: no cache (no database, or turned off)
    bool live;
    unsigned long long entries, capacity, hits, misses, notifications, dropped, connects;
    double barrier_last_s, barrier_max_s;
} td_metrics_auth_t;
void td_metrics_authcache (td_metrics_t *self, const td_metrics_auth_t *snap);
//  Prometheus text (version 0.0.4). broker_status is the broker's status reply as JSON
//  ({"services": {name: {"workers", "queued", "inflight"}}, "journal"?: {"written", "dropped",
//  "queued", "errors"}}) or NULL when the broker did not answer. Returns a heap string the caller frees, NULL on out-of-memory.
char *td_metrics_format (td_metrics_t *self, const json_t *broker_status);
//  Escape a label value (backslash, double quote, newline) into buf. Returns buf.
char *td_metrics_escape (const char *value, char *buf, size_t size);

#endif
