/*  td_catalog_check — validation of what authors and seeds write: course, module and lesson
 *  fields, items and their kind-specific content (CATALOG.md §1).
 *
 *  Every check names the offending field (prefixed with where it sits, e.g. "modules[0].slug"
 *  or "content.choices") so a 400 tells the author exactly what to fix. Exercise tests are
 *  checked by the grader's own parser (td_grade_job_parse), so an exercise stored here is one the
 *  grader will run.
 */
#include <ctype.h>
#include <string.h>
#include "td_catalog.h"
#include "grader/td_grade_job.h"
#include "grader/td_grade_limits.h"

#define MAX_TITLE       200
#define MAX_DESCRIPTION 20000
#define MAX_TEXT        100000

static int
s_bad (td_error_t *err, const char *prefix, const char *field, const char *what)
{
    char name [256];
    snprintf (name, sizeof name, "%s%s", prefix, field);
    return td_error_set (err, TD_ERR_INVALID_INPUT, name, "%s %s", name, what);
}

//  Length in characters of a UTF-8 string (jansson guarantees valid UTF-8).
static size_t
s_chars (const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char) *s & 0xC0) != 0x80;
    return n;
}

static bool
s_slug (const char *s)
{
    size_t n = s? strlen (s): 0;
    if (n < 3 || n > 64)
        return false;
    for (; *s; s++)
        if (!(islower ((unsigned char) *s) || isdigit ((unsigned char) *s) || *s == '-'))
            return false;
    return true;
}

//  A string of 1..max (min 0 when empty_ok) characters, when present (or required).
static int
s_text (const json_t *o, const char *key, bool required, bool empty_ok, size_t max,
        const char *prefix, td_error_t *err)
{
    const json_t *v = json_object_get (o, key);
    if (!v)
        return required? s_bad (err, prefix, key, "is required"): 0;
    if (!json_is_string (v))
        return s_bad (err, prefix, key, "must be a string");
    size_t n = s_chars (json_string_value (v));
    if ((n == 0 && !empty_ok) || n > max)
        return s_bad (err, prefix, key, "has a bad length");
    return 0;
}

static int
s_one_of (const json_t *o, const char *key, const char *const *values, const char *prefix,
          td_error_t *err)
{
    const json_t *v = json_object_get (o, key);
    if (!v)
        return 0;
    const char *s = json_string_value (v);
    for (int i = 0; s && values [i]; i++)
        if (strcmp (s, values [i]) == 0)
            return 0;
    return s_bad (err, prefix, key, "has a value that is not allowed");
}

static bool
s_language_tag (const char *s)
{
    //  like "en", "de", "pt-BR": 2-3 letters, then -subtags of 2-8 alphanumerics
    size_t n = s? strlen (s): 0;
    if (n < 2 || n > 35)
        return false;
    size_t i = 0;
    while (i < n && isalpha ((unsigned char) s [i]))
        i++;
    if (i < 2 || i > 3)
        return false;
    while (i < n) {
        if (s [i++] != '-')
            return false;
        size_t start = i;
        while (i < n && isalnum ((unsigned char) s [i]))
            i++;
        if (i - start < 2 || i - start > 8)
            return false;
    }
    return true;
}

static bool
s_rfc3339 (const char *s)
{
    //  YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); PostgreSQL checks the calendar
    const char *shape = "dddd-dd-ddTdd:dd:dd";
    size_t i;
    for (i = 0; shape [i]; i++) {
        if (!s [i])
            return false;
        if (shape [i] == 'd'? !isdigit ((unsigned char) s [i])
                            : (shape [i] == 'T'? (s [i] != 'T' && s [i] != 't'): s [i] != shape [i]))
            return false;
    }
    s += i;
    if (*s == '.') {
        s++;
        if (!isdigit ((unsigned char) *s))
            return false;
        while (isdigit ((unsigned char) *s))
            s++;
    }
    if (*s == 'Z' || *s == 'z')
        return s [1] == 0;
    return (*s == '+' || *s == '-') && isdigit ((unsigned char) s [1]) && isdigit ((unsigned char) s [2])
        && s [3] == ':' && isdigit ((unsigned char) s [4]) && isdigit ((unsigned char) s [5]) && !s [6];
}

