/*  td_llm_grading — subjective answers graded by the org's model, with the question's scorecard.
 *
 *  Issue 7 §5: "evaluate a subjective answer against its scorecard — the grader uses this for
 *  subjective questions". The grader stores such an answer as 'pending' and owns its table
 *  (GRADER.md §3: answer.pending / answer.grade); this actor owns the models. So, every
 *  TUTORD_LLM_GRADE_MS (default 15000; 0 turns it off), this file asks the grader for a few
 *  pending answers, has each evaluated by `assist.evaluate` — sent through the broker like any
 *  other caller's request, with the system's trust and the learner and org named, so budgets,
 *  usage, fallbacks and validation are exactly those of the REST route — and records the grade
 *  with answer.grade: score = 100 × points / max points, passed at half the points or more,
 *  feedback = the per-criterion reasons, scores = the criteria. Every call is asynchronous
 *  (td_actor_call): the actor never waits.
 *
 *  An answer that cannot be evaluated now (the org uses the offline provider, the model is
 *  down, the budget is spent) stays pending and is not asked about again for S_RETRY_MS, so a
 *  pending answer never makes this loop spin; answer.grade finishes a row once, so two llm
 *  processes racing on one answer record one grade.
 */
#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include "td_actor_call.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_llm.h"

#define S_BATCH       5
#define S_RETRY_MS    (10 * 60 * 1000)
#define S_TIMEOUT_MS  180000

struct td_llm_grading {
    td_acall_t *calls;
    int interval_ms;
    int64_t next_ms;
    int in_flight;                  //  pending list + evaluations + grades not yet answered
    zhashx_t *later;                //  submission id -> (int64_t *) time it may be tried again
    msgpack_sbuffer system_auth;
};

typedef struct {
    char submission [40];
} s_job_t;

static td_llm_grading_t *
s_self (td_actor_t *actor)
{
    return td_llm_state (actor)->grading;
}

//  Send a request with the system's trust; the body is a JSON value (taken).
static int
s_send (td_actor_t *actor, const char *service, const char *type, json_t *body,
        td_acall_fn *fn, void *arg)
{
    td_llm_grading_t *self = s_self (actor);
    td_error_t err;
    int rc = td_llm_acall_json (self->calls, service, type, self->system_auth.data,
                                self->system_auth.size, body, S_TIMEOUT_MS, fn, arg, &err);
    if (rc == 0)
        self->in_flight++;
    else
        td_warn ("llm", NULL, "grading: cannot ask %s %s: %s", service, type, err.message);
    return rc;
}

static void
s_later (td_llm_grading_t *self, const char *submission)
{
    int64_t *when = malloc (sizeof *when);
    if (!when)
        return;
    *when = zclock_mono () + S_RETRY_MS;
    zhashx_update (self->later, submission, when);
}

static void
s_on_graded (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    td_llm_grading_t *self = s_self (actor);
    s_job_t *job = (s_job_t *) arg;
    if (self)
        self->in_flight--;
    int status = reply? td_msg_status (reply): 0;
    if (status == 200)
        td_info ("llm", NULL, "grading: answer %s graded", job->submission);
    else
    if (status != 409 && self)      //  409: somebody graded it first
        s_later (self, job->submission);
    if (!reply && err)
        td_warn ("llm", NULL, "grading: answer.grade for %s: %s", job->submission, err->message);
    free (job);
}

static void
s_on_evaluated (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    td_llm_grading_t *self = s_self (actor);
    s_job_t *job = (s_job_t *) arg;
    if (self)
        self->in_flight--;
    int status = reply? td_msg_status (reply): 0;
    json_t *eval = status == 200? td_mp_to_json (td_msg_body (reply), NULL): NULL;
    double total = json_number_value (json_object_get (eval, "total"));
    double max = json_number_value (json_object_get (eval, "max_total"));
    if (!self || !eval || !(max > 0) || total < 0 || total > max) {
        if (self)
            s_later (self, job->submission);
        if (status && status != 200)
            td_info ("llm", NULL, "grading: answer %s not evaluated now (%d %s); later",
                     job->submission, status, td_msg_error_message (reply));
        else
        if (!reply && err)
            td_warn ("llm", NULL, "grading: evaluating %s: %s", job->submission, err->message);
        json_decref (eval);
        free (job);
        return;
    }
    //  the reasons, one line per criterion, as the learner's feedback
    json_t *criteria = json_object_get (eval, "criteria");
    size_t i;
    json_t *c;
    char *feedback = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&feedback, &len);
    json_array_foreach (criteria, i, c)
        if (f)
            fprintf (f, "%s%s: %g/%g. %s", i? "\n": "",
                     json_string_value (json_object_get (c, "criterion")),
                     json_number_value (json_object_get (c, "points")),
                     json_number_value (json_object_get (c, "max_points")),
                     json_string_value (json_object_get (c, "reason"))?
                     json_string_value (json_object_get (c, "reason")): "");
    if (f)
        fclose (f);
    if (feedback && len > 19000)
        feedback [19000] = 0;
    json_t *grade = json_pack ("{s:s, s:f, s:b, s:s, s:O}", "submission_id", job->submission,
                               "score", 100.0 * total / max, "passed", total * 2 >= max,
                               "feedback", feedback? feedback: "", "scores", criteria);
    free (feedback);
    json_decref (eval);
    if (s_send (actor, "grade", "answer.grade", grade, s_on_graded, job) != 0) {
        s_later (self, job->submission);
        free (job);
    }
}

