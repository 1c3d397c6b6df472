/*  td_registry — maps actor names to their specs, so tutord and tests start actors by name.
 *
 *  Kept apart from actors/core because core must not depend on the actors built on it.
 */
#include <string.h>
#include "registry/td_registry.h"

extern const td_actor_spec_t td_identity_actor, td_catalog_actor, td_session_actor,
    td_grader_actor, td_llm_actor, td_srs_actor, td_analytics_actor, td_trainer_actor;

static const td_actor_spec_t *const s_specs [] = {
    &td_identity_actor, &td_catalog_actor, &td_session_actor, &td_grader_actor,
    &td_llm_actor, &td_srs_actor, &td_analytics_actor, &td_trainer_actor
};

const td_actor_spec_t *
td_registry_find (const char *actor)
{
    for (size_t i = 0; i < sizeof s_specs / sizeof s_specs [0]; i++)
        if (strcmp (s_specs [i]->name, actor) == 0)
            return s_specs [i];
    return NULL;
}
