/*  td_pglisten — the LISTEN thread shared by the bridge and identity (see td_pglisten.h). */
#include <errno.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_pglisten.h"
#include "td_log.h"
#include "td_pg_ack.h"

#define S_RETRY_MS      500
#define S_POLL_MS       100

struct td_pglisten {
    char *conninfo;
    td_pglisten_spec_t spec;
    char id [24];                   //  our name in acknowledgements: our backend's pid
    td_pg_ack_t ack;                //  listener thread only
    pthread_t thread;
    atomic_bool stop;
};

static PGconn *
s_connect (td_pglisten_t *self)
{
    const char *keys [] = { "dbname", "connect_timeout", "application_name", "keepalives",
                            "keepalives_idle", "keepalives_interval", "keepalives_count", NULL };
    const char *vals [] = { self->conninfo, "2", self->spec.app, "1", "5", "2", "2", NULL };
    PGconn *conn = PQconnectdbParams (keys, vals, 1);
    if (!conn || PQstatus (conn) != CONNECTION_OK) {
        PQfinish (conn);
        return NULL;
    }
    char *channel = PQescapeIdentifier (conn, self->spec.channel, strlen (self->spec.channel));
    char sql [160];
    int n = channel? snprintf (sql, sizeof sql, "LISTEN %s", channel): -1;
    PQfreemem (channel);
    PGresult *res = n > 0 && (size_t) n < sizeof sql? PQexec (conn, sql): NULL;
    bool ok = res && PQresultStatus (res) == PGRES_COMMAND_OK;
    PQclear (res);
    if (!ok || PQsetnonblocking (conn, 1) != 0) {
        PQfinish (conn);
        return NULL;
    }
    return conn;
}

//  Read what arrived. false when the connection is broken.
static bool
s_consume (td_pglisten_t *self, PGconn *conn)
{
    if (!PQconsumeInput (conn))
        return false;
    PGnotify *n;
    while ((n = PQnotifies (conn)) != NULL) {
        const char *what = n->extra ? n->extra : "";
        self->spec.notify (self->spec.arg, what);
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
    return ok && td_pg_ack_send (&self->ack, conn, self->spec.channel)
        && PQstatus (conn) == CONNECTION_OK;
}

static void
s_pause (td_pglisten_t *self)
{
    for (int i = 0; i < S_RETRY_MS / 50 && !atomic_load (&self->stop); i++) {
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep (&ts, NULL);
    }
}

static void *
s_thread (void *arg)
{
    td_pglisten_t *self = (td_pglisten_t *) arg;
    PGconn *conn = NULL;
    bool warned = false;
    while (!atomic_load (&self->stop)) {
        if (!conn) {
            conn = s_connect (self);
            if (!conn) {
                if (!warned)
                    td_warn (self->spec.actor, NULL, "%s", self->spec.msg_down);
                warned = true;
                s_pause (self);
                continue;
            }
            //  Live only now: every commit from here on will be told to us
            td_pg_ack_reset (&self->ack);
            snprintf (self->id, sizeof self->id, "%d", PQbackendPID (conn));
            self->spec.live (self->spec.arg, true);
            if (warned && self->spec.msg_back)
                td_info (self->spec.actor, NULL, "%s", self->spec.msg_back);
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
            self->spec.live (self->spec.arg, false);
            td_warn (self->spec.actor, NULL, "%s", self->spec.msg_broken);
            warned = true;
            PQfinish (conn);
            conn = NULL;
        }
    }
    self->spec.live (self->spec.arg, false);
    PQfinish (conn);
    OPENSSL_thread_stop ();         //  libpq may have set up per-thread OpenSSL state
    return NULL;
}

td_pglisten_t *
td_pglisten_start (const char *conninfo, const td_pglisten_spec_t *spec)
{
    if (!conninfo || !*conninfo || !spec || !spec->notify || !spec->live || !spec->channel
    ||  !spec->app || !spec->actor || !spec->msg_down || !spec->msg_broken)
        return NULL;
    td_pglisten_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conninfo = strdup (conninfo);
    self->spec = *spec;
    atomic_init (&self->stop, false);
    if (!self->conninfo || pthread_create (&self->thread, NULL, s_thread, self)) {
        free (self->conninfo);
        free (self);
        return NULL;
    }
    return self;
}

void
td_pglisten_stop (td_pglisten_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_pglisten_t *self = *self_p;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    free (self->conninfo);
    free (self);
    *self_p = NULL;
}
