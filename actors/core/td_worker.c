/*  td_worker — the worker side of the request plane (td_wire.h): one DEALER to the broker, one
 *  service, heartbeats and reconnection.
 *
 *  Why: every actor serves its service through this class, so the liveness rules of the
 *  protocol live in one place. The owner thread polls td_worker_sock(), calls td_worker_recv()
 *  when it is readable and td_worker_tick() at least every td_worker_timeout_ms().
 *
 *  Liveness: any message from the broker proves it alive. When nothing has come for
 *  liveness x heartbeat, or the broker sent DISCONNECT, the worker closes its socket and opens a
 *  new one (a new ROUTER identity, so the broker sees a fresh worker) and sends READY again.
 *  The socket is only ever replaced inside td_worker_tick, which returns 1 then, so the owner
 *  never polls a destroyed socket. A job carries the session (connection number) it came on;
 *  a reply to a job of an older session is dropped, since its ticket means nothing to the
 *  broker on the new connection.
 */
#include <czmq.h>
#include <unistd.h>
#include <string.h>

#include "td_worker.h"
#include "td_wire.h"
#include "td_mp.h"
#include "td_log.h"

struct td_worker {
    char *endpoint;
    char service [TD_MAX_NAME + 1];
    char actor [TD_MAX_NAME + 1];
    int capacity;
    int heartbeat_ms;
    int liveness;
    zsock_t *sock;
    void *handle;                   //  libzmq handle of sock
    uint32_t session;               //  bumped on every (re)connection
    bool heard;                     //  heard from the broker on this connection
    bool reconnect;                 //  DISCONNECT received: reconnect at the next tick
    int64_t expiry;                 //  mono ms: broker presumed dead at this time
    int64_t heartbeat_at;           //  mono ms: next HEARTBEAT unless other traffic went out
    msgpack_sbuffer sbuf;           //  for 400 answers
};

struct td_job {
    byte ticket [TD_TICKET_SIZE];
    uint32_t session;
    td_msg_t *msg;
};

//  Send ["TDW1" cmd ticket?][body?], merged when the body is small (td_wire.h). Never blocks.
static int
s_send (td_worker_t *self, byte cmd, const void *ticket, const void *body, size_t size)
{
    if (td_wire_send (self->handle, TD_WIRE_WORKER, cmd, ticket, ticket? TD_TICKET_SIZE: 0,
                      ticket? body: NULL, size))
        return -1;
    self->heartbeat_at = zclock_mono () + self->heartbeat_ms;
    return 0;
}

static int
s_send_ready (td_worker_t *self)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    char host [256] = "";
    if (gethostname (host, sizeof host - 1))
        snprintf (host, sizeof host, "unknown");
    int rc = msgpack_pack_map (&pk, 4);
    rc |= td_mp_pack_kv_str (&pk, "actor", self->actor);
    rc |= td_mp_pack_kv_int (&pk, "capacity", self->capacity);
    rc |= td_mp_pack_kv_int (&pk, "pid", (int64_t) getpid ());
    rc |= td_mp_pack_kv_str (&pk, "host", host);
    if (rc == 0)
        rc = td_wire_send (self->handle, TD_WIRE_WORKER, TD_W_READY, self->service,
                           strlen (self->service), buf.data, buf.size);
    msgpack_sbuffer_destroy (&buf);
    return rc;
}

static int
s_connect (td_worker_t *self)
{
    zsock_destroy (&self->sock);
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock)
        return -1;
    zsock_set_linger (self->sock, 0);
    zsock_set_sndhwm (self->sock, 100000);
    zsock_set_rcvhwm (self->sock, 100000);
    zsock_set_maxmsgsize (self->sock, TD_MAX_MESSAGE + 65536);
    self->handle = zsock_resolve (self->sock);
    self->session++;
    self->heard = false;
    self->reconnect = false;
    int64_t now = zclock_mono ();
    self->expiry = now + (int64_t) self->heartbeat_ms * self->liveness;
    self->heartbeat_at = now + self->heartbeat_ms;
    if (zsock_connect (self->sock, "%s", self->endpoint)) {
        td_warn (self->actor, NULL, "cannot connect to broker %s", self->endpoint);
        return -2;                  //  a bad endpoint: td_worker_new fails, tick retries
    }
    if (s_send_ready (self))
        td_warn (self->actor, NULL, "cannot send READY to %s (will retry)", self->endpoint);
    return 0;
}

