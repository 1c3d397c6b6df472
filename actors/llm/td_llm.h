/*  td_llm — the llm actor's shared state and the helpers its verb files use (LLM.md).
 *
 *  Files: llm.c (verb table, init/fini, the poll hooks), td_llm_gw.c (the streaming engine),
 *  td_llm_provider.c (wire formats), td_llm_sse.c (event-stream parser), td_llm_org.c (per-org
 *  settings, encrypted keys, budgets, usage), td_llm_tutor.c (the tutor's verbs), td_llm_turn.c
 *  (streaming one answer, td_llm_turn.h), td_llm_lookup.c (catalog lookups), td_llm_assist.c and
 *  td_llm_analyze.c (the one-shot helpers), td_llm_summary.c (daily usage summary),
 *  td_llm_offline.c (the offline provider and the exam-mode guard), td_llm_prompt.c (prompts/),
 *  td_llm_util.c (replies, parsing, events), td_llm_conv*.c and td_llm_schema.c (conversation
 *  practice: turn analyses, cards; td_llm_conv.h), td_llm_dbq.c (a turn's and a helper's writes,
 *  batched on a connection of their own, off the thread: td_llm_dbq.h).
 */
#ifndef TD_LLM_H
#define TD_LLM_H

#include <jansson.h>
#include <sodium.h>
#include "td_access.h"
#include "td_actor_call.h"
#include "td_actor.h"
#include "td_client.h"
#include "td_fdwatch.h"
#include "td_llm_gw.h"

//  One org's effective settings (its row, else the TUTORD_LLM_* defaults).
typedef struct {
    td_llm_kind_t kind;
    char base_url [512];
    char api_key [512];
    char models [TD_LLM_MAX_MODELS][128];
    int nmodels;
    int64_t budget;                 //  monthly tokens; -1 none
    char webhook [512];             //  the org's usage webhook URL, "" none (td_llm_summary.c)
} td_llm_org_cfg_t;

typedef struct td_llm_turn td_llm_turn_t;
typedef struct td_llm_lookup td_llm_lookup_t;
typedef struct td_llm_grading td_llm_grading_t;
typedef struct td_llm_conv td_llm_conv_t;
typedef struct td_llm_gen td_llm_gen_t;
typedef struct td_llm_dbq td_llm_dbq_t;

typedef struct {
    td_actor_t *actor;
    td_llm_gw_t *gw;
    td_fdwatch_t *gw_watch;
    td_llm_dbq_t *dbq;              //  the turns' end writes, off the thread (td_llm_dbq.h)
    td_fdwatch_t *dbq_watch;
    td_client_t *client;            //  to the catalog, replies watched by the loop
    zsock_t *cancels;               //  SUB to llm.cancel: a cancel another llm process took
    td_llm_limits_t limits;
    td_llm_org_cfg_t defaults;
    unsigned char box_key [crypto_secretbox_KEYBYTES];
    int max_tokens;
    json_t *prompts;                //  name -> text, loaded from prompts/ at start
    td_llm_turn_t *turns;           //  turns streaming now (one per session at most)
    zhashx_t *turn_index;           //  session id -> its turn (O(1) lookups with many streams)
    td_llm_lookup_t *lookups;       //  catalog calls in flight
    bool curl_ready;                //  curl_global_init done
    char summary_day [16];          //  the UTC day whose summary is due next ("" before the tick)
    bool stopping;                  //  fini has begun: waiting turns end instead of starting
    td_llm_grading_t *grading;      //  subjective answers graded by the model (td_llm_grading.c)
    td_llm_conv_t *conv;            //  conversation practice: analyses, cards (td_llm_conv.h)
    td_llm_gen_t *gen;              //  generation jobs (td_llm_gen.h)
} td_llm_t;

//  --- td_llm_grading.c: the grader's pending subjective answers, evaluated and recorded ---
int td_llm_grading_start (td_actor_t *actor);
void td_llm_grading_tick (td_actor_t *actor);
void td_llm_grading_stop (td_actor_t *actor);

td_llm_t *td_llm_state (td_actor_t *actor);

