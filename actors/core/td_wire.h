/*  td_wire — frame layouts of the request plane (Majordomo-style, after ZeroMQ RFC 7/18).
 *
 *  One ROUTER socket in the broker serves clients and workers; the first frame tells them apart.
 *
 *  Client (DEALER) <-> broker:
 *    REQUEST  C->B  ["TDC1"][service][request msgpack]
 *    PARTIAL  B->C  ["TDC1"][0x02][service][partial msgpack]
 *    FINAL    B->C  ["TDC1"][0x03][service][reply msgpack]
 *  Worker (DEALER) <-> broker:
 *    READY      W->B ["TDW1"][0x01][service][msgpack {actor, capacity, pid, host}]
 *    REQUEST    B->W ["TDW1"][0x02][ticket 8 bytes][request msgpack]
 *    PARTIAL    W->B ["TDW1"][0x03][ticket][partial msgpack]
 *    FINAL      W->B ["TDW1"][0x04][ticket][reply msgpack]
 *    HEARTBEAT  both ["TDW1"][0x05]
 *    DISCONNECT both ["TDW1"][0x06]
 *
 *  The broker validates every request (td_msg_decode) before routing: an invalid one is answered
 *  400 by the broker itself. The ticket is the broker's handle for one in-flight request; the
 *  worker echoes it untouched, so the broker never decodes replies. A FINAL whose ticket is
 *  unknown (request timed out, worker was declared dead) is dropped. Any message from a worker
 *  counts as a heartbeat; a worker silent for TD_LIVENESS heartbeats is dead, and its in-flight
 *  requests are answered 503 unavailable. A worker that hears nothing from the broker for
 *  TD_LIVENESS heartbeats reconnects on a new socket and sends READY again.
 */
#ifndef TD_WIRE_H
#define TD_WIRE_H

#define TD_WIRE_CLIENT      "TDC1"
#define TD_WIRE_WORKER      "TDW1"

#define TD_W_READY          0x01
#define TD_W_REQUEST        0x02
#define TD_W_PARTIAL        0x03
#define TD_W_FINAL          0x04
#define TD_W_HEARTBEAT      0x05
#define TD_W_DISCONNECT     0x06

#define TD_C_PARTIAL        0x02
#define TD_C_FINAL          0x03

#define TD_TICKET_SIZE      8
#define TD_HEARTBEAT_MS     1000
#define TD_LIVENESS         3
#define TD_DEFAULT_CAPACITY 32      //  requests one worker holds at once

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

//  Receive one whole multipart message from a libzmq socket handle into parts[0..max-1]
//  without waiting for its first frame. Frames beyond max are read and dropped, and *overflow
//  is set. Returns the number of parts kept (0: nothing was waiting); the caller closes them.
size_t td_wire_recv_parts (void *handle, zmq_msg_t *parts, size_t max, bool *overflow);

#endif
