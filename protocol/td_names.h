/*  td_names — the actors tutord knows, the service each serves, and the event domains.
 *
 *  TUTORD_ACTORS names actors; requests name services. "broker" and "web" are the two parts of
 *  the backbone that TUTORD_ACTORS may also select; the broker answers service "broker" itself
 *  (ping, status).
 */
#ifndef TD_NAMES_H
#define TD_NAMES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *actor;              //  "grader"
    const char *service;            //  "grade"
} td_actor_name_t;

extern const td_actor_name_t td_actor_names [];   //  the eight domain actors
extern const size_t td_actor_names_count;

//  Service of a domain actor (also accepts the service name itself); NULL if unknown.
const char *td_service_of (const char *actor_or_service);
//  Actor of a service; NULL if unknown.
const char *td_actor_of (const char *service);

#define TD_SERVICE_BROKER "broker"
#define TD_SOURCE_PREFIX  "tutord/"

#endif
