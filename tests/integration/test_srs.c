/*  test_srs — two srs actors (in-process, one broker, one PostgreSQL) racing on the same card.
 *
 *  Why: a learner syncing two devices, or a retried request landing on another srs worker, makes
 *  reviews of one card arrive at two actors at once. Below HTTP, with requests sent together so
 *  the broker spreads them over both workers:
 *    - 16 copies of one review with one client_review_id: every answer 200 with the same log_id,
 *      one log row, reps 1 (idempotent under concurrency: the unique key and the replay);
 *    - 16 different reviews of one card: each either applied (200) or refused 409 after its
 *      retries, never lost silently or applied twice: reps = log rows = the number of 200s;
 *    - the actors' PostgreSQL connections killed between requests (pg_terminate_backend, found
 *      by this run's application_name): the prepared statements of the hot paths are gone with
 *      them, and reviews and the due queue go on answering 200, nothing lost.
 *  Needs TUTORD_TEST_DB migrated through schema/0009_srs.sql.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "td_test.h"
#include <czmq.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "td_actor.h"
#include "td_broker.h"
#include "td_client.h"
#include "td_db.h"
#include "td_json.h"
#include "td_mp.h"

extern const td_actor_spec_t td_srs_actor;

#define RACE 16

static td_config_t s_cfg;
static td_broker_args_t s_broker_args;
static td_actor_args_t s_actor_args;
static zactor_t *s_broker, *s_actor [2];
static td_client_t *s_client;
static td_db_t *s_db;
static char s_user [64], s_auth [160], s_app [32];

//  Send type with body (JSON) as the test learner; the request id into id.
static void
s_send (const char *type, const char *body, char id [33])
{
    msgpack_sbuffer b, a, out;
    msgpack_sbuffer_init (&b);
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&out);
    td_test_pack (body, &b);
    td_test_pack (s_auth, &a);
    td_new_id (id);
    td_request_spec_t spec = { .id = id, .type = type, .body = b.data, .body_size = b.size,
                               .auth = a.data, .auth_size = a.size,
                               .deadline = zclock_time () + 20000 };
    td_error_t err;
    assert_int_equal (td_request_pack (&out, &spec, &err), 0);
    assert_int_equal (td_client_send (s_client, "srs", out.data, out.size), 0);
    msgpack_sbuffer_destroy (&b);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&out);
}

//  The final reply to one of the ids sent; its index into *which, its status, its body as JSON.
static json_t *
s_recv (char ids [][33], int n, int *which, int *status)
{
    for (;;) {
        bool final = false;
        td_error_t err;
        td_msg_t *r = td_client_recv (s_client, 20000, &final, &err);
        if (!r)
            fail_msg ("no reply: %s", err.message);
        for (int i = 0; final && i < n; i++)
            if (strcmp (td_msg_id (r), ids [i]) == 0) {
                *which = i;
                *status = td_msg_status (r);
                json_t *j = *status < 400? td_mp_to_json (td_msg_body (r), &err): json_object ();
                td_msg_destroy (&r);
                return j;
            }
        td_msg_destroy (&r);
    }
}

static long
s_count (const char *sql, const char *card)
{
    const char *params [] = { card };
    PGresult *res = td_db_exec (s_db, NULL, sql, 1, params);
    if (!res)
        fail_msg ("query failed: %s", td_db_last_error (s_db));
    long n = atol (PQgetvalue (res, 0, 0));
    PQclear (res);
    return n;
}

//  A fresh card of the test learner; its id into id.
static void
s_card (char id [40])
{
    char rid [1][33];
    s_send ("card.create", "{\"body\": {\"front\": \"der Hund\", \"back\": \"the dog\"}}", rid [0]);
    int which, status;
    json_t *c = s_recv (rid, 1, &which, &status);
    assert_int_equal (status, 201);
    snprintf (id, 40, "%s", json_string_value (json_object_get (c, "id")));
    json_decref (c);
}

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_cfg, 0, sizeof s_cfg);
    s_cfg.run_broker = true;
    s_cfg.heartbeat_ms = 500;
    char run [33];
    td_new_id (run);
    //  The actors' connections carry this run's name, so the test can end exactly those.
    snprintf (s_cfg.db, sizeof s_cfg.db, "%s application_name=srs-%.12s",
              td_test_env ("TUTORD_TEST_DB"), run);
    snprintf (s_app, sizeof s_app, "srs-%.12s", run);
    s_db = td_db_new (td_test_env ("TUTORD_TEST_DB"), "test");
    snprintf (s_user, sizeof s_user, "srs-race-%s", run);
    snprintf (s_auth, sizeof s_auth, "{\"kind\": \"user\", \"user\": \"%s\", \"memberships\": []}",
              s_user);
    s_broker_args = (td_broker_args_t) {
        .request_endpoints = "@" TD_INPROC_BROKER, .events_in = "@" TD_INPROC_EVENTS_IN,
        .events_out = "@" TD_INPROC_EVENTS, .heartbeat_ms = 500
    };
    s_broker = zactor_new (td_broker_actor, &s_broker_args);
    assert_non_null (s_broker);
    s_actor_args = (td_actor_args_t) { .spec = &td_srs_actor, .cfg = &s_cfg };
    for (int i = 0; i < 2; i++) {
        s_actor [i] = zactor_new (td_actor_task, &s_actor_args);
        assert_non_null (s_actor [i]);
    }
    s_client = td_client_new (TD_INPROC_BROKER);
    assert_non_null (s_client);
    assert_true (td_test_wait_ping (s_client, "srs", 20000));
    zclock_sleep (600);                             //  both workers registered
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    const char *params [] = { s_user };
    PGresult *res = td_db_exec (s_db, NULL, "DELETE FROM srs_cards WHERE user_id = $1", 1, params);
    if (res)
        PQclear (res);
    td_client_destroy (&s_client);
    for (int i = 0; i < 2; i++)
        zactor_destroy (&s_actor [i]);
    zactor_destroy (&s_broker);
    td_db_destroy (&s_db);
    return 0;
}

static void
test_same_client_review_id_races (void **state)
{
    (void) state;
    char card [40], ids [RACE][33], body [256];
    s_card (card);
    snprintf (body, sizeof body, "{\"body\": {\"card_id\": \"%s\", \"rating\": 3,"
              " \"client_review_id\": \"race-1\"}}", card);
    for (int i = 0; i < RACE; i++)
        s_send ("review", body, ids [i]);
    long log_id = -1;
    for (int k = 0; k < RACE; k++) {
        int which, status;
        json_t *j = s_recv (ids, RACE, &which, &status);
        assert_int_equal (status, 200);
        long got = (long) json_integer_value (json_object_get (j, "log_id"));
        if (log_id < 0)
            log_id = got;
        assert_int_equal (got, log_id);
        json_decref (j);
    }
    assert_int_equal (s_count ("SELECT count (*) FROM srs_reviews WHERE card_id = $1::uuid", card), 1);
    assert_int_equal (s_count ("SELECT reps FROM srs_cards WHERE id = $1::uuid", card), 1);
}

static void
test_different_reviews_race (void **state)
{
    (void) state;
    char card [40], ids [RACE][33], body [256];
    s_card (card);
    for (int i = 0; i < RACE; i++) {
        snprintf (body, sizeof body, "{\"body\": {\"card_id\": \"%s\", \"rating\": %d}}", card,
                  1 + i % 4);
        s_send ("review", body, ids [i]);
    }
    int applied = 0;
    long seen [RACE];
    for (int k = 0; k < RACE; k++) {
        int which, status;
        json_t *j = s_recv (ids, RACE, &which, &status);
        if (status == 200) {
            seen [applied] = (long) json_integer_value (json_object_get (j, "log_id"));
            for (int m = 0; m < applied; m++)
                assert_true (seen [m] != seen [applied]);
            applied++;
        }
        else
            assert_int_equal (status, 409);         //  lost its retries to the other worker
        json_decref (j);
    }
    print_message ("%d of %d applied, the rest 409\n", applied, RACE);
    assert_true (applied >= RACE / 2);
    assert_int_equal (s_count ("SELECT count (*) FROM srs_reviews WHERE card_id = $1::uuid", card),
                      applied);
    assert_int_equal (s_count ("SELECT reps FROM srs_cards WHERE id = $1::uuid", card), applied);
}

//  One request and its status (and body, the caller's).
static json_t *
s_call (const char *type, const char *body, int *status)
{
    char ids [1][33];
    int which;
    s_send (type, body, ids [0]);
    return s_recv (ids, 1, &which, status);
}

static void
test_connections_killed (void **state)
{
    (void) state;
    char card [40], body [256];
    s_card (card);
    snprintf (body, sizeof body, "{\"body\": {\"card_id\": \"%s\", \"rating\": 3}}", card);
    int status;
    for (int round = 0; round < 3; round++) {
        json_decref (s_call ("review", body, &status));     //  prepares on this connection
        assert_int_equal (status, 200);
        json_decref (s_call ("due", "{\"limit\": \"5\"}", &status));
        assert_int_equal (status, 200);
        const char *params [] = { s_app };
        PGresult *res = td_db_exec (s_db, NULL,
            "SELECT count (pg_terminate_backend (pid)) FROM pg_stat_activity"
            " WHERE application_name = $1", 1, params);
        assert_non_null (res);
        assert_true (atoi (PQgetvalue (res, 0, 0)) >= 1);
        PQclear (res);
        zclock_sleep (100);
    }
    json_decref (s_call ("review", body, &status));
    assert_int_equal (status, 200);
    json_decref (s_call ("due", "{\"limit\": \"5\"}", &status));
    assert_int_equal (status, 200);
    assert_int_equal (s_count ("SELECT reps FROM srs_cards WHERE id = $1::uuid", card), 4);
    assert_int_equal (s_count ("SELECT count (*) FROM srs_reviews WHERE card_id = $1::uuid", card), 4);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_same_client_review_id_races),
        cmocka_unit_test (test_different_reviews_race),
        cmocka_unit_test (test_connections_killed),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
