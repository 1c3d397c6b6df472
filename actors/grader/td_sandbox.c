/*  td_sandbox — the supervisor side of a sandbox run: validate, prepare, clone, watch, judge.
 *
 *  td_sandbox_run validates the spec (names, counts, sizes: a 10 MB source is refused before
 *  anything starts), prepares the plan the box needs (td_sandbox_int.h), and either takes a box
 *  prepared ahead (td_sandbox_pool.c: it sends the box its job; set-up and tear-down happen off
 *  the run's path) or builds one on the spot: creates the run's control groups, clones init into
 *  new user/pid/net/mount/ipc/uts namespaces (td_sandbox_child.c), writes its uid/gid maps. Then
 *  it watches the box with poll(2): stdout/stderr pipes (counted, capped:
 *  past the cap the box is killed and the verdict is output_limit), the report pipe, a pidfd for
 *  init, the wall deadline and the cgroup's CPU counter (polled every 20 ms; any process of the
 *  tree counts). Killing is one SIGKILL to init: the kernel then kills the whole pid namespace.
 *  Afterwards: peak memory and the OOM counter from the cgroup, the cgroup removed, the verdict.
 *
 *  Verdict precedence: internal_error (the box failed, not the program) > security_violation >
 *  output_limit > time_limit (CPU or wall, or SIGXCPU) > memory_limit (the cgroup's OOM killer
 *  acted, or Python died of MemoryError) > compile_error (C compile, non-zero) > runtime_error
 *  (non-zero exit or a signal) > accepted.
 *
 *  Cost (tools/bench/bench_sandbox.c): clone with six namespaces ~0.5 ms, mounts + pivot ~1 ms,
 *  cgroup mkdir/rmdir ~0.2 ms. On cgroup v1 the first cgroup.procs write after an idle spell
 *  waits for an RCU grace period (the kernel's cgroup_threadgroup_rwsem: 5–25 ms on this VM);
 *  back-to-back runs do not pay it, and the warm keeper (td_sandbox_warm.c) makes every run
 *  back-to-back by moving a helper every 10 ms. Hosts can also mount the hierarchy with
 *  "favordynmods". On v2 the box is born in its group (clone3 with CLONE_INTO_CGROUP:
 *  td_sbx_clone): no migration at all; where the kernel refuses it, clone and move as on v1.
 *  With prepared boxes (td_sandbox_pool.c) all of this is off the run's path anyway.
 *
 *  ASan note: RLIMIT_AS would break an ASan-instrumented *program*, but the program is never
 *  instrumented (python, gcc, the learner's binary); the limit is set in the forked child right
 *  before exec and no allocation happens between the two, so sanitizer builds keep it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "td_sandbox_int.h"

static const char *s_verdicts [TD_VERDICT__COUNT] = {
    "accepted", "wrong_answer", "time_limit", "memory_limit", "output_limit", "runtime_error",
    "compile_error", "security_violation", "internal_error"
};

static const char *s_stages [] = {
    "ok", "start", "ids", "mount", "files", "pivot_root", "fork", "rlimit", "credentials",
    "seccomp", "exec", "loop"
};

const char *
td_verdict_name (td_verdict_t verdict)
{
    return (unsigned) verdict < TD_VERDICT__COUNT? s_verdicts [verdict]: "internal_error";
}

void
td_limits_default (td_limits_t *limits)
{
    limits->cpu_ms = 2000;
    limits->wall_ms = 5000;
    limits->memory_kb = 262144;
    limits->processes = 64;
    limits->output_bytes = 65536;
    limits->file_bytes = 1 << 20;
    limits->source_bytes = 65536;
}

void
td_limits_default_compile (td_limits_t *limits)
{
    td_limits_default (limits);
    limits->cpu_ms = 10000;
    limits->wall_ms = 20000;
    limits->memory_kb = 524288;
    limits->file_bytes = 16 << 20;     //  gcc's temporaries and the executable
}

void
td_run_result_free (td_run_result_t *result)
{
    if (!result)
        return;
    free (result->out);
    free (result->err);
    free (result->artifact);
    result->out = result->err = result->artifact = NULL;
    result->out_len = result->err_len = result->artifact_len = 0;
}

uint64_t
td_sbx_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static bool
s_abs_exec (const char *path)
{
    return path && path [0] == '/' && strlen (path) < TD_SBX_PATH && access (path, X_OK) == 0;
}

td_sandbox_t *
td_sandbox_new (const td_sandbox_config_t *cfg, td_error_t *err)
{
    td_sandbox_config_t none = { 0 };
    if (!cfg)
        cfg = &none;
    td_sandbox_t *self = calloc (1, sizeof *self);
    if (!self) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    const char *python = cfg->python? cfg->python: getenv ("TUTORD_PYTHON");
    if (!python || !*python)
        python = "/usr/bin/python3";
    const char *gcc = cfg->gcc? cfg->gcc: "/usr/bin/gcc";
    if (!s_abs_exec (python)) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "TUTORD_PYTHON",
                      "TUTORD_PYTHON must be an absolute path to an executable: %s", python);
        goto fail;
    }
    snprintf (self->python, sizeof self->python, "%s", python);
    if (s_abs_exec (gcc))
        snprintf (self->gcc, sizeof self->gcc, "%s", gcc);
    for (int i = 0; i < 4; i++)
        if (cfg->ro_paths [i])
            snprintf (self->ro_paths [i], TD_SBX_PATH, "%s", cfg->ro_paths [i]);
    if (geteuid () != 0) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "the sandbox needs root");
        goto fail;
    }
    if (td_cg_root_init (&self->cg, cfg->cgroup_root, err) != 0)
        goto fail;
    if (td_seccomp_build (&self->prog, err) != 0)
        goto fail;
    self->warm = td_sbx_warm_start (&self->cg);
    int pool = 2;
    const char *env = getenv ("TUTORD_SANDBOX_POOL");
    if (env && *env)
        pool = atoi (env);
    self->pool = td_sbx_pool_start (self, pool < 0? 0: pool > 8? 8: pool);
    return self;
fail:
    free (self);
    return NULL;
}

void
td_sandbox_destroy (td_sandbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_sbx_pool_stop (&(*self_p)->pool);
    td_sbx_warm_stop (&(*self_p)->warm);
    td_seccomp_free (&(*self_p)->prog);
    free (*self_p);
    *self_p = NULL;
}

int
td_sandbox_cgroup_version (const td_sandbox_t *self)
{
    return self->cg.version;
}

bool
td_sandbox_keep_warm (td_sandbox_t *self, bool on)
{
    td_sbx_warm_pause (self->warm, !on);
    return self->warm != NULL;
}

//  Run directories of this process: "r<pid>-…" and "s<pid>-…" (other processes — a second
//  grader, a test suite — may share the roots).
static int
s_count_dirs (const char *path)
{
    if (!path [0])
        return 0;
    DIR *dir = opendir (path);
    if (!dir)
        return 0;
    char mine [2][32];
    snprintf (mine [0], sizeof mine [0], "r%d-", (int) getpid ());
    snprintf (mine [1], sizeof mine [1], "s%d-", (int) getpid ());
    int count = 0;
    struct dirent *e;
    while ((e = readdir (dir)))
        if (e->d_type == DT_DIR && (strncmp (e->d_name, mine [0], strlen (mine [0])) == 0
                                    || strncmp (e->d_name, mine [1], strlen (mine [1])) == 0))
            count++;
    closedir (dir);
    return count;
}

bool
td_sandbox_use_pool (td_sandbox_t *self, bool on)
{
    td_sbx_pool_pause (self->pool, !on);
    return self->pool != NULL;
}

void
td_sandbox_pool_counts (td_sandbox_t *self, int *ready, uint64_t *served, uint64_t *made)
{
    *ready = 0;
    *served = *made = 0;
    td_sbx_pool_counts (self->pool, ready, served, made);
}

int
td_sandbox_pool_pids (td_sandbox_t *self, int *pids, int max)
{
    return td_sbx_pool_pids (self->pool, pids, max);
}

int
td_sandbox_stray_cgroups (const td_sandbox_t *self)
{
    td_sbx_pool_flush (self->pool);     //  runs answered, boxes still being torn down

    if (self->cg.version == 2)
        return s_count_dirs (self->cg.mem);
    return s_count_dirs (self->cg.mem) + s_count_dirs (self->cg.pids) + s_count_dirs (self->cg.cpu);
}

static bool
s_name_ok (const char *name)
{
    size_t len = name? strnlen (name, 65): 0;
    if (len == 0 || len > 64 || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int
td_sbx_spec_check (const td_run_spec_t *spec, td_error_t *err)
{
    if (!spec || spec->language > TD_LANG_C_RUN)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "language", "Unknown language.");
    if (!spec->files || spec->file_count == 0 || spec->file_count > TD_SBX_MAX_FILES)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "files", "Between 1 and %d files.",
                             TD_SBX_MAX_FILES);
    const td_limits_t *l = &spec->limits;
    if (l->cpu_ms == 0 || l->cpu_ms > 60000 || l->wall_ms == 0 || l->wall_ms > 120000
    ||  l->memory_kb < 8192 || l->memory_kb > (16ULL << 20) || l->processes == 0
    ||  l->processes > 4096 || l->output_bytes == 0 || l->output_bytes > (64u << 20)
    ||  l->file_bytes == 0 || l->file_bytes > (1u << 30) || l->source_bytes == 0)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "limits", "A limit is out of range.");
    size_t total = 0;
    for (size_t i = 0; i < spec->file_count; i++) {
        if (!s_name_ok (spec->files [i].name))
            return td_error_set (err, TD_ERR_INVALID_INPUT, "files",
                                 "A file name must be 1-64 of [A-Za-z0-9_.-].");
        for (size_t j = 0; j < i; j++)
            if (strcmp (spec->files [i].name, spec->files [j].name) == 0)
                return td_error_set (err, TD_ERR_INVALID_INPUT, "files", "Duplicate file name.");
        if (spec->files [i].size && !spec->files [i].data)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "files", "A file has no data.");
        total += spec->files [i].size;
        if (total > l->source_bytes)
            return td_error_set (err, TD_ERR_TOO_LARGE, "code",
                                 "The source is larger than %zu bytes.", l->source_bytes);
    }
    if (spec->stdin_size > (64u << 20) || (spec->stdin_size && !spec->stdin_data))
        return td_error_set (err, TD_ERR_TOO_LARGE, "stdin", "The input is too large.");
    return 0;
}

static unsigned long
s_ro_flags (const char *path)
{
    unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV;
    struct statvfs vfs;
    if (statvfs (path, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
        flags |= MS_NOEXEC;
    return flags;
}

static int
s_add_bind (td_sbx_plan_t *plan, const char *src, const char *dst, bool ro, bool is_file)
{
    if (plan->nbinds >= TD_SBX_MAX_BINDS)
        return -1;
    td_sbx_bind_t *b = &plan->binds [plan->nbinds];
    if ((size_t) snprintf (b->src, sizeof b->src, "%s", src) >= sizeof b->src
    ||  (size_t) snprintf (b->dst, sizeof b->dst, "/tmp%s", dst) >= sizeof b->dst)
        return -1;
    b->remount_flags = ro? s_ro_flags (src): 0;
    b->is_file = is_file;
    plan->nbinds++;
    return 0;
}

static int
s_add_link (td_sbx_plan_t *plan, const char *target, const char *path)
{
    if (plan->nlinks >= TD_SBX_MAX_LINKS)
        return -1;
    td_sbx_link_t *l = &plan->links [plan->nlinks];
    if ((size_t) snprintf (l->target, sizeof l->target, "%s", target) >= sizeof l->target
    ||  (size_t) snprintf (l->path, sizeof l->path, "/tmp%s", path) >= sizeof l->path)
        return -1;
    plan->nlinks++;
    return 0;
}

//  Append one argv string to the plan's store.
static int
s_arg (td_sbx_plan_t *plan, size_t *used, int *argc, const char *text)
{
    size_t len = strlen (text) + 1;
    if (*argc >= TD_SBX_MAX_ARGV - 1 || *used + len > sizeof plan->arg_store)
        return -1;
    memcpy (plan->arg_store + *used, text, len);
    plan->argv [(*argc)++] = plan->arg_store + *used;
    plan->argv [*argc] = NULL;
    *used += len;
    return 0;
}

static void
s_rlimit (td_sbx_plan_t *plan, int res, rlim_t soft, rlim_t hard)
{
    plan->rl_res [plan->nrl] = res;
    plan->rl [plan->nrl].rlim_cur = soft;
    plan->rl [plan->nrl].rlim_max = hard;
    plan->nrl++;
}

extern const char *td_sbx_zygote_source;   //  td_sandbox_zygote.c
extern const char *td_sbx_once_source;

int
td_sbx_plan_init (td_sandbox_t *self, td_sbx_plan_t *plan, const td_run_spec_t *spec,
                  td_sbx_mode_t mode, td_error_t *err)
{
    memset (plan, 0, sizeof *plan);
    plan->mode = mode;
    plan->fd_go = plan->fd_stdin = plan->fd_stdout = plan->fd_stderr = -1;
    plan->fd_report = plan->fd_ctl = plan->fd_zygote = -1;
    for (int i = 0; i < TD_SBX_MAX_FILES; i++)
        plan->file_fds [i] = -1;
    const td_limits_t *l = &spec->limits;
    size_t total = 0;
    for (size_t i = 0; i < spec->file_count; i++)
        total += spec->files [i].size;
    snprintf (plan->root_opts, sizeof plan->root_opts, "size=256k,nr_inodes=256,mode=0755");
    size_t work = l->file_bytes + total + 65536;
    if (spec->language == TD_LANG_C_COMPILE)
        work += l->file_bytes;      //  gcc's temporary files and a.out
    snprintf (plan->work_opts, sizeof plan->work_opts,
              "size=%zu,nr_inodes=4096,mode=0755,uid=%d,gid=%d", work, TD_SBX_INSIDE_UID,
              TD_SBX_INSIDE_UID);
    //  The read-only view: /usr, the merged-usr links (or binds on older layouts), devices.
    static const char *tops [] = { "/usr", "/bin", "/lib", "/lib64", "/sbin", "/lib32", "/libx32" };
    for (size_t i = 0; i < sizeof tops / sizeof tops [0]; i++) {
        struct stat st;
        if (lstat (tops [i], &st) != 0)
            continue;
        if (S_ISLNK (st.st_mode)) {
            char target [TD_SBX_PATH];
            ssize_t n = readlink (tops [i], target, sizeof target - 1);
            if (n <= 0)
                continue;
            target [n] = 0;
            if (s_add_link (plan, target, tops [i]) != 0)
                goto fail;
        }
        else if (S_ISDIR (st.st_mode) && s_add_bind (plan, tops [i], tops [i], true, false) != 0)
            goto fail;
    }
    for (int i = 0; i < 4; i++)
        if (self->ro_paths [i][0] && s_add_bind (plan, self->ro_paths [i], self->ro_paths [i],
                                                 true, false) != 0)
            goto fail;
    static const char *devs [] = { "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random" };
    for (size_t i = 0; i < 4; i++)
        if (s_add_bind (plan, devs [i], devs [i], false, true) != 0)
            goto fail;
    if (access ("/etc/ld.so.cache", R_OK) == 0
    &&  s_add_bind (plan, "/etc/ld.so.cache", "/etc/ld.so.cache", true, true) != 0)
        goto fail;
    if (s_add_link (plan, "/proc/self/fd", "/dev/fd") || s_add_link (plan, "/work", "/dev/shm")
    ||  s_add_link (plan, "work", "/tmp"))
        goto fail;
    //  Files.
    plan->files = spec->files;
    plan->nfiles = (int) spec->file_count;
    for (size_t i = 0; i < spec->file_count; i++)
        snprintf (plan->file_paths [i], sizeof plan->file_paths [i], "/work/%s", spec->files [i].name);
    //  argv / envp.
    size_t used = 0;
    int argc = 0;
    char path [80];
    int rc = 0;
    if (mode == TD_SBX_ZYGOTE) {
        rc |= s_arg (plan, &used, &argc, self->python);
        rc |= s_arg (plan, &used, &argc, "-I");
        rc |= s_arg (plan, &used, &argc, "-S");
        rc |= s_arg (plan, &used, &argc, "-B");
        rc |= s_arg (plan, &used, &argc, "-c");
        rc |= s_arg (plan, &used, &argc, td_sbx_zygote_source);
        rc |= s_arg (plan, &used, &argc, spec->files [0].name);
    }
    else if (spec->language == TD_LANG_PYTHON) {
        //  The zygote's bootstrap in its run-once mode: the same semantics as a session test.
        rc |= s_arg (plan, &used, &argc, self->python);
        rc |= s_arg (plan, &used, &argc, "-I");
        rc |= s_arg (plan, &used, &argc, "-S");
        rc |= s_arg (plan, &used, &argc, "-B");
        rc |= s_arg (plan, &used, &argc, "-c");
        rc |= s_arg (plan, &used, &argc, td_sbx_once_source);
        rc |= s_arg (plan, &used, &argc, spec->files [0].name);
    }
    else if (spec->language == TD_LANG_C_COMPILE) {
        if (!self->gcc [0])
            return td_error_set (err, TD_ERR_INTERNAL, NULL, "no C compiler configured");
        rc |= s_arg (plan, &used, &argc, self->gcc);
        rc |= s_arg (plan, &used, &argc, "-std=gnu11");
        rc |= s_arg (plan, &used, &argc, "-O2");
        rc |= s_arg (plan, &used, &argc, "-pipe");
        rc |= s_arg (plan, &used, &argc, "-o");
        rc |= s_arg (plan, &used, &argc, "/work/a.out");
        for (size_t i = 0; i < spec->file_count; i++) {
            const char *dot = strrchr (spec->files [i].name, '.');
            if (dot && strcmp (dot, ".c") == 0) {
                snprintf (path, sizeof path, "/work/%s", spec->files [i].name);
                rc |= s_arg (plan, &used, &argc, path);
            }
        }
        rc |= s_arg (plan, &used, &argc, "-lm");
        plan->want_artifact = true;
        plan->artifact_max = l->file_bytes;
    }
    else {
        snprintf (path, sizeof path, "/work/%s", spec->files [0].name);
        rc |= s_arg (plan, &used, &argc, path);
    }
    if (rc != 0)
        goto fail;
    static char *envp [] = { "PATH=/usr/bin:/bin", "HOME=/work", "LANG=C.UTF-8", "TMPDIR=/work",
                             "USER=learner", NULL };
    memcpy (plan->envp, envp, sizeof envp);
    //  rlimits: per-process backstops; the cgroups bound the tree.
    rlim_t cpu_s = (l->cpu_ms + 999) / 1000 + 1;
    if (mode == TD_SBX_ZYGOTE)
        cpu_s = 600;                //  the zygote's own; each test child sets the test's limits
    uint64_t mem = l->memory_kb * 1024;
    s_rlimit (plan, RLIMIT_CPU, cpu_s, cpu_s + 1);
    s_rlimit (plan, RLIMIT_AS, mem * 4 < (1ULL << 30)? (1ULL << 30): mem * 4,
              mem * 4 < (1ULL << 30)? (1ULL << 30): mem * 4);
    if (mode == TD_SBX_ONESHOT)
        s_rlimit (plan, RLIMIT_NPROC, l->processes, l->processes);
    s_rlimit (plan, RLIMIT_FSIZE, l->file_bytes, l->file_bytes);
    s_rlimit (plan, RLIMIT_NOFILE, 64, 64);
    s_rlimit (plan, RLIMIT_CORE, 0, 0);
    rlim_t stack = mem < (64ULL << 20)? mem: (64ULL << 20);
    s_rlimit (plan, RLIMIT_STACK, stack, stack);
    s_rlimit (plan, RLIMIT_MEMLOCK, 0, 0);
    s_rlimit (plan, RLIMIT_MSGQUEUE, 0, 0);
    plan->prog = self->prog;
    return 0;
fail:
    return td_error_set (err, TD_ERR_INTERNAL, NULL, "sandbox plan does not fit (paths too long)");
}

int
td_sbx_job_from_plan (td_sbx_job_t *job, const td_sbx_plan_t *plan)
{
    memset (job, 0, sizeof *job);
    job->magic = TD_SBX_JOB_MAGIC;
    if (plan->nfiles < 1 || plan->nfiles > TD_SBX_MAX_FILES || plan->nrl > 16)
        return -1;
    job->nfiles = (uint32_t) plan->nfiles;
    memcpy (job->arg_store, plan->arg_store, sizeof job->arg_store);
    while (plan->argv [job->argc]) {
        if (job->argc >= TD_SBX_MAX_ARGV - 1 || plan->argv [job->argc] < plan->arg_store
        ||  plan->argv [job->argc] >= plan->arg_store + sizeof plan->arg_store)
            return -1;
        job->argv_off [job->argc] = (uint32_t) (plan->argv [job->argc] - plan->arg_store);
        job->argc++;
    }
    if (job->argc == 0)
        return -1;
    memcpy (job->work_opts, plan->work_opts, sizeof job->work_opts);
    job->nrl = (uint32_t) plan->nrl;
    memcpy (job->rl_res, plan->rl_res, sizeof job->rl_res);
    memcpy (job->rl, plan->rl, sizeof job->rl);
    for (int i = 0; i < plan->nfiles; i++) {
        memcpy (job->file_paths [i], plan->file_paths [i], sizeof job->file_paths [i]);
        job->file_exec [i] = plan->files [i].executable;
    }
    job->want_artifact = plan->want_artifact;
    job->artifact_max = plan->artifact_max;
    return 0;
}

int
td_sbx_send_fds (int sock, const void *data, size_t size, const int *fds, int nfds)
{
    if (nfds < 1 || nfds > TD_SBX_JOB_FDS)
        return -1;
    char cbuf [CMSG_SPACE (sizeof (int) * TD_SBX_JOB_FDS)];
    memset (cbuf, 0, sizeof cbuf);
    struct iovec iov = { (void *) data, size };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                          .msg_controllen = CMSG_SPACE (sizeof (int) * (size_t) nfds) };
    struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN (sizeof (int) * (size_t) nfds);
    memcpy (CMSG_DATA (cm), fds, sizeof (int) * (size_t) nfds);
    ssize_t w;
    do
        w = sendmsg (sock, &msg, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    return w == (ssize_t) size? 0: -1;
}

ssize_t
td_sbx_write_nosigpipe (int fd, const void *data, size_t size)
{
    sigset_t pipe_set, old;
    sigemptyset (&pipe_set);
    sigaddset (&pipe_set, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &pipe_set, &old);
    ssize_t w = write (fd, data, size);
    int saved = errno;
    if (w < 0 && saved == EPIPE && !sigismember (&old, SIGPIPE)) {
        struct timespec zero = { 0, 0 };
        sigtimedwait (&pipe_set, NULL, &zero);      //  consume ours, never deliver it
    }
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    errno = saved;
    return w;
}

static int
s_write_path (const char *path, const char *text)
{
    int fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write (fd, text, strlen (text));
    close (fd);
    return w == (ssize_t) strlen (text)? 0: -1;
}

//  clone3's argument (linux/sched.h's struct clone_args, spelled out here: that header and
//  glibc's sched.h do not mix).
struct s_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

long
td_sbx_clone (const td_cg_t *cg, unsigned long flags, int *pidfd, bool *placed)
{
    *placed = false;
    if (cg && cg->version == 2 && cg->mem [0]) {
        int dir = open (cg->mem, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
            struct s_clone_args args;
            memset (&args, 0, sizeof args);
            args.flags = (uint64_t) (flags & ~(unsigned long) CSIGNAL) | CLONE_INTO_CGROUP;
            args.pidfd = (uint64_t) (uintptr_t) pidfd;
            args.exit_signal = flags & CSIGNAL;
            args.cgroup = (uint64_t) dir;
            long pid = syscall (SYS_clone3, &args, sizeof args);
            if (pid == 0)
                return 0;               //  the child: born in the group
            int saved = errno;
            close (dir);
            if (pid > 0) {
                *placed = true;
                return pid;
            }
            //  ENOSYS (no clone3), E2BIG/EINVAL (no CLONE_INTO_CGROUP), EBADF/EOPNOTSUPP (not a
            //  cgroup2 directory): clone, then move, as on v1.
            errno = saved;
        }
    }
    return syscall (SYS_clone, flags, 0, pidfd, 0, 0);
}

pid_t
td_sbx_spawn (const td_sbx_plan_t *plan_in, const td_cg_t *cg, int *pidfd_out, td_error_t *err)
{
    td_sbx_plan_t *plan = (td_sbx_plan_t *) plan_in;
    int go [2];
    if (pipe2 (go, O_CLOEXEC) != 0)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "pipe: %s", strerror (errno));
    plan->fd_go = go [0];
    int pidfd = -1;
    unsigned long flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC
                        | CLONE_NEWUTS | CLONE_PIDFD | SIGCHLD;
    bool placed = false;
    long pid = td_sbx_clone (cg, flags, &pidfd, &placed);
    if (pid == 0)
        td_sbx_child_main (plan);
    close (go [0]);
    plan->fd_go = -1;
    if (pid < 0) {
        close (go [1]);
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "clone: %s", strerror (errno));
    }
    char path [64], map [96];
    const char *why = NULL;
    if (cg && !placed && td_cg_attach (cg, (pid_t) pid) != 0)
        why = "cgroup attach";
    snprintf (map, sizeof map, "0 %d 1\n%d %d 1\n", TD_SANDBOX_UID_BASE, TD_SBX_INSIDE_UID,
              TD_SANDBOX_UID_BASE + 1);
    snprintf (path, sizeof path, "/proc/%ld/uid_map", pid);
    if (!why && s_write_path (path, map) != 0)
        why = "uid_map";
    snprintf (path, sizeof path, "/proc/%ld/gid_map", pid);
    if (!why && s_write_path (path, map) != 0)
        why = "gid_map";
    if (!why && td_sbx_write_nosigpipe (go [1], "G", 1) != 1)
        why = "go";
    int saved = errno;
    close (go [1]);
    if (why) {
        syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        waitpid ((pid_t) pid, NULL, 0);
        close (pidfd);
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "sandbox %s: %s", why, strerror (saved));
    }
    *pidfd_out = pidfd;
    return (pid_t) pid;
}

//  ---- td_sandbox_run


//  Read what is there; false on a read error other than EAGAIN.
void
td_sbx_drain (int fd, td_sbx_buf_t *b)
{
    char chunk [65536];
    while (!b->eof) {
        ssize_t r = read (fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (errno != EAGAIN)
                b->eof = true;
            return;
        }
        if (r == 0) {
            b->eof = true;
            return;
        }
        size_t take = (size_t) r;
        if (b->len + take > b->limit) {
            take = b->limit - b->len;
            b->over = true;
        }
        if (take > 0) {
            if (b->len + take > b->cap) {
                size_t cap = b->cap? b->cap: 4096;
                while (cap < b->len + take)
                    cap *= 2;
                if (cap > b->limit)
                    cap = b->limit;
                uint8_t *grown = realloc (b->data, cap);
                if (!grown) {
                    b->over = true;
                    return;
                }
                b->data = grown;
                b->cap = cap;
            }
            memcpy (b->data + b->len, chunk, take);
            b->len += take;
        }
    }
}

int
td_sbx_stdin_fd (const void *data, size_t size)
{
    int fd = memfd_create ("td-stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t w = write (fd, p, left);
        if (w <= 0) {
            close (fd);
            return -1;
        }
        p += w;
        left -= (size_t) w;
    }
    if (lseek (fd, 0, SEEK_SET) != 0
    ||  fcntl (fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

static bool
s_has_memory_error (const uint8_t *data, size_t len)
{
    static const char needle [] = "MemoryError";
    size_t n = sizeof needle - 1;
    for (size_t i = 0; i + n <= len; i++)
        if ((i == 0 || data [i - 1] == '\n') && memcmp (data + i, needle, n) == 0)
            return true;
    return false;
}

static void
s_set (td_run_result_t *r, td_verdict_t v, const char *fmt, const char *arg)
{
    r->verdict = v;
    snprintf (r->message, sizeof r->message, fmt, arg? arg: "");
}

//  Why the supervisor killed the box, if it did.
typedef struct {
    int kill_reason;                //  0, TD_VERDICT_OUTPUT_LIMIT, TD_VERDICT_TIME_LIMIT
    bool wall_exceeded;
} s_watch_t;

int
td_sbx_judge (const td_sbx_outcome_t *o, td_run_result_t *result)
{
    result->exit_code = -1;
    result->signal = 0;
    if (o->started && WIFEXITED (o->status))
        result->exit_code = WEXITSTATUS (o->status);
    else if (o->started && WIFSIGNALED (o->status))
        result->signal = WTERMSIG (o->status);
    else if (o->kill_reason)
        result->signal = SIGKILL;
    char sys [32];
    if (o->sys_nr >= 0) {
        td_seccomp_name (o->sys_nr, o->sys_arch, sys, sizeof sys);
        snprintf (result->syscall, sizeof result->syscall, "%s", sys);
        s_set (result, TD_VERDICT_SECURITY_VIOLATION, "forbidden system call: %s", sys);
    }
    else if (o->have_report && o->stage != 0) {
        const char *st = (unsigned) o->stage < sizeof s_stages / sizeof s_stages [0]
                       ? s_stages [o->stage]: "?";
        snprintf (result->message, sizeof result->message, "sandbox setup failed at %s: %s", st,
                  strerror (o->err));
        result->verdict = TD_VERDICT_INTERNAL_ERROR;
    }
    else if (!o->have_report && !o->kill_reason)
        s_set (result, TD_VERDICT_INTERNAL_ERROR, "the sandbox ended without a report%s", NULL);
    else if (o->kill_reason == TD_VERDICT_OUTPUT_LIMIT)
        s_set (result, TD_VERDICT_OUTPUT_LIMIT, "output passed the %s limit", "per-stream");
    else if (o->kill_reason == TD_VERDICT_TIME_LIMIT || result->signal == SIGXCPU
             || result->time_ms > o->limits->cpu_ms)
        s_set (result, TD_VERDICT_TIME_LIMIT, o->wall_exceeded? "wall-clock limit%s"
                                                              : "CPU time limit%s", NULL);
    else if (o->oom || (o->lang == TD_LANG_PYTHON && result->exit_code != 0
                        && s_has_memory_error (result->err, result->err_len)))
        s_set (result, TD_VERDICT_MEMORY_LIMIT, "memory limit%s", NULL);
    else if (result->signal == SIGSYS)
        s_set (result, TD_VERDICT_SECURITY_VIOLATION, "killed by SIGSYS (foreign architecture)%s",
               NULL);
    else if (o->lang == TD_LANG_C_COMPILE && (result->exit_code != 0 || result->signal))
        s_set (result, TD_VERDICT_COMPILE_ERROR, "compilation failed%s", NULL);
    else if (result->exit_code != 0 || result->signal) {
        char why [48];
        if (result->signal)
            snprintf (why, sizeof why, "killed by signal %d", result->signal);
        else
            snprintf (why, sizeof why, "exit code %d", result->exit_code);
        s_set (result, TD_VERDICT_RUNTIME_ERROR, "%s", why);
    }
    else {
        result->verdict = TD_VERDICT_ACCEPTED;
        result->message [0] = 0;
        return 0;
    }
    return -1;
}

//  The report is whole: its fixed part, and the executable behind it when it announces one.
static bool
s_report_whole (const td_sbx_buf_t *br)
{
    if (br->len < sizeof (td_sbx_report_t))
        return false;
    td_sbx_report_t report;
    memcpy (&report, br->data, sizeof report);
    return br->len >= sizeof report + report.artifact_len;
}

//  Hand the run to a prepared box: its limits, the job and its fds. 0, or -1 (the box is then
//  retired and the caller builds its own).
static int
s_send_job (const td_sbx_plan_t *plan, const td_run_spec_t *spec, td_sbx_box_t *box, int in,
            int out, int err, int rep)
{
    td_limits_t dflt;
    td_limits_default (&dflt);
    if ((spec->limits.memory_kb != dflt.memory_kb || spec->limits.processes != dflt.processes)
    &&  td_cg_set_limits (&box->cg, &spec->limits) != 0)
        return -1;
    td_sbx_job_t *job = malloc (sizeof *job);
    if (!job || td_sbx_job_from_plan (job, plan) != 0) {
        free (job);
        return -1;
    }
    int fds [TD_SBX_JOB_FDS] = { in, out, err, rep };
    int nfds = 4;
    int rc = 0;
    for (size_t i = 0; i < spec->file_count; i++) {
        fds [nfds] = td_sbx_stdin_fd (spec->files [i].data, spec->files [i].size);
        if (fds [nfds] < 0)
            rc = -1;
        else
            nfds++;
    }
    if (rc == 0)
        rc = td_sbx_send_fds (box->ctl, job, sizeof *job, fds, nfds);
    for (int i = 4; i < nfds; i++)
        close (fds [i]);
    close (box->ctl);
    box->ctl = -1;
    free (job);
    return rc;
}

int
td_sandbox_run (td_sandbox_t *self, const td_run_spec_t *spec, td_run_result_t *result)
{
    memset (result, 0, sizeof *result);
    result->verdict = TD_VERDICT_INTERNAL_ERROR;
    result->exit_code = -1;
    td_error_t err;
    td_error_clear (&err);
    if (td_sbx_spec_check (spec, &err) != 0) {
        snprintf (result->message, sizeof result->message, "%s", err.message);
        return -1;
    }
    td_sbx_plan_t *plan = calloc (1, sizeof *plan);
    if (!plan) {
        snprintf (result->message, sizeof result->message, "out of memory");
        return 0;
    }
    int out [2] = { -1, -1 }, errp [2] = { -1, -1 }, rep [2] = { -1, -1 };
    int in = -1, pidfd = -1;
    pid_t pid = -1;
    td_cg_t cg;
    memset (&cg, 0, sizeof cg);
    td_sbx_box_t box;
    bool pooled = false;            //  the box came prepared (td_sandbox_pool.c)
    bool answered = false;          //  pooled: whole report and streams, init not waited for
    bool exited = false;
    td_sbx_buf_t bo = { .limit = spec->limits.output_bytes }, be = { .limit = spec->limits.output_bytes };
    td_sbx_buf_t br = { .limit = sizeof (td_sbx_report_t) + spec->limits.file_bytes };
    uint64_t start = td_sbx_now_ms ();
    if (td_sbx_plan_init (self, plan, spec, TD_SBX_ONESHOT, &err) != 0) {
        snprintf (result->message, sizeof result->message, "%s", err.message);
        goto done;
    }
    if (pipe2 (out, O_CLOEXEC) || pipe2 (errp, O_CLOEXEC) || pipe2 (rep, O_CLOEXEC)
    ||  (in = td_sbx_stdin_fd (spec->stdin_data, spec->stdin_size)) < 0) {
        snprintf (result->message, sizeof result->message, "pipes: %s", strerror (errno));
        goto done;
    }
    if (td_sbx_pool_take (self->pool, &box) == 0) {
        if (s_send_job (plan, spec, &box, in, out [1], errp [1], rep [1]) == 0) {
            pooled = true;
            cg = box.cg;
            pid = box.pid;
            pidfd = box.pidfd;
        }
        else
            td_sbx_pool_retire (self->pool, &box, true);
    }
    if (!pooled) {
        char name [64];
        uint64_t seq = atomic_fetch_add ((_Atomic uint64_t *) &self->seq, 1);
        snprintf (name, sizeof name, "r%d-%" PRIu64, (int) getpid (), seq);
        if (td_cg_create (&self->cg, &cg, name, &spec->limits) != 0) {
            snprintf (result->message, sizeof result->message, "cgroup %s: %s", name,
                      strerror (errno));
            goto done;
        }
        plan->fd_stdin = in;
        plan->fd_stdout = out [1];
        plan->fd_stderr = errp [1];
        plan->fd_report = rep [1];
        pid = td_sbx_spawn (plan, &cg, &pidfd, &err);
    }
    close (out [1]); close (errp [1]); close (rep [1]); close (in);
    out [1] = errp [1] = rep [1] = in = -1;
    if (pid < 0) {
        snprintf (result->message, sizeof result->message, "%s", err.message);
        goto done;
    }
    fcntl (out [0], F_SETFL, O_NONBLOCK);
    fcntl (errp [0], F_SETFL, O_NONBLOCK);
    fcntl (rep [0], F_SETFL, O_NONBLOCK);

    s_watch_t w = { 0 };
    uint64_t deadline = start + spec->limits.wall_ms;
    int status = 0;
    uint64_t cpu_usec = 0;
    //  Done when init is gone and every pipe closed; a prepared box answers earlier: init sends
    //  its report only after it killed and reaped every learner process, and the streams are
    //  closed once no learner process holds them, so its own exit (and the namespaces' and
    //  cgroups' tear-down) happens after the answer, in the pool's thread.
    while (!bo.eof || !be.eof || !(exited? br.eof: (pooled && !w.kill_reason && s_report_whole (&br)))) {
        uint64_t now = td_sbx_now_ms ();
        int timeout = 20;
        if (exited || (pooled && s_report_whole (&br))) {
            if (now > deadline + 2000)
                break;              //  a writer we do not know of: never hang the grader
        }
        else if (now >= deadline && !w.kill_reason) {
            w.kill_reason = TD_VERDICT_TIME_LIMIT;
            w.wall_exceeded = true;
            syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        }
        else if (deadline - now < (uint64_t) timeout)
            timeout = (int) (deadline - now) + 1;
        struct pollfd pfd [4] = {
            { bo.eof? -1: out [0], POLLIN, 0 }, { be.eof? -1: errp [0], POLLIN, 0 },
            { br.eof? -1: rep [0], POLLIN, 0 }, { exited? -1: pidfd, POLLIN, 0 } };
        int n = poll (pfd, 4, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (pfd [0].revents)
            td_sbx_drain (out [0], &bo);
        if (pfd [1].revents)
            td_sbx_drain (errp [0], &be);
        if (pfd [2].revents)
            td_sbx_drain (rep [0], &br);
        if ((bo.over || be.over) && !w.kill_reason) {
            w.kill_reason = TD_VERDICT_OUTPUT_LIMIT;
            syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        }
        if (!exited && (pfd [3].revents & POLLIN)) {
            if (waitpid (pid, &status, 0) == pid)
                exited = true;
        }
        if (!exited && !w.kill_reason && !(pooled && s_report_whole (&br))
        &&  td_cg_cpu_usec (&cg, &cpu_usec) == 0
        &&  cpu_usec > (uint64_t) spec->limits.cpu_ms * 1000) {
            w.kill_reason = TD_VERDICT_TIME_LIMIT;
            syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        }
    }
    answered = pooled && !exited && !w.kill_reason && bo.eof && be.eof && s_report_whole (&br);
    if (!exited && !answered) {
        syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        waitpid (pid, &status, 0);
        exited = true;
    }
    result->wall_ms = (uint32_t) (td_sbx_now_ms () - start);
    bool oom = false;
    td_cg_cpu_usec (&cg, &cpu_usec);
    td_cg_stats (&cg, &result->memory_kb, &oom);

    td_sbx_report_t report;
    memset (&report, 0, sizeof report);
    report.sys_nr = -1;
    bool have_report = br.len >= sizeof report;
    if (have_report)
        memcpy (&report, br.data, sizeof report);
    result->time_ms = (uint32_t) ((have_report && !w.kill_reason? (uint64_t) report.cpu_usec
                                                                 : cpu_usec) / 1000);
    //  Move the streams into the result.
    result->out = bo.data; result->out_len = bo.len; result->out_truncated = bo.over;
    result->err = be.data; result->err_len = be.len; result->err_truncated = be.over;
    bo.data = be.data = NULL;
    td_sbx_outcome_t oc = {
        .lang = spec->language, .limits = &spec->limits, .kill_reason = w.kill_reason,
        .wall_exceeded = w.wall_exceeded, .have_report = have_report,
        .started = have_report && report.started, .status = report.status, .stage = report.stage,
        .err = report.err, .sys_nr = report.sys_nr, .sys_arch = report.sys_arch, .oom = oom };
    if (td_sbx_judge (&oc, result) == 0 && spec->language == TD_LANG_C_COMPILE) {
        if (report.artifact_len == 0 || br.len < sizeof report + report.artifact_len)
            s_set (result, TD_VERDICT_INTERNAL_ERROR, "the compiler left no executable%s", NULL);
        else {
            result->artifact = malloc (report.artifact_len);
            if (!result->artifact)
                s_set (result, TD_VERDICT_INTERNAL_ERROR, "out of memory%s", NULL);
            else {
                memcpy (result->artifact, br.data + sizeof report, report.artifact_len);
                result->artifact_len = report.artifact_len;
            }
        }
    }
done:
    if (pooled) {
        //  Tear-down after the answer: init exits by itself (answered) or is gone already.
        box.pid = exited? -1: pid;
        box.pidfd = pidfd;
        box.cg = cg;
        td_sbx_pool_retire (self->pool, &box, false);
    }
    else {
        if (pidfd >= 0)
            close (pidfd);
        if (td_cg_destroy (&cg) != 0 && result->verdict == TD_VERDICT_ACCEPTED)
            s_set (result, TD_VERDICT_INTERNAL_ERROR, "cgroup cleanup failed%s", NULL);
    }
    for (int i = 0; i < 2; i++) {
        if (out [i] >= 0) close (out [i]);
        if (errp [i] >= 0) close (errp [i]);
        if (rep [i] >= 0) close (rep [i]);
    }
    if (in >= 0)
        close (in);
    free (bo.data);
    free (be.data);
    free (br.data);
    free (plan);
    return 0;
}
