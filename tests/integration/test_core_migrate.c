/*  test_core_migrate — the schema migrator against a real PostgreSQL (TUTORD_TEST_DB).
 *
 *  Each test makes its own scratch database and its own folder of migration files, so tests run
 *  in parallel with anything else using the test cluster. What is tried: applying twice (the
 *  second run is a no-op), several migrators racing (each file applied once), a failing file
 *  (rolled back entirely, not recorded, later files not tried), a changed applied file (refused,
 *  nothing applied), bad names, duplicate and out-of-order versions, a vanished applied file, a
 *  file with its own COMMIT, an unreachable server, and the project's real schema/ folder.
 *  Without TUTORD_TEST_DB every test is skipped (tools/check always sets it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "td_migrate.h"

typedef struct {
    char dbname [64];
    char conninfo [2048];
    char dir [256];
} fixture_t;

static int s_seq;

static void
s_quiet (void *arg, const char *message)
{
    (void) arg;
    (void) message;                 //  "database ... does not exist, skipping"
}

//  Admin connection to the test database.
static PGconn *
s_admin (void)
{
    PGconn *conn = PQconnectdb (getenv ("TUTORD_TEST_DB"));
    assert_non_null (conn);
    if (PQstatus (conn) != CONNECTION_OK)
        fail_msg ("cannot connect to TUTORD_TEST_DB: %s", PQerrorMessage (conn));
    PQsetNoticeProcessor (conn, s_quiet, NULL);
    return conn;
}

static void
s_admin_exec (const char *sql)
{
    PGconn *conn = s_admin ();
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        fail_msg ("%s: %s", sql, PQerrorMessage (conn));
    PQclear (res);
    PQfinish (conn);
}

//  TUTORD_TEST_DB with dbname replaced (works for key=value strings and URIs alike).
static void
s_conninfo_for (const char *dbname, char *out, size_t outlen)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse (getenv ("TUTORD_TEST_DB"), &errmsg);
    if (!opts)
        fail_msg ("TUTORD_TEST_DB does not parse: %s", errmsg? errmsg: "?");
    size_t used = 0;
    out [0] = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || strcmp (o->keyword, "dbname") == 0)
            continue;
        //  values are quoted, with ' and \ escaped, as libpq's syntax wants
        used += (size_t) snprintf (out + used, outlen - used, "%s='", o->keyword);
        for (const char *c = o->val; *c && used + 4 < outlen; c++) {
            if (*c == '\'' || *c == '\\')
                out [used++] = '\\';
            out [used++] = *c;
        }
        used += (size_t) snprintf (out + used, outlen - used, "' ");
        assert_true (used < outlen);
    }
    snprintf (out + used, outlen - used, "dbname=%s", dbname);
    PQconninfoFree (opts);
}

static void
s_write (fixture_t *fx, const char *fname, const char *sql)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", fx->dir, fname);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    assert_int_equal (fputs (sql, f) >= 0, 1);
    assert_int_equal (fclose (f), 0);
}

static void
s_remove (fixture_t *fx, const char *fname)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", fx->dir, fname);
    assert_int_equal (unlink (path), 0);
}

//  One value from the scratch database (first row, first column), as an int; -1 for no row.
static int
s_query_int (fixture_t *fx, const char *sql)
{
    PGconn *conn = PQconnectdb (fx->conninfo);
    assert_int_equal (PQstatus (conn), CONNECTION_OK);
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        fail_msg ("%s: %s", sql, PQerrorMessage (conn));
    int v = PQntuples (res) > 0? atoi (PQgetvalue (res, 0, 0)): -1;
    PQclear (res);
    PQfinish (conn);
    return v;
}

static int
s_setup (void **state)
{
    if (!getenv ("TUTORD_TEST_DB") || !*getenv ("TUTORD_TEST_DB"))
        skip ();
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    snprintf (fx->dbname, sizeof fx->dbname, "td_migrate_%d_%d", (int) getpid (), ++s_seq);
    char sql [128];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s", fx->dbname);
    s_admin_exec (sql);
    snprintf (sql, sizeof sql, "CREATE DATABASE %s", fx->dbname);
    s_admin_exec (sql);
    s_conninfo_for (fx->dbname, fx->conninfo, sizeof fx->conninfo);
    snprintf (fx->dir, sizeof fx->dir, "/tmp/td_migrate_XXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    if (!fx)
        return 0;
    char cmd [512];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", fx->dir);
    char sql [128];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx->dbname);
    s_admin_exec (sql);
    free (fx);
    return 0;
}

static void
s_count_applied (int version, const char *name, void *arg)
{
    (void) version;
    (void) name;
    (*(int *) arg)++;
}

static void
test_apply_twice (void **state)
{
    fixture_t *fx = *state;
    s_write (fx, "0001_first.sql", "CREATE TABLE t1 (id int PRIMARY KEY);\n");
    s_write (fx, "0002_second.sql", "INSERT INTO t1 VALUES (1), (2);\n");
    s_write (fx, "README.md", "not a migration\n");
    td_error_t err;
    int called = 0;
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, s_count_applied, &called, &err), 2);
    assert_int_equal (called, 2);
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, s_count_applied, &called, &err), 0);
    assert_int_equal (called, 2);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM t1"), 2);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM schema_migrations"), 2);
    assert_int_equal (s_query_int (fx,
        "SELECT count(*) FROM schema_migrations WHERE length(checksum) = 64 AND applied_at <= now()"), 2);
    assert_int_equal (s_query_int (fx, "SELECT version FROM schema_migrations WHERE name = '0002_second'"), 2);
    //  a new file later is applied on its own
    s_write (fx, "0003_third.sql", "ALTER TABLE t1 ADD COLUMN label text;");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), 1);
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), 0);
}

typedef struct {
    const char *conninfo;
    const char *dir;
    int result;
    td_error_t err;
} racer_t;

static void *
s_racer (void *arg)
{
    racer_t *r = arg;
    r->result = td_migrate_run (r->conninfo, r->dir, NULL, NULL, &r->err);
    return NULL;
}

static void
test_concurrent_migrators (void **state)
{
    fixture_t *fx = *state;
    //  slow files widen the window in which an unlocked migrator would apply them twice
    s_write (fx, "0001_slow.sql", "SELECT pg_sleep(0.3); CREATE TABLE racy (id int);");
    s_write (fx, "0002_count.sql", "SELECT pg_sleep(0.1); INSERT INTO racy VALUES (1);");
    enum { RACERS = 4 };
    racer_t racers [RACERS];
    pthread_t threads [RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers [i] = (racer_t) { .conninfo = fx->conninfo, .dir = fx->dir };
        assert_int_equal (pthread_create (&threads [i], NULL, s_racer, &racers [i]), 0);
    }
    //  join every thread before any assertion can leave this frame (racers live on its stack)
    int joined = 0;
    for (int i = 0; i < RACERS; i++)
        joined += pthread_join (threads [i], NULL) == 0;
    assert_int_equal (joined, RACERS);
    int total = 0;
    for (int i = 0; i < RACERS; i++) {
        if (racers [i].result < 0)
            fail_msg ("racer %d failed: %s", i, racers [i].err.message);
        total += racers [i].result;
    }
    assert_int_equal (total, 2);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM racy"), 1);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM schema_migrations"), 2);
}

static void
test_failure_rolls_back (void **state)
{
    fixture_t *fx = *state;
    s_write (fx, "0001_good.sql", "CREATE TABLE good (id int);");
    s_write (fx, "0002_bad.sql",
             "CREATE TABLE half (id int);\n"
             "INSERT INTO half VALUES (1);\n"
             "INSERT INTO no_such_table VALUES (1);\n");
    s_write (fx, "0003_after.sql", "CREATE TABLE after_bad (id int);");
    td_error_t err;
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_INTERNAL);
    assert_non_null (strstr (err.message, "0002_bad.sql line 3"));
    assert_non_null (strstr (err.message, "no_such_table"));
    //  0001 committed; nothing of 0002 (neither its table nor its row); 0003 not tried
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM schema_migrations"), 1);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM pg_tables WHERE tablename = 'good'"), 1);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM pg_tables WHERE tablename = 'half'"), 0);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM pg_tables WHERE tablename = 'after_bad'"), 0);
    //  the lock was released: fixing the file lets the next run finish the job
    s_write (fx, "0002_bad.sql", "CREATE TABLE half (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), 2);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM schema_migrations"), 3);
}

static void
test_changed_checksum_refused (void **state)
{
    fixture_t *fx = *state;
    s_write (fx, "0001_base.sql", "CREATE TABLE base (id int);");
    td_error_t err;
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), 1);
    s_write (fx, "0001_base.sql", "CREATE TABLE base (id bigint);");
    s_write (fx, "0002_next.sql", "CREATE TABLE next_one (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_CONFLICT);
    assert_non_null (strstr (err.message, "0001_base.sql changed"));
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM pg_tables WHERE tablename = 'next_one'"), 0);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM schema_migrations"), 1);
    //  a renamed applied file is refused too
    s_write (fx, "0001_base.sql", "CREATE TABLE base (id int);");
    s_remove (fx, "0001_base.sql");
    s_write (fx, "0001_renamed.sql", "CREATE TABLE base (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_CONFLICT);
    //  and a vanished one
    s_remove (fx, "0001_renamed.sql");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_CONFLICT);
    assert_non_null (strstr (err.message, "missing"));
}

static void
test_bad_files_refused (void **state)
{
    fixture_t *fx = *state;
    td_error_t err;
    s_write (fx, "1-bad.sql", "CREATE TABLE never (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    s_remove (fx, "1-bad.sql");
    s_write (fx, "0000_zero.sql", "CREATE TABLE never (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    s_remove (fx, "0000_zero.sql");
    s_write (fx, "0001_Upper.sql", "CREATE TABLE never (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    s_remove (fx, "0001_Upper.sql");
    s_write (fx, "0001_a.sql", "CREATE TABLE never (id int);");
    s_write (fx, "001_b.sql", "CREATE TABLE never2 (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    assert_non_null (strstr (err.message, "same version"));
    s_remove (fx, "001_b.sql");
    //  nothing was applied by the refused runs
    PGconn *conn = PQconnectdb (fx->conninfo);
    PGresult *res = PQexec (conn, "SELECT 1 FROM pg_tables WHERE tablename IN ('never', 'never2', 'schema_migrations')");
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_int_equal (PQntuples (res), 0);
    PQclear (res);
    PQfinish (conn);
    //  a missing folder
    assert_int_equal (td_migrate_run (fx->conninfo, "/nonexistent/schema", NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
}

static void
test_out_of_order_refused (void **state)
{
    fixture_t *fx = *state;
    td_error_t err;
    s_write (fx, "0001_a.sql", "CREATE TABLE a (id int);");
    s_write (fx, "0003_c.sql", "CREATE TABLE c (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), 2);
    s_write (fx, "0002_b.sql", "CREATE TABLE b (id int);");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_CONFLICT);
    assert_non_null (strstr (err.message, "0002_b.sql"));
}

static void
test_own_transaction_refused (void **state)
{
    fixture_t *fx = *state;
    td_error_t err;
    s_write (fx, "0001_commits.sql", "CREATE TABLE sneaky (id int); COMMIT;");
    assert_int_equal (td_migrate_run (fx->conninfo, fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM schema_migrations"), 0);
}

static void
test_unreachable_server (void **state)
{
    fixture_t *fx = *state;
    td_error_t err;
    s_write (fx, "0001_a.sql", "CREATE TABLE a (id int);");
    assert_int_equal (td_migrate_run ("host=/nonexistent/socket/dir dbname=x connect_timeout=2",
                                      fx->dir, NULL, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_UNAVAILABLE);
    assert_non_null (strstr (err.message, "cannot connect"));
}

static void
test_project_schema (void **state)
{
    fixture_t *fx = *state;
    const char *src = getenv ("TUTORD_SOURCE_DIR");
    char dir [4096];
    snprintf (dir, sizeof dir, "%s/schema", src? src: ".");
    td_error_t err;
    int applied = td_migrate_run (fx->conninfo, dir, NULL, NULL, &err);
    if (applied < 0)
        fail_msg ("schema/: %s", err.message);
    assert_true (applied >= 1);
    assert_int_equal (td_migrate_run (fx->conninfo, dir, NULL, NULL, &err), 0);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM schema_migrations"), applied);
    assert_int_equal (s_query_int (fx, "SELECT count(*) FROM pg_tables WHERE tablename = 'system_settings'"), 1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_apply_twice, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_concurrent_migrators, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failure_rolls_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_changed_checksum_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_files_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_out_of_order_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_own_transaction_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unreachable_server, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_project_schema, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("core_migrate", tests, NULL, NULL);
}
