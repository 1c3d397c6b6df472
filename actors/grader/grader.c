/*  grader — the grader actor: learner code run in the sandbox against tests, results streamed.
 *
 *  It serves the "grade" service (GRADER.md is the interface). Verbs:
 *    submit  {"body": inline {language, code, tests[]} | {item_id, code} | {item_id, answer},
 *            "wait"?}  -> 202 {id, status:"queued"} (a question: "done" already, or "pending"),
 *            or with wait=true 200 and the final result
 *    batch   {"body": {"submissions": [...up to 20]}}      -> 202 {items: [{id, status} | {error}]}
 *    get     {"id"}                                        -> 200 the submission with its result
 *    execute {"body": {language, code, stdin}}             -> 200 {verdict, exit_code, stdout, ...}
 *    result.list {since?, limit?} (system)                 -> 200 {results, next, more}
 *    answer.pending {limit?} / answer.grade {submission_id, score, passed, feedback?} (system):
 *            subjective answers, graded later (td_grade_pending.c)
 *
 *  Items: a submission naming an item waits (its call kept) for the catalog's item.grading,
 *  asked through td_actor_call without blocking this thread; exercises are then stored with the
 *  item's language and tests, questions are checked at once (td_grade_answer.c).
 *
 *  Durability (DESIGN.md principle 3): a submission is INSERTed as 'queued' before the 202. The
 *  queue is the table (schema/0003_grader.sql), shared by every grader process: an idle runner
 *  claims the oldest queued row with FOR UPDATE SKIP LOCKED, stamped with a fresh claim token and
 *  this instance's key, whose PostgreSQL advisory lock the actor holds for as long as it lives.
 *  A sweep puts back 'running' rows whose instance lock is gone (that grader died) or whose lease
 *  ran out, so after a crash every submission is run again; only the current claim may mark a row
 *  'done', so each finishes exactly once.
 *
 *  Threads: sandbox runs take seconds, far beyond the heartbeat liveness, so they never run on
 *  the actor thread. A pool of runner threads (zactors, TUTORD_GRADER_WORKERS, default one per
 *  core) each takes one job at a time from its pipe and reports progress and results back on a
 *  PUSH socket to the actor's PULL; only the actor thread touches PostgreSQL and the broker.
 *
 *  Runner states:   idle --claim/execute--> busy --"done"/"exec"--> idle
 */
#include <ctype.h>
#include <czmq.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "td_access.h"
#include "td_actor.h"
#include "td_call_json.h"
#include "td_actor_call.h"
#include "td_grade_answer.h"
#include "td_grade_pending.h"
#include "td_grade_results.h"
#include "td_grade_limits.h"
#include "td_grade_job.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_sandbox.h"

#define MAX_RUNNERS     16
#define MAX_BATCH       20
#define MAX_EXEC_QUEUE  64
#define SWEEP_MS        1000
#define LOG             "grader"

typedef struct {
    td_sandbox_t *sandbox;          //  shared, read-only after creation
    char endpoint [96];             //  the actor's PULL
    int index;
} runner_args_t;

typedef struct {
    zactor_t *actor;
    runner_args_t args;
    bool busy;
    char key [128];                 //  "<submission id>:<claim>" or "x<exec number>"
    char *user_id;                  //  of the submission being run (events), or NULL
    char *org_id;
    char *item_id;                  //  the exercise item it answers, or NULL (inline tests)
    size_t tests;
} runner_t;

typedef struct {
    td_sandbox_t *sandbox;          //  NULL when this host cannot sandbox: nothing is claimed
    zsock_t *results;               //  PULL from the runners
    char endpoint [96];
    runner_t runners [MAX_RUNNERS];
    int nrunners;
    int64_t lock_key;               //  this instance's advisory lock (positive, < 2^62)
    zhashx_t *waiters;              //  submission id -> zlistx of td_call_t * (wait=true)
    zhashx_t *execs;                //  "x<n>" -> td_call_t *
    zlistx_t *exec_queue;           //  pending execute jobs: char * "key\njson"
    uint64_t next_exec;
    int64_t last_sweep;
    td_acall_t *catalog;            //  item.grading look-ups (GRADER.md §2)
    msgpack_sbuffer system_auth;    //  {"kind": "system"}, the auth of those look-ups
    bool stopping;                  //  in fini: claim nothing more
} grader_t;

//  ---------------------------------------------------------------------------------------------
//  Runner threads

static int
s_push (zsock_t *push, const char *kind, const char *key, const char *payload)
{
    return zsock_send (push, "sss", kind, key, payload? payload: "");
}

typedef struct {
    zsock_t *push;
    const char *key;
} progress_ctx_t;

static void
s_progress (void *arg, size_t index, const json_t *test_result)
{
    progress_ctx_t *ctx = (progress_ctx_t *) arg;
    json_t *msg = json_pack ("{s:I, s:O}", "index", (json_int_t) index, "test", test_result);
    char *text = msg? json_dumps (msg, JSON_COMPACT): NULL;
    if (!text || s_push (ctx->push, "progress", ctx->key, text) != 0)
        td_warn (LOG, NULL, "cannot report progress of %s", ctx->key);
    free (text);
    json_decref (msg);
}

static json_t *
s_internal_result (const char *message)
{
    return json_pack ("{s:s, s:f, s:[], s:s}", "verdict", "internal_error", "score", 0.0,
                      "tests", "message", message);
}

