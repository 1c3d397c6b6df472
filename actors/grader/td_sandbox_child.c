/*  td_sandbox_child — what runs inside the box: the box's init (pid 1) and the program it starts.
 *
 *  Why a C init: as pid 1 of the new pid namespace it (a) reaps every orphan (a child that
 *  outlives its parent is reaped, then killed with the rest when the program ends: kill(-1)),
 *  (b) is the seccomp user-notification listener, so a denied call is answered EPERM and named,
 *  (c) holds the namespace: when it dies the kernel SIGKILLs everything inside, which is how the
 *  supervisor ends the whole tree at once, and (d) in zygote mode mounts a fresh /work per test.
 *  It is a different uid from the learner (inside 0 = host TD_SANDBOX_UID_BASE), so the learner
 *  cannot signal or trace it.
 *
 *  Constraints: this code runs after clone() of a multi-threaded (maybe ASan) process. It uses
 *  only system calls on memory prepared by the parent (td_sbx_plan_t): no malloc, no stdio, no
 *  locks, and no glibc wrapper that assumes it knows the process's threads (setxid family: see
 *  s_setresuid). Every step checks its result; a failure writes a report naming the step and
 *  errno.
 *
 *  Order in init: wait for "go" (the parent has written uid/gid maps and cgroups) -> become mapped
 *  root of the new user namespace, drop groups -> private mounts: tmpfs root, read-only binds,
 *  devices, /etc, /proc, /work tmpfs -> pivot_root, detach the old root, root read-only -> files
 *  into /work -> fork the program. The program: fds 0/1/2, signals reset, oom_score_adj 1000,
 *  rlimits, uid/gid 1000 (no capabilities remain), no_new_privs, seccomp (listener fd sent to
 *  init), exec.
 *
 *  A prepared box (TD_SBX_PREPARED, td_sandbox_pool.c) does all of the above ahead of the run up
 *  to the fork, without /work and files; its program then waits for the one job (s_take_job):
 *  it hands init the report fd, mounts /work, writes the files from their memfds, and goes on
 *  exactly as above. Init learns the report fd and the artifact wish from the program
 *  (s_recv_report) and then runs the same loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "td_sandbox_int.h"

#define GC_SOCK 3                   //  the program's seccomp listener goes to init through it
#define GC_EXECERR 4                //  CLOEXEC: EOF = exec worked, else stage + errno
#define GC_ZYGOTE 5                 //  zygote mode: the zygote's control socket

static td_sbx_report_t s_rep;

//  glibc's setresuid/setresgid/setgroups broadcast the change to every thread it knows of
//  (SIGSETXID) and wait for them: after a raw clone of a multi-threaded process those threads do
//  not exist here, and the wrapper waits forever. Credentials are per thread in the kernel, and
//  this process has one thread: the raw system calls are what we mean.
static int
s_setresuid (uid_t id)
{
    return (int) syscall (SYS_setresuid, id, id, id);
}

static int
s_setresgid (gid_t id)
{
    return (int) syscall (SYS_setresgid, id, id, id);
}

static int
s_setgroups_none (void)
{
    return (int) syscall (SYS_setgroups, 0, NULL);
}

static void
s_write_all (int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t w = write (fd, p, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        size -= (size_t) w;
    }
}

__attribute__ ((noreturn)) static void
s_fail (const td_sbx_plan_t *plan, int stage)
{
    s_rep.stage = stage;
    s_rep.err = errno;
    s_write_all (plan->fd_report, &s_rep, sizeof s_rep);
    _exit (1);
}

static int
s_mkdir_p (const char *path)
{
    char buf [TD_SBX_PATH];
    size_t len = strnlen (path, sizeof buf);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy (buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf [i] == '/' || buf [i] == 0) {
            char saved = buf [i];
            buf [i] = 0;
            if (mkdir (buf, 0755) != 0 && errno != EEXIST)
                return -1;
            buf [i] = saved;
        }
    }
    return 0;
}

static int
s_write_file (const char *path, const char *text, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return -1;
    s_write_all (fd, text, strlen (text));
    return close (fd);
}

static int
s_mounts (const td_sbx_plan_t *plan)
{
    if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    if (mount ("tdroot", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, plan->root_opts) != 0)
        return -1;
    static const char *dirs [] = { "/tmp/usr", "/tmp/etc", "/tmp/dev", "/tmp/proc", "/tmp/work" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs [0]; i++)
        if (mkdir (dirs [i], 0755) != 0)
            return -1;
    for (int i = 0; i < plan->nbinds; i++) {
        const td_sbx_bind_t *b = &plan->binds [i];
        if (b->is_file) {
            int fd = open (b->dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0 || close (fd) != 0)
                return -1;
        }
        else if (s_mkdir_p (b->dst) != 0)
            return -1;
        if (mount (b->src, b->dst, NULL, MS_BIND | MS_REC, NULL) != 0)
            return -1;
        if (b->remount_flags
        &&  mount (NULL, b->dst, NULL, MS_REMOUNT | MS_BIND | b->remount_flags, NULL) != 0)
            return -1;
    }
    for (int i = 0; i < plan->nlinks; i++)
        if (symlink (plan->links [i].target, plan->links [i].path) != 0)
            return -1;
    if (s_write_file ("/tmp/etc/passwd",
                      "root:x:0:0::/:/usr/sbin/nologin\nlearner:x:1000:1000::/work:/bin/sh\n", 0644)
    ||  s_write_file ("/tmp/etc/group", "root:x:0:\nlearner:x:1000:\n", 0644)
    ||  s_write_file ("/tmp/etc/hostname", "box\n", 0644)
    ||  s_write_file ("/tmp/etc/hosts", "127.0.0.1 localhost box\n", 0644))
        return -1;
    if (mount ("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        return -1;
    //  A prepared box mounts /work once its job says how large (s_take_job).
    if (plan->mode != TD_SBX_PREPARED
    &&  mount ("tdwork", "/tmp/work", "tmpfs", MS_NOSUID | MS_NODEV, plan->work_opts) != 0)
        return -1;
    if (sethostname ("box", 3) != 0)
        return -1;
    return 0;
}

static int
s_pivot (void)
{
    if (chdir ("/tmp") != 0)
        return -1;
    if (syscall (SYS_pivot_root, ".", ".") != 0)
        return -1;
    if (umount2 (".", MNT_DETACH) != 0)
        return -1;
    if (chdir ("/") != 0)
        return -1;
    return mount (NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

static td_sbx_job_t s_job;          //  PREPARED: the job, received into init's own memory
static char s_copy [65536];

//  Copy a file's sealed memfd (PREPARED) into fd; 0 or -1.
static int
s_copy_fd (int from, int to)
{
    while (true) {
        ssize_t r = read (from, s_copy, sizeof s_copy);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        s_write_all (to, s_copy, (size_t) r);
    }
}

//  Put the submission's files in /work (after the pivot: the path cannot lead outside).
static int
s_fill_work (const td_sbx_plan_t *plan)
{
    for (int i = 0; i < plan->nfiles; i++) {
        bool from_fd = plan->file_fds [i] >= 0;
        bool executable = from_fd? s_job.file_exec [i] != 0: plan->files [i].executable;
        int fd = open (plan->file_paths [i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                       executable? 0755: 0644);
        if (fd < 0)
            return -1;
        if (from_fd) {
            if (s_copy_fd (plan->file_fds [i], fd) != 0) {
                close (fd);
                return -1;
            }
        }
        else
            s_write_all (fd, plan->files [i].data, plan->files [i].size);
        if (fchown (fd, TD_SBX_INSIDE_UID, TD_SBX_INSIDE_UID) != 0) {
            close (fd);
            return -1;
        }
        if (close (fd) != 0)
            return -1;
    }
    return 0;
}

//  What a prepared box's program tells init once the job came (with the report fd).
typedef struct {
    uint8_t want_artifact;
    uint64_t artifact_max;
} s_job_info_t;

//  PREPARED, in the program (forked by init ahead of the run, still root of the namespace and
//  alone in the box): wait for the one job on fd_ctl, hand init the report fd and what it needs
//  to know, make the plan a ONESHOT plan from the job, mount /work. The sender is our own
//  supervisor; the checks only keep a malformed message from reading past a buffer. -1 before
//  the report fd went to init ends the box without a report (the supervisor then says
//  internal_error); after it, the caller reports the stage.
static int
s_take_job (td_sbx_plan_t *p, int sock, bool *reported)
{
    char cbuf [CMSG_SPACE (sizeof (int) * TD_SBX_JOB_FDS)];
    memset (cbuf, 0, sizeof cbuf);
    struct iovec iov = { &s_job, sizeof s_job };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                          .msg_controllen = sizeof cbuf };
    ssize_t r;
    do
        r = recvmsg (p->fd_ctl, &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    struct cmsghdr *cm = r > 0? CMSG_FIRSTHDR (&msg): NULL;
    if (r != (ssize_t) sizeof s_job || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
    ||  s_job.magic != TD_SBX_JOB_MAGIC || !cm || cm->cmsg_level != SOL_SOCKET
    ||  cm->cmsg_type != SCM_RIGHTS || s_job.nfiles < 1 || s_job.nfiles > TD_SBX_MAX_FILES
    ||  (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int) != 4 + s_job.nfiles
    ||  s_job.argc < 1 || s_job.argc >= TD_SBX_MAX_ARGV || s_job.nrl > 16)
        return -1;
    int fds [TD_SBX_JOB_FDS];
    memcpy (fds, CMSG_DATA (cm), (4 + s_job.nfiles) * sizeof (int));
    close (p->fd_ctl);
    p->fd_ctl = -1;
    //  The report is init's to write: the fd goes to init and is closed here.
    s_job_info_t info = { s_job.want_artifact, s_job.artifact_max };
    if (td_sbx_send_fds (sock, &info, sizeof info, &fds [3], 1) != 0)
        return -1;
    close (fds [3]);
    *reported = true;
    p->fd_stdin = fds [0];
    p->fd_stdout = fds [1];
    p->fd_stderr = fds [2];
    s_job.arg_store [sizeof s_job.arg_store - 1] = 0;
    s_job.work_opts [sizeof s_job.work_opts - 1] = 0;
    for (uint32_t i = 0; i < s_job.argc; i++) {
        if (s_job.argv_off [i] >= sizeof s_job.arg_store)
            return -1;
        p->argv [i] = s_job.arg_store + s_job.argv_off [i];
    }
    p->argv [s_job.argc] = NULL;
    p->nfiles = (int) s_job.nfiles;
    for (uint32_t i = 0; i < s_job.nfiles; i++) {
        memcpy (p->file_paths [i], s_job.file_paths [i], sizeof p->file_paths [i]);
        p->file_paths [i][sizeof p->file_paths [i] - 1] = 0;
        p->file_fds [i] = fds [4 + i];
    }
    p->nrl = (int) s_job.nrl;
    memcpy (p->rl_res, s_job.rl_res, sizeof p->rl_res);
    memcpy (p->rl, s_job.rl, sizeof p->rl);
    memcpy (p->work_opts, s_job.work_opts, sizeof p->work_opts);
    p->mode = TD_SBX_ONESHOT;
    if (mount ("tdwork", "/work", "tmpfs", MS_NOSUID | MS_NODEV, p->work_opts) != 0
    ||  s_fill_work (p) != 0)
        return -1;
    for (int i = 0; i < p->nfiles; i++)
        close (p->file_fds [i]);
    return 0;
}

//  PREPARED, in init: the report fd and the job's artifact wish from the program. 0 or -1.
static int
s_recv_report (td_sbx_plan_t *p, int sock)
{
    s_job_info_t info;
    char cbuf [CMSG_SPACE (sizeof (int))];
    memset (cbuf, 0, sizeof cbuf);
    struct iovec iov = { &info, sizeof info };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                          .msg_controllen = sizeof cbuf };
    ssize_t r;
    do
        r = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    while (r < 0 && errno == EINTR);
    struct cmsghdr *cm = r > 0? CMSG_FIRSTHDR (&msg): NULL;
    if (r != (ssize_t) sizeof info || !cm || cm->cmsg_level != SOL_SOCKET
    ||  cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN (sizeof (int)))
        return -1;
    memcpy (&p->fd_report, CMSG_DATA (cm), sizeof (int));
    p->want_artifact = info.want_artifact != 0;
    p->artifact_max = (size_t) info.artifact_max;
    p->mode = TD_SBX_ONESHOT;
    return 0;
}

static int
s_fresh_work (const td_sbx_plan_t *plan)
{
    if (umount2 ("/work", MNT_DETACH) != 0)
        return -1;
    if (mount ("tdwork", "/work", "tmpfs", MS_NOSUID | MS_NODEV, plan->work_opts) != 0)
        return -1;
    return s_fill_work (plan);
}

//  Move fd to a number >= 64 so dup2 onto 0..5 cannot clobber another one we still need.
static int
s_high (int fd)
{
    return fd < 0? -1: fcntl (fd, F_DUPFD_CLOEXEC, 64);
}

__attribute__ ((noreturn)) static void
s_program (const td_sbx_plan_t *plan, int sock, int execerr)
{
    int in = s_high (plan->fd_stdin), out = s_high (plan->fd_stdout), err = s_high (plan->fd_stderr);
    int hsock = s_high (sock), herr = s_high (execerr);
    int zsock = plan->mode == TD_SBX_ZYGOTE? s_high (plan->fd_zygote): -1;
    int stage = TD_SBX_STAGE_EXEC;
    if (in < 0 || out < 0 || err < 0 || hsock < 0 || herr < 0
    ||  (plan->mode == TD_SBX_ZYGOTE && zsock < 0))
        goto fail;
    if (dup2 (in, 0) < 0 || dup2 (out, 1) < 0 || dup2 (err, 2) < 0 || dup2 (hsock, GC_SOCK) < 0
    ||  dup3 (herr, GC_EXECERR, O_CLOEXEC) < 0
    ||  (zsock >= 0 && dup2 (zsock, GC_ZYGOTE) < 0))
        goto fail;
    if (syscall (SYS_close_range, zsock >= 0? GC_ZYGOTE + 1: GC_EXECERR + 1, ~0U, 0) != 0)
        goto fail;
    if (setsid () < 0)
        goto fail;
    //  Dispositions ignored by the server (SIGPIPE…) would survive exec: reset them all.
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < 65; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction (sig, &sa, NULL);
    sigset_t none;
    sigemptyset (&none);
    if (sigprocmask (SIG_SETMASK, &none, NULL) != 0)
        goto fail;
    if (chdir ("/work") != 0)
        goto fail;
    stage = TD_SBX_STAGE_RLIMIT;
    //  When the run's memory cgroup is full, its OOM killer must pick the learner's processes,
    //  never init: init is a copy-on-write image of the server, and its resident size (shared
    //  pages count) would make it the first choice. Raising one's own score needs no privilege,
    //  but /proc/self of a non-dumpable process (init's flag, inherited) belongs to the host's
    //  root: dumpable for the write, while this process is still alone in the box.
    if (prctl (PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
        goto fail;
    int oom = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (oom < 0 || write (oom, "1000", 4) != 4)
        goto fail;
    close (oom);
    if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        goto fail;
    for (int i = 0; i < plan->nrl; i++)
        if (setrlimit (plan->rl_res [i], &plan->rl [i]) != 0)
            goto fail;
    stage = TD_SBX_STAGE_CREDS;
    //  The zygote stays root of the user namespace (host uid TD_SANDBOX_UID_BASE) so that its
    //  test children, which drop to 1000 before any learner code, cannot signal, trace or
    //  read it; it runs no learner code itself.
    if (s_setgroups_none () != 0)
        goto fail;
    if (plan->mode == TD_SBX_ONESHOT
    &&  (s_setresgid (TD_SBX_INSIDE_UID) != 0 || s_setresuid (TD_SBX_INSIDE_UID) != 0))
        goto fail;
    if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        goto fail;
    stage = TD_SBX_STAGE_SECCOMP;
    long listener = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                             &plan->prog);
    if (listener < 0)
        goto fail;
    //  From here on only allowed calls: sendmsg, close, execve, write, exit_group.
    int lfd = (int) listener;
    if (td_sbx_send_fds (GC_SOCK, "L", 1, &lfd, 1) != 0)
        goto fail;
    close (lfd);
    close (GC_SOCK);
    stage = TD_SBX_STAGE_EXEC;
    execve (plan->argv [0], plan->argv, plan->envp);
fail:;
    int32_t e [2] = { stage, errno };
    s_write_all (GC_EXECERR, e, sizeof e);
    _exit (127);
}

static int
s_recv_fd (int sock)
{
    char cbuf [CMSG_SPACE (sizeof (int))];
    char byte;
    struct iovec iov = { &byte, 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                          .msg_controllen = sizeof cbuf };
    ssize_t r;
    do
        r = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r != 1)
        return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy (&fd, CMSG_DATA (cm), sizeof fd);
    return fd;
}

//  One pending notification: name it, refuse it, kill the caller (oneshot: everyone).
static void
s_notification (const td_sbx_plan_t *plan, int listener)
{
    union { struct seccomp_notif n; char raw [512]; } req;
    union { struct seccomp_notif_resp r; char raw [512]; } resp;
    memset (&req, 0, sizeof req);
    if (ioctl (listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0)
        return;                     //  the caller died meanwhile
    memset (&resp, 0, sizeof resp);
    resp.r.id = req.n.id;
    resp.r.error = -EPERM;
    if (ioctl (listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) { /* caller gone: still report */ }
    if (plan->mode == TD_SBX_ZYGOTE) {
        //  Tell the parent which call; it kills the test's cgroup. Kill the caller at once.
        int32_t msg [3] = { 'S', (int32_t) req.n.data.nr, (int32_t) req.n.data.arch };
        if (req.n.pid > 1)
            kill ((pid_t) req.n.pid, SIGKILL);
        s_write_all (plan->fd_ctl, msg, sizeof msg);
        return;
    }
    if (s_rep.sys_nr < 0) {
        s_rep.sys_nr = req.n.data.nr;
        s_rep.sys_arch = req.n.data.arch;
    }
    kill (-1, SIGKILL);
}

