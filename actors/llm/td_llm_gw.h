/*  td_llm_gw — the gateway's engine: many concurrent upstream streams in one thread.
 *
 *  Why: a model may think for a minute; an actor thread must never wait for it. The engine drives
 *  libcurl's multi interface by its socket API: curl's sockets and its timer live in one epoll set
 *  (with a timerfd), and that one descriptor is polled by the actor loop (td_fdwatch); when it is
 *  readable the actor calls td_llm_gw_run, which moves every ready transfer on and returns.
 *
 *  Per stream: connect timeout (curl), first-token timeout and total timeout (ours); retries on
 *  408/409/429/5xx/529 and transport failures before the first token, with exponential backoff
 *  and full jitter, never less than the upstream's Retry-After (retry-after-ms too); a
 *  Retry-After beyond the wait cap fails at once; quota / spend-limit answers are never retried;
 *  after the retries of one model, the next model of the fallback list; never a retry once a
 *  token was forwarded. A response over max_bytes is cut off (too_large); a chunk that is not
 *  the provider's shape ends the stream (malformed). Cancellation removes the transfer at once.
 *
 *  Callbacks: delta (text as it arrives; non-zero aborts the stream with "blocked") and done
 *  (exactly once per started stream, with the result). Callbacks run inside td_llm_gw_run,
 *  td_llm_gw_cancel or td_llm_gw_destroy; from done they may start or cancel streams.
 */
#ifndef TD_LLM_GW_H
#define TD_LLM_GW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "td_llm_provider.h"

#define TD_LLM_MAX_MODELS 4

typedef struct {
    int connect_ms;                 //  TCP+TLS connect
    int first_token_ms;             //  from each attempt's start to its first text
    int total_ms;                   //  from td_llm_gw_start to the end, retries included
    int max_retries;                //  per model
    int backoff_ms;                 //  first backoff ceiling; doubles per retry
    int backoff_max_ms;
    int retry_after_cap_ms;         //  a longer Retry-After fails at once
    size_t max_bytes;               //  per attempt's response
} td_llm_limits_t;

typedef struct {
    td_llm_kind_t kind;             //  not offline
    const char *base_url;
    const char *api_key;
    const char *models [TD_LLM_MAX_MODELS];     //  primary first, then fallbacks
    int nmodels;
    const char *system;
    const json_t *messages;         //  [{"role": "user"|"assistant", "text"}]
    int max_tokens;
} td_llm_gw_req_t;

typedef struct {
    bool ok;
    char code [32];                 //  "" when ok; timeout, quota_exceeded, rate_limited,
                                    //  upstream_error, dropped, malformed, too_large, blocked,
                                    //  cancelled, internal
    char message [200];
    char model [128];               //  the model that answered (or was tried last)
    int64_t prompt_tokens;          //  as the upstream reported; 0 when it did not
    int64_t completion_tokens;
    int attempts;
    int http_status;                //  last upstream status (0 when none)
} td_llm_result_t;

typedef int (td_llm_delta_fn) (void *arg, const char *text, size_t len);
typedef void (td_llm_done_fn) (void *arg, const td_llm_result_t *result);

typedef struct td_llm_gw td_llm_gw_t;

td_llm_gw_t *td_llm_gw_new (const td_llm_limits_t *limits);
//  Ends every stream (done with "cancelled").
void td_llm_gw_destroy (td_llm_gw_t **self_p);
//  The descriptor to poll for readability.
int td_llm_gw_fd (const td_llm_gw_t *self);
//  Move everything on; call when the descriptor is readable (harmless otherwise).
void td_llm_gw_run (td_llm_gw_t *self);
//  Start a stream (the request is copied). Its id (> 0), or 0 when it cannot start (no callback).
uint64_t td_llm_gw_start (td_llm_gw_t *self, const td_llm_gw_req_t *req, td_llm_delta_fn *delta,
                          td_llm_done_fn *done, void *arg);
//  Abort a stream: done is called with "cancelled" before this returns. 0, or -1 if unknown.
int td_llm_gw_cancel (td_llm_gw_t *self, uint64_t id);
size_t td_llm_gw_active (const td_llm_gw_t *self);
//  A fire-and-forget JSON POST on the same loop (webhooks): 10 s timeout, failures logged. 0 or -1.
int td_llm_gw_post (td_llm_gw_t *self, const char *url, const char *json);

#endif
