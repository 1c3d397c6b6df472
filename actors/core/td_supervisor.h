/*  td_supervisor — starts the actors this process runs and restarts any that ends.
 *
 *  Each actor is a zactor running td_actor_task. When one ends (its function returned: init
 *  failed, fatal error, fault injection), the supervisor logs it, restarts it after a backoff
 *  (100 ms doubling to 10 s; reset after 60 s of good health) and publishes
 *  system.actor_restarted {"actor", "restarts", "backoff_ms"}.
 *
 *  Start with zactor_new (td_supervisor_actor, cfg); cfg must outlive it.
 *  Pipe commands: "STATUS" -> "s" JSON {actor: {"state": "up"|"restarting", "restarts": n}};
 *  "$TERM" stops every actor (in reverse start order) and ends.
 */
#ifndef TD_SUPERVISOR_H
#define TD_SUPERVISOR_H

#include <czmq.h>

void td_supervisor_actor (zsock_t *pipe, void *args);

#endif
