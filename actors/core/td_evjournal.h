/*  td_evjournal — the durable journal of the event plane (issue 8 point 5).
 *
 *  PUB/SUB is best effort: a subscriber that is down misses what is published meanwhile. The
 *  event proxy (td_evproxy.c) hands a copy of every event it forwards to this journal, which
 *  appends them to PostgreSQL's events_journal table (schema/0018) from a thread of its own, in
 *  small batched transactions (every 10 ms or 100 events) on its own connection; consumers read
 *  the table after a cursor of their own (the analytics actor does, ANALYTICS.md §1).
 *
 *  The proxy never waits for PostgreSQL: the copy goes over an inproc PUSH that never blocks,
 *  into a bounded memory queue (TD_EVJOURNAL_MAX events). While PostgreSQL is down the queue
 *  waits and is written when it is back, in order; past the bound new events are dropped and
 *  counted (td_evjournal_dropped, logged). Not thread-safe: td_evjournal_offer is called by the
 *  proxy thread only.
 */
#ifndef TD_EVJOURNAL_H
#define TD_EVJOURNAL_H

#include <czmq.h>
#include <stdint.h>

#define TD_EVJOURNAL_MAX    100000  //  events held in memory while PostgreSQL is away
#define TD_EVJOURNAL_BATCH  100     //  rows per INSERT
#define TD_EVJOURNAL_MS     10      //  the longest an event waits for its batch

typedef struct td_evjournal td_evjournal_t;

//  Read one command from a zactor pipe: true when it tells the thread to stop ($TERM, or the
//  pipe is gone). For the proxy's and the journal's threads.
static inline bool
td_evjournal_pipe_stop (zsock_t *pipe)
{
    char *command = zstr_recv (pipe);
    bool term = !command || streq (command, "$TERM");
    zstr_free (&command);
    return term;
}

//  Start the writer thread for conninfo. NULL on failure (the caller runs without a journal).
td_evjournal_t *td_evjournal_new (const char *conninfo);
//  Flush what can be written (for at most ~1 s), stop the thread. Nulls *self_p.
void td_evjournal_destroy (td_evjournal_t **self_p);
//  A PUSH socket to offer events on, owned by the calling thread (the proxy's), which destroys
//  it. NULL on failure.
zsock_t *td_evjournal_connect (td_evjournal_t *self);
//  Hand over a copy of one event (its topic and body frames, which stay the caller's) on push;
//  never blocks (a full pipe drops the event and counts it).
void td_evjournal_offer (td_evjournal_t *self, zsock_t *push, zmq_msg_t *topic, zmq_msg_t *body);
//  Events written, and dropped (queue full or refused by PostgreSQL), since the start.
uint64_t td_evjournal_written (td_evjournal_t *self);
uint64_t td_evjournal_dropped (td_evjournal_t *self);
//  Every figure at once, for the broker's status (and so /metrics): written and dropped as
//  above, queued (events in memory waiting to be written, now) and errors (batch writes that
//  failed: PostgreSQL away or refusing; each is retried after a back-off). Any thread.
typedef struct {
    uint64_t written, dropped, queued, errors;
} td_evjournal_stats_t;
void td_evjournal_stats (td_evjournal_t *self, td_evjournal_stats_t *stats);

#endif
