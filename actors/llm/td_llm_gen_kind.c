/*  td_llm_gen_kind — what each kind of generation job asks, accepts and makes (LLM.md §8).
 *
 *  Pure functions over JSON, so the rules of a kind sit in one place: the parameters a create
 *  request may carry, the context read from the target, the prompt of each piece (prompts/gen_*.md,
 *  versioned files), the schema the model's JSON answer must pass before anything is stored, the
 *  catalog item it becomes, and the offline vocabulary exercises (made from the entries' own
 *  examples and translations, and marked as such). Nothing here does I/O.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm_gen.h"

static const char *s_kinds [] = { "grammar_exercises", "vocabulary_exercises", "code_exercise",
                                  "course_outline", NULL };
static const char *s_levels [] = { "A1", "A2", "B1", "B2", "C1", NULL };

int
td_gen_kind_parse (const char *name)
{
    for (int i = 0; name && s_kinds [i]; i++)
        if (strcmp (name, s_kinds [i]) == 0)
            return i;
    return -1;
}

const char *
td_gen_kind_name (td_gen_kind_t kind)
{
    return s_kinds [kind];
}

static bool
s_in (const char *s, const char **list)
{
    for (int i = 0; s && list [i]; i++)
        if (strcmp (s, list [i]) == 0)
            return true;
    return false;
}

static bool
s_text (const json_t *v, size_t lo, size_t hi)
{
    return json_is_string (v) && json_string_length (v) >= lo && json_string_length (v) <= hi;
}

static bool
s_lang_tag (const char *s)
{
    size_t n = s? strlen (s): 0;
    if (n < 2 || n > 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum ((unsigned char) s [i]) && s [i] != '-')
            return false;
    return isalpha ((unsigned char) s [0]);
}

//  Keys every create request has; the rest are the kind's parameters.
static const char *s_common [] = { "kind", "org_id", "course_id", "target_id", NULL };

json_t *
td_gen_params (td_gen_kind_t kind, const json_t *body, const char **field, const char **why)
{
    static const char *allowed [][6] = {
        [TD_GEN_GRAMMAR]    = { "count", "level", "topic", NULL },
        [TD_GEN_VOCABULARY] = { "count", "level", NULL },
        [TD_GEN_CODE]       = { "topic", "language", "level", NULL },
        [TD_GEN_OUTLINE]    = { "topic", "modules", "lessons_per_module", "level", "language", NULL },
    };
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *) body, key, v)
        if (!s_in (key, s_common) && !s_in (key, (const char **) allowed [kind])) {
            *field = key;
            *why = "is not a parameter of this kind of job";
            return NULL;
        }
    json_t *p = json_object ();
    if (!p) {
        *field = "body", *why = "out of memory";
        return NULL;
    }
    const json_t *count = json_object_get (body, "count");
    if (kind == TD_GEN_GRAMMAR || kind == TD_GEN_VOCABULARY) {
        if (count && (!json_is_integer (count) || json_integer_value (count) < 1
                      || json_integer_value (count) > TD_GEN_MAX_PIECES)) {
            *field = "count", *why = "must be a whole number from 1 to 20";
            goto bad;
        }
        if (count)
            json_object_set (p, "count", (json_t *) count);
        else
        if (kind == TD_GEN_GRAMMAR)
            json_object_set_new (p, "count", json_integer (5));
    }
    const json_t *level = json_object_get (body, "level");
    if (level && !s_in (json_string_value (level), s_levels)) {
        *field = "level", *why = "must be one of A1, A2, B1, B2, C1";
        goto bad;
    }
    if (level)
        json_object_set (p, "level", (json_t *) level);
    const json_t *topic = json_object_get (body, "topic");
    bool topic_needed = kind == TD_GEN_CODE || kind == TD_GEN_OUTLINE;
    if ((topic || topic_needed) && !s_text (topic, 1, 2000)) {
        *field = "topic", *why = topic_needed? "is required: what the job is about, 1 to 2000 "
                                 "characters": "must be a string of 1 to 2000 characters";
        goto bad;
    }
    if (topic)
        json_object_set (p, "topic", (json_t *) topic);
    const json_t *language = json_object_get (body, "language");
    if (kind == TD_GEN_CODE) {
        const char *l = language? json_string_value (language): "python";
        if (!l || (strcmp (l, "python") != 0 && strcmp (l, "c") != 0)) {
            *field = "language", *why = "must be \"python\" or \"c\"";
            goto bad;
        }
        json_object_set_new (p, "language", json_string (l));
    }
    if (kind == TD_GEN_OUTLINE) {
        if (language && !s_lang_tag (json_string_value (language))) {
            *field = "language", *why = "must be a language tag such as \"en\" or \"de\"";
            goto bad;
        }
        if (language)
            json_object_set (p, "language", (json_t *) language);
        const char *names [] = { "modules", "lessons_per_module" };
        int dflt [] = { 4, 3 }, hi [] = { 12, 8 };
        for (int i = 0; i < 2; i++) {
            const json_t *n = json_object_get (body, names [i]);
            if (n && (!json_is_integer (n) || json_integer_value (n) < 1
                      || json_integer_value (n) > hi [i])) {
                *field = names [i];
                *why = i? "must be a whole number from 1 to 8": "must be a whole number from 1 to 12";
                goto bad;
            }
            json_object_set_new (p, names [i], json_integer (n? json_integer_value (n): dflt [i]));
        }
    }
    return p;
bad:
    json_decref (p);
    return NULL;
}

//  The lesson (and its module) with id in the tree, or NULL.
static const json_t *
s_lesson (const json_t *tree, const char *id)
{
    size_t i, k;
    const json_t *m, *l;
    json_array_foreach (json_object_get (tree, "modules"), i, m)
        json_array_foreach (json_object_get (m, "lessons"), k, l)
            if (json_is_string (json_object_get (l, "id"))
            &&  strcmp (json_string_value (json_object_get (l, "id")), id) == 0)
                return l;
    return NULL;
}

static const char *
s_str (const json_t *o, const char *key)
{
    const char *s = json_string_value (json_object_get (o, key));
    return s? s: "";
}

json_t *
td_gen_context (td_gen_kind_t kind, const json_t *tree, const char *target, const json_t *params,
                int *total, td_errcode_t *code, const char **field, const char **why)
{
    *code = TD_ERR_NOT_FOUND;
    *field = "target_id";
    json_t *ctx = json_pack ("{s:s, s:s, s:s}", "course_title", s_str (tree, "title"),
                             "course_language", s_str (tree, "language"),
                             "course_description", s_str (tree, "description"));
    if (!ctx) {
        *code = TD_ERR_INTERNAL, *why = "out of memory";
        return NULL;
    }
    if (kind == TD_GEN_OUTLINE) {
        if (strcmp (target, s_str (tree, "id")) != 0) {
            *code = TD_ERR_INVALID_INPUT, *why = "an outline's target is its course: target_id must "
                                                  "be course_id";
            goto bad;
        }
        *total = 1;
        return ctx;
    }
    if (kind == TD_GEN_GRAMMAR) {
        size_t i, k, n;
        const json_t *m, *l, *it, *found = NULL, *lesson = NULL;
        json_array_foreach (json_object_get (tree, "modules"), i, m)
            json_array_foreach (json_object_get (m, "lessons"), k, l)
                json_array_foreach (json_object_get (l, "items"), n, it)
                    if (strcmp (s_str (it, "id"), target) == 0)
                        found = it, lesson = l;
        if (!found) {
            *why = "there is no such item in this course";
            goto bad;
        }
        if (strcmp (s_str (found, "kind"), "grammar") != 0) {
            *code = TD_ERR_INVALID_INPUT, *why = "grammar exercises need a grammar item as target";
            goto bad;
        }
        const json_t *c = json_object_get (found, "content");
        const char *level = json_string_value (json_object_get (params, "level"));
        json_object_set_new (ctx, "lesson_id", json_string (s_str (lesson, "id")));
        json_object_set_new (ctx, "title", json_string (s_str (found, "title")));
        json_object_set_new (ctx, "level", json_string (level? level: s_str (c, "level")));
        json_object_set_new (ctx, "explanation", json_string (s_str (c, "explanation")));
        *total = (int) json_integer_value (json_object_get (params, "count"));
        return ctx;
    }
    const json_t *lesson = s_lesson (tree, target);
    if (!lesson) {
        *why = "there is no such lesson in this course";
        goto bad;
    }
    json_object_set_new (ctx, "lesson_id", json_string (target));
    json_object_set_new (ctx, "lesson_title", json_string (s_str (lesson, "title")));
    if (kind == TD_GEN_CODE) {
        *total = 1;
        return ctx;
    }
    json_t *words = json_array ();
    size_t i;
    const json_t *it;
    json_array_foreach (json_object_get (lesson, "items"), i, it) {
        const json_t *c = json_object_get (it, "content");
        if (strcmp (s_str (it, "kind"), "vocabulary") != 0 || json_array_size (words) >= TD_GEN_MAX_WORDS)
            continue;
        json_array_append_new (words, json_pack ("{s:s, s:s, s:s, s:s, s:s}",
            "word", s_str (c, "word"), "article", s_str (c, "article"),
            "translation", s_str (c, "translation"), "example", s_str (c, "example"),
            "example_translation", s_str (c, "example_translation")));
    }
    if (json_array_size (words) == 0) {
        json_decref (words);
        *code = TD_ERR_INVALID_INPUT, *why = "the lesson has no vocabulary items to practise";
        goto bad;
    }
    const json_t *count = json_object_get (params, "count");
    size_t dflt = json_array_size (words) * 2;
    *total = count? (int) json_integer_value (count): (int) (dflt > 10? 10: dflt);
    json_object_set_new (ctx, "words", words);
    return ctx;
bad:
    json_decref (ctx);
    return NULL;
}

//  The words as lines "word (article) = translation; example", for the prompt.
static char *
s_words_text (const json_t *words)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&out, &len);
    if (!f)
        return NULL;
    size_t i;
    const json_t *w;
    json_array_foreach (words, i, w)
        fprintf (f, "- %s%s%s = %s%s%s\n", s_str (w, "article"), *s_str (w, "article")? " ": "",
                 s_str (w, "word"), s_str (w, "translation"),
                 *s_str (w, "example")? "; example: ": "", s_str (w, "example"));
    fclose (f);
    return out;
}

static const char *s_prompt_names [] = { "gen_grammar", "gen_vocabulary", "gen_code", "gen_outline" };

void
td_gen_prompt_version (td_llm_t *llm, td_gen_kind_t kind, char *buf, size_t size)
{
    const char *text = td_llm_prompt (llm, s_prompt_names [kind]);
    const char *start = strncmp (text, "<!--", 4) == 0? text + 4: text;
    while (*start == ' ')
        start++;
    size_t n = strcspn (start, "(\n");
    while (n > 0 && (start [n - 1] == ' ' || start [n - 1] == '-' || start [n - 1] == '>'))
        n--;
    snprintf (buf, size, "%.*s", (int) (n < 80? n: 80), start);
}

int
td_gen_prompt (td_llm_t *llm, td_gen_kind_t kind, const json_t *params, const json_t *context,
               int index, const json_t *results, const char *retry_why, char **system, char **user)
{
    json_t *vars = json_object ();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *) context, key, v)
        if (json_is_string (v))
            json_object_set (vars, key, v);
    json_object_foreach ((json_t *) params, key, v) {
        char num [32];
        snprintf (num, sizeof num, "%lld", (long long) json_integer_value (v));
        json_object_set_new (vars, key, json_is_string (v)? json_string (json_string_value (v))
                                                          : json_string (num));
    }
    if (kind == TD_GEN_VOCABULARY) {
        char *w = s_words_text (json_object_get (context, "words"));
        json_object_set_new (vars, "words", json_string (w? w: ""));
        free (w);
    }
    if (!json_object_get (vars, "level"))
        json_object_set_new (vars, "level", json_string ("any"));
    if (!json_object_get (vars, "topic"))
        json_object_set_new (vars, "topic", json_string (""));
    if (!json_object_get (vars, "language"))
        json_object_set (vars, "language", json_object_get (context, "course_language"));
    *system = td_llm_render (td_llm_prompt (llm, s_prompt_names [kind]), vars);
    json_decref (vars);
    //  the user turn: which piece, what was made already (no repeats), why the last answer failed
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&out, &len);
    if (f) {
        if (kind == TD_GEN_OUTLINE || kind == TD_GEN_CODE)
            fprintf (f, "Write it now.\n");
        else {
            fprintf (f, "Write exercise %d of %lld.\n", index + 1,
                     (long long) json_integer_value (json_object_get (params, "count")) > 0?
                     (long long) json_integer_value (json_object_get (params, "count")): index + 1);
            size_t i;
            const json_t *r;
            bool head = false;
            json_array_foreach (results, i, r)
                if (json_is_string (json_object_get (r, "prompt"))) {
                    if (!head)
                        fprintf (f, "Do not repeat these earlier exercises:\n");
                    head = true;
                    fprintf (f, "- %.300s\n", s_str (r, "prompt"));
                }
        }
        if (retry_why && *retry_why)
            fprintf (f, "\nYour previous answer was refused: %s. Answer again with exactly one JSON "
                     "object of the required shape and nothing else.\n", retry_why);
        fclose (f);
    }
    *user = out;
    if (!*system || !*user) {
        free (*system);
        free (*user);
        *system = *user = NULL;
        return -1;
    }
    return 0;
}

#define BAD(...) do { snprintf (why, whylen, __VA_ARGS__); goto bad; } while (0)

//  A question content object (single, multiple or short), rebuilt with only its known keys.
static json_t *
s_question (const json_t *q, char *why, size_t whylen)
{
    json_t *out = json_object ();
    const char *type = json_string_value (json_object_get (q, "type"));
    const json_t *prompt = json_object_get (q, "prompt"), *choices = json_object_get (q, "choices");
    const json_t *answer = json_object_get (q, "answer"), *expl = json_object_get (q, "explanation");
    static const char *types [] = { "single", "multiple", "short", NULL };
    if (!s_in (type, types))
        BAD ("type must be single, multiple or short");
    if (!s_text (prompt, 1, 2000))
        BAD ("prompt must be a string of 1 to 2000 characters");
    if (expl && !json_is_null (expl) && !s_text (expl, 0, 2000))
        BAD ("explanation must be a string of at most 2000 characters");
    json_object_set_new (out, "type", json_string (type));
    json_object_set (out, "prompt", (json_t *) prompt);
    json_object_set_new (out, "explanation", json_string (json_is_string (expl)?
                                                          json_string_value (expl): ""));
    size_t i, k;
    const json_t *c, *d;
    if (strcmp (type, "short") == 0) {
        if (!json_is_array (answer) || json_array_size (answer) < 1 || json_array_size (answer) > 10)
            BAD ("a short question's answer must be a list of 1 to 10 accepted strings");
        json_array_foreach (answer, i, c)
            if (!s_text (c, 1, 200))
                BAD ("each accepted answer must be a string of 1 to 200 characters");
        json_object_set (out, "answer", (json_t *) answer);
        return out;
    }
    size_t n = json_array_size (choices);
    if (!json_is_array (choices) || n < 2 || n > 8)
        BAD ("choices must be a list of 2 to 8 strings");
    json_array_foreach (choices, i, c) {
        if (!s_text (c, 1, 500))
            BAD ("each choice must be a string of 1 to 500 characters");
        json_array_foreach (choices, k, d)
            if (k < i && strcmp (json_string_value (c), json_string_value (d)) == 0)
                BAD ("the choices must differ");
    }
    json_object_set (out, "choices", (json_t *) choices);
    if (strcmp (type, "single") == 0) {
        if (!json_is_integer (answer) || json_integer_value (answer) < 0
        ||  json_integer_value (answer) >= (json_int_t) n)
            BAD ("a single-choice answer must be the index of the right choice");
    }
    else {
        if (!json_is_array (answer) || json_array_size (answer) < 1 || json_array_size (answer) > n)
            BAD ("a multiple-choice answer must be a list of choice indexes");
        json_array_foreach (answer, i, c) {
            if (!json_is_integer (c) || json_integer_value (c) < 0
            ||  json_integer_value (c) >= (json_int_t) n)
                BAD ("a multiple-choice answer must be a list of choice indexes");
            json_array_foreach (answer, k, d)
                if (k < i && json_integer_value (c) == json_integer_value (d))
                    BAD ("the answer's indexes must differ");
        }
    }
    json_object_set (out, "answer", (json_t *) answer);
    return out;
bad:
    json_decref (out);
    return NULL;
}

static json_t *
s_code (const json_t *e, const json_t *params, char *why, size_t whylen)
{
    json_t *out = json_object ();
    const json_t *hints = json_object_get (e, "hints"), *tests = json_object_get (e, "tests");
    const json_t *starter = json_object_get (e, "starter_code");
    if (!s_text (json_object_get (e, "title"), 1, 200))
        BAD ("title must be a string of 1 to 200 characters");
    if (!s_text (json_object_get (e, "instructions"), 1, 20000))
        BAD ("instructions must be a string of 1 to 20000 characters");
    if (!s_text (json_object_get (e, "solution"), 1, 65536))
        BAD ("solution must be the reference solution, 1 to 65536 bytes");
    if (starter && !json_is_null (starter) && !s_text (starter, 0, 65536))
        BAD ("starter_code must be a string of at most 65536 bytes");
    if (!json_is_array (tests) || json_array_size (tests) < 1 || json_array_size (tests) > 20)
        BAD ("tests must be a list of 1 to 20 test objects");
    size_t i;
    const json_t *t;
    json_array_foreach (tests, i, t)
        if (!json_is_object (t))
            BAD ("each test must be an object");
    if (hints && (!json_is_array (hints) || json_array_size (hints) > 5))
        BAD ("hints must be a list of at most 5 strings");
    json_array_foreach (hints, i, t)
        if (!s_text (t, 1, 2000))
            BAD ("each hint must be a string of 1 to 2000 characters");
    json_object_set (out, "title", json_object_get (e, "title"));
    json_object_set (out, "language", json_object_get (params, "language"));
    json_object_set (out, "instructions", json_object_get (e, "instructions"));
    json_object_set_new (out, "starter_code", json_string (json_is_string (starter)?
                                                           json_string_value (starter): ""));
    json_object_set (out, "tests", (json_t *) tests);
    json_object_set_new (out, "hints", hints? json_deep_copy (hints): json_array ());
    json_object_set (out, "solution", json_object_get (e, "solution"));
    json_object_set_new (out, "exam", json_false ());
    return out;
bad:
    json_decref (out);
    return NULL;
}

static json_t *
s_outline (const json_t *o, const json_t *params, char *why, size_t whylen)
{
    json_t *out = json_array ();
    const json_t *modules = json_object_get (o, "modules");
    json_int_t nm = json_integer_value (json_object_get (params, "modules"));
    json_int_t nl = json_integer_value (json_object_get (params, "lessons_per_module"));
    if (!json_is_array (modules) || json_array_size (modules) < 1
    ||  (json_int_t) json_array_size (modules) > nm)
        BAD ("modules must be a list of 1 to %lld modules", (long long) nm);
    size_t i, k;
    const json_t *m, *l;
    json_array_foreach (modules, i, m) {
        const json_t *lessons = json_object_get (m, "lessons");
        if (!s_text (json_object_get (m, "title"), 1, 200))
            BAD ("modules[%zu].title must be a string of 1 to 200 characters", i);
        if (!s_text (json_object_get (m, "description"), 0, 2000))
            BAD ("modules[%zu].description must be a string of at most 2000 characters", i);
        if (!json_is_array (lessons) || json_array_size (lessons) < 1
        ||  (json_int_t) json_array_size (lessons) > nl)
            BAD ("modules[%zu].lessons must be a list of 1 to %lld lessons", i, (long long) nl);
        json_t *ls = json_array ();
        json_array_foreach (lessons, k, l) {
            if (!s_text (json_object_get (l, "title"), 1, 200)
            ||  !s_text (json_object_get (l, "description"), 0, 2000)) {
                json_decref (ls);
                BAD ("modules[%zu].lessons[%zu] needs a title (1 to 200 characters) and a "
                     "description (at most 2000)", i, k);
            }
            json_array_append_new (ls, json_pack ("{s:O, s:O}", "title", json_object_get (l, "title"),
                                                  "description", json_object_get (l, "description")));
        }
        json_array_append_new (out, json_pack ("{s:O, s:O, s:o}", "title", json_object_get (m, "title"),
                                               "description", json_object_get (m, "description"),
                                               "lessons", ls));
    }
    return json_pack ("{s:o}", "modules", out);
bad:
    json_decref (out);
    return NULL;
}

json_t *
td_gen_validate (td_gen_kind_t kind, const json_t *params, const char *text, char *why, size_t whylen)
{
    json_t *j = td_llm_json_in (text, why, whylen);
    if (!j)
        return NULL;
    json_t *out = kind == TD_GEN_CODE? s_code (j, params, why, whylen)
                : kind == TD_GEN_OUTLINE? s_outline (j, params, why, whylen)
                : s_question (j, why, whylen);
    json_decref (j);
    return out;
}

//  Where word occurs in text, case-insensitively (ASCII), or NULL.
static const char *
s_find (const char *text, const char *word)
{
    size_t n = strlen (word);
    for (const char *p = text; n && *p; p++)
        if (strncasecmp (p, word, n) == 0)
            return p;
    return NULL;
}

json_t *
td_gen_offline_vocabulary (const json_t *context, int index)
{
    const json_t *words = json_object_get (context, "words");
    size_t n = json_array_size (words);
    if (n == 0)
        return NULL;
    const json_t *w = json_array_get (words, ((size_t) index / 2) % n);
    const char *word = s_str (w, "word"), *example = s_str (w, "example");
    const char *tr = s_str (w, "translation"), *article = s_str (w, "article");
    const char *at = *word? s_find (example, word): NULL;
    char prompt [2048], expl [600];
    snprintf (expl, sizeof expl, "Offline exercise, made from the vocabulary entry itself (no "
              "language model): %s%s%s = %s.", article, *article? " ": "", word, tr);
    if (at && (index % 2 == 0 || !*tr)) {
        //  a cloze: the entry's example with the word as a gap
        snprintf (prompt, sizeof prompt, "Fill in the gap: %.*s_____%s%s%s%s", (int) (at - example),
                  example, at + strlen (word), *s_str (w, "example_translation")? " (": "",
                  s_str (w, "example_translation"), *s_str (w, "example_translation")? ")": "");
        return json_pack ("{s:s, s:s, s:[s#], s:s}", "type", "short", "prompt", prompt, "answer",
                          at, (int) strlen (word), "explanation", expl);
    }
    if (!*tr || !*word)
        return NULL;
    snprintf (prompt, sizeof prompt, "Which word means \"%s\"?", tr);
    if (*article) {
        char full [600];
        snprintf (full, sizeof full, "%s %s", article, word);
        return json_pack ("{s:s, s:s, s:[s, s], s:s}", "type", "short", "prompt", prompt,
                          "answer", word, full, "explanation", expl);
    }
    return json_pack ("{s:s, s:s, s:[s], s:s}", "type", "short", "prompt", prompt, "answer", word,
                      "explanation", expl);
}

void
td_gen_slug (char *buf, size_t size, const char *job_id, int a, int b)
{
    if (b >= 0)
        snprintf (buf, size, "gen-%.8s-m%d-l%d", job_id, a + 1, b + 1);
    else
    if (a >= 0)
        snprintf (buf, size, "gen-%.8s-%d", job_id, a + 1);
    else
        snprintf (buf, size, "gen-%.8s-m%d", job_id, -a);
}

json_t *
td_gen_item_body (td_gen_kind_t kind, const char *job_id, const json_t *context, int index,
                  const json_t *content, bool offline)
{
    char slug [64], title [256];
    td_gen_slug (slug, sizeof slug, job_id, index, -1);
    if (kind == TD_GEN_CODE)
        snprintf (title, sizeof title, "%s", s_str (content, "title"));
    else
    if (kind == TD_GEN_GRAMMAR)
        snprintf (title, sizeof title, "%.160s: exercise %d", s_str (context, "title"), index + 1);
    else {
        const json_t *words = json_object_get (context, "words");
        const json_t *w = json_array_get (words, ((size_t) index / 2) % (json_array_size (words)? json_array_size (words): 1));
        snprintf (title, sizeof title, "%sVocabulary: %.150s (%d)", offline? "[offline] ": "",
                  s_str (w, "word"), index + 1);
    }
    json_t *c = json_deep_copy (content);
    if (kind == TD_GEN_CODE)
        json_object_del (c, "title");
    return json_pack ("{s:s, s:s, s:s, s:o}", "slug", slug, "kind",
                      kind == TD_GEN_CODE? "exercise": "question", "title", title, "content", c);
}