//  execute: one run without tests.
static json_t *
s_execute (td_sandbox_t *sandbox, const json_t *req)
{
    const char *lang = json_string_value (json_object_get (req, "language"));
    const json_t *code = json_object_get (req, "code");
    const json_t *in = json_object_get (req, "stdin");
    bool is_c = lang && strcmp (lang, "c") == 0;
    td_file_t source = { .name = is_c? "main.c": "main.py", .data = json_string_value (code),
                         .size = json_string_length (code) };
    td_run_spec_t spec = { .language = TD_LANG_PYTHON, .files = &source, .file_count = 1 };
    td_limits_default (&spec.limits);
    td_run_result_t compiled = { 0 }, run = { 0 };
    td_file_t binary = { .name = "main", .executable = true };
    int rc = 0;
    if (is_c) {
        td_run_spec_t cspec = { .language = TD_LANG_C_COMPILE, .files = &source, .file_count = 1 };
        td_limits_default_compile (&cspec.limits);
        rc = td_sandbox_run (sandbox, &cspec, &compiled);
        if (rc != 0 || compiled.verdict != TD_VERDICT_ACCEPTED || !compiled.artifact) {
            json_t *r = json_pack ("{s:s, s:i, s:s, s:o, s:i, s:i, s:b}",
                                   "verdict", rc == 0 && compiled.verdict != TD_VERDICT_ACCEPTED
                                              && compiled.verdict != TD_VERDICT_RUNTIME_ERROR
                                              ? td_verdict_name (compiled.verdict): "compile_error",
                                   "exit_code", compiled.exit_code, "stdout", "",
                                   "stderr", td_grade_output_json (compiled.err, compiled.err_len),
                                   "time_ms", (int) compiled.time_ms, "memory_kb",
                                   (int) compiled.memory_kb, "truncated", compiled.err_truncated);
            td_run_result_free (&compiled);
            return r;
        }
        binary.data = compiled.artifact;
        binary.size = compiled.artifact_len;
        spec.language = TD_LANG_C_RUN;
        spec.files = &binary;
    }
    spec.stdin_data = json_string_value (in);
    spec.stdin_size = in? json_string_length (in): 0;
    rc = td_sandbox_run (sandbox, &spec, &run);
    json_t *r;
    if (rc != 0)
        r = json_pack ("{s:s, s:i, s:s, s:s, s:i, s:i, s:b, s:s}", "verdict", "internal_error",
                       "exit_code", -1, "stdout", "", "stderr", "", "time_ms", 0, "memory_kb", 0,
                       "truncated", 0, "message", run.message);
    else {
        r = json_pack ("{s:s, s:i, s:o, s:o, s:i, s:i, s:b}", "verdict",
                       td_verdict_name (run.verdict), "exit_code", run.exit_code,
                       "stdout", td_grade_output_json (run.out, run.out_len),
                       "stderr", td_grade_output_json (run.err, run.err_len),
                       "time_ms", (int) run.time_ms, "memory_kb", (int) run.memory_kb,
                       "truncated", run.out_truncated || run.err_truncated);
        if (r && run.syscall [0])
            json_object_set_new (r, "syscall", json_string (run.syscall));
    }
    td_run_result_free (&run);
    td_run_result_free (&compiled);
    return r;
}

static void
s_runner_job (runner_args_t *args, zsock_t *push, const char *kind, const char *key,
              const char *payload)
{
    json_error_t jerr;
    json_t *input = json_loads (payload, 0, &jerr);
    json_t *result = NULL;
    if (!input)
        result = s_internal_result ("the stored submission could not be read");
    else
    if (streq (kind, "exec"))
        result = s_execute (args->sandbox, input);
    else {
        td_error_t err;
        td_grade_job_t *job = td_grade_job_parse (input, &err);
        if (!job)
            result = s_internal_result (err.message);
        else {
            progress_ctx_t ctx = { .push = push, .key = key };
            result = td_grade_job_run (job, args->sandbox, s_progress, &ctx);
            td_grade_job_destroy (&job);
        }
    }
    char *text = result? json_dumps (result, JSON_COMPACT): NULL;
    if (s_push (push, streq (kind, "exec")? "exec": "done", key,
                text? text: "{\"verdict\":\"internal_error\",\"score\":0,\"tests\":[]}") != 0)
        td_error (LOG, NULL, "runner %d cannot report %s", args->index, key);
    free (text);
    json_decref (result);
    json_decref (input);
}

static void
s_runner (zsock_t *pipe, void *argp)
{
    runner_args_t *args = (runner_args_t *) argp;
    zsock_t *push = zsock_new_push (args->endpoint);
    zsock_signal (pipe, 0);
    if (!push) {
        td_error (LOG, NULL, "runner %d cannot connect to %s", args->index, args->endpoint);
        return;
    }
    while (true) {
        char *command = NULL, *kind = NULL, *key = NULL, *payload = NULL;
        if (zsock_recv (pipe, "ssss", &command, &kind, &key, &payload) != 0 || !command
        ||  streq (command, "$TERM")) {
            zstr_free (&command), zstr_free (&kind), zstr_free (&key), zstr_free (&payload);
            break;
        }
        if (kind && key && payload)
            s_runner_job (args, push, kind, key, payload);
        zstr_free (&command), zstr_free (&kind), zstr_free (&key), zstr_free (&payload);
    }
    zsock_destroy (&push);
}

//  ---------------------------------------------------------------------------------------------
//  Helpers on the actor thread

static grader_t *
s_self (td_actor_t *actor)
{
    return (grader_t *) td_actor_state (actor);
}

//  Answer with body (kept: the caller still owns it).
static int
s_reply_json (td_call_t *call, int status, json_t *body)
{
    return td_call_reply_json (call, status, json_incref (body));
}

//  The caller's user id ("" when anonymous) and whether it is the trusted system.
static void
s_caller (td_call_t *call, char *user, size_t size, bool *system)
{
    const msgpack_object *auth = td_call_auth (call);
    *system = td_mp_streq (td_mp_get (auth, "kind"), "system");
    if (!td_mp_strcpy (td_mp_get (auth, "user"), user, size))
        user [0] = 0;
}

static bool
s_uuid_valid (const char *s)
{
    return td_uuid_valid (s);
}

static void
s_publish (td_actor_t *actor, const char *type, const char *user, const char *org,
           const char *subject, json_t *data)
{
    td_actor_publish_json (actor, type, user, org, subject, data);
}

//  A submission row as the API shows it.
static json_t *
s_row_json (PGresult *res, int row)
{
    json_t *j = json_object ();
    if (!j)
        return NULL;
    json_object_set_new (j, "id", json_string (PQgetvalue (res, row, 0)));
    json_object_set_new (j, "status", json_string (PQgetvalue (res, row, 1)));
    json_object_set_new (j, "language", json_string (PQgetvalue (res, row, 2)));
    json_object_set_new (j, "created_at", json_string (PQgetvalue (res, row, 3)));
    if (!PQgetisnull (res, row, 4))
        json_object_set_new (j, "finished_at", json_string (PQgetvalue (res, row, 4)));
    json_object_set_new (j, "kind", json_string (PQgetvalue (res, row, 10)));
    if (!PQgetisnull (res, row, 9))
        json_object_set_new (j, "item_id", json_string (PQgetvalue (res, row, 9)));
    if (!PQgetisnull (res, row, 11))
        json_object_set_new (j, "passed", json_boolean (PQgetvalue (res, row, 11) [0] == 't'));
    if (PQgetisnull (res, row, 2))
        json_object_del (j, "language");
    if (!PQgetisnull (res, row, 5)) {
        json_error_t jerr;
        json_t *result = json_loads (PQgetvalue (res, row, 5), 0, &jerr);
        if (result) {
            json_object_update (j, result);
            json_decref (result);
        }
    }
    return j;
}

#define ROW_COLUMNS "id::text, status, language, " \
    "to_char (created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), " \
    "to_char (finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), " \
    "result::text, user_id, org_id, array_to_string (org_ids, ','), item_id, kind, passed"

//  ---------------------------------------------------------------------------------------------
//  Queue: claim, sweep, finish

