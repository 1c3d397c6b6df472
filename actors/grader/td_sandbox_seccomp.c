/*  td_sandbox_seccomp — the system-call allow-list learner code runs under.
 *
 *  Why an allow-list: a deny-list misses the next new call (io_uring was one). The list is what
 *  CPython 3.11, gcc/cc1/as/ld and ordinary C programs need on x86-64 and i386-less kernels;
 *  every other call — ptrace, mount, unshare/setns, keyctl, bpf, perf_event_open, io_uring,
 *  userfaultfd, process_vm_*, socket() outside AF_UNIX, clone with namespace flags, TIOCSTI —
 *  returns SECCOMP_RET_USER_NOTIF: the sandbox's init receives the call's number, answers EPERM
 *  and ends the run as security_violation naming it. clone3 answers ENOSYS (its flags live in
 *  memory a filter cannot read; glibc falls back to clone, whose flags we check). Foreign
 *  architectures (x32, i386 through int 0x80) are killed outright.
 *
 *  libseccomp builds the BPF once at td_sandbox_new; the program is exported into memory so the
 *  child only calls seccomp(2) on it (no allocation after clone).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "td_sandbox_int.h"

static const char *s_allowed [] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "open", "openat", "openat2", "close", "close_range", "creat",
    "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat",
    "faccessat2", "lseek", "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
    "mmap", "mprotect", "munmap", "brk", "mremap", "msync", "mincore", "madvise",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
    "rt_sigtimedwait", "sigaltstack", "pipe", "pipe2", "dup", "dup2", "dup3", "fcntl", "flock",
    "fsync", "fdatasync", "truncate", "ftruncate", "fallocate", "fadvise64",
    "getdents", "getdents64", "getcwd", "chdir", "fchdir", "rename", "renameat", "renameat2",
    "mkdir", "mkdirat", "rmdir", "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat",
    "readlink", "readlinkat", "chmod", "fchmod", "fchmodat", "umask", "utime", "utimes",
    "utimensat", "futimesat", "copy_file_range", "sendfile", "splice", "tee",
    "sched_yield", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
    "gettimeofday", "time", "getitimer", "setitimer", "alarm", "pause", "times",
    "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
    "timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd", "signalfd4",
    "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid",
    "getresgid", "getgroups", "getpgrp", "getpgid", "setpgid", "getsid", "setsid",
    "getrlimit", "setrlimit", "prlimit64", "getrusage", "sysinfo", "uname", "getpriority",
    "setpriority", "sched_getaffinity", "sched_getparam", "sched_getscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "getcpu", "getrandom",
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "set_tid_address", "rseq",
    "arch_prctl", "prctl", "membarrier", "memfd_create",
    "socketpair", "connect", "accept", "accept4", "bind", "listen", "sendto", "recvfrom",
    "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname", "getpeername",
    "setsockopt", "getsockopt", "pidfd_open", "restart_syscall",
    //  id changes: the zygote's child drops to uid 1000 with them; without capabilities
    //  (every learner process) they can only fail.
    "setgroups", "setresuid", "setresgid", "setuid", "setgid", "setreuid", "setregid", "capget",
};

int
td_seccomp_build (struct sock_fprog *prog, td_error_t *err)
{
    memset (prog, 0, sizeof *prog);
    scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_NOTIFY);
    if (!ctx)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "seccomp_init failed");
    int rc = seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0)                    //  a binary search over syscall numbers, not a linear list
        rc = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (size_t i = 0; rc == 0 && i < sizeof s_allowed / sizeof s_allowed [0]; i++) {
        int nr = seccomp_syscall_resolve_name (s_allowed [i]);
        if (nr == __NR_SCMP_ERROR)
            continue;               //  not on this architecture (e.g. "time" is, "open" is)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    //  Only Unix sockets: there is no network in the box, and this names the attempt.
    if (rc == 0)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (socket), 1,
                               SCMP_A0 (SCMP_CMP_EQ, AF_UNIX, 0));
    //  clone for threads and fork, never with a namespace flag.
    uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
                      | CLONE_NEWUTS | CLONE_NEWCGROUP;
    if (rc == 0)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (clone), 1,
                               SCMP_A0 (SCMP_CMP_MASKED_EQ, ns_flags, 0));
    if (rc == 0)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (clone3), 0);
    //  ioctl, but not pushing bytes into a terminal's input.
    if (rc == 0)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (ioctl), 1,
                               SCMP_A1 (SCMP_CMP_NE, TIOCSTI, 0));
    if (rc != 0) {
        seccomp_release (ctx);
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "seccomp rule failed: %s", strerror (-rc));
    }
    int fd = memfd_create ("td-seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        seccomp_release (ctx);
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "memfd_create: %s", strerror (errno));
    }
    rc = seccomp_export_bpf (ctx, fd);
    seccomp_release (ctx);
    off_t size = rc == 0? lseek (fd, 0, SEEK_END): -1;
    if (size <= 0 || size % sizeof (struct sock_filter) != 0 || size > 65536
    ||  lseek (fd, 0, SEEK_SET) != 0) {
        close (fd);
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "seccomp export failed");
    }
    struct sock_filter *filter = malloc ((size_t) size);
    if (!filter || read (fd, filter, (size_t) size) != size) {
        free (filter);
        close (fd);
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "seccomp export read failed");
    }
    close (fd);
    prog->filter = filter;
    prog->len = (unsigned short) (size / sizeof (struct sock_filter));
    return 0;
}

void
td_seccomp_free (struct sock_fprog *prog)
{
    free (prog->filter);
    prog->filter = NULL;
    prog->len = 0;
}

void
td_seccomp_name (int nr, uint32_t arch, char *buf, size_t size)
{
    char *name = seccomp_syscall_resolve_num_arch (arch? arch: SCMP_ARCH_NATIVE, nr);
    if (name) {
        snprintf (buf, size, "%s", name);
        free (name);
    }
    else
        snprintf (buf, size, "syscall_%d", nr);
}
