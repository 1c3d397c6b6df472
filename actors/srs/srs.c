/*  srs — the srs actor: FSRS spaced-repetition scheduling and due queues.
 *
 *  It serves the "srs" service through the broker. The backbone gives it its run loop
 *  (actors/core/td_actor.c): registration, heartbeats, its PostgreSQL connection, `ping` for
 *  /health, and supervision. Its own operations are added to the route table below (issue 6);
 *  until then every other request type is answered 404 not_found by the framework.
 */
#include "td_actor.h"

static const td_verb_t s_verbs [] = {
    { NULL, NULL }
};

const td_actor_spec_t td_srs_actor = {
    .name = "srs",
    .service = "srs",
    .needs_db = true,
    .verbs = s_verbs,
};
