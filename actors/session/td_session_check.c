/*  td_session_check — how a practice answer is judged (SESSION.md §3), as pure functions so the
 *  rules are unit tested (tests/unit/test_session_check.c) apart from the actor.
 *
 *  Typed answers ignore case (ASCII) and spacing but not articles: "Hund" for "der Hund" is
 *  wrong (missing article), "das Hund" is wrong (wrong article); an expected plural ("der Hund,
 *  die Hunde") must be given after a comma. Feedback always names the expected form.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "td_session.h"

#define PART_MAX 3

static const char *s_articles [] = {
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines",
    NULL
};

bool
td_session_is_article (const char *word, size_t len)
{
    for (int i = 0; s_articles [i]; i++)
        if (strlen (s_articles [i]) == len && strncasecmp (word, s_articles [i], len) == 0)
            return true;
    return false;
}

//  Copy src[0..len) into dst lowercased (ASCII), whitespace runs as one space, trimmed.
static void
s_norm (const char *src, size_t len, char *dst, size_t size)
{
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < len && o + 1 < size; i++) {
        unsigned char c = (unsigned char) src [i];
        if (isspace (c)) {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < size)
            dst [o++] = ' ';
        space = false;
        dst [o++] = (char) tolower (c);
    }
    dst [o] = 0;
}

//  Split s on commas into normalized parts. Returns the count (at most PART_MAX; more -> -1).
static int
s_split (const char *s, char parts [PART_MAX][TD_SESSION_ANSWER_MAX + 1])
{
    int n = 0;
    const char *p = s;
    while (true) {
        const char *comma = strchr (p, ',');
        size_t len = comma? (size_t) (comma - p): strlen (p);
        if (n == PART_MAX)
            return -1;
        s_norm (p, len, parts [n], TD_SESSION_ANSWER_MAX + 1);
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return n;
}

//  The first word of a normalized part and its length.
static size_t
s_first (const char *part)
{
    const char *sp = strchr (part, ' ');
    return sp? (size_t) (sp - part): strlen (part);
}

//  Compare one normalized part with its expected form. NULL when right, else why not.
static const char *
s_part (const char *want, const char *got)
{
    size_t wl = s_first (want), gl = s_first (got);
    bool want_article = td_session_is_article (want, wl) && want [wl] == ' ';
    if (want_article) {
        bool got_article = td_session_is_article (got, gl) && got [gl] == ' ';
        if (!got_article)
            return strcmp (want + wl + 1, got) == 0? "the article is missing": "wrong";
        if (gl != wl || strncmp (want, got, wl) != 0)
            return strcmp (want + wl + 1, got + gl + 1) == 0? "wrong article": "wrong";
    }
    return strcmp (want, got) == 0? NULL: "wrong";
}

bool
td_session_typed (const char *expected, const char *answer, char *feedback, size_t fsize)
{
    static _Thread_local char want [PART_MAX][TD_SESSION_ANSWER_MAX + 1];
    static _Thread_local char got [PART_MAX][TD_SESSION_ANSWER_MAX + 1];
    //  (6 KiB kept off the actor's stack; one copy per thread, so any thread may call this)
    if (feedback && fsize)
        *feedback = 0;
    if (!expected || !answer || strlen (expected) > TD_SESSION_ANSWER_MAX
    ||  strlen (answer) > TD_SESSION_ANSWER_MAX)
        return false;
    int nw = s_split (expected, want), ng = s_split (answer, got);
    const char *why = NULL;
    if (nw < 1 || ng < 1 || !*got [0])
        why = "no answer";
    else {
        why = s_part (want [0], got [0]);
        if (!why && nw > 1 && ng < 2)
            why = "the plural is missing";
        else
        if (!why && nw > 1) {
            why = s_part (want [1], got [1]);
            if (why && strcmp (why, "wrong") == 0)
                why = "wrong plural";
            else
            if (why && strcmp (why, "wrong article") == 0)
                why = "wrong article in the plural";
            else
            if (why)
                why = "the plural's article is missing";
        }
        if (!why && ng > nw)
            why = "more was given than asked";
    }
    if (why && feedback)
        snprintf (feedback, fsize, "%s: expected \"%s\"", why, expected);
    return why == NULL;
}

int
td_session_rating (bool correct, int duration_ms, int fast_ms)
{
    if (!correct)
        return 1;
    return duration_ms >= 0 && duration_ms < fast_ms? 4: 3;
}

int
td_session_grade_flashcard (const char *answer, const char *back, int duration_ms, int fast_ms,
                            bool *correct, char *feedback, size_t fsize)
{
    static const char *grades [] = { "again", "hard", "good", "easy" };
    char a [32];
    s_norm (answer, strlen (answer), a, sizeof a);
    bool typed_right = td_session_typed (back, answer, feedback, fsize);
    if (!typed_right)
        for (int i = 0; i < 4; i++)
            if (strlen (answer) < sizeof a && strcmp (a, grades [i]) == 0) {
                //  the learner's own grade is the rating
                *correct = i > 0;
                if (feedback && fsize)
                    snprintf (feedback, fsize, "self-graded %s", grades [i]);
                return i + 1;
            }
    *correct = typed_right;
    return td_session_rating (typed_right, duration_ms, fast_ms);
}

int
td_session_placement (const td_placement_level_t *lv, size_t count, size_t cur, int *next,
                      const char **result)
{
    if (cur >= count)
        return TD_PLACEMENT_GO_ON;
    const td_placement_level_t *l = &lv [cur];
    int need = (2 * l->n + 2) / 3;
    if (l->right >= need) {
        if (cur + 1 < count) {
            *next = lv [cur + 1].first;
            return TD_PLACEMENT_JUMP;
        }
        *result = l->level;
        return TD_PLACEMENT_DONE;
    }
    if (l->n - l->wrong < need) {
        *result = cur > 0? lv [cur - 1].level: "pre-A1";
        return TD_PLACEMENT_DONE;
    }
    return TD_PLACEMENT_GO_ON;
}
