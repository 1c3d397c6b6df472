/*  session — the session actor: practice sessions (issue 6 point 5, SESSION.md).
 *
 *  It serves the "session" service through the broker. The backbone gives it its run loop
 *  (actors/core/td_actor.c): registration, heartbeats, its PostgreSQL connection, `ping` for
 *  /health, and supervision. This file holds the actor's spec, its one asynchronous caller (to
 *  srs and the catalog, td_actor_call.h: the actor thread never waits for another service) and
 *  the helpers its verbs share; the verbs are in td_session_start.c and td_session_answer.c.
 */
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_access.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "session/td_session.h"

#define LOG "session"

td_acall_t *
td_session_acall (td_actor_t *actor)
{
    td_session_state_t *st = (td_session_state_t *) td_actor_state (actor);
    return st? st->acall: NULL;
}

bool
td_session_user (td_call_t *call, char *user, size_t size)
{
    return td_call_user (call, user, size, "practice sessions");
}

json_t *
td_session_body (td_call_t *call)
{
    return td_call_body_json (call);
}

int
td_session_reply (td_call_t *call, int status, json_t *body)
{
    td_call_reply_json (call, status, body);
    return TD_ACTOR_OK;
}

int
td_session_db_down (td_call_t *call)
{
    td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL,
                         "the session actor cannot reach its database now; try again");
    return TD_ACTOR_OK;
}

bool
td_session_uuid (const char *s)
{
    return td_uuid_valid (s);
}

void
td_session_emit (td_actor_t *actor, const char *type, const char *user, const char *subject,
                 json_t *data)
{
    if (data)
        td_actor_publish_json (actor, type, user, NULL, subject, data);
}

int
td_session_send (td_actor_t *actor, td_call_t *call, const char *service, const char *type,
                 json_t *body, td_acall_fn *fn, void *arg)
{
    return td_session_send_as (actor, call, false, service, type, body, fn, arg);
}

int
td_session_send_as (td_actor_t *actor, td_call_t *call, bool system, const char *service,
                    const char *type, json_t *body, td_acall_fn *fn, void *arg)
{
    td_acall_t *acall = td_session_acall (actor);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    td_error_t err;
    int rc = -1;
    if (acall && body && td_json_to_mp (body, &pk, &err) == 0) {
        //  the learner's own auth (srs and the catalog decide with their own rules), or system
        //  for item.grading, which gets the learner's auth in its body and decides with it
        const td_msg_t *m = td_call_msg (call);
        const msgpack_object *auth = td_msg_auth (m);
        msgpack_sbuffer ab;
        msgpack_sbuffer_init (&ab);
        msgpack_packer apk;
        msgpack_packer_init (&apk, &ab, msgpack_sbuffer_write);
        int prc = system? (msgpack_pack_map (&apk, 1) | td_mp_pack_kv_str (&apk, "kind", "system"))
                        : msgpack_pack_object (&apk, *auth);
        if (prc == 0) {
            td_request_spec_t spec = { .rid = td_call_rid (call), .type = type,
                                       .auth = ab.data, .auth_size = ab.size,
                                       .body = buf.data, .body_size = buf.size };
            rc = td_acall_send (acall, service, &spec, TD_SESSION_CALL_MS, fn, arg, &err);
            if (rc != 0)
                td_warn (LOG, td_call_rid (call), "%s %s not sent: %s", service, type, err.message);
        }
        msgpack_sbuffer_destroy (&ab);
    }
    msgpack_sbuffer_destroy (&buf);
    json_decref (body);
    return rc;
}

//  ---------------------------------------------------------------------------------------------

static void
s_on_acall (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    td_acall_dispatch (td_session_acall (actor), actor);
}

static void
s_fini (td_actor_t *actor)
{
    td_session_state_t *st = (td_session_state_t *) td_actor_state (actor);
    if (!st)
        return;
    td_acall_destroy (&st->acall, actor);   //  calls still waiting are answered 503
    free (st);
    td_actor_set_state (actor, NULL);
}

static int
s_init (td_actor_t *actor)
{
    td_session_state_t *st = calloc (1, sizeof *st);
    if (!st)
        return -1;
    td_actor_set_state (actor, st);
    st->acall = td_acall_new (td_config_broker_endpoint (td_actor_config (actor)), LOG);
    if (!st->acall || td_actor_watch (actor, td_acall_sock (st->acall), s_on_acall) != 0) {
        s_fini (actor);
        return -1;
    }
    return 0;
}

static void
s_tick (td_actor_t *actor)
{
    td_acall_t *acall = td_session_acall (actor);
    if (acall)
        td_acall_expire (acall, actor);
}

static const td_verb_t s_verbs [] = {
    { "practice.create",    td_session_create },
    { "practice.answer",    td_session_answer },
    { "practice.get",       td_session_get },
    { "practice.finish",    td_session_finish },
    { "answer.list",        td_session_answer_list },  //  system: the feed of answers
    { NULL, NULL }
};

const td_actor_spec_t td_session_actor = {
    .name = "session",
    .service = "session",
    .needs_db = true,
    .verbs = s_verbs,
    .init = s_init,
    .fini = s_fini,
    .tick = s_tick,
    .tick_ms = 1000,
};
