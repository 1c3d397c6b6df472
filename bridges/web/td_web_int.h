/*  td_web_int — what the files of the web bridge share; not for use outside bridges/web.
 *
 *  Two threads, one owner per resource:
 *    lws thread    the hot path. Owns the lws context while it runs (lws_service), every
 *                  connection and its pss, the connection table (serial -> pss), the
 *                  td_client (DEALER to the broker), the SUB socket on the event stream, the
 *                  table of pending requests, the WebSocket verifications, health/metrics
 *                  aggregations and the SSE streams. Both ZMQ sockets' ZMQ_FDs (dups) are
 *                  adopted into the lws event loop as raw file descriptors; ZMQ_FD is
 *                  edge-triggered, so every wake drains both sockets until ZMQ_EVENTS shows no
 *                  POLLIN (s_pump), and every send checks ZMQ_EVENTS too (td_web_sent). A
 *                  request is routed, sent to the broker and its reply written on this one
 *                  thread: no hand-off inside the bridge. A 50 ms lws timer (sul) expires
 *                  requests (504), sweeps the principal cache and re-verifies WebSockets.
 *    actor thread  owns the pipe and nothing else on the hot path: it creates everything,
 *                  starts the lws thread, answers $TERM and DRAIN (it reads `inflight`, which
 *                  the lws thread publishes), then joins the lws thread and destroys all.
 *  Answers (td_out_t) still go through one mutex-protected queue: the lws thread appends while
 *  it pumps replies and hands the whole batch to connections when the pump ends; an answer
 *  made inside an HTTP/WebSocket callback (an immediate 503, say) is queued and delivered on
 *  the next wake (lws_cancel_service from the lws thread itself), after the callback has
 *  marked its transaction as waiting.
 *  The context and both ZMQ sockets are created by the actor thread before the lws thread
 *  starts and destroyed by it after joining it (a full barrier each way), so every resource
 *  has exactly one user at any time.
 *
 *  Serials: every HTTP transaction and every WebSocket connection gets a fresh 64-bit serial;
 *  a reply carries the serial, never a pointer, so a late reply can't reach a reused pss.
 */
#ifndef TD_WEB_INT_H
#define TD_WEB_INT_H

#include <czmq.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "td_client.h"
#include "td_config.h"
#include "td_error.h"
#include "td_limits.h"
#include "td_metrics.h"
#include "td_routes.h"
#include "td_webauth.h"
#include "td_authcache.h"
#include "td_authlisten.h"

#define TD_WEB_ACTOR            "web"
#define TD_WEB_RID_MAX          64                  //  X-Request-Id we accept
#define TD_WEB_RETRY_AFTER      1                   //  seconds, for 503 / 429
#define TD_WEB_STATIC_MAX       (16 * 1024 * 1024)  //  one static file
#define TD_WEB_PATH_MAX         2048                //  decoded request path
#define TD_WEB_PROBE_MS         1000                //  health / metrics sub-request deadline
#define TD_WEB_GRACE_MS         2000                //  past a request's deadline, answer 504
#define TD_WEB_TICK_MS          50                  //  lws thread: expiry, sweeps, re-verify
#define TD_WEB_PUMP_MAX         4096                //  messages per wake before lws serves
#define TD_WEB_QUEUE_EVENTS_MAX 10000               //  events waiting for the lws thread
#define TD_WS_MAX_TOPICS        32
#define TD_WS_QUEUE_MSGS        1024                //  per-connection outbound bound
#define TD_WS_QUEUE_BYTES       (4 * 1024 * 1024)
#define TD_WS_MAX_INFLIGHT      64                  //  pending calls per connection
#define TD_WS_MAX_FRAME         (1024 * 1024)       //  reassembled message, bytes
#define TD_WEB_TOKEN_MAX        4096                //  bearer token, bytes
#define TD_WEB_MAX_PENDING      100000              //  requests the actor waits on at once
#define TD_WEB_RATE_BUCKETS     100000              //  per-token rate buckets kept (LRU)
#define TD_WEB_AUTHCACHE_MAX    10000               //  principal cache entries (LRU), unless
                                                    //  TUTORD_AUTHCACHE_MAX (0 = no cache)
