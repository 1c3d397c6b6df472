/*  td_llm_dbq — batched non-blocking writes on a connection of their own (see td_llm_dbq.h).
 *
 *  The connection is in libpq's pipeline mode. A batch is sent as its statements and a sync point:
 *  with no explicit BEGIN, the statements up to a sync are one implicit transaction, committed at
 *  the sync, or rolled back at it after an error (an explicit BEGIN would leave the connection in
 *  a failed transaction block after an error, failing every later batch). The results come back
 *  in order, each statement's followed by a NULL, the sync's as PGRES_PIPELINE_SYNC. One batch is in flight at a time; writes pushed meanwhile wait
 *  for the next one. The connection's socket sits in an epoll set of ours, whose descriptor the
 *  actor loop polls (td_fdwatch), so a reconnect (a new socket) needs no new watch.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <czmq.h>
#include "td_llm_dbq.h"
#include "td_log.h"

#define BATCH_MAX       128         //  statements per batch
#define RECONNECT_MS    1000        //  after a failed connect, the slow path until then
#define FLUSH_MS        10000       //  at stop, the longest wait for a batch in flight

typedef struct job job_t;
struct job {
    job_t *next;
    const char *sql;
    int nparams;
    td_llm_dbq_fn *fn;
    void *arg;
    PGresult *res;                  //  its result in the batch in flight, kept until the commit
    char rid [64];
    const char *params [];          //  then the parameters' text, copied
};

struct td_llm_dbq {
    char *conninfo;
    td_db_t *fallback;
    PGconn *conn;
    int epfd;
    int sock;                       //  the socket in the epoll set, -1 none
    bool want_out;                  //  libpq has output to flush: EPOLLOUT too
    int64_t connect_after;          //  monotonic ms before which no reconnect is tried
    job_t *qhead, *qtail;           //  waiting for the next batch
    job_t *fhead;                   //  the batch in flight
    size_t queued, flying;
    size_t redone;                  //  writes done on the slow path since the start
    int nstmt;                      //  statements of the batch in flight
    int stage;                      //  results (NULLs) seen of it
    job_t *reading;                 //  the write whose results come now
    bool batch_ok;
};

//  The slow path: the statement alone on the actor's connection, then its callback.
static void
s_slow (td_llm_dbq_t *self, job_t *j)
{
    self->redone++;
    PQclear (j->res);
    PGresult *res = self->fallback? td_db_exec (self->fallback, j->rid, j->sql, j->nparams,
                                                j->params): NULL;
    if (j->fn)
        j->fn (j->arg, res);
    PQclear (res);
    free (j);
}

static void
s_watch (td_llm_dbq_t *self, bool out)
{
    if (self->sock < 0)
        return;
    struct epoll_event ev = { .events = EPOLLIN | (out? EPOLLOUT: 0) };
    ev.data.fd = self->sock;
    if (epoll_ctl (self->epfd, EPOLL_CTL_MOD, self->sock, &ev) != 0)
        td_warn ("llm", NULL, "dbq: epoll_ctl: %s", strerror (errno));
    self->want_out = out;
}

static void
s_disconnect (td_llm_dbq_t *self)
{
    if (self->sock >= 0)
        epoll_ctl (self->epfd, EPOLL_CTL_DEL, self->sock, NULL);
    self->sock = -1;
    self->want_out = false;
    PQfinish (self->conn);
    self->conn = NULL;
}

static int
s_connect (td_llm_dbq_t *self)
{
    if (self->conn)
        return 0;
    if (zclock_mono () < self->connect_after)
        return -1;
    //  named, so an operator (or a test) can tell this connection from the actor's own
    const char *keys [] = { "dbname", "connect_timeout", "application_name", "keepalives",
                            "keepalives_idle", NULL };
    const char *vals [] = { self->conninfo, "2", "tutord-llm-dbq", "1", "10", NULL };
    self->conn = PQconnectdbParams (keys, vals, 1);
    struct epoll_event ev = { .events = EPOLLIN };
    if (PQstatus (self->conn) != CONNECTION_OK
    ||  PQsetnonblocking (self->conn, 1) != 0
    ||  PQenterPipelineMode (self->conn) != 1
    ||  (ev.data.fd = PQsocket (self->conn)) < 0
    ||  epoll_ctl (self->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0) {
        td_warn ("llm", NULL, "dbq: cannot connect to PostgreSQL (%s); writes go one by one on "
                 "the actor's connection for now", self->conn? PQerrorMessage (self->conn): "?");
        PQfinish (self->conn);
        self->conn = NULL;
        self->connect_after = zclock_mono () + RECONNECT_MS;
        return -1;
    }
    self->sock = ev.data.fd;
    return 0;
}

//  The batch in flight ends: callbacks when it committed, else the slow path for each write.
static void
s_batch_end (td_llm_dbq_t *self, bool ok)
{
    job_t *j = self->fhead;
    self->fhead = NULL;
    self->flying = 0;
    self->nstmt = self->stage = 0;
    self->reading = NULL;
    while (j) {
        job_t *next = j->next;
        if (ok) {
            if (j->fn)
                j->fn (j->arg, j->res);
            PQclear (j->res);
            free (j);
        }
        else
            s_slow (self, j);
        j = next;
    }
}

static void
s_broken (td_llm_dbq_t *self)
{
    td_warn ("llm", NULL, "dbq: the connection failed (%s); its writes are done one by one",
             self->conn? PQerrorMessage (self->conn): "?");
    s_disconnect (self);
    s_batch_end (self, false);
}

static bool
s_send (PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    return PQsendQueryParams (conn, sql, nparams, NULL, params, NULL, NULL, 0) == 1;
}

//  Send the waiting writes as one batch, unless one is in flight.
static void
s_send_batch (td_llm_dbq_t *self)
{
    if (self->fhead || !self->qhead)
        return;
    if (s_connect (self) != 0) {
        //  no connection: the slow path for what waits (in order)
        while (self->qhead) {
            job_t *j = self->qhead;
            self->qhead = j->next;
            if (!self->qhead)
                self->qtail = NULL;
            self->queued--;
            s_slow (self, j);
        }
        return;
    }
    //  take up to BATCH_MAX writes
    job_t *last = NULL;
    int n = 0;
    for (job_t *j = self->qhead; j && n < BATCH_MAX; j = j->next, n++)
        last = j;
    self->fhead = self->qhead;
    self->qhead = last->next;
    if (!self->qhead)
        self->qtail = NULL;
    last->next = NULL;
    self->queued -= (size_t) n;
    self->flying = (size_t) n;
    self->nstmt = n;
    self->stage = 0;
    self->reading = self->fhead;
    self->batch_ok = true;
    bool sent = true;
    for (job_t *j = self->fhead; j && sent; j = j->next)
        sent = s_send (self->conn, j->sql, j->nparams, j->params);
    sent = sent && PQpipelineSync (self->conn) == 1;
    int flushed = sent? PQflush (self->conn): -1;
    if (flushed < 0) {
        s_broken (self);
        return;
    }
    if ((flushed == 1) != self->want_out)
        s_watch (self, flushed == 1);
}

//  ---------------------------------------------------------------------------------------------
//  Public

td_llm_dbq_t *
td_llm_dbq_new (const char *conninfo, td_db_t *fallback)
{
    td_llm_dbq_t *self = (td_llm_dbq_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = -1;
    self->fallback = fallback;
    self->conninfo = strdup (conninfo? conninfo: "");
    self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    if (!self->conninfo || self->epfd < 0) {
        td_llm_dbq_destroy (&self);
        return NULL;
    }
    return self;
}

void
td_llm_dbq_destroy (td_llm_dbq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_llm_dbq_t *self = *self_p;
    td_llm_dbq_flush (self);
    s_disconnect (self);
    if (self->epfd >= 0)
        close (self->epfd);
    free (self->conninfo);
    free (self);
    *self_p = NULL;
}

int
td_llm_dbq_fd (const td_llm_dbq_t *self)
{
    return self->epfd;
}

size_t
td_llm_dbq_pending (const td_llm_dbq_t *self)
{
    return self->queued + self->flying;
}

size_t
td_llm_dbq_redone (const td_llm_dbq_t *self)
{
    return self->redone;
}

int
td_llm_dbq_backend_pid (const td_llm_dbq_t *self)
{
    return self->conn? PQbackendPID (self->conn): 0;
}

int
td_llm_dbq_push (td_llm_dbq_t *self, const char *rid, const char *sql, int nparams,
                 const char *const *params, td_llm_dbq_fn *fn, void *arg)
{
    if (!self || !sql || nparams < 0 || nparams > 64)
        return -1;
    size_t size = sizeof (job_t) + (size_t) nparams * sizeof (char *);
    for (int i = 0; i < nparams; i++)
        size += params [i]? strlen (params [i]) + 1: 0;
    job_t *j = (job_t *) malloc (size);
    if (!j)
        return -1;
    j->next = NULL;
    j->res = NULL;
    j->sql = sql;
    j->nparams = nparams;
    j->fn = fn;
    j->arg = arg;
    snprintf (j->rid, sizeof j->rid, "%s", rid? rid: "");
    char *p = (char *) &j->params [nparams];
    for (int i = 0; i < nparams; i++) {
        if (!params [i]) {
            j->params [i] = NULL;
            continue;
        }
        size_t n = strlen (params [i]) + 1;
        memcpy (p, params [i], n);
        j->params [i] = p;
        p += n;
    }
    if (self->qtail)
        self->qtail->next = j;
    else
        self->qhead = j;
    self->qtail = j;
    self->queued++;
    s_send_batch (self);
    return 0;
}

void
td_llm_dbq_run (td_llm_dbq_t *self)
{
    if (!self)
        return;
    if (self->conn) {
        struct epoll_event evs [4];
        epoll_wait (self->epfd, evs, 4, 0);         //  level-triggered: nothing to clear
        if (self->want_out) {
            int flushed = PQflush (self->conn);
            if (flushed < 0) {
                s_broken (self);
                return;
            }
            if (flushed == 0)
                s_watch (self, false);
        }
        if (PQconsumeInput (self->conn) != 1) {
            s_broken (self);
            return;
        }
        int nulls = 0;
        while (self->fhead && !PQisBusy (self->conn)) {
            PGresult *res = PQgetResult (self->conn);
            if (!res) {
                //  the end of one statement's results; more NULLs than statements would mean
                //  nothing is left to read now
                self->stage++;
                if (self->reading)
                    self->reading = self->reading->next;
                if (++nulls > self->nstmt + 1)
                    break;
                continue;
            }
            ExecStatusType st = PQresultStatus (res);
            if (st == PGRES_PIPELINE_SYNC) {
                PQclear (res);
                s_batch_end (self, self->batch_ok && self->stage >= self->nstmt);
                break;
            }
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                if (self->batch_ok && st != PGRES_PIPELINE_ABORTED)
                    td_warn ("llm", self->reading? self->reading->rid: NULL,
                             "dbq: a batched write failed (%s); the batch is redone one by one",
                             PQresultErrorMessage (res));
                self->batch_ok = false;
                PQclear (res);
            }
            else
            if (self->reading && !self->reading->res)
                self->reading->res = res;       //  kept until the batch commits
            else
                PQclear (res);
        }
        if (self->conn && PQstatus (self->conn) == CONNECTION_BAD) {
            s_broken (self);
            return;
        }
    }
    s_send_batch (self);
}

void
td_llm_dbq_flush (td_llm_dbq_t *self)
{
    if (!self)
        return;
    int64_t deadline = zclock_mono () + FLUSH_MS;
    while (self->fhead || self->qhead) {
        s_send_batch (self);
        if (!self->fhead)
            continue;               //  the slow path took what waited (no connection)
        if (zclock_mono () >= deadline) {
            s_broken (self);
            continue;
        }
        struct pollfd pfd = { .fd = self->sock, .events = POLLIN | (self->want_out? POLLOUT: 0) };
        if (poll (&pfd, 1, 200) < 0 && errno != EINTR) {
            s_broken (self);
            continue;
        }
        td_llm_dbq_run (self);
    }
}
