/*  td_actor_call — asynchronous requests from inside an actor (see the header).
 *
 *  Invariant: every pending call is in `pending` (id -> s_pending_t) from a successful send
 *  until its callback runs; the entry is removed BEFORE the callback runs, so a callback may
 *  send new calls, and a reply arriving after its call timed out finds nothing and is dropped.
 */
#include <czmq.h>
#include <string.h>
#include "td_actor_call.h"
#include "td_client.h"
#include "td_log.h"

#define GRACE_MS 1000

typedef struct {
    td_acall_fn *fn;
    void *arg;
    int64_t expires;                //  zclock_mono ms
} s_pending_t;

struct td_acall {
    td_client_t *client;
    zhashx_t *pending;              //  request id -> s_pending_t (owned)
    msgpack_sbuffer buf;
    char log [64];
};

static void
s_pending_free (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_string_free (void **item)
{
    zstr_free ((char **) item);
}

td_acall_t *
td_acall_new (const char *endpoint, const char *log_name)
{
    td_acall_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    msgpack_sbuffer_init (&self->buf);
    snprintf (self->log, sizeof self->log, "%s", log_name? log_name: "acall");
    self->client = td_client_new (endpoint);
    self->pending = zhashx_new ();
    if (!self->client || !self->pending) {
        td_client_destroy (&self->client);
        zhashx_destroy (&self->pending);
        msgpack_sbuffer_destroy (&self->buf);
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->pending, s_pending_free);
    return self;
}

//  Remove the call `id` and run its callback.
static void
s_end (td_acall_t *self, td_actor_t *actor, const char *id, const td_msg_t *reply,
       const td_error_t *err)
{
    s_pending_t *p = (s_pending_t *) zhashx_lookup (self->pending, id);
    if (!p)
        return;
    s_pending_t copy = *p;
    zhashx_delete (self->pending, id);
    copy.fn (actor, copy.arg, reply, err);
}

void
td_acall_destroy (td_acall_t **self_p, td_actor_t *actor)
{
    if (!self_p || !*self_p)
        return;
    td_acall_t *self = *self_p;
    td_error_t err;
    td_error_set (&err, TD_ERR_UNAVAILABLE, NULL, "the caller is stopping");
    while (zhashx_size (self->pending) > 0) {
        zhashx_first (self->pending);
        char id [TD_MAX_ID + 1];
        snprintf (id, sizeof id, "%s", (const char *) zhashx_cursor (self->pending));
        s_end (self, actor, id, NULL, &err);
    }
    zhashx_destroy (&self->pending);
    td_client_destroy (&self->client);
    msgpack_sbuffer_destroy (&self->buf);
    free (self);
    *self_p = NULL;
}

zsock_t *
td_acall_sock (td_acall_t *self)
{
    return td_client_sock (self->client);
}

int
td_acall_send (td_acall_t *self, const char *service, const td_request_spec_t *spec,
               int timeout_ms, td_acall_fn *fn, void *arg, td_error_t *err)
{
    if (!spec || !fn || timeout_ms <= 0)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "a call needs a spec, a callback and a timeout");
    td_request_spec_t copy = *spec;
    char id [33];
    if (!copy.id) {
        td_new_id (id);
        copy.id = id;
    }
    if (zhashx_lookup (self->pending, copy.id))
        return td_error_set (err, TD_ERR_CONFLICT, NULL, "a call with this id is already pending");
    if (copy.deadline == 0)
        copy.deadline = td_now_ms () + timeout_ms;
    msgpack_sbuffer_clear (&self->buf);
    if (td_request_pack (&self->buf, &copy, err))
        return -1;
    s_pending_t *p = calloc (1, sizeof *p);
    if (!p)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
    *p = (s_pending_t) { .fn = fn, .arg = arg, .expires = zclock_mono () + timeout_ms + GRACE_MS };
    if (td_client_send (self->client, service, self->buf.data, self->buf.size) != 0) {
        free (p);
        return td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "the request to %s could not be queued",
                             service? service: "?");
    }
    if (zhashx_insert (self->pending, copy.id, p) != 0) {
        free (p);                   //  sent, but its reply will be dropped as unknown
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
    }
    return 0;
}

void
td_acall_dispatch (td_acall_t *self, td_actor_t *actor)
{
    for (int n = 0; n < 256; n++) {
        bool final = false;
        td_error_t err;
        td_msg_t *msg = td_client_recv (self->client, 0, &final, &err);
        if (!msg) {
            if (err.code == TD_ERR_TIMEOUT)
                break;              //  nothing more waiting
            td_warn (self->log, NULL, "dropped a reply: %s", err.message);
            continue;
        }
        if (final)
            s_end (self, actor, td_msg_id (msg), msg, NULL);
        td_msg_destroy (&msg);
    }
}

void
td_acall_expire (td_acall_t *self, td_actor_t *actor)
{
    int64_t now = zclock_mono ();
    zlistx_t *late = zlistx_new ();
    if (!late)
        return;
    zlistx_set_destructor (late, s_string_free);
    for (s_pending_t *p = (s_pending_t *) zhashx_first (self->pending); p;
         p = (s_pending_t *) zhashx_next (self->pending))
        if (p->expires <= now)
            zlistx_add_end (late, strdup ((const char *) zhashx_cursor (self->pending)));
    td_error_t err;
    td_error_set (&err, TD_ERR_TIMEOUT, NULL, "no reply in time");
    for (char *id = (char *) zlistx_first (late); id; id = (char *) zlistx_next (late)) {
        td_warn (self->log, NULL, "call %s got no reply in time", id);
        s_end (self, actor, id, NULL, &err);
    }
    zlistx_destroy (&late);
}

size_t
td_acall_pending (td_acall_t *self)
{
    return zhashx_size (self->pending);
}
