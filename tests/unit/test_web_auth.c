/*  test_web_auth — the pure parts of the bridge's caller handling: reading identity's auth map,
 *  the WebSocket event filter (who sees which event), the per-token rate limiter (refill, burst,
 *  Retry-After, bounded memory with LRU eviction) and which routes are public.
 *
 *  These decide what a caller may see and how often they may ask, so the tests try the edges:
 *  another org's admin, a mentee of someone else, an API key of the other org, anonymous
 *  connections, maps with a wrong kind or a missing user, and buckets pushed out of the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>
#include "td_json.h"
#include "td_routes.h"
#include "td_webauth.h"

//  Build a td_webauth_t from JSON text through msgpack, as the bridge gets it from identity.
static td_webauth_t *
s_auth (const char *json_text)
{
    json_t *j = json_loads (json_text, 0, NULL);
    assert_non_null (j);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal (td_json_to_mp (j, &pk, NULL), 0);
    json_decref (j);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    assert_int_equal (msgpack_unpack_next (&u, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    td_webauth_t *auth = td_webauth_from_mp (&u.data);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    return auth;
}

static void
test_auth_map (void **state)
{
    (void) state;
    td_webauth_t *a = s_auth ("{\"kind\":\"user\",\"user\":\"u1\",\"session\":\"s1\","
        "\"email\":\"a@x.org\",\"memberships\":[{\"org\":\"A\",\"role\":\"admin\"},"
        "{\"org\":\"B\",\"role\":\"learner\"}],\"cohorts\":[],\"mentees\":[\"m3\",\"m1\",\"m2\"]}");
    assert_non_null (a);
    assert_int_equal (a->kind, TD_AUTH_USER);
    assert_string_equal (a->user, "u1");
    assert_string_equal (a->session, "s1");
    assert_int_equal (a->nadmin, 1);
    assert_string_equal (a->admin [0], "A");
    assert_int_equal (a->nmentees, 3);
    assert_string_equal (a->mentees [0], "m1");         //  sorted
    td_webauth_destroy (&a);
    assert_null (a);

    a = s_auth ("{\"kind\":\"api_key\",\"key\":\"k1\",\"org\":\"A\",\"user\":null}");
    assert_non_null (a);
    assert_int_equal (a->kind, TD_AUTH_API_KEY);
    assert_string_equal (a->org, "A");
    td_webauth_destroy (&a);

    //  Refused: not produced from a token, or incomplete
    assert_null (s_auth ("{\"kind\":\"anonymous\"}"));
    assert_null (s_auth ("{\"kind\":\"system\"}"));
    assert_null (s_auth ("{\"kind\":\"user\"}"));
    assert_null (s_auth ("{\"kind\":\"user\",\"user\":5}"));
    assert_null (s_auth ("{\"kind\":\"api_key\"}"));
    assert_null (s_auth ("{\"user\":\"u1\"}"));
    assert_null (s_auth ("[1,2]"));
    assert_null (td_webauth_from_mp (NULL));
    td_webauth_destroy (NULL);
}

static void
test_event_filter (void **state)
{
    (void) state;
    //  learner of A (u-learn), mentor of cohort A1 (mentees u-learn), admin of A, admin of B,
    //  key of A, key of B
    td_webauth_t *learner = s_auth ("{\"kind\":\"user\",\"user\":\"u-learn\","
        "\"memberships\":[{\"org\":\"A\",\"role\":\"learner\"}]}");
    td_webauth_t *mentor = s_auth ("{\"kind\":\"user\",\"user\":\"u-mentor\","
        "\"memberships\":[{\"org\":\"A\",\"role\":\"mentor\"}],\"mentees\":[\"u-learn\"]}");
    td_webauth_t *admin_a = s_auth ("{\"kind\":\"user\",\"user\":\"u-admin-a\","
        "\"memberships\":[{\"org\":\"A\",\"role\":\"admin\"}]}");
    td_webauth_t *admin_b = s_auth ("{\"kind\":\"user\",\"user\":\"u-admin-b\","
        "\"memberships\":[{\"org\":\"B\",\"role\":\"admin\"}]}");
    td_webauth_t *key_a = s_auth ("{\"kind\":\"api_key\",\"key\":\"k\",\"org\":\"A\"}");
    td_webauth_t *key_b = s_auth ("{\"kind\":\"api_key\",\"key\":\"k\",\"org\":\"B\"}");
    assert_true (learner && mentor && admin_a && admin_b && key_a && key_b);

    //  The learner's own event in org A
    const char *t = "grade.result";
    assert_true  (td_webauth_event_allowed (learner, t, "A", "u-learn"));
    assert_true  (td_webauth_event_allowed (mentor, t, "A", "u-learn"));
    assert_true  (td_webauth_event_allowed (admin_a, t, "A", "u-learn"));
    assert_false (td_webauth_event_allowed (admin_b, t, "A", "u-learn"));
    assert_true  (td_webauth_event_allowed (key_a, t, "A", "u-learn"));
    assert_false (td_webauth_event_allowed (key_b, t, "A", "u-learn"));
    assert_false (td_webauth_event_allowed (NULL, t, "A", "u-learn"));
    //  Another learner's event: not the learner's, not the mentor's (not a mentee)
    assert_false (td_webauth_event_allowed (learner, t, "A", "u-other"));
    assert_false (td_webauth_event_allowed (mentor, t, "A", "u-other"));
    assert_true  (td_webauth_event_allowed (admin_a, t, "A", "u-other"));
    //  A user event without an org: the user themself and their mentors only
    assert_true  (td_webauth_event_allowed (learner, t, "", "u-learn"));
    assert_true  (td_webauth_event_allowed (mentor, t, NULL, "u-learn"));
    assert_false (td_webauth_event_allowed (admin_a, t, "", "u-learn"));
    assert_false (td_webauth_event_allowed (key_a, t, "", "u-learn"));
    //  An org event without a user: its admins and keys
    assert_false (td_webauth_event_allowed (learner, t, "A", ""));
    assert_true  (td_webauth_event_allowed (admin_a, t, "A", ""));
    assert_true  (td_webauth_event_allowed (key_a, t, "A", ""));
    assert_false (td_webauth_event_allowed (key_b, t, "A", ""));
    //  Anonymous: only system.* events naming nobody
    assert_true  (td_webauth_event_allowed (NULL, "system.actor_restarted", "", ""));
    assert_false (td_webauth_event_allowed (NULL, "system.actor_restarted", "A", ""));
    assert_false (td_webauth_event_allowed (NULL, "grade.result", "", ""));
    assert_false (td_webauth_event_allowed (NULL, "systemx", "", ""));
    //  Prefix tricks: ids are compared whole
    assert_false (td_webauth_event_allowed (learner, t, "A", "u-lear"));
    assert_false (td_webauth_event_allowed (key_a, t, "AB", ""));
    td_webauth_destroy (&learner);
    td_webauth_destroy (&mentor);
    td_webauth_destroy (&admin_a);
    td_webauth_destroy (&admin_b);
    td_webauth_destroy (&key_a);
    td_webauth_destroy (&key_b);
}

static void
test_many_mentees (void **state)
{
    (void) state;
    //  10000 mentees: lookups by binary search
    size_t size = 64 + TD_WEBAUTH_MENTEES_MAX * 16;
    char *text = malloc (size);
    assert_non_null (text);
    size_t n = (size_t) snprintf (text, size, "{\"kind\":\"user\",\"user\":\"me\",\"mentees\":[");
    for (int i = 0; i < TD_WEBAUTH_MENTEES_MAX; i++)
        n += (size_t) snprintf (text + n, size - n, "%s\"m%05d\"", i ? "," : "", i);
    snprintf (text + n, size - n, "]}");
    td_webauth_t *a = s_auth (text);
    free (text);
    assert_non_null (a);
    assert_int_equal (a->nmentees, TD_WEBAUTH_MENTEES_MAX);
    assert_true (td_webauth_event_allowed (a, "x.y", "", "m00000"));
    assert_true (td_webauth_event_allowed (a, "x.y", "", "m09999"));
    assert_true (td_webauth_event_allowed (a, "x.y", "", "m04321"));
    assert_false (td_webauth_event_allowed (a, "x.y", "", "m10000"));
    assert_false (td_webauth_event_allowed (a, "x.y", "", "m0432"));
    td_webauth_destroy (&a);
}

static void
test_rate_bucket (void **state)
{
    (void) state;
    assert_null (td_ratelimit_new (0, 10, 10));
    assert_null (td_ratelimit_new (1, 0.5, 10));
    assert_null (td_ratelimit_new (1, 10, 0));
    td_ratelimit_t *rl = td_ratelimit_new (2, 5, 100);     //  2/s, burst 5
    assert_non_null (rl);
    int64_t t = 1000000000;
    int retry = 0;
    for (int i = 0; i < 5; i++)
        assert_true (td_ratelimit_take (rl, "tok-a", 5, t, &retry));
    assert_false (td_ratelimit_take (rl, "tok-a", 5, t, &retry));
    assert_int_equal (retry, 1);                            //  0.5 s -> 1 s
    //  Another token has its own bucket
    assert_true (td_ratelimit_take (rl, "tok-b", 5, t, &retry));
    //  Refill: 2 per second
    assert_true (td_ratelimit_take (rl, "tok-a", 5, t + 500000, &retry));
    assert_false (td_ratelimit_take (rl, "tok-a", 5, t + 500000, &retry));
    assert_true (td_ratelimit_take (rl, "tok-a", 5, t + 1000000, &retry));
    //  Never more than the burst after a long pause
    t += 3600LL * 1000000;
    for (int i = 0; i < 5; i++)
        assert_true (td_ratelimit_take (rl, "tok-a", 5, t, &retry));
    assert_false (td_ratelimit_take (rl, "tok-a", 5, t, &retry));
    //  Time going backwards does not mint tokens
    assert_false (td_ratelimit_take (rl, "tok-a", 5, t - 10000000, &retry));
    assert_int_equal (td_ratelimit_size (rl), 2);
    td_ratelimit_destroy (&rl);
    assert_null (rl);

    //  A slow rate gives a longer Retry-After
    rl = td_ratelimit_new (0.1, 1, 10);
    assert_non_null (rl);
    assert_true (td_ratelimit_take (rl, "x", 1, 0, &retry));
    assert_false (td_ratelimit_take (rl, "x", 1, 0, &retry));
    assert_int_equal (retry, 10);
    td_ratelimit_destroy (&rl);
}

static void
test_rate_lru_bounded (void **state)
{
    (void) state;
    td_ratelimit_t *rl = td_ratelimit_new (1, 2, 1000);
    assert_non_null (rl);
    int retry;
    char tok [32];
    //  Exhaust "hot", then churn through 5000 other tokens while touching "hot" now and then
    assert_true (td_ratelimit_take (rl, "hot", 3, 0, &retry));
    assert_true (td_ratelimit_take (rl, "hot", 3, 0, &retry));
    for (int i = 0; i < 5000; i++) {
        snprintf (tok, sizeof tok, "cold-%d", i);
        assert_true (td_ratelimit_take (rl, tok, strlen (tok), 0, &retry));
        if (i % 500 == 0)
            assert_false (td_ratelimit_take (rl, "hot", 3, 0, &retry));     //  kept: recent
        assert_true (td_ratelimit_size (rl) <= 1000);
    }
    assert_int_equal (td_ratelimit_size (rl), 1000);
    //  The oldest cold bucket was forgotten (comes back full), a recent one was not
    assert_true (td_ratelimit_take (rl, "cold-4999", 9, 0, &retry));
    assert_false (td_ratelimit_take (rl, "cold-4999", 9, 0, &retry));
    assert_true (td_ratelimit_take (rl, "cold-0", 6, 0, &retry));
    assert_true (td_ratelimit_take (rl, "cold-0", 6, 0, &retry));
    td_ratelimit_destroy (&rl);
}

static void
test_route_flags (void **state)
{
    (void) state;
    static const struct { const char *method, *path; bool public_, noauth; } cases [] = {
        { "GET",  "/health",                          true,  true },
        { "GET",  "/metrics",                         true,  true },
        { "GET",  "/api/v1/openapi.json",             true,  true },
        { "GET",  "/ws",                              true,  true },
        { "GET",  "/api/v1/services/grade/ping",      true,  false },
        { "POST", "/api/v1/auth/register",            true,  true },
        { "POST", "/api/v1/auth/login",               true,  true },
        { "POST", "/api/v1/auth/refresh",             true,  true },
        { "POST", "/api/v1/auth/google",              true,  true },
        { "POST", "/api/v1/auth/logout",              false, false },
        { "GET",  "/api/v1/me",                       false, false },
        { "PUT",  "/api/v1/me/password",              false, false },
        { "POST", "/api/v1/orgs",                     false, false },
        { "GET",  "/api/v1/orgs/o1",                  false, false },
        { "DELETE", "/api/v1/orgs/o1/members/u1",     false, false },
        { "POST", "/api/v1/cohorts/c1/members",       false, false },
        { "POST", "/api/v1/orgs/o1/api-keys",         false, false },
        { "DELETE", "/api/v1/orgs/o1/api-keys/k1",    false, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        const td_route_t *r = NULL;
        td_params_t p;
        assert_int_equal (td_route_match (td_routes, td_routes_count,
                                          td_method_parse (cases [i].method), cases [i].path,
                                          false, &r, &p, NULL), TD_MATCH_OK);
        if (td_route_public (r) != cases [i].public_ || td_route_noauth (r) != cases [i].noauth)
            fail_msg ("%s %s: public %d noauth %d", cases [i].method, cases [i].path,
                      td_route_public (r), td_route_noauth (r));
    }
    //  Every forward route not listed public is protected, and identity routes go to identity
    size_t protected_ = 0;
    for (size_t i = 0; i < td_routes_count; i++)
        if (!td_route_public (&td_routes [i])) {
            protected_++;
            assert_int_equal (td_routes [i].kind, TD_ROUTE_FORWARD);
        }
    assert_true (protected_ >= 17);
    assert_false (td_route_public (NULL));
}

static void
test_client_ip_packed (void **state)
{
    (void) state;
    const td_route_t *r = NULL;
    td_params_t p, q;
    assert_int_equal (td_route_match (td_routes, td_routes_count, TD_METHOD_PUT,
                                      "/api/v1/orgs/o1/members/u1", false, &r, &p, NULL),
                      TD_MATCH_OK);
    q.count = 0;
    assert_int_equal (td_query_parse ("client_ip=6.6.6.6&x=1", &q, NULL), 0);
    json_t *body = json_pack ("{s:s}", "role", "mentor");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    assert_int_equal (td_route_body_pack (&sb, r, &p, &q, "127.0.0.1", body, NULL), 0);
    json_decref (body);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    assert_int_equal (msgpack_unpack_next (&u, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    json_t *j = td_mp_to_json (&u.data, NULL);
    assert_non_null (j);
    char *text = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "{\"body\":{\"role\":\"mentor\"},\"client_ip\":\"127.0.0.1\","
                               "\"id\":\"o1\",\"user_id\":\"u1\",\"x\":\"1\"}");
    free (text);
    json_decref (j);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_auth_map),
        cmocka_unit_test (test_event_filter),
        cmocka_unit_test (test_many_mentees),
        cmocka_unit_test (test_rate_bucket),
        cmocka_unit_test (test_rate_lru_bounded),
        cmocka_unit_test (test_route_flags),
        cmocka_unit_test (test_client_ip_packed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
