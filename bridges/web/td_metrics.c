/*  td_metrics — Prometheus counters of the web bridge (see td_metrics.h).
 *
 *  Fixed-size tables, no allocation after td_metrics_new except in td_metrics_format, which
 *  builds the exposition text in a growing buffer. Invariant: every table is only touched with
 *  self->lock held.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_metrics.h"

static const double s_buckets [TD_METRICS_BUCKETS] = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

#define S_LABEL 96

typedef struct {
    char route [S_LABEL];
    char method [8];
    int status;
    unsigned long long count;
} s_series_t;

typedef struct {
    char route [S_LABEL];
    unsigned long long bucket [TD_METRICS_BUCKETS];
    unsigned long long count;
    double sum;
} s_hist_t;

typedef struct {
    char actor [S_LABEL];
    unsigned long long count;
} s_restart_t;

struct td_metrics {
    pthread_mutex_t lock;
    s_series_t series [TD_METRICS_MAX_SERIES];
    int nseries;
    s_hist_t hist [TD_METRICS_MAX_ROUTES];
    int nhist;
    s_restart_t restarts [TD_METRICS_MAX_ACTORS];
    int nrestarts;
    long ws_connections;
    td_metrics_auth_t auth;
};

void
td_metrics_authcache (td_metrics_t *self, const td_metrics_auth_t *snap)
{
    if (!self || !snap)
        return;
    pthread_mutex_lock (&self->lock);
    self->auth = *snap;
    pthread_mutex_unlock (&self->lock);
}

td_metrics_t *
td_metrics_new (void)
{
    td_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (pthread_mutex_init (&self->lock, NULL)) {
        free (self);
        return NULL;
    }
    return self;
}

void
td_metrics_destroy (td_metrics_t **self_p)
{
    if (self_p && *self_p) {
        pthread_mutex_destroy (&(*self_p)->lock);
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

void
td_metrics_http (td_metrics_t *self, const char *route, const char *method, int status,
                 double seconds)
{
    if (!self)
        return;
    if (!route)
        route = "unmatched";
    if (!method)
        method = "OTHER";
    pthread_mutex_lock (&self->lock);
    //  Counter
    s_series_t *s = NULL;
    for (int i = 0; i < self->nseries && !s; i++)
        if (self->series [i].status == status && strcmp (self->series [i].route, route) == 0
        &&  strcmp (self->series [i].method, method) == 0)
            s = &self->series [i];
    if (!s && self->nseries < TD_METRICS_MAX_SERIES - 1) {
        s = &self->series [self->nseries++];
        s_copy (s->route, sizeof s->route, route);
        s_copy (s->method, sizeof s->method, method);
        s->status = status;
    }
    if (!s) {
        //  Last slot folds every further label set
        s = &self->series [TD_METRICS_MAX_SERIES - 1];
        if (self->nseries < TD_METRICS_MAX_SERIES) {
            self->nseries = TD_METRICS_MAX_SERIES;
            s_copy (s->route, sizeof s->route, "other");
            s_copy (s->method, sizeof s->method, "OTHER");
            s->status = 0;
        }
    }
    s->count++;
    //  Histogram
    s_hist_t *h = NULL;
    for (int i = 0; i < self->nhist && !h; i++)
        if (strcmp (self->hist [i].route, route) == 0)
            h = &self->hist [i];
    if (!h && self->nhist < TD_METRICS_MAX_ROUTES) {
        h = &self->hist [self->nhist++];
        s_copy (h->route, sizeof h->route, route);
    }
    if (h) {
        if (seconds < 0)
            seconds = 0;
        for (int b = 0; b < TD_METRICS_BUCKETS; b++)
            if (seconds <= s_buckets [b])
                h->bucket [b]++;
        h->count++;
        h->sum += seconds;
    }
    pthread_mutex_unlock (&self->lock);
}

void
td_metrics_ws (td_metrics_t *self, int delta)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    self->ws_connections += delta;
    if (self->ws_connections < 0)
        self->ws_connections = 0;
    pthread_mutex_unlock (&self->lock);
}

void
td_metrics_restart (td_metrics_t *self, const char *actor)
{
    if (!self || !actor || !*actor)
        return;
    pthread_mutex_lock (&self->lock);
    s_restart_t *r = NULL;
    for (int i = 0; i < self->nrestarts && !r; i++)
        if (strcmp (self->restarts [i].actor, actor) == 0)
            r = &self->restarts [i];
    if (!r && self->nrestarts < TD_METRICS_MAX_ACTORS) {
        r = &self->restarts [self->nrestarts++];
        s_copy (r->actor, sizeof r->actor, actor);
    }
    if (r)
        r->count++;
    pthread_mutex_unlock (&self->lock);
}

char *
td_metrics_escape (const char *value, char *buf, size_t size)
{
    size_t o = 0;
    if (!buf || size == 0)
        return buf;
    for (const char *p = value ? value : ""; *p; p++) {
        const char *rep = NULL;
        char one [2] = { *p, 0 };
        if (*p == '\\') rep = "\\\\";
        else
        if (*p == '"') rep = "\\\"";
        else
        if (*p == '\n') rep = "\\n";
        else rep = one;
        size_t n = strlen (rep);
        if (o + n >= size)
            break;
        memcpy (buf + o, rep, n);
        o += n;
    }
    buf [o] = 0;
    return buf;
}

//  Growing text buffer; on allocation failure it stays failed and the result is NULL.
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} s_text_t;

static void
s_printf (s_text_t *t, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_printf (s_text_t *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    while (true) {
        va_list ap;
        va_start (ap, fmt);
        int n = vsnprintf (t->data + t->len, t->cap - t->len, fmt, ap);
        va_end (ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t) n < t->cap - t->len) {
            t->len += (size_t) n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t) n;
        char *data = realloc (t->data, cap);
        if (!data) {
            t->failed = true;
            return;
        }
        t->data = data;
        t->cap = cap;
    }
}

static void
s_format_le (double v, char *buf, size_t size)
{
    snprintf (buf, size, "%g", v);
}

//  The event journal of the broker's process (td_evjournal), from the broker's status
//  "journal" object: absent when that process journals nothing (no TUTORD_DB there).
static void
s_format_journal (s_text_t *t, const json_t *broker_status)
{
    if (!broker_status)
        return;                     //  the broker did not answer: nothing is known
    const json_t *j = json_object_get (broker_status, "journal");
    s_printf (t, "# HELP tutord_events_journal_up Whether the broker's process journals events "
                 "to PostgreSQL.\n# TYPE tutord_events_journal_up gauge\n"
                 "tutord_events_journal_up %d\n", json_is_object (j) ? 1 : 0);
    if (!json_is_object (j))
        return;
    static const struct { const char *name, *key, *type, *help; } figures [] = {
        { "tutord_events_journal_written_total", "written", "counter",
          "Events written to the event journal." },
        { "tutord_events_journal_dropped_total", "dropped", "counter",
          "Events the journal dropped (memory queue full, malformed, or left at exit)." },
        { "tutord_events_journal_write_errors_total", "errors", "counter",
          "Journal batch writes that failed (PostgreSQL away or refusing); retried." },
        { "tutord_events_journal_queued", "queued", "gauge",
          "Events waiting in memory to be written to the journal." },
    };
    for (size_t i = 0; i < sizeof figures / sizeof figures [0]; i++) {
        const json_t *v = json_object_get (j, figures [i].key);
        if (!json_is_integer (v))
            continue;
        s_printf (t, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", figures [i].name, figures [i].help,
                  figures [i].name, figures [i].type, figures [i].name,
                  (long long) json_integer_value (v));
    }
}

char *
td_metrics_format (td_metrics_t *self, const json_t *broker_status)
{
    s_text_t t = { malloc (4096), 0, 4096, false };
    if (!t.data)
        return NULL;
    t.data [0] = 0;
    char a [S_LABEL * 2 + 1], b [S_LABEL * 2 + 1];

    pthread_mutex_lock (&self->lock);
    s_printf (&t, "# HELP tutord_http_requests_total HTTP requests answered by the bridge.\n"
                  "# TYPE tutord_http_requests_total counter\n");
    for (int i = 0; i < self->nseries; i++) {
        s_series_t *s = &self->series [i];
        s_printf (&t, "tutord_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                  td_metrics_escape (s->route, a, sizeof a),
                  td_metrics_escape (s->method, b, sizeof b), s->status, s->count);
    }
    s_printf (&t, "# HELP tutord_http_request_duration_seconds Time from request to response.\n"
                  "# TYPE tutord_http_request_duration_seconds histogram\n");
    for (int i = 0; i < self->nhist; i++) {
        s_hist_t *h = &self->hist [i];
        td_metrics_escape (h->route, a, sizeof a);
        for (int k = 0; k < TD_METRICS_BUCKETS; k++) {
            char le [32];
            s_format_le (s_buckets [k], le, sizeof le);
            s_printf (&t, "tutord_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n",
                      a, le, h->bucket [k]);
        }
        s_printf (&t, "tutord_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                  a, h->count);
        s_printf (&t, "tutord_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", a, h->sum);
        s_printf (&t, "tutord_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                  a, h->count);
    }
    s_printf (&t, "# HELP tutord_actor_restarts_total Actor restarts seen on the event stream.\n"
                  "# TYPE tutord_actor_restarts_total counter\n");
    for (int i = 0; i < self->nrestarts; i++)
        s_printf (&t, "tutord_actor_restarts_total{actor=\"%s\"} %llu\n",
                  td_metrics_escape (self->restarts [i].actor, a, sizeof a),
                  self->restarts [i].count);
    s_printf (&t, "# HELP tutord_ws_connections Open WebSocket connections.\n"
                  "# TYPE tutord_ws_connections gauge\n"
                  "tutord_ws_connections %ld\n", self->ws_connections);
    if (self->auth.present) {
        const td_metrics_auth_t *m = &self->auth;
        s_printf (&t, "# HELP tutord_authcache_live Whether the principal cache is in use "
                      "(its LISTEN connection is up).\n# TYPE tutord_authcache_live gauge\n"
                      "tutord_authcache_live %d\n", m->live ? 1 : 0);
        s_printf (&t, "# HELP tutord_authcache_entries Credentials in the principal cache.\n"
                      "# TYPE tutord_authcache_entries gauge\ntutord_authcache_entries %llu\n",
                  m->entries);
        s_printf (&t, "# HELP tutord_authcache_capacity Bound of the principal cache.\n"
                      "# TYPE tutord_authcache_capacity gauge\ntutord_authcache_capacity %llu\n",
                  m->capacity);
        s_printf (&t, "# HELP tutord_authcache_lookups_total Bearer requests by cache outcome.\n"
                      "# TYPE tutord_authcache_lookups_total counter\n"
                      "tutord_authcache_lookups_total{result=\"hit\"} %llu\n"
                      "tutord_authcache_lookups_total{result=\"miss\"} %llu\n",
                  m->hits, m->misses);
        s_printf (&t, "# HELP tutord_authcache_notifications_total Invalidations received.\n"
                      "# TYPE tutord_authcache_notifications_total counter\n"
                      "tutord_authcache_notifications_total %llu\n", m->notifications);
        s_printf (&t, "# HELP tutord_authcache_dropped_total Entries dropped by invalidations.\n"
                      "# TYPE tutord_authcache_dropped_total counter\n"
                      "tutord_authcache_dropped_total %llu\n", m->dropped);
        s_printf (&t, "# HELP tutord_authcache_listen_connects_total LISTEN connections made.\n"
                      "# TYPE tutord_authcache_listen_connects_total counter\n"
                      "tutord_authcache_listen_connects_total %llu\n", m->connects);
        s_printf (&t, "# HELP tutord_authcache_barrier_delay_seconds Identity's barrier "
                      "notification, from before its commit to this bridge (last, max).\n"
                      "# TYPE tutord_authcache_barrier_delay_seconds gauge\n"
                      "tutord_authcache_barrier_delay_seconds{stat=\"last\"} %.6f\n"
                      "tutord_authcache_barrier_delay_seconds{stat=\"max\"} %.6f\n",
                  m->barrier_last_s, m->barrier_max_s);
    }
    pthread_mutex_unlock (&self->lock);

    const json_t *services = broker_status ? json_object_get (broker_status, "services") : NULL;
    s_printf (&t, "# HELP tutord_broker_up Whether the broker answered the status request.\n"
                  "# TYPE tutord_broker_up gauge\n"
                  "tutord_broker_up %d\n", broker_status ? 1 : 0);
    static const struct { const char *name, *key, *help; } gauges [] = {
        { "tutord_broker_queue_depth", "queued", "Requests queued at the broker per service." },
        { "tutord_broker_workers", "workers", "Live workers per service." },
        { "tutord_broker_inflight", "inflight", "Requests in flight per service." },
    };
    for (size_t g = 0; g < sizeof gauges / sizeof gauges [0]; g++) {
        s_printf (&t, "# HELP %s %s\n# TYPE %s gauge\n", gauges [g].name, gauges [g].help,
                  gauges [g].name);
        if (!json_is_object (services))
            continue;
        const char *name;
        json_t *svc;
        json_object_foreach ((json_t *) services, name, svc) {
            json_t *v = json_object_get (svc, gauges [g].key);
            if (json_is_number (v))
                s_printf (&t, "%s{service=\"%s\"} %.0f\n", gauges [g].name,
                          td_metrics_escape (name, a, sizeof a), json_number_value (v));
        }
    }
    s_format_journal (&t, broker_status);
    if (t.failed) {
        free (t.data);
        return NULL;
    }
    return t.data;
}
