/*  td_broker — the broker actor: routes requests by service to the least-loaded live worker,
 *  and relays events from XSUB to XPUB.
 *
 *  Why: DESIGN.md principle 2. Actors never talk to each other directly; a request names a
 *  service and the broker picks a worker, so a second grader on another host is just another
 *  worker. The frame layouts are those of td_wire.h (Majordomo-style, RFC 7/18): every message
 *  is [identity][header][payload?] (split) or [identity][header+payload] (merged, for small
 *  payloads: the command byte has TD_WIRE_MERGED and a length byte gives the argument's size),
 *  the header carrying the protocol name, the command and its argument (service name or
 *  ticket), parsed by td_wire_read for both layouts.
 *  The event plane is td_evproxy (XSUB frontend, XPUB backend), owned by this actor and
 *  destroyed with it.
 *
 *  The hot path (client REQUEST -> worker, worker FINAL -> client) uses libzmq messages directly
 *  (zmq_msg_recv / zmq_msg_send) and forwards a payload in the layout it came in: a split
 *  payload frame is moved, never copied; a merged one (at most td_wire_merge_max() bytes) is
 *  copied once into the new merged frame (one zmq_msg_init_size: libzmq allocates above 33
 *  bytes). That copy is what saves two frames per hop, and libzmq's I/O thread costs per frame
 *  (tools/bench/README.md). No other heap object is made per request by the broker itself:
 *  requests live in a slot table that is allocated in chunks and reused. The validation the
 *  protocol requires is td_request_peek (td_peek.h): the verdict of td_msg_decode, read in
 *  place, so the hot path allocates nothing else per request.
 *
 *  Objects
 *    service  one per service name that ever had a worker: its workers (array), a FIFO of queued
 *             requests, counts. Kept in a hash by name; never freed before the broker ends.
 *    worker   one per READY'd DEALER identity: its service, capacity, in-flight list, liveness.
 *             Kept in a hash keyed by the identity bytes.
 *    request  a slot: client identity, id/rid (for answers the broker builds itself), deadline,
 *             and the frame holding the request while queued (with the body's offset in it
 *             when merged). A slot's ticket is (generation << 32 | index); the generation
 *             changes on every reuse, so a stale ticket never matches.
 *
 *  Request slot state machine
 *      FREE --(valid request, worker has room)--> INFLIGHT --(worker FINAL)--> FREE
 *      FREE --(valid request, all workers full)--> QUEUED --(a worker frees up)--> INFLIGHT
 *      QUEUED|INFLIGHT --(deadline passes)--> FREE, client gets 504 timeout
 *      INFLIGHT --(its worker dies or disconnects)--> FREE, client gets 503 unavailable
 *      QUEUED --(last worker of the service goes)--> FREE, client gets 503 unavailable
 *      QUEUED|INFLIGHT --($TERM)--> FREE, client gets 503 unavailable
 *
 *  Invariants (checked by the tests, assumed by the code)
 *    I1  Every request that reached a valid slot gets exactly one FINAL to its client: a worker's
 *        reply, or 503/504 from the broker. A worker FINAL with an unknown ticket is dropped.
 *    I2  A worker never holds more than its capacity: worker->inflight <= worker->capacity.
 *    I3  service->queued > 0 implies every worker of the service is full (so a new request
 *        joins the queue's tail: FIFO, and the scan for a free worker is skipped).
 *    I4  A service with no worker has an empty queue (requests to it are answered 503 at once).
 *    I5  A request is in the deadline heap iff its deadline != 0 and it is QUEUED or INFLIGHT;
 *        heap_pos is its index there.
 *    I6  A request is in exactly one list: its service's queue (QUEUED) or its worker's
 *        in-flight list (INFLIGHT); never both.
 *    I7  Malformed input from any peer is counted ("invalid"), logged at debug, and dropped or
 *        answered 400; it never asserts, never wedges the loop.
 *
 *  Time: deadlines are absolute unix ms (zclock_time); liveness uses zclock_mono. The clock is
 *  read once per poll wake-up, the heap top is compared after every batch of messages, and
 *  workers are scanned for heartbeats/expiry every heartbeat/4 ms, so sweeps stay O(1) per
 *  message plus O(workers) per quarter heartbeat.
 */
#include <czmq.h>
#include <jansson.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>

#include "td_broker.h"
#include "td_evproxy.h"
#include "td_wire.h"
#include "td_msg.h"
#include "td_mp.h"
#include "td_peek.h"
#include "td_json.h"
#include "td_names.h"
#include "td_log.h"

#define LOG_ACTOR           "broker"
#define MAX_PARTS           4               //  [identity][header][payload] + 1: more is malformed
#define MAX_IDENTITY        255             //  ROUTER identities are at most 255 bytes
#define CHUNK_SHIFT         10
#define CHUNK_SLOTS         (1u << CHUNK_SHIFT)
#define MAX_SLOTS           (1u << 20)      //  requests queued + in flight, all services
#define BATCH               512             //  messages handled per poll wake-up
#define DEFAULT_QUEUE_LIMIT 10000
#define MAX_CAPACITY        10000           //  below the ROUTER HWM, so a worker's pipe never drops

typedef enum { SLOT_FREE = 0, SLOT_QUEUED, SLOT_INFLIGHT } slot_state_t;

typedef struct _service_t service_t;
typedef struct _worker_t worker_t;
typedef struct _request_t request_t;

typedef struct {
    size_t size;
    byte data [MAX_IDENTITY];
} ident_t;

struct _request_t {
    uint32_t index;                 //  position in the slot table
    uint32_t gen;                   //  generation, bumped on every free
    slot_state_t state;
    request_t *next, *prev;         //  service queue or worker in-flight list (I6)
    request_t *free_next;           //  free list
    size_t heap_pos;                //  index in the deadline heap, SIZE_MAX when not in it
    service_t *service;
    worker_t *worker;               //  INFLIGHT only
    int64_t deadline;               //  unix ms, 0 = none
    zmq_msg_t body;                 //  QUEUED only: the frame holding the request, for dispatch
    bool has_body;
    bool merged;                    //  body is a merged frame; the request starts at body_offset
    size_t body_offset;
    ident_t client;                 //  client's ROUTER identity
    char id [TD_MAX_ID + 1];
    char rid [TD_MAX_ID + 1];
};

struct _service_t {
    char name [TD_MAX_NAME + 1];
    worker_t **workers;             //  live workers of this service
    size_t nworkers, maxworkers;
    request_t *qhead, *qtail;       //  FIFO of QUEUED requests
    size_t queued;
    size_t inflight;
};

