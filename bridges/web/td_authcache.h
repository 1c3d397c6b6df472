/*  td_authcache — the web bridge's principal cache: the auth map identity answered for a
 *  credential (access token or API key), so that a repeated request needs no auth.verify hop.
 *
 *  Why it is safe (IDENTITY.md §1): every change that could make a cached map wrong sends a
 *  PostgreSQL notification in the same transaction (schema/0012_identity_notify.sql); the
 *  bridge's listener (td_authlisten.c) drops the matching entries when it arrives. While the
 *  listener is not connected and listening, the cache is "not live": it is empty, lookups miss
 *  and nothing is stored, so every request is verified by identity as if there were no cache.
 *
 *  - Keyed by a keyed BLAKE2b-256 of the credential (random key per process): the table never
 *    holds a credential.
 *  - Bounded: at most `capacity` entries, the least recently used is dropped first.
 *  - Each entry ends at its valid_until (unix seconds; identity sets it to the earlier of the
 *    token's exp and the session's expiry); a lookup at or after it misses and drops it.
 *  - A verdict fetched while an invalidation arrived must not be stored (it may predate it):
 *    take td_authcache_epoch before asking identity and pass it to td_authcache_put, which
 *    stores nothing when any drop, flush or state change happened in between.
 *
 *  Thread-safe (one mutex): the bridge's lws thread looks up and stores, the listener thread
 *  drops. Pure otherwise (no sockets): unit-tested in tests/unit/test_web_authcache.c.
 */
#ifndef TD_AUTHCACHE_H
#define TD_AUTHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct td_authcache td_authcache_t;

//  capacity: entries kept (1..10000000). NULL on bad capacity or out of memory.
td_authcache_t *td_authcache_new (size_t capacity);
void td_authcache_destroy (td_authcache_t **self_p);

//  Live: the invalidations are being received. Any change flushes the cache and bumps the epoch.
void td_authcache_set_live (td_authcache_t *self, bool live);
bool td_authcache_live (td_authcache_t *self);

//  The current epoch: changes on every drop that removed or could have removed an entry, every
//  flush and every change of state.
uint64_t td_authcache_epoch (td_authcache_t *self);

//  The auth map (packed msgpack) cached for credential, copied into a fresh heap buffer
//  (*map, *size; free it). 1 hit, 0 miss (not live, absent or expired at now_s), -1 no memory.
int td_authcache_get (td_authcache_t *self, const char *credential, size_t len, int64_t now_s,
                      void **map, size_t *size);

//  Store the map identity answered for credential. user/session/key name what the map is about
//  ("" or NULL when not applicable); valid_until in unix seconds. Stores nothing (returns 0)
//  when not live, when epoch is not the current epoch, when valid_until <= now_s, or out of
//  memory; 1 when stored.
int td_authcache_put (td_authcache_t *self, const char *credential, size_t len, uint64_t epoch,
                      int64_t now_s, int64_t valid_until, const char *user, const char *session,
                      const char *key, const void *map, size_t size);

//  A notification payload: "s:<session>", "u:<user>", "k:<key>" drop the matching entries;
//  "b:..." (a barrier) and "a:..." (a bridge's acknowledgement of one) drop nothing; anything else flushes everything (fail safe). Returns the
//  number of entries dropped.
size_t td_authcache_drop (td_authcache_t *self, const char *what);

//  Drop every entry (and bump the epoch).
void td_authcache_flush (td_authcache_t *self);

//  Drop the entries expired at now_s. Returns how many.
size_t td_authcache_expire (td_authcache_t *self, int64_t now_s);

//  Entries held (for tests and metrics).
size_t td_authcache_size (td_authcache_t *self);

#endif
