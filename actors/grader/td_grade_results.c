/*  td_grade_results — result.list {since?, limit?} -> {results, next, more} (system only).
 *
 *  Why: grade.result events are best-effort (PUB/SUB drops for slow subscribers, and nobody
 *  hears them while the catalog is down), yet progress must count every pass. So the table is
 *  the feed: finished submissions ordered by (finished_at, id), which is a total order, read in
 *  pages after a cursor. A consumer stores `next` and asks again from it; it sees every finished
 *  submission exactly once in that order, whatever restarted in between.
 *
 *  A row's finished_at is its transaction's time, and transactions commit in another order than
 *  they start: a row stamped t1 may become visible after one stamped t2 > t1 was served, and a
 *  cursor past t2 would skip it for ever. So the feed serves only rows finished more than
 *  TD_RESULTS_SETTLE_S seconds ago (a finishing UPDATE commits within milliseconds); live
 *  consumers have the grade.result events meanwhile.
 *
 *  since: absent (from the start), an RFC 3339 time (finished at or after it), or a cursor from
 *  an earlier `next`. The cursor is base64url of "<finished_at with microseconds>|<id>", so it
 *  is exact where milliseconds would not be. Subjective answers enter the feed when graded.
 */
#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_access.h"
#include "td_grade_results.h"
#include "td_json.h"
#include "td_mp.h"

#define NIL_UUID "00000000-0000-0000-0000-000000000000"

bool
td_results_rfc3339 (const char *s)
{
    //  digits at these places, these separators; then an optional fraction and the zone
    static const char shape [] = "dddd-dd-ddTdd:dd:dd";
    size_t n = strlen (s);
    if (n < sizeof shape - 1 + 1 || n > 40)
        return false;
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape [i] == 'd'? !isdigit ((unsigned char) s [i]): s [i] != shape [i])
            return false;
    const char *p = s + sizeof shape - 1;
    if (*p == '.') {
        p++;
        if (!isdigit ((unsigned char) *p))
            return false;
        while (isdigit ((unsigned char) *p))
            p++;
    }
    if (*p == 'Z')
        return p [1] == 0;
    return (*p == '+' || *p == '-') && isdigit ((unsigned char) p [1]) && isdigit ((unsigned char) p [2])
        && p [3] == ':' && isdigit ((unsigned char) p [4]) && isdigit ((unsigned char) p [5]) && p [6] == 0;
}

static bool
s_uuid (const char *s)
{
    return td_uuid_valid (s);
}

