/*  td_llm_gen — generation jobs (issue 7 point 6, LLM.md §8): the state shared by the three files
 *  that make them.
 *
 *    td_llm_gen.c       the verbs: create (validated, the target read from the catalog with the
 *                       creator's rights, the job INSERTed before the 202), get, list, cancel
 *    td_llm_gen_run.c   the runner: claims jobs with a lease (a restart or a second llm process
 *                       resumes them), makes one piece at a time without ever waiting (model
 *                       streams on the gateway, catalog and grader calls through td_actor_call),
 *                       records progress, publishes llm.job_progress / llm.job_done
 *    td_llm_gen_kind.c  per kind: the prompt of a piece, the schema its JSON answer must pass,
 *                       the catalog item it becomes, and the offline vocabulary exercises
 *
 *  Why a separate runner and not a one-shot call: a job is minutes of work made of many model
 *  calls and catalog writes; it must outlive the request, the actor and the process.
 */
#ifndef TD_LLM_GEN_H
#define TD_LLM_GEN_H

#include "td_actor_call.h"
#include "td_llm.h"

#define TD_GEN_MAX_PIECES   20      //  count of exercises per job
#define TD_GEN_MAX_WORDS    200     //  vocabulary entries read from a lesson
#define TD_GEN_ANSWER_MAX   (128 * 1024)

typedef struct td_gen_job td_gen_job_t;

struct td_llm_gen {
    td_acall_t *calls;              //  catalog and grader calls, replies watched by the loop
    char owner [96];                //  this process's name on its leases (host:pid:random)
    int lease_ms;                   //  TUTORD_LLM_GEN_LEASE_MS
    int max_jobs;                   //  jobs worked on at once by this process
    int org_jobs;                   //  jobs queued or running per org (TUTORD_LLM_GEN_ORG_JOBS)
    int attempts;                   //  model answers tried per piece (invalid JSON, upstream error)
    int code_attempts;              //  code exercises: solutions generated per piece
    int64_t next_claim_ms, next_renew_ms;
    td_gen_job_t *jobs;             //  the jobs this process holds
    msgpack_sbuffer system_auth;    //  {"kind": "system"} for the grader
    bool stopping;
};

//  td_llm_gen.c: the job as the API shows it (a SELECT list over llm_gen_jobs j; one column).
#define TD_GEN_JOB_JSON \
    "json_build_object('id', j.id, 'org_id', j.org_id, 'created_by', j.created_by, 'kind', j.kind," \
    " 'course_id', j.course_id, 'target_id', j.target_id, 'params', j.params, 'status', j.status," \
    " 'offline', j.offline, 'progress', json_build_object('done', j.done, 'total', j.total)," \
    " 'results', j.results, 'errors', j.errors, 'error', j.error, 'created_at', j.created_at," \
    " 'updated_at', j.updated_at, 'finished_at', j.finished_at)::text"

//  td_llm_gen.c: the verbs
int td_llm_gen_create (td_actor_t *actor, td_call_t *call);
int td_llm_gen_get (td_actor_t *actor, td_call_t *call);
int td_llm_gen_list (td_actor_t *actor, td_call_t *call);
int td_llm_gen_cancel (td_actor_t *actor, td_call_t *call);

//  td_llm_gen_run.c
int td_llm_gen_start (td_actor_t *actor);
void td_llm_gen_tick (td_actor_t *actor);
void td_llm_gen_stop (td_actor_t *actor);
//  Send a request through the runner's td_acall (auth: packed msgpack, NULL for system). The
//  body is a JSON value (taken). 0, or -1 (fn never runs).
int td_llm_gen_send (td_actor_t *actor, const char *service, const char *type, const void *auth,
                     size_t auth_size, json_t *body, int timeout_ms, td_acall_fn *fn, void *arg);
//  The job was cancelled through the API: stop working on it here, if it is held here.
void td_llm_gen_drop (td_actor_t *actor, const char *job_id);

//  td_llm_gen_kind.c
typedef enum { TD_GEN_GRAMMAR, TD_GEN_VOCABULARY, TD_GEN_CODE, TD_GEN_OUTLINE } td_gen_kind_t;
//  -1 for an unknown kind name.
int td_gen_kind_parse (const char *name);
const char *td_gen_kind_name (td_gen_kind_t kind);
//  Check a create request's parameters for kind and fill the defaults into params (a new object).
//  NULL with field and why set.
json_t *td_gen_params (td_gen_kind_t kind, const json_t *body, const char **field, const char **why);
//  From the course tree (course.get as the creator), the job's context and its number of pieces.
//  NULL with code, field and why set (404 target_id, 400 target_id...).
json_t *td_gen_context (td_gen_kind_t kind, const json_t *tree, const char *target,
                        const json_t *params, int *total, td_errcode_t *code, const char **field,
                        const char **why);
//  The prompt of piece index: system (the prompt file, rendered) and user text. malloc'd both.
int td_gen_prompt (td_llm_t *llm, td_gen_kind_t kind, const json_t *params, const json_t *context,
                   int index, const json_t *results, const char *retry_why, char **system,
                   char **user);
//  The prompt file's name and version, from its first line ("gen_grammar, version 1").
void td_gen_prompt_version (td_llm_t *llm, td_gen_kind_t kind, char *buf, size_t size);
//  The model's answer checked against the kind's schema: the piece's content (question or
//  exercise content, or the outline {modules: [{title, description, lessons: [...]}]}), or NULL
//  with why set. Prose or code fences around the one JSON object are tolerated.
json_t *td_gen_validate (td_gen_kind_t kind, const json_t *params, const char *text, char *why,
                         size_t whylen);
//  Offline vocabulary exercise number index (a cloze from the entry's example, or a
//  translation question), or NULL when the entries give nothing for it.
json_t *td_gen_offline_vocabulary (const json_t *context, int index);
//  The item.create body of a piece: {slug, kind, title, content}.
json_t *td_gen_item_body (td_gen_kind_t kind, const char *job_id, const json_t *context, int index,
                          const json_t *content, bool offline);
//  Slugs of what a job makes: items gen-<job8>-<n>, modules gen-<job8>-m<k>, lessons
//  gen-<job8>-m<k>-l<j> (so a replayed piece finds what it made).
void td_gen_slug (char *buf, size_t size, const char *job_id, int a, int b);

#endif
