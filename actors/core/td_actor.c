/*  td_actor — the run loop every domain actor shares.
 *
 *  State machine of one actor thread:
 *
 *      start --signal--> SETUP --ok--> SERVING --$TERM--> STOPPING --> return
 *                          |              |
 *                          +--fail--------+--handler FATAL / fault.exit--> return
 *
 *  The pipe is signalled first thing, before any setup that may be slow or fail, so the
 *  supervisor never blocks on a sick actor; returning from this function is how an actor dies,
 *  and the zactor shim's final signal is how the supervisor learns of it.
 *
 *  Invariants:
 *  - every request handed to the actor is answered exactly once: by its handler, by the
 *    framework (ping, unknown type 404, unanswered 500), or by the broker when the actor dies;
 *  - the worker socket may be replaced on reconnection, so the poller is rebuilt whenever
 *    td_worker_tick reports it;
 *  - a call kept by a handler (td_call_keep) is owned by the handler until it answers it.
 */
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "td_actor.h"
#include "td_events.h"
#include "td_log.h"
#include "td_names.h"
#include "td_mp.h"
#include "td_worker.h"

#define MAX_BATCH 64                //  requests read per wake before the pipe is looked at again

struct td_actor {
    const td_actor_spec_t *spec;
    const td_config_t *cfg;
    zsock_t *pipe;                  //  from the supervisor; not owned
    td_worker_t *worker;            //  owned
    td_events_t *events;            //  owned
    td_db_t *db;                    //  owned, NULL unless spec->needs_db
    zpoller_t *poller;              //  owned; rebuilt when the worker socket changes
    void *state;                    //  the actor's own, set by its init
    char source [TD_MAX_NAME + 16]; //  "tutord/<name>"
    int64_t started_ms;
    int64_t next_tick_ms;
    zsock_t *watched [8];           //  extra readers (td_actor_watch), not owned
    td_watch_fn *watch_fn [8];
    int watch_count;
    bool initialised;               //  init succeeded: fini is due
    bool terminated;
    bool fatal;
};

struct td_call {
    td_actor_t *actor;
    td_job_t *job;                  //  NULL once answered
    bool kept;                      //  handler took it beyond its return
    bool in_handler;                //  the framework frees it after the handler returns
    uint32_t seq;                   //  next partial sequence number
};

static void s_call_free_if_done (td_call_t *call);

//  ---------------------------------------------------------------------------------------------
//  Replies

static int
s_send_final (td_call_t *call, const td_reply_spec_t *spec)
{
    if (!call->job)
        return -1;                  //  already answered
    td_actor_t *self = call->actor;
    //  Logged first: spec's strings point into the request, which the send below frees.
    if (spec->status >= 500)
        td_warn (self->spec->name, spec->rid, "answered %d: %s", spec->status,
                 spec->message? spec->message: "");
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    td_error_t err;
    int rc = td_reply_pack (&buf, spec, &err);
    if (rc != 0) {
        td_error (self->spec->name, spec->rid, "cannot pack reply: %s", err.message);
        td_reply_spec_t fallback = {
            .id = spec->id, .rid = spec->rid, .status = 500, .error = TD_ERR_INTERNAL,
            .message = "the service could not encode its reply"
        };
        msgpack_sbuffer_clear (&buf);
        rc = td_reply_pack (&buf, &fallback, &err);
    }
    if (rc == 0)
        rc = td_worker_final (self->worker, &call->job, buf.data, buf.size);
    else
        td_job_destroy (&call->job);
    msgpack_sbuffer_destroy (&buf);
    s_call_free_if_done (call);
    return rc;
}

int
td_call_reply (td_call_t *call, int status, const void *body, size_t size)
{
    const td_msg_t *req = call->job? td_job_msg (call->job): NULL;
    if (!req)
        return -1;
    td_reply_spec_t spec = {
        .id = td_msg_id (req), .rid = td_msg_rid (req), .status = status,
        .body = body, .body_size = size
    };
    return s_send_final (call, &spec);
}

static int
s_call_verror (td_call_t *call, td_errcode_t code, int retry_after, const char *field,
               const char *fmt, va_list ap)
{
    const td_msg_t *req = call->job? td_job_msg (call->job): NULL;
    if (!req)
        return -1;
    char message [256];
    vsnprintf (message, sizeof message, fmt, ap);
    td_reply_spec_t spec = {
        .id = td_msg_id (req), .rid = td_msg_rid (req), .status = td_errcode_status (code),
        .error = code, .message = message, .field = field,
        .retry_after = retry_after > 0? retry_after: 0
    };
    return s_send_final (call, &spec);
}

