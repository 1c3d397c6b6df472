/*  identity — the identity actor: accounts, tokens, organisations, cohorts, roles and API keys.
 *
 *  It serves the "identity" service through the broker. The backbone gives it its run loop
 *  (actors/core/td_actor.c): registration, heartbeats, its PostgreSQL connection, `ping` for
 *  /health, and supervision. Its own operations are added to the route table below (issue 3);
 *  until then every other request type is answered 404 not_found by the framework.
 */
#include "td_actor.h"

static const td_verb_t s_verbs [] = {
    { NULL, NULL }
};

const td_actor_spec_t td_identity_actor = {
    .name = "identity",
    .service = "identity",
    .needs_db = true,
    .verbs = s_verbs,
};