static void
s_on_pending (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    (void) arg;
    td_llm_grading_t *self = s_self (actor);
    if (!self)
        return;
    self->in_flight--;
    if (!reply || td_msg_status (reply) != 200) {
        if (!reply && err && err->code != TD_ERR_UNAVAILABLE)
            td_warn ("llm", NULL, "grading: answer.pending: %s", err->message);
        return;
    }
    json_t *list = td_mp_to_json (td_msg_body (reply), NULL);
    size_t i;
    json_t *p;
    int64_t now = zclock_mono ();
    json_array_foreach (json_object_get (list, "items"), i, p) {
        const char *sub = json_string_value (json_object_get (p, "submission_id"));
        const char *item = json_string_value (json_object_get (p, "item_id"));
        const json_t *answer = json_object_get (p, "answer");
        int64_t *when = sub? (int64_t *) zhashx_lookup (self->later, sub): NULL;
        if (!sub || strlen (sub) >= sizeof ((s_job_t *) 0)->submission || !item
        ||  !json_is_string (answer) || (when && *when > now))
            continue;
        s_job_t *job = calloc (1, sizeof *job);
        if (!job)
            break;
        snprintf (job->submission, sizeof job->submission, "%s", sub);
        json_t *body = json_pack ("{s:{s:s, s:O, s:O, s:O}}", "body", "item_id", item,
                                  "answer", answer,
                                  "user_id", json_object_get (p, "user_id"),
                                  "org_id", json_object_get (p, "org_id"));
        if (s_send (actor, "llm", "assist.evaluate", body, s_on_evaluated, job) != 0) {
            s_later (self, sub);
            free (job);
        }
    }
    json_decref (list);
}

static void
s_ready (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    td_llm_grading_t *self = s_self (actor);
    if (self)
        td_acall_dispatch (self->calls, actor);
}

static void
s_free_time (void **item)
{
    free (*item);
    *item = NULL;
}

int
td_llm_grading_start (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    const char *v = getenv ("TUTORD_LLM_GRADE_MS");
    char *end = NULL;
    long ms = v && *v? strtol (v, &end, 10): 15000;
    if (v && *v && (*end || ms < 0 || ms > 86400000)) {
        td_warn ("llm", NULL, "TUTORD_LLM_GRADE_MS='%s' is not 0..86400000; using 15000", v);
        ms = 15000;
    }
    if (ms == 0)
        return 0;                   //  off: subjective answers wait for another grader
    td_llm_grading_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    llm->grading = self;
    self->interval_ms = (int) ms;
    self->next_ms = zclock_mono () + ms;
    self->later = zhashx_new ();
    msgpack_sbuffer_init (&self->system_auth);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->system_auth, msgpack_sbuffer_write);
    self->calls = td_acall_new (td_config_broker_endpoint (td_actor_config (actor)), "llm");
    if (!self->later || !self->calls || msgpack_pack_map (&pk, 1)
    ||  td_mp_pack_kv_str (&pk, "kind", "system")
    ||  td_actor_watch (actor, td_acall_sock (self->calls), s_ready) != 0)
        return -1;
    zhashx_set_destructor (self->later, s_free_time);
    return 0;
}

void
td_llm_grading_tick (td_actor_t *actor)
{
    td_llm_grading_t *self = s_self (actor);
    if (!self)
        return;
    td_acall_expire (self->calls, actor);
    int64_t now = zclock_mono ();
    if (now < self->next_ms || self->in_flight > 0)
        return;
    self->next_ms = now + self->interval_ms;
    //  forget retry times that have passed, so the table stays small
    zlistx_t *done = zlistx_new ();
    for (int64_t *when = (int64_t *) zhashx_first (self->later); when && done;
         when = (int64_t *) zhashx_next (self->later))
        if (*when <= now)
            zlistx_add_end (done, (void *) zhashx_cursor (self->later));
    for (const char *k = done? (const char *) zlistx_first (done): NULL; k;
         k = (const char *) zlistx_next (done))
        zhashx_delete (self->later, k);
    zlistx_destroy (&done);
    s_send (actor, "grade", "answer.pending", json_pack ("{s:i}", "limit", S_BATCH),
            s_on_pending, NULL);
}

void
td_llm_grading_stop (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_grading_t *self = llm? llm->grading: NULL;
    if (!self)
        return;
    td_acall_destroy (&self->calls, actor);     //  callbacks run once more, with self still set
    llm->grading = NULL;
    zhashx_destroy (&self->later);
    msgpack_sbuffer_destroy (&self->system_auth);
    free (self);
}
