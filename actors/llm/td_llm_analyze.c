/*  td_llm_analyze — the one-shot helpers that need a model (issue 7 point 5, LLM.md §4): explain
 *  code, time/space complexity of code (Big-O for each and a short narrative, validated), and the
 *  evaluation of a subjective answer against its question's scorecard (per-criterion points with
 *  reasons, validated; the grader's entry point for subjective questions).
 *
 *  No offline answer exists for these: with the offline provider they answer 503. A model answer
 *  that does not validate answers 503 too, never a half-checked result.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm.h"

#define CODE_MAX    65536
#define ANSWER_MAX  20000

//  The JSON object inside a model's text (which may wrap it in prose or a code fence).
json_t *
td_llm_json_in (const char *text, char *why, size_t whylen)
{
    const char *a = strchr (text, '{'), *b = strrchr (text, '}');
    if (!a || !b || b < a) {
        snprintf (why, whylen, "no JSON object in the answer");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb (a, (size_t) (b - a + 1), 0, &jerr);
    if (!json_is_object (j)) {
        json_decref (j);
        snprintf (why, whylen, "the answer's JSON does not parse");
        return NULL;
    }
    return j;
}

//  "O(...)" with balanced parentheses, printable, at most 48 characters.
static bool
s_big_o (const char *s)
{
    size_t n = s? strlen (s): 0;
    if (n < 4 || n > 48 || strncmp (s, "O(", 2) != 0 || s [n - 1] != ')')
        return false;
    int depth = 0;
    for (size_t i = 1; i < n; i++) {
        if (!isprint ((unsigned char) s [i]))
            return false;
        depth += s [i] == '(';
        depth -= s [i] == ')';
        if (depth < 0 || (depth == 0 && i != n - 1))
            return false;
    }
    return depth == 0;
}

static json_t *
s_complexity_post (const char *text, const json_t *item, char *why, size_t whylen)
{
    (void) item;
    json_t *j = td_llm_json_in (text, why, whylen);
    if (!j)
        return NULL;
    const char *t = json_string_value (json_object_get (j, "time"));
    const char *sp = json_string_value (json_object_get (j, "space"));
    const char *nar = json_string_value (json_object_get (j, "narrative"));
    json_t *out = NULL;
    if (!s_big_o (t) || !s_big_o (sp))
        snprintf (why, whylen, "time and space must each be Big-O, like O(n log n)");
    else
    if (!nar || !*nar || strlen (nar) > 2000)
        snprintf (why, whylen, "the narrative must be 1 to 2000 characters");
    else
        out = json_pack ("{s:s, s:s, s:s}", "time", t, "space", sp, "narrative", nar);
    json_decref (j);
    return out;
}

static json_t *
s_explain_post (const char *text, const json_t *item, char *why, size_t whylen)
{
    (void) item;
    if (!*text) {
        snprintf (why, whylen, "the answer is empty");
        return NULL;
    }
    return json_pack ("{s:s}", "text", text);
}

//  The model's scores against the item's scorecard: every criterion once, 0 <= points <= max.
static json_t *
s_evaluate_post (const char *text, const json_t *item, char *why, size_t whylen)
{
    json_t *j = td_llm_json_in (text, why, whylen);
    if (!j)
        return NULL;
    json_t *card = json_object_get (json_object_get (item, "content"), "scorecard");
    json_t *given = json_object_get (j, "criteria");
    json_t *out = json_array ();
    double total = 0, max_total = 0;
    bool bad = !json_is_array (given) || json_array_size (given) != json_array_size (card);
    if (bad)
        snprintf (why, whylen, "criteria must score each of the %zu criteria once",
                  json_array_size (card));
    size_t i, k;
    json_t *c, *g;
    json_array_foreach (card, i, c) {
        if (bad)
            break;
        const char *name = json_string_value (json_object_get (c, "criterion"));
        double max = json_number_value (json_object_get (c, "max_points"));
        json_t *found = NULL;
        json_array_foreach (given, k, g)
            if (name && json_is_string (json_object_get (g, "criterion"))
            &&  strcmp (json_string_value (json_object_get (g, "criterion")), name) == 0)
                found = g;
        json_t *pts = json_object_get (found, "points");
        const char *reason = json_string_value (json_object_get (found, "reason"));
        double p = json_number_value (pts);
        if (!found || !json_is_number (pts) || !isfinite (p) || p < 0 || p > max
        ||  !reason || !*reason || strlen (reason) > 2000) {
            snprintf (why, whylen, "criterion '%.60s' needs points from 0 to %g and a reason",
                      name? name: "?", max);
            bad = true;
            break;
        }
        total += p;
        max_total += max;
        json_array_append_new (out, json_pack ("{s:s, s:f, s:f, s:s}", "criterion", name,
                                               "points", p, "max_points", max, "reason", reason));
    }
    json_decref (j);
    if (bad) {
        json_decref (out);
        return NULL;
    }
    return json_pack ("{s:o, s:f, s:f}", "criteria", out, "total", total, "max_total", max_total);
}

//  The caller as (user, org): a user's own account; system may name them in the body
//  (user_id, org_id) so a grader's call is accounted to the learner. Answers and false otherwise.
static bool
s_who (td_call_t *call, const json_t *b, char *user, char *org, size_t size)
{
    td_principal_t *p = td_llm_principal (call);
    if (!p)
        return false;
    td_principal_kind_t k = td_principal_kind (p);
    user [0] = org [0] = 0;
    if (k == TD_PRINCIPAL_USER) {
        snprintf (user, size, "%s", td_principal_user (p));
        if (td_principal_org_count (p) > 0)
            snprintf (org, size, "%s", td_principal_org_at (p, 0, NULL));
    }
    else
    if (k == TD_PRINCIPAL_SYSTEM) {
        const char *u = json_string_value (json_object_get (b, "user_id"));
        const char *o = json_string_value (json_object_get (b, "org_id"));
        snprintf (user, size, "%s", u && td_llm_uuid_valid (u)? u: "");
        snprintf (org, size, "%s", o && td_llm_uuid_valid (o)? o: "");
    }
    else {
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "this helper is for learners' accounts");
        td_principal_destroy (&p);
        return false;
    }
    td_principal_destroy (&p);
    return true;
}

static int
s_code_helper (td_actor_t *actor, td_call_t *call, const char *prompt, td_llm_post_fn *post)
{
    td_llm_t *llm = td_llm_state (actor);
    json_t *b = td_llm_body (call);
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the request must be a JSON object"),
               TD_ACTOR_OK;
    json_t *code = json_object_get (b, "code"), *lang = json_object_get (b, "language");
    const char *bad = NULL, *why = NULL;
    if (!json_is_string (code) || json_string_length (code) < 1 || json_string_length (code) > CODE_MAX)
        bad = "code", why = "code must be 1 to 65536 bytes of source";
    else
    if (lang && !json_is_null (lang) && (!json_is_string (lang) || json_string_length (lang) < 1
                                         || json_string_length (lang) > 32))
        bad = "language", why = "language must be a name of at most 32 characters";
    char user [64], org [64];
    if (bad) {
        json_decref (b);
        return td_call_error (call, TD_ERR_INVALID_INPUT, bad, "%s", why), TD_ACTOR_OK;
    }
    if (!s_who (call, b, user, org, sizeof user)) {
        json_decref (b);
        return TD_ACTOR_OK;
    }
    const char *l = json_is_string (lang)? json_string_value (lang): "unspecified";
    size_t n = json_string_length (code) + 128;
    char *text = (char *) malloc (n);
    if (!text) {
        json_decref (b);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    snprintf (text, n, "Language: %.32s\n```\n%s\n```\n", l, json_string_value (code));
    json_decref (b);
    td_call_keep (call);
    td_llm_oneshot (actor, call, prompt, user, org, NULL, td_llm_prompt (llm, prompt), text, NULL,
                    post);
    free (text);
    return TD_ACTOR_OK;
}

int
td_llm_assist_explain (td_actor_t *actor, td_call_t *call)
{
    return s_code_helper (actor, call, "explain", s_explain_post);
}

int
td_llm_assist_complexity (td_actor_t *actor, td_call_t *call)
{
    return s_code_helper (actor, call, "complexity", s_complexity_post);
}

typedef struct {
    char user [64], org [64];
    char *answer;
} pending_eval_t;

static void
s_eval_item (td_actor_t *actor, td_call_t *call, json_t *item, void *arg)
{
    pending_eval_t *pe = (pending_eval_t *) arg;
    td_llm_t *llm = td_llm_state (actor);
    json_t *c = json_object_get (item, "content");
    if (!item)
        ;
    else
    if (!json_is_string (json_object_get (item, "kind"))
    ||  strcmp (json_string_value (json_object_get (item, "kind")), "question") != 0
    ||  !json_is_string (json_object_get (c, "type"))
    ||  strcmp (json_string_value (json_object_get (c, "type")), "subjective") != 0
    ||  json_array_size (json_object_get (c, "scorecard")) == 0)
        td_call_error (call, TD_ERR_INVALID_INPUT, "item_id",
                       "item_id must be a subjective question with a scorecard");
    else {
        char *card = json_dumps (json_object_get (c, "scorecard"), JSON_COMPACT);
        const char *prompt = json_string_value (json_object_get (c, "prompt"));
        const char *base = td_llm_prompt (llm, "evaluate");
        size_t n = strlen (base) + (card? strlen (card): 0) + (prompt? strlen (prompt): 0) + 64;
        char *system = (char *) malloc (n);
        if (system && card)
            snprintf (system, n, "%s\nQuestion:\n%s\nScorecard:\n%s\n", base, prompt? prompt: "", card);
        if (!system || !card)
            td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
        else
            td_llm_oneshot (actor, call, "evaluate", pe->user, pe->org, item, system, pe->answer, NULL,
                            s_evaluate_post);
        free (system);
        free (card);
    }
    free (pe->answer);
    free (pe);
}

int
td_llm_assist_evaluate (td_actor_t *actor, td_call_t *call)
{
    json_t *b = td_llm_body (call);
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the request must be a JSON object"),
               TD_ACTOR_OK;
    json_t *item = json_object_get (b, "item_id"), *answer = json_object_get (b, "answer");
    const char *bad = NULL, *why = NULL;
    if (!json_is_string (item) || !td_llm_uuid_valid (json_string_value (item)))
        bad = "item_id", why = "item_id must be an item id";
    else
    if (!json_is_string (answer) || json_string_length (answer) < 1
    ||  json_string_length (answer) > ANSWER_MAX)
        bad = "answer", why = "answer must be 1 to 20000 bytes of text";
    if (bad) {
        json_decref (b);
        return td_call_error (call, TD_ERR_INVALID_INPUT, bad, "%s", why), TD_ACTOR_OK;
    }
    pending_eval_t *pe = (pending_eval_t *) calloc (1, sizeof *pe);
    if (!pe || !s_who (call, b, pe->user, pe->org, sizeof pe->user)) {
        if (!pe)
            td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
        free (pe);
        json_decref (b);
        return TD_ACTOR_OK;
    }
    pe->answer = strdup (json_string_value (answer));
    char item_id [40];
    snprintf (item_id, sizeof item_id, "%s", json_string_value (item));
    json_decref (b);
    if (!pe->answer || td_llm_item_fetch (actor, call, item_id, s_eval_item, pe) != 0) {
        free (pe->answer);
        free (pe);
        td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "cannot reach the catalog");
    }
    return TD_ACTOR_OK;
}