int
td_cat_check_course (const json_t *o, bool create, td_error_t *err)
{
    static const char *status [] = { "draft", "published", NULL };
    static const char *visibility [] = { "public", "org", NULL };
    const json_t *slug = json_object_get (o, "slug");
    if (create && !s_slug (json_string_value (slug)))
        return s_bad (err, "", "slug", "must be 3 to 64 of a-z, 0-9 and -");
    if (s_text (o, "title", create, false, MAX_TITLE, "", err)
     || s_text (o, "description", false, true, MAX_DESCRIPTION, "", err)
     || s_one_of (o, "status", status, "", err)
     || s_one_of (o, "visibility", visibility, "", err))
        return -1;
    const json_t *lang = json_object_get (o, "language");
    if (lang && !s_language_tag (json_string_value (lang)))
        return s_bad (err, "", "language", "must be a language tag like en or de");
    const json_t *at = json_object_get (o, "publish_at");
    if (at && !json_is_null (at) && !s_rfc3339 (json_string_value (at)))
        return s_bad (err, "", "publish_at", "must be an RFC 3339 time or null");
    return 0;
}

int
td_cat_check_node (const json_t *o, bool create, const char *prefix, td_error_t *err)
{
    const json_t *slug = json_object_get (o, "slug");
    if ((create || slug) && !s_slug (json_string_value (slug)))
        return s_bad (err, prefix, "slug", "must be 3 to 64 of a-z, 0-9 and -");
    return s_text (o, "title", create, false, MAX_TITLE, prefix, err)
        || s_text (o, "description", false, true, MAX_DESCRIPTION, prefix, err)? -1: 0;
}

static int
s_strings (const json_t *o, const char *key, bool required, const char *prefix, td_error_t *err)
{
    const json_t *v = json_object_get (o, key);
    if (!v)
        return required? s_bad (err, prefix, key, "is required"): 0;
    if (!json_is_array (v))
        return s_bad (err, prefix, key, "must be a list of strings");
    size_t i;
    const json_t *s;
    json_array_foreach (v, i, s)
        if (!json_is_string (s) || s_chars (json_string_value (s)) > MAX_TEXT)
            return s_bad (err, prefix, key, "must be a list of strings");
    return 0;
}

static int
s_question (const json_t *c, const char *prefix, td_error_t *err)
{
    static const char *types [] = { "single", "multiple", "short", "numeric", "subjective", NULL };
    if (!json_is_object (c))
        return s_bad (err, prefix, "", "must be an object");
    const char *type = json_string_value (json_object_get (c, "type"));
    if (!type)
        return s_bad (err, prefix, "type", "is required");
    if (s_one_of (c, "type", types, prefix, err)
     || s_text (c, "prompt", true, false, MAX_TEXT, prefix, err)
     || s_text (c, "explanation", false, true, MAX_TEXT, prefix, err))
        return -1;
    const json_t *answer = json_object_get (c, "answer");
    bool choice = strcmp (type, "single") == 0 || strcmp (type, "multiple") == 0;
    if (choice) {
        if (s_strings (c, "choices", true, prefix, err))
            return -1;
        size_t n = json_array_size (json_object_get (c, "choices"));
        if (n < 2)
            return s_bad (err, prefix, "choices", "must hold at least two choices");
        if (strcmp (type, "single") == 0) {
            if (!json_is_integer (answer) || json_integer_value (answer) < 0
                || (size_t) json_integer_value (answer) >= n)
                return s_bad (err, prefix, "answer", "must be the index of a choice");
        }
        else {
            size_t i;
            const json_t *a;
            if (!json_is_array (answer) || json_array_size (answer) == 0)
                return s_bad (err, prefix, "answer", "must be a list of choice indexes");
            json_array_foreach (answer, i, a)
                if (!json_is_integer (a) || json_integer_value (a) < 0
                    || (size_t) json_integer_value (a) >= n)
                    return s_bad (err, prefix, "answer", "must be a list of choice indexes");
        }
    }
    else
    if (strcmp (type, "short") == 0) {
        if (s_strings (c, "answer", true, prefix, err))
            return -1;
        if (json_array_size (answer) == 0)
            return s_bad (err, prefix, "answer", "must list at least one accepted answer");
    }
    else
    if (strcmp (type, "numeric") == 0) {
        if (!json_is_number (answer))
            return s_bad (err, prefix, "answer", "must be a number");
        const json_t *tol = json_object_get (c, "tolerance");
        if (tol && (!json_is_number (tol) || json_number_value (tol) < 0))
            return s_bad (err, prefix, "tolerance", "must be a number of at least 0");
    }
    else {
        const json_t *card = json_object_get (c, "scorecard");
        if (!json_is_array (card) || json_array_size (card) == 0)
            return s_bad (err, prefix, "scorecard", "must be a list of criteria");
        size_t i;
        const json_t *k;
        json_array_foreach (card, i, k) {
            const json_t *mp = json_object_get (k, "max_points");
            if (!json_is_object (k) || s_text (k, "criterion", true, false, MAX_TITLE, prefix, err)
                || s_text (k, "description", false, true, MAX_TEXT, prefix, err)
                || !json_is_number (mp) || json_number_value (mp) <= 0)
                return s_bad (err, prefix, "scorecard",
                              "must hold {criterion, description, max_points > 0} objects");
        }
    }
    return 0;
}

