/*  trainer — the trainer actor: reinforcement-learning runs (PPO, td_ppo.c) streamed live.
 *
 *  It serves the "train" service (TRAINER.md is the interface). Verbs:
 *    run.create   {body: {env, algo, hyperparameters, total_steps, seed}} -> 202 the run
 *    run.list     {}                      -> 200 {runs: [...]} the caller's runs, newest first
 *    run.get      {id}                    -> 200 the run with its whole metrics history
 *    run.stop     {id}                    -> 200 the run (stopping or stopped)
 *    run.resume   {id}                    -> 202 the run (queued again from its checkpoint)
 *    run.evaluate {id, body: {episodes?, seed?}} -> 200 {rewards, mean_reward, states, ...}
 *
 *  Durability: a run is INSERTed as 'queued' before the 202. The table is the queue, shared by
 *  every trainer process: on each tick a free worker claims the oldest queued run (or a running
 *  one whose lease ran out: its trainer died) with FOR UPDATE SKIP LOCKED and a lease in this
 *  instance's name ("host:pid"), renewed every tick. A run restarts from its last checkpoint
 *  (weights, optimiser, generators and environments: td_ppo_save), so a killed run resumes and,
 *  being deterministic, produces the same metrics it would have. An actor restarted in the same
 *  process takes its own runs back at once; another process waits for the lease to run out.
 *
 *  Threads: training is pure computation that would stop this thread from answering, so it runs
 *  on td_train_worker threads at a lower priority; they push metrics, checkpoints and ends to
 *  this actor's PULL socket, and only this thread touches PostgreSQL and publishes events
 *  (train.metrics every update, train.done at the end).
 *
 *  Fair share: TUTORD_TRAIN_WORKERS threads (default cores − 1, at least 1), at most
 *  TUTORD_TRAIN_USER_RUNS active runs per user and TUTORD_TRAIN_ORG_RUNS per org (429 beyond),
 *  TUTORD_TRAIN_MAX_STEPS per run (400 beyond), and TUTORD_TRAIN_ORG_MONTH_STEPS environment
 *  steps per org per calendar month (UTC), counted from the stored runs (S_MONTH_USED): a create
 *  or resume that would go beyond it is answered 429 until the next month.
 */
#include <czmq.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "td_access.h"
#include "td_actor.h"
#include "td_call_json.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mlp_kernels.h"
#include "td_mp.h"
#include "td_train_job.h"
#include "td_train_worker.h"

#define LOG "trainer"
#define S_TICK_MS 500

typedef struct {
    char user [40];
    char org [40];                  //  "" when the owner has none
    bool user_stop;                 //  the owner asked to stop (else a stop is a shutdown)
} s_slot_t;

typedef struct {
    td_train_pool_t *pool;
    s_slot_t *slots;
    zsock_t *reports;
    char endpoint [96];
    char owner [128];               //  this instance: "host:pid"
    int workers, user_runs, org_runs, checkpoint_ms, lease_ms, eval_episodes;
    long max_steps;
    long month_steps;               //  per org per month; 0: no cap
} trainer_t;

static trainer_t *
s_self (td_actor_t *actor)
{
    return (trainer_t *) td_actor_state (actor);
}

//  The steps an org has used this calendar month (UTC), the largest over the orgs in ORGS (an
//  SQL uuid[] expression): every run of the org created this month counts its total_steps while
//  it is active (queued, running, stopping: it will use them) and the steps it made once it
//  ended (done, stopped, failed). A resumed run counts from then on in the month it was created.
#define S_MONTH_START "(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
#define S_MONTH_USED(ORGS) \
    "(SELECT coalesce(max(u), 0) FROM (SELECT sum(CASE WHEN mr.status IN " \
    "   ('queued','running','stopping') THEN mr.total_steps ELSE mr.step END) AS u " \
    " FROM trainer_runs mr, unnest(mr.orgs) mo WHERE mo = ANY (" ORGS ") " \
    "   AND mr.created_at >= " S_MONTH_START " GROUP BY mo) mu)"

//  Seconds until the next calendar month starts (UTC): the Retry-After of the monthly cap.
static int
s_seconds_to_next_month (void)
{
    time_t now = time (NULL);
    struct tm tm;
    if (!gmtime_r (&now, &tm))
        return 3600;
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    if (++tm.tm_mon == 12) {
        tm.tm_mon = 0;
        tm.tm_year++;
    }
    time_t next = timegm (&tm);
    return next > now? (int) (next - now): 1;
}

