/*  tutorctl — entry point: the verb table, --help, configuration and the shared request helper.
 *
 *  Why a separate tool and not flags of tutord: scripts, CI and operators on other hosts talk to
 *  a running tutord only through its public endpoints (the broker for requests, the event stream,
 *  PostgreSQL for migrations), exactly as remote actors do; tutorctl never reaches inside.
 */
#include <czmq.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "td_json.h"
#include "td_limits.h"
#include "td_log.h"
#include "tutorctl.h"

#ifndef TUTORD_SOURCE_DIR
#define TUTORD_SOURCE_DIR "."
#endif

static void
s_usage (FILE *out)
{
    fputs (
"usage: tutorctl VERB [ARGS...]\n"
"\n"
"Verbs:\n"
"  migrate [DIR]                  apply pending schema migrations (DIR: TUTORD_SCHEMA or schema/)\n"
"  seed FILE|DIR...               send seed messages through the broker; a DIR loads its *.json\n"
"                                 files (recursively, in sorted order). Options: --timeout MS\n"
"  tap [PREFIX...]                print events (all, or those whose type starts with a PREFIX)\n"
"                                 as JSON lines. Options: --count N, --timeout MS,\n"
"                                 --org ID / --user ID (only events about that org / user)\n"
"  call SERVICE TYPE [JSON|-]     send one request, print the reply as JSON; exit 1 on an error\n"
"                                 reply. Options: --timeout MS, --auth JSON\n"
"  help                           this text\n"
"\n"
"Seed file format: {\"messages\": [RECORD, ...]} or [RECORD, ...], where RECORD is\n"
"  {\"service\": \"catalog\", \"type\": \"course.upsert\", \"body\": {...}, \"auth\": {...}?, \"comment\": \"...\"?}\n"
"Each record is one request; its verb must be idempotent (an upsert), so seeding twice changes nothing.\n"
"A bad record is reported as FILE: record N: reason and the others still load.\n"
"\n"
"Environment (CONTRACT.md section 2):\n"
"  TUTORD_DB       libpq conninfo (default: the private cluster, host=$TUTORD_VAR/pg/run dbname=tutord user=postgres)\n"
"  TUTORD_VAR      private state folder (default ./var)\n"
"  TUTORD_BROKER   broker endpoint for seed and call (default tcp://127.0.0.1:5555)\n"
"  TUTORD_EVENTS   event stream for tap (default tcp://127.0.0.1:5556)\n"
"  TUTORD_SCHEMA   migrations folder for migrate (default: schema/ of the source tree)\n", out);
}