#define TD_WS_REVERIFY_MS       5000                //  a WebSocket's token is verified again
#define TD_WS_CLOSE_REVOKED     4401                //  close status: token invalid or revoked
#define TD_IDENTITY_SERVICE     "identity"
#define TD_VERIFY_TYPE          "auth.verify"

//  Jobs of the lws thread (td_web_submit): kind, serial, flags, service, type, rid, call id,
//  token, body. call id is the JSON text of a WebSocket call's "id" ("" for HTTP); token is
//  the caller's bearer token ("" when none or ignored); flags TD_JOBF_*; body is msgpack.
typedef enum {
    TD_JOB_CALL = 1,                //  verify token (if any), then forward body to service/type
    TD_JOB_HEALTH,                  //  GET /health
    TD_JOB_METRICS,                 //  GET /metrics
    TD_JOB_WS_OPEN,                 //  WebSocket `serial` opened with `token`: verify it now
                                    //  and every TD_WS_REVERIFY_MS (also the pending kind of
                                    //  those verifications)
    TD_JOB_WS_CLOSE,                //  WebSocket `serial` closed
    TD_JOB_SSE_CLOSE                //  HTTP event stream `serial` closed by the client
} td_job_kind_t;
#define TD_JOBF_PUBLIC  0x01        //  anonymous callers allowed
#define TD_JOBF_SSE     0x02        //  the caller sent Accept: text/event-stream (td_sse.c)

//  Outbound items: actor -> lws thread.
typedef enum {
    TD_OUT_HTTP = 1,                //  the response of HTTP transaction `serial`
    TD_OUT_WS,                      //  a reply frame for WebSocket connection `serial`
    TD_OUT_EVENT,                   //  an event frame for every subscriber of `type`
    TD_OUT_AUTH,                    //  WebSocket `serial`: its verified caller (auth), or
                                    //  revoked: close it with TD_WS_CLOSE_REVOKED
    TD_OUT_SSE                      //  one server-sent-events record of HTTP transaction
                                    //  `serial`: status 200 on the first, `end` on the last
} td_out_kind_t;

typedef struct td_out {
    struct td_out *next;
    td_out_kind_t kind;
    uint64_t serial;
    int status;
    int retry_after;                //  seconds, 0 = no header
    char rid [TD_WEB_RID_MAX + 1];
    const char *ctype;              //  static string
    char *buf;                      //  LWS_PRE bytes of headroom, then text
    size_t len;                     //  text bytes
    char type [TD_MAX_NAME * 2 + 2];//  event type (TD_OUT_EVENT)
    char org [TD_MAX_ID + 1];       //  event org / user ("" when nil), for the visibility hook
    char user [TD_MAX_ID + 1];
    td_webauth_t *auth;             //  TD_OUT_AUTH (owned)
    bool revoked;                   //  TD_OUT_AUTH
    bool end;                       //  TD_OUT_SSE: the stream's last record
} td_out_t;

//  A text buffer with LWS_PRE bytes of headroom, as lws_write wants.
char *td_web_buf_new (const char *text, size_t len);
#define TD_WEB_TEXT(buf) ((buf) + LWS_PRE)

typedef struct td_wsmsg {
    struct td_wsmsg *next;
    char *buf;                      //  td_web_buf_new
    size_t len;
} td_wsmsg_t;

typedef enum { TD_RESP_NONE = 0, TD_RESP_WAIT, TD_RESP_HEADERS, TD_RESP_BODY } td_resp_state_t;

