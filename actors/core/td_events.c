/*  td_events — an actor's event outlet: a PUB socket connected to the broker's XSUB.
 *
 *  Why: events are [type][msgpack envelope] (CONTRACT.md §5) so subscribers filter by type
 *  prefix without decoding; td_event_pack builds and checks the envelope, this class only
 *  sends it. Best-effort (DESIGN.md principle 3): a send never blocks; when the queue is full
 *  the event is dropped and the caller told.
 */
#include <czmq.h>
#include <string.h>

#include "td_events.h"
#include "td_log.h"

struct td_events {
    zsock_t *pub;
    void *handle;                   //  libzmq handle of pub
    msgpack_sbuffer sbuf;           //  reused for every event
};

td_events_t *
td_events_new (const char *endpoint)
{
    if (!endpoint)
        return NULL;
    td_events_t *self = (td_events_t *) calloc (1, sizeof (td_events_t));
    if (!self)
        return NULL;
    msgpack_sbuffer_init (&self->sbuf);
    self->pub = zsock_new (ZMQ_PUB);
    if (!self->pub) {
        td_events_destroy (&self);
        return NULL;
    }
    zsock_set_sndhwm (self->pub, 10000);
    zsock_set_linger (self->pub, 100);     //  let the last events out on a clean stop
    self->handle = zsock_resolve (self->pub);
    if (zsock_attach (self->pub, endpoint, false)) {     //  one endpoint, or a list
        td_warn ("events", NULL, "cannot connect to %s", endpoint);
        td_events_destroy (&self);
        return NULL;
    }
    return self;
}

void
td_events_destroy (td_events_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_events_t *self = *self_p;
    zsock_destroy (&self->pub);
    msgpack_sbuffer_destroy (&self->sbuf);
    free (self);
    *self_p = NULL;
}

int
td_events_publish (td_events_t *self, const td_event_spec_t *spec, td_error_t *err)
{
    if (!self || !spec)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "no event to publish");
    msgpack_sbuffer_clear (&self->sbuf);
    if (td_event_pack (&self->sbuf, spec, err))
        return -1;
    //  td_event_pack checked the type, so it is a short valid name
    if (zmq_send (self->handle, spec->type, strlen (spec->type), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_send (self->handle, self->sbuf.data, self->sbuf.size, 0) < 0)
        return td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "the event could not be sent");
    return 0;
}

zmsg_t *
td_events_recv (zsock_t *sub, bool first, zframe_t **type, zframe_t **body)
{
    *type = *body = NULL;
    if (!first && !(zsock_events (sub) & ZMQ_POLLIN))
        return NULL;
    zmsg_t *msg = zmsg_recv (sub);
    if (msg && zmsg_size (msg) == 2) {
        *type = zmsg_first (msg);
        *body = zmsg_next (msg);
    }
    return msg;
}
