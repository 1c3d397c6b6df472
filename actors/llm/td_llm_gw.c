/*  td_llm_gw — libcurl multi driven by an epoll set and a timerfd (see td_llm_gw.h).
 *
 *  Stream states:  ATTEMPT (a curl transfer is running) <-> WAIT (backoff before the next
 *  attempt) -> finished (moved to the done list; its callback runs once the engine is consistent,
 *  so a callback may start or cancel streams without breaking an iteration).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "td_llm_gw.h"
#include "td_llm_sse.h"

#define ERRBODY_MAX (16 * 1024)

typedef struct stream stream_t;
struct stream {
    td_llm_gw_t *gw;
    uint64_t id;
    stream_t *prev, *next;          //  in gw->streams or gw->finished
    //  the request (owned copies)
    td_llm_kind_t kind;
    char *base_url, *api_key, *system;
    char *models [TD_LLM_MAX_MODELS];
    int nmodels;
    json_t *messages;
    int max_tokens;
    td_llm_delta_fn *delta_fn;
    td_llm_done_fn *done_fn;
    void *arg;
    //  progress
    int model_i, retry, attempts;
    CURL *easy;                     //  NULL while waiting
    struct curl_slist *headers;
    char *url, *body;
    td_llm_sse_t *sse;
    bool status_seen;
    long http_status;
    char *errbody;  size_t errlen;
    int64_t retry_after_ms;         //  -1 none
    size_t bytes;
    bool forwarded, finished_ok;
    int64_t prompt, completion;
    int64_t total_deadline, first_deadline, wake_at;    //  monotonic ms; 0 none
    char fail_code [32];
    char fail_msg [200];
    td_llm_result_t result;
};

//  A fire-and-forget POST (webhooks): no callback, logged on failure.
typedef struct plain plain_t;
struct plain {
    plain_t *next;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
};

struct td_llm_gw {
    td_llm_limits_t lim;
    plain_t *plains;
    CURLM *multi;
    int epfd, tfd;
    int64_t curl_deadline;          //  0 none
    int64_t armed_at;               //  what the timerfd is set to (monotonic ms), 0 disarmed
    stream_t *streams, *finished;
    size_t active;
    uint64_t next_id;
};

static int64_t
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_flush (td_llm_gw_t *gw);
static void s_rearm (td_llm_gw_t *gw);

//  Arm the timerfd for an absolute monotonic time (ms); 0 disarms.
static void
s_arm (td_llm_gw_t *gw, int64_t at)
{
    struct itimerspec its = { 0 };
    gw->armed_at = at;
    if (at) {
        int64_t now = s_now ();
        if (at <= now)
            at = now;
        its.it_value.tv_sec = at / 1000;
        its.it_value.tv_nsec = (at % 1000) * 1000000 + 1;       //  never all-zero (disarm)
    }
    timerfd_settime (gw->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

//  A new deadline: when it is earlier than what the timer is set to, the timer is moved to it at
//  once (O(1)); a later one is found when the timer fires and everything is rescanned. This keeps
//  the O(n) scans off the per-token path and off every stream start (n starts would cost O(n^2)).
static void
s_need (td_llm_gw_t *gw, int64_t deadline)
{
    if (deadline > 0 && (!gw->armed_at || deadline < gw->armed_at))
        s_arm (gw, deadline);
}

//  ---------------------------------------------------------------------------------------------
//  curl's sockets and timer -> epoll

static int
s_socket_cb (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void) easy;
    td_llm_gw_t *gw = (td_llm_gw_t *) userp;
    if (what == CURL_POLL_REMOVE) {
        if (socketp)
            epoll_ctl (gw->epfd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign (gw->multi, fd, NULL);
        return 0;
    }
    struct epoll_event ev = { 0 };
    ev.data.fd = fd;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev.events |= EPOLLOUT;
    if (socketp)
        epoll_ctl (gw->epfd, EPOLL_CTL_MOD, fd, &ev);
    else {
        if (epoll_ctl (gw->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
            epoll_ctl (gw->epfd, EPOLL_CTL_MOD, fd, &ev);
        curl_multi_assign (gw->multi, fd, gw);      //  any non-NULL marks "in the set"
    }
    return 0;
}

static int
s_timer_cb (CURLM *multi, long timeout_ms, void *userp)
{
    (void) multi;
    td_llm_gw_t *gw = (td_llm_gw_t *) userp;
    gw->curl_deadline = timeout_ms < 0? 0: s_now () + timeout_ms;
    if (gw->curl_deadline)
        s_need (gw, gw->curl_deadline);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Streams

static void
s_attempt_clear (stream_t *s)
{
    if (s->easy) {
        curl_multi_remove_handle (s->gw->multi, s->easy);
        curl_easy_cleanup (s->easy);
        s->easy = NULL;
    }
    curl_slist_free_all (s->headers);
    s->headers = NULL;
    free (s->url);
    free (s->body);
    s->url = s->body = NULL;
    td_llm_sse_destroy (&s->sse);
    free (s->errbody);
    s->errbody = NULL;
    s->errlen = 0;
}

static void
s_stream_free (stream_t *s)
{
    s_attempt_clear (s);
    free (s->base_url);
    free (s->api_key);
    free (s->system);
    for (int i = 0; i < s->nmodels; i++)
        free (s->models [i]);
    json_decref (s->messages);
    free (s);
}

static void
s_unlink (stream_t **head, stream_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void
s_push (stream_t **head, stream_t *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
}

//  The stream ends: result kept, moved to the finished list (callback in s_flush).
static void
s_finish (stream_t *s, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void
s_finish (stream_t *s, const char *code, const char *fmt, ...)
{
    td_llm_gw_t *gw = s->gw;
    s_attempt_clear (s);
    td_llm_result_t *r = &s->result;
    memset (r, 0, sizeof *r);
    r->ok = code == NULL;
    snprintf (r->code, sizeof r->code, "%s", code? code: "");
    if (fmt) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (r->message, sizeof r->message, fmt, ap);
        va_end (ap);
    }
    snprintf (r->model, sizeof r->model, "%s", s->models [s->model_i]);
    r->prompt_tokens = s->prompt > 0? s->prompt: 0;
    r->completion_tokens = s->completion > 0? s->completion: 0;
    r->attempts = s->attempts;
    r->http_status = (int) s->http_status;
    s_unlink (&gw->streams, s);
    gw->active--;
    s_push (&gw->finished, s);
}

static void
s_flush (td_llm_gw_t *gw)
{
    while (gw->finished) {
        stream_t *s = gw->finished;
        s_unlink (&gw->finished, s);
        if (s->done_fn)
            s->done_fn (s->arg, &s->result);
        s_stream_free (s);
    }
}

static int
s_on_event (void *arg, const char *event, const char *data, size_t len)
{
    stream_t *s = (stream_t *) arg;
    td_llm_chunk_t c;
    if (td_llm_chunk_parse (s->kind, event, data, len, &c) != 0) {
        snprintf (s->fail_code, sizeof s->fail_code, "malformed");
        snprintf (s->fail_msg, sizeof s->fail_msg, "the model sent a chunk that is not valid %s",
                  td_llm_kind_name (s->kind));
        return 1;
    }
    int rc = 0;
    if (c.prompt_tokens >= 0)
        s->prompt = c.prompt_tokens;
    if (c.completion_tokens >= 0)
        s->completion = c.completion_tokens;
    if (c.error) {
        snprintf (s->fail_code, sizeof s->fail_code, "upstream_error");
        snprintf (s->fail_msg, sizeof s->fail_msg, "the model failed: %.150s", c.message);
        rc = 1;
    }
    else
    if (c.text && *c.text) {
        s->forwarded = true;
        s->first_deadline = 0;
        if (s->delta_fn && s->delta_fn (s->arg, c.text, strlen (c.text)) != 0) {
            snprintf (s->fail_code, sizeof s->fail_code, "blocked");
            snprintf (s->fail_msg, sizeof s->fail_msg, "the answer was withheld");
            rc = 1;
        }
    }
    if (c.done)
        s->finished_ok = true;
    td_llm_chunk_clear (&c);
    return rc;
}

static size_t
s_write_cb (char *ptr, size_t size, size_t nmemb, void *userp)
{
    stream_t *s = (stream_t *) userp;
    size_t len = size * nmemb;
    if (!s->status_seen) {
        curl_easy_getinfo (s->easy, CURLINFO_RESPONSE_CODE, &s->http_status);
        s->status_seen = true;
    }
    s->bytes += len;
    if (s->bytes > s->gw->lim.max_bytes) {
        snprintf (s->fail_code, sizeof s->fail_code, "too_large");
        snprintf (s->fail_msg, sizeof s->fail_msg, "the model's answer is over %zu bytes",
                  s->gw->lim.max_bytes);
        return 0;
    }
    if (s->http_status != 200) {
        size_t room = ERRBODY_MAX - s->errlen;
        size_t n = len < room? len: room;
        if (!s->errbody)
            s->errbody = (char *) malloc (ERRBODY_MAX + 1);
        if (s->errbody && n) {
            memcpy (s->errbody + s->errlen, ptr, n);
            s->errlen += n;
        }
        return len;
    }
    int rc = td_llm_sse_feed (s->sse, ptr, len);
    if (rc == 0)
        return len;
    if (!*s->fail_code) {
        snprintf (s->fail_code, sizeof s->fail_code, rc == TD_LLM_SSE_TOO_LARGE? "too_large": "internal");
        snprintf (s->fail_msg, sizeof s->fail_msg, "the model sent an event over the size cap");
    }
    return 0;
}

static size_t
s_header_cb (char *ptr, size_t size, size_t nmemb, void *userp)
{
    stream_t *s = (stream_t *) userp;
    size_t len = size * nmemb;
    char line [256];
    if (len >= sizeof line)
        return len;
    memcpy (line, ptr, len);
    line [len] = 0;
    if (strncasecmp (line, "HTTP/", 5) == 0)
        s->retry_after_ms = -1;     //  a new response (after a 100 Continue, say)
    else
    if (strncasecmp (line, "retry-after-ms:", 15) == 0)
        s->retry_after_ms = td_llm_retry_after_ms (line + 15, true);
    else
    if (strncasecmp (line, "retry-after:", 12) == 0 && s->retry_after_ms < 0)
        s->retry_after_ms = td_llm_retry_after_ms (line + 12, false);
    return len;
}

static int
s_attempt (stream_t *s)
{
    td_llm_gw_t *gw = s->gw;
    td_llm_wire_req_t w = {
        .kind = s->kind, .base_url = s->base_url, .api_key = s->api_key,
        .model = s->models [s->model_i], .system = s->system, .messages = s->messages,
        .max_tokens = s->max_tokens
    };
    s_attempt_clear (s);
    s->status_seen = false;
    s->http_status = 0;
    s->retry_after_ms = -1;
    s->bytes = 0;
    s->finished_ok = false;
    s->wake_at = 0;
    s->fail_code [0] = 0;
    if (td_llm_build (&w, &s->url, &s->headers, &s->body) != 0)
        return -1;
    size_t cap = gw->lim.max_bytes < 1024 * 1024? gw->lim.max_bytes: 1024 * 1024;
    s->sse = td_llm_sse_new (cap, s_on_event, s);
    s->easy = curl_easy_init ();
    if (!s->sse || !s->easy)
        return -1;
    CURL *e = s->easy;
    int rc = 0;
    rc |= curl_easy_setopt (e, CURLOPT_URL, s->url);
    rc |= curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt (e, CURLOPT_HTTPHEADER, s->headers);
    rc |= curl_easy_setopt (e, CURLOPT_POSTFIELDS, s->body);
    rc |= curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_write_cb);
    rc |= curl_easy_setopt (e, CURLOPT_WRITEDATA, s);
    rc |= curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, s_header_cb);
    rc |= curl_easy_setopt (e, CURLOPT_HEADERDATA, s);
    rc |= curl_easy_setopt (e, CURLOPT_PRIVATE, s);
    rc |= curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long) gw->lim.connect_ms);
    rc |= curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt (e, CURLOPT_TCP_NODELAY, 1L);
    if (rc != CURLE_OK)
        return -1;
    if (curl_multi_add_handle (gw->multi, e) != CURLM_OK) {
        curl_easy_cleanup (e);
        s->easy = NULL;
        return -1;
    }
    s->attempts++;
    s->first_deadline = s_now () + gw->lim.first_token_ms;
    s_need (gw, s->first_deadline);
    return 0;
}

//  An attempt failed before any token: retry, fall back to the next model, or end.
static void
s_retry_or_end (stream_t *s, td_llm_fail_t kind, const char *code, const char *msg)
{
    td_llm_gw_t *gw = s->gw;
    int64_t now = s_now ();
    if (kind == TD_LLM_FAIL_QUOTA) {
        s_finish (s, "quota_exceeded", "the provider's quota or spend limit is reached");
        return;
    }
    if (kind == TD_LLM_FAIL_RETRY && s->retry < gw->lim.max_retries) {
        if (s->retry_after_ms > gw->lim.retry_after_cap_ms) {
            s_finish (s, "rate_limited", "the provider asks to wait %lld s, longer than allowed",
                      (long long) (s->retry_after_ms / 1000));
            return;
        }
        int64_t ceiling = (int64_t) gw->lim.backoff_ms << (s->retry < 20? s->retry: 20);
        if (ceiling > gw->lim.backoff_max_ms)
            ceiling = gw->lim.backoff_max_ms;
        int64_t delay = ceiling > 0? (int64_t) randombytes_uniform ((uint32_t) ceiling + 1): 0;
        if (s->retry_after_ms > delay)
            delay = s->retry_after_ms;
        s->retry++;
        s_attempt_clear (s);
        s->wake_at = now + delay;
        s_need (gw, s->wake_at);
        if (s->wake_at >= s->total_deadline)
            s_finish (s, "timeout", "no answer from the model within the time allowed");
        return;
    }
    bool model_gone = kind == TD_LLM_FAIL_FINAL && s->http_status == 404;
    if ((kind == TD_LLM_FAIL_RETRY || model_gone) && s->model_i + 1 < s->nmodels) {
        s->model_i++;
        s->retry = 0;
        s_attempt_clear (s);
        s->wake_at = now;          //  at once
        s_need (gw, s->wake_at);
        return;
    }
    s_finish (s, code, "%s", msg);
}

static void
s_attempt_done (stream_t *s, CURLcode cc)
{
    if (*s->fail_code) {
        s_finish (s, s->fail_code, "%s", s->fail_msg);
        return;
    }
    if (!s->status_seen)
        curl_easy_getinfo (s->easy, CURLINFO_RESPONSE_CODE, &s->http_status);
    if (cc == CURLE_OK && s->http_status == 200) {
        if (s->finished_ok)
            s_finish (s, NULL, NULL);
        else
        if (s->forwarded)
            s_finish (s, "dropped", "the model's stream ended before its end marker");
        else
            s_retry_or_end (s, TD_LLM_FAIL_RETRY, "dropped",
                            "the model's stream ended before its end marker");
        return;
    }
    if (cc == CURLE_OK) {
        if (s->errbody)
            s->errbody [s->errlen] = 0;
        char msg [200];
        snprintf (msg, sizeof msg, "the model answered HTTP %ld", s->http_status);
        td_llm_fail_t kind = td_llm_classify ((int) s->http_status, s->errbody);
        s_retry_or_end (s, kind, s->http_status == 429? "rate_limited": "upstream_error", msg);
        return;
    }
    //  transport failure: refused, reset, timed out connecting, cut mid-stream
    if (s->forwarded) {
        s_finish (s, "dropped", "the connection to the model broke mid-stream (%s)",
                  curl_easy_strerror (cc));
        return;
    }
    char msg [200];
    snprintf (msg, sizeof msg, "cannot reach the model (%s)", curl_easy_strerror (cc));
    s_retry_or_end (s, TD_LLM_FAIL_RETRY, cc == CURLE_OPERATION_TIMEDOUT? "timeout": "upstream_error",
                    msg);
}

static void
s_plain_free (td_llm_gw_t *gw, plain_t *p)
{
    curl_multi_remove_handle (gw->multi, p->easy);
    curl_easy_cleanup (p->easy);
    curl_slist_free_all (p->headers);
    free (p->body);
    free (p);
}

//  True when easy was a plain POST (now finished and freed).
static bool
s_plain_done (td_llm_gw_t *gw, CURL *easy, CURLcode cc)
{
    for (plain_t **pp = &gw->plains; *pp; pp = &(*pp)->next)
        if ((*pp)->easy == easy) {
            plain_t *p = *pp;
            long status = 0;
            curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
            if (cc != CURLE_OK || status < 200 || status > 299)
                fprintf (stderr, "llm: webhook POST failed: %s, HTTP %ld\n",
                         curl_easy_strerror (cc), status);
            *pp = p->next;
            s_plain_free (gw, p);
            return true;
        }
    return false;
}

static size_t
s_discard (char *ptr, size_t size, size_t nmemb, void *userp)
{
    (void) ptr;
    (void) userp;
    return size * nmemb;
}

int
td_llm_gw_post (td_llm_gw_t *gw, const char *url, const char *json)
{
    plain_t *p = (plain_t *) calloc (1, sizeof *p);
    if (!p)
        return -1;
    p->body = strdup (json);
    p->easy = curl_easy_init ();
    p->headers = curl_slist_append (NULL, "Content-Type: application/json");
    int rc = !p->body || !p->easy || !p->headers;
    if (!rc) {
        rc |= curl_easy_setopt (p->easy, CURLOPT_URL, url);
        rc |= curl_easy_setopt (p->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        rc |= curl_easy_setopt (p->easy, CURLOPT_HTTPHEADER, p->headers);
        rc |= curl_easy_setopt (p->easy, CURLOPT_POSTFIELDS, p->body);
        rc |= curl_easy_setopt (p->easy, CURLOPT_WRITEFUNCTION, s_discard);
        rc |= curl_easy_setopt (p->easy, CURLOPT_NOSIGNAL, 1L);
        rc |= curl_easy_setopt (p->easy, CURLOPT_TIMEOUT_MS, 10000L);
    }
    if (rc || curl_multi_add_handle (gw->multi, p->easy) != CURLM_OK) {
        curl_easy_cleanup (p->easy);
        curl_slist_free_all (p->headers);
        free (p->body);
        free (p);
        return -1;
    }
    p->next = gw->plains;
    gw->plains = p;
    s_rearm (gw);
    return 0;
}

static void
s_check_info (td_llm_gw_t *gw)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read (gw->multi, &left)))
        if (m->msg == CURLMSG_DONE) {
            CURLcode cc = m->data.result;
            if (s_plain_done (gw, m->easy_handle, cc))
                continue;
            stream_t *s = NULL;
            curl_easy_getinfo (m->easy_handle, CURLINFO_PRIVATE, (char **) &s);
            if (s)
                s_attempt_done (s, cc);
        }
}

static void
s_check_deadlines (td_llm_gw_t *gw)
{
    int64_t now = s_now ();
    stream_t *s = gw->streams;
    while (s) {
        stream_t *next = s->next;   //  s_finish moves only s itself
        if (now >= s->total_deadline)
            s_finish (s, "timeout", "no complete answer from the model within %d ms",
                      gw->lim.total_ms);
        else
        if (s->easy && s->first_deadline && now >= s->first_deadline)
            s_finish (s, "timeout", "no first token from the model within %d ms",
                      gw->lim.first_token_ms);
        else
        if (!s->easy && s->wake_at && now >= s->wake_at && s_attempt (s) != 0)
            s_finish (s, "internal", "cannot start the request to the model");
        s = next;
    }
}

static void
s_rearm (td_llm_gw_t *gw)
{
    int64_t next = gw->curl_deadline;
    for (stream_t *s = gw->streams; s; s = s->next) {
        int64_t d = s->total_deadline;
        if (s->easy && s->first_deadline && s->first_deadline < d)
            d = s->first_deadline;
        if (!s->easy && s->wake_at && s->wake_at < d)
            d = s->wake_at;
        if (!next || d < next)
            next = d;
    }
    s_arm (gw, next);
}

//  ---------------------------------------------------------------------------------------------
//  Public

td_llm_gw_t *
td_llm_gw_new (const td_llm_limits_t *limits)
{
    td_llm_gw_t *gw = (td_llm_gw_t *) calloc (1, sizeof *gw);
    if (!gw)
        return NULL;
    gw->lim = *limits;
    gw->epfd = epoll_create1 (EPOLL_CLOEXEC);
    gw->tfd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    gw->multi = curl_multi_init ();
    gw->next_id = 1;
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.fd = gw->tfd;
    if (gw->epfd < 0 || gw->tfd < 0 || !gw->multi
    ||  epoll_ctl (gw->epfd, EPOLL_CTL_ADD, gw->tfd, &ev) != 0
    ||  curl_multi_setopt (gw->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb) != CURLM_OK
    ||  curl_multi_setopt (gw->multi, CURLMOPT_SOCKETDATA, gw) != CURLM_OK
    ||  curl_multi_setopt (gw->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb) != CURLM_OK
    ||  curl_multi_setopt (gw->multi, CURLMOPT_TIMERDATA, gw) != CURLM_OK) {
        td_llm_gw_destroy (&gw);
        return NULL;
    }
    return gw;
}

void
td_llm_gw_destroy (td_llm_gw_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_llm_gw_t *gw = *self_p;
    while (gw->streams)
        s_finish (gw->streams, "cancelled", "the gateway is stopping");
    s_flush (gw);
    while (gw->plains) {
        plain_t *p = gw->plains;
        gw->plains = p->next;
        s_plain_free (gw, p);
    }
    if (gw->multi)
        curl_multi_cleanup (gw->multi);
    if (gw->tfd >= 0)
        close (gw->tfd);
    if (gw->epfd >= 0)
        close (gw->epfd);
    free (gw);
    *self_p = NULL;
}

int
td_llm_gw_fd (const td_llm_gw_t *self)
{
    return self->epfd;
}

size_t
td_llm_gw_active (const td_llm_gw_t *self)
{
    return self->active;
}

void
td_llm_gw_run (td_llm_gw_t *gw)
{
    struct epoll_event evs [64];
    int running = 0;
    bool fired = false;
    int n = epoll_wait (gw->epfd, evs, 64, 0);
    for (int i = 0; i < n; i++) {
        int fd = evs [i].data.fd;
        if (fd == gw->tfd) {
            uint64_t ticks;
            if (read (gw->tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
                continue;
            fired = true;
            continue;
        }
        int mask = 0;
        if (evs [i].events & EPOLLIN)
            mask |= CURL_CSELECT_IN;
        if (evs [i].events & EPOLLOUT)
            mask |= CURL_CSELECT_OUT;
        if (evs [i].events & (EPOLLERR | EPOLLHUP))
            mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action (gw->multi, fd, mask, &running);
    }
    if (gw->curl_deadline && s_now () >= gw->curl_deadline) {
        gw->curl_deadline = 0;
        curl_multi_socket_action (gw->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    s_check_info (gw);
    //  deadlines are scanned when the timer fired or is due; a wake for stream data alone costs
    //  no scan (an earlier deadline moved the timer when it appeared: s_need)
    bool due = fired || (gw->armed_at && s_now () >= gw->armed_at);
    if (due)
        s_check_deadlines (gw);
    //  new attempts may have asked for an immediate timeout
    if (gw->curl_deadline && s_now () >= gw->curl_deadline) {
        gw->curl_deadline = 0;
        curl_multi_socket_action (gw->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        s_check_info (gw);
    }
    if (due)
        s_rearm (gw);
    s_flush (gw);
}

static char *
s_dup (const char *s)
{
    return strdup (s? s: "");
}

uint64_t
td_llm_gw_start (td_llm_gw_t *gw, const td_llm_gw_req_t *req, td_llm_delta_fn *delta,
                 td_llm_done_fn *done, void *arg)
{
    if (!req || req->kind == TD_LLM_OFFLINE || req->nmodels < 1 || req->nmodels > TD_LLM_MAX_MODELS
    ||  !json_is_array (req->messages))
        return 0;
    stream_t *s = (stream_t *) calloc (1, sizeof *s);
    if (!s)
        return 0;
    s->gw = gw;
    s->kind = req->kind;
    s->base_url = s_dup (req->base_url);
    s->api_key = s_dup (req->api_key);
    s->system = s_dup (req->system);
    bool ok = s->base_url && s->api_key && s->system;
    for (int i = 0; i < req->nmodels; i++) {
        s->models [i] = s_dup (req->models [i]);
        ok = ok && s->models [i];
        s->nmodels = i + 1;
    }
    s->messages = json_deep_copy (req->messages);
    s->max_tokens = req->max_tokens > 0? req->max_tokens: 1024;
    s->delta_fn = delta;
    s->done_fn = done;
    s->arg = arg;
    s->retry_after_ms = -1;
    s->total_deadline = s_now () + gw->lim.total_ms;
    if (!ok || !s->messages || s_attempt (s) != 0) {
        s_stream_free (s);
        return 0;
    }
    s->id = gw->next_id++;
    s_push (&gw->streams, s);
    gw->active++;
    s_need (gw, s->total_deadline);
    return s->id;
}

int
td_llm_gw_cancel (td_llm_gw_t *gw, uint64_t id)
{
    for (stream_t *s = gw->streams; s; s = s->next)
        if (s->id == id) {
            s_finish (s, "cancelled", "the request was cancelled");
            s_flush (gw);
            s_rearm (gw);
            return 0;
        }
    return -1;
}
