/*  llm — the llm actor: the gateway to language models: providers, streaming, retries and budgets.
 *
 *  It serves the "llm" service through the broker. The backbone gives it its run loop
 *  (actors/core/td_actor.c): registration, heartbeats, its PostgreSQL connection, `ping` for
 *  /health, and supervision. Its own operations are added to the route table below (issue 7);
 *  until then every other request type is answered 404 not_found by the framework.
 */
#include "td_actor.h"

static const td_verb_t s_verbs [] = {
    { NULL, NULL }
};

const td_actor_spec_t td_llm_actor = {
    .name = "llm",
    .service = "llm",
    .needs_db = true,
    .verbs = s_verbs,
};