struct _worker_t {
    ident_t ident;                  //  hash key: must stay first-class, never moved
    char hex [2 * 16 + 1];          //  short printable identity for logs
    char actor [TD_MAX_NAME + 1];
    service_t *service;
    int capacity;
    int inflight;
    request_t *head;                //  in-flight list
    int64_t expiry;                 //  mono ms: dead when now >= expiry
    int64_t heartbeat_at;           //  mono ms: send HEARTBEAT when idle until then
    uint64_t last_used;             //  dispatch sequence of the last request given (tie-break)
};

typedef struct {
    zsock_t *pipe;                  //  actor command pipe
    zsock_t *router;                //  request plane; NULL when binding failed
    void *handle;                   //  libzmq handle of router
    td_evproxy_t *proxy;            //  event plane (XSUB -> XPUB)
    zpoller_t *poller;
    bool terminated;
    char error [256];               //  why start-up failed, "" when it did not

    int heartbeat_ms;
    int liveness;
    size_t queue_limit;

    zhashx_t *services;             //  name -> service_t (owned)
    zhashx_t *workers;              //  ident_t* -> worker_t (owned)

    request_t **chunks;             //  slot table, CHUNK_SLOTS requests per chunk
    size_t nchunks;
    uint32_t nslots;
    request_t *free_list;
    uint32_t gen_seed;

    request_t **heap;               //  min-heap on deadline (I5)
    size_t heap_size, heap_max;

    uint64_t dispatch_seq;
    int64_t now_mono, now_wall;
    int64_t next_sweep;             //  mono ms of the next worker scan

    bool draining;
    int64_t drain_until;            //  mono ms; DRAIN answer owed while draining_reply
    bool drain_reply_owed;

    msgpack_sbuffer sbuf;           //  reused for replies the broker builds
    size_t requests, replies, unavailable, timeouts, invalid, late;
    size_t total_inflight, total_queued;
} self_t;

//  ---------------------------------------------------------------------------------------------
//  Identity hashing for the worker table (keys are ident_t*, owned by the worker)

static size_t
s_ident_hash (const void *key)
{
    const ident_t *id = (const ident_t *) key;
    size_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < id->size; i++)
        h = (h ^ id->data [i]) * 1099511628211ULL;
    return h;
}

static int
s_ident_cmp (const void *a, const void *b)
{
    const ident_t *x = (const ident_t *) a, *y = (const ident_t *) b;
    if (x->size != y->size)
        return x->size < y->size? -1: 1;
    return memcmp (x->data, y->data, x->size);
}

static void
s_ident_set (ident_t *id, zmq_msg_t *frame)
{
    size_t size = zmq_msg_size (frame);
    if (size > MAX_IDENTITY)
        size = MAX_IDENTITY;
    id->size = size;
    memcpy (id->data, zmq_msg_data (frame), size);
}

static void
s_worker_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