td_worker_t *
td_worker_new (const char *endpoint, const char *service, const char *actor,
               int capacity, int heartbeat_ms)
{
    if (!endpoint || !service || !td_name_valid (service)
    ||  (actor && strlen (actor) > TD_MAX_NAME))
        return NULL;
    td_worker_t *self = (td_worker_t *) calloc (1, sizeof (td_worker_t));
    if (!self)
        return NULL;
    self->endpoint = strdup (endpoint);
    snprintf (self->service, sizeof self->service, "%s", service);
    snprintf (self->actor, sizeof self->actor, "%s", actor? actor: service);
    self->capacity = capacity > 0? capacity: TD_DEFAULT_CAPACITY;
    self->heartbeat_ms = heartbeat_ms > 0? heartbeat_ms: TD_HEARTBEAT_MS;
    self->liveness = TD_LIVENESS;
    msgpack_sbuffer_init (&self->sbuf);
    if (!self->endpoint || s_connect (self) || !self->sock) {
        td_worker_destroy (&self);
        return NULL;
    }
    return self;
}

void
td_worker_destroy (td_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_worker_t *self = *self_p;
    if (self->sock && s_send (self, TD_W_DISCONNECT, NULL, NULL, 0))
        td_debug (self->actor, NULL, "DISCONNECT not sent");
    zsock_destroy (&self->sock);
    msgpack_sbuffer_destroy (&self->sbuf);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

zsock_t *
td_worker_sock (td_worker_t *self)
{
    return self->sock;
}

bool
td_worker_connected (td_worker_t *self)
{
    return self->heard && !self->reconnect && zclock_mono () < self->expiry;
}

//  Answer an invalid request 400 ourselves, so the broker frees its ticket.
static void
s_answer_invalid (td_worker_t *self, const byte *ticket, const void *data, size_t size,
                  const td_error_t *why)
{
    char id [TD_MAX_ID + 1] = "";
    td_error_t err;
    if (size && td_mp_check (data, size, &err) == 0) {
        msgpack_unpacked up;
        msgpack_unpacked_init (&up);
        if (msgpack_unpack_next (&up, (const char *) data, size, NULL) == MSGPACK_UNPACK_SUCCESS) {
            const msgpack_object *o = td_mp_get (&up.data, "id");
            if (!o || !td_mp_strcpy (o, id, sizeof id))
                id [0] = 0;
        }
        msgpack_unpacked_destroy (&up);
    }
    td_reply_spec_t spec = {
        .id = *id? id: "unknown", .status = td_errcode_status (why->code),
        .error = why->code, .message = why->message, .field = *why->field? why->field: NULL
    };
    msgpack_sbuffer_clear (&self->sbuf);
    if (td_reply_pack (&self->sbuf, &spec, &err) == 0) {
        if (s_send (self, TD_W_FINAL, ticket, self->sbuf.data, self->sbuf.size))
            td_warn (self->actor, NULL, "cannot answer an invalid request");
    }
    else
        td_warn (self->actor, NULL, "cannot build a 400 reply: %s", err.message);
}

//  Handle one message; returns a job for a valid REQUEST.
static td_job_t *
s_handle (td_worker_t *self, zmq_msg_t *parts, size_t nparts)
{
    td_wire_msg_t wire;
    const char *why = "not a TDW1 header";
    if (td_wire_read (parts, nparts, TD_WIRE_WORKER, &wire, &why) != TD_WIRE_OK) {
        td_debug (self->actor, NULL, "malformed message from broker dropped: %s", why);
        return NULL;
    }
    byte cmd = wire.cmd;
    const byte *arg = wire.arg;
    size_t arg_size = wire.arg_size;
    self->heard = true;
    self->expiry = zclock_mono () + (int64_t) self->heartbeat_ms * self->liveness;
    if (cmd == TD_W_HEARTBEAT)
        return NULL;
    if (cmd == TD_W_DISCONNECT) {
        td_info (self->actor, NULL, "broker sent DISCONNECT; reconnecting");
        self->reconnect = true;
        return NULL;
    }
    if (cmd != TD_W_REQUEST || !wire.has_body || arg_size != TD_TICKET_SIZE) {
        td_debug (self->actor, NULL, "unexpected command %d from broker dropped", cmd);
        return NULL;
    }
    const void *data = wire.body;
    size_t size = wire.body_size;
    td_error_t err;
    td_msg_t *msg = td_msg_decode (TD_MSG_REQUEST, data, size, &err);
    if (!msg) {
        td_debug (self->actor, NULL, "invalid request answered 400: %s", err.message);
        s_answer_invalid (self, arg, data, size, &err);
        return NULL;
    }
    td_job_t *job = (td_job_t *) malloc (sizeof (td_job_t));
    if (!job) {
        td_msg_destroy (&msg);
        return NULL;
    }
    memcpy (job->ticket, arg, TD_TICKET_SIZE);
    job->session = self->session;
    job->msg = msg;
    return job;
}

td_job_t *
td_worker_recv (td_worker_t *self)
{
    if (!self->sock)
        return NULL;
    //  Drain messages that are not jobs (heartbeats...) so one call does all waiting work
    for (int budget = 0; budget < 1000; budget++) {
        zmq_msg_t parts [3];        //  one more than a message has, so extras are seen
        bool overflow;
        size_t n = td_wire_recv_parts (self->handle, parts, 3, &overflow);
        if (n == 0)
            return NULL;
        td_job_t *job = overflow? NULL: s_handle (self, parts, n);
        for (size_t i = 0; i < n; i++)
            zmq_msg_close (&parts [i]);
        if (job)
            return job;
        if (self->reconnect)
            return NULL;
    }
    return NULL;
}

int
td_worker_tick (td_worker_t *self)
{
    int64_t now = zclock_mono ();
    if (self->reconnect || now >= self->expiry || !self->sock) {
        if (!self->reconnect)
            td_warn (self->actor, NULL, "no word from broker %s for %d ms; reconnecting",
                     self->endpoint, self->heartbeat_ms * self->liveness);
        if (s_connect (self) == -1 || !self->sock) {
            //  Out of sockets: try again next tick
            self->expiry = now + self->heartbeat_ms;
        }
        return 1;
    }
    if (now >= self->heartbeat_at && s_send (self, TD_W_HEARTBEAT, NULL, NULL, 0))
        self->heartbeat_at = now + self->heartbeat_ms;     //  queue full: try next interval
    return 0;
}

int
td_worker_timeout_ms (td_worker_t *self)
{
    if (self->reconnect || !self->sock)
        return 0;
    int64_t now = zclock_mono ();
    int64_t next = self->heartbeat_at < self->expiry? self->heartbeat_at: self->expiry;
    return next <= now? 0: (int) (next - now);
}

int
td_worker_partial (td_worker_t *self, td_job_t *job, const void *reply, size_t size)
{
    if (!job || !reply || !self->sock || job->session != self->session)
        return -1;
    return s_send (self, TD_W_PARTIAL, job->ticket, reply, size);
}

int
td_worker_final (td_worker_t *self, td_job_t **job_p, const void *reply, size_t size)
{
    if (!job_p || !*job_p)
        return -1;
    td_job_t *job = *job_p;
    int rc = -1;
    if (reply && self->sock && job->session == self->session)
        rc = s_send (self, TD_W_FINAL, job->ticket, reply, size);
    td_job_destroy (job_p);
    return rc;
}

const td_msg_t *
td_job_msg (const td_job_t *job)
{
    return job->msg;
}

void
td_job_destroy (td_job_t **job_p)
{
    if (!job_p || !*job_p)
        return;
    td_msg_destroy (&(*job_p)->msg);
    free (*job_p);
    *job_p = NULL;
}
