/*  td_sandbox_int — internals shared by the td_sandbox*.c files (not for other callers).
 *
 *  The parent prepares everything the box needs in a td_sbx_plan_t (paths, mount options, argv,
 *  envp, rlimits, the seccomp program) *before* cloning, so the child side
 *  (td_sandbox_child.c) only makes system calls: no malloc, no stdio, no locks after clone in a
 *  multi-threaded (and maybe ASan-instrumented) process.
 */
#ifndef TD_SANDBOX_INT_H
#define TD_SANDBOX_INT_H

#include <linux/filter.h>
#include <stdint.h>
#include <sys/resource.h>
#include "td_sandbox.h"

#define TD_SBX_MAX_BINDS 12
#define TD_SBX_MAX_LINKS 8
#define TD_SBX_MAX_FILES 16
#define TD_SBX_MAX_ARGV 24
#define TD_SBX_PATH 256
#define TD_SBX_INSIDE_UID 1000      //  the learner inside the user namespace

//  ---- control groups (td_sandbox_cgroup.c)
typedef struct {
    int version;                    //  1 or 2
    char mem [TD_SBX_PATH];         //  v1 per controller; v2: mem holds the one root
    char pids [TD_SBX_PATH];
    char cpu [TD_SBX_PATH];         //  v1 cpuacct; "" when absent
    bool v2_cpu;                    //  v2: the cpu controller is delegated too
} td_cg_root_t;

typedef struct {
    int version;
    char mem [TD_SBX_PATH + 64];
    char pids [TD_SBX_PATH + 64];
    char cpu [TD_SBX_PATH + 64];
    bool created;
} td_cg_t;

int td_cg_root_init (td_cg_root_t *root, const char *override, td_error_t *err);
//  The same with the cgroup file systems mounted at base (tests use a fixture tree).
int td_cg_root_init_at (td_cg_root_t *root, const char *base, const char *override,
                        td_error_t *err);
//  Parsers of the kernel's cgroup files, pure (unit-tested with fixtures):
//  our path for a v1 controller ("memory") or v2 ("") from /proc/self/cgroup's text ("" for the
//  root); 0, or -1 when absent, relative, holding "..", or too long.
int td_cg_parse_own (const char *text, const char *controller, char *out, size_t size);
//  The value of a "key value" line (memory.events, cpu.stat, memory.oom_control).
bool td_cg_parse_key (const char *text, const char *key, uint64_t *value);
//  cgroup.controllers' text -> TD_CG_HAS_* bits.
#define TD_CG_HAS_MEMORY    1u
#define TD_CG_HAS_PIDS      2u
#define TD_CG_HAS_CPU       4u
unsigned td_cg_parse_controllers (const char *text);
int td_cg_create (const td_cg_root_t *root, td_cg_t *cg, const char *name, const td_limits_t *lim);
//  (Re)write the memory and pids limits of a created group (a prepared box gets its run's).
int td_cg_set_limits (const td_cg_t *cg, const td_limits_t *lim);
int td_cg_attach (const td_cg_t *cg, pid_t pid);
//  Open each cgroup.procs for writing (a child joins by writing "0"); fds [3], -1 when unused.
int td_cg_open_procs (const td_cg_t *cg, int fds [3]);
int td_cg_cpu_usec (const td_cg_t *cg, uint64_t *usec);
//  Peak memory (kB) and whether the OOM killer acted in the group.
void td_cg_stats (const td_cg_t *cg, uint64_t *peak_kb, bool *oom);
//  SIGKILL every process of the group, until it is empty (bounded retries).
void td_cg_kill_all (const td_cg_t *cg);
//  Kill what is left and remove the directories; 0 or -1 when one could not be removed.
int td_cg_destroy (td_cg_t *cg);

//  ---- seccomp (td_sandbox_seccomp.c)
//  The allow-list as a classic BPF program; default action SECCOMP_RET_USER_NOTIF.
int td_seccomp_build (struct sock_fprog *prog, td_error_t *err);
void td_seccomp_free (struct sock_fprog *prog);
//  "socket" etc. into buf; "syscall_<nr>" when unknown.
void td_seccomp_name (int nr, uint32_t arch, char *buf, size_t size);

//  ---- the child side (td_sandbox_child.c)
//  PREPARED: a one-shot box made ahead (td_sandbox_pool.c): init stops after pivot_root and
//  waits on fd_ctl for its one job (td_sbx_job_t + fds), then goes on exactly as ONESHOT.
typedef enum { TD_SBX_ONESHOT = 0, TD_SBX_ZYGOTE, TD_SBX_PREPARED } td_sbx_mode_t;

typedef struct {
    char src [TD_SBX_PATH];
    char dst [TD_SBX_PATH];         //  under the new root (prefix "/tmp" before pivot)
    unsigned long remount_flags;    //  0 -> no read-only remount (device nodes)
    bool is_file;
} td_sbx_bind_t;

