/*  td_sandbox — run learner code (Python, C) in a throw-away Linux sandbox.
 *
 *  Used by the grader actor (issue 5). One call, td_sandbox_run, takes a language, a few source
 *  files, stdin bytes and limits, and answers a verdict with exit code, signal, CPU and wall time,
 *  peak memory and the captured (capped, raw-byte) stdout and stderr. A session
 *  (td_sandbox_session_*) is the fast path: one warm, already-sandboxed Python interpreter that
 *  forks one child per test (see td_sandbox_zygote.c).
 *
 *  THREAT MODEL. Everything the learner sends (source, stdin, file names, sizes) and everything the
 *  learner's program does is hostile: it may fork without end, allocate without end, spin, sleep,
 *  print gigabytes or invalid UTF-8, leave children behind, read or write any path, open sockets,
 *  signal or trace any process, call any system call, and try to leave traps (symlinks, fds) for the
 *  host side. The host (this process, PostgreSQL, other learners' runs) must not be readable,
 *  writable, reachable or slowed beyond the limits. The kernel is trusted; /usr is trusted and
 *  visible read-only (it holds nothing secret).
 *
 *  INVARIANTS (each run, each session test):
 *   1. The learner's processes live in new user, pid, net, mount, ipc and uts namespaces; their
 *      host uid/gid is an otherwise unused id (TD_SANDBOX_UID_BASE + 1), they hold no capability,
 *      no_new_privs is set, and every supplementary group is dropped.
 *   2. Their file system is a fresh tmpfs root holding read-only binds of /usr (+ the merged-usr
 *      symlinks), four device nodes, a generated /etc, a fresh /proc of their own pid namespace,
 *      and /work: a size-limited tmpfs, the only writable place. Nothing else of the host exists.
 *   3. A seccomp allow-list filter is installed before exec; a call outside it is answered EPERM,
 *      the run is killed and reported as security_violation naming the call (user notification
 *      to the sandbox's init). Unknown architectures are killed outright.
 *   4. rlimits (CPU, AS, NPROC, FSIZE, NOFILE, CORE=0, STACK, MEMLOCK=0) and a memory + pids (+cpu
 *      accounting) control group per run bound resources; the supervisor kills the whole tree
 *      (SIGKILL to the namespace's init: the kernel then kills every process in the namespace) at
 *      the wall or CPU limit, or when a stream passes its output cap.
 *   5. After td_sandbox_run returns, no process of the learner is alive, and nothing of the box
 *      is read by the host through the file system (results come back through pipes only; the
 *      host never follows a path inside the box). A box made on the spot is gone too (init, its
 *      control groups, its tmpfs); a prepared box (td_sandbox_pool.c) answers once init has
 *      killed and reaped every learner process and sent its report, and its init's exit and the
 *      removal of its control groups follow in the pool's thread (td_sandbox_stray_cgroups
 *      waits for them). A prepared box serves exactly one run.
 *   6. The box's init is a copy-on-write image of this (server) process. The learner can never
 *      read it: another uid, non-dumpable, ptrace/process_vm_* outside the seccomp list; and it
 *      closes every inherited fd before anything else. The zygote (fast path) runs no learner
 *      code: it only compiles it, under the same seccomp filter. In a prepared box the program
 *      process waits for its job as such an image too (init's uid, non-dumpable, alone in its
 *      namespaces); exec replaces it before the learner's first instruction, and its memory
 *      cgroup's OOM killer takes the learner's processes first (oom_score_adj 1000), never init.
 *   7. Threading: td_sandbox_t is read-only after td_sandbox_new (but for an atomic run counter
 *      and, on cgroup v1, a keeper thread of its own: td_sandbox_warm.c);
 *      runs may go on concurrently from several threads. A session belongs to the thread that opened it (PR_SET_PDEATHSIG is bound
 *      to the creating thread: the box dies with it).
 *
 *  Needs root (or CAP_SYS_ADMIN + CAP_SETUID/SETGID in the initial user namespace) and a writable
 *  cgroup hierarchy: v1 (memory, pids, cpuacct) or v2 (memory, pids, cpu), detected at start.
 */
#ifndef TD_SANDBOX_H
#define TD_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "td_error.h"

#define TD_SANDBOX_UID_BASE 61000   //  box init = base, learner = base + 1 (host ids)

typedef enum {
    TD_LANG_PYTHON = 0,             //  files[0] is the script, run with cfg.python
    TD_LANG_C_COMPILE,              //  gcc files (*.c) -> result.artifact (the executable)
    TD_LANG_C_RUN,                  //  files[0] is an executable (from a compile), run it
} td_lang_t;

//  CONTRACT.md §3 order and names.
typedef enum {
    TD_VERDICT_ACCEPTED = 0,
    TD_VERDICT_WRONG_ANSWER,        //  never produced here: the grader compares outputs
    TD_VERDICT_TIME_LIMIT,
    TD_VERDICT_MEMORY_LIMIT,
    TD_VERDICT_OUTPUT_LIMIT,
    TD_VERDICT_RUNTIME_ERROR,
    TD_VERDICT_COMPILE_ERROR,
    TD_VERDICT_SECURITY_VIOLATION,
    TD_VERDICT_INTERNAL_ERROR,
    TD_VERDICT__COUNT
} td_verdict_t;

const char *td_verdict_name (td_verdict_t verdict);

