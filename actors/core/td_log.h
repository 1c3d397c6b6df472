/*  td_log — structured log lines to stderr and $TUTORD_VAR/log/tutord.log.
 *
 *  One line per call, written with a single write(2) so lines from different threads never
 *  interleave:  time=2026-11-22T10:00:00.123Z level=info actor=broker rid=ab12 msg="text"
 *  (logfmt: values with spaces or quotes are quoted and escaped). Safe from any thread.
 */
#ifndef TD_LOG_H
#define TD_LOG_H

typedef enum { TD_LOG_DEBUG, TD_LOG_INFO, TD_LOG_WARN, TD_LOG_ERROR } td_log_level_t;

//  Open dir/tutord.log for appending (dir created if missing); dir NULL -> stderr only.
//  0, or -1 when the file cannot be opened (logging to stderr goes on).
int td_log_open (const char *dir, td_log_level_t min_level);
void td_log_close (void);
//  "debug"/"info"/"warn"/"error" -> level; -1 if unknown.
int td_log_level_parse (const char *name);
//  actor and rid may be NULL ("-").
void td_log (td_log_level_t level, const char *actor, const char *rid, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

#define td_debug(actor, rid, ...) td_log (TD_LOG_DEBUG, actor, rid, __VA_ARGS__)
#define td_info(actor, rid, ...)  td_log (TD_LOG_INFO,  actor, rid, __VA_ARGS__)
#define td_warn(actor, rid, ...)  td_log (TD_LOG_WARN,  actor, rid, __VA_ARGS__)
#define td_error(actor, rid, ...) td_log (TD_LOG_ERROR, actor, rid, __VA_ARGS__)

#endif