typedef struct {
    char target [TD_SBX_PATH];
    char path [TD_SBX_PATH];
} td_sbx_link_t;

//  What init writes to the report pipe at the end, followed by artifact_len bytes.
typedef struct {
    int32_t stage;                  //  0 ok, else the setup step that failed (TD_SBX_STAGE_*)
    int32_t err;                    //  errno of that step
    int32_t status;                 //  wait status of the main program
    int32_t started;                //  1 once exec succeeded
    int32_t sys_nr;                 //  denied call, -1 none
    uint32_t sys_arch;
    int64_t cpu_usec;               //  RUSAGE_CHILDREN of init: every reaped process
    int64_t maxrss_kb;
    uint32_t artifact_len;
    uint32_t pad;
} td_sbx_report_t;

enum {
    TD_SBX_STAGE_OK = 0, TD_SBX_STAGE_GO, TD_SBX_STAGE_IDS, TD_SBX_STAGE_MOUNT, TD_SBX_STAGE_FILES,
    TD_SBX_STAGE_PIVOT, TD_SBX_STAGE_FORK, TD_SBX_STAGE_RLIMIT, TD_SBX_STAGE_CREDS,
    TD_SBX_STAGE_SECCOMP, TD_SBX_STAGE_EXEC, TD_SBX_STAGE_LOOP
};

typedef struct {
    td_sbx_mode_t mode;
    //  mounts
    char root_opts [64];
    char work_opts [96];
    td_sbx_bind_t binds [TD_SBX_MAX_BINDS];
    int nbinds;
    td_sbx_link_t links [TD_SBX_MAX_LINKS];
    int nlinks;
    //  files put in /work
    char file_paths [TD_SBX_MAX_FILES][80];
    const td_file_t *files;
    int nfiles;
    //  exec
    char *argv [TD_SBX_MAX_ARGV];
    char *envp [8];
    char arg_store [8192];
    struct rlimit rl [16];
    int rl_res [16];
    int nrl;
    struct sock_fprog prog;
    //  fds (parent's numbering, inherited through clone)
    int fd_go;                      //  read end: the parent says go after maps and cgroups
    int fd_stdin, fd_stdout, fd_stderr;
    int fd_report;                  //  write end
    int fd_ctl;                     //  zygote mode: init's control socket (-1 otherwise)
    int fd_zygote;                  //  zygote mode: the zygote's socket (its fd 5)
    //  C compile: read /work/a.out back (O_NOFOLLOW, regular, <= artifact_max)
    bool want_artifact;
    size_t artifact_max;
    //  PREPARED, once the job came: the files as sealed memfds (init's numbering), else -1
    int file_fds [TD_SBX_MAX_FILES];
} td_sbx_plan_t;

//  The job a prepared box's init receives (SOCK_SEQPACKET, one message): what of a plan depends
//  on the run, with argv as offsets into arg_store. Its fds, in order: stdin, stdout, stderr,
//  report, then one sealed memfd per file.
#define TD_SBX_JOB_MAGIC 0x74644a42u
#define TD_SBX_JOB_FDS (4 + TD_SBX_MAX_FILES)
typedef struct {
    uint32_t magic;
    uint32_t nfiles;
    uint32_t argc;
    uint32_t nrl;
    uint32_t argv_off [TD_SBX_MAX_ARGV];
    char arg_store [8192];
    char work_opts [96];
    int rl_res [16];
    struct rlimit rl [16];
    char file_paths [TD_SBX_MAX_FILES][80];
    uint8_t file_exec [TD_SBX_MAX_FILES];
    uint8_t want_artifact;
    uint64_t artifact_max;
} td_sbx_job_t;

//  Fill job from a ONESHOT plan (argv made relative). 0, or -1 when it does not fit.
int td_sbx_job_from_plan (td_sbx_job_t *job, const td_sbx_plan_t *plan);

//  Runs as pid 1 of the new namespaces; never returns.
__attribute__ ((noreturn)) void td_sbx_child_main (const td_sbx_plan_t *plan);

//  ---- keeping cgroup v1 moves cheap (td_sandbox_warm.c)
typedef struct td_sbx_warm td_sbx_warm_t;
//  Start the keeper on a v1 root (NULL on v2, when TUTORD_SANDBOX_WARM=0, or on failure: runs
//  then simply pay the slow first move).
td_sbx_warm_t *td_sbx_warm_start (const td_cg_root_t *root);
void td_sbx_warm_stop (td_sbx_warm_t **self_p);
void td_sbx_warm_pause (td_sbx_warm_t *self, bool paused);
uint64_t td_sbx_warm_moves (const td_sbx_warm_t *self);

