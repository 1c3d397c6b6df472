/*  td_evproxy — XSUB -> XPUB forwarding in a thread of its own (see the header for why).
 *
 *  With the local event path (td_config_events_direct) there are two inputs and two outputs:
 *  this process's publishers come in on their own XSUB and go out on the XPUB only (they hand
 *  their events to the web bridge of this process themselves); other processes' come in on the
 *  main XSUB and go out on the XPUB and on a remote-only XPUB the bridge subscribes to. So the
 *  bridge gets every event once, and its own process's one thread hop sooner.
 *
 *  Messages are moved frame by frame with zmq_msg_t (never copied); subscription messages from
 *  the XPUB go back up the XSUB so publishers filter at the source. Each wake-up drains up to a
 *  batch per socket so neither direction starves the other. The XPUB keeps ZeroMQ's default
 *  behaviour for a slow subscriber (it drops for that subscriber, never blocks): events are
 *  best-effort by design (DESIGN.md principle 3). What makes them durable is the journal: with
 *  TUTORD_DB set, every event forwarded is also offered (a reference-counted copy, never a wait)
 *  to td_evjournal, which appends it to PostgreSQL for consumers that were away.
 */
#include "td_evproxy.h"
#include <stdlib.h>
#include <string.h>
#include "td_config.h"
#include "td_evjournal.h"
#include "td_log.h"

#define BATCH 256

struct td_evproxy {
    zactor_t *actor;
    zsock_t *xsub;                  //  handed to the actor thread once it runs
    zsock_t *xpub;
    zsock_t *local_xsub;            //  this process's publishers (NULL: they use xsub)
    zsock_t *remote_xpub;           //  what came in on xsub only (NULL: none)
    td_evjournal_t *journal;        //  NULL when off
    //  Type prefixes the journal leaves out (TUTORD_EVENTS_JOURNAL_SKIP)
    char skip [TD_JOURNAL_SKIP_MAX][TD_JOURNAL_SKIP_LEN + 1];
    size_t skip_len [TD_JOURNAL_SKIP_MAX];
    int skips;
};

//  True when the journal leaves events of this topic out.
static bool
s_skipped (const td_evproxy_t *self, zmq_msg_t *topic)
{
    const char *data = (const char *) zmq_msg_data (topic);
    size_t size = zmq_msg_size (topic);
    for (int i = 0; i < self->skips; i++)
        if (size >= self->skip_len [i] && memcmp (data, self->skip [i], self->skip_len [i]) == 0)
            return true;
    return false;
}

//  Move one whole multipart message from src to dst, and a copy to dst2 when set (zmq_msg_copy:
//  a reference, not a copy of the bytes, past 33 bytes). 0, or -1 when nothing was waiting.
//  With a journal (push set), a two-part event [topic, body] is also offered to it unless its
//  topic is one the journal skips.
static int
s_move (const td_evproxy_t *self, void *src, void *dst, void *dst2, zsock_t *push)
{
    bool first = true, more = true;
    int parts = 0;
    zmq_msg_t topic;
    zmq_msg_init (&topic);
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, src, first? ZMQ_DONTWAIT: 0) < 0) {
            zmq_msg_close (&part);
            zmq_msg_close (&topic);
            return first? -1: 0;
        }
        first = false;
        more = zmq_msg_more (&part);
        parts++;
        if (push && parts == 1 && more && s_skipped (self, &part))
            push = NULL;            //  not this one
        else
        if (push && parts == 1 && more && zmq_msg_copy (&topic, &part) != 0)
            push = NULL;            //  cannot keep the topic: not journaled (never happens)
        else
        if (push && parts == 2 && !more)
            td_evjournal_offer (self->journal, push, &topic, &part);
        if (dst2) {
            zmq_msg_t copy;
            zmq_msg_init (&copy);
            if (zmq_msg_copy (&copy, &part) != 0
            ||  zmq_msg_send (&copy, dst2, more? ZMQ_SNDMORE: 0) < 0)
                zmq_msg_close (&copy);
        }
        if (zmq_msg_send (&part, dst, more? ZMQ_SNDMORE: 0) < 0)
            zmq_msg_close (&part);  //  dropped (no subscriber / HWM): best-effort
    }
    zmq_msg_close (&topic);
    return 0;
}

