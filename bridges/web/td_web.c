/*  td_web — the web bridge actor: REST, WebSocket and static files over libwebsockets.
 *
 *  lws is single-threaded and only lws_cancel_service () may be called from another thread
 *  (notes/messaging.md §3.2), while czmq sockets belong to one thread each. So the whole hot
 *  path lives on the one lws service thread (see td_web_int.h for who owns what): it routes a
 *  request, looks its caller up in the principal cache, sends it on the td_client DEALER,
 *  and when the broker's reply wakes the lws loop (the DEALER's and the SUB socket's ZMQ_FDs
 *  are adopted into it as raw descriptors) it turns the reply into JSON and writes it — no
 *  hand-off between threads inside the bridge. (It used to be two hops more: lws thread ->
 *  inproc PUSH -> actor thread -> broker and back via a mutex queue and lws_cancel_service;
 *  the context switches cost more than the work: issue 3's benchmark.) The actor thread only
 *  creates and destroys everything and answers the pipe ($TERM, DRAIN).
 *  Events: in a process that also runs the broker, the SUB is bound where this process's
 *  publishers connect too, and takes only other processes' events from the broker's proxy (a
 *  remote-only XPUB): a tutor's tokens skip the proxy thread (td_config_events_direct).
 *  Answers are queued on the lws thread too and handed to their connections in one batch when
 *  a wake-up's pump ends, or on the next wake when they were made inside a callback.
 *
 *  Life cycle:  init (sockets, lws context = listening, ZMQ_FDs adopted, tick timer)
 *               -> signal 0 | -1 -> lws thread: serve (wake: connections | ZMQ_FD pump |
 *                  50 ms tick)*; actor thread: pipe (DRAIN, $TERM)* -> stop and join the lws
 *               thread -> destroy the context (closes connections), then the sockets.
 *  Invariant: a request the bridge accepted is answered exactly once — by its reply, by a 503
 *  when it cannot be sent, or by a 504 at deadline + TD_WEB_GRACE_MS if no reply came (the
 *  tick); a reply arriving later finds no pending entry and is dropped.
 *
 *  Callers (IDENTITY.md §2): a request with a bearer token is first verified with identity's
 *  auth.verify — a pending entry in stage VERIFY — and only then forwarded with the auth map
 *  identity answered; 401 when identity refuses the token, 503 when identity cannot answer.
 *  That map is kept per credential in the principal cache (td_authcache.h) until its
 *  valid_until, and dropped the moment PostgreSQL notifies a change (td_authlisten.h; the cache
 *  is off while not listening), so a repeated request skips auth.verify and a revoked token is
 *  still refused on the very next request (IDENTITY.md §1).
 *  A request without a token (or on a route that ignores it) carries {"kind":"anonymous"}.
 *  WebSocket connections with a token are verified when they open, every TD_WS_REVERIFY_MS,
 *  and at once on identity events about their user; the verified caller drives their event
 *  filter, and a refused token closes them with TD_WS_CLOSE_REVOKED.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sodium.h>
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_msg.h"
#include "td_web.h"
#include "td_web_int.h"

//  --------------------------------------------------------------------------
//  Small shared helpers

char *
td_web_buf_new (const char *text, size_t len)
{
    char *buf = malloc (LWS_PRE + len + 1);
    if (!buf)
        return NULL;
    if (len)
        memcpy (buf + LWS_PRE, text, len);
    buf [LWS_PRE + len] = 0;
    return buf;
}

void
td_out_destroy (td_out_t **self_p)
{
    if (self_p && *self_p) {
        td_webauth_destroy (&(*self_p)->auth);
        free ((*self_p)->buf);
        free (*self_p);
        *self_p = NULL;
    }
}

int64_t
td_web_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  {"kind":"anonymous"}, packed: the auth of every request without a (used) token.
static const unsigned char s_anonymous [] = {
    0x81, 0xa4, 'k', 'i', 'n', 'd', 0xa9, 'a', 'n', 'o', 'n', 'y', 'm', 'o', 'u', 's'
};

bool
td_web_event_allowed (const td_pss_t *pss, const char *type, const char *org,
                      const char *user)
{
    return td_webauth_event_allowed (pss->auth, type, org, user);
}

//  True on the lws thread while s_pump runs: answers queued meanwhile are delivered when it
//  ends, so they need no wake-up.
static _Thread_local bool s_pumping;

void
td_web_enqueue (td_web_t *web, td_out_t *out)
{
    pthread_mutex_lock (&web->lock);
    if (out->kind == TD_OUT_EVENT && web->qevents >= TD_WEB_QUEUE_EVENTS_MAX) {
        pthread_mutex_unlock (&web->lock);
        td_out_destroy (&out);      //  events are best-effort
        return;
    }
    out->next = NULL;
    //  One wake-up per batch: the lws thread takes the whole queue at once, so while the
    //  queue is non-empty a wake-up is already on its way.
    bool was_empty = web->head == NULL;
    if (web->tail)
        web->tail->next = out;
    else
        web->head = out;
    web->tail = out;
    web->qlen++;
    if (out->kind == TD_OUT_EVENT)
        web->qevents++;
    pthread_mutex_unlock (&web->lock);
    if (was_empty && web->context && !s_pumping && !atomic_load (&web->stopping))
        lws_cancel_service (web->context);
}

void
td_web_authcache_metrics (td_web_t *web)
{
    td_metrics_auth_t m;
    memset (&m, 0, sizeof m);
    if (web->authcache) {
        td_authlisten_stats_t st;
        td_authlisten_stats (web->authlisten, &st);
        m.present = true;
        m.live = td_authcache_live (web->authcache);
        m.entries = td_authcache_size (web->authcache);
        m.capacity = web->authcache_max;
        m.hits = web->auth_hits;
        m.misses = web->auth_misses;
        m.notifications = st.notifications;
        m.dropped = st.dropped;
        m.connects = st.connects;
        m.barrier_last_s = (double) st.barrier_last_us / 1e6;
        m.barrier_max_s = (double) st.barrier_max_us / 1e6;
    }
    td_metrics_authcache (web->metrics, &m);
}

//  --------------------------------------------------------------------------
//  Connection table (lws thread)

//  The table's keys are the serials themselves (a pointer to pss->serial, which lives as long
//  as the entry): no formatting, copying or freeing of a key per request.
static size_t
s_serial_hash (const void *key)
{
    uint64_t v = *(const uint64_t *) key;
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdULL;
    v ^= v >> 33;
    return (size_t) v;
}

static int
s_serial_cmp (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

uint64_t
td_web_register (td_web_t *web, td_pss_t *pss)
{
    pss->serial = ++web->next_serial;
    if (zhashx_insert (web->conns, &pss->serial, pss)) {
        pss->serial = 0;
        return 0;
    }
    return pss->serial;
}

void
td_web_unregister (td_web_t *web, td_pss_t *pss)
{
    if (!pss->serial)
        return;
    uint64_t serial = pss->serial;
    if (zhashx_lookup (web->conns, &serial) == pss)
        zhashx_delete (web->conns, &serial);
    pss->serial = 0;
}

td_pss_t *
td_web_lookup (td_web_t *web, uint64_t serial)
{
    return (td_pss_t *) zhashx_lookup (web->conns, &serial);
}

void
td_pss_cleanup (td_web_t *web, td_pss_t *pss)
{
    td_web_unregister (web, pss);
    free (pss->path);
    pss->path = NULL;
    free (pss->body);
    pss->body = NULL;
    pss->body_len = 0;
    free (pss->resp_buf);
    pss->resp_buf = NULL;
    free (pss->rx);
    pss->rx = NULL;
    pss->rx_len = 0;
    free (pss->token);
    pss->token = NULL;
    td_webauth_destroy (&pss->auth);
    td_ws_queue_drop (pss);
    pss->state = TD_RESP_NONE;
}

//  Hand every queued item to its connection (lws thread, on lws_cancel_service).
static void
s_drain_queue (td_web_t *web)
{
    pthread_mutex_lock (&web->lock);
    td_out_t *out = web->head;
    web->head = web->tail = NULL;
    web->qlen = web->qevents = 0;
    pthread_mutex_unlock (&web->lock);
    while (out) {
        td_out_t *next = out->next;
        if (out->kind == TD_OUT_EVENT)
            td_ws_broadcast (web, out);
        else {
            td_pss_t *pss = td_web_lookup (web, out->serial);
            if (pss && out->kind == TD_OUT_HTTP)
                td_http_deliver (web, pss, out);
            else
            if (pss && out->kind == TD_OUT_WS)
                td_ws_deliver (web, pss, out);
            else
            if (pss && out->kind == TD_OUT_AUTH)
                td_ws_auth (web, pss, out);
            else
            if (pss && out->kind == TD_OUT_SSE)
                td_http_sse_deliver (web, pss, out);
        }
        td_out_destroy (&out);
        out = next;
    }
}

static void s_pump (td_web_t *web);

//  --------------------------------------------------------------------------
//  lws protocol

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
            size_t len)
{
    td_web_t *web = (td_web_t *) lws_context_user (lws_get_context (wsi));
    td_pss_t *pss = (td_pss_t *) user;
    switch (reason) {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            if (web && web->conns && !atomic_load (&web->stopping)) {
                s_pump (web);
                if (atomic_load (&web->closing_all))
                    td_ws_close_all (web);
            }
            return 0;
        case LWS_CALLBACK_RAW_RX_FILE:
            //  One of the adopted ZMQ_FDs: replies or events (may be) waiting
            if (web && web->conns && !atomic_load (&web->stopping))
                s_pump (web);
            return 0;
        case LWS_CALLBACK_RAW_ADOPT_FILE:
        case LWS_CALLBACK_RAW_CLOSE_FILE:
            return 0;
        case LWS_CALLBACK_HTTP:
        case LWS_CALLBACK_HTTP_BODY:
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        case LWS_CALLBACK_HTTP_WRITEABLE:
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
            if (!pss || !web->conns)
                return 0;
            return td_http_callback (wsi, reason, pss, in, len);
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        case LWS_CALLBACK_ESTABLISHED:
        case LWS_CALLBACK_RECEIVE:
        case LWS_CALLBACK_SERVER_WRITEABLE:
        case LWS_CALLBACK_CLOSED:
            if (!pss || !web->conns)
                return reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION ? 1 : 0;
            return td_ws_callback (wsi, reason, pss, in, len);
        default:
            return 0;
    }
}

static const struct lws_protocols s_protocols [] = {
    { "http", s_callback, sizeof (td_pss_t), 65536, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void *
s_lws_thread (void *arg)
{
    td_web_t *web = (td_web_t *) arg;
    while (!atomic_load (&web->stopping))
        if (lws_service (web->context, 0) < 0) {
            td_error (TD_WEB_ACTOR, NULL, "the lws service loop failed; HTTP is down");
            break;
        }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Answers (lws thread)

static td_out_t *
s_out_new (td_out_kind_t kind, uint64_t serial, const char *rid)
{
    td_out_t *out = calloc (1, sizeof *out);
    if (!out)
        return NULL;
    out->kind = kind;
    out->serial = serial;
    snprintf (out->rid, sizeof out->rid, "%s", rid ? rid : "");
    return out;
}

void
td_web_answer (td_web_t *web, uint64_t serial, const char *call_id, const char *rid, int status,
               json_t *json, const char *ctype, const char *text, size_t len)
{
    td_web_answer_ra (web, serial, call_id, rid, status, json, ctype, text, len, -1);
}

void
td_web_answer_ra (td_web_t *web, uint64_t serial, const char *call_id, const char *rid,
                  int status, json_t *json, const char *ctype, const char *text, size_t len,
                  int retry_after)
{
    bool ws = call_id && *call_id;
    td_out_t *out = s_out_new (ws ? TD_OUT_WS : TD_OUT_HTTP, serial, rid);
    char *dumped = NULL;
    if (!out)
        goto done;
    out->status = status;
    if (retry_after < 0)
        retry_after = (status == 503 || status == 429) ? TD_WEB_RETRY_AFTER : 0;
    out->retry_after = retry_after;
    out->ctype = ctype ? ctype : "application/json";
    if (ws) {
        json_t *j = json_object ();
        json_t *id = json_loads (call_id, JSON_DECODE_ANY, NULL);
        json_t *body = json ? json_incref (json)
                     : (status == 204 || !text) ? json_null () : json_stringn (text, len);
        if (j && id && body) {
            json_object_set_new (j, "op", json_string ("reply"));
            json_object_set_new (j, "id", id);
            json_object_set_new (j, "status", json_integer (status));
            json_object_set_new (j, "body", body);
            dumped = json_dumps (j, JSON_COMPACT);
        }
        else {
            json_decref (id);
            json_decref (body);
        }
        json_decref (j);
    }
    else
    if (json)
        dumped = json_dumps (json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dumped) {
        out->len = strlen (dumped);
        out->buf = td_web_buf_new (dumped, out->len);
    }
    else
    if (!ws && !json) {
        out->len = text ? len : 0;
        out->buf = td_web_buf_new (text ? text : "", out->len);
    }
    if (!out->buf) {
        td_out_destroy (&out);
        td_error (TD_WEB_ACTOR, rid, "out of memory answering a request");
        goto done;
    }
    td_web_enqueue (web, out);
done:
    free (dumped);
    if (json)
        json_decref (json);
}

void
td_web_answer_error (td_web_t *web, uint64_t serial, const char *call_id, const char *rid,
                     td_errcode_t code, const char *message, const char *field)
{
    td_web_answer (web, serial, call_id, rid, td_errcode_status (code),
                   td_json_error (code, message, field), NULL, NULL, 0);
}

static void
s_pending_destroy (void **item_p)
{
    if (item_p && *item_p) {
        td_pending_t *p = (td_pending_t *) *item_p;
        free (p->call_id);
        free (p->service);
        free (p->type);
        free (p->body);
        free (p->auth);
        if (p->token) {
            sodium_memzero (p->token, strlen (p->token));
            free (p->token);
        }
        free (p);
        *item_p = NULL;
    }
}

static void
s_agg_destroy (void **item_p)
{
    td_agg_destroy ((td_agg_t **) item_p);
}

int
td_web_send (td_web_t *web, td_pending_t *pending, const char *service, const char *type,
             const void *auth, size_t auth_size, const void *body, size_t size,
             int64_t deadline_ms, td_error_t *err)
{
    if (zhashx_size (web->pending) >= TD_WEB_MAX_PENDING)
        return td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "The server is overloaded.");
    td_web_new_id (web, pending->id);
    td_request_spec_t spec = {
        .id = pending->id, .rid = pending->rid [0] ? pending->rid : NULL, .type = type,
        .deadline = deadline_ms, .auth = auth, .auth_size = auth ? auth_size : 0,
        .body = size ? body : NULL, .body_size = size
    };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int rc = td_request_pack (&sb, &spec, err);
    if (rc == 0) {
        rc = td_client_send (web->client, service, sb.data, sb.size);
        td_web_sent (web);
        if (rc)
            td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "The broker is not reachable.");
    }
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        return -1;
    if (zhashx_insert (web->pending, pending->id, pending))
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "Duplicate request id.");
    return 0;
}

//  --------------------------------------------------------------------------
//  Actor: jobs, replies, events

//  --------------------------------------------------------------------------
//  Callers: token verification (lws thread)

typedef struct {
    uint64_t serial;
    char *token;
    int64_t next_ms;                //  when to verify again
    bool inflight;                  //  a verification is pending
    char user [TD_MAX_ID + 1];      //  the verified user ("" for an API key or not yet)
} s_wsent_t;

static void
s_wsent_destroy (void **item_p)
{
    if (item_p && *item_p) {
        s_wsent_t *e = (s_wsent_t *) *item_p;
        if (e->token)
            sodium_memzero (e->token, strlen (e->token));
        free (e->token);
        free (e);
        *item_p = NULL;
    }
}

//  Pack {"token": token} into sb. 0, or -1.
static int
s_pack_verify (msgpack_sbuffer *sb, const char *token)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    if (msgpack_pack_map (&pk, 1) || td_mp_pack_kv_str (&pk, "token", token))
        return -1;
    return 0;
}

//  Send auth.verify for pending (already filled in). 0, or -1 with err set.
static int
s_send_verify (td_web_t *web, td_pending_t *p, const char *token, int64_t deadline,
               td_error_t *err)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int rc = s_pack_verify (&sb, token);
    if (rc)
        td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "Out of memory; retry later.");
    else
        rc = td_web_send (web, p, TD_IDENTITY_SERVICE, TD_VERIFY_TYPE, s_anonymous,
                          sizeof s_anonymous, sb.data, sb.size, deadline, err);
    if (sb.data)
        sodium_memzero (sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

static void
s_serial_key_ws (uint64_t serial, char key [24])
{
    snprintf (key, 24, "%" PRIu64, serial);
}

//  Tell the lws thread who a WebSocket's caller is now (auth owned), or that it is refused.
static void
s_ws_auth_out (td_web_t *web, uint64_t serial, td_webauth_t *auth, bool revoked)
{
    td_out_t *out = s_out_new (TD_OUT_AUTH, serial, NULL);
    if (!out) {
        td_webauth_destroy (&auth);
        return;
    }
    out->auth = auth;
    out->revoked = revoked;
    td_web_enqueue (web, out);
}

//  Start the verification of one WebSocket's token.
static void
s_ws_verify (td_web_t *web, s_wsent_t *e)
{
    td_pending_t *p = calloc (1, sizeof *p);
    int64_t deadline = td_now_ms () + web->cfg->request_timeout_ms;
    if (p) {
        p->kind = TD_JOB_WS_OPEN;
        p->stage = TD_STAGE_VERIFY;
        p->serial = e->serial;
        p->call_id = strdup ("");
        p->slot = -1;
        p->expire_ms = deadline + TD_WEB_GRACE_MS;
    }
    td_error_t err;
    td_error_clear (&err);
    if (!p || !p->call_id || s_send_verify (web, p, e->token, deadline, &err)) {
        if (p)
            free (p->call_id);
        free (p);
        e->next_ms = td_now_ms () + 1000;       //  try again soon
        return;
    }
    e->inflight = true;
}

//  Verify every WebSocket token that is due.
static void
s_ws_tick (td_web_t *web, int64_t now)
{
    for (s_wsent_t *e = (s_wsent_t *) zhashx_first (web->wsauth); e;
         e = (s_wsent_t *) zhashx_next (web->wsauth))
        if (!e->inflight && e->next_ms <= now)
            s_ws_verify (web, e);
}

//  A verification of a WebSocket's token came back (status 0: no answer in time).
static void
s_ws_verified (td_web_t *web, td_pending_t *p, int status, const msgpack_object *body)
{
    char key [24];
    s_serial_key_ws (p->serial, key);
    s_wsent_t *e = (s_wsent_t *) zhashx_lookup (web->wsauth, key);
    if (!e)
        return;                     //  the connection closed meanwhile
    e->inflight = false;
    int64_t now = td_now_ms ();
    if (status == 200) {
        td_webauth_t *auth = td_webauth_from_mp (body);
        if (auth) {
            snprintf (e->user, sizeof e->user, "%s", auth->user);
            e->next_ms = now + TD_WS_REVERIFY_MS;
            s_ws_auth_out (web, p->serial, auth, false);
            return;
        }
        td_warn (TD_WEB_ACTOR, NULL, "auth.verify answered a map the bridge cannot read");
        e->next_ms = now + 1000;
    }
    else
    if (status >= 400 && status < 500 && status != 429 && status != 408) {
        s_ws_auth_out (web, p->serial, NULL, true);
        zhashx_delete (web->wsauth, key);
    }
    else
        e->next_ms = now + 1000;    //  identity unavailable: keep the caller, retry soon
}

//  Identity says something changed for user (or for everyone when user is ""): verify the
//  WebSockets of that user again at once.
static void
s_ws_recheck (td_web_t *web, const char *user)
{
    for (s_wsent_t *e = (s_wsent_t *) zhashx_first (web->wsauth); e;
         e = (s_wsent_t *) zhashx_next (web->wsauth))
        if (!*user || !e->user [0] || strcmp (e->user, user) == 0)
            e->next_ms = 0;
}

static void
s_ws_open (td_web_t *web, uint64_t serial, const char *token)
{
    char key [24];
    s_serial_key_ws (serial, key);
    s_wsent_t *e = calloc (1, sizeof *e);
    if (e)
        e->token = strdup (token);
    if (!e || !e->token) {
        if (e)
            free (e);
        s_ws_auth_out (web, serial, NULL, true);     //  can't watch it: don't serve it
        return;
    }
    e->serial = serial;
    zhashx_delete (web->wsauth, key);
    if (zhashx_insert (web->wsauth, key, e)) {
        void *item = e;
        s_wsent_destroy (&item);
        return;
    }
    s_ws_verify (web, e);
}

//  Send the call of pending p (stage CALL) with auth. On failure answers the request itself
//  and returns -1; p is then no longer in the table (and freed).
static int
s_forward (td_web_t *web, td_pending_t *p, const void *auth, size_t auth_size, bool in_table)
{
    td_error_t err;
    td_error_clear (&err);
    if (in_table) {
        //  Move its contents to a fresh entry (td_web_send files it under a new id), then
        //  drop the emptied old one from the table
        td_pending_t *moved = malloc (sizeof *moved);
        if (!moved) {
            td_web_answer_error (web, p->serial, p->call_id, p->rid, TD_ERR_UNAVAILABLE,
                                 "Out of memory; retry later.", NULL);
            zhashx_delete (web->pending, p->id);
            return -1;
        }
        *moved = *p;
        p->call_id = p->service = p->type = p->token = NULL;
        p->body = NULL;
        zhashx_delete (web->pending, p->id);
        p = moved;
    }
    p->stage = TD_STAGE_CALL;
    if (p->token) {
        sodium_memzero (p->token, strlen (p->token));
        free (p->token);
        p->token = NULL;
    }
    if (p->sse && auth && auth_size && !p->auth) {
        p->auth = malloc (auth_size);           //  NULL: the stream just cannot cancel
        if (p->auth) {
            memcpy (p->auth, auth, auth_size);
            p->auth_size = auth_size;
        }
    }
    if (td_web_send (web, p, p->service, p->type, auth, auth_size, p->body, p->body_size,
                     p->deadline, &err) == 0) {
        free (p->body);
        p->body = NULL;
        p->body_size = 0;
        return 0;
    }
    if (err.code == TD_OK || err.code == TD_ERR_INTERNAL)
        td_error_set (&err, TD_ERR_UNAVAILABLE, NULL, "The request could not be sent.");
    td_web_answer_error (web, p->serial, p->call_id, p->rid, err.code, err.message,
                         err.field [0] ? err.field : NULL);
    void *item = p;
    s_pending_destroy (&item);
    return -1;
}

//  auth.verify answered for a call in stage VERIFY (status 0: no answer in time).
//  Keep identity's answer for p's credential, when it says until when it holds.
static void
s_cache_verdict (td_web_t *web, td_pending_t *p, const msgpack_object *body, const void *map,
                 size_t size)
{
    if (!web->authcache || !p->token)
        return;
    const msgpack_object *vu = td_mp_get (body, "valid_until");
    if (!vu || vu->type != MSGPACK_OBJECT_POSITIVE_INTEGER || vu->via.u64 > INT64_MAX)
        return;
    char user [TD_MAX_ID + 1] = "", session [TD_MAX_ID + 1] = "", key [TD_MAX_ID + 1] = "";
    const msgpack_object *o;
    if ((o = td_mp_get (body, "user")) && o->type == MSGPACK_OBJECT_STR)
        td_mp_strcpy (o, user, sizeof user);
    if ((o = td_mp_get (body, "session")) && o->type == MSGPACK_OBJECT_STR)
        td_mp_strcpy (o, session, sizeof session);
    if ((o = td_mp_get (body, "key")) && o->type == MSGPACK_OBJECT_STR)
        td_mp_strcpy (o, key, sizeof key);
    if (!*user && !*key)
        return;                     //  nothing a notification could name: never cache it
    td_authcache_put (web->authcache, p->token, strlen (p->token), p->epoch,
                      td_now_ms () / 1000, (int64_t) vu->via.u64, user, session, key, map, size);
}

static void
s_call_verified (td_web_t *web, td_pending_t *p, int status, const msgpack_object *body)
{
    if (status == 200 && body && body->type == MSGPACK_OBJECT_MAP) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        if (msgpack_pack_object (&pk, *body) == 0) {
            s_cache_verdict (web, p, body, sb.data, sb.size);
            s_forward (web, p, sb.data, sb.size, true);
            msgpack_sbuffer_destroy (&sb);
            return;
        }
        msgpack_sbuffer_destroy (&sb);
        status = 503;
    }
    if (status >= 400 && status < 500 && status != 429 && status != 408) {
        td_web_answer_error (web, p->serial, p->call_id, p->rid, TD_ERR_UNAUTHORIZED,
                             "The token is invalid, expired or revoked; sign in again.", NULL);
        if (p->call_id && *p->call_id)
            s_ws_auth_out (web, p->serial, NULL, true);     //  the connection's token
    }
    else
        td_web_answer_error (web, p->serial, p->call_id, p->rid, TD_ERR_UNAVAILABLE,
                             "The identity service is unavailable; retry later.", NULL);
    zhashx_delete (web->pending, p->id);
}

//  --------------------------------------------------------------------------
//  Actor: jobs, replies, events

//  One job of the lws thread (HTTP, WebSocket), handled at once on the lws thread. Answers
//  made here go through td_web_enqueue, so they reach the connection only after the callback
//  that submitted the job has returned (and marked the transaction TD_RESP_WAIT). 0, or -1
//  (out of memory: nothing was done, the caller answers).
int
td_web_submit (td_web_t *web, td_job_kind_t kind, uint64_t serial, int flags,
               const char *service, const char *type, const char *rid, const char *call_id,
               const char *token, const void *body_in, size_t size)
{
    byte *body = NULL;
    if (kind == TD_JOB_CALL && size) {
        body = malloc (size);       //  the pending entry owns its body
        if (!body)
            return -1;
        memcpy (body, body_in, size);
    }
    else
        size = 0;
    if (!service)
        service = "";
    if (!type)
        type = "";
    if (!rid)
        rid = "";
    if (!call_id)
        call_id = "";
    if (!token)
        token = "";
    if (kind == TD_JOB_HEALTH || kind == TD_JOB_METRICS)
        td_health_start (web, (td_job_kind_t) kind, serial, call_id, rid);
    else
    if (kind == TD_JOB_WS_OPEN) {
        if (token && *token)
            s_ws_open (web, serial, token);
    }
    else
    if (kind == TD_JOB_WS_CLOSE) {
        char key [24];
        s_serial_key_ws (serial, key);
        zhashx_delete (web->wsauth, key);
    }
    else
    if (kind == TD_JOB_SSE_CLOSE)
        td_sse_forget (web, serial);
    else {
        td_error_t err;
        td_error_clear (&err);
        td_pending_t *p = calloc (1, sizeof *p);
        int64_t deadline = td_now_ms () + web->cfg->request_timeout_ms;
        if (p) {
            p->kind = TD_JOB_CALL;
            p->serial = serial;
            p->call_id = strdup (call_id ? call_id : "");
            p->service = strdup (service ? service : "");
            p->type = strdup (type ? type : "");
            p->slot = -1;
            p->sse = (flags & TD_JOBF_SSE) != 0;
            p->deadline = deadline;
            p->expire_ms = deadline + TD_WEB_GRACE_MS;
            snprintf (p->rid, sizeof p->rid, "%s", rid ? rid : "");
        }
        if (!p || !p->call_id || !p->service || !p->type) {
            void *item = p;
            s_pending_destroy (&item);
            td_web_answer_error (web, serial, call_id, rid, TD_ERR_UNAVAILABLE,
                                 "Out of memory; retry later.", NULL);
        }
        else {
            p->body = body;
            p->body_size = size;
            body = NULL;
            void *cached = NULL;
            size_t cached_size = 0;
            int hit = (token && *token && web->authcache)
                    ? td_authcache_get (web->authcache, token, strlen (token),
                                        td_now_ms () / 1000, &cached, &cached_size) : 0;
            if (hit == 1) {
                //  Identity answered for this credential before and nothing has changed it
                //  since (td_authcache.h): forward at once
                web->auth_hits++;
                s_forward (web, p, cached, cached_size, false);
                free (cached);
            }
            else
            if (token && *token) {
                p->stage = TD_STAGE_VERIFY;
                if (web->authcache) {
                    web->auth_misses++;
                    p->epoch = td_authcache_epoch (web->authcache);
                    p->token = strdup (token);      //  NULL: just not cached
                }
                if (s_send_verify (web, p, token, deadline, &err)) {
                    if (err.code == TD_OK || err.code == TD_ERR_INTERNAL)
                        td_error_set (&err, TD_ERR_UNAVAILABLE, NULL,
                                      "The request could not be sent.");
                    td_web_answer_error (web, serial, call_id, rid, err.code, err.message,
                                         err.field [0] ? err.field : NULL);
                    void *item = p;
                    s_pending_destroy (&item);
                }
            }
            else
            if (!(flags & TD_JOBF_PUBLIC)) {
                //  The lws thread answers this itself; kept as a second line of defence
                td_web_answer_error (web, serial, call_id, rid, TD_ERR_UNAUTHORIZED,
                                     "This route needs a token: Authorization: Bearer <token>.",
                                     NULL);
                void *item = p;
                s_pending_destroy (&item);
            }
            else
                s_forward (web, p, s_anonymous, sizeof s_anonymous, false);
        }
    }
    free (body);
    return 0;
}

static void
s_answer_reply (td_web_t *web, td_pending_t *p, td_msg_t *m)
{
    int status = td_msg_status (m);
    if (status >= 400) {
        td_errcode_t code = td_msg_error (m);
        if (code == TD_OK)
            code = td_errcode_from_status (status);
        const char *message = td_msg_error_message (m);
        const char *field = td_msg_error_field (m);
        json_t *j = td_json_error (code, *message ? message : NULL, *field ? field : NULL);
        int retry = td_msg_error_retry_after (m);
        td_web_answer_ra (web, p->serial, p->call_id, p->rid, status, j, NULL, NULL, 0,
                          retry > 0 ? retry : -1);
        return;
    }
    if (status == 204) {
        td_web_answer (web, p->serial, p->call_id, p->rid, status, NULL, NULL, "", 0);
        return;
    }
    if (p->sse && td_sse_start (web, p, status, td_msg_body (m)))
        return;
    td_error_t err;
    td_error_clear (&err);
    bool ws = p->call_id && p->call_id [0] != 0;
    //  HTTP: the reply's msgpack straight to JSON text (no tree: the largest cost of big
    //  replies); WebSocket: a tree, which the reply frame embeds
    size_t len = 0;
    char *text = ws? NULL: td_mp_to_json_text_checked (td_msg_body (m), &len, &err);
    json_t *j = ws? td_mp_to_json (td_msg_body (m), &err): NULL;
    if (!text && !j) {
        td_warn (TD_WEB_ACTOR, p->rid, "reply body not convertible to JSON: %s", err.message);
        td_web_answer_error (web, p->serial, p->call_id, p->rid, TD_ERR_INTERNAL,
                             "The service sent a reply the bridge cannot read.", NULL);
        return;
    }
    td_web_answer (web, p->serial, p->call_id, p->rid, status, j, NULL, text, len);
    free (text);
}

//  Read up to max replies; returns how many messages were read.
static int
s_handle_replies (td_web_t *web, int max)
{
    int i = 0;
    for (; i < max; i++) {
        bool final = false;
        td_error_t err;
        td_error_clear (&err);
        td_msg_t *m = td_client_recv (web->client, 0, &final, &err);
        if (!m && err.code == TD_ERR_TIMEOUT)
            break;                  //  nothing more waiting
        if (!m)
            continue;               //  an invalid reply, dropped by td_client
        td_pending_t *p = final ? (td_pending_t *) zhashx_lookup (web->pending, td_msg_id (m))
                                : NULL;
        if (p && p->agg)
            td_health_reply (web, p, td_msg_status (m), td_msg_body (m));
        else
        if (p && p->kind == TD_JOB_WS_OPEN) {
            s_ws_verified (web, p, td_msg_status (m), td_msg_body (m));
            zhashx_delete (web->pending, p->id);
        }
        else
        if (p && p->stage == TD_STAGE_VERIFY)
            s_call_verified (web, p, td_msg_status (m), td_msg_body (m));
        else
        if (p) {
            s_answer_reply (web, p, m);
            zhashx_delete (web->pending, p->id);
        }
        td_msg_destroy (&m);
    }
    return i;
}

static json_t *
s_str_or_null (const char *s)
{
    return s && *s ? json_string (s) : json_null ();
}

static void
s_handle_event (td_web_t *web)
{
    zmsg_t *msg = zmsg_recv (web->sub);
    if (!msg)
        return;
    zframe_t *tf = zmsg_first (msg);
    zframe_t *df = zmsg_next (msg);
    static const char restarted [] = "system.actor_restarted";
    static const char identity [] = "identity.";
    static const char llm [] = "llm.";
    if (atomic_load (&web->ws_subscribers) == 0
    &&  !(tf && zframe_size (tf) > sizeof llm - 1
      &&  memcmp (zframe_data (tf), llm, sizeof llm - 1) == 0)
    &&  !(tf && zframe_size (tf) == sizeof restarted - 1
      &&  memcmp (zframe_data (tf), restarted, sizeof restarted - 1) == 0)
    &&  !(tf && zhashx_size (web->wsauth) > 0 && zframe_size (tf) > sizeof identity - 1
      &&  memcmp (zframe_data (tf), identity, sizeof identity - 1) == 0)) {
        zmsg_destroy (&msg);        //  nobody to give it to: don't pay for decoding
        return;
    }
    td_error_t err;
    td_error_clear (&err);
    td_msg_t *ev = (tf && df && zmsg_size (msg) == 2)
                 ? td_msg_decode (TD_MSG_EVENT, zframe_data (df), zframe_size (df), &err) : NULL;
    zmsg_destroy (&msg);
    if (!ev)
        return;
    const char *type = td_msg_type (ev);
    td_sse_event (web, ev);
    //  A revoked session, a changed password or role, a removed member: the WebSockets of
    //  that user are verified again now rather than at their next periodic check
    if (strcmp (type, "identity.session_revoked") == 0
    ||  strcmp (type, "identity.password_changed") == 0
    ||  strcmp (type, "identity.role_changed") == 0
    ||  strcmp (type, "identity.member_removed") == 0
    ||  strcmp (type, "identity.key_revoked") == 0)
        s_ws_recheck (web, strcmp (type, "identity.key_revoked") == 0 ? "" : td_msg_user (ev));
    if (strcmp (type, restarted) == 0) {
        char actor [TD_MAX_NAME + 1];
        const msgpack_object *a = td_mp_get (td_msg_body (ev), "actor");
        if (a && td_mp_strcpy (a, actor, sizeof actor))
            td_metrics_restart (web->metrics, actor);
    }
    if (atomic_load (&web->ws_subscribers) > 0) {
        json_t *env = json_object ();
        json_t *data = td_mp_to_json (td_msg_body (ev), NULL);
        json_t *frame = json_object ();
        char *text = NULL;
        if (env && data && frame) {
            json_object_set_new (env, "id", json_string (td_msg_id (ev)));
            json_object_set_new (env, "type", json_string (type));
            json_object_set_new (env, "source", json_string (td_msg_source (ev)));
            json_object_set_new (env, "time", json_string (td_msg_time (ev)));
            json_object_set_new (env, "org", s_str_or_null (td_msg_org (ev)));
            json_object_set_new (env, "user", s_str_or_null (td_msg_user (ev)));
            json_object_set_new (env, "subject", s_str_or_null (td_msg_subject (ev)));
            json_object_set (env, "data", data);
            json_object_set_new (frame, "op", json_string ("event"));
            json_object_set (frame, "event", env);
            text = json_dumps (frame, JSON_COMPACT);
        }
        json_decref (env);
        json_decref (data);
        json_decref (frame);
        td_out_t *out = text ? s_out_new (TD_OUT_EVENT, 0, NULL) : NULL;
        if (out) {
            snprintf (out->type, sizeof out->type, "%s", type);
            snprintf (out->org, sizeof out->org, "%s", td_msg_org (ev));
            snprintf (out->user, sizeof out->user, "%s", td_msg_user (ev));
            out->len = strlen (text);
            out->buf = td_web_buf_new (text, out->len);
            if (out->buf)
                td_web_enqueue (web, out);
            else
                td_out_destroy (&out);
        }
        free (text);
    }
    td_msg_destroy (&ev);
}

static void
s_expire (td_web_t *web)
{
    int64_t now = td_now_ms ();
    td_health_expire (web, now);
    td_sse_expire (web, now);
    zlistx_t *late = NULL;
    for (td_pending_t *p = (td_pending_t *) zhashx_first (web->pending); p;
         p = (td_pending_t *) zhashx_next (web->pending))
        if (!p->agg && p->expire_ms <= now) {
            if (!late)
                late = zlistx_new ();
            if (late)
                zlistx_add_end (late, p);
        }
    if (!late)
        return;
    for (td_pending_t *p = (td_pending_t *) zlistx_first (late); p;
         p = (td_pending_t *) zlistx_next (late)) {
        if (p->kind == TD_JOB_WS_OPEN)
            s_ws_verified (web, p, 0, NULL);
        else
        if (p->stage == TD_STAGE_VERIFY)
            td_web_answer_error (web, p->serial, p->call_id, p->rid, TD_ERR_UNAVAILABLE,
                                 "The identity service did not answer; retry later.", NULL);
        else
            td_web_answer_error (web, p->serial, p->call_id, p->rid, TD_ERR_TIMEOUT,
                                 "The request took too long.", NULL);
        zhashx_delete (web->pending, p->id);
    }
    zlistx_destroy (&late);
}

//  --------------------------------------------------------------------------
//  lws thread: the ZMQ sockets in the lws event loop

//  The kick: runs at the next turn of the lws loop (lws polls with no wait while it is due)
static void
s_kick (lws_sorted_usec_list_t *sul)
{
    td_web_t *web = lws_container_of (sul, td_web_t, kick);
    web->kick_armed = false;
    if (!atomic_load (&web->stopping))
        s_pump (web);
}

void
td_web_sent (td_web_t *web)
{
    //  Inside the pump the loop looks at ZMQ_EVENTS again before it ends; after the lws
    //  thread has stopped (connections closed by lws_context_destroy) nobody is waiting.
    //  Otherwise one look per loop turn instead of one per send: a libzmq send processes
    //  commands (and so may consume the ZMQ_FD wake-up) at most about once a millisecond,
    //  and checking ZMQ_EVENTS costs a poll () each time.
    if (s_pumping || web->kick_armed || atomic_load (&web->stopping) || !web->context)
        return;
    web->kick_armed = true;
    lws_sul_schedule (web->context, 0, &web->kick, s_kick, 1);
}

void
td_web_new_id (td_web_t *web, char id [33])
{
    static const char hex [] = "0123456789abcdef";
    uint64_t parts [2] = { web->id_prefix, ++web->id_counter };
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 16; j++)
            id [i * 16 + j] = hex [(parts [i] >> (60 - 4 * j)) & 0xf];
    id [32] = 0;
}

//  Drain both sockets until ZMQ_EVENTS shows no POLLIN on either (their ZMQ_FDs are
//  edge-triggered: stopping earlier could leave replies that never wake us), then hand the
//  batch of answers to the connections. After TD_WEB_PUMP_MAX messages, wake again soon
//  instead, so connections are served meanwhile.
static void
s_pump (td_web_t *web)
{
    zsock_t *client = td_client_sock (web->client);
    s_pumping = true;
    int budget = TD_WEB_PUMP_MAX;
    bool more = true;
    while (more && budget > 0) {
        more = false;
        if (zsock_events (client) & ZMQ_POLLIN) {
            int n = s_handle_replies (web, budget);
            budget -= n > 0 ? n : 1;
            more = true;
        }
        for (int i = 0; i < 256 && budget > 0 && (zsock_events (web->sub) & ZMQ_POLLIN);
             i++, budget--) {
            s_handle_event (web);
            more = true;
        }
    }
    s_pumping = false;
    s_drain_queue (web);
    if (budget <= 0)
        lws_cancel_service (web->context);
}

//  Every TD_WEB_TICK_MS on the lws thread: 504 for requests past deadline + grace, the
//  principal cache's sweep, WebSocket re-verification; publishes `inflight` for DRAIN.
static void
s_tick (lws_sorted_usec_list_t *sul)
{
    td_web_t *web = lws_container_of (sul, td_web_t, tick);
    if (atomic_load (&web->stopping))
        return;
    int64_t now = td_now_ms ();
    if (web->authcache && now - web->last_sweep >= 1000) {
        td_authcache_expire (web->authcache, now / 1000);
        web->last_sweep = now;
    }
    s_pumping = true;               //  answers made here are delivered by the pump below
    s_expire (web);
    if (!atomic_load (&web->draining))      //  no new work while draining
        s_ws_tick (web, now);
    s_pumping = false;
    s_pump (web);
    atomic_store (&web->inflight, zhashx_size (web->pending) + zlistx_size (web->aggs));
    lws_sul_schedule (web->context, 0, &web->tick, s_tick,
                      (lws_usec_t) TD_WEB_TICK_MS * LWS_US_PER_MS);
}

//  --------------------------------------------------------------------------
//  Actor: set-up and tear-down

static void
s_load_openapi (td_web_t *web)
{
    const char *root = web->cfg->static_dir;
    const char *candidates [] = { "%s/../web/openapi.json", "%s/openapi.json" };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates [0]; i++) {
        char path [PATH_MAX + 32];
        int n = snprintf (path, sizeof path, candidates [i], root);
        if (n < 0 || (size_t) n >= sizeof path)
            continue;
        FILE *f = fopen (path, "rb");
        if (!f)
            continue;
        char *text = malloc (TD_MAX_JSON_BODY + 1);
        size_t len = text ? fread (text, 1, TD_MAX_JSON_BODY + 1, f) : 0;
        fclose (f);
        json_t *check = (text && len <= TD_MAX_JSON_BODY) ? json_loadb (text, len, 0, NULL) : NULL;
        if (check) {
            json_decref (check);
            web->openapi = text;
            web->openapi_len = len;
            return;
        }
        td_warn (TD_WEB_ACTOR, NULL, "%s is not valid JSON; not served", path);
        free (text);
    }
    td_warn (TD_WEB_ACTOR, NULL, "openapi.json not found beside %s; /api/v1/openapi.json is 404",
             root);
}

static void
s_web_destroy (td_web_t **self_p)
{
    td_web_t *web = *self_p;
    if (!web)
        return;
    if (web->thread_started) {
        //  Say goodbye to WebSocket clients (1001), for at most ~300 ms
        if (atomic_load (&web->ws_open) > 0) {
            atomic_store (&web->closing_all, true);
            lws_cancel_service (web->context);
            for (int i = 0; i < 30 && atomic_load (&web->ws_open) > 0; i++)
                zclock_sleep (10);
        }
    }
    //  From here on nothing wakes the lws loop but this: answers and sends made while lws
    //  closes the connections below (their CLOSED callbacks run on this thread) go nowhere
    atomic_store (&web->stopping, true);
    if (web->thread_started) {
        lws_cancel_service (web->context);
        pthread_join (web->thread, NULL);
        web->thread_started = false;
    }
    if (web->context) {
        lws_context_destroy (web->context);     //  closes connections; callbacks run here
        web->context = NULL;
    }
    td_out_t *out = web->head;
    while (out) {
        td_out_t *next = out->next;
        td_out_destroy (&out);
        out = next;
    }
    zhashx_destroy (&web->conns);
    zhashx_destroy (&web->pending);
    td_sse_destroy (&web->sse);
    zhashx_destroy (&web->wsauth);
    td_ratelimit_destroy (&web->ratelimit);
    zlistx_destroy (&web->aggs);
    td_authlisten_stop (&web->authlisten);
    td_authcache_destroy (&web->authcache);
    zsock_destroy (&web->sub);
    td_client_destroy (&web->client);
    td_metrics_destroy (&web->metrics);
    free (web->openapi);
    pthread_mutex_destroy (&web->lock);
    free (web);
    *self_p = NULL;
}

static td_web_t *
s_web_new (zsock_t *pipe, const td_config_t *cfg)
{
    td_web_t *web = calloc (1, sizeof *web);
    if (!web)
        return NULL;
    if (pthread_mutex_init (&web->lock, NULL)) {
        free (web);
        return NULL;
    }
    web->cfg = cfg;
    web->pipe = pipe;
    atomic_init (&web->draining, false);
    atomic_init (&web->stopping, false);
    atomic_init (&web->ws_subscribers, 0);
    atomic_init (&web->ws_open, 0);
    atomic_init (&web->closing_all, false);
    atomic_init (&web->inflight, 0);
    randombytes_buf (&web->id_prefix, sizeof web->id_prefix);
    web->metrics = td_metrics_new ();
    web->conns = zhashx_new ();
    if (web->conns) {
        zhashx_set_key_hasher (web->conns, s_serial_hash);
        zhashx_set_key_comparator (web->conns, s_serial_cmp);
        zhashx_set_key_duplicator (web->conns, NULL);
        zhashx_set_key_destructor (web->conns, NULL);
    }
    web->pending = zhashx_new ();
    web->sse = td_sse_new ();
    web->wsauth = zhashx_new ();
    //  A config not made by td_config_load (tests) may leave the rate at 0: the defaults
    web->ratelimit = td_ratelimit_new (cfg->rate_per_token > 0 ? cfg->rate_per_token : 50,
                                       cfg->rate_burst > 0 ? cfg->rate_burst : 100,
                                       TD_WEB_RATE_BUCKETS);
    web->aggs = zlistx_new ();
    //  The principal cache, when there is a database to LISTEN on (else it would never be
    //  live) and it is not turned off
    long cache_max = TD_WEB_AUTHCACHE_MAX;
    const char *env = getenv ("TUTORD_AUTHCACHE_MAX");
    if (env && *env) {
        char *end = NULL;
        long v = strtol (env, &end, 10);
        if (end && *end == 0 && v >= 0 && v <= 1000000)
            cache_max = v;
        else
            td_warn (TD_WEB_ACTOR, NULL, "TUTORD_AUTHCACHE_MAX='%s' is not 0..1000000; using %ld",
                     env, cache_max);
    }
    if (cache_max > 0 && cfg->db [0]) {
        web->authcache = td_authcache_new ((size_t) cache_max);
        web->authcache_max = (size_t) cache_max;
        if (web->authcache)
            web->authlisten = td_authlisten_start (cfg->db, web->authcache);
        if (!web->authlisten)
            td_authcache_destroy (&web->authcache);
    }
    web->client = td_client_new (td_config_broker_endpoint (cfg));
    web->sub = zsock_new_sub (td_config_web_events_endpoint (cfg), "");
    if (!web->metrics || !web->conns || !web->pending || !web->sse || !web->aggs
    ||  !web->wsauth || !web->ratelimit
    ||  !web->client || !web->sub) {
        td_error (TD_WEB_ACTOR, NULL, "cannot create the bridge's sockets");
        s_web_destroy (&web);
        return NULL;
    }
    zhashx_set_destructor (web->pending, s_pending_destroy);
    zhashx_set_destructor (web->wsauth, s_wsent_destroy);
    zlistx_set_destructor (web->aggs, s_agg_destroy);
    s_load_openapi (web);
    return web;
}

//  lws's own log lines go to the tutord log.
static void
s_lws_log (int level, const char *line)
{
    (void) level;
    char text [512];
    snprintf (text, sizeof text, "%s", line ? line : "");
    size_t len = strlen (text);
    while (len > 0 && (text [len - 1] == '\n' || text [len - 1] == '\r'))
        text [--len] = 0;
    td_warn (TD_WEB_ACTOR, NULL, "lws: %s", text);
}

//  True when host:port can be bound now. Checked before lws_create_context, whose failure
//  path leaks a little memory in lws 4.1.6 (seen under LeakSanitizer).
static bool
s_port_free (const char *iface, int port)
{
    struct addrinfo hints, *res = NULL;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service [16];
    snprintf (service, sizeof service, "%d", port);
    if (getaddrinfo (iface, service, &hints, &res) || !res)
        return true;                //  let lws report what it thinks of the address
    bool free_now = true;
    int fd = socket (res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd >= 0) {
        int one = 1;
        if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0
        &&  bind (fd, res->ai_addr, res->ai_addrlen) != 0 && errno == EADDRINUSE)
            free_now = false;
        close (fd);
    }
    freeaddrinfo (res);
    return free_now;
}

//  Put a ZMQ socket's ZMQ_FD into the lws loop (LWS_CALLBACK_RAW_RX_FILE when it signals).
//  lws closes what it adopted, so it gets a dup of the descriptor, never zmq's own.
static struct lws *
s_adopt_zmq (td_web_t *web, zsock_t *sock)
{
    struct lws_vhost *vhost = lws_get_vhost_by_name (web->context, "default");
    int fd = dup (zsock_fd (sock));
    if (!vhost || fd < 0) {
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    lws_sock_file_fd_type desc;
    desc.filefd = fd;
    //  On failure lws closes fd itself
    return lws_adopt_descriptor_vhost (vhost, LWS_ADOPT_RAW_FILE_DESC, desc, "http", NULL);
}

static int
s_listen (td_web_t *web)
{
    const td_config_t *cfg = web->cfg;
    lws_set_log_level (LLL_ERR, s_lws_log);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = cfg->http_port;
    const char *host = cfg->http_host;
    if (strcmp (host, "localhost") == 0)
        host = "127.0.0.1";
    info.iface = (*host && strcmp (host, "0.0.0.0") != 0 && strcmp (host, "*") != 0) ? host : NULL;
    info.protocols = s_protocols;
    info.user = web;
    info.max_http_header_data = 8192;
    info.timeout_secs = 30;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6 * (info.iface && strchr (info.iface, ':') == NULL);
    if (!s_port_free (info.iface, info.port)) {
        td_error (TD_WEB_ACTOR, NULL, "cannot listen on %s:%d: address in use", cfg->http_host,
                  cfg->http_port);
        return -1;
    }
    web->context = lws_create_context (&info);
    if (!web->context) {
        td_error (TD_WEB_ACTOR, NULL, "cannot listen on %s:%d", cfg->http_host, cfg->http_port);
        return -1;
    }
    web->client_wsi = s_adopt_zmq (web, td_client_sock (web->client));
    web->sub_wsi = s_adopt_zmq (web, web->sub);
    if (!web->client_wsi || !web->sub_wsi) {
        td_error (TD_WEB_ACTOR, NULL, "cannot watch the broker sockets from the lws loop");
        return -1;
    }
    web->last_sweep = td_now_ms ();
    lws_sul_schedule (web->context, 0, &web->tick, s_tick,
                      (lws_usec_t) TD_WEB_TICK_MS * LWS_US_PER_MS);
    if (pthread_create (&web->thread, NULL, s_lws_thread, web)) {
        td_error (TD_WEB_ACTOR, NULL, "cannot start the lws thread");
        return -1;
    }
    web->thread_started = true;
    return 0;
}

//  A drain is done when no request is pending, nothing waits in the queue to the lws thread,
//  and a short grace has passed for the lws thread to write the last responses out; or when
//  the drain's deadline passed.
static bool
s_drain_done (td_web_t *web, int64_t now, int64_t until, int64_t *drained_at)
{
    if (now >= until) {
        td_warn (TD_WEB_ACTOR, NULL, "drain deadline passed with %zu requests in flight",
                 atomic_load (&web->inflight));
        return true;
    }
    pthread_mutex_lock (&web->lock);
    bool queue_empty = web->head == NULL;
    pthread_mutex_unlock (&web->lock);
    if (atomic_load (&web->inflight) > 0 || !queue_empty) {
        *drained_at = 0;
        return false;
    }
    if (*drained_at == 0)
        *drained_at = now;
    return now - *drained_at >= 100;
}

void
td_web_actor (zsock_t *pipe, void *args)
{
    const td_config_t *cfg = (const td_config_t *) args;
    td_web_t *web = cfg ? s_web_new (pipe, cfg) : NULL;
    if (!web || s_listen (web)) {
        if (web)
            s_web_destroy (&web);
        zsock_signal (pipe, (byte) -1);
        return;
    }
    zpoller_t *poller = zpoller_new (pipe, NULL);
    if (!poller) {
        s_web_destroy (&web);
        zsock_signal (pipe, (byte) -1);
        return;
    }
    zpoller_set_nonstop (poller, true);
    td_info (TD_WEB_ACTOR, NULL, "listening on http://%s:%d", cfg->http_host, cfg->http_port);
    zsock_signal (pipe, 0);

    //  Everything else runs on the lws thread; this one answers the pipe
    bool terminated = false;
    int64_t drain_until = 0;        //  DRAIN received and not yet confirmed: its deadline
    int64_t drained_at = 0;         //  when nothing was left in flight or queued
    while (!terminated) {
        void *which = zpoller_wait (poller, TD_WEB_TICK_MS);
        if (zpoller_terminated (poller))
            break;
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command)
                break;
            if (streq (command, "$TERM"))
                terminated = true;
            else
            if (streq (command, "DRAIN")) {
                atomic_store (&web->draining, true);
                td_info (TD_WEB_ACTOR, NULL, "draining: new requests get 503; waiting up to "
                         "%d ms for %zu in flight", cfg->drain_ms, atomic_load (&web->inflight));
                drain_until = td_now_ms () + cfg->drain_ms;
                drained_at = 0;
            }
            else
                td_warn (TD_WEB_ACTOR, NULL, "unknown command %s", command);
            zstr_free (&command);
        }
        int64_t now = td_now_ms ();
        if (drain_until && s_drain_done (web, now, drain_until, &drained_at)) {
            drain_until = 0;
            zsock_signal (pipe, 0);
        }
    }
    zpoller_destroy (&poller);
    s_web_destroy (&web);
}
