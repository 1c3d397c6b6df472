/*  test_core_config — configuration: defaults, every bad value named in one line, the secret
 *  generated once and reused, the actor selection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "td_config.h"
#include "td_names.h"

static char s_var [256];

static const char *s_vars [] = {
    "TUTORD_VAR", "TUTORD_DB", "TUTORD_HTTP", "TUTORD_BROKER", "TUTORD_EVENTS", "TUTORD_EVENTS_IN",
    "TUTORD_ACTORS", "TUTORD_SECRET", "TUTORD_LLM_PROVIDER", "TUTORD_LLM_BASE_URL",
    "TUTORD_LLM_API_KEY", "TUTORD_LLM_MODEL", "TUTORD_PYTHON", "TUTORD_STATIC",
    "TUTORD_HTTP_MAX_BODY", "TUTORD_DRAIN_MS", "TUTORD_HEARTBEAT_MS", "TUTORD_REQUEST_TIMEOUT_MS",
    "TUTORD_LOG_LEVEL", "TUTORD_FAULTS", "TUTORD_GRADER_WORKERS", "TUTORD_RATE_PER_TOKEN", NULL
};

static int
s_setup (void **state)
{
    (void) state;
    for (int i = 0; s_vars [i]; i++)
        unsetenv (s_vars [i]);
    snprintf (s_var, sizeof s_var, "/tmp/tutord-config-test-XXXXXX");
    assert_non_null (mkdtemp (s_var));
    setenv ("TUTORD_VAR", s_var, 1);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    char path [300];
    snprintf (path, sizeof path, "%s/secret", s_var);
    unlink (path);
    rmdir (s_var);
    return 0;
}

static void
test_defaults (void **state)
{
    (void) state;
    td_config_t cfg;
    char err [512] = "";
    assert_int_equal (td_config_load (&cfg, err, sizeof err), 0);
    assert_string_equal (cfg.http_host, "127.0.0.1");
    assert_int_equal (cfg.http_port, 8080);
    assert_string_equal (cfg.broker, "tcp://127.0.0.1:5555");
    assert_string_equal (cfg.events, "tcp://127.0.0.1:5556");
    assert_true (cfg.db_private);
    assert_non_null (strstr (cfg.db, "/pg/run"));
    assert_true (cfg.run_broker && cfg.run_web);
    for (size_t i = 0; i < td_actor_names_count; i++)
        assert_true (cfg.run_actor [i]);
    assert_string_equal (cfg.llm_provider, "offline");
    assert_string_equal (cfg.python, "/usr/bin/python3");
    assert_int_equal (strlen (cfg.secret), 64);
    assert_string_equal (td_config_broker_endpoint (&cfg), TD_INPROC_BROKER);
}

static void
test_secret_is_kept (void **state)
{
    (void) state;
    td_config_t a, b;
    char err [512];
    assert_int_equal (td_config_load (&a, err, sizeof err), 0);
    assert_int_equal (td_config_load (&b, err, sizeof err), 0);
    assert_string_equal (a.secret, b.secret);
    char path [300];
    snprintf (path, sizeof path, "%s/secret", s_var);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
}

//  Each bad value fails with a line that names its variable.
static void
test_bad_values_name_the_variable (void **state)
{
    (void) state;
    struct { const char *name, *value; } bad [] = {
        { "TUTORD_HTTP", "localhost" },
        { "TUTORD_HTTP", "127.0.0.1:0" },
        { "TUTORD_HTTP", "127.0.0.1:99999" },
        { "TUTORD_HTTP", ":8080" },
        { "TUTORD_BROKER", "http://x:1" },
        { "TUTORD_BROKER", "tcp://127.0.0.1" },
        { "TUTORD_EVENTS", "tcp://127.0.0.1:abc" },
        { "TUTORD_EVENTS_IN", "nonsense" },
        { "TUTORD_ACTORS", "grader,wizard" },
        { "TUTORD_ACTORS", "," },
        { "TUTORD_SECRET", "short" },
        { "TUTORD_LLM_PROVIDER", "skynet" },
        { "TUTORD_LLM_BASE_URL", "ftp://example" },
        { "TUTORD_PYTHON", "python3" },
        { "TUTORD_PYTHON", "/nonexistent/python3" },
        { "TUTORD_HTTP_MAX_BODY", "12x" },
        { "TUTORD_HTTP_MAX_BODY", "10" },
        { "TUTORD_DRAIN_MS", "-1" },
        { "TUTORD_HEARTBEAT_MS", "99999999999999999999" },
        { "TUTORD_REQUEST_TIMEOUT_MS", "1" },
        { "TUTORD_LOG_LEVEL", "loud" },
        { "TUTORD_FAULTS", "yes" },
        { "TUTORD_GRADER_WORKERS", "0" },
        { "TUTORD_GRADER_WORKERS", "many" },
        { "TUTORD_RATE_PER_TOKEN", "-5" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        setenv (bad [i].name, bad [i].value, 1);
        td_config_t cfg;
        char err [512] = "";
        int rc = td_config_load (&cfg, err, sizeof err);
        if (rc == 0 || !strstr (err, bad [i].name))
            fail_msg ("%s=%s: rc %d, message '%s'", bad [i].name, bad [i].value, rc, err);
        assert_null (strchr (err, '\n'));
        unsetenv (bad [i].name);
    }
}

static void
test_actor_selection (void **state)
{
    (void) state;
    setenv ("TUTORD_ACTORS", "grader, srs,web", 1);
    setenv ("TUTORD_DB", "host=/nowhere dbname=x", 1);
    td_config_t cfg;
    char err [512];
    assert_int_equal (td_config_load (&cfg, err, sizeof err), 0);
    assert_false (cfg.run_broker);
    assert_true (cfg.run_web);
    assert_false (cfg.db_private);
    assert_string_equal (cfg.db, "host=/nowhere dbname=x");
    for (size_t i = 0; i < td_actor_names_count; i++) {
        bool want = strcmp (td_actor_names [i].actor, "grader") == 0
                 || strcmp (td_actor_names [i].actor, "srs") == 0;
        assert_int_equal (cfg.run_actor [i], want);
    }
    //  Without the broker here, actors reach the remote one over TCP.
    assert_string_equal (td_config_broker_endpoint (&cfg), "tcp://127.0.0.1:5555");
    assert_string_equal (td_config_events_in_endpoint (&cfg), "tcp://127.0.0.1:5557");
    //  Service names are accepted as aliases of their actors.
    setenv ("TUTORD_ACTORS", "grade,train", 1);
    assert_int_equal (td_config_load (&cfg, err, sizeof err), 0);
    setenv ("TUTORD_HTTP", "[::1]:9000", 1);
    assert_int_equal (td_config_load (&cfg, err, sizeof err), 0);
    assert_string_equal (cfg.http_host, "::1");
    assert_int_equal (cfg.http_port, 9000);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_defaults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_secret_is_kept, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_values_name_the_variable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_actor_selection, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
