/*  td_catalog_grading — the catalog's answer to the grader: one item whole, and whether a given
 *  caller may submit to it (verb item.grading, system only; actors/grader/GRADER.md §2).
 */
#ifndef TD_CATALOG_GRADING_H
#define TD_CATALOG_GRADING_H

#include "td_actor.h"

int td_catalog_item_grading (td_actor_t *self, td_call_t *call);

#endif
