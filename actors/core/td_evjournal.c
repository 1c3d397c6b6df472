/*  td_evjournal — the event plane's journal writer (see the header for why and how).
 *
 *  One thread owns a PULL socket, a FIFO of events waiting to be written and a PostgreSQL
 *  connection. An event waits at most TD_EVJOURNAL_MS (or until TD_EVJOURNAL_BATCH have
 *  gathered); a batch is one multi-row INSERT, so one transaction and one WAL flush. When the
 *  INSERT fails the batch stays at the head of the FIFO and is tried again after a back-off
 *  (250 ms, doubling to 2 s; the connection is reset when it is the one that failed), so
 *  PostgreSQL being restarted loses nothing as long as the FIFO holds. The rows are committed in
 *  the order the proxy forwarded the events, and a single writer makes `seq` grow in commit
 *  order: a reader's cursor never skips a row that commits later.
 */
#include "td_evjournal.h"
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "td_log.h"

#define LOG "journal"

typedef struct s_entry {
    struct s_entry *next;
    size_t topic_size, body_size;
    char data [];                   //  topic, then body
} s_entry_t;

struct td_evjournal {
    zactor_t *writer;
    char endpoint [64];
    char *conninfo;
    _Atomic uint64_t written, dropped;
    _Atomic uint64_t queued, errors;    //  mirrors of the writer's figures, for td_evjournal_stats
};

typedef struct {
    td_evjournal_t *owner;
    zsock_t *pull;
    PGconn *conn;
    s_entry_t *head, *tail;
    size_t queued;
    int64_t due;                    //  when the oldest waiting event must be written (mono ms)
    int64_t retry_at;               //  back-off after a failure (mono ms), 0 none
    int backoff;
    int64_t warned_at;
} s_writer_t;

//  Read every event waiting on the PULL into the FIFO (dropping past the bound).
static void
s_take (s_writer_t *w)
{
    void *h = zsock_resolve (w->pull);
    while (true) {
        zmq_msg_t topic, body;
        zmq_msg_init (&topic);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&topic, h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&topic);
            zmq_msg_close (&body);
            return;
        }
        bool whole = zmq_msg_more (&topic) && zmq_msg_recv (&body, h, 0) >= 0;
        while (zmq_msg_more (whole? &body: &topic)) {       //  more parts than two: not an event
            zmq_msg_t extra;
            zmq_msg_init (&extra);
            int rc = zmq_msg_recv (&extra, h, 0);
            bool more = rc >= 0 && zmq_msg_more (&extra);
            zmq_msg_close (&extra);
            whole = false;
            if (!more)
                break;
        }
        s_entry_t *e = NULL;
        if (whole && w->queued < TD_EVJOURNAL_MAX)
            e = malloc (sizeof *e + zmq_msg_size (&topic) + zmq_msg_size (&body));
        if (e) {
            e->next = NULL;
            e->topic_size = zmq_msg_size (&topic);
            e->body_size = zmq_msg_size (&body);
            memcpy (e->data, zmq_msg_data (&topic), e->topic_size);
            memcpy (e->data + e->topic_size, zmq_msg_data (&body), e->body_size);
            if (w->tail)
                w->tail->next = e;
            else {
                w->head = e;
                w->due = zclock_mono () + TD_EVJOURNAL_MS;
            }
            w->tail = e;
            w->queued++;
            atomic_store_explicit (&w->owner->queued, w->queued, memory_order_relaxed);
        }
        else
        if (atomic_fetch_add (&w->owner->dropped, 1) % 10000 == 0)
            td_warn (LOG, NULL, "events dropped: the journal's queue is full (%d) or an event "
                     "is malformed", TD_EVJOURNAL_MAX);
        zmq_msg_close (&topic);
        zmq_msg_close (&body);
    }
}