static void
s_service_free (void **item_p)
{
    service_t *service = (service_t *) *item_p;
    if (service) {
        free (service->workers);
        free (service);
    }
    *item_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Sending: raw libzmq parts. ROUTER without ROUTER_MANDATORY drops messages to unknown peers
//  silently, so a send fails only when the context is ending.

static int
s_send_part (self_t *self, const void *data, size_t size, bool more)
{
    int rc = zmq_send (self->handle, data, size, more? ZMQ_SNDMORE: 0);
    return rc < 0? -1: 0;
}

static int
s_send_msg (self_t *self, zmq_msg_t *msg, bool more)
{
    int rc = zmq_msg_send (msg, self->handle, more? ZMQ_SNDMORE: 0);
    return rc < 0? -1: 0;
}

//  [peer][name cmd arg] — the identity and header frame that start every message we send;
//  more says a payload frame follows.
static int
s_send_head (self_t *self, const ident_t *peer, const char *name, byte cmd,
             const void *arg, size_t arg_size, bool more)
{
    byte head [TD_WIRE_HEAD_MAX];
    size_t head_size = td_wire_head (head, name, cmd, arg, arg_size);
    if (head_size == 0
    ||  s_send_part (self, peer->data, peer->size, true)
    ||  s_send_part (self, head, head_size, more))
        return -1;
    return 0;
}

//  [peer][name cmd|0x80 len arg body] — one merged frame, the body copied into it
static int
s_send_merged (self_t *self, const ident_t *peer, const char *name, byte cmd,
               const void *arg, size_t arg_size, const void *body, size_t body_size)
{
    zmq_msg_t frame;
    if (td_wire_merged (&frame, name, cmd, arg, arg_size, body, body_size))
        return -1;
    int rc = s_send_part (self, peer->data, peer->size, true) || s_send_msg (self, &frame, false);
    zmq_msg_close (&frame);         //  emptied by a successful send; freed when it failed
    return rc? -1: 0;
}

//  [peer][name cmd arg][body] or merged, as the body's size calls for; body copied.
static int
s_send_body (self_t *self, const ident_t *peer, const char *name, byte cmd,
             const void *arg, size_t arg_size, const void *body, size_t body_size)
{
    if (td_wire_merges (body_size))
        return s_send_merged (self, peer, name, cmd, arg, arg_size, body, body_size);
    if (s_send_head (self, peer, name, cmd, arg, arg_size, true)
    ||  s_send_part (self, body, body_size, false))
        return -1;
    return 0;
}

//  Forward a body received from a peer in the layout it came in: frame holds it, from offset
//  when merged (copied into a new merged frame), whole when split (moved, not copied).
static int
s_forward (self_t *self, const ident_t *peer, const char *name, byte cmd, const void *arg,
           size_t arg_size, zmq_msg_t *frame, bool merged, size_t offset)
{
    if (merged) {
        const byte *data = (const byte *) zmq_msg_data (frame);
        return s_send_merged (self, peer, name, cmd, arg, arg_size, data + offset,
                              zmq_msg_size (frame) - offset);
    }
    if (s_send_head (self, peer, name, cmd, arg, arg_size, true)
    ||  s_send_msg (self, frame, false))
        return -1;
    return 0;
}

static int
s_send_worker_cmd (self_t *self, worker_t *worker, byte cmd)
{
    if (s_send_head (self, &worker->ident, TD_WIRE_WORKER, cmd, NULL, 0, false))
        return -1;
    worker->heartbeat_at = self->now_mono + self->heartbeat_ms;
    return 0;
}

//  Build and send a FINAL reply from the broker itself (errors, or service "broker").
static int
s_answer (self_t *self, const ident_t *client, const char *service, const char *id,
          const char *rid, int status, td_errcode_t code, const char *message,
          const void *body, size_t body_size)
{
    td_reply_spec_t spec = {
        .id = id, .rid = (rid && *rid)? rid: NULL, .status = status,
        .body = body, .body_size = body_size, .error = code, .message = message
    };
    td_error_t err;
    msgpack_sbuffer_clear (&self->sbuf);
    if (td_reply_pack (&self->sbuf, &spec, &err)) {
        //  e.g. an id found in an invalid request that is itself unusable: nothing to answer
        td_debug (LOG_ACTOR, NULL, "cannot build reply %d: %s", status, err.message);
        return -1;
    }
    if (s_send_body (self, client, TD_WIRE_CLIENT, TD_C_FINAL, service, strlen (service),
                     self->sbuf.data, self->sbuf.size))
        return -1;
    self->replies++;
    if (status == 503)
        self->unavailable++;
    else
    if (status == 504)
        self->timeouts++;
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Slot table

static request_t *
s_slot (self_t *self, uint32_t index)
{
    return &self->chunks [index >> CHUNK_SHIFT][index & (CHUNK_SLOTS - 1)];
}

static request_t *
s_slot_alloc (self_t *self)
{
    if (!self->free_list) {
        if (self->nslots >= MAX_SLOTS)
            return NULL;
        if (self->nchunks % 16 == 0) {
            request_t **chunks = (request_t **) realloc (self->chunks,
                                    (self->nchunks + 16) * sizeof (request_t *));
            if (!chunks)
                return NULL;
            self->chunks = chunks;
        }
        request_t *chunk = (request_t *) calloc (CHUNK_SLOTS, sizeof (request_t));
        if (!chunk)
            return NULL;
        self->chunks [self->nchunks++] = chunk;
        //  Push in reverse so low indexes come out first
        for (uint32_t i = CHUNK_SLOTS; i-- > 0;) {
            request_t *req = &chunk [i];
            req->index = self->nslots + i;
            req->gen = self->gen_seed + req->index;
            req->heap_pos = SIZE_MAX;
            req->free_next = self->free_list;
            self->free_list = req;
        }
        self->nslots += CHUNK_SLOTS;
    }
    request_t *req = self->free_list;
    self->free_list = req->free_next;
    req->free_next = NULL;
    return req;
}

static void
s_slot_free (self_t *self, request_t *req)
{
    if (req->has_body) {
        zmq_msg_close (&req->body);
        req->has_body = false;
    }
    req->merged = false;
    req->body_offset = 0;
    req->state = SLOT_FREE;
    req->gen++;
    if (req->gen == 0)
        req->gen = 1;
    req->service = NULL;
    req->worker = NULL;
    req->next = req->prev = NULL;
    req->deadline = 0;
    req->free_next = self->free_list;
    self->free_list = req;
}

static uint64_t
s_ticket (const request_t *req)
{
    return ((uint64_t) req->gen << 32) | req->index;
}

static request_t *
s_ticket_lookup (self_t *self, const void *data, size_t size)
{
    if (size != TD_TICKET_SIZE)
        return NULL;
    uint64_t ticket;
    memcpy (&ticket, data, TD_TICKET_SIZE);
    uint32_t index = (uint32_t) ticket;
    uint32_t gen = (uint32_t) (ticket >> 32);
    if (index >= self->nslots)
        return NULL;
    request_t *req = s_slot (self, index);
    if (req->state != SLOT_INFLIGHT || req->gen != gen)
        return NULL;
    return req;
}

//  True when a ticket names a slot that was in use a few generations ago: a late reply, not a
//  bogus one. Only for counting; never trusted for routing.
static bool
s_ticket_recent (self_t *self, const void *data, size_t size)
{
    if (size != TD_TICKET_SIZE)
        return false;
    uint64_t ticket;
    memcpy (&ticket, data, TD_TICKET_SIZE);
    uint32_t index = (uint32_t) ticket;
    if (index >= self->nslots)
        return false;
    uint32_t age = s_slot (self, index)->gen - (uint32_t) (ticket >> 32);
    return age >= 1 && age <= 65536;
}

//  ---------------------------------------------------------------------------------------------
//  Deadline heap (I5)

static void
s_heap_swap (self_t *self, size_t a, size_t b)
{
    request_t *t = self->heap [a];
    self->heap [a] = self->heap [b];
    self->heap [b] = t;
    self->heap [a]->heap_pos = a;
    self->heap [b]->heap_pos = b;
}

static void
s_heap_up (self_t *self, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (self->heap [parent]->deadline <= self->heap [i]->deadline)
            break;
        s_heap_swap (self, i, parent);
        i = parent;
    }
}

static void
s_heap_down (self_t *self, size_t i)
{
    while (true) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < self->heap_size && self->heap [l]->deadline < self->heap [m]->deadline)
            m = l;
        if (r < self->heap_size && self->heap [r]->deadline < self->heap [m]->deadline)
            m = r;
        if (m == i)
            break;
        s_heap_swap (self, i, m);
        i = m;
    }
}

static int
s_heap_push (self_t *self, request_t *req)
{
    if (self->heap_size == self->heap_max) {
        size_t max = self->heap_max? self->heap_max * 2: 1024;
        request_t **heap = (request_t **) realloc (self->heap, max * sizeof (request_t *));
        if (!heap)
            return -1;
        self->heap = heap;
        self->heap_max = max;
    }
    req->heap_pos = self->heap_size;
    self->heap [self->heap_size++] = req;
    s_heap_up (self, req->heap_pos);
    return 0;
}

static void
s_heap_remove (self_t *self, request_t *req)
{
    size_t i = req->heap_pos;
    if (i == SIZE_MAX)
        return;
    req->heap_pos = SIZE_MAX;
    self->heap_size--;
    if (i == self->heap_size)
        return;
    self->heap [i] = self->heap [self->heap_size];
    self->heap [i]->heap_pos = i;
    s_heap_down (self, i);
    s_heap_up (self, i);
}

//  ---------------------------------------------------------------------------------------------
//  Lists (I6)

static void
s_queue_push (service_t *service, request_t *req)
{
    req->next = NULL;
    req->prev = service->qtail;
    if (service->qtail)
        service->qtail->next = req;
    else
        service->qhead = req;
    service->qtail = req;
    service->queued++;
}

static void
s_queue_unlink (service_t *service, request_t *req)
{
    if (req->prev)
        req->prev->next = req->next;
    else
        service->qhead = req->next;
    if (req->next)
        req->next->prev = req->prev;
    else
        service->qtail = req->prev;
    req->next = req->prev = NULL;
    service->queued--;
}

static void
s_inflight_push (worker_t *worker, request_t *req)
{
    req->prev = NULL;
    req->next = worker->head;
    if (worker->head)
        worker->head->prev = req;
    worker->head = req;
    worker->inflight++;
}