static void
s_proxy (zsock_t *pipe, void *args)
{
    td_evproxy_t *self = (td_evproxy_t *) args;
    void *xsub = zsock_resolve (self->xsub), *xpub = zsock_resolve (self->xpub);
    void *lxsub = self->local_xsub? zsock_resolve (self->local_xsub): NULL;
    void *rxpub = self->remote_xpub? zsock_resolve (self->remote_xpub): NULL;
    zpoller_t *poller = zpoller_new (pipe, self->xsub, self->xpub, NULL);
    if (poller && ((lxsub && zpoller_add (poller, self->local_xsub))
                || (rxpub && zpoller_add (poller, self->remote_xpub))))
        zpoller_destroy (&poller);
    zsock_signal (pipe, 0);
    if (!poller) {
        td_error ("broker", NULL, "the event proxy cannot poll; events stop");
        return;
    }
    zpoller_set_nonstop (poller, true);
    zsock_t *push = self->journal? td_evjournal_connect (self->journal): NULL;
    if (self->journal && !push)
        td_error ("broker", NULL, "the event journal cannot be fed; events are not journaled");
    //  Publishers filter at the source by what is subscribed downstream; the journal wants every
    //  event, also those nobody listens to right now (a consumer that is down), so the proxy
    //  subscribes to everything upstream itself. The XPUB still filters per subscriber.
    if (push) {
        unsigned char all = 1;
        if (zmq_send (xsub, &all, 1, 0) != 1 || (lxsub && zmq_send (lxsub, &all, 1, 0) != 1))
            td_error ("broker", NULL, "the event journal cannot subscribe upstream");
    }
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe && td_evjournal_pipe_stop (pipe))
            break;
        //  Events: from other processes to every subscriber and to the remote-only XPUB; from
        //  this process's publishers (who hand them to the web bridge themselves) to the XPUB
        for (int i = 0; i < BATCH && s_move (self, xsub, xpub, rxpub, push) == 0; i++)
            ;
        for (int i = 0; lxsub && i < BATCH && s_move (self, lxsub, xpub, NULL, push) == 0; i++)
            ;
        //  Subscriptions: the XPUB's go to both inputs, the remote-only XPUB's to its own
        for (int i = 0; i < BATCH && s_move (self, xpub, xsub, lxsub, NULL) == 0; i++)
            ;
        for (int i = 0; rxpub && i < BATCH && s_move (self, rxpub, xsub, NULL, NULL) == 0; i++)
            ;
    }
    zsock_destroy (&push);
    zpoller_destroy (&poller);
}

td_evproxy_t *
td_evproxy_new (const char *events_in, const char *events_out, const char *local_in,
                const char *remote_out, const char *journal_skip)
{
    td_evproxy_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    //  The list was checked by td_config; here it is only split (and bounded)
    const char *p = journal_skip? journal_skip: TD_JOURNAL_SKIP_DEFAULT;
    while (*p && self->skips < TD_JOURNAL_SKIP_MAX) {
        size_t n = strcspn (p, ",");
        if (n > 0 && n <= TD_JOURNAL_SKIP_LEN) {
            memcpy (self->skip [self->skips], p, n);
            self->skip [self->skips][n] = 0;
            self->skip_len [self->skips++] = n;
        }
        p += n + (p [n] == ',');
    }
    self->xsub = zsock_new (ZMQ_XSUB);
    self->xpub = zsock_new (ZMQ_XPUB);
    if (self->xpub)
        zsock_set_sndhwm (self->xpub, 10000);
    if (local_in && *local_in)
        self->local_xsub = zsock_new (ZMQ_XSUB);
    if (remote_out && *remote_out)
        self->remote_xpub = zsock_new (ZMQ_XPUB);
    if (self->remote_xpub)
        zsock_set_sndhwm (self->remote_xpub, 10000);
    if (!self->xsub || !self->xpub
    ||  (local_in && *local_in && !self->local_xsub)
    ||  (remote_out && *remote_out && !self->remote_xpub)
    ||  zsock_attach (self->xsub, events_in, true) != 0
    ||  zsock_attach (self->xpub, events_out, true) != 0
    ||  (self->local_xsub && zsock_attach (self->local_xsub, local_in, true) != 0)
    ||  (self->remote_xpub && zsock_attach (self->remote_xpub, remote_out, true) != 0)) {
        td_evproxy_destroy (&self);
        return NULL;
    }
    //  The journal: on when this process has TUTORD_DB (a process that runs only the broker
    //  without it has none), unless TUTORD_EVENTS_JOURNAL=0.
    const char *db = getenv ("TUTORD_DB"), *on = getenv ("TUTORD_EVENTS_JOURNAL");
    if (db && *db && !(on && strcmp (on, "0") == 0)) {
        self->journal = td_evjournal_new (db);
        if (!self->journal)
            td_warn ("broker", NULL, "the event journal cannot start; events are not journaled");
    }
    //  From here the sockets belong to the proxy thread (a hand-off: thread creation is the
    //  memory barrier ZeroMQ asks for when a socket changes threads).
    self->actor = zactor_new (s_proxy, self);
    if (!self->actor) {
        td_evproxy_destroy (&self);
        return NULL;
    }
    return self;
}

void
td_evproxy_destroy (td_evproxy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_evproxy_t *self = *self_p;
    zactor_destroy (&self->actor);  //  the thread has stopped using the sockets when this returns
    td_evjournal_destroy (&self->journal);  //  after the proxy: it flushes what it was given
    zsock_destroy (&self->xsub);
    zsock_destroy (&self->xpub);
    zsock_destroy (&self->local_xsub);
    zsock_destroy (&self->remote_xpub);
    free (self);
    *self_p = NULL;
}

bool
td_evproxy_journal_stats (td_evproxy_t *self, td_evjournal_stats_t *stats)
{
    if (!self || !self->journal)
        return false;
    td_evjournal_stats (self->journal, stats);
    return true;
}