static void
s_dispatch_execs (td_actor_t *actor)
{
    grader_t *self = s_self (actor);
    for (int i = 0; i < self->nrunners && zlistx_size (self->exec_queue) > 0; i++) {
        runner_t *r = &self->runners [i];
        if (r->busy)
            continue;
        char *item = (char *) zlistx_first (self->exec_queue);
        char *nl = strchr (item, '\n');
        *nl = 0;
        snprintf (r->key, sizeof r->key, "%s", item);
        if (zsock_send (r->actor, "ssss", "JOB", "exec", item, nl + 1) == 0)
            r->busy = true;
        zlistx_delete (self->exec_queue, zlistx_cursor (self->exec_queue));
    }
}

static void
s_claim (td_actor_t *actor)
{
    grader_t *self = s_self (actor);
    if (!self->sandbox || self->stopping)
        return;
    s_dispatch_execs (actor);
    for (int i = 0; i < self->nrunners; i++) {
        runner_t *r = &self->runners [i];
        if (r->busy)
            continue;
        char key [32];
        snprintf (key, sizeof key, "%lld", (long long) self->lock_key);
        const char *params [] = { key };
        PGresult *res = td_db_exec (td_actor_db (actor), NULL,
            "UPDATE grader_submissions SET status = 'running', claim = gen_random_uuid (), "
            "  claimed_by = $1, attempts = attempts + 1, started_at = now (), "
            "  lease_until = now () + make_interval (secs => 120 + 8 * jsonb_array_length (spec->'tests')) "
            "WHERE id = (SELECT id FROM grader_submissions WHERE status = 'queued' "
            "            ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1) "
            "RETURNING id::text, claim::text, spec::text, user_id, org_id, "
            "  jsonb_array_length (spec->'tests'), item_id", 1, params);
        if (!res)
            return;
        if (PQntuples (res) == 0) {
            PQclear (res);
            return;
        }
        snprintf (r->key, sizeof r->key, "%s:%s", PQgetvalue (res, 0, 0), PQgetvalue (res, 0, 1));
        free (r->user_id);
        free (r->org_id);
        r->user_id = PQgetisnull (res, 0, 3)? NULL: strdup (PQgetvalue (res, 0, 3));
        r->org_id = PQgetisnull (res, 0, 4)? NULL: strdup (PQgetvalue (res, 0, 4));
        r->tests = (size_t) atoi (PQgetvalue (res, 0, 5));
        free (r->item_id);
        r->item_id = PQgetisnull (res, 0, 6)? NULL: strdup (PQgetvalue (res, 0, 6));
        if (zsock_send (r->actor, "ssss", "JOB", "grade", r->key, PQgetvalue (res, 0, 2)) == 0) {
            r->busy = true;
            td_info (LOG, NULL, "runner %d grades %s", i, PQgetvalue (res, 0, 0));
        }
        else
            td_error (LOG, NULL, "cannot hand %s to runner %d; the sweep will requeue it", r->key, i);
        PQclear (res);
    }
}

//  Put back 'running' rows whose grader died (its advisory lock is gone) or whose lease ran out.
static void
s_sweep (td_actor_t *actor)
{
    grader_t *self = s_self (actor);
    char key [32];
    snprintf (key, sizeof key, "%lld", (long long) self->lock_key);
    const char *params [] = { key };
    //  Re-entrant for this session; after a reconnection it takes the lock again.
    PGresult *res = td_db_exec (td_actor_db (actor), NULL, "SELECT pg_try_advisory_lock ($1)", 1, params);
    if (!res)
        return;
    PQclear (res);
    res = td_db_exec (td_actor_db (actor), NULL,
        "UPDATE grader_submissions s SET status = 'queued', claim = NULL, claimed_by = NULL "
        "WHERE status = 'running' AND (lease_until < now () OR (claimed_by <> $1 AND NOT EXISTS ("
        "  SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"
        "  AND ((l.classid::bigint << 32) | l.objid::bigint) = s.claimed_by))) "
        "RETURNING id::text", 1, params);
    if (res) {
        for (int i = 0; i < PQntuples (res); i++)
            td_warn (LOG, NULL, "submission %s requeued: its grader died or its lease ran out",
                     PQgetvalue (res, i, 0));
        PQclear (res);
    }
}

static void
s_answer_waiters (td_actor_t *actor, const char *id, json_t *row)
{
    grader_t *self = s_self (actor);
    zlistx_t *calls = (zlistx_t *) zhashx_lookup (self->waiters, id);
    if (!calls)
        return;
    for (td_call_t *call = (td_call_t *) zlistx_first (calls); call;
         call = (td_call_t *) zlistx_next (calls))
        s_reply_json (call, 200, row);
    zhashx_delete (self->waiters, id);
}

//  Waiters whose submission another grader process ran (the queue is shared, so any grader may
//  claim it): answered from the table, as the submission's own grader would have.
static void
s_poll_waiters (td_actor_t *actor)
{
    grader_t *self = s_self (actor);
    if (zhashx_size (self->waiters) == 0)
        return;
    char list [8192];
    size_t n = (size_t) snprintf (list, sizeof list, "{");
    for (void *item = zhashx_first (self->waiters); item; item = zhashx_next (self->waiters)) {
        const char *id = (const char *) zhashx_cursor (self->waiters);
        if (s_uuid_valid (id) && n + 40 < sizeof list)
            n += (size_t) snprintf (list + n, sizeof list - n, "%s%s", n > 1? ",": "", id);
    }
    snprintf (list + n, sizeof list - n, "}");
    const char *params [] = { list };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "SELECT " ROW_COLUMNS " FROM grader_submissions WHERE id = ANY ($1::uuid[]) AND status = 'done'",
        1, params);
    for (int i = 0; res && i < PQntuples (res); i++) {
        json_t *row = s_row_json (res, i);
        if (row)
            s_answer_waiters (actor, PQgetvalue (res, i, 0), row);
        json_decref (row);
    }
    if (res)
        PQclear (res);
}

static void
s_finish (td_actor_t *actor, runner_t *r, const char *payload)
{
    char id [64], claim [64];
    const char *colon = strchr (r->key, ':');
    if (!colon || colon - r->key >= (long) sizeof id)
        return;
    snprintf (id, sizeof id, "%.*s", (int) (colon - r->key), r->key);
    snprintf (claim, sizeof claim, "%s", colon + 1);
    json_error_t jerr;
    json_t *result = json_loads (payload, 0, &jerr);
    const char *verdict = json_string_value (json_object_get (result, "verdict"));
    char score [32];
    snprintf (score, sizeof score, "%.2f", json_number_value (json_object_get (result, "score")));
    const char *params [] = { id, claim, verdict? verdict: "internal_error", score, payload };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "UPDATE grader_submissions SET status = 'done', verdict = $3, score = $4::float8, "
        "  passed = ($3 = 'accepted'), "
        "  result = $5::jsonb, finished_at = now (), claim = NULL, lease_until = NULL "
        "WHERE id = $1::uuid AND claim = $2::uuid AND status = 'running' "
        "RETURNING " ROW_COLUMNS, 5, params);
    if (res && PQntuples (res) == 1) {
        json_t *row = s_row_json (res, 0);
        td_info (LOG, NULL, "submission %s done: %s", id, verdict? verdict: "?");
        s_publish (actor, "grade.result", r->user_id, r->org_id, id,
                   json_pack ("{s:s, s:s, s:s, s:O, s:s, s:s?, s:b, s:o}", "submission_id", id,
                              "status", "done", "verdict", verdict? verdict: "internal_error",
                              "score", json_object_get (result, "score"), "kind", "exercise",
                              "item_id", r->item_id, "passed",
                              verdict && strcmp (verdict, "accepted") == 0,
                              "failed_tests", td_grade_failed_tests (result)));
        s_answer_waiters (actor, id, row);
        json_decref (row);
    }
    else
    if (res)
        td_warn (LOG, NULL, "submission %s: result of a stale claim dropped", id);
    else
        td_error (LOG, NULL, "submission %s: result not stored (%s); it will run again", id,
                  td_db_last_error (td_actor_db (actor)));
    if (res)
        PQclear (res);
    json_decref (result);
}

