/*  td_pg_ack — the acknowledgements a LISTEN connection sends for revocation barriers.
 *
 *  Identity answers a revoking write only once every listening backend has acknowledged its
 *  barrier (IDENTITY.md §1): each listener (the bridge's td_authlisten, identity's own
 *  td_identity_notify) reads notifications in commit order and, on a barrier "b:<id>", queues
 *  "a:<id>:<listener id>" to be sent on its own connection with pg_notify, one at a time,
 *  without blocking its poll loop. This is that queue, written once for both. One owner thread.
 */
#ifndef TD_PG_ACK_H
#define TD_PG_ACK_H

#include <libpq-fe.h>
#include <stdbool.h>

#define TD_PG_ACKS_MAX  64          //  acknowledgements waiting to be sent
#define TD_PG_ACK_LEN   128

typedef struct {
    char acks [TD_PG_ACKS_MAX][TD_PG_ACK_LEN];
    int head, count;
    bool inflight;                  //  a pg_notify of ours is running
    bool flush_pending;             //  libpq has unsent bytes (wait for POLLOUT)
} td_pg_ack_t;

//  Forget everything (a new connection).
void td_pg_ack_reset (td_pg_ack_t *self);

//  Queue the acknowledgement of barrier ("b:<id>") by listener id. A full queue drops it: the
//  barrier then waits its bound, which is slow but never unsafe.
void td_pg_ack_push (td_pg_ack_t *self, const char *barrier, const char *id);

//  Send the next acknowledgement on channel when none is running. false when the connection
//  is broken. The caller clears `inflight` when the query's results have been read.
bool td_pg_ack_send (td_pg_ack_t *self, PGconn *conn, const char *channel);

#endif
