/*  td_llm_dbq — the llm actor's writes that must not stall its thread (issue 7's latency goal).
 *
 *  Why: when a tutor turn ends, its answer row and the usage row are written before llm.done is
 *  published. Done synchronously on the actor's connection, each end stalled every other stream
 *  of the thread for two round trips and two commits (a burst of ends at the same time stalled
 *  the tokens of every stream for tens of milliseconds). Here the writes go on a connection of
 *  their own, in libpq's non-blocking pipeline mode, polled by the actor loop through one epoll
 *  descriptor: the thread goes on streaming while PostgreSQL works.
 *
 *  Writes are batched: while one batch is in flight the next ones gather; a batch is its
 *  statements and a sync point (one implicit transaction), so one round trip and one commit serve
 *  every turn that ended meanwhile. Each write's callback runs once its batch committed, in the order
 *  the writes were pushed. When a batch fails (a statement's error rolls the whole batch back) or
 *  the connection breaks, its writes are run again one by one on the actor's own td_db (which
 *  reconnects), synchronously: the slow path keeps every write and its order. A batch whose COMMIT
 *  reached the server but whose answer was lost in a broken connection is written twice: an
 *  answer row is rewritten with the same values, and a usage statement adds nothing the second
 *  time (it carries its call's key: td_llm_usage_args, schema/0021).
 *
 *  Callbacks run inside td_llm_dbq_run, td_llm_dbq_flush or td_llm_dbq_push (the slow path).
 */
#ifndef TD_LLM_DBQ_H
#define TD_LLM_DBQ_H

#include <stdbool.h>
#include <stddef.h>
#include "td_db.h"

typedef struct td_llm_dbq td_llm_dbq_t;
//  res: the statement's result once it is committed (in its batch, or alone on the slow path),
//  NULL when it failed; valid only during the call (the queue clears it).
typedef void (td_llm_dbq_fn) (void *arg, const PGresult *res);

//  conninfo for the queue's own connection (connected on the first write); fallback is the
//  actor's td_db (not owned) for the slow path. NULL on allocation failure.
td_llm_dbq_t *td_llm_dbq_new (const char *conninfo, td_db_t *fallback);
//  Completes every write first (td_llm_dbq_flush).
void td_llm_dbq_destroy (td_llm_dbq_t **self_p);
//  The descriptor to poll for readability (stable for the queue's life).
int td_llm_dbq_fd (const td_llm_dbq_t *self);
//  Move everything on; call when the descriptor is readable, and now and then (the actor's tick).
void td_llm_dbq_run (td_llm_dbq_t *self);
//  Queue a parameterised statement (sql must outlive the queue: a literal; params are copied);
//  fn (may be NULL) gets the outcome. 0, or -1 when it cannot be queued (nothing happens).
int td_llm_dbq_push (td_llm_dbq_t *self, const char *rid, const char *sql, int nparams,
                     const char *const *params, td_llm_dbq_fn *fn, void *arg);
//  Block until every queued write is done (their callbacks run). For the actor's stop.
void td_llm_dbq_flush (td_llm_dbq_t *self);
//  Writes queued or in flight.
size_t td_llm_dbq_pending (const td_llm_dbq_t *self);
//  Writes done on the slow path (alone, on the fallback connection) since the start.
size_t td_llm_dbq_redone (const td_llm_dbq_t *self);
//  The server process of the queue's connection, 0 when not connected (tests, operators).
int td_llm_dbq_backend_pid (const td_llm_dbq_t *self);

#endif