static void
s_on_result (td_actor_t *actor, zsock_t *sock)
{
    grader_t *self = s_self (actor);
    for (int n = 0; n < 64 && (zsock_events (sock) & ZMQ_POLLIN); n++) {
        char *kind = NULL, *key = NULL, *payload = NULL;
        if (zsock_recv (sock, "sss", &kind, &key, &payload) != 0 || !kind || !key || !payload) {
            zstr_free (&kind), zstr_free (&key), zstr_free (&payload);
            break;
        }
        runner_t *r = NULL;
        for (int i = 0; i < self->nrunners; i++)
            if (self->runners [i].busy && streq (self->runners [i].key, key))
                r = &self->runners [i];
        if (r && streq (kind, "progress")) {
            char id [64];
            snprintf (id, sizeof id, "%.*s", (int) strcspn (key, ":"), key);
            json_error_t jerr;
            json_t *p = json_loads (payload, 0, &jerr);
            if (p) {
                json_object_set_new (p, "submission_id", json_string (id));
                json_object_set_new (p, "total", json_integer ((json_int_t) r->tests));
                json_object_set_new (p, "kind", json_string ("exercise"));
                if (r->item_id)
                    json_object_set_new (p, "item_id", json_string (r->item_id));
                s_publish (actor, "grade.progress", r->user_id, r->org_id, id, p);
            }
        }
        else
        if (r && streq (kind, "done")) {
            s_finish (actor, r, payload);
            r->busy = false;
        }
        else
        if (r && streq (kind, "exec")) {
            td_call_t *call = (td_call_t *) zhashx_lookup (self->execs, key);
            json_error_t jerr;
            json_t *body = json_loads (payload, 0, &jerr);
            if (call)
                s_reply_json (call, 200, body);
            json_decref (body);
            zhashx_delete (self->execs, key);
            r->busy = false;
        }
        zstr_free (&kind), zstr_free (&key), zstr_free (&payload);
    }
    s_claim (actor);
}

//  ---------------------------------------------------------------------------------------------
//  Verbs

//  The orgs a submission belongs to. Its admins and API keys may read it: an API key's own org;
//  for a user, every org they are in now (as a PostgreSQL array literal in orgs). org is the one
//  its events name: "org_id" when given (the caller must be in it), else `prefer` (the item's
//  org) when the caller is in it, else their only org, else "".
//  False with err set for an anonymous caller or an org_id the caller is not in.
static bool
s_submission_org (td_call_t *call, const json_t *sub, const char *prefer, char *org, size_t size,
                  char *orgs, size_t orgs_size, td_error_t *err)
{
    td_principal_t *p = td_principal_new (td_call_auth (call), err);
    if (!p)
        return false;
    bool ok = true;
    const char *given = json_string_value (json_object_get (sub, "org_id"));
    td_principal_kind_t kind = td_principal_kind (p);
    if (kind == TD_PRINCIPAL_ANONYMOUS) {
        td_error_set (err, TD_ERR_UNAUTHORIZED, NULL, "sign in to submit");
        ok = false;
    }
    else
    if (kind == TD_PRINCIPAL_API_KEY)
        snprintf (org, size, "%s", td_principal_key_org (p));
    else
    if (given) {
        if (td_principal_in_org (p, given))
            snprintf (org, size, "%s", given);
        else {
            td_error_set (err, TD_ERR_NOT_FOUND, "org_id", "there is no such organisation");
            ok = false;
        }
    }
    else
    if (prefer && kind == TD_PRINCIPAL_USER && td_principal_org_role (p, prefer) != TD_ROLE_NONE)
        snprintf (org, size, "%s", prefer);
    else
    if (td_principal_org_count (p) == 1)
        snprintf (org, size, "%s", td_principal_org_at (p, 0, NULL));
    //  Ids are identity's UUIDs; anything else (quotes, commas) is left out of the literal.
    size_t n = (size_t) snprintf (orgs, orgs_size, "{");
    for (size_t i = 0; ok && i < td_principal_org_count (p); i++) {
        const char *id = td_principal_org_at (p, i, NULL);
        if (id && strspn (id, "0123456789abcdefABCDEF-") == strlen (id) && n + strlen (id) + 3 < orgs_size)
            n += (size_t) snprintf (orgs + n, orgs_size - n, "%s%s", n > 1? ",": "", id);
    }
    if (kind == TD_PRINCIPAL_API_KEY && *org && n + strlen (org) + 3 < orgs_size)
        n += (size_t) snprintf (orgs + n, orgs_size - n, "%s", org);
    snprintf (orgs + n, orgs_size - n, "}");
    td_principal_destroy (&p);
    return ok;
}

//  A string member of the item the catalog answered (item.grading), or NULL.
static const char *
s_item_str (const json_t *item, const char *key)
{
    return json_string_value (json_object_get (item, key));
}

