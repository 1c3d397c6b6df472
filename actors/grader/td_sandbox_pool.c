/*  td_sandbox_pool — one-shot boxes prepared ahead, torn down after the answer.
 *
 *  Why: a one-shot run used to pay, on its critical path, everything around the learner's
 *  program: cgroup mkdir + limits + the move of init (on v1 the move may wait for an RCU grace
 *  period), clone into six new namespaces, uid/gid maps, the tmpfs root with its read-only binds,
 *  /proc, pivot_root; and afterwards init's exit with the namespaces' tear-down, the wait for it
 *  and the cgroups' rmdir. None of that depends on the run. So a thread of ours keeps a few boxes
 *  (TUTORD_SANDBOX_POOL, default 2, at most 8, 0 = off) made up to the point where the run
 *  begins: init is pid 1 of its namespaces, in its cgroups (default limits), mapped, pivoted into
 *  its read-only root, and blocked in recvmsg on its job socket. td_sandbox_run takes one, sets
 *  the run's cgroup limits when they differ, and sends the job (argv, rlimits, the /work size,
 *  the files as sealed memfds, the stdin memfd and the three pipes); init mounts /work, writes the
 *  files, forks the program, which sets its rlimits, drops to the learner's uid, sets
 *  no_new_privs and installs the seccomp filter right before exec — exactly as in a box made on
 *  the spot (td_sandbox_child.c). The supervisor answers once the report is whole; the box's
 *  exit, the wait for it and the rmdir of its cgroups happen here, after the answer. The thread
 *  refills while no run it served is in flight (or when it is empty): a box costs ~2 ms of CPU,
 *  which on 2 cores would otherwise slow the very run that took the last one.
 *
 *  Guarantees kept per run: a box serves exactly one job (taking removes it from the pool under
 *  the lock; its job socket is closed by both sides once the job is sent: init cannot take a
 *  second one); a box is made exactly like a box made on the spot, by the same clone and setup
 *  code, before any learner code exists; its seccomp filter, rlimits and credentials are the
 *  job's and are set in the program after the job arrived. A box that died while waiting is
 *  discarded at take (its pidfd is readable) and the run builds its own. Boxes die with the
 *  thread that made them (PR_SET_PDEATHSIG) and are killed, reaped and their cgroups removed
 *  at td_sandbox_destroy.
 *
 *  What the pool costs: each prepared init is a copy-on-write image of the server (a few
 *  hundred kB of touched pages each, charged to its cgroup), and the refill thread's CPU, off
 *  the runs' path but on the same cores.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "td_sandbox_int.h"

#define TD_POOL_MAX 8
#define TD_POOL_BACKOFF_MS 200      //  after a box could not be made
#define TD_POOL_EXIT_WAIT_MS 2000   //  an answered box's init has this long to exit by itself

typedef struct {
    td_sbx_box_t box;
    bool kill;
} s_retired_t;

struct td_sbx_pool {
    td_sandbox_t *sandbox;
    int size;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;            //  the thread: a box was taken or retired, or stop
    pthread_cond_t idle;            //  flush: every retired box is gone
    bool stop;
    bool paused;
    td_sbx_box_t ready [TD_POOL_MAX];
    int nready;
    s_retired_t *retired;
    size_t nretired, cap;
    int tearing;                    //  boxes being torn down outside the lock
    bool making;                    //  a box is being made outside the lock
    bool failing;                   //  the last box could not be made
    int active;                     //  boxes taken and not yet retired (runs in flight)
    uint64_t served, made, seq;
    td_sbx_plan_t *plan;            //  the prepared boxes' plan (this thread only)
};

static void
s_box_reset (td_sbx_box_t *box)
{
    memset (box, 0, sizeof *box);
    box->pid = -1;
    box->pidfd = box->ctl = -1;
}

//  Reap init, close what is left, remove the cgroups.
static void
s_teardown (td_sbx_box_t *box, bool kill)
{
    if (box->ctl >= 0)
        close (box->ctl);
    if (box->pid > 0) {
        struct pollfd pfd = { box->pidfd, POLLIN, 0 };
        if (kill || poll (&pfd, 1, TD_POOL_EXIT_WAIT_MS) != 1)
            syscall (SYS_pidfd_send_signal, box->pidfd, SIGKILL, NULL, 0);
        while (waitpid (box->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (box->pidfd >= 0)
        close (box->pidfd);
    td_cg_destroy (&box->cg);
    s_box_reset (box);
}

//  Make one box; 0 with *box filled.
static int
s_make (td_sbx_pool_t *self, td_sbx_box_t *box)
{
    s_box_reset (box);
    int sp [2];
    if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
        return -1;
    char name [64];
    snprintf (name, sizeof name, "p%d-%" PRIu64, (int) getpid (), self->seq++);
    td_limits_t dflt;
    td_limits_default (&dflt);
    td_error_t err;
    if (td_cg_create (&self->sandbox->cg, &box->cg, name, &dflt) != 0) {
        td_cg_destroy (&box->cg);
        close (sp [0]);
        close (sp [1]);
        return -1;
    }
    self->plan->fd_ctl = sp [1];
    box->pid = td_sbx_spawn (self->plan, &box->cg, &box->pidfd, &err);
    self->plan->fd_ctl = -1;
    close (sp [1]);
    if (box->pid < 0) {
        close (sp [0]);
        td_cg_destroy (&box->cg);
        s_box_reset (box);
        return -1;
    }
    box->ctl = sp [0];
    return 0;
}

static void s_retire (td_sbx_pool_t *self, td_sbx_box_t *box, bool kill, bool served);

static void
s_wait_ms (td_sbx_pool_t *self, int ms)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long) (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait (&self->wake, &self->lock, &until);
}

static void *
s_thread (void *arg)
{
    td_sbx_pool_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (!self->stop) {
        //  Paused, the pool stops serving, not refilling. While a run it served is in flight
        //  the pool waits (a box is made in ~2 ms of CPU: on 2 cores it would slow that run)
        //  unless it is empty.
        bool refill = self->nready < self->size && (self->active == 0 || self->nready == 0);
        //  An empty pool first (the next run waits for it), else the tear-downs first.
        if (self->nretired > 0 && !(refill && self->nready == 0)) {
            s_retired_t r = self->retired [--self->nretired];
            self->tearing++;
            pthread_mutex_unlock (&self->lock);
            s_teardown (&r.box, r.kill);
            pthread_mutex_lock (&self->lock);
            self->tearing--;
            if (self->nretired == 0 && self->tearing == 0)
                pthread_cond_broadcast (&self->idle);
            continue;
        }
        if (refill) {
            td_sbx_box_t box;
            self->making = true;
            pthread_mutex_unlock (&self->lock);
            int rc = s_make (self, &box);
            pthread_mutex_lock (&self->lock);
            self->making = false;
            self->failing = rc != 0;
            pthread_cond_broadcast (&self->idle);
            if (rc == 0) {
                self->made++;
                if (self->nready < TD_POOL_MAX && !self->stop) {
                    self->ready [self->nready++] = box;
                    pthread_cond_broadcast (&self->idle);
                }
                else {
                    pthread_mutex_unlock (&self->lock);
                    s_teardown (&box, true);
                    pthread_mutex_lock (&self->lock);
                }
            }
            else
                s_wait_ms (self, TD_POOL_BACKOFF_MS);
            continue;
        }
        pthread_cond_wait (&self->wake, &self->lock);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

td_sbx_pool_t *
td_sbx_pool_start (td_sandbox_t *sandbox, int size)
{
    if (size <= 0)
        return NULL;
    td_sbx_pool_t *self = calloc (1, sizeof *self);
    td_sbx_plan_t *plan = calloc (1, sizeof *plan);
    if (!self || !plan) {
        free (self);
        free (plan);
        return NULL;
    }
    self->sandbox = sandbox;
    self->size = size > TD_POOL_MAX? TD_POOL_MAX: size;
    self->plan = plan;
    //  The generic part of a plan: the root, binds, links; the job brings the rest.
    td_file_t none = { .name = "main.py", .data = "", .size = 0 };
    td_run_spec_t spec = { .language = TD_LANG_PYTHON, .files = &none, .file_count = 1 };
    td_limits_default (&spec.limits);
    td_error_t err;
    if (td_sbx_plan_init (sandbox, plan, &spec, TD_SBX_PREPARED, &err) != 0) {
        free (plan);
        free (self);
        return NULL;
    }
    plan->files = NULL;
    plan->nfiles = 0;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    pthread_cond_init (&self->idle, NULL);
    if (pthread_create (&self->thread, NULL, s_thread, self) != 0) {
        pthread_cond_destroy (&self->idle);
        pthread_cond_destroy (&self->wake);
        pthread_mutex_destroy (&self->lock);
        free (plan);
        free (self);
        return NULL;
    }
    return self;
}

void
td_sbx_pool_stop (td_sbx_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_sbx_pool_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stop = true;
    pthread_cond_broadcast (&self->wake);
    pthread_mutex_unlock (&self->lock);
    pthread_join (self->thread, NULL);
    for (int i = 0; i < self->nready; i++)
        s_teardown (&self->ready [i], true);
    for (size_t i = 0; i < self->nretired; i++)
        s_teardown (&self->retired [i].box, self->retired [i].kill);
    free (self->retired);
    pthread_cond_destroy (&self->idle);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self->plan);
    free (self);
    *self_p = NULL;
}

int
td_sbx_pool_take (td_sbx_pool_t *self, td_sbx_box_t *box)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->lock);
    int rc = -1;
    while (!self->paused && !self->stop && self->nready > 0) {
        *box = self->ready [0];
        memmove (&self->ready [0], &self->ready [1], sizeof self->ready [0] * (size_t) --self->nready);
        pthread_cond_signal (&self->wake);
        struct pollfd pfd = { box->pidfd, POLLIN, 0 };
        if (poll (&pfd, 1, 0) == 0) {
            self->served++;
            self->active++;
            rc = 0;
            break;
        }
        pthread_mutex_unlock (&self->lock);
        s_retire (self, box, true, false);           //  died while it waited
        pthread_mutex_lock (&self->lock);
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

//  served: the box was taken for a run (its run is over now).
static void
s_retire (td_sbx_pool_t *self, td_sbx_box_t *box, bool kill, bool served)
{
    pthread_mutex_lock (&self->lock);
    if (served && self->active > 0)
        self->active--;
    if (!self->stop && self->nretired == self->cap) {
        size_t cap = self->cap? self->cap * 2: 16;
        s_retired_t *grown = realloc (self->retired, cap * sizeof *grown);
        if (grown) {
            self->retired = grown;
            self->cap = cap;
        }
    }
    if (!self->stop && self->nretired < self->cap) {
        self->retired [self->nretired].box = *box;
        self->retired [self->nretired].kill = kill;
        self->nretired++;
        pthread_cond_signal (&self->wake);
        pthread_mutex_unlock (&self->lock);
    }
    else {
        pthread_cond_signal (&self->wake);
        pthread_mutex_unlock (&self->lock);
        s_teardown (box, kill);                      //  no room, or stopping: here and now
    }
    s_box_reset (box);
}

void
td_sbx_pool_retire (td_sbx_pool_t *self, td_sbx_box_t *box, bool kill)
{
    s_retire (self, box, kill, true);
}

void
td_sbx_pool_flush (td_sbx_pool_t *self)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    while (self->nretired > 0 || self->tearing > 0
           || (self->paused && (self->making || (self->nready < self->size && !self->failing))))
        pthread_cond_wait (&self->idle, &self->lock);
    pthread_mutex_unlock (&self->lock);
}

void
td_sbx_pool_pause (td_sbx_pool_t *self, bool paused)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    self->paused = paused;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
}

void
td_sbx_pool_counts (td_sbx_pool_t *self, int *ready, uint64_t *served, uint64_t *made)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    *ready = self->nready;
    *served = self->served;
    *made = self->made;
    pthread_mutex_unlock (&self->lock);
}

int
td_sbx_pool_pids (td_sbx_pool_t *self, int *pids, int max)
{
    if (!self)
        return 0;
    pthread_mutex_lock (&self->lock);
    int n = 0;
    for (int i = 0; i < self->nready && n < max; i++)
        pids [n++] = (int) self->ready [i].pid;
    pthread_mutex_unlock (&self->lock);
    return n;
}
