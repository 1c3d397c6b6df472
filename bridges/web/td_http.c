/*  td_http — HTTP side of the web bridge: requests in, JSON (or static file) responses out.
 *
 *  Runs in the lws thread. One HTTP transaction goes through these states (pss->state):
 *    NONE     headers parsed in LWS_CALLBACK_HTTP; the route, content type and declared length
 *             are checked at once, and an error is decided early (pss->early) but answered
 *             only after the body has been read, so the client never sees a reset while it is
 *             still sending. Body bytes past cfg->http_max_body are counted and thrown away.
 *    WAIT     submitted (td_web_submit); td_http_deliver () hands over the response when the
 *             reply arrives (dropped if the connection went away: its serial is gone).
 *    HEADERS  one WRITEABLE writes the headers (with a body of up to S_ONE_WRITE bytes),
 *    BODY     then one WRITEABLE per chunk of the body, the last with LWS_WRITE_HTTP_FINAL;
 *             then the transaction completes (keep-alive) and the state is NONE again.
 *  Every error has the CONTRACT shape {"error":{"code","message","field"?}} and an
 *  X-Request-Id header; nothing here answers 500 for bad input.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_msg.h"
#include "td_web_int.h"

#define S_CHUNK         (32 * 1024)
#define S_HEADERS_MAX   1024        //  response headers, bytes
#define S_ONE_WRITE     (16 * 1024) //  bodies up to this go out in the headers' write
#define S_DISCARD_MAX   (64LL * 1024 * 1024)   //  oversized bodies up to this are read and
                                               //  thrown away before the 413, so clients that
                                               //  write the whole body first still see it;
                                               //  beyond it: answer at once and close

//  --------------------------------------------------------------------------
//  Pure helpers

bool
td_http_content_type_json (const char *value)
{
    if (!value)
        return false;
    const char *p = value;
    while (*p == ' ' || *p == '\t')
        p++;
    static const char media [] = "application/json";
    if (strncasecmp (p, media, sizeof media - 1) != 0)
        return false;
    p += sizeof media - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ')
            p++;
        size_t nlen = (size_t) (p - name);
        if (*p != '=')
            return false;
        p++;
        bool quoted = *p == '"';
        if (quoted)
            p++;
        const char *val = p;
        while (*p && (quoted ? *p != '"' : (*p != ';' && *p != ' ' && *p != '\t')))
            p++;
        size_t vlen = (size_t) (p - val);
        if (quoted) {
            if (*p != '"')
                return false;
            p++;
        }
        if (nlen == 7 && strncasecmp (name, "charset", 7) == 0
        &&  !((vlen == 5 && strncasecmp (val, "utf-8", 5) == 0)
          ||  (vlen == 4 && strncasecmp (val, "utf8", 4) == 0)))
            return false;
        if (nlen == 0 || vlen == 0)
            return false;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    return *p == 0;
}

bool
td_http_rid_valid (const char *rid)
{
    if (!rid)
        return false;
    size_t len = strlen (rid);
    if (len == 0 || len > TD_WEB_RID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) rid [i];
        if (!(isalnum (c) || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int
td_http_static_path (const char *root, const char *path, char *out, size_t size)
{
    if (!root || !*root || !path || path [0] != '/')
        return -1;
    //  Refuse any ".." segment, backslashes, control bytes and hidden files
    const char *seg = path;
    while (*seg) {
        while (*seg == '/')
            seg++;
        const char *end = strchr (seg, '/');
        size_t len = end ? (size_t) (end - seg) : strlen (seg);
        if (len > 0 && seg [0] == '.')
            return -1;              //  "..", ".", ".git", ".env"
        for (size_t i = 0; i < len; i++)
            if ((unsigned char) seg [i] < 0x20 || seg [i] == '\\' || seg [i] == 0x7f)
                return -1;
        seg += len;
    }
    size_t plen = strlen (path);
    const char *index = path [plen - 1] == '/' ? "index.html" : "";
    int n = snprintf (out, size, "%s%s%s", root, path, index);
    if (n < 0 || (size_t) n >= size)
        return -1;
    return 0;
}

const char *
td_http_mime (const char *name)
{
    static const struct { const char *ext, *type; } types [] = {
        { ".html", "text/html; charset=utf-8" },
        { ".htm", "text/html; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".mjs", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".json", "application/json" },
        { ".svg", "image/svg+xml" },
        { ".png", "image/png" },
        { ".jpg", "image/jpeg" },
        { ".jpeg", "image/jpeg" },
        { ".gif", "image/gif" },
        { ".ico", "image/x-icon" },
        { ".webp", "image/webp" },
        { ".txt", "text/plain; charset=utf-8" },
        { ".map", "application/json" },
        { ".wasm", "application/wasm" },
        { ".woff2", "font/woff2" },
        { ".woff", "font/woff" },
    };
    const char *dot = name ? strrchr (name, '.') : NULL;
    const char *slash = name ? strrchr (name, '/') : NULL;
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types [0]; i++)
            if (strcasecmp (dot, types [i].ext) == 0)
                return types [i].type;
    return "application/octet-stream";
}

char *
td_http_error_text (td_errcode_t code, const char *message, const char *field)
{
    json_t *j = td_json_error (code, message, field);
    if (!j)
        return NULL;
    char *text = json_dumps (j, JSON_COMPACT);
    json_decref (j);
    return text;
}

//  --------------------------------------------------------------------------
//  Routing core, shared with WebSocket "call"

void
td_answer_error_ra (td_answer_t *ans, td_errcode_t code, const char *message, const char *field,
                    int retry_after)
{
    ans->submitted = false;
    ans->status = td_errcode_status (code);
    ans->retry_after = retry_after;
    if (ans->json)
        json_decref (ans->json);
    ans->json = td_json_error (code, message, field);
}

void
td_answer_error (td_answer_t *ans, td_errcode_t code, const char *message, const char *field)
{
    td_answer_error_ra (ans, code, message, field,
                        (code == TD_ERR_UNAVAILABLE || code == TD_ERR_RATE_LIMITED)
                        ? TD_WEB_RETRY_AFTER : 0);
}

void
td_http_peer (struct lws *wsi, char *buf, size_t size)
{
    buf [0] = 0;
    if (!lws_get_peer_simple (wsi, buf, size))
        buf [0] = 0;
    buf [size - 1] = 0;
}

//  The peer address of a keep-alive connection, without a getpeername per request: lws frees
//  a transaction's pss when it ends, so an IPv4 peer is kept in the connection's opaque user
//  pointer as a tagged integer (nothing to free); other peers are asked for every time.
static void
s_peer_cached (struct lws *wsi, char *buf, size_t size)
{
    uintptr_t v = (uintptr_t) lws_get_opaque_user_data (wsi);
    if (sizeof v >= 8 && (v & 1)) {
        struct in_addr a = { .s_addr = (in_addr_t) (v >> 1) };
        if (inet_ntop (AF_INET, &a, buf, (socklen_t) size))
            return;
    }
    td_http_peer (wsi, buf, size);
    struct in_addr a;
    if (sizeof v >= 8 && v == 0 && inet_pton (AF_INET, buf, &a) == 1)
        lws_set_opaque_user_data (wsi, (void *) (((uintptr_t) a.s_addr << 1) | 1));
}

void
td_http_bearer (struct lws *wsi, char *buf, size_t size)
{
    buf [0] = 0;
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (len <= 0 || (size_t) len >= size)
        return;
    if (lws_hdr_copy (wsi, buf, (int) size, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0) {
        buf [0] = 0;
        return;
    }
    if (strncasecmp (buf, "Bearer ", 7) != 0) {
        buf [0] = 0;                //  other schemes are not ours
        return;
    }
    const char *t = buf + 7;
    while (*t == ' ')
        t++;
    memmove (buf, t, strlen (t) + 1);
}

void
td_web_handle (td_web_t *web, uint64_t serial, const char *call_id, td_method_t method,
               const char *path, const td_params_t *query, const json_t *body, const char *rid,
               const char *token, const char *client_ip, bool sse, td_answer_t *ans)
{
    memset (ans, 0, sizeof *ans);
    ans->route_label = "unmatched";
    if (atomic_load (&web->draining)) {
        td_answer_error (ans, TD_ERR_UNAVAILABLE, "The server is shutting down; retry later.",
                         NULL);
        return;
    }
    const td_route_t *route = NULL;
    td_params_t params;
    unsigned allowed = 0;
    td_match_t m = td_route_match (td_routes, td_routes_count, method, path, web->cfg->faults,
                                   &route, &params, &allowed);
    if (m == TD_MATCH_NOT_FOUND) {
        td_answer_error (ans, TD_ERR_NOT_FOUND, "There is no such route.", NULL);
        return;
    }
    if (m == TD_MATCH_METHOD) {
        td_allow_format (allowed, ans->allow, sizeof ans->allow);
        td_answer_error (ans, TD_ERR_METHOD_NOT_ALLOWED,
                         "This route does not accept that method.", NULL);
        return;
    }
    ans->route_label = route->pattern;
    td_error_t err;
    td_error_clear (&err);
    switch (route->kind) {
        case TD_ROUTE_HEALTH:
        case TD_ROUTE_METRICS:
            if (td_web_submit (web, route->kind == TD_ROUTE_HEALTH ? TD_JOB_HEALTH
                                                                   : TD_JOB_METRICS,
                               serial, TD_JOBF_PUBLIC, NULL, NULL, rid, call_id, NULL, NULL, 0))
                td_answer_error (ans, TD_ERR_UNAVAILABLE, "The bridge is overloaded.", NULL);
            else
                ans->submitted = true;
            return;
        case TD_ROUTE_OPENAPI:
            if (!web->openapi) {
                td_answer_error (ans, TD_ERR_NOT_FOUND, "The API description is not installed.",
                                 NULL);
                return;
            }
            ans->status = 200;
            ans->raw = web->openapi;
            ans->raw_len = web->openapi_len;
            return;
        case TD_ROUTE_WS:
            td_answer_error (ans, TD_ERR_INVALID_INPUT,
                             "GET /ws needs a WebSocket upgrade.", NULL);
            return;
        case TD_ROUTE_FORWARD:
            break;
    }
    //  Who may call: a protected route needs a token (verified by td_web_submit before the
    //  request is forwarded); a NOAUTH route ignores it. Then the per-token rate.
    if (td_route_noauth (route) || !token)
        token = "";
    bool public = td_route_public (route);
    if (!*token && !public) {
        td_answer_error (ans, TD_ERR_UNAUTHORIZED,
                         "This route needs a token: Authorization: Bearer <token>.", NULL);
        return;
    }
    int retry = 0;
    if (*token && !td_ratelimit_take (web->ratelimit, token, strlen (token), td_web_now_us (),
                                      &retry)) {
        td_answer_error_ra (ans, TD_ERR_RATE_LIMITED,
                            "Too many requests with this token; slow down.", NULL, retry);
        return;
    }
    const char *service, *type;
    if (td_route_target (route, &params, &service, &type, &err)) {
        td_answer_error (ans, err.code, err.message, err.field [0] ? err.field : NULL);
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (td_route_body_pack (&sb, route, &params, query, client_ip ? client_ip : "", body,
                            &err)) {
        msgpack_sbuffer_destroy (&sb);
        td_answer_error (ans, err.code, err.message, err.field [0] ? err.field : NULL);
        return;
    }
    if (sb.size > TD_MAX_MESSAGE) {
        msgpack_sbuffer_destroy (&sb);
        td_answer_error (ans, TD_ERR_TOO_LARGE, "The request is too large.", NULL);
        return;
    }
    int rc = td_web_submit (web, TD_JOB_CALL, serial,
                            (public ? TD_JOBF_PUBLIC : 0) | (sse ? TD_JOBF_SSE : 0), service,
                            type, rid, call_id, token, sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        td_answer_error (ans, TD_ERR_UNAVAILABLE, "The bridge is overloaded.", NULL);
    else
        ans->submitted = true;
}

//  --------------------------------------------------------------------------
//  Responses

static void
s_respond (td_pss_t *pss, int status, const char *ctype, char *buf, size_t len, int retry_after)
{
    free (pss->resp_buf);
    pss->resp_buf = buf;
    pss->resp_len = len;
    pss->resp_off = 0;
    pss->status = status;
    pss->ctype = ctype;
    pss->retry_after = retry_after;
    pss->state = TD_RESP_HEADERS;
    lws_callback_on_writable (pss->wsi);
}

static void
s_respond_text (td_pss_t *pss, int status, const char *text, size_t len, int retry_after)
{
    char *buf = td_web_buf_new (text, len);
    if (!buf) {
        pss->close_after = true;
        buf = td_web_buf_new ("", 0);
        len = 0;
    }
    s_respond (pss, status, "application/json", buf, buf ? len : 0, retry_after);
}

static void
s_respond_error (td_pss_t *pss, td_errcode_t code, const char *message)
{
    char *text = td_http_error_text (code, message, NULL);
    int retry = (code == TD_ERR_UNAVAILABLE || code == TD_ERR_RATE_LIMITED)
              ? TD_WEB_RETRY_AFTER : 0;
    if (text) {
        s_respond_text (pss, td_errcode_status (code), text, strlen (text), retry);
        free (text);
    }
    else {
        static const char fallback [] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"Out of memory.\"}}";
        s_respond_text (pss, 500, fallback, sizeof fallback - 1, 0);
    }
}

static void
s_respond_answer (td_pss_t *pss, td_answer_t *ans)
{
    snprintf (pss->allow, sizeof pss->allow, "%s", ans->allow);
    if (ans->raw) {
        s_respond_text (pss, ans->status, ans->raw, ans->raw_len, ans->retry_after);
        return;
    }
    char *text = ans->json ? json_dumps (ans->json, JSON_COMPACT) : NULL;
    if (!text) {
        s_respond_error (pss, TD_ERR_INTERNAL, "Out of memory.");
        return;
    }
    s_respond_text (pss, ans->status, text, strlen (text), ans->retry_after);
    free (text);
}

void
td_http_deliver (td_web_t *web, td_pss_t *pss, td_out_t *out)
{
    (void) web;
    if (pss->is_ws || pss->state != TD_RESP_WAIT)
        return;                     //  the item stays owned by the caller and is dropped
    s_respond (pss, out->status, out->ctype ? out->ctype : "application/json", out->buf,
               out->len, out->retry_after);
    out->buf = NULL;
}

void
td_http_sse_deliver (td_web_t *web, td_pss_t *pss, td_out_t *out)
{
    (void) web;
    if (pss->is_ws)
        return;
    if (out->status == 200 && pss->state == TD_RESP_WAIT && !pss->sse) {
        pss->sse = true;            //  the response becomes an event stream
        pss->status = 200;
        pss->ctype = "text/event-stream";
        pss->state = TD_RESP_HEADERS;
    }
    else
    if (!pss->sse || pss->sse_end)
        return;                     //  not a stream (any more): dropped
    td_wsmsg_t *m = calloc (1, sizeof *m);
    if (!m) {
        pss->close_after = true;
        return;
    }
    m->buf = out->buf;
    m->len = out->len;
    out->buf = NULL;
    if (pss->outq_tail)
        pss->outq_tail->next = m;
    else
        pss->outq_head = m;
    pss->outq_tail = m;
    pss->outq_msgs++;
    pss->outq_bytes += m->len;
    if (out->end)
        pss->sse_end = true;
    lws_callback_on_writable (pss->wsi);
}

//  An event stream: headers without a length (the stream ends when the connection closes),
//  then one record per write; after the last record the connection is closed.
static int
s_sse_writeable (td_web_t *web, td_pss_t *pss)
{
    struct lws *wsi = pss->wsi;
    if (pss->state == TD_RESP_HEADERS) {
        unsigned char hbuf [LWS_PRE + 512];
        unsigned char *start = hbuf + LWS_PRE, *p = start, *end = hbuf + sizeof hbuf - 1;
        if (lws_add_http_common_headers (wsi, 200, "text/event-stream",
                                         LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end)
        ||  lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                          (unsigned char *) "no-store", 8, &p, end)
        ||  lws_add_http_header_by_name (wsi, (const unsigned char *) "x-request-id:",
                                         (const unsigned char *) pss->rid,
                                         (int) strlen (pss->rid), &p, end)
        ||  lws_finalize_write_http_header (wsi, start, &p, end))
            return -1;
        pss->state = TD_RESP_BODY;
        lws_callback_on_writable (wsi);
        return 0;
    }
    td_wsmsg_t *m = pss->outq_head;
    if (m) {
        pss->outq_head = m->next;
        if (!pss->outq_head)
            pss->outq_tail = NULL;
        pss->outq_msgs--;
        pss->outq_bytes -= m->len;
        int n = lws_write (wsi, (unsigned char *) TD_WEB_TEXT (m->buf), m->len, LWS_WRITE_HTTP);
        free (m->buf);
        free (m);
        if (n < 0)
            return -1;
        if (pss->outq_head || !pss->sse_end) {
            if (pss->outq_head)
                lws_callback_on_writable (wsi);
            return 0;
        }
    }
    else
    if (!pss->sse_end)
        return 0;                   //  nothing yet: the next record asks for a write
    double secs = (double) (td_web_now_us () - pss->start_us) / 1e6;
    td_metrics_http (web->metrics, pss->route_label, td_method_name (pss->method), 200, secs);
    pss->state = TD_RESP_NONE;
    pss->sse = false;               //  the stream is complete: nothing to cancel
    return -1;                      //  close: the end of the stream
}

//  One lws_write per call. A body of up to S_ONE_WRITE bytes goes out with its headers in a
//  single write (one send (), one wake-up of the client, no second WRITEABLE turn); a larger
//  one as headers, then body chunks.
static int
s_writeable (td_web_t *web, td_pss_t *pss)
{
    struct lws *wsi = pss->wsi;
    if (pss->sse)
        return s_sse_writeable (web, pss);
    if (pss->state == TD_RESP_HEADERS) {
        unsigned char hbuf [LWS_PRE + S_HEADERS_MAX + S_ONE_WRITE];
        unsigned char *start = hbuf + LWS_PRE, *p = start;
        unsigned char *end = hbuf + LWS_PRE + S_HEADERS_MAX - 1;
        if (pss->status == 204) {
            //  No content: no body, no Content-Type, no Content-Length (RFC 9110 §15.3.5)
            pss->resp_len = 0;
            if (lws_add_http_header_status (wsi, 204, &p, end))
                return -1;
        }
        else
        if (lws_add_http_common_headers (wsi, (unsigned) pss->status, pss->ctype,
                                         (lws_filepos_t) pss->resp_len, &p, end))
            return -1;
        if (pss->status == 401
        &&  lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                                          (unsigned char *) "Bearer", 6, &p, end))
            return -1;
        if (lws_add_http_header_by_name (wsi, (const unsigned char *) "x-request-id:",
                                         (const unsigned char *) pss->rid,
                                         (int) strlen (pss->rid), &p, end))
            return -1;
        if (pss->retry_after > 0) {
            char ra [16];
            int n = snprintf (ra, sizeof ra, "%d", pss->retry_after);
            if (lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
                                              (unsigned char *) ra, n, &p, end))
                return -1;
        }
        if (pss->status == 405 && pss->allow [0]
        &&  lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_ALLOW,
                                          (unsigned char *) pss->allow,
                                          (int) strlen (pss->allow), &p, end))
            return -1;
        if (pss->status != 204 && strncmp (pss->ctype, "application/json", 16) == 0
        &&  lws_add_http_header_by_token (wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                          (unsigned char *) "no-store", 8, &p, end))
            return -1;
        size_t body = pss->method == TD_METHOD_HEAD ? 0 : pss->resp_len;
        if (body <= S_ONE_WRITE) {
            if (lws_finalize_http_header (wsi, &p, end))
                return -1;
            if (body)
                memcpy (p, TD_WEB_TEXT (pss->resp_buf), body);
            p += body;
            int n = lws_ptr_diff (p, start);
            if (lws_write (wsi, start, (size_t) n, LWS_WRITE_HTTP_HEADERS) != n)
                return -1;
            //  the transaction is done (below)
        }
        else {
            if (lws_finalize_write_http_header (wsi, start, &p, end))
                return -1;
            pss->state = TD_RESP_BODY;
            lws_callback_on_writable (wsi);
            return 0;
        }
    }
    else
    if (pss->state == TD_RESP_BODY) {
        size_t left = pss->resp_len - pss->resp_off;
        size_t chunk = left > S_CHUNK ? S_CHUNK : left;
        bool last = chunk == left;
        unsigned char *at = (unsigned char *) TD_WEB_TEXT (pss->resp_buf) + pss->resp_off;
        int n = lws_write (wsi, at, chunk, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        if (n < 0)
            return -1;
        pss->resp_off += chunk;
        if (!last) {
            lws_callback_on_writable (wsi);
            return 0;
        }
    }
    else
        return 0;                   //  spurious WRITEABLE

    //  Transaction done
    double secs = (double) (td_web_now_us () - pss->start_us) / 1e6;
    td_metrics_http (web->metrics, pss->route_label, td_method_name (pss->method), pss->status,
                     secs);
    td_debug (TD_WEB_ACTOR, pss->rid, "%s %s %d %.1f ms", td_method_name (pss->method),
              pss->route_label, pss->status, secs * 1000);
    pss->state = TD_RESP_NONE;
    free (pss->resp_buf);
    pss->resp_buf = NULL;
    if (pss->close_after)
        return -1;
    if (lws_http_transaction_completed (wsi))
        return -1;
    return 0;
}

//  --------------------------------------------------------------------------
//  Requests

static td_method_t
s_lws_method (int m)
{
    switch (m) {
        case LWSHUMETH_GET:     return TD_METHOD_GET;
        case LWSHUMETH_POST:    return TD_METHOD_POST;
        case LWSHUMETH_PUT:     return TD_METHOD_PUT;
        case LWSHUMETH_PATCH:   return TD_METHOD_PATCH;
        case LWSHUMETH_DELETE:  return TD_METHOD_DELETE;
        case LWSHUMETH_HEAD:    return TD_METHOD_HEAD;
        case LWSHUMETH_OPTIONS: return TD_METHOD_OPTIONS;
        default:                return 0;
    }
}

static void
s_serve_static (td_web_t *web, td_pss_t *pss)
{
    char file [PATH_MAX];
    pss->route_label = "static";
    if (td_http_static_path (web->cfg->static_dir, pss->path, file, sizeof file)) {
        s_respond_error (pss, TD_ERR_NOT_FOUND, "There is no such file.");
        return;
    }
    int fd = open (file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && fstat (fd, &st) == 0 && S_ISDIR (st.st_mode)) {
        //  A directory without a trailing slash: serve its index
        close (fd);
        char index [PATH_MAX];
        int n = snprintf (index, sizeof index, "%s/index.html", file);
        fd = (n > 0 && (size_t) n < sizeof index)
           ? open (index, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) : -1;
        if (fd >= 0)
            snprintf (file, sizeof file, "%s", index);
    }
    if (fd < 0 || fstat (fd, &st) || !S_ISREG (st.st_mode) || st.st_size > TD_WEB_STATIC_MAX) {
        if (fd >= 0)
            close (fd);
        s_respond_error (pss, TD_ERR_NOT_FOUND, "There is no such file.");
        return;
    }
    size_t size = (size_t) st.st_size;
    char *buf = malloc (LWS_PRE + size + 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read (fd, buf + LWS_PRE + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    close (fd);
    if (!buf || got != size) {
        free (buf);
        s_respond_error (pss, TD_ERR_NOT_FOUND, "The file could not be read.");
        return;
    }
    s_respond (pss, 200, td_http_mime (file), buf, size, 0);
}

//  Collect the query arguments lws parsed (each fragment is "name=value", urldecoded).
static int
s_query (struct lws *wsi, td_params_t *query, td_error_t *err)
{
    query->count = 0;
    char frag [TD_PARAM_NAME_MAX + TD_PARAM_VALUE_MAX + 4];
    for (int i = 0; ; i++) {
        int n = lws_hdr_copy_fragment (wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) {
            if (lws_hdr_fragment_length (wsi, WSI_TOKEN_HTTP_URI_ARGS, i) > 0)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                                     "A query parameter is too long.");
            break;
        }
        if (n == 0)
            continue;
        char *eq = strchr (frag, '=');
        size_t nlen = eq ? (size_t) (eq - frag) : (size_t) n;
        const char *val = eq ? eq + 1 : "";
        if (nlen == 0)
            continue;
        if (td_params_add (query, frag, nlen, val, strlen (val), err))
            return -1;
    }
    return 0;
}

//  Act on a transaction whose body (if any) has been read.
static void
s_dispatch (td_web_t *web, td_pss_t *pss)
{
    if (pss->early != TD_OK) {
        s_respond_error (pss, pss->early, pss->early_msg);
        return;
    }
    if (pss->is_static) {
        s_serve_static (web, pss);
        return;
    }
    td_error_t err;
    td_error_clear (&err);
    json_t *body = NULL;
    if (pss->body_len > 0) {
        body = td_json_parse (pss->body, pss->body_len, (size_t) web->cfg->http_max_body, &err);
        if (!body) {
            char *text = td_http_error_text (err.code, err.message,
                                             err.field [0] ? err.field : NULL);
            if (text) {
                s_respond_text (pss, td_errcode_status (err.code), text, strlen (text), 0);
                free (text);
            }
            else
                s_respond_error (pss, TD_ERR_INVALID_INPUT, "The body is not valid JSON.");
            return;
        }
    }
    td_params_t *query = malloc (sizeof *query);
    if (!query) {
        json_decref (body);
        s_respond_error (pss, TD_ERR_UNAVAILABLE, "Out of memory; retry later.");
        return;
    }
    td_answer_t ans;
    if (s_query (pss->wsi, query, &err)) {
        memset (&ans, 0, sizeof ans);
        td_answer_error (&ans, err.code, err.message, err.field [0] ? err.field : NULL);
    }
    else {
        char token [TD_WEB_TOKEN_MAX + 16];
        td_http_bearer (pss->wsi, token, sizeof token);
        s_peer_cached (pss->wsi, pss->peer, sizeof pss->peer);
        char accept [256] = "";
        if (lws_hdr_copy (pss->wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT) < 0)
            accept [0] = 0;
        pss->sse_wanted = strstr (accept, "text/event-stream") != NULL;
        td_web_handle (web, pss->serial, NULL, pss->method, pss->path, query, body, pss->rid,
                       token, pss->peer, pss->sse_wanted, &ans);
        sodium_memzero (token, sizeof token);
    }
    free (query);
    json_decref (body);
    if (ans.route_label)
        pss->route_label = ans.route_label;
    if (ans.submitted)
        pss->state = TD_RESP_WAIT;
    else
        s_respond_answer (pss, &ans);
    if (ans.json)
        json_decref (ans.json);
}

static void
s_early (td_pss_t *pss, td_errcode_t code, const char *msg)
{
    if (pss->early == TD_OK) {
        pss->early = code;
        snprintf (pss->early_msg, sizeof pss->early_msg, "%s", msg);
    }
}

static int
s_begin (td_web_t *web, td_pss_t *pss, struct lws *wsi, const char *in)
{
    //  A new transaction on this connection: fresh serial, fresh state
    td_pss_cleanup (web, pss);
    memset (pss, 0, sizeof *pss);
    pss->wsi = wsi;
    pss->start_us = td_web_now_us ();
    pss->route_label = "unmatched";
    if (td_web_register (web, pss) == 0)
        return -1;

    char *uri = NULL;
    int uri_len = 0;
    pss->method = s_lws_method (lws_http_get_uri_and_method (wsi, &uri, &uri_len));
    size_t plen = in ? strnlen (in, TD_WEB_PATH_MAX + 1) : 0;
    pss->path = plen > 0 && plen <= TD_WEB_PATH_MAX ? strndup (in, plen) : NULL;

    char rid [TD_WEB_RID_MAX + 1] = "";
    int rn = lws_hdr_custom_length (wsi, "x-request-id:", 13);
    if (rn > 0 && rn <= TD_WEB_RID_MAX
    &&  lws_hdr_custom_copy (wsi, rid, sizeof rid, "x-request-id:", 13) > 0
    &&  td_http_rid_valid (rid))
        memcpy (pss->rid, rid, sizeof pss->rid);
    else {
        char id [33];
        td_web_new_id (web, id);
        snprintf (pss->rid, sizeof pss->rid, "%s", id);
    }

    long long clen = 0;
    char cl [32] = "";
    if (lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        if (lws_hdr_copy (wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
            char *end = NULL;
            errno = 0;
            clen = strtoll (cl, &end, 10);
            if (errno || !end || *end || clen < 0)
                clen = -1;
        }
        else
            clen = -1;
    }
    //  lws 4.1 does not de-chunk request bodies on the server side: refuse them clearly
    if (lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        pss->close_after = true;
        s_respond_error (pss, TD_ERR_INVALID_INPUT,
                         "Send the body with a Content-Length; chunked bodies are not accepted.");
        return 0;
    }
    pss->expect_body = clen > 0;
    if (clen < 0) {
        pss->close_after = true;
        s_respond_error (pss, TD_ERR_INVALID_INPUT, "The Content-Length header is malformed.");
        return 0;
    }

    //  Decide what can be decided from the headers
    if (!pss->path) {
        s_early (pss, TD_ERR_NOT_FOUND, "There is no such route.");
        pss->close_after = plen > TD_WEB_PATH_MAX;
    }
    else
    if (atomic_load (&web->draining))
        s_early (pss, TD_ERR_UNAVAILABLE, "The server is shutting down; retry later.");
    else {
        const td_route_t *route = NULL;
        unsigned allowed = 0;
        td_params_t *params = malloc (sizeof *params);
        if (!params)
            return -1;
        td_match_t m = td_route_match (td_routes, td_routes_count, pss->method, pss->path,
                                       web->cfg->faults, &route, params, &allowed);
        free (params);
        bool api = strncmp (pss->path, "/api/", 5) == 0 || strcmp (pss->path, "/api") == 0;
        if (m == TD_MATCH_NOT_FOUND && !api
        &&  (pss->method == TD_METHOD_GET || pss->method == TD_METHOD_HEAD))
            pss->is_static = true;
        else
        if (m == TD_MATCH_NOT_FOUND)
            s_early (pss, TD_ERR_NOT_FOUND, "There is no such route.");
        else
        if (m == TD_MATCH_METHOD) {
            td_allow_format (allowed, pss->allow, sizeof pss->allow);
            s_early (pss, TD_ERR_METHOD_NOT_ALLOWED, "This route does not accept that method.");
        }
        else {
            pss->route_label = route->pattern;
            if (pss->expect_body && route->kind == TD_ROUTE_FORWARD) {
                char ct [256] = "";
                if (lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0
                ||  lws_hdr_copy (wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0
                ||  !td_http_content_type_json (ct))
                    s_early (pss, TD_ERR_UNSUPPORTED_MEDIA_TYPE,
                             "The body must be JSON (Content-Type: application/json).");
            }
        }
    }
    if (pss->expect_body && clen > web->cfg->http_max_body) {
        pss->early = TD_OK;
        s_early (pss, TD_ERR_TOO_LARGE, "The body is larger than the server accepts.");
        pss->body_too_large = true;
        if (clen > S_DISCARD_MAX && clen / 16 > web->cfg->http_max_body) {
            //  Not worth reading: answer now and close
            pss->expect_body = false;
            pss->close_after = true;
        }
    }
    if (pss->expect_body)
        return 0;                   //  LWS_CALLBACK_HTTP_BODY_COMPLETION goes on
    s_dispatch (web, pss);
    return 0;
}

static int
s_body (td_web_t *web, td_pss_t *pss, const char *in, size_t len)
{
    if (!pss->expect_body || pss->body_too_large)
        return 0;                   //  thrown away
    size_t max = (size_t) web->cfg->http_max_body;
    if (pss->body_len + len > max) {
        free (pss->body);
        pss->body = NULL;
        pss->body_len = 0;
        pss->body_too_large = true;
        pss->early = TD_OK;
        s_early (pss, TD_ERR_TOO_LARGE, "The body is larger than the server accepts.");
        return 0;
    }
    char *body = realloc (pss->body, pss->body_len + len + 1);
    if (!body)
        return -1;
    memcpy (body + pss->body_len, in, len);
    pss->body = body;
    pss->body_len += len;
    pss->body [pss->body_len] = 0;
    return 0;
}

int
td_http_callback (struct lws *wsi, enum lws_callback_reasons reason, td_pss_t *pss, void *in,
                  size_t len)
{
    td_web_t *web = (td_web_t *) lws_context_user (lws_get_context (wsi));
    switch (reason) {
        case LWS_CALLBACK_HTTP:
            return s_begin (web, pss, wsi, (const char *) in);
        case LWS_CALLBACK_HTTP_BODY:
            return s_body (web, pss, (const char *) in, len);
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            //  lws (4.1) calls this again and again, without end, while a request waits for its
            //  answer and the client has already sent the next one on the same connection (HTTP
            //  pipelining): the buffered bytes are offered back to the finished body. Pausing
            //  reads does not stop it. Browsers never pipeline; a client that does gets the
            //  connection closed, as RFC 9112 §9.3.2 allows, and the server stays free.
            if (pss->body_completed) {
                td_debug (TD_WEB_ACTOR, pss->rid, "pipelined request behind a pending one: "
                          "closing the connection");
                return -1;
            }
            pss->body_completed = true;
            if (!pss->expect_body)
                return 0;
            pss->expect_body = false;
            if (pss->state == TD_RESP_NONE)
                s_dispatch (web, pss);
            return 0;
        case LWS_CALLBACK_HTTP_WRITEABLE:
            if (pss->is_ws)
                return 0;
            return s_writeable (web, pss);
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
            if (!pss->is_ws && pss->sse && pss->serial
            &&  td_web_submit (web, TD_JOB_SSE_CLOSE, pss->serial, 0, NULL, NULL, pss->rid, NULL,
                               NULL, NULL, 0))
                td_warn (TD_WEB_ACTOR, pss->rid, "cannot tell the bridge an event stream closed");
            pss->sse = false;
            if (!pss->is_ws)
                td_pss_cleanup (web, pss);
            return 0;
        default:
            return 0;
    }
}
