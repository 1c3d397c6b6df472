/*  td_llm_provider — request builders and stream readers of the three upstream formats
 *  (see td_llm_provider.h). Everything here is pure: no sockets, no clocks.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm_provider.h"

static const char *s_names [] = { "offline", "openai", "anthropic", "gemini" };

int
td_llm_kind_parse (const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp (name, s_names [i]) == 0)
            return i;
    return -1;
}

const char *
td_llm_kind_name (td_llm_kind_t kind)
{
    return (int) kind >= 0 && kind <= TD_LLM_GEMINI? s_names [kind]: "offline";
}

const char *
td_llm_default_url (td_llm_kind_t kind)
{
    return kind == TD_LLM_OPENAI? "https://api.openai.com/v1":
           kind == TD_LLM_ANTHROPIC? "https://api.anthropic.com":
           kind == TD_LLM_GEMINI? "https://generativelanguage.googleapis.com/v1beta": "";
}

//  ---------------------------------------------------------------------------------------------
//  Requests

static char *
s_printf (const char *fmt, const char *a, const char *b)
{
    size_t n = strlen (fmt) + strlen (a) + (b? strlen (b): 0) + 1;
    char *s = (char *) malloc (n);
    if (s)
        snprintf (s, n, fmt, a, b? b: "");
    return s;
}

static int
s_header (struct curl_slist **list, const char *name, const char *value)
{
    char line [1024];
    int n = snprintf (line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t) n >= sizeof line)
        return -1;
    struct curl_slist *l = curl_slist_append (*list, line);
    if (!l)
        return -1;
    *list = l;
    return 0;
}

//  A model name goes into Gemini's URL path: only the characters model names use.
bool
td_llm_model_valid (const char *m)
{
    if (!m || !*m || strlen (m) > 120)
        return false;
    for (const char *p = m; *p; p++)
        if (!isalnum ((unsigned char) *p) && !strchr ("-._:/@", *p))
            return false;
    return true;
}

static json_t *
s_openai_body (const td_llm_wire_req_t *r)
{
    json_t *msgs = json_array ();
    if (r->system && *r->system)
        json_array_append_new (msgs, json_pack ("{s:s, s:s}", "role", "system", "content", r->system));
    size_t i;
    json_t *m;
    json_array_foreach (r->messages, i, m)
        json_array_append_new (msgs, json_pack ("{s:O, s:O}", "role", json_object_get (m, "role"),
                                                "content", json_object_get (m, "text")));
    return json_pack ("{s:s, s:o, s:b, s:{s:b}, s:i}", "model", r->model, "messages", msgs,
                      "stream", 1, "stream_options", "include_usage", 1, "max_tokens", r->max_tokens);
}

static json_t *
s_anthropic_body (const td_llm_wire_req_t *r)
{
    json_t *msgs = json_array ();
    size_t i;
    json_t *m;
    json_array_foreach (r->messages, i, m)
        json_array_append_new (msgs, json_pack ("{s:O, s:O}", "role", json_object_get (m, "role"),
                                                "content", json_object_get (m, "text")));
    json_t *body = json_pack ("{s:s, s:i, s:o, s:b}", "model", r->model, "max_tokens",
                              r->max_tokens, "messages", msgs, "stream", 1);
    if (body && r->system && *r->system)
        json_object_set_new (body, "system", json_string (r->system));
    return body;
}

static json_t *
s_gemini_body (const td_llm_wire_req_t *r)
{
    json_t *contents = json_array ();
    size_t i;
    json_t *m;
    json_array_foreach (r->messages, i, m) {
        const char *role = json_string_value (json_object_get (m, "role"));
        json_array_append_new (contents, json_pack ("{s:s, s:[{s:O}]}", "role",
            role && strcmp (role, "assistant") == 0? "model": "user", "parts", "text",
            json_object_get (m, "text")));
    }
    json_t *body = json_pack ("{s:o, s:{s:i}}", "contents", contents, "generationConfig",
                              "maxOutputTokens", r->max_tokens);
    if (body && r->system && *r->system)
        json_object_set_new (body, "systemInstruction",
                             json_pack ("{s:[{s:s}]}", "parts", "text", r->system));
    return body;
}

int
td_llm_build (const td_llm_wire_req_t *r, char **url, struct curl_slist **headers, char **body)
{
    *url = NULL;
    *headers = NULL;
    *body = NULL;
    if (!r->base_url || !td_llm_model_valid (r->model) || !json_is_array (r->messages))
        return -1;
    json_t *j = NULL;
    int rc = 0;
    const char *key = r->api_key? r->api_key: "";
    switch (r->kind) {
        case TD_LLM_OPENAI:
            *url = s_printf ("%s/chat/completions", r->base_url, NULL);
            j = s_openai_body (r);
            if (*key) {
                char bearer [600];
                snprintf (bearer, sizeof bearer, "Bearer %s", key);
                rc |= s_header (headers, "Authorization", bearer);
            }
            break;
        case TD_LLM_ANTHROPIC:
            *url = s_printf ("%s/v1/messages", r->base_url, NULL);
            j = s_anthropic_body (r);
            rc |= s_header (headers, "anthropic-version", "2023-06-01");
            if (*key)
                rc |= s_header (headers, "x-api-key", key);
            break;
        case TD_LLM_GEMINI:
            *url = s_printf ("%s/models/%s:streamGenerateContent?alt=sse", r->base_url, r->model);
            j = s_gemini_body (r);
            if (*key)
                rc |= s_header (headers, "x-goog-api-key", key);
            break;
        default:
            return -1;
    }
    rc |= s_header (headers, "Content-Type", "application/json");
    rc |= s_header (headers, "Accept", "text/event-stream");
    //  no "Expect: 100-continue" for bodies over 1 KiB: many servers never answer it, and curl
    //  would wait a second for it before sending the body
    struct curl_slist *l = curl_slist_append (*headers, "Expect:");
    if (l)
        *headers = l;
    else
        rc = -1;
    if (j)
        *body = json_dumps (j, JSON_COMPACT);
    json_decref (j);
    if (rc || !*url || !*body) {
        free (*url);
        free (*body);
        curl_slist_free_all (*headers);
        *url = *body = NULL;
        *headers = NULL;
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Stream events

void
td_llm_chunk_clear (td_llm_chunk_t *c)
{
    free (c->text);
    memset (c, 0, sizeof *c);
    c->prompt_tokens = c->completion_tokens = -1;
}

static void
s_append (td_llm_chunk_t *c, const char *s)
{
    if (!s || !*s)
        return;
    size_t old = c->text? strlen (c->text): 0, n = strlen (s);
    char *t = (char *) realloc (c->text, old + n + 1);
    if (!t)
        return;
    memcpy (t + old, s, n + 1);
    c->text = t;
}

static void
s_error (td_llm_chunk_t *c, const json_t *err)
{
    c->error = true;
    const char *m = json_string_value (json_object_get (err, "message"));
    snprintf (c->message, sizeof c->message, "%s", m? m: "the model reported an error");
}

static int64_t
s_int (const json_t *o, const char *key)
{
    const json_t *v = json_object_get (o, key);
    return json_is_integer (v) && json_integer_value (v) >= 0? json_integer_value (v): -1;
}

static int
s_openai (json_t *j, td_llm_chunk_t *c)
{
    if (json_is_object (json_object_get (j, "error"))) {
        s_error (c, json_object_get (j, "error"));
        return 0;
    }
    json_t *choices = json_object_get (j, "choices");
    if (choices && !json_is_array (choices) && !json_is_null (choices))
        return -1;
    if (json_array_size (choices) > 0) {
        json_t *delta = json_object_get (json_array_get (choices, 0), "delta");
        if (delta && !json_is_object (delta))
            return -1;
        json_t *content = json_object_get (delta, "content");
        if (content && !json_is_string (content) && !json_is_null (content))
            return -1;
        s_append (c, json_string_value (content));
    }
    json_t *usage = json_object_get (j, "usage");
    if (json_is_object (usage)) {
        c->prompt_tokens = s_int (usage, "prompt_tokens");
        c->completion_tokens = s_int (usage, "completion_tokens");
    }
    return 0;
}

static int
s_anthropic (json_t *j, td_llm_chunk_t *c)
{
    const char *type = json_string_value (json_object_get (j, "type"));
    if (!type)
        return -1;
    if (strcmp (type, "message_start") == 0) {
        json_t *usage = json_object_get (json_object_get (j, "message"), "usage");
        c->prompt_tokens = s_int (usage, "input_tokens");
        c->completion_tokens = s_int (usage, "output_tokens");
    }
    else
    if (strcmp (type, "content_block_delta") == 0) {
        json_t *delta = json_object_get (j, "delta");
        if (!json_is_object (delta))
            return -1;
        const char *dt = json_string_value (json_object_get (delta, "type"));
        if (dt && strcmp (dt, "text_delta") == 0) {
            json_t *text = json_object_get (delta, "text");
            if (!json_is_string (text))
                return -1;
            s_append (c, json_string_value (text));
        }
    }
    else
    if (strcmp (type, "message_delta") == 0) {
        json_t *usage = json_object_get (j, "usage");
        c->completion_tokens = s_int (usage, "output_tokens");
        int64_t in = s_int (usage, "input_tokens");
        if (in >= 0)
            c->prompt_tokens = in;
    }
    else
    if (strcmp (type, "message_stop") == 0)
        c->done = true;
    else
    if (strcmp (type, "error") == 0)
        s_error (c, json_object_get (j, "error"));
    //  ping, content_block_start, content_block_stop: nothing to do
    return 0;
}

static int
s_gemini (json_t *j, td_llm_chunk_t *c)
{
    if (json_is_object (json_object_get (j, "error"))) {
        s_error (c, json_object_get (j, "error"));
        return 0;
    }
    json_t *cands = json_object_get (j, "candidates");
    json_t *usage = json_object_get (j, "usageMetadata");
    if (!json_is_array (cands) && !json_is_object (usage))
        return -1;
    json_t *cand = json_array_get (cands, 0);
    json_t *parts = json_object_get (json_object_get (cand, "content"), "parts");
    size_t i;
    json_t *p;
    json_array_foreach (parts, i, p)
        s_append (c, json_string_value (json_object_get (p, "text")));
    if (json_is_string (json_object_get (cand, "finishReason")))
        c->done = true;
    if (json_is_object (usage)) {
        c->prompt_tokens = s_int (usage, "promptTokenCount");
        c->completion_tokens = s_int (usage, "candidatesTokenCount");
    }
    return 0;
}

int
td_llm_chunk_parse (td_llm_kind_t kind, const char *event, const char *data, size_t len,
                    td_llm_chunk_t *out)
{
    (void) event;                   //  Anthropic repeats the event name as data.type
    memset (out, 0, sizeof *out);
    out->prompt_tokens = out->completion_tokens = -1;
    if (kind == TD_LLM_OPENAI && len == 6 && memcmp (data, "[DONE]", 6) == 0) {
        out->done = true;
        return 0;
    }
    json_error_t jerr;
    json_t *j = json_loadb (data, len, 0, &jerr);
    if (!json_is_object (j)) {
        json_decref (j);
        return -1;
    }
    int rc = kind == TD_LLM_OPENAI? s_openai (j, out):
             kind == TD_LLM_ANTHROPIC? s_anthropic (j, out):
             kind == TD_LLM_GEMINI? s_gemini (j, out): -1;
    json_decref (j);
    if (rc)
        td_llm_chunk_clear (out);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  Failures

td_llm_fail_t
td_llm_classify (int status, const char *body)
{
    static const char *quota [] = {
        "insufficient_quota", "credit_balance", "spend_limit", "billing_hard_limit",
        "quota_exceeded", NULL
    };
    for (int i = 0; body && quota [i]; i++)
        if (strstr (body, quota [i]))
            return TD_LLM_FAIL_QUOTA;
    if (status == 408 || status == 409 || status == 429 || status == 529
    || (status >= 500 && status <= 599))
        return TD_LLM_FAIL_RETRY;
    return TD_LLM_FAIL_FINAL;
}

int64_t
td_llm_retry_after_ms (const char *value, bool is_ms)
{
    if (!value)
        return -1;
    while (*value == ' ')
        value++;
    char *end;
    double v = strtod (value, &end);
    if (end == value || v < 0 || v > 86400.0 * 1000)
        return -1;
    while (*end == ' ' || *end == '\r' || *end == '\n')
        end++;
    if (*end)
        return -1;                  //  an HTTP date: treated as absent (backoff applies)
    return (int64_t) (is_ms? v: v * 1000.0);
}
