/*  td_analytics_defs — the analytics definitions: XP rules, levels, streak freezes, heatmap levels
 *  and achievements, parsed and validated from JSON (ANALYTICS.md §2).
 *
 *  They come from seed/achievements.json, a seed file whose one record is
 *  {"service": "analytics", "type": "definitions.set", "body": {...}}: the actor reads it at start
 *  (TUTORD_ANALYTICS_SEED, default <source>/seed/achievements.json) and `tutorctl seed` sends the
 *  same body to a running actor. Everything is checked before anything is used, so a bad file
 *  stops the actor's start with one line naming the field.
 */
#include <stdio.h>
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"

static bool
s_name_ok (const char *s)
{
    size_t n = s? strlen (s): 0;
    if (n == 0 || n >= TD_ANA_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static int
s_str (const json_t *o, const char *key, bool required, char *buf, size_t size,
       bool name, const char *prefix, td_error_t *err)
{
    const json_t *v = json_object_get (o, key);
    *buf = 0;
    if (!v && !required)
        return 0;
    const char *s = json_string_value (v);
    if (!s || strlen (s) >= size || (name && !s_name_ok (s)) || (required && !*s))
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "%s.%s must be %s", prefix, key,
                             name? "a name of [a-z0-9_.-], 1 to 63 bytes": "a non-empty string"),
               snprintf (err->field, sizeof err->field, "%s.%s", prefix, key), -1;
    snprintf (buf, size, "%s", s);
    return 0;
}

static int
s_int (const json_t *o, const char *key, int64_t min, int64_t max, int64_t *out,
       const char *prefix, td_error_t *err)
{
    const json_t *v = json_object_get (o, key);
    if (!json_is_integer (v) || json_integer_value (v) < min || json_integer_value (v) > max) {
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "%s%s%s must be an integer from %lld to %lld",
                      prefix, *prefix? ".": "", key, (long long) min, (long long) max);
        snprintf (err->field, sizeof err->field, "%s%s%s", prefix, *prefix? ".": "", key);
        return -1;
    }
    *out = json_integer_value (v);
    return 0;
}

static int
s_fail (td_error_t *err, const char *field, const char *msg)
{
    td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "%s", msg);
    snprintf (err->field, sizeof err->field, "%s", field);
    return -1;
}

static int
s_rules (td_ana_defs_t *d, const json_t *arr, td_error_t *err)
{
    if (!json_is_array (arr) || json_array_size (arr) == 0 || json_array_size (arr) > TD_ANA_MAX_RULES)
        return s_fail (err, "xp_rules", "xp_rules must be an array of 1 to 64 rules");
    for (size_t i = 0; i < json_array_size (arr); i++) {
        const json_t *r = json_array_get (arr, i);
        char prefix [48];
        snprintf (prefix, sizeof prefix, "xp_rules[%zu]", i);
        if (!json_is_object (r))
            return s_fail (err, prefix, "each rule must be an object");
        td_ana_rule_t *rule = &d->rules [i];
        int64_t xp;
        if (s_str (r, "id", true, rule->id, sizeof rule->id, true, prefix, err)
        ||  s_str (r, "type", true, rule->type, sizeof rule->type, true, prefix, err)
        ||  s_str (r, "counter", false, rule->counter, sizeof rule->counter, true, prefix, err)
        ||  s_str (r, "once_per", false, rule->once_per, sizeof rule->once_per, true, prefix, err)
        ||  s_int (r, "xp", 0, 100000, &xp, prefix, err))
            return -1;
        rule->xp = (int) xp;
        if (!td_event_type_valid (rule->type))
            return s_fail (err, "type", "a rule's type must be an event type such as grade.result");
        if (!strcmp (rule->type, TD_ANA_USAGE_TYPE))
            return s_fail (err, "type", "llm.usage is accounting, not learning: it earns no XP");
        for (size_t j = 0; j < i; j++)
            if (!strcmp (d->rules [j].id, rule->id))
                return s_fail (err, "id", "rule ids must be unique");
        const json_t *when = json_object_get (r, "when");
        if (when && !json_is_null (when)) {
            if (!json_is_object (when))
                return s_fail (err, "when", "a rule's when must be an object of data key to value");
            rule->when = json_incref ((json_t *) when);
        }
        d->rule_count++;
    }
    return 0;
}

