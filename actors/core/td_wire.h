/*  td_wire — frame layouts of the request plane (Majordomo-style, after ZeroMQ RFC 7/18).
 *
 *  One ROUTER socket in the broker serves clients and workers; the header frame tells them
 *  apart. Every message starts with ONE header frame: the 4-byte protocol name, the command
 *  byte and the command's small argument (a service name or a ticket), so a round trip is
 *  2 + 2 + 2 + 2 = 8 frames. The msgpack payload, when there is one, is the second and last
 *  frame. (The ROUTER's identity frame is not on the wire.)
 *
 *  Client (DEALER) <-> broker:
 *    REQUEST    C->B ["TDC1" 0x01 <service 1..64 bytes>][request msgpack]
 *    PARTIAL    B->C ["TDC1" 0x02 <service>][partial msgpack]
 *    FINAL      B->C ["TDC1" 0x03 <service>][reply msgpack]
 *  Worker (DEALER) <-> broker:
 *    READY      W->B ["TDW1" 0x01 <service 1..64 bytes>][msgpack {actor, capacity, pid, host}]
 *    REQUEST    B->W ["TDW1" 0x02 <ticket 8 bytes>][request msgpack]
 *    PARTIAL    W->B ["TDW1" 0x03 <ticket 8 bytes>][partial msgpack]
 *    FINAL      W->B ["TDW1" 0x04 <ticket 8 bytes>][reply msgpack]
 *    HEARTBEAT  both ["TDW1" 0x05]
 *    DISCONNECT both ["TDW1" 0x06]
 *
 *  A header frame shorter than 5 bytes, with another name, an unknown command, an argument of
 *  the wrong size (service empty or over 64 bytes, ticket not 8 bytes, anything after
 *  HEARTBEAT/DISCONNECT) or with the wrong number of frames after it is malformed.
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
#define TD_WIRE_NAME_SIZE   4       //  bytes of "TDC1"/"TDW1" at the start of a header frame

#define TD_C_REQUEST        0x01
#define TD_C_PARTIAL        0x02
#define TD_C_FINAL          0x03

#define TD_W_READY          0x01
#define TD_W_REQUEST        0x02
#define TD_W_PARTIAL        0x03
#define TD_W_FINAL          0x04
#define TD_W_HEARTBEAT      0x05
#define TD_W_DISCONNECT     0x06

#define TD_TICKET_SIZE      8
#define TD_WIRE_ARG_MAX     64      //  largest header argument: a service name (TD_MAX_NAME)
#define TD_WIRE_HEAD_MAX    (TD_WIRE_NAME_SIZE + 1 + TD_WIRE_ARG_MAX)
#define TD_HEARTBEAT_MS     1000
#define TD_LIVENESS         3
#define TD_DEFAULT_CAPACITY 32      //  requests one worker holds at once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

//  Receive one whole multipart message from a libzmq socket handle into parts[0..max-1]
//  without waiting for its first frame. Frames beyond max are read and dropped, and *overflow
//  is set. Returns the number of parts kept (0: nothing was waiting); the caller closes them.
size_t td_wire_recv_parts (void *handle, zmq_msg_t *parts, size_t max, bool *overflow);

//  Write the header frame name+cmd+arg into head (TD_WIRE_HEAD_MAX bytes); returns its size,
//  or 0 when arg is longer than TD_WIRE_ARG_MAX.
size_t td_wire_head (uint8_t *head, const char *name, uint8_t cmd, const void *arg, size_t size);

//  Parse a header frame: true when it is at least 5 bytes and starts with name; then *cmd is
//  the command byte and *arg/*size the rest (the argument, possibly empty). Not checked here:
//  whether the command is known and its argument has the right size.
bool td_wire_parse (zmq_msg_t *frame, const char *name, uint8_t *cmd,
                    const uint8_t **arg, size_t *size);

//  Send one message [head][body] (body NULL: [head] alone) on a DEALER handle without
//  blocking: once the head is queued, the body always follows (libzmq queues a multipart
//  message whole). Returns 0, or -1 when the head could not be queued (errno from libzmq).
int td_wire_send (void *handle, const uint8_t *head, size_t head_size,
                  const void *body, size_t body_size);

#endif
