/*  test_catalog_user — the catalog's drafts and snippets against a real broker and PostgreSQL.
 *
 *  Needs TUTORD_TEST_DB (migrated through schema/0005_catalog_user.sql). The test runs its own
 *  actor spec serving only the draft.* and snippet.* verbs of td_catalog_user.h as service
 *  "catalog" (three instances, so concurrent requests really reach PostgreSQL concurrently), and
 *  calls it with user auth maps. Covered: draft versions (stale write 409, racing writers of which
 *  exactly one wins, first saves included), the 64 KiB cap (413), other users' drafts and snippets
 *  answering 404, anonymous 401 and API keys 403, snippet CRUD and validation (400 with field),
 *  star/unstar and the starred filter, ranked search (a title match above a code-only match),
 *  scoping of list, search and similar to the caller, similar finding the near-duplicate and not
 *  the unrelated snippet, and cursor pagination visiting every row exactly once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "td_test.h"
#include <czmq.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "td_actor.h"
#include "td_broker.h"
#include "td_client.h"
#include "td_db.h"
#include "td_json.h"
#include "td_mp.h"
#include "catalog/td_catalog_user.h"

#define ACTORS  3
#define RACERS  8

static const td_verb_t s_verbs [] = {
    { "draft.get", td_catalog_draft_get },
    { "draft.put", td_catalog_draft_put },
    { "snippet.list", td_catalog_snippet_list },
    { "snippet.create", td_catalog_snippet_create },
    { "snippet.get", td_catalog_snippet_get },
    { "snippet.update", td_catalog_snippet_update },
    { "snippet.delete", td_catalog_snippet_delete },
    { "snippet.star", td_catalog_snippet_star },
    { "snippet.unstar", td_catalog_snippet_unstar },
    { "snippet.similar", td_catalog_snippet_similar },
    { NULL, NULL }
};

static const td_actor_spec_t s_spec = {
    .name = "catalog", .service = "catalog", .needs_db = true, .verbs = s_verbs
};

static td_config_t s_cfg;
static td_broker_args_t s_broker_args;
static td_actor_args_t s_actor_args;
static zactor_t *s_broker, *s_actors [ACTORS];
static td_client_t *s_client;
static td_db_t *s_db;
//  This run's users: unique, so parallel tests sharing the database never see or delete our rows.
static char s_u1 [64], s_u2 [64];

//  Call catalog/type on client with a JSON body as user (NULL: anonymous; "key:" prefix: an API
//  key). Returns the reply body as JSON ({"code", "field"} for errors) and sets *status.
static json_t *
s_call_on (td_client_t *client, const char *user, const char *type, const char *json_body,
           int *status)
{
    msgpack_sbuffer body, auth;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&auth);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    td_error_t err;
    json_t *j = td_json_parse (json_body, strlen (json_body), 0, &err);
    if (!j)
        fail_msg ("bad test JSON: %s", err.message);
    assert_int_equal (td_json_to_mp (j, &pk, &err), 0);
    json_decref (j);
    if (user) {
        msgpack_packer_init (&pk, &auth, msgpack_sbuffer_write);
        bool key = strncmp (user, "key:", 4) == 0;
        msgpack_pack_map (&pk, key? 3: 2);
        td_mp_pack_kv_str (&pk, "kind", key? "api_key": "user");
        if (key) {
            td_mp_pack_kv_str (&pk, "key", user + 4);
            td_mp_pack_kv_str (&pk, "org", "o1");
        }
        else
            td_mp_pack_kv_str (&pk, "user", user);
    }
    char id [33];
    td_new_id (id);
    td_request_spec_t spec = { .id = id, .type = type, .body = body.data, .body_size = body.size,
                               .auth = user? auth.data: NULL, .auth_size = user? auth.size: 0 };
    td_msg_t *reply = td_client_call (client, "catalog", &spec, 10000, &err);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&auth);
    if (!reply)
        fail_msg ("no reply to %s: %s", type, err.message);
    *status = td_msg_status (reply);
    json_t *out = *status < 400? td_mp_to_json (td_msg_body (reply), &err)
                               : json_pack ("{s:s, s:s?}", "code", td_errcode_name (td_msg_error (reply)),
                                            "field", td_msg_error_field (reply));
    td_msg_destroy (&reply);
    return out;
}

static json_t *
s_call (const char *user, const char *type, const char *json_body, int *status)
{
    return s_call_on (s_client, user, type, json_body, status);
}

//  Call and check the status; returns the body (the caller decrefs).
static json_t *
s_expect (int want, const char *user, const char *type, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *body = zsys_vprintf (fmt, args);
    va_end (args);
    int status;
    json_t *r = s_call (user, type, body, &status);
    if (status != want) {
        char *dump = json_dumps (r, JSON_COMPACT);
        print_error ("%s %s -> %d %s, expected %d\n", type, body, status, dump? dump: "", want);
        free (dump);
        zstr_free (&body);
        json_decref (r);
        fail ();
    }
    zstr_free (&body);
    return r;
}

//  An error answer's field.
static void
s_expect_error (int want, const char *field, const char *user, const char *type, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *body = zsys_vprintf (fmt, args);
    va_end (args);
    int status;
    json_t *r = s_call (user, type, body, &status);
    const char *got = json_string_value (json_object_get (r, "field"));
    if (status != want || (field && (!got || strcmp (got, field)))) {
        print_error ("%s %s -> %d field %s, expected %d field %s\n", type, body, status,
                     got? got: "(none)", want, field? field: "(any)");
        zstr_free (&body);
        json_decref (r);
        fail ();
    }
    zstr_free (&body);
    json_decref (r);
}

static const char *
s_str (json_t *j, const char *key)
{
    return json_string_value (json_object_get (j, key));
}

static int64_t
s_int (json_t *j, const char *key)
{
    return json_integer_value (json_object_get (j, key));
}

//  JSON-quote s (the caller frees).
static char *
s_quote (const char *s)
{
    json_t *j = json_string (s);
    char *out = json_dumps (j, JSON_ENCODE_ANY);
    json_decref (j);
    return out;
}

//  Create a snippet as user; returns its id (the caller frees).
static char *
s_snippet (const char *user, const char *title, const char *description, const char *language,
           const char *code)
{
    char *t = s_quote (title), *d = s_quote (description), *c = s_quote (code);
    json_t *r = s_expect (201, user, "snippet.create",
                          "{\"body\": {\"title\": %s, \"description\": %s, \"language\": \"%s\", \"code\": %s}}",
                          t, d, language, c);
    free (t);
    free (d);
    free (c);
    char *id = strdup (s_str (r, "id"));
    json_decref (r);
    return id;
}

//  Remove this run's drafts and snippets.
static void
s_clear (void)
{
    const char *tables [] = { "DELETE FROM catalog_drafts WHERE user_id IN ($1, $2)",
                              "DELETE FROM catalog_snippets WHERE user_id IN ($1, $2)" };
    const char *params [] = { s_u1, s_u2 };
    for (int i = 0; i < 2; i++) {
        PGresult *res = td_db_exec (s_db, NULL, tables [i], 2, params);
        if (!res)
            fail_msg ("%s: %s (migrated through 0005?)", tables [i], td_db_last_error (s_db));
        PQclear (res);
    }
}

static int
s_setup (void **state)
{
    (void) state;
    memset (&s_cfg, 0, sizeof s_cfg);
    s_cfg.run_broker = true;
    s_cfg.heartbeat_ms = 500;
    snprintf (s_cfg.db, sizeof s_cfg.db, "%s", td_test_env ("TUTORD_TEST_DB"));
    s_db = td_db_new (s_cfg.db, "test");
    char run [33];
    td_new_id (run);
    snprintf (s_u1, sizeof s_u1, "test-u1-%s", run);
    snprintf (s_u2, sizeof s_u2, "test-u2-%s", run);
    s_clear ();
    s_broker_args = (td_broker_args_t) {
        .request_endpoints = "@" TD_INPROC_BROKER, .events_in = "@" TD_INPROC_EVENTS_IN,
        .events_out = "@" TD_INPROC_EVENTS, .heartbeat_ms = 500
    };
    s_broker = zactor_new (td_broker_actor, &s_broker_args);
    assert_non_null (s_broker);
    s_actor_args = (td_actor_args_t) { .spec = &s_spec, .cfg = &s_cfg };
    for (int i = 0; i < ACTORS; i++) {
        s_actors [i] = zactor_new (td_actor_task, &s_actor_args);
        assert_non_null (s_actors [i]);
    }
    s_client = td_client_new (TD_INPROC_BROKER);
    assert_non_null (s_client);
    assert_true (td_test_wait_ping (s_client, "catalog", 20000));
    zclock_sleep (300);         //  let every instance register
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    s_clear ();
    td_client_destroy (&s_client);
    for (int i = 0; i < ACTORS; i++)
        zactor_destroy (&s_actors [i]);
    zactor_destroy (&s_broker);
    td_db_destroy (&s_db);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Drafts

static void
test_draft_versions (void **state)
{
    (void) state;
    s_expect_error (404, "id", s_u1, "draft.get", "{\"id\": \"item-1\"}");
    json_t *r = s_expect (200, s_u1, "draft.put", "{\"id\": \"item-1\", \"body\": {\"code\": \"print(1)\", \"version\": 0}}");
    assert_int_equal (s_int (r, "version"), 1);
    assert_non_null (s_str (r, "updated_at"));
    json_decref (r);
    r = s_expect (200, s_u1, "draft.get", "{\"id\": \"item-1\"}");
    assert_string_equal (s_str (r, "code"), "print(1)");
    assert_int_equal (s_int (r, "version"), 1);
    json_decref (r);
    r = s_expect (200, s_u1, "draft.put", "{\"id\": \"item-1\", \"body\": {\"code\": \"print(2)\", \"version\": 1}}");
    assert_int_equal (s_int (r, "version"), 2);
    json_decref (r);
    //  a stale write (from version 1), a second first save, a version from the future
    s_expect_error (409, "version", s_u1, "draft.put", "{\"id\": \"item-1\", \"body\": {\"code\": \"old\", \"version\": 1}}");
    s_expect_error (409, "version", s_u1, "draft.put", "{\"id\": \"item-1\", \"body\": {\"code\": \"new\", \"version\": 0}}");
    s_expect_error (409, "version", s_u1, "draft.put", "{\"id\": \"item-1\", \"body\": {\"code\": \"x\", \"version\": 9}}");
    s_expect_error (409, "version", s_u1, "draft.put", "{\"id\": \"item-9\", \"body\": {\"code\": \"x\", \"version\": 3}}");
    r = s_expect (200, s_u1, "draft.get", "{\"id\": \"item-1\"}");
    assert_string_equal (s_str (r, "code"), "print(2)");
    assert_int_equal (s_int (r, "version"), 2);
    json_decref (r);
    //  an empty draft is a draft
    r = s_expect (200, s_u1, "draft.put", "{\"id\": \"item-1\", \"body\": {\"code\": \"\", \"version\": 2}}");
    assert_int_equal (s_int (r, "version"), 3);
    json_decref (r);
}

static void
test_draft_size_and_input (void **state)
{
    (void) state;
    char *big = malloc (65536 + 64);
    assert_non_null (big);
    memset (big, 'a', 65536);
    big [65536] = 0;
    json_t *r = s_expect (200, s_u1, "draft.put", "{\"id\": \"big\", \"body\": {\"code\": \"%s\", \"version\": 0}}", big);
    json_decref (r);
    big [65536] = 'a';
    big [65537] = 0;
    s_expect_error (413, "code", s_u1, "draft.put", "{\"id\": \"big\", \"body\": {\"code\": \"%s\", \"version\": 1}}", big);
    free (big);
    r = s_expect (200, s_u1, "draft.get", "{\"id\": \"big\"}");
    assert_int_equal (strlen (s_str (r, "code")), 65536);
    assert_int_equal (s_int (r, "version"), 1);
    json_decref (r);

    s_expect_error (400, "code", s_u1, "draft.put", "{\"id\": \"i2\", \"body\": {\"version\": 0}}");
    s_expect_error (400, "code", s_u1, "draft.put", "{\"id\": \"i2\", \"body\": {\"code\": 5, \"version\": 0}}");
    s_expect_error (400, "version", s_u1, "draft.put", "{\"id\": \"i2\", \"body\": {\"code\": \"x\"}}");
    s_expect_error (400, "version", s_u1, "draft.put", "{\"id\": \"i2\", \"body\": {\"code\": \"x\", \"version\": -1}}");
    s_expect_error (400, "version", s_u1, "draft.put", "{\"id\": \"i2\", \"body\": {\"code\": \"x\", \"version\": \"1\"}}");
    s_expect_error (400, "body", s_u1, "draft.put", "{\"id\": \"i2\", \"body\": [1]}");
    s_expect_error (400, "body", s_u1, "draft.put", "{\"id\": \"i2\"}");
    //  ids that cannot be items
    s_expect_error (404, "id", s_u1, "draft.get", "{\"id\": \"a b\"}");
    s_expect_error (404, "id", s_u1, "draft.get", "{\"id\": \"\"}");
    s_expect_error (404, "id", s_u1, "draft.get", "{}");
    s_expect_error (404, "id", s_u1, "draft.put", "{\"id\": \"x'; DROP TABLE catalog_drafts; --\", \"body\": {\"code\": \"x\", \"version\": 0}}");
}

static void
test_draft_scoping (void **state)
{
    (void) state;
    json_t *r = s_expect (200, s_u1, "draft.put", "{\"id\": \"shared\", \"body\": {\"code\": \"mine\", \"version\": 0}}");
    json_decref (r);
    //  u2 neither sees nor overwrites u1's draft; their own draft of the same item is separate
    s_expect_error (404, "id", s_u2, "draft.get", "{\"id\": \"shared\"}");
    s_expect_error (409, "version", s_u2, "draft.put", "{\"id\": \"shared\", \"body\": {\"code\": \"theirs\", \"version\": 1}}");
    r = s_expect (200, s_u2, "draft.put", "{\"id\": \"shared\", \"body\": {\"code\": \"theirs\", \"version\": 0}}");
    assert_int_equal (s_int (r, "version"), 1);
    json_decref (r);
    r = s_expect (200, s_u1, "draft.get", "{\"id\": \"shared\"}");
    assert_string_equal (s_str (r, "code"), "mine");
    json_decref (r);
    //  anonymous: 401; an API key (no user): 403
    s_expect_error (401, NULL, NULL, "draft.get", "{\"id\": \"shared\"}");
    s_expect_error (401, NULL, NULL, "draft.put", "{\"id\": \"shared\", \"body\": {\"code\": \"x\", \"version\": 1}}");
    s_expect_error (403, NULL, "key:k1", "draft.get", "{\"id\": \"shared\"}");
}

//  Racers: each thread has its own client, waits for the start, then saves once.
typedef struct {
    const char *item;
    int version;
    int index;
    atomic_int *go;
    int status;
} racer_t;

static void *
s_racer (void *arg)
{
    racer_t *r = (racer_t *) arg;
    td_client_t *client = td_client_new (TD_INPROC_BROKER);
    if (!client)
        return NULL;
    char body [256];
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"body\": {\"code\": \"racer %d\", \"version\": %d}}",
              r->item, r->index, r->version);
    while (!atomic_load (r->go))
        zclock_sleep (1);
    json_t *j = s_call_on (client, s_u1, "draft.put", body, &r->status);
    json_decref (j);
    td_client_destroy (&client);
    return NULL;
}

static void
s_race (const char *item, int version)
{
    atomic_int go = 0;
    racer_t racers [RACERS];
    pthread_t threads [RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers [i] = (racer_t) { .item = item, .version = version, .index = i, .go = &go };
        assert_int_equal (pthread_create (&threads [i], NULL, s_racer, &racers [i]), 0);
    }
    zclock_sleep (100);         //  every racer connected
    atomic_store (&go, 1);
    int won = 0, lost = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join (threads [i], NULL);
        won += racers [i].status == 200;
        lost += racers [i].status == 409;
    }
    assert_int_equal (won, 1);
    assert_int_equal (lost, RACERS - 1);
    int status;
    char body [128];
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", item);
    json_t *r = s_call (s_u1, "draft.get", body, &status);
    assert_int_equal (status, 200);
    assert_int_equal (s_int (r, "version"), version + 1);
    json_decref (r);
}

static void
test_draft_race (void **state)
{
    (void) state;
    for (int round = 0; round < 5; round++) {
        char item [32];
        snprintf (item, sizeof item, "race-%d", round);
        s_race (item, 0);       //  racing first saves
        s_race (item, 1);       //  racing saves from the same version
        s_race (item, 2);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Snippets

static void
test_snippet_crud (void **state)
{
    (void) state;
    json_t *r = s_expect (201, s_u1, "snippet.create",
        "{\"body\": {\"title\": \"Fizz buzz\", \"description\": \"the classic\", \"language\": \"python\","
        " \"code\": \"for i in range(1, 16): print(i)\"}}");
    char *id = strdup (s_str (r, "id"));
    assert_string_equal (s_str (r, "title"), "Fizz buzz");
    assert_string_equal (s_str (r, "language"), "python");
    assert_false (json_is_true (json_object_get (r, "starred")));
    assert_non_null (s_str (r, "created_at"));
    json_decref (r);

    r = s_expect (200, s_u1, "snippet.get", "{\"id\": \"%s\"}", id);
    assert_string_equal (s_str (r, "code"), "for i in range(1, 16): print(i)");
    assert_string_equal (s_str (r, "description"), "the classic");
    json_decref (r);

    r = s_expect (200, s_u1, "snippet.update", "{\"id\": \"%s\", \"body\": {\"title\": \"FizzBuzz\"}}", id);
    assert_string_equal (s_str (r, "title"), "FizzBuzz");
    assert_string_equal (s_str (r, "code"), "for i in range(1, 16): print(i)");
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.update", "{\"id\": \"%s\", \"body\": {\"description\": null, \"language\": \"text\"}}", id);
    assert_string_equal (s_str (r, "description"), "");
    assert_string_equal (s_str (r, "language"), "text");
    json_decref (r);

    //  another user's snippet does not exist for them, whatever the verb
    s_expect_error (404, "id", s_u2, "snippet.get", "{\"id\": \"%s\"}", id);
    s_expect_error (404, "id", s_u2, "snippet.update", "{\"id\": \"%s\", \"body\": {\"title\": \"mine now\"}}", id);
    s_expect_error (404, "id", s_u2, "snippet.delete", "{\"id\": \"%s\"}", id);
    s_expect_error (404, "id", s_u2, "snippet.star", "{\"id\": \"%s\"}", id);
    s_expect_error (404, "id", s_u2, "snippet.unstar", "{\"id\": \"%s\"}", id);
    s_expect_error (404, "id", s_u2, "snippet.similar", "{\"id\": \"%s\"}", id);
    s_expect_error (401, NULL, NULL, "snippet.get", "{\"id\": \"%s\"}", id);
    s_expect_error (401, NULL, NULL, "snippet.list", "{}");
    s_expect_error (401, NULL, NULL, "snippet.create", "{\"body\": {\"title\": \"t\", \"language\": \"c\", \"code\": \"x\"}}");
    s_expect_error (403, NULL, "key:k1", "snippet.list", "{}");
    r = s_expect (200, s_u1, "snippet.get", "{\"id\": \"%s\"}", id);
    assert_string_equal (s_str (r, "title"), "FizzBuzz");
    json_decref (r);

    r = s_expect (204, s_u1, "snippet.delete", "{\"id\": \"%s\"}", id);
    json_decref (r);
    s_expect_error (404, "id", s_u1, "snippet.get", "{\"id\": \"%s\"}", id);
    s_expect_error (404, "id", s_u1, "snippet.delete", "{\"id\": \"%s\"}", id);
    s_expect_error (404, "id", s_u1, "snippet.get", "{\"id\": \"not-a-uuid\"}");
    s_expect_error (404, "id", s_u1, "snippet.get", "{\"id\": \"00000000-0000-0000-0000-000000000000\"}");
    free (id);
}

static void
test_snippet_bad_input (void **state)
{
    (void) state;
    const char *create = "snippet.create";
    s_expect_error (400, "body", s_u1, create, "{}");
    s_expect_error (400, "body", s_u1, create, "{\"body\": \"x\"}");
    s_expect_error (400, "title", s_u1, create, "{\"body\": {\"language\": \"c\", \"code\": \"x\"}}");
    s_expect_error (400, "title", s_u1, create, "{\"body\": {\"title\": \"\", \"language\": \"c\", \"code\": \"x\"}}");
    s_expect_error (400, "title", s_u1, create, "{\"body\": {\"title\": \"   \", \"language\": \"c\", \"code\": \"x\"}}");
    s_expect_error (400, "title", s_u1, create, "{\"body\": {\"title\": 7, \"language\": \"c\", \"code\": \"x\"}}");
    char *long_title = malloc (202);
    memset (long_title, 't', 201);
    long_title [201] = 0;
    s_expect_error (400, "title", s_u1, create, "{\"body\": {\"title\": \"%s\", \"language\": \"c\", \"code\": \"x\"}}", long_title);
    long_title [200] = 0;               //  200 characters is fine; so are 200 two-byte ones
    json_t *r = s_expect (201, s_u1, create, "{\"body\": {\"title\": \"%s\", \"language\": \"c\", \"code\": \"x\"}}", long_title);
    json_decref (r);
    free (long_title);
    char *umlauts = calloc (1, 401);
    for (int i = 0; i < 200; i++)
        memcpy (umlauts + 2 * i, "\xc3\xa4", 2);
    r = s_expect (201, s_u1, create, "{\"body\": {\"title\": \"%s\", \"language\": \"c\", \"code\": \"x\"}}", umlauts);
    json_decref (r);
    free (umlauts);
    char *long_desc = malloc (2002);
    memset (long_desc, 'd', 2001);
    long_desc [2001] = 0;
    s_expect_error (400, "description", s_u1, create, "{\"body\": {\"title\": \"t\", \"description\": \"%s\", \"language\": \"c\", \"code\": \"x\"}}", long_desc);
    free (long_desc);
    s_expect_error (400, "language", s_u1, create, "{\"body\": {\"title\": \"t\", \"language\": \"cobol\", \"code\": \"x\"}}");
    s_expect_error (400, "language", s_u1, create, "{\"body\": {\"title\": \"t\", \"code\": \"x\"}}");
    s_expect_error (400, "code", s_u1, create, "{\"body\": {\"title\": \"t\", \"language\": \"c\", \"code\": \"\"}}");
    s_expect_error (400, "code", s_u1, create, "{\"body\": {\"title\": \"t\", \"language\": \"c\"}}");
    s_expect_error (400, "owner", s_u1, create, "{\"body\": {\"title\": \"t\", \"language\": \"c\", \"code\": \"x\", \"owner\": \"u2\"}}");
    char *big = malloc (65538);
    memset (big, 'c', 65537);
    big [65537] = 0;
    s_expect_error (413, "code", s_u1, create, "{\"body\": {\"title\": \"t\", \"language\": \"c\", \"code\": \"%s\"}}", big);
    free (big);

    char *id = s_snippet (s_u1, "valid", "", "sql", "SELECT 1");
    s_expect_error (400, "body", s_u1, "snippet.update", "{\"id\": \"%s\", \"body\": {}}", id);
    s_expect_error (400, "language", s_u1, "snippet.update", "{\"id\": \"%s\", \"body\": {\"language\": \"klingon\"}}", id);
    s_expect_error (400, "title", s_u1, "snippet.update", "{\"id\": \"%s\", \"body\": {\"title\": null}}", id);
    s_expect_error (400, "code", s_u1, "snippet.update", "{\"id\": \"%s\", \"body\": {\"code\": \"\"}}", id);
    s_expect_error (400, "starred", s_u1, "snippet.update", "{\"id\": \"%s\", \"body\": {\"starred\": true}}", id);
    free (id);

    s_expect_error (400, "limit", s_u1, "snippet.list", "{\"limit\": \"0\"}");
    s_expect_error (400, "limit", s_u1, "snippet.list", "{\"limit\": \"101\"}");
    s_expect_error (400, "limit", s_u1, "snippet.list", "{\"limit\": \"ten\"}");
    s_expect_error (400, "cursor", s_u1, "snippet.list", "{\"cursor\": \"abc\"}");
    s_expect_error (400, "cursor", s_u1, "snippet.list", "{\"cursor\": \"0.5:3\"}");
    s_expect_error (400, "cursor", s_u1, "snippet.list", "{\"q\": \"x\", \"cursor\": \"3\"}");
    s_expect_error (400, "starred", s_u1, "snippet.list", "{\"starred\": \"yes\"}");
    s_expect_error (400, "q", s_u1, "snippet.list", "{\"q\": 5}");
    s_clear ();
}

//  The ids of a list answer's items, as one space-separated string (the caller frees).
static char *
s_ids (json_t *r)
{
    char *out = strdup ("");
    json_t *item;
    size_t i;
    json_array_foreach (json_object_get (r, "items"), i, item) {
        char *next = zsys_sprintf ("%s%s%s", out, *out? " ": "", s_str (item, "id"));
        free (out);
        out = next;
    }
    return out;
}

static void
test_snippet_star_and_scoping (void **state)
{
    (void) state;
    s_clear ();
    char *a = s_snippet (s_u1, "alpha", "", "python", "print('alpha')");
    char *b = s_snippet (s_u1, "beta", "", "python", "print('beta')");
    char *other = s_snippet (s_u2, "alpha of u2", "", "python", "print('alpha')");
    json_t *r = s_expect (200, s_u1, "snippet.star", "{\"id\": \"%s\"}", b);
    assert_true (json_is_true (json_object_get (r, "starred")));
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.star", "{\"id\": \"%s\"}", b);   //  idempotent
    json_decref (r);

    r = s_expect (200, s_u1, "snippet.list", "{\"starred\": \"true\"}");
    char *ids = s_ids (r);
    assert_string_equal (ids, b);
    assert_true (json_is_null (json_object_get (r, "next_cursor")));
    assert_null (json_object_get (json_array_get (json_object_get (r, "items"), 0), "code"));
    assert_string_equal (s_str (json_array_get (json_object_get (r, "items"), 0), "preview"), "print('beta')");
    free (ids);
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.list", "{\"starred\": \"false\"}");
    ids = s_ids (r);
    assert_string_equal (ids, a);
    free (ids);
    json_decref (r);
    //  all of u1's, newest first, never u2's
    r = s_expect (200, s_u1, "snippet.list", "{}");
    ids = s_ids (r);
    char *want = zsys_sprintf ("%s %s", b, a);
    assert_string_equal (ids, want);
    zstr_free (&want);
    free (ids);
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.list", "{\"q\": \"alpha\"}");
    ids = s_ids (r);
    assert_string_equal (ids, a);
    free (ids);
    json_decref (r);
    r = s_expect (200, s_u2, "snippet.list", "{}");
    ids = s_ids (r);
    assert_string_equal (ids, other);
    free (ids);
    json_decref (r);

    r = s_expect (200, s_u1, "snippet.unstar", "{\"id\": \"%s\"}", b);
    assert_false (json_is_true (json_object_get (r, "starred")));
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.list", "{\"starred\": \"true\"}");
    assert_int_equal (json_array_size (json_object_get (r, "items")), 0);
    json_decref (r);
    free (a);
    free (b);
    free (other);
}

static void
test_snippet_search_ranking (void **state)
{
    (void) state;
    s_clear ();
    //  "heapq" in the code only, then in the description, then in the title (newest last, so
    //  recency cannot explain the order)
    char *in_code = s_snippet (s_u1, "priority queue", "a queue", "python",
                               "import heapq\nh = []\nheapq.heappush(h, 3)");
    char *in_desc = s_snippet (s_u1, "priority stuff", "uses heapq", "python", "pass");
    char *in_title = s_snippet (s_u1, "heapq cheatsheet", "push and pop", "python", "import q");
    char *none = s_snippet (s_u1, "sorting", "", "python", "sorted(x)");
    char *foreign = s_snippet (s_u2, "heapq by u2", "heapq", "python", "heapq");
    json_t *r = s_expect (200, s_u1, "snippet.list", "{\"q\": \"heapq\"}");
    char *ids = s_ids (r);
    char *want = zsys_sprintf ("%s %s %s", in_title, in_desc, in_code);
    assert_string_equal (ids, want);
    zstr_free (&want);
    free (ids);
    json_t *items = json_object_get (r, "items");
    assert_true (json_real_value (json_object_get (json_array_get (items, 0), "rank"))
                 > json_real_value (json_object_get (json_array_get (items, 2), "rank")));
    json_decref (r);
    //  websearch syntax: a phrase, and excluding a word
    r = s_expect (200, s_u1, "snippet.list", "{\"q\": \"\\\"priority queue\\\"\"}");
    ids = s_ids (r);
    assert_string_equal (ids, in_code);
    free (ids);
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.list", "{\"q\": \"priority -heapq\"}");
    ids = s_ids (r);
    assert_string_equal (ids, "");
    free (ids);
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.list", "{\"q\": \"priority -stuff\"}");
    ids = s_ids (r);
    assert_string_equal (ids, in_code);
    free (ids);
    json_decref (r);
    //  nothing to search for, or punctuation only: no error
    r = s_expect (200, s_u1, "snippet.list", "{\"q\": \"&|!\"}");
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.list", "{\"q\": \"zzzz\"}");
    assert_int_equal (json_array_size (json_object_get (r, "items")), 0);
    json_decref (r);
    //  search with starred, and with pages of one
    json_decref (s_expect (200, s_u1, "snippet.star", "{\"id\": \"%s\"}", in_code));
    r = s_expect (200, s_u1, "snippet.list", "{\"q\": \"heapq\", \"starred\": \"true\"}");
    ids = s_ids (r);
    assert_string_equal (ids, in_code);
    free (ids);
    json_decref (r);
    char *seen = strdup ("");
    char *cursor = NULL;
    for (int page = 0; page < 10; page++) {
        r = cursor? s_expect (200, s_u1, "snippet.list", "{\"q\": \"heapq\", \"limit\": \"1\", \"cursor\": \"%s\"}", cursor)
                  : s_expect (200, s_u1, "snippet.list", "{\"q\": \"heapq\", \"limit\": \"1\"}");
        ids = s_ids (r);
        char *next = zsys_sprintf ("%s%s%s", seen, *seen && *ids? " ": "", ids);
        free (seen);
        seen = next;
        free (ids);
        free (cursor);
        cursor = json_is_string (json_object_get (r, "next_cursor"))? strdup (s_str (r, "next_cursor")): NULL;
        json_decref (r);
        if (!cursor)
            break;
    }
    assert_null (cursor);
    want = zsys_sprintf ("%s %s %s", in_title, in_desc, in_code);
    assert_string_equal (seen, want);
    zstr_free (&want);
    free (seen);
    free (in_code);
    free (in_desc);
    free (in_title);
    free (none);
    free (foreign);
}

static void
test_snippet_similar (void **state)
{
    (void) state;
    s_clear ();
    const char *qs = "def quicksort(a):\n    if len(a) <= 1:\n        return a\n    p = a[0]\n"
                     "    return quicksort([x for x in a[1:] if x < p]) + [p] + quicksort([x for x in a[1:] if x >= p])\n";
    const char *qs2 = "def quicksort(arr):\n    if len(arr) <= 1:\n        return arr\n    p = arr[0]\n"
                      "    return quicksort([x for x in arr[1:] if x < p]) + [p] + quicksort([x for x in arr[1:] if x >= p])\n";
    char *orig = s_snippet (s_u1, "quicksort", "", "python", qs);
    char *dup = s_snippet (s_u1, "quicksort again", "", "python", qs2);
    char *unrelated = s_snippet (s_u1, "create table", "", "sql",
                                 "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);");
    char *foreign = s_snippet (s_u2, "quicksort", "", "python", qs);
    json_t *r = s_expect (200, s_u1, "snippet.similar", "{\"id\": \"%s\"}", orig);
    char *ids = s_ids (r);
    assert_string_equal (ids, dup);         //  not itself, not the SQL, not u2's exact copy
    double sim = json_real_value (json_object_get (json_array_get (json_object_get (r, "items"), 0), "similarity"));
    assert_true (sim > 0.5 && sim <= 1.0);
    free (ids);
    json_decref (r);
    r = s_expect (200, s_u1, "snippet.similar", "{\"id\": \"%s\"}", unrelated);
    assert_int_equal (json_array_size (json_object_get (r, "items")), 0);
    json_decref (r);
    r = s_expect (200, s_u2, "snippet.similar", "{\"id\": \"%s\"}", foreign);
    assert_int_equal (json_array_size (json_object_get (r, "items")), 0);
    json_decref (r);
    s_expect_error (404, "id", s_u1, "snippet.similar", "{\"id\": \"%s\"}", foreign);
    free (orig);
    free (dup);
    free (unrelated);
    free (foreign);
}

static void
test_snippet_pagination (void **state)
{
    (void) state;
    s_clear ();
    enum { N = 23 };
    char *made [N];
    for (int i = 0; i < N; i++) {
        char title [32];
        snprintf (title, sizeof title, "snippet %d", i);
        made [i] = s_snippet (s_u1, title, "", "text", "x");
        if (i % 4 == 0)
            free (s_snippet (s_u2, title, "", "text", "x"));
    }
    //  pages of 5 visit each of u1's snippets exactly once, newest first, and end with null
    char *seen = strdup ("");
    char *cursor = NULL;
    int pages = 0;
    do {
        json_t *r = cursor? s_expect (200, s_u1, "snippet.list", "{\"limit\": \"5\", \"cursor\": \"%s\"}", cursor)
                          : s_expect (200, s_u1, "snippet.list", "{\"limit\": 5}");
        assert_true (json_array_size (json_object_get (r, "items")) <= 5);
        char *ids = s_ids (r);
        char *next = zsys_sprintf ("%s%s%s", seen, *seen && *ids? " ": "", ids);
        free (seen);
        seen = next;
        free (ids);
        free (cursor);
        cursor = json_is_string (json_object_get (r, "next_cursor"))? strdup (s_str (r, "next_cursor")): NULL;
        json_decref (r);
        pages++;
    } while (cursor && pages < 20);
    assert_null (cursor);
    assert_int_equal (pages, 5);
    char *want = strdup ("");
    for (int i = N - 1; i >= 0; i--) {
        char *next = zsys_sprintf ("%s%s%s", want, *want? " ": "", made [i]);
        free (want);
        want = next;
    }
    assert_string_equal (seen, want);
    free (want);
    free (seen);
    //  an exact multiple of the page size ends with null, not with an empty page
    json_t *r = s_expect (200, s_u1, "snippet.list", "{\"limit\": \"23\"}");
    assert_int_equal (json_array_size (json_object_get (r, "items")), N);
    assert_true (json_is_null (json_object_get (r, "next_cursor")));
    json_decref (r);
    for (int i = 0; i < N; i++)
        free (made [i]);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_draft_versions),
        cmocka_unit_test (test_draft_size_and_input),
        cmocka_unit_test (test_draft_scoping),
        cmocka_unit_test (test_draft_race),
        cmocka_unit_test (test_snippet_crud),
        cmocka_unit_test (test_snippet_bad_input),
        cmocka_unit_test (test_snippet_star_and_scoping),
        cmocka_unit_test (test_snippet_search_ranking),
        cmocka_unit_test (test_snippet_similar),
        cmocka_unit_test (test_snippet_pagination),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
