/*  td_authcache — the bridge's principal cache (see td_authcache.h for why it is safe).
 *
 *  A fixed array of `capacity` entries, a chained hash index over them (by the first 8 bytes of
 *  the keyed digest; the whole 32 bytes are compared), a doubly linked LRU list (head = most
 *  recent) and a free list. Drops by session / user / key scan the entries in use: they are rare
 *  (a logout, a role change) and the table is bounded.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "td_authcache.h"
#include "td_limits.h"

#define S_NIL UINT32_MAX

typedef struct {
    unsigned char digest [32];
    bool used;
    int64_t valid_until;
    char user [TD_MAX_ID + 1];
    char session [TD_MAX_ID + 1];
    char key [TD_MAX_ID + 1];
    void *map;
    size_t size;
    uint32_t hnext;                 //  next in hash chain, or in the free list
    uint32_t prev, next;            //  LRU list
} s_entry_t;

struct td_authcache {
    pthread_mutex_t lock;
    bool live;
    uint64_t epoch;
    uint32_t capacity, used;
    uint32_t nheads;                //  power of two
    uint32_t *heads;
    s_entry_t *e;
    uint32_t free_head;
    uint32_t lru_head, lru_tail;
    unsigned char hkey [crypto_generichash_KEYBYTES];
};

td_authcache_t *
td_authcache_new (size_t capacity)
{
    if (capacity < 1 || capacity > 10000000 || sodium_init () < 0)
        return NULL;
    td_authcache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (pthread_mutex_init (&self->lock, NULL)) {
        free (self);
        return NULL;
    }
    self->capacity = (uint32_t) capacity;
    self->nheads = 1;
    while (self->nheads < self->capacity * 2 && self->nheads < (1u << 24))
        self->nheads <<= 1;
    self->heads = malloc (self->nheads * sizeof *self->heads);
    self->e = calloc (self->capacity, sizeof *self->e);
    if (!self->heads || !self->e) {
        td_authcache_destroy (&self);
        return NULL;
    }
    for (uint32_t i = 0; i < self->nheads; i++)
        self->heads [i] = S_NIL;
    for (uint32_t i = 0; i < self->capacity; i++)
        self->e [i].hnext = i + 1 < self->capacity ? i + 1 : S_NIL;
    self->free_head = 0;
    self->lru_head = self->lru_tail = S_NIL;
    randombytes_buf (self->hkey, sizeof self->hkey);
    return self;
}

void
td_authcache_destroy (td_authcache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_authcache_t *self = *self_p;
    if (self->e)
        for (uint32_t i = 0; i < self->capacity; i++)
            free (self->e [i].map);
    free (self->e);
    free (self->heads);
    sodium_memzero (self->hkey, sizeof self->hkey);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

static void
s_digest (const td_authcache_t *self, const char *credential, size_t len, unsigned char out [32])
{
    crypto_generichash (out, 32, (const unsigned char *) credential, len, self->hkey,
                        sizeof self->hkey);
}

static uint32_t
s_slot (const td_authcache_t *self, const unsigned char digest [32])
{
    uint64_t h;
    memcpy (&h, digest, sizeof h);
    return (uint32_t) (h & (self->nheads - 1));
}

static void
s_lru_unlink (td_authcache_t *self, uint32_t i)
{
    s_entry_t *e = &self->e [i];
    if (e->prev != S_NIL)
        self->e [e->prev].next = e->next;
    else
        self->lru_head = e->next;
    if (e->next != S_NIL)
        self->e [e->next].prev = e->prev;
    else
        self->lru_tail = e->prev;
    e->prev = e->next = S_NIL;
}

static void
s_lru_push_front (td_authcache_t *self, uint32_t i)
{
    s_entry_t *e = &self->e [i];
    e->prev = S_NIL;
    e->next = self->lru_head;
    if (self->lru_head != S_NIL)
        self->e [self->lru_head].prev = i;
    self->lru_head = i;
    if (self->lru_tail == S_NIL)
        self->lru_tail = i;
}

//  Remove entry i from every structure and put it on the free list.
static void
s_remove (td_authcache_t *self, uint32_t i)
{
    s_entry_t *e = &self->e [i];
    uint32_t *at = &self->heads [s_slot (self, e->digest)];
    while (*at != S_NIL && *at != i)
        at = &self->e [*at].hnext;
    if (*at == i)
        *at = e->hnext;
    s_lru_unlink (self, i);
    free (e->map);
    sodium_memzero (e, sizeof *e);
    e->prev = e->next = S_NIL;
    e->hnext = self->free_head;
    self->free_head = i;
    self->used--;
}

static uint32_t
s_find (td_authcache_t *self, const unsigned char digest [32])
{
    uint32_t i = self->heads [s_slot (self, digest)];
    while (i != S_NIL && sodium_memcmp (self->e [i].digest, digest, 32) != 0)
        i = self->e [i].hnext;
    return i;
}

static void
s_flush_locked (td_authcache_t *self)
{
    while (self->lru_head != S_NIL)
        s_remove (self, self->lru_head);
    self->epoch++;
}

void
td_authcache_set_live (td_authcache_t *self, bool live)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    s_flush_locked (self);
    self->live = live;
    pthread_mutex_unlock (&self->lock);
}

bool
td_authcache_live (td_authcache_t *self)
{
    if (!self)
        return false;
    pthread_mutex_lock (&self->lock);
    bool live = self->live;
    pthread_mutex_unlock (&self->lock);
    return live;
}

uint64_t
td_authcache_epoch (td_authcache_t *self)
{
    if (!self)
        return 0;
    pthread_mutex_lock (&self->lock);
    uint64_t epoch = self->epoch;
    pthread_mutex_unlock (&self->lock);
    return epoch;
}

int
td_authcache_get (td_authcache_t *self, const char *credential, size_t len, int64_t now_s,
                  void **map, size_t *size)
{
    if (!self || !credential || !map || !size)
        return 0;
    *map = NULL;
    *size = 0;
    unsigned char digest [32];
    s_digest (self, credential, len, digest);
    int rc = 0;
    pthread_mutex_lock (&self->lock);
    uint32_t i = self->live ? s_find (self, digest) : S_NIL;
    if (i != S_NIL) {
        s_entry_t *e = &self->e [i];
        if (now_s >= e->valid_until)
            s_remove (self, i);
        else {
            *map = malloc (e->size);
            if (*map) {
                memcpy (*map, e->map, e->size);
                *size = e->size;
                s_lru_unlink (self, i);
                s_lru_push_front (self, i);
                rc = 1;
            }
            else
                rc = -1;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

static void
s_copy_id (char dst [TD_MAX_ID + 1], const char *src)
{
    size_t n = src ? strlen (src) : 0;
    if (n > TD_MAX_ID)
        n = 0;                      //  cannot be an id we would be told about
    if (n)
        memcpy (dst, src, n);
    dst [n] = 0;
}

int
td_authcache_put (td_authcache_t *self, const char *credential, size_t len, uint64_t epoch,
                  int64_t now_s, int64_t valid_until, const char *user, const char *session,
                  const char *key, const void *map, size_t size)
{
    if (!self || !credential || !map || size == 0 || valid_until <= now_s)
        return 0;
    unsigned char digest [32];
    s_digest (self, credential, len, digest);
    void *copy = malloc (size);
    if (!copy)
        return 0;
    memcpy (copy, map, size);
    pthread_mutex_lock (&self->lock);
    if (!self->live || epoch != self->epoch) {
        pthread_mutex_unlock (&self->lock);
        free (copy);
        return 0;
    }
    uint32_t i = s_find (self, digest);
    if (i != S_NIL)
        s_remove (self, i);
    if (self->free_head == S_NIL)
        s_remove (self, self->lru_tail);        //  full: forget the least recently used
    i = self->free_head;
    s_entry_t *e = &self->e [i];
    self->free_head = e->hnext;
    memcpy (e->digest, digest, sizeof e->digest);
    e->used = true;
    e->valid_until = valid_until;
    s_copy_id (e->user, user);
    s_copy_id (e->session, session);
    s_copy_id (e->key, key);
    e->map = copy;
    e->size = size;
    uint32_t slot = s_slot (self, digest);
    e->hnext = self->heads [slot];
    self->heads [slot] = i;
    e->prev = e->next = S_NIL;
    s_lru_push_front (self, i);
    self->used++;
    pthread_mutex_unlock (&self->lock);
    return 1;
}

size_t
td_authcache_drop (td_authcache_t *self, const char *what)
{
    if (!self || !what)
        return 0;
    if (strncmp (what, "b:", 2) == 0 || strncmp (what, "a:", 2) == 0)
        return 0;                   //  a barrier or its acknowledgement: names nothing
    size_t dropped = 0;
    pthread_mutex_lock (&self->lock);
    char kind = what [0];
    const char *id = what + 2;
    bool known = (kind == 's' || kind == 'u' || kind == 'k') && what [1] == ':' && *id
                 && strlen (id) <= TD_MAX_ID;
    if (!known) {
        dropped = self->used;
        s_flush_locked (self);
    }
    else {
        uint32_t i = self->lru_head;
        while (i != S_NIL) {
            s_entry_t *e = &self->e [i];
            uint32_t next = e->next;
            const char *field = kind == 's' ? e->session : kind == 'u' ? e->user : e->key;
            if (strcmp (field, id) == 0) {
                s_remove (self, i);
                dropped++;
            }
            i = next;
        }
        //  Even when nothing matched: a verification in flight may be about it
        self->epoch++;
    }
    pthread_mutex_unlock (&self->lock);
    return dropped;
}

void
td_authcache_flush (td_authcache_t *self)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    s_flush_locked (self);
    pthread_mutex_unlock (&self->lock);
}

size_t
td_authcache_expire (td_authcache_t *self, int64_t now_s)
{
    if (!self)
        return 0;
    size_t n = 0;
    pthread_mutex_lock (&self->lock);
    uint32_t i = self->lru_head;
    while (i != S_NIL) {
        uint32_t next = self->e [i].next;
        if (now_s >= self->e [i].valid_until) {
            s_remove (self, i);
            n++;
        }
        i = next;
    }
    pthread_mutex_unlock (&self->lock);
    return n;
}

size_t
td_authcache_size (td_authcache_t *self)
{
    if (!self)
        return 0;
    pthread_mutex_lock (&self->lock);
    size_t n = self->used;
    pthread_mutex_unlock (&self->lock);
    return n;
}