//  Replies (all return TD_ACTOR_OK).
int td_llm_reply (td_call_t *call, int status, json_t *body);       //  takes body
int td_llm_db_down (td_call_t *call);
//  Parse the caller; answers 401 and returns NULL when malformed.
td_principal_t *td_llm_principal (td_call_t *call);
//  The request's JSON body (an object) or NULL; path/query param into buf.
json_t *td_llm_body (td_call_t *call);
bool td_llm_param (td_call_t *call, const char *key, char *buf, size_t size);
bool td_llm_uuid_valid (const char *s);
//  No control characters (nor DEL).
bool td_llm_printable (const char *s);
//  Characters (UTF-8 code points) in s's first bytes.
size_t td_llm_utf8_chars (const char *s, size_t bytes);
//  Append n bytes of text to a growing NUL-terminated buffer; -1 (nothing appended) past max
//  bytes or out of memory.
int td_llm_text_append (char **buf, size_t *len, size_t *cap, const char *text, size_t n, size_t max);
//  td_acall_send with a JSON body (taken): 0, or -1 with err set (fn never runs).
int td_llm_acall_json (td_acall_t *calls, const char *service, const char *type, const void *auth,
                       size_t auth_size, json_t *body, int timeout_ms, td_acall_fn *fn, void *arg,
                       td_error_t *err);
//  Publish an llm.* event for a learner.
void td_llm_publish (td_actor_t *actor, const char *type, const char *org, const char *user,
                     const char *subject, json_t *data);     //  takes data

//  td_llm_prompt.c
json_t *td_llm_prompts_load (const char *dir, char *errbuf, size_t errlen);
const char *td_llm_prompt (td_llm_t *llm, const char *name);
//  tmpl with every {{name}} replaced by vars' string "name" ("" when absent); malloc'd.
char *td_llm_render (const char *tmpl, const json_t *vars);

//  td_llm_org.c
int td_llm_org_config (td_llm_t *llm, const char *rid, const char *org, td_llm_org_cfg_t *out);
//  Tokens used by org this month; -1 when the database failed.
int64_t td_llm_org_month_tokens (td_llm_t *llm, const char *rid, const char *org);
//  One logical upstream call (after its retries and fallbacks), as the usage table and the
//  llm.usage event count it (LLM.md §3): the model that answered or was tried last.
typedef struct {
    const char *rid, *org, *user;   //  user: the caller (generation: the job's creator)
    const char *purpose;            //  tutor, conversation, exam, hint, feedback, explain, evaluate,
                                    //  complexity, analysis, generation
    const char *provider, *model;
    int64_t prompt_tokens, completion_tokens;
    bool ok;
    const char *code;               //  the error code when !ok ("cancelled" is not an error)
    const char *session_id;         //  or NULL (tutor, conversation, exam, analysis)
    const char *job_id;             //  or NULL (generation)
} td_llm_usage_t;
//  Bump the usage row (one request; an error unless ok or cancelled) and, once it is recorded,
//  publish llm.usage. 0, or -1 when the database failed (nothing published).
int td_llm_usage_record (td_llm_t *llm, const td_llm_usage_t *u);
//  The same through the write queue (td_llm_dbq.h): llm.usage once the row is committed; the
//  caller goes on at once. 0, or -1 when it could not be recorded (written here as a last resort).
int td_llm_usage_record_async (td_llm_t *llm, const td_llm_usage_t *u);
//  The usage row's upsert (parameters: org, user, model, prompt, completion, error 0/1, and the
//  call's key from td_new_id: a repeat of the statement adds nothing, schema/0021), for
//  statements that record usage together with something else (td_llm_turn.c).
extern const char *const td_llm_usage_sql;
//  The parameters of td_llm_usage_sql for one call: its figures as text and a fresh key, in the
//  caller's buffers (args), pointed to by params. Negative token counts count as 0; an error
//  is any !ok but "cancelled".
typedef struct {
    char prompt [24], completion [24], key [33];
    const char *params [7];
} td_llm_usage_args_t;
void td_llm_usage_args (td_llm_usage_args_t *args, const char *org, const char *user,
                        const char *model, int64_t prompt, int64_t completion, bool ok,
                        const char *code);
//  Publish llm.usage for u (its row was recorded).
void td_llm_usage_publish (td_llm_t *llm, const td_llm_usage_t *u);
int td_llm_settings_get (td_actor_t *actor, td_call_t *call);
int td_llm_settings_put (td_actor_t *actor, td_call_t *call);
//  An org's usage webhook: "" (none) or an http(s) URL with a host, at most 500 characters.
bool td_llm_webhook_valid (const char *url);
int td_llm_usage_get (td_actor_t *actor, td_call_t *call);