//  Validate and store one code submission (inline, or built from an exercise item); returns its
//  row (id, status...) or NULL with err set.
static json_t *
s_store (td_actor_t *actor, td_call_t *call, const json_t *sub, const json_t *item, td_error_t *err)
{
    td_grade_job_t *job = td_grade_job_parse (sub, err);
    if (!job)
        return NULL;
    //  The learner does not choose the box's size: inline limits may only lower the defaults.
    json_t *limits = td_grade_limits_json (&job->limits);
    td_grade_job_destroy (&job);
    td_limits_t dflt;
    td_limits_default (&dflt);
    if (!item && td_grade_limits_apply (json_object_get (sub, "limits"), &dflt, false, &dflt, err)) {
        json_decref (limits);
        return NULL;
    }
    json_t *spec = json_pack ("{s:O, s:O, s:O, s:o?}", "language", json_object_get (sub, "language"),
                              "code", json_object_get (sub, "code"),
                              "tests", json_object_get (sub, "tests"), "limits", limits);
    char *text = spec? json_dumps (spec, JSON_COMPACT): NULL;
    json_decref (spec);
    if (!text) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    char user [TD_MAX_ID + 1], org [TD_MAX_ID + 1] = "";
    bool system;
    s_caller (call, user, sizeof user, &system);
    char orgs [4096];
    if (!s_submission_org (call, sub, s_item_str (item, "org_id"), org, sizeof org, orgs,
                           sizeof orgs, err)) {
        free (text);
        return NULL;
    }
    const char *params [] = { *user? user: NULL, *org? org: NULL,
                              json_string_value (json_object_get (sub, "language")), text, orgs,
                              s_item_str (item, "item_id"), s_item_str (item, "course_id") };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "INSERT INTO grader_submissions (user_id, org_id, language, spec, org_ids, item_id, course_id) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::text[], $6, $7) RETURNING " ROW_COLUMNS, 7, params);
    free (text);
    if (!res || PQntuples (res) != 1) {
        if (res)
            PQclear (res);
        td_error_set (err, TD_ERR_UNAVAILABLE, NULL,
                      "the submission could not be stored; nothing was accepted, try again");
        return NULL;
    }
    json_t *row = s_row_json (res, 0);
    PQclear (res);
    if (row)
        s_publish (actor, "grade.queued", user, org, json_string_value (json_object_get (row, "id")),
                   json_pack ("{s:O, s:s, s:s, s:s?}", "submission_id", json_object_get (row, "id"),
                              "status", "queued", "kind", "exercise",
                              "item_id", s_item_str (item, "item_id")));
    return row;
}

//  An answer to a question item, graded at once (subjective ones stored 'pending'); its row or
//  NULL with err set. Events: grade.queued, then grade.result when it was graded.
static json_t *
s_store_answer (td_actor_t *actor, td_call_t *call, const json_t *sub, const json_t *item,
                td_error_t *err)
{
    const json_t *question = json_object_get (item, "content");
    const json_t *answer = json_object_get (sub, "answer");
    if (json_object_get (sub, "code")) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "code", "a question takes an answer, not code");
        return NULL;
    }
    td_answer_grade_t g;
    if (td_grade_answer (question, answer, &g, err))
        return NULL;
    char user [TD_MAX_ID + 1], org [TD_MAX_ID + 1] = "", orgs [4096];
    bool system;
    s_caller (call, user, sizeof user, &system);
    if (!s_submission_org (call, sub, s_item_str (item, "org_id"), org, sizeof org, orgs,
                           sizeof orgs, err))
        return NULL;
    const char *type = json_string_value (json_object_get (question, "type"));
    const char *verdict = g.passed? "accepted": "wrong_answer";
    json_t *result = json_pack ("{s:s, s:O}", "type", type? type: "", "answer", answer);
    if (result && !g.pending) {
        json_object_set_new (result, "verdict", json_string (verdict));
        json_object_set_new (result, "score", json_real (g.score));
        json_object_set_new (result, "tests", json_array ());
        const json_t *why = json_object_get (question, "explanation");
        if (json_is_string (why))
            json_object_set (result, "explanation", (json_t *) why);
    }
    //  A pending answer keeps the question as it was answered, for whoever grades it later.
    json_t *spec = g.pending? json_pack ("{s:O, s:O}", "answer", answer, "question", question)
                            : json_pack ("{s:O}", "answer", answer);
    char *rtext = result? json_dumps (result, JSON_COMPACT): NULL;
    char *stext = spec? json_dumps (spec, JSON_COMPACT): NULL;
    json_decref (result);
    json_decref (spec);
    char score [32];
    snprintf (score, sizeof score, "%.2f", g.score);
    const char *params [] = { *user? user: NULL, *org? org: NULL, orgs, s_item_str (item, "item_id"),
                              s_item_str (item, "course_id"), stext, g.pending? "pending": "done",
                              g.pending? NULL: verdict, g.pending? NULL: score,
                              g.pending? NULL: g.passed? "true": "false", rtext };
    PGresult *res = rtext && stext? td_db_exec (td_actor_db (actor), td_call_rid (call),
        "INSERT INTO grader_submissions (user_id, org_id, org_ids, item_id, course_id, kind, spec, "
        "  status, verdict, score, passed, result, started_at, finished_at) "
        "VALUES ($1, $2, $3::text[], $4, $5, 'question', $6::jsonb, $7, $8, $9::float8, $10::boolean, "
        "  $11::jsonb, now (), CASE WHEN $7 = 'done' THEN now () END) RETURNING " ROW_COLUMNS,
        11, params): NULL;
    free (rtext);
    free (stext);
    if (!res || PQntuples (res) != 1) {
        if (res)
            PQclear (res);
        td_error_set (err, TD_ERR_UNAVAILABLE, NULL,
                      "the answer could not be stored; nothing was accepted, try again");
        return NULL;
    }
    json_t *row = s_row_json (res, 0);
    PQclear (res);
    const char *id = json_string_value (json_object_get (row, "id"));
    if (!row || !id)
        return row;
    s_publish (actor, "grade.queued", user, org, id,
               json_pack ("{s:s, s:s, s:s, s:s?}", "submission_id", id,
                          "status", g.pending? "pending": "queued", "kind", "question",
                          "item_id", s_item_str (item, "item_id")));
    if (!g.pending)
        s_publish (actor, "grade.result", user, org, id,
                   json_pack ("{s:s, s:s, s:s, s:f, s:s, s:s?, s:b, s:[]}", "submission_id", id,
                              "status", "done", "verdict", verdict, "score", g.score,
                              "kind", "question", "item_id", s_item_str (item, "item_id"),
                              "passed", g.passed, "failed_tests"));
    td_info (LOG, td_call_rid (call), "answer %s to %s: %s", id, s_item_str (item, "item_id"),
             g.pending? "pending": verdict);
    return row;
}

//  A submission that names an item: an exercise's code runs against the item's tests (hidden
//  ones included), a question's answer is checked against its key.
static json_t *
s_store_item (td_actor_t *actor, td_call_t *call, const json_t *sub, const json_t *item,
              td_error_t *err)
{
    const char *kind = s_item_str (item, "kind");
    const json_t *content = json_object_get (item, "content");
    if (kind && strcmp (kind, "question") == 0)
        return s_store_answer (actor, call, sub, item, err);
    if (!kind || strcmp (kind, "exercise") != 0) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "item_id",
                      "item_id names a %s; only exercises and questions take submissions",
                      kind? kind: "item");
        return NULL;
    }
    if (json_object_get (sub, "answer")) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "answer", "an exercise takes code, not an answer");
        return NULL;
    }
    if (!json_object_get (sub, "code")) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "code", "code is required");
        return NULL;
    }
    json_t *full = json_pack ("{s:O?, s:O, s:O?, s:O?}", "language",
                              json_object_get (content, "language"),
                              "code", json_object_get (sub, "code"),
                              "tests", json_object_get (content, "tests"),
                              "limits", json_object_get (content, "limits"));
    if (full && json_object_get (sub, "org_id"))
        json_object_set (full, "org_id", json_object_get (sub, "org_id"));
    json_t *row = full? s_store (actor, call, full, item, err): NULL;
    if (!full)
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
    json_decref (full);
    return row;
}