bool
td_results_cursor_encode (const char *finished_us, const char *id, char *out, size_t size)
{
    char raw [128];
    int n = snprintf (raw, sizeof raw, "%s|%s", finished_us, id);
    if (n < 0 || (size_t) n >= sizeof raw
    ||  sodium_base64_ENCODED_LEN ((size_t) n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > size)
        return false;
    sodium_bin2base64 (out, size, (const unsigned char *) raw, (size_t) n,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return true;
}

json_t *
td_results_page (const char *key, json_t *list, const PGresult *res, int time_col, int id_col,
                 bool more)
{
    if (!list)
        return NULL;
    int rows = PQntuples (res);
    char next [200] = "";
    if (rows > 0
    &&  !td_results_cursor_encode (PQgetvalue (res, rows - 1, time_col),
                                   PQgetvalue (res, rows - 1, id_col), next, sizeof next))
        next [0] = 0;
    return json_pack ("{s:o, s:s?, s:b}", key, list, "next", *next? next: NULL, "more", more);
}

bool
td_results_cursor_decode (const char *cursor, char *finished_us, size_t fsize, char *id,
                          size_t isize)
{
    unsigned char raw [128];
    size_t len = 0;
    if (!cursor || strlen (cursor) > 160
    ||  sodium_base642bin (raw, sizeof raw - 1, cursor, strlen (cursor), NULL, &len, NULL,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    raw [len] = 0;
    char *bar = strchr ((char *) raw, '|');
    if (!bar || memchr (raw, 0, len))
        return false;
    *bar = 0;
    if (!td_results_rfc3339 ((char *) raw) || !s_uuid (bar + 1)
    ||  strlen ((char *) raw) >= fsize || strlen (bar + 1) >= isize)
        return false;
    snprintf (finished_us, fsize, "%s", (char *) raw);
    snprintf (id, isize, "%s", bar + 1);
    return true;
}

static int
s_fail (td_call_t *call, td_errcode_t code, const char *field, const char *why)
{
    td_call_error (call, code, field, "%s", why);
    return TD_ACTOR_OK;
}

int
td_grade_result_list (td_actor_t *actor, td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    bool system = p && td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
    td_principal_destroy (&p);
    if (!system)
        return s_fail (call, TD_ERR_FORBIDDEN, NULL, "result.list is for trusted services (system) only");
    const msgpack_object *body = td_call_body (call);
    //  limit: an integer, or a string holding one (tutorctl and query strings send strings)
    int64_t limit = TD_RESULTS_DEFAULT;
    const msgpack_object *lo = td_mp_get (body, "limit");
    if (lo && lo->type != MSGPACK_OBJECT_NIL) {
        char text [24];
        char *end = NULL;
        if (!td_mp_int (lo, &limit)) {
            if (!td_mp_strcpy (lo, text, sizeof text) || !*text)
                limit = -1;
            else {
                limit = strtoll (text, &end, 10);
                if (*end)
                    limit = -1;
            }
        }
        if (limit < 1 || limit > TD_RESULTS_MAX_LIMIT)
            return s_fail (call, TD_ERR_INVALID_INPUT, "limit", "limit must be a whole number from 1 to 500");
    }
    char since [200] = "", after [64] = "1970-01-01T00:00:00Z", after_id [40] = NIL_UUID;
    const msgpack_object *so = td_mp_get (body, "since");
    if (so && so->type != MSGPACK_OBJECT_NIL) {
        if (!td_mp_strcpy (so, since, sizeof since))
            return s_fail (call, TD_ERR_INVALID_INPUT, "since",
                           "since must be an RFC 3339 time or a cursor from next");
        if (td_results_rfc3339 (since))
            snprintf (after, sizeof after, "%.40s", since);     //  at most 40 bytes
        else
        if (!td_results_cursor_decode (since, after, sizeof after, after_id, sizeof after_id))
            return s_fail (call, TD_ERR_INVALID_INPUT, "since",
                           "since must be an RFC 3339 time or a cursor from next");
    }
    char lim [24];
    snprintf (lim, sizeof lim, "%lld", (long long) limit);
    const char *params [] = { after, after_id, lim };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT id::text, user_id, org_id, item_id, kind, verdict, passed, score,"
        " to_char (finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        " to_char (finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        " FROM grader_submissions WHERE status = 'done' AND finished_at IS NOT NULL"
        " AND finished_at < now () - make_interval (secs => " TD_RESULTS_SETTLE_S ")"
        " AND (finished_at, id) > ($1::timestamptz, $2::uuid)"
        " ORDER BY finished_at, id LIMIT $3::int", 3, params);
    if (!res) {
        //  a bad time PostgreSQL refuses (month 13) is the caller's; anything else is ours
        bool bad = strncmp (td_db_last_sqlstate (td_actor_db (actor)), "22", 2) == 0;
        return s_fail (call, bad? TD_ERR_INVALID_INPUT: TD_ERR_UNAVAILABLE, bad? "since": NULL,
                       bad? "since is not a valid time": "results cannot be read now");
    }
    json_t *list = json_array ();
    int rows = PQntuples (res);
    for (int i = 0; list && i < rows; i++) {
        json_t *r = json_pack ("{s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:b, s:f, s:s}",
            "submission_id", PQgetvalue (res, i, 0),
            "user_id", PQgetisnull (res, i, 1)? NULL: PQgetvalue (res, i, 1),
            "org_id", PQgetisnull (res, i, 2)? NULL: PQgetvalue (res, i, 2),
            "item_id", PQgetisnull (res, i, 3)? NULL: PQgetvalue (res, i, 3),
            "kind", PQgetvalue (res, i, 4),
            "verdict", PQgetisnull (res, i, 5)? NULL: PQgetvalue (res, i, 5),
            "passed", strcmp (PQgetvalue (res, i, 6), "t") == 0,
            "score", PQgetisnull (res, i, 7)? 0.0: atof (PQgetvalue (res, i, 7)),
            "finished_at", PQgetvalue (res, i, 8));
        if (!r || json_array_append_new (list, r) != 0) {
            json_decref (list);
            list = NULL;
        }
    }
    json_t *reply = td_results_page ("results", list, res, 9, 0, rows == (int) limit);
    PQclear (res);
    if (!reply)
        return s_fail (call, TD_ERR_INTERNAL, NULL, "the results could not be encoded");
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    if (td_json_to_mp (reply, &pk, &err) == 0)
        td_call_reply (call, 200, buf.data, buf.size);
    else
        td_call_error (call, TD_ERR_INTERNAL, NULL, "the results could not be encoded");
    msgpack_sbuffer_destroy (&buf);
    json_decref (reply);
    return TD_ACTOR_OK;
}