//  Answer 429 for the monthly cap: used steps of the org this month, asked more.
static void
s_month_refusal (trainer_t *self, td_call_t *call, long used, long asked)
{
    td_call_error_retry (call, TD_ERR_RATE_LIMITED, s_seconds_to_next_month (), NULL,
                         "your organisation has used %ld of its %ld training steps this month "
                         "(UTC) and this run needs %ld more; ask for fewer total_steps, stop "
                         "another run, or wait for next month (an administrator sets the cap "
                         "with TUTORD_TRAIN_ORG_MONTH_STEPS)", used, self->month_steps, asked);
}

static int
s_env_int (const char *name, int fallback, int lo, int hi)
{
    const char *v = getenv (name);
    char *end;
    long n = v && *v? strtol (v, &end, 10): fallback;
    if (v && *v && (*end || n < lo || n > hi)) {
        td_warn (LOG, NULL, "%s=%s is not a number in [%d, %d]; using %d", name, v, lo, hi, fallback);
        return fallback;
    }
    return (int) n;
}

//  --------------------------------------------------------------------------
//  Replies and rows

#define RUN_COLUMNS "id, user_id, orgs, env, request, status, step, total_steps, final, error, " \
                    "created_at, updated_at, checkpoint IS NOT NULL"

static json_t *
s_run_json (PGresult *res, int row)
{
    json_t *request = json_loads (PQgetvalue (res, row, 4), 0, NULL);
    json_t *final = PQgetisnull (res, row, 8)? json_null (): json_loads (PQgetvalue (res, row, 8), 0, NULL);
    json_t *out = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:s, s:s, s:b}",
                             "id", PQgetvalue (res, row, 0), "user_id", PQgetvalue (res, row, 1),
                             "env", PQgetvalue (res, row, 3), "status", PQgetvalue (res, row, 5),
                             "step", (json_int_t) atoll (PQgetvalue (res, row, 6)),
                             "total_steps", (json_int_t) atoll (PQgetvalue (res, row, 7)),
                             "final", final? final: json_null (),
                             "error", PQgetisnull (res, row, 9)? json_null ()
                                                               : json_string (PQgetvalue (res, row, 9)),
                             "created_at", PQgetvalue (res, row, 10),
                             "updated_at", PQgetvalue (res, row, 11),
                             "has_checkpoint", PQgetvalue (res, row, 12) [0] == 't');
    if (out && request) {
        json_object_set (out, "algo", json_object_get (request, "algo"));
        json_object_set (out, "hyperparameters", json_object_get (request, "hyperparameters"));
        json_object_set (out, "seed", json_object_get (request, "seed"));
    }
    json_decref (request);
    return out;
}

//  --------------------------------------------------------------------------
//  Who may see or change a run

typedef enum { S_NONE, S_SEE, S_OWN } s_right_t;