//  An exercise's own sandbox limits for the grader (CATALOG.md §1), checked by the grader's own
//  parser against its maxima (td_grade_limits.h), so a stored exercise is one the grader runs
//  with the limits it says.
static int
s_limits (const json_t *c, const char *prefix, td_error_t *err)
{
    const json_t *limits = json_object_get (c, "limits");
    if (!limits)
        return 0;
    td_limits_t max, lim;
    td_grade_limits_max (&max);
    td_limits_default (&lim);
    td_error_t gerr;
    td_error_clear (&gerr);
    if (td_grade_limits_apply (limits, &max, false, &lim, &gerr) == 0)
        return 0;
    char name [256];
    snprintf (name, sizeof name, "%s%s", prefix, *gerr.field? gerr.field: "limits");
    return td_error_set (err, TD_ERR_INVALID_INPUT, name, "%s%s", prefix, gerr.message);
}

static int
s_exercise (const json_t *c, const char *prefix, td_error_t *err)
{
    static const char *languages [] = { "python", "c", NULL };
    const json_t *lang = json_object_get (c, "language");
    if (!lang)
        return s_bad (err, prefix, "language", "is required");
    if (s_one_of (c, "language", languages, prefix, err)
     || s_text (c, "instructions", true, false, MAX_TEXT, prefix, err)
     || s_text (c, "starter_code", false, true, TD_GRADE_MAX_CODE, prefix, err)
     || s_text (c, "solution", false, true, TD_GRADE_MAX_CODE, prefix, err)
     || s_strings (c, "hints", false, prefix, err)
     || s_limits (c, prefix, err))
        return -1;
    const json_t *exam = json_object_get (c, "exam");
    if (exam && !json_is_boolean (exam))
        return s_bad (err, prefix, "exam", "must be true or false");
    const json_t *tests = json_object_get (c, "tests");
    if (!json_is_array (tests) || json_array_size (tests) == 0)
        return s_bad (err, prefix, "tests", "must be a list of grader tests");
    //  the grader's parser decides what a test is
    const char *code = json_string_value (json_object_get (c, "solution"));
    json_t *sub = json_pack ("{s:O, s:s, s:O}", "language", lang,
                             "code", code && *code? code: "pass", "tests", tests);
    if (!sub)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
    td_error_t gerr;
    td_grade_job_t *job = td_grade_job_parse (sub, &gerr);
    json_decref (sub);
    if (!job)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "content.tests", "content.%s: %s",
                             *gerr.field? gerr.field: "tests", gerr.message);
    td_grade_job_destroy (&job);
    return 0;
}

