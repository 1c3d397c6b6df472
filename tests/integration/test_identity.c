/*  test_identity — the identity actor in-process, against the real broker and real PostgreSQL.
 *
 *  Why here as well as in tests/api: this runs the actor under the sanitizers inside the test
 *  (leaks of a handler show up in this process), with TWO identity workers on the service so
 *  that consecutive requests land on different workers with their own connections: a logout
 *  handled by one is refused by the other at once (IDENTITY.md §1, strict revocation). Also
 *  covered: the retry_after of a 429 travelling through the broker to td_client, and identity.*
 *  events with org and user set. Needs TUTORD_TEST_DB (tools/check sets it); fails without.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <jansson.h>
#include "td_actor.h"
#include "td_broker.h"
#include "td_client.h"
#include "td_json.h"
#include "td_migrate.h"
#include "td_mp.h"
#include "td_supervisor.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

//  A port the kernel says is free now (a port derived from the pid clashed with other tests).
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &a, sizeof a) == 0
    &&  getsockname (fd, (struct sockaddr *) &a, &len) == 0)
        port = ntohs (a.sin_port);
    close (fd);
    return port;
}

extern const td_actor_spec_t td_identity_actor;

static td_config_t s_cfg;
static td_broker_args_t s_broker_args;
static td_actor_spec_t s_second;
static char s_requests [96], s_events_in [64], s_events_out [64];
static zactor_t *s_broker, *s_supervisor;
static td_client_t *s_client;
static zsock_t *s_sub;

static int
s_setup (void **state)
{
    (void) state;
    const char *db = getenv ("TUTORD_TEST_DB");
    if (!db || !*db) {
        fprintf (stderr, "TUTORD_TEST_DB is not set: run this test through tools/check\n");
        return -1;
    }
    td_error_t err;
    char schema [PATH_MAX];
    snprintf (schema, sizeof schema, "%s/schema",
              getenv ("TUTORD_SOURCE_DIR")? getenv ("TUTORD_SOURCE_DIR"): TUTORD_SOURCE_DIR);
    if (td_migrate_run (db, schema, NULL, NULL, &err) < 0) {
        fprintf (stderr, "migrate: %s\n", err.message);
        return -1;
    }
    memset (&s_cfg, 0, sizeof s_cfg);
    snprintf (s_cfg.db, sizeof s_cfg.db, "%s", db);
    snprintf (s_cfg.secret, sizeof s_cfg.secret, "integration-test-secret-0123456789abcdef");
    s_cfg.run_broker = true;
    //  The production heartbeat: a worker's thread blocks in a commit, which under a loaded CI
    //  machine took longer than 3 x 200 ms and made the broker drop a live worker (503).
    s_cfg.heartbeat_ms = 1000;
    s_cfg.access_ttl_s = 900;
    s_cfg.refresh_ttl_s = 3600;
    s_cfg.login_max_per_account = 2;
    s_cfg.login_max_per_ip = 100;
    s_cfg.login_window_s = 60;
    s_cfg.argon2_opslimit = 1;
    s_cfg.argon2_memlimit_kib = 8;
    int port = s_free_port ();
    assert_true (port > 0);
    snprintf (s_requests, sizeof s_requests, "@%s,@tcp://127.0.0.1:%d", TD_INPROC_BROKER, port);
    snprintf (s_events_in, sizeof s_events_in, "@%s", TD_INPROC_EVENTS_IN);
    snprintf (s_events_out, sizeof s_events_out, "@%s", TD_INPROC_EVENTS);
    s_broker_args = (td_broker_args_t) {
        .request_endpoints = s_requests, .events_in = s_events_in, .events_out = s_events_out,
        .heartbeat_ms = 1000, .liveness = 3
    };
    s_broker = zactor_new (td_broker_actor, &s_broker_args);
    s_sub = zsock_new_sub (">" TD_INPROC_EVENTS, "identity.");
    //  Two workers of the identity service, each with its own connection and state.
    s_second = td_identity_actor;
    s_second.name = "identity2";
    static const td_actor_spec_t *specs [2];
    specs [0] = &td_identity_actor;
    specs [1] = &s_second;
    static td_supervisor_args_t sup;
    sup = (td_supervisor_args_t) { .cfg = &s_cfg, .specs = specs, .count = 2,
                                   .backoff_min_ms = 50, .backoff_max_ms = 400 };
    s_supervisor = zactor_new (td_supervisor_actor, &sup);
    s_client = td_client_new (TD_INPROC_BROKER);
    return s_broker && s_sub && s_supervisor && s_client? 0: -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    td_client_destroy (&s_client);
    zactor_destroy (&s_supervisor);
    zsock_destroy (&s_sub);
    zactor_destroy (&s_broker);
    return 0;
}

//  identity/<type> with a JSON body and auth (either NULL); the reply (caller destroys).
static td_msg_t *
s_call (const char *type, const char *body_json, const char *auth_json)
{
    msgpack_sbuffer body, auth;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&auth);
    const char *texts [2] = { body_json, auth_json };
    msgpack_sbuffer *bufs [2] = { &body, &auth };
    for (int i = 0; i < 2; i++) {
        if (!texts [i])
            continue;
        msgpack_packer pk;
        msgpack_packer_init (&pk, bufs [i], msgpack_sbuffer_write);
        td_error_t err;
        json_t *j = td_json_parse (texts [i], strlen (texts [i]), 0, &err);
        assert_non_null (j);
        assert_int_equal (td_json_to_mp (j, &pk, &err), 0);
        json_decref (j);
    }
    char id [33];
    td_new_id (id);
    td_request_spec_t spec = { .id = id, .type = type,
                               .body = body.size? body.data: NULL, .body_size = body.size,
                               .auth = auth.size? auth.data: NULL, .auth_size = auth.size };
    td_error_t err;
    td_msg_t *reply = td_client_call (s_client, "identity", &spec, 5000, &err);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&auth);
    assert_non_null (reply);
    return reply;
}

//  A string field of the reply body (dotted one level: "user.id"), copied into buf.
static void
s_get (td_msg_t *reply, const char *key, const char *sub, char *buf, size_t size)
{
    const msgpack_object *o = td_mp_get (td_msg_body (reply), key);
    if (sub)
        o = td_mp_get (o, sub);
    assert_true (td_mp_strcpy (o, buf, size));
}

//  The auth map of a token as JSON text (what the bridge would forward), or NULL when refused.
static char *
s_verify (const char *token)
{
    char body [2048];
    snprintf (body, sizeof body, "{\"token\":\"%s\"}", token);
    td_msg_t *r = s_call ("auth.verify", body, NULL);
    char *text = NULL;
    if (td_msg_status (r) == 200) {
        td_error_t err;
        json_t *j = td_mp_to_json (td_msg_body (r), &err);
        text = json_dumps (j, JSON_COMPACT);
        json_decref (j);
    }
    else
        assert_int_equal (td_msg_status (r), 401);
    td_msg_destroy (&r);
    return text;
}

static bool
s_wait_up (int ms)
{
    int64_t until = zclock_mono () + ms;
    while (zclock_mono () < until) {
        td_msg_t *r = s_call ("ping", NULL, NULL);
        int status = td_msg_status (r);
        td_msg_destroy (&r);
        if (status == 200)
            return true;
        zclock_sleep (50);
    }
    return false;
}

static void
test_tokens_across_workers (void **state)
{
    (void) state;
    assert_true (s_wait_up (10000));
    char email [96], body [512], token [1024], refresh [128], user [64];
    snprintf (email, sizeof email, "integ-%lld-%d@example.com", (long long) td_now_ms (), getpid ());
    snprintf (body, sizeof body,
              "{\"body\":{\"email\":\"%s\",\"password\":\"correct horse\",\"name\":\"I\"}}", email);
    td_msg_t *r = s_call ("register", body, NULL);
    assert_int_equal (td_msg_status (r), 201);
    s_get (r, "token", NULL, token, sizeof token);
    s_get (r, "refresh_token", NULL, refresh, sizeof refresh);
    s_get (r, "user", "id", user, sizeof user);
    td_msg_destroy (&r);

    //  Both workers serve the service (the broker spreads equal loads), so the verifications
    //  and the logout below are not all answered by one worker.
    bool seen [2] = { false, false };
    int64_t until = zclock_mono () + 5000;
    while (!(seen [0] && seen [1]) && zclock_mono () < until) {
        r = s_call ("ping", NULL, NULL);
        const msgpack_object *actor = td_mp_get (td_msg_body (r), "actor");
        if (td_mp_streq (actor, "identity"))
            seen [0] = true;
        if (td_mp_streq (actor, "identity2"))
            seen [1] = true;
        td_msg_destroy (&r);
    }
    assert_true (seen [0] && seen [1]);

    //  Verified by whichever worker; several times so both workers answer.
    char *auth = NULL;
    for (int i = 0; i < 4; i++) {
        free (auth);
        auth = s_verify (token);
        assert_non_null (auth);
    }
    assert_non_null (strstr (auth, user));
    r = s_call ("me", NULL, auth);
    assert_int_equal (td_msg_status (r), 200);
    td_msg_destroy (&r);

    //  Logout on one worker; every following verify (on both workers) refuses at once.
    r = s_call ("logout", NULL, auth);
    assert_int_equal (td_msg_status (r), 204);
    td_msg_destroy (&r);
    for (int i = 0; i < 4; i++) {
        char *again = s_verify (token);
        assert_null (again);
    }
    snprintf (body, sizeof body, "{\"body\":{\"refresh_token\":\"%s\"}}", refresh);
    r = s_call ("refresh", body, NULL);
    assert_int_equal (td_msg_status (r), 401);
    assert_string_equal (td_msg_error_field (r), "refresh_token");
    td_msg_destroy (&r);
    free (auth);

    //  Login limit: 2 failures, then 429 with retry_after through the broker.
    snprintf (body, sizeof body,
              "{\"client_ip\":\"192.0.2.7\",\"body\":{\"email\":\"%s\",\"password\":\"wrong one\"}}", email);
    for (int i = 0; i < 2; i++) {
        r = s_call ("login", body, NULL);
        assert_int_equal (td_msg_status (r), 401);
        td_msg_destroy (&r);
    }
    r = s_call ("login", body, NULL);
    assert_int_equal (td_msg_status (r), 429);
    assert_int_equal (td_msg_error (r), TD_ERR_RATE_LIMITED);
    assert_true (td_msg_error_retry_after (r) >= 1 && td_msg_error_retry_after (r) <= 60);
    td_msg_destroy (&r);
}

static void
test_events_carry_org_and_user (void **state)
{
    (void) state;
    assert_true (s_wait_up (10000));
    char email [96], body [512], token [1024], user [64], org [64];
    snprintf (email, sizeof email, "events-%lld-%d@example.com", (long long) td_now_ms (), getpid ());
    snprintf (body, sizeof body,
              "{\"body\":{\"email\":\"%s\",\"password\":\"correct horse\",\"name\":\"E\"}}", email);
    td_msg_t *r = s_call ("register", body, NULL);
    assert_int_equal (td_msg_status (r), 201);
    s_get (r, "token", NULL, token, sizeof token);
    s_get (r, "user", "id", user, sizeof user);
    td_msg_destroy (&r);
    char *auth = s_verify (token);
    assert_non_null (auth);
    snprintf (body, sizeof body, "{\"body\":{\"name\":\"Events\",\"slug\":\"ev-%lld\"}}",
              (long long) td_now_ms ());
    r = s_call ("org.create", body, auth);
    assert_int_equal (td_msg_status (r), 201);
    s_get (r, "id", NULL, org, sizeof org);
    td_msg_destroy (&r);
    free (auth);

    //  identity.registered (user) then identity.member_added (org + user, role admin).
    bool registered = false, added = false;
    zpoller_t *poller = zpoller_new (s_sub, NULL);
    int64_t until = zclock_mono () + 5000;
    while (!(registered && added) && zclock_mono () < until) {
        if (!zpoller_wait (poller, 200))
            continue;
        zmsg_t *msg = zmsg_recv (s_sub);
        zframe_t *type = zmsg_first (msg);
        zframe_t *data = zmsg_next (msg);
        td_error_t err;
        td_msg_t *ev = data? td_msg_decode (TD_MSG_EVENT, zframe_data (data), zframe_size (data), &err): NULL;
        if (ev && streq (td_msg_user (ev), user)) {
            if (zframe_streq (type, "identity.registered"))
                registered = true;
            if (zframe_streq (type, "identity.member_added")) {
                assert_string_equal (td_msg_org (ev), org);
                assert_true (td_mp_streq (td_mp_get (td_msg_body (ev), "role"), "admin"));
                added = true;
            }
            assert_true (strncmp (td_msg_source (ev), "tutord/identity", 15) == 0);
        }
        td_msg_destroy (&ev);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    assert_true (registered);
    assert_true (added);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_tokens_across_workers),
        cmocka_unit_test (test_events_carry_org_and_user),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
