/*  td_grade_limits — parse and bound an exercise's own limits (see td_grade_limits.h).
 *
 *  One table says, per key, its minimum, the default maximum, the sandbox's own ceiling
 *  (td_sbx_spec_check refuses more) and its unit in td_limits_t, so parse, maxima and the JSON
 *  form cannot disagree.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_grade_limits.h"

typedef enum { L_CPU = 0, L_WALL, L_MEMORY, L_PROCESSES, L_OUTPUT, L_FILE, L__COUNT } s_key_t;

static const struct {
    const char *name;               //  JSON key
    const char *env;                //  the maximum's variable
    uint64_t min;                   //  in the key's own unit
    uint64_t max_default;
    uint64_t ceiling;               //  what the sandbox accepts at most
} s_keys [L__COUNT] = {
    [L_CPU]       = { "cpu_ms",    "TUTORD_GRADER_MAX_CPU_MS",    100, 10000,  60000 },
    [L_WALL]      = { "wall_ms",   "TUTORD_GRADER_MAX_WALL_MS",   100, 20000,  120000 },
    [L_MEMORY]    = { "memory_mb", "TUTORD_GRADER_MAX_MEMORY_MB", 16,  1024,   16384 },
    [L_PROCESSES] = { "processes", "TUTORD_GRADER_MAX_PROCESSES", 1,   256,    4096 },
    [L_OUTPUT]    = { "output_kb", "TUTORD_GRADER_MAX_OUTPUT_KB", 1,   1024,   65536 },
    [L_FILE]      = { "file_kb",   "TUTORD_GRADER_MAX_FILE_KB",   1,   16384,  1048576 },
};

static uint64_t
s_get (const td_limits_t *l, s_key_t k)
{
    switch (k) {
        case L_CPU:       return l->cpu_ms;
        case L_WALL:      return l->wall_ms;
        case L_MEMORY:    return l->memory_kb / 1024;
        case L_PROCESSES: return l->processes;
        case L_OUTPUT:    return l->output_bytes / 1024;
        case L_FILE:      return l->file_bytes / 1024;
        default:          return 0;
    }
}

static void
s_set (td_limits_t *l, s_key_t k, uint64_t v)
{
    switch (k) {
        case L_CPU:       l->cpu_ms = (uint32_t) v; break;
        case L_WALL:      l->wall_ms = (uint32_t) v; break;
        case L_MEMORY:    l->memory_kb = v * 1024; break;
        case L_PROCESSES: l->processes = (uint32_t) v; break;
        case L_OUTPUT:    l->output_bytes = (size_t) v * 1024; break;
        case L_FILE:      l->file_bytes = (size_t) v * 1024; break;
        default:          break;
    }
}

void
td_grade_limits_max (td_limits_t *max)
{
    td_limits_default (max);
    for (int k = 0; k < L__COUNT; k++) {
        uint64_t v = s_keys [k].max_default;
        const char *text = getenv (s_keys [k].env);
        if (text && *text) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull (text, &end, 10);
            if (errno == 0 && end && *end == 0 && text [0] != '-')
                v = n < s_keys [k].min? s_keys [k].min
                  : n > s_keys [k].ceiling? s_keys [k].ceiling: (uint64_t) n;
        }
        s_set (max, (s_key_t) k, v);
    }
}

int
td_grade_limits_apply (const json_t *obj, const td_limits_t *max, bool clamp, td_limits_t *limits,
                       td_error_t *err)
{
    if (!obj || json_is_null (obj))
        return 0;
    if (!json_is_object (obj))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "limits",
                             "limits must be an object {cpu_ms, wall_ms, memory_mb, processes, "
                             "output_kb, file_kb}");
    td_limits_t out = *limits;
    const char *key;
    const json_t *value;
    json_object_foreach ((json_t *) obj, key, value) {
        int k = 0;
        while (k < L__COUNT && strcmp (key, s_keys [k].name) != 0)
            k++;
        char field [48];
        snprintf (field, sizeof field, "limits.%.30s", key);
        if (k == L__COUNT)
            return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                                 "unknown limit; one of cpu_ms, wall_ms, memory_mb, processes, "
                                 "output_kb, file_kb");
        double d = json_is_integer (value)? (double) json_integer_value (value)
                 : json_is_real (value)? json_real_value (value): NAN;
        if (!isfinite (d) || d != floor (d) || d < (double) s_keys [k].min)
            return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                                 "%s must be a whole number of at least %llu", field,
                                 (unsigned long long) s_keys [k].min);
        uint64_t top = s_get (max, (s_key_t) k);
        uint64_t v = d > (double) top? top + 1: (uint64_t) d;
        if (v > top) {
            if (!clamp)
                return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                                     "%s may be at most %llu", field, (unsigned long long) top);
            v = top;
        }
        s_set (&out, (s_key_t) k, v);
    }
    *limits = out;
    return 0;
}

json_t *
td_grade_limits_json (const td_limits_t *limits)
{
    json_t *obj = json_object ();
    for (int k = 0; obj && k < L__COUNT; k++)
        if (json_object_set_new (obj, s_keys [k].name,
                                 json_integer ((json_int_t) s_get (limits, (s_key_t) k))) != 0) {
            json_decref (obj);
            return NULL;
        }
    return obj;
}
