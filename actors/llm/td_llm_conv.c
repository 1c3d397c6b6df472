/*  td_llm_conv — the structured analysis of each learner turn in conversation practice (issue 7
 *  point 4, LLM.md §7), and the vocabulary snapshot a conversation session keeps.
 *
 *  When a learner posts a turn in a session of mode "conversation", the tutor's answer streams as
 *  usual and, beside it, the turn is analysed: grammar errors with correction and explanation,
 *  the vocabulary it uses (lemma, translation, article; known = the learner already made a card
 *  of it here) and a CEFR level estimate. With a model this is a second request per turn, not
 *  streamed to anyone (its text is collected on the gateway's loop like any stream, so the actor
 *  never waits), with its own budget check and its own usage row. With the offline provider the
 *  rules of td_llm_conv_words.c answer at once, marked offline. Either way the result is checked
 *  against prompts/analysis.schema.json (td_llm_schema.c) before anything is stored: what fails
 *  is recorded as {"status": "unavailable", "reason"} and its content dropped. The outcome is
 *  stored on the learner's message row and published as one `llm.analysis` event.
 *
 *  Calls to other services (the catalog's course.get for the vocabulary snapshot; srs for cards,
 *  td_llm_conv_cards.c) go through this file's own td_acall (actors/core/td_actor_call.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_actor_call.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_llm_conv.h"
#include "td_llm_schema.h"
#include "td_llm_dbq.h"

#define CALL_TIMEOUT_MS     15000
#define ANALYSIS_TEXT_MAX   65536   //  a model's analysis, bytes
#define VOCAB_MAX           2000    //  vocabulary entries kept per session

typedef struct s_analysis s_analysis_t;
struct s_analysis {
    s_analysis_t *next;
    td_actor_t *actor;
    uint64_t stream;
    char rid [64], session [64], message [64], user [64], org [64], provider [16], model [128];
    char *text;     size_t len, cap;
    json_t *vocab, *known;
};

struct td_llm_conv {
    td_acall_t *calls;
    json_t *schema;
    s_analysis_t *analyses;         //  model analyses in flight
    msgpack_sbuffer system_auth;
    bool stopping;
};

typedef struct {
    td_llm_conv_fn *fn;
    void *arg;
} s_pending_t;

//  ---------------------------------------------------------------------------------------------
//  Calls to other services

static void
s_on_reply (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    s_pending_t *p = (s_pending_t *) arg;
    int status = reply? td_msg_status (reply): 0;
    json_t *body = reply? td_mp_to_json (td_msg_body (reply), NULL): NULL;
    if (!reply && err)
        td_warn ("llm", NULL, "conversation: a call failed: %s", err->message);
    p->fn (actor, p->arg, status, body);
    json_decref (body);
    free (p);
}

int
td_llm_conv_call (td_actor_t *actor, const char *service, const char *type, const void *auth,
                  size_t auth_size, json_t *body, td_llm_conv_fn *fn, void *arg)
{
    td_llm_conv_t *self = td_llm_state (actor)->conv;
    s_pending_t *p = (s_pending_t *) calloc (1, sizeof *p);
    if (!self || !p || self->stopping) {
        free (p);
        json_decref (body);
        return -1;
    }
    p->fn = fn;
    p->arg = arg;
    td_error_t err;
    int rc = td_llm_acall_json (self->calls, service, type, auth? auth: self->system_auth.data,
                                auth? auth_size: self->system_auth.size, body, CALL_TIMEOUT_MS,
                                s_on_reply, p, &err);
    if (rc != 0) {
        td_warn ("llm", NULL, "conversation: cannot ask %s %s: %s", service, type, err.message);
        free (p);
    }
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  The vocabulary snapshot of a conversation session

typedef struct {
    td_call_t *call;
    td_llm_item_fn *fn;
    void *arg;
} s_vocab_wait_t;

static void
s_on_course (td_actor_t *actor, void *arg, int status, json_t *body)
{
    s_vocab_wait_t *w = (s_vocab_wait_t *) arg;
    json_t *vocab = status == 200? td_llm_vocab_from_course (body, VOCAB_MAX): NULL;
    if (status != 200)
        td_warn ("llm", NULL, "conversation: no course vocabulary (course.get answered %d)", status);
    w->fn (actor, w->call, vocab, w->arg);
    json_decref (vocab);
    free (w);
}

int
td_llm_conv_vocab_fetch (td_actor_t *actor, td_call_t *call, const json_t *item,
                         td_llm_item_fn *fn, void *arg)
{
    const char *course = json_string_value (json_object_get (item, "course_id"));
    s_vocab_wait_t *w = course? (s_vocab_wait_t *) calloc (1, sizeof *w): NULL;
    if (!w)
        return -1;
    *w = (s_vocab_wait_t) { call, fn, arg };
    if (td_llm_conv_call (actor, "catalog", "course.get", NULL, 0,
                          json_pack ("{s:s}", "id", course), s_on_course, w) != 0) {
        free (w);
        return -1;
    }
    return 0;
}

char *
td_llm_conv_context (td_llm_t *llm, const json_t *item)
{
    json_t *c = json_object_get (json_object_get (item, "content"), "conversation");
    if (!json_is_object (c))
        return NULL;
    char *goals = NULL;
    size_t glen = 0;
    FILE *f = open_memstream (&goals, &glen);
    size_t i;
    json_t *g;
    json_array_foreach (json_object_get (c, "goals"), i, g)
        if (f && json_is_string (g))
            fprintf (f, "%s%s", i? "; ": "", json_string_value (g));
    if (f)
        fclose (f);
    json_t *vars = json_pack ("{s:O?, s:O?, s:s, s:O?}", "scenario", json_object_get (c, "scenario"),
                              "role", json_object_get (c, "role"), "goals", goals? goals: "",
                              "level", json_object_get (c, "level"));
    free (goals);
    char *out = vars? td_llm_render (td_llm_prompt (llm, "scenario"), vars): NULL;
    json_decref (vars);
    return out;
}

//  ---------------------------------------------------------------------------------------------
//  Recording an analysis

//  known and item_id of each vocabulary entry are ours, not the model's: set from the learner's
//  cards and the course's vocabulary.
static void
s_mark_vocabulary (json_t *result, const json_t *vocab, const json_t *known)
{
    size_t i, k;
    json_t *e, *kw;
    json_array_foreach (json_object_get (result, "vocabulary"), i, e) {
        if (!json_is_object (e))
            continue;
        const char *lemma = json_string_value (json_object_get (e, "lemma"));
        const char *word = json_string_value (json_object_get (e, "word"));
        char folded [256] = "";
        const json_t *entry = lemma? td_llm_vocab_find (vocab, lemma, NULL): NULL;
        if (!entry && word)
            entry = td_llm_vocab_find (vocab, word, NULL);
        const char *base = entry? json_string_value (json_object_get (json_object_get (entry,
                                                     "content"), "word")): lemma;
        if (base)
            td_llm_word_fold (base, strlen (base), folded, sizeof folded);
        bool is_known = false;
        json_array_foreach (known, k, kw)
            is_known = is_known || (json_is_string (kw) && strcmp (json_string_value (kw), folded) == 0);
        json_object_set_new (e, "known", json_boolean (is_known));
        if (entry)
            json_object_set (e, "item_id", json_object_get (entry, "item_id"));
        else
            json_object_del (e, "item_id");
    }
}

//  An analysis on its way to its row (td_llm_dbq): published once stored.
typedef struct {
    td_actor_t *actor;
    char rid [64], session [64], message [64], user [64], org [64];
    json_t *a;
} s_stored_t;

static void
s_publish (td_actor_t *actor, const char *session, const char *message, const char *user,
           const char *org, json_t *a)
{
    td_llm_publish (actor, "llm.analysis", org, user, session,
                    json_pack ("{s:s, s:s, s:o}", "session_id", session, "message_id", message,
                               "analysis", a));
}

static void
s_stored (void *arg, const PGresult *res)
{
    s_stored_t *st = (s_stored_t *) arg;
    if (!res)
        td_warn ("llm", st->rid, "conversation: the analysis of %s could not be stored", st->message);
    s_publish (st->actor, st->session, st->message, st->user, st->org, st->a);
    free (st);
}

//  Validate, store on the learner's message and publish; takes result (NULL: unavailable, why).
//  The row is written off the thread (td_llm_dbq.h); llm.analysis goes out once it is.
static void
s_record (td_actor_t *actor, const char *rid, const char *session, const char *message,
          const char *user, const char *org, const char *provider, const char *model,
          json_t *result, const char *why, int64_t prompt, int64_t completion)
{
    td_llm_conv_t *self = td_llm_state (actor)->conv;
    char reason [300];
    snprintf (reason, sizeof reason, "%s", why? why: "no analysis");
    if (result && td_llm_schema_validate (self->schema, result, reason, sizeof reason) != 0) {
        td_info ("llm", rid, "conversation: an analysis failed its schema: %s", reason);
        json_decref (result);
        result = NULL;
    }
    bool offline = strcmp (provider, "offline") == 0;
    json_t *a = json_pack ("{s:s, s:b, s:s, s:s, s:{s:I, s:I}}", "status", result? "done": "unavailable",
                           "offline", offline, "provider", provider, "model", model, "usage",
                           "prompt_tokens", (json_int_t) prompt, "completion_tokens",
                           (json_int_t) completion);
    if (!a) {
        json_decref (result);
        return;
    }
    if (result)
        json_object_set_new (a, "result", result);
    else
        json_object_set_new (a, "reason", json_string (reason));
    static const char *const sql =
        "UPDATE llm_tutor_messages SET analysis = $2::jsonb WHERE id = $1::uuid";
    char *s = json_dumps (a, JSON_COMPACT);
    const char *params [] = { message, s };
    td_llm_dbq_t *q = td_llm_state (actor)->dbq;
    s_stored_t *st = s && q? (s_stored_t *) calloc (1, sizeof *st): NULL;
    if (st) {
        st->actor = actor;
        st->a = a;
        snprintf (st->rid, sizeof st->rid, "%s", rid);
        snprintf (st->session, sizeof st->session, "%s", session);
        snprintf (st->message, sizeof st->message, "%s", message);
        snprintf (st->user, sizeof st->user, "%s", user);
        snprintf (st->org, sizeof st->org, "%s", org);
        if (td_llm_dbq_push (q, rid, sql, 2, params, s_stored, st) == 0) {
            free (s);
            return;
        }
        free (st);
    }
    PGresult *res = s? td_db_exec (td_actor_db (actor), rid, sql, 2, params): NULL;
    if (res)
        PQclear (res);
    else
        td_warn ("llm", rid, "conversation: the analysis of %s could not be stored", message);
    free (s);
    s_publish (actor, session, message, user, org, a);
}

//  The session's vocabulary and the learner's carded words (known), or -1.
static int
s_lookup (td_actor_t *actor, const char *rid, const char *session, const char *user,
          json_t **vocab, json_t **known)
{
    const char *params [] = { session, user };
    PGresult *res = td_db_exec (td_actor_db (actor), rid,
        "SELECT coalesce (s.vocabulary, '[]'), coalesce ((SELECT json_agg (w.word) FROM"
        " (SELECT word FROM llm_word_cards WHERE user_id = $2 AND done LIMIT 5000) w),"
        " '[]') FROM llm_tutor_sessions s WHERE s.id = $1::uuid", 2, params);
    if (!res)
        return -1;
    json_error_t jerr;
    *vocab = PQntuples (res) == 1? json_loads (PQgetvalue (res, 0, 0), 0, &jerr): NULL;
    *known = PQntuples (res) == 1? json_loads (PQgetvalue (res, 0, 1), 0, &jerr): NULL;
    PQclear (res);
    if (!*vocab)
        *vocab = json_array ();
    if (!*known)
        *known = json_array ();
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  A model's analysis

static void
s_analysis_free (td_llm_conv_t *self, s_analysis_t *a)
{
    for (s_analysis_t **pp = &self->analyses; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    free (a->text);
    json_decref (a->vocab);
    json_decref (a->known);
    free (a);
}

static int
s_an_delta (void *arg, const char *text, size_t len)
{
    s_analysis_t *a = (s_analysis_t *) arg;
    //  over the cap ends the stream: no analysis is that long
    return td_llm_text_append (&a->text, &a->len, &a->cap, text, len, ANALYSIS_TEXT_MAX)? 1: 0;
}

static void
s_an_done (void *arg, const td_llm_result_t *r)
{
    s_analysis_t *a = (s_analysis_t *) arg;
    td_actor_t *actor = a->actor;
    td_llm_t *llm = td_llm_state (actor);
    td_llm_conv_t *self = llm->conv;
    const char *model = *r->model? r->model: a->model;
    td_llm_usage_t u = {
        .rid = a->rid, .org = a->org, .user = a->user, .purpose = "analysis",
        .provider = a->provider, .model = model, .prompt_tokens = r->prompt_tokens,
        .completion_tokens = r->completion_tokens, .ok = r->ok, .code = r->code,
        .session_id = a->session
    };
    if (td_llm_usage_record_async (llm, &u) != 0)
        td_warn ("llm", a->rid, "conversation: usage of an analysis could not be recorded");
    char why [300] = "";
    json_t *result = NULL;
    if (!r->ok)
        snprintf (why, sizeof why, "the model could not answer (%s): %s",
                  strcmp (r->code, "blocked") == 0? "too_large": r->code, r->message);
    else {
        result = td_llm_json_in (a->text? a->text: "", why, sizeof why);
        if (result)
            s_mark_vocabulary (result, a->vocab, a->known);
    }
    if (!self->stopping)
        s_record (actor, a->rid, a->session, a->message, a->user, a->org, a->provider, model,
                  result, why, r->prompt_tokens, r->completion_tokens);
    else
        json_decref (result);
    s_analysis_free (self, a);
}

static void
s_unavailable (td_actor_t *actor, const char *rid, const char *session, const char *message,
               const char *user, const char *org, const char *provider, const char *model,
               const char *why)
{
    s_record (actor, rid, session, message, user, org, provider, model, NULL, why, 0, 0);
}

void
td_llm_conv_analyze (td_actor_t *actor, const char *rid, const char *session,
                     const char *message, const char *user, const char *org,
                     const char *text, const json_t *item)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_conv_t *self = llm->conv;
    if (!self || self->stopping)
        return;
    json_t *vocab = NULL, *known = NULL;
    td_llm_org_cfg_t cfg;
    if (s_lookup (actor, rid, session, user, &vocab, &known) != 0
    ||  td_llm_org_config (llm, rid, org, &cfg) != 0) {
        json_decref (vocab);
        json_decref (known);
        sodium_memzero (&cfg, sizeof cfg);
        s_unavailable (actor, rid, session, message, user, org, "offline", "offline",
                       "the database is not available");
        return;
    }
    const char *provider = td_llm_kind_name (cfg.kind);
    const char *model = cfg.kind == TD_LLM_OFFLINE? "offline": cfg.models [0];
    const char *level = json_string_value (json_object_get (json_object_get (json_object_get (item,
                                           "content"), "conversation"), "level"));
    if (cfg.kind == TD_LLM_OFFLINE) {
        s_record (actor, rid, session, message, user, org, "offline", "offline",
                  td_llm_offline_analysis (text, vocab, known, level), "the rules failed", 0, 0);
        json_decref (vocab);
        json_decref (known);
        sodium_memzero (&cfg, sizeof cfg);
        return;
    }
    if (cfg.budget >= 0) {
        int64_t used = td_llm_org_month_tokens (llm, rid, org);
        if (used < 0 || used >= cfg.budget) {
            s_unavailable (actor, rid, session, message, user, org, provider, model,
                           used < 0? "the database is not available"
                                   : "the organisation's monthly token budget is spent");
            json_decref (vocab);
            json_decref (known);
            sodium_memzero (&cfg, sizeof cfg);
            return;
        }
    }
    s_analysis_t *a = (s_analysis_t *) calloc (1, sizeof *a);
    char *ctx = td_llm_conv_context (llm, item);
    json_t *vars = json_pack ("{s:s}", "context", ctx? ctx: "");
    char *system = vars? td_llm_render (td_llm_prompt (llm, "analysis"), vars): NULL;
    json_t *history = json_pack ("[{s:s, s:s}]", "role", "user", "text", text);
    json_decref (vars);
    free (ctx);
    if (a && system && history) {
        a->actor = actor;
        a->vocab = vocab;
        a->known = known;
        vocab = known = NULL;
        snprintf (a->rid, sizeof a->rid, "%s", rid);
        snprintf (a->session, sizeof a->session, "%s", session);
        snprintf (a->message, sizeof a->message, "%s", message);
        snprintf (a->user, sizeof a->user, "%s", user);
        snprintf (a->org, sizeof a->org, "%s", org);
        snprintf (a->provider, sizeof a->provider, "%s", provider);
        snprintf (a->model, sizeof a->model, "%s", model);
        td_llm_gw_req_t req = {
            .kind = cfg.kind, .base_url = cfg.base_url, .api_key = cfg.api_key,
            .nmodels = cfg.nmodels, .system = system, .messages = history,
            .max_tokens = llm->max_tokens
        };
        for (int i = 0; i < cfg.nmodels; i++)
            req.models [i] = cfg.models [i];
        a->next = self->analyses;
        self->analyses = a;
        a->stream = td_llm_gw_start (llm->gw, &req, s_an_delta, s_an_done, a);
        if (!a->stream) {
            s_analysis_free (self, a);
            s_unavailable (actor, rid, session, message, user, org, provider, model,
                           "cannot start the request to the model");
        }
        a = NULL;                   //  the gateway's now (s_an_done frees it), or freed
    }
    else
        s_unavailable (actor, rid, session, message, user, org, provider, model, "out of memory");
    free (a);
    free (system);
    json_decref (history);
    json_decref (vocab);
    json_decref (known);
    sodium_memzero (&cfg, sizeof cfg);
}

//  ---------------------------------------------------------------------------------------------
//  Life

static void
s_ready (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    td_llm_conv_t *self = td_llm_state (actor)->conv;
    if (self)
        td_acall_dispatch (self->calls, actor);
}

int
td_llm_conv_start (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_conv_t *self = (td_llm_conv_t *) calloc (1, sizeof *self);
    if (!self)
        return -1;
    llm->conv = self;
    msgpack_sbuffer_init (&self->system_auth);
    const char *dir = getenv ("TUTORD_PROMPTS");
    char path [4096], why [256] = "";
    snprintf (path, sizeof path, "%s/analysis.schema.json", dir && *dir? dir: TUTORD_SOURCE_DIR "/prompts");
    json_error_t jerr;
    self->schema = json_load_file (path, 0, &jerr);
    if (!self->schema || td_llm_schema_check_schema (self->schema, why, sizeof why) != 0) {
        td_error ("llm", NULL, "cannot use %s: %s", path, self->schema? why: jerr.text);
        return -1;
    }
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->system_auth, msgpack_sbuffer_write);
    self->calls = td_acall_new (td_config_broker_endpoint (td_actor_config (actor)), "llm");
    if (!self->calls || msgpack_pack_map (&pk, 1) || td_mp_pack_kv_str (&pk, "kind", "system")
    ||  td_actor_watch (actor, td_acall_sock (self->calls), s_ready) != 0)
        return -1;
    return 0;
}

void
td_llm_conv_tick (td_actor_t *actor)
{
    td_llm_conv_t *self = td_llm_state (actor)->conv;
    if (self && self->calls)
        td_acall_expire (self->calls, actor);
}

void
td_llm_conv_stop (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_conv_t *self = llm? llm->conv: NULL;
    if (!self)
        return;
    self->stopping = true;
    while (self->analyses) {
        s_analysis_t *a = self->analyses;
        if (!llm->gw || td_llm_gw_cancel (llm->gw, a->stream) != 0)
            s_analysis_free (self, a);          //  else done freed it
    }
    td_acall_destroy (&self->calls, actor);     //  callbacks run once more, with self still set
    llm->conv = NULL;
    json_decref (self->schema);
    msgpack_sbuffer_destroy (&self->system_auth);
    free (self);
}
