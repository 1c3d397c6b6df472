/*  td_catalog_enrol — the enrolment side of the catalog that needs its own life cycle: the srs
 *  client that makes a learner's cards of a course after they enrol, and its catch-up sweep
 *  (CATALOG.md "Cards on enrolment"). td_catalog_init / fini / tick call these; everything else
 *  of enrolments (the verbs) is declared in td_catalog.h.
 */
#ifndef TD_CATALOG_ENROL_H
#define TD_CATALOG_ENROL_H

#include "td_actor.h"

//  Open the srs client on the actor's thread. 0, or -1 (logged: the catalog still runs, and
//  enrolments made meanwhile get their cards from a later sweep once it opens).
int td_catalog_cards_init (td_actor_t *actor);
//  Close it; pending calls end (their enrolments stay unsynced for the next sweep).
void td_catalog_cards_fini (td_actor_t *actor);
//  Expire lost calls and, every TUTORD_CARDS_SWEEP_MS (default 10000), send the enrolments whose
//  cards are behind (none yet, a later drip release, a changed course).
void td_catalog_cards_tick (td_actor_t *actor);

#endif
