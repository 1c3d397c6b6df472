/*  td_grade_limits — an exercise's own sandbox limits (issue 5: "limits per item").
 *
 *  An exercise item's content may carry `limits` {"cpu_ms", "wall_ms", "memory_mb", "processes",
 *  "output_kb", "file_kb"}, every key optional. The grader applies them instead of the defaults
 *  (td_limits_default: CPU 2 s, wall 5 s, 256 MiB, 64 processes, 64 KiB per stream, 1 MiB of
 *  files), never above the configured maxima (td_grade_limits_max). An inline submission may
 *  lower a limit but never raise one above the default (the learner does not choose the box's
 *  size). The catalog validates an item's limits with the same parser, so both sides agree.
 */
#ifndef TD_GRADE_LIMITS_H
#define TD_GRADE_LIMITS_H

#include <jansson.h>
#include <stdbool.h>
#include "td_error.h"
#include "td_sandbox.h"

//  The maxima, read from the environment at each call (cheap; never written by us):
//  TUTORD_GRADER_MAX_CPU_MS (default 10000), _WALL_MS (20000), _MEMORY_MB (1024), _PROCESSES
//  (256), _OUTPUT_KB (1024), _FILE_KB (16384); a value the sandbox cannot take is brought into
//  its range (td_sbx_spec_check's), a value that is not a number is ignored.
void td_grade_limits_max (td_limits_t *max);

//  Apply a `limits` object onto *limits (keys missing keep their value). Each value is a whole
//  number from its minimum (cpu_ms, wall_ms 100; memory_mb 16; processes, output_kb, file_kb 1).
//  Above the maximum in *max: brought down to it when clamp, else refused. 0, or -1 with err
//  (invalid_input, field "limits" or "limits.<key>"): not an object, an unknown key, a value
//  that is not a whole number, below its minimum, or above the maximum without clamp.
//  obj NULL or JSON null: nothing to apply, 0.
int td_grade_limits_apply (const json_t *obj, const td_limits_t *max, bool clamp,
                           td_limits_t *limits, td_error_t *err);

//  The limits as the `limits` object above (for a stored submission and for its result).
json_t *td_grade_limits_json (const td_limits_t *limits);

#endif