static int
s_achievements (td_ana_defs_t *d, const json_t *arr, td_error_t *err)
{
    if (!json_is_array (arr) || json_array_size (arr) > TD_ANA_MAX_ACH)
        return s_fail (err, "achievements", "achievements must be an array of at most 256");
    for (size_t i = 0; i < json_array_size (arr); i++) {
        const json_t *a = json_array_get (arr, i);
        char prefix [48];
        snprintf (prefix, sizeof prefix, "achievements[%zu]", i);
        if (!json_is_object (a))
            return s_fail (err, prefix, "each achievement must be an object");
        td_ana_ach_t *ach = &d->ach [i];
        int64_t tier;
        if (s_str (a, "id", true, ach->id, sizeof ach->id, true, prefix, err)
        ||  s_str (a, "title", true, ach->title, sizeof ach->title, false, prefix, err)
        ||  s_str (a, "description", false, ach->description, sizeof ach->description, false,
                   prefix, err)
        ||  s_str (a, "metric", true, ach->metric, sizeof ach->metric, true, prefix, err)
        ||  s_int (a, "tier", 1, 9, &tier, prefix, err)
        ||  s_int (a, "threshold", 1, INT64_C (1000000000000), &ach->threshold, prefix, err))
            return -1;
        ach->tier = (int) tier;
        for (size_t j = 0; j < i; j++)
            if (!strcmp (d->ach [j].id, ach->id))
                return s_fail (err, "id", "achievement ids must be unique");
        //  The metric must be a figure that exists: a built-in one or a rule's counter.
        bool known = !strcmp (ach->metric, "xp") || !strcmp (ach->metric, "level")
                  || !strcmp (ach->metric, "streak") || !strcmp (ach->metric, "active_days");
        for (size_t j = 0; !known && j < d->rule_count; j++)
            known = !strcmp (d->rules [j].counter, ach->metric);
        if (!known) {
            char field [64];
            snprintf (field, sizeof field, "%s.metric", prefix);
            return s_fail (err, field, "an achievement's metric must be xp, level, streak, "
                                       "active_days or a rule's counter");
        }
        d->ach_count++;
    }
    return 0;
}

td_ana_defs_t *
td_ana_defs_parse (const json_t *body, td_error_t *err)
{
    if (!json_is_object (body)) {
        s_fail (err, "body", "the definitions must be an object");
        return NULL;
    }
    td_ana_defs_t *d = calloc (1, sizeof *d);
    if (!d) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    if (s_rules (d, json_object_get (body, "xp_rules"), err) != 0)
        goto fail;
    const json_t *levels = json_object_get (body, "levels");
    if (!json_is_array (levels) || json_array_size (levels) == 0
    ||  json_array_size (levels) > TD_ANA_MAX_LEVELS) {
        s_fail (err, "levels", "levels must be an array of 1 to 100 XP thresholds, the first 0");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size (levels); i++) {
        const json_t *v = json_array_get (levels, i);
        int64_t x = json_integer_value (v);
        if (!json_is_integer (v) || (i == 0 && x != 0) || (i > 0 && x <= d->levels [i - 1])) {
            s_fail (err, "levels", "levels must start at 0 and rise strictly");
            goto fail;
        }
        d->levels [d->level_count++] = x;
    }
    const json_t *streak = json_object_get (body, "streak");
    int64_t every = 0, max = 0;
    if (!json_is_object (streak)
    ||  s_int (streak, "freeze_every", 0, 366, &every, "streak", err)
    ||  s_int (streak, "freeze_max", 0, 366, &max, "streak", err)) {
        if (!json_is_object (streak))
            s_fail (err, "streak", "streak must be {freeze_every, freeze_max}");
        goto fail;
    }
    d->freeze_every = (int) every;
    d->freeze_max = (int) max;
    const json_t *heat = json_object_get (body, "heatmap");
    if (!json_is_array (heat) || json_array_size (heat) != 4) {
        s_fail (err, "heatmap", "heatmap must be 4 rising day counts for levels 1 to 4");
        goto fail;
    }
    for (int i = 0; i < 4; i++) {
        const json_t *v = json_array_get (heat, (size_t) i);
        int64_t x = json_integer_value (v);
        if (!json_is_integer (v) || x < 1 || x > 1000000 || (i > 0 && x <= d->heat [i - 1])) {
            s_fail (err, "heatmap", "heatmap must be 4 rising day counts for levels 1 to 4");
            goto fail;
        }
        d->heat [i] = (int) x;
    }
    if (s_achievements (d, json_object_get (body, "achievements"), err) != 0)
        goto fail;
    return d;
fail:
    td_ana_defs_destroy (&d);
    return NULL;
}

td_ana_defs_t *
td_ana_defs_load (const char *path, td_error_t *err)
{
    json_error_t jerr;
    json_t *root = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "%s: %s (line %d)", path, jerr.text,
                      jerr.line);
        return NULL;
    }
    const json_t *records = json_is_array (root)? root: json_object_get (root, "messages");
    const json_t *body = NULL;
    for (size_t i = 0; json_is_array (records) && i < json_array_size (records); i++) {
        const json_t *r = json_array_get (records, i);
        if (!strcmp (json_string_value (json_object_get (r, "service"))? : "", "analytics")
        &&  !strcmp (json_string_value (json_object_get (r, "type"))? : "", "definitions.set"))
            body = json_object_get (r, "body");
    }
    td_ana_defs_t *d = NULL;
    if (!body)
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                      "%s holds no analytics definitions.set record", path);
    else
        d = td_ana_defs_parse (body, err);
    json_decref (root);
    return d;
}

void
td_ana_defs_destroy (td_ana_defs_t **self_p)
{
    td_ana_defs_t *d = *self_p;
    if (!d)
        return;
    for (size_t i = 0; i < TD_ANA_MAX_RULES; i++)
        json_decref (d->rules [i].when);
    free (d);
    *self_p = NULL;
}

int
td_ana_level (const td_ana_defs_t *defs, int64_t xp)
{
    int level = 0;
    for (size_t i = 0; i < defs->level_count && xp >= defs->levels [i]; i++)
        level = (int) i + 1;
    return level < 1? 1: level;
}
