/*  td_llm_tutor — the tutor's verbs: sessions and their turns (LLM.md §4); the streaming of a
 *  turn is td_llm_turn.c, the catalog lookups td_llm_lookup.c.
 *
 *  A session belongs to one learner (user accounts only: an API key is not a learner) and may be
 *  tied to a catalog item. The item is asked of the catalog through the broker without blocking:
 *  the call is kept, an item.get goes out with the learner's own auth (so the catalog's access
 *  rules decide whether the learner may see it: 404 if not), then a second with the system auth
 *  for the full item (the reference solution is what exam mode checks answers against; it stays
 *  server-side and is never returned), and the session is stored when that reply comes back.
 *
 *  A turn: the learner's message is stored, the answer row is created 'streaming', the call is
 *  answered 202 {session_id, message_id}, and the answer streams as llm.delta events (the learner
 *  as event user, so the bridge's WebSocket filter delivers them to that learner) then one
 *  llm.done with usage, or with an error. One turn per session at a time (409 otherwise). In exam
 *  mode text is held back to line ends and checked against the reference solution before it goes
 *  out; a leak ends the turn ("blocked") and nothing of the leaking line is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_call_json.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_llm_turn.h"
#include "td_llm_conv.h"
#include "td_llm_dbq.h"
#include "td_events.h"

#define TEXT_MAX        8000        //  a learner's message, bytes

//  What a session creation waits for.
typedef struct {
    char user [64], org [64], mode [16], item_id [40];
    char *context_id;
    json_t *item;                   //  conversation: the item, while its vocabulary is asked for
} pending_session_t;

//  ---------------------------------------------------------------------------------------------
//  Sessions

static int
s_session_store (td_actor_t *actor, td_call_t *call, const char *user, const char *org,
                 const char *mode, const char *item_id, const char *context_id, const json_t *item,
                 const json_t *vocabulary)
{
    char *item_s = item? json_dumps (item, JSON_COMPACT): NULL;
    char *vocab_s = vocabulary? json_dumps (vocabulary, JSON_COMPACT): NULL;
    const char *params [] = { user, org, mode, item_id && *item_id? item_id: NULL, context_id,
                              item_s, vocab_s };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "INSERT INTO llm_tutor_sessions (user_id, org_id, mode, item_id, context_id, item, vocabulary)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) RETURNING json_build_object ('id', id,"
        " 'mode', mode, 'item_id', item_id, 'context_id', context_id, 'org_id', nullif (org_id, ''),"
        " 'created_at', created_at, 'messages', '[]'::json)", 7, params);
    free (item_s);
    free (vocab_s);
    if (!res)
        return td_llm_db_down (call);
    json_error_t jerr;
    json_t *body = json_loads (PQgetvalue (res, 0, 0), 0, &jerr);
    PQclear (res);
    return td_llm_reply (call, 201, body);
}

static void
s_session_free (pending_session_t *ps)
{
    free (ps->context_id);
    json_decref (ps->item);
    free (ps);
}

//  A conversation session's course vocabulary (NULL: none, or the catalog failed: the session
//  goes on without it).
static void
s_session_vocab (td_actor_t *actor, td_call_t *call, json_t *vocab, void *arg)
{
    pending_session_t *ps = (pending_session_t *) arg;
    s_session_store (actor, call, ps->user, ps->org, ps->mode, ps->item_id, ps->context_id,
                     ps->item, vocab);
    s_session_free (ps);
}

static void
s_session_item (td_actor_t *actor, td_call_t *call, json_t *item, void *arg)
{
    pending_session_t *ps = (pending_session_t *) arg;
    if (item && strcmp (ps->mode, "conversation") == 0) {
        ps->item = json_incref (item);
        if (td_llm_conv_vocab_fetch (actor, call, item, s_session_vocab, ps) == 0)
            return;                 //  the call stays kept
    }
    if (item)
        s_session_store (actor, call, ps->user, ps->org, ps->mode, ps->item_id, ps->context_id,
                         item, NULL);
    s_session_free (ps);
}

//  A learner's own account, else answered (401/403) and NULL.
static td_principal_t *
s_learner (td_call_t *call)
{
    td_principal_t *p = td_llm_principal (call);
    if (!p)
        return NULL;
    td_principal_kind_t k = td_principal_kind (p);
    if (k == TD_PRINCIPAL_USER)
        return p;
    if (k == TD_PRINCIPAL_ANONYMOUS)
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "sign in first");
    else
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "tutor sessions belong to learners' accounts");
    td_principal_destroy (&p);
    return NULL;
}

int
td_llm_tutor_create (td_actor_t *actor, td_call_t *call)
{
    td_principal_t *p = s_learner (call);
    if (!p)
        return TD_ACTOR_OK;
    json_t *b = td_llm_body (call);
    const char *mode = json_string_value (json_object_get (b, "mode"));
    json_t *item = json_object_get (b, "item_id"), *ctx = json_object_get (b, "context_id");
    json_t *orgj = json_object_get (b, "org_id");
    const char *bad = NULL, *why = NULL;
    if (!b)
        bad = "body", why = "the session must be a JSON object";
    else
    if (!mode || (strcmp (mode, "tutor") && strcmp (mode, "conversation") && strcmp (mode, "exam")))
        bad = "mode", why = "mode must be tutor, conversation or exam";
    else
    if (item && !json_is_null (item) && (!json_is_string (item)
                                         || !td_llm_uuid_valid (json_string_value (item))))
        bad = "item_id", why = "item_id must be an item id";
    else
    if (ctx && !json_is_null (ctx) && (!json_is_string (ctx) || json_string_length (ctx) < 1
                                       || json_string_length (ctx) > 128
                                       || !td_llm_printable (json_string_value (ctx))))
        bad = "context_id", why = "context_id must be a string of 1 to 128 characters";
    else
    if (orgj && !json_is_null (orgj) && (!json_is_string (orgj)
                                         || !td_llm_uuid_valid (json_string_value (orgj))
                                         || td_principal_org_role (p, json_string_value (orgj)) == TD_ROLE_NONE))
        bad = "org_id", why = "org_id must be one of your organisations";
    if (bad) {
        json_decref (b);
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_INVALID_INPUT, bad, "%s", why);
        return TD_ACTOR_OK;
    }
    char user [64], org [64] = "";
    snprintf (user, sizeof user, "%s", td_principal_user (p));
    if (json_is_string (orgj))
        snprintf (org, sizeof org, "%s", json_string_value (orgj));
    else
    if (td_principal_org_count (p) > 0)
        snprintf (org, sizeof org, "%s", td_principal_org_at (p, 0, NULL));
    td_principal_destroy (&p);
    const char *context_id = json_string_value (ctx);
    if (!json_is_string (item)) {
        int rc = s_session_store (actor, call, user, org, mode, NULL, context_id, NULL, NULL);
        json_decref (b);
        return rc;
    }
    pending_session_t *ps = (pending_session_t *) calloc (1, sizeof *ps);
    if (!ps) {
        json_decref (b);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    snprintf (ps->user, sizeof ps->user, "%s", user);
    snprintf (ps->org, sizeof ps->org, "%s", org);
    snprintf (ps->mode, sizeof ps->mode, "%s", mode);
    snprintf (ps->item_id, sizeof ps->item_id, "%s", json_string_value (item));
    ps->context_id = context_id? strdup (context_id): NULL;
    json_decref (b);
    if (td_llm_item_fetch (actor, call, ps->item_id, s_session_item, ps) != 0) {
        free (ps->context_id);
        free (ps);
        td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "cannot reach the catalog");
    }
    return TD_ACTOR_OK;
}

//  The caller's session row (id, org, mode, item) or NULL: answered 404 / 503 already.
static PGresult *
s_own_session (td_actor_t *actor, td_call_t *call, td_principal_t *p, char *id, size_t size)
{
    td_llm_param (call, "id", id, size);
    if (!td_llm_uuid_valid (id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such tutor session");
        return NULL;
    }
    const char *params [] = { id, td_principal_user (p) };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT id, org_id, mode, item_id, item, vocabulary FROM llm_tutor_sessions"
        " WHERE id = $1::uuid AND user_id = $2", 2, params);
    if (!res) {
        td_llm_db_down (call);
        return NULL;
    }
    if (PQntuples (res) != 1) {
        PQclear (res);
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such tutor session");
        return NULL;
    }
    return res;
}

PGresult *
td_llm_tutor_own (td_actor_t *actor, td_call_t *call, char *user, size_t usize, char *id,
                  size_t size)
{
    td_principal_t *p = s_learner (call);
    if (!p)
        return NULL;
    snprintf (user, usize, "%s", td_principal_user (p));
    PGresult *res = s_own_session (actor, call, p, id, size);
    td_principal_destroy (&p);
    return res;
}

int
td_llm_tutor_get (td_actor_t *actor, td_call_t *call)
{
    td_llm_t *llm = td_llm_state (actor);
    td_principal_t *p = s_learner (call);
    if (!p)
        return TD_ACTOR_OK;
    char id [64];
    PGresult *res = s_own_session (actor, call, p, id, sizeof id);
    td_principal_destroy (&p);
    if (!res)
        return TD_ACTOR_OK;
    PQclear (res);
    const char *params [] = { id };
    res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT json_build_object ('id', s.id, 'mode', s.mode, 'item_id', s.item_id,"
        " 'context_id', s.context_id, 'org_id', nullif (s.org_id, ''), 'created_at', s.created_at,"
        " 'messages', coalesce ((SELECT json_agg (json_build_object ('id', m.id, 'role', m.role,"
        "   'text', m.text, 'status', m.status, 'provider', m.provider, 'model', m.model,"
        "   'usage', json_build_object ('prompt_tokens', m.prompt_tokens,"
        "   'completion_tokens', m.completion_tokens), 'error', m.error, 'analysis', m.analysis,"
        "   'created_at', m.created_at) ORDER BY m.seq)"
        "   FROM llm_tutor_messages m WHERE m.session_id = s.id), '[]'))"
        " FROM llm_tutor_sessions s WHERE s.id = $1::uuid", 1, params);
    if (!res)
        return td_llm_db_down (call);
    json_error_t jerr;
    json_t *body = PQntuples (res) == 1? json_loads (PQgetvalue (res, 0, 0), 0, &jerr): NULL;
    PQclear (res);
    if (!body)
        return td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such tutor session"), TD_ACTOR_OK;
    json_object_set_new (body, "streaming", json_boolean (td_llm_turn_of (llm, id) != NULL));
    return td_llm_reply (call, 200, body);
}

//  ---------------------------------------------------------------------------------------------
//  Turns

//  The last 40 finished messages of a session, oldest first (read in the batch of the new
//  message's rows, right after them).
static const char *const s_history_sql =
    "SELECT role, text FROM (SELECT role, text, seq FROM llm_tutor_messages"
    " WHERE session_id = $1::uuid AND status = 'done' ORDER BY seq DESC LIMIT 40) h"
    " ORDER BY seq";

static json_t *
s_history (const PGresult *res, int *assistant_turns)
{
    if (!res)
        return NULL;
    json_t *msgs = json_array ();
    *assistant_turns = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        bool assistant = strcmp (PQgetvalue (res, i, 0), "assistant") == 0;
        *assistant_turns += assistant;
        json_array_append_new (msgs, json_pack ("{s:s, s:s}", "role", assistant? "assistant": "user",
                                                "text", PQgetvalue (res, i, 1)));
    }
    return msgs;
}

//  The learner's latest code and grading result (if the client sent them) go to the model with
//  this turn's message only; the stored history keeps the message as written.
static void
s_add_context (json_t *msg, const json_t *b)
{
    const char *code = json_string_value (json_object_get (b, "code"));
    json_t *result = json_object_get (b, "result");
    if (!msg || (!code && !json_is_object (result)))
        return;
    char *result_s = json_is_object (result)? json_dumps (result, JSON_COMPACT): NULL;
    const char *text = json_string_value (json_object_get (msg, "text"));
    size_t n = strlen (text? text: "") + (code? strlen (code): 0) + (result_s? strlen (result_s): 0) + 128;
    char *full = (char *) malloc (n);
    if (full) {
        snprintf (full, n, "%s%s%s%s%s%s", text? text: "", code? "\n\nMy current code:\n```\n": "",
                  code? code: "", code? "\n```": "", result_s? "\n\nMy latest grading result:\n": "",
                  result_s? result_s: "");
        json_object_set_new (msg, "text", json_string (full));
    }
    free (full);
    free (result_s);
}

//  Start the turn's upstream stream (or end it with an error when that cannot start).
static void
s_start (td_llm_turn_t *t, const td_llm_org_cfg_t *cfg, const char *system, const json_t *history)
{
    td_llm_t *llm = t->llm;
    td_llm_gw_req_t req = {
        .kind = cfg->kind, .base_url = cfg->base_url, .api_key = cfg->api_key,
        .nmodels = cfg->nmodels, .system = system, .messages = history,
        .max_tokens = llm->max_tokens
    };
    for (int i = 0; i < cfg->nmodels; i++)
        req.models [i] = cfg->models [i];
    t->stream = system? td_llm_gw_start (llm->gw, &req, td_llm_turn_delta, td_llm_turn_done, t): 0;
    if (!t->stream) {
        td_llm_result_t r = { .ok = false };
        snprintf (r.code, sizeof r.code, "internal");
        snprintf (r.message, sizeof r.message, "cannot start the request to the model");
        td_llm_turn_done (t, &r);
    }
}

//  A turn that waited for the draft starts (or ends, when cancelled or the actor stops).
static void
s_start_pending (td_llm_turn_t *t)
{
    if (t->cancel_requested || t->llm->stopping) {
        td_llm_result_t r = { .ok = false };
        snprintf (r.code, sizeof r.code, "cancelled");
        snprintf (r.message, sizeof r.message, "the request was cancelled");
        td_llm_turn_done (t, &r);
        return;
    }
    if (!t->pending_cfg) {
        td_llm_result_t r = { .ok = false };
        snprintf (r.code, sizeof r.code, "internal");
        snprintf (r.message, sizeof r.message, "cannot start the request to the model");
        td_llm_turn_done (t, &r);
        return;
    }
    td_llm_org_cfg_t *cfg = t->pending_cfg;
    char *system = t->pending_system;
    json_t *history = t->pending_history;
    t->pending_cfg = NULL;
    t->pending_system = NULL;
    t->pending_history = NULL;
    s_start (t, cfg, system, history);
    sodium_memzero (cfg, sizeof *cfg);
    free (cfg);
    free (system);
    json_decref (history);
}

static void
s_draft_ready (td_actor_t *actor, td_call_t *call, json_t *draft, void *arg)
{
    (void) actor;
    (void) call;
    td_llm_turn_t *t = (td_llm_turn_t *) arg;
    const char *code = json_string_value (json_object_get (draft, "code"));
    if (code && *code && t->pending_history) {
        json_t *ctx = json_pack ("{s:s}", "code", code);
        s_add_context (json_array_get (t->pending_history, json_array_size (t->pending_history) - 1),
                       ctx);
        json_decref (ctx);
    }
    s_start_pending (t);
}

//  A message waiting for its rows (td_llm_dbq): what the rest of tutor.message needs.
typedef struct {
    td_actor_t *actor;
    td_llm_turn_t *t;
    td_call_t *call;                //  kept
    json_t *b;                      //  the body: text, code, result
    td_llm_org_cfg_t cfg;           //  the org's settings (key included: zeroed when freed)
    char item_id [40];
    char user_msg [64];             //  the learner's message row, once stored
    bool inserted;                  //  the INSERT's outcome is known (s_message_inserted ran)
    bool stored;                    //  the two rows are committed
    bool history_queued;            //  the history read is queued behind the rows
} s_msg_t;

static const char *const s_insert_sql =
    "INSERT INTO llm_tutor_messages (session_id, role, text, status, provider, model)"
    " VALUES ($1::uuid, 'user', $2, 'done', NULL, NULL),"
    "        ($1::uuid, 'assistant', '', 'streaming', $3, $4)"
    " RETURNING id, role";

static void
s_msg_free (s_msg_t *m)
{
    json_decref (m->b);
    sodium_memzero (&m->cfg, sizeof m->cfg);
    free (m);
}

static void s_message_stored (void *arg, const PGresult *res);

//  The INSERT of the message's two rows is committed (res, NULL when it failed): their ids.
static void
s_message_inserted (void *arg, const PGresult *res)
{
    s_msg_t *m = (s_msg_t *) arg;
    td_llm_turn_t *t = m->t;
    m->inserted = true;
    m->stored = res != NULL;
    for (int i = 0; res && i < PQntuples (res); i++)
        if (strcmp (PQgetvalue (res, i, 1), "assistant") == 0)
            snprintf (t->message, sizeof t->message, "%s", PQgetvalue (res, i, 0));
        else
            snprintf (m->user_msg, sizeof m->user_msg, "%s", PQgetvalue (res, i, 0));
    if (!m->history_queued) {
        //  the read could not be queued behind the rows: done here
        const char *params [] = { t->session };
        PGresult *h = m->stored? td_db_exec (td_actor_db (m->actor), t->rid, s_history_sql, 1,
                                             params): NULL;
        s_message_stored (m, h);
        PQclear (h);
    }
}

//  tutor.message once its rows are stored and its history read (res: the history, NULL when
//  the read failed: the turn is answered offline, as it always was).
static void
s_message_stored (void *arg, const PGresult *res)
{
    s_msg_t *m = (s_msg_t *) arg;
    td_llm_turn_t *t = m->t;
    td_llm_t *llm = t->llm;
    td_actor_t *actor = m->actor;
    td_call_t *call = m->call;
    t->storing = false;
    json_t *b = m->b;
    const char *text = json_string_value (json_object_get (b, "text"));
    const char *item_id = m->item_id;
    const char *user_msg = m->user_msg;
    if (!m->stored) {
        td_llm_turn_free (t);
        td_llm_db_down (call);
        s_msg_free (m);
        return;
    }
    if (llm->stopping) {
        //  the actor stops while the rows were written: no stream starts now
        const char *p [] = { t->message };
        PGresult *r2 = td_db_exec (td_actor_db (actor), t->rid, "UPDATE llm_tutor_messages SET"
                                   " status = 'cancelled' WHERE id = $1::uuid", 1, p);
        PQclear (r2);
        td_llm_turn_free (t);
        td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the tutor is stopping");
        s_msg_free (m);
        return;
    }
    int turns = 0;
    json_t *history = s_history (res, &turns);
    if (history) {
        //  the new message is the last of the history (a defence: it was just stored 'done')
        json_t *last = json_array_get (history, json_array_size (history) - 1);
        const char *last_text = json_string_value (json_object_get (last, "text"));
        if (!last_text || strcmp (last_text, text) != 0)
            json_array_append_new (history, json_pack ("{s:s, s:s}", "role", "user", "text", text));
        s_add_context (json_array_get (history, json_array_size (history) - 1), b);
    }
    json_t *ack = json_pack ("{s:s, s:s, s:s, s:s}", "session_id", t->session, "message_id",
                             t->message, "provider", t->provider, "model", t->model);
    td_llm_org_cfg_t *cfg = &m->cfg;
    bool offline = cfg->kind == TD_LLM_OFFLINE || !history;
    char *system = offline? NULL: td_llm_system_prompt (llm, t->mode, !t->exam, t->item);
    bool waiting = false;
    //  a tutor.cancel that came while the rows were written: the turn ends as cancelled
    bool cancelled = t->cancel_requested;
    //  the learner's latest code: their draft of the item, unless the client sent code; asked
    //  before the 202, while the call (and its auth) is still ours
    if (!cancelled && system && !json_is_string (json_object_get (b, "code")) && *item_id) {
        t->pending_cfg = (td_llm_org_cfg_t *) malloc (sizeof *cfg);
        if (t->pending_cfg) {
            *t->pending_cfg = *cfg;
            t->pending_system = system;
            t->pending_history = json_incref (history);
            system = NULL;
            waiting = td_llm_draft_fetch (actor, t->rid, td_call_auth (call), item_id,
                                          s_draft_ready, t) == 0;
        }
    }
    td_llm_reply (call, 202, ack);
    //  conversation practice: the learner's turn is analysed beside the answer (td_llm_conv.c);
    //  started first, as the offline turn below ends (and frees t) at once
    if (strcmp (t->mode, "conversation") == 0 && *user_msg)
        td_llm_conv_analyze (actor, t->rid, t->session, user_msg, t->user, t->org, text, t->item);
    if (cancelled)
        s_start_pending (t);        //  which ends it as cancelled
    else
    if (offline)
        td_llm_turn_offline (t, text, turns);
    else
    if (system)
        s_start (t, cfg, system, history);
    else
    if (!waiting)
        s_start_pending (t);        //  the draft could not be asked for: go on without it
    free (system);
    json_decref (history);
    s_msg_free (m);
}


int
td_llm_tutor_message (td_actor_t *actor, td_call_t *call)
{
    td_llm_t *llm = td_llm_state (actor);
    td_principal_t *p = s_learner (call);
    if (!p)
        return TD_ACTOR_OK;
    char id [64], user [64];
    snprintf (user, sizeof user, "%s", td_principal_user (p));
    PGresult *sess = s_own_session (actor, call, p, id, sizeof id);
    td_principal_destroy (&p);
    if (!sess)
        return TD_ACTOR_OK;
    json_t *b = td_llm_body (call);
    if (!b) {
        PQclear (sess);
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the message must be a JSON object"),
               TD_ACTOR_OK;
    }
    const char *text = json_string_value (json_object_get (b, "text"));
    if (!text || json_string_length (json_object_get (b, "text")) < 1
    ||  json_string_length (json_object_get (b, "text")) > TEXT_MAX || strlen (text) == 0) {
        json_decref (b);
        PQclear (sess);
        return td_call_error (call, TD_ERR_INVALID_INPUT, "text",
                              "text must be a message of 1 to %d bytes", TEXT_MAX), TD_ACTOR_OK;
    }
    //  optional context from the client: the learner's latest code and grading result
    json_t *code = json_object_get (b, "code"), *result = json_object_get (b, "result");
    char *result_s = json_is_object (result)? json_dumps (result, JSON_COMPACT): NULL;
    const char *bad = NULL;
    if (code && !json_is_null (code) && (!json_is_string (code) || json_string_length (code) > 65536))
        bad = "code";
    else
    if (result && !json_is_null (result) && (!result_s || strlen (result_s) > 16384))
        bad = "result";
    if (bad) {
        free (result_s);
        json_decref (b);
        PQclear (sess);
        return td_call_error (call, TD_ERR_INVALID_INPUT, bad, strcmp (bad, "code") == 0
                              ? "code must be the learner's code (at most 65536 bytes)"
                              : "result must be a grading result object (at most 16 KiB)"),
               TD_ACTOR_OK;
    }
    free (result_s);
    if (td_llm_turn_of (llm, id)) {
        json_decref (b);
        PQclear (sess);
        return td_call_error (call, TD_ERR_CONFLICT, NULL,
                              "the tutor is still answering the previous message"), TD_ACTOR_OK;
    }
    td_llm_turn_t *t = (td_llm_turn_t *) calloc (1, sizeof *t);
    if (!t) {
        json_decref (b);
        PQclear (sess);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    t->llm = llm;
    snprintf (t->session, sizeof t->session, "%s", id);
    snprintf (t->user, sizeof t->user, "%s", user);
    snprintf (t->org, sizeof t->org, "%s", PQgetvalue (sess, 0, 1));
    snprintf (t->mode, sizeof t->mode, "%s", PQgetvalue (sess, 0, 2));
    snprintf (t->purpose, sizeof t->purpose, "%s", t->mode);     //  what llm.usage says
    snprintf (t->rid, sizeof t->rid, "%s", td_call_rid (call));
    t->exam = t->guard = strcmp (t->mode, "exam") == 0;
    char item_id [40] = "";
    if (!PQgetisnull (sess, 0, 3))
        snprintf (item_id, sizeof item_id, "%s", PQgetvalue (sess, 0, 3));
    if (!PQgetisnull (sess, 0, 4)) {
        json_error_t jerr;
        t->item = json_loads (PQgetvalue (sess, 0, 4), 0, &jerr);
    }
    PQclear (sess);
    //  t is linked at once so every early return below frees it through td_llm_turn_free
    td_llm_turn_link (llm, t);

    td_llm_org_cfg_t cfg;
    if (td_llm_org_config (llm, td_call_rid (call), t->org, &cfg) != 0) {
        json_decref (b);
        td_llm_turn_free (t);
        return td_llm_db_down (call);
    }
    snprintf (t->provider, sizeof t->provider, "%s", td_llm_kind_name (cfg.kind));
    snprintf (t->model, sizeof t->model, "%s", cfg.kind == TD_LLM_OFFLINE? "offline": cfg.models [0]);
    if (cfg.budget >= 0) {
        int64_t used = td_llm_org_month_tokens (llm, td_call_rid (call), t->org);
        if (used < 0 || used >= cfg.budget) {
            json_decref (b);
            td_llm_turn_free (t);
            sodium_memzero (&cfg, sizeof cfg);
            if (used < 0)
                return td_llm_db_down (call);
            td_call_error_retry (call, TD_ERR_BUDGET_EXCEEDED, td_llm_seconds_to_next_month (), "budget",
                                 "the organisation's monthly token budget "
                                 "(%lld) is spent", (long long) cfg.budget);
            return TD_ACTOR_OK;
        }
    }
    //  the two rows go through the write queue (td_llm_dbq.h): the thread streams on while they
    //  commit; the rest of the message (202, history, the stream) follows in s_message_stored
    s_msg_t *m = (s_msg_t *) calloc (1, sizeof *m);
    if (!m) {
        json_decref (b);
        td_llm_turn_free (t);
        sodium_memzero (&cfg, sizeof cfg);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    m->actor = actor;
    m->t = t;
    t->storing = true;
    m->call = call;
    m->b = b;
    m->cfg = cfg;
    sodium_memzero (&cfg, sizeof cfg);
    snprintf (m->item_id, sizeof m->item_id, "%s", item_id);
    td_call_keep (call);
    const char *p1 [] = { t->session, text, t->provider, t->model };
    const char *p2 [] = { t->session };
    //  the history read is queued right behind the rows (the same batch, or the next one); a
    //  callback may run inside a push (the queue's slow path), hence the flags set first
    m->history_queued = true;
    if (!llm->dbq || td_llm_dbq_push (llm->dbq, t->rid, s_insert_sql, 4, p1, s_message_inserted, m) != 0) {
        m->history_queued = false;
        PGresult *res = td_db_exec (td_actor_db (actor), t->rid, s_insert_sql, 4, p1);
        s_message_inserted (m, res);        //  reads the history and goes on
        PQclear (res);
        return TD_ACTOR_OK;
    }
    if (td_llm_dbq_push (llm->dbq, t->rid, s_history_sql, 1, p2, s_message_stored, m) != 0) {
        m->history_queued = false;          //  s_message_inserted reads it, unless it ran already
        if (m->inserted) {
            PGresult *h = m->stored? td_db_exec (td_actor_db (actor), t->rid, s_history_sql, 1, p2)
                                   : NULL;
            s_message_stored (m, h);
            PQclear (h);
        }
    }
    return TD_ACTOR_OK;
}

//  Cancel the turn of session if this process has it: true when one was cancelled.
static bool
s_cancel_here (td_llm_t *llm, const char *session)
{
    td_llm_turn_t *t = td_llm_turn_of (llm, session);
    if (t && (t->pending_cfg || t->storing) && !t->cancel_requested)
        return t->cancel_requested = true;  //  ends when the draft lookup answers, or when its
                                            //  rows are written (no stream)
    if (t && t->stream)
        return td_llm_gw_cancel (llm->gw, t->stream) == 0;
    return false;
}

int
td_llm_tutor_cancel (td_actor_t *actor, td_call_t *call)
{
    td_llm_t *llm = td_llm_state (actor);
    td_principal_t *p = s_learner (call);
    if (!p)
        return TD_ACTOR_OK;
    char id [64], user [64];
    snprintf (user, sizeof user, "%s", td_principal_user (p));
    PGresult *res = s_own_session (actor, call, p, id, sizeof id);
    td_principal_destroy (&p);
    if (!res)
        return TD_ACTOR_OK;
    char org [64];
    snprintf (org, sizeof org, "%s", PQgetvalue (res, 0, 1));
    PQclear (res);
    bool cancelled = s_cancel_here (llm, id);
    if (!cancelled && !td_llm_turn_of (llm, id)) {
        //  Not here: with several llm processes (TUTORD_ACTORS) the turn may stream in another.
        //  When the session has an answer streaming, every llm actor is told (llm.cancel) and
        //  the one that has it cancels it.
        const char *params [] = { id };
        PGresult *s = td_db_exec (td_actor_db (actor), td_call_rid (call),
            "SELECT 1 FROM llm_tutor_messages WHERE session_id = $1::uuid AND role = 'assistant'"
            " AND status = 'streaming' LIMIT 1", 1, params);
        if (!s)
            return td_llm_db_down (call);
        bool streaming = PQntuples (s) == 1;
        PQclear (s);
        cancelled = streaming && td_actor_publish_json (actor, "llm.cancel", user, org, id,
                                   json_pack ("{s:s}", "session_id", id)) == 0;
        if (streaming && !cancelled)
            td_warn ("llm", td_call_rid (call), "session %s: the cancel could not be passed on", id);
    }
    return td_llm_reply (call, 200, json_pack ("{s:s, s:b}", "session_id", id, "cancelled",
                                               cancelled));
}

void
td_llm_tutor_cancel_event (td_actor_t *actor, zsock_t *sock)
{
    td_llm_t *llm = td_llm_state (actor);
    for (int i = 0; i < 64; i++) {
        zframe_t *type, *body;
        zmsg_t *msg = td_events_recv (sock, i == 0, &type, &body);
        if (!msg)
            break;
        td_error_t err;
        td_msg_t *ev = type && zframe_size (type) == strlen ("llm.cancel")
                     && memcmp (zframe_data (type), "llm.cancel", strlen ("llm.cancel")) == 0
                     ? td_msg_decode (TD_MSG_EVENT, zframe_data (body), zframe_size (body), &err)
                     : NULL;
        zmsg_destroy (&msg);
        const msgpack_object *sid = ev? td_mp_get (td_msg_body (ev), "session_id"): NULL;
        char session [64];
        if (sid && td_mp_strcpy (sid, session, sizeof session) && s_cancel_here (llm, session))
            td_info ("llm", NULL, "session %s: turn cancelled through another llm process",
                     session);
        td_msg_destroy (&ev);
    }
}

void
td_llm_tutor_stop_all (td_llm_t *llm)
{
    llm->stopping = true;
    td_llm_turn_stop_all (llm);
    td_llm_lookup_stop_all (llm);   //  turns waiting for a draft end here, as cancelled
    td_llm_dbq_flush (llm->dbq);    //  the ended turns' rows are written, their llm.done sent
    td_llm_turn_free_all (llm);
}