//  td_llm_lookup.c
//  Catalog replies are readable on the client's socket (the actor loop's watch).
void td_llm_lookup_ready (td_actor_t *actor, zsock_t *sock);
//  Answer every kept lookup 503 (the actor is stopping).
void td_llm_lookup_stop_all (td_llm_t *llm);
//  Fetch an item from the catalog for call (kept): first with the caller's auth (access), then
//  as system (the full item). fn gets the item, or NULL when the call was answered with an
//  error already; fn answers the call in the first case and always owns arg. -1: nothing kept.
typedef void (td_llm_item_fn) (td_actor_t *actor, td_call_t *call, json_t *item, void *arg);
int td_llm_item_fetch (td_actor_t *actor, td_call_t *call, const char *item_id, td_llm_item_fn *fn,
                       void *arg);
//  Fetch the caller's draft of an item (draft.get with auth); fn gets it ({code, version}) or
//  NULL (none, or the catalog failed), with call NULL. 0, or -1 (nothing sent, no callback).
int td_llm_draft_fetch (td_actor_t *actor, const char *rid, const msgpack_object *auth,
                        const char *item_id, td_llm_item_fn *fn, void *arg);

//  td_llm_tutor.c (td_llm_turn.c: td_llm_oneshot, td_llm_system_prompt)
int td_llm_tutor_create (td_actor_t *actor, td_call_t *call);
int td_llm_tutor_get (td_actor_t *actor, td_call_t *call);
int td_llm_tutor_message (td_actor_t *actor, td_call_t *call);
int td_llm_tutor_cancel (td_actor_t *actor, td_call_t *call);
//  llm.cancel from the event plane (another llm process took a tutor.cancel for a session that
//  streams here): cancel the session's turn if this process has it.
void td_llm_tutor_cancel_event (td_actor_t *actor, zsock_t *sock);
//  A one-shot completion for a kept call (hint, feedback): answered 200 {text, provider, model,
//  offline, withheld, usage} at the end; the output is checked against item's solution and, if it
//  would reveal it, replaced by fallback (the offline answer). Budget and usage apply.
//  fallback NULL: no offline answer (503 when the provider is offline or the answer withheld).
//  post (or NULL): turns the model's whole text into the reply body (provider, model and usage
//  are added), or NULL with why set (503: the answer did not validate).
typedef json_t *(td_llm_post_fn) (const char *text, const json_t *item, char *why, size_t whylen);
//  purpose: what llm.usage reports (hint, feedback, explain, complexity, evaluate).
int td_llm_oneshot (td_actor_t *actor, td_call_t *call, const char *purpose, const char *user,
                    const char *org, const json_t *item, const char *system, const char *text,
                    const char *fallback, td_llm_post_fn *post);
//  The system prompt for a mode or helper: the named prompt, the item's context and (except in
//  exam mode) its reference solution for the model's guidance. malloc'd.
char *td_llm_system_prompt (td_llm_t *llm, const char *prompt, bool with_solution, const json_t *item);
void td_llm_tutor_stop_all (td_llm_t *llm);

//  td_llm_summary.c
void td_llm_summary_tick (td_actor_t *actor);
int td_llm_usage_summary (td_actor_t *actor, td_call_t *call);

//  td_llm_assist.c
int td_llm_assist_hint (td_actor_t *actor, td_call_t *call);
int td_llm_assist_feedback (td_actor_t *actor, td_call_t *call);
//  td_llm_analyze.c
//  The JSON object inside a model's text (which may wrap it in prose or a code fence), or NULL
//  with why set.
json_t *td_llm_json_in (const char *text, char *why, size_t whylen);
int td_llm_assist_explain (td_actor_t *actor, td_call_t *call);
int td_llm_assist_complexity (td_actor_t *actor, td_call_t *call);
int td_llm_assist_evaluate (td_actor_t *actor, td_call_t *call);

//  td_llm_offline.c
//  The offline tutor's answer for a turn (malloc'd), from the item and the learner's text.
char *td_llm_offline_answer (td_llm_t *llm, const char *mode, const json_t *item,
                             const char *text, int turn);
//  Exam guard: true when text reproduces the reference solution of item (a line of it with at
//  least 12 non-blank characters, compared without whitespace).
bool td_llm_leaks_solution (const json_t *item, const char *text);
//  The reference material of an item kind that must never be revealed in exam mode.
const char *td_llm_item_solution (const json_t *item);

#endif
