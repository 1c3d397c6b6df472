/*  td_grade_answer — an answer to an objective question, checked against its key at once.
 *
 *  The question is the catalog's content object (CATALOG.md §1): {"type", "choices", "answer",
 *  "tolerance", ...}. Rules (GRADER.md §3):
 *    single      answer: a choice index (integer). Right when it is the key.
 *    multiple    answer: a list of distinct choice indexes. Passed only when the set equals the
 *                key (all-or-nothing for `passed` and the verdict); the score gives partial
 *                credit: (right picks - wrong picks) / size of the key, at least 0, times 100.
 *    short       answer: a string. Right when, trimmed, inner whitespace runs made one space and
 *                ASCII letters folded to lower case, it equals one accepted string treated alike.
 *    numeric     answer: a number (or a string holding one). Right when |answer - key| <=
 *                tolerance (default 0) plus a rounding allowance of 1e-9 relative.
 *    subjective  answer: a string (at most 20000 bytes). Not graded here: pending.
 *  Pure: no I/O, safe to call from any thread.
 */
#ifndef TD_GRADE_ANSWER_H
#define TD_GRADE_ANSWER_H

#include <jansson.h>
#include <stdbool.h>
#include "td_error.h"

#define TD_ANSWER_MAX_TEXT      10000   //  bytes of a short or numeric answer string
#define TD_ANSWER_MAX_ESSAY     20000   //  bytes of a subjective answer

typedef struct {
    bool pending;                   //  subjective: stored for later grading
    bool passed;                    //  right (multiple: exactly the key)
    double score;                   //  0..100
} td_answer_grade_t;

//  0 with *out filled; -1 with err set: invalid_input field "answer" when the answer has the
//  wrong shape for the question's type, internal when the question itself is unusable (a key
//  missing or of the wrong type: the catalog validates content, so that is a bug).
int td_grade_answer (const json_t *question, const json_t *answer, td_answer_grade_t *out,
                     td_error_t *err);

//  The short-answer normal form of s into out (size bytes, truncated). Exposed for tests.
void td_grade_answer_normalise (const char *s, char *out, size_t size);

#endif