//  A material's conversation context for conversation practice (issue 7): {scenario, role,
//  goals: [str], level}; all required when the object is there.
static int
s_conversation (const json_t *c, const char *prefix, td_error_t *err)
{
    static const char *levels [] = { "A1", "A2", "B1", "B2", "C1", NULL };
    char p [160];
    snprintf (p, sizeof p, "%sconversation.", prefix);
    if (!json_is_object (c))
        return s_bad (err, prefix, "conversation", "must be an object {scenario, role, goals, level}");
    if (s_text (c, "scenario", true, false, 2000, p, err)
     || s_text (c, "role", true, false, MAX_TITLE, p, err))
        return -1;
    const json_t *goals = json_object_get (c, "goals");
    if (!json_is_array (goals) || json_array_size (goals) < 1 || json_array_size (goals) > 20)
        return s_bad (err, p, "goals", "must be a list of 1 to 20 goals");
    size_t i;
    const json_t *g;
    json_array_foreach (goals, i, g)
        if (!json_is_string (g) || s_chars (json_string_value (g)) < 1
            || s_chars (json_string_value (g)) > 500)
            return s_bad (err, p, "goals", "must hold goals of 1 to 500 characters");
    if (!json_object_get (c, "level"))
        return s_bad (err, p, "level", "is required");
    return s_one_of (c, "level", levels, p, err);
}

int
td_cat_check_content (const char *kind, const json_t *c, const char *prefix, td_error_t *err)
{
    char p [128];
    snprintf (p, sizeof p, "%scontent.", prefix);
    if (!json_is_object (c))
        return s_bad (err, prefix, "content", "must be an object");
    if (strcmp (kind, "material") == 0) {
        const json_t *blocks = json_object_get (c, "blocks");
        if (!json_is_array (blocks))
            return s_bad (err, p, "blocks", "must be a list of blocks");
        size_t i;
        const json_t *b;
        json_array_foreach (blocks, i, b)
            if (!json_is_object (b) || !json_is_string (json_object_get (b, "type"))
                || strcmp (json_string_value (json_object_get (b, "type")), "markdown") != 0
                || s_text (b, "text", true, true, MAX_TEXT, p, err))
                return s_bad (err, p, "blocks", "must hold {type: markdown, text} blocks");
        const json_t *conv = json_object_get (c, "conversation");
        return conv? s_conversation (conv, p, err): 0;
    }
    if (strcmp (kind, "exercise") == 0)
        return s_exercise (c, p, err);
    if (strcmp (kind, "question") == 0)
        return s_question (c, p, err);
    if (strcmp (kind, "vocabulary") == 0) {
        static const char *opt [] = { "article", "gender", "plural", "translation", "example",
                                      "example_translation", NULL };
        if (s_text (c, "word", true, false, MAX_TITLE, p, err))
            return -1;
        for (int i = 0; opt [i]; i++)
            if (s_text (c, opt [i], false, true, MAX_TEXT, p, err))
                return -1;
        return 0;
    }
    if (strcmp (kind, "grammar") == 0) {
        static const char *levels [] = { "A1", "A2", "B1", "B2", "C1", NULL };
        if (!json_object_get (c, "level"))
            return s_bad (err, p, "level", "is required");
        if (s_one_of (c, "level", levels, p, err)
         || s_text (c, "explanation", true, false, MAX_TEXT, p, err))
            return -1;
        const json_t *ex = json_object_get (c, "exercises");
        if (ex && !json_is_array (ex))
            return s_bad (err, p, "exercises", "must be a list of questions");
        size_t i;
        const json_t *q;
        json_array_foreach (ex, i, q) {
            char qp [192];
            snprintf (qp, sizeof qp, "%sexercises[%zu].", p, i);
            if (s_question (q, qp, err))
                return -1;
        }
        return 0;
    }
    return s_bad (err, prefix, "kind", "must be material, exercise, question, vocabulary or grammar");
}

int
td_cat_check_item (const json_t *o, bool create, const char *kind_hint, const char *prefix,
                   td_error_t *err)
{
    static const char *kinds [] = { "material", "exercise", "question", "vocabulary", "grammar", NULL };
    if (td_cat_check_node (o, create, prefix, err))
        return -1;
    const json_t *kind = json_object_get (o, "kind");
    if (create && !kind)
        return s_bad (err, prefix, "kind", "is required");
    if (s_one_of (o, "kind", kinds, prefix, err))
        return -1;
    const json_t *content = json_object_get (o, "content");
    if (create && !content)
        return s_bad (err, prefix, "content", "is required");
    if (kind && !content)
        return s_bad (err, prefix, "content", "is required when kind changes");
    if (content)
        return td_cat_check_content (kind? json_string_value (kind): kind_hint, content, prefix, err);
    return 0;
}
