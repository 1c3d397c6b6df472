/*  td_pg_ack — the barrier acknowledgement queue of a LISTEN connection (see td_pg_ack.h). */
#include <stdio.h>
#include <string.h>
#include "td_pg_ack.h"

void
td_pg_ack_reset (td_pg_ack_t *self)
{
    self->head = self->count = 0;
    self->inflight = self->flush_pending = false;
}

void
td_pg_ack_push (td_pg_ack_t *self, const char *barrier, const char *id)
{
    if (self->count >= TD_PG_ACKS_MAX || strlen (barrier) < 2)
        return;
    int slot = (self->head + self->count) % TD_PG_ACKS_MAX;
    int n = snprintf (self->acks [slot], TD_PG_ACK_LEN, "a:%s:%s", barrier + 2, id);
    if (n > 0 && n < TD_PG_ACK_LEN)
        self->count++;
}

bool
td_pg_ack_send (td_pg_ack_t *self, PGconn *conn, const char *channel)
{
    if (self->inflight || self->count == 0)
        return true;
    const char *p [] = { channel, self->acks [self->head] };
    if (!PQsendQueryParams (conn, "SELECT pg_notify($1, $2)", 2, NULL, p, NULL, NULL, 0))
        return false;
    self->head = (self->head + 1) % TD_PG_ACKS_MAX;
    self->count--;
    self->inflight = true;
    int rc = PQflush (conn);
    self->flush_pending = rc == 1;
    return rc >= 0;
}