//  ---- prepared boxes, made ahead and torn down after the answer (td_sandbox_pool.c)
typedef struct td_sbx_pool td_sbx_pool_t;
typedef struct {
    pid_t pid;                      //  the box's init, waiting for its job
    int pidfd;
    int ctl;                        //  our end of its job socket
    td_cg_t cg;                     //  created with td_limits_default, init attached
} td_sbx_box_t;
//  Start the refill thread keeping size boxes ready (size 0, or TUTORD_SANDBOX_POOL=0: NULL).
td_sbx_pool_t *td_sbx_pool_start (td_sandbox_t *sandbox, int size);
//  Kill the ready boxes, finish every pending tear-down, stop the thread.
void td_sbx_pool_stop (td_sbx_pool_t **self_p);
//  A live prepared box, now the caller's (never given twice): 0, or -1 when none is ready (the
//  caller builds its box itself) or the pool is paused (it still refills then).
int td_sbx_pool_take (td_sbx_pool_t *self, td_sbx_box_t *box);
//  After the run's answer: reap init (it exits by itself, or is killed when kill), close the
//  fds, remove the cgroups, in the pool's thread. Takes ownership of the box's resources.
void td_sbx_pool_retire (td_sbx_pool_t *self, td_sbx_box_t *box, bool kill);
//  Wait until every retired box is gone and, when paused (no box is taken), the pool is full
//  (or cannot be filled): the ready list then stays as it is (health checks, tests).
void td_sbx_pool_flush (td_sbx_pool_t *self);
void td_sbx_pool_pause (td_sbx_pool_t *self, bool paused);
void td_sbx_pool_counts (td_sbx_pool_t *self, int *ready, uint64_t *served, uint64_t *made);
//  Host pids of the ready boxes' inits (up to max); how many.
int td_sbx_pool_pids (td_sbx_pool_t *self, int *pids, int max);

//  ---- shared helpers (td_sandbox.c)
struct _td_sandbox_t {
    char python [TD_SBX_PATH];
    char gcc [TD_SBX_PATH];
    char ro_paths [4][TD_SBX_PATH];
    td_cg_root_t cg;
    struct sock_fprog prog;
    uint64_t seq;                   //  run counter (atomic)
    td_sbx_warm_t *warm;            //  v1 only, NULL otherwise (td_sandbox_warm.c)
    td_sbx_pool_t *pool;            //  prepared one-shot boxes, NULL when off
};

int td_sbx_plan_init (td_sandbox_t *self, td_sbx_plan_t *plan, const td_run_spec_t *spec,
                      td_sbx_mode_t mode, td_error_t *err);
//  Validate a spec (names, counts, sizes): 0 or -1 with err.
int td_sbx_spec_check (const td_run_spec_t *spec, td_error_t *err);
//  clone(flags) — on cgroup v2, clone3 with CLONE_INTO_CGROUP so the child is born in cg's group
//  (*placed = true: no move needed); where the kernel refuses that (old kernel, not a cgroup2
//  directory), plain clone (*placed = false: the caller moves it). Returns as clone: 0 in the
//  child, its pid in the parent, -1.
long td_sbx_clone (const td_cg_t *cg, unsigned long flags, int *pidfd, bool *placed);
//  clone the box with plan, attach cgroups, write id maps, say go. Returns init's pid, pidfd.
pid_t td_sbx_spawn (const td_sbx_plan_t *plan, const td_cg_t *cg, int *pidfd, td_error_t *err);
uint64_t td_sbx_now_ms (void);
//  One message of size bytes with nfds (1..TD_SBX_JOB_FDS) fds as SCM_RIGHTS, no SIGPIPE; 0 when
//  all of it went. Only system calls and memcpy: usable in a box's child processes too.
int td_sbx_send_fds (int sock, const void *data, size_t size, const int *fds, int nfds);
//  write(2) that never raises SIGPIPE in this process (a box's end may be gone): -1/EPIPE.
ssize_t td_sbx_write_nosigpipe (int fd, const void *data, size_t size);

//  What a watched program came to; td_sbx_judge fills exit_code, signal, syscall, verdict and
//  message of result (time_ms, out and err must be set already). 0 when accepted.
typedef struct {
    td_lang_t lang;
    const td_limits_t *limits;
    int kill_reason;                //  0, TD_VERDICT_OUTPUT_LIMIT or TD_VERDICT_TIME_LIMIT
    bool wall_exceeded;
    bool have_report;
    bool started;
    int status;                     //  wait status
    int stage, err;
    int sys_nr;
    uint32_t sys_arch;
    bool oom;
} td_sbx_outcome_t;

int td_sbx_judge (const td_sbx_outcome_t *o, td_run_result_t *result);
//  Non-blocking reader for a stream with a cap.
typedef struct {
    uint8_t *data;
    size_t len, cap, limit;         //  limit: bytes kept; more sets over
    bool over;
    bool eof;
} td_sbx_buf_t;
void td_sbx_drain (int fd, td_sbx_buf_t *b);
//  A sealed memfd holding the bytes (stdin).
int td_sbx_stdin_fd (const void *data, size_t size);

#endif
