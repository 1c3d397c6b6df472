/*  test_llm_dbq — the llm actor's batched non-blocking writes (td_llm_dbq) against PostgreSQL.
 *
 *  Why: a tutor turn's answer and usage rows now go through this queue before llm.done; a lost,
 *  doubled or reordered write would break "history persisted before done" and "usage to the
 *  token". Checked: many writes commit, in order, without the caller waiting; a failing statement
 *  rolls its batch back and every other write of it is redone alone (ok), the failing one reported;
 *  the queue's connection killed by the server: writes still land (slow path, then a new
 *  connection); destroy completes what is queued; an unreachable server: every write goes to the
 *  fallback connection. Needs TUTORD_TEST_DB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "td_test.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "llm/td_llm_dbq.h"
#include "llm/td_llm.h"

#define N 300

static char s_table [64];
static char s_insert [160];         //  the queue keeps the SQL pointer: static storage
static td_db_t *s_db;

typedef struct {
    int order [N + 16];
    bool ok [N + 16];
    int n;
} seen_t;

typedef struct {
    seen_t *seen;
    int id;
} arg_t;

static arg_t s_args [N + 16];

static void
s_done (void *arg, const PGresult *res)
{
    arg_t *a = (arg_t *) arg;
    a->seen->order [a->seen->n] = a->id;
    a->seen->ok [a->seen->n] = res != NULL;
    //  the statement's own result: INSERT ... RETURNING gives back what was written
    if (res)
        assert_int_equal (atoi (PQgetvalue (res, 0, 0)), a->id);
    a->seen->n++;
}

static int
s_push (td_llm_dbq_t *q, seen_t *seen, int id)
{
    char idbuf [16], v [32];
    snprintf (idbuf, sizeof idbuf, "%d", id);
    snprintf (v, sizeof v, "value %d", id);
    const char *params [] = { idbuf, v };
    s_args [id] = (arg_t) { .seen = seen, .id = id };
    return td_llm_dbq_push (q, "rid", s_insert, 2, params, s_done, &s_args [id]);
}

//  Run the queue as the actor loop would until nothing is pending (10 s at most).
static void
s_drain (td_llm_dbq_t *q)
{
    struct timespec t0, t;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    while (td_llm_dbq_pending (q) > 0) {
        struct pollfd pfd = { .fd = td_llm_dbq_fd (q), .events = POLLIN };
        poll (&pfd, 1, 100);
        td_llm_dbq_run (q);
        clock_gettime (CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 10)
            fail_msg ("writes still pending after 10 s: %zu", td_llm_dbq_pending (q));
    }
}

static long
s_count (const char *where)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count (*) FROM %s WHERE %s", s_table, where);
    PGresult *res = td_db_exec (s_db, NULL, sql, 0, NULL);
    assert_non_null (res);
    long n = atol (PQgetvalue (res, 0, 0));
    PQclear (res);
    return n;
}

static void
s_exec (const char *sql)
{
    PGresult *res = td_db_exec (s_db, NULL, sql, 0, NULL);
    if (!res)
        fail_msg ("%s: %s", sql, td_db_last_error (s_db));
    PQclear (res);
}

static int
s_setup (void **state)
{
    (void) state;
    s_db = td_db_new (td_test_env ("TUTORD_TEST_DB"), "test");
    snprintf (s_table, sizeof s_table, "llm_dbq_test_%d", (int) getpid ());
    snprintf (s_insert, sizeof s_insert, "INSERT INTO %s (id, v) VALUES ($1::int, $2) RETURNING id",
              s_table);
    char sql [256];
    snprintf (sql, sizeof sql, "DROP TABLE IF EXISTS %s", s_table);
    s_exec (sql);
    snprintf (sql, sizeof sql, "CREATE TABLE %s (id int PRIMARY KEY, v text NOT NULL)", s_table);
    s_exec (sql);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    char sql [256];
    snprintf (sql, sizeof sql, "DROP TABLE IF EXISTS %s", s_table);
    s_exec (sql);
    td_db_destroy (&s_db);
    return 0;
}

static void
s_truncate (void)
{
    char sql [128];
    snprintf (sql, sizeof sql, "TRUNCATE %s", s_table);
    s_exec (sql);
}

static void
test_many_writes_commit_in_order (void **state)
{
    (void) state;
    s_truncate ();
    seen_t seen = { .n = 0 };
    td_llm_dbq_t *q = td_llm_dbq_new (td_test_env ("TUTORD_TEST_DB"), s_db);
    assert_non_null (q);
    for (int i = 0; i < N; i++)
        assert_int_equal (s_push (q, &seen, i), 0);
    //  the caller did not wait: most of it is still queued or in flight
    assert_true (td_llm_dbq_pending (q) > N / 2);
    assert_int_equal (seen.n, 0);
    assert_true (td_llm_dbq_backend_pid (q) > 0);
    s_drain (q);
    assert_int_equal (seen.n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal (seen.order [i], i);
        assert_true (seen.ok [i]);
    }
    assert_int_equal (s_count ("true"), N);
    assert_int_equal (s_count ("v = 'value 299'"), 1);
    assert_int_equal (td_llm_dbq_redone (q), 0);     //  all in batches
    td_llm_dbq_destroy (&q);
    assert_null (q);
}

static void
test_a_failing_write_is_alone_in_failing (void **state)
{
    (void) state;
    s_truncate ();
    seen_t seen = { .n = 0 };
    td_llm_dbq_t *q = td_llm_dbq_new (td_test_env ("TUTORD_TEST_DB"), s_db);
    assert_non_null (q);
    //  a first batch in flight, so the next three gather into one batch
    assert_int_equal (s_push (q, &seen, 10), 0);
    assert_int_equal (s_push (q, &seen, 1), 0);
    assert_int_equal (s_push (q, &seen, 2), 0);
    char idbuf [] = "1", v [] = "duplicate";
    const char *params [] = { idbuf, v };
    s_args [3] = (arg_t) { .seen = &seen, .id = 3 };
    assert_int_equal (td_llm_dbq_push (q, "rid", s_insert, 2, params, s_done, &s_args [3]), 0);
    assert_int_equal (s_push (q, &seen, 4), 0);
    s_drain (q);
    assert_int_equal (seen.n, 5);
    int want [] = { 10, 1, 2, 3, 4 };
    bool ok [] = { true, true, true, false, true };
    for (int i = 0; i < 5; i++) {
        assert_int_equal (seen.order [i], want [i]);
        assert_int_equal (seen.ok [i], ok [i]);
    }
    //  the batch was rolled back and redone: every good row once, the duplicate never
    assert_int_equal (s_count ("true"), 4);
    assert_int_equal (s_count ("id = 1 AND v = 'value 1'"), 1);
    assert_int_equal (td_llm_dbq_redone (q), 4);
    //  the queue goes on batching afterwards (no failed transaction left on its connection)
    assert_int_equal (s_push (q, &seen, 5), 0);
    assert_int_equal (s_push (q, &seen, 6), 0);
    s_drain (q);
    assert_true (seen.ok [5] && seen.ok [6]);
    assert_int_equal (td_llm_dbq_redone (q), 4);
    assert_int_equal (s_count ("true"), 6);
    td_llm_dbq_destroy (&q);
}

static void
test_connection_killed (void **state)
{
    (void) state;
    s_truncate ();
    seen_t seen = { .n = 0 };
    td_llm_dbq_t *q = td_llm_dbq_new (td_test_env ("TUTORD_TEST_DB"), s_db);
    assert_non_null (q);
    assert_int_equal (s_push (q, &seen, 0), 0);
    s_drain (q);
    int pid = td_llm_dbq_backend_pid (q);
    assert_true (pid > 0);
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT pg_terminate_backend (%d)", pid);
    s_exec (sql);
    usleep (200 * 1000);
    for (int i = 1; i <= 20; i++)
        assert_int_equal (s_push (q, &seen, i), 0);
    s_drain (q);
    assert_int_equal (seen.n, 21);
    for (int i = 0; i < 21; i++) {
        assert_int_equal (seen.order [i], i);
        assert_true (seen.ok [i]);
    }
    assert_int_equal (s_count ("true"), 21);
    //  a new connection serves what comes next
    assert_int_equal (s_push (q, &seen, 21), 0);
    s_drain (q);
    assert_true (td_llm_dbq_backend_pid (q) != pid);
    assert_int_equal (s_count ("true"), 22);
    td_llm_dbq_destroy (&q);
}

static void
test_destroy_completes_what_is_queued (void **state)
{
    (void) state;
    s_truncate ();
    seen_t seen = { .n = 0 };
    td_llm_dbq_t *q = td_llm_dbq_new (td_test_env ("TUTORD_TEST_DB"), s_db);
    assert_non_null (q);
    for (int i = 0; i < 50; i++)
        assert_int_equal (s_push (q, &seen, i), 0);
    td_llm_dbq_destroy (&q);
    assert_int_equal (seen.n, 50);
    for (int i = 0; i < 50; i++)
        assert_true (seen.ok [i]);
    assert_int_equal (s_count ("true"), 50);
}

static void
test_unreachable_server_uses_the_fallback (void **state)
{
    (void) state;
    s_truncate ();
    seen_t seen = { .n = 0 };
    td_llm_dbq_t *q = td_llm_dbq_new ("host=/nonexistent-socket-dir dbname=x", s_db);
    assert_non_null (q);
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_push (q, &seen, i), 0);
    //  written at once on the fallback connection (no queue connection to wait for)
    assert_int_equal (seen.n, 3);
    assert_int_equal (td_llm_dbq_pending (q), 0);
    assert_int_equal (td_llm_dbq_backend_pid (q), 0);
    assert_int_equal (s_count ("true"), 3);
    //  bad input: nothing queued, no callback
    assert_int_equal (td_llm_dbq_push (q, "rid", NULL, 0, NULL, s_done, NULL), -1);
    assert_int_equal (td_llm_dbq_push (NULL, "rid", s_insert, 0, NULL, s_done, NULL), -1);
    assert_int_equal (td_llm_dbq_push (q, "rid", s_insert, -1, NULL, s_done, NULL), -1);
    assert_int_equal (seen.n, 3);
    td_llm_dbq_destroy (&q);
}

static void
s_usage_done (void *arg, const PGresult *res)
{
    int *ok = (int *) arg;
    *ok += res != NULL;
}

//  The usage statement (td_llm_usage_sql) carries its call's key: written again — the queue's
//  slow path after a batch whose COMMIT reached the server but whose reply was lost — it adds
//  nothing; another call's key adds again. Through the queue and on a plain connection alike.
static void
test_usage_written_twice_counts_once (void **state)
{
    (void) state;
    char org [64], key1 [33], key2 [33], sql [256];
    snprintf (org, sizeof org, "org-usage-test-%d", (int) getpid ());
    td_new_id (key1);
    td_new_id (key2);
    const char *p1 [] = { org, "u1", "m", "10", "5", "0", key1 };
    const char *p2 [] = { org, "u1", "m", "7", "3", "1", key2 };
    td_llm_dbq_t *q = td_llm_dbq_new (td_test_env ("TUTORD_TEST_DB"), s_db);
    assert_non_null (q);
    int ok = 0;
    assert_int_equal (td_llm_dbq_push (q, "rid", td_llm_usage_sql, 7, p1, s_usage_done, &ok), 0);
    assert_int_equal (td_llm_dbq_push (q, "rid", td_llm_usage_sql, 7, p1, s_usage_done, &ok), 0);
    s_drain (q);
    assert_int_equal (ok, 2);                   //  both statements ran: the second added nothing
    PGresult *res = td_db_exec (s_db, NULL, td_llm_usage_sql, 7, p1);
    assert_non_null (res);
    PQclear (res);
    snprintf (sql, sizeof sql, "SELECT prompt_tokens, completion_tokens, requests, errors"
              " FROM llm_usage WHERE org_id = '%s'", org);
    res = td_db_exec (s_db, NULL, sql, 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    assert_string_equal (PQgetvalue (res, 0, 0), "10");
    assert_string_equal (PQgetvalue (res, 0, 1), "5");
    assert_string_equal (PQgetvalue (res, 0, 2), "1");
    assert_string_equal (PQgetvalue (res, 0, 3), "0");
    PQclear (res);
    //  another call adds to the same row
    assert_int_equal (td_llm_dbq_push (q, "rid", td_llm_usage_sql, 7, p2, s_usage_done, &ok), 0);
    s_drain (q);
    res = td_db_exec (s_db, NULL, sql, 0, NULL);
    assert_non_null (res);
    assert_string_equal (PQgetvalue (res, 0, 0), "17");
    assert_string_equal (PQgetvalue (res, 0, 1), "8");
    assert_string_equal (PQgetvalue (res, 0, 2), "2");
    assert_string_equal (PQgetvalue (res, 0, 3), "1");
    PQclear (res);
    td_llm_dbq_destroy (&q);
    snprintf (sql, sizeof sql, "DELETE FROM llm_usage WHERE org_id = '%s'", org);
    s_exec (sql);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_many_writes_commit_in_order),
        cmocka_unit_test (test_a_failing_write_is_alone_in_failing),
        cmocka_unit_test (test_connection_killed),
        cmocka_unit_test (test_destroy_completes_what_is_queued),
        cmocka_unit_test (test_unreachable_server_uses_the_fallback),
        cmocka_unit_test (test_usage_written_twice_counts_once),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
