/*  test_llm_provider — the three upstream wire formats of the llm gateway, pinned exactly
 *  (actors/llm/td_llm_provider.h): request URL, headers and body per provider; stream events
 *  (text, usage, end, in-stream errors, malformed shapes, vLLM's null choices); the failure
 *  classes (what is retried, what is a quota); Retry-After parsing; and the exam guard
 *  (td_llm_leaks_solution).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "llm/td_llm.h"

static td_llm_chunk_t
P (td_llm_kind_t kind, const char *data, int expect_rc)
{
    td_llm_chunk_t c;
    assert_int_equal (td_llm_chunk_parse (kind, "", data, strlen (data), &c), expect_rc);
    return c;
}

static void
test_openai_chunks (void **state)
{
    (void) state;
    td_llm_chunk_t c = P (TD_LLM_OPENAI, "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":"
        "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}],"
        "\"usage\":null}", 0);
    assert_string_equal (c.text, "Hi");
    assert_int_equal (c.prompt_tokens, -1);
    assert_false (c.done);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_OPENAI, "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}", 0);
    assert_null (c.text);
    td_llm_chunk_clear (&c);
    //  the usage chunk (include_usage): empty choices; vLLM sends null
    c = P (TD_LLM_OPENAI, "{\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,"
                          "\"total_tokens\":17}}", 0);
    assert_int_equal (c.prompt_tokens, 12);
    assert_int_equal (c.completion_tokens, 5);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_OPENAI, "{\"choices\":null,\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}", 0);
    assert_int_equal (c.completion_tokens, 2);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_OPENAI, "[DONE]", 0);
    assert_true (c.done);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_OPENAI, "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}", 0);
    assert_true (c.error);
    assert_string_equal (c.message, "overloaded");
    td_llm_chunk_clear (&c);
    //  malformed: not JSON, not an object, wrong types
    P (TD_LLM_OPENAI, "{\"choices\": [", -1);
    P (TD_LLM_OPENAI, "[1,2]", -1);
    P (TD_LLM_OPENAI, "{\"choices\":[{\"delta\":{\"content\":42}}]}", -1);
    P (TD_LLM_OPENAI, "{\"choices\":{}}", -1);
    P (TD_LLM_OPENAI, "{\"choices\":[{\"delta\":\"x\"}]}", -1);
    P (TD_LLM_OPENAI, "", -1);
}

static void
test_anthropic_events (void **state)
{
    (void) state;
    td_llm_chunk_t c = P (TD_LLM_ANTHROPIC, "{\"type\":\"message_start\",\"message\":{\"id\":\"m\","
        "\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}", 0);
    assert_int_equal (c.prompt_tokens, 25);
    assert_int_equal (c.completion_tokens, 1);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_ANTHROPIC, "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                             "{\"type\":\"text\",\"text\":\"\"}}", 0);
    assert_null (c.text);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_ANTHROPIC, "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                             "{\"type\":\"text_delta\",\"text\":\"Hello\"}}", 0);
    assert_string_equal (c.text, "Hello");
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_ANTHROPIC, "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
                             "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\"}}", 0);
    assert_null (c.text);           //  tool input is not text for the learner
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_ANTHROPIC, "{\"type\":\"ping\"}", 0);
    assert_false (c.done);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_ANTHROPIC, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                             "\"usage\":{\"output_tokens\":15}}", 0);
    assert_int_equal (c.completion_tokens, 15);
    assert_int_equal (c.prompt_tokens, -1);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_ANTHROPIC, "{\"type\":\"message_stop\"}", 0);
    assert_true (c.done);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_ANTHROPIC, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                             "\"message\":\"Overloaded\"}}", 0);
    assert_true (c.error);
    assert_string_equal (c.message, "Overloaded");
    td_llm_chunk_clear (&c);
    P (TD_LLM_ANTHROPIC, "{\"no_type\":1}", -1);
    P (TD_LLM_ANTHROPIC, "{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":1}}", -1);
}

static void
test_gemini_chunks (void **state)
{
    (void) state;
    td_llm_chunk_t c = P (TD_LLM_GEMINI, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"},"
        "{\"text\":\"b\"}],\"role\":\"model\"},\"index\":0}]}", 0);
    assert_string_equal (c.text, "ab");
    assert_false (c.done);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_GEMINI, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}],\"role\":\"model\"},"
        "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":8,"
        "\"candidatesTokenCount\":3,\"totalTokenCount\":11}}", 0);
    assert_string_equal (c.text, "!");
    assert_true (c.done);
    assert_int_equal (c.prompt_tokens, 8);
    assert_int_equal (c.completion_tokens, 3);
    td_llm_chunk_clear (&c);
    c = P (TD_LLM_GEMINI, "{\"error\":{\"code\":429,\"message\":\"Resource exhausted\","
                          "\"status\":\"RESOURCE_EXHAUSTED\"}}", 0);
    assert_true (c.error);
    td_llm_chunk_clear (&c);
    P (TD_LLM_GEMINI, "{\"something\":\"else\"}", -1);
}

static void
test_classify (void **state)
{
    (void) state;
    assert_int_equal (td_llm_classify (429, "{\"error\":{\"type\":\"rate_limit_error\"}}"), TD_LLM_FAIL_RETRY);
    assert_int_equal (td_llm_classify (429, "{\"error\":{\"code\":\"insufficient_quota\"}}"), TD_LLM_FAIL_QUOTA);
    assert_int_equal (td_llm_classify (400, "{\"error\":{\"details\":{\"error_code\":"
                                            "\"enforced_spend_limit_reached\"}}}"), TD_LLM_FAIL_QUOTA);
    assert_int_equal (td_llm_classify (429, NULL), TD_LLM_FAIL_RETRY);
    assert_int_equal (td_llm_classify (529, ""), TD_LLM_FAIL_RETRY);
    assert_int_equal (td_llm_classify (500, ""), TD_LLM_FAIL_RETRY);
    assert_int_equal (td_llm_classify (503, ""), TD_LLM_FAIL_RETRY);
    assert_int_equal (td_llm_classify (408, ""), TD_LLM_FAIL_RETRY);
    assert_int_equal (td_llm_classify (400, "bad"), TD_LLM_FAIL_FINAL);
    assert_int_equal (td_llm_classify (401, ""), TD_LLM_FAIL_FINAL);
    assert_int_equal (td_llm_classify (404, ""), TD_LLM_FAIL_FINAL);
}

static void
test_retry_after (void **state)
{
    (void) state;
    assert_int_equal (td_llm_retry_after_ms (" 3\r\n", false), 3000);
    assert_int_equal (td_llm_retry_after_ms ("1.5", false), 1500);
    assert_int_equal (td_llm_retry_after_ms ("250", true), 250);
    assert_int_equal (td_llm_retry_after_ms ("Wed, 21 Oct 2015 07:28:00 GMT", false), -1);
    assert_int_equal (td_llm_retry_after_ms ("-1", false), -1);
    assert_int_equal (td_llm_retry_after_ms ("", false), -1);
    assert_int_equal (td_llm_retry_after_ms (NULL, false), -1);
    assert_int_equal (td_llm_retry_after_ms ("1e12", false), -1);
}

static bool
s_has_header (struct curl_slist *h, const char *line)
{
    for (; h; h = h->next)
        if (strcmp (h->data, line) == 0)
            return true;
    return false;
}

static void
test_build (void **state)
{
    (void) state;
    json_t *msgs = json_pack ("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "role", "user", "text", "q1",
                              "role", "assistant", "text", "a1", "role", "user", "text", "q2");
    td_llm_wire_req_t r = { .kind = TD_LLM_OPENAI, .base_url = "http://h/v1", .api_key = "sk",
                            .model = "gpt-x", .system = "sys", .messages = msgs, .max_tokens = 50 };
    char *url, *body;
    struct curl_slist *h;
    assert_int_equal (td_llm_build (&r, &url, &h, &body), 0);
    assert_string_equal (url, "http://h/v1/chat/completions");
    assert_true (s_has_header (h, "Authorization: Bearer sk"));
    assert_true (s_has_header (h, "Accept: text/event-stream"));
    assert_true (s_has_header (h, "Expect:"));         //  no 100-continue wait
    json_error_t jerr;
    json_t *j = json_loads (body, 0, &jerr);
    assert_string_equal (json_string_value (json_object_get (j, "model")), "gpt-x");
    assert_true (json_is_true (json_object_get (j, "stream")));
    assert_true (json_is_true (json_object_get (json_object_get (j, "stream_options"), "include_usage")));
    assert_int_equal (json_array_size (json_object_get (j, "messages")), 4);
    assert_string_equal (json_string_value (json_object_get (json_array_get (
        json_object_get (j, "messages"), 0), "role")), "system");
    json_decref (j);
    free (url); free (body); curl_slist_free_all (h);

    r.kind = TD_LLM_ANTHROPIC;
    r.base_url = "https://a";
    assert_int_equal (td_llm_build (&r, &url, &h, &body), 0);
    assert_string_equal (url, "https://a/v1/messages");
    assert_true (s_has_header (h, "x-api-key: sk"));
    assert_true (s_has_header (h, "anthropic-version: 2023-06-01"));
    j = json_loads (body, 0, &jerr);
    assert_string_equal (json_string_value (json_object_get (j, "system")), "sys");
    assert_int_equal (json_integer_value (json_object_get (j, "max_tokens")), 50);
    assert_int_equal (json_array_size (json_object_get (j, "messages")), 3);
    json_decref (j);
    free (url); free (body); curl_slist_free_all (h);

    r.kind = TD_LLM_GEMINI;
    r.base_url = "https://g/v1beta";
    r.model = "gemini-2.0-flash";
    r.api_key = "";
    assert_int_equal (td_llm_build (&r, &url, &h, &body), 0);
    assert_string_equal (url, "https://g/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse");
    assert_false (s_has_header (h, "x-goog-api-key: "));    //  no key, no header
    j = json_loads (body, 0, &jerr);
    json_t *contents = json_object_get (j, "contents");
    assert_string_equal (json_string_value (json_object_get (json_array_get (contents, 1), "role")), "model");
    assert_string_equal (json_string_value (json_object_get (json_array_get (json_object_get (
        json_object_get (j, "systemInstruction"), "parts"), 0), "text")), "sys");
    assert_int_equal (json_integer_value (json_object_get (json_object_get (j, "generationConfig"),
                                                           "maxOutputTokens")), 50);
    json_decref (j);
    free (url); free (body); curl_slist_free_all (h);

    //  a model name that would walk Gemini's URL, and offline, are refused
    r.model = "../x?key=y";
    assert_int_equal (td_llm_build (&r, &url, &h, &body), -1);
    assert_null (url);
    r.model = "ok";
    r.kind = TD_LLM_OFFLINE;
    assert_int_equal (td_llm_build (&r, &url, &h, &body), -1);
    json_decref (msgs);
    assert_true (td_llm_model_valid ("claude-3-5-haiku@20241022"));
    assert_false (td_llm_model_valid (""));
    assert_false (td_llm_model_valid ("a b"));
    assert_int_equal (td_llm_kind_parse ("gemini"), TD_LLM_GEMINI);
    assert_int_equal (td_llm_kind_parse ("GPT"), -1);
}

static void
test_exam_guard (void **state)
{
    (void) state;
    json_t *item = json_pack ("{s:s, s:{s:s}}", "kind", "exercise", "content", "solution",
        "def add(first, second):\n    total = first + second\n    return total\n");
    //  a line of 12+ visible characters, whatever the spacing
    assert_true (td_llm_leaks_solution (item, "Here:\n    total   =   first+second\n"));
    assert_true (td_llm_leaks_solution (item, "Start with defadd(first,second): then"));
    assert_false (td_llm_leaks_solution (item, "Use the + operator and return the sum."));
    assert_false (td_llm_leaks_solution (item, "return total"));        //  11 visible chars: too short
    json_decref (item);
    item = json_pack ("{s:s, s:{s:s}}", "kind", "question", "content", "prompt", "2+2?");
    assert_false (td_llm_leaks_solution (item, "anything"));
    json_decref (item);
    item = json_pack ("{s:s, s:{s:s}}", "kind", "exercise", "content", "solution", "print(42)");
    assert_true (td_llm_leaks_solution (item, "just write print( 42 )"));  //  whole solution, 9 chars
    json_decref (item);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_openai_chunks),
        cmocka_unit_test (test_anthropic_events),
        cmocka_unit_test (test_gemini_chunks),
        cmocka_unit_test (test_classify),
        cmocka_unit_test (test_retry_after),
        cmocka_unit_test (test_build),
        cmocka_unit_test (test_exam_guard),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
