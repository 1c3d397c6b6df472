/*  td_registry — the specs of the domain actors, in the order of td_actor_names (td_names.h). */
#ifndef TD_REGISTRY_H
#define TD_REGISTRY_H

#include "td_actor.h"

//  The spec of an actor by name, or NULL.
const td_actor_spec_t *td_registry_find (const char *actor);

#endif
