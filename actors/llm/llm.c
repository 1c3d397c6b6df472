/*  llm — the llm actor: the gateway to language models and the AI tutor (actors/llm/LLM.md).
 *
 *  It serves the "llm" service through the broker. Nothing here ever waits for a model: upstream
 *  streams run in td_llm_gw (libcurl multi on an epoll set), whose one descriptor the actor loop
 *  polls next to the worker socket (td_fdwatch); catalog lookups go out through a td_client whose
 *  socket the loop polls too. The tutor lives here rather than in the session actor so a turn
 *  needs no second broker hop per token: the actor that owns the stream publishes its llm.delta
 *  events straight to the event plane.
 *
 *  Settings (beyond CONTRACT.md's TUTORD_LLM_PROVIDER/BASE_URL/API_KEY/MODEL), all optional:
 *  TUTORD_LLM_FALLBACK_MODELS (comma list), TUTORD_LLM_CONNECT_TIMEOUT_MS (5000),
 *  TUTORD_LLM_FIRST_TOKEN_TIMEOUT_MS (30000), TUTORD_LLM_TOTAL_TIMEOUT_MS (120000),
 *  TUTORD_LLM_MAX_RETRIES (2), TUTORD_LLM_BACKOFF_MS (500), TUTORD_LLM_BACKOFF_MAX_MS (8000),
 *  TUTORD_LLM_RETRY_AFTER_CAP_MS (60000), TUTORD_LLM_MAX_RESPONSE_BYTES (1048576),
 *  TUTORD_LLM_MAX_TOKENS (1024), TUTORD_LLM_MONTHLY_TOKENS (default budget; none),
 *  TUTORD_LLM_USAGE_WEBHOOK (Slack-compatible URL for the daily usage summary; none),
 *  TUTORD_PROMPTS (folder of the prompt files; default <source>/prompts).
 *  Generation jobs (td_llm_gen*.c, LLM.md §8): TUTORD_LLM_GEN_LEASE_MS (30000), TUTORD_LLM_GEN_JOBS
 *  (4 per process), TUTORD_LLM_GEN_ORG_JOBS (10 queued or running per org),
 *  TUTORD_LLM_GEN_ATTEMPTS (3 answers per piece), TUTORD_LLM_GEN_CODE_ATTEMPTS (3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm.h"
#include "td_llm_conv.h"
#include "td_llm_dbq.h"
#include "td_llm_gen.h"
#include "td_log.h"

td_llm_t *
td_llm_state (td_actor_t *actor)
{
    return (td_llm_t *) td_actor_state (actor);
}

static int64_t
s_env_int (const char *name, int64_t dflt, int64_t lo, int64_t hi)
{
    const char *v = getenv (name);
    if (!v || !*v)
        return dflt;
    char *end;
    long long n = strtoll (v, &end, 10);
    if (*end || n < lo || n > hi) {
        td_warn ("llm", NULL, "%s='%s' is out of range %lld..%lld; using %lld", name, v,
                 (long long) lo, (long long) hi, (long long) dflt);
        return dflt;
    }
    return n;
}

static void
s_gw_ready (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    td_llm_gw_run (td_llm_state (actor)->gw);
}

static void
s_dbq_ready (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    td_llm_dbq_run (td_llm_state (actor)->dbq);
}

static void
s_defaults (td_llm_t *llm, const td_config_t *cfg)
{
    td_llm_org_cfg_t *d = &llm->defaults;
    int kind = td_llm_kind_parse (cfg->llm_provider);
    d->kind = kind < 0? TD_LLM_OFFLINE: (td_llm_kind_t) kind;
    snprintf (d->base_url, sizeof d->base_url, "%s", cfg->llm_base_url);
    size_t n = strlen (d->base_url);
    while (n > 0 && d->base_url [n - 1] == '/')
        d->base_url [--n] = 0;
    snprintf (d->api_key, sizeof d->api_key, "%s", cfg->llm_api_key);
    snprintf (d->models [0], sizeof d->models [0], "%s", *cfg->llm_model? cfg->llm_model: "offline");
    d->nmodels = 1;
    const char *fb = getenv ("TUTORD_LLM_FALLBACK_MODELS");
    if (fb && *fb) {
        char list [512];
        snprintf (list, sizeof list, "%s", fb);
        char *save = NULL;
        for (char *m = strtok_r (list, ",", &save); m && d->nmodels < TD_LLM_MAX_MODELS;
             m = strtok_r (NULL, ",", &save))
            if (*m)
                snprintf (d->models [d->nmodels++], sizeof d->models [0], "%s", m);
    }
    d->budget = s_env_int ("TUTORD_LLM_MONTHLY_TOKENS", -1, 0, INT64_MAX / 2);
}

static int
s_setup (td_actor_t *actor, td_llm_t *llm)
{
    const td_config_t *cfg = td_actor_config (actor);
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK || sodium_init () < 0) {
        td_error ("llm", NULL, "cannot initialise libcurl or libsodium");
        return -1;
    }
    llm->curl_ready = true;
    s_defaults (llm, cfg);
    llm->limits = (td_llm_limits_t) {
        .connect_ms = (int) s_env_int ("TUTORD_LLM_CONNECT_TIMEOUT_MS", 5000, 10, 600000),
        .first_token_ms = (int) s_env_int ("TUTORD_LLM_FIRST_TOKEN_TIMEOUT_MS", 30000, 10, 3600000),
        .total_ms = (int) s_env_int ("TUTORD_LLM_TOTAL_TIMEOUT_MS", 120000, 10, 3600000),
        .max_retries = (int) s_env_int ("TUTORD_LLM_MAX_RETRIES", 2, 0, 10),
        .backoff_ms = (int) s_env_int ("TUTORD_LLM_BACKOFF_MS", 500, 0, 600000),
        .backoff_max_ms = (int) s_env_int ("TUTORD_LLM_BACKOFF_MAX_MS", 8000, 0, 600000),
        .retry_after_cap_ms = (int) s_env_int ("TUTORD_LLM_RETRY_AFTER_CAP_MS", 60000, 0, 3600000),
        .max_bytes = (size_t) s_env_int ("TUTORD_LLM_MAX_RESPONSE_BYTES", 1048576, 1024, 64 << 20),
    };
    llm->max_tokens = (int) s_env_int ("TUTORD_LLM_MAX_TOKENS", 1024, 16, 100000);
    //  org keys: a secretbox key derived from TUTORD_SECRET (keyed BLAKE2b of a fixed label)
    size_t slen = strlen (cfg->secret);
    if (slen < crypto_generichash_KEYBYTES_MIN
    ||  crypto_generichash (llm->box_key, sizeof llm->box_key,
                            (const unsigned char *) "tutord llm org keys v1", 22,
                            (const unsigned char *) cfg->secret,
                            slen > crypto_generichash_KEYBYTES_MAX? crypto_generichash_KEYBYTES_MAX: slen) != 0) {
        td_error ("llm", NULL, "cannot derive the key-encryption key from TUTORD_SECRET");
        return -1;
    }
    const char *dir = getenv ("TUTORD_PROMPTS");
    char errbuf [256] = "";
    llm->prompts = td_llm_prompts_load (dir && *dir? dir: TUTORD_SOURCE_DIR "/prompts",
                                        errbuf, sizeof errbuf);
    if (!llm->prompts) {
        td_error ("llm", NULL, "cannot load the prompts: %s", errbuf);
        return -1;
    }
    llm->turn_index = zhashx_new ();     //  values are not owned (no destructor)
    llm->gw = td_llm_gw_new (&llm->limits);
    llm->gw_watch = llm->gw? td_fdwatch_new (td_llm_gw_fd (llm->gw)): NULL;
    llm->client = td_client_new (td_config_broker_endpoint (cfg));
    llm->dbq = td_llm_dbq_new (cfg->db, td_actor_db (actor));
    llm->dbq_watch = llm->dbq? td_fdwatch_new (td_llm_dbq_fd (llm->dbq)): NULL;
    llm->cancels = zsock_new_sub (td_config_events_endpoint (cfg), "llm.cancel");
    if (!llm->turn_index || !llm->gw || !llm->gw_watch || !llm->client || !llm->dbq_watch
    ||  !llm->cancels
    ||  td_actor_watch (actor, td_fdwatch_handle (llm->gw_watch), s_gw_ready) != 0
    ||  td_actor_watch (actor, td_fdwatch_handle (llm->dbq_watch), s_dbq_ready) != 0
    ||  td_actor_watch (actor, td_client_sock (llm->client), td_llm_lookup_ready) != 0
    ||  td_actor_watch (actor, llm->cancels, td_llm_tutor_cancel_event) != 0) {
        td_error ("llm", NULL, "cannot set up the gateway");
        return -1;
    }
    if (td_llm_conv_start (actor) != 0) {
        td_error ("llm", NULL, "cannot set up conversation practice");
        return -1;
    }
    if (td_llm_gen_start (actor) != 0) {
        td_error ("llm", NULL, "cannot set up generation jobs");
        return -1;
    }
    if (td_llm_grading_start (actor) != 0) {
        td_error ("llm", NULL, "cannot set up the grading of subjective answers");
        return -1;
    }
    td_info ("llm", NULL, "provider %s, model %s (%d fallbacks)",
             td_llm_kind_name (llm->defaults.kind), llm->defaults.models [0],
             llm->defaults.nmodels - 1);
    return 0;
}

static void s_fini (td_actor_t *actor);

//  The framework calls fini only after a successful init, so a failed init cleans up itself.
static int
s_init (td_actor_t *actor)
{
    td_llm_t *llm = (td_llm_t *) calloc (1, sizeof *llm);
    if (!llm)
        return -1;
    llm->actor = actor;
    td_actor_set_state (actor, llm);
    if (s_setup (actor, llm) != 0) {
        s_fini (actor);
        return -1;
    }
    return 0;
}

static void
s_fini (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    if (!llm)
        return;
    td_llm_tutor_stop_all (llm);    //  ends every turn (recorded as cancelled)
    td_llm_grading_stop (actor);
    td_llm_conv_stop (actor);       //  before the gateway: cancels its analyses
    td_llm_gen_stop (actor);        //  before the gateway: its jobs' streams end, leases freed
    td_llm_gw_destroy (&llm->gw);
    zhashx_destroy (&llm->turn_index);     //  its turns were freed by td_llm_tutor_stop_all
    td_llm_dbq_destroy (&llm->dbq); //  writes anything left (none: the turns flushed theirs)
    td_fdwatch_destroy (&llm->dbq_watch);
    td_client_destroy (&llm->client);
    zsock_destroy (&llm->cancels);
    td_fdwatch_destroy (&llm->gw_watch);
    json_decref (llm->prompts);
    sodium_memzero (llm->box_key, sizeof llm->box_key);
    sodium_memzero (&llm->defaults, sizeof llm->defaults);
    bool curl_ready = llm->curl_ready;
    free (llm);
    td_actor_set_state (actor, NULL);
    if (curl_ready)
        curl_global_cleanup ();
}

//  The daily usage summary (td_llm_summary.c: a string compare until the day changes) and the
//  grading of subjective answers (td_llm_grading.c, on its own interval).
static void
s_tick (td_actor_t *actor)
{
    td_llm_dbq_run (td_llm_state (actor)->dbq);     //  reconnects, output left to flush
    td_llm_summary_tick (actor);
    td_llm_grading_tick (actor);
    td_llm_conv_tick (actor);
    td_llm_gen_tick (actor);
}

static const td_verb_t s_verbs [] = {
    { "tutor.create",   td_llm_tutor_create },
    { "tutor.get",      td_llm_tutor_get },
    { "tutor.message",  td_llm_tutor_message },
    { "tutor.cancel",   td_llm_tutor_cancel },
    { "settings.get",   td_llm_settings_get },
    { "settings.put",   td_llm_settings_put },
    { "usage.get",      td_llm_usage_get },
    { "assist.hint",    td_llm_assist_hint },
    { "assist.feedback", td_llm_assist_feedback },
    { "usage.summary",  td_llm_usage_summary },
    { "assist.explain", td_llm_assist_explain },
    { "assist.complexity", td_llm_assist_complexity },
    { "assist.evaluate", td_llm_assist_evaluate },
    { "tutor.cards",    td_llm_tutor_cards },
    { "gen.create",     td_llm_gen_create },
    { "gen.get",        td_llm_gen_get },
    { "gen.list",       td_llm_gen_list },
    { "gen.cancel",     td_llm_gen_cancel },
    { NULL, NULL }
};

const td_actor_spec_t td_llm_actor = {
    .name = "llm",
    .service = "llm",
    .needs_db = true,
    .verbs = s_verbs,
    .init = s_init,
    .fini = s_fini,
    .tick = s_tick,
    .tick_ms = 500,
};
