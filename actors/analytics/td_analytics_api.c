/*  td_analytics_api — the learner's own figures: stats, heatmap, achievements and settings
 *  (ANALYTICS.md §4), plus the helpers every analytics verb answers with.
 *
 *  These routes are the caller's own ("me"): a signed-in user; an API key or system has no such
 *  figures (403), anonymous 401. PostgreSQL builds the JSON of the stored figures; streaks are
 *  computed here from the day list (td_analytics_streak.c), in the learner's timezone, as of today
 *  or of the `as_of` day given.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_analytics.h"
#include "td_json.h"
#include "td_mp.h"

//  ---------------------------------------------------------------------------------------------
//  Helpers

int
td_ana_reply (td_call_t *call, int status, json_t *body)
{
    td_call_reply_json (call, status, body);
    return TD_ACTOR_OK;
}

int
td_ana_db_down (td_call_t *call)
{
    td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL, "analytics cannot reach its database now");
    return TD_ACTOR_OK;
}

td_principal_t *
td_ana_principal (td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p)
        td_call_error (call, err.code, *err.field? err.field: NULL, "%s", err.message);
    else
    if (td_principal_kind (p) == TD_PRINCIPAL_ANONYMOUS) {
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "sign in to see analytics");
        td_principal_destroy (&p);
    }
    return p;
}

bool
td_ana_user (td_call_t *call, td_principal_t *p, char *user, size_t size)
{
    if (td_principal_kind (p) != TD_PRINCIPAL_USER || !td_principal_user (p)
    ||  strlen (td_principal_user (p)) >= size) {
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "learner figures belong to a signed-in user");
        return false;
    }
    snprintf (user, size, "%s", td_principal_user (p));
    return true;
}

bool
td_ana_param (td_call_t *call, const char *key, char *buf, size_t size)
{
    return td_call_param (call, key, buf, size);
}

int
td_ana_int_param (td_call_t *call, const char *key, int64_t lo, int64_t hi, int64_t *value)
{
    const msgpack_object *o = td_mp_get (td_call_body (call), key);
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return 0;
    int64_t v = 0;
    if (td_mp_int (o, &v) && v >= lo && v <= hi) {
        *value = v;
        return 0;
    }
    char buf [24], *end = NULL;
    if (td_mp_strcpy (o, buf, sizeof buf) && *buf && (*buf != '-' || lo < 0)) {
        errno = 0;
        v = strtoll (buf, &end, 10);
        if (errno)
            end = NULL;
    }
    if (!end || *end || v < lo || v > hi) {
        td_call_error (call, TD_ERR_INVALID_INPUT, key, "%s must be an integer from %lld to %lld",
                       key, (long long) lo, (long long) hi);
        return -1;
    }
    *value = v;
    return 0;
}

bool
td_ana_org_admin (td_call_t *call, char *org, size_t size, const char *what)
{
    td_principal_t *p = td_ana_principal (call);
    if (!p)
        return false;
    bool visible = td_ana_param (call, "id", org, size) && td_principal_in_org (p, org);
    bool allowed = visible && (td_principal_is_org_admin (p, org) || td_principal_is_org_key (p, org));
    td_principal_destroy (&p);
    if (!visible)
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such org");
    else
    if (!allowed)
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "%s is for the org's admins", what);
    return allowed;
}

json_t *
td_ana_query_json (td_actor_t *actor, td_call_t *call, const char *sql, int n,
                   const char *const *params, bool *failed)
{
    *failed = false;
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call), sql, n, params);
    if (!res) {
        *failed = true;
        return NULL;
    }
    json_t *j = NULL;
    if (PQntuples (res) > 0 && !PQgetisnull (res, 0, 0)) {
        json_error_t jerr;
        j = json_loads (PQgetvalue (res, 0, 0), JSON_DECODE_ANY, &jerr);
        if (!j)
            *failed = true;
    }
    PQclear (res);
    return j;
}

//  A present query parameter that is not a string that fits is bad input; absent is fine.
static int
s_opt_param (td_call_t *call, const char *key, char *buf, size_t size, bool *present)
{
    const msgpack_object *o = td_mp_get (td_call_body (call), key);
    *present = o && o->type != MSGPACK_OBJECT_NIL;
    *buf = 0;
    if (*present && !td_mp_strcpy (o, buf, size)) {
        td_call_error (call, TD_ERR_INVALID_INPUT, key, "%s must be a short string", key);
        return -1;
    }
    return 0;
}

//  An optional date parameter "YYYY-MM-DD"; -1 after answering 400.
static int
s_date_param (td_call_t *call, const char *key, int32_t *day, bool *present)
{
    char buf [16];
    if (s_opt_param (call, key, buf, sizeof buf, present))
        return -1;
    if (*present && !td_ana_parse_date (buf, day)) {
        td_call_error (call, TD_ERR_INVALID_INPUT, key, "%s must be a date YYYY-MM-DD", key);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  The learner's figures, as one JSON object from PostgreSQL.

#define S_FIGURES_SQL \
    "SELECT json_build_object(" \
    "  'xp', coalesce (l.xp, 0), 'timezone', coalesce (l.timezone, 'UTC'), " \
    "  'longest', coalesce (l.longest_streak, 0), " \
    "  'first_at', l.first_at, 'last_at', l.last_at, " \
    "  'today', ((now () AT TIME ZONE coalesce (l.timezone, 'UTC'))::date - date '1970-01-01'), " \
    "  'counters', coalesce ((SELECT json_object_agg (name, value) FROM analytics_counters " \
    "                         WHERE user_id = x.u), '{}'), " \
    "  'days', coalesce ((SELECT json_agg (day - date '1970-01-01' ORDER BY day) " \
    "                     FROM analytics_days WHERE user_id = x.u), '[]'), " \
    "  'unlocks', coalesce ((SELECT json_object_agg (achievement, unlocked_at) " \
    "                        FROM analytics_unlocks WHERE user_id = x.u), '{}'))::text " \
    "FROM (SELECT $1::text AS u) x LEFT JOIN analytics_learners l ON l.user_id = x.u"

typedef struct {
    json_t *fig;                    //  the object above
    int32_t *days;
    size_t ndays;
    int32_t today;
    td_ana_streak_t streak;
} s_figures_t;

static void
s_figures_free (s_figures_t *f)
{
    json_decref (f->fig);
    free (f->days);
}

//  Load the figures and compute the streak as of as_of (or today). -1 after answering.
static int
s_figures (td_actor_t *self, td_call_t *call, const char *user, const int32_t *as_of,
           s_figures_t *f)
{
    memset (f, 0, sizeof *f);
    const char *p [] = { user };
    bool failed;
    f->fig = td_ana_query_json (self, call, S_FIGURES_SQL, 1, p, &failed);
    if (!f->fig)
        return td_ana_db_down (call), -1;
    const json_t *days = json_object_get (f->fig, "days");
    f->ndays = json_array_size (days);
    f->days = malloc ((f->ndays? f->ndays: 1) * sizeof *f->days);
    if (!f->days) {
        s_figures_free (f);
        td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < f->ndays; i++)
        f->days [i] = (int32_t) json_integer_value (json_array_get (days, i));
    f->today = as_of? *as_of: (int32_t) json_integer_value (json_object_get (f->fig, "today"));
    const td_ana_defs_t *d = td_ana_state (self)->defs;
    td_ana_streak (f->days, f->ndays, f->today, d->freeze_every, d->freeze_max, &f->streak);
    return 0;
}

static int64_t
s_metric (const s_figures_t *f, const char *metric, const td_ana_defs_t *d)
{
    int64_t xp = json_integer_value (json_object_get (f->fig, "xp"));
    if (!strcmp (metric, "xp"))
        return xp;
    if (!strcmp (metric, "level"))
        return td_ana_level (d, xp);
    if (!strcmp (metric, "streak")) {
        int64_t stored = json_integer_value (json_object_get (f->fig, "longest"));
        return stored > f->streak.longest? stored: f->streak.longest;
    }
    if (!strcmp (metric, "active_days"))
        return (int64_t) f->ndays;
    return json_integer_value (json_object_get (json_object_get (f->fig, "counters"), metric));
}

json_t *
td_ana_stats_json (td_actor_t *self, td_call_t *call, const char *user, const int32_t *as_of)
{
    s_figures_t f;
    if (s_figures (self, call, user, as_of, &f))
        return NULL;
    const td_ana_defs_t *d = td_ana_state (self)->defs;
    int64_t xp = json_integer_value (json_object_get (f.fig, "xp"));
    int level = td_ana_level (d, xp);
    char today [11];
    td_ana_format_date (f.today, today);
    bool active_today = false;
    for (size_t i = 0; !active_today && i < f.ndays; i++)
        active_today = f.days [i] == f.today;
    json_t *body = json_pack ("{s:s, s:O, s:I, s:i, s:I, s:o, s:s, s:{s:i, s:i, s:i, s:i, s:b},"
                              " s:i, s:O, s:i, s:O, s:O}",
        "user_id", user, "timezone", json_object_get (f.fig, "timezone"),
        "xp", (json_int_t) xp, "level", level,
        "level_xp", (json_int_t) d->levels [level - 1],
        "next_level_xp", (size_t) level < d->level_count?
            json_integer ((json_int_t) d->levels [level]): json_null (),
        "today", today,
        "streak", "current", f.streak.current, "longest", (int) s_metric (&f, "streak", d),
        "freezes", f.streak.freezes, "frozen_days", f.streak.frozen_days,
        "active_today", active_today,
        "active_days", (int) f.ndays,
        "counters", json_object_get (f.fig, "counters"),
        "achievements_unlocked", (int) json_object_size (json_object_get (f.fig, "unlocks")),
        "first_at", json_object_get (f.fig, "first_at"),
        "last_at", json_object_get (f.fig, "last_at"));
    s_figures_free (&f);
    if (!body)
        td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
    return body;
}

int
td_ana_stats (td_actor_t *self, td_call_t *call)
{
    char user [160];
    if (!td_call_user (call, user, sizeof user, "learner figures"))
        return TD_ACTOR_OK;
    int32_t as_of;
    bool has_as_of;
    if (s_date_param (call, "as_of", &as_of, &has_as_of))
        return TD_ACTOR_OK;
    json_t *body = td_ana_stats_json (self, call, user, has_as_of? &as_of: NULL);
    return body? td_ana_reply (call, 200, body): TD_ACTOR_OK;
}

json_t *
td_ana_achievements_json (td_actor_t *self, td_call_t *call, const char *user)
{
    s_figures_t f;
    if (s_figures (self, call, user, NULL, &f))
        return NULL;
    const td_ana_defs_t *d = td_ana_state (self)->defs;
    json_t *items = json_array ();
    size_t unlocked = 0;
    for (size_t i = 0; items && i < d->ach_count; i++) {
        const td_ana_ach_t *a = &d->ach [i];
        int64_t v = s_metric (&f, a->metric, d);
        const json_t *at = json_object_get (json_object_get (f.fig, "unlocks"), a->id);
        unlocked += at != NULL;
        int64_t shown = at? a->threshold: (v < a->threshold? v: a->threshold);
        json_array_append_new (items, json_pack ("{s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:i, s:b, s:O?}",
            "id", a->id, "tier", a->tier, "title", a->title, "description", a->description,
            "metric", a->metric, "threshold", (json_int_t) a->threshold,
            "progress", (json_int_t) shown,
            "percent", (int) (shown * 100 / a->threshold), "unlocked", at != NULL,
            "unlocked_at", at));
    }
    json_t *body = json_pack ("{s:o, s:i, s:i}", "items", items, "unlocked", (int) unlocked,
                              "total", (int) d->ach_count);
    s_figures_free (&f);
    if (!body)
        td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
    return body;
}

int
td_ana_achievements (td_actor_t *self, td_call_t *call)
{
    char user [160];
    if (!td_call_user (call, user, sizeof user, "learner figures"))
        return TD_ACTOR_OK;
    json_t *body = td_ana_achievements_json (self, call, user);
    return body? td_ana_reply (call, 200, body): TD_ACTOR_OK;
}

int
td_ana_heatmap (td_actor_t *self, td_call_t *call)
{
    char user [160];
    if (!td_call_user (call, user, sizeof user, "learner figures"))
        return TD_ACTOR_OK;
    int32_t from, to;
    bool has_from, has_to;
    if (s_date_param (call, "from", &from, &has_from) || s_date_param (call, "to", &to, &has_to))
        return TD_ACTOR_OK;
    const char *pu [] = { user };
    bool failed;
    json_t *tz = td_ana_query_json (self, call,
        "SELECT json_build_object('tz', coalesce (l.timezone, 'UTC'), 'today', "
        "  ((now () AT TIME ZONE coalesce (l.timezone, 'UTC'))::date - date '1970-01-01'))::text "
        "FROM (SELECT $1::text AS u) x LEFT JOIN analytics_learners l ON l.user_id = x.u",
        1, pu, &failed);
    if (!tz)
        return td_ana_db_down (call);
    if (!has_to)
        to = has_from? from + 364: (int32_t) json_integer_value (json_object_get (tz, "today"));
    if (!has_from)
        from = to - 364;
    if (from > to || to - from > 366) {
        json_decref (tz);
        td_call_error (call, TD_ERR_INVALID_INPUT, has_to? "to": "from",
                       "from must not be after to, and the span at most 367 days");
        return TD_ACTOR_OK;
    }
    char fs [11], ts [11];
    td_ana_format_date (from, fs);
    td_ana_format_date (to, ts);
    const char *pq [] = { user, fs, ts };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT (day - date '1970-01-01'), count, xp FROM analytics_days "
        "WHERE user_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day", 3, pq);
    if (!res) {
        json_decref (tz);
        return td_ana_db_down (call);
    }
    const td_ana_defs_t *d = td_ana_state (self)->defs;
    json_t *days = json_array ();
    int row = 0, rows = PQntuples (res), total = 0, active = 0;
    for (int32_t day = from; days && day <= to; day++) {
        int count = 0, xp = 0;
        if (row < rows && strtol (PQgetvalue (res, row, 0), NULL, 10) == day) {
            count = (int) strtol (PQgetvalue (res, row, 1), NULL, 10);
            xp = (int) strtol (PQgetvalue (res, row, 2), NULL, 10);
            row++;
        }
        char ds [11];
        td_ana_format_date (day, ds);
        total += count;
        active += count > 0;
        json_array_append_new (days, json_pack ("{s:s, s:i, s:i, s:i}", "date", ds, "count",
                                                count, "xp", xp, "level",
                                                td_ana_heat_level (count, d->heat)));
    }
    PQclear (res);
    json_t *body = json_pack ("{s:s, s:s, s:O, s:i, s:i, s:[iiii], s:o}", "from", fs, "to", ts,
                              "timezone", json_object_get (tz, "tz"), "total", total,
                              "active_days", active, "levels", d->heat [0], d->heat [1],
                              d->heat [2], d->heat [3], "days", days);
    json_decref (tz);
    return td_ana_reply (call, 200, body);
}

//  ---------------------------------------------------------------------------------------------
//  Settings: the learner's timezone

int
td_ana_settings_get (td_actor_t *self, td_call_t *call)
{
    char user [160];
    if (!td_call_user (call, user, sizeof user, "learner figures"))
        return TD_ACTOR_OK;
    const char *pu [] = { user };
    bool failed;
    json_t *j = td_ana_query_json (self, call,
        "SELECT json_build_object('timezone', coalesce (l.timezone, 'UTC'))::text "
        "FROM (SELECT $1::text AS u) x LEFT JOIN analytics_learners l ON l.user_id = x.u",
        1, pu, &failed);
    return j? td_ana_reply (call, 200, j): td_ana_db_down (call);
}

int
td_ana_settings_put (td_actor_t *self, td_call_t *call)
{
    char user [160];
    if (!td_call_user (call, user, sizeof user, "learner figures"))
        return TD_ACTOR_OK;
    const msgpack_object *body = td_mp_get (td_call_body (call), "body");
    if (!body || body->type != MSGPACK_OBJECT_MAP) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the body must be {\"timezone\"}");
        return TD_ACTOR_OK;
    }
    char tz [65];
    if (!td_mp_strcpy (td_mp_get (body, "timezone"), tz, sizeof tz) || !*tz) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "timezone",
                       "timezone must be an IANA name such as Europe/Berlin");
        return TD_ACTOR_OK;
    }
    const char *pt [] = { tz };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT 1 FROM pg_timezone_names WHERE name = $1", 1, pt);
    if (!res)
        return td_ana_db_down (call);
    bool known = PQntuples (res) == 1;
    PQclear (res);
    if (!known) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "timezone",
                       "timezone must be an IANA name such as Europe/Berlin");
        return TD_ACTOR_OK;
    }
    PGconn *conn = td_db_conn (td_actor_db (self));
    if (!conn || !td_ana_cmd (conn, "BEGIN"))
        return td_ana_db_down (call);
    const char *pu [] = { user, tz };
    res = td_ana_q (conn, "INSERT INTO analytics_learners (user_id, timezone) VALUES ($1, $2) "
                          "ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone",
                    2, pu);
    PQclear (res);
    if (!res || td_ana_recompute_days (self, conn, user) != 0 || !td_ana_cmd (conn, "COMMIT")) {
        td_ana_cmd (conn, "ROLLBACK");
        return td_ana_db_down (call);
    }
    return td_ana_reply (call, 200, json_pack ("{s:s}", "timezone", tz));
}
