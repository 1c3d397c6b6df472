/*  td_srs_common — the helpers every srs verb uses (td_srs.h): who calls, JSON in and out, card
 *  rows, settings, RFC 3339 times. Kept apart so each verb file holds only its own logic.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_access.h"
#include "td_call_json.h"
#include "td_json.h"
#include "td_mp.h"
#include "srs/td_srs.h"

bool
td_srs_user (td_call_t *call, char *user, size_t size)
{
    return td_call_user (call, user, size, "cards");
}

bool
td_srs_system (td_call_t *call, const char *verb, const char *who)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p) {
        td_call_error (call, err.code, *err.field? err.field: NULL, "%s", err.message);
        return false;
    }
    td_principal_kind_t kind = td_principal_kind (p);
    td_principal_destroy (&p);
    if (kind != TD_PRINCIPAL_SYSTEM)
        td_call_error (call, kind == TD_PRINCIPAL_ANONYMOUS? TD_ERR_UNAUTHORIZED: TD_ERR_FORBIDDEN,
                       NULL, "%s is for %s (system) only", verb, who);
    return kind == TD_PRINCIPAL_SYSTEM;
}

json_t *
td_srs_body (td_call_t *call)
{
    return td_call_body_json (call);
}

bool
td_srs_param (td_call_t *call, const char *key, char *buf, size_t size)
{
    return td_call_param (call, key, buf, size);
}

bool
td_srs_uuid (const char *s)
{
    return td_uuid_valid (s);
}

PGresult *
td_srs_exec (td_actor_t *self, const char *rid, td_srs_stmt_t stmt, const char *sql, int n,
             const char *const *params)
{
    td_srs_state_t *st = td_actor_state (self);
    td_db_t *db = td_actor_db (self);
    PGconn *conn = st && db? td_db_conn (db): NULL;
    if (!conn || PQstatus (conn) != CONNECTION_OK || PQtransactionStatus (conn) != PQTRANS_IDLE)
        return td_db_exec (db, rid, sql, n, params);
    if (st->prepared_on != conn) {                  //  a new connection: nothing prepared on it
        st->prepared_on = conn;
        st->prepared = 0;
    }
    char name [24];
    snprintf (name, sizeof name, "td_srs_%d", (int) stmt);
    uint32_t bit = 1u << stmt;
    if (!(st->prepared & bit)) {
        PGresult *p = PQprepare (conn, name, sql, n, NULL);
        bool ok = p && PQresultStatus (p) == PGRES_COMMAND_OK;
        PQclear (p);
        if (!ok)
            return td_db_exec (db, rid, sql, n, params);
        st->prepared |= bit;
    }
    PGresult *res = PQexecPrepared (conn, name, n, params, NULL, NULL, 0);
    ExecStatusType rs = res? PQresultStatus (res): PGRES_FATAL_ERROR;
    if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK)
        return res;
    //  Anything else (a constraint, a dropped statement, a broken connection): run it through
    //  td_db, which reports it the usual way. A failed statement changed nothing.
    const char *state = res? PQresultErrorField (res, PG_DIAG_SQLSTATE): NULL;
    if (!state || strcmp (state, "26000") == 0 || PQstatus (conn) != CONNECTION_OK)
        st->prepared = 0;
    PQclear (res);
    return td_db_exec (db, rid, sql, n, params);
}

int
td_srs_reply (td_call_t *call, int status, json_t *body)
{
    td_call_reply_json (call, status, body);
    return TD_ACTOR_OK;
}

int
td_srs_db_down (td_call_t *call)
{
    td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL,
                         "the srs actor cannot reach its database now; try again");
    return TD_ACTOR_OK;
}

bool
td_srs_deck (td_call_t *call, json_t *o, const char *def, const char **deck)
{
    json_t *v = json_object_get (o, "deck");
    if (!v) {
        *deck = def;
        return true;
    }
    const char *s = json_is_string (v)? json_string_value (v): NULL;
    size_t chars = 0;
    bool blank = true;
    for (const char *p = s; p && *p; p++) {
        chars += ((unsigned char) *p & 0xC0) != 0x80;
        blank = blank && isspace ((unsigned char) *p);
    }
    if (!s || blank || chars > TD_SRS_DECK_MAX || strlen (s) != json_string_length (v)) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "deck", "deck must be text of 1 to %d characters",
                       TD_SRS_DECK_MAX);
        return false;
    }
    *deck = s;
    return true;
}

//  ---------------------------------------------------------------------------------------------
//  Cards

void
td_srs_card_read (PGresult *res, int r, td_srs_card_t *c)
{
    memset (c, 0, sizeof *c);
    snprintf (c->id, sizeof c->id, "%s", PQgetvalue (res, r, 0));
    snprintf (c->deck, sizeof c->deck, "%s", PQgetvalue (res, r, 1));
    snprintf (c->kind, sizeof c->kind, "%s", PQgetvalue (res, r, 2));
    snprintf (c->item_id, sizeof c->item_id, "%s", PQgetvalue (res, r, 3));
    snprintf (c->sibling_group, sizeof c->sibling_group, "%s", PQgetvalue (res, r, 4));
    c->f.state = (td_fsrs_state_t) atoi (PQgetvalue (res, r, 5));
    c->f.step = atoi (PQgetvalue (res, r, 6));
    c->f.stability = strtod (PQgetvalue (res, r, 7), NULL);
    c->f.difficulty = strtod (PQgetvalue (res, r, 8), NULL);
    c->f.due = strtoll (PQgetvalue (res, r, 9), NULL, 10);
    c->f.last_review = strtoll (PQgetvalue (res, r, 10), NULL, 10);
    c->reps = atoi (PQgetvalue (res, r, 11));
    c->lapses = atoi (PQgetvalue (res, r, 12));
    c->created_at = strtoll (PQgetvalue (res, r, 13), NULL, 10);
}

json_t *
td_srs_card_row_json (PGresult *res, int r)
{
    td_srs_card_t c;
    td_srs_card_read (res, r, &c);
    return td_srs_card_json (&c, PQgetvalue (res, r, 14), PQgetvalue (res, r, 15));
}

json_t *
td_srs_card_json (const td_srs_card_t *c, const char *front, const char *back)
{
    char due [40], last [40], created [40];
    td_srs_time_format (c->f.due, due, sizeof due);
    td_srs_time_format (c->f.last_review, last, sizeof last);
    td_srs_time_format (c->created_at, created, sizeof created);
    bool has_memory = c->f.stability > 0;
    json_t *j = json_pack ("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s?, s:i, s:i}",
        "id", c->id, "deck", c->deck, "kind", c->kind,
        "state", td_fsrs_state_name (c->f.state),
        "step", c->f.step >= 0? json_integer (c->f.step): json_null (),
        "stability", has_memory? json_real (c->f.stability): json_null (),
        "difficulty", has_memory? json_real (c->f.difficulty): json_null (),
        "due", due, "last_review", c->f.last_review > 0? last: NULL,
        "reps", c->reps, "lapses", c->lapses);
    if (!j)
        return NULL;
    if (c->created_at > 0)
        json_object_set_new (j, "created_at", json_string (created));
    json_object_set_new (j, "item_id", *c->item_id? json_string (c->item_id): json_null ());
    if (front)
        json_object_set_new (j, "front", json_string (front));
    if (back)
        json_object_set_new (j, "back", json_string (back));
    return j;
}

bool
td_srs_card_load (td_actor_t *self, td_call_t *call, const char *user, const char *id,
                  td_srs_card_t *card)
{
    if (!td_srs_uuid (id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such card");
        return false;
    }
    const char *params [] = { user, id };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT " TD_SRS_CARD_COLS " FROM srs_cards c WHERE c.user_id = $1 AND c.id = $2::uuid",
        2, params);
    if (!res) {
        td_srs_db_down (call);
        return false;
    }
    bool found = PQntuples (res) == 1;
    if (found)
        td_srs_card_read (res, 0, card);
    else
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such card");
    PQclear (res);
    return found;
}

//  ---------------------------------------------------------------------------------------------
//  Settings

//  "60,600" into steps; the count, or -1 when malformed.
static int
s_steps_parse (const char *text, int32_t *steps)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long v = strtol (p, &end, 10);
        if (end == p || n >= TD_FSRS_MAX_STEPS)
            return -1;
        steps [n++] = (int32_t) v;
        p = *end == ','? end + 1: end;
        if (*end && *end != ',')
            return -1;
    }
    return n;
}

void
td_srs_settings_from_row (PGresult *res, int r, int col, td_srs_settings_t *s)
{
    memset (s, 0, sizeof *s);
    td_fsrs_params_default (&s->fsrs);
    s->new_per_day = 20;
    snprintf (s->timezone, sizeof s->timezone, "UTC");
    if (!res || r >= PQntuples (res) || PQgetisnull (res, r, col))
        return;                                     //  no row: the defaults
    s->fsrs.desired_retention = strtod (PQgetvalue (res, r, col), NULL);
    int n = s_steps_parse (PQgetvalue (res, r, col + 1), s->fsrs.learning_steps);
    s->fsrs.n_learning_steps = n < 0? 0: n;
    n = s_steps_parse (PQgetvalue (res, r, col + 2), s->fsrs.relearning_steps);
    s->fsrs.n_relearning_steps = n < 0? 0: n;
    s->fsrs.maximum_interval = atoi (PQgetvalue (res, r, col + 3));
    s->fsrs.enable_fuzzing = strcmp (PQgetvalue (res, r, col + 4), "true") == 0;
    s->new_per_day = atoi (PQgetvalue (res, r, col + 5));
    snprintf (s->timezone, sizeof s->timezone, "%s", PQgetvalue (res, r, col + 6));
    const char *w = PQgetvalue (res, r, col + 7);
    if (*w) {
        td_fsrs_params_t fitted = s->fsrs;
        int k = 0;
        for (const char *p = w; *p && k < TD_FSRS_WEIGHTS; k++) {
            char *end;
            fitted.w [k] = strtod (p, &end);
            if (end == p)
                break;
            p = *end == ','? end + 1: end;
        }
        //  Fitted weights are used only when complete and in bounds.
        if (k == TD_FSRS_WEIGHTS && td_fsrs_params_check (&fitted, NULL) == 0) {
            s->fsrs = fitted;
            s->custom_weights = true;
        }
    }
    if (td_fsrs_params_check (&s->fsrs, NULL) != 0) {
        td_fsrs_params_t keep = s->fsrs;            //  a row the checks of settings.put let by
        td_fsrs_params_default (&s->fsrs);
        s->fsrs.enable_fuzzing = keep.enable_fuzzing;
        s->custom_weights = false;
    }
}

bool
td_srs_settings_load (td_actor_t *self, const char *rid, const char *user, td_srs_settings_t *s)
{
    const char *params [] = { user };
    PGresult *res = td_db_exec (td_actor_db (self), rid,
        "SELECT " TD_SRS_SETTINGS_COLS " FROM srs_settings s WHERE s.user_id = $1", 1, params);
    td_srs_settings_from_row (res, 0, 0, s);
    if (!res)
        return false;
    PQclear (res);
    return true;
}

json_t *
td_srs_settings_json (const td_srs_settings_t *s)
{
    json_t *ls = json_array (), *rs = json_array (), *w = json_array ();
    for (int i = 0; i < s->fsrs.n_learning_steps; i++)
        json_array_append_new (ls, json_integer (s->fsrs.learning_steps [i]));
    for (int i = 0; i < s->fsrs.n_relearning_steps; i++)
        json_array_append_new (rs, json_integer (s->fsrs.relearning_steps [i]));
    for (int i = 0; i < TD_FSRS_WEIGHTS; i++)
        json_array_append_new (w, json_real (s->fsrs.w [i]));
    return json_pack ("{s:f, s:o, s:o, s:i, s:b, s:i, s:s, s:o, s:b}",
        "desired_retention", s->fsrs.desired_retention, "learning_steps", ls,
        "relearning_steps", rs, "maximum_interval", s->fsrs.maximum_interval,
        "enable_fuzzing", s->fsrs.enable_fuzzing, "new_per_day", s->new_per_day,
        "timezone", s->timezone, "weights", w, "weights_fitted", s->custom_weights);
}

//  ---------------------------------------------------------------------------------------------
//  Times

int64_t
td_srs_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
td_srs_time_format (int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t) (ms >= 0? ms / 1000: (ms - 999) / 1000);
    int frac = (int) (ms - (int64_t) secs * 1000);
    struct tm tm;
    if (!gmtime_r (&secs, &tm)) {
        snprintf (buf, size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static bool
s_digits (const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit ((unsigned char) s [i]))
            return false;
        v = v * 10 + (s [i] - '0');
    }
    *out = v;
    return true;
}

bool
td_srs_time_parse (const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec;
    if (strlen (s) < 20 || strlen (s) > 40)
        return false;
    if (!s_digits (s, 4, &y) || s [4] != '-' || !s_digits (s + 5, 2, &mo) || s [7] != '-'
    ||  !s_digits (s + 8, 2, &d) || (s [10] != 'T' && s [10] != 't' && s [10] != ' ')
    ||  !s_digits (s + 11, 2, &h) || s [13] != ':' || !s_digits (s + 14, 2, &mi)
    ||  s [16] != ':' || !s_digits (s + 17, 2, &sec))
        return false;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
    ||  sec > 60)
        return false;
    static const int mdays [] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays [mo - 1] || (mo == 2 && d == 29 && !leap))
        return false;
    const char *p = s + 19;
    int frac_ms = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit ((unsigned char) *p)) {
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return false;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else
    if (*p == '+' || *p == '-') {
        int oh, om;
        if (!s_digits (p + 1, 2, &oh) || p [3] != ':' || !s_digits (p + 4, 2, &om) || oh > 23
        ||  om > 59)
            return false;
        offset = (oh * 60 + om) * 60 * (*p == '+'? 1: -1);
        p += 6;
    }
    else
        return false;
    if (*p)
        return false;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = mi, .tm_sec = sec > 59? 59: sec };
    time_t t = timegm (&tm);
    *ms = ((int64_t) t - offset) * 1000 + frac_ms;
    return true;
}