//  ---------------------------------------------------------------------------------------------
//  Submissions waiting for their items (item.grading, answered asynchronously by the catalog)
//
//  submit and batch keep their call in a pend_t: one slot per submission; a slot that names an
//  item waits for the catalog's answer, an inline one is ready at once. When no slot waits, the
//  submissions are stored in their order and the call answered (s_complete). A catalog that is
//  down or slow ends a slot with 503 (the broker's 503/504, or td_acall_expire), so a kept call
//  is always answered and nothing half-accepted is stored.

typedef struct pend pend_t;

typedef struct {
    pend_t *p;
    json_t *item;                   //  the catalog's answer (owned), NULL for inline
    td_error_t err;                 //  code TD_OK unless the look-up failed
} pend_slot_t;

struct pend {
    td_call_t *call;                //  kept
    json_t *subs;                   //  array of submissions (owned)
    pend_slot_t *slots;
    size_t waiting;
    bool batch, wait;
};

#define ITEM_LOOKUP_MS  5000

static void
s_pend_destroy (pend_t **p_p)
{
    pend_t *p = *p_p;
    if (!p)
        return;
    for (size_t i = 0; p->slots && i < json_array_size (p->subs); i++)
        json_decref (p->slots [i].item);
    free (p->slots);
    json_decref (p->subs);
    free (p);
    *p_p = NULL;
}

//  Store one submission of p (slot i): its row, or NULL with err set.
static json_t *
s_store_slot (td_actor_t *actor, pend_t *p, size_t i, td_error_t *err)
{
    pend_slot_t *slot = &p->slots [i];
    if (slot->err.code != TD_OK) {
        *err = slot->err;
        return NULL;
    }
    const json_t *sub = json_array_get (p->subs, i);
    return slot->item? s_store_item (actor, p->call, sub, slot->item, err)
                     : s_store (actor, p->call, sub, NULL, err);
}

static void
s_complete (td_actor_t *actor, pend_t *p)
{
    grader_t *self = s_self (actor);
    if (p->batch) {
        json_t *items = json_array ();
        for (size_t i = 0; items && i < json_array_size (p->subs); i++) {
            td_error_t err;
            json_t *row = s_store_slot (actor, p, i, &err);
            json_array_append_new (items, row? json_pack ("{s:O, s:O}", "id", json_object_get (row, "id"),
                                                          "status", json_object_get (row, "status"))
                                             : json_pack ("{s:{s:s, s:s, s:s?}}", "error", "code",
                                                          td_errcode_name (err.code), "message", err.message,
                                                          "field", *err.field? err.field: NULL));
            json_decref (row);
        }
        json_t *reply = items? json_pack ("{s:o}", "items", items): NULL;
        if (reply)
            s_reply_json (p->call, 202, reply);
        else
            td_call_error (p->call, TD_ERR_INTERNAL, NULL, "out of memory");
        json_decref (reply);
    }
    else {
        td_error_t err;
        json_t *row = s_store_slot (actor, p, 0, &err);
        const char *status = json_string_value (json_object_get (row, "status"));
        const char *id = json_string_value (json_object_get (row, "id"));
        if (!row)
            td_call_error (p->call, err.code, *err.field? err.field: NULL, "%s", err.message);
        else
        if (status && strcmp (status, "done") == 0)     //  an answer, graded already
            s_reply_json (p->call, p->wait? 200: 202, row);
        else
        if (p->wait && status && strcmp (status, "queued") == 0 && id) {
            zlistx_t *calls = (zlistx_t *) zhashx_lookup (self->waiters, id);
            if (!calls) {
                calls = zlistx_new ();
                if (calls)
                    zhashx_insert (self->waiters, id, calls);
            }
            if (!calls || !zlistx_add_end (calls, p->call))
                s_reply_json (p->call, 202, row);
        }
        else
            s_reply_json (p->call, 202, row);           //  queued, or pending (subjective)
        json_decref (row);
    }
    s_pend_destroy (&p);
    s_claim (actor);
}

//  The catalog's answer to one look-up.
static void
s_on_item (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    pend_slot_t *slot = (pend_slot_t *) arg;
    pend_t *p = slot->p;
    int status = reply? td_msg_status (reply): 0;
    td_error_t jerr;
    if (status == 200)
        slot->item = td_mp_to_json (td_msg_body (reply), &jerr);
    if (status == 404 || (slot->item && !json_is_true (json_object_get (slot->item, "may_submit"))))
        td_error_set (&slot->err, TD_ERR_NOT_FOUND, "item_id", "there is no such item");
    else
    if (!slot->item) {
        td_warn (LOG, td_call_rid (p->call), "item look-up failed: %s",
                 reply? td_msg_error_message (reply): err? err->message: "?");
        td_error_set (&slot->err, TD_ERR_UNAVAILABLE, NULL,
                      "the catalog cannot be reached to find the item; nothing was stored, try again");
    }
    if (slot->err.code != TD_OK) {
        json_decref (slot->item);
        slot->item = NULL;
    }
    if (--p->waiting == 0)
        s_complete (actor, p);
}

//  The item form: item_id given, or neither language nor tests (then item_id is missing).
static bool
s_is_item_form (const json_t *sub)
{
    return json_object_get (sub, "item_id")
        || (!json_object_get (sub, "language") && !json_object_get (sub, "tests"));
}

//  Check an item-form submission before asking the catalog; 0 or -1 with err set.
static int
s_item_precheck (const json_t *sub, td_error_t *err)
{
    const json_t *id = json_object_get (sub, "item_id");
    if (!id)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "item_id",
                             "item_id is required (or give language, code and tests)");
    if (!json_is_string (id) || json_string_length (id) == 0 || json_string_length (id) > 64)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "item_id", "item_id must be an item's id");
    if (json_object_get (sub, "tests") || json_object_get (sub, "language"))
        return td_error_set (err, TD_ERR_INVALID_INPUT, json_object_get (sub, "tests")? "tests": "language",
                             "a submission to an item takes its language and tests from the item");
    const json_t *code = json_object_get (sub, "code");
    if (code && !json_is_string (code))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "code", "code must be a string");
    if (code && json_string_length (code) > TD_GRADE_MAX_CODE)
        return td_error_set (err, TD_ERR_TOO_LARGE, "code", "code is longer than %d bytes",
                             TD_GRADE_MAX_CODE);
    if (!s_uuid_valid (json_string_value (id)))
        return td_error_set (err, TD_ERR_NOT_FOUND, "item_id", "there is no such item");
    return 0;
}

