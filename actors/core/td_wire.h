/*  td_wire — frame layouts of the request plane (Majordomo-style, after ZeroMQ RFC 7/18).
 *
 *  One ROUTER socket in the broker serves clients and workers; the header tells them apart.
 *  A message has one of two layouts (the ROUTER's identity frame is not on the wire):
 *
 *    split   [name cmd arg][body]          the header frame, then the msgpack body, if any,
 *                                          as the second and last frame
 *    merged  [name cmd|0x80 len arg body]  ONE frame: the command byte has TD_WIRE_MERGED set,
 *                                          len (one byte) is the size of arg, the body is the
 *                                          rest of the frame (at least one byte)
 *
 *  name is the 4-byte protocol name ("TDC1" clients, "TDW1" workers), cmd the command byte, arg
 *  the command's small argument (a service name or a ticket). Senders merge a body of at most
 *  td_wire_merge_max() bytes (TD_WIRE_MERGE_MAX, 8 KiB by default) and split larger ones, so a
 *  small round trip is 1 + 1 + 1 + 1 = 4 frames instead of 8: libzmq's I/O thread works per
 *  frame (it had 40 % of perf's samples on the broker path with 8). Figures and the choice of
 *  8 KiB: tools/bench/README.md. Large bodies stay in their own frame so the broker moves them
 *  without copying; the broker forwards a body in the layout it came in (a merged one is
 *  copied once into the new frame). Every receiver accepts both layouts.
 *
 *  Client (DEALER) <-> broker:                    (merged: ["TDC1" 0x81 len service request])
 *    REQUEST    C->B ["TDC1" 0x01 <service 1..64 bytes>][request msgpack]
 *    PARTIAL    B->C ["TDC1" 0x02 <service>][partial msgpack]
 *    FINAL      B->C ["TDC1" 0x03 <service>][reply msgpack]
 *  Worker (DEALER) <-> broker:                    (merged: ["TDW1" 0x84 8 ticket reply])
 *    READY      W->B ["TDW1" 0x01 <service 1..64 bytes>][msgpack {actor, capacity, pid, host}]
 *    REQUEST    B->W ["TDW1" 0x02 <ticket 8 bytes>][request msgpack]
 *    PARTIAL    W->B ["TDW1" 0x03 <ticket 8 bytes>][partial msgpack]
 *    FINAL      W->B ["TDW1" 0x04 <ticket 8 bytes>][reply msgpack]
 *    HEARTBEAT  both ["TDW1" 0x05]                (never merged: no body)
 *    DISCONNECT both ["TDW1" 0x06]                (never merged: no body)
 *
 *  Malformed: a header shorter than 5 bytes or with another name; a merged frame whose len
 *  points at or past its end (no body byte left) or that has any frame after it; a split
 *  message with more than two frames; an unknown command; an argument of the wrong size
 *  (service empty or over 64 bytes, ticket not 8 bytes, anything after HEARTBEAT/DISCONNECT);
 *  a body where the command has none, or none where it needs one.
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

#define TD_WIRE_MERGED      0x80    //  flag on the command byte: header and body in one frame
#define TD_WIRE_MERGE_MAX   8192    //  default: bodies up to this many bytes are merged

#define TD_TICKET_SIZE      8
#define TD_WIRE_ARG_MAX     64      //  largest header argument: a service name (TD_MAX_NAME)
#define TD_WIRE_HEAD_MAX    (TD_WIRE_NAME_SIZE + 1 + TD_WIRE_ARG_MAX)
#define TD_WIRE_MERGED_HEAD (TD_WIRE_NAME_SIZE + 2)    //  name, cmd, len: before arg
#define TD_HEARTBEAT_MS     1000
#define TD_LIVENESS         3
#define TD_DEFAULT_CAPACITY 32      //  requests one worker holds at once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

//  One parsed message (td_wire_read). The pointers point into the frames it was read from.
typedef struct {
    uint8_t cmd;                    //  the command, TD_WIRE_MERGED cleared
    bool merged;                    //  the merged layout
    const uint8_t *arg;             //  the argument (service or ticket), arg_size bytes
    size_t arg_size;
    bool has_body;
    const uint8_t *body;            //  the body, body_size bytes (has_body)
    size_t body_size;
    size_t body_offset;             //  merged: where the body starts in the header frame
} td_wire_msg_t;

typedef enum {
    TD_WIRE_OK = 0,                 //  parsed; the command and its argument are not checked
    TD_WIRE_OTHER = -1,             //  shorter than 5 bytes or another protocol name
    TD_WIRE_BAD = -2                //  this protocol, but the layout is malformed (*why says)
} td_wire_rc_t;

//  Receive one whole multipart message from a libzmq socket handle into parts[0..max-1]
//  without waiting for its first frame. Frames beyond max are read and dropped, and *overflow
//  is set. Returns the number of parts kept (0: nothing was waiting); the caller closes them.
size_t td_wire_recv_parts (void *handle, zmq_msg_t *parts, size_t max, bool *overflow);

//  Parse the message frames[0..nframes-1] (the header frame first, no identity) of protocol
//  name, in either layout. On TD_WIRE_BAD, *why (when not NULL) says what is wrong. Not
//  checked here: whether the command is known, its argument has the right size and it should
//  have a body.
td_wire_rc_t td_wire_read (zmq_msg_t *frames, size_t nframes, const char *name,
                           td_wire_msg_t *msg, const char **why);

//  Write the split-layout header frame name+cmd+arg into head (TD_WIRE_HEAD_MAX bytes);
//  returns its size, or 0 when arg is longer than TD_WIRE_ARG_MAX.
size_t td_wire_head (uint8_t *head, const char *name, uint8_t cmd, const void *arg, size_t size);

//  The body sizes senders merge: 1..td_wire_merge_max(). td_wire_set_merge_max changes the
//  limit for the whole process (0: never merge), for benchmarks and tests; receivers accept
//  both layouts whatever it is.
size_t td_wire_merge_max (void);
void td_wire_set_merge_max (size_t max);
bool td_wire_merges (size_t body_size);

//  Initialise *frame as the merged frame [name cmd|0x80 len arg body] (body_size >= 1).
//  Returns 0, or -1 when arg is too long, the body is empty or memory ran out (*frame is then
//  not initialised).
int td_wire_merged (zmq_msg_t *frame, const char *name, uint8_t cmd, const void *arg,
                    size_t arg_size, const void *body, size_t body_size);

//  Send one message on a DEALER handle without blocking: [name cmd arg] alone when body is
//  NULL, merged when td_wire_merges (body_size), else split [name cmd arg][body] (once the head
//  is queued the body always follows: libzmq queues a multipart message whole). Returns 0, or
//  -1 when nothing could be queued (errno from libzmq).
int td_wire_send (void *handle, const char *name, uint8_t cmd, const void *arg, size_t arg_size,
                  const void *body, size_t body_size);

#endif
