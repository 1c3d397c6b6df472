/*  td_train_worker — the trainer's worker threads (see td_train_worker.h). */
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "td_log.h"
#include "td_train_worker.h"

#define LOG "trainer"

typedef struct {
    int index;
    char endpoint [256];
    zactor_t *actor;
    char run [40];                  //  owned by the actor thread
    atomic_bool stop;               //  set by the actor thread, read by the worker
} s_worker_t;

struct td_train_pool {
    int n;
    s_worker_t *workers;
};

void
td_train_report_destroy (td_train_report_t **self_p)
{
    if (self_p && *self_p) {
        json_decref ((*self_p)->data);
        free ((*self_p)->checkpoint);
        free (*self_p);
        *self_p = NULL;
    }
}

void
td_train_start_destroy (td_train_start_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->checkpoint);
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_report (zsock_t *push, s_worker_t *w, td_train_report_kind_t kind, const char *run,
          const char *status, long step, json_t *data, uint8_t *cp, size_t cp_size)
{
    td_train_report_t *r = calloc (1, sizeof *r);
    if (!r) {
        json_decref (data);
        free (cp);
        return -1;
    }
    r->kind = kind;
    r->worker = w->index;
    snprintf (r->run_id, sizeof r->run_id, "%s", run);
    snprintf (r->status, sizeof r->status, "%s", status? status: "");
    r->step = step;
    r->data = data;
    r->checkpoint = cp;
    r->checkpoint_size = cp_size;
    if (zsock_send (push, "p", r) != 0) {
        td_train_report_destroy (&r);
        return -1;
    }
    return 0;
}

static int64_t
s_now_ms (void)
{
    return zclock_mono ();
}

//  Train one run to its end, a stop, or a failure.
static void
s_train (s_worker_t *w, zsock_t *push, td_train_start_t *st)
{
    td_ppo_t *ppo = td_ppo_new (st->job.env, &st->job.cfg);
    if (!ppo) {
        s_report (push, w, TD_TRAIN_FINISHED, st->run_id, "failed", 0,
                  json_pack ("{s:s}", "error", "the trainer could not be set up"), NULL, 0);
        return;
    }
    if (st->checkpoint && td_ppo_load (ppo, st->checkpoint, st->checkpoint_size) != 0) {
        td_warn (LOG, NULL, "run %s: its checkpoint does not fit; starting it afresh", st->run_id);
        td_ppo_destroy (&ppo);
        ppo = td_ppo_new (st->job.env, &st->job.cfg);
        if (!ppo) {
            s_report (push, w, TD_TRAIN_FINISHED, st->run_id, "failed", 0,
                      json_pack ("{s:s}", "error", "the trainer could not be set up"), NULL, 0);
            return;
        }
    }
    int64_t last_cp = s_now_ms ();
    td_ppo_metrics_t m = { 0 };
    bool stopped = false;
    while (!td_ppo_done (ppo)) {
        if (atomic_load (&w->stop)) {
            stopped = true;
            break;
        }
        if (td_ppo_update (ppo, &m) != 0)
            break;
        s_report (push, w, TD_TRAIN_METRICS, st->run_id, NULL, m.step, td_train_metrics_json (&m),
                  NULL, 0);
        if (s_now_ms () - last_cp >= st->checkpoint_ms && !td_ppo_done (ppo)) {
            uint8_t *cp;
            size_t size;
            if (td_ppo_save (ppo, &cp, &size) == 0)
                s_report (push, w, TD_TRAIN_CHECKPOINT, st->run_id, NULL, m.step, NULL, cp, size);
            last_cp = s_now_ms ();
        }
    }
    uint8_t *cp = NULL;
    size_t size = 0;
    if (td_ppo_save (ppo, &cp, &size) != 0)
        cp = NULL, size = 0;
    json_t *final = NULL;
    if (!stopped) {
        int n = st->eval_episodes > 0? st->eval_episodes: 10;
        double *rewards = calloc ((size_t) n, sizeof (double));
        if (rewards && td_ppo_evaluate (ppo, n, st->job.cfg.seed + 1000003u, rewards, NULL,
                                        NULL) == 0) {
            json_t *list = json_array ();
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += rewards [i];
                json_array_append_new (list, json_real (rewards [i]));
            }
            final = json_pack ("{s:i, s:f, s:o, s:b}", "episodes", n, "mean_reward", sum / n,
                               "rewards", list, "solved",
                               sum / n >= td_env_find (st->job.env)->solved_reward);
        }
        free (rewards);
    }
    s_report (push, w, TD_TRAIN_FINISHED, st->run_id, stopped? "stopped": "done", m.step, final,
              cp, size);
    td_ppo_destroy (&ppo);
}

