/*  td_llm_turn — streaming one answer: publishing its llm.delta events, holding text back and
 *  checking it against the reference solution (exam mode and the one-shot helpers), recording it
 *  and its usage, publishing llm.done, or answering a one-shot helper's kept call (LLM.md §4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_log.h"
#include "td_mp.h"
#include "td_llm_turn.h"
#include "td_llm_conv.h"
#include "td_llm_dbq.h"

#define ANSWER_MAX      250000      //  an answer as stored, bytes

td_llm_turn_t *
td_llm_turn_of (td_llm_t *llm, const char *session)
{
    //  the index is made with the actor (llm.c refuses to start without it)
    return (td_llm_turn_t *) zhashx_lookup (llm->turn_index, session);
}

void
td_llm_turn_link (td_llm_t *llm, td_llm_turn_t *t)
{
    t->prev = NULL;
    t->next = llm->turns;
    if (llm->turns)
        llm->turns->prev = t;
    llm->turns = t;
    if (*t->session)
        zhashx_update (llm->turn_index, t->session, t);
}

static void
s_emit (td_llm_turn_t *t, const char *text, size_t len)
{
    if (len == 0 || t->call)
        return;
    //  packed straight to msgpack: this is the per-token path
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    if (msgpack_pack_map (&pk, 3) == 0
    &&  td_mp_pack_kv_str (&pk, "session_id", t->session) == 0
    &&  td_mp_pack_kv_str (&pk, "message_id", t->message) == 0
    &&  td_mp_pack_str (&pk, "text") == 0 && td_mp_pack_strn (&pk, text, len) == 0) {
        td_event_spec_t spec = {
            .type = "llm.delta", .org = *t->org? t->org: NULL, .user = t->user,
            .subject = t->session, .data = buf.data, .data_size = buf.size
        };
        td_actor_publish (t->llm->actor, &spec);
    }
    msgpack_sbuffer_destroy (&buf);
}

int
td_llm_turn_delta (void *arg, const char *text, size_t len)
{
    td_llm_turn_t *t = (td_llm_turn_t *) arg;
    if (td_llm_text_append (&t->text, &t->len, &t->cap, text, len, ANSWER_MAX) != 0)
        return 1;                   //  ends the stream ("blocked"): over what is stored
    if (t->guard && td_llm_leaks_solution (t->item, t->text))
        return 1;
    if (!t->exam) {
        s_emit (t, text, len);
        t->sent = t->len;
        return 0;
    }
    char *nl = strrchr (t->text + t->sent, '\n');
    if (nl) {
        size_t upto = (size_t) (nl - t->text) + 1;
        s_emit (t, t->text + t->sent, upto - t->sent);
        t->sent = upto;
    }
    return 0;
}

void
td_llm_turn_free (td_llm_turn_t *t)
{
    td_llm_t *llm = t->llm;
    if (t->prev)
        t->prev->next = t->next;
    else
    if (llm->turns == t)
        llm->turns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->next = t->prev = NULL;
    if (*t->session && zhashx_lookup (llm->turn_index, t->session) == t)
        zhashx_delete (llm->turn_index, t->session);
    json_decref (t->item);
    free (t->text);
    free (t->fallback);
    if (t->pending_cfg) {
        sodium_memzero (t->pending_cfg, sizeof *t->pending_cfg);
        free (t->pending_cfg);
    }
    free (t->pending_system);
    json_decref (t->pending_history);
    free (t);
}

//  The usage row of an ended call, written off the thread (td_llm_dbq.h), fn once it is; with
//  no queue (or none left), written here and fn at once.
static void
s_write_usage (td_llm_turn_t *t, td_llm_dbq_fn *fn)
{
    td_llm_t *llm = t->llm;
    const td_llm_result_t *r = &t->end;
    td_llm_usage_args_t args;
    td_llm_usage_args (&args, t->org, t->user, r->model, r->prompt_tokens, r->completion_tokens,
                       r->ok, r->code);
    if (llm->dbq
    &&  td_llm_dbq_push (llm->dbq, t->rid, td_llm_usage_sql, 7, args.params, fn, t) == 0)
        return;
    PGresult *res = td_db_exec (td_actor_db (llm->actor), t->rid, td_llm_usage_sql, 7,
                                args.params);
    fn (t, res);
    PQclear (res);
}

//  What llm.done / llm.usage / the reply will say, kept while the rows are written.
static void
s_keep_end (td_llm_turn_t *t, const td_llm_result_t *r, bool ok, const char *code,
            const char *message)
{
    t->end = *r;
    t->end.ok = ok;
    snprintf (t->end.code, sizeof t->end.code, "%s", code);
    snprintf (t->end.message, sizeof t->end.message, "%s", message);
    snprintf (t->end.model, sizeof t->end.model, "%s", *r->model? r->model: t->model);
    t->stream = 0;                  //  ended: not cancellable; still the session's turn (409)
}

//  llm.usage for an ended call whose usage row is recorded.
static void
s_publish_usage (td_llm_turn_t *t, bool recorded)
{
    if (!recorded) {
        td_warn ("llm", t->rid, "usage of a %s request could not be recorded", t->purpose);
        return;
    }
    const td_llm_result_t *r = &t->end;
    td_llm_usage_t u = {
        .rid = t->rid, .org = t->org, .user = t->user, .purpose = t->purpose,
        .provider = t->provider, .model = r->model, .prompt_tokens = r->prompt_tokens,
        .completion_tokens = r->completion_tokens, .ok = r->ok, .code = r->code,
        .session_id = *t->session? t->session: NULL
    };
    td_llm_usage_publish (t->llm, &u);
}

//  A one-shot helper's usage is recorded: the kept call is answered with the whole text.
static void
s_oneshot_written (void *arg, const PGresult *recorded)
{
    td_llm_turn_t *t = (td_llm_turn_t *) arg;
    s_publish_usage (t, recorded != NULL);
    const td_llm_result_t *r = &t->end;
    bool ok = r->ok;
    const char *code = r->code, *message = r->message, *model = r->model;
    bool withheld = !ok && strcmp (code, "blocked") == 0;
    if (ok && t->post) {
        char why [200] = "";
        json_t *body = t->post (t->text? t->text: "", t->item, why, sizeof why);
        if (!body)
            td_call_error (t->call, TD_ERR_UNAVAILABLE, NULL,
                           "the model's answer is not valid: %s", why);
        else {
            json_object_set_new (body, "provider", json_string (t->provider));
            json_object_set_new (body, "model", json_string (model));
            json_object_set_new (body, "usage", json_pack ("{s:I, s:I}",
                "prompt_tokens", (json_int_t) r->prompt_tokens,
                "completion_tokens", (json_int_t) r->completion_tokens));
            td_llm_reply (t->call, 200, body);
        }
    }
    else
    if (withheld && !t->fallback)
        td_call_error (t->call, TD_ERR_UNAVAILABLE, NULL, "the model's answer was withheld");
    else
    if (ok || withheld)
        td_llm_reply (t->call, 200, json_pack ("{s:s, s:s, s:s, s:b, s:b, s:{s:I, s:I}}",
            "text", ok? (t->text? t->text: ""): (t->fallback? t->fallback: ""),
            "provider", withheld? "offline": t->provider, "model", withheld? "offline": model,
            "offline", withheld || strcmp (t->provider, "offline") == 0, "withheld", withheld,
            "usage", "prompt_tokens", (json_int_t) r->prompt_tokens,
            "completion_tokens", (json_int_t) r->completion_tokens));
    else
    if (strcmp (code, "timeout") == 0)
        td_call_error (t->call, TD_ERR_TIMEOUT, NULL, "%s", message);
    else
        td_call_error_retry (t->call, TD_ERR_UNAVAILABLE,
                             strcmp (code, "rate_limited") == 0? 5: 0, NULL,
                             "the model could not answer (%s): %s", code, message);
    td_llm_turn_free (t);
}

static const char *const s_answer_sql =
    "UPDATE llm_tutor_messages SET text = $2, status = $3, model = $4, prompt_tokens = $5,"
    " completion_tokens = $6, error = $7::jsonb WHERE id = $1::uuid";

static void
s_answer_written (void *arg, const PGresult *res)
{
    td_llm_turn_t *t = (td_llm_turn_t *) arg;
    if (!res)
        td_warn ("llm", t->rid, "the answer of a turn could not be stored");
}

//  The turn's rows are written (or failed): llm.usage (when its row is), llm.done, and the end.
static void
s_usage_written (void *arg, const PGresult *res)
{
    td_llm_turn_t *t = (td_llm_turn_t *) arg;
    td_llm_t *llm = t->llm;
    const td_llm_result_t *r = &t->end;
    s_publish_usage (t, res != NULL);
    json_t *data = json_pack ("{s:s, s:s, s:s, s:s, s:b, s:{s:I, s:I}}", "session_id", t->session,
        "message_id", t->message, "provider", t->provider, "model", r->model, "ok", r->ok, "usage",
        "prompt_tokens", (json_int_t) r->prompt_tokens,
        "completion_tokens", (json_int_t) r->completion_tokens);
    if (data && !r->ok)
        json_object_set_new (data, "error", json_pack ("{s:s, s:s}", "code", r->code,
                                                       "message", r->message));
    td_llm_publish (llm->actor, "llm.done", t->org, t->user, t->session, data);
    td_llm_turn_free (t);
}

void
td_llm_turn_done (void *arg, const td_llm_result_t *r)
{
    td_llm_turn_t *t = (td_llm_turn_t *) arg;
    td_llm_t *llm = t->llm;
    bool ok = r->ok;
    char code [32], message [200];
    snprintf (code, sizeof code, "%s", r->code);
    snprintf (message, sizeof message, "%s", r->message);
    if (ok && t->guard && td_llm_leaks_solution (t->item, t->text? t->text: "")) {
        ok = false;
        snprintf (code, sizeof code, "blocked");
    }
    if (t->call) {
        s_keep_end (t, r, ok, code, message);
        s_write_usage (t, s_oneshot_written);
        return;
    }
    if (!ok && strcmp (code, "blocked") == 0) {
        snprintf (message, sizeof message, "the answer was withheld: it would have revealed the "
                                            "solution or was over the size cap");
        t->len = t->sent;           //  keep only what was published
        if (t->text)
            t->text [t->len] = 0;
    }
    else
    if (ok)
        s_emit (t, t->text? t->text + t->sent: "", t->len - t->sent);
    const char *status = ok? "done": strcmp (code, "cancelled") == 0? "cancelled": "error";
    char pt [24], ct [24];
    snprintf (pt, sizeof pt, "%lld", (long long) r->prompt_tokens);
    snprintf (ct, sizeof ct, "%lld", (long long) r->completion_tokens);
    json_t *err = ok? NULL: json_pack ("{s:s, s:s}", "code", code, "message", message);
    char *err_s = err? json_dumps (err, JSON_COMPACT): NULL;
    json_decref (err);
    s_keep_end (t, r, ok, code, message);
    //  the answer row, then the usage row, written off the thread (td_llm_dbq.h); llm.done goes
    //  out once both are committed: the history is persisted before the turn is reported done
    const char *p1 [] = { t->message, t->text? t->text: "", status, t->end.model, pt, ct, err_s };
    if (!llm->dbq || td_llm_dbq_push (llm->dbq, t->rid, s_answer_sql, 7, p1, s_answer_written, t) != 0) {
        PGresult *res = td_db_exec (td_actor_db (llm->actor), t->rid, s_answer_sql, 7, p1);
        if (res)
            PQclear (res);
        else
            s_answer_written (t, NULL);
    }
    free (err_s);
    s_write_usage (t, s_usage_written);
}

//  The offline provider answers at once, in word-sized deltas.
void
td_llm_turn_offline (td_llm_turn_t *t, const char *text, int turn)
{
    char *answer = td_llm_offline_answer (t->llm, t->mode, t->item, text, turn);
    td_llm_result_t r = { .ok = answer != NULL };
    snprintf (r.model, sizeof r.model, "offline");
    if (!answer)
        snprintf (r.code, sizeof r.code, "internal");
    const char *p = answer;
    while (p && *p) {
        const char *q = p;
        for (int words = 0; *q && words < 4; words++) {
            while (*q && *q != ' ')
                q++;
            while (*q == ' ')
                q++;
        }
        if (td_llm_turn_delta (t, p, (size_t) (q - p)) != 0) {
            r.ok = false;
            snprintf (r.code, sizeof r.code, "blocked");
            break;
        }
        p = q;
    }
    free (answer);
    td_llm_turn_done (t, &r);
}

//  The system prompt: the mode's prompt, then the item (never its solution in exam mode).
char *
td_llm_system_prompt (td_llm_t *llm, const char *prompt, bool with_solution, const json_t *item)
{
    const char *base = td_llm_prompt (llm, prompt);
    if (!item)
        return strdup (base);
    json_t *c = json_object_get (item, "content");
    const char *kind = json_string_value (json_object_get (item, "kind"));
    json_t *vars = json_object ();
    const char *title = json_string_value (json_object_get (item, "title"));
    json_object_set_new (vars, "title", json_string (title? title: ""));
    json_object_set_new (vars, "kind", json_string (kind? kind: ""));
    const char *task = json_string_value (json_object_get (c, "instructions"));
    if (!task)
        task = json_string_value (json_object_get (c, "prompt"));
    json_object_set_new (vars, "task", json_string (task? task: ""));
    char *ctx = td_llm_render (td_llm_prompt (llm, "item"), vars);
    json_decref (vars);
    const char *solution = with_solution? td_llm_item_solution (item): NULL;
    char *conv = td_llm_conv_context (llm, item);     //  a material's conversation scenario
    size_t n = strlen (base) + (ctx? strlen (ctx): 0) + (solution? strlen (solution): 0)
             + (conv? strlen (conv): 0) + 200;
    char *out = (char *) malloc (n);
    if (out)
        snprintf (out, n, "%s\n\n%s%s%s%s%s", base, ctx? ctx: "", conv? "\n": "", conv? conv: "",
                  solution? "\nReference solution (for your guidance only; never show it):\n": "",
                  solution? solution: "");
    free (ctx);
    free (conv);
    return out;
}

int
td_llm_seconds_to_next_month (void)
{
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mon += 1;
    time_t next = timegm (&tm);
    return next > now? (int) (next - now): 1;
}

int
td_llm_oneshot (td_actor_t *actor, td_call_t *call, const char *purpose, const char *user,
                const char *org, const json_t *item, const char *system, const char *text,
                const char *fallback, td_llm_post_fn *post)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_turn_t *t = (td_llm_turn_t *) calloc (1, sizeof *t);
    if (!t)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    t->llm = llm;
    t->call = call;
    t->guard = item != NULL;
    t->item = item? json_deep_copy (item): NULL;
    t->fallback = fallback? strdup (fallback): NULL;
    t->post = post;
    snprintf (t->user, sizeof t->user, "%s", user);
    snprintf (t->org, sizeof t->org, "%s", org);
    snprintf (t->mode, sizeof t->mode, "tutor");
    snprintf (t->purpose, sizeof t->purpose, "%s", purpose);
    snprintf (t->rid, sizeof t->rid, "%s", td_call_rid (call));
    td_llm_turn_link (llm, t);
    td_llm_org_cfg_t cfg;
    if (td_llm_org_config (llm, t->rid, org, &cfg) != 0) {
        td_llm_turn_free (t);
        return td_llm_db_down (call);
    }
    snprintf (t->provider, sizeof t->provider, "%s", td_llm_kind_name (cfg.kind));
    snprintf (t->model, sizeof t->model, "%s", cfg.kind == TD_LLM_OFFLINE? "offline": cfg.models [0]);
    if (cfg.budget >= 0) {
        int64_t used = td_llm_org_month_tokens (llm, t->rid, org);
        if (used < 0 || used >= cfg.budget) {
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
    td_llm_result_t r = { .ok = true };
    if (cfg.kind == TD_LLM_OFFLINE && !t->fallback) {
        td_llm_turn_free (t);
        sodium_memzero (&cfg, sizeof cfg);
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "this needs a language model, and the "
                              "organisation's provider is offline"), TD_ACTOR_OK;
    }
    if (cfg.kind == TD_LLM_OFFLINE) {
        snprintf (r.model, sizeof r.model, "offline");
        td_llm_turn_delta (t, t->fallback, strlen (t->fallback));
        td_llm_turn_done (t, &r);
        return TD_ACTOR_OK;
    }
    json_t *history = json_pack ("[{s:s, s:s}]", "role", "user", "text", text);
    td_llm_gw_req_t req = {
        .kind = cfg.kind, .base_url = cfg.base_url, .api_key = cfg.api_key,
        .nmodels = cfg.nmodels, .system = system, .messages = history, .max_tokens = llm->max_tokens
    };
    for (int i = 0; i < cfg.nmodels; i++)
        req.models [i] = cfg.models [i];
    t->stream = history? td_llm_gw_start (llm->gw, &req, td_llm_turn_delta, td_llm_turn_done, t): 0;
    json_decref (history);
    sodium_memzero (&cfg, sizeof cfg);
    if (!t->stream) {
        r.ok = false;
        snprintf (r.code, sizeof r.code, "internal");
        snprintf (r.message, sizeof r.message, "cannot start the request to the model");
        td_llm_turn_done (t, &r);
    }
    return TD_ACTOR_OK;
}

void
td_llm_turn_stop_all (td_llm_t *llm)
{
    //  streaming turns end through the gateway (done: recorded as cancelled); turns waiting for
    //  a draft are ended by td_llm_lookup_stop_all's callback; anything left is freed
    bool again = true;
    while (again) {
        again = false;
        for (td_llm_turn_t *t = llm->turns; t; t = t->next)
            if (t->stream) {
                if (!llm->gw || td_llm_gw_cancel (llm->gw, t->stream) != 0)
                    td_llm_turn_free (t);
                again = true;
                break;
            }
    }
}

void
td_llm_turn_free_all (td_llm_t *llm)
{
    while (llm->turns)
        td_llm_turn_free (llm->turns);
}