//  The run's row (RUN_COLUMNS) and the caller's right to it; NULL after answering the call.
static PGresult *
s_load_run (td_actor_t *actor, td_call_t *call, s_right_t *right)
{
    char id [64];
    if (!td_mp_strcpy (td_mp_get (td_call_body (call), "id"), id, sizeof id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such run");
        return NULL;
    }
    const char *params [] = { id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT " RUN_COLUMNS " FROM trainer_runs WHERE id::text = $1", 1, params);
    if (!res) {
        td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "runs cannot be read now; try again");
        return NULL;
    }
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    *right = S_NONE;
    if (p && PQntuples (res) == 1) {
        const char *owner = PQgetvalue (res, 0, 1);
        char list [4096];
        snprintf (list, sizeof list, "%s", PQgetvalue (res, 0, 2));
        const char *orgs [64];
        size_t n = 0;
        char *save = NULL;
        for (char *o = strtok_r (list, "{},", &save); o && n < 64; o = strtok_r (NULL, "{},", &save))
            orgs [n++] = o;
        bool system = td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
        const char *me = td_principal_user (p);
        bool admin = false;
        for (size_t i = 0; i < n && !admin; i++)
            admin = td_principal_is_org_admin (p, orgs [i]);
        if (system || (me && streq (me, owner)) || admin)
            *right = S_OWN;
        else
        if (td_principal_may_see_user (p, owner, orgs, n))
            *right = S_SEE;
    }
    td_principal_destroy (&p);
    if (*right == S_NONE) {
        PQclear (res);
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such run");
        return NULL;
    }
    return res;
}

//  --------------------------------------------------------------------------
//  Verbs

static int
s_create (td_actor_t *actor, td_call_t *call)
{
    trainer_t *self = s_self (actor);
    char user [40];
    if (!td_call_user (call, user, sizeof user, "training runs"))
        return TD_ACTOR_OK;
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    //  the owner's orgs, as a PostgreSQL array literal of uuids
    char orgs [4096] = "{";
    for (size_t i = 0; i < td_principal_org_count (p) && strlen (orgs) < sizeof orgs - 80; i++) {
        strcat (orgs, i? ",": "");
        strcat (orgs, td_principal_org_at (p, i, NULL));
    }
    strcat (orgs, "}");
    td_principal_destroy (&p);

    json_t *body = td_mp_to_json (td_mp_get (td_call_body (call), "body"), &err);
    td_train_job_t job;
    char field [96], why [512];
    if (td_train_job_parse (body, self->max_steps, &job, field, sizeof field, why, sizeof why) != 0) {
        json_decref (body);
        return td_call_error (call, TD_ERR_INVALID_INPUT, field, "%s", why), TD_ACTOR_OK;
    }
    bool seeded = json_is_integer (json_object_get (body, "seed"));
    json_decref (body);
    if (!seeded) {
        uint64_t s = ((uint64_t) zclock_time () * 2654435761u) ^ (uint64_t) getpid ();
        job.cfg.seed = s & 0xFFFFFFFFFFFFFull;      //  stored, so the run can be reproduced
    }
    json_t *request = json_pack ("{s:s, s:s, s:o, s:I, s:I}", "env", job.env, "algo", "ppo",
                                 "hyperparameters", td_train_job_hyperparameters (&job.cfg),
                                 "total_steps", (json_int_t) job.cfg.total_steps,
                                 "seed", (json_int_t) job.cfg.seed);
    char *text = request? json_dumps (request, JSON_COMPACT): NULL;
    json_decref (request);
    if (!text)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    char total [32], ulimit [16], olimit [16], month [32];
    snprintf (total, sizeof total, "%ld", job.cfg.total_steps);
    snprintf (ulimit, sizeof ulimit, "%d", self->user_runs);
    snprintf (olimit, sizeof olimit, "%d", self->org_runs);
    snprintf (month, sizeof month, "%ld", self->month_steps);
    //  the fair-share limits and the insert in one statement
    const char *params [] = { user, orgs, job.env, text, total, ulimit, olimit, month };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "WITH active AS ("
        "  SELECT (SELECT count(*) FROM trainer_runs WHERE user_id = $1::uuid"
        "            AND status IN ('queued','running','stopping')) AS mine,"
        "         (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM trainer_runs r,"
        "            unnest(r.orgs) o WHERE o = ANY ($2::uuid[])"
        "            AND r.status IN ('queued','running','stopping') GROUP BY o) x) AS org,"
        "         " S_MONTH_USED ("$2::uuid[]") " AS used)"
        "INSERT INTO trainer_runs (user_id, orgs, env, request, total_steps) "
        "SELECT $1::uuid, $2::uuid[], $3, $4::jsonb, $5::bigint FROM active "
        "WHERE mine < $6::int AND org < $7::int "
        "  AND ($8::bigint = 0 OR cardinality ($2::uuid[]) = 0 OR used + $5::bigint <= $8::bigint) "
        "RETURNING " RUN_COLUMNS, 8, params);
    free (text);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the run cannot be stored now; "
                              "try again"), TD_ACTOR_OK;
    if (PQntuples (res) != 1) {
        PQclear (res);
        //  which limit: the month's steps (people in no org have none), or else the runs at once
        bool capped = self->month_steps > 0 && !streq (orgs, "{}");
        const char *mparams [] = { orgs };
        res = capped? td_db_exec (td_actor_db (actor), td_call_rid (call),
            "SELECT " S_MONTH_USED ("$1::uuid[]"), 1, mparams): NULL;
        long used = res && PQntuples (res) == 1? atol (PQgetvalue (res, 0, 0)): 0;
        if (res)
            PQclear (res);
        if (capped && used + job.cfg.total_steps > self->month_steps)
            return s_month_refusal (self, call, used, job.cfg.total_steps), TD_ACTOR_OK;
        return td_call_error_retry (call, TD_ERR_RATE_LIMITED, 30, NULL,
                                    "too many training runs at once (at most %d of yours and %d "
                                    "per organisation); wait for one to finish or stop one",
                                    self->user_runs, self->org_runs), TD_ACTOR_OK;
    }
    json_t *run = s_run_json (res, 0);
    td_info (LOG, td_call_rid (call), "run %s queued: %s, %ld steps", PQgetvalue (res, 0, 0),
             job.env, job.cfg.total_steps);
    PQclear (res);
    return td_call_reply_json (call, 202, run), TD_ACTOR_OK;
}

