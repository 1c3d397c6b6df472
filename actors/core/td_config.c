/*  td_config — reads and validates tutord's environment (CONTRACT.md §2).
 *
 *  Start-up must fail fast and plainly: every variable is checked here, and the first bad one
 *  stops start-up with one line naming it and saying what is expected. The secret is the one
 *  thing written: when TUTORD_SECRET is unset, 32 random bytes are generated once into
 *  $TUTORD_VAR/secret (mode 0600) and reused on every later start.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "td_config.h"
#include "td_log.h"
#include "td_names.h"

#ifndef TUTORD_SOURCE_DIR
#define TUTORD_SOURCE_DIR "."
#endif

static int
s_fail (char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (errbuf, errlen, fmt, ap);
    va_end (ap);
    return -1;
}

//  Copy the variable's value (or the default) into dst; -1 when it does not fit.
static int
s_get (const char *name, const char *dflt, char *dst, size_t dstlen)
{
    const char *v = getenv (name);
    if (!v || !*v)
        v = dflt;
    int n = snprintf (dst, dstlen, "%s", v);
    return (n < 0 || (size_t) n >= dstlen)? -1: 0;
}

//  Integer variable within [lo, hi]; -1 when malformed or out of range.
static int
s_get_int (const char *name, int dflt, int lo, int hi, int *out)
{
    const char *v = getenv (name);
    if (!v || !*v) {
        *out = dflt;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol (v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    *out = (int) n;
    return 0;
}

//  TUTORD_EVENTS_JOURNAL_SKIP: "" or up to TD_JOURNAL_SKIP_MAX comma-separated event type
//  prefixes of 1 to TD_JOURNAL_SKIP_LEN characters from [a-z0-9_.-] each.
static bool
s_journal_skip_valid (const char *list)
{
    int count = 0;
    for (const char *p = list; *p; ) {
        size_t n = strcspn (p, ",");
        if (n == 0 || n > TD_JOURNAL_SKIP_LEN || ++count > TD_JOURNAL_SKIP_MAX)
            return false;
        for (size_t i = 0; i < n; i++)
            if (!((p [i] >= 'a' && p [i] <= 'z') || (p [i] >= '0' && p [i] <= '9')
               || p [i] == '_' || p [i] == '.' || p [i] == '-'))
                return false;
        p += n;
        if (*p == ',' && *++p == 0)
            return false;           //  a trailing comma
    }
    return true;
}

//  A ZeroMQ endpoint we accept from configuration: tcp://host:port or ipc://path.
static bool
s_endpoint_valid (const char *ep)
{
    if (strncmp (ep, "ipc://", 6) == 0)
        return ep [6] != 0;
    if (strncmp (ep, "tcp://", 6) != 0)
        return false;
    const char *colon = strrchr (ep + 6, ':');
    if (!colon || colon == ep + 6)
        return false;
    char *end = NULL;
    long port = strtol (colon + 1, &end, 10);
    return end && *end == 0 && end != colon + 1 && port > 0 && port < 65536;
}

static int
s_parse_http (td_config_t *cfg, char *errbuf, size_t errlen)
{
    char v [300];
    if (s_get ("TUTORD_HTTP", "127.0.0.1:8080", v, sizeof v))
        return s_fail (errbuf, errlen, "TUTORD_HTTP is too long: expected host:port");
    char *colon = strrchr (v, ':');
    char *end = NULL;
    long port = colon? strtol (colon + 1, &end, 10): 0;
    if (!colon || colon == v || !end || *end || end == colon + 1 || port < 1 || port > 65535)
        return s_fail (errbuf, errlen,
                       "TUTORD_HTTP='%s' is not valid: expected host:port, e.g. 127.0.0.1:8080", v);
    *colon = 0;
    char *host = v;
    if (*host == '[' && colon [-1] == ']') {         //  [::1]:8080
        host++;
        colon [-1] = 0;
    }
    size_t hostlen = strlen (host);
    if (hostlen >= sizeof cfg->http_host)
        return s_fail (errbuf, errlen, "TUTORD_HTTP has a host name that is too long");
    memcpy (cfg->http_host, host, hostlen + 1);
    cfg->http_port = (int) port;
    return 0;
}

static int
s_parse_actors (td_config_t *cfg, char *errbuf, size_t errlen)
{
    char v [1024];
    if (s_get ("TUTORD_ACTORS", "all", v, sizeof v))
        return s_fail (errbuf, errlen, "TUTORD_ACTORS is too long");
    cfg->run_broker = cfg->run_web = false;
    memset (cfg->run_actor, 0, sizeof cfg->run_actor);
    char *save = NULL;
    int count = 0;
    for (char *tok = strtok_r (v, ", ", &save); tok; tok = strtok_r (NULL, ", ", &save)) {
        count++;
        if (strcmp (tok, "all") == 0) {
            cfg->run_broker = cfg->run_web = true;
            for (size_t i = 0; i < td_actor_names_count; i++)
                cfg->run_actor [i] = true;
            continue;
        }
        if (strcmp (tok, "broker") == 0) {
            cfg->run_broker = true;
            continue;
        }
        if (strcmp (tok, "web") == 0) {
            cfg->run_web = true;
            continue;
        }
        bool found = false;
        for (size_t i = 0; i < td_actor_names_count; i++)
            if (strcmp (tok, td_actor_names [i].actor) == 0
            ||  strcmp (tok, td_actor_names [i].service) == 0) {
                cfg->run_actor [i] = found = true;
            }
        if (!found)
            return s_fail (errbuf, errlen,
                           "TUTORD_ACTORS names an unknown actor '%s': expected 'all' or a comma "
                           "list of broker, web, identity, catalog, session, grader, llm, srs, "
                           "analytics, trainer", tok);
    }
    if (count == 0)
        return s_fail (errbuf, errlen, "TUTORD_ACTORS is empty: name at least one actor");
    return 0;
}

//  The secret: TUTORD_SECRET, else $TUTORD_VAR/secret, generated on first start.
static int
s_load_secret (td_config_t *cfg, char *errbuf, size_t errlen)
{
    const char *v = getenv ("TUTORD_SECRET");
    if (v && *v) {
        if (strlen (v) < 32 || strlen (v) >= sizeof cfg->secret)
            return s_fail (errbuf, errlen, "TUTORD_SECRET must be 32 to %zu characters long",
                           sizeof cfg->secret - 1);
        snprintf (cfg->secret, sizeof cfg->secret, "%s", v);
        return 0;
    }
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/secret", cfg->var_dir);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (sodium_init () < 0)
            return s_fail (errbuf, errlen, "TUTORD_SECRET: libsodium could not initialise");
        unsigned char raw [32];
        char hex [65];
        randombytes_buf (raw, sizeof raw);
        sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
        int wfd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (wfd >= 0) {
            ssize_t w = write (wfd, hex, 64);
            int rc = close (wfd);
            if (w != 64 || rc != 0)
                return s_fail (errbuf, errlen, "TUTORD_SECRET: cannot write %s", path);
        }
        else
        if (errno != EEXIST)           //  EEXIST: another process made it first; read theirs
            return s_fail (errbuf, errlen, "TUTORD_SECRET: cannot create %s: %s", path, strerror (errno));
        fd = open (path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return s_fail (errbuf, errlen, "TUTORD_SECRET: cannot read %s: %s", path, strerror (errno));
    ssize_t n = read (fd, cfg->secret, sizeof cfg->secret - 1);
    close (fd);
    if (n < 32)
        return s_fail (errbuf, errlen, "TUTORD_SECRET: %s holds fewer than 32 characters", path);
    cfg->secret [n] = 0;
    cfg->secret [strcspn (cfg->secret, "\r\n")] = 0;
    return 0;
}

//  Identity: token lifetimes, login limits, password hashing cost, Google sign-in.
static int
s_load_identity (td_config_t *cfg, char *errbuf, size_t errlen)
{
    if (s_get_int ("TUTORD_ACCESS_TTL_S", 900, 1, 86400, &cfg->access_ttl_s))
        return s_fail (errbuf, errlen, "TUTORD_ACCESS_TTL_S must be seconds from 1 to 86400");
    if (s_get_int ("TUTORD_REFRESH_TTL_S", 30 * 86400, 60, 365 * 86400, &cfg->refresh_ttl_s))
        return s_fail (errbuf, errlen, "TUTORD_REFRESH_TTL_S must be seconds from 60 to 31536000");
    if (s_get_int ("TUTORD_LOGIN_MAX_PER_ACCOUNT", 5, 1, 1000000, &cfg->login_max_per_account))
        return s_fail (errbuf, errlen,
                       "TUTORD_LOGIN_MAX_PER_ACCOUNT must be a count from 1 to 1000000");
    if (s_get_int ("TUTORD_LOGIN_MAX_PER_IP", 50, 1, 1000000, &cfg->login_max_per_ip))
        return s_fail (errbuf, errlen, "TUTORD_LOGIN_MAX_PER_IP must be a count from 1 to 1000000");
    if (s_get_int ("TUTORD_LOGIN_WINDOW_S", 900, 1, 86400, &cfg->login_window_s))
        return s_fail (errbuf, errlen, "TUTORD_LOGIN_WINDOW_S must be seconds from 1 to 86400");
    //  libsodium's bounds for argon2id: opslimit >= 1 (INTERACTIVE is 2), memlimit >= 8 KiB
    //  (INTERACTIVE is 64 MiB); the upper bounds keep one hash well under the heartbeat.
    if (s_get_int ("TUTORD_ARGON2_OPSLIMIT", 2, 1, 10, &cfg->argon2_opslimit))
        return s_fail (errbuf, errlen, "TUTORD_ARGON2_OPSLIMIT must be from 1 to 10 (default 2)");
    if (s_get_int ("TUTORD_ARGON2_MEMLIMIT_KIB", 65536, 8, 1048576, &cfg->argon2_memlimit_kib))
        return s_fail (errbuf, errlen,
                       "TUTORD_ARGON2_MEMLIMIT_KIB must be KiB from 8 to 1048576 (default 65536)");
    if (s_get ("TUTORD_GOOGLE_JWKS", "", cfg->google_jwks, sizeof cfg->google_jwks))
        return s_fail (errbuf, errlen, "TUTORD_GOOGLE_JWKS is too long");
    if (*cfg->google_jwks && cfg->google_jwks [0] != '/'
    &&  strncmp (cfg->google_jwks, "http://", 7) && strncmp (cfg->google_jwks, "https://", 8))
        return s_fail (errbuf, errlen,
                       "TUTORD_GOOGLE_JWKS must be an absolute file path or an http(s):// URL");
    if (s_get ("TUTORD_GOOGLE_CLIENT_ID", "", cfg->google_client_id, sizeof cfg->google_client_id))
        return s_fail (errbuf, errlen, "TUTORD_GOOGLE_CLIENT_ID is too long");
    if (*cfg->google_jwks && !*cfg->google_client_id)
        return s_fail (errbuf, errlen,
                       "TUTORD_GOOGLE_CLIENT_ID must be set when TUTORD_GOOGLE_JWKS is");
    return 0;
}

int
td_config_load (td_config_t *cfg, char *errbuf, size_t errlen)
{
    memset (cfg, 0, sizeof *cfg);
    char var [PATH_MAX];
    if (s_get ("TUTORD_VAR", "./var", var, sizeof var))
        return s_fail (errbuf, errlen, "TUTORD_VAR is too long");
    if (mkdir (var, 0750) != 0 && errno != EEXIST)
        return s_fail (errbuf, errlen, "TUTORD_VAR='%s' cannot be created: %s", var, strerror (errno));
    if (!realpath (var, cfg->var_dir))
        return s_fail (errbuf, errlen, "TUTORD_VAR='%s' is not usable: %s", var, strerror (errno));

    const char *db = getenv ("TUTORD_DB");
    if (db && *db) {
        if (snprintf (cfg->db, sizeof cfg->db, "%s", db) >= (int) sizeof cfg->db)
            return s_fail (errbuf, errlen, "TUTORD_DB is too long");
    }
    else {
        cfg->db_private = true;
        if (snprintf (cfg->db, sizeof cfg->db, "host=%s/pg/run dbname=tutord user=postgres",
                      cfg->var_dir) >= (int) sizeof cfg->db)
            return s_fail (errbuf, errlen, "TUTORD_VAR is too long for the private cluster's socket path");
    }
    if (s_parse_http (cfg, errbuf, errlen))
        return -1;

    struct { const char *name, *dflt; char *dst; size_t len; } eps [] = {
        { "TUTORD_BROKER",    "tcp://127.0.0.1:5555", cfg->broker,    sizeof cfg->broker },
        { "TUTORD_EVENTS",    "tcp://127.0.0.1:5556", cfg->events,    sizeof cfg->events },
        { "TUTORD_EVENTS_IN", "tcp://127.0.0.1:5557", cfg->events_in, sizeof cfg->events_in },
    };
    for (size_t i = 0; i < sizeof eps / sizeof eps [0]; i++)
        if (s_get (eps [i].name, eps [i].dflt, eps [i].dst, eps [i].len)
        || !s_endpoint_valid (eps [i].dst))
            return s_fail (errbuf, errlen, "%s='%s' is not valid: expected tcp://host:port or ipc://path",
                           eps [i].name, getenv (eps [i].name)? getenv (eps [i].name): "");
    if (s_parse_actors (cfg, errbuf, errlen))
        return -1;
    if (s_load_secret (cfg, errbuf, errlen))
        return -1;

    if (s_get ("TUTORD_LLM_PROVIDER", "offline", cfg->llm_provider, sizeof cfg->llm_provider)
    || (strcmp (cfg->llm_provider, "offline") && strcmp (cfg->llm_provider, "openai")
     && strcmp (cfg->llm_provider, "anthropic") && strcmp (cfg->llm_provider, "gemini")))
        return s_fail (errbuf, errlen,
                       "TUTORD_LLM_PROVIDER must be one of offline, openai, anthropic, gemini");
    const char *url = "", *model = "";
    if (strcmp (cfg->llm_provider, "openai") == 0) {
        url = "https://api.openai.com/v1";
        model = "gpt-4o-mini";
    }
    else
    if (strcmp (cfg->llm_provider, "anthropic") == 0) {
        url = "https://api.anthropic.com";
        model = "claude-3-5-haiku-latest";
    }
    else
    if (strcmp (cfg->llm_provider, "gemini") == 0) {
        url = "https://generativelanguage.googleapis.com/v1beta";
        model = "gemini-1.5-flash";
    }
    if (s_get ("TUTORD_LLM_BASE_URL", url, cfg->llm_base_url, sizeof cfg->llm_base_url))
        return s_fail (errbuf, errlen, "TUTORD_LLM_BASE_URL is too long");
    if (*cfg->llm_base_url && strncmp (cfg->llm_base_url, "http://", 7)
                           && strncmp (cfg->llm_base_url, "https://", 8))
        return s_fail (errbuf, errlen, "TUTORD_LLM_BASE_URL must start with http:// or https://");
    if (s_get ("TUTORD_LLM_API_KEY", "", cfg->llm_api_key, sizeof cfg->llm_api_key))
        return s_fail (errbuf, errlen, "TUTORD_LLM_API_KEY is too long");
    if (s_get ("TUTORD_LLM_MODEL", model, cfg->llm_model, sizeof cfg->llm_model))
        return s_fail (errbuf, errlen, "TUTORD_LLM_MODEL is too long");

    if (s_get ("TUTORD_PYTHON", "/usr/bin/python3", cfg->python, sizeof cfg->python)
    ||  cfg->python [0] != '/' || access (cfg->python, X_OK) != 0)
        return s_fail (errbuf, errlen,
                       "TUTORD_PYTHON='%s' must be the absolute path of an executable interpreter",
                       cfg->python);
    if (s_get ("TUTORD_STATIC", TUTORD_SOURCE_DIR "/bridges/client", cfg->static_dir,
               sizeof cfg->static_dir))
        return s_fail (errbuf, errlen, "TUTORD_STATIC is too long");

    if (s_get_int ("TUTORD_HTTP_MAX_BODY", 1024 * 1024, 1024, 64 * 1024 * 1024, &cfg->http_max_body))
        return s_fail (errbuf, errlen, "TUTORD_HTTP_MAX_BODY must be a byte count from 1024 to 67108864");
    if (s_get_int ("TUTORD_DRAIN_MS", 5000, 0, 600000, &cfg->drain_ms))
        return s_fail (errbuf, errlen, "TUTORD_DRAIN_MS must be milliseconds from 0 to 600000");
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    if (s_get_int ("TUTORD_GRADER_WORKERS", cores < 1? 1: cores > 16? 16: (int) cores, 1, 16,
                   &cfg->grader_workers))
        return s_fail (errbuf, errlen, "TUTORD_GRADER_WORKERS must be a number of runners from 1 to 16");
    if (s_get_int ("TUTORD_SRS_WORKERS", 2, 1, 16, &cfg->srs_workers))
        return s_fail (errbuf, errlen, "TUTORD_SRS_WORKERS must be a number of srs actors from 1 to 16");
    if (s_get_int ("TUTORD_IO_THREADS", 2, 1, 16, &cfg->io_threads))
        return s_fail (errbuf, errlen, "TUTORD_IO_THREADS must be a number of threads from 1 to 16");
    const char *skip = getenv ("TUTORD_EVENTS_JOURNAL_SKIP");   //  set but empty: skip none
    int skip_len = snprintf (cfg->journal_skip, sizeof cfg->journal_skip, "%s",
                             skip? skip: TD_JOURNAL_SKIP_DEFAULT);
    if (skip_len < 0 || (size_t) skip_len >= sizeof cfg->journal_skip
    ||  !s_journal_skip_valid (cfg->journal_skip))
        return s_fail (errbuf, errlen, "TUTORD_EVENTS_JOURNAL_SKIP must be up to %d comma-separated "
                       "event type prefixes of [a-z0-9_.-] (at most %d characters each), or empty",
                       TD_JOURNAL_SKIP_MAX, TD_JOURNAL_SKIP_LEN);
    int direct = 1;
    if (s_get_int ("TUTORD_EVENTS_DIRECT", 1, 0, 1, &direct))
        return s_fail (errbuf, errlen, "TUTORD_EVENTS_DIRECT must be 1 (on) or 0 (off)");
    cfg->events_direct = direct == 1;
    if (s_get_int ("TUTORD_HEARTBEAT_MS", 1000, 50, 60000, &cfg->heartbeat_ms))
        return s_fail (errbuf, errlen, "TUTORD_HEARTBEAT_MS must be milliseconds from 50 to 60000");
    if (s_get_int ("TUTORD_REQUEST_TIMEOUT_MS", 30000, 100, 3600000, &cfg->request_timeout_ms))
        return s_fail (errbuf, errlen,
                       "TUTORD_REQUEST_TIMEOUT_MS must be milliseconds from 100 to 3600000");
    char level [16];
    if (s_get ("TUTORD_LOG_LEVEL", "info", level, sizeof level)
    || (cfg->log_level = td_log_level_parse (level)) < 0)
        return s_fail (errbuf, errlen, "TUTORD_LOG_LEVEL must be one of debug, info, warn, error");
    const char *malloc_mode = getenv ("TUTORD_MALLOC");
    if (malloc_mode && *malloc_mode && strcmp (malloc_mode, "tuned") && strcmp (malloc_mode, "default"))
        return s_fail (errbuf, errlen, "TUTORD_MALLOC must be tuned or default");
    cfg->malloc_tuned = !(malloc_mode && strcmp (malloc_mode, "default") == 0);
    const char *faults = getenv ("TUTORD_FAULTS");
    if (faults && *faults && strcmp (faults, "0") && strcmp (faults, "1"))
        return s_fail (errbuf, errlen, "TUTORD_FAULTS must be 0 or 1");
    cfg->faults = faults && strcmp (faults, "1") == 0;
    if (s_get_int ("TUTORD_RATE_PER_TOKEN", 50, 1, 1000000, &cfg->rate_per_token))
        return s_fail (errbuf, errlen,
                       "TUTORD_RATE_PER_TOKEN must be requests per second from 1 to 1000000");
    if (s_get_int ("TUTORD_RATE_BURST", 100, 1, 10000000, &cfg->rate_burst))
        return s_fail (errbuf, errlen, "TUTORD_RATE_BURST must be a request count from 1 to 10000000");
    return s_load_identity (cfg, errbuf, errlen);
}

void
td_config_usage (FILE *out)
{
    fputs (
"Configuration (environment variables; CONTRACT.md section 2):\n"
"  TUTORD_VAR                 ./var                  private state: PostgreSQL cluster, logs, secret\n"
"  TUTORD_DB                  (private cluster)      libpq conninfo of an existing PostgreSQL\n"
"  TUTORD_HTTP                127.0.0.1:8080         bridge: REST, WebSocket, static client\n"
"  TUTORD_BROKER              tcp://127.0.0.1:5555   request plane for remote actors and scripts\n"
"  TUTORD_EVENTS              tcp://127.0.0.1:5556   event stream for analysts (XPUB)\n"
"  TUTORD_EVENTS_IN           tcp://127.0.0.1:5557   where remote actors publish events (XSUB)\n"
"  TUTORD_ACTORS              all                    comma list: broker, web, identity, catalog,\n"
"                                                    session, grader, llm, srs, analytics, trainer\n"
"  TUTORD_SECRET              (generated in VAR)     token signing key, at least 32 characters\n"
"  TUTORD_LLM_PROVIDER        offline                offline, openai, anthropic, gemini\n"
"  TUTORD_LLM_BASE_URL        (per provider)         upstream LLM base URL\n"
"  TUTORD_LLM_API_KEY         (none)                 upstream LLM key\n"
"  TUTORD_LLM_MODEL           (per provider)         upstream LLM model\n"
"  TUTORD_PYTHON              /usr/bin/python3       interpreter for learner Python (absolute)\n"
"  TUTORD_STATIC              (source)/bridges/client  browser client served at /\n"
"  TUTORD_HTTP_MAX_BODY       1048576                largest accepted request body, bytes\n"
"  TUTORD_DRAIN_MS            5000                   how long SIGTERM waits for in-flight requests\n"
"  TUTORD_GRADER_WORKERS      (one per core)         sandbox runners of a grader, 1 to 16\n"
"  TUTORD_SRS_WORKERS         2                      srs actors (each one connection, one review at a time)\n"
"  TUTORD_IO_THREADS          2                      libzmq I/O threads (tcp peers: other hosts, analysts)\n"
"  TUTORD_HEARTBEAT_MS        1000                   broker/worker heartbeat (liveness 3)\n"
"  TUTORD_REQUEST_TIMEOUT_MS  30000                  deadline the bridge gives each request\n"
"  TUTORD_LOG_LEVEL           info                   debug, info, warn, error\n"
"  TUTORD_RATE_PER_TOKEN      50                     bridge requests per second per token or API key\n"
"  TUTORD_RATE_BURST          100                    burst above that rate (token bucket size)\n"
"  TUTORD_MALLOC              tuned                  tuned: keep freed heap instead of trimming it; default: glibc's\n"
"  TUTORD_FAULTS              0                      1 enables test-only fault injection\n", out);
    fputs (
"  TUTORD_ACCESS_TTL_S        900                    access token lifetime, seconds\n"
"  TUTORD_REFRESH_TTL_S       2592000                refresh token lifetime, seconds (30 days)\n"
"  TUTORD_LOGIN_MAX_PER_ACCOUNT 5                    failed logins per account per window\n"
"  TUTORD_LOGIN_MAX_PER_IP    50                     failed logins per client address per window\n"
"  TUTORD_LOGIN_WINDOW_S      900                    login limit window, seconds\n"
"  TUTORD_ARGON2_OPSLIMIT     2                      argon2id passes (password hashing cost)\n"
"  TUTORD_ARGON2_MEMLIMIT_KIB 65536                  argon2id memory, KiB\n"
"  TUTORD_GOOGLE_JWKS         (off)                  Google sign-in keys: file path or http(s) URL\n"
"  TUTORD_GOOGLE_CLIENT_ID    (none)                 audience Google ID tokens must carry\n"
"  TUTORD_AUTHCACHE_MAX       10000                  bridge: verified callers cached (0 = off)\n"
"  TUTORD_IDENTITY_ME_CACHE   1                      identity: cache GET /me per user (0 = off)\n", out);
    fputs (
"Grader (actors/grader/GRADER.md):\n"
"  TUTORD_CGROUP_ROOT         (own cgroup)           delegated cgroup the sandbox creates runs under\n"
"  TUTORD_SANDBOX_WARM        1                      cgroup v1: keep cgroup moves cheap (0 = off)\n"
"  TUTORD_SANDBOX_POOL        2                      sandboxes prepared ahead for one-shot runs (0 = off)\n"
"  TUTORD_GRADER_MAX_{CPU_MS,WALL_MS,MEMORY_MB,PROCESSES,OUTPUT_KB,FILE_KB}  ceilings of item limits\n"
"                             10000, 20000, 1024, 256, 1024, 16384\n"
"LLM gateway (actors/llm/LLM.md), all optional:\n"
"  TUTORD_LLM_FALLBACK_MODELS (none)                 comma list tried after the model fails\n"
"  TUTORD_LLM_CONNECT_TIMEOUT_MS 5000                upstream connect timeout\n"
"  TUTORD_LLM_FIRST_TOKEN_TIMEOUT_MS 30000           wait for the first token\n"
"  TUTORD_LLM_TOTAL_TIMEOUT_MS 120000                whole answer\n"
"  TUTORD_LLM_MAX_RETRIES     2                      retries on 429, 5xx, 529\n"
"  TUTORD_LLM_BACKOFF_MS      500                    first backoff (doubles, with jitter)\n"
"  TUTORD_LLM_BACKOFF_MAX_MS  8000                   largest backoff\n"
"  TUTORD_LLM_RETRY_AFTER_CAP_MS 60000               longest Retry-After honoured\n"
"  TUTORD_LLM_MAX_RESPONSE_BYTES 1048576             upstream answer size cap\n"
"  TUTORD_LLM_MAX_TOKENS      1024                   completion tokens asked for\n"
"  TUTORD_LLM_MONTHLY_TOKENS  (none)                 default monthly token budget per org\n"
"  TUTORD_LLM_USAGE_WEBHOOK   (none)                 Slack-compatible URL for the daily usage summary\n"
"  TUTORD_LLM_GRADE_MS        15000                  how often pending subjective answers are graded (0 = off)\n"
"  TUTORD_PROMPTS             (source)/prompts       folder of the prompt files\n"
"  TUTORD_LLM_GEN_ORG_JOBS    10                     generation jobs queued or running per org\n"
"  TUTORD_LLM_GEN_ATTEMPTS    3                      model attempts per generated piece\n"
"  TUTORD_LLM_GEN_CODE_ATTEMPTS 3                    attempts at a code exercise that passes its tests\n"
"Analytics (actors/analytics/ANALYTICS.md):\n"
"  TUTORD_ANALYTICS_SEED      (source)/seed/achievements.json  XP rules and achievements\n"
"  TUTORD_ANALYTICS_RETENTION_DAYS 0                 days of event log kept (0 = forever)\n"
"  TUTORD_ANALYTICS_LEAGUE_SIZE 30                   learners per weekly league group\n"
"  TUTORD_ANALYTICS_LEAGUE_PROMOTE 7                 promoted at the week's end\n"
"  TUTORD_ANALYTICS_LEAGUE_DEMOTE 5                  demoted at the week's end\n"
"  TUTORD_EVENTS_JOURNAL      1                      journal every event in PostgreSQL (needs TUTORD_DB)\n"
"  TUTORD_EVENTS_DIRECT       1                      this process's events reach its web bridge without the proxy thread (0: through it)\n"
"  TUTORD_EVENTS_JOURNAL_SKIP llm.delta              type prefixes the journal leaves out (\"\" = none)\n"
"Catalog (actors/catalog/CATALOG.md):\n"
"  TUTORD_CARDS_SWEEP_MS      10000                  resend enrolments whose srs cards are behind\n"
"Trainer (actors/trainer/TRAINER.md):\n"
"  TUTORD_TRAIN_WORKERS       (cores - 1, >= 1)      training threads, at low priority\n"
"  TUTORD_TRAIN_USER_RUNS     2                      active runs per user (429 beyond)\n"
"  TUTORD_TRAIN_ORG_RUNS      8                      active runs per org (429 beyond)\n"
"  TUTORD_TRAIN_MAX_STEPS     2000000                total_steps cap per run\n"
"  TUTORD_TRAIN_CHECKPOINT_MS 2000                   checkpoint interval\n"
"  TUTORD_TRAIN_LEASE_MS      15000                  lease of a running run (crash recovery)\n"
"  TUTORD_TRAIN_EVAL_EPISODES 20                     episodes of the final evaluation\n"
"  TUTORD_TRAIN_ORG_MONTH_STEPS 100000000            training steps per org per UTC month (0 = no cap)\n", out);
}

const char *
td_config_broker_endpoint (const td_config_t *cfg)
{
    return cfg->run_broker? TD_INPROC_BROKER: cfg->broker;
}

const char *
td_config_events_in_endpoint (const td_config_t *cfg)
{
    if (td_config_events_direct (cfg))
        return TD_INPROC_EVENTS_IN "," TD_INPROC_EVENTS_WEB;
    return cfg->run_broker? TD_INPROC_EVENTS_IN: cfg->events_in;
}

bool
td_config_events_direct (const td_config_t *cfg)
{
    return cfg->run_broker && cfg->run_web && cfg->events_direct;
}

const char *
td_config_web_events_endpoint (const td_config_t *cfg)
{
    if (td_config_events_direct (cfg))
        return ">" TD_INPROC_EVENTS_REMOTE ",@" TD_INPROC_EVENTS_WEB;
    return td_config_events_endpoint (cfg);
}

const char *
td_config_events_endpoint (const td_config_t *cfg)
{
    return cfg->run_broker? TD_INPROC_EVENTS: cfg->events;
}