int
td_call_error (td_call_t *call, td_errcode_t code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int rc = s_call_verror (call, code, 0, field, fmt, ap);
    va_end (ap);
    return rc;
}

int
td_call_error_retry (td_call_t *call, td_errcode_t code, int retry_after, const char *field,
                     const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int rc = s_call_verror (call, code, retry_after, field, fmt, ap);
    va_end (ap);
    return rc;
}

int
td_call_partial (td_call_t *call, const void *body, size_t size)
{
    const td_msg_t *req = call->job? td_job_msg (call->job): NULL;
    if (!req)
        return -1;
    td_reply_spec_t spec = {
        .id = td_msg_id (req), .rid = td_msg_rid (req), .status = 200, .seq = call->seq++,
        .body = body, .body_size = size
    };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    td_error_t err;
    int rc = td_partial_pack (&buf, &spec, &err);
    if (rc == 0)
        rc = td_worker_partial (call->actor->worker, call->job, buf.data, buf.size);
    else
        td_error (call->actor->spec->name, spec.rid, "cannot pack partial: %s", err.message);
    msgpack_sbuffer_destroy (&buf);
    return rc;
}

void
td_call_keep (td_call_t *call)
{
    call->kept = true;
}

static void
s_call_free_if_done (td_call_t *call)
{
    if (!call->job && !call->in_handler)
        free (call);
}

const td_msg_t *td_call_msg (td_call_t *call)         { return call->job? td_job_msg (call->job): NULL; }
const msgpack_object *td_call_body (td_call_t *call)  { return td_msg_body (td_job_msg (call->job)); }
const msgpack_object *td_call_auth (td_call_t *call)  { return td_msg_auth (td_job_msg (call->job)); }
const char *td_call_rid (td_call_t *call)             { return call->job? td_msg_rid (td_job_msg (call->job)): ""; }
const char *td_call_type (td_call_t *call)            { return call->job? td_msg_type (td_job_msg (call->job)): ""; }

//  ---------------------------------------------------------------------------------------------
//  Accessors for handlers

const char *td_actor_name (td_actor_t *self)              { return self->spec->name; }
const td_config_t *td_actor_config (td_actor_t *self)     { return self->cfg; }
td_db_t *td_actor_db (td_actor_t *self)                   { return self->db; }
void *td_actor_state (td_actor_t *self)                   { return self->state; }
void td_actor_set_state (td_actor_t *self, void *state)   { self->state = state; }

int
td_actor_publish (td_actor_t *self, const td_event_spec_t *spec)
{
    td_event_spec_t copy = *spec;
    if (!copy.source)
        copy.source = self->source;
    td_error_t err;
    if (td_events_publish (self->events, &copy, &err) != 0) {
        td_warn (self->spec->name, NULL, "cannot publish %s: %s", spec->type? spec->type: "?",
                 err.message);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Built-in verbs

static int
s_ping (td_actor_t *self, td_call_t *call)
{
    const char *db = "none";
    if (self->db)
        db = td_db_ping (self->db) == 0? "ok": "down";
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 4);
    rc |= td_mp_pack_kv_str (&pk, "actor", self->spec->name);
    rc |= td_mp_pack_kv_str (&pk, "service", self->spec->service);
    rc |= td_mp_pack_kv_str (&pk, "db", db);
    rc |= td_mp_pack_kv_int (&pk, "uptime_ms", td_now_ms () - self->started_ms);
    if (rc == 0)
        rc = td_call_reply (call, 200, buf.data, buf.size);
    else
        rc = td_call_error (call, TD_ERR_INTERNAL, NULL, "could not encode the ping reply");
    msgpack_sbuffer_destroy (&buf);
    return TD_ACTOR_OK;
}

//  fault.exit: answer, then end the actor as a crash would (test hook, TUTORD_FAULTS=1 only).
static int
s_fault_exit (td_actor_t *self, td_call_t *call)
{
    td_warn (self->spec->name, td_call_rid (call), "fault.exit requested: the actor ends now");
    td_call_reply (call, 202, NULL, 0);
    return TD_ACTOR_FATAL;
}

//  fault.hang {"ms": n}: stop answering anything, heartbeats included, for n ms (at most 60 s).
static int
s_fault_hang (td_actor_t *self, td_call_t *call)
{
    int64_t ms = 0;
    if (!td_mp_int (td_mp_get (td_call_body (call), "ms"), &ms) || ms < 0 || ms > 60000)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "ms",
                              "ms must be an integer from 0 to 60000"), TD_ACTOR_OK;
    td_warn (self->spec->name, td_call_rid (call), "fault.hang requested: silent for %lld ms",
             (long long) ms);
    td_call_reply (call, 202, NULL, 0);
    zclock_sleep ((int) ms);
    return TD_ACTOR_OK;
}