static int
s_list (td_actor_t *actor, td_call_t *call)
{
    char user [40];
    if (!td_call_user (call, user, sizeof user, "training runs"))
        return TD_ACTOR_OK;
    const char *params [] = { user };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT " RUN_COLUMNS " FROM trainer_runs WHERE user_id = $1::uuid "
        "ORDER BY created_at DESC, id LIMIT 200", 1, params);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "runs cannot be read now; try again"),
               TD_ACTOR_OK;
    json_t *runs = json_array ();
    for (int i = 0; runs && i < PQntuples (res); i++)
        json_array_append_new (runs, s_run_json (res, i));
    PQclear (res);
    return td_call_reply_json (call, 200, json_pack ("{s:o}", "runs", runs)), TD_ACTOR_OK;
}

static int
s_get (td_actor_t *actor, td_call_t *call)
{
    s_right_t right;
    PGresult *res = s_load_run (actor, call, &right);
    if (!res)
        return TD_ACTOR_OK;
    json_t *run = s_run_json (res, 0);
    const char *params [] = { PQgetvalue (res, 0, 0) };
    PGresult *m = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT coalesce(json_agg(data ORDER BY update_no), '[]') FROM trainer_metrics "
        "WHERE run_id = $1::uuid", 1, params);
    PQclear (res);
    if (!m) {
        json_decref (run);
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "runs cannot be read now; try again"),
               TD_ACTOR_OK;
    }
    json_t *metrics = json_loads (PQgetvalue (m, 0, 0), 0, NULL);
    PQclear (m);
    if (run)
        json_object_set_new (run, "metrics", metrics? metrics: json_array ());
    return td_call_reply_json (call, 200, run), TD_ACTOR_OK;
}

static int
s_stop (td_actor_t *actor, td_call_t *call)
{
    trainer_t *self = s_self (actor);
    s_right_t right;
    PGresult *res = s_load_run (actor, call, &right);
    if (!res)
        return TD_ACTOR_OK;
    if (right != S_OWN) {
        PQclear (res);
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL, "only the run's owner or an admin of "
                              "its organisation may stop it"), TD_ACTOR_OK;
    }
    char id [40];
    snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    //  queued: stopped at once; running here: the worker stops after its update; running in
    //  another process: 'stopping', which that trainer sees on its next tick
    const char *params [] = { id };
    res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "UPDATE trainer_runs SET status = CASE WHEN status = 'queued' THEN 'stopped' "
        "  ELSE 'stopping' END, updated_at = now() "
        "WHERE id = $1::uuid AND status IN ('queued','running') RETURNING status", 1, params);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the run cannot be changed now"),
               TD_ACTOR_OK;
    PQclear (res);
    for (int w = 0; w < self->workers; w++)
        if (streq (td_train_pool_run (self->pool, w), id))
            self->slots [w].user_stop = true;
    td_train_pool_stop (self->pool, id);
    res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT " RUN_COLUMNS " FROM trainer_runs WHERE id = $1::uuid", 1, params);
    if (!res || PQntuples (res) != 1) {
        if (res) PQclear (res);
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the run cannot be read now"),
               TD_ACTOR_OK;
    }
    json_t *run = s_run_json (res, 0);
    PQclear (res);
    return td_call_reply_json (call, 200, run), TD_ACTOR_OK;
}

