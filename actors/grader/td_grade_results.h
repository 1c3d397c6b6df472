/*  td_grade_results — result.list: the feed of finished submissions, for consumers that must not
 *  miss one (the catalog's progress after a restart; GRADER.md §4).
 */
#ifndef TD_GRADE_RESULTS_H
#define TD_GRADE_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <libpq-fe.h>
#include "td_actor.h"

#define TD_RESULTS_MAX_LIMIT    500
#define TD_RESULTS_DEFAULT      100
#define TD_RESULTS_SETTLE_S     "1"     //  seconds a result waits before the feed serves it

//  The verb (system only).
int td_grade_result_list (td_actor_t *actor, td_call_t *call);

//  Cursor coding, exposed for tests: a cursor is opaque to callers; inside it is the finish time
//  (RFC 3339 with microseconds, as PostgreSQL prints it) and the submission id.
//  Encode into out (size >= 128); false when it does not fit.
bool td_results_cursor_encode (const char *finished_us, const char *id, char *out, size_t size);
//  Decode; false unless it is a cursor this grader made (shape checked, not trusted further).
bool td_results_cursor_decode (const char *cursor, char *finished_us, size_t fsize, char *id,
                               size_t isize);
//  One page of a feed: {key: list, "next": cursor of the last row (absent when there is no row),
//  "more": more}. The cursor is read from res's last row, columns time_col (finish time with
//  microseconds) and id_col; list is stolen (freed on failure; NULL gives NULL). NULL when out of
//  memory. res stays the caller's.
json_t *td_results_page (const char *key, json_t *list, const PGresult *res, int time_col,
                         int id_col, bool more);
//  True for an RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
bool td_results_rfc3339 (const char *s);

#endif
