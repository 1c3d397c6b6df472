/*  td_webauth — the caller as the web bridge knows it: the verified auth map, the WebSocket
 *  event filter, and the per-token rate limiter (IDENTITY.md §2, §4, §5).
 *
 *  Pure code (no lws, no sockets) so it is unit-tested directly (tests/unit/test_web_auth.c).
 *  The bridge verifies every caller with identity's auth.verify and never trusts what a client
 *  claims; this file only reads the map identity answered, and keeps what the event filter of a
 *  WebSocket connection needs in a form that is fast per event: the user id, the API key's org,
 *  the orgs the caller administers, and the mentees (sorted, binary search).
 *
 *  The rate limiter is a token bucket per credential, keyed by a keyed hash (SipHash) of the
 *  token so the table never holds a credential, with at most `capacity` buckets: the least
 *  recently used is forgotten first (a forgotten bucket comes back full, which only ever errs
 *  towards letting a request through). One owner thread; no locking.
 */
#ifndef TD_WEBAUTH_H
#define TD_WEBAUTH_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "td_limits.h"

typedef enum {
    TD_AUTH_ANONYMOUS = 0,
    TD_AUTH_USER,
    TD_AUTH_API_KEY
} td_auth_kind_t;

#define TD_WEBAUTH_ORGS_MAX     256             //  admin orgs kept per caller
#define TD_WEBAUTH_MENTEES_MAX  10000           //  IDENTITY.md §2

typedef struct {
    td_auth_kind_t kind;
    char user [TD_MAX_ID + 1];                  //  TD_AUTH_USER
    char session [TD_MAX_ID + 1];               //  TD_AUTH_USER
    char org [TD_MAX_ID + 1];                   //  TD_AUTH_API_KEY: the key's org
    int nadmin;
    char (*admin) [TD_MAX_ID + 1];              //  orgs where the user is admin (heap)
    size_t nmentees;
    char **mentees;                             //  sorted (heap)
} td_webauth_t;

//  Read identity's auth map (auth.verify reply body). NULL when it is not a map of a known
//  kind (anonymous and system are refused too: the bridge never produces them from a token).
td_webauth_t *td_webauth_from_mp (const msgpack_object *map);
void td_webauth_destroy (td_webauth_t **self_p);

//  The event visibility rule (CONTRACT.md §4, IDENTITY.md §5). auth NULL means anonymous.
//  type is the event type; org and user are "" when nil. Anonymous connections see only
//  "system." events that name no org and no user (the same operational facts /health and
//  /metrics publish); a user sees events about themself, about their mentees, and about the
//  orgs they administer; an API key the events of its org.
bool td_webauth_event_allowed (const td_webauth_t *auth, const char *type, const char *org,
                               const char *user);

typedef struct td_ratelimit td_ratelimit_t;

//  rate: tokens per second (> 0); burst: bucket size (>= 1); capacity: buckets kept (>= 1).
td_ratelimit_t *td_ratelimit_new (double rate, double burst, size_t capacity);
void td_ratelimit_destroy (td_ratelimit_t **self_p);
//  Take one token for credential (len bytes) at now_us (monotonic). True when allowed; else
//  false with *retry_after_s set to the whole seconds (>= 1) until a token is back.
bool td_ratelimit_take (td_ratelimit_t *self, const char *credential, size_t len, int64_t now_us,
                        int *retry_after_s);
//  Buckets currently held (for tests).
size_t td_ratelimit_size (const td_ratelimit_t *self);

#endif
