/*  test_catalog — the catalog actor (td_catalog_actor, in-process) against a real broker and
 *  PostgreSQL, called with auth maps as the bridge and tutorctl would send them.
 *
 *  Needs TUTORD_TEST_DB (migrated through schema/0004_catalog.sql). Covered here, below HTTP:
 *  course.upsert as system twice (same id, created false, nothing rewritten), the learner view
 *  of the tree hiding the solution while system sees it, an author's create and reorder (a list
 *  that is not exactly the children: 400 modules), a draft hidden from the org's learner (404)
 *  and a published course they may read but not change (403). The HTTP suite
 *  (tests/api/test_catalog.py, test_access.py) covers the rest through the bridge.
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

extern const td_actor_spec_t td_catalog_actor;

static td_config_t s_cfg;
static td_broker_args_t s_broker_args;
static td_actor_args_t s_actor_args;
static zactor_t *s_broker, *s_actor;
static td_client_t *s_client;
static td_db_t *s_db;
static char s_run [33];                 //  this run's org and slugs: parallel runs never meet
static char s_org [40], s_mentor [256], s_learner [256];
#define SYSTEM "{\"kind\": \"system\"}"

static void
s_clear (void)
{
    char slug [64];
    snprintf (slug, sizeof slug, "seed-%s", s_run);
    const char *params [] = { s_org, slug };
    PGresult *res = td_db_exec (s_db, NULL,
        "DELETE FROM catalog_courses WHERE org_id = $1 OR (org_id = 'tutord' AND slug = $2)", 2, params);
    if (!res)
        fail_msg ("cannot clear catalog_courses (migrated?): %s", td_db_last_error (s_db));
    PQclear (res);
}

//  Call catalog/type as auth (a JSON auth map) and expect status; the reply body as JSON (for an
//  error {"field"}), the caller's to decref.
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

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_cfg, 0, sizeof s_cfg);
    s_cfg.run_broker = true;
    s_cfg.heartbeat_ms = 500;
    const char *db = getenv ("TUTORD_TEST_DB");
    if (!db || !*db)
        fail_msg ("TUTORD_TEST_DB is not set: run this test through tools/check");
    snprintf (s_cfg.db, sizeof s_cfg.db, "%s", db);
    s_db = td_db_new (s_cfg.db, "test");
    td_new_id (s_run);
    snprintf (s_org, sizeof s_org, "org-%s", s_run);
    snprintf (s_mentor, sizeof s_mentor, "{\"kind\": \"user\", \"user\": \"m-%s\","
              " \"memberships\": [{\"org\": \"%s\", \"role\": \"mentor\"}]}", s_run, s_org);
    snprintf (s_learner, sizeof s_learner, "{\"kind\": \"user\", \"user\": \"l-%s\","
              " \"memberships\": [{\"org\": \"%s\", \"role\": \"learner\"}]}", s_run, s_org);
    s_clear ();
    s_broker_args = (td_broker_args_t) {
        .request_endpoints = "@" TD_INPROC_BROKER, .events_in = "@" TD_INPROC_EVENTS_IN,
        .events_out = "@" TD_INPROC_EVENTS, .heartbeat_ms = 500
    };
    s_broker = zactor_new (td_broker_actor, &s_broker_args);
    assert_non_null (s_broker);
    s_actor_args = (td_actor_args_t) { .spec = &td_catalog_actor, .cfg = &s_cfg };
    s_actor = zactor_new (td_actor_task, &s_actor_args);
    assert_non_null (s_actor);
    s_client = td_client_new (TD_INPROC_BROKER);
    assert_non_null (s_client);
    assert_true (td_test_wait_ping (s_client, "catalog", 20000));
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    s_clear ();
    td_client_destroy (&s_client);
    zactor_destroy (&s_actor);
    zactor_destroy (&s_broker);
    td_db_destroy (&s_db);
    return 0;
}

static void
test_upsert_and_learner_view (void **state)
{
    (void) state;
    const char *fmt =
        "{\"org_slug\": null, \"slug\": \"seed-%s\", \"title\": \"Seed\", \"status\": \"published\","
        " \"modules\": [{\"slug\": \"mod\", \"title\": \"M\", \"lessons\": [{\"slug\": \"les\","
        " \"title\": \"L\", \"items\": [{\"slug\": \"ex-1\", \"kind\": \"exercise\", \"title\": \"E\","
        " \"content\": {\"language\": \"python\", \"instructions\": \"Echo.\","
        " \"solution\": \"print(input()) # SOLUTION\","
        " \"tests\": [{\"stdin\": \"a\", \"expected_stdout\": \"a\\n\"}]}}]}]}]}";
    json_t *first = s_call (201, SYSTEM, "course.upsert", fmt, s_run);
    json_t *again = s_call (200, SYSTEM, "course.upsert", fmt, s_run);
    const char *id = json_string_value (json_object_get (first, "id"));
    assert_non_null (id);
    assert_string_equal (id, json_string_value (json_object_get (again, "id")));
    assert_true (json_is_true (json_object_get (first, "created")));
    assert_true (json_is_false (json_object_get (again, "created")));
    //  anyone signed in reads it; only system (its author) sees the solution
    json_t *seen = s_call (200, s_learner, "course.get", "{\"id\": \"%s\"}", id);
    char *text = json_dumps (seen, JSON_COMPACT);
    assert_null (strstr (text, "SOLUTION"));
    assert_non_null (strstr (text, "\"instructions\""));
    free (text);
    json_decref (seen);
    seen = s_call (200, SYSTEM, "course.get", "{\"id\": \"%s\"}", id);
    text = json_dumps (seen, JSON_COMPACT);
    assert_non_null (strstr (text, "SOLUTION"));
    free (text);
    json_decref (seen);
    //  nobody but system upserts
    json_decref (s_call (403, s_mentor, "course.upsert", fmt, s_run));
    json_decref (first);
    json_decref (again);
}

static void
test_author_and_reorder (void **state)
{
    (void) state;
    json_t *c = s_call (201, s_mentor, "course.create",
                        "{\"id\": \"%s\", \"body\": {\"slug\": \"c-one\", \"title\": \"C\"}}", s_org);
    const char *cid = json_string_value (json_object_get (c, "id"));
    char ids [3][40];
    for (int i = 0; i < 3; i++) {
        json_t *m = s_call (201, s_mentor, "module.create",
                            "{\"id\": \"%s\", \"body\": {\"slug\": \"mod-%d\", \"title\": \"M\"}}", cid, i);
        snprintf (ids [i], sizeof ids [i], "%s", json_string_value (json_object_get (m, "id")));
        assert_int_equal (json_integer_value (json_object_get (m, "position")), i);
        json_decref (m);
    }
    json_t *t = s_call (200, s_mentor, "course.reorder",
                        "{\"id\": \"%s\", \"body\": {\"modules\": [\"%s\", \"%s\", \"%s\"]}}",
                        cid, ids [2], ids [0], ids [1]);
    json_t *mods = json_object_get (t, "modules");
    assert_int_equal (json_array_size (mods), 3);
    assert_string_equal (json_string_value (json_object_get (json_array_get (mods, 0), "slug")), "mod-2");
    assert_string_equal (json_string_value (json_object_get (json_array_get (mods, 2), "slug")), "mod-1");
    json_decref (t);
    json_t *e = s_call (400, s_mentor, "course.reorder",
                        "{\"id\": \"%s\", \"body\": {\"modules\": [\"%s\", \"%s\"]}}", cid, ids [0], ids [1]);
    assert_string_equal (json_string_value (json_object_get (e, "field")), "modules");
    json_decref (e);
    //  the org's learner: a draft does not exist, a published course is not theirs to change
    json_decref (s_call (404, s_learner, "course.get", "{\"id\": \"%s\"}", cid));
    json_decref (s_call (200, s_mentor, "course.publish", "{\"id\": \"%s\"}", cid));
    json_decref (s_call (200, s_learner, "course.get", "{\"id\": \"%s\"}", cid));
    json_decref (s_call (403, s_learner, "course.update",
                         "{\"id\": \"%s\", \"body\": {\"title\": \"x\"}}", cid));
    json_decref (c);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_upsert_and_learner_view),
        cmocka_unit_test (test_author_and_reorder),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
