/*  td_wire — helpers shared by the three parties of the request plane (td_broker, td_worker,
 *  td_client): building and parsing both layouts of td_wire.h (split [head][body] and merged
 *  [head+body]), sending a message in the layout its size calls for, and receiving a whole
 *  multipart message.
 *
 *  Messages are read straight into libzmq messages so payloads are never copied on receipt;
 *  the one loop that does it, with its bound on the number of frames a peer can make us hold,
 *  lives here. The header layouts are written and read only here.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "td_wire.h"

static _Atomic size_t s_merge_max = TD_WIRE_MERGE_MAX;

size_t
td_wire_recv_parts (void *handle, zmq_msg_t *parts, size_t max, bool *overflow)
{
    size_t n = 0;
    bool more = true;
    *overflow = false;
    while (more) {
        zmq_msg_t spare;
        zmq_msg_t *part = n < max? &parts [n]: &spare;
        zmq_msg_init (part);
        if (zmq_msg_recv (part, handle, n == 0 && !*overflow? ZMQ_DONTWAIT: 0) < 0) {
            zmq_msg_close (part);
            break;
        }
        more = zmq_msg_more (part);
        if (n < max)
            n++;
        else {
            zmq_msg_close (part);
            *overflow = true;
        }
    }
    return n;
}

static td_wire_rc_t
s_bad (const char **why, const char *what)
{
    if (why)
        *why = what;
    return TD_WIRE_BAD;
}

td_wire_rc_t
td_wire_read (zmq_msg_t *frames, size_t nframes, const char *name, td_wire_msg_t *msg,
              const char **why)
{
    memset (msg, 0, sizeof *msg);
    if (nframes == 0)
        return TD_WIRE_OTHER;
    size_t size = zmq_msg_size (&frames [0]);
    const uint8_t *data = (const uint8_t *) zmq_msg_data (&frames [0]);
    if (size < TD_WIRE_NAME_SIZE + 1 || memcmp (data, name, TD_WIRE_NAME_SIZE) != 0)
        return TD_WIRE_OTHER;
    uint8_t cmd = data [TD_WIRE_NAME_SIZE];
    msg->cmd = cmd & (uint8_t) ~TD_WIRE_MERGED;
    if (cmd & TD_WIRE_MERGED) {
        msg->merged = true;
        if (nframes != 1)
            return s_bad (why, "frames after a merged frame");
        if (size < TD_WIRE_MERGED_HEAD)
            return s_bad (why, "merged frame without its length byte");
        size_t arg_size = data [TD_WIRE_NAME_SIZE + 1];
        //  The body is at least one byte, so the offset must stay strictly inside the frame
        if (arg_size >= size - TD_WIRE_MERGED_HEAD)
            return s_bad (why, "merged frame whose length points past its end");
        msg->arg = data + TD_WIRE_MERGED_HEAD;
        msg->arg_size = arg_size;
        msg->has_body = true;
        msg->body_offset = TD_WIRE_MERGED_HEAD + arg_size;
        msg->body = data + msg->body_offset;
        msg->body_size = size - msg->body_offset;
        return TD_WIRE_OK;
    }
    if (nframes > 2)
        return s_bad (why, "more than two frames");
    msg->arg = data + TD_WIRE_NAME_SIZE + 1;
    msg->arg_size = size - TD_WIRE_NAME_SIZE - 1;
    if (nframes == 2) {
        msg->has_body = true;
        msg->body = (const uint8_t *) zmq_msg_data (&frames [1]);
        msg->body_size = zmq_msg_size (&frames [1]);
    }
    return TD_WIRE_OK;
}

size_t
td_wire_head (uint8_t *head, const char *name, uint8_t cmd, const void *arg, size_t size)
{
    if (size > TD_WIRE_ARG_MAX)
        return 0;
    memcpy (head, name, TD_WIRE_NAME_SIZE);
    head [TD_WIRE_NAME_SIZE] = cmd;
    if (size)
        memcpy (head + TD_WIRE_NAME_SIZE + 1, arg, size);
    return TD_WIRE_NAME_SIZE + 1 + size;
}

size_t
td_wire_merge_max (void)
{
    return atomic_load_explicit (&s_merge_max, memory_order_relaxed);
}

void
td_wire_set_merge_max (size_t max)
{
    atomic_store_explicit (&s_merge_max, max, memory_order_relaxed);
}

bool
td_wire_merges (size_t body_size)
{
    return body_size > 0 && body_size <= td_wire_merge_max ();
}

int
td_wire_merged (zmq_msg_t *frame, const char *name, uint8_t cmd, const void *arg,
                size_t arg_size, const void *body, size_t body_size)
{
    if (arg_size > TD_WIRE_ARG_MAX || body_size == 0)
        return -1;
    size_t offset = TD_WIRE_MERGED_HEAD + arg_size;
    if (zmq_msg_init_size (frame, offset + body_size))
        return -1;
    uint8_t *data = (uint8_t *) zmq_msg_data (frame);
    memcpy (data, name, TD_WIRE_NAME_SIZE);
    data [TD_WIRE_NAME_SIZE] = cmd | TD_WIRE_MERGED;
    data [TD_WIRE_NAME_SIZE + 1] = (uint8_t) arg_size;
    if (arg_size)
        memcpy (data + TD_WIRE_MERGED_HEAD, arg, arg_size);
    memcpy (data + offset, body, body_size);
    return 0;
}

int
td_wire_send (void *handle, const char *name, uint8_t cmd, const void *arg, size_t arg_size,
              const void *body, size_t body_size)
{
    if (body && td_wire_merges (body_size)) {
        zmq_msg_t frame;
        if (td_wire_merged (&frame, name, cmd, arg, arg_size, body, body_size))
            return -1;
        if (zmq_msg_send (&frame, handle, ZMQ_DONTWAIT) < 0) {
            int saved = errno;
            zmq_msg_close (&frame);
            errno = saved;
            return -1;
        }
        return 0;
    }
    uint8_t head [TD_WIRE_HEAD_MAX];
    size_t head_size = td_wire_head (head, name, cmd, arg, arg_size);
    if (head_size == 0)
        return -1;
    if (zmq_send (handle, head, head_size, body? ZMQ_SNDMORE | ZMQ_DONTWAIT: ZMQ_DONTWAIT) < 0)
        return -1;
    if (body && zmq_send (handle, body, body_size, 0) < 0)
        return -1;
    return 0;
}
