/*  td_sse — a tutor message's answer as server-sent events on its HTTP response (actor side).
 *
 *  CONTRACT §3 / issue 7: POST /api/v1/tutor/sessions/{id}/messages answers 202 and streams the
 *  answer as llm.delta then llm.done events; with `Accept: text/event-stream` the same stream
 *  comes on the HTTP response itself. The lws thread marks such calls (TD_JOBF_SSE). When the
 *  service's reply is a 202 whose body names a `message_id`, this file turns the response into
 *  a stream: the reply as the first record (`event: accepted`), then every llm.delta and
 *  llm.done event whose data has that message_id (`event: <type>` / `data: <event data as
 *  JSON>`), and the stream ends after llm.done (or after TD_SSE_MAX_MS). A reply without a
 *  message_id is answered as usual.
 *
 *  Events travel the event plane and replies the request plane, so the first deltas can reach
 *  the bridge before the 202 does: the last S_RECENT llm.* records are kept (recent ring) and
 *  replayed when a stream starts. The event's data says which message it belongs to; only the
 *  caller who got the 202 knows that id (a fresh UUID), and the stream carries nothing the
 *  caller's WebSocket would not (the events name the caller as their user).
 *
 *  Owned by the lws thread (td_web_int.h); records reach their connection as TD_OUT_SSE items
 *  through the bridge's answer queue.
 */
#include <czmq.h>
#include <string.h>
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_web_int.h"

#define S_RECENT 256                //  llm.* records kept for streams that start late
#define S_RECENT_MS 30000           //  and for how long

typedef struct {
    char message [TD_MAX_ID + 1];
    bool done;                      //  llm.done
    char *record;                   //  "event: ...\ndata: ...\n\n" (heap)
    size_t len;
    int64_t at_ms;
} s_recent_t;

typedef struct {
    uint64_t serial;
    char rid [TD_WEB_RID_MAX + 1];
    int64_t expire_ms;
    char session [TD_MAX_ID + 1];   //  the tutor session, to cancel the turn if the client leaves
    byte *auth;                     //  the caller's auth map (heap), for that cancel
    size_t auth_size;
} s_stream_t;

struct td_sse {
    zhashx_t *streams;              //  message_id -> s_stream_t *
    s_recent_t recent [S_RECENT];
    size_t next;                    //  ring position
};

static void
s_stream_free (void **item)
{
    s_stream_t *s = (s_stream_t *) *item;
    if (s)
        free (s->auth);
    free (s);
    *item = NULL;
}

td_sse_t *
td_sse_new (void)
{
    td_sse_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->streams = zhashx_new ();
    if (!self->streams) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->streams, s_stream_free);
    return self;
}

void
td_sse_destroy (td_sse_t **self_p)
{
    td_sse_t *self = self_p? *self_p: NULL;
    if (!self)
        return;
    zhashx_destroy (&self->streams);
    for (size_t i = 0; i < S_RECENT; i++)
        free (self->recent [i].record);
    free (self);
    *self_p = NULL;
}

//  Queue one record of stream s for the lws thread; start: the stream's first (headers),
//  end: its last.
static void
s_send (td_web_t *web, const s_stream_t *s, const char *record, size_t len, bool start, bool end)
{
    td_out_t *out = calloc (1, sizeof *out);
    if (!out)
        return;
    out->kind = TD_OUT_SSE;
    out->serial = s->serial;
    out->status = start? 200: 0;
    out->end = end;
    snprintf (out->rid, sizeof out->rid, "%s", s->rid);
    out->len = len;
    out->buf = td_web_buf_new (record, len);
    if (!out->buf) {
        td_out_destroy (&out);
        td_error (TD_WEB_ACTOR, s->rid, "out of memory streaming an answer");
        return;
    }
    td_web_enqueue (web, out);
}

//  "event: type\ndata: json\n\n" (heap); the JSON has no newline, so one data line.
static char *
s_record (const char *type, const msgpack_object *data, size_t *len)
{
    td_error_t err;
    td_error_clear (&err);
    size_t n = 0;
    char *json = td_mp_to_json_text_checked (data, &n, &err);   //  a decoded event: UTF-8 checked
    if (!json)
        return NULL;
    size_t size = strlen (type) + n + 32;
    char *rec = malloc (size);
    if (rec)
        *len = (size_t) snprintf (rec, size, "event: %s\ndata: %s\n\n", type, json);
    free (json);
    return rec;
}

