/*  td_config — tutord's configuration, read from the environment (CONTRACT.md §2).
 *
 *  td_config_load validates every variable; a bad value fails with one line naming it.
 *  In-process endpoints are fixed inproc names; TUTORD_BROKER / TUTORD_EVENTS /
 *  TUTORD_EVENTS_IN are what other processes and hosts use.
 */
#ifndef TD_CONFIG_H
#define TD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TD_INPROC_BROKER     "inproc://tutord-broker"
#define TD_INPROC_EVENTS_IN  "inproc://tutord-events-in"
#define TD_INPROC_EVENTS     "inproc://tutord-events"
//  The local event path (TUTORD_EVENTS_DIRECT, in a process that runs the broker and the web
//  bridge): this process's publishers also connect to the bridge's own SUB, bound here, and the
//  bridge takes from the proxy only what other processes published, on a second XPUB.
#define TD_INPROC_EVENTS_WEB     "inproc://tutord-events-web"
#define TD_INPROC_EVENTS_REMOTE  "inproc://tutord-events-remote"
//  Event types the journal leaves out by default: a tutor answer's fragments (its whole text is
//  stored with the session and announced by llm.done), one row per token otherwise.
#define TD_JOURNAL_SKIP_DEFAULT "llm.delta"
#define TD_JOURNAL_SKIP_MAX  16     //  prefixes in TUTORD_EVENTS_JOURNAL_SKIP
#define TD_JOURNAL_SKIP_LEN  64     //  bytes in one of them

typedef struct {
    char var_dir [PATH_MAX];        //  TUTORD_VAR, absolute (default ./var)
    char db [2048];                 //  TUTORD_DB, or the private cluster's conninfo
    bool db_private;                //  true when TUTORD_DB was unset
    char http_host [256];           //  TUTORD_HTTP host part (default 127.0.0.1)
    int http_port;                  //  TUTORD_HTTP port (default 8080)
    char broker [512];              //  TUTORD_BROKER (tcp://127.0.0.1:5555)
    char events [512];              //  TUTORD_EVENTS, XPUB for analysts (tcp://127.0.0.1:5556)
    char events_in [512];           //  TUTORD_EVENTS_IN, XSUB remote actors publish to (tcp://127.0.0.1:5557)
    bool run_broker;                //  TUTORD_ACTORS selects "broker"
    bool run_web;                   //  TUTORD_ACTORS selects "web"
    bool events_direct;             //  TUTORD_EVENTS_DIRECT (default 1): see td_config_events_direct
    bool run_actor [16];            //  indexed like td_actor_names
    char secret [256];              //  TUTORD_SECRET, or generated once into $TUTORD_VAR/secret
    char llm_provider [32];         //  TUTORD_LLM_PROVIDER: offline|openai|anthropic|gemini
    char llm_base_url [512];
    char llm_api_key [512];
    char llm_model [128];
    char python [PATH_MAX];         //  TUTORD_PYTHON, absolute (default /usr/bin/python3)
    char static_dir [PATH_MAX];     //  TUTORD_STATIC, the browser client (default: bridges/client beside the binary's source, see td_config.c)
    int http_max_body;              //  TUTORD_HTTP_MAX_BODY bytes (default 1 MiB)
    int drain_ms;                   //  TUTORD_DRAIN_MS: bounded drain on SIGTERM (default 5000)
    int grader_workers;             //  TUTORD_GRADER_WORKERS: sandbox runners (default: one per core)
    int srs_workers;                //  TUTORD_SRS_WORKERS: srs actors in this process (default 2)
    int io_threads;                 //  TUTORD_IO_THREADS: libzmq I/O threads (default 2)
    char journal_skip [1100];       //  TUTORD_EVENTS_JOURNAL_SKIP: type prefixes not journaled (default llm.delta)
    bool malloc_tuned;              //  TUTORD_MALLOC: tuned (default) or default (glibc's own)
    int heartbeat_ms;               //  TUTORD_HEARTBEAT_MS (default 1000), liveness 3
    int request_timeout_ms;         //  TUTORD_REQUEST_TIMEOUT_MS: deadline the bridge sets (default 30000)
    int log_level;                  //  TUTORD_LOG_LEVEL debug|info|warn|error (default info)
    bool faults;                    //  TUTORD_FAULTS=1 enables test-only fault injection verbs
    int rate_per_token;             //  TUTORD_RATE_PER_TOKEN: bridge requests per second per token (default 50)
    int rate_burst;                 //  TUTORD_RATE_BURST: token bucket size (default 100)
    //  Identity (actors/identity/IDENTITY.md)
    int access_ttl_s;               //  TUTORD_ACCESS_TTL_S: access token lifetime (default 900)
    int refresh_ttl_s;              //  TUTORD_REFRESH_TTL_S: refresh token lifetime (default 30 days)
    int login_max_per_account;      //  TUTORD_LOGIN_MAX_PER_ACCOUNT failed logins per window (default 5)
    int login_max_per_ip;           //  TUTORD_LOGIN_MAX_PER_IP failed logins per window (default 50)
    int login_window_s;             //  TUTORD_LOGIN_WINDOW_S (default 900)
    int argon2_opslimit;            //  TUTORD_ARGON2_OPSLIMIT (default crypto_pwhash_OPSLIMIT_INTERACTIVE)
    int argon2_memlimit_kib;        //  TUTORD_ARGON2_MEMLIMIT_KIB (default 65536 = MEMLIMIT_INTERACTIVE)
    char google_jwks [1024];        //  TUTORD_GOOGLE_JWKS: file path or http(s) URL ("" = sign-in off)
    char google_client_id [256];    //  TUTORD_GOOGLE_CLIENT_ID: the expected audience
} td_config_t;

//  Fill cfg from the environment. 0, or -1 with one line in errbuf naming the variable.
//  Does not touch the filesystem except to read/generate the secret (needs var_dir).
int td_config_load (td_config_t *cfg, char *errbuf, size_t errlen);
//  Print the variables, their defaults and meaning (tutord --help).
void td_config_usage (FILE *out);
//  Endpoint a worker/client in this process uses for the request plane / to publish events /
//  to subscribe to events: inproc when this process runs the broker, else the TCP ones.
const char *td_config_broker_endpoint (const td_config_t *cfg);
const char *td_config_events_in_endpoint (const td_config_t *cfg);
const char *td_config_events_endpoint (const td_config_t *cfg);
//  True when this process's publishers hand their events to its web bridge without the proxy
//  thread: the process runs the broker and the bridge, and TUTORD_EVENTS_DIRECT is not 0. The
//  publishers then connect to TD_INPROC_EVENTS_WEB too (td_config_events_in_endpoint is a list),
//  and the bridge subscribes with td_config_web_events_endpoint.
bool td_config_events_direct (const td_config_t *cfg);
//  The zsock_attach list of the web bridge's event SUB.
const char *td_config_web_events_endpoint (const td_config_t *cfg);

#endif
