/*  td_worker — the worker side of the request plane: one service, heartbeats, reconnection.
 *
 *  Not thread-safe: one owner thread (an actor). The owner polls td_worker_sock() together with
 *  its other sockets, calls td_worker_recv() when it is readable and td_worker_tick() at least
 *  every td_worker_timeout_ms(). The socket changes when the worker reconnects; tick returns 1
 *  then and the owner must poll the new one.
 */
#ifndef TD_WORKER_H
#define TD_WORKER_H

#include <czmq.h>
#include "td_msg.h"

typedef struct td_worker td_worker_t;
typedef struct td_job td_job_t;     //  one request handed to this worker

//  Connects and sends READY. capacity 0 -> TD_DEFAULT_CAPACITY; heartbeat_ms 0 -> TD_HEARTBEAT_MS.
td_worker_t *td_worker_new (const char *endpoint, const char *service, const char *actor,
                            int capacity, int heartbeat_ms);
void td_worker_destroy (td_worker_t **self_p);     //  sends DISCONNECT
zsock_t *td_worker_sock (td_worker_t *self);
//  Read one waiting message without blocking. Returns a job for a valid request (caller owns);
//  NULL otherwise (heartbeat, disconnect handled, nothing waiting, or an invalid request which
//  the worker answered 400 itself).
td_job_t *td_worker_recv (td_worker_t *self);
//  Heartbeats and broker liveness. 0, or 1 when the socket was replaced by a reconnection.
int td_worker_tick (td_worker_t *self);
//  Milliseconds until tick is next due (>= 0).
int td_worker_timeout_ms (td_worker_t *self);
//  Send a partial reply (already packed with td_partial_pack). 0 or -1.
int td_worker_partial (td_worker_t *self, td_job_t *job, const void *reply, size_t size);
//  Send the final reply (packed with td_reply_pack) and destroy the job. 0 or -1; the job is
//  destroyed either way.
int td_worker_final (td_worker_t *self, td_job_t **job_p, const void *reply, size_t size);
//  True while connected to a broker that answers (heartbeats within liveness).
bool td_worker_connected (td_worker_t *self);

//  The validated request of a job.
const td_msg_t *td_job_msg (const td_job_t *job);
void td_job_destroy (td_job_t **job_p);

#endif