static int
s_resume (td_actor_t *actor, td_call_t *call)
{
    s_right_t right;
    PGresult *res = s_load_run (actor, call, &right);
    if (!res)
        return TD_ACTOR_OK;
    if (right != S_OWN) {
        PQclear (res);
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL, "only the run's owner or an admin of "
                              "its organisation may resume it"), TD_ACTOR_OK;
    }
    char id [40], month [32];
    snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    snprintf (month, sizeof month, "%ld", s_self (actor)->month_steps);
    //  the run's remaining steps count against its orgs' month (where it already counts the
    //  steps it made, if created this month)
    const char *params [] = { id, month };
    res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "UPDATE trainer_runs t SET status = 'queued', owner = NULL, lease_until = NULL, "
        "  error = NULL, updated_at = now() "
        "WHERE id = $1::uuid AND status IN ('stopped','failed') "
        "  AND ($2::bigint = 0 OR cardinality (t.orgs) = 0 "
        "       OR " S_MONTH_USED ("t.orgs") " + t.total_steps - t.step <= $2::bigint) "
        "RETURNING " RUN_COLUMNS, 2, params);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the run cannot be changed now"),
               TD_ACTOR_OK;
    if (PQntuples (res) != 1) {
        PQclear (res);
        res = td_db_exec (td_actor_db (actor), td_call_rid (call),
            "SELECT status IN ('stopped','failed'), " S_MONTH_USED ("t.orgs") ", "
            "  t.total_steps - t.step FROM trainer_runs t WHERE id = $1::uuid", 1, params);
        bool resumable = s_self (actor)->month_steps > 0 && res && PQntuples (res) == 1
                      && streq (PQgetvalue (res, 0, 0), "t");
        long used = resumable? atol (PQgetvalue (res, 0, 1)): 0,
             left = resumable? atol (PQgetvalue (res, 0, 2)): 0;
        if (res)
            PQclear (res);
        if (resumable)
            return s_month_refusal (s_self (actor), call, used, left), TD_ACTOR_OK;
        return td_call_error (call, TD_ERR_CONFLICT, "status", "only a stopped or failed run can "
                              "be resumed"), TD_ACTOR_OK;
    }
    json_t *run = s_run_json (res, 0);
    PQclear (res);
    return td_call_reply_json (call, 202, run), TD_ACTOR_OK;
}

//  Bytes of a hex string (PostgreSQL's encode(..., 'hex')); NULL on bad input.
static uint8_t *
s_unhex (const char *hex, size_t *size)
{
    size_t n = strlen (hex);
    if (n % 2)
        return NULL;
    uint8_t *out = malloc (n / 2 + 1);
    for (size_t i = 0; out && i < n / 2; i++) {
        unsigned v;
        if (sscanf (hex + 2 * i, "%2x", &v) != 1) {
            free (out);
            return NULL;
        }
        out [i] = (uint8_t) v;
    }
    *size = n / 2;
    return out;
}

static int
s_evaluate (td_actor_t *actor, td_call_t *call)
{
    s_right_t right;
    PGresult *res = s_load_run (actor, call, &right);
    if (!res)
        return TD_ACTOR_OK;
    char id [40];
    snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    json_t *request = json_loads (PQgetvalue (res, 0, 4), 0, NULL);
    PQclear (res);
    td_error_t err;
    json_t *body = td_mp_to_json (td_mp_get (td_call_body (call), "body"), &err);
    int episodes = 5;
    uint64_t seed = 1;
    const char *bad = NULL;
    if (body && !json_is_null (body)) {
        json_t *e = json_object_get (body, "episodes"), *s = json_object_get (body, "seed");
        if (!json_is_object (body))
            bad = "body";
        else
        if (e && !(json_is_integer (e) && json_integer_value (e) >= 1 && json_integer_value (e) <= 20))
            bad = "episodes";
        else
        if (s && !(json_is_integer (s) && json_integer_value (s) >= 0))
            bad = "seed";
        if (!bad && e)
            episodes = (int) json_integer_value (e);
        if (!bad && s)
            seed = (uint64_t) json_integer_value (s);
    }
    json_decref (body);
    if (bad) {
        json_decref (request);
        return td_call_error (call, TD_ERR_INVALID_INPUT, bad, streq (bad, "episodes")
                              ? "episodes must be a whole number from 1 to 20"
                              : streq (bad, "seed")? "seed must be a non-negative whole number"
                              : "the body must be a JSON object"), TD_ACTOR_OK;
    }
    td_train_job_t job;
    char field [96], why [512];
    int rc = td_train_job_parse (request, LONG_MAX, &job, field, sizeof field, why, sizeof why);
    json_decref (request);
    if (rc != 0)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "the stored run cannot be read"),
               TD_ACTOR_OK;
    const char *params [] = { id };
    res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT encode(checkpoint, 'hex') FROM trainer_runs WHERE id = $1::uuid "
        "AND checkpoint IS NOT NULL", 1, params);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "runs cannot be read now"),
               TD_ACTOR_OK;
    if (PQntuples (res) != 1) {
        PQclear (res);
        return td_call_error (call, TD_ERR_CONFLICT, "id", "the run has no trained policy yet; "
                              "evaluate it after its first checkpoint"), TD_ACTOR_OK;
    }
    size_t size = 0;
    uint8_t *cp = s_unhex (PQgetvalue (res, 0, 0), &size);
    PQclear (res);
    td_ppo_t *ppo = cp? td_ppo_new (job.env, &job.cfg): NULL;
    double rewards [20], *states = NULL;
    size_t nstates = 0;
    rc = ppo && td_ppo_load (ppo, cp, size) == 0
      && td_ppo_evaluate (ppo, episodes, seed, rewards, &states, &nstates) == 0? 0: -1;
    free (cp);
    td_ppo_destroy (&ppo);
    if (rc != 0)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "the run's checkpoint cannot be "
                              "evaluated"), TD_ACTOR_OK;
    int sd = td_env_find (job.env)->state_dim;
    json_t *list = json_array (), *frames = json_array ();
    double sum = 0;
    for (int i = 0; i < episodes; i++) {
        sum += rewards [i];
        json_array_append_new (list, json_real (rewards [i]));
    }
    for (size_t i = 0; i < nstates; i++) {
        json_t *f = json_array ();
        for (int k = 0; k < sd; k++)
            json_array_append_new (f, json_real (states [i * (size_t) sd + (size_t) k]));
        json_array_append_new (frames, f);
    }
    free (states);
    return td_call_reply_json (call, 200, json_pack ("{s:s, s:s, s:i, s:o, s:f, s:o}", "run_id", id,
                                               "env", job.env, "episodes", episodes,
                                               "rewards", list, "mean_reward", sum / episodes,
                                               "states", frames)), TD_ACTOR_OK;
}