//  Ask the catalog for slot i's item, forwarding the caller's auth so the catalog decides with
//  its own rule whether they may see it. 0, or -1 with the slot's err set.
static int
s_lookup (td_actor_t *actor, pend_t *p, size_t i)
{
    grader_t *self = s_self (actor);
    pend_slot_t *slot = &p->slots [i];
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    const char *id = json_string_value (json_object_get (json_array_get (p->subs, i), "item_id"));
    int rc = msgpack_pack_map (&pk, 2);
    rc |= td_mp_pack_kv_str (&pk, "item_id", id);
    rc |= td_mp_pack_str (&pk, "auth");
    rc |= msgpack_pack_object (&pk, *td_call_auth (p->call));
    td_request_spec_t spec = { .rid = td_call_rid (p->call), .type = "item.grading",
                               .auth = self->system_auth.data,
                               .auth_size = self->system_auth.size,
                               .body = body.data, .body_size = body.size };
    if (rc != 0 || !self->catalog
    ||  td_acall_send (self->catalog, "catalog", &spec, ITEM_LOOKUP_MS, s_on_item, slot, &slot->err)) {
        td_error_set (&slot->err, TD_ERR_UNAVAILABLE, NULL,
                      "the catalog cannot be reached to find the item; nothing was stored, try again");
        rc = -1;
    }
    msgpack_sbuffer_destroy (&body);
    return rc;
}

