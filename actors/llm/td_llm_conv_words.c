/*  td_llm_conv_words — the text rules of conversation practice, without state or I/O (so they are
 *  unit-tested alone): words of a turn, the course's vocabulary entries, German article agreement,
 *  and the offline provider's rule-based analysis of a learner turn (LLM.md §7).
 *
 *  The offline analysis is deliberately modest and says so in its note: it knows only the
 *  course's own vocabulary entries (word, article, gender, plural, translation) and checks only
 *  what those entries make certain: an article in front of a noun in the singular that can never
 *  go with that noun's gender in any case (e.g. "die Hund", "das Katze", "den Tasche"); "der
 *  Katze" is left alone, being right in the dative and genitive.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm_conv.h"

#define WORD_MAX    100
#define WORDS_MAX   400             //  words of a turn looked at

void
td_llm_word_fold (const char *in, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        unsigned char c = (unsigned char) in [i];
        //  UTF-8 Latin-1 capitals: C3 80..9E (except C3 97, the multiplication sign) + 0x20
        if (c == 0xC3 && i + 1 < n && o + 2 < outlen) {
            unsigned char d = (unsigned char) in [i + 1];
            out [o++] = (char) c;
            out [o++] = (char) (d >= 0x80 && d <= 0x9E && d != 0x97? d + 0x20: d);
            i++;
            continue;
        }
        out [o++] = (char) tolower (c);
    }
    out [o] = 0;
}

json_t *
td_llm_vocab_from_course (const json_t *course, size_t max)
{
    json_t *out = json_array ();
    size_t i, j, k;
    json_t *m, *l, *it;
    json_array_foreach (json_object_get (course, "modules"), i, m)
        json_array_foreach (json_object_get (m, "lessons"), j, l)
            json_array_foreach (json_object_get (l, "items"), k, it) {
                const char *kind = json_string_value (json_object_get (it, "kind"));
                json_t *c = json_object_get (it, "content");
                const char *word = json_string_value (json_object_get (c, "word"));
                const char *id = json_string_value (json_object_get (it, "id"));
                if (!out || json_array_size (out) >= max || !kind || strcmp (kind, "vocabulary")
                ||  !word || !*word || strlen (word) > WORD_MAX || !id)
                    continue;
                const char *title = json_string_value (json_object_get (it, "title"));
                json_array_append_new (out, json_pack ("{s:s, s:s, s:O}", "item_id", id,
                                                       "title", title? title: word, "content", c));
            }
    return out;
}

//  The last space-separated token of s (a plural may be written "die Hunde"), folded.
static void
s_last_folded (const char *s, char *out, size_t outlen)
{
    const char *sp = strrchr (s, ' ');
    const char *w = sp? sp + 1: s;
    td_llm_word_fold (w, strlen (w), out, outlen);
}

const json_t *
td_llm_vocab_find (const json_t *vocab, const char *word, bool *plural)
{
    char want [WORD_MAX * 2 + 8], have [WORD_MAX * 2 + 8];
    td_llm_word_fold (word, strlen (word), want, sizeof want);
    size_t i;
    json_t *e;
    json_array_foreach (vocab, i, e) {
        json_t *c = json_object_get (e, "content");
        const char *w = json_string_value (json_object_get (c, "word"));
        const char *pl = json_string_value (json_object_get (c, "plural"));
        if (w) {
            s_last_folded (w, have, sizeof have);
            if (strcmp (have, want) == 0) {
                if (plural)
                    *plural = false;
                return e;
            }
        }
        if (pl && *pl) {
            s_last_folded (pl, have, sizeof have);
            if (strcmp (have, want) == 0) {
                if (plural)
                    *plural = true;
                return e;
            }
        }
    }
    return NULL;
}

//  The noun's gender: 'm', 'f', 'n', or 0 when the entry does not say.
static char
s_gender (const json_t *content)
{
    const char *g = json_string_value (json_object_get (content, "gender"));
    if (g && (tolower ((unsigned char) *g) == 'm' || tolower ((unsigned char) *g) == 'f'
              || tolower ((unsigned char) *g) == 'n'))
        return (char) tolower ((unsigned char) *g);
    const char *a = json_string_value (json_object_get (content, "article"));
    if (!a)
        return 0;
    char f [16];
    td_llm_word_fold (a, strlen (a), f, sizeof f);
    return strcmp (f, "der") == 0? 'm': strcmp (f, "die") == 0? 'f': strcmp (f, "das") == 0? 'n': 0;
}

//  The genders an article can go with before a singular noun, in any case; NULL: not an article.
static const char *
s_article_genders (const char *folded)
{
    static const struct { const char *article, *genders; } table [] = {
        { "der", "mf" }, { "die", "f" }, { "das", "n" }, { "den", "m" }, { "dem", "mn" },
        { "des", "mn" }, { "ein", "mn" }, { "eine", "f" }, { "einen", "m" }, { "einem", "mn" },
        { "einer", "f" }, { "eines", "mn" }, { NULL, NULL }
    };
    for (int i = 0; table [i].article; i++)
        if (strcmp (folded, table [i].article) == 0)
            return table [i].genders;
    return NULL;
}

static const char *
s_gender_name (char g)
{
    return g == 'm'? "masculine": g == 'f'? "feminine": "neuter";
}

typedef struct {
    const char *at;
    size_t len;
} s_word_t;

static bool
s_word_byte (unsigned char c)
{
    return isalnum (c) || c >= 0x80 || c == '\'' || c == '-';
}

static int
s_words (const char *text, s_word_t *w, int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        while (*p && !s_word_byte ((unsigned char) *p))
            p++;
        const char *q = p;
        while (*q && s_word_byte ((unsigned char) *q))
            q++;
        if (q > p && (size_t) (q - p) <= WORD_MAX)
            w [n++] = (s_word_t) { p, (size_t) (q - p) };
        p = q;
    }
    return n;
}

static const char *
s_level_estimate (const char *text, int words)
{
    int sentences = 0;
    for (const char *p = text; *p; p++)
        sentences += (*p == '.' || *p == '!' || *p == '?') && (p [1] == 0 || p [1] == ' ' || p [1] == '\n');
    double per = (double) words / (sentences > 0? sentences: 1);
    return per < 6? "A1": per < 10? "A2": per < 15? "B1": per < 20? "B2": "C1";
}

static bool
s_known (const json_t *known, const char *folded)
{
    size_t i;
    json_t *k;
    json_array_foreach (known, i, k)
        if (json_is_string (k) && strcmp (json_string_value (k), folded) == 0)
            return true;
    return false;
}

json_t *
td_llm_offline_analysis (const char *text, const json_t *vocab, const json_t *known,
                         const char *level)
{
    s_word_t *w = (s_word_t *) calloc (WORDS_MAX, sizeof *w);
    json_t *errors = json_array (), *words = json_array (), *seen = json_object ();
    if (!w || !errors || !words || !seen) {
        free (w);
        json_decref (errors);
        json_decref (words);
        json_decref (seen);
        return NULL;
    }
    int n = s_words (text, w, WORDS_MAX);
    for (int i = 0; i < n; i++) {
        char word [WORD_MAX + 1], folded [WORD_MAX * 2 + 8];
        snprintf (word, sizeof word, "%.*s", (int) w [i].len, w [i].at);
        bool plural = false;
        const json_t *e = td_llm_vocab_find (vocab, word, &plural);
        if (!e)
            continue;
        json_t *c = json_object_get (e, "content");
        const char *lemma = json_string_value (json_object_get (c, "word"));
        const char *article = json_string_value (json_object_get (c, "article"));
        const char *translation = json_string_value (json_object_get (c, "translation"));
        td_llm_word_fold (lemma, strlen (lemma), folded, sizeof folded);
        if (!json_object_get (seen, folded) && json_array_size (words) < 50) {
            json_object_set_new (seen, folded, json_true ());
            json_t *entry = json_pack ("{s:s, s:s, s:s, s:b, s:s?}", "word", word, "lemma", lemma,
                                       "translation", translation? translation: "",
                                       "known", s_known (known, folded),
                                       "item_id", json_string_value (json_object_get (e, "item_id")));
            if (entry && article && *article)
                json_object_set_new (entry, "article", json_string (article));
            json_array_append_new (words, entry);
        }
        //  article agreement: the word before a singular noun
        char g = s_gender (c);
        if (plural || !g || i == 0 || json_array_size (errors) >= 20)
            continue;
        char prev [WORD_MAX + 1], pf [WORD_MAX * 2 + 8];
        snprintf (prev, sizeof prev, "%.*s", (int) w [i - 1].len, w [i - 1].at);
        td_llm_word_fold (prev, strlen (prev), pf, sizeof pf);
        const char *genders = s_article_genders (pf);
        if (!genders || strchr (genders, g) || !article || !*article)
            continue;
        char wrong [2 * WORD_MAX + 4], right [2 * WORD_MAX + 4], why [600];
        snprintf (wrong, sizeof wrong, "%s %s", prev, word);
        snprintf (right, sizeof right, "%c%s %s", isupper ((unsigned char) prev [0])
                  ? toupper ((unsigned char) article [0]): article [0], article + 1, word);
        snprintf (why, sizeof why, "%s is %s (%s %s): \"%s\" never goes with a %s noun in the "
                  "singular; the correction shows the nominative", lemma, s_gender_name (g),
                  article, lemma, prev, s_gender_name (g));
        json_array_append_new (errors, json_pack ("{s:s, s:s, s:s}", "text", wrong,
                                                  "correction", right, "explanation", why));
    }
    free (w);
    json_decref (seen);
    bool given = level && (!strcmp (level, "A1") || !strcmp (level, "A2") || !strcmp (level, "B1")
                           || !strcmp (level, "B2") || !strcmp (level, "C1"));
    return json_pack ("{s:o, s:o, s:s, s:s}", "grammar_errors", errors, "vocabulary", words,
                      "level", given? level: s_level_estimate (text, n), "note",
                      given? "offline analysis (rules, no model): the course's vocabulary found in "
                             "this turn and article agreement checked against it; the level is "
                             "the scenario's"
                           : "offline analysis (rules, no model): the course's vocabulary found in "
                             "this turn and article agreement checked against it; the level is a "
                             "rough estimate from sentence length");
}