//  --------------------------------------------------------------------------
//  Reports from the workers

static char *
s_hex (const uint8_t *data, size_t size)
{
    char *out = malloc (2 * size + 3);
    if (!out)
        return NULL;
    out [0] = '\\';
    out [1] = 'x';
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out [2 + 2 * i] = digits [data [i] >> 4];
        out [3 + 2 * i] = digits [data [i] & 15];
    }
    out [2 + 2 * size] = 0;
    return out;
}

static void
s_handle_report (td_actor_t *actor, td_train_report_t *r, bool shutting_down)
{
    trainer_t *self = s_self (actor);
    s_slot_t *slot = &self->slots [r->worker];
    td_db_t *db = td_actor_db (actor);
    char step [32];
    snprintf (step, sizeof step, "%ld", r->step);
    if (r->kind == TD_TRAIN_METRICS) {
        json_object_set_new (r->data, "run_id", json_string (r->run_id));
        char *text = json_dumps (r->data, JSON_COMPACT);
        char update [16];
        snprintf (update, sizeof update, "%lld",
                  (long long) json_integer_value (json_object_get (r->data, "update")));
        const char *params [] = { r->run_id, update, text? text: "{}", step };
        PGresult *res = td_db_exec (db, NULL,
            "WITH m AS (INSERT INTO trainer_metrics (run_id, update_no, data) "
            "  VALUES ($1::uuid, $2::int, $3::jsonb) ON CONFLICT DO NOTHING) "
            "UPDATE trainer_runs SET step = greatest (step, $4::bigint), updated_at = now() "
            "WHERE id = $1::uuid", 4, params);
        if (res)
            PQclear (res);
        free (text);
        td_actor_publish_json (actor, "train.metrics", slot->user, slot->org, r->run_id,
                               json_incref (r->data));
        return;
    }
    char *hex = r->checkpoint? s_hex (r->checkpoint, r->checkpoint_size): NULL;
    if (r->kind == TD_TRAIN_CHECKPOINT) {
        const char *params [] = { r->run_id, hex, step };
        PGresult *res = hex? td_db_exec (db, NULL,
            "UPDATE trainer_runs SET checkpoint = $2::bytea, checkpoint_step = $3::bigint "
            "WHERE id = $1::uuid", 3, params): NULL;
        if (res)
            PQclear (res);
        free (hex);
        return;
    }
    //  finished: done, stopped (by the owner, or by our shutdown: then queued for anyone), failed
    const char *status = r->status;
    if (streq (status, "stopped") && !slot->user_stop)
        status = "queued";
    char *final = r->data? json_dumps (r->data, JSON_COMPACT): NULL;
    const char *params [] = { r->run_id, status, hex, step, final,
                              streq (status, "failed") && r->data
                              ? json_string_value (json_object_get (r->data, "error")): NULL };
    PGresult *res = td_db_exec (db, NULL,
        "UPDATE trainer_runs SET status = $2, checkpoint = coalesce ($3::bytea, checkpoint), "
        "  step = greatest (step, $4::bigint), final = CASE WHEN $2 = 'done' THEN $5::jsonb "
        "  ELSE final END, error = $6, owner = NULL, lease_until = NULL, updated_at = now() "
        "WHERE id = $1::uuid", 6, params);
    if (res)
        PQclear (res);
    td_info (LOG, NULL, "run %s %s at step %ld", r->run_id, status, r->step);
    if (streq (status, "done")) {
        json_t *data = json_pack ("{s:s, s:I, s:O}", "run_id", r->run_id, "step",
                                  (json_int_t) r->step, "final", r->data? r->data: json_null ());
        td_actor_publish_json (actor, "train.done", slot->user, slot->org, r->run_id, data);
    }
    free (final);
    free (hex);
    if (!shutting_down)
        td_train_pool_release (self->pool, r->worker);
    memset (slot, 0, sizeof *slot);
}

