/*  td_llm_offline — the offline provider (the default: no network) and the exam-mode guard.
 *
 *  Offline, the tutor answers from the item's own material: the next of an exercise's hints at
 *  each turn, a question's or grammar item's explanation, a word's translation and example, a
 *  lesson's text. Every answer starts with the line of prompts/offline.md, so nobody mistakes it
 *  for a model. In exam mode it only restates the task.
 *
 *  The guard compares a model's answer with the item's reference solution, whitespace ignored:
 *  an answer containing a solution line of 12 or more visible characters (or the whole solution
 *  when it is 8 or more) is a leak.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm.h"

typedef struct {
    char *s;
    size_t len, cap;
} buf_t;

static void
s_add (buf_t *b, const char *s)
{
    if (!s)
        return;
    size_t n = strlen (s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *t = (char *) realloc (b->s, cap);
        if (!t)
            return;
        b->s = t;
        b->cap = cap;
    }
    memcpy (b->s + b->len, s, n + 1);
    b->len += n;
}

static const char *
s_str (const json_t *o, const char *key)
{
    return json_string_value (json_object_get (o, key));
}

const char *
td_llm_item_solution (const json_t *item)
{
    const char *kind = s_str (item, "kind");
    json_t *content = json_object_get (item, "content");
    if (kind && strcmp (kind, "exercise") == 0)
        return s_str (content, "solution");
    return NULL;
}

//  Copy without whitespace.
static char *
s_squeeze (const char *s)
{
    char *out = (char *) malloc (strlen (s) + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (; *s; s++)
        if (!isspace ((unsigned char) *s))
            out [n++] = *s;
    out [n] = 0;
    return out;
}

bool
td_llm_leaks_solution (const json_t *item, const char *text)
{
    const char *solution = td_llm_item_solution (item);
    if (!solution || !*solution || !text)
        return false;
    char *t = s_squeeze (text);
    char *whole = s_squeeze (solution);
    bool leak = !t || !whole || (strlen (whole) >= 8 && strstr (t, whole));
    const char *line = solution;
    while (!leak && *line) {
        const char *end = strchr (line, '\n');
        size_t n = end? (size_t) (end - line): strlen (line);
        char one [1024];
        if (n < sizeof one) {
            memcpy (one, line, n);
            one [n] = 0;
            char *sq = s_squeeze (one);
            leak = !sq || (strlen (sq) >= 12 && strstr (t, sq));
            free (sq);
        }
        line = end? end + 1: line + n;
    }
    free (t);
    free (whole);
    return leak;
}

static void
s_task (buf_t *b, const json_t *item)
{
    const char *kind = s_str (item, "kind");
    json_t *c = json_object_get (item, "content");
    const char *task = !kind? NULL:
        strcmp (kind, "exercise") == 0? s_str (c, "instructions"):
        strcmp (kind, "question") == 0? s_str (c, "prompt"): NULL;
    s_add (b, "The task");
    if (s_str (item, "title")) {
        s_add (b, " (\"");
        s_add (b, s_str (item, "title"));
        s_add (b, "\")");
    }
    s_add (b, ": ");
    s_add (b, task? task: "see the item in your lesson.");
}

char *
td_llm_offline_answer (td_llm_t *llm, const char *mode, const json_t *item, const char *text,
                       int turn)
{
    (void) text;
    buf_t b = { 0 };
    char mark [512];
    snprintf (mark, sizeof mark, "%s", td_llm_prompt (llm, "offline"));
    size_t n = strlen (mark);
    while (n > 0 && isspace ((unsigned char) mark [n - 1]))
        mark [--n] = 0;
    s_add (&b, mark);
    s_add (&b, "\n\n");
    const char *kind = item? s_str (item, "kind"): NULL;
    json_t *c = item? json_object_get (item, "content"): NULL;
    if (!item || !kind)
        s_add (&b, strcmp (mode, "conversation") == 0
            ? "Conversation practice needs a language model, and none is connected. Write your "
              "sentences down and try them again when the tutor is online."
            : "This session is not tied to an item, so there is no material to draw on. Open an "
              "exercise or a lesson and start a tutor session from there.");
    else
    if (strcmp (mode, "exam") == 0) {
        s_add (&b, "During an exam I can only restate what is asked. ");
        s_task (&b, item);
    }
    else
    if (strcmp (kind, "exercise") == 0) {
        json_t *hints = json_object_get (c, "hints");
        size_t nh = json_array_size (hints);
        if (nh > 0 && (size_t) turn < nh) {
            char head [64];
            snprintf (head, sizeof head, "Hint %d of %zu: ", turn + 1, nh);
            s_add (&b, head);
            s_add (&b, json_string_value (json_array_get (hints, (size_t) turn)));
        }
        else {
            s_add (&b, nh? "You have seen every hint. Re-read the task and compare your output with "
                           "the expected output of the visible tests, character by character. "
                         : "This exercise has no hints. ");
            s_task (&b, item);
        }
    }
    else
    if (strcmp (kind, "question") == 0 || strcmp (kind, "grammar") == 0) {
        const char *ex = s_str (c, "explanation");
        if (ex && *ex) {
            s_add (&b, "Explanation: ");
            s_add (&b, ex);
        }
        else
            s_task (&b, item);
    }
    else
    if (strcmp (kind, "vocabulary") == 0) {
        s_add (&b, "Word: ");
        if (s_str (c, "article")) {
            s_add (&b, s_str (c, "article"));
            s_add (&b, " ");
        }
        s_add (&b, s_str (c, "word"));
        if (s_str (c, "translation")) {
            s_add (&b, " means \"");
            s_add (&b, s_str (c, "translation"));
            s_add (&b, "\".");
        }
        if (s_str (c, "example")) {
            s_add (&b, " Example: ");
            s_add (&b, s_str (c, "example"));
        }
    }
    else {
        json_t *blocks = json_object_get (c, "blocks");
        const char *first = s_str (json_array_get (blocks, 0), "text");
        s_add (&b, "From the lesson: ");
        s_add (&b, first? first: "(no text)");
    }
    return b.s;
}
