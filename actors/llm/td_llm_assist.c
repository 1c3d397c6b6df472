/*  td_llm_assist — the one-shot helpers of issue 7 point 5: a hint for an exercise, feedback on
 *  a submission (LLM.md §4).
 *
 *  Both read the item through the catalog with the learner's rights (td_llm_item_fetch: 404 when
 *  the learner may not see it), refuse exam items (403: the exam's rules hold here too), and
 *  answer the kept call with the whole text when the model is done (td_llm_oneshot): nothing
 *  waits. The answer never carries the reference solution: a model answer that would is replaced
 *  by the offline answer (withheld: true). Offline, the answer comes from the item's own hints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm.h"

#define CODE_MAX    65536
#define RESULT_MAX  16384

typedef struct {
    bool feedback;
    char user [64], org [64];
    char *code;
    char *result;                   //  the grading result as JSON text, or NULL
    int level;
} pending_t;

static void
s_pending_free (pending_t *p)
{
    free (p->code);
    free (p->result);
    free (p);
}

static void
s_item_ready (td_actor_t *actor, td_call_t *call, json_t *item, void *arg)
{
    pending_t *p = (pending_t *) arg;
    td_llm_t *llm = td_llm_state (actor);
    if (!item) {
        s_pending_free (p);
        return;
    }
    json_t *content = json_object_get (item, "content");
    const char *kind = json_string_value (json_object_get (item, "kind"));
    if (json_is_true (json_object_get (content, "exam"))) {
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "no hints or feedback on an exam item");
        s_pending_free (p);
        return;
    }
    if (!kind || strcmp (kind, "exercise") != 0) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "item_id", "hints and feedback are for exercises");
        s_pending_free (p);
        return;
    }
    char *system = td_llm_system_prompt (llm, p->feedback? "feedback": "hint", true, item);
    size_t n = (p->code? strlen (p->code): 0) + (p->result? strlen (p->result): 0) + 256;
    char *text = (char *) malloc (n);
    if (text) {
        if (p->feedback)
            snprintf (text, n, "My submission:\n```\n%s\n```\nThe grading result:\n%s\n",
                      p->code, p->result? p->result: "(not given)");
        else
            snprintf (text, n, "%s%s%s", p->code && *p->code? "My code so far:\n```\n": "I have not "
                      "written any code yet.", p->code && *p->code? p->code: "",
                      p->code && *p->code? "\n```\n": "");
    }
    size_t nh = json_array_size (json_object_get (content, "hints"));
    char *fallback = td_llm_offline_answer (llm, "tutor", item, p->code? p->code: "",
                                            p->feedback? (int) nh: p->level);
    if (!system || !text || !fallback)
        td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
    else
        td_llm_oneshot (actor, call, p->feedback? "feedback": "hint", p->user, p->org, item, system,
                        text, fallback, NULL);
    free (system);
    free (text);
    free (fallback);
    s_pending_free (p);
}

static int
s_assist (td_actor_t *actor, td_call_t *call, bool feedback)
{
    td_principal_t *pr = td_llm_principal (call);
    if (!pr)
        return TD_ACTOR_OK;
    if (td_principal_kind (pr) != TD_PRINCIPAL_USER) {
        td_principal_destroy (&pr);
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL, "hints and feedback are for learners' "
                              "accounts"), TD_ACTOR_OK;
    }
    json_t *b = td_llm_body (call);
    json_t *item = json_object_get (b, "item_id"), *code = json_object_get (b, "code");
    json_t *result = json_object_get (b, "result"), *level = json_object_get (b, "level");
    const char *bad = NULL, *why = NULL;
    char *result_s = json_is_object (result)? json_dumps (result, JSON_COMPACT): NULL;
    if (!b)
        bad = "body", why = "the request must be a JSON object";
    else
    if (!json_is_string (item) || !td_llm_uuid_valid (json_string_value (item)))
        bad = "item_id", why = "item_id must be an item id";
    else
    if ((feedback || code) && (!json_is_string (code) || json_string_length (code) > CODE_MAX
                               || (feedback && json_string_length (code) == 0)))
        bad = "code", why = feedback? "code must be the submitted code (1 to 65536 bytes)"
                                    : "code must be a string of at most 65536 bytes";
    else
    if (feedback && result && !json_is_null (result)
             && (!result_s || strlen (result_s) > RESULT_MAX))
        bad = "result", why = "result must be the grading result object (at most 16 KiB)";
    else
    if (!feedback && level && (!json_is_integer (level) || json_integer_value (level) < 0
                               || json_integer_value (level) > 100))
        bad = "level", why = "level must be a whole number from 0 to 100";
    if (bad) {
        free (result_s);
        json_decref (b);
        td_principal_destroy (&pr);
        return td_call_error (call, TD_ERR_INVALID_INPUT, bad, "%s", why), TD_ACTOR_OK;
    }
    pending_t *p = (pending_t *) calloc (1, sizeof *p);
    if (!p) {
        free (result_s);
        json_decref (b);
        td_principal_destroy (&pr);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    p->feedback = feedback;
    snprintf (p->user, sizeof p->user, "%s", td_principal_user (pr));
    if (td_principal_org_count (pr) > 0)
        snprintf (p->org, sizeof p->org, "%s", td_principal_org_at (pr, 0, NULL));
    td_principal_destroy (&pr);
    p->code = json_is_string (code)? strdup (json_string_value (code)): NULL;
    p->result = result_s;
    p->level = json_is_integer (level)? (int) json_integer_value (level): 0;
    char item_id [40];
    snprintf (item_id, sizeof item_id, "%s", json_string_value (item));
    json_decref (b);
    if (td_llm_item_fetch (actor, call, item_id, s_item_ready, p) != 0) {
        s_pending_free (p);
        td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "cannot reach the catalog");
    }
    return TD_ACTOR_OK;
}

int
td_llm_assist_hint (td_actor_t *actor, td_call_t *call)
{
    return s_assist (actor, call, false);
}

int
td_llm_assist_feedback (td_actor_t *actor, td_call_t *call)
{
    return s_assist (actor, call, true);
}