//  Keep call for subs (an array, stolen): look up the items, then s_complete.
static int
s_accept (td_actor_t *actor, td_call_t *call, json_t *subs, bool batch, bool wait)
{
    pend_t *p = calloc (1, sizeof *p);
    if (p)
        p->slots = calloc (json_array_size (subs) + 1, sizeof *p->slots);
    if (!p || !p->slots) {
        free (p);
        json_decref (subs);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    *p = (pend_t) { .call = call, .subs = subs, .slots = p->slots, .batch = batch, .wait = wait };
    td_error_t err;
    td_principal_t *who = td_principal_new (td_call_auth (call), &err);
    bool anonymous = !who || td_principal_kind (who) == TD_PRINCIPAL_ANONYMOUS;
    td_principal_destroy (&who);
    for (size_t i = 0; i < json_array_size (subs); i++) {
        pend_slot_t *slot = &p->slots [i];
        slot->p = p;
        const json_t *sub = json_array_get (subs, i);
        if (!json_is_object (sub) || !s_is_item_form (sub))
            continue;               //  inline: s_store validates it
        if (anonymous)
            td_error_set (&slot->err, TD_ERR_UNAUTHORIZED, NULL, "sign in to submit");
        else
        if (s_item_precheck (sub, &slot->err) == 0 && s_lookup (actor, p, i) == 0)
            p->waiting++;
    }
    td_call_keep (call);
    if (p->waiting == 0)
        s_complete (actor, p);
    return TD_ACTOR_OK;
}

static json_t *
s_body_json (td_call_t *call, const char *key)
{
    td_error_t err;
    const msgpack_object *o = td_mp_get (td_call_body (call), key);
    return o? td_mp_to_json (o, &err): NULL;
}

static int
s_submit (td_actor_t *actor, td_call_t *call)
{
    json_t *sub = s_body_json (call, "body");
    if (!json_is_object (sub)) {
        json_decref (sub);
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body",
                              "the submission must be a JSON object"), TD_ACTOR_OK;
    }
    json_t *subs = json_array ();
    if (!subs || json_array_append_new (subs, sub) != 0) {
        json_decref (subs);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    return s_accept (actor, call, subs, false,
                     td_mp_streq (td_mp_get (td_call_body (call), "wait"), "true"));
}

static int
s_batch (td_actor_t *actor, td_call_t *call)
{
    json_t *body = s_body_json (call, "body");
    json_t *subs = json_object_get (body, "submissions");
    if (!json_is_array (subs) || json_array_size (subs) == 0 || json_array_size (subs) > MAX_BATCH) {
        json_decref (body);
        return td_call_error (call, TD_ERR_INVALID_INPUT, "submissions",
                              "submissions must be a list of 1 to %d submissions", MAX_BATCH),
               TD_ACTOR_OK;
    }
    json_incref (subs);
    json_decref (body);
    return s_accept (actor, call, subs, true, false);
}

static int
s_get (td_actor_t *actor, td_call_t *call)
{
    char id [64];
    if (!td_mp_strcpy (td_mp_get (td_call_body (call), "id"), id, sizeof id) || !s_uuid_valid (id))
        return td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such submission"),
               TD_ACTOR_OK;
    const char *params [] = { id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT " ROW_COLUMNS " FROM grader_submissions WHERE id = $1::uuid", 1, params);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "submissions cannot be read now"),
               TD_ACTOR_OK;
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    bool visible = false;
    if (p && PQntuples (res) == 1) {
        //  The owner, their mentors, and the admins and API keys of the submission's org see it;
        //  everybody else is told it does not exist.
        const char *owner = PQgetisnull (res, 0, 6)? NULL: PQgetvalue (res, 0, 6);
        char list [4096];
        snprintf (list, sizeof list, "%s", PQgetvalue (res, 0, 8));
        const char *orgs [64];
        size_t n = 0;
        char *save = NULL;
        for (char *o = strtok_r (list, ",", &save); o && n < 64; o = strtok_r (NULL, ",", &save))
            orgs [n++] = o;
        visible = td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
        if (!visible && owner)
            visible = td_principal_may_see_user (p, owner, orgs, n);
        for (size_t i = 0; !visible && !owner && i < n; i++)
            visible = td_principal_is_org_admin (p, orgs [i]) || td_principal_is_org_key (p, orgs [i]);
    }
    td_principal_destroy (&p);
    if (!visible) {
        PQclear (res);
        return td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such submission"),
               TD_ACTOR_OK;
    }
    json_t *row = s_row_json (res, 0);
    PQclear (res);
    s_reply_json (call, 200, row);
    json_decref (row);
    return TD_ACTOR_OK;
}

static int
s_exec (td_actor_t *actor, td_call_t *call)
{
    grader_t *self = s_self (actor);
    json_t *body = s_body_json (call, "body");
    const json_t *lang = json_object_get (body, "language");
    const json_t *code = json_object_get (body, "code");
    const json_t *in = json_object_get (body, "stdin");
    const char *field = NULL, *why = NULL;
    td_errcode_t ecode = TD_ERR_INVALID_INPUT;
    if (!json_is_object (body))
        field = "body", why = "the request must be a JSON object";
    else
    if (!json_is_string (lang) || (strcmp (json_string_value (lang), "python")
                                && strcmp (json_string_value (lang), "c")))
        field = "language", why = "language must be \"python\" or \"c\"";
    else
    if (!json_is_string (code) || json_string_length (code) == 0)
        field = "code", why = "code must be a non-empty string";
    else
    if (json_string_length (code) > TD_GRADE_MAX_CODE)
        field = "code", why = "code is longer than 65536 bytes", ecode = TD_ERR_TOO_LARGE;
    else
    if (in && !json_is_null (in) && (!json_is_string (in) || json_string_length (in) > TD_GRADE_MAX_IO))
        field = "stdin", why = "stdin must be a string of at most 1 MiB";
    else
    if (!self->sandbox)
        ecode = TD_ERR_UNAVAILABLE, why = "this grader cannot run code (no sandbox on this host)";
    else
    if (zlistx_size (self->exec_queue) >= MAX_EXEC_QUEUE)
        ecode = TD_ERR_UNAVAILABLE, why = "too many runs are waiting; try again shortly";
    if (why) {
        json_decref (body);
        return td_call_error (call, ecode, field, "%s", why), TD_ACTOR_OK;
    }
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    char key [32];
    snprintf (key, sizeof key, "x%llu", (unsigned long long) ++self->next_exec);
    char *item = text? zsys_sprintf ("%s\n%s", key, text): NULL;
    free (text);
    if (!item || !zlistx_add_end (self->exec_queue, item)) {
        zstr_free (&item);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    zhashx_insert (self->execs, key, call);
    td_call_keep (call);
    s_dispatch_execs (actor);
    return TD_ACTOR_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Life cycle

static void
s_destroy_list (void **item)
{
    zlistx_destroy ((zlistx_t **) item);
}

static void
s_free_string (void **item)
{
    zstr_free ((char **) item);
}

static void s_fini (td_actor_t *actor);

static void
s_on_catalog (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    td_acall_dispatch (s_self (actor)->catalog, actor);
}

static int
s_setup (td_actor_t *actor)
{
    grader_t *self = calloc (1, sizeof *self);
    if (!self || sodium_init () < 0) {
        free (self);
        return -1;
    }
    td_actor_set_state (actor, self);
    self->waiters = zhashx_new ();
    self->execs = zhashx_new ();
    self->exec_queue = zlistx_new ();
    if (!self->waiters || !self->execs || !self->exec_queue)
        return -1;
    zhashx_set_destructor (self->waiters, s_destroy_list);
    zlistx_set_destructor (self->exec_queue, s_free_string);
    randombytes_buf (&self->lock_key, sizeof self->lock_key);
    self->lock_key = (self->lock_key & 0x3fffffffffffffffLL) | 1;
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://tutord-grader-%d-%p", getpid (),
              (void *) self);
    self->results = zsock_new_pull (self->endpoint);
    if (!self->results || td_actor_watch (actor, self->results, s_on_result) != 0)
        return -1;
    msgpack_sbuffer_init (&self->system_auth);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->system_auth, msgpack_sbuffer_write);
    if (msgpack_pack_map (&pk, 1) || td_mp_pack_kv_str (&pk, "kind", "system"))
        return -1;
    self->catalog = td_acall_new (td_config_broker_endpoint (td_actor_config (actor)), LOG);
    if (!self->catalog || td_actor_watch (actor, td_acall_sock (self->catalog), s_on_catalog) != 0)
        return -1;

    td_error_t err;
    td_sandbox_config_t scfg = { .python = td_actor_config (actor)->python };
    self->sandbox = td_sandbox_new (&scfg, &err);
    if (!self->sandbox) {
        //  The actor still answers get/ping; submissions wait in the queue for a grader that can run.
        td_error (LOG, NULL, "no sandbox on this host (%s): this grader will not run code",
                  err.message);
        return 0;
    }
    int n = td_actor_config (actor)->grader_workers;
    self->nrunners = n < 1? 1: n > MAX_RUNNERS? MAX_RUNNERS: n;
    for (int i = 0; i < self->nrunners; i++) {
        runner_t *r = &self->runners [i];
        r->args = (runner_args_t) { .sandbox = self->sandbox, .index = i };
        snprintf (r->args.endpoint, sizeof r->args.endpoint, "%s", self->endpoint);
        r->actor = zactor_new (s_runner, &r->args);
        if (!r->actor)
            return -1;
    }
    s_sweep (actor);
    s_claim (actor);
    td_info (LOG, NULL, "%d runners, cgroups v%d", self->nrunners,
             td_sandbox_cgroup_version (self->sandbox));
    return 0;
}

static int
s_init (td_actor_t *actor)
{
    if (s_setup (actor) == 0)
        return 0;
    s_fini (actor);                 //  the framework calls fini only after a successful init
    return -1;
}

static void
s_tick (td_actor_t *actor)
{
    grader_t *self = s_self (actor);
    int64_t now = zclock_mono ();
    if (self->catalog)
        td_acall_expire (self->catalog, actor);
    if (now - self->last_sweep >= SWEEP_MS) {
        self->last_sweep = now;
        s_sweep (actor);
        s_poll_waiters (actor);
    }
    s_claim (actor);
}

static void
s_fini (td_actor_t *actor)
{
    grader_t *self = s_self (actor);
    if (!self)
        return;
    //  Submissions still waiting for their items are answered 503 (nothing of them was stored).
    self->stopping = true;
    td_acall_destroy (&self->catalog, actor);
    msgpack_sbuffer_destroy (&self->system_auth);
    //  Runners finish their current run first (bounded by its wall limit); what they were running
    //  stays 'running' under our lock, which dies with our connection: the next sweep requeues it.
    for (int i = 0; i < self->nrunners; i++) {
        zactor_destroy (&self->runners [i].actor);
        free (self->runners [i].user_id);
        free (self->runners [i].org_id);
        free (self->runners [i].item_id);
    }
    zsock_destroy (&self->results);
    td_sandbox_destroy (&self->sandbox);
    //  Calls still waiting are answered: the work itself is safe in the table.
    for (zlistx_t *calls = (zlistx_t *) zhashx_first (self->waiters); calls;
         calls = (zlistx_t *) zhashx_next (self->waiters))
        for (td_call_t *call = (td_call_t *) zlistx_first (calls); call;
             call = (td_call_t *) zlistx_next (calls))
            td_call_error (call, TD_ERR_UNAVAILABLE, NULL,
                           "the grader is restarting; the submission is kept and will finish");
    for (td_call_t *call = (td_call_t *) zhashx_first (self->execs); call;
         call = (td_call_t *) zhashx_next (self->execs))
        td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the grader is restarting; run it again");
    zhashx_destroy (&self->waiters);
    zhashx_destroy (&self->execs);
    zlistx_destroy (&self->exec_queue);
    free (self);
    td_actor_set_state (actor, NULL);
}

static const td_verb_t s_verbs [] = {
    { "submit", s_submit },
    { "batch", s_batch },
    { "get", s_get },
    { "execute", s_exec },
    { "result.list", td_grade_result_list },
    { "answer.pending", td_grade_answer_pending },
    { "answer.grade", td_grade_answer_grade },
    { NULL, NULL }
};

const td_actor_spec_t td_grader_actor = {
    .name = "grader",
    .service = "grade",
    .needs_db = true,
    .verbs = s_verbs,
    .init = s_init,
    .fini = s_fini,
    .tick = s_tick,
    .tick_ms = 200,
};