static void
s_worker (zsock_t *pipe, void *arg)
{
    s_worker_t *w = (s_worker_t *) arg;
    //  below the rest of tutord: on Linux a thread's nice value is its own
    if (setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10) != 0)
        td_warn (LOG, NULL, "worker %d cannot lower its priority", w->index);
    zsock_t *push = zsock_new_push (w->endpoint);
    zsock_signal (pipe, 0);
    if (!push) {
        td_error (LOG, NULL, "worker %d cannot connect to %s", w->index, w->endpoint);
        return;
    }
    while (true) {
        char *command = NULL;
        void *job = NULL;
        if (zsock_recv (pipe, "sp", &command, &job) != 0 || !command || streq (command, "$TERM")) {
            //  a job handed over just before $TERM is never run
            zstr_free (&command);
            break;
        }
        td_train_start_t *st = (td_train_start_t *) job;
        if (streq (command, "START") && st)
            s_train (w, push, st);
        td_train_start_destroy (&st);
        zstr_free (&command);
    }
    zsock_destroy (&push);
}

td_train_pool_t *
td_train_pool_new (int n, const char *endpoint)
{
    td_train_pool_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->workers = calloc ((size_t) n, sizeof (s_worker_t));
    if (!self->workers) {
        free (self);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        s_worker_t *w = &self->workers [i];
        w->index = i;
        snprintf (w->endpoint, sizeof w->endpoint, "%s", endpoint);
        atomic_init (&w->stop, false);
        w->actor = zactor_new (s_worker, w);
        if (!w->actor) {
            td_train_pool_destroy (&self);
            return NULL;
        }
        self->n++;
    }
    return self;
}

void
td_train_pool_destroy (td_train_pool_t **self_p)
{
    td_train_pool_t *self = self_p? *self_p: NULL;
    if (!self)
        return;
    for (int i = 0; i < self->n; i++)
        atomic_store (&self->workers [i].stop, true);
    for (int i = 0; i < self->n; i++)
        zactor_destroy (&self->workers [i].actor);      //  $TERM after the current update
    free (self->workers);
    free (self);
    *self_p = NULL;
}

int
td_train_pool_size (const td_train_pool_t *self)
{
    return self->n;
}

int
td_train_pool_free_worker (const td_train_pool_t *self)
{
    for (int i = 0; i < self->n; i++)
        if (!self->workers [i].run [0])
            return i;
    return -1;
}

const char *
td_train_pool_run (const td_train_pool_t *self, int worker)
{
    return self->workers [worker].run;
}

int
td_train_pool_start (td_train_pool_t *self, int worker, td_train_start_t *start)
{
    s_worker_t *w = &self->workers [worker];
    atomic_store (&w->stop, false);
    snprintf (w->run, sizeof w->run, "%s", start->run_id);
    if (zsock_send (zactor_sock (w->actor), "sp", "START", start) != 0) {
        w->run [0] = 0;
        td_train_start_destroy (&start);
        return -1;
    }
    return 0;
}

int
td_train_pool_stop (td_train_pool_t *self, const char *run_id)
{
    for (int i = 0; i < self->n; i++)
        if (streq (self->workers [i].run, run_id)) {
            atomic_store (&self->workers [i].stop, true);
            return 0;
        }
    return -1;
}

void
td_train_pool_release (td_train_pool_t *self, int worker)
{
    if (worker >= 0 && worker < self->n)
        self->workers [worker].run [0] = 0;
}
