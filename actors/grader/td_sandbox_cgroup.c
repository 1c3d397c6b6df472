/*  td_sandbox_cgroup — one memory + pids (+ CPU accounting) control group per sandbox run.
 *
 *  Why: rlimits are per process, so only a control group bounds a whole tree (fork bombs, a
 *  memory bomb spread over children) and tells us its peak memory and whether the OOM killer
 *  acted (memory_limit). Both hierarchies are supported, detected at start:
 *   v1 (this machine): <memory>/<own cgroup>/tutord/<run>, <pids>/…, <cpuacct>/…;
 *      memory.limit_in_bytes (+ memsw when present), memory.max_usage_in_bytes for the peak,
 *      memory.oom_control's oom_kill counter; pids.max; cpuacct.usage for CPU.
 *   v2: one directory under a delegated root (its cgroup.controllers must offer memory and
 *      pids; cpu when there); memory.max, memory.swap.max=0, pids.max,
 *      memory.peak, memory.events oom_kill, cpu.stat usage_usec, cgroup.kill.
 *  Nesting under our own cgroup keeps the runs inside whatever accounting the host gives tutord.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "td_sandbox_int.h"

#define CG_BASE "/sys/fs/cgroup"

static int
s_write (const char *dir, const char *file, const char *value)
{
    char path [TD_SBX_PATH + 96];
    int n = snprintf (path, sizeof path, "%s/%s", dir, file);
    if (n < 0 || (size_t) n >= sizeof path)
        return -1;
    int fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen (value);
    ssize_t w = write (fd, value, len);
    int saved = errno;
    close (fd);
    errno = saved;
    return w == (ssize_t) len ? 0 : -1;
}

static int
s_read (const char *dir, const char *file, char *buf, size_t size)
{
    char path [TD_SBX_PATH + 96];
    int n = snprintf (path, sizeof path, "%s/%s", dir, file);
    if (n < 0 || (size_t) n >= sizeof path || size == 0)
        return -1;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r = read (fd, buf, size - 1);
    close (fd);
    if (r < 0)
        return -1;
    buf [r] = 0;
    return 0;
}

int
td_cg_parse_own (const char *text, const char *controller, char *out, size_t size)
{
    //  Each line is "hierarchy-id:controller,list:path"; v2's is "0::path".
    for (const char *line = text; line && *line;) {
        const char *end = strchr (line, '\n');
        size_t len = end? (size_t) (end - line): strlen (line);
        char buf [TD_SBX_PATH + 128];
        const char *next = end? end + 1: NULL;
        if (len >= sizeof buf) {
            line = next;
            continue;
        }
        memcpy (buf, line, len);
        buf [len] = 0;
        line = next;
        char *c1 = strchr (buf, ':');
        char *c2 = c1? strchr (c1 + 1, ':'): NULL;
        if (!c2)
            continue;
        *c1 = 0;
        *c2 = 0;
        const char *path = c2 + 1;
        bool match = false;
        if (*controller == 0)
            match = strcmp (buf, "0") == 0 && c1 [1] == 0;
        else {
            char *save = NULL;
            for (char *tok = strtok_r (c1 + 1, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
                if (strcmp (tok, controller) == 0)
                    match = true;
        }
        if (!match)
            continue;
        //  An absolute path without ".." components; "/" is the hierarchy's root ("").
        size_t plen = strlen (path);
        if (path [0] != '/' || strstr (path, "/../") || (plen >= 3 && strcmp (path + plen - 3, "/..") == 0))
            return -1;
        if (strcmp (path, "/") == 0)
            path = "";
        int n = snprintf (out, size, "%s", path);
        return (n < 0 || (size_t) n >= size)? -1: 0;
    }
    return -1;
}

bool
td_cg_parse_key (const char *text, const char *key, uint64_t *value)
{
    size_t klen = strlen (key);
    for (const char *line = text; line && *line;) {
        if (strncmp (line, key, klen) == 0 && line [klen] == ' ') {
            const char *p = line + klen + 1;
            if (*p < '0' || *p > '9')
                return false;
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull (p, &end, 10);
            if (errno != 0 || (*end != '\n' && *end != 0))
                return false;
            *value = (uint64_t) v;
            return true;
        }
        line = strchr (line, '\n');
        if (line)
            line++;
    }
    return false;
}

unsigned
td_cg_parse_controllers (const char *text)
{
    unsigned found = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        size_t n = strcspn (p, " \t\n");
        if ((n == 6 && strncmp (p, "memory", 6) == 0))
            found |= TD_CG_HAS_MEMORY;
        else
        if (n == 4 && strncmp (p, "pids", 4) == 0)
            found |= TD_CG_HAS_PIDS;
        else
        if (n == 3 && strncmp (p, "cpu", 3) == 0)
            found |= TD_CG_HAS_CPU;
        p += n;
    }
    return found;
}

//  Our own path in a v1 controller ("memory") or v2 (""), from /proc/self/cgroup.
static int
s_own_path (const char *controller, char *out, size_t size)
{
    char text [4096];
    if (s_read ("/proc/self", "cgroup", text, sizeof text) != 0)
        return -1;
    return td_cg_parse_own (text, controller, out, size);
}

static int
s_mkdir (const char *path)
{
    if (mkdir (path, 0755) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

static int
s_v1_base (const char *base, const char *controller, const char *override, char *out, size_t size)
{
    char own [TD_SBX_PATH];
    char mount [TD_SBX_PATH];
    int m = snprintf (mount, sizeof mount, "%s/%s", base, controller);
    if (m < 0 || (size_t) m >= sizeof mount)
        return -1;
    struct stat st;
    if (stat (mount, &st) != 0)
        return -1;
    int n;
    if (override)
        n = snprintf (out, size, "%s/%s", mount, override);
    else {
        if (s_own_path (controller, own, sizeof own) != 0)
            own [0] = 0;
        n = snprintf (out, size, "%s%s/tutord", mount, own);
    }
    if (n < 0 || (size_t) n >= size)
        return -1;
    return s_mkdir (out);
}

//  Remove run directories a dead process left behind ("r<pid>-…", "s<pid>-…", and the warm
//  keeper's "w<pid>-…", td_sandbox_warm.c): a crashed server
//  must not leak cgroups. Directories of live processes (another grader sharing the root) stay.
static void
s_sweep (const char *root)
{
    if (!root [0])
        return;
    DIR *dir = opendir (root);
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir (dir))) {
        if (e->d_type != DT_DIR || (e->d_name [0] != 'r' && e->d_name [0] != 's'
                                    && e->d_name [0] != 'w'))
            continue;
        char *end = NULL;
        long pid = strtol (e->d_name + 1, &end, 10);
        if (pid <= 0 || !end || *end != '-' || kill ((pid_t) pid, 0) == 0 || errno != ESRCH)
            continue;
        char path [TD_SBX_PATH + 300];
        snprintf (path, sizeof path, "%s/%s", root, e->d_name);
        rmdir (path);               //  EBUSY if something still runs there: left alone
    }
    closedir (dir);
}

int
td_cg_root_init (td_cg_root_t *root, const char *override, td_error_t *err)
{
    return td_cg_root_init_at (root, CG_BASE, override, err);
}

int
td_cg_root_init_at (td_cg_root_t *root, const char *base, const char *override, td_error_t *err)
{
    memset (root, 0, sizeof *root);
    struct stat st;
    char probe [TD_SBX_PATH];
    int pn = snprintf (probe, sizeof probe, "%s/cgroup.controllers", base);
    if (pn < 0 || (size_t) pn >= sizeof probe)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "the cgroup mount path is too long");
    if (stat (probe, &st) == 0) {
        root->version = 2;
        char own [TD_SBX_PATH] = "";
        const char *env = getenv ("TUTORD_CGROUP_ROOT");
        int n;
        if (override)
            n = snprintf (root->mem, sizeof root->mem, "%s", override);
        else if (env && *env)
            n = snprintf (root->mem, sizeof root->mem, "%s", env);
        else {
            if (s_own_path ("", own, sizeof own) != 0)
                own [0] = 0;
            n = snprintf (root->mem, sizeof root->mem, "%s%s/tutord", base, own);
        }
        if (n < 0 || (size_t) n >= sizeof root->mem || s_mkdir (root->mem) != 0)
            return td_error_set (err, TD_ERR_INTERNAL, NULL, "cannot create cgroup v2 root %s",
                                 root->mem);
        //  The controllers our runs need must be available to the root (delegated to it).
        char avail [512];
        unsigned have = s_read (root->mem, "cgroup.controllers", avail, sizeof avail) == 0
                      ? td_cg_parse_controllers (avail): 0;
        if ((have & (TD_CG_HAS_MEMORY | TD_CG_HAS_PIDS)) != (TD_CG_HAS_MEMORY | TD_CG_HAS_PIDS))
            return td_error_set (err, TD_ERR_INTERNAL, NULL,
                                 "cgroup v2 root %s lacks the memory and pids controllers: set "
                                 "TUTORD_CGROUP_ROOT to a delegated cgroup", root->mem);
        root->v2_cpu = (have & TD_CG_HAS_CPU) != 0;
        if (s_write (root->mem, "cgroup.subtree_control",
                     root->v2_cpu? "+memory +pids +cpu": "+memory +pids") != 0)
            return td_error_set (err, TD_ERR_INTERNAL, NULL,
                                 "cgroup v2 root %s is not delegated (memory, pids, cpu): set "
                                 "TUTORD_CGROUP_ROOT to a delegated cgroup", root->mem);
        s_sweep (root->mem);
        return 0;
    }
    root->version = 1;
    if (s_v1_base (base, "memory", override, root->mem, sizeof root->mem) != 0
    ||  s_v1_base (base, "pids", override, root->pids, sizeof root->pids) != 0)
        return td_error_set (err, TD_ERR_INTERNAL, NULL,
                             "cannot create cgroup v1 memory/pids directories (need root)");
    if (s_v1_base (base, "cpuacct", override, root->cpu, sizeof root->cpu) != 0)
        root->cpu [0] = 0;          //  CPU then comes from rusage only
    //  Children must see their parent's limits (hierarchical accounting).
    s_write (root->mem, "memory.use_hierarchy", "1");
    s_sweep (root->mem);
    s_sweep (root->pids);
    s_sweep (root->cpu);
    return 0;
}

static int
s_join (char *out, size_t size, const char *base, const char *name)
{
    int n = snprintf (out, size, "%s/%s", base, name);
    return (n < 0 || (size_t) n >= size)? -1: 0;
}

int
td_cg_set_limits (const td_cg_t *cg, const td_limits_t *lim)
{
    char value [32];
    snprintf (value, sizeof value, "%" PRIu64, lim->memory_kb * 1024);
    if (cg->version == 2) {
        if (s_write (cg->mem, "memory.max", value) != 0)
            return -1;
        s_write (cg->mem, "memory.swap.max", "0");          //  absent without swap accounting
        snprintf (value, sizeof value, "%u", lim->processes + 1);
        return s_write (cg->mem, "pids.max", value);
    }
    //  memsw must stay >= the memory limit: raise memsw first when growing, last when shrinking
    //  (absent without swap accounting: its failures do not count).
    s_write (cg->mem, "memory.memsw.limit_in_bytes", value);
    if (s_write (cg->mem, "memory.limit_in_bytes", value) != 0)
        return -1;
    s_write (cg->mem, "memory.memsw.limit_in_bytes", value);
    snprintf (value, sizeof value, "%u", lim->processes + 1);  //  + the box's init
    return s_write (cg->pids, "pids.max", value);
}

int
td_cg_create (const td_cg_root_t *root, td_cg_t *cg, const char *name, const td_limits_t *lim)
{
    memset (cg, 0, sizeof *cg);
    cg->version = root->version;
    if (root->version == 2) {
        if (s_join (cg->mem, sizeof cg->mem, root->mem, name) != 0 || mkdir (cg->mem, 0755) != 0)
            return -1;
        cg->created = true;
        return td_cg_set_limits (cg, lim);
    }
    if (s_join (cg->mem, sizeof cg->mem, root->mem, name) != 0
    ||  s_join (cg->pids, sizeof cg->pids, root->pids, name) != 0)
        return -1;
    if (root->cpu [0] && s_join (cg->cpu, sizeof cg->cpu, root->cpu, name) != 0)
        return -1;
    cg->created = true;
    if (mkdir (cg->mem, 0755) != 0) {
        cg->mem [0] = 0;
        return -1;
    }
    if (mkdir (cg->pids, 0755) != 0) {
        cg->pids [0] = 0;
        return -1;
    }
    if (cg->cpu [0] && mkdir (cg->cpu, 0755) != 0)
        cg->cpu [0] = 0;
    return td_cg_set_limits (cg, lim);
}

int
td_cg_attach (const td_cg_t *cg, pid_t pid)
{
    char value [24];
    snprintf (value, sizeof value, "%d", (int) pid);
    if (cg->version == 2)
        return s_write (cg->mem, "cgroup.procs", value);
    if (s_write (cg->mem, "cgroup.procs", value) != 0 || s_write (cg->pids, "cgroup.procs", value) != 0)
        return -1;
    if (cg->cpu [0] && s_write (cg->cpu, "cgroup.procs", value) != 0)
        return -1;
    return 0;
}

int
td_cg_open_procs (const td_cg_t *cg, int fds [3])
{
    fds [0] = fds [1] = fds [2] = -1;
    const char *dirs [3] = { cg->mem, cg->version == 1? cg->pids: "", cg->version == 1? cg->cpu: "" };
    for (int i = 0; i < 3; i++) {
        if (!dirs [i][0])
            continue;
        char path [TD_SBX_PATH + 96];
        snprintf (path, sizeof path, "%s/cgroup.procs", dirs [i]);
        fds [i] = open (path, O_WRONLY | O_CLOEXEC);
        if (fds [i] < 0) {
            for (int j = 0; j < i; j++)
                if (fds [j] >= 0)
                    close (fds [j]);
            return -1;
        }
    }
    return 0;
}

int
td_cg_cpu_usec (const td_cg_t *cg, uint64_t *usec)
{
    char buf [512];
    if (cg->version == 2) {
        if (s_read (cg->mem, "cpu.stat", buf, sizeof buf) != 0
        ||  !td_cg_parse_key (buf, "usage_usec", usec))
            return -1;
        return 0;
    }
    if (!cg->cpu [0] || s_read (cg->cpu, "cpuacct.usage", buf, sizeof buf) != 0)
        return -1;
    *usec = strtoull (buf, NULL, 10) / 1000;
    return 0;
}

void
td_cg_stats (const td_cg_t *cg, uint64_t *peak_kb, bool *oom)
{
    char buf [1024];
    *peak_kb = 0;
    *oom = false;
    const char *dir = cg->mem;
    if (!dir [0])
        return;
    if (cg->version == 2) {
        if (s_read (dir, "memory.peak", buf, sizeof buf) == 0)
            *peak_kb = strtoull (buf, NULL, 10) / 1024;
        uint64_t kills = 0;
        if (s_read (dir, "memory.events", buf, sizeof buf) == 0)
            *oom = td_cg_parse_key (buf, "oom_kill", &kills) && kills > 0;
        return;
    }
    if (s_read (dir, "memory.max_usage_in_bytes", buf, sizeof buf) == 0)
        *peak_kb = strtoull (buf, NULL, 10) / 1024;
    uint64_t kills = 0;
    if (s_read (dir, "memory.oom_control", buf, sizeof buf) == 0)
        *oom = td_cg_parse_key (buf, "oom_kill", &kills) && kills > 0;
}

static int
s_kill_listed (const char *dir)
{
    char buf [4096];
    if (s_read (dir, "cgroup.procs", buf, sizeof buf) != 0)
        return 0;
    int count = 0;
    char *save = NULL;
    for (char *tok = strtok_r (buf, "\n", &save); tok; tok = strtok_r (NULL, "\n", &save)) {
        long pid = strtol (tok, NULL, 10);
        if (pid > 1) {
            kill ((pid_t) pid, SIGKILL);
            count++;
        }
    }
    return count;
}

void
td_cg_kill_all (const td_cg_t *cg)
{
    if (!cg->created)
        return;
    if (cg->version == 2 && s_write (cg->mem, "cgroup.kill", "1") == 0)
        return;
    const char *dir = cg->version == 2? cg->mem: cg->pids;
    if (!dir [0])
        dir = cg->mem;
    //  SIGKILLed processes cannot fork; a few rounds catch what was forking meanwhile.
    for (int round = 0; round < 50; round++) {
        if (s_kill_listed (dir) == 0)
            return;
        struct timespec ts = { 0, 1000000 };
        nanosleep (&ts, NULL);
    }
}

static int
s_rmdir (char *dir)
{
    if (!dir [0])
        return 0;
    for (int i = 0; i < 400; i++) {             //  up to ~2 s while the last tasks are reaped
        if (rmdir (dir) == 0 || errno == ENOENT) {
            dir [0] = 0;
            return 0;
        }
        if (errno != EBUSY)
            return -1;
        struct timespec ts = { 0, i < 20? 100000: 5000000 };
        nanosleep (&ts, NULL);
    }
    return -1;
}

int
td_cg_destroy (td_cg_t *cg)
{
    if (!cg->created)
        return 0;
    td_cg_kill_all (cg);
    int rc = 0;
    if (s_rmdir (cg->mem) != 0)
        rc = -1;
    if (cg->version == 1) {
        if (s_rmdir (cg->pids) != 0)
            rc = -1;
        if (s_rmdir (cg->cpu) != 0)
            rc = -1;
    }
    cg->created = false;
    return rc;
}
