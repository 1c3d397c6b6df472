/*  trainer — the trainer actor: reinforcement-learning training runs streamed live.
 *
 *  It serves the "train" service through the broker. The backbone gives it its run loop
 *  (actors/core/td_actor.c): registration, heartbeats, its PostgreSQL connection, `ping` for
 *  /health, and supervision. Its own operations are added to the route table below (issue 9);
 *  until then every other request type is answered 404 not_found by the framework.
 */
#include "td_actor.h"

static const td_verb_t s_verbs [] = {
    { NULL, NULL }
};

const td_actor_spec_t td_trainer_actor = {
    .name = "trainer",
    .service = "train",
    .needs_db = true,
    .verbs = s_verbs,
};