//  Per connection (lws pss, zeroed by lws). Heap members are released by td_pss_cleanup.
typedef struct td_pss {
    struct lws *wsi;
    uint64_t serial;                //  0 = not registered
    bool is_ws;
    //  HTTP transaction
    td_method_t method;
    char *path;                     //  decoded path (heap)
    const char *route_label;        //  metrics label (static)
    int64_t start_us;
    char rid [TD_WEB_RID_MAX + 1];
    bool expect_body;
    char *body;                     //  accumulated body (heap)
    size_t body_len;
    bool body_too_large;
    bool is_static;                 //  serve a file once the body (if any) is read
    td_errcode_t early;             //  error decided from the headers, answered after the body
    char early_msg [160];
    td_resp_state_t state;
    int status;
    int retry_after;
    char allow [64];
    const char *ctype;
    char *resp_buf;                 //  td_web_buf_new
    size_t resp_len, resp_off;
    bool close_after;
    bool body_completed;            //  LWS_CALLBACK_HTTP_BODY_COMPLETION seen (td_http.c)
    //  Server-sent events (td_sse.c): records wait on outq like WebSocket frames
    bool sse_wanted;                //  the request said Accept: text/event-stream
    bool sse;                       //  the response is an event stream
    bool sse_end;                   //  its last record is queued
    //  WebSocket
    char topics [TD_WS_MAX_TOPICS][TD_MAX_NAME + 1];
    int ntopics;
    td_wsmsg_t *outq_head, *outq_tail;
    size_t outq_msgs, outq_bytes;
    char *rx;                       //  fragment reassembly (heap)
    size_t rx_len;
    bool rx_too_large;
    int inflight;
    char *token;                    //  bearer token given at connect (heap), NULL when none
    td_webauth_t *auth;             //  verified caller for the event filter; NULL: anonymous
                                    //  or not verified yet (then only system.* events)
    char peer [64];                 //  client address
    bool closing;
    int close_status;               //  0 -> 1008 policy violation
    char close_reason [96];
} td_pss_t;

typedef struct td_web {
    const td_config_t *cfg;
    //  Shared by both threads
    pthread_mutex_t lock;           //  guards head/tail/qlen/qevents
    td_out_t *head, *tail;
    size_t qlen, qevents;
    atomic_bool draining;
    atomic_bool stopping;
    atomic_int ws_subscribers;      //  WebSocket connections with at least one topic
    atomic_int ws_open;             //  open WebSocket connections
    atomic_bool closing_all;        //  $TERM: close every WebSocket with 1001 going away
    atomic_size_t inflight;         //  pending requests + aggregations, as of the last tick
    td_metrics_t *metrics;          //  has its own lock
    struct lws_context *context;
    char *openapi;                  //  read-only after start; NULL when the file is missing
    size_t openapi_len;
    //  lws thread only (created and destroyed by the actor thread around it)
    zhashx_t *conns;                //  serial (decimal string) -> td_pss_t *
    td_ratelimit_t *ratelimit;      //  per-token request rate
    uint64_t next_serial;
    zsock_t *sub;
    td_client_t *client;
    struct lws *client_wsi;         //  the adopted dup of the client's ZMQ_FD
    struct lws *sub_wsi;            //  the adopted dup of the SUB socket's ZMQ_FD
    lws_sorted_usec_list_t tick;    //  every TD_WEB_TICK_MS
    lws_sorted_usec_list_t kick;    //  after a send: look at ZMQ_EVENTS once this loop turn
    bool kick_armed;
    uint64_t id_prefix;             //  random, per bridge: ids are prefix + counter
    uint64_t id_counter;
    int64_t last_sweep;             //  principal cache swept (ms)
    zhashx_t *pending;              //  request id -> td_pending_t *
    zhashx_t *wsauth;               //  serial (decimal string) -> td_wsauth_t * (WebSockets
                                    //  with a token, re-verified every TD_WS_REVERIFY_MS)
    zlistx_t *aggs;                 //  td_agg_t * (health / metrics in progress)
    td_authcache_t *authcache;      //  principal cache (own lock; the listener drops from it);
                                    //  NULL when off
    td_authlisten_t *authlisten;    //  its LISTEN thread; NULL without a database
    struct td_sse *sse;             //  HTTP event streams and recent llm.* events (td_sse.c)
    size_t authcache_max;
    uint64_t auth_hits, auth_misses;
    //  actor thread only
    zsock_t *pipe;
    pthread_t thread;
    bool thread_started;
} td_web_t;