typedef struct {
    uint32_t cpu_ms;                //  2000
    uint32_t wall_ms;               //  5000
    uint64_t memory_kb;             //  262144 (cgroup limit; peak reported)
    uint32_t processes;             //  64 (pids cgroup + RLIMIT_NPROC)
    size_t output_bytes;            //  65536 per stream
    size_t file_bytes;              //  1 MiB (RLIMIT_FSIZE and the /work tmpfs size)
    size_t source_bytes;            //  65536: total of the files; more is refused before running
} td_limits_t;

//  The issue 5 defaults; compile: CPU 10 s, wall 20 s, 512 MiB, 16 MiB files (same 64 KiB source).
void td_limits_default (td_limits_t *limits);
void td_limits_default_compile (td_limits_t *limits);

typedef struct {
    const char *name;               //  [A-Za-z0-9_.-]{1,64}, not "." or ".."; put in /work
    const void *data;
    size_t size;
    bool executable;                //  mode 0755 instead of 0644
} td_file_t;

typedef struct {
    td_lang_t language;
    const td_file_t *files;         //  at least one
    size_t file_count;              //  at most 16
    const void *stdin_data;         //  may be NULL
    size_t stdin_size;
    td_limits_t limits;
} td_run_spec_t;

typedef struct {
    td_verdict_t verdict;
    int exit_code;                  //  -1 when killed by a signal
    int signal;                     //  0 when it exited
    char syscall [32];              //  the denied call for security_violation, else ""
    char message [256];             //  a short human reason for non-accepted verdicts
    uint32_t time_ms;               //  CPU time of every process of the run
    uint32_t wall_ms;
    uint64_t memory_kb;             //  peak from the control group
    uint8_t *out;                   //  raw bytes, not NUL-terminated, may be NULL when empty
    size_t out_len;
    bool out_truncated;
    uint8_t *err;
    size_t err_len;
    bool err_truncated;
    uint8_t *artifact;              //  C_COMPILE: the executable when it compiled
    size_t artifact_len;
} td_run_result_t;

void td_run_result_free (td_run_result_t *result);

typedef struct {
    const char *python;             //  absolute; NULL -> $TUTORD_PYTHON or /usr/bin/python3
    const char *gcc;                //  absolute; NULL -> /usr/bin/gcc
    const char *cgroup_root;        //  NULL -> <own cgroup>/tutord per controller (v1) or
                                    //  $TUTORD_CGROUP_ROOT / <own cgroup>/tutord (v2, delegated)
    const char *ro_paths [4];       //  extra read-only binds (e.g. a Python prefix outside /usr)
} td_sandbox_config_t;

typedef struct _td_sandbox_t td_sandbox_t;

//  Checks the interpreter and compiler, the cgroup hierarchy, builds the seccomp program.
td_sandbox_t *td_sandbox_new (const td_sandbox_config_t *cfg, td_error_t *err);
void td_sandbox_destroy (td_sandbox_t **self_p);
//  1 or 2.
int td_sandbox_cgroup_version (const td_sandbox_t *self);
//  cgroup v1: pause (false) or resume (true) the keeper that holds cgroup moves cheap
//  (td_sandbox_warm.c; on by default, TUTORD_SANDBOX_WARM=0 at start turns it off). For the
//  benchmark's before/after in one run. Returns whether a keeper exists.
bool td_sandbox_keep_warm (td_sandbox_t *self, bool on);
//  One-shot runs are served from boxes prepared ahead (td_sandbox_pool.c; TUTORD_SANDBOX_POOL=n
//  at start, default 2, at most 8, 0 = off). Pause (false) or resume (true) serving from them,
//  for the benchmark's before/after in one run; returns whether a pool exists.
bool td_sandbox_use_pool (td_sandbox_t *self, bool on);
//  Boxes ready now, runs served from the pool, boxes made (all 0 without a pool).
void td_sandbox_pool_counts (td_sandbox_t *self, int *ready, uint64_t *served, uint64_t *made);
//  Host pids of the prepared boxes' inits waiting for a run (up to max), for process audits
//  (they are uid TD_SANDBOX_UID_BASE and run no learner code); how many. Pause the pool and
//  call td_sandbox_stray_cgroups first for a list that cannot change meanwhile.
int td_sandbox_pool_pids (td_sandbox_t *self, int *pids, int max);
//  This process's run directories under the sandbox's cgroup roots, once the tear-downs in
//  flight are done (0 when every run cleaned up; open sessions count, prepared boxes waiting
//  for a run do not); for health checks and tests.
int td_sandbox_stray_cgroups (const td_sandbox_t *self);

//  Run one program. Returns 0 with result filled (any verdict, including internal_error), or -1
//  when the spec is refused before anything ran (bad name or limit, source over
//  limits.source_bytes): result->message says why. Either way td_run_result_free (result).
int td_sandbox_run (td_sandbox_t *self, const td_run_spec_t *spec, td_run_result_t *result);

//  Fast path: one warm sandboxed Python for many tests of one submission.
typedef struct _td_sandbox_session_t td_sandbox_session_t;

//  spec->language must be TD_LANG_PYTHON; spec->files are put in each test's fresh /work;
//  spec->limits are the per-test limits. NULL + result-free error on failure (err filled).
td_sandbox_session_t *td_sandbox_session_open (td_sandbox_t *self, const td_run_spec_t *spec,
                                               td_error_t *err);
//  Run files[0] once with this stdin, in a fresh child with its own cgroups, /work, rlimits.
int td_sandbox_session_run (td_sandbox_session_t *session, const void *stdin_data,
                            size_t stdin_size, td_run_result_t *result);
void td_sandbox_session_close (td_sandbox_session_t **session_p);

#endif
