/*  td_supervisor — starts the actors this process runs and restarts any that ends.
 *
 *  Each actor is a zactor running td_actor_task. When one ends (its function returned: init
 *  failed, fatal error, fault injection), the supervisor logs it, restarts it after a backoff
 *  (100 ms doubling to 10 s; back to 100 ms once an actor has stayed up 60 s) and publishes
 *  system.actor_restarted {"actor", "restarts", "backoff_ms"}.
 *
 *  Start with zactor_new (td_supervisor_actor, &args); args must outlive it.
 *  Pipe commands: "STATUS" -> one string frame, JSON {actor: {"state": "up"|"restarting",
 *  "restarts": n}}; "$TERM" stops every actor (in reverse start order) and ends.
 */
#ifndef TD_SUPERVISOR_H
#define TD_SUPERVISOR_H

#include <czmq.h>
#include "td_actor.h"

typedef struct {
    const td_config_t *cfg;
    const td_actor_spec_t *const *specs;    //  the actors to run
    size_t count;
    int backoff_min_ms;             //  0 -> 100
    int backoff_max_ms;             //  0 -> 10000
} td_supervisor_args_t;

void td_supervisor_actor (zsock_t *pipe, void *args);

#endif