static void
s_inflight_unlink (worker_t *worker, request_t *req)
{
    if (req->prev)
        req->prev->next = req->next;
    else
        worker->head = req->next;
    if (req->next)
        req->next->prev = req->prev;
    req->next = req->prev = NULL;
    worker->inflight--;
}

//  Take a request out of whatever holds it; the slot stays allocated.
static void
s_request_detach (self_t *self, request_t *req)
{
    s_heap_remove (self, req);
    if (req->state == SLOT_QUEUED) {
        s_queue_unlink (req->service, req);
        self->total_queued--;
    }
    else
    if (req->state == SLOT_INFLIGHT) {
        s_inflight_unlink (req->worker, req);
        req->service->inflight--;
        self->total_inflight--;
    }
}

//  Answer a held request with an error, then free its slot.
static void
s_request_fail (self_t *self, request_t *req, int status, td_errcode_t code, const char *message)
{
    service_t *service = req->service;
    s_request_detach (self, req);
    if (s_answer (self, &req->client, service->name, req->id, req->rid, status, code,
                  message, NULL, 0))
        td_warn (LOG_ACTOR, req->rid, "could not send %d to client", status);
    s_slot_free (self, req);
}

//  ---------------------------------------------------------------------------------------------
//  Dispatch

//  The live worker with the fewest in flight and room left; ties go to the one used least
//  recently. O(workers of the service).
static worker_t *
s_pick_worker (service_t *service)
{
    worker_t *best = NULL;
    for (size_t i = 0; i < service->nworkers; i++) {
        worker_t *w = service->workers [i];
        if (w->inflight >= w->capacity)
            continue;
        if (!best
        ||  w->inflight < best->inflight
        || (w->inflight == best->inflight && w->last_used < best->last_used))
            best = w;
    }
    return best;
}

//  Send req to worker; the request is in *frame (from offset when merged, td_wire.h), which is
//  moved or copied, never kept. The request becomes INFLIGHT.
static void
s_send_to_worker (self_t *self, request_t *req, worker_t *worker, zmq_msg_t *frame,
                  bool merged, size_t offset)
{
    uint64_t ticket = s_ticket (req);
    req->state = SLOT_INFLIGHT;
    req->worker = worker;
    s_inflight_push (worker, req);
    req->service->inflight++;
    self->total_inflight++;
    worker->last_used = ++self->dispatch_seq;
    worker->heartbeat_at = self->now_mono + self->heartbeat_ms;
    if (s_forward (self, &worker->ident, TD_WIRE_WORKER, TD_W_REQUEST, &ticket, sizeof ticket,
                   frame, merged, offset))
        td_warn (LOG_ACTOR, req->rid, "send to worker %s failed: %s", worker->hex,
                 zmq_strerror (zmq_errno ()));
    //  If it failed, the worker's liveness or the deadline will answer the client (I1)
}

