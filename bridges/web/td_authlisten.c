/*  td_authlisten — LISTEN tutord_auth and drop principal-cache entries (see td_authlisten.h).
 *
 *  States:  down --connect + LISTEN ok--> up (cache live) --socket error / EOF--> down (cache
 *  flushed, not live) --500 ms--> connect again ...   stop: any state -> cache not live -> exit.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_authlisten.h"
#include "td_log.h"
#include "td_pg_ack.h"

#define S_NAME          "web"
#define S_RETRY_MS      500
#define S_POLL_MS       100

struct td_authlisten {
    char *conninfo;
    char id [24];                   //  this listener's name in its acknowledgements: the pid
                                    //  of its PostgreSQL backend (identity waits for those)
    //  listener thread only: acknowledgements of barriers, sent one at a time on the connection
    td_pg_ack_t ack;                //  barrier acknowledgements to send
    td_authcache_t *cache;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;           //  guards stats
    td_authlisten_stats_t stats;
};

static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static PGconn *
s_connect (td_authlisten_t *self)
{
    const char *keys [] = { "dbname", "connect_timeout", "application_name", "keepalives",
                            "keepalives_idle", "keepalives_interval", "keepalives_count", NULL };
    const char *vals [] = { self->conninfo, "2", "tutord-web-listen", "1", "5", "2", "2", NULL };
    PGconn *conn = PQconnectdbParams (keys, vals, 1);
    if (!conn || PQstatus (conn) != CONNECTION_OK) {
        PQfinish (conn);
        return NULL;
    }
    PGresult *res = PQexec (conn, "LISTEN " TD_AUTH_CHANNEL);
    bool ok = res && PQresultStatus (res) == PGRES_COMMAND_OK;
    PQclear (res);
    if (!ok || PQsetnonblocking (conn, 1) != 0) {
        PQfinish (conn);
        return NULL;
    }
    return conn;
}

static void
s_note (td_authlisten_t *self, const char *payload, size_t dropped)
{
    pthread_mutex_lock (&self->lock);
    self->stats.notifications++;
    self->stats.dropped += dropped;
    long long sent_us = 0;
    if (strncmp (payload, "b:", 2) == 0 && sscanf (payload + 2, "%lld", &sent_us) == 1
    &&  sent_us > 0) {
        int64_t lat = s_wall_us () - (int64_t) sent_us;
        self->stats.barriers++;
        self->stats.barrier_last_us = lat;
        if (lat > self->stats.barrier_max_us)
            self->stats.barrier_max_us = lat;
    }
    pthread_mutex_unlock (&self->lock);
}

//  Read what arrived. false when the connection is broken.
static bool
s_consume (td_authlisten_t *self, PGconn *conn)
{
    if (!PQconsumeInput (conn))
        return false;
    PGnotify *n;
    while ((n = PQnotifies (conn)) != NULL) {
        const char *what = n->extra ? n->extra : "";
        size_t dropped = td_authcache_drop (self->cache, what);
        s_note (self, what, dropped);
        if (strncmp (what, "b:", 2) == 0)
            td_pg_ack_push (&self->ack, what, self->id);
        PQfreemem (n);
    }
    //  Results: of our acknowledgement, or an error the server sends before closing
    bool ok = true;
    while (!PQisBusy (conn)) {
        PGresult *res = PQgetResult (conn);
        if (!res) {
            self->ack.inflight = false;         //  nothing (more) running
            break;
        }
        if (PQresultStatus (res) == PGRES_FATAL_ERROR)
            ok = false;
        PQclear (res);
    }
    return ok && td_pg_ack_send (&self->ack, conn, TD_AUTH_CHANNEL)
        && PQstatus (conn) == CONNECTION_OK;
}

static void *
s_thread (void *arg)
{
    td_authlisten_t *self = (td_authlisten_t *) arg;
    PGconn *conn = NULL;
    bool warned = false;
    while (!atomic_load (&self->stop)) {
        if (!conn) {
            conn = s_connect (self);
            if (!conn) {
                if (!warned)
                    td_warn (S_NAME, NULL, "cannot LISTEN on PostgreSQL; the principal cache is "
                             "off (every request is verified by identity) until it can");
                warned = true;
                for (int i = 0; i < S_RETRY_MS / 50 && !atomic_load (&self->stop); i++) {
                    struct timespec ts = { 0, 50 * 1000000L };
                    nanosleep (&ts, NULL);
                }
                continue;
            }
            //  Live only now: every commit from here on will be told to us
            td_pg_ack_reset (&self->ack);
            snprintf (self->id, sizeof self->id, "%d", PQbackendPID (conn));
            td_authcache_set_live (self->cache, true);
            pthread_mutex_lock (&self->lock);
            self->stats.connects++;
            pthread_mutex_unlock (&self->lock);
            if (warned)
                td_info (S_NAME, NULL, "listening on PostgreSQL again; principal cache on");
            warned = false;
        }
        struct pollfd pfd = { .fd = PQsocket (conn), .revents = 0,
                              .events = (short) (POLLIN | (self->ack.flush_pending ? POLLOUT : 0)) };
        int rc = pfd.fd >= 0 ? poll (&pfd, 1, S_POLL_MS) : -1;
        if (rc < 0 && errno == EINTR)
            continue;
        bool broken = rc < 0;
        if (!broken && rc > 0 && self->ack.flush_pending && (pfd.revents & POLLOUT)) {
            int f = PQflush (conn);
            self->ack.flush_pending = f == 1;
            broken = f < 0;
        }
        if (!broken && rc > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)))
            broken = !s_consume (self, conn);
        if (broken) {
            //  Fail safe first: nothing cached survives a gap in the notifications
            td_authcache_set_live (self->cache, false);
            td_warn (S_NAME, NULL, "the LISTEN connection to PostgreSQL broke; principal cache "
                     "off until it is back");
            warned = true;
            PQfinish (conn);
            conn = NULL;
        }
    }
    td_authcache_set_live (self->cache, false);
    PQfinish (conn);
    OPENSSL_thread_stop ();         //  libpq may have set up per-thread OpenSSL state
    return NULL;
}

td_authlisten_t *
td_authlisten_start (const char *conninfo, td_authcache_t *cache)
{
    if (!conninfo || !*conninfo || !cache)
        return NULL;
    td_authlisten_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conninfo = strdup (conninfo);
    self->cache = cache;
    atomic_init (&self->stop, false);
    if (!self->conninfo || pthread_mutex_init (&self->lock, NULL)) {
        free (self->conninfo);
        free (self);
        return NULL;
    }
    if (pthread_create (&self->thread, NULL, s_thread, self)) {
        pthread_mutex_destroy (&self->lock);
        free (self->conninfo);
        free (self);
        return NULL;
    }
    return self;
}

void
td_authlisten_stop (td_authlisten_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_authlisten_t *self = *self_p;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    td_authcache_set_live (self->cache, false);
    pthread_mutex_destroy (&self->lock);
    free (self->conninfo);
    free (self);
    *self_p = NULL;
}

void
td_authlisten_stats (td_authlisten_t *self, td_authlisten_stats_t *out)
{
    memset (out, 0, sizeof *out);
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    *out = self->stats;
    pthread_mutex_unlock (&self->lock);
}