//  td_web.c
void td_web_enqueue (td_web_t *web, td_out_t *out);
//  Call after every send on web->client: ZMQ_FD is edge-triggered, and a send may take the
//  wake-up of replies already waiting, so ZMQ_EVENTS is looked at again before lws sleeps
//  (once per loop turn, however many sends it made).
void td_web_sent (td_web_t *web);
//  A fresh request id (32 hex chars): a random per-bridge prefix and a counter, so the hot
//  path makes no getrandom call per request (lws thread).
void td_web_new_id (td_web_t *web, char id [33]);
void td_out_destroy (td_out_t **self_p);
int64_t td_web_now_us (void);
//  Whether a connection may see an event (td_webauth_event_allowed with its verified caller).
bool td_web_event_allowed (const td_pss_t *pss, const char *type, const char *org,
                           const char *user);

//  Copy the principal cache's figures into the metrics (actor thread).
void td_web_authcache_metrics (td_web_t *web);

//  td_ws.c: free a connection's outbound WebSocket queue.
void td_ws_queue_drop (td_pss_t *pss);

//  td_http.c — pure helpers
//  True for application/json with optional parameters; only charset=utf-8 is accepted.
bool td_http_content_type_json (const char *value);
//  A sane X-Request-Id: 1..64 chars of [A-Za-z0-9._-].
bool td_http_rid_valid (const char *rid);
//  Map URL path to a file under root into out. 0, or -1 (404: traversal, bad path, too long).
int td_http_static_path (const char *root, const char *path, char *out, size_t size);
//  MIME type for a file name by extension.
const char *td_http_mime (const char *name);
//  The CONTRACT error body as JSON text (heap, NUL-terminated); NULL on out-of-memory.
char *td_http_error_text (td_errcode_t code, const char *message, const char *field);
//  td_http.c — lws side
int td_http_callback (struct lws *wsi, enum lws_callback_reasons reason, td_pss_t *pss,
                      void *in, size_t len);
void td_http_deliver (td_web_t *web, td_pss_t *pss, td_out_t *out);
//  A TD_OUT_SSE record for its connection (lws thread).
void td_http_sse_deliver (td_web_t *web, td_pss_t *pss, td_out_t *out);

//  Answer of a REST request handled in the lws thread: either submitted to the actor
//  (submitted = true) or answered at once with json (owned) and status.
typedef struct {
    bool submitted;
    int status;
    int retry_after;
    char allow [64];
    json_t *json;
    const char *raw;                //  instead of json: static JSON text (not owned)
    size_t raw_len;
    const char *route_label;
} td_answer_t;
//  Route and submit one REST request (shared by HTTP and WebSocket "call").
//  Checks the route's access (401 for anonymous on a protected route), the per-token rate
//  (429), and submits; the actor verifies the token before forwarding.
void td_web_handle (td_web_t *web, uint64_t serial, const char *call_id, td_method_t method,
                    const char *path, const td_params_t *query, const json_t *body,
                    const char *rid, const char *token, const char *client_ip, bool sse,
                    td_answer_t *ans);
//  The peer address of a connection into buf ("" when unknown).
void td_http_peer (struct lws *wsi, char *buf, size_t size);
//  Handle one job at once (lws thread; td_web.c). 0, or -1 (out of memory: not taken, the
//  caller answers). Answers it makes are queued, never delivered inside the call.
int td_web_submit (td_web_t *web, td_job_kind_t kind, uint64_t serial, int flags,
                   const char *service, const char *type, const char *rid, const char *call_id,
                   const char *token, const void *body, size_t size);