static void
s_artifact (const td_sbx_plan_t *plan)
{
    int fd = open ("/work/a.out", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size <= 0
    ||  (size_t) st.st_size > plan->artifact_max) {
        if (fd >= 0)
            close (fd);
        s_write_all (plan->fd_report, &s_rep, sizeof s_rep);
        return;
    }
    s_rep.artifact_len = (uint32_t) st.st_size;
    s_write_all (plan->fd_report, &s_rep, sizeof s_rep);
    char buf [16384];
    size_t left = (size_t) st.st_size;
    while (left > 0) {
        ssize_t r = read (fd, buf, left < sizeof buf? left: sizeof buf);
        if (r <= 0)
            break;
        s_write_all (plan->fd_report, buf, (size_t) r);
        left -= (size_t) r;
    }
    close (fd);
}

//  init inherited every fd of the server (sockets, other runs' pipes): keep only its own.
static int
s_close_others (const td_sbx_plan_t *plan)
{
    int keep [7] = { plan->fd_go, plan->fd_stdin, plan->fd_stdout, plan->fd_stderr, plan->fd_report,
                     plan->fd_ctl, plan->fd_zygote };
    int n = 0;
    for (int i = 0; i < 7; i++)
        if (keep [i] >= 0)
            keep [n++] = keep [i];
    for (int i = 1; i < n; i++)                 //  insertion sort, n <= 7
        for (int j = i; j > 0 && keep [j - 1] > keep [j]; j--) {
            int t = keep [j]; keep [j] = keep [j - 1]; keep [j - 1] = t;
        }
    unsigned int from = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned int) keep [i] > from
        &&  syscall (SYS_close_range, from, (unsigned int) keep [i] - 1, 0) != 0)
            return -1;
        from = (unsigned int) keep [i] + 1;
    }
    return (int) syscall (SYS_close_range, from, ~0U, 0);
}

