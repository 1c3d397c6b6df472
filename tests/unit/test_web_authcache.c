/*  test_web_authcache — the bridge's principal cache (bridges/web/td_authcache.c).
 *
 *  The cache may only ever err towards asking identity again, so the tests try every way it
 *  could answer with a stale map: not live (never listening, or the listener went down), a
 *  notification for the session / the user / the key, a notification that arrived while a
 *  verification was in flight (the epoch check), an unknown payload (flush), expiry at
 *  valid_until, and the LRU bound with many credentials. A thread dropping while another looks
 *  up checks that the lock holds (run under ASan/TSan-like conditions in the Debug build).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_authcache.h"

#define NOW 1700000000

static const char MAP [] = "\x81\xa4kind\xa4user";     //  any bytes: the cache does not parse

static td_authcache_t *
s_live_cache (size_t capacity)
{
    td_authcache_t *c = td_authcache_new (capacity);
    assert_non_null (c);
    td_authcache_set_live (c, true);
    return c;
}

static int
s_put (td_authcache_t *c, const char *token, const char *user, const char *session,
       const char *key, int64_t valid_until)
{
    return td_authcache_put (c, token, strlen (token), td_authcache_epoch (c), NOW,
                             valid_until, user, session, key, MAP, sizeof MAP);
}

static int
s_get (td_authcache_t *c, const char *token, int64_t now)
{
    void *map = NULL;
    size_t size = 0;
    int rc = td_authcache_get (c, token, strlen (token), now, &map, &size);
    if (rc == 1) {
        assert_int_equal (size, sizeof MAP);
        assert_memory_equal (map, MAP, sizeof MAP);
    }
    else
        assert_null (map);
    free (map);
    return rc;
}

static void
test_bad_arguments (void **state)
{
    (void) state;
    assert_null (td_authcache_new (0));
    td_authcache_t *c = s_live_cache (4);
    //  Nothing to store, or already expired
    assert_int_equal (td_authcache_put (c, "t", 1, td_authcache_epoch (c), NOW, NOW + 10,
                                        "u1", "s1", NULL, MAP, 0), 0);
    assert_int_equal (s_put (c, "t", "u1", "s1", NULL, NOW), 0);
    assert_int_equal (s_put (c, "t", "u1", "s1", NULL, NOW - 1), 0);
    assert_int_equal (td_authcache_size (c), 0);
    td_authcache_destroy (&c);
    assert_null (c);
    td_authcache_destroy (&c);      //  twice is fine
}

static void
test_not_live_never_caches (void **state)
{
    (void) state;
    td_authcache_t *c = td_authcache_new (8);
    assert_non_null (c);
    assert_false (td_authcache_live (c));
    assert_int_equal (s_put (c, "tok", "u1", "s1", NULL, NOW + 60), 0);
    assert_int_equal (s_get (c, "tok", NOW), 0);
    td_authcache_set_live (c, true);
    assert_int_equal (s_put (c, "tok", "u1", "s1", NULL, NOW + 60), 1);
    assert_int_equal (s_get (c, "tok", NOW), 1);
    //  The listener went down: flushed at once, and nothing is stored until it is back
    td_authcache_set_live (c, false);
    assert_int_equal (td_authcache_size (c), 0);
    assert_int_equal (s_get (c, "tok", NOW), 0);
    assert_int_equal (s_put (c, "tok", "u1", "s1", NULL, NOW + 60), 0);
    //  Back: starts empty
    td_authcache_set_live (c, true);
    assert_int_equal (s_get (c, "tok", NOW), 0);
    td_authcache_destroy (&c);
}

static void
test_hit_and_distinct_credentials (void **state)
{
    (void) state;
    td_authcache_t *c = s_live_cache (8);
    assert_int_equal (s_put (c, "token-a", "u1", "s1", NULL, NOW + 60), 1);
    assert_int_equal (s_get (c, "token-a", NOW), 1);
    assert_int_equal (s_get (c, "token-b", NOW), 0);
    assert_int_equal (s_get (c, "token-", NOW), 0);         //  a prefix is another credential
    assert_int_equal (s_get (c, "token-aa", NOW), 0);
    //  Storing again replaces, never duplicates
    assert_int_equal (s_put (c, "token-a", "u1", "s1", NULL, NOW + 90), 1);
    assert_int_equal (td_authcache_size (c), 1);
    td_authcache_destroy (&c);
}

static void
test_drop_by_session_user_key (void **state)
{
    (void) state;
    td_authcache_t *c = s_live_cache (16);
    assert_int_equal (s_put (c, "a1", "userA", "sessA1", NULL, NOW + 60), 1);
    assert_int_equal (s_put (c, "a2", "userA", "sessA2", NULL, NOW + 60), 1);
    assert_int_equal (s_put (c, "b1", "userB", "sessB1", NULL, NOW + 60), 1);
    assert_int_equal (s_put (c, "k1", NULL, NULL, "key1", NOW + 60), 1);
    assert_int_equal (s_put (c, "k2", NULL, NULL, "key2", NOW + 60), 1);
    //  A logout: that session only
    assert_int_equal (td_authcache_drop (c, "s:sessA1"), 1);
    assert_int_equal (s_get (c, "a1", NOW), 0);
    assert_int_equal (s_get (c, "a2", NOW), 1);
    //  A role change: every entry of the user
    assert_int_equal (s_put (c, "a1", "userA", "sessA1", NULL, NOW + 60), 1);
    assert_int_equal (td_authcache_drop (c, "u:userA"), 2);
    assert_int_equal (s_get (c, "a1", NOW), 0);
    assert_int_equal (s_get (c, "a2", NOW), 0);
    assert_int_equal (s_get (c, "b1", NOW), 1);
    //  A key revoked
    assert_int_equal (td_authcache_drop (c, "k:key1"), 1);
    assert_int_equal (s_get (c, "k1", NOW), 0);
    assert_int_equal (s_get (c, "k2", NOW), 1);
    //  A user id is not a key id and the other way round
    assert_int_equal (td_authcache_drop (c, "u:key2"), 0);
    assert_int_equal (td_authcache_drop (c, "k:userB"), 0);
    assert_int_equal (s_get (c, "k2", NOW), 1);
    assert_int_equal (s_get (c, "b1", NOW), 1);
    //  A barrier drops nothing
    assert_int_equal (td_authcache_drop (c, "b:123:abc"), 0);
    assert_int_equal (td_authcache_size (c), 2);
    //  Something unknown (a newer writer's payload, garbage, empty): flush, fail safe
    assert_int_equal (td_authcache_drop (c, "x:whatever"), 2);
    assert_int_equal (td_authcache_size (c), 0);
    assert_int_equal (s_put (c, "b1", "userB", "sessB1", NULL, NOW + 60), 1);
    assert_int_equal (td_authcache_drop (c, ""), 1);
    assert_int_equal (s_put (c, "b1", "userB", "sessB1", NULL, NOW + 60), 1);
    assert_int_equal (td_authcache_drop (c, "u:"), 1);
    td_authcache_destroy (&c);
}

//  A verification sent before a drop and answered after it must not be stored: identity may
//  have read the session before the logout committed.
static void
test_epoch_refuses_stale_verdicts (void **state)
{
    (void) state;
    td_authcache_t *c = s_live_cache (8);
    uint64_t e0 = td_authcache_epoch (c);
    assert_int_equal (td_authcache_drop (c, "s:someone-else"), 0);     //  any drop counts
    assert_int_equal (td_authcache_put (c, "tok", 3, e0, NOW, NOW + 60, "u1", "s1", NULL, MAP,
                                        sizeof MAP), 0);
    assert_int_equal (s_get (c, "tok", NOW), 0);
    //  A barrier does not change the epoch
    uint64_t e1 = td_authcache_epoch (c);
    td_authcache_drop (c, "b:1:2");
    assert_int_equal (td_authcache_epoch (c), e1);
    assert_int_equal (td_authcache_put (c, "tok", 3, e1, NOW, NOW + 60, "u1", "s1", NULL, MAP,
                                        sizeof MAP), 1);
    //  Nor may a verdict from before the listener went down and up again
    uint64_t e2 = td_authcache_epoch (c);
    td_authcache_set_live (c, false);
    td_authcache_set_live (c, true);
    assert_int_equal (td_authcache_put (c, "tok", 3, e2, NOW, NOW + 60, "u1", "s1", NULL, MAP,
                                        sizeof MAP), 0);
    td_authcache_destroy (&c);
}

static void
test_expiry (void **state)
{
    (void) state;
    td_authcache_t *c = s_live_cache (8);
    assert_int_equal (s_put (c, "short", "u1", "s1", NULL, NOW + 5), 1);
    assert_int_equal (s_put (c, "long", "u2", "s2", NULL, NOW + 500), 1);
    assert_int_equal (s_get (c, "short", NOW + 4), 1);
    assert_int_equal (s_get (c, "short", NOW + 5), 0);          //  at exp: gone
    assert_int_equal (td_authcache_size (c), 1);                //  and dropped by the lookup
    assert_int_equal (s_put (c, "short", "u1", "s1", NULL, NOW + 5), 1);
    assert_int_equal (td_authcache_expire (c, NOW + 5), 1);     //  the sweep drops it too
    assert_int_equal (td_authcache_expire (c, NOW + 5), 0);
    assert_int_equal (s_get (c, "long", NOW + 499), 1);
    assert_int_equal (td_authcache_expire (c, NOW + 1000), 1);
    assert_int_equal (td_authcache_size (c), 0);
    td_authcache_destroy (&c);
}

static void
test_bounded_lru (void **state)
{
    (void) state;
    td_authcache_t *c = s_live_cache (100);
    char tok [32], user [32];
    for (int i = 0; i < 1000; i++) {
        snprintf (tok, sizeof tok, "tok-%d", i);
        snprintf (user, sizeof user, "user-%d", i);
        assert_int_equal (s_put (c, tok, user, user, NULL, NOW + 60), 1);
        if (i == 10)
            assert_int_equal (s_get (c, "tok-0", NOW), 1);      //  keep tok-0 recent
        if (i > 10 && i % 50 == 0)
            assert_int_equal (s_get (c, "tok-0", NOW), 1);
    }
    assert_int_equal (td_authcache_size (c), 100);
    assert_int_equal (s_get (c, "tok-0", NOW), 1);              //  recently used: kept
    assert_int_equal (s_get (c, "tok-1", NOW), 0);              //  least recently used: gone
    assert_int_equal (s_get (c, "tok-999", NOW), 1);
    assert_int_equal (s_get (c, "tok-899", NOW), 0);
    //  Dropping from a full table and filling it again keeps every structure consistent
    assert_int_equal (td_authcache_drop (c, "u:user-950"), 1);
    assert_int_equal (td_authcache_size (c), 99);
    for (int i = 0; i < 300; i++) {
        snprintf (tok, sizeof tok, "again-%d", i);
        assert_int_equal (s_put (c, tok, "x", "y", NULL, NOW + 60), 1);
    }
    assert_int_equal (td_authcache_size (c), 100);
    assert_int_equal (td_authcache_drop (c, "u:x"), 100);
    assert_int_equal (td_authcache_size (c), 0);
    td_authcache_destroy (&c);
}

//  One thread looks up and stores while another drops and flips the state: under the lock,
//  a dropped user is never answered after the drop returned.
typedef struct {
    td_authcache_t *c;
    volatile int stop;
} s_race_t;

static void *
s_dropper (void *arg)
{
    s_race_t *r = (s_race_t *) arg;
    for (int i = 0; i < 20000; i++) {
        td_authcache_drop (r->c, i % 2 ? "u:racer" : "s:other");
        if (i % 1000 == 0) {
            td_authcache_set_live (r->c, false);
            td_authcache_set_live (r->c, true);
        }
    }
    r->stop = 1;
    return NULL;
}

static void
test_concurrent_drops (void **state)
{
    (void) state;
    s_race_t r = { s_live_cache (64), 0 };
    pthread_t t;
    assert_int_equal (pthread_create (&t, NULL, s_dropper, &r), 0);
    int stored = 0;
    while (!r.stop) {
        uint64_t e = td_authcache_epoch (r.c);
        stored += td_authcache_put (r.c, "tok", 3, e, NOW, NOW + 60, "racer", "s", NULL, MAP,
                                    sizeof MAP);
        s_get (r.c, "tok", NOW);
    }
    assert_int_equal (pthread_join (t, NULL), 0);
    //  After the last drop of the user, nothing of theirs is left
    td_authcache_drop (r.c, "u:racer");
    assert_int_equal (s_get (r.c, "tok", NOW), 0);
    assert_true (stored >= 0);
    td_authcache_destroy (&r.c);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_bad_arguments),
        cmocka_unit_test (test_not_live_never_caches),
        cmocka_unit_test (test_hit_and_distinct_credentials),
        cmocka_unit_test (test_drop_by_session_user_key),
        cmocka_unit_test (test_epoch_refuses_stale_verdicts),
        cmocka_unit_test (test_expiry),
        cmocka_unit_test (test_bounded_lru),
        cmocka_unit_test (test_concurrent_drops),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
