/*  td_srs_opt — the optimizer job (POST /api/v1/me/srs-settings/optimize, verb "optimize").
 *
 *  Why a job thread: fitting 21 weights replays the learner's log some thousands of times (a
 *  second or more); done in the actor's own thread it would stall every other srs request and the
 *  heartbeats. So the handler loads the log (the most recent TD_SRS_OPT_MAX_REVIEWS reviews), keeps
 *  the call, and hands a private copy to one job thread, which runs td_fsrs_fit (pure) and sends
 *  the job back over an inproc PUSH/PULL pair that the actor watches (td_actor_watch). Back in the
 *  actor's thread the fitted weights are stored (srs_settings.weights: every later review of the
 *  learner uses them) and the kept call is answered:
 *    {fitted, reviews, log_loss_before, log_loss_after, rmse_before, rmse_after, weights}
 *  One job at a time per actor (another request meanwhile: 409 with retry_after). With fewer
 *  than 512 scored reviews (py-fsrs's threshold) nothing is fitted: fitted false, the current
 *  scores, and `needed`. If the actor ends during a job, fini waits for the thread and answers
 *  the call 503; nothing was stored, so asking again is safe.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "srs/td_fsrs_opt.h"
#include "srs/td_srs.h"

#define TD_SRS_OPT_MAX_REVIEWS  "5000"
#define TD_SRS_OPT_EPOCHS       5

typedef struct td_srs_job {
    td_call_t *call;
    char user [TD_MAX_ID + 1];
    td_fsrs_rev_t *revs;
    td_fsrs_seq_t *seqs;
    int nseq, nrev;
    double w0 [TD_FSRS_WEIGHTS], w [TD_FSRS_WEIGHTS];
    td_fsrs_eval_t before, after;
    int rc;
    char endpoint [104];            //  ">" + the state's endpoint
    pthread_t thread;
} job_t;

typedef td_srs_state_t state_t;

static void
s_job_free (job_t **job_p)
{
    if (*job_p) {
        free ((*job_p)->revs);
        free ((*job_p)->seqs);
        free (*job_p);
        *job_p = NULL;
    }
}

static void *
s_job_run (void *arg)
{
    job_t *job = arg;
    job->rc = td_fsrs_fit (job->w0, job->seqs, job->nseq, TD_SRS_OPT_EPOCHS, job->w,
                           &job->before, &job->after);
    zsock_t *push = zsock_new_push (job->endpoint);
    if (push) {
        zsock_set_linger (push, 5000);
        zsock_send (push, "p", job);
        zsock_destroy (&push);
    }
    return NULL;
}

static json_t *
s_result (const job_t *job, bool fitted)
{
    json_t *w = json_array ();
    for (int i = 0; i < TD_FSRS_WEIGHTS; i++)
        json_array_append_new (w, json_real (fitted? job->w [i]: job->w0 [i]));
    json_t *out = json_pack ("{s:b, s:I, s:o}", "fitted", fitted, "reviews",
                             (json_int_t) job->before.n, "weights", w);
    if (job->before.n > 0) {
        json_object_set_new (out, "log_loss_before", json_real (job->before.log_loss));
        json_object_set_new (out, "rmse_before", json_real (job->before.rmse));
        json_object_set_new (out, "log_loss_after", json_real (job->after.log_loss));
        json_object_set_new (out, "rmse_after", json_real (job->after.rmse));
    }
    if (!fitted)
        json_object_set_new (out, "needed", json_integer (TD_FSRS_OPT_MIN_REVIEWS));
    return out;
}

//  The job is back: store the weights, answer the kept call.
static void
s_on_done (td_actor_t *self, zsock_t *sock)
{
    state_t *st = td_actor_state (self);
    void *ptr = NULL;
    if (zsock_recv (sock, "p", &ptr) != 0 || !ptr || !st || ptr != st->running)
        return;
    job_t *job = ptr;
    pthread_join (job->thread, NULL);
    st->running = NULL;
    if (job->rc != 0) {
        td_srs_reply (job->call, 200, s_result (job, false));
        s_job_free (&job);
        return;
    }
    char text [TD_FSRS_WEIGHTS * 26 + 4];
    size_t used = (size_t) snprintf (text, sizeof text, "{");
    for (int i = 0; i < TD_FSRS_WEIGHTS && used < sizeof text; i++)
        used += (size_t) snprintf (text + used, sizeof text - used, "%s%.17g", i? ",": "", job->w [i]);
    if (used < sizeof text)
        snprintf (text + used, sizeof text - used, "}");
    const char *params [] = { job->user, text };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (job->call),
        "INSERT INTO srs_settings (user_id, weights) VALUES ($1, $2::float8[])"
        " ON CONFLICT (user_id) DO UPDATE SET weights = excluded.weights, updated_at = now ()",
        2, params);
    if (!res)
        td_srs_db_down (job->call);
    else {
        PQclear (res);
        td_srs_reply (job->call, 200, s_result (job, true));
    }
    s_job_free (&job);
}

int
td_srs_optimize (td_actor_t *self, td_call_t *call)
{
    state_t *st = td_actor_state (self);
    char user [TD_MAX_ID + 1];
    if (!td_srs_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    if (!st)
        return td_srs_db_down (call);
    if (st->running) {
        td_call_error_retry (call, TD_ERR_CONFLICT, 5, NULL,
                             "an optimization is running; try again in a few seconds");
        return TD_ACTOR_OK;
    }
    td_srs_settings_t set;
    if (!td_srs_settings_load (self, td_call_rid (call), user, &set))
        return td_srs_db_down (call);
    const char *params [] = { user };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT card_id::text, round (extract (epoch FROM reviewed_at) * 1000)::bigint::text,"
        " rating::text FROM (SELECT * FROM srs_reviews WHERE user_id = $1"
        "   ORDER BY reviewed_at DESC, id DESC LIMIT " TD_SRS_OPT_MAX_REVIEWS ") r"
        " ORDER BY card_id, reviewed_at, id", 1, params);
    if (!res)
        return td_srs_db_down (call);
    int n = PQntuples (res);
    job_t *job = calloc (1, sizeof *job);
    if (job) {
        job->revs = calloc ((size_t) (n > 0? n: 1), sizeof *job->revs);
        job->seqs = calloc ((size_t) (n > 0? n: 1), sizeof *job->seqs);
    }
    if (!job || !job->revs || !job->seqs) {
        PQclear (res);
        s_job_free (&job);
        td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
        return TD_ACTOR_OK;
    }
    for (int r = 0; r < n; r++) {
        job->revs [r].t = strtoll (PQgetvalue (res, r, 1), NULL, 10);
        job->revs [r].rating = atoi (PQgetvalue (res, r, 2));
        if (r == 0 || strcmp (PQgetvalue (res, r, 0), PQgetvalue (res, r - 1, 0)) != 0)
            job->seqs [job->nseq++] = (td_fsrs_seq_t) { &job->revs [r], 0 };
        job->seqs [job->nseq - 1].n++;
    }
    PQclear (res);
    job->nrev = n;
    job->call = call;
    snprintf (job->user, sizeof job->user, "%s", user);
    memcpy (job->w0, set.fsrs.w, sizeof job->w0);
    snprintf (job->endpoint, sizeof job->endpoint, ">%s", st->endpoint);
    //  Few reviews: answer now, no thread.
    td_fsrs_eval_t e;
    if (td_fsrs_evaluate (job->w0, job->seqs, job->nseq, &e) != 0 || e.n < TD_FSRS_OPT_MIN_REVIEWS) {
        if (td_fsrs_evaluate (job->w0, job->seqs, job->nseq, &e) == 0)
            job->before = job->after = e;
        td_srs_reply (call, 200, s_result (job, false));
        s_job_free (&job);
        return TD_ACTOR_OK;
    }
    td_call_keep (call);
    st->running = job;
    if (pthread_create (&job->thread, NULL, s_job_run, job) != 0) {
        st->running = NULL;
        td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the optimizer could not start; try again");
        s_job_free (&job);
    }
    return TD_ACTOR_OK;
}

int
td_srs_init (td_actor_t *self)
{
    state_t *st = calloc (1, sizeof *st);
    if (!st)
        return -1;
    snprintf (st->endpoint, sizeof st->endpoint, "inproc://tutord-srs-opt-%p", (void *) st);
    char bind [104];
    snprintf (bind, sizeof bind, "@%s", st->endpoint);
    st->pull = zsock_new_pull (bind);
    if (!st->pull || td_actor_watch (self, st->pull, s_on_done) != 0
    ||  td_srs_items_init (self, st) != 0) {
        zsock_destroy (&st->pull);
        free (st);
        return -1;
    }
    td_actor_set_state (self, st);
    return 0;
}

void
td_srs_fini (td_actor_t *self)
{
    state_t *st = td_actor_state (self);
    if (!st)
        return;
    if (st->running) {
        pthread_join (st->running->thread, NULL);
        td_call_error (st->running->call, TD_ERR_UNAVAILABLE, NULL,
                       "the srs actor stopped during the optimization; ask again");
        s_job_free (&st->running);
    }
    td_srs_items_fini (self, st);
    zsock_destroy (&st->pull);
    free (st);
    td_actor_set_state (self, NULL);
}
