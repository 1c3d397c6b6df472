/*  td_sandbox_warm — keeps cgroup v1 migrations cheap: a tiny helper process moved back and forth
 *  between two empty memory cgroups every TD_WARM_PERIOD_MS.
 *
 *  Why: every move of a process into a cgroup takes the kernel's global cgroup_threadgroup_rwsem
 *  for writing. That is a per-CPU rwsem: after a spell without writers it returns to its fast
 *  reader mode, and the next writer waits for an RCU grace period to leave it — 5–16 ms here,
 *  which was the whole one-shot overhead over the bare interpreter (tools/bench/README.md). A
 *  writer within the last grace period pays 0.02–0.05 ms. Measured on this host: moving a helper
 *  every 2–16 ms keeps a run's attach at ~0.05 ms (p90 0.07); every 30 ms no longer does. So a
 *  thread moves the helper every 10 ms: about 100 writes of a pid a second, ~0.3% of a core, and
 *  every fork/exit on the host takes the rwsem's (still cheap) shared-counter path meanwhile.
 *  cgroup v2 does not need this: CLONE_INTO_CGROUP places a child without a migration
 *  (td_sbx_clone); the keeper starts only on v1. TUTORD_SANDBOX_WARM=0 turns it off. With
 *  prepared boxes (td_sandbox_pool.c) the move is off the runs' path anyway; the keeper still
 *  keeps the pool's refills and the sessions' per-test moves cheap.
 *
 *  Safety: the helper is forked from the keeper thread and does nothing but pause(); it holds no
 *  learner code, dies with the keeper thread (PR_SET_PDEATHSIG) and is killed and reaped when
 *  the sandbox is destroyed; its two cgroups ("w<pid>-a", "w<pid>-b" under our memory root) are
 *  removed then, or by the next start's sweep if the process crashed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "td_sandbox_int.h"

#define TD_WARM_PERIOD_MS   10

struct td_sbx_warm {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    bool running;                   //  the thread exists
    atomic_bool paused;             //  td_sandbox_keep_warm (..., false)
    char dirs [2][TD_SBX_PATH + 64];
    _Atomic uint64_t moves;
};

static int
s_write_pid (const char *dir, pid_t pid)
{
    char path [TD_SBX_PATH + 96], value [24];
    snprintf (path, sizeof path, "%s/cgroup.procs", dir);
    int n = snprintf (value, sizeof value, "%d", (int) pid);
    FILE *f = fopen (path, "we");
    if (!f)
        return -1;
    int rc = fwrite (value, 1, (size_t) n, f) == (size_t) n? 0: -1;
    if (fclose (f) != 0)
        rc = -1;
    return rc;
}

static void *
s_keeper (void *arg)
{
    td_sbx_warm_t *self = (td_sbx_warm_t *) arg;
    pid_t parent = getpid ();
    pid_t helper = fork ();
    if (helper == 0) {
        //  The helper: nothing but waiting, killed with the keeper thread at the latest.
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (0);
        signal (SIGTERM, SIG_DFL);
        signal (SIGINT, SIG_DFL);
        for (;;)
            pause ();
    }
    int turn = 0;
    pthread_mutex_lock (&self->lock);
    while (helper > 0 && !self->stop) {
        pthread_mutex_unlock (&self->lock);
        if (!atomic_load (&self->paused) && s_write_pid (self->dirs [turn], helper) == 0) {
            atomic_fetch_add (&self->moves, 1);
            turn ^= 1;
        }
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_nsec += TD_WARM_PERIOD_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock (&self->lock);
        if (!self->stop)
            pthread_cond_timedwait (&self->wake, &self->lock, &until);
    }
    pthread_mutex_unlock (&self->lock);
    if (helper > 0) {
        kill (helper, SIGKILL);
        while (waitpid (helper, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    return NULL;
}

static void
s_rmdir_retry (const char *dir)
{
    for (int i = 0; i < 200 && dir [0]; i++) {
        if (rmdir (dir) == 0 || errno == ENOENT)
            return;
        struct timespec ts = { 0, 5000000 };
        nanosleep (&ts, NULL);
    }
}

td_sbx_warm_t *
td_sbx_warm_start (const td_cg_root_t *root)
{
    const char *env = getenv ("TUTORD_SANDBOX_WARM");
    if (root->version != 1 || !root->mem [0] || (env && strcmp (env, "0") == 0))
        return NULL;
    td_sbx_warm_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    for (int i = 0; i < 2; i++) {
        snprintf (self->dirs [i], sizeof self->dirs [i], "%s/w%d-%c", root->mem, (int) getpid (),
                  i? 'b': 'a');
        if (mkdir (self->dirs [i], 0755) != 0 && errno != EEXIST) {
            self->dirs [i][0] = 0;
            td_sbx_warm_stop (&self);
            return NULL;
        }
    }
    if (pthread_create (&self->thread, NULL, s_keeper, self) != 0) {
        td_sbx_warm_stop (&self);
        return NULL;
    }
    self->running = true;
    return self;
}

void
td_sbx_warm_stop (td_sbx_warm_t **self_p)
{
    td_sbx_warm_t *self = self_p? *self_p: NULL;
    if (!self)
        return;
    if (self->running) {
        pthread_mutex_lock (&self->lock);
        self->stop = true;
        pthread_cond_signal (&self->wake);
        pthread_mutex_unlock (&self->lock);
        pthread_join (self->thread, NULL);
    }
    for (int i = 0; i < 2; i++)
        s_rmdir_retry (self->dirs [i]);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void
td_sbx_warm_pause (td_sbx_warm_t *self, bool paused)
{
    if (self)
        atomic_store (&self->paused, paused);
}

uint64_t
td_sbx_warm_moves (const td_sbx_warm_t *self)
{
    return self? atomic_load (&((td_sbx_warm_t *) self)->moves): 0;
}