//  Move queued requests to workers with room, oldest first (I3).
static void
s_dispatch_queue (self_t *self, service_t *service)
{
    while (service->qhead) {
        worker_t *worker = s_pick_worker (service);
        if (!worker)
            break;
        request_t *req = service->qhead;
        s_queue_unlink (service, req);
        self->total_queued--;
        req->has_body = false;
        s_send_to_worker (self, req, worker, &req->body, req->merged, req->body_offset);
        zmq_msg_close (&req->body);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Workers

static void
s_worker_remove (self_t *self, worker_t *worker, const char *why, bool send_disconnect)
{
    service_t *service = worker->service;
    td_info (LOG_ACTOR, NULL, "worker %s (%s) of service %s removed: %s; %d in flight answered 503",
             worker->hex, worker->actor, service->name, why, worker->inflight);
    if (send_disconnect)
        s_send_worker_cmd (self, worker, TD_W_DISCONNECT);
    char message [160];
    snprintf (message, sizeof message,
              "the %s worker handling this request went away (%s)", service->name, why);
    while (worker->head)
        s_request_fail (self, worker->head, 503, TD_ERR_UNAVAILABLE, message);
    for (size_t i = 0; i < service->nworkers; i++)
        if (service->workers [i] == worker) {
            service->workers [i] = service->workers [--service->nworkers];
            break;
        }
    if (service->nworkers == 0) {
        snprintf (message, sizeof message, "no %s worker is available", service->name);
        while (service->qhead)          //  I4
            s_request_fail (self, service->qhead, 503, TD_ERR_UNAVAILABLE, message);
    }
    zhashx_delete (self->workers, &worker->ident);     //  frees worker
}

static service_t *
s_service_require (self_t *self, const char *name)
{
    service_t *service = (service_t *) zhashx_lookup (self->services, name);
    if (!service) {
        service = (service_t *) calloc (1, sizeof (service_t));
        if (!service)
            return NULL;
        snprintf (service->name, sizeof service->name, "%s", name);
        if (zhashx_insert (self->services, name, service)) {
            free (service);
            return NULL;
        }
    }
    return service;
}

static void
s_invalid (self_t *self, const char *what, const ident_t *peer)
{
    self->invalid++;
    char hex [2 * 16 + 1] = "";
    for (size_t i = 0; peer && i < peer->size && i < 16; i++)
        snprintf (hex + 2 * i, 3, "%02x", peer->data [i]);
    td_debug (LOG_ACTOR, NULL, "malformed message from %s dropped: %s", hex, what);
}

//  The frame holding a message's body: the header frame itself when merged, else the second.
static zmq_msg_t *
s_body_frame (zmq_msg_t *parts, const td_wire_msg_t *wire)
{
    return wire->merged? &parts [1]: &parts [2];
}

//  READY ["TDW1" 0x01 service][msgpack {actor, capacity, pid, host}] (or merged).
static void
s_worker_ready (self_t *self, const ident_t *ident, const td_wire_msg_t *wire)
{
    const byte *arg = wire->arg;
    size_t size = wire->arg_size;
    if (!wire->has_body) {
        s_invalid (self, "READY must carry a payload", ident);
        return;
    }
    char name [TD_MAX_NAME + 1];
    if (size == 0 || size > TD_MAX_NAME) {
        s_invalid (self, "READY with a bad service name", ident);
        return;
    }
    memcpy (name, arg, size);
    name [size] = 0;
    if (strlen (name) != size || !td_name_valid (name) || streq (name, TD_SERVICE_BROKER)) {
        s_invalid (self, "READY with a bad service name", ident);
        return;
    }
    int capacity = TD_DEFAULT_CAPACITY;
    char actor [TD_MAX_NAME + 1] = "-";
    td_error_t err;
    const void *data = wire->body;
    size = wire->body_size;
    if (size > 0 && td_mp_check (data, size, &err) == 0) {
        msgpack_unpacked up;
        msgpack_unpacked_init (&up);
        if (msgpack_unpack_next (&up, (const char *) data, size, NULL) == MSGPACK_UNPACK_SUCCESS) {
            int64_t cap;
            if (td_mp_int (td_mp_get (&up.data, "capacity"), &cap) && cap > 0)
                capacity = cap > MAX_CAPACITY? MAX_CAPACITY: (int) cap;
            const msgpack_object *a = td_mp_get (&up.data, "actor");
            if (a && !td_mp_strcpy (a, actor, sizeof actor))
                snprintf (actor, sizeof actor, "-");
        }
        msgpack_unpacked_destroy (&up);
    }
    else
    if (size > 0) {
        s_invalid (self, "READY with a bad msgpack map", ident);
        return;
    }
    service_t *service = s_service_require (self, name);
    if (!service)
        return;
    if (service->nworkers == service->maxworkers) {
        size_t max = service->maxworkers? service->maxworkers * 2: 4;
        worker_t **workers = (worker_t **) realloc (service->workers, max * sizeof (worker_t *));
        if (!workers)
            return;
        service->workers = workers;
        service->maxworkers = max;
    }
    worker_t *worker = (worker_t *) calloc (1, sizeof (worker_t));
    if (!worker)
        return;
    worker->ident = *ident;
    for (size_t i = 0; i < ident->size && i < 16; i++)
        snprintf (worker->hex + 2 * i, 3, "%02x", ident->data [i]);
    snprintf (worker->actor, sizeof worker->actor, "%s", actor);
    worker->service = service;
    worker->capacity = capacity;
    worker->expiry = self->now_mono + (int64_t) self->heartbeat_ms * self->liveness;
    if (zhashx_insert (self->workers, &worker->ident, worker)) {
        free (worker);
        return;
    }
    service->workers [service->nworkers++] = worker;
    td_info (LOG_ACTOR, NULL, "worker %s (%s) ready for service %s, capacity %d",
             worker->hex, worker->actor, name, capacity);
    //  Let the worker know at once that a broker hears it
    s_send_worker_cmd (self, worker, TD_W_HEARTBEAT);
    s_dispatch_queue (self, service);
}

//  Forward PARTIAL/FINAL ["TDW1" cmd ticket][msgpack] (or merged) to the request's client, in
//  the layout it came in.
static void
s_worker_reply (self_t *self, worker_t *worker, zmq_msg_t *parts, const td_wire_msg_t *wire,
                bool final)
{
    const byte *arg = wire->arg;
    size_t arg_size = wire->arg_size;
    if (!wire->has_body) {
        s_invalid (self, "reply must carry a payload", &worker->ident);
        return;
    }
    request_t *req = s_ticket_lookup (self, arg, arg_size);
    if (!req || req->worker != worker) {
        //  Timed out or failed over (the client had its 504/503 already, I1), or bogus
        if (!req && s_ticket_recent (self, arg, arg_size)) {
            self->late++;
            td_debug (LOG_ACTOR, NULL, "late reply from worker %s dropped", worker->hex);
        }
        else
            s_invalid (self, "reply with an unknown ticket", &worker->ident);
        return;
    }
    service_t *service = req->service;
    if (s_forward (self, &req->client, TD_WIRE_CLIENT, final? TD_C_FINAL: TD_C_PARTIAL,
                   service->name, strlen (service->name), s_body_frame (parts, wire),
                   wire->merged, wire->body_offset))
        td_warn (LOG_ACTOR, req->rid, "send to client failed: %s", zmq_strerror (zmq_errno ()));
    if (final) {
        self->replies++;
        s_request_detach (self, req);
        s_slot_free (self, req);
        if (service->qhead)
            s_dispatch_queue (self, service);
    }
}

//  parts [1] starts a "TDW1" message, parsed into *wire.
static void
s_handle_worker (self_t *self, const ident_t *peer, zmq_msg_t *parts, const td_wire_msg_t *wire)
{
    byte cmd = wire->cmd;
    worker_t *worker = (worker_t *) zhashx_lookup (self->workers, peer);
    if (cmd == TD_W_READY) {
        if (worker) {
            //  A second READY on one connection is a protocol error (RFC 18): start over
            s_invalid (self, "second READY", peer);
            s_worker_remove (self, worker, "sent READY twice", true);
        }
        else
            s_worker_ready (self, peer, wire);
        return;
    }
    if (!worker) {
        //  Not registered (the broker restarted, or the worker was declared dead): tell it to
        //  reconnect and READY again. A stray DISCONNECT needs no answer.
        if (cmd != TD_W_DISCONNECT) {
            if (cmd != TD_W_HEARTBEAT && cmd != TD_W_PARTIAL && cmd != TD_W_FINAL)
                s_invalid (self, "unknown worker command", peer);
            worker_t stranger;
            memset (&stranger, 0, sizeof stranger);
            stranger.ident = *peer;
            s_send_worker_cmd (self, &stranger, TD_W_DISCONNECT);
        }
        return;
    }
    worker->expiry = self->now_mono + (int64_t) self->heartbeat_ms * self->liveness;
    switch (cmd) {
        case TD_W_FINAL:
            s_worker_reply (self, worker, parts, wire, true);
            break;
        case TD_W_PARTIAL:
            s_worker_reply (self, worker, parts, wire, false);
            break;
        case TD_W_HEARTBEAT:
            if (wire->has_body || wire->arg_size != 0)
                s_invalid (self, "HEARTBEAT with extra bytes or frames", peer);
            break;
        case TD_W_DISCONNECT:
            s_worker_remove (self, worker, "disconnected", false);
            break;
        default:
            s_invalid (self, "unknown worker command", peer);
            break;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Status

static json_t *
s_status_json (self_t *self)
{
    json_t *services = json_object ();
    json_t *root = json_object ();
    if (!services || !root) {
        json_decref (services);
        json_decref (root);
        return NULL;
    }
    int rc = 0;
    for (service_t *s = (service_t *) zhashx_first (self->services); s;
         s = (service_t *) zhashx_next (self->services)) {
        json_t *entry = json_pack ("{s:I, s:I, s:I}", "workers", (json_int_t) s->nworkers,
                                   "queued", (json_int_t) s->queued,
                                   "inflight", (json_int_t) s->inflight);
        rc |= entry? json_object_set_new (services, s->name, entry): -1;
    }
    rc |= json_object_set_new (root, "services", services);
    json_t *counts = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
        "requests", (json_int_t) self->requests, "replies", (json_int_t) self->replies,
        "unavailable", (json_int_t) self->unavailable, "timeouts", (json_int_t) self->timeouts,
        "invalid", (json_int_t) self->invalid, "late", (json_int_t) self->late,
        "queued", (json_int_t) self->total_queued, "inflight", (json_int_t) self->total_inflight,
        "workers", (json_int_t) zhashx_size (self->workers), "draining", self->draining);
    rc |= counts? json_object_update (root, counts): -1;
    json_decref (counts);
    if (*self->error)
        rc |= json_object_set_new (root, "error", json_string (self->error));
    td_evjournal_stats_t js;        //  the event journal's figures, for /metrics (td_metrics.c)
    if (td_evproxy_journal_stats (self->proxy, &js))
        rc |= json_object_set_new (root, "journal", json_pack ("{s:I, s:I, s:I, s:I}",
            "written", (json_int_t) js.written, "dropped", (json_int_t) js.dropped,
            "queued", (json_int_t) js.queued, "errors", (json_int_t) js.errors));
    if (rc) {
        json_decref (root);
        return NULL;
    }
    return root;
}

//  ---------------------------------------------------------------------------------------------
//  Clients

//  Best effort: the id of a request that failed validation, so the 400 can reach its caller.
static bool
s_find_id (const void *data, size_t size, char *id, size_t idsize)
{
    td_error_t err;
    if (size == 0 || td_mp_check (data, size, &err))
        return false;
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    bool found = false;
    if (msgpack_unpack_next (&up, (const char *) data, size, NULL) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *o = td_mp_get (&up.data, "id");
        found = o && td_mp_strcpy (o, id, idsize) && *id;
    }
    msgpack_unpacked_destroy (&up);
    return found;
}

//  True when the slice s[0..len) is the string str.
static bool
s_slice_is (const char *s, size_t len, const char *str)
{
    return len == strlen (str) && memcmp (s, str, len) == 0;
}

//  A request to the broker itself; id and rid NUL-terminated, the rest from the request's view.
static void
s_broker_service (self_t *self, const ident_t *client, const char *id, const char *rid,
                  const td_request_view_t *view)
{
    if (s_slice_is (view->type, view->type_len, "ping")) {
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
        int rc = msgpack_pack_map (&pk, 1);
        rc |= td_mp_pack_kv_str (&pk, "actor", "broker");
        if (rc == 0)
            s_answer (self, client, TD_SERVICE_BROKER, id, rid, 200,
                      TD_OK, NULL, body.data, body.size);
        msgpack_sbuffer_destroy (&body);
    }
    else
    if (s_slice_is (view->type, view->type_len, "status")) {
        json_t *status = s_status_json (self);
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
        td_error_t err;
        if (status && td_json_to_mp (status, &pk, &err) == 0)
            s_answer (self, client, TD_SERVICE_BROKER, id, rid, 200,
                      TD_OK, NULL, body.data, body.size);
        else
            s_answer (self, client, TD_SERVICE_BROKER, id, rid, 500,
                      TD_ERR_INTERNAL, "the broker could not build its status", NULL, 0);
        json_decref (status);
        msgpack_sbuffer_destroy (&body);
    }
    else
        s_answer (self, client, TD_SERVICE_BROKER, id, rid, 404,
                  TD_ERR_NOT_FOUND, "the broker answers only ping and status", NULL, 0);
}

//  Copy an id (validated: at most TD_MAX_ID bytes) into a slot buffer of TD_MAX_ID + 1.
static void
s_copy_id (char *dest, const char *id)
{
    size_t len = strnlen (id, TD_MAX_ID);
    memcpy (dest, id, len);
    dest [len] = 0;
}

//  Copy a validated id slice (1..TD_MAX_ID bytes, no NUL) into a buffer of TD_MAX_ID + 1.
static void
s_copy_slice (char *dest, const char *s, size_t len)
{
    if (len > TD_MAX_ID)
        len = TD_MAX_ID;
    memcpy (dest, s, len);
    dest [len] = 0;
}

//  REQUEST ["TDC1" 0x01 service][request msgpack] or merged; parts [1] starts the message,
//  parsed into *wire (the service name is its argument).
static void
s_handle_client (self_t *self, const ident_t *peer, zmq_msg_t *parts, const td_wire_msg_t *wire)
{
    const byte *arg = wire->arg;
    size_t nsize = wire->arg_size;
    if (wire->cmd != TD_C_REQUEST) {
        s_invalid (self, "unknown client command", peer);
        return;
    }
    if (!wire->has_body) {
        s_invalid (self, "client request must carry a payload", peer);
        return;
    }
    self->requests++;
    char name [TD_MAX_NAME + 1];
    bool name_ok = nsize > 0 && nsize <= TD_MAX_NAME;
    if (name_ok) {
        memcpy (name, arg, nsize);
        name [nsize] = 0;
        name_ok = strlen (name) == nsize && td_name_valid (name);
    }
    if (!name_ok)
        snprintf (name, sizeof name, "-");

    const void *data = wire->body;
    size_t size = wire->body_size;
    //  The same verdict as td_msg_decode (TD_MSG_REQUEST), read in place without allocating.
    td_error_t err;
    td_request_view_t view;
    bool valid = td_request_peek (data, size, &view, &err) == 0;
    char id [TD_MAX_ID + 1], rid [TD_MAX_ID + 1];
    if (valid) {
        s_copy_slice (id, view.id, view.id_len);
        s_copy_slice (rid, view.rid, view.rid_len);
    }
    if (!valid || !name_ok) {
        const char *found = valid? id: (s_find_id (data, size, id, sizeof id)? id: NULL);
        self->invalid++;
        if (found) {
            s_answer (self, peer, name, found, valid? rid: NULL,
                      valid? 400: td_errcode_status (err.code),
                      valid? TD_ERR_INVALID_INPUT: err.code,
                      valid? "the service name is not valid": err.message, NULL, 0);
        }
        else
            td_debug (LOG_ACTOR, NULL, "invalid request without an id dropped: %s",
                      valid? "bad service": err.message);
        return;
    }
    if (streq (name, TD_SERVICE_BROKER)) {
        s_broker_service (self, peer, id, rid, &view);
        return;
    }
    int64_t deadline = view.deadline;
    service_t *service = (service_t *) zhashx_lookup (self->services, name);
    worker_t *worker = NULL;
    const char *refusal = NULL;
    char message [160];
    int status = 503;
    if (self->draining || !self->router)
        refusal = "the broker is shutting down";
    else
    if (!service || service->nworkers == 0) {
        snprintf (message, sizeof message, "no %s worker is available", name);
        refusal = message;
    }
    else
    if (deadline && deadline <= self->now_wall) {
        refusal = "the request's deadline had passed when it reached the broker";
        status = 504;
    }
    else {
        if (!service->qhead)            //  I3: with a queue, every worker is full
            worker = s_pick_worker (service);
        if (!worker && service->queued >= self->queue_limit) {
            snprintf (message, sizeof message, "too many %s requests are waiting", name);
            refusal = message;
        }
    }
    request_t *req = refusal? NULL: s_slot_alloc (self);
    if (!refusal && !req)
        refusal = "the broker holds too many requests";
    if (refusal) {
        s_answer (self, peer, name, id, rid, status,
                  status == 504? TD_ERR_TIMEOUT: TD_ERR_UNAVAILABLE, refusal, NULL, 0);
        return;
    }
    req->client = *peer;
    req->service = service;
    req->deadline = deadline;
    s_copy_id (req->id, id);
    s_copy_id (req->rid, rid);
    if (deadline && s_heap_push (self, req)) {
        s_answer (self, peer, name, req->id, req->rid, 503, TD_ERR_UNAVAILABLE,
                  "the broker is out of memory", NULL, 0);
        s_slot_free (self, req);
        return;
    }
    zmq_msg_t *frame = s_body_frame (parts, wire);
    if (worker)
        s_send_to_worker (self, req, worker, frame, wire->merged, wire->body_offset);
    else {
        req->state = SLOT_QUEUED;
        zmq_msg_init (&req->body);
        zmq_msg_move (&req->body, frame);
        req->has_body = true;
        req->merged = wire->merged;
        req->body_offset = wire->body_offset;
        s_queue_push (service, req);
        self->total_queued++;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Router input

//  Receive one message without blocking. Returns the number of parts (0: nothing waiting);
//  *overflow is set when the message had more than MAX_PARTS frames (the rest are discarded).
static size_t
s_recv_parts (self_t *self, zmq_msg_t *parts, bool *overflow)
{
    *overflow = false;
    size_t n = 0;
    while (true) {
        zmq_msg_t *part = &parts [n < MAX_PARTS? n: MAX_PARTS];
        zmq_msg_init (part);
        if (zmq_msg_recv (part, self->handle, n == 0? ZMQ_DONTWAIT: 0) < 0) {
            zmq_msg_close (part);
            if (n > MAX_PARTS)
                n = MAX_PARTS;
            return n;
        }
        bool more = zmq_msg_more (part);
        if (n >= MAX_PARTS) {
            zmq_msg_close (part);       //  the spare slot, reused
            *overflow = true;
        }
        else
            n++;
        if (!more)
            return n;
    }
}

static void
s_handle_router (self_t *self)
{
    zmq_msg_t parts [MAX_PARTS + 1];
    for (int batch = 0; batch < BATCH; batch++) {
        bool overflow;
        size_t nparts = s_recv_parts (self, parts, &overflow);
        if (nparts == 0)
            break;
        ident_t peer;
        s_ident_set (&peer, &parts [0]);
        td_wire_msg_t wire;
        const char *why = "unknown or short header";
        td_wire_rc_t rc = TD_WIRE_OTHER;
        if (overflow || nparts < 2)
            s_invalid (self, overflow? "too many frames": "no header", &peer);
        else
        if ((rc = td_wire_read (parts + 1, nparts - 1, TD_WIRE_CLIENT, &wire, &why)) == TD_WIRE_OK)
            s_handle_client (self, &peer, parts, &wire);
        else
        if (rc == TD_WIRE_OTHER
        && (rc = td_wire_read (parts + 1, nparts - 1, TD_WIRE_WORKER, &wire, &why)) == TD_WIRE_OK)
            s_handle_worker (self, &peer, parts, &wire);
        else
            s_invalid (self, why, &peer);
        for (size_t i = 0; i < nparts; i++)
            zmq_msg_close (&parts [i]);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Timers

static void
s_expire_deadlines (self_t *self)
{
    while (self->heap_size && self->heap [0]->deadline <= self->now_wall) {
        request_t *req = self->heap [0];
        service_t *service = req->service;
        bool was_inflight = req->state == SLOT_INFLIGHT;
        td_debug (LOG_ACTOR, req->rid, "deadline passed while %s",
                  was_inflight? "in flight": "queued");
        s_request_fail (self, req, 504, TD_ERR_TIMEOUT,
                        was_inflight? "the service did not answer before the deadline"
                                    : "no worker took the request before the deadline");
        if (was_inflight && service->qhead)
            s_dispatch_queue (self, service);
    }
}

static void
s_sweep_workers (self_t *self)
{
    zlistx_t *dead = NULL;
    for (worker_t *w = (worker_t *) zhashx_first (self->workers); w;
         w = (worker_t *) zhashx_next (self->workers)) {
        if (self->now_mono >= w->expiry) {
            if (!dead)
                dead = zlistx_new ();
            if (dead)
                zlistx_add_end (dead, w);
        }
        else
        if (self->now_mono >= w->heartbeat_at)
            s_send_worker_cmd (self, w, TD_W_HEARTBEAT);
    }
    if (dead) {
        for (worker_t *w = (worker_t *) zlistx_first (dead); w; w = (worker_t *) zlistx_next (dead))
            s_worker_remove (self, w, "missed its heartbeats", true);
        zlistx_destroy (&dead);
    }
    int step = self->heartbeat_ms / 4;
    self->next_sweep = self->now_mono + (step < 5? 5: step);
}

static void
s_check_drain (self_t *self)
{
    if (!self->drain_reply_owed)
        return;
    size_t left = self->total_inflight + self->total_queued;
    if (left == 0 || self->now_mono >= self->drain_until) {
        self->drain_reply_owed = false;
        if (zsock_send (self->pipe, "i", (int) left))
            td_warn (LOG_ACTOR, NULL, "could not answer DRAIN");
    }
}

static int
s_timeout (self_t *self)
{
    int64_t wait = self->next_sweep - self->now_mono;
    if (self->heap_size) {
        int64_t d = self->heap [0]->deadline - self->now_wall;
        if (d < wait)
            wait = d;
    }
    if (self->drain_reply_owed && self->drain_until - self->now_mono < wait)
        wait = self->drain_until - self->now_mono;
    return wait < 0? 0: (int) wait;
}

//  ---------------------------------------------------------------------------------------------
//  Pipe

static void
s_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg) {
        self->terminated = true;
        return;
    }
    char *command = zmsg_popstr (msg);
    if (!command)
        td_warn (LOG_ACTOR, NULL, "empty pipe command ignored");
    else
    if (streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "DRAIN")) {
        char *ms = zmsg_popstr (msg);
        long wait = ms? strtol (ms, NULL, 10): 0;
        zstr_free (&ms);
        if (self->drain_reply_owed) {
            //  A DRAIN while one is pending: answer the first now, so each gets one reply
            self->drain_until = self->now_mono;
            s_check_drain (self);
        }
        self->draining = true;
        self->drain_until = self->now_mono + (wait > 0? wait: 0);
        self->drain_reply_owed = true;
        td_info (LOG_ACTOR, NULL, "draining: %zu in flight, %zu queued",
                 self->total_inflight, self->total_queued);
        s_check_drain (self);
    }
    else
    if (streq (command, "STATUS")) {
        json_t *status = s_status_json (self);
        char *text = status? json_dumps (status, JSON_COMPACT | JSON_SORT_KEYS): NULL;
        if (zsock_send (self->pipe, "s", text? text: "{}"))
            td_warn (LOG_ACTOR, NULL, "could not answer STATUS");
        free (text);
        json_decref (status);
    }
    else
        td_warn (LOG_ACTOR, NULL, "unknown pipe command %s ignored", command);
    zstr_free (&command);
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------------------------------
//  Life cycle

static void s_self_destroy (self_t **self_p);

static self_t *
s_self_new (zsock_t *pipe, const td_broker_args_t *args)
{
    self_t *self = (self_t *) calloc (1, sizeof (self_t));
    if (!self)
        return NULL;
    self->pipe = pipe;
    self->heartbeat_ms = args && args->heartbeat_ms > 0? args->heartbeat_ms: TD_HEARTBEAT_MS;
    self->liveness = args && args->liveness > 0? args->liveness: TD_LIVENESS;
    self->queue_limit = args && args->queue_limit > 0? (size_t) args->queue_limit
                                                      : DEFAULT_QUEUE_LIMIT;
    self->gen_seed = (uint32_t) randof (0x7fffffff) ^ (uint32_t) zclock_usecs ();
    msgpack_sbuffer_init (&self->sbuf);
    self->services = zhashx_new ();
    self->workers = zhashx_new ();
    if (!self->services || !self->workers) {
        s_self_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->services, s_service_free);
    zhashx_set_destructor (self->workers, s_worker_free);
    zhashx_set_key_hasher (self->workers, s_ident_hash);
    zhashx_set_key_comparator (self->workers, s_ident_cmp);
    zhashx_set_key_duplicator (self->workers, NULL);
    zhashx_set_key_destructor (self->workers, NULL);

    if (args && args->request_endpoints && *args->request_endpoints) {
        self->router = zsock_new (ZMQ_ROUTER);
        if (self->router) {
            zsock_set_sndhwm (self->router, 100000);
            zsock_set_rcvhwm (self->router, 100000);
            zsock_set_maxmsgsize (self->router, TD_MAX_MESSAGE + 65536);
            zsock_set_linger (self->router, 0);
            if (zsock_attach (self->router, args->request_endpoints, true)) {
                snprintf (self->error, sizeof self->error, "cannot bind %s",
                          args->request_endpoints);
                zsock_destroy (&self->router);
            }
        }
        else
            snprintf (self->error, sizeof self->error, "cannot create the request socket");
        if (self->router)
            self->handle = zsock_resolve (self->router);
        else
            td_error (LOG_ACTOR, NULL, "%s", self->error);
    }
    bool events = !*self->error && args && args->events_in && *args->events_in
               && args->events_out && *args->events_out;
    if (events) {
        //  td_evproxy binds in this thread, so a busy port is an error here, not an abort.
        self->proxy = td_evproxy_new (args->events_in, args->events_out, args->events_local_in,
                                      args->events_remote_out, args->journal_skip);
        if (!self->proxy) {
            snprintf (self->error, sizeof self->error, "cannot bind the event endpoints %s, %s",
                      args->events_in, args->events_out);
            td_error (LOG_ACTOR, NULL, "%s", self->error);
        }
    }
    self->poller = zpoller_new (pipe, NULL);
    if (!self->poller || (self->router && zpoller_add (self->poller, self->router))) {
        s_self_destroy (&self);
        return NULL;
    }
    zpoller_set_nonstop (self->poller, true);
    self->now_mono = zclock_mono ();
    self->now_wall = zclock_time ();
    self->next_sweep = self->now_mono;
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    //  I1: nobody is left waiting on a broker that is gone
    if (self->workers) {
        worker_t *w;
        while ((w = (worker_t *) zhashx_first (self->workers)))
            s_worker_remove (self, w, "the broker is shutting down", true);
    }
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->router);
    td_evproxy_destroy (&self->proxy);
    zhashx_destroy (&self->workers);
    zhashx_destroy (&self->services);
    for (size_t i = 0; i < self->nchunks; i++) {
        for (uint32_t j = 0; j < CHUNK_SLOTS; j++)
            if (self->chunks [i][j].has_body)
                zmq_msg_close (&self->chunks [i][j].body);
        free (self->chunks [i]);
    }
    free (self->chunks);
    free (self->heap);
    msgpack_sbuffer_destroy (&self->sbuf);
    free (self);
    *self_p = NULL;
}

void
td_broker_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (const td_broker_args_t *) args);
    zsock_signal (pipe, 0);
    if (!self || *self->error) {
        //  Ending at once makes the pipe readable, which is how the caller tells (td_broker.h)
        td_error (LOG_ACTOR, NULL, "the broker could not start: %s",
                  self? self->error: "out of memory");
        s_self_destroy (&self);
        return;
    }
    td_info (LOG_ACTOR, NULL, "broker up: requests %s, heartbeat %d ms x %d",
             self->router? ((const td_broker_args_t *) args)->request_endpoints: "(none)",
             self->heartbeat_ms, self->liveness);
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, s_timeout (self));
        self->now_mono = zclock_mono ();
        self->now_wall = zclock_time ();
        if (which == self->pipe)
            s_handle_pipe (self);
        else
        if (which && which == self->router)
            s_handle_router (self);
        else
        if (zpoller_terminated (self->poller))
            break;
        if (self->heap_size && self->heap [0]->deadline <= self->now_wall)
            s_expire_deadlines (self);
        if (self->now_mono >= self->next_sweep)
            s_sweep_workers (self);
        s_check_drain (self);
    }
    td_info (LOG_ACTOR, NULL, "broker down: %zu requests, %zu replies, %zu unavailable, "
             "%zu timeouts, %zu invalid", self->requests, self->replies, self->unavailable,
             self->timeouts, self->invalid);
    s_self_destroy (&self);
}
