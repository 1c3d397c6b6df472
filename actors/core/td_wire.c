/*  td_wire — helpers shared by the two ends of the request plane (td_client, td_worker).
 *
 *  Both read whole multipart messages straight into libzmq messages so payloads are never
 *  copied; the one loop that does it, with its bound on the number of frames a peer can make us
 *  hold, lives here.
 */
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