void
ctl_fail (const char *verb, const char *fmt, ...)
{
    char line [1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    fprintf (stderr, "tutorctl: %s: %s\n", verb, line);
}

long
ctl_parse_ms (const char *text)
{
    if (!text || !*text)
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol (text, &end, 10);
    if (errno || *end || v < 0 || v > 24L * 3600 * 1000)
        return -1;
    return v;
}

static int
s_copy_env (const char *name, const char *dflt, char *dst, size_t len)
{
    const char *v = getenv (name);
    if (!v || !*v)
        v = dflt;
    if (snprintf (dst, len, "%s", v) >= (int) len) {
        fprintf (stderr, "tutorctl: %s is too long\n", name);
        return -1;
    }
    return 0;
}

static bool
s_is_dir (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

int
ctl_config_load (ctl_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    if (s_copy_env ("TUTORD_BROKER", "tcp://127.0.0.1:5555", cfg->broker, sizeof cfg->broker)
    ||  s_copy_env ("TUTORD_EVENTS", "tcp://127.0.0.1:5556", cfg->events, sizeof cfg->events))
        return -1;
    const char *db = getenv ("TUTORD_DB");
    if (db && *db) {
        if (s_copy_env ("TUTORD_DB", "", cfg->db, sizeof cfg->db))
            return -1;
    }
    else {
        //  The same default as td_config.c: the private cluster's socket under TUTORD_VAR.
        char var [PATH_MAX], abs [PATH_MAX];
        if (s_copy_env ("TUTORD_VAR", "./var", var, sizeof var))
            return -1;
        if (!realpath (var, abs)) {
            char cwd [PATH_MAX];
            if (var [0] == '/' || !getcwd (cwd, sizeof cwd))
                snprintf (abs, sizeof abs, "%s", var);
            else
            if (snprintf (abs, sizeof abs, "%s/%s", cwd, var) >= (int) sizeof abs) {
                fprintf (stderr, "tutorctl: TUTORD_VAR is too long\n");
                return -1;
            }
        }
        if (snprintf (cfg->db, sizeof cfg->db, "host=%s/pg/run dbname=tutord user=postgres", abs)
            >= (int) sizeof cfg->db) {
            fprintf (stderr, "tutorctl: TUTORD_VAR is too long\n");
            return -1;
        }
    }
    const char *schema = getenv ("TUTORD_SCHEMA");
    if (schema && *schema)
        return s_copy_env ("TUTORD_SCHEMA", "", cfg->schema, sizeof cfg->schema);
    //  build/<kind>/tutorctl -> ../../schema, so a moved checkout still finds its own schema
    char exe [PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe [n] = 0;
        char candidate [PATH_MAX + 32];
        snprintf (candidate, sizeof candidate, "%s/../../schema", dirname (exe));
        if (s_is_dir (candidate) && realpath (candidate, cfg->schema))
            return 0;
    }
    snprintf (cfg->schema, sizeof cfg->schema, "%s/schema", TUTORD_SOURCE_DIR);
    return 0;
}

char *
ctl_read_file (const char *path, size_t max, size_t *size, td_error_t *err)
{
    td_error_clear (err);
    bool is_stdin = strcmp (path, "-") == 0;
    FILE *f = is_stdin? stdin: fopen (path, "rb");
    if (!f) {
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "cannot open: %s", strerror (errno));
        return NULL;
    }
    size_t alloc = 65536, used = 0;
    char *buf = malloc (alloc);
    while (buf) {
        if (used + 1 >= alloc) {
            if (alloc > max) {
                free (buf);
                buf = NULL;
                td_error_set (err, TD_ERR_TOO_LARGE, NULL, "larger than %zu bytes", max);
                break;
            }
            char *bigger = realloc (buf, alloc * 2);
            if (!bigger) {
                free (buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            alloc *= 2;
        }
        size_t n = fread (buf + used, 1, alloc - used - 1, f);
        used += n;
        if (n == 0) {
            if (ferror (f)) {
                free (buf);
                buf = NULL;
                td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "read error");
            }
            break;
        }
    }
    if (!is_stdin)
        fclose (f);
    if (buf && used > max) {
        free (buf);
        td_error_set (err, TD_ERR_TOO_LARGE, NULL, "larger than %zu bytes", max);
        return NULL;
    }
    if (!buf) {
        if (err->code == TD_OK)
            td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    buf [used] = 0;
    *size = used;
    return buf;
}

json_t *
ctl_parse_json_arg (const char *verb, const char *what, const char *text)
{
    td_error_t err;
    td_error_clear (&err);
    size_t size = strlen (text);
    char *owned = NULL;
    if (strcmp (text, "-") == 0) {
        owned = ctl_read_file ("-", TD_MAX_MESSAGE, &size, &err);
        if (!owned) {
            ctl_fail (verb, "%s from stdin: %s", what, err.message);
            return NULL;
        }
        text = owned;
    }
    json_t *j = td_json_parse (text, size, TD_MAX_MESSAGE, &err);
    free (owned);
    if (!j)
        ctl_fail (verb, "%s is not valid JSON: %s", what, err.message);
    return j;
}

int
ctl_print_msg (const td_msg_t *msg)
{
    td_error_t err;
    td_error_clear (&err);
    json_t *j = td_mp_bytes_to_json (td_msg_data (msg), td_msg_size (msg), &err);
    if (!j)
        return -1;
    char *line = json_dumps (j, JSON_COMPACT);
    json_decref (j);
    if (!line)
        return -1;
    puts (line);
    free (line);
    return fflush (stdout) == 0? 0: -1;
}

//  Pack a JSON value (NULL -> nothing) into sbuf. 0, or -1 with err set.
static int
s_pack_json (const json_t *j, msgpack_sbuffer *sbuf, td_error_t *err)
{
    if (!j)
        return 0;
    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, msgpack_sbuffer_write);
    return td_json_to_mp (j, &pk, err);
}

td_msg_t *
ctl_request (td_client_t *client, const char *service, const char *type,
             const json_t *body, const json_t *auth, int timeout_ms, td_error_t *err)
{
    if (!td_name_valid (service)) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "service", "'%s' is not a service name", service);
        return NULL;
    }
    if (!td_name_valid (type)) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "type", "'%s' is not a request type", type);
        return NULL;
    }
    if (auth && !json_is_object (auth) && !json_is_null (auth)) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "auth", "auth must be an object");
        return NULL;
    }
    msgpack_sbuffer body_buf, auth_buf;
    msgpack_sbuffer_init (&body_buf);
    msgpack_sbuffer_init (&auth_buf);
    td_msg_t *reply = NULL;
    if (s_pack_json (body, &body_buf, err) == 0 && s_pack_json (auth, &auth_buf, err) == 0) {
        char id [33];
        td_new_id (id);
        td_request_spec_t spec = {
            .id = id,
            .type = type,
            .body = body_buf.size? body_buf.data: NULL,
            .body_size = body_buf.size,
            .auth = auth_buf.size? auth_buf.data: NULL,
            .auth_size = auth_buf.size,
        };
        reply = td_client_call (client, service, &spec, timeout_ms, err);
    }
    msgpack_sbuffer_destroy (&body_buf);
    msgpack_sbuffer_destroy (&auth_buf);
    return reply;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        s_usage (stderr);
        return 2;
    }
    const char *verb = argv [1];
    if (!strcmp (verb, "help") || !strcmp (verb, "--help") || !strcmp (verb, "-h")) {
        s_usage (stdout);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn) (const ctl_config_t *cfg, int argc, char **argv);
    } verbs [] = {
        { "migrate", ctl_migrate },
        { "seed",    ctl_seed },
        { "tap",     ctl_tap },
        { "call",    ctl_call },
    };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs [0]; i++) {
        if (strcmp (verb, verbs [i].name))
            continue;
        for (int a = 2; a < argc; a++)
            if (!strcmp (argv [a], "--help") || !strcmp (argv [a], "-h")) {
                s_usage (stdout);
                return 0;
            }
        //  Library warnings (td_log) go to stderr only, and only when they matter.
        td_log_open (NULL, TD_LOG_WARN);
        ctl_config_t cfg;
        if (ctl_config_load (&cfg))
            return 2;
        int rc = verbs [i].fn (&cfg, argc - 2, argv + 2);
        td_log_close ();
        return rc;
    }
    fprintf (stderr, "tutorctl: unknown verb '%s' (tutorctl --help lists them)\n", verb);
    return 2;
}