bool
td_sse_start (td_web_t *web, td_pending_t *p, int status, const msgpack_object *body)
{
    td_sse_t *self = web->sse;
    char message [TD_MAX_ID + 1];
    if (!self || status != 202
    ||  !td_mp_strcpy (td_mp_get (body, "message_id"), message, sizeof message) || !*message)
        return false;
    size_t len = 0;
    char *first = s_record ("accepted", body, &len);
    s_stream_t *s = calloc (1, sizeof *s);
    if (!first || !s) {
        free (first);
        free (s);
        return false;               //  answered as a plain reply instead
    }
    s->serial = p->serial;
    snprintf (s->rid, sizeof s->rid, "%s", p->rid);
    if (!td_mp_strcpy (td_mp_get (body, "session_id"), s->session, sizeof s->session))
        s->session [0] = 0;
    s->auth = p->auth;                          //  taken from the pending call
    s->auth_size = p->auth_size;
    p->auth = NULL;
    s->expire_ms = td_now_ms () + TD_SSE_MAX_MS;
    s_send (web, s, first, len, true, false);
    free (first);
    //  what already came, in order: the oldest record first
    bool done = false;
    for (size_t k = 0; k < S_RECENT && !done; k++) {
        s_recent_t *r = &self->recent [(self->next + k) % S_RECENT];
        if (r->record && strcmp (r->message, message) == 0) {
            s_send (web, s, r->record, r->len, false, r->done);
            done = r->done;
        }
    }
    if (done || zhashx_insert (self->streams, message, s) != 0) {
        void *item = s;             //  over already, or the same message streamed twice
        s_stream_free (&item);
    }
    td_debug (TD_WEB_ACTOR, p->rid, "answer %s streams as server-sent events", message);
    return true;
}

void
td_sse_event (td_web_t *web, const td_msg_t *ev)
{
    td_sse_t *self = web->sse;
    const char *type = td_msg_type (ev);
    bool done = strcmp (type, "llm.done") == 0;
    if (!self || (!done && strcmp (type, "llm.delta") != 0))
        return;
    char message [TD_MAX_ID + 1];
    if (!td_mp_strcpy (td_mp_get (td_msg_body (ev), "message_id"), message, sizeof message)
    ||  !*message)
        return;
    size_t len = 0;
    char *rec = s_record (type, td_msg_body (ev), &len);
    if (!rec)
        return;
    s_stream_t *s = (s_stream_t *) zhashx_lookup (self->streams, message);
    if (s) {
        s_send (web, s, rec, len, false, done);
        if (done)
            zhashx_delete (self->streams, message);
    }
    //  kept for a stream whose 202 is still on its way
    s_recent_t *r = &self->recent [self->next];
    self->next = (self->next + 1) % S_RECENT;
    free (r->record);
    snprintf (r->message, sizeof r->message, "%s", message);
    r->record = rec;
    r->len = len;
    r->done = done;
    r->at_ms = td_now_ms ();
}

//  The client left before llm.done: cancel the turn (CONTRACT/issue 7: "cancellation (client
//  gone) aborts the upstream call") with tutor.cancel as the caller. Fire and forget: the reply
//  names no pending request and is dropped.
static void
s_cancel (td_web_t *web, const s_stream_t *s)
{
    if (!s->session [0] || !s->auth)
        return;
    msgpack_sbuffer body, req;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&req);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    char id [33];
    td_new_id (id);
    td_error_t err;
    td_error_clear (&err);
    int rc = msgpack_pack_map (&pk, 1) || td_mp_pack_kv_str (&pk, "id", s->session)? -1: 0;
    td_request_spec_t spec = { .id = id, .rid = s->rid [0]? s->rid: NULL, .type = "tutor.cancel",
                               .deadline = td_now_ms () + 10000, .auth = s->auth,
                               .auth_size = s->auth_size, .body = body.data,
                               .body_size = body.size };
    if (rc == 0)
        rc = td_request_pack (&req, &spec, &err);
    if (rc == 0)
        rc = td_client_send (web->client, "llm", req.data, req.size);
    td_web_sent (web);
    if (rc != 0)
        td_warn (TD_WEB_ACTOR, s->rid, "cannot cancel the turn of a stream whose client left");
    else
        td_debug (TD_WEB_ACTOR, s->rid, "stream client left: turn of %s cancelled", s->session);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&req);
}

void
td_sse_forget (td_web_t *web, uint64_t serial)
{
    td_sse_t *self = web->sse;
    if (!self)
        return;
    for (s_stream_t *s = (s_stream_t *) zhashx_first (self->streams); s;
         s = (s_stream_t *) zhashx_next (self->streams))
        if (s->serial == serial) {
            s_cancel (web, s);
            zhashx_delete (self->streams, zhashx_cursor (self->streams));
            return;
        }
}

void
td_sse_expire (td_web_t *web, int64_t now_ms)
{
    td_sse_t *self = web->sse;
    if (!self)
        return;
    for (size_t i = 0; i < S_RECENT; i++)
        if (self->recent [i].record && now_ms - self->recent [i].at_ms > S_RECENT_MS) {
            free (self->recent [i].record);
            self->recent [i].record = NULL;
        }
    zlistx_t *late = NULL;
    for (s_stream_t *s = (s_stream_t *) zhashx_first (self->streams); s;
         s = (s_stream_t *) zhashx_next (self->streams))
        if (now_ms > s->expire_ms) {
            static const char bye [] = "event: timeout\ndata: {}\n\n";
            s_send (web, s, bye, sizeof bye - 1, false, true);
            if (!late)
                late = zlistx_new ();
            if (late)
                zlistx_add_end (late, (void *) zhashx_cursor (self->streams));
        }
    if (late) {
        for (const char *k = (const char *) zlistx_first (late); k;
             k = (const char *) zlistx_next (late))
            zhashx_delete (self->streams, k);
        zlistx_destroy (&late);
    }
}
