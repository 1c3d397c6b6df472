/*  test_catalog_progress — drip per cohort and progress from the grader, below HTTP: the catalog
 *  actor in-process with a real broker, PostgreSQL, the event plane, and a stand-in grader.
 *
 *  Needs TUTORD_TEST_DB (migrated through schema/0007_catalog_progress.sql). Covered here:
 *    - drip: three cohorts of a real identity org with start dates in the past and the future; a
 *      learner sees the union of their linked cohorts' releases, one in no linked cohort every
 *      module; a cohort of another org cannot be linked (404 cohort_id);
 *    - grade.result events published on the event plane: applied once per submission id however
 *      often they arrive (attempts 1, one catalog.progress event), malformed ones dropped with
 *      the actor still answering;
 *    - the catch-up: a stand-in "grade" worker serves result.list; results finished before the
 *      catalog started, and while it was stopped, are applied at its start, from the stored
 *      cursor, each once (one with a finished_at PostgreSQL refuses, too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "td_test.h"
#include <czmq.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_actor.h"
#include "td_broker.h"
#include "td_client.h"
#include "td_db.h"
#include "td_events.h"
#include "td_json.h"
#include "td_mp.h"

extern const td_actor_spec_t td_catalog_actor;

static td_config_t s_cfg;
static td_broker_args_t s_broker_args;
static td_actor_args_t s_actor_args, s_grader_args;
static zactor_t *s_broker, *s_actor, *s_grader;
static td_client_t *s_client;
static td_db_t *s_db;
static td_events_t *s_pub;
static char s_run [33];
static char s_org [40], s_other_org [40];
static char s_mentor [512];
static char s_feed_item [2][40];    //  the items the stand-in grader's results are about
static char s_learner_id [64];
static atomic_int s_feed_count;     //  results in the stand-in grader's feed
static atomic_int s_feed_from;      //  the position the last result.list started from
#define SYSTEM "{\"kind\": \"system\"}"

//  --------------------------------------------------------------------------
//  The stand-in grader: result.list over a feed of s_feed_count results; the cursor is
//  "fake-<n>" (n results read). Result i: item 0 for i < 2 (fail, then pass), else item 1.

static int
s_result_list (td_actor_t *actor, td_call_t *call)
{
    (void) actor;
    char since [64] = "";
    td_mp_strcpy (td_mp_get (td_call_body (call), "since"), since, sizeof since);
    int from = strncmp (since, "fake-", 5) == 0? atoi (since + 5): 0;
    int count = atomic_load (&s_feed_count);
    atomic_store (&s_feed_from, from);
    json_t *list = json_array ();
    for (int i = from; i < count; i++) {
        char sub [80];
        snprintf (sub, sizeof sub, "feed-%s-%d", s_run, i);
        json_array_append_new (list, json_pack ("{s:s, s:s, s:s, s:s, s:b, s:s}",
            "submission_id", sub, "user_id", s_learner_id, "item_id", s_feed_item [i < 2? 0: 1],
            "verdict", i == 0? "wrong_answer": "accepted", "passed", i != 0,
            //  result 2 carries a time PostgreSQL refuses: applied all the same
            "finished_at", i == 2? "2026-13-45T99:00:00Z": "2026-11-22T10:00:00.000Z"));
    }
    char next [32];
    snprintf (next, sizeof next, "fake-%d", count);
    json_t *reply = json_pack ("{s:o, s:s, s:b}", "results", list, "next", next, "more", 0);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    td_error_t err;
    if (td_json_to_mp (reply, &pk, &err) == 0)
        td_call_reply (call, 200, buf.data, buf.size);
    else
        td_call_error (call, TD_ERR_INTERNAL, NULL, "encoding");
    msgpack_sbuffer_destroy (&buf);
    json_decref (reply);
    return TD_ACTOR_OK;
}

static const td_verb_t s_grader_verbs [] = { { "result.list", s_result_list }, { NULL, NULL } };
static const td_actor_spec_t s_grader_spec = {
    .name = "grader", .service = "grade", .needs_db = false, .verbs = s_grader_verbs
};

//  --------------------------------------------------------------------------
//  Helpers

static void
s_sql (const char *sql, int n, const char *const *params)
{
    PGresult *res = td_db_exec (s_db, NULL, sql, n, params);
    if (!res)
        fail_msg ("%s: %s", sql, td_db_last_error (s_db));
    PQclear (res);
}

//  The first column of the first row into buf ("" when no row).
static void
s_sql_value (char *buf, size_t size, const char *sql, int n, const char *const *params)
{
    PGresult *res = td_db_exec (s_db, NULL, sql, n, params);
    if (!res)
        fail_msg ("%s: %s", sql, td_db_last_error (s_db));
    snprintf (buf, size, "%s", PQntuples (res) > 0? PQgetvalue (res, 0, 0): "");
    PQclear (res);
}

static json_t *
s_call (int want, const char *auth, const char *type, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *text = zsys_vprintf (fmt, args);
    va_end (args);
    int status = 0;
    json_t *out = td_test_call_json (s_client, "catalog", auth, type, text, 10000, &status);
    if (status != want)
        print_error ("%s %s -> %d (field %s), expected %d\n", type, text, status,
                     json_string_value (json_object_get (out, "field"))?
                     json_string_value (json_object_get (out, "field")): "-", want);
    zstr_free (&text);
    assert_int_equal (status, want);
    return out;
}

//  An RFC 3339 time offset seconds from now.
static void
s_time (char *buf, size_t size, double offset)
{
    time_t t = time (NULL) + (time_t) offset;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

//  A learner's auth map, in these cohorts (ids, NULL-terminated).
static char *
s_learner (const char *user, ...)
{
    va_list args;
    va_start (args, user);
    char cohorts [1024] = "";
    const char *c;
    while ((c = va_arg (args, const char *))) {
        size_t n = strlen (cohorts);
        snprintf (cohorts + n, sizeof cohorts - n, "%s{\"cohort\": \"%s\", \"org\": \"%s\","
                  " \"role\": \"learner\"}", n? ", ": "", c, s_org);
    }
    va_end (args);
    return zsys_sprintf ("{\"kind\": \"user\", \"user\": \"%s\", \"memberships\": [{\"org\": \"%s\","
                         " \"role\": \"learner\"}], \"cohorts\": [%s]}", user, s_org, cohorts);
}

static void
s_start_catalog (void)
{
    s_actor = zactor_new (td_actor_task, &s_actor_args);
    assert_non_null (s_actor);
    assert_true (td_test_wait_ping (s_client, "catalog", 20000));
}

static void
s_clear (void)
{
    const char *params [] = { s_org, s_other_org, s_run };
    s_sql ("DELETE FROM catalog_courses WHERE org_id IN ($1, $2)", 2, params);
    s_sql ("DELETE FROM identity_orgs WHERE id::text IN ($1, $2)", 2, params);
    const char *rp [] = { s_run };
    s_sql ("DELETE FROM catalog_grade_results WHERE submission_id LIKE '%' || $1 || '%'", 1, rp);
    s_sql ("DELETE FROM catalog_sync WHERE cursor LIKE 'fake-%'", 0, NULL);
}

//  A course of the org with n modules (one lesson, one exercise each), made with SQL; its id
//  into course, the exercises' ids into items.
static void
s_course_rows (const char *slug, int n, char *course, char items [][40])
{
    const char *params [] = { s_org, slug };
    s_sql_value (course, 40,
        "INSERT INTO catalog_courses (org_id, slug, title, status) VALUES ($1, $2, 'T', 'published')"
        " RETURNING id", 2, params);
    for (int i = 0; i < n; i++) {
        char pos [16], mid [40], lid [40];
        snprintf (pos, sizeof pos, "%d", i);
        const char *mp [] = { course, pos };
        s_sql_value (mid, sizeof mid,
            "INSERT INTO catalog_modules (course_id, slug, title, position) VALUES ($1::uuid,"
            " 'mod-' || $2, 'M', $2::int) RETURNING id", 2, mp);
        const char *lp [] = { mid };
        s_sql_value (lid, sizeof lid,
            "INSERT INTO catalog_lessons (module_id, slug, title, position) VALUES ($1::uuid,"
            " 'les', 'L', 0) RETURNING id", 1, lp);
        const char *ip [] = { lid };
        s_sql_value (items [i], 40,
            "INSERT INTO catalog_items (lesson_id, slug, kind, title, content, position) VALUES"
            " ($1::uuid, 'ex-1', 'exercise', 'E', '{\"language\": \"python\"}', 0) RETURNING id", 1, ip);
    }
}

//  --------------------------------------------------------------------------

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_cfg, 0, sizeof s_cfg);
    s_cfg.run_broker = true;
    s_cfg.heartbeat_ms = 500;
    snprintf (s_cfg.db, sizeof s_cfg.db, "%s", td_test_env ("TUTORD_TEST_DB"));
    s_db = td_db_new (s_cfg.db, "test");
    td_new_id (s_run);
    snprintf (s_learner_id, sizeof s_learner_id, "l-%s", s_run);
    //  two identity orgs (drip links name cohorts of the course's org)
    const char *p1 [] = { s_run };
    s_sql_value (s_org, sizeof s_org, "INSERT INTO identity_orgs (slug, name) VALUES"
                 " ('cp-a-' || left ($1, 12), 'A') RETURNING id", 1, p1);
    s_sql_value (s_other_org, sizeof s_other_org, "INSERT INTO identity_orgs (slug, name) VALUES"
                 " ('cp-b-' || left ($1, 12), 'B') RETURNING id", 1, p1);
    snprintf (s_mentor, sizeof s_mentor, "{\"kind\": \"user\", \"user\": \"m-%s\","
              " \"memberships\": [{\"org\": \"%s\", \"role\": \"mentor\"}]}", s_run, s_org);
    //  results the grader finished before the catalog started: a fail and a pass on item 0
    char course [40];
    char slug [64];
    snprintf (slug, sizeof slug, "feed-%.12s", s_run);
    s_course_rows (slug, 2, course, s_feed_item);
    atomic_store (&s_feed_count, 2);
    s_broker_args = (td_broker_args_t) {
        .request_endpoints = "@" TD_INPROC_BROKER, .events_in = "@" TD_INPROC_EVENTS_IN,
        .events_out = "@" TD_INPROC_EVENTS, .heartbeat_ms = 500
    };
    s_broker = zactor_new (td_broker_actor, &s_broker_args);
    assert_non_null (s_broker);
    s_client = td_client_new (TD_INPROC_BROKER);
    assert_non_null (s_client);
    s_grader_args = (td_actor_args_t) { .spec = &s_grader_spec, .cfg = &s_cfg };
    s_grader = zactor_new (td_actor_task, &s_grader_args);
    assert_non_null (s_grader);
    assert_true (td_test_wait_ping (s_client, "grade", 20000));
    s_actor_args = (td_actor_args_t) { .spec = &td_catalog_actor, .cfg = &s_cfg };
    s_start_catalog ();
    s_pub = td_events_new (TD_INPROC_EVENTS_IN);
    assert_non_null (s_pub);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    td_events_destroy (&s_pub);
    td_client_destroy (&s_client);
    zactor_destroy (&s_actor);
    zactor_destroy (&s_grader);
    zactor_destroy (&s_broker);
    s_clear ();
    td_db_destroy (&s_db);
    return 0;
}

//  Modules of the course as this caller sees them.
static size_t
s_visible_modules (const char *auth, const char *course)
{
    json_t *t = s_call (200, auth, "course.get", "{\"id\": \"%s\"}", course);
    size_t n = json_array_size (json_object_get (t, "modules"));
    json_decref (t);
    return n;
}

static void
test_drip_several_cohorts (void **state)
{
    (void) state;
    json_t *c = s_call (201, s_mentor, "course.create",
                        "{\"id\": \"%s\", \"body\": {\"slug\": \"drip-c\", \"title\": \"C\"}}", s_org);
    char course [40];
    snprintf (course, sizeof course, "%s", json_string_value (json_object_get (c, "id")));
    json_decref (c);
    for (int i = 0; i < 3; i++)
        json_decref (s_call (201, s_mentor, "module.create",
                             "{\"id\": \"%s\", \"body\": {\"slug\": \"mod-%d\", \"title\": \"M\"}}",
                             course, i));
    json_decref (s_call (200, s_mentor, "course.publish", "{\"id\": \"%s\"}", course));
    char cohort [4][40];
    for (int i = 0; i < 4; i++) {
        const char *params [] = { i == 3? s_other_org: s_org };
        s_sql_value (cohort [i], sizeof cohort [i], "INSERT INTO identity_cohorts (org_id, name)"
                     " VALUES ($1::uuid, 'C') RETURNING id", 1, params);
    }
    //  c0: 1.5 days ago, daily (2 out); c1: tomorrow (none); c2: a month ago, weekly (all 3)
    char past [32], future [32], month [32];
    s_time (past, sizeof past, -1.5 * 86400);
    s_time (future, sizeof future, 86400);
    s_time (month, sizeof month, -30 * 86400);
    const char *starts [] = { past, future, month };
    const int every [] = { 1, 1, 7 };
    for (int i = 0; i < 3; i++) {
        json_t *link = s_call (201, s_mentor, "drip.put", "{\"id\": \"%s\", \"cohort_id\": \"%s\","
                               " \"body\": {\"start_date\": \"%s\", \"every_days\": %d}}",
                               course, cohort [i], starts [i], every [i]);
        assert_int_equal (json_integer_value (json_object_get (link, "released_modules")),
                          i == 0? 2: i == 1? 0: 3);
        json_decref (link);
    }
    char *in_c0 = s_learner ("u0", cohort [0], NULL);
    char *in_c1 = s_learner ("u1", cohort [1], NULL);
    char *in_c0_c1 = s_learner ("u01", cohort [0], cohort [1], NULL);
    char *in_c1_c2 = s_learner ("u12", cohort [1], cohort [2], NULL);
    char *in_none = s_learner ("un", NULL);
    assert_int_equal (s_visible_modules (in_c0, course), 2);
    assert_int_equal (s_visible_modules (in_c1, course), 0);
    assert_int_equal (s_visible_modules (in_c0_c1, course), 2);   //  the union
    assert_int_equal (s_visible_modules (in_c1_c2, course), 3);
    assert_int_equal (s_visible_modules (in_none, course), 3);     //  normal release rules
    assert_int_equal (s_visible_modules (s_mentor, course), 3);    //  authors
    //  a cohort of another org; a learner may not link
    json_t *e = s_call (404, s_mentor, "drip.put", "{\"id\": \"%s\", \"cohort_id\": \"%s\","
                        " \"body\": {\"start_date\": \"%s\", \"every_days\": 1}}", course,
                        cohort [3], past);
    assert_string_equal (json_string_value (json_object_get (e, "field")), "cohort_id");
    json_decref (e);
    json_decref (s_call (403, in_c0, "drip.put", "{\"id\": \"%s\", \"cohort_id\": \"%s\","
                         " \"body\": {\"start_date\": \"%s\", \"every_days\": 1}}", course,
                         cohort [0], past));
    //  moving c1's start into the past releases to it at once
    json_decref (s_call (200, s_mentor, "drip.put", "{\"id\": \"%s\", \"cohort_id\": \"%s\","
                         " \"body\": {\"start_date\": \"%s\", \"every_days\": 1}}", course,
                         cohort [1], past));
    assert_int_equal (s_visible_modules (in_c1, course), 2);
    zstr_free (&in_c0);
    zstr_free (&in_c1);
    zstr_free (&in_c0_c1);
    zstr_free (&in_c1_c2);
    zstr_free (&in_none);
}

//  Publish a grade.result as the grader does (data: a JSON text).
static void
s_publish_result (const char *user, const char *data_json)
{
    msgpack_sbuffer data;
    msgpack_sbuffer_init (&data);
    td_test_pack (data_json, &data);
    td_event_spec_t ev = { .type = "grade.result", .source = "tutord/grader", .user = user,
                           .subject = "submissions/x", .data = data.data, .data_size = data.size };
    td_error_t err;
    assert_int_equal (td_events_publish (s_pub, &ev, &err), 0);
    msgpack_sbuffer_destroy (&data);
}

static void
s_progress_of (const char *user, const char *item, char *status, size_t size, int *attempts)
{
    const char *params [] = { user, item };
    PGresult *res = td_db_exec (s_db, NULL, "SELECT status, attempts FROM catalog_item_progress"
                                " WHERE user_id = $1 AND item_id = $2::uuid", 2, params);
    assert_non_null (res);
    snprintf (status, size, "%s", PQntuples (res)? PQgetvalue (res, 0, 0): "");
    *attempts = PQntuples (res)? atoi (PQgetvalue (res, 0, 1)): 0;
    PQclear (res);
}

static void
test_events_apply_once (void **state)
{
    (void) state;
    char course [40], items [1][40];
    s_course_rows ("events-once", 1, course, items);
    zsock_t *sub = zsock_new_sub (TD_INPROC_EVENTS, "catalog.progress");
    assert_non_null (sub);
    char user [64], data [512];
    snprintf (user, sizeof user, "ev-%s", s_run);
    snprintf (data, sizeof data, "{\"submission_id\": \"once-%s\", \"status\": \"done\","
              " \"verdict\": \"accepted\", \"item_id\": \"%s\", \"kind\": \"exercise\","
              " \"passed\": true}", s_run, items [0]);
    //  hostile first: wrong types, no user, an unknown item; nothing breaks
    s_publish_result (user, "{\"item_id\": 42, \"passed\": \"yes\"}");
    s_publish_result (NULL, data);
    s_publish_result (user, "[1, 2, 3]");
    char unknown [256];
    snprintf (unknown, sizeof unknown, "{\"submission_id\": \"unk-%s\", \"item_id\":"
              " \"00000000-0000-0000-0000-000000000000\", \"passed\": true}", s_run);
    s_publish_result (user, unknown);
    //  the same result until it is seen (PUB/SUB joins late), then five more times
    char status [16] = "";
    int attempts = 0;
    for (int i = 0; i < 100 && !*status; i++) {
        s_publish_result (user, data);
        zclock_sleep (50);
        s_progress_of (user, items [0], status, sizeof status, &attempts);
    }
    assert_string_equal (status, "completed");
    for (int i = 0; i < 5; i++)
        s_publish_result (user, data);
    zclock_sleep (300);
    assert_true (td_test_wait_ping (s_client, "catalog", 5000));
    s_progress_of (user, items [0], status, sizeof status, &attempts);
    assert_string_equal (status, "completed");
    assert_int_equal (attempts, 1);
    //  one catalog.progress event for this learner and item
    int seen = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (zpoller_wait (poller, 300)) {
        zmsg_t *msg = zmsg_recv (sub);
        td_error_t err;
        zframe_t *f = msg? zmsg_last (msg): NULL;
        td_msg_t *ev = f? td_msg_decode (TD_MSG_EVENT, zframe_data (f), zframe_size (f), &err): NULL;
        if (ev && strcmp (td_msg_user (ev), user) == 0)
            seen++;
        td_msg_destroy (&ev);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    assert_int_equal (seen, 1);
    const char *params [] = { user };
    char n [16];
    s_sql_value (n, sizeof n, "SELECT count (*) FROM catalog_grade_results WHERE user_id = $1", 1, params);
    assert_string_equal (n, "1");
}

//  The catch-up cursor becomes want (it is stored once a page is applied).
static void
s_wait_cursor (const char *want)
{
    char cursor [64] = "";
    for (int i = 0; i < 100 && strcmp (cursor, want); i++) {
        s_sql_value (cursor, sizeof cursor,
                     "SELECT cursor FROM catalog_sync WHERE name = 'grade.result.list'", 0, NULL);
        if (strcmp (cursor, want))
            zclock_sleep (50);
    }
    assert_string_equal (cursor, want);
}

static void
test_catchup_across_restart (void **state)
{
    (void) state;
    //  the catalog read the feed at its start (results 0 and 1: item 0 failed, then passed)
    char status [16] = "";
    int attempts = 0;
    for (int i = 0; i < 100 && strcmp (status, "completed"); i++) {
        zclock_sleep (50);
        s_progress_of (s_learner_id, s_feed_item [0], status, sizeof status, &attempts);
    }
    assert_string_equal (status, "completed");
    assert_int_equal (attempts, 2);
    s_wait_cursor ("fake-2");
    //  stopped: the grader finishes another result nobody hears; at the next start the catalog
    //  asks from its cursor and applies only that one
    zactor_destroy (&s_actor);
    atomic_store (&s_feed_count, 3);
    s_start_catalog ();
    *status = 0;
    for (int i = 0; i < 100 && strcmp (status, "completed"); i++) {
        zclock_sleep (50);
        s_progress_of (s_learner_id, s_feed_item [1], status, sizeof status, &attempts);
    }
    assert_string_equal (status, "completed");
    assert_int_equal (atomic_load (&s_feed_from), 2);
    s_progress_of (s_learner_id, s_feed_item [0], status, sizeof status, &attempts);
    assert_int_equal (attempts, 2);                 //  not applied again
    s_wait_cursor ("fake-3");
}

int
main (void)
{
    //  TUTORD_TEST_SERIAL: the catch-up cursor (catalog_sync) is one row per database
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_catchup_across_restart),
        cmocka_unit_test (test_drip_several_cohorts),
        cmocka_unit_test (test_events_apply_once),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