static void
s_on_report (td_actor_t *actor, zsock_t *sock)
{
    void *ptr = NULL;
    if (zsock_recv (sock, "p", &ptr) != 0 || !ptr)
        return;
    td_train_report_t *r = (td_train_report_t *) ptr;
    s_handle_report (actor, r, false);
    td_train_report_destroy (&r);
}

//  --------------------------------------------------------------------------
//  Claiming runs

static void
s_claim (td_actor_t *actor)
{
    trainer_t *self = s_self (actor);
    td_db_t *db = td_actor_db (actor);
    char lease [32];
    snprintf (lease, sizeof lease, "%d", self->lease_ms);
    //  keep our leases; see stops asked through another process
    const char *renew [] = { self->owner, lease };
    PGresult *res = td_db_exec (db, NULL,
        "UPDATE trainer_runs SET lease_until = now () + $2::int * interval '1 millisecond' "
        "WHERE owner = $1 AND status IN ('running','stopping') RETURNING id, status", 2, renew);
    for (int i = 0; res && i < PQntuples (res); i++)
        if (streq (PQgetvalue (res, i, 1), "stopping")) {
            for (int w = 0; w < self->workers; w++)
                if (streq (td_train_pool_run (self->pool, w), PQgetvalue (res, i, 0)))
                    self->slots [w].user_stop = true;
            td_train_pool_stop (self->pool, PQgetvalue (res, i, 0));
        }
    if (res)
        PQclear (res);
    //  a run whose trainer died while it was stopping is stopped
    res = td_db_exec (db, NULL,
        "UPDATE trainer_runs SET status = 'stopped', owner = NULL, lease_until = NULL "
        "WHERE status = 'stopping' AND lease_until < now ()", 0, NULL);
    if (res)
        PQclear (res);
    int w;
    while ((w = td_train_pool_free_worker (self->pool)) >= 0) {
        const char *params [] = { self->owner, lease };
        res = td_db_exec (db, NULL,
            "UPDATE trainer_runs SET status = 'running', owner = $1, "
            "  lease_until = now () + $2::int * interval '1 millisecond', updated_at = now () "
            "WHERE id = (SELECT id FROM trainer_runs WHERE status = 'queued' "
            "  OR (status = 'running' AND lease_until < now ()) "
            "  ORDER BY created_at, id FOR UPDATE SKIP LOCKED LIMIT 1) "
            "RETURNING id, user_id, (orgs [1])::text, request, encode (checkpoint, 'hex'), "
            "  status", 2, params);
        if (!res || PQntuples (res) != 1) {
            if (res)
                PQclear (res);
            return;
        }
        td_train_start_t *st = calloc (1, sizeof *st);
        json_t *request = json_loads (PQgetvalue (res, 0, 3), 0, NULL);
        char field [96], why [512];
        if (!st || td_train_job_parse (request, LONG_MAX, &st->job, field, sizeof field, why,
                                       sizeof why) != 0) {
            const char *fail [] = { PQgetvalue (res, 0, 0) };
            PGresult *f = td_db_exec (db, NULL, "UPDATE trainer_runs SET status = 'failed', "
                "error = 'the stored run cannot be read', owner = NULL WHERE id = $1::uuid", 1, fail);
            if (f)
                PQclear (f);
            json_decref (request);
            free (st);
            PQclear (res);
            continue;
        }
        json_decref (request);
        snprintf (st->run_id, sizeof st->run_id, "%s", PQgetvalue (res, 0, 0));
        st->checkpoint_ms = self->checkpoint_ms;
        st->eval_episodes = self->eval_episodes;
        if (!PQgetisnull (res, 0, 4))
            st->checkpoint = s_unhex (PQgetvalue (res, 0, 4), &st->checkpoint_size);
        s_slot_t *slot = &self->slots [w];
        memset (slot, 0, sizeof *slot);
        snprintf (slot->user, sizeof slot->user, "%s", PQgetvalue (res, 0, 1));
        snprintf (slot->org, sizeof slot->org, "%s", PQgetvalue (res, 0, 2));
        td_info (LOG, NULL, "run %s on worker %d%s", st->run_id, w,
                 st->checkpoint? " from its checkpoint": "");
        PQclear (res);
        if (td_train_pool_start (self->pool, w, st) != 0)
            return;
    }
}

