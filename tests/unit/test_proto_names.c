/*  test_proto_names — the actor/service table and the name validators used by broker and bridge. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "td_names.h"
#include "td_msg.h"

static void
test_actor_table (void **state)
{
    (void) state;
    static const char *pairs [][2] = {
        { "identity", "identity" }, { "catalog", "catalog" }, { "session", "session" },
        { "grader", "grade" }, { "llm", "llm" }, { "srs", "srs" },
        { "analytics", "analytics" }, { "trainer", "train" },
    };
    assert_int_equal (td_actor_names_count, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_string_equal (td_actor_names [i].actor, pairs [i][0]);
        assert_string_equal (td_actor_names [i].service, pairs [i][1]);
        assert_string_equal (td_service_of (pairs [i][0]), pairs [i][1]);
        assert_string_equal (td_service_of (pairs [i][1]), pairs [i][1]);
        assert_string_equal (td_actor_of (pairs [i][1]), pairs [i][0]);
        assert_true (td_name_valid (pairs [i][0]));
        assert_true (td_name_valid (pairs [i][1]));
    }
    assert_null (td_service_of ("broker"));
    assert_null (td_service_of ("nope"));
    assert_null (td_service_of (""));
    assert_null (td_service_of (NULL));
    assert_null (td_actor_of ("grader"));           //  an actor is not a service
    assert_null (td_actor_of (NULL));
    assert_string_equal (TD_SERVICE_BROKER, "broker");
    assert_true (td_name_valid (TD_SERVICE_BROKER));
}

static void
test_name_valid (void **state)
{
    (void) state;
    assert_true (td_name_valid ("a"));
    assert_true (td_name_valid ("ping"));
    assert_true (td_name_valid ("submit_v2"));
    assert_true (td_name_valid ("a.b-c_d9"));
    char longest [TD_MAX_NAME + 2];
    memset (longest, 'x', TD_MAX_NAME);
    longest [TD_MAX_NAME] = 0;
    assert_true (td_name_valid (longest));
    longest [TD_MAX_NAME] = 'x';
    longest [TD_MAX_NAME + 1] = 0;
    assert_false (td_name_valid (longest));
    assert_false (td_name_valid (NULL));
    assert_false (td_name_valid (""));
    assert_false (td_name_valid ("9lives"));
    assert_false (td_name_valid ("_x"));
    assert_false (td_name_valid ("Ping"));
    assert_false (td_name_valid ("pi ng"));
    assert_false (td_name_valid ("ping/"));
    assert_false (td_name_valid ("caf\xc3\xa9"));
}

static void
test_event_type_valid (void **state)
{
    (void) state;
    const char *good [] = { "grade.queued", "grade.result", "srs.due", "llm.delta", "train.done",
                            "analytics.achievement", "catalog.published", "a.b", "x.y.z" };
    for (size_t i = 0; i < sizeof (good) / sizeof (good [0]); i++)
        assert_true (td_event_type_valid (good [i]));
    const char *bad [] = { "grade", "grade.", ".grade", "grade..x", "Grade.result", "grade.re sult",
                           "", "1x.y" };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad [0]); i++)
        assert_false (td_event_type_valid (bad [i]));
    assert_false (td_event_type_valid (NULL));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_actor_table),
        cmocka_unit_test (test_name_valid),
        cmocka_unit_test (test_event_type_valid),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