//  fault.slow {"ms": n}: answer 200 after n ms (at most 60 s), a request that stays in flight.
static int
s_fault_slow (td_actor_t *self, td_call_t *call)
{
    int64_t ms = 0;
    if (!td_mp_int (td_mp_get (td_call_body (call), "ms"), &ms) || ms < 0 || ms > 60000)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "ms",
                              "ms must be an integer from 0 to 60000"), TD_ACTOR_OK;
    td_info (self->spec->name, td_call_rid (call), "fault.slow requested: answering in %lld ms",
             (long long) ms);
    zclock_sleep ((int) ms);
    td_call_reply (call, 200, NULL, 0);
    return TD_ACTOR_OK;
}

static td_handler_fn *
s_find_handler (td_actor_t *self, const char *type)
{
    for (const td_verb_t *r = self->spec->verbs; r && r->type; r++)
        if (strcmp (r->type, type) == 0)
            return r->fn;
    if (strcmp (type, "ping") == 0)
        return s_ping;
    if (self->cfg->faults && strcmp (type, "fault.exit") == 0)
        return s_fault_exit;
    if (self->cfg->faults && strcmp (type, "fault.hang") == 0)
        return s_fault_hang;
    if (self->cfg->faults && strcmp (type, "fault.slow") == 0)
        return s_fault_slow;
    return NULL;
}

static void
s_dispatch (td_actor_t *self, td_job_t *job)
{
    td_call_t *call = calloc (1, sizeof *call);
    if (!call) {
        td_job_destroy (&job);      //  the broker answers the client when the deadline passes
        td_error (self->spec->name, NULL, "out of memory: request dropped");
        return;
    }
    call->actor = self;
    call->job = job;
    call->in_handler = true;
    const char *type = td_msg_type (td_job_msg (job));
    char rid [TD_MAX_ID + 1];
    snprintf (rid, sizeof rid, "%s", td_msg_rid (td_job_msg (job)));
    td_handler_fn *fn = s_find_handler (self, type);
    int rc = TD_ACTOR_OK;
    if (!fn)
        td_call_error (call, TD_ERR_NOT_FOUND, "type",
                       "the %s service has no operation '%s'", self->spec->service, type);
    else {
        td_debug (self->spec->name, rid, "handling %s", type);
        rc = fn (self, call);
    }
    call->in_handler = false;
    if (call->job && !call->kept) {
        td_error (self->spec->name, rid, "handler for '%s' returned without answering", type);
        td_call_error (call, TD_ERR_INTERNAL, NULL, "the service did not answer this request");
    }
    else
        s_call_free_if_done (call);
    if (rc == TD_ACTOR_FATAL)
        self->fatal = true;
}

//  ---------------------------------------------------------------------------------------------
//  The loop

static int
s_rebuild_poller (td_actor_t *self)
{
    zpoller_destroy (&self->poller);
    self->poller = zpoller_new (self->pipe, NULL);
    if (!self->poller)
        return -1;
    zpoller_set_nonstop (self->poller, true);
    if (self->worker && zpoller_add (self->poller, td_worker_sock (self->worker)) != 0)
        return -1;
    for (int i = 0; i < self->watch_count; i++)
        if (zpoller_add (self->poller, self->watched [i]) != 0)
            return -1;
    return 0;
}

int
td_actor_watch (td_actor_t *self, zsock_t *sock, td_watch_fn *fn)
{
    if (!sock || !fn || self->watch_count >= 8)
        return -1;
    self->watched [self->watch_count] = sock;
    self->watch_fn [self->watch_count++] = fn;
    return self->poller? s_rebuild_poller (self): 0;
}

static void
s_handle_pipe (td_actor_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
        td_warn (self->spec->name, NULL, "unknown pipe command '%s'", command);
    zstr_free (&command);
}

