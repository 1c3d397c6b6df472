/*  td_llm_gen_run — the runner of generation jobs (LLM.md §8): claims, leases, pieces, progress.
 *
 *  llm_gen_jobs is the queue (schema/0017). On its tick this process claims the oldest queued
 *  job, or a running one whose lease ran out (a process that died), with FOR UPDATE SKIP LOCKED,
 *  in its own name, and renews its leases while it works; a job whose row it no longer owns
 *  (cancelled through the API, or taken over after a long stall) is dropped at once.
 *
 *  A job is made one piece at a time, each step asynchronous, so the actor thread never waits:
 *    1. course.get as the creator: what the course holds already (slug -> id), so a piece that a
 *       dead process made but never recorded is found by its slug instead of made twice;
 *    2. the model (td_llm_gw stream) with the kind's prompt; its answer must pass the kind's JSON
 *       schema (td_llm_gen_kind.c), else it is asked again (TUTORD_LLM_GEN_ATTEMPTS, 3) and then
 *       the piece fails with the reason; offline, vocabulary pieces come from the entries;
 *    3. code exercises: the reference solution runs against its own tests in the grader
 *       (inline submission, system auth, wait=true); kept only when it passes, otherwise a new
 *       exercise is asked for, up to TUTORD_LLM_GEN_CODE_ATTEMPTS (3) solutions;
 *    4. the catalog's own authoring verbs with the creator's auth (item.create, module.create,
 *       lesson.create): the catalog's access rules decide, its tables are never written here.
 *       Every request as the creator (course.get too) first asks identity for the creator's
 *       rights as they are now (auth.user), so a role removed mid-job stops the next step;
 *    5. progress recorded in the row, then llm.job_progress; at the end llm.job_done.
 *  Every async step holds the job (pending); a job dropped meanwhile is freed by the last one.
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "td_call_json.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_llm_gen.h"

#define S_CALL_MS       15000
#define S_GRADE_MS      120000

struct td_gen_job {
    td_gen_job_t *next;
    td_actor_t *actor;
    char id [40], org [40], user [40], course [40], target [40], rid [48];
    char provider [16];             //  of the model call in flight (llm.usage)
    td_gen_kind_t kind;
    json_t *params, *context, *results, *errors;
    json_t *existing;               //  slug -> id of what the course holds (step 1)
    msgpack_sbuffer auth;           //  the creator's auth, packed
    bool offline;
    int total, done;
    //  the piece being made
    int attempt;                    //  model answers tried
    int solutions;                  //  code: reference solutions run
    char why [300];                 //  the last refusal: in the retry prompt, then the error
    char made_by [300];             //  "<model>, <prompt and its version>" of the answer kept
    uint64_t stream;
    char *text;  size_t len, cap;
    json_t *content;                //  a valid answer on its way to the grader / catalog
    json_t *made;                   //  outline: modules made so far [{id, title, lessons}]
    int om, ol;                     //  outline: module and lesson being made
    int pending;                    //  async steps in flight
    bool dead;                      //  dropped: freed when pending reaches 0
};

static td_llm_gen_t *
s_gen (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    return llm? llm->gen: NULL;
}

static void s_next (td_gen_job_t *job);
static void s_ask_model (td_gen_job_t *job);
static void s_finish (td_gen_job_t *job, const char *error);

static void
s_job_free (td_gen_job_t *job)
{
    json_decref (job->params);
    json_decref (job->context);
    json_decref (job->results);
    json_decref (job->errors);
    json_decref (job->existing);
    json_decref (job->content);
    json_decref (job->made);
    msgpack_sbuffer_destroy (&job->auth);
    free (job->text);
    free (job);
}

//  Stop working on a job here (no database write): unlinked at once, freed when idle.
static void
s_kill (td_gen_job_t *job)
{
    td_llm_gen_t *gen = s_gen (job->actor);
    if (job->dead)
        return;
    job->dead = true;
    for (td_gen_job_t **pp = gen? &gen->jobs: NULL; pp && *pp; pp = &(*pp)->next)
        if (*pp == job) {
            *pp = job->next;
            break;
        }
    if (job->stream) {
        uint64_t s = job->stream;
        //  done runs now and frees the job when nothing else is pending
        if (td_llm_gw_cancel (td_llm_state (job->actor)->gw, s) == 0)
            return;
    }
    if (job->pending == 0)
        s_job_free (job);
}

//  An async step ended: false when the job was dropped meanwhile (then maybe freed here).
static bool
s_back (td_gen_job_t *job)
{
    job->pending--;
    if (!job->dead)
        return true;
    if (job->pending == 0)
        s_job_free (job);
    return false;
}

int
td_llm_gen_send (td_actor_t *actor, const char *service, const char *type, const void *auth,
                 size_t auth_size, json_t *body, int timeout_ms, td_acall_fn *fn, void *arg)
{
    td_llm_gen_t *gen = s_gen (actor);
    if (!gen) {
        json_decref (body);
        return -1;
    }
    td_error_t err;
    int rc = td_llm_acall_json (gen->calls, service, type, auth? auth: gen->system_auth.data,
                                auth? auth_size: gen->system_auth.size, body, timeout_ms, fn, arg,
                                &err);
    if (rc != 0)
        td_warn ("llm", NULL, "generation: cannot ask %s %s: %s", service, type, err.message);
    return rc;
}

//  A request waiting for the creator's current rights (s_send_as_creator).
typedef struct {
    td_gen_job_t *job;
    char service [16], type [32];
    json_t *body;
    td_acall_fn *fn;
} s_ask_t;

//  The creator's rights as identity has them now (auth.user): they replace the job's map. True
//  when reply is such a map, of this user.
static bool
s_take_rights (td_gen_job_t *job, const td_msg_t *reply)
{
    const msgpack_object *map = reply? td_msg_body (reply): NULL;
    const msgpack_object *kind = map? td_mp_get (map, "kind"): NULL;
    const msgpack_object *user = map? td_mp_get (map, "user"): NULL;
    if (!kind || !user || !td_mp_streq (kind, "user") || !td_mp_streq (user, job->user))
        return false;
    msgpack_sbuffer_clear (&job->auth);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &job->auth, msgpack_sbuffer_write);
    return msgpack_pack_object (&pk, *map) == 0;
}

static void
s_on_rights (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    s_ask_t *ask = (s_ask_t *) arg;
    td_gen_job_t *job = ask->job;
    if (!s_back (job)) {
        json_decref (ask->body);
        free (ask);
        return;
    }
    int status = reply? td_msg_status (reply): 0;
    if (status == 200 && s_take_rights (job, reply)) {
        json_t *body = ask->body;
        ask->body = NULL;
        if (td_llm_gen_send (actor, ask->service, ask->type, job->auth.data, job->auth.size, body,
                             S_CALL_MS, ask->fn, job) == 0) {
            job->pending++;
            free (ask);
            return;
        }
    }
    json_decref (ask->body);
    if (status == 404) {
        s_finish (job, "the creator's account is gone");
        free (ask);
        return;
    }
    //  identity did not answer (or the request could not go): the step fails as if the service
    //  had not answered, never with rights that may be stale
    td_error_t why;
    td_error_set (&why, TD_ERR_UNAVAILABLE, NULL, "the creator's rights are not known now (%s)",
                  reply? td_msg_error_message (reply): err? err->message: "no answer");
    job->pending++;                 //  what fn's s_back takes back
    ask->fn (actor, job, NULL, &why);
    free (ask);
}

//  A request as the job's creator, with the creator's rights as identity has them now (a role
//  removed mid-job is seen by the job's next step: IDENTITY.md's auth.user); the job is pending
//  until fn runs. 0, or -1 when nothing could be sent (body freed).
static int
s_send_as_creator (td_gen_job_t *job, const char *service, const char *type, json_t *body,
                   td_acall_fn *fn)
{
    s_ask_t *ask = (s_ask_t *) calloc (1, sizeof *ask);
    if (!ask) {
        json_decref (body);
        return -1;
    }
    ask->job = job;
    snprintf (ask->service, sizeof ask->service, "%s", service);
    snprintf (ask->type, sizeof ask->type, "%s", type);
    ask->body = body;
    ask->fn = fn;
    if (td_llm_gen_send (job->actor, "identity", "auth.user", NULL, 0,
                         json_pack ("{s:s}", "user", job->user), S_CALL_MS, s_on_rights, ask) != 0) {
        json_decref (body);
        free (ask);
        return -1;
    }
    job->pending++;
    return 0;
}

static void
s_publish (td_gen_job_t *job, const char *type, json_t *data)
{
    json_object_set_new (data, "job_id", json_string (job->id));
    json_object_set_new (data, "kind", json_string (td_gen_kind_name (job->kind)));
    td_actor_publish_json (job->actor, type, job->user, job->org, job->id, data);
}

//  The job's end: its row finished (only while this process still owns it), llm.job_done.
static void
s_finish (td_gen_job_t *job, const char *error)
{
    td_llm_gen_t *gen = s_gen (job->actor);
    const char *status = error || json_array_size (job->results) == 0? "failed": "done";
    if (!error && json_array_size (job->results) == 0)
        error = "no piece of the job could be made (see errors)";
    char *results = json_dumps (job->results, JSON_COMPACT);
    char *errors = json_dumps (job->errors, JSON_COMPACT);
    char done [16];
    snprintf (done, sizeof done, "%d", job->done);
    const char *params [] = { job->id, gen->owner, status, done, results, errors, error };
    PGresult *res = results && errors? td_db_exec (td_actor_db (job->actor), job->rid,
        "UPDATE llm_gen_jobs SET status = $3, done = $4::int, results = $5::jsonb,"
        " errors = $6::jsonb, error = $7, owner = NULL, lease_until = NULL, finished_at = now (),"
        " updated_at = now () WHERE id = $1::uuid AND owner = $2 AND status = 'running'"
        " RETURNING id", 7, params): NULL;
    bool mine = res && PQntuples (res) == 1;
    if (res)
        PQclear (res);
    free (results);
    free (errors);
    if (mine) {
        td_info ("llm", job->rid, "generation job %s %s: %zu kept, %zu failed", job->id, status,
                 json_array_size (job->results), json_array_size (job->errors));
        json_t *data = json_pack ("{s:s, s:i, s:i, s:I, s:I}", "status", status, "done", job->done,
                                  "total", job->total, "kept", (json_int_t) json_array_size (job->results),
                                  "failed", (json_int_t) json_array_size (job->errors));
        if (error)
            json_object_set_new (data, "error", json_string (error));
        s_publish (job, "llm.job_done", data);
    }
    s_kill (job);
}

//  A piece ended (kept: result; failed: error): recorded, announced, and on to the next.
static void
s_piece_end (td_gen_job_t *job, json_t *result, const char *error)
{
    td_llm_gen_t *gen = s_gen (job->actor);
    int index = job->done;
    if (result) {
        json_object_set_new (result, "index", json_integer (index));
        if (!json_object_get (result, "recovered"))
            json_object_set_new (result, "made_by", json_string (job->offline? "offline, from the "
                                                                 "vocabulary entries": job->made_by));
        json_array_append (job->results, result);
    }
    else
        json_array_append_new (job->errors, json_pack ("{s:i, s:s, s:i}", "index", index, "reason",
                                                       error, "attempts", job->attempt + job->solutions));
    job->done++;
    job->attempt = job->solutions = 0;
    job->why [0] = 0;
    json_decref (job->content);
    job->content = NULL;
    char *results = json_dumps (job->results, JSON_COMPACT);
    char *errors = json_dumps (job->errors, JSON_COMPACT);
    char done [16], lease [16];
    snprintf (done, sizeof done, "%d", job->done);
    snprintf (lease, sizeof lease, "%d", gen->lease_ms);
    const char *params [] = { job->id, gen->owner, done, results, errors, lease };
    PGresult *res = results && errors? td_db_exec (td_actor_db (job->actor), job->rid,
        "UPDATE llm_gen_jobs SET done = $3::int, results = $4::jsonb, errors = $5::jsonb,"
        " lease_until = now () + $6::int * interval '1 millisecond', updated_at = now ()"
        " WHERE id = $1::uuid AND owner = $2 AND status = 'running' RETURNING id", 6, params): NULL;
    bool mine = res && PQntuples (res) == 1;
    if (res)
        PQclear (res);
    free (results);
    free (errors);
    if (!mine) {
        //  cancelled, or the lease was lost: whoever owns the row now finishes it
        td_info ("llm", job->rid, "generation job %s is no longer ours; dropped", job->id);
        json_decref (result);
        s_kill (job);
        return;
    }
    json_t *piece = result? json_pack ("{s:i, s:b, s:O}", "index", index, "ok", 1, "result", result)
                          : json_pack ("{s:i, s:b, s:s}", "index", index, "ok", 0, "reason", error);
    json_decref (result);
    s_publish (job, "llm.job_progress", json_pack ("{s:s, s:i, s:i, s:o}", "status", "running",
                                                   "done", job->done, "total", job->total,
                                                   "piece", piece));
    s_next (job);
}

//  ------------------------------------------------------------------------------------------
//  Catalog writes

static const char *
s_existing (td_gen_job_t *job, const char *slug)
{
    return json_string_value (json_object_get (job->existing, slug));
}

static void
s_on_item (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    (void) actor;
    td_gen_job_t *job = (td_gen_job_t *) arg;
    if (!s_back (job))
        return;
    int status = reply? td_msg_status (reply): 0;
    json_t *item = status == 201? td_mp_to_json (td_msg_body (reply), NULL): NULL;
    if (item) {
        json_t *r = json_pack ("{s:O, s:O, s:O, s:O}", "item_id", json_object_get (item, "id"),
                               "slug", json_object_get (item, "slug"),
                               "title", json_object_get (item, "title"),
                               "item_kind", json_object_get (item, "kind"));
        const json_t *prompt = json_object_get (json_object_get (item, "content"), "prompt");
        if (prompt)
            json_object_set (r, "prompt", (json_t *) prompt);
        json_decref (item);
        s_piece_end (job, r, NULL);
    }
    else
    if (status == 400) {
        //  the catalog's own check refused the content: as invalid as bad JSON, ask again
        snprintf (job->why, sizeof job->why, "the catalog refused it (%s: %s)",
                  td_msg_error_field (reply), td_msg_error_message (reply));
        if (job->offline || ++job->attempt >= s_gen (job->actor)->attempts)
            s_piece_end (job, NULL, job->why);
        else
            s_ask_model (job);
    }
    else
    if (status == 403 || status == 404)
        s_finish (job, "the catalog refused to write: the target is gone or the creator may no "
                       "longer author the course");
    else {
        snprintf (job->why, sizeof job->why, "the catalog could not store it (%d %s)", status,
                  reply? td_msg_error_message (reply): err? err->message: "no answer");
        s_piece_end (job, NULL, job->why);
    }
}

static void
s_create_item (td_gen_job_t *job)
{
    const char *lesson = json_string_value (json_object_get (job->context, "lesson_id"));
    json_t *body = td_gen_item_body (job->kind, job->id, job->context, job->done, job->content,
                                     job->offline);
    if (s_send_as_creator (job, "catalog", "item.create",
                           json_pack ("{s:s, s:o}", "id", lesson? lesson: "", "body", body),
                           s_on_item) != 0)
        s_piece_end (job, NULL, "cannot reach the catalog");
}

//  Outline: modules, then each module's lessons, in order; what exists (by slug) is reused.
static void s_outline_step (td_gen_job_t *job);

static void
s_on_node (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    (void) actor;
    td_gen_job_t *job = (td_gen_job_t *) arg;
    if (!s_back (job))
        return;
    int status = reply? td_msg_status (reply): 0;
    json_t *node = status == 201? td_mp_to_json (td_msg_body (reply), NULL): NULL;
    const char *id = json_string_value (json_object_get (node, "id"));
    if (!id) {
        json_decref (node);
        char why [300];
        snprintf (why, sizeof why, "the catalog did not store a %s (%d %s)",
                  job->ol < 0? "module": "lesson", status,
                  reply? td_msg_error_message (reply): err? err->message: "no answer");
        if (status == 403 || status == 404)
            s_finish (job, why);
        else
            s_piece_end (job, NULL, why);
        return;
    }
    json_object_set_new (job->existing, json_string_value (json_object_get (node, "slug")),
                         json_string (id));
    json_decref (node);
    s_outline_step (job);
}

static void
s_outline_step (td_gen_job_t *job)
{
    const json_t *modules = json_object_get (job->content, "modules");
    char slug [64];
    while (job->om < (int) json_array_size (modules)) {
        const json_t *m = json_array_get (modules, (size_t) job->om);
        td_gen_slug (slug, sizeof slug, job->id, -(job->om + 1), -1);
        const char *mid = s_existing (job, slug);
        if (!mid) {
            job->ol = -1;
            if (s_send_as_creator (job, "catalog", "module.create", json_pack (
                    "{s:s, s:{s:s, s:O, s:O}}", "id", job->course, "body", "slug", slug,
                    "title", json_object_get (m, "title"),
                    "description", json_object_get (m, "description")), s_on_node) != 0)
                s_piece_end (job, NULL, "cannot reach the catalog");
            return;
        }
        if (job->ol < 0) {
            job->ol = 0;
            json_array_append_new (job->made, json_pack ("{s:s, s:O, s:[]}", "module_id", mid,
                                                         "title", json_object_get (m, "title"),
                                                         "lessons"));
            s_publish (job, "llm.job_progress", json_pack ("{s:s, s:i, s:i, s:{s:s, s:s}}",
                "status", "running", "done", job->done, "total", job->total,
                "step", "made", "module_id", mid));
        }
        const json_t *lessons = json_object_get (m, "lessons");
        json_t *made = json_object_get (json_array_get (job->made, json_array_size (job->made) - 1),
                                        "lessons");
        while (job->ol < (int) json_array_size (lessons)) {
            const json_t *l = json_array_get (lessons, (size_t) job->ol);
            td_gen_slug (slug, sizeof slug, job->id, job->om, job->ol);
            const char *lid = s_existing (job, slug);
            if (!lid) {
                if (s_send_as_creator (job, "catalog", "lesson.create", json_pack (
                        "{s:s, s:{s:s, s:O, s:O}}", "id", mid, "body", "slug", slug,
                        "title", json_object_get (l, "title"),
                        "description", json_object_get (l, "description")), s_on_node) != 0)
                    s_piece_end (job, NULL, "cannot reach the catalog");
                return;
            }
            json_array_append_new (made, json_pack ("{s:s, s:O}", "lesson_id", lid,
                                                    "title", json_object_get (l, "title")));
            job->ol++;
        }
        job->om++;
        job->ol = -1;
    }
    json_t *r = json_pack ("{s:O}", "modules", job->made);
    s_piece_end (job, r, NULL);
}

//  ------------------------------------------------------------------------------------------
//  The grader: a code exercise is kept only when its reference solution passes its own tests

static void
s_on_graded (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    td_gen_job_t *job = (td_gen_job_t *) arg;
    if (!s_back (job))
        return;
    td_llm_gen_t *gen = s_gen (actor);
    int status = reply? td_msg_status (reply): 0;
    json_t *r = status == 200? td_mp_to_json (td_msg_body (reply), NULL): NULL;
    const char *verdict = json_string_value (json_object_get (r, "verdict"));
    bool passed = verdict && strcmp (verdict, "accepted") == 0;
    if (passed) {
        json_decref (r);
        td_info ("llm", job->rid, "generation job %s: the reference solution passes its tests",
                 job->id);
        s_create_item (job);
        return;
    }
    if (status == 400)
        snprintf (job->why, sizeof job->why, "the grader refused its tests (%s: %s)",
                  td_msg_error_field (reply), td_msg_error_message (reply));
    else
    if (r)
        snprintf (job->why, sizeof job->why, "the reference solution failed its own tests "
                  "(verdict %s)", verdict? verdict: "none");
    else
        snprintf (job->why, sizeof job->why, "the grader could not run it (%d %s)", status,
                  reply? td_msg_error_message (reply): err? err->message: "no answer");
    json_decref (r);
    td_info ("llm", job->rid, "generation job %s: solution %d refused: %s", job->id,
             job->solutions + 1, job->why);
    json_array_append_new (job->errors, json_pack ("{s:i, s:s, s:i, s:b}", "index", job->done,
                                                   "reason", job->why, "attempts",
                                                   job->solutions + 1, "regenerated",
                                                   job->solutions + 1 < gen->code_attempts));
    if (++job->solutions >= gen->code_attempts) {
        char why [400];
        snprintf (why, sizeof why, "no reference solution passed its own tests in %d tries; "
                  "last: %s", gen->code_attempts, job->why);
        json_array_remove (job->errors, json_array_size (job->errors) - 1);
        s_piece_end (job, NULL, why);
        return;
    }
    job->attempt = 0;
    json_decref (job->content);
    job->content = NULL;
    s_ask_model (job);
}

static void
s_grade (td_gen_job_t *job)
{
    json_t *body = json_pack ("{s:s, s:{s:O, s:O, s:O}}", "wait", "true", "body",
                              "language", json_object_get (job->content, "language"),
                              "code", json_object_get (job->content, "solution"),
                              "tests", json_object_get (job->content, "tests"));
    if (td_llm_gen_send (job->actor, "grade", "submit", NULL, 0, body, S_GRADE_MS, s_on_graded,
                         job) != 0) {
        s_piece_end (job, NULL, "cannot reach the grader");
        return;
    }
    job->pending++;
}

//  ------------------------------------------------------------------------------------------
//  The model

static int
s_delta (void *arg, const char *text, size_t len)
{
    td_gen_job_t *job = (td_gen_job_t *) arg;
    return td_llm_text_append (&job->text, &job->len, &job->cap, text, len, TD_GEN_ANSWER_MAX)? 1: 0;
}

static void
s_retry (td_gen_job_t *job)
{
    if (++job->attempt >= s_gen (job->actor)->attempts) {
        char why [400];
        snprintf (why, sizeof why, "no valid answer in %d tries; last: %s", job->attempt, job->why);
        s_piece_end (job, NULL, why);
    }
    else
        s_ask_model (job);
}

static void
s_done (void *arg, const td_llm_result_t *r)
{
    td_gen_job_t *job = (td_gen_job_t *) arg;
    job->stream = 0;
    td_llm_t *llm = td_llm_state (job->actor);
    td_llm_usage_t u = {
        .rid = job->rid, .org = job->org, .user = job->user, .purpose = "generation",
        .provider = job->provider, .model = r->model, .prompt_tokens = r->prompt_tokens,
        .completion_tokens = r->completion_tokens, .ok = r->ok, .code = r->code,
        .job_id = job->id
    };
    if (td_llm_usage_record (llm, &u) != 0)
        td_warn ("llm", job->rid, "usage of a generation request could not be recorded");
    if (!s_back (job))
        return;
    if (!r->ok) {
        snprintf (job->why, sizeof job->why, "the model could not answer (%s: %s)",
                  r->code, r->message);
        if (strcmp (r->code, "quota_exceeded") == 0) {
            s_finish (job, job->why);
            return;
        }
        s_retry (job);
        return;
    }
    char version [100];
    td_gen_prompt_version (llm, job->kind, version, sizeof version);
    snprintf (job->made_by, sizeof job->made_by, "%s, %s", r->model, version);
    char why [240] = "";
    job->content = td_gen_validate (job->kind, job->params, job->text? job->text: "", why, sizeof why);
    if (!job->content) {
        snprintf (job->why, sizeof job->why, "%s", why);
        td_info ("llm", job->rid, "generation job %s piece %d: invalid answer: %s", job->id,
                 job->done, why);
        s_retry (job);
        return;
    }
    if (job->kind == TD_GEN_CODE)
        s_grade (job);
    else
    if (job->kind == TD_GEN_OUTLINE) {
        job->om = 0;
        job->ol = -1;
        json_decref (job->made);
        job->made = json_array ();
        s_outline_step (job);
    }
    else
        s_create_item (job);
}

static void
s_ask_model (td_gen_job_t *job)
{
    td_llm_t *llm = td_llm_state (job->actor);
    td_llm_org_cfg_t cfg;
    if (td_llm_org_config (llm, job->rid, job->org, &cfg) != 0) {
        s_piece_end (job, NULL, "the database is not available");
        return;
    }
    if (cfg.kind == TD_LLM_OFFLINE) {
        sodium_memzero (&cfg, sizeof cfg);
        s_finish (job, "the organisation's provider is offline now: this job needs a model");
        return;
    }
    if (cfg.budget >= 0) {
        int64_t used = td_llm_org_month_tokens (llm, job->rid, job->org);
        if (used < 0 || used >= cfg.budget) {
            sodium_memzero (&cfg, sizeof cfg);
            if (used < 0)
                s_piece_end (job, NULL, "the database is not available");
            else
                s_finish (job, "budget_exceeded: the organisation's monthly token budget is spent");
            return;
        }
    }
    char *system = NULL, *user = NULL;
    if (td_gen_prompt (llm, job->kind, job->params, job->context, job->done, job->results,
                       job->why, &system, &user) != 0) {
        sodium_memzero (&cfg, sizeof cfg);
        s_finish (job, "out of memory");
        return;
    }
    json_t *history = json_pack ("[{s:s, s:s}]", "role", "user", "text", user);
    snprintf (job->provider, sizeof job->provider, "%s", td_llm_kind_name (cfg.kind));
    td_llm_gw_req_t req = {
        .kind = cfg.kind, .base_url = cfg.base_url, .api_key = cfg.api_key, .nmodels = cfg.nmodels,
        .system = system, .messages = history,
        .max_tokens = llm->max_tokens < 4096? 4096: llm->max_tokens
    };
    for (int i = 0; i < cfg.nmodels; i++)
        req.models [i] = cfg.models [i];
    job->len = 0;
    if (job->text)
        job->text [0] = 0;
    job->stream = history? td_llm_gw_start (llm->gw, &req, s_delta, s_done, job): 0;
    json_decref (history);
    free (system);
    free (user);
    sodium_memzero (&cfg, sizeof cfg);
    if (!job->stream) {
        s_piece_end (job, NULL, "cannot start the request to the model");
        return;
    }
    job->pending++;
}

//  ------------------------------------------------------------------------------------------
//  The job

static void
s_next (td_gen_job_t *job)
{
    if (job->dead || s_gen (job->actor)->stopping)
        return;
    if (job->done >= job->total) {
        s_finish (job, NULL);
        return;
    }
    if (job->kind != TD_GEN_OUTLINE) {
        char slug [64];
        td_gen_slug (slug, sizeof slug, job->id, job->done, -1);
        const char *id = s_existing (job, slug);
        if (id) {
            //  made by a process that died before it recorded it: recorded now, not made twice
            td_info ("llm", job->rid, "generation job %s: piece %d was made already (%s)",
                     job->id, job->done, id);
            s_piece_end (job, json_pack ("{s:s, s:s, s:b}", "item_id", id, "slug", slug,
                                         "recovered", 1), NULL);
            return;
        }
    }
    if (job->offline) {
        job->content = td_gen_offline_vocabulary (job->context, job->done);
        if (!job->content) {
            s_piece_end (job, NULL, "the entry has neither an example holding the word nor a "
                                    "translation to make an offline exercise from");
            return;
        }
        s_create_item (job);
        return;
    }
    s_ask_model (job);
}

//  Step 1: what the course holds (slug -> id), as the creator sees it.
static void
s_on_tree (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    (void) actor;
    td_gen_job_t *job = (td_gen_job_t *) arg;
    if (!s_back (job))
        return;
    int status = reply? td_msg_status (reply): 0;
    if (status == 403 || status == 404) {
        s_finish (job, "the course is gone, or the creator may no longer author it");
        return;
    }
    json_t *tree = status == 200? td_mp_to_json (td_msg_body (reply), NULL): NULL;
    if (!tree) {
        //  the catalog is not there now: leave the job to its lease, claimed again later
        td_warn ("llm", job->rid, "generation job %s waits: the catalog answered %d %s", job->id,
                 status, reply? td_msg_error_message (reply): err? err->message: "nothing");
        s_kill (job);
        return;
    }
    const char *cstatus = json_string_value (json_object_get (tree, "status"));
    if (!cstatus || strcmp (cstatus, "draft") != 0) {
        json_decref (tree);
        s_finish (job, "the course was published meanwhile: generated content goes into draft "
                       "courses only");
        return;
    }
    const char *lesson = json_string_value (json_object_get (job->context, "lesson_id"));
    size_t i, k, n;
    json_t *m, *l, *it;
    json_array_foreach (json_object_get (tree, "modules"), i, m) {
        json_object_set (job->existing, json_string_value (json_object_get (m, "slug")),
                         json_object_get (m, "id"));
        json_array_foreach (json_object_get (m, "lessons"), k, l) {
            const char *lid = json_string_value (json_object_get (l, "id"));
            json_object_set (job->existing, json_string_value (json_object_get (l, "slug")),
                             json_object_get (l, "id"));
            if (lesson && lid && strcmp (lid, lesson) == 0)
                json_array_foreach (json_object_get (l, "items"), n, it)
                    json_object_set (job->existing, json_string_value (json_object_get (it, "slug")),
                                     json_object_get (it, "id"));
        }
    }
    json_decref (tree);
    s_next (job);
}

static json_t *
s_load (PGresult *res, int col)
{
    json_error_t jerr;
    return json_loads (PQgetvalue (res, 0, col), 0, &jerr);
}

//  Claim one job; true when one was claimed.
static bool
s_claim (td_actor_t *actor)
{
    td_llm_gen_t *gen = s_gen (actor);
    char lease [16];
    snprintf (lease, sizeof lease, "%d", gen->lease_ms);
    const char *params [] = { gen->owner, lease };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "UPDATE llm_gen_jobs j SET status = 'running', owner = $1, updated_at = now (),"
        " lease_until = now () + $2::int * interval '1 millisecond'"
        " WHERE j.id = (SELECT id FROM llm_gen_jobs WHERE status = 'queued'"
        "   OR (status = 'running' AND (lease_until IS NULL OR lease_until < now ()))"
        "   ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
        " RETURNING j.id::text, j.org_id::text, j.created_by::text, j.auth::text, j.kind,"
        " j.course_id::text, j.target_id::text, j.params::text, j.context::text, j.offline,"
        " j.total, j.done, j.results::text, j.errors::text", 2, params);
    if (!res || PQntuples (res) != 1) {
        if (res)
            PQclear (res);
        return false;
    }
    td_gen_job_t *job = (td_gen_job_t *) calloc (1, sizeof *job);
    json_t *auth = s_load (res, 3);
    if (job) {
        job->actor = actor;
        snprintf (job->id, sizeof job->id, "%s", PQgetvalue (res, 0, 0));
        snprintf (job->org, sizeof job->org, "%s", PQgetvalue (res, 0, 1));
        snprintf (job->user, sizeof job->user, "%s", PQgetvalue (res, 0, 2));
        snprintf (job->course, sizeof job->course, "%s", PQgetvalue (res, 0, 5));
        snprintf (job->target, sizeof job->target, "%s", PQgetvalue (res, 0, 6));
        snprintf (job->rid, sizeof job->rid, "gen-%.8s", job->id);
        job->kind = (td_gen_kind_t) td_gen_kind_parse (PQgetvalue (res, 0, 4));
        job->params = s_load (res, 7);
        job->context = s_load (res, 8);
        job->offline = PQgetvalue (res, 0, 9) [0] == 't';
        job->total = atoi (PQgetvalue (res, 0, 10));
        job->done = atoi (PQgetvalue (res, 0, 11));
        job->results = s_load (res, 12);
        job->errors = s_load (res, 13);
        job->existing = json_object ();
        msgpack_sbuffer_init (&job->auth);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &job->auth, msgpack_sbuffer_write);
        td_error_t err;
        job->next = gen->jobs;
        gen->jobs = job;
        bool whole = (int) job->kind >= 0 && job->params && job->context && job->results
                     && job->errors && job->existing && auth && td_json_to_mp (auth, &pk, &err) == 0;
        td_info ("llm", job->rid, "generation job %s claimed (%s, %d of %d done)", job->id,
                 PQgetvalue (res, 0, 4), job->done, job->total);
        if (!whole)
            s_finish (job, "the stored job cannot be read");
        else
        if (s_send_as_creator (job, "catalog", "course.get", json_pack ("{s:s}", "id", job->course),
                               s_on_tree) != 0)
            s_kill (job);           //  the lease runs out; claimed again later
    }
    json_decref (auth);
    PQclear (res);
    return job != NULL;
}

//  Renew this process's leases; a held job whose row is no longer ours is dropped.
static void
s_renew (td_actor_t *actor)
{
    td_llm_gen_t *gen = s_gen (actor);
    char lease [16];
    snprintf (lease, sizeof lease, "%d", gen->lease_ms);
    const char *params [] = { gen->owner, lease };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "UPDATE llm_gen_jobs SET lease_until = now () + $2::int * interval '1 millisecond'"
        " WHERE owner = $1 AND status = 'running' RETURNING id::text", 2, params);
    if (!res)
        return;                     //  the database is away: keep working, the lease may lapse
    td_gen_job_t *job = gen->jobs;
    while (job) {
        td_gen_job_t *next = job->next;
        bool held = false;
        for (int i = 0; i < PQntuples (res) && !held; i++)
            held = strcmp (PQgetvalue (res, i, 0), job->id) == 0;
        if (!held) {
            td_info ("llm", job->rid, "generation job %s is no longer ours; dropped", job->id);
            s_kill (job);
        }
        job = next;
    }
    PQclear (res);
}

void
td_llm_gen_drop (td_actor_t *actor, const char *job_id)
{
    td_llm_gen_t *gen = s_gen (actor);
    for (td_gen_job_t *job = gen? gen->jobs: NULL; job; job = job->next)
        if (strcmp (job->id, job_id) == 0) {
            s_kill (job);
            return;
        }
}

static void
s_ready (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    td_llm_gen_t *gen = s_gen (actor);
    if (gen)
        td_acall_dispatch (gen->calls, actor);
}

static int
s_env (const char *name, int dflt, int lo, int hi)
{
    const char *v = getenv (name);
    char *end = NULL;
    long n = v && *v? strtol (v, &end, 10): dflt;
    if (v && *v && (*end || n < lo || n > hi)) {
        td_warn ("llm", NULL, "%s='%s' is not %d..%d; using %d", name, v, lo, hi, dflt);
        n = dflt;
    }
    return (int) n;
}

int
td_llm_gen_start (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    const char *prompts [] = { "gen_grammar", "gen_vocabulary", "gen_code", "gen_outline", NULL };
    for (int i = 0; prompts [i]; i++)
        if (!*td_llm_prompt (llm, prompts [i])) {
            td_error ("llm", NULL, "prompts/%s.md is missing", prompts [i]);
            return -1;
        }
    td_llm_gen_t *gen = (td_llm_gen_t *) calloc (1, sizeof *gen);
    if (!gen)
        return -1;
    llm->gen = gen;
    msgpack_sbuffer_init (&gen->system_auth);
    gen->lease_ms = s_env ("TUTORD_LLM_GEN_LEASE_MS", 30000, 500, 3600000);
    gen->max_jobs = s_env ("TUTORD_LLM_GEN_JOBS", 4, 1, 64);
    gen->org_jobs = s_env ("TUTORD_LLM_GEN_ORG_JOBS", 10, 1, 10000);
    gen->attempts = s_env ("TUTORD_LLM_GEN_ATTEMPTS", 3, 1, 10);
    gen->code_attempts = s_env ("TUTORD_LLM_GEN_CODE_ATTEMPTS", 3, 1, 10);
    char host [64] = "";
    if (gethostname (host, sizeof host - 1) != 0)
        snprintf (host, sizeof host, "host");
    snprintf (gen->owner, sizeof gen->owner, "%.60s:%d:%08x", host, (int) getpid (),
              (unsigned) randombytes_random ());
    msgpack_packer pk;
    msgpack_packer_init (&pk, &gen->system_auth, msgpack_sbuffer_write);
    gen->calls = td_acall_new (td_config_broker_endpoint (td_actor_config (actor)), "llm");
    if (!gen->calls || msgpack_pack_map (&pk, 1) || td_mp_pack_kv_str (&pk, "kind", "system")
    ||  td_actor_watch (actor, td_acall_sock (gen->calls), s_ready) != 0)
        return -1;
    return 0;
}

void
td_llm_gen_tick (td_actor_t *actor)
{
    td_llm_gen_t *gen = s_gen (actor);
    if (!gen || gen->stopping)
        return;
    td_acall_expire (gen->calls, actor);
    int64_t now = zclock_mono ();
    if (gen->jobs && now >= gen->next_renew_ms) {
        gen->next_renew_ms = now + gen->lease_ms / 3;
        s_renew (actor);
    }
    int held = 0;
    for (td_gen_job_t *j = gen->jobs; j; j = j->next)
        held++;
    if (held >= gen->max_jobs || now < gen->next_claim_ms)
        return;
    gen->next_claim_ms = now + 1000;
    while (held < gen->max_jobs && !gen->stopping && s_claim (actor))
        held++;
}

void
td_llm_gen_stop (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_gen_t *gen = llm? llm->gen: NULL;
    if (!gen)
        return;
    gen->stopping = true;
    //  our running jobs may be claimed at once by whoever comes next (this actor restarted, too)
    const char *params [] = { gen->owner };
    PGresult *res = gen->jobs? td_db_exec (td_actor_db (actor), NULL,
        "UPDATE llm_gen_jobs SET lease_until = NULL, owner = NULL WHERE owner = $1"
        " AND status = 'running'", 1, params): NULL;
    if (res)
        PQclear (res);
    while (gen->jobs)
        s_kill (gen->jobs);
    td_acall_destroy (&gen->calls, actor);      //  the last callbacks free the last jobs
    msgpack_sbuffer_destroy (&gen->system_auth);
    llm->gen = NULL;
    free (gen);
}
