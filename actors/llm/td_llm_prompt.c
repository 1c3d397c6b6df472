/*  td_llm_prompt — the prompts, read from files under prompts/ (version controlled) at start.
 *
 *  Every prompts/<name>.md becomes the prompt <name>; the actor refuses to start when one it
 *  needs is missing, so a broken deployment shows at once and not at a learner's first question.
 *  A prompt may hold {{placeholders}} filled by td_llm_render.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm.h"

#define PROMPT_MAX (64 * 1024)

static const char *s_required [] = { "tutor", "conversation", "exam", "item", "offline", "hint",
                                "feedback", "explain", "complexity", "evaluate", "analysis",
                                "scenario", NULL };

static char *
s_read (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *buf = (char *) malloc (PROMPT_MAX + 1);
    size_t n = buf? fread (buf, 1, PROMPT_MAX + 1, f): 0;
    fclose (f);
    if (!buf || n > PROMPT_MAX) {
        free (buf);
        return NULL;
    }
    buf [n] = 0;
    return buf;
}

json_t *
td_llm_prompts_load (const char *dir, char *errbuf, size_t errlen)
{
    DIR *d = opendir (dir);
    if (!d) {
        snprintf (errbuf, errlen, "cannot open %s: %s", dir, strerror (errno));
        return NULL;
    }
    json_t *all = json_object ();
    struct dirent *e;
    while (all && (e = readdir (d))) {
        size_t n = strlen (e->d_name);
        if (n < 4 || n > 64 || strcmp (e->d_name + n - 3, ".md") != 0 || e->d_name [0] == '.')
            continue;
        char path [4096], name [64];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf (name, sizeof name, "%.*s", (int) (n - 3), e->d_name);
        char *text = s_read (path);
        if (!text) {
            snprintf (errbuf, errlen, "cannot read %s (or over %d bytes)", path, PROMPT_MAX);
            json_decref (all);
            all = NULL;
            break;
        }
        json_object_set_new (all, name, json_string (text));
        free (text);
    }
    closedir (d);
    for (int i = 0; all && s_required [i]; i++)
        if (!json_is_string (json_object_get (all, s_required [i]))) {
            snprintf (errbuf, errlen, "%s/%s.md is missing or not UTF-8", dir, s_required [i]);
            json_decref (all);
            all = NULL;
        }
    return all;
}

const char *
td_llm_prompt (td_llm_t *llm, const char *name)
{
    const char *s = json_string_value (json_object_get (llm->prompts, name));
    return s? s: "";
}

char *
td_llm_render (const char *tmpl, const json_t *vars)
{
    size_t cap = strlen (tmpl) + 1, len = 0;
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *) vars, key, v)
        cap += json_string_length (v);
    char *out = (char *) malloc (cap);
    if (!out)
        return NULL;
    const char *p = tmpl;
    while (*p) {
        const char *open = strstr (p, "{{");
        const char *close = open? strstr (open + 2, "}}"): NULL;
        if (!open || !close || close - open > 66) {
            size_t n = strlen (p);
            memcpy (out + len, p, n);
            len += n;
            break;
        }
        memcpy (out + len, p, (size_t) (open - p));
        len += (size_t) (open - p);
        char name [64];
        snprintf (name, sizeof name, "%.*s", (int) (close - open - 2), open + 2);
        const char *val = json_string_value (json_object_get (vars, name));
        if (val) {              //  each placeholder name is used once per template at most
            size_t n = strlen (val);
            if (len + n + strlen (close + 2) + 1 > cap) {
                char *bigger = (char *) realloc (out, len + n + strlen (close + 2) + 1);
                if (!bigger) {
                    free (out);
                    return NULL;
                }
                out = bigger;
                cap = len + n + strlen (close + 2) + 1;
            }
            memcpy (out + len, val, n);
            len += n;
        }
        p = close + 2;
    }
    out [len] = 0;
    return out;
}
