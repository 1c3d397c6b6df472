/*  td_grade_answer — objective answers checked against the question's key (see the header).
 *
 *  Validation first, then the comparison: a malformed answer is the learner's mistake (400,
 *  field "answer"), never a wrong answer, so a client bug does not silently cost a learner an
 *  attempt. Indexes are JSON integers (a boolean is not an index).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_grade_answer.h"

static bool
s_index (const json_t *v, size_t n, size_t *out)
{
    if (!json_is_integer (v) || json_integer_value (v) < 0 || (size_t) json_integer_value (v) >= n)
        return false;
    *out = (size_t) json_integer_value (v);
    return true;
}

void
td_grade_answer_normalise (const char *s, char *out, size_t size)
{
    size_t n = 0;
    bool space = false;
    if (size == 0)
        return;
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (isspace (c)) {
            space = n > 0;          //  leading whitespace is dropped
            continue;
        }
        if (space && n + 1 < size)
            out [n++] = ' ';
        space = false;
        if (n + 1 < size)
            out [n++] = (char) tolower (c);
    }
    out [n] = 0;                    //  trailing whitespace never got written
}

static int
s_single (const json_t *q, const json_t *answer, td_answer_grade_t *out, td_error_t *err)
{
    size_t n = json_array_size (json_object_get (q, "choices")), key, got;
    if (!s_index (json_object_get (q, "answer"), n, &key))
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "the question has no usable answer key");
    if (!s_index (answer, n, &got))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "answer",
                             "answer must be the index of one of the %zu choices (0 to %zu)", n,
                             n? n - 1: 0);
    out->passed = got == key;
    out->score = out->passed? 100: 0;
    return 0;
}

static int
s_multiple (const json_t *q, const json_t *answer, td_answer_grade_t *out, td_error_t *err)
{
    size_t n = json_array_size (json_object_get (q, "choices"));
    const json_t *keys = json_object_get (q, "answer");
    if (n == 0 || n > 1000 || !json_is_array (keys) || json_array_size (keys) == 0)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "the question has no usable answer key");
    bool in_key [1000] = { false }, picked [1000] = { false };
    size_t i, k;
    json_t *v;
    json_array_foreach (keys, i, v) {
        if (!s_index (v, n, &k))
            return td_error_set (err, TD_ERR_INTERNAL, NULL, "the question has no usable answer key");
        in_key [k] = true;
    }
    if (!json_is_array (answer) || json_array_size (answer) > n)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "answer",
                             "answer must be a list of distinct choice indexes (0 to %zu)", n - 1);
    json_array_foreach (answer, i, v) {
        if (!s_index (v, n, &k) || picked [k])
            return td_error_set (err, TD_ERR_INVALID_INPUT, "answer",
                                 "answer must be a list of distinct choice indexes (0 to %zu)", n - 1);
        picked [k] = true;
    }
    long right = 0, wrong = 0, total = 0;
    bool exact = true;
    for (k = 0; k < n; k++) {
        total += in_key [k];
        right += in_key [k] && picked [k];
        wrong += !in_key [k] && picked [k];
        exact = exact && in_key [k] == picked [k];
    }
    out->passed = exact;
    double share = total > 0? (double) (right - wrong) / (double) total: 0;
    out->score = share > 0? round (share * 10000.0) / 100.0: 0;
    return 0;
}

static int
s_short (const json_t *q, const json_t *answer, td_answer_grade_t *out, td_error_t *err)
{
    const json_t *keys = json_object_get (q, "answer");
    if (!json_is_array (keys) || json_array_size (keys) == 0)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "the question has no usable answer key");
    if (!json_is_string (answer) || json_string_length (answer) > TD_ANSWER_MAX_TEXT
    ||  strlen (json_string_value (answer)) != json_string_length (answer))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "answer",
                             "answer must be a string of at most %d bytes", TD_ANSWER_MAX_TEXT);
    char *mine = malloc (TD_ANSWER_MAX_TEXT + 1), *theirs = malloc (TD_ANSWER_MAX_TEXT + 1);
    if (!mine || !theirs) {
        free (mine);
        free (theirs);
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
    }
    td_grade_answer_normalise (json_string_value (answer), mine, TD_ANSWER_MAX_TEXT + 1);
    out->passed = false;
    size_t i;
    json_t *v;
    json_array_foreach (keys, i, v) {
        if (!json_is_string (v))
            continue;
        td_grade_answer_normalise (json_string_value (v), theirs, TD_ANSWER_MAX_TEXT + 1);
        if (strcmp (mine, theirs) == 0)
            out->passed = true;
    }
    free (mine);
    free (theirs);
    out->score = out->passed? 100: 0;
    return 0;
}

//  A JSON number, or a string that is a whole finite number (surrounding spaces allowed).
static bool
s_number (const json_t *v, double *out)
{
    if (json_is_number (v)) {
        *out = json_number_value (v);
        return isfinite (*out);
    }
    const char *s = json_string_value (v);
    if (!s || json_string_length (v) > 100 || strlen (s) != json_string_length (v))
        return false;
    char *end = NULL;
    errno = 0;
    *out = strtod (s, &end);
    if (end == s || errno != 0 || !isfinite (*out))
        return false;
    while (isspace ((unsigned char) *end))
        end++;
    return *end == 0;
}

static int
s_numeric (const json_t *q, const json_t *answer, td_answer_grade_t *out, td_error_t *err)
{
    double key, got, tol = 0;
    const json_t *t = json_object_get (q, "tolerance");
    if (!json_is_number (json_object_get (q, "answer")) || !s_number (json_object_get (q, "answer"), &key)
    ||  (t && !json_is_null (t) && (!json_is_number (t) || (tol = json_number_value (t)) < 0
                                    || !isfinite (tol))))
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "the question has no usable answer key");
    if (json_is_boolean (answer) || !s_number (answer, &got))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "answer", "answer must be a number");
    double slack = 1e-9 * fmax (1.0, fabs (key));
    out->passed = fabs (got - key) <= tol + slack;
    out->score = out->passed? 100: 0;
    return 0;
}

int
td_grade_answer (const json_t *q, const json_t *answer, td_answer_grade_t *out, td_error_t *err)
{
    memset (out, 0, sizeof *out);
    const char *type = json_string_value (json_object_get (q, "type"));
    if (!json_is_object (q) || !type)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "the question has no type");
    if (!answer)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "answer", "answer is required");
    if (strcmp (type, "single") == 0)
        return s_single (q, answer, out, err);
    if (strcmp (type, "multiple") == 0)
        return s_multiple (q, answer, out, err);
    if (strcmp (type, "short") == 0)
        return s_short (q, answer, out, err);
    if (strcmp (type, "numeric") == 0)
        return s_numeric (q, answer, out, err);
    if (strcmp (type, "subjective") == 0) {
        if (!json_is_string (answer) || json_string_length (answer) == 0
        ||  json_string_length (answer) > TD_ANSWER_MAX_ESSAY)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "answer",
                                 "answer must be a non-empty string of at most %d bytes",
                                 TD_ANSWER_MAX_ESSAY);
        out->pending = true;
        return 0;
    }
    return td_error_set (err, TD_ERR_INTERNAL, NULL, "the question's type '%s' is unknown", type);
}
