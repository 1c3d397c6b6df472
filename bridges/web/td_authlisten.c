/*  td_authlisten — LISTEN tutord_auth and drop principal-cache entries (see td_authlisten.h).
 *
 *  The connection, reconnection and barrier acknowledgements are td_pglisten's; this file says
 *  what a notification and being live mean for the principal cache, and keeps the statistics.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_authlisten.h"
#include "td_pglisten.h"

#define S_NAME          "web"

struct td_authlisten {
    td_authcache_t *cache;
    td_pglisten_t *listen;
    pthread_mutex_t lock;           //  guards stats (written by the listener thread)
    td_authlisten_stats_t stats;
};

static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  Listener thread: one notification drops what it names, at once, under the cache's lock.
static void
s_notify (void *arg, const char *payload)
{
    td_authlisten_t *self = (td_authlisten_t *) arg;
    size_t dropped = td_authcache_drop (self->cache, payload);
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

//  Listener thread: the cache is live only while every commit is told to us.
static void
s_live (void *arg, bool live)
{
    td_authlisten_t *self = (td_authlisten_t *) arg;
    td_authcache_set_live (self->cache, live);
    if (live) {
        pthread_mutex_lock (&self->lock);
        self->stats.connects++;
        pthread_mutex_unlock (&self->lock);
    }
}

td_authlisten_t *
td_authlisten_start (const char *conninfo, td_authcache_t *cache)
{
    if (!conninfo || !*conninfo || !cache)
        return NULL;
    td_authlisten_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cache = cache;
    if (pthread_mutex_init (&self->lock, NULL)) {
        free (self);
        return NULL;
    }
    const td_pglisten_spec_t spec = {
        .actor = S_NAME, .app = "tutord-web-listen", .channel = TD_AUTH_CHANNEL,
        .msg_down = "cannot LISTEN on PostgreSQL; the principal cache is off (every request is "
                    "verified by identity) until it can",
        .msg_broken = "the LISTEN connection to PostgreSQL broke; principal cache off until it "
                      "is back",
        .msg_back = "listening on PostgreSQL again; principal cache on",
        .notify = s_notify, .live = s_live, .arg = self };
    self->listen = td_pglisten_start (conninfo, &spec);
    if (!self->listen) {
        pthread_mutex_destroy (&self->lock);
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
    td_pglisten_stop (&self->listen);
    td_authcache_set_live (self->cache, false);
    pthread_mutex_destroy (&self->lock);
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
