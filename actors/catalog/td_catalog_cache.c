/*  td_catalog_cache — course.get's rendered learner trees, kept by the catalog actor.
 *
 *  Why: the whole tree of a course is the catalog's most read answer and the dearest to make
 *  (PostgreSQL builds tens of kilobytes of JSON, the actor parses it, hides the answers and packs
 *  msgpack), yet it changes only when an author edits the course. So the packed learner view is
 *  kept per course, valid for one tree version (schema/0007's tree_version, bumped by triggers on
 *  every module, lesson and item change, with the course's updated_at) and one count of released
 *  modules (drip). The version comes with the access check course.get makes anyway, so a hit
 *  costs no query beyond it and a stale entry is never served, whichever process wrote the change.
 *  At most MAX_ENTRIES courses are kept; when full, the table is emptied (simple and bounded).
 */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include "td_catalog.h"

#define MAX_ENTRIES 256

typedef struct {
    char version [96];
    int modules;
    void *data;
    size_t size;
} s_entry_t;

struct td_cat_cache {
    zhashx_t *entries;          //  course id -> s_entry_t (owned)
};

static void
s_entry_free (void **item)
{
    s_entry_t *e = (s_entry_t *) *item;
    if (e) {
        free (e->data);
        free (e);
    }
    *item = NULL;
}

td_cat_cache_t *
td_cat_cache_new (void)
{
    td_cat_cache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->entries = zhashx_new ();
    if (!self->entries) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->entries, s_entry_free);
    return self;
}

void
td_cat_cache_destroy (td_cat_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->entries);
    free (*self_p);
    *self_p = NULL;
}

const void *
td_cat_cache_get (td_cat_cache_t *self, const char *course, const char *version, int modules,
                  size_t *size)
{
    if (!self || !*version)
        return NULL;
    s_entry_t *e = (s_entry_t *) zhashx_lookup (self->entries, course);
    if (!e || e->modules != modules || strcmp (e->version, version) != 0)
        return NULL;
    *size = e->size;
    return e->data;
}

void
td_cat_cache_put (td_cat_cache_t *self, const char *course, const char *version, int modules,
                  const void *data, size_t size)
{
    if (!self || !*version || strlen (version) >= sizeof ((s_entry_t *) 0)->version)
        return;
    s_entry_t *e = calloc (1, sizeof *e);
    void *copy = malloc (size? size: 1);
    if (!e || !copy) {
        free (e);
        free (copy);
        return;                     //  not kept: the next read renders again
    }
    memcpy (copy, data, size);
    snprintf (e->version, sizeof e->version, "%s", version);
    e->modules = modules;
    e->data = copy;
    e->size = size;
    if (zhashx_size (self->entries) >= MAX_ENTRIES && !zhashx_lookup (self->entries, course))
        zhashx_purge (self->entries);
    zhashx_update (self->entries, course, e);     //  frees the entry it replaces
}
