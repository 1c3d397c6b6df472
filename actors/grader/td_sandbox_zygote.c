/*  td_sandbox_zygote — the fast path: one warm, sandboxed Python that forks a child per test.
 *
 *  Why: a fresh `python3 -I -S` costs ~10 ms here, more than the learner's code for most tests.
 *  A submission with 20 tests would pay it 20 times. A session pays it once.
 *
 *  DESIGN
 *   - td_sandbox_session_open starts one box exactly like td_sandbox_run (same namespaces,
 *     read-only root, /proc, seccomp filter installed before exec, rlimits), but the program is
 *     the zygote below (python -I -S -B -c ZYGOTE main.py). It compiles the learner's file once
 *     (a SyntaxError is kept and raised in every test), says ready, imports traceback while the
 *     parent prepares the first test, then waits on a SOCK_SEQPACKET socket (_socket, not the
 *     socket module: its import costs more than the rest of the start-up).
 *     The zygote stays uid 0 *of the user namespace* (host uid TD_SANDBOX_UID_BASE, no right on
 *     the host); it runs no learner code.
 *   - Per test (td_sandbox_session_run): the parent creates the test's own memory/pids/cpuacct
 *     cgroups and opens their cgroup.procs; asks the box's init (over its control socket) to
 *     detach /work and mount a fresh size-limited tmpfs with the files; then sends the zygote
 *     the limits plus fds (stdin memfd, stdout and stderr pipes, the cgroup.procs files). The
 *     zygote forks; the child, before any learner code: joins the test cgroups (writes "0"),
 *     sets the test's rlimits (CPU, NPROC, FSIZE, AS, STACK), drops all groups and becomes uid
 *     1000 (losing every capability: it cannot signal, trace or read the zygote or init), dup2s
 *     the streams, closes every other fd, chdir /work, and exec()s the compiled code as
 *     __main__. The seccomp filter was inherited from the zygote (filters survive fork and
 *     cannot be removed), so it is in force before the learner's first instruction; a denied
 *     call is reported by init as ('S', nr) and the test ends as security_violation.
 *   - The parent watches the test like a one-shot run: output caps, wall deadline, the test
 *     cgroup's CPU counter. Killing a test is SIGKILL to every process of its cgroup (the
 *     zygote is not in it). When the zygote reports the child's exit, anything the test left
 *     behind is killed through its cgroup, and the cgroup is removed.
 *   - Same guarantees per test as td_sandbox_run: own cgroups (memory, pids, CPU), own fresh
 *     /work, seccomp, rlimits, no capability, no network. What tests of one submission share: the
 *     namespaces (pid numbers, hostname) and the zygote's warm interpreter state, which a test
 *     cannot modify (copy-on-write after fork; different uid). Peak memory counts only what the
 *     test itself touched (the interpreter's pages stay charged to the session).
 *   - If the zygote dies, the test in flight (unless it was already being killed for a limit) and
 *     the remaining tests run through td_sandbox_run instead: slower, same guarantees.
 *
 *  MEASURED (tools/bench/bench_sandbox.c, Release, this 2-core VM at load ~3; details in
 *  tools/bench/README.md, section bench_sandbox): 3.5 ms per test for a whole 20-test submission
 *  (start, 20 tests, close), 1.3 ms median per test in steady state — cgroups 0.08, fresh /work
 *  0.05, fds 0.03, fork + set-up + run + reply ~1.1, cleanup 0.05 — against ~8 ms for a bare
 *  `python3 -S -I -c pass` and ~18 ms for a one-shot sandboxed run.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "td_sandbox_int.h"

//  One bootstrap for both modes (td_sbx_once_source: run the file once, the one-shot mode;
//  td_sbx_zygote_source: the fork server; argv[1] is the file's name), so learner code sees the
//  same thing either way: __main__ is its own module, exit() and quit() exist (-S leaves them
//  out), the traceback starts at the learner's file, SystemExit behaves as in
//  `python3 file.py`, non-daemon threads are joined and atexit handlers run before the streams
//  are flushed and the process _exits. `posix as os`: importing os costs ~1 ms, as
//  much as the rest of the bootstrap; posix has every call used here.
#define TD_SBX_PY_RUN \
"import posix as os, sys, builtins, _sitebuiltins\n" \
"builtins.exit = _sitebuiltins.Quitter('exit', 'Ctrl-D (i.e. EOF)')\n" \
"builtins.quit = _sitebuiltins.Quitter('quit', 'Ctrl-D (i.e. EOF)')\n" \
"path = '/work/' + sys.argv[1]\n" \
"try:\n" \
"    with open(path, 'rb') as f:\n" \
"        code = compile(f.read(), path, 'exec')\n" \
"    bad = None\n" \
"except BaseException as e:\n" \
"    code, bad = None, e\n" \
"def run():\n" \
"    sys.argv = [path]\n" \
"    m = type(sys)('__main__')\n" \
"    m.__file__ = path\n" \
"    m.__builtins__ = builtins\n" \
"    sys.modules['__main__'] = m\n" \
"    rc = 0\n" \
"    try:\n" \
"        if bad is not None:\n" \
"            raise bad\n" \
"        exec(code, m.__dict__)\n" \
"    except SystemExit as e:\n" \
"        c = e.code\n" \
"        if c is None:\n" \
"            rc = 0\n" \
"        elif isinstance(c, int):\n" \
"            rc = c & 255\n" \
"        else:\n" \
"            try:\n" \
"                print(c, file=sys.stderr)\n" \
"            except BaseException:\n" \
"                pass\n" \
"            rc = 1\n" \
"    except BaseException as e:\n" \
"        tb = e.__traceback__\n" \
"        tb = tb.tb_next if tb is not None and bad is None else None\n" \
"        try:\n" \
"            import traceback\n" \
"            traceback.print_exception(type(e), e, tb)\n" \
"        except BaseException:\n" \
"            pass\n" \
"        rc = 1\n" \
"    try:\n" \
"        t = sys.modules.get('threading')\n" \
"        if t is not None:\n" \
"            t._shutdown()\n" \
"        import atexit\n" \
"        atexit._run_exitfuncs()\n" \
"    except BaseException:\n" \
"        pass\n" \
"    for f in (sys.stdout, sys.stderr):\n" \
"        try:\n" \
"            f.flush()\n" \
"        except BaseException:\n" \
"            rc = rc or 120\n" \
"    os._exit(rc)\n"

const char *td_sbx_once_source = TD_SBX_PY_RUN "run()\n";

const char *td_sbx_zygote_source = TD_SBX_PY_RUN
"import _socket, array, struct, resource as R\n"
"s = _socket.socket(fileno=5)\n"
"s.sendall(b'R')\n"
"import traceback\n"
"L = (R.RLIMIT_CPU, R.RLIMIT_NPROC, R.RLIMIT_FSIZE, R.RLIMIT_AS, R.RLIMIT_STACK)\n"
"def child(fds, lim):\n"
"    for fd in fds[3:]:\n"
"        os.write(fd, b'0')\n"
"    for r, v in zip(L, lim):\n"
"        R.setrlimit(r, (v, v + 1 if r == R.RLIMIT_CPU else v))\n"
"    os.setgroups([])\n"
"    os.setresgid(1000, 1000, 1000)\n"
"    os.setresuid(1000, 1000, 1000)\n"
"    os.dup2(fds[0], 0); os.dup2(fds[1], 1); os.dup2(fds[2], 2)\n"
"    os.closerange(3, 4096)\n"
"    os.chdir('/work')\n"
"while True:\n"
"    try:\n"
"        msg, anc, _, _ = s.recvmsg(64, _socket.CMSG_SPACE(32))\n"
"    except OSError:\n"
"        os._exit(0)\n"
"    fds = array.array('i')\n"
"    for level, kind, data in anc:\n"
"        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:\n"
"            fds.frombytes(data[:len(data) - len(data) % 4])\n"
"    if len(msg) != 64:\n"
"        os._exit(0)\n"
"    lim = struct.unpack('<8Q', msg)\n"
"    try:\n"
"        pid = os.fork()\n"
"    except OSError:\n"
"        pid = -1\n"
"    if pid == 0:\n"
"        try:\n"
"            child(fds, lim[:5])\n"
"        except BaseException:\n"
"            os._exit(125)\n"
"        run()\n"
"    for fd in fds:\n"
"        os.close(fd)\n"
"    if pid < 0:\n"
"        s.sendall(struct.pack('<iiqq', 1, 0, 0, 0))\n"
"        continue\n"
"    while True:\n"
"        try:\n"
"            _, st, ru = os.wait4(pid, 0)\n"
"            break\n"
"        except InterruptedError:\n"
"            continue\n"
"    s.sendall(struct.pack('<iiqq', 0, st, int((ru.ru_utime + ru.ru_stime) * 1e6), ru.ru_maxrss))\n";

#define CHILD_SETUP_FAILED 125      //  the zygote's child could not prepare itself

struct _td_sandbox_session_t {
    td_sandbox_t *sb;
    td_run_spec_t spec;
    td_file_t files [TD_SBX_MAX_FILES];
    td_sbx_plan_t *plan;
    td_cg_t cg;                     //  init + zygote
    pid_t pid;
    int pidfd, ctl, zsock, report, zerr;
    bool dead;
    uint64_t seq;
};

static int
s_wait_readable (int fd, int pidfd, int timeout_ms)
{
    struct pollfd pfd [2] = { { fd, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
    uint64_t end = td_sbx_now_ms () + (uint64_t) timeout_ms;
    while (true) {
        uint64_t now = td_sbx_now_ms ();
        if (now >= end)
            return -1;
        int n = poll (pfd, 2, (int) (end - now));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (pfd [0].revents & POLLIN)
            return 0;
        if (pfd [0].revents || pfd [1].revents)
            return -1;
    }
}

static void
s_session_free (td_sandbox_session_t *self)
{
    if (self->pidfd >= 0) {
        syscall (SYS_pidfd_send_signal, self->pidfd, SIGKILL, NULL, 0);
        waitpid (self->pid, NULL, 0);
        close (self->pidfd);
    }
    int fds [] = { self->ctl, self->zsock, self->report, self->zerr };
    for (size_t i = 0; i < sizeof fds / sizeof fds [0]; i++)
        if (fds [i] >= 0)
            close (fds [i]);
    td_cg_destroy (&self->cg);
    for (size_t i = 0; i < self->spec.file_count; i++) {
        free ((char *) self->files [i].name);
        free ((void *) self->files [i].data);
    }
    free (self->plan);
    free (self);
}

td_sandbox_session_t *
td_sandbox_session_open (td_sandbox_t *sb, const td_run_spec_t *spec, td_error_t *err)
{
    if (td_sbx_spec_check (spec, err) != 0)
        return NULL;
    if (spec->language != TD_LANG_PYTHON) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "language", "Sessions run Python only.");
        return NULL;
    }
    td_sandbox_session_t *self = calloc (1, sizeof *self);
    if (!self) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    self->sb = sb;
    self->pidfd = self->ctl = self->zsock = self->report = self->zerr = -1;
    self->spec = *spec;
    self->spec.files = self->files;
    self->spec.stdin_data = NULL;
    self->spec.stdin_size = 0;
    for (size_t i = 0; i < spec->file_count; i++) {
        self->files [i] = spec->files [i];
        self->files [i].name = strdup (spec->files [i].name);
        self->files [i].data = malloc (spec->files [i].size + 1);
        if (!self->files [i].name || !self->files [i].data) {
            self->spec.file_count = i + 1;
            td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
            goto fail;
        }
        if (spec->files [i].size)
            memcpy ((void *) self->files [i].data, spec->files [i].data, spec->files [i].size);
    }
    self->plan = calloc (1, sizeof *self->plan);
    if (!self->plan) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    if (td_sbx_plan_init (sb, self->plan, &self->spec, TD_SBX_ZYGOTE, err) != 0)
        goto fail;
    int ctl [2] = { -1, -1 }, zs [2] = { -1, -1 }, rep [2] = { -1, -1 }, ze [2] = { -1, -1 };
    int in = td_sbx_stdin_fd ("", 0);
    if (in < 0 || socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0
    ||  socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, zs) != 0
    ||  pipe2 (rep, O_CLOEXEC) != 0 || pipe2 (ze, O_CLOEXEC) != 0) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "session pipes: %s", strerror (errno));
        int all [] = { in, ctl [0], ctl [1], zs [0], zs [1], rep [0], rep [1], ze [0], ze [1] };
        for (size_t i = 0; i < sizeof all / sizeof all [0]; i++)
            if (all [i] >= 0)
                close (all [i]);
        goto fail;
    }
    self->ctl = ctl [0];
    self->zsock = zs [0];
    self->report = rep [0];
    self->zerr = ze [0];
    char name [64];
    uint64_t seq = atomic_fetch_add ((_Atomic uint64_t *) &sb->seq, 1);
    snprintf (name, sizeof name, "s%d-%" PRIu64, (int) getpid (), seq);
    td_limits_t zl = spec->limits;
    zl.processes += 8;
    int cgrc = td_cg_create (&sb->cg, &self->cg, name, &zl);
    self->plan->fd_stdin = in;
    self->plan->fd_stdout = ze [1];
    self->plan->fd_stderr = ze [1];
    self->plan->fd_report = rep [1];
    self->plan->fd_ctl = ctl [1];
    self->plan->fd_zygote = zs [1];
    if (cgrc == 0)
        self->pid = td_sbx_spawn (self->plan, &self->cg, &self->pidfd, err);
    else
        td_error_set (err, TD_ERR_INTERNAL, NULL, "session cgroup: %s", strerror (errno));
    close (in); close (ctl [1]); close (zs [1]); close (rep [1]); close (ze [1]);
    if (cgrc != 0 || self->pid < 0) {
        self->pidfd = -1;
        goto fail;
    }
    char ready = 0;
    if (s_wait_readable (self->zsock, self->pidfd, 10000) != 0
    ||  recv (self->zsock, &ready, 1, 0) != 1 || ready != 'R') {
        char diag [200] = "";
        fcntl (self->zerr, F_SETFL, O_NONBLOCK);
        ssize_t r = read (self->zerr, diag, sizeof diag - 1);
        diag [r > 0? r: 0] = 0;
        td_error_set (err, TD_ERR_INTERNAL, NULL, "the zygote did not start: %s", diag);
        goto fail;
    }
    return self;
fail:
    s_session_free (self);
    return NULL;
}

void
td_sandbox_session_close (td_sandbox_session_t **session_p)
{
    if (!session_p || !*session_p)
        return;
    td_sandbox_session_t *self = *session_p;
    //  Closing the sockets ends the zygote (EOF) and init (HUP); SIGKILL makes sure.
    close (self->zsock);
    self->zsock = -1;
    close (self->ctl);
    self->ctl = -1;
    s_session_free (self);
    *session_p = NULL;
}

static int
s_send_test (td_sandbox_session_t *self, const uint64_t lim [8], const int *fds, int nfds)
{
    return td_sbx_send_fds (self->zsock, lim, 64, fds, nfds);
}

static int
s_fallback (td_sandbox_session_t *self, const void *stdin_data, size_t stdin_size,
            td_run_result_t *result)
{
    td_run_spec_t spec = self->spec;
    spec.stdin_data = stdin_data;
    spec.stdin_size = stdin_size;
    return td_sandbox_run (self->sb, &spec, result);
}

int
td_sandbox_session_run (td_sandbox_session_t *self, const void *stdin_data, size_t stdin_size,
                        td_run_result_t *result)
{
    if (self->dead)
        return s_fallback (self, stdin_data, stdin_size, result);
    memset (result, 0, sizeof *result);
    result->verdict = TD_VERDICT_INTERNAL_ERROR;
    result->exit_code = -1;
    if (stdin_size > (64u << 20) || (stdin_size && !stdin_data)) {
        snprintf (result->message, sizeof result->message, "The input is too large.");
        return -1;
    }
    const td_limits_t *l = &self->spec.limits;
    uint64_t start = td_sbx_now_ms ();
    td_cg_t cg;
    memset (&cg, 0, sizeof cg);
    int procs [3] = { -1, -1, -1 }, out [2] = { -1, -1 }, errp [2] = { -1, -1 }, in = -1;
    td_sbx_buf_t bo = { .limit = l->output_bytes }, be = { .limit = l->output_bytes };
    bool retry = false;             //  the zygote is gone before or while running: one-shot
    char name [80];
    snprintf (name, sizeof name, "s%d-%p-%" PRIu64, (int) getpid (), (void *) self, self->seq++);
    if (td_cg_create (&self->sb->cg, &cg, name, l) != 0 || td_cg_open_procs (&cg, procs) != 0) {
        snprintf (result->message, sizeof result->message, "test cgroup: %s", strerror (errno));
        goto done;
    }
    //  A fresh /work from init.
    int32_t reply [3] = { 0, 0, 0 };
    bool fresh = td_sbx_write_nosigpipe (self->ctl, "W", 1) == 1;
    while (fresh) {                 //  skip a late ('S', …) of the previous test
        fresh = s_wait_readable (self->ctl, self->pidfd, 5000) == 0
             && read (self->ctl, reply, sizeof reply) == (ssize_t) sizeof reply;
        if (!fresh || reply [0] != 'S')
            break;
    }
    if (!fresh || reply [0] != 'K') {
        snprintf (result->message, sizeof result->message, "fresh /work failed: %s",
                  strerror (reply [1]));
        self->dead = retry = true;
        goto done;
    }
    if (pipe2 (out, O_CLOEXEC) || pipe2 (errp, O_CLOEXEC)
    ||  (in = td_sbx_stdin_fd (stdin_data, stdin_size)) < 0) {
        snprintf (result->message, sizeof result->message, "pipes: %s", strerror (errno));
        goto done;
    }
    uint64_t mem = l->memory_kb * 1024;
    uint64_t as = mem * 4 < (1ULL << 30)? (1ULL << 30): mem * 4;
    uint64_t lim [8] = { (l->cpu_ms + 999) / 1000 + 1, l->processes, l->file_bytes, as,
                         mem < (64ULL << 20)? mem: (64ULL << 20), 0, 0, 0 };
    int fds [6] = { in, out [1], errp [1] };
    int nfds = 3;
    for (int i = 0; i < 3; i++)
        if (procs [i] >= 0)
            fds [nfds++] = procs [i];
    int sent = s_send_test (self, lim, fds, nfds);
    close (in); close (out [1]); close (errp [1]);
    in = out [1] = errp [1] = -1;
    for (int i = 0; i < 3; i++)
        if (procs [i] >= 0) {
            close (procs [i]);
            procs [i] = -1;
        }
    if (sent != 0) {
        self->dead = retry = true;
        snprintf (result->message, sizeof result->message, "the zygote is gone");
        goto done;
    }
    fcntl (out [0], F_SETFL, O_NONBLOCK);
    fcntl (errp [0], F_SETFL, O_NONBLOCK);

    uint64_t deadline = start + l->wall_ms;
    int kill_reason = 0;
    bool wall = false, replied = false, gone = false;
    int sys_nr = -1;
    uint32_t sys_arch = 0;
    struct { int32_t kind, status; int64_t cpu_us, maxrss; } zr = { 0, 0, 0, 0 };
    uint64_t cpu_usec = 0;
    uint64_t drain_until = 0;
    while (!(replied || gone) || !bo.eof || !be.eof) {
        uint64_t now = td_sbx_now_ms ();
        if ((replied || gone) && !drain_until) {
            td_cg_kill_all (&cg);   //  what the test left behind
            drain_until = now + 2000;
        }
        if (drain_until && now > drain_until)
            break;
        int timeout = 20;
        if (!replied && !gone && now >= deadline && !kill_reason) {
            kill_reason = TD_VERDICT_TIME_LIMIT;
            wall = true;
            td_cg_kill_all (&cg);
        }
        struct pollfd pfd [5] = {
            { bo.eof? -1: out [0], POLLIN, 0 }, { be.eof? -1: errp [0], POLLIN, 0 },
            { replied || gone? -1: self->zsock, POLLIN, 0 }, { self->ctl, POLLIN, 0 },
            { gone? -1: self->pidfd, POLLIN, 0 } };
        int n = poll (pfd, 5, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (pfd [0].revents)
            td_sbx_drain (out [0], &bo);
        if (pfd [1].revents)
            td_sbx_drain (errp [0], &be);
        if ((bo.over || be.over) && !kill_reason) {
            kill_reason = TD_VERDICT_OUTPUT_LIMIT;
            td_cg_kill_all (&cg);
        }
        if (pfd [3].revents & POLLIN) {
            int32_t msg [3];
            if (read (self->ctl, msg, sizeof msg) == (ssize_t) sizeof msg && msg [0] == 'S') {
                if (sys_nr < 0) {
                    sys_nr = msg [1];
                    sys_arch = (uint32_t) msg [2];
                }
                td_cg_kill_all (&cg);
            }
        }
        if (pfd [2].revents) {
            ssize_t r = recv (self->zsock, &zr, sizeof zr, 0);
            if (r == (ssize_t) sizeof zr)
                replied = true;
            else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                gone = true;
                self->dead = true;
            }
        }
        if (pfd [4].revents) {
            gone = true;
            self->dead = true;
        }
        if (!replied && !gone && !kill_reason && td_cg_cpu_usec (&cg, &cpu_usec) == 0
        &&  cpu_usec > (uint64_t) l->cpu_ms * 1000) {
            kill_reason = TD_VERDICT_TIME_LIMIT;
            td_cg_kill_all (&cg);
        }
    }
    if (gone && !replied && !kill_reason && sys_nr < 0) {
        retry = true;               //  not the test's doing: run it again, one-shot
        goto done;
    }
    result->wall_ms = (uint32_t) (td_sbx_now_ms () - start);
    bool oom = false;
    td_cg_stats (&cg, &result->memory_kb, &oom);
    if (td_cg_cpu_usec (&cg, &cpu_usec) != 0)
        cpu_usec = replied? (uint64_t) zr.cpu_us: 0;
    result->time_ms = (uint32_t) (cpu_usec / 1000);
    result->out = bo.data; result->out_len = bo.len; result->out_truncated = bo.over;
    result->err = be.data; result->err_len = be.len; result->err_truncated = be.over;
    bo.data = be.data = NULL;
    bool setup_failed = replied && (zr.kind != 0 || (WIFEXITED (zr.status)
                                    && WEXITSTATUS (zr.status) == CHILD_SETUP_FAILED));
    td_sbx_outcome_t oc = {
        .lang = TD_LANG_PYTHON, .limits = l, .kill_reason = kill_reason, .wall_exceeded = wall,
        .have_report = replied && !setup_failed, .started = replied && !setup_failed,
        .status = zr.status, .stage = 0, .err = 0, .sys_nr = sys_nr, .sys_arch = sys_arch,
        .oom = oom };
    td_sbx_judge (&oc, result);
    if (setup_failed && sys_nr < 0)
        snprintf (result->message, sizeof result->message, "the test child could not be prepared");
done:
    if (td_cg_destroy (&cg) != 0 && result->verdict == TD_VERDICT_ACCEPTED) {
        result->verdict = TD_VERDICT_INTERNAL_ERROR;
        snprintf (result->message, sizeof result->message, "cgroup cleanup failed");
    }
    int all [] = { procs [0], procs [1], procs [2], out [0], out [1], errp [0], errp [1], in };
    for (size_t i = 0; i < sizeof all / sizeof all [0]; i++)
        if (all [i] >= 0)
            close (all [i]);
    free (bo.data);
    free (be.data);
    if (retry) {
        td_run_result_free (result);
        return s_fallback (self, stdin_data, stdin_size, result);
    }
    return 0;
}
