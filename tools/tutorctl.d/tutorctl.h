/*  tutorctl — the operator's command-line tool: migrate, tap, seed, call (CONTRACT.md §5-6).
 *
 *  One verb per file (ctl_<verb>.c); this header holds what they share: the configuration the
 *  verbs read from the environment (the variables of CONTRACT.md §2 that a client needs, with
 *  the same defaults as tutord) and the request helper seed and call both use.
 *  Every verb returns the process exit status: 0 success, 1 failure, 2 bad usage.
 */
#ifndef TUTORCTL_H
#define TUTORCTL_H

#include <jansson.h>
#include <limits.h>
#include "td_client.h"
#include "td_error.h"
#include "td_msg.h"

typedef struct {
    char db [2048];                 //  TUTORD_DB, or the private cluster under TUTORD_VAR
    char broker [512];              //  TUTORD_BROKER (tcp://127.0.0.1:5555)
    char events [512];              //  TUTORD_EVENTS (tcp://127.0.0.1:5556)
    char schema [PATH_MAX];         //  TUTORD_SCHEMA, else the source tree's schema/
} ctl_config_t;

//  Fill cfg from the environment. 0, or -1 after printing one line naming the variable.
int ctl_config_load (ctl_config_t *cfg);

//  Print "tutorctl: <verb>: <message>" on stderr.
void ctl_fail (const char *verb, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

//  Parse a positive integer option value; -1 when malformed.
long ctl_parse_ms (const char *text);

//  Read a whole file (or stdin for "-") of at most max bytes, NUL-terminated; NULL with err set.
char *ctl_read_file (const char *path, size_t max, size_t *size, td_error_t *err);

//  Parse a JSON option/argument value ("-" reads stdin). NULL after printing the reason.
json_t *ctl_parse_json_arg (const char *verb, const char *what, const char *text);

//  Print a decoded message (reply) as one JSON line on stdout. 0, or -1.
int ctl_print_msg (const td_msg_t *msg);

//  Send one request (body and auth as JSON, either may be NULL -> nil) and wait for its final
//  reply. The reply, or NULL with err set (invalid body, timeout, ...).
td_msg_t *ctl_request (td_client_t *client, const char *service, const char *type,
                       const json_t *body, const json_t *auth, int timeout_ms, td_error_t *err);

int ctl_migrate (const ctl_config_t *cfg, int argc, char **argv);
int ctl_tap (const ctl_config_t *cfg, int argc, char **argv);
int ctl_seed (const ctl_config_t *cfg, int argc, char **argv);
int ctl_call (const ctl_config_t *cfg, int argc, char **argv);

#endif
