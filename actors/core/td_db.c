/*  td_db — one actor's libpq connection, surviving a restart of PostgreSQL.
 *
 *  The connection is opened lazily and reopened when PQstatus says it broke. A statement that
 *  fails with the connection gone (PQstatus CONNECTION_BAD afterwards) is retried once on a new
 *  connection: statements here are single, self-contained and idempotent or transactional, so a
 *  retry after the server restarted cannot apply half of anything. Reconnect attempts are spaced
 *  (at most one per 200 ms) so a down server does not turn an actor into a busy loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_db.h"
#include "td_log.h"

struct td_db {
    char *conninfo;                 //  owned copy
    char *actor;                    //  log name, owned copy
    PGconn *conn;                   //  NULL until first use
    int64_t next_attempt_ms;        //  no reconnect before this (monotonic ms)
    char last_error [512];
    char last_sqlstate [6];
};

static int64_t
s_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_notice_quiet (void *arg, const char *message)
{
    (void) arg;
    (void) message;                 //  NOTICEs (e.g. "relation exists, skipping") are not errors
}

td_db_t *
td_db_new (const char *conninfo, const char *actor)
{
    td_db_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conninfo = strdup (conninfo? conninfo: "");
    self->actor = strdup (actor? actor: "db");
    if (!self->conninfo || !self->actor) {
        td_db_destroy (&self);
        return NULL;
    }
    return self;
}

void
td_db_destroy (td_db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_db_t *self = *self_p;
    if (self->conn)
        PQfinish (self->conn);
    free (self->conninfo);
    free (self->actor);
    free (self);
    *self_p = NULL;
}

static void
s_set_error (td_db_t *self, const char *msg, const char *sqlstate)
{
    snprintf (self->last_error, sizeof self->last_error, "%s", msg? msg: "unknown error");
    size_t n = strcspn (self->last_error, "\n");
    self->last_error [n] = 0;
    snprintf (self->last_sqlstate, sizeof self->last_sqlstate, "%s", sqlstate? sqlstate: "");
}

PGconn *
td_db_conn (td_db_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return self->conn;
    int64_t now = s_mono_ms ();
    if (now < self->next_attempt_ms)
        return NULL;
    if (self->conn) {
        PQfinish (self->conn);
        self->conn = NULL;
    }
    self->conn = PQconnectdb (self->conninfo);
    if (!self->conn || PQstatus (self->conn) != CONNECTION_OK) {
        s_set_error (self, self->conn? PQerrorMessage (self->conn): "out of memory", "08006");
        td_warn (self->actor, NULL, "database unreachable: %s", self->last_error);
        if (self->conn)
            PQfinish (self->conn);
        self->conn = NULL;
        self->next_attempt_ms = now + 200;
        return NULL;
    }
    PQsetNoticeProcessor (self->conn, s_notice_quiet, NULL);
    return self->conn;
}

int
td_db_ping (td_db_t *self)
{
    PGresult *res = td_db_exec (self, NULL, "SELECT 1", 0, NULL);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

PGresult *
td_db_exec (td_db_t *self, const char *rid, const char *sql, int nparams,
            const char *const *params)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *conn = td_db_conn (self);
        if (!conn) {
            //  The first failure may be a stale connection; let the retry reconnect at once.
            if (attempt == 0)
                self->next_attempt_ms = 0;
            continue;
        }
        PGresult *res = PQexecParams (conn, sql, nparams, NULL, params, NULL, NULL, 0);
        ExecStatusType st = res? PQresultStatus (res): PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            self->last_error [0] = 0;
            self->last_sqlstate [0] = 0;
            return res;
        }
        s_set_error (self, res? PQresultErrorMessage (res): PQerrorMessage (conn),
                     res? PQresultErrorField (res, PG_DIAG_SQLSTATE): NULL);
        if (res)
            PQclear (res);
        if (PQstatus (conn) == CONNECTION_OK) {
            //  A real SQL error (constraint, syntax): no retry, the caller decides.
            td_debug (self->actor, rid, "query failed (%s): %s", self->last_sqlstate,
                      self->last_error);
            return NULL;
        }
        td_warn (self->actor, rid, "database connection lost, retrying once: %s", self->last_error);
        self->next_attempt_ms = 0;
    }
    if (!*self->last_error)
        s_set_error (self, "database unreachable", "08006");
    return NULL;
}

const char *
td_db_last_error (td_db_t *self)
{
    return self->last_error;
}

const char *
td_db_last_sqlstate (td_db_t *self)
{
    return self->last_sqlstate;
}
