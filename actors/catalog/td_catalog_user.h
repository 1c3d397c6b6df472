/*  td_catalog_user — the catalog's per-user data: code drafts and snippets (CATALOG.md §3).
 *
 *  Handlers of the catalog actor's verbs draft.get, draft.put, snippet.list, snippet.create,
 *  snippet.get, snippet.update, snippet.delete, snippet.star, snippet.unstar, snippet.similar.
 *  catalog.c lists them in its verb table; td_catalog_draft.c and td_catalog_snippet.c implement
 *  them. Everything here is scoped to the caller: another user's id answers 404.
 */
#ifndef TD_CATALOG_USER_H
#define TD_CATALOG_USER_H

#include "td_actor.h"

int td_catalog_draft_get (td_actor_t *self, td_call_t *call);
int td_catalog_draft_put (td_actor_t *self, td_call_t *call);
int td_catalog_snippet_list (td_actor_t *self, td_call_t *call);
int td_catalog_snippet_create (td_actor_t *self, td_call_t *call);
int td_catalog_snippet_get (td_actor_t *self, td_call_t *call);
int td_catalog_snippet_update (td_actor_t *self, td_call_t *call);
int td_catalog_snippet_delete (td_actor_t *self, td_call_t *call);
int td_catalog_snippet_star (td_actor_t *self, td_call_t *call);
int td_catalog_snippet_unstar (td_actor_t *self, td_call_t *call);
int td_catalog_snippet_similar (td_actor_t *self, td_call_t *call);

#endif
