/*  td_events — an actor's event outlet: a PUB socket connected to the broker's XSUB (and, in a
 *  process that runs the broker and the web bridge, to the bridge's own SUB too, so the bridge
 *  gets this process's events without the proxy thread: td_config_events_direct).
 *
 *  Messages are two frames, [type][msgpack envelope], so subscribers filter by type prefix
 *  without decoding. Events are best-effort (DESIGN.md principle 3).
 */
#ifndef TD_EVENTS_H
#define TD_EVENTS_H

#include <czmq.h>
#include "td_msg.h"

typedef struct td_events td_events_t;

//  endpoint: where to connect, or a comma-separated list of them (td_config_events_in_endpoint)
td_events_t *td_events_new (const char *endpoint);
void td_events_destroy (td_events_t **self_p);
//  Pack and send one event. 0, or -1 with err set (bad spec, or send failed).
int td_events_publish (td_events_t *self, const td_event_spec_t *spec, td_error_t *err);
//  For a SUB on the event plane: the next message, when one is waiting or first is true (then it
//  waits, as the caller's poller said one came). Returns it with its [type][envelope] frames in
//  *type and *body, or NULL when nothing came; a message of another shape is returned with *type
//  NULL (the caller destroys what is returned either way).
zmsg_t *td_events_recv (zsock_t *sub, bool first, zframe_t **type, zframe_t **body);

#endif
