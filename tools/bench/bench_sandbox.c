/*  bench_sandbox — what the learner-code sandbox costs, against the bare interpreter and bwrap.
 *
 *  Why: issue 5 sets goals (≤ 2 ms per run over the floor; ≤ 3 ms per test in a 20-test
 *  submission with the warm fork server) and asks for throughput on this 2-core machine. All
 *  in one run, interleaved in rounds so a noisy neighbour hurts every series alike:
 *    floor    fork + exec of `$PY -S -I -c pass`, waitpid                (no isolation)
 *    bwrap    the same under bubblewrap --unshare-all (read-only /usr, proc, dev, tmpfs /tmp)
 *    run      td_sandbox_run of a Python file holding `pass` (namespaces, cgroups, seccomp, …)
 *             from a box prepared ahead (td_sandbox_pool.c: set-up and tear-down off the path)
 *    spot     the same with the pool paused: the box made on the spot (the previous behaviour)
 *    session  td_sandbox_session_open + 20 × td_sandbox_session_run + close, per test
 *    test     td_sandbox_session_run alone (steady state inside an open session)
 *    attach   the cgroup part alone: mkdir the run's cgroups, move a waiting child in, rmdir
 *             (the move is where cgroup v1 may wait for an RCU grace period)
 *  On cgroup v1 the one-shot run and the attach after idle are measured twice in the same
 *  rounds: with the sandbox's warm keeper paused (the old behaviour) and running
 *  (td_sandbox_warm.c: a helper moved between two cgroups every 10 ms keeps moves cheap).
 *  then throughput with 2 threads: one-shot runs per second, and 20-test submissions per second
 *  through sessions.
 *
 *  One-shot series print p50 and p99 and both over the floor's, and "paired": each round's run
 *  minus the same round's floor run (load that drifts over the run cancels out); load averages
 *  are printed at the start and the end (other work on the machine shows in every series).
 *
 *  Usage (as root): bench_sandbox [-n runs per series, default 60] [-t seconds of throughput, 5]
 *  or tools/bench/bench_sandbox.sh [same options]: builds Release and runs it.
 *
 *  The sandbox comes from libtdactors, as the grader uses it.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "grader/td_sandbox.h"
#include "grader/td_sandbox_int.h"     //  the cgroup-move series measures an internal step

#include <getopt.h>
#include <pthread.h>

static const char *s_py = "/usr/bin/python3";

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

typedef struct {
    const char *name;
    double *ms;
    int n;
    int failures;
} s_series_t;

static double
s_pct (s_series_t *s, double p)
{
    if (s->n == 0)
        return 0;
    qsort (s->ms, (size_t) s->n, sizeof (double), s_cmp);
    int i = (int) (p * (s->n - 1) + 0.5);
    return s->ms [i];
}

static int
s_spawn_wait (char *const argv [])
{
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open ("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2 (null, 0); dup2 (null, 1); dup2 (null, 2);
        }
        execv (argv [0], argv);
        _exit (127);
    }
    int status;
    if (waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status) && WEXITSTATUS (status) == 0? 0: -1;
}

static char *s_floor_argv [8];
static char *s_bwrap_argv [32];

static int
s_one_floor (void)
{
    return s_spawn_wait (s_floor_argv);
}

static int
s_one_bwrap (void)
{
    return s_spawn_wait (s_bwrap_argv);
}

static td_sandbox_t *s_sb;
static td_run_spec_t s_spec;
static td_file_t s_file = { "main.py", "pass\n", 5, false };

static void
s_loadavg (char *buf, size_t size)
{
    snprintf (buf, size, "?");
    FILE *f = fopen ("/proc/loadavg", "r");
    if (!f)
        return;
    double a, b, c;
    if (fscanf (f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf (buf, size, "%.2f %.2f %.2f", a, b, c);
    fclose (f);
}

static int
s_one_run (void)
{
    td_run_result_t r;
    int rc = td_sandbox_run (s_sb, &s_spec, &r);
    if (rc == 0 && r.verdict != TD_VERDICT_ACCEPTED) {
        fprintf (stderr, "run: %s %s\n", td_verdict_name (r.verdict), r.message);
        rc = -1;
    }
    td_run_result_free (&r);
    return rc;
}

//  One 20-test submission through a session; returns ms per test, < 0 on failure.
static double
s_one_session (int tests, double *steady_ms)
{
    double t0 = s_now ();
    td_error_t err;
    td_sandbox_session_t *s = td_sandbox_session_open (s_sb, &s_spec, &err);
    if (!s) {
        fprintf (stderr, "session: %s\n", err.message);
        return -1;
    }
    double t1 = s_now ();
    int bad = 0;
    for (int i = 0; i < tests; i++) {
        td_run_result_t r;
        if (td_sandbox_session_run (s, "", 0, &r) != 0 || r.verdict != TD_VERDICT_ACCEPTED)
            bad++;
        td_run_result_free (&r);
    }
    double t2 = s_now ();
    td_sandbox_session_close (&s);
    double t3 = s_now ();
    if (steady_ms)
        *steady_ms = (t2 - t1) / tests;
    return bad? -1: (t3 - t0) / tests;
}

//  Create a run's cgroups, move a waiting child into them, remove them: ms for the move alone.
static double
s_one_attach (void)
{
    int p [2];
    if (pipe (p) != 0)
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        char c;
        close (p [1]);
        ssize_t r = read (p [0], &c, 1);
        _exit (r == 1? 0: 1);
    }
    close (p [0]);
    td_cg_t cg;
    char name [64];
    snprintf (name, sizeof name, "r%d-bench", (int) getpid ());
    double ms = -1;
    if (pid > 0 && td_cg_create (&s_sb->cg, &cg, name, &s_spec.limits) == 0) {
        double t0 = s_now ();
        if (td_cg_attach (&cg, pid) == 0)
            ms = s_now () - t0;
    }
    if (write (p [1], "x", 1) != 1)
        ms = -1;
    close (p [1]);
    if (pid > 0)
        waitpid (pid, NULL, 0);
    td_cg_destroy (&cg);
    return ms;
}

typedef struct {
    int kind;                       //  0 one-shot runs, 1 20-test submissions, 2 one-shot
                                    //  runs with the pool paused
    double seconds;
    long done;
    long failed;
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    double end = s_now () + w->seconds * 1000;
    while (s_now () < end) {
        int ok = w->kind != 1? s_one_run () == 0: s_one_session (20, NULL) >= 0;
        if (ok)
            w->done++;
        else
            w->failed++;
    }
    return NULL;
}

static double
s_throughput (int kind, double seconds, long *failed)
{
    s_worker_t w [2] = { { kind, seconds, 0, 0 }, { kind, seconds, 0, 0 } };
    pthread_t t [2];
    double t0 = s_now ();
    for (int i = 0; i < 2; i++)
        if (pthread_create (&t [i], NULL, s_worker, &w [i]) != 0)
            return -1;
    for (int i = 0; i < 2; i++)
        pthread_join (t [i], NULL);
    double elapsed = (s_now () - t0) / 1000;
    *failed = w [0].failed + w [1].failed;
    return (double) (w [0].done + w [1].done) / elapsed;
}

int
main (int argc, char **argv)
{
    int n = 60;
    double seconds = 5;
    int opt;
    while ((opt = getopt (argc, argv, "n:t:")) != -1) {
        if (opt == 'n')
            n = atoi (optarg);
        else if (opt == 't')
            seconds = atof (optarg);
        else {
            fprintf (stderr, "usage: bench_sandbox [-n runs] [-t seconds]\n");
            return 2;
        }
    }
    if (n < 5)
        n = 5;
    const char *env = getenv ("TUTORD_PYTHON");
    if (env && *env)
        s_py = env;
    char *floor_argv [] = { (char *) s_py, "-S", "-I", "-c", "pass", NULL };
    memcpy (s_floor_argv, floor_argv, sizeof floor_argv);
    char *bwrap_argv [] = { "/usr/bin/bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib",
        "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--proc",
        "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--unshare-all", "--die-with-parent",
        (char *) s_py, "-S", "-I", "-c", "pass", NULL };
    memcpy (s_bwrap_argv, bwrap_argv, sizeof bwrap_argv);
    bool have_bwrap = access ("/usr/bin/bwrap", X_OK) == 0;

    td_error_t err;
    td_sandbox_config_t cfg = { .python = s_py };
    s_sb = td_sandbox_new (&cfg, &err);
    if (!s_sb) {
        fprintf (stderr, "td_sandbox_new: %s\n", err.message);
        return 1;
    }
    s_spec.language = TD_LANG_PYTHON;
    s_spec.files = &s_file;
    s_spec.file_count = 1;
    td_limits_default (&s_spec.limits);

    #define NSERIES 10
    s_series_t series [NSERIES] = {
        { "floor: fork+exec python -S -I -c pass", NULL, 0, 0 },
        { "bwrap --unshare-all ... python -S -I", NULL, 0, 0 },
        { "tutord one-shot, prepared box (pool)", NULL, 0, 0 },
        { "tutord session, 20 tests: per test", NULL, 0, 0 },
        { "tutord session_run (steady state)", NULL, 0, 0 },
        { "cgroup attach, after 50 ms idle", NULL, 0, 0 },
        { "cgroup attach, back-to-back", NULL, 0, 0 },
        { "  one-shot, box made on the spot, keeper paused", NULL, 0, 0 },
        { "  attach after 50 ms idle, keeper paused", NULL, 0, 0 },
        { "  one-shot, box made on the spot (before)", NULL, 0, 0 },
    };
    //  Per-round differences to the floor for the one-shot series (bwrap, pool, spot).
    s_series_t paired [NSERIES];
    memset (paired, 0, sizeof paired);
    for (int k = 1; k < NSERIES; k++)
        if (k == 1 || k == 2 || k == 7 || k == 9) {
            paired [k].name = series [k].name;
            paired [k].ms = calloc ((size_t) (n > 0? n: 1), sizeof (double));
            if (!paired [k].ms)
                return 1;
        }
    char load0 [64];
    s_loadavg (load0, sizeof load0);
    bool keeper = td_sandbox_keep_warm (s_sb, true);
    bool pool = td_sandbox_use_pool (s_sb, true);
    for (int i = 0; i < NSERIES; i++) {
        series [i].ms = calloc ((size_t) n, sizeof (double));
        if (!series [i].ms)
            return 1;
    }
    int sessions = n / 10 < 3? 3: n / 10;
    //  Warm-up: page cache, dentries, the interpreter's .pyc files.
    for (int i = 0; i < 5; i++) {
        s_one_floor ();
        if (have_bwrap)
            s_one_bwrap ();
        s_one_run ();
    }
    s_one_session (20, NULL);
    //  Interleaved rounds.
    int sess_done = 0;
    for (int i = 0; i < n; i++) {
        //  keeper paused for floor, bwrap and the "before" run (each round is ~30 ms: longer
        //  than a grace period without writers, so the rwsem is back in its fast mode)
        td_sandbox_keep_warm (s_sb, false);
        td_sandbox_use_pool (s_sb, false);
        double round [NSERIES];
        for (int k = 0; k < NSERIES; k++)
            round [k] = -1;
        double t0 = s_now ();
        if (s_one_floor () == 0)
            series [0].ms [series [0].n++] = round [0] = s_now () - t0;
        else
            series [0].failures++;
        if (have_bwrap) {
            t0 = s_now ();
            if (s_one_bwrap () == 0)
                series [1].ms [series [1].n++] = round [1] = s_now () - t0;
            else
                series [1].failures++;
        }
        if (keeper) {
            t0 = s_now ();
            if (s_one_run () == 0)
                series [7].ms [series [7].n++] = round [7] = s_now () - t0;
            else
                series [7].failures++;
            td_sandbox_keep_warm (s_sb, true);
            struct timespec settle = { 0, 15000000 };     //  the keeper's next move (10 ms)
            nanosleep (&settle, NULL);
        }
        t0 = s_now ();
        if (s_one_run () == 0)
            series [9].ms [series [9].n++] = round [9] = s_now () - t0;
        else
            series [9].failures++;
        //  The pool refilled meanwhile (paused, it only stops serving; it refills in the
        //  background during the rounds as it does between a server's runs).
        td_sandbox_use_pool (s_sb, true);
        if (pool) {
            t0 = s_now ();
            if (s_one_run () == 0)
                series [2].ms [series [2].n++] = round [2] = s_now () - t0;
            else
                series [2].failures++;
        }
        //  The same round's difference to the floor: load that drifts over the run cancels.
        for (int k = 1; k < NSERIES; k++)
            if (paired [k].ms && round [0] >= 0 && round [k] >= 0)
                paired [k].ms [paired [k].n++] = round [k] - round [0];
        if (sess_done < sessions && i % (n / sessions) == 0) {
            double steady;
            double per = s_one_session (20, &steady);
            if (per >= 0) {
                series [3].ms [series [3].n++] = per;
                series [4].ms [series [4].n++] = steady;
            }
            else
                series [3].failures++;
            sess_done++;
        }
    }
    //  The cgroup move alone, after an idle spell and back to back (see td_sandbox.c).
    td_sandbox_keep_warm (s_sb, false);
    for (int i = 0; keeper && i < n / 2; i++) {
        struct timespec idle = { 0, 50000000 };
        nanosleep (&idle, NULL);
        double a = s_one_attach ();
        if (a >= 0)
            series [8].ms [series [8].n++] = a;
        else
            series [8].failures++;
    }
    td_sandbox_keep_warm (s_sb, true);
    for (int i = 0; i < n / 2; i++) {
        struct timespec idle = { 0, 50000000 };
        nanosleep (&idle, NULL);
        double a = s_one_attach ();
        if (a >= 0)
            series [5].ms [series [5].n++] = a;
        else
            series [5].failures++;
    }
    for (int i = 0; i < n / 2; i++) {
        double a = s_one_attach ();
        if (a >= 0)
            series [6].ms [series [6].n++] = a;
        else
            series [6].failures++;
    }
    long f1 = 0, f2 = 0, f3 = 0;
    double tp_runs = s_throughput (0, seconds, &f1);
    td_sandbox_use_pool (s_sb, false);
    double tp_spot = pool? s_throughput (2, seconds, &f3): 0;
    td_sandbox_use_pool (s_sb, true);
    double tp_subs = s_throughput (1, seconds, &f2);
    int ready;
    uint64_t served, made;
    td_sandbox_pool_counts (s_sb, &ready, &served, &made);
    char load1 [64];
    s_loadavg (load1, sizeof load1);

    printf ("$ bench_sandbox -n %d -t %g   (python: %s, cgroup v%d, %ld cores, warm keeper %s, "
            "pool %s)\n", n, seconds, s_py, td_sandbox_cgroup_version (s_sb),
            sysconf (_SC_NPROCESSORS_ONLN), keeper? "on": "absent", pool? "on": "off");
    printf ("load average at start %s, at end %s\n", load0, load1);
    printf ("%-48s %5s %7s %7s %7s %7s %9s %9s %5s\n", "series", "n", "min ms", "p50 ms",
            "p90 ms", "p99 ms", "p50-floor", "p99-floor", "fail");
    double floor50 = s_pct (&series [0], 0.5), floor99 = s_pct (&series [0], 0.99);
    for (int i = 0; i < NSERIES; i++) {
        s_series_t *s = &series [i];
        if (s->n == 0 && s->failures == 0)
            continue;
        double p50 = s_pct (s, 0.5), p99 = s_pct (s, 0.99);
        char over50 [32] = "", over99 [32] = "";
        if (i == 1 || i == 2 || i == 7 || i == 9) {
            snprintf (over50, sizeof over50, "%+.2f", p50 - floor50);
            snprintf (over99, sizeof over99, "%+.2f", p99 - floor99);
        }
        printf ("%-48s %5d %7.2f %7.2f %7.2f %7.2f %9s %9s %5d\n", s->name, s->n, s_pct (s, 0.0),
                p50, s_pct (s, 0.9), p99, over50, over99, s->failures);
    }
    printf ("paired: the same round's run minus its floor run (drifting load cancels)\n");
    printf ("%-48s %5s %7s %7s %7s %7s\n", "series", "n", "min ms", "p50 ms", "p90 ms", "p99 ms");
    for (int k = 1; k < NSERIES; k++)
        if (paired [k].ms && paired [k].n > 0)
            printf ("%-48s %5d %+7.2f %+7.2f %+7.2f %+7.2f\n", paired [k].name, paired [k].n,
                    s_pct (&paired [k], 0.0), s_pct (&paired [k], 0.5), s_pct (&paired [k], 0.9),
                    s_pct (&paired [k], 0.99));
    printf ("throughput, 2 threads, %gs each:\n", seconds);
    printf ("  one-shot sandboxed runs (python pass), pool       %8.1f runs/s   (failures %ld)\n",
            tp_runs, f1);
    if (pool)
        printf ("  one-shot, boxes made on the spot (before)         %8.1f runs/s   (failures %ld)\n",
                tp_spot, f3);
    printf ("  20-test submissions through sessions              %8.1f subs/s   = %.0f tests/s (failures %ld)\n",
            tp_subs, tp_subs * 20, f2);
    printf ("pool: %" PRIu64 " runs served from %" PRIu64 " boxes made, %d ready at the end\n",
            served, made, ready);
    int stray = td_sandbox_stray_cgroups (s_sb);
    printf ("stray cgroup dirs after the bench: %d\n", stray);
    for (int i = 0; i < NSERIES; i++) {
        free (series [i].ms);
        free (paired [i].ms);
    }
    td_sandbox_destroy (&s_sb);
    return stray == 0? 0: 1;
}
