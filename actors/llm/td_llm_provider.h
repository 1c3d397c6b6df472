/*  td_llm_provider — the wire formats of the three upstream APIs, without any I/O.
 *
 *  For each provider: how to build the streaming request (URL, headers, JSON body) from one
 *  conversation, how to read one SSE event of its stream (text delta, usage, end, error), and how
 *  to classify a failed HTTP answer (retry or not, quota or not). Pure functions, so the unit
 *  tests (tests/unit/test_llm_provider.c) pin each format exactly.
 *
 *    openai     POST {base}/chat/completions, Bearer key; chunks choices[0].delta.content,
 *               usage chunk (include_usage) before "data: [DONE]".
 *    anthropic  POST {base}/v1/messages, x-api-key + anthropic-version; events message_start
 *               (input tokens), content_block_delta/text_delta, message_delta (output tokens),
 *               message_stop, ping, error.
 *    gemini     POST {base}/models/{model}:streamGenerateContent?alt=sse, x-goog-api-key;
 *               chunks candidates[0].content.parts[].text, usageMetadata, finishReason ends.
 */
#ifndef TD_LLM_PROVIDER_H
#define TD_LLM_PROVIDER_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TD_LLM_OFFLINE = 0,
    TD_LLM_OPENAI,
    TD_LLM_ANTHROPIC,
    TD_LLM_GEMINI
} td_llm_kind_t;

//  "offline" ... ; -1 for an unknown name.
int td_llm_kind_parse (const char *name);
const char *td_llm_kind_name (td_llm_kind_t kind);

//  One request: the conversation as [{"role": "user"|"assistant", "text"}] plus a system prompt.
typedef struct {
    td_llm_kind_t kind;
    const char *base_url;           //  without trailing slash
    const char *api_key;            //  "" when none
    const char *model;
    const char *system;
    const json_t *messages;
    int max_tokens;
} td_llm_wire_req_t;

//  The provider's public base URL ("" for offline).
const char *td_llm_default_url (td_llm_kind_t kind);
//  A model name as upstreams spell them ([A-Za-z0-9-._:/@], 1..120).
bool td_llm_model_valid (const char *model);

//  Build URL (malloc'd), headers (curl list, caller frees) and body (malloc'd JSON). 0 or -1.
int td_llm_build (const td_llm_wire_req_t *req, char **url, struct curl_slist **headers,
                  char **body);

//  What one SSE event said.
typedef struct {
    char *text;                     //  malloc'd delta text or NULL
    int64_t prompt_tokens;          //  -1 when the event carried none
    int64_t completion_tokens;      //  -1 when none
    bool done;                      //  the stream's normal end
    bool error;                     //  the upstream reported an error in the stream
    char message [200];             //  its message
} td_llm_chunk_t;

//  Parse one event. 0, or -1 when the event is malformed (not the provider's JSON shape).
int td_llm_chunk_parse (td_llm_kind_t kind, const char *event, const char *data, size_t len,
                        td_llm_chunk_t *out);
void td_llm_chunk_clear (td_llm_chunk_t *chunk);

//  A failed HTTP answer: status and (possibly truncated) body.
typedef enum {
    TD_LLM_FAIL_RETRY = 1,          //  429 (not quota), 408, 409, 5xx, 529
    TD_LLM_FAIL_QUOTA,              //  quota or spend limit: never retried
    TD_LLM_FAIL_FINAL               //  400, 401, 403, 404...: never retried
} td_llm_fail_t;
td_llm_fail_t td_llm_classify (int status, const char *body);
//  Retry-After value in ms from a header line's value ("3", "1.5"); -1 when not a number.
int64_t td_llm_retry_after_ms (const char *value, bool is_ms);

#endif
