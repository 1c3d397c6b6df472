/*  test_grade_cgroup — the sandbox's control groups: the kernel-file parsers with fixtures (v1 and
 *  v2 shapes), the v2 set-up and read path against a fixture tree (this machine has no v2), and a
 *  real group on this host's hierarchy (v1 here): limits written, a process attached, killed and
 *  the group removed. Needs root for the real part, as the sandbox does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "grader/td_sandbox_int.h"

static void
s_put (const char *dir, const char *file, const char *text)
{
    char path [1024];
    assert_true ((size_t) snprintf (path, sizeof path, "%s/%s", dir, file) < sizeof path);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void
s_get (const char *dir, const char *file, char *buf, size_t size)
{
    char path [1024];
    assert_true ((size_t) snprintf (path, sizeof path, "%s/%s", dir, file) < sizeof path);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    size_t n = fread (buf, 1, size - 1, f);
    buf [n] = 0;
    fclose (f);
}

static void
test_parse_own (void **state)
{
    (void) state;
    //  hybrid, as on this machine: v1 controllers plus the unified "0::" line
    const char *hybrid =
        "12:pids:/system.slice/tutord.service\n"
        "11:cpu,cpuacct:/system.slice\n"
        "4:memory:/system.slice/tutord.service\n"
        "1:name=systemd:/system.slice/tutord.service\n"
        "0::/system.slice/tutord.service\n";
    char out [256];
    assert_int_equal (td_cg_parse_own (hybrid, "memory", out, sizeof out), 0);
    assert_string_equal (out, "/system.slice/tutord.service");
    assert_int_equal (td_cg_parse_own (hybrid, "cpuacct", out, sizeof out), 0);
    assert_string_equal (out, "/system.slice");
    assert_int_equal (td_cg_parse_own (hybrid, "", out, sizeof out), 0);     //  the v2 line
    assert_string_equal (out, "/system.slice/tutord.service");
    assert_int_equal (td_cg_parse_own (hybrid, "systemd", out, sizeof out), -1);
    assert_int_equal (td_cg_parse_own (hybrid, "cpuset", out, sizeof out), -1);
    //  pure v2, at the root and nested; no trailing newline
    assert_int_equal (td_cg_parse_own ("0::/", "", out, sizeof out), 0);
    assert_string_equal (out, "");
    assert_int_equal (td_cg_parse_own ("0::/user.slice/a b", "", out, sizeof out), 0);
    assert_string_equal (out, "/user.slice/a b");
    assert_int_equal (td_cg_parse_own ("0::/x\n", "memory", out, sizeof out), -1);
    //  hostile or broken: relative, "..", too long, garbage
    assert_int_equal (td_cg_parse_own ("0::x/y\n", "", out, sizeof out), -1);
    assert_int_equal (td_cg_parse_own ("0::/a/../../etc\n", "", out, sizeof out), -1);
    assert_int_equal (td_cg_parse_own ("0::/a/..\n", "", out, sizeof out), -1);
    assert_int_equal (td_cg_parse_own ("0::/a/b\n", "", out, 4), -1);
    assert_int_equal (td_cg_parse_own ("garbage\n::\n", "", out, sizeof out), -1);
    assert_int_equal (td_cg_parse_own ("", "", out, sizeof out), -1);
}

static void
test_parse_key_and_controllers (void **state)
{
    (void) state;
    uint64_t v = 0;
    const char *events = "low 0\nhigh 0\nmax 17\noom 2\noom_kill 1\noom_group_kill 0\n";
    assert_true (td_cg_parse_key (events, "oom_kill", &v));
    assert_int_equal (v, 1);
    assert_true (td_cg_parse_key (events, "oom", &v));          //  not the oom_kill line
    assert_int_equal (v, 2);
    assert_true (td_cg_parse_key (events, "max", &v));
    assert_int_equal (v, 17);
    assert_false (td_cg_parse_key (events, "oom_kil", &v));
    assert_false (td_cg_parse_key (events, "swap", &v));
    const char *v1oom = "oom_kill_disable 0\nunder_oom 0\noom_kill 3";
    assert_true (td_cg_parse_key (v1oom, "oom_kill", &v));
    assert_int_equal (v, 3);
    const char *stat = "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n";
    assert_true (td_cg_parse_key (stat, "usage_usec", &v));
    assert_int_equal (v, 123456);
    assert_false (td_cg_parse_key ("oom_kill x\n", "oom_kill", &v));
    assert_false (td_cg_parse_key ("oom_kill 12abc\n", "oom_kill", &v));
    assert_false (td_cg_parse_key ("oom_kill 99999999999999999999999\n", "oom_kill", &v));

    assert_int_equal (td_cg_parse_controllers ("cpuset cpu io memory hugetlb pids rdma misc\n"),
                      TD_CG_HAS_MEMORY | TD_CG_HAS_PIDS | TD_CG_HAS_CPU);
    assert_int_equal (td_cg_parse_controllers ("memory pids"), TD_CG_HAS_MEMORY | TD_CG_HAS_PIDS);
    assert_int_equal (td_cg_parse_controllers ("cpuset cpuacct io memoryx"), 0);
    assert_int_equal (td_cg_parse_controllers (""), 0);
    assert_int_equal (td_cg_parse_controllers ("\n\t "), 0);
}

//  A v2 hierarchy as files in a temporary folder: delegation checked, subtree_control written,
//  and the read path (peak, OOM kills, CPU) from v2's files.
static void
test_v2_fixture_tree (void **state)
{
    (void) state;
    char base [] = "/tmp/td-cg-v2-XXXXXX";
    assert_non_null (mkdtemp (base));
    s_put (base, "cgroup.controllers", "cpuset cpu io memory pids\n");
    char deleg [600];
    snprintf (deleg, sizeof deleg, "%s/deleg", base);
    assert_int_equal (mkdir (deleg, 0755), 0);
    td_cg_root_t root;
    td_error_t err;
    //  no controllers offered to the root: refused with the variable to fix it
    s_put (deleg, "cgroup.controllers", "io\n");
    s_put (deleg, "cgroup.subtree_control", "");
    assert_int_equal (td_cg_root_init_at (&root, base, deleg, &err), -1);
    assert_non_null (strstr (err.message, "TUTORD_CGROUP_ROOT"));
    //  memory and pids, no cpu: accepted; the subtree gets exactly those
    s_put (deleg, "cgroup.controllers", "memory pids\n");
    assert_int_equal (td_cg_root_init_at (&root, base, deleg, &err), 0);
    assert_int_equal (root.version, 2);
    assert_string_equal (root.mem, deleg);
    assert_false (root.v2_cpu);
    char buf [256];
    s_get (deleg, "cgroup.subtree_control", buf, sizeof buf);
    assert_string_equal (buf, "+memory +pids");
    s_put (deleg, "cgroup.controllers", "cpu memory pids\n");
    s_put (deleg, "cgroup.subtree_control", "");
    assert_int_equal (td_cg_root_init_at (&root, base, deleg, &err), 0);
    assert_true (root.v2_cpu);
    s_get (deleg, "cgroup.subtree_control", buf, sizeof buf);
    assert_string_equal (buf, "+memory +pids +cpu");
    //  a root that cannot be written (no subtree_control file: not delegated)
    char other [640];
    snprintf (other, sizeof other, "%s/other", base);
    assert_int_equal (mkdir (other, 0755), 0);
    s_put (other, "cgroup.controllers", "memory pids\n");
    assert_int_equal (td_cg_root_init_at (&root, base, other, &err), -1);
    //  the read path of one run's group
    char run [640];
    snprintf (run, sizeof run, "%s/r1-fixture", deleg);
    assert_int_equal (mkdir (run, 0755), 0);
    s_put (run, "memory.peak", "10485760\n");
    s_put (run, "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
    s_put (run, "cpu.stat", "usage_usec 4321\nuser_usec 4000\nsystem_usec 321\n");
    td_cg_t cg = { .version = 2 };
    snprintf (cg.mem, sizeof cg.mem, "%.300s", run);         //  the fixture path is short
    uint64_t peak = 0, usec = 0;
    bool oom = false;
    td_cg_stats (&cg, &peak, &oom);
    assert_int_equal (peak, 10240);
    assert_true (oom);
    assert_int_equal (td_cg_cpu_usec (&cg, &usec), 0);
    assert_int_equal (usec, 4321);
    s_put (run, "memory.events", "low 0\noom_kill 0\n");
    td_cg_stats (&cg, &peak, &oom);
    assert_false (oom);
    //  clean up the fixture
    char cmd [700];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal (system (cmd), 0);
}

//  The host's own hierarchy (v1 on this machine, v2 where delegated): a real group per run.
static void
test_real_group (void **state)
{
    (void) state;
    td_cg_root_t root;
    td_error_t err;
    if (td_cg_root_init (&root, NULL, &err) != 0)
        fail_msg ("no writable cgroup hierarchy here (%s): the grader cannot run either", err.message);
    td_limits_t lim;
    td_limits_default (&lim);
    lim.memory_kb = 65536;
    lim.processes = 5;
    td_cg_t cg;
    char name [64];
    snprintf (name, sizeof name, "r%d-unit", (int) getpid ());
    assert_int_equal (td_cg_create (&root, &cg, name, &lim), 0);
    char buf [256];
    if (root.version == 1) {
        s_get (cg.mem, "memory.limit_in_bytes", buf, sizeof buf);
        assert_string_equal (buf, "67108864\n");
        s_get (cg.pids, "pids.max", buf, sizeof buf);
    }
    else {
        s_get (cg.mem, "memory.max", buf, sizeof buf);
        assert_string_equal (buf, "67108864\n");
        s_get (cg.mem, "pids.max", buf, sizeof buf);
    }
    assert_string_equal (buf, "6\n");                  //  the processes + the box's init
    pid_t child = fork ();
    assert_true (child >= 0);
    if (child == 0) {
        pause ();
        _exit (0);
    }
    assert_int_equal (td_cg_attach (&cg, child), 0);
    s_get (cg.mem, "cgroup.procs", buf, sizeof buf);
    char want [32];
    snprintf (want, sizeof want, "%d\n", (int) child);
    assert_non_null (strstr (buf, want));
    uint64_t peak = 0;
    bool oom = true;
    td_cg_stats (&cg, &peak, &oom);
    assert_false (oom);
    td_cg_kill_all (&cg);
    int status = 0;
    assert_int_equal (waitpid (child, &status, 0), child);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    char mem [sizeof cg.mem];
    snprintf (mem, sizeof mem, "%s", cg.mem);
    assert_int_equal (td_cg_destroy (&cg), 0);
    struct stat st;
    assert_int_equal (stat (mem, &st), -1);
    assert_int_equal (errno, ENOENT);
}

//  A child that waits on p [0] and exits 7; its status.
static int
s_reap (pid_t pid, int pidfd, int p [2])
{
    char c = 'x';
    assert_int_equal (write (p [1], &c, 1), 1);
    close (p [1]);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    close (pidfd);
    assert_true (WIFEXITED (status));
    return WEXITSTATUS (status);
}

//  td_sbx_clone: on v2 the child is born in the group (clone3 + CLONE_INTO_CGROUP); where the
//  kernel refuses that (here: a v2 fixture tree, not a cgroup2 directory) or on v1, a plain
//  clone that the caller then moves. Either way a working child with a pidfd.
static void
test_clone_into_cgroup (void **state)
{
    (void) state;
    int p [2];
    bool placed = true;
    int pidfd = -1;
    unsigned long flags = CLONE_PIDFD | SIGCHLD;
    //  the fixture: clone3 refuses the directory, the fallback clones
    char base [] = "/tmp/td-cg-clone-XXXXXX";
    assert_non_null (mkdtemp (base));
    td_cg_t fixture = { .version = 2 };
    snprintf (fixture.mem, sizeof fixture.mem, "%s", base);
    assert_int_equal (pipe (p), 0);
    long pid = td_sbx_clone (&fixture, flags, &pidfd, &placed);
    if (pid == 0) {
        char c;
        _exit (read (p [0], &c, 1) == 1? 7: 1);
    }
    close (p [0]);
    assert_true (pid > 0);
    assert_false (placed);
    assert_true (pidfd >= 0);
    assert_int_equal (s_reap ((pid_t) pid, pidfd, p), 7);
    assert_int_equal (rmdir (base), 0);
    //  no group at all: plain clone
    assert_int_equal (pipe (p), 0);
    pid = td_sbx_clone (NULL, flags, &pidfd, &placed);
    if (pid == 0) {
        char c;
        _exit (read (p [0], &c, 1) == 1? 7: 1);
    }
    close (p [0]);
    assert_true (pid > 0 && !placed);
    assert_int_equal (s_reap ((pid_t) pid, pidfd, p), 7);
    //  the host's own hierarchy: v2 places the child at birth (checked in /proc), v1 does not
    td_cg_root_t root;
    td_error_t err;
    if (td_cg_root_init (&root, NULL, &err) != 0)
        fail_msg ("no writable cgroup hierarchy here (%s)", err.message);
    td_limits_t lim;
    td_limits_default (&lim);
    td_cg_t cg;
    char name [64];
    snprintf (name, sizeof name, "r%d-clone", (int) getpid ());
    assert_int_equal (td_cg_create (&root, &cg, name, &lim), 0);
    assert_int_equal (pipe (p), 0);
    pid = td_sbx_clone (&cg, flags, &pidfd, &placed);
    if (pid == 0) {
        char c;
        _exit (read (p [0], &c, 1) == 1? 7: 1);
    }
    close (p [0]);
    assert_true (pid > 0);
    assert_int_equal (placed, root.version == 2);
    if (placed) {
        char path [64], buf [1024] = "";
        snprintf (path, sizeof path, "/proc/%ld/cgroup", pid);
        FILE *f = fopen (path, "r");
        assert_non_null (f);
        size_t n = fread (buf, 1, sizeof buf - 1, f);
        fclose (f);
        buf [n] = 0;
        assert_non_null (strstr (buf, name));
    }
    assert_int_equal (s_reap ((pid_t) pid, pidfd, p), 7);
    assert_int_equal (td_cg_destroy (&cg), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_parse_own),
        cmocka_unit_test (test_parse_key_and_controllers),
        cmocka_unit_test (test_v2_fixture_tree),
        cmocka_unit_test (test_real_group),
        cmocka_unit_test (test_clone_into_cgroup),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