void
td_sbx_child_main (const td_sbx_plan_t *plan)
{
    memset (&s_rep, 0, sizeof s_rep);
    s_rep.sys_nr = -1;
    char go;
    ssize_t r;
    do
        r = read (plan->fd_go, &go, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1)
        s_fail (plan, TD_SBX_STAGE_GO);
    close (plan->fd_go);
    if (s_close_others (plan) != 0)
        s_fail (plan, TD_SBX_STAGE_GO);
    if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        s_fail (plan, TD_SBX_STAGE_GO);
    if (s_setresgid (0) != 0 || s_setresuid (0) != 0 || s_setgroups_none () != 0)
        s_fail (plan, TD_SBX_STAGE_IDS);
    //  init is a copy-on-write image of the server: never readable through /proc/1/mem & co.
    //  (the learner is another uid and has no ptrace; this says it twice).
    if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        s_fail (plan, TD_SBX_STAGE_IDS);
    if (s_mounts (plan) != 0)
        s_fail (plan, TD_SBX_STAGE_MOUNT);
    if (s_pivot () != 0)
        s_fail (plan, TD_SBX_STAGE_PIVOT);
    //  A prepared box forks its program now and both wait for the job (s_take_job).
    bool prepared = plan->mode == TD_SBX_PREPARED;
    if (!prepared && s_fill_work (plan) != 0)
        s_fail (plan, TD_SBX_STAGE_FILES);

    sigset_t chld;
    sigemptyset (&chld);
    sigaddset (&chld, SIGCHLD);
    if (sigprocmask (SIG_BLOCK, &chld, NULL) != 0)
        s_fail (plan, TD_SBX_STAGE_FORK);
    int sfd = signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    int sp [2], ep [2];
    if (sfd < 0 || socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0
    ||  pipe2 (ep, O_CLOEXEC) != 0)
        s_fail (plan, TD_SBX_STAGE_FORK);
    long pid = syscall (SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid < 0)
        s_fail (plan, TD_SBX_STAGE_FORK);
    if (pid == 0) {
        if (prepared) {
            //  Ready: everything above was done ahead of the run; from here on it is the run's.
            bool reported = false;
            if (s_take_job ((td_sbx_plan_t *) plan, sp [1], &reported) != 0) {
                int32_t e [2] = { TD_SBX_STAGE_FILES, errno };
                if (reported)
                    s_write_all (ep [1], e, sizeof e);
                _exit (127);
            }
        }
        s_program (plan, sp [1], ep [1]);
    }
    close (sp [1]);
    close (ep [1]);
    if (prepared) {
        close (plan->fd_ctl);
        if (s_recv_report ((td_sbx_plan_t *) plan, sp [0]) != 0)
            _exit (1);
    }
    close (plan->fd_stdin);
    close (plan->fd_stdout);
    close (plan->fd_stderr);
    if (plan->fd_zygote >= 0)
        close (plan->fd_zygote);
    int listener = s_recv_fd (sp [0]);
    close (sp [0]);
    int32_t e [2];
    do
        r = read (ep [0], e, sizeof e);
    while (r < 0 && errno == EINTR);
    close (ep [0]);
    if (r == (ssize_t) sizeof e) {
        s_rep.stage = e [0];
        s_rep.err = e [1];
    }
    else
        s_rep.started = 1;

    bool done = false;
    while (!done) {
        struct pollfd pfd [3] = {
            { sfd, POLLIN, 0 }, { listener, POLLIN, 0 },
            { plan->mode == TD_SBX_ZYGOTE? plan->fd_ctl: -1, POLLIN, 0 } };
        int n = poll (pfd, 3, -1);
        if (n < 0 && errno != EINTR) {
            s_rep.stage = TD_SBX_STAGE_LOOP;
            s_rep.err = errno;
            break;
        }
        if (listener >= 0 && (pfd [1].revents & POLLIN))
            s_notification (plan, listener);
        else
        if (listener >= 0 && (pfd [1].revents & (POLLHUP | POLLERR | POLLNVAL))) {
            close (listener);
            listener = -1;
        }
        if (pfd [2].revents & (POLLHUP | POLLERR))
            break;                  //  the parent closed the session
        if (pfd [2].revents & POLLIN) {
            char cmd;
            if (read (plan->fd_ctl, &cmd, 1) != 1)
                break;
            int32_t reply [3] = { 'K', 0, 0 };
            if (cmd != 'W' || s_fresh_work (plan) != 0) {
                reply [0] = 'E';
                reply [1] = errno;
            }
            s_write_all (plan->fd_ctl, reply, sizeof reply);
        }
        if (pfd [0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si)
                ;
            int status;
            pid_t w;
            while ((w = waitpid (-1, &status, WNOHANG)) > 0)
                if (w == (pid_t) pid) {
                    s_rep.status = status;
                    done = true;
                }
        }
    }
    //  The program is over: whatever it left behind goes too, then reap everything.
    kill (-1, SIGKILL);
    while (waitpid (-1, NULL, 0) > 0 || errno == EINTR)
        ;
    struct rusage ru;
    if (getrusage (RUSAGE_CHILDREN, &ru) == 0) {
        s_rep.cpu_usec = (int64_t) ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec
                       + (int64_t) ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
        s_rep.maxrss_kb = ru.ru_maxrss;
    }
    if (plan->want_artifact && s_rep.stage == 0 && s_rep.sys_nr < 0
    &&  WIFEXITED (s_rep.status) && WEXITSTATUS (s_rep.status) == 0)
        s_artifact (plan);
    else
        s_write_all (plan->fd_report, &s_rep, sizeof s_rep);
    _exit (0);
}
