/*  test_core_db — an actor's database connection against real PostgreSQL, including a restart.
 *
 *  Needs TUTORD_TEST_DB (conninfo of a test database) and TUTORD_TEST_PGDATA (the cluster's data
 *  directory, restarted with pg_ctl as the postgres user); tools/check provides both. A missing
 *  variable is a failure, not a skip: this test guards the "PostgreSQL restarted" fault.
 *  TUTORD_TEST_SERIAL: it restarts the shared cluster, so ctest runs it alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "td_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_db.h"

static void
test_parameterised_queries (void **state)
{
    (void) state;
    td_db_t *db = td_db_new (td_test_env ("TUTORD_TEST_DB"), "test");
    assert_non_null (db);
    assert_int_equal (td_db_ping (db), 0);
    //  Hostile text goes in as a parameter, never into the SQL.
    const char *params [] = { "'); DROP TABLE x; --" };
    PGresult *res = td_db_exec (db, "rid1", "SELECT $1::text || '!'", 1, params);
    assert_non_null (res);
    assert_string_equal (PQgetvalue (res, 0, 0), "'); DROP TABLE x; --!");
    PQclear (res);
    //  A real SQL error is returned with its SQLSTATE, not retried, and the connection lives on.
    res = td_db_exec (db, "rid2", "SELECT 1/0", 0, NULL);
    assert_null (res);
    assert_string_equal (td_db_last_sqlstate (db), "22012");
    assert_non_null (strstr (td_db_last_error (db), "division by zero"));
    assert_int_equal (td_db_ping (db), 0);
    td_db_destroy (&db);
    assert_null (db);
    td_db_destroy (&db);            //  idempotent
}

static void
test_unreachable_server (void **state)
{
    (void) state;
    td_db_t *db = td_db_new ("host=/nonexistent-socket-dir dbname=x connect_timeout=1", "test");
    assert_non_null (db);
    assert_int_equal (td_db_ping (db), -1);
    assert_null (td_db_exec (db, NULL, "SELECT 1", 0, NULL));
    assert_true (strlen (td_db_last_error (db)) > 0);
    td_db_destroy (&db);
}

static void
test_survives_restart (void **state)
{
    (void) state;
    td_db_t *db = td_db_new (td_test_env ("TUTORD_TEST_DB"), "test");
    assert_non_null (db);
    PGresult *res = td_db_exec (db, NULL, "SELECT pg_backend_pid()", 0, NULL);
    assert_non_null (res);
    char before [32];
    snprintf (before, sizeof before, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);

    char cmd [1024];
    snprintf (cmd, sizeof cmd,
              "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D '%s' -w -m fast "
              "restart >/dev/null 2>&1", td_test_env ("TUTORD_TEST_PGDATA"));
    assert_int_equal (system (cmd), 0);

    //  The old connection is dead; the next statement reconnects and succeeds.
    res = td_db_exec (db, NULL, "SELECT pg_backend_pid()", 0, NULL);
    if (!res)
        fail_msg ("no reconnection after restart: %s", td_db_last_error (db));
    assert_string_not_equal (PQgetvalue (res, 0, 0), before);
    PQclear (res);
    td_db_destroy (&db);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_parameterised_queries),
        cmocka_unit_test (test_unreachable_server),
        cmocka_unit_test (test_survives_restart),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