//  The bearer token of the request's Authorization header into buf ("" when none or too long).
void td_http_bearer (struct lws *wsi, char *buf, size_t size);
//  Error answer helper.
void td_answer_error (td_answer_t *ans, td_errcode_t code, const char *message,
                      const char *field);
//  The same with an explicit Retry-After (seconds, 0 = none).
void td_answer_error_ra (td_answer_t *ans, td_errcode_t code, const char *message,
                         const char *field, int retry_after);

//  td_ws.c
typedef enum { TD_WSOP_SUBSCRIBE = 1, TD_WSOP_UNSUBSCRIBE, TD_WSOP_CALL, TD_WSOP_PING } td_wsop_kind_t;
typedef struct {
    td_wsop_kind_t kind;
    json_t *root;                   //  the parsed frame (owned)
    //  subscribe / unsubscribe
    const char *topics [TD_WS_MAX_TOPICS];
    int ntopics;
    //  call
    char *id_json;                  //  heap, JSON text of "id"
    td_method_t method;
    const char *path;               //  raw target, may hold a query string
    const json_t *body;             //  NULL when absent
} td_wsop_t;
//  Parse one text frame. 0, or -1 with err set (and op->id_json set when an id was readable).
int td_ws_op_parse (const char *text, size_t len, td_wsop_t *op, td_error_t *err);
void td_ws_op_clear (td_wsop_t *op);
//  A topic prefix: 1..TD_MAX_NAME chars of [a-z0-9_.-], starting with a letter.
bool td_ws_topic_valid (const char *topic);
//  True when type starts with one of the connection's prefixes.
bool td_ws_topic_match (const td_pss_t *pss, const char *type);
int td_ws_callback (struct lws *wsi, enum lws_callback_reasons reason, td_pss_t *pss,
                    void *in, size_t len);
//  Queue text (copied) for the connection; closes a laggard beyond the bounds.
void td_ws_send (td_pss_t *pss, const char *text, size_t len);
//  Queue an owned buffer (td_web_buf_new) for the connection.
void td_ws_send_buf (td_pss_t *pss, char *buf, size_t len);
void td_ws_deliver (td_web_t *web, td_pss_t *pss, td_out_t *out);
//  A verified caller for the connection (TD_OUT_AUTH), or its refusal: close with 4401.
void td_ws_auth (td_web_t *web, td_pss_t *pss, td_out_t *out);
void td_ws_broadcast (td_web_t *web, td_out_t *out);
//  Close every WebSocket with 1001 "server shutting down" once its queue is flushed.
void td_ws_close_all (td_web_t *web);

//  Connection table (lws thread)
uint64_t td_web_register (td_web_t *web, td_pss_t *pss);
void td_web_unregister (td_web_t *web, td_pss_t *pss);
td_pss_t *td_web_lookup (td_web_t *web, uint64_t serial);
void td_pss_cleanup (td_web_t *web, td_pss_t *pss);

//  td_health.c (actor thread)
typedef struct td_agg td_agg_t;
typedef struct td_pending td_pending_t;
//  Start a health or metrics aggregation. 0, or -1 (answer already queued).
int td_health_start (td_web_t *web, td_job_kind_t kind, uint64_t serial, const char *call_id,
                     const char *rid);
//  A reply for one of an aggregation's sub-requests (msg may be NULL on failure).
void td_health_reply (td_web_t *web, td_pending_t *pending, int status, const msgpack_object *body);
//  Finish aggregations past their deadline.
void td_health_expire (td_web_t *web, int64_t now_ms);
void td_agg_destroy (td_agg_t **self_p);

