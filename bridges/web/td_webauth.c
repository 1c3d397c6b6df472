/*  td_webauth — the verified caller, the WebSocket event filter and the per-token rate limiter
 *  of the web bridge (see td_webauth.h for the why). Pure: unit-tested without a server.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "td_mp.h"
#include "td_webauth.h"

//  --------------------------------------------------------------------------
//  The auth map

static int
s_strcmp_p (const void *a, const void *b)
{
    return strcmp (*(char * const *) a, *(char * const *) b);
}

void
td_webauth_destroy (td_webauth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_webauth_t *self = *self_p;
    for (size_t i = 0; i < self->nmentees; i++)
        free (self->mentees [i]);
    free (self->mentees);
    free (self->admin);
    free (self);
    *self_p = NULL;
}

//  Copy an optional string field; false when present but not a string that fits.
static bool
s_copy_field (const msgpack_object *map, const char *key, char *buf, size_t size)
{
    const msgpack_object *o = td_mp_get (map, key);
    buf [0] = 0;
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return true;
    return td_mp_strcpy (o, buf, size);
}

td_webauth_t *
td_webauth_from_mp (const msgpack_object *map)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    td_webauth_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    const msgpack_object *kind = td_mp_get (map, "kind");
    if (kind && td_mp_streq (kind, "user"))
        self->kind = TD_AUTH_USER;
    else
    if (kind && td_mp_streq (kind, "api_key"))
        self->kind = TD_AUTH_API_KEY;
    else
        goto fail;
    if (!s_copy_field (map, "user", self->user, sizeof self->user)
    ||  !s_copy_field (map, "session", self->session, sizeof self->session)
    ||  !s_copy_field (map, "org", self->org, sizeof self->org))
        goto fail;
    if (self->kind == TD_AUTH_USER && !self->user [0])
        goto fail;
    if (self->kind == TD_AUTH_API_KEY) {
        if (!self->org [0])
            goto fail;
        return self;                //  a key has no memberships or mentees
    }
    self->org [0] = 0;
    const msgpack_object *ms = td_mp_get (map, "memberships");
    if (ms && ms->type == MSGPACK_OBJECT_ARRAY && ms->via.array.size > 0) {
        uint32_t n = ms->via.array.size;
        if (n > TD_WEBAUTH_ORGS_MAX)
            n = TD_WEBAUTH_ORGS_MAX;
        self->admin = calloc (n, sizeof *self->admin);
        if (!self->admin)
            goto fail;
        for (uint32_t i = 0; i < ms->via.array.size && self->nadmin < (int) n; i++) {
            const msgpack_object *m = &ms->via.array.ptr [i];
            const msgpack_object *role = td_mp_get (m, "role");
            const msgpack_object *org = td_mp_get (m, "org");
            if (role && org && td_mp_streq (role, "admin")
            &&  td_mp_strcpy (org, self->admin [self->nadmin], TD_MAX_ID + 1))
                self->nadmin++;
        }
    }
    const msgpack_object *me = td_mp_get (map, "mentees");
    if (me && me->type == MSGPACK_OBJECT_ARRAY && me->via.array.size > 0) {
        uint32_t n = me->via.array.size;
        if (n > TD_WEBAUTH_MENTEES_MAX)
            n = TD_WEBAUTH_MENTEES_MAX;
        self->mentees = calloc (n, sizeof *self->mentees);
        if (!self->mentees)
            goto fail;
        for (uint32_t i = 0; i < n; i++) {
            char *s = td_mp_strdup (&me->via.array.ptr [i]);
            if (s && strlen (s) <= TD_MAX_ID)
                self->mentees [self->nmentees++] = s;
            else
                free (s);
        }
        qsort (self->mentees, self->nmentees, sizeof *self->mentees, s_strcmp_p);
    }
    return self;
fail:
    td_webauth_destroy (&self);
    return NULL;
}

bool
td_webauth_event_allowed (const td_webauth_t *auth, const char *type, const char *org,
                          const char *user)
{
    org = org ? org : "";
    user = user ? user : "";
    if (!auth || auth->kind == TD_AUTH_ANONYMOUS)
        return !*org && !*user && type && strncmp (type, "system.", 7) == 0;
    if (auth->kind == TD_AUTH_API_KEY)
        return *org && strcmp (org, auth->org) == 0;
    if (*user && strcmp (user, auth->user) == 0)
        return true;
    if (*org)
        for (int i = 0; i < auth->nadmin; i++)
            if (strcmp (org, auth->admin [i]) == 0)
                return true;
    if (*user && auth->nmentees > 0)
        return bsearch (&user, auth->mentees, auth->nmentees, sizeof *auth->mentees,
                        s_strcmp_p) != NULL;
    return false;
}

//  --------------------------------------------------------------------------
//  Rate limiter: a hash table of buckets (chained by index) threaded on an LRU list.

#define S_NIL UINT32_MAX

typedef struct {
    uint64_t key;
    double tokens;
    int64_t last_us;
    uint32_t hnext;                 //  next in hash chain
    uint32_t prev, next;            //  LRU list: head = most recent
} s_bucket_t;

struct td_ratelimit {
    double rate, burst;
    uint32_t capacity, used;
    uint32_t nheads;                //  power of two
    uint32_t *heads;
    s_bucket_t *b;
    uint32_t lru_head, lru_tail;
    unsigned char hkey [crypto_shorthash_KEYBYTES];
};

td_ratelimit_t *
td_ratelimit_new (double rate, double burst, size_t capacity)
{
    if (!(rate > 0) || !(burst >= 1) || capacity < 1 || capacity > 10000000)
        return NULL;
    if (sodium_init () < 0)
        return NULL;
    td_ratelimit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->rate = rate;
    self->burst = burst;
    self->capacity = (uint32_t) capacity;
    self->nheads = 1;
    while (self->nheads < self->capacity * 2 && self->nheads < (1u << 24))
        self->nheads <<= 1;
    self->heads = malloc (self->nheads * sizeof *self->heads);
    self->b = calloc (self->capacity, sizeof *self->b);
    if (!self->heads || !self->b) {
        td_ratelimit_destroy (&self);
        return NULL;
    }
    for (uint32_t i = 0; i < self->nheads; i++)
        self->heads [i] = S_NIL;
    self->lru_head = self->lru_tail = S_NIL;
    randombytes_buf (self->hkey, sizeof self->hkey);
    return self;
}

void
td_ratelimit_destroy (td_ratelimit_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->heads);
        free ((*self_p)->b);
        free (*self_p);
        *self_p = NULL;
    }
}

size_t
td_ratelimit_size (const td_ratelimit_t *self)
{
    return self ? self->used : 0;
}

static void
s_lru_unlink (td_ratelimit_t *self, uint32_t i)
{
    s_bucket_t *b = &self->b [i];
    if (b->prev != S_NIL)
        self->b [b->prev].next = b->next;
    else
        self->lru_head = b->next;
    if (b->next != S_NIL)
        self->b [b->next].prev = b->prev;
    else
        self->lru_tail = b->prev;
    b->prev = b->next = S_NIL;
}

static void
s_lru_push_front (td_ratelimit_t *self, uint32_t i)
{
    s_bucket_t *b = &self->b [i];
    b->prev = S_NIL;
    b->next = self->lru_head;
    if (self->lru_head != S_NIL)
        self->b [self->lru_head].prev = i;
    self->lru_head = i;
    if (self->lru_tail == S_NIL)
        self->lru_tail = i;
}

static void
s_hash_unlink (td_ratelimit_t *self, uint32_t i)
{
    uint32_t *at = &self->heads [self->b [i].key & (self->nheads - 1)];
    while (*at != S_NIL && *at != i)
        at = &self->b [*at].hnext;
    if (*at == i)
        *at = self->b [i].hnext;
}

bool
td_ratelimit_take (td_ratelimit_t *self, const char *credential, size_t len, int64_t now_us,
                   int *retry_after_s)
{
    if (!self || !credential)
        return true;
    unsigned char h [crypto_shorthash_BYTES];
    crypto_shorthash (h, (const unsigned char *) credential, len, self->hkey);
    uint64_t key;
    memcpy (&key, h, sizeof key);
    uint32_t slot = (uint32_t) (key & (self->nheads - 1));
    uint32_t i = self->heads [slot];
    while (i != S_NIL && self->b [i].key != key)
        i = self->b [i].hnext;
    if (i == S_NIL) {
        if (self->used < self->capacity)
            i = self->used++;
        else {
            i = self->lru_tail;     //  forget the least recently used
            s_lru_unlink (self, i);
            s_hash_unlink (self, i);
        }
        s_bucket_t *b = &self->b [i];
        b->key = key;
        b->tokens = self->burst;
        b->last_us = now_us;
        b->hnext = self->heads [slot];
        self->heads [slot] = i;
        b->prev = b->next = S_NIL;
    }
    else
        s_lru_unlink (self, i);
    s_lru_push_front (self, i);
    s_bucket_t *b = &self->b [i];
    if (now_us > b->last_us) {
        b->tokens += (double) (now_us - b->last_us) / 1e6 * self->rate;
        if (b->tokens > self->burst)
            b->tokens = self->burst;
        b->last_us = now_us;
    }
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return true;
    }
    if (retry_after_s) {
        double wait = (1 - b->tokens) / self->rate;
        int secs = wait > 86400 ? 86400 : (int) wait;
        if (secs < wait)
            secs++;
        *retry_after_s = secs < 1 ? 1 : secs;
    }
    return false;
}
