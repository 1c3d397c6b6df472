/*  td_authlisten — the web bridge's LISTEN connection: keeps the principal cache honest.
 *
 *  One thread per bridge (so per tutord process) holding one libpq connection that LISTENs on
 *  the channel `tutord_auth` (schema/0012_identity_notify.sql) and drops the matching entries of
 *  the td_authcache_t the moment a notification arrives: the listener itself drops them, under
 *  the cache's lock, so no other thread's queue stands between PostgreSQL and the drop.
 *
 *  Fail safe: the cache is marked live only once LISTEN has succeeded on a fresh connection, and
 *  marked not live (flushed, bypassed) as soon as the connection fails, before reconnecting
 *  (every 500 ms). Notifications sent while it was down are lost, so it starts empty again.
 *
 *  Why a thread rather than the actor's poller: a blocking connect (up to 2 s when PostgreSQL is
 *  away) must not stall requests, and the drop must not wait behind a batch of jobs.
 */
#ifndef TD_AUTHLISTEN_H
#define TD_AUTHLISTEN_H

#include <stdint.h>
#include "td_authcache.h"

#define TD_AUTH_CHANNEL "tutord_auth"

typedef struct td_authlisten td_authlisten_t;

//  Start listening with conninfo (copied) into cache (not owned; must outlive the listener).
//  NULL when the thread cannot start (the cache then stays not live: no caching).
td_authlisten_t *td_authlisten_start (const char *conninfo, td_authcache_t *cache);
//  Stop the thread, close the connection, mark the cache not live.
void td_authlisten_stop (td_authlisten_t **self_p);

typedef struct {
    uint64_t notifications;         //  received
    uint64_t dropped;               //  cache entries dropped by them
    uint64_t connects;              //  successful LISTENs
    uint64_t barriers;              //  "b:<unix us>:..." payloads seen
    int64_t barrier_last_us;        //  commit -> here of the last barrier (identity's clock)
    int64_t barrier_max_us;
} td_authlisten_stats_t;
void td_authlisten_stats (td_authlisten_t *self, td_authlisten_stats_t *out);

#endif