typedef enum {
    TD_STAGE_CALL = 0,              //  waiting for the service's reply
    TD_STAGE_VERIFY                 //  waiting for auth.verify; then the call is sent
} td_stage_t;

struct td_pending {
    char id [33];
    td_job_kind_t kind;             //  TD_JOB_CALL, TD_JOB_WS_OPEN (a WebSocket's token
                                    //  verification), or a sub-request of an aggregation
    td_stage_t stage;
    uint64_t serial;
    //  TD_STAGE_VERIFY of a call: what to send once the caller is verified
    char *service, *type;           //  heap
    byte *body;                     //  heap (msgpack)
    size_t body_size;
    int64_t deadline;               //  the call's deadline (unix ms)
    char *call_id;                  //  heap, "" for HTTP
    char rid [TD_WEB_RID_MAX + 1];
    int64_t expire_ms;              //  answer 504 ourselves after this
    td_agg_t *agg;                  //  NULL for a plain call
    int slot;                       //  aggregation slot: -1 broker, else actor index
    char *token;                    //  TD_STAGE_VERIFY of a call: the credential (heap, wiped),
                                    //  to cache identity's answer under; NULL when not cached
    uint64_t epoch;                 //  the cache's epoch when auth.verify was sent
    bool sse;                       //  HTTP caller asked for an event stream (TD_JOBF_SSE)
    byte *auth;                     //  sse: the auth map it was forwarded with (heap), so the
    size_t auth_size;               //  stream can cancel the turn when its client leaves
};

//  td_sse.c — a tutor message's answer as server-sent events on the HTTP response (issue 7):
//  actor side. A call made with Accept: text/event-stream whose reply is 202 naming a
//  message_id becomes a stream: the reply is its first record ("accepted"), then every
//  llm.delta and llm.done event of that message, and the stream ends after llm.done. Events
//  may overtake the reply (they travel the event plane, the reply the request plane), so the
//  most recent llm.* records are kept and replayed when a stream starts.
typedef struct td_sse td_sse_t;
td_sse_t *td_sse_new (void);
void td_sse_destroy (td_sse_t **self_p);
//  A 202 reply to an SSE call: true when it started a stream (then the reply is answered).
bool td_sse_start (td_web_t *web, td_pending_t *p, int status, const msgpack_object *body);
//  An event (any type; llm.delta and llm.done are used).
void td_sse_event (td_web_t *web, const td_msg_t *ev);
//  The client of stream `serial` went away.
void td_sse_forget (td_web_t *web, uint64_t serial);
//  End streams that outlived TD_SSE_MAX_MS.
void td_sse_expire (td_web_t *web, int64_t now_ms);
#define TD_SSE_MAX_MS (10 * 60 * 1000)

//  Queue the answer for a request (HTTP response or WebSocket reply frame). json is consumed.
//  ctype NULL -> application/json. text/len used instead of json when json is NULL.
void td_web_answer (td_web_t *web, uint64_t serial, const char *call_id, const char *rid,
                    int status, json_t *json, const char *ctype, const char *text, size_t len);
//  The same with an explicit Retry-After in seconds (0: none; < 0: the default for 429/503).
void td_web_answer_ra (td_web_t *web, uint64_t serial, const char *call_id, const char *rid,
                       int status, json_t *json, const char *ctype, const char *text,
                       size_t len, int retry_after);
void td_web_answer_error (td_web_t *web, uint64_t serial, const char *call_id, const char *rid,
                          td_errcode_t code, const char *message, const char *field);
//  Send one request for the actor; registers a pending entry. 0, or -1 (not sent).
//  pending->id is set here; the table owns pending once this returns 0. auth is the packed
//  auth map (NULL: nil).
int td_web_send (td_web_t *web, td_pending_t *pending, const char *service, const char *type,
                 const void *auth, size_t auth_size, const void *body, size_t size,
                 int64_t deadline_ms, td_error_t *err);

#endif