//  Write up to one batch from the head of the FIFO. 1 written, 0 nothing to do, -1 failed.
static int
s_write_batch (s_writer_t *w)
{
    if (!w->head)
        return 0;
    if (!w->conn || PQstatus (w->conn) != CONNECTION_OK) {
        if (!w->conn)
            w->conn = PQconnectdb (w->owner->conninfo);
        else
            PQreset (w->conn);
        if (PQstatus (w->conn) != CONNECTION_OK) {
            atomic_fetch_add (&w->owner->errors, 1);
            return -1;
        }
    }
    const char *values [2 * TD_EVJOURNAL_BATCH];
    int lengths [2 * TD_EVJOURNAL_BATCH], formats [2 * TD_EVJOURNAL_BATCH];
    char *topics [TD_EVJOURNAL_BATCH];
    char sql [64 + 16 * TD_EVJOURNAL_BATCH];
    size_t len = (size_t) snprintf (sql, sizeof sql,
                                    "INSERT INTO events_journal (topic, body) VALUES ");
    int n = 0;
    for (s_entry_t *e = w->head; e && n < TD_EVJOURNAL_BATCH; e = e->next, n++) {
        topics [n] = strndup (e->data, e->topic_size);     //  text needs its NUL
        values [2 * n] = topics [n]? topics [n]: "";
        lengths [2 * n] = 0;
        formats [2 * n] = 0;
        values [2 * n + 1] = e->data + e->topic_size;
        lengths [2 * n + 1] = (int) e->body_size;
        formats [2 * n + 1] = 1;
        len += (size_t) snprintf (sql + len, sizeof sql - len, "%s($%d, $%d)", n? ", ": "",
                                  2 * n + 1, 2 * n + 2);
    }
    PGresult *res = PQexecParams (w->conn, sql, 2 * n, NULL, values, lengths, formats, 0);
    bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    if (!ok)
        atomic_fetch_add (&w->owner->errors, 1);
    if (!ok && zclock_mono () - w->warned_at > 10000) {
        w->warned_at = zclock_mono ();
        td_warn (LOG, NULL, "cannot write the event journal (%zu events waiting): %s", w->queued,
                 PQerrorMessage (w->conn));
    }
    PQclear (res);
    for (int i = 0; i < n; i++)
        free (topics [i]);
    if (!ok)
        return -1;
    for (int i = 0; i < n; i++) {
        s_entry_t *e = w->head;
        w->head = e->next;
        free (e);
    }
    if (!w->head)
        w->tail = NULL;
    w->queued -= (size_t) n;
    atomic_store_explicit (&w->owner->queued, w->queued, memory_order_relaxed);
    w->due = zclock_mono () + TD_EVJOURNAL_MS;
    atomic_fetch_add (&w->owner->written, (uint64_t) n);
    return 1;
}

//  Write what is due (everything when force). false when a write failed (back off).
static bool
s_flush (s_writer_t *w, bool force)
{
    while (w->head && (force || w->queued >= TD_EVJOURNAL_BATCH || zclock_mono () >= w->due)) {
        if (s_write_batch (w) < 0)
            return false;
    }
    return true;
}

