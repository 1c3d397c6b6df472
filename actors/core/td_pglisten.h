/*  td_pglisten — a thread that LISTENs on one PostgreSQL channel, reconnects, and acknowledges
 *  revocation barriers: the loop the bridge's principal cache (bridges/web/td_authlisten.c) and
 *  identity's `me` cache and barrier tally (actors/identity/td_identity_notify.c) both need.
 *
 *  Why one: the loop is subtle (fail safe on every break, acknowledgements sent one at a time
 *  without blocking, libpq's results drained so a FATAL before close is seen) and was written
 *  twice. The owner supplies what a notification means (`notify`) and what being live means
 *  (`live`); this class owns the thread, the connection and the acknowledgement queue.
 *
 *  States:  down --connect + LISTEN ok--> live(true) --socket error / EOF / FATAL--> live(false),
 *  --500 ms--> connect again ...   stop: any state -> live(false) -> the thread exits.
 *  A barrier "b:<...>" is acknowledged with "a:<...>:<pid of our backend>" (td_pg_ack.h) after
 *  `notify` has applied it and everything before it.
 *
 *  Why a thread rather than an actor's poller: a blocking connect (up to 2 s when PostgreSQL is
 *  away) must not stall requests, and a drop must not wait behind a batch of work.
 */
#ifndef TD_PGLISTEN_H
#define TD_PGLISTEN_H

#include <stdbool.h>

typedef struct td_pglisten td_pglisten_t;

typedef struct {
    const char *actor;              //  the log lines' actor name
    const char *app;                //  application_name of the connection (barriers list them)
    const char *channel;
    const char *msg_down;           //  warned once when it cannot LISTEN
    const char *msg_broken;         //  warned when a live connection breaks
    const char *msg_back;           //  logged when live again after a warning (NULL: nothing)
    //  On the listener thread: one notification's payload, in commit order.
    void (*notify) (void *arg, const char *payload);
    //  On the listener thread: true once LISTEN succeeded on a new connection, false when it
    //  broke and when the listener stops. Never true twice in a row.
    void (*live) (void *arg, bool live);
    void *arg;
} td_pglisten_spec_t;

//  Start (conninfo and the spec's strings are copied or must be static; arg must outlive the
//  listener). NULL when the thread cannot start.
td_pglisten_t *td_pglisten_start (const char *conninfo, const td_pglisten_spec_t *spec);
//  Stop the thread (live(false) is called on it) and close the connection.
void td_pglisten_stop (td_pglisten_t **self_p);

#endif
