/*  td_client — the client side of the request plane: send requests to services, read replies.
 *
 *  Not thread-safe: one owner thread. Used by the web bridge, tutorctl, tests, benchmarks and by
 *  actors that call another service. Replies are validated (td_msg_decode) before they are
 *  returned; the broker answers 503 at once when a service has no live worker and 504 when a
 *  request's deadline passes, so a call never hangs past its deadline.
 */
#ifndef TD_CLIENT_H
#define TD_CLIENT_H

#include <czmq.h>
#include <stdbool.h>
#include "td_msg.h"

typedef struct td_client td_client_t;

td_client_t *td_client_new (const char *endpoint);
void td_client_destroy (td_client_t **self_p);
zsock_t *td_client_sock (td_client_t *self);
//  Send one packed request to a service, without blocking. 0, or -1 (queue full, bad name).
int td_client_send (td_client_t *self, const char *service, const void *request, size_t size);
//  Wait up to timeout_ms (0: don't wait, -1: forever) for one reply or partial. NULL on timeout
//  (err->code TD_ERR_TIMEOUT), interruption, or an invalid message (invalid_input; dropped).
//  *final is set true for a final reply.
td_msg_t *td_client_recv (td_client_t *self, int timeout_ms, bool *final, td_error_t *err);
//  Send spec to service and wait for the final reply with the same id, skipping partials and
//  stale replies. If spec->deadline is 0, a deadline of now + timeout_ms is set.
td_msg_t *td_client_call (td_client_t *self, const char *service, const td_request_spec_t *spec,
                          int timeout_ms, td_error_t *err);

#endif
