/*  td_identity_notify — identity's LISTEN thread: the barrier that keeps revocation strict with
 *  caching bridges, and the cache of `me` answers it keeps honest.
 *
 *  Bridges cache auth maps (bridges/web/td_authcache.c) and identity caches `me` answers; both
 *  drop entries when PostgreSQL notifies a change (schema/0012: triggers send
 *  pg_notify('tutord_auth', ...) in the writing transaction). Every listener — each bridge's
 *  (application_name tutord-web-listen) and each identity worker's (tutord-identity-listen, a
 *  td_pglisten thread) — acknowledges every barrier "b:<unix us>:<random>" with
 *  "a:<unix us>:<random>:<pid of its PostgreSQL backend>" after applying everything that came
 *  before it; PostgreSQL delivers notifications to each listener in commit order.
 *
 *  So a write that changes who may do what (logout, password change, refresh reuse, member and
 *  cohort changes, key revocation; IDENTITY.md §1) is answered only after id_auth_barrier: send
 *  a barrier after the commit, list the listening backends (pg_stat_activity, by
 *  application_name), and wait until each of them acknowledged — or is gone (checked every
 *  100 ms: a tutord that stopped took its cache with it). Then no bridge and no `me` cache of
 *  any process still holds what the write changed. The wait is bounded (2 s: a listener that
 *  is alive but stuck must not hang logouts); past it identity answers anyway and logs it.
 *
 *  The `me` cache (user id -> packed reply) is used only while this thread is connected and
 *  listening; it is emptied whenever the connection breaks and when it is made again. A reply
 *  read from PostgreSQL is stored only if no invalidation arrived since before the read (the
 *  epoch), so a read that raced a change is never kept. Bounded by ID_ME_CACHE_MAX (emptied when
 *  full: simple, and rare).
 *
 *  Threads: the actor thread (lookups, stores, barriers) and this listener thread (drops,
 *  acknowledgements) share the cache, the epoch and the barrier's tally under one mutex.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_identity.h"
#include "td_log.h"
#include "td_pglisten.h"

#define S_CHANNEL       "tutord_auth"
#define S_WAIT_MS       2000        //  a barrier's bound
#define S_LISTENERS_MAX 256         //  acknowledgements told apart per barrier
#define S_APP_BRIDGE    "tutord-web-listen"         //  bridges/web/td_authlisten.c
#define S_APP_IDENTITY  "tutord-identity-listen"

typedef struct {
    size_t size;
    unsigned char data [];
} s_blob_t;

struct id_listen {
    td_pglisten_t *listen;          //  the LISTEN thread (td_pglisten.h)
    pthread_mutex_t lock;           //  guards everything below it
    pthread_cond_t cond;            //  signalled on acknowledgements and state changes
    bool live;
    zhashx_t *me;                   //  NULL when the `me` cache is off
    uint64_t epoch;
    bool waiting;                   //  a barrier is being waited for
    char wait_prefix [80];          //  "a:<us>:<hex>:"
    int wait_nacks;
    int wait_acks [S_LISTENERS_MAX];    //  backend pids that acknowledged
};

static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
s_blob_free (void **item_p)
{
    if (item_p && *item_p) {
        free (*item_p);
        *item_p = NULL;
    }
}

//  Locked: empty the `me` cache and invalidate reads in flight.
static void
s_flush_locked (id_listen_t *self)
{
    if (self->me)
        zhashx_purge (self->me);
    self->epoch++;
}

static void
s_set_live (id_listen_t *self, bool live)
{
    pthread_mutex_lock (&self->lock);
    s_flush_locked (self);
    self->live = live;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
}

//  One notification, locked: `me` cache drops, the barrier's tally.
static void
s_apply_locked (id_listen_t *self, const char *what)
{
    if (strncmp (what, "a:", 2) == 0) {
        size_t plen = strlen (self->wait_prefix);
        if (!self->waiting || strncmp (what, self->wait_prefix, plen) != 0)
            return;
        char *end = NULL;
        long pid = strtol (what + plen, &end, 10);
        if (!end || *end || pid <= 0 || pid > INT32_MAX)
            return;
        for (int i = 0; i < self->wait_nacks; i++)
            if (self->wait_acks [i] == (int) pid)
                return;
        if (self->wait_nacks < S_LISTENERS_MAX) {
            self->wait_acks [self->wait_nacks++] = (int) pid;
            pthread_cond_broadcast (&self->cond);
        }
        return;
    }
    if (strncmp (what, "b:", 2) == 0 || strncmp (what, "s:", 2) == 0
    ||  strncmp (what, "k:", 2) == 0)
        return;                     //  nothing `me` shows
    if (strncmp (what, "u:", 2) == 0 && what [2]) {
        if (self->me)
            zhashx_delete (self->me, what + 2);
        self->epoch++;
    }
    else
        s_flush_locked (self);      //  unknown: fail safe
}

//  Listener thread: one notification.
static void
s_notify (void *arg, const char *payload)
{
    id_listen_t *self = (id_listen_t *) arg;
    pthread_mutex_lock (&self->lock);
    s_apply_locked (self, payload);
    pthread_mutex_unlock (&self->lock);
}

//  Listener thread: connected and listening (the cache starts empty), or not.
static void
s_live (void *arg, bool live)
{
    s_set_live ((id_listen_t *) arg, live);
}

id_listen_t *
id_listen_start (const char *conninfo, bool me_cache)
{
    if (!conninfo || !*conninfo)
        return NULL;
    id_listen_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->me = me_cache ? zhashx_new () : NULL;
    if (me_cache && !self->me) {
        free (self);
        return NULL;
    }
    if (self->me)
        zhashx_set_destructor (self->me, s_blob_free);
    if (pthread_mutex_init (&self->lock, NULL)) {
        zhashx_destroy (&self->me);
        free (self);
        return NULL;
    }
    if (pthread_cond_init (&self->cond, NULL)) {
        pthread_mutex_destroy (&self->lock);
        zhashx_destroy (&self->me);
        free (self);
        return NULL;
    }
    const td_pglisten_spec_t spec = {
        .actor = "identity", .app = S_APP_IDENTITY, .channel = S_CHANNEL,
        .msg_down = "cannot LISTEN on PostgreSQL; `me` is not cached and barriers wait their "
                    "bound until it can",
        .msg_broken = "the LISTEN connection to PostgreSQL broke; reconnecting",
        .msg_back = NULL, .notify = s_notify, .live = s_live, .arg = self };
    self->listen = td_pglisten_start (conninfo, &spec);
    if (!self->listen) {
        pthread_cond_destroy (&self->cond);
        pthread_mutex_destroy (&self->lock);
        zhashx_destroy (&self->me);
        free (self);
        return NULL;
    }
    return self;
}

void
id_listen_stop (id_listen_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    id_listen_t *self = *self_p;
    td_pglisten_stop (&self->listen);
    pthread_cond_destroy (&self->cond);
    pthread_mutex_destroy (&self->lock);
    zhashx_destroy (&self->me);
    free (self);
    *self_p = NULL;
}

//  Absolute CLOCK_REALTIME time ms from now, for pthread_cond_timedwait.
static struct timespec
s_abs_ms (int64_t until_us)
{
    struct timespec ts;
    ts.tv_sec = (time_t) (until_us / 1000000);
    ts.tv_nsec = (long) (until_us % 1000000) * 1000;
    return ts;
}

//  Parse "pid,pid,..." into pids (at most S_LISTENERS_MAX). Returns the count.
static int
s_parse_pids (const char *text, int *pids)
{
    int n = 0;
    while (text && *text && n < S_LISTENERS_MAX) {
        char *end = NULL;
        long v = strtol (text, &end, 10);
        if (end == text)
            break;
        if (v > 0 && v <= INT32_MAX)
            pids [n++] = (int) v;
        text = *end == ',' ? end + 1 : end;
    }
    return n;
}

//  Locked: drop from need[] the pids that acknowledged. Returns how many are still missing.
static int
s_missing_locked (id_listen_t *lsn, int *need, int n)
{
    int left = 0;
    for (int i = 0; i < n; i++) {
        bool acked = false;
        for (int j = 0; j < lsn->wait_nacks && !acked; j++)
            acked = lsn->wait_acks [j] == need [i];
        if (!acked)
            need [left++] = need [i];
    }
    return left;
}

int
id_auth_barrier (td_actor_t *self, td_call_t *call)
{
    id_state_t *st = td_actor_state (self);
    id_listen_t *lsn = st->lsn;
    const char *rid = td_call_rid (call);
    int64_t t0 = s_wall_us ();
    int64_t deadline = t0 + S_WAIT_MS * 1000;
    if (!lsn) {
        st->barrier_fails++;
        td_warn (td_actor_name (self), rid, "auth barrier: no LISTEN thread; answering without it");
        return -1;
    }
    int *need = calloc (S_LISTENERS_MAX, sizeof *need);
    if (!need) {
        st->barrier_fails++;
        return -1;
    }
    unsigned char noise [8];
    char hex [17], payload [64];
    randombytes_buf (noise, sizeof noise);
    sodium_bin2hex (hex, sizeof hex, noise, sizeof noise);
    snprintf (payload, sizeof payload, "b:%lld:%s", (long long) t0, hex);
    //  Our own listener must be up to see the acknowledgements: wait for it within the bound
    pthread_mutex_lock (&lsn->lock);
    while (!lsn->live && s_wall_us () < deadline) {
        struct timespec ts = s_abs_ms (deadline);
        pthread_cond_timedwait (&lsn->cond, &lsn->lock, &ts);
    }
    bool live = lsn->live;
    snprintf (lsn->wait_prefix, sizeof lsn->wait_prefix, "a:%s:", payload + 2);
    lsn->wait_nacks = 0;
    lsn->waiting = live;
    pthread_mutex_unlock (&lsn->lock);
    int listeners = 0, missing = 0;
    bool sent = false;
    const char *apps [] = { S_APP_BRIDGE, S_APP_IDENTITY };
    if (live) {
        //  The barrier, and the backends that listen (each acknowledges it with its pid)
        const char *p [] = { S_CHANNEL, payload, apps [0], apps [1] };
        PGresult *res = td_db_exec (td_actor_db (self), rid,
            "SELECT pg_notify($1, $2), (SELECT coalesce(string_agg(pid::text, ','), '') "
            "                           FROM pg_stat_activity "
            "                           WHERE application_name IN ($3, $4) "
            "                             AND datname = current_database())", 4, p);
        sent = res && PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1;
        listeners = missing = sent ? s_parse_pids (PQgetvalue (res, 0, 1), need) : 0;
        PQclear (res);
    }
    //  Wait for every one of them; every 100 ms, forget those whose backend is gone (a tutord
    //  that stopped: its cache went with it)
    while (sent && missing > 0 && s_wall_us () < deadline) {
        int64_t step = s_wall_us () + 100000;
        pthread_mutex_lock (&lsn->lock);
        while ((missing = s_missing_locked (lsn, need, missing)) > 0 && s_wall_us () < step) {
            struct timespec ts = s_abs_ms (step < deadline ? step : deadline);
            pthread_cond_timedwait (&lsn->cond, &lsn->lock, &ts);
        }
        pthread_mutex_unlock (&lsn->lock);
        if (missing == 0 || s_wall_us () >= deadline)
            break;
        char list [S_LISTENERS_MAX * 12] = "{";
        size_t used = 1;
        for (int i = 0; i < missing && used + 13 < sizeof list; i++)
            used += (size_t) snprintf (list + used, sizeof list - used, "%s%d", i ? "," : "",
                                       need [i]);
        snprintf (list + used, sizeof list - used, "}");
        const char *q [] = { list, apps [0], apps [1] };
        PGresult *res = td_db_exec (td_actor_db (self), rid,
            "SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity "
            "WHERE pid = ANY ($1::int[]) AND application_name IN ($2, $3)", 3, q);
        if (res && PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1)
            missing = s_parse_pids (PQgetvalue (res, 0, 0), need);
        PQclear (res);
    }
    pthread_mutex_lock (&lsn->lock);
    if (sent && missing > 0)
        missing = s_missing_locked (lsn, need, missing);
    lsn->waiting = false;
    pthread_mutex_unlock (&lsn->lock);
    free (need);
    if (!sent || missing > 0) {
        st->barrier_fails++;
        td_warn (td_actor_name (self), rid, "auth barrier: %s within %d ms (%d of %d listeners "
                 "did not acknowledge); answering anyway", !live ? "not listening" : !sent ?
                 "not sent" : "not complete", S_WAIT_MS, missing, listeners);
        return -1;
    }
    st->barriers++;
    td_debug (td_actor_name (self), rid, "auth barrier: %d listeners acknowledged after %lld us",
              listeners, (long long) (s_wall_us () - t0));
    return 0;
}

int
id_me_cache_get (td_actor_t *self, const char *user, void **data, size_t *size,
                 uint64_t *epoch)
{
    id_listen_t *lsn = ((id_state_t *) td_actor_state (self))->lsn;
    *data = NULL;
    *size = 0;
    *epoch = 0;
    if (!lsn || !lsn->me)
        return 0;
    int rc = 0;
    pthread_mutex_lock (&lsn->lock);
    *epoch = lsn->epoch;
    s_blob_t *b = lsn->live ? (s_blob_t *) zhashx_lookup (lsn->me, user) : NULL;
    if (b && (*data = malloc (b->size)) != NULL) {
        memcpy (*data, b->data, b->size);
        *size = b->size;
        rc = 1;
    }
    pthread_mutex_unlock (&lsn->lock);
    return rc;
}

void
id_me_cache_put (td_actor_t *self, const char *user, uint64_t epoch, const void *data,
                 size_t size)
{
    id_listen_t *lsn = ((id_state_t *) td_actor_state (self))->lsn;
    if (!lsn || !lsn->me)
        return;
    s_blob_t *b = malloc (sizeof *b + size);
    if (!b)
        return;
    b->size = size;
    memcpy (b->data, data, size);
    pthread_mutex_lock (&lsn->lock);
    //  Only while listening, and only if nothing changed since before the read
    if (lsn->live && epoch == lsn->epoch) {
        if (zhashx_size (lsn->me) >= ID_ME_CACHE_MAX)
            zhashx_purge (lsn->me);
        zhashx_delete (lsn->me, user);
        if (zhashx_insert (lsn->me, user, b) == 0)
            b = NULL;
    }
    pthread_mutex_unlock (&lsn->lock);
    free (b);
}
