/*  td_names — the table of domain actors and the service each one serves.
 *
 *  TUTORD_ACTORS and the supervisor speak in actors; requests and the broker speak in services.
 *  The two names differ only for the grader ("grade") and the trainer ("train"), whose services
 *  are verbs that read well as event domains (grade.result, train.done).
 */
#include <string.h>
#include "td_names.h"

const td_actor_name_t td_actor_names [] = {
    { "identity",  "identity"  },
    { "catalog",   "catalog"   },
    { "session",   "session"   },
    { "grader",    "grade"     },
    { "llm",       "llm"       },
    { "srs",       "srs"       },
    { "analytics", "analytics" },
    { "trainer",   "train"     },
};

const size_t td_actor_names_count = sizeof (td_actor_names) / sizeof (td_actor_names [0]);

const char *
td_service_of (const char *actor_or_service)
{
    if (!actor_or_service)
        return NULL;
    for (size_t i = 0; i < td_actor_names_count; i++)
        if (strcmp (td_actor_names [i].actor, actor_or_service) == 0
        ||  strcmp (td_actor_names [i].service, actor_or_service) == 0)
            return td_actor_names [i].service;
    return NULL;
}

const char *
td_actor_of (const char *service)
{
    if (!service)
        return NULL;
    for (size_t i = 0; i < td_actor_names_count; i++)
        if (strcmp (td_actor_names [i].service, service) == 0)
            return td_actor_names [i].actor;
    return NULL;
}