//  --------------------------------------------------------------------------
//  Life cycle

static void s_fini (td_actor_t *actor);

static int
s_setup (td_actor_t *actor)
{
    trainer_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    td_actor_set_state (actor, self);
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    int dflt = cores > 1? (int) cores - 1: 1;
    self->workers = s_env_int ("TUTORD_TRAIN_WORKERS", dflt, 1, 64);
    self->user_runs = s_env_int ("TUTORD_TRAIN_USER_RUNS", 2, 1, 1000);
    self->org_runs = s_env_int ("TUTORD_TRAIN_ORG_RUNS", 8, 1, 100000);
    self->checkpoint_ms = s_env_int ("TUTORD_TRAIN_CHECKPOINT_MS", 2000, 10, 3600000);
    self->lease_ms = s_env_int ("TUTORD_TRAIN_LEASE_MS", 15000, 1000, 3600000);
    self->eval_episodes = s_env_int ("TUTORD_TRAIN_EVAL_EPISODES", 20, 1, 100);
    self->max_steps = s_env_int ("TUTORD_TRAIN_MAX_STEPS", 2000000, 1, 50000000);
    self->month_steps = s_env_int ("TUTORD_TRAIN_ORG_MONTH_STEPS", 100000000, 0, 2000000000);
    char host [64] = "host";
    if (gethostname (host, sizeof host - 1) != 0)
        snprintf (host, sizeof host, "host");
    host [sizeof host - 1] = 0;
    snprintf (self->owner, sizeof self->owner, "%s:%d", host, (int) getpid ());
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://tutord-trainer-%d-%p", getpid (),
              (void *) self);
    self->reports = zsock_new_pull (self->endpoint);
    if (!self->reports || td_actor_watch (actor, self->reports, s_on_report) != 0)
        return -1;
    self->slots = calloc ((size_t) self->workers, sizeof (s_slot_t));
    self->pool = self->slots? td_train_pool_new (self->workers, self->endpoint): NULL;
    if (!self->pool)
        return -1;
    td_info (LOG, NULL, "%d training workers at low priority, %s kernels", self->workers,
             td_mlp_isa ());
    //  runs of an earlier life of this actor in this process go back to the queue at once
    const char *params [] = { self->owner };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "UPDATE trainer_runs SET status = CASE WHEN status = 'stopping' THEN 'stopped' "
        "  ELSE 'queued' END, owner = NULL, lease_until = NULL "
        "WHERE owner = $1 AND status IN ('running','stopping')", 1, params);
    if (res)
        PQclear (res);
    s_claim (actor);
    return 0;
}

static int
s_init (td_actor_t *actor)
{
    if (s_setup (actor) == 0)
        return 0;
    s_fini (actor);
    return -1;
}

static void
s_tick (td_actor_t *actor)
{
    s_claim (actor);
}

static void
s_fini (td_actor_t *actor)
{
    trainer_t *self = s_self (actor);
    if (!self)
        return;
    //  workers stop after their current update and report; their runs go back to 'queued'
    //  with a fresh checkpoint, so any trainer resumes them
    td_train_pool_destroy (&self->pool);
    void *ptr;
    while (self->reports && zsock_events (self->reports) & ZMQ_POLLIN
       &&  zsock_recv (self->reports, "p", &ptr) == 0 && ptr) {
        td_train_report_t *r = (td_train_report_t *) ptr;
        s_handle_report (actor, r, true);
        td_train_report_destroy (&r);
    }
    zsock_destroy (&self->reports);
    free (self->slots);
    free (self);
    td_actor_set_state (actor, NULL);
}

static const td_verb_t s_verbs [] = {
    { "run.create", s_create },
    { "run.list", s_list },
    { "run.get", s_get },
    { "run.stop", s_stop },
    { "run.resume", s_resume },
    { "run.evaluate", s_evaluate },
    { NULL, NULL }
};

const td_actor_spec_t td_trainer_actor = {
    .name = "trainer",
    .service = "train",
    .needs_db = true,
    .verbs = s_verbs,
    .init = s_init,
    .fini = s_fini,
    .tick = s_tick,
    .tick_ms = S_TICK_MS,
};
