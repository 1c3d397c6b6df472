/*  td_ws — the WebSocket side of the web bridge (CONTRACT.md §4), in the lws thread.
 *
 *  One text frame = one JSON object with an "op":
 *    subscribe   {"topics":[prefix...]}   -> {"op":"subscribed","topics":[all prefixes]}
 *    unsubscribe {"topics":[prefix...]}   -> {"op":"unsubscribed","topics":[remaining]}
 *    call        {"id","method","path","body"?} -> {"op":"reply","id","status","body"}
 *    ping        {}                       -> {"op":"pong"}
 *  and the server sends {"op":"event","event":{…}} for events matching a prefix. A bad frame
 *  is answered {"op":"error","error":{…}} (with "id" when the frame had one) and the connection
 *  lives on. Fragmented messages are reassembled up to TD_WS_MAX_FRAME; beyond that the
 *  message is thrown away and answered with a too_large error.
 *
 *  Outbound frames wait in a per-connection queue (one lws_write per WRITEABLE). A connection
 *  whose queue passes TD_WS_QUEUE_MSGS or TD_WS_QUEUE_BYTES is a laggard: its queue is
 *  dropped and it is closed with status 1008 and a reason saying so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_json.h"
#include "td_log.h"
#include "td_msg.h"
#include "td_web_int.h"

//  --------------------------------------------------------------------------
//  Pure helpers

bool
td_ws_topic_valid (const char *topic)
{
    if (!topic)
        return false;
    size_t len = strlen (topic);
    if (len == 0 || len > TD_MAX_NAME || !(topic [0] >= 'a' && topic [0] <= 'z'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = topic [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
        ||    c == '-'))
            return false;
    }
    return true;
}

bool
td_ws_topic_match (const td_pss_t *pss, const char *type)
{
    for (int i = 0; i < pss->ntopics; i++)
        if (strncmp (type, pss->topics [i], strlen (pss->topics [i])) == 0)
            return true;
    return false;
}

void
td_ws_op_clear (td_wsop_t *op)
{
    if (op->root)
        json_decref (op->root);
    free (op->id_json);
    memset (op, 0, sizeof *op);
}

int
td_ws_op_parse (const char *text, size_t len, td_wsop_t *op, td_error_t *err)
{
    memset (op, 0, sizeof *op);
    op->root = td_json_parse (text, len, TD_WS_MAX_FRAME, err);
    if (!op->root)
        return -1;
    if (!json_is_object (op->root))
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "A frame must be a JSON object.");
    json_t *id = json_object_get (op->root, "id");
    if (id) {
        if (!(json_is_string (id) && json_string_length (id) <= TD_MAX_ID) && !json_is_integer (id))
            return td_error_set (err, TD_ERR_INVALID_INPUT, "id",
                                 "The id must be a string of at most %d bytes or an integer.",
                                 TD_MAX_ID);
        op->id_json = json_dumps (id, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!op->id_json)
            return td_error_set (err, TD_ERR_INTERNAL, NULL, "Out of memory.");
    }
    const char *name = json_string_value (json_object_get (op->root, "op"));
    if (!name)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "op", "The frame has no \"op\".");
    if (strcmp (name, "subscribe") == 0 || strcmp (name, "unsubscribe") == 0) {
        op->kind = name [0] == 's' ? TD_WSOP_SUBSCRIBE : TD_WSOP_UNSUBSCRIBE;
        json_t *topics = json_object_get (op->root, "topics");
        if (!json_is_array (topics) || json_array_size (topics) == 0)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "topics",
                                 "topics must be a non-empty array of prefixes.");
        if (json_array_size (topics) > TD_WS_MAX_TOPICS)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "topics",
                                 "At most %d topic prefixes.", TD_WS_MAX_TOPICS);
        size_t i;
        json_t *t;
        json_array_foreach (topics, i, t) {
            const char *s = json_string_value (t);
            if (!s || !td_ws_topic_valid (s))
                return td_error_set (err, TD_ERR_INVALID_INPUT, "topics",
                                     "A topic prefix must match [a-z][a-z0-9_.-]* (at most %d).",
                                     TD_MAX_NAME);
            op->topics [op->ntopics++] = s;
        }
        return 0;
    }
    if (strcmp (name, "call") == 0) {
        op->kind = TD_WSOP_CALL;
        if (!op->id_json)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "id", "A call needs an id.");
        const char *method = json_string_value (json_object_get (op->root, "method"));
        op->method = td_method_parse (method);
        if (!op->method)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "method",
                                 "method must be GET, POST, PUT, PATCH or DELETE.");
        op->path = json_string_value (json_object_get (op->root, "path"));
        if (!op->path || op->path [0] != '/' || strlen (op->path) > TD_WEB_PATH_MAX)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "path",
                                 "path must be a string starting with '/'.");
        op->body = json_object_get (op->root, "body");
        if (op->body && json_is_null (op->body))
            op->body = NULL;
        return 0;
    }
    if (strcmp (name, "ping") == 0) {
        op->kind = TD_WSOP_PING;
        return 0;
    }
    return td_error_set (err, TD_ERR_INVALID_INPUT, "op",
                         "Unknown op; use subscribe, unsubscribe, call or ping.");
}

//  --------------------------------------------------------------------------
//  Outbound queue

void
td_ws_queue_drop (td_pss_t *pss)
{
    while (pss->outq_head) {
        td_wsmsg_t *m = pss->outq_head;
        pss->outq_head = m->next;
        free (m->buf);
        free (m);
    }
    pss->outq_tail = NULL;
    pss->outq_msgs = 0;
    pss->outq_bytes = 0;
}

static void
s_close_laggard (td_pss_t *pss, const char *reason)
{
    td_ws_queue_drop (pss);
    if (!pss->closing) {
        pss->closing = true;
        snprintf (pss->close_reason, sizeof pss->close_reason, "%s", reason);
    }
    lws_callback_on_writable (pss->wsi);
}

void
td_ws_send_buf (td_pss_t *pss, char *buf, size_t len)
{
    if (!buf)
        return;
    if (pss->closing) {
        free (buf);
        return;
    }
    if (pss->outq_msgs + 1 > TD_WS_QUEUE_MSGS || pss->outq_bytes + len > TD_WS_QUEUE_BYTES) {
        free (buf);
        s_close_laggard (pss, "outbound queue full: client too slow");
        return;
    }
    td_wsmsg_t *m = calloc (1, sizeof *m);
    if (!m) {
        free (buf);
        s_close_laggard (pss, "server out of memory");
        return;
    }
    m->buf = buf;
    m->len = len;
    if (pss->outq_tail)
        pss->outq_tail->next = m;
    else
        pss->outq_head = m;
    pss->outq_tail = m;
    pss->outq_msgs++;
    pss->outq_bytes += len;
    lws_callback_on_writable (pss->wsi);
}

void
td_ws_send (td_pss_t *pss, const char *text, size_t len)
{
    char *buf = td_web_buf_new (text, len);
    if (!buf) {
        s_close_laggard (pss, "server out of memory");
        return;
    }
    td_ws_send_buf (pss, buf, len);
}

static void
s_send_json (td_pss_t *pss, json_t *j)
{
    char *text = j ? json_dumps (j, JSON_COMPACT) : NULL;
    if (j)
        json_decref (j);
    if (!text) {
        s_close_laggard (pss, "server out of memory");
        return;
    }
    td_ws_send (pss, text, strlen (text));
    free (text);
}

static void
s_send_error (td_pss_t *pss, const char *id_json, td_errcode_t code, const char *message,
              const char *field)
{
    json_t *e = td_json_error (code, message, field);
    json_t *j = json_object ();
    if (!e || !j) {
        json_decref (e);
        json_decref (j);
        s_close_laggard (pss, "server out of memory");
        return;
    }
    json_object_set_new (j, "op", json_string ("error"));
    if (id_json) {
        json_t *id = json_loads (id_json, JSON_DECODE_ANY, NULL);
        if (id)
            json_object_set_new (j, "id", id);
    }
    json_object_set (j, "error", json_object_get (e, "error"));
    json_decref (e);
    s_send_json (pss, j);
}

//  --------------------------------------------------------------------------
//  Ops

static void
s_topics_reply (td_pss_t *pss, const char *op)
{
    json_t *j = json_object ();
    json_t *a = json_array ();
    if (j && a) {
        for (int i = 0; i < pss->ntopics; i++)
            json_array_append_new (a, json_string (pss->topics [i]));
        json_object_set_new (j, "op", json_string (op));
        json_object_set_new (j, "topics", a);
        s_send_json (pss, j);
    }
    else {
        json_decref (j);
        json_decref (a);
    }
}

static void
s_op_subscribe (td_web_t *web, td_pss_t *pss, const td_wsop_t *op)
{
    int before = pss->ntopics;
    for (int i = 0; i < op->ntopics; i++) {
        bool have = false;
        for (int k = 0; k < pss->ntopics && !have; k++)
            have = strcmp (pss->topics [k], op->topics [i]) == 0;
        if (have)
            continue;
        if (pss->ntopics >= TD_WS_MAX_TOPICS) {
            s_send_error (pss, op->id_json, TD_ERR_INVALID_INPUT, "At most 32 topic prefixes per connection.",
                          "topics");
            break;
        }
        snprintf (pss->topics [pss->ntopics++], TD_MAX_NAME + 1, "%s", op->topics [i]);
    }
    if (before == 0 && pss->ntopics > 0)
        atomic_fetch_add (&web->ws_subscribers, 1);
    s_topics_reply (pss, "subscribed");
}

static void
s_op_unsubscribe (td_web_t *web, td_pss_t *pss, const td_wsop_t *op)
{
    int before = pss->ntopics;
    for (int i = 0; i < op->ntopics; i++)
        for (int k = 0; k < pss->ntopics; k++)
            if (strcmp (pss->topics [k], op->topics [i]) == 0) {
                memmove (pss->topics [k], pss->topics [pss->ntopics - 1], TD_MAX_NAME + 1);
                pss->ntopics--;
                break;
            }
    if (before > 0 && pss->ntopics == 0)
        atomic_fetch_sub (&web->ws_subscribers, 1);
    s_topics_reply (pss, "unsubscribed");
}

static void
s_op_call (td_web_t *web, td_pss_t *pss, const td_wsop_t *op)
{
    if (pss->inflight >= TD_WS_MAX_INFLIGHT) {
        s_send_error (pss, op->id_json, TD_ERR_RATE_LIMITED,
                      "Too many calls in flight on this connection; wait for replies.", NULL);
        return;
    }
    char *path = malloc (TD_WEB_PATH_MAX + 1);
    td_params_t *query = malloc (sizeof *query);
    td_error_t err;
    td_error_clear (&err);
    td_answer_t ans;
    memset (&ans, 0, sizeof ans);
    char rid [33];
    td_web_new_id (web, rid);
    if (!path || !query)
        td_answer_error (&ans, TD_ERR_UNAVAILABLE, "Out of memory; retry later.", NULL);
    else
    if (td_target_parse (op->path, path, TD_WEB_PATH_MAX + 1, query, &err))
        td_answer_error (&ans, err.code, err.message, err.field [0] ? err.field : NULL);
    else
        td_web_handle (web, pss->serial, op->id_json, op->method, path, query, op->body, rid,
                       pss->token, pss->peer, false, &ans);
    free (path);
    free (query);
    if (ans.submitted) {
        pss->inflight++;
        return;
    }
    json_t *j = json_object ();
    json_t *id = json_loads (op->id_json, JSON_DECODE_ANY, NULL);
    json_t *body = ans.raw ? json_loadb (ans.raw, ans.raw_len, 0, NULL) : ans.json;
    if (ans.raw == NULL)
        ans.json = NULL;            //  moved into body
    if (j && id && body) {
        json_object_set_new (j, "op", json_string ("reply"));
        json_object_set_new (j, "id", id);
        json_object_set_new (j, "status", json_integer (ans.status));
        json_object_set_new (j, "body", body);
        s_send_json (pss, j);
    }
    else {
        json_decref (j);
        json_decref (id);
        json_decref (body);
        s_send_error (pss, op->id_json, TD_ERR_INTERNAL, "Out of memory.", NULL);
    }
    json_decref (ans.json);
}

static void
s_message (td_web_t *web, td_pss_t *pss, const char *text, size_t len)
{
    td_wsop_t op;
    td_error_t err;
    td_error_clear (&err);
    if (td_ws_op_parse (text, len, &op, &err)) {
        s_send_error (pss, op.id_json, err.code, err.message, err.field [0] ? err.field : NULL);
        td_ws_op_clear (&op);
        return;
    }
    //  While draining a call is answered as a reply with status 503 by td_web_handle
    if (atomic_load (&web->draining) && op.kind == TD_WSOP_SUBSCRIBE)
        s_send_error (pss, op.id_json, TD_ERR_UNAVAILABLE,
                      "The server is shutting down; retry later.", NULL);
    else
    switch (op.kind) {
        case TD_WSOP_SUBSCRIBE:   s_op_subscribe (web, pss, &op); break;
        case TD_WSOP_UNSUBSCRIBE: s_op_unsubscribe (web, pss, &op); break;
        case TD_WSOP_CALL:        s_op_call (web, pss, &op); break;
        case TD_WSOP_PING:        td_ws_send (pss, "{\"op\":\"pong\"}", 13); break;
    }
    td_ws_op_clear (&op);
}

static int
s_receive (td_web_t *web, td_pss_t *pss, struct lws *wsi, const char *in, size_t len)
{
    if (lws_frame_is_binary (wsi)) {
        //  Drop the whole message, answer once at its end
        pss->rx_too_large = false;
        free (pss->rx);
        pss->rx = NULL;
        pss->rx_len = 0;
        if (lws_is_final_fragment (wsi) && !lws_remaining_packet_payload (wsi))
            s_send_error (pss, NULL, TD_ERR_UNSUPPORTED_MEDIA_TYPE,
                          "Only text frames holding JSON are accepted.", NULL);
        return 0;
    }
    if (!pss->rx_too_large) {
        if (pss->rx_len + len > TD_WS_MAX_FRAME) {
            free (pss->rx);
            pss->rx = NULL;
            pss->rx_len = 0;
            pss->rx_too_large = true;
        }
        else
        if (len > 0) {
            char *rx = realloc (pss->rx, pss->rx_len + len + 1);
            if (!rx)
                return -1;
            memcpy (rx + pss->rx_len, in, len);
            pss->rx = rx;
            pss->rx_len += len;
        }
    }
    if (!lws_is_final_fragment (wsi) || lws_remaining_packet_payload (wsi))
        return 0;
    if (pss->rx_too_large)
        s_send_error (pss, NULL, TD_ERR_TOO_LARGE, "The message is larger than the server accepts.",
                      NULL);
    else
        s_message (web, pss, pss->rx ? pss->rx : "", pss->rx_len);
    free (pss->rx);
    pss->rx = NULL;
    pss->rx_len = 0;
    pss->rx_too_large = false;
    return 0;
}

static int
s_writeable (td_pss_t *pss, struct lws *wsi)
{
    if (pss->closing && !pss->outq_head) {
        lws_close_reason (wsi, pss->close_status ? (enum lws_close_status) pss->close_status
                                                 : LWS_CLOSE_STATUS_POLICY_VIOLATION,
                          (unsigned char *) pss->close_reason, strlen (pss->close_reason));
        return -1;
    }
    td_wsmsg_t *m = pss->outq_head;
    if (!m)
        return 0;
    int n = lws_write (wsi, (unsigned char *) TD_WEB_TEXT (m->buf), m->len, LWS_WRITE_TEXT);
    pss->outq_head = m->next;
    if (!pss->outq_head)
        pss->outq_tail = NULL;
    pss->outq_msgs--;
    pss->outq_bytes -= m->len;
    free (m->buf);
    free (m);
    if (n < 0)
        return -1;
    if (pss->outq_head || pss->closing)
        lws_callback_on_writable (wsi);
    return 0;
}

void
td_ws_deliver (td_web_t *web, td_pss_t *pss, td_out_t *out)
{
    (void) web;
    if (!pss->is_ws)
        return;
    if (pss->inflight > 0)
        pss->inflight--;
    td_ws_send_buf (pss, out->buf, out->len);
    out->buf = NULL;
}

static int
s_broadcast_one (td_web_t *web, td_pss_t *pss, td_out_t *out)
{
    (void) web;
    if (!pss->is_ws || pss->ntopics == 0 || pss->closing || !td_ws_topic_match (pss, out->type)
    ||  !td_web_event_allowed (pss, out->type, out->org, out->user))
        return 0;
    td_ws_send (pss, TD_WEB_TEXT (out->buf), out->len);
    return 0;
}

void
td_ws_auth (td_web_t *web, td_pss_t *pss, td_out_t *out)
{
    (void) web;
    if (!pss->is_ws)
        return;
    td_webauth_destroy (&pss->auth);
    if (out->revoked) {
        //  Replies already queued (a 401 for the call that found out) go first
        if (!pss->closing) {
            pss->closing = true;
            pss->close_status = TD_WS_CLOSE_REVOKED;
            snprintf (pss->close_reason, sizeof pss->close_reason,
                      "token invalid, expired or revoked");
        }
        lws_callback_on_writable (pss->wsi);
        return;
    }
    pss->auth = out->auth;
    out->auth = NULL;
}

void
td_ws_close_all (td_web_t *web)
{
    for (td_pss_t *pss = (td_pss_t *) zhashx_first (web->conns); pss;
         pss = (td_pss_t *) zhashx_next (web->conns))
        if (pss->is_ws && !pss->closing) {
            pss->closing = true;
            pss->close_status = LWS_CLOSE_STATUS_GOINGAWAY;
            snprintf (pss->close_reason, sizeof pss->close_reason, "server shutting down");
            lws_callback_on_writable (pss->wsi);
        }
}

void
td_ws_broadcast (td_web_t *web, td_out_t *out)
{
    if (!web->conns)
        return;
    for (td_pss_t *pss = (td_pss_t *) zhashx_first (web->conns); pss;
         pss = (td_pss_t *) zhashx_next (web->conns))
        s_broadcast_one (web, pss, out);
}

//  The token a browser gives at connect: Authorization: Bearer, else ?token=.
static void
s_capture_token (td_pss_t *pss, struct lws *wsi)
{
    char *buf = malloc (TD_WEB_TOKEN_MAX + 16);
    if (!buf)
        return;
    td_http_bearer (wsi, buf, TD_WEB_TOKEN_MAX + 16);
    if (!buf [0]) {
        char *arg = malloc (TD_WEB_TOKEN_MAX + 16);
        const char *v = arg ? lws_get_urlarg_by_name (wsi, "token=", arg, TD_WEB_TOKEN_MAX + 16)
                            : NULL;
        if (v)
            snprintf (buf, TD_WEB_TOKEN_MAX + 16, "%s", v);
        free (arg);
    }
    if (buf [0] && strlen (buf) <= TD_WEB_TOKEN_MAX)
        pss->token = buf;
    else
        free (buf);
}

int
td_ws_callback (struct lws *wsi, enum lws_callback_reasons reason, td_pss_t *pss, void *in,
                size_t len)
{
    td_web_t *web = (td_web_t *) lws_context_user (lws_get_context (wsi));
    switch (reason) {
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
            char uri [64] = "";
            if (lws_hdr_copy (wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0
            ||  strcmp (uri, "/ws") != 0)
                return 1;           //  only /ws upgrades
            //  Token: Authorization header or ?token= (the identity hook decides later)
            return 0;
        }
        case LWS_CALLBACK_ESTABLISHED:
            memset (pss, 0, sizeof *pss);
            pss->wsi = wsi;
            pss->is_ws = true;
            if (td_web_register (web, pss) == 0)
                return -1;
            s_capture_token (pss, wsi);
            td_http_peer (wsi, pss->peer, sizeof pss->peer);
            td_metrics_ws (web->metrics, 1);
            atomic_fetch_add (&web->ws_open, 1);
            //  Verify the token now (and periodically): until then the connection gets only
            //  what anonymous ones get; a refused token closes it with 4401
            if (pss->token
            &&  td_web_submit (web, TD_JOB_WS_OPEN, pss->serial, 0, NULL, NULL, NULL, NULL,
                               pss->token, NULL, 0)) {
                pss->closing = true;
                pss->close_status = 1013;     //  RFC 6455 registry: try again later
                snprintf (pss->close_reason, sizeof pss->close_reason, "server overloaded");
                lws_callback_on_writable (wsi);
            }
            return 0;
        case LWS_CALLBACK_RECEIVE:
            return s_receive (web, pss, wsi, (const char *) in, len);
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return s_writeable (pss, wsi);
        case LWS_CALLBACK_CLOSED:
            if (pss->is_ws && pss->serial && pss->token
            &&  td_web_submit (web, TD_JOB_WS_CLOSE, pss->serial, 0, NULL, NULL, NULL, NULL,
                               NULL, NULL, 0))
                td_warn (TD_WEB_ACTOR, NULL, "the job queue is full; a closed WebSocket's "
                         "token stays watched until its next verification fails");
            if (pss->is_ws && pss->serial) {
                td_metrics_ws (web->metrics, -1);
                atomic_fetch_sub (&web->ws_open, 1);
                if (pss->ntopics > 0)
                    atomic_fetch_sub (&web->ws_subscribers, 1);
                pss->ntopics = 0;
            }
            td_pss_cleanup (web, pss);
            return 0;
        default:
            return 0;
    }
}