static void
s_run (zsock_t *pipe, void *args)
{
    s_writer_t w = { .owner = (td_evjournal_t *) args, .backoff = 250 };
    char bind [80];
    snprintf (bind, sizeof bind, "@%s", w.owner->endpoint);
    w.pull = zsock_new_pull (bind);
    zpoller_t *poller = w.pull? zpoller_new (pipe, w.pull, NULL): NULL;
    if (w.pull)
        zsock_set_rcvhwm (w.pull, 0);
    zsock_signal (pipe, poller? 0: 1);
    if (!poller) {
        zsock_destroy (&w.pull);
        return;
    }
    while (true) {
        int64_t now = zclock_mono (), wait = -1;
        if (w.retry_at)
            wait = w.retry_at > now? w.retry_at - now: 0;
        else
        if (w.head)
            wait = w.due > now? w.due - now: 0;
        void *which = zpoller_wait (poller, (int) wait);
        if (which == pipe && td_evjournal_pipe_stop (pipe))
            break;
        if (zpoller_terminated (poller))
            break;
        s_take (&w);
        if (w.retry_at && zclock_mono () < w.retry_at)
            continue;
        w.retry_at = 0;
        if (s_flush (&w, false))
            w.backoff = 250;
        else {
            w.retry_at = zclock_mono () + w.backoff;
            w.backoff = w.backoff < 2000? w.backoff * 2: 2000;
        }
    }
    //  Stopping: what is queued gets one more chance, for about a second.
    int64_t end = zclock_mono () + 1000;
    s_take (&w);
    while (w.head && zclock_mono () < end)
        if (!s_flush (&w, true))
            zclock_sleep (100);
    if (w.queued) {
        atomic_fetch_add (&w.owner->dropped, w.queued);
        td_warn (LOG, NULL, "%zu events not journaled at exit", w.queued);
        atomic_store (&w.owner->queued, 0);
    }
    while (w.head) {
        s_entry_t *e = w.head;
        w.head = e->next;
        free (e);
    }
    if (w.conn)
        PQfinish (w.conn);
    zpoller_destroy (&poller);
    zsock_destroy (&w.pull);
    //  libpq may have used OpenSSL on this thread: free its per-thread state before the thread
    //  says it is done (czmq's threads are detached; see td_actor_task)
    OPENSSL_thread_stop ();
}

td_evjournal_t *
td_evjournal_new (const char *conninfo)
{
    td_evjournal_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://td-evjournal-%p", (void *) self);
    self->conninfo = strdup (conninfo);
    atomic_init (&self->written, 0);
    atomic_init (&self->dropped, 0);
    atomic_init (&self->queued, 0);
    atomic_init (&self->errors, 0);
    if (self->conninfo)
        self->writer = zactor_new (s_run, self);
    if (!self->writer) {
        free (self->conninfo);
        free (self);
        return NULL;
    }
    return self;
}

void
td_evjournal_destroy (td_evjournal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_evjournal_t *self = *self_p;
    zactor_destroy (&self->writer);
    free (self->conninfo);
    free (self);
    *self_p = NULL;
}

zsock_t *
td_evjournal_connect (td_evjournal_t *self)
{
    char ep [80];
    snprintf (ep, sizeof ep, ">%s", self->endpoint);
    zsock_t *push = zsock_new_push (ep);
    if (push) {
        zsock_set_sndhwm (push, 100000);
        zsock_set_linger (push, 1000);
    }
    return push;
}

void
td_evjournal_offer (td_evjournal_t *self, zsock_t *push, zmq_msg_t *topic, zmq_msg_t *body)
{
    void *h = zsock_resolve (push);
    zmq_msg_t t, b;
    zmq_msg_init (&t);
    zmq_msg_init (&b);
    if (zmq_msg_copy (&t, topic) != 0 || zmq_msg_copy (&b, body) != 0
    ||  zmq_msg_send (&t, h, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&t);
        zmq_msg_close (&b);
        atomic_fetch_add (&self->dropped, 1);
        return;
    }
    if (zmq_msg_send (&b, h, ZMQ_DONTWAIT) < 0) {      //  cannot happen once the first part went
        zmq_msg_close (&b);
        atomic_fetch_add (&self->dropped, 1);
    }
}

uint64_t
td_evjournal_written (td_evjournal_t *self)
{
    return atomic_load (&self->written);
}

uint64_t
td_evjournal_dropped (td_evjournal_t *self)
{
    return atomic_load (&self->dropped);
}

void
td_evjournal_stats (td_evjournal_t *self, td_evjournal_stats_t *stats)
{
    stats->written = atomic_load (&self->written);
    stats->dropped = atomic_load (&self->dropped);
    stats->queued = atomic_load (&self->queued);
    stats->errors = atomic_load (&self->errors);
}
