/*  td_actor_call — an actor calls another service without blocking its own thread.
 *
 *  td_client_call waits for its reply, which an actor must never do: its heartbeats and every
 *  other request would stall behind the call. A td_acall_t is one DEALER to the broker (a
 *  td_client) owned by one actor thread; td_acall_send queues a request with a callback and
 *  returns at once; the actor polls td_acall_sock (td_actor_watch) and its watch function calls
 *  td_acall_dispatch, which reads the replies waiting and runs each call's callback exactly once
 *  (partials are skipped). A call also ends, with err set, when:
 *    - its reply does not come within timeout_ms + a grace second (td_acall_expire, from a tick;
 *      the broker itself answers 504 at the deadline, so this only covers a lost broker),
 *    - the owner destroys the td_acall_t (err unavailable), so kept requests are always answered.
 *  Not thread-safe: one owner thread, as td_client.
 */
#ifndef TD_ACTOR_CALL_H
#define TD_ACTOR_CALL_H

#include <stddef.h>
#include "td_actor.h"
#include "td_msg.h"

typedef struct td_acall td_acall_t;

//  The end of one call: reply (a final reply, any status) or NULL with err set (timeout,
//  unavailable). Both are valid only during the callback.
typedef void (td_acall_fn) (td_actor_t *actor, void *arg, const td_msg_t *reply,
                            const td_error_t *err);

//  Connect to the broker at endpoint (td_config_broker_endpoint). NULL on failure.
td_acall_t *td_acall_new (const char *endpoint, const char *log_name);
//  Fail every pending call (callbacks run with err unavailable), then close. Nulls *self_p.
void td_acall_destroy (td_acall_t **self_p, td_actor_t *actor);
//  The socket to watch (td_actor_watch); its watch function calls td_acall_dispatch.
zsock_t *td_acall_sock (td_acall_t *self);
//  Send spec to service (spec->id NULL: a fresh id; spec->deadline 0: now + timeout_ms).
//  0 when queued (fn will run exactly once later), -1 with err set when not (fn never runs).
int td_acall_send (td_acall_t *self, const char *service, const td_request_spec_t *spec,
                   int timeout_ms, td_acall_fn *fn, void *arg, td_error_t *err);
//  Read every reply waiting and run the callbacks of the calls they end.
void td_acall_dispatch (td_acall_t *self, td_actor_t *actor);
//  End calls past their timeout + 1 s (callbacks run with err timeout).
void td_acall_expire (td_acall_t *self, td_actor_t *actor);
//  Calls sent and not yet ended.
size_t td_acall_pending (td_acall_t *self);

#endif
