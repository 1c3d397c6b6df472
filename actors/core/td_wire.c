/*  td_wire — helpers shared by the three parties of the request plane (td_broker, td_worker,
 *  td_client): building and parsing the one header frame of td_wire.h, sending [head][body],
 *  and receiving a whole multipart message.
 *
 *  Messages are read straight into libzmq messages so payloads are never copied; the one loop
 *  that does it, with its bound on the number of frames a peer can make us hold, lives here.
 *  The header layout ("TDx1" + command byte + argument) is written and read only here.
 */
#include <string.h>

#include "td_wire.h"

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

bool
td_wire_parse (zmq_msg_t *frame, const char *name, uint8_t *cmd,
               const uint8_t **arg, size_t *size)
{
    size_t frame_size = zmq_msg_size (frame);
    const uint8_t *data = (const uint8_t *) zmq_msg_data (frame);
    if (frame_size < TD_WIRE_NAME_SIZE + 1 || memcmp (data, name, TD_WIRE_NAME_SIZE) != 0)
        return false;
    *cmd = data [TD_WIRE_NAME_SIZE];
    *arg = data + TD_WIRE_NAME_SIZE + 1;
    *size = frame_size - TD_WIRE_NAME_SIZE - 1;
    return true;
}

int
td_wire_send (void *handle, const uint8_t *head, size_t head_size,
              const void *body, size_t body_size)
{
    if (zmq_send (handle, head, head_size, body? ZMQ_SNDMORE | ZMQ_DONTWAIT: ZMQ_DONTWAIT) < 0)
        return -1;
    if (body && zmq_send (handle, body, body_size, 0) < 0)
        return -1;
    return 0;
}
