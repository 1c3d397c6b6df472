/*  td_log — structured log lines (logfmt) to stderr and $TUTORD_VAR/log/tutord.log.
 *
 *  Every line is formatted into one bounded buffer and written with one write(2) per sink, so
 *  lines from the many actor threads never interleave (O_APPEND makes the file write atomic for
 *  lines of this size). The file descriptor is set once at start-up, before actors run, and
 *  closed after they stop; the level is an atomic so tests can change it at any time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "td_log.h"

#define LINE_MAX_BYTES 4096

static atomic_int s_min_level = TD_LOG_INFO;
static atomic_int s_file_fd = -1;

static const char *s_level_names [] = { "debug", "info", "warn", "error" };

int
td_log_open (const char *dir, td_log_level_t min_level)
{
    atomic_store (&s_min_level, (int) min_level);
    if (!dir)
        return 0;
    if (mkdir (dir, 0750) != 0 && errno != EEXIST)
        return -1;
    char path [4096];
    int n = snprintf (path, sizeof path, "%s/tutord.log", dir);
    if (n < 0 || (size_t) n >= sizeof path)
        return -1;
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    int old = atomic_exchange (&s_file_fd, fd);
    if (old >= 0)
        close (old);
    return 0;
}

void
td_log_close (void)
{
    int fd = atomic_exchange (&s_file_fd, -1);
    if (fd >= 0)
        close (fd);
}

int
td_log_level_parse (const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp (name, s_level_names [i]) == 0)
            return i;
    return -1;
}

//  Append src as a logfmt value: bare when it needs no quoting, else quoted with \" \\ \n
//  escaped and control bytes dropped. Returns the new length (never beyond cap - 1).
static size_t
s_append_value (char *buf, size_t len, size_t cap, const char *src)
{
    bool quote = (*src == 0);
    for (const char *p = src; *p && !quote; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char) *p < 0x20)
            quote = true;
    if (quote && len + 1 < cap)
        buf [len++] = '"';
    for (const char *p = src; *p && len + 2 < cap; p++) {
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\') {
            buf [len++] = '\\';
            buf [len++] = (char) c;
        }
        else
        if (c == '\n') {
            buf [len++] = '\\';
            buf [len++] = 'n';
        }
        else
        if (c >= 0x20)
            buf [len++] = (char) c;
    }
    if (quote && len + 1 < cap)
        buf [len++] = '"';
    return len;
}

static size_t
s_append (char *buf, size_t len, size_t cap, const char *text)
{
    size_t n = strlen (text);
    if (len + n >= cap)
        n = cap - 1 - len;
    memcpy (buf + len, text, n);
    return len + n;
}

void
td_log (td_log_level_t level, const char *actor, const char *rid, const char *fmt, ...)
{
    if ((int) level < atomic_load (&s_min_level) || (int) level < 0 || level > TD_LOG_ERROR)
        return;
    char msg [LINE_MAX_BYTES];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;

    struct timespec ts;
    struct tm tm;
    char stamp [40] = "-";
    if (clock_gettime (CLOCK_REALTIME, &ts) == 0 && gmtime_r (&ts.tv_sec, &tm)) {
        size_t k = strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        if (k > 0)
            snprintf (stamp + k, sizeof stamp - k, ".%03ldZ", ts.tv_nsec / 1000000L);
    }
    char line [LINE_MAX_BYTES + 256];
    size_t len = 0, cap = sizeof line - 1;
    len = s_append (line, len, cap, "time=");
    len = s_append (line, len, cap, stamp);
    len = s_append (line, len, cap, " level=");
    len = s_append (line, len, cap, s_level_names [level]);
    len = s_append (line, len, cap, " actor=");
    len = s_append_value (line, len, cap, actor && *actor? actor: "-");
    len = s_append (line, len, cap, " rid=");
    len = s_append_value (line, len, cap, rid && *rid? rid: "-");
    len = s_append (line, len, cap, " msg=");
    len = s_append_value (line, len, cap, msg);
    line [len++] = '\n';

    //  A failed log write has nowhere to be reported; the line is dropped.
    if (write (STDERR_FILENO, line, len) < 0) { /* nothing to do */ }
    int fd = atomic_load (&s_file_fd);
    if (fd >= 0 && write (fd, line, len) < 0) { /* nothing to do */ }
}