static void
s_handle_worker (td_actor_t *self)
{
    for (int i = 0; i < MAX_BATCH && !self->fatal; i++) {
        if (!(zsock_events (td_worker_sock (self->worker)) & ZMQ_POLLIN))
            break;
        td_job_t *job = td_worker_recv (self->worker);
        if (job)
            s_dispatch (self, job);
    }
}

static int
s_next_timeout (td_actor_t *self)
{
    int timeout = td_worker_timeout_ms (self->worker);
    if (self->spec->tick && self->spec->tick_ms > 0) {
        int64_t until = self->next_tick_ms - td_now_ms ();
        if (until < timeout)
            timeout = until < 0? 0: (int) until;
    }
    return timeout;
}

static void
s_self_destroy (td_actor_t **self_p)
{
    td_actor_t *self = *self_p;
    if (!self)
        return;
    if (self->spec->fini && self->initialised)
        self->spec->fini (self);
    zpoller_destroy (&self->poller);
    td_worker_destroy (&self->worker);
    td_events_destroy (&self->events);
    td_db_destroy (&self->db);
    free (self);
    *self_p = NULL;
}

static void
s_task_run (zsock_t *pipe, void *args)
{
    const td_actor_args_t *a = (const td_actor_args_t *) args;
    zsock_signal (pipe, 0);         //  first: the supervisor must never wait on our setup

    td_actor_t *self = calloc (1, sizeof *self);
    if (!self) {
        td_error (a->spec->name, NULL, "out of memory at start");
        return;
    }
    self->spec = a->spec;
    self->cfg = a->cfg;
    self->pipe = pipe;
    self->started_ms = td_now_ms ();
    snprintf (self->source, sizeof self->source, TD_SOURCE_PREFIX "%s", self->spec->name);
    self->events = td_events_new (td_config_events_in_endpoint (self->cfg));
    if (self->spec->needs_db)
        self->db = td_db_new (self->cfg->db, self->spec->name);
    if (!self->events || (self->spec->needs_db && !self->db)) {
        td_error (self->spec->name, NULL, "cannot set up; the actor ends");
        s_self_destroy (&self);
        return;
    }
    //  init runs before the actor registers, so an actor that cannot start never takes work.
    if (self->spec->init && self->spec->init (self) != 0) {
        td_error (self->spec->name, NULL, "init failed; the actor ends");
        s_self_destroy (&self);
        return;
    }
    self->initialised = true;
    self->worker = td_worker_new (td_config_broker_endpoint (self->cfg), self->spec->service,
                                  self->spec->name, self->spec->capacity, self->cfg->heartbeat_ms);
    if (!self->worker || s_rebuild_poller (self) != 0) {
        td_error (self->spec->name, NULL, "cannot connect to the broker; the actor ends");
        s_self_destroy (&self);
        return;
    }
    self->next_tick_ms = self->started_ms + self->spec->tick_ms;
    td_info (self->spec->name, NULL, "serving %s", self->spec->service);

    while (!self->terminated && !self->fatal) {
        void *which = zpoller_wait (self->poller, s_next_timeout (self));
        if (which == self->pipe)
            s_handle_pipe (self);
        else
        if (which == td_worker_sock (self->worker))
            s_handle_worker (self);
        else
            for (int i = 0; which && i < self->watch_count; i++)
                if (which == self->watched [i])
                    self->watch_fn [i] (self, self->watched [i]);
        if (td_worker_tick (self->worker) == 1 && s_rebuild_poller (self) != 0) {
            td_error (self->spec->name, NULL, "cannot poll the new worker socket; the actor ends");
            self->fatal = true;
        }
        if (self->spec->tick && self->spec->tick_ms > 0 && td_now_ms () >= self->next_tick_ms) {
            self->next_tick_ms = td_now_ms () + self->spec->tick_ms;
            self->spec->tick (self);
        }
    }
    if (self->fatal)
        td_error (self->spec->name, NULL, "the actor ends after a fatal error");
    else
        td_info (self->spec->name, NULL, "stopped");
    s_self_destroy (&self);
}

//  The actor thread. czmq's actor threads are detached and the supervisor only waits for the
//  actor's last signal, so the thread may still be running OpenSSL's thread-exit destructors
//  when the process exits; the leak checker then sees that state as lost. Releasing it here,
//  before the thread reports that it is done, makes an actor's end deterministic.
void
td_actor_task (zsock_t *pipe, void *args)
{
    s_task_run (pipe, args);
    OPENSSL_thread_stop ();
}
