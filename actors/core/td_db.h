/*  td_db — one actor's PostgreSQL connection (libpq), reconnecting after a restart of the server.
 *
 *  Each actor owns one td_db_t and uses it from its own thread only. Every query is
 *  parameterised; a query that fails because the connection broke is retried once on a fresh
 *  connection. Errors are logged with the actor's name and returned, never ignored.
 */
#ifndef TD_DB_H
#define TD_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct td_db td_db_t;

//  Does not connect yet; actor is the log name. NULL on allocation failure.
td_db_t *td_db_new (const char *conninfo, const char *actor);
void td_db_destroy (td_db_t **self_p);
//  The live connection, connecting when needed; NULL when PostgreSQL is unreachable.
PGconn *td_db_conn (td_db_t *self);
//  0 when a round trip to the server works ("SELECT 1"), else -1.
int td_db_ping (td_db_t *self);
//  Run a parameterised statement (text params, text results). The result is the caller's
//  (PQclear); NULL when it failed, with the server's message in td_db_last_error.
//  rid goes in the log line on failure.
PGresult *td_db_exec (td_db_t *self, const char *rid, const char *sql, int nparams,
                      const char *const *params);
const char *td_db_last_error (td_db_t *self);
//  SQLSTATE of the last failure ("" when none), e.g. "23505" unique violation.
const char *td_db_last_sqlstate (td_db_t *self);

#endif
