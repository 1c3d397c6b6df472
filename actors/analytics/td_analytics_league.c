/*  td_analytics_league — weekly leagues (ANALYTICS.md §3 "Leagues"): groups of learners of one
 *  org and tier who compete on the XP they earn in a week; at the week's end the top of each group
 *  is promoted a tier and the bottom demoted, exactly once.
 *
 *  - **Week**: the ISO week in UTC (Monday 00:00 to Monday 00:00), for every learner of every
 *    org: a group must end at one instant for all its members, which a learner's own timezone
 *    cannot give, and analytics knows no org timezone (the boards' week is the same).
 *  - **Joining**: a learner joins the week's league of an org with their first XP-earning event
 *    of that week tagged with the org, in their current tier (analytics_league_tiers, 0 bronze ..
 *    4 diamond), in the group of that tier being filled: join order, groups of `size`
 *    (TUTORD_ANALYTICS_LEAGUE_SIZE, default 30). Join order keeps friends who start together
 *    together and needs no reshuffle; XP tiers keep strong and new learners apart.
 *    Events of a closed week, or older than the previous week, join nothing (history is not
 *    competition).
 *  - **Close**: once a week has ended (the tick, every 10 s, or `league.close {now}` for a
 *    controllable clock), each group is ranked by XP (ties: who joined first); the top `promote`
 *    (default 7) with XP > 0 go up a tier (not past 4), the bottom `demote` (default 5) who were
 *    not promoted go down (not below 0). The close of an (org, week) is one transaction that
 *    starts by inserting its row into analytics_league_weeks: a second close (the tick is
 *    at-least-once, restarts, two processes) finds the row and does nothing. Each member gets an
 *    `analytics.league` event {org_id, week, tier_before, tier, outcome, rank, size, group, xp},
 *    logged with the close and published after COMMIT.
 *  - **Rebuild** keeps closed weeks and tiers (decisions already announced) and rebuilds the
 *    memberships of open weeks from the log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "td_analytics.h"
#include "td_call_json.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"

#define LOG "analytics"

static const char *s_tiers [] = { "bronze", "silver", "gold", "platinum", "diamond" };
#define TOP_TIER 4

const char *
td_ana_tier_name (int tier)
{
    return tier >= 0 && tier <= TOP_TIER? s_tiers [tier]: "unknown";
}

const char *
td_ana_league_zone (int64_t pos, int64_t n, int64_t xp, int tier, int promote, int demote)
{
    if (pos <= promote && xp > 0 && tier < TOP_TIER)
        return "promoted";
    if (pos > n - demote && pos > promote && tier > 0)
        return "demoted";
    return "stayed";
}

int32_t
td_ana_week_of (int64_t ms)
{
    int32_t day = (int32_t) (ms >= 0? ms / 86400000: (ms - 86399999) / 86400000);
    return day - ((day + 3) % 7 + 7) % 7;       //  1970-01-01 was a Thursday
}

static int
s_env_int (const char *name, int def, int lo, int hi, int *out)
{
    const char *v = getenv (name);
    *out = def;
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol (v, &end, 10);
    if (errno || *end || n < lo || n > hi) {
        td_error (LOG, NULL, "%s must be %d to %d", name, lo, hi);
        return -1;
    }
    *out = (int) n;
    return 0;
}

int
td_ana_league_config (td_ana_state_t *st)
{
    return s_env_int ("TUTORD_ANALYTICS_LEAGUE_SIZE", 30, 2, 1000, &st->league_size)
        || s_env_int ("TUTORD_ANALYTICS_LEAGUE_PROMOTE", 7, 0, 1000, &st->league_promote)
        || s_env_int ("TUTORD_ANALYTICS_LEAGUE_DEMOTE", 5, 0, 1000, &st->league_demote)
        ? -1: 0;
}

int
td_ana_league_add (td_actor_t *actor, PGconn *conn, const char *org, const char *user,
                   const char *time, int64_t gained)
{
    td_ana_state_t *st = td_ana_state (actor);
    char oldest [11], size [16], xp [24];
    int32_t now_week = td_ana_week_of (td_now_ms ());
    td_ana_format_date (now_week - 7, oldest);
    snprintf (size, sizeof size, "%d", st->league_size);
    snprintf (xp, sizeof xp, "%lld", (long long) gained);
    const char *p [] = { org, user, time, xp, size, oldest };
    //  A member already: add the XP. Else join: the tier's fill counter gives the place (group =
    //  place / size), one indexed upsert rather than a count of the tier.
    PGresult *res = td_ana_q (conn,
        "WITH wk AS (SELECT date_trunc ('week', $3::timestamptz AT TIME ZONE 'UTC')::date AS week), "
        "open AS (SELECT wk.week FROM wk WHERE wk.week >= $6::date AND NOT EXISTS ("
        "    SELECT 1 FROM analytics_league_weeks w WHERE w.org_id = $1 AND w.week = wk.week)), "
        "up AS (UPDATE analytics_league_members m SET xp = m.xp + $4::bigint FROM open "
        "    WHERE m.org_id = $1 AND m.week = open.week AND m.user_id = $2 RETURNING 1), "
        "tr AS (SELECT coalesce ((SELECT tier FROM analytics_league_tiers "
        "    WHERE org_id = $1 AND user_id = $2), 0) AS tier), "
        "fill AS (INSERT INTO analytics_league_fill AS f (org_id, week, tier, n) "
        "    SELECT $1, open.week, tr.tier, 1 FROM open, tr WHERE NOT EXISTS (SELECT 1 FROM up) "
        "    ON CONFLICT (org_id, week, tier) DO UPDATE SET n = f.n + 1 RETURNING f.n - 1 AS place) "
        "INSERT INTO analytics_league_members AS m (org_id, week, user_id, tier, grp, joined, xp) "
        "SELECT $1, open.week, $2, tr.tier, fill.place / $5::int, fill.place, $4::bigint "
        "FROM open, tr, fill "
        "ON CONFLICT (org_id, week, user_id) DO UPDATE SET xp = m.xp + excluded.xp", 6, p);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
td_ana_league_close (td_actor_t *actor, int32_t today, int *weeks, int *members)
{
    td_ana_state_t *st = td_ana_state (actor);
    *weeks = *members = 0;
    PGconn *conn = td_db_conn (td_actor_db (actor));
    if (!conn || !td_ana_cmd (conn, "BEGIN"))
        return -1;
    char week [11];
    td_ana_format_date (td_ana_week_of ((int64_t) today * 86400000), week);
    const char *p [] = { week };
    //  The weeks that ended before this one and are not closed yet: claimed here, once.
    PGresult *res = td_ana_q (conn,
        "WITH due AS (SELECT DISTINCT m.org_id, m.week FROM analytics_league_members m "
        "             WHERE m.outcome IS NULL AND m.week < $1::date), "
        "closed AS (INSERT INTO analytics_league_weeks (org_id, week) SELECT org_id, week FROM due "
        "           ON CONFLICT DO NOTHING RETURNING org_id, week) "
        "SELECT m.org_id, m.user_id, to_char (m.week, 'YYYY-MM-DD'), m.tier, m.grp, m.xp, "
        "  row_number () OVER g, count (*) OVER (PARTITION BY m.org_id, m.week, m.tier, m.grp), "
        "  (SELECT count (*) FROM closed) "
        "FROM analytics_league_members m JOIN closed c ON c.org_id = m.org_id AND c.week = m.week "
        "WINDOW g AS (PARTITION BY m.org_id, m.week, m.tier, m.grp ORDER BY m.xp DESC, m.joined) "
        "ORDER BY 1, 3, 4, 5, 7", 1, p);
    if (!res) {
        td_ana_cmd (conn, "ROLLBACK");
        return -1;
    }
    json_t *rows = json_array (), *out = json_array ();
    int n = PQntuples (res);
    bool ok = rows && out;
    for (int i = 0; ok && i < n; i++) {
        int tier = atoi (PQgetvalue (res, i, 3));
        int64_t xp = strtoll (PQgetvalue (res, i, 5), NULL, 10);
        int64_t pos = strtoll (PQgetvalue (res, i, 6), NULL, 10);
        int64_t size = strtoll (PQgetvalue (res, i, 7), NULL, 10);
        const char *outcome = td_ana_league_zone (pos, size, xp, tier, st->league_promote,
                                                  st->league_demote);
        int now_tier = tier + (!strcmp (outcome, "promoted")? 1: !strcmp (outcome, "demoted")? -1: 0);
        const char *org = PQgetvalue (res, i, 0), *user = PQgetvalue (res, i, 1);
        json_t *data = json_pack ("{s:s, s:s, s:i, s:i, s:s, s:s, s:I, s:I, s:i, s:I}",
            "org_id", org, "week", PQgetvalue (res, i, 2), "tier_before", tier, "tier", now_tier,
            "tier_name", td_ana_tier_name (now_tier), "outcome", outcome, "rank", (json_int_t) pos,
            "size", (json_int_t) size, "group", atoi (PQgetvalue (res, i, 4)), "xp",
            (json_int_t) xp);
        ok = data && json_array_append_new (rows, json_pack ("{s:s, s:s, s:s, s:s, s:I, s:i}",
            "org_id", org, "user_id", user, "week", PQgetvalue (res, i, 2), "outcome", outcome,
            "rank", (json_int_t) pos, "tier", now_tier)) == 0;
        td_ana_event_t ev = { .user = user, .org = org };
        ok = ok && td_ana_emit (conn, out, "analytics.league", &ev, data) == 0;
    }
    if (n > 0)
        *weeks = atoi (PQgetvalue (res, 0, 8));
    PQclear (res);
    char *text = ok? json_dumps (rows, JSON_COMPACT): NULL;
    const char *pr [] = { text };
    ok = ok && text;
    if (ok && n > 0) {
        res = td_ana_q (conn,
            "WITH r AS (SELECT * FROM json_to_recordset ($1::json) AS r (org_id text, user_id text, "
            "           week date, outcome text, rank int, tier int)), "
            "u AS (UPDATE analytics_league_members m SET outcome = r.outcome, rank = r.rank FROM r "
            "      WHERE m.org_id = r.org_id AND m.week = r.week AND m.user_id = r.user_id RETURNING 1) "
            "INSERT INTO analytics_league_tiers AS t (org_id, user_id, tier) "
            "SELECT org_id, user_id, tier FROM r "
            "ON CONFLICT (org_id, user_id) DO UPDATE SET tier = excluded.tier", 1, pr);
        ok = res != NULL;
        PQclear (res);
    }
    free (text);
    json_decref (rows);
    ok = ok && td_ana_cmd (conn, "COMMIT");
    if (!ok) {
        td_ana_cmd (conn, "ROLLBACK");
        json_decref (out);
        return -1;
    }
    *members = n;
    td_ana_publish_all (actor, out);
    json_decref (out);
    if (n > 0)
        td_info (LOG, NULL, "leagues: %d week(s) closed, %d learner(s) placed", *weeks, n);
    return 0;
}

void
td_ana_league_tick (td_actor_t *self)
{
    td_ana_state_t *st = td_ana_state (self);
    if (td_now_ms () < st->next_league_ms)
        return;
    st->next_league_ms = td_now_ms () + 10000;
    int weeks, members;
    if (td_ana_league_close (self, (int32_t) (td_now_ms () / 86400000), &weeks, &members) != 0)
        td_warn (LOG, NULL, "leagues: the week's close failed; the next tick retries");
}

//  league.close {today?: YYYY-MM-DD} (system): close every week that ended before today's week
//  (a controllable clock for tests and operators; the tick uses the real day).
int
td_ana_league_close_verb (td_actor_t *self, td_call_t *call)
{
    td_principal_t *p = td_ana_principal (call);
    if (!p)
        return TD_ACTOR_OK;
    bool system = td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
    td_principal_destroy (&p);
    if (!system) {
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "closing league weeks is for the operator");
        return TD_ACTOR_OK;
    }
    int32_t today = (int32_t) (td_now_ms () / 86400000);
    const msgpack_object *o = td_mp_get (td_call_body (call), "today");
    if (o && o->type != MSGPACK_OBJECT_NIL) {
        char buf [16];
        if (!td_mp_strcpy (o, buf, sizeof buf) || !td_ana_parse_date (buf, &today)) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "today", "today must be a YYYY-MM-DD date");
            return TD_ACTOR_OK;
        }
    }
    int weeks, members;
    if (td_ana_league_close (self, today, &weeks, &members) != 0)
        return td_ana_db_down (call);
    return td_ana_reply (call, 200, json_pack ("{s:i, s:i}", "weeks", weeks, "members", members));
}

//  GET /api/v1/me/league?org_id= : the caller's league standing in an org (their only org when
//  org_id is absent).
int
td_ana_league (td_actor_t *self, td_call_t *call)
{
    td_ana_state_t *st = td_ana_state (self);
    td_principal_t *p = td_ana_principal (call);
    char user [160], org [64] = "";
    if (!p || !td_ana_user (call, p, user, sizeof user)) {
        td_principal_destroy (&p);
        return TD_ACTOR_OK;
    }
    const msgpack_object *o = td_mp_get (td_call_body (call), "org_id");
    if (o && o->type != MSGPACK_OBJECT_NIL) {
        if (!td_mp_strcpy (o, org, sizeof org) || !td_principal_in_org (p, org)) {
            td_principal_destroy (&p);
            td_call_error (call, TD_ERR_NOT_FOUND, "org_id", "there is no such org");
            return TD_ACTOR_OK;
        }
    }
    else
    if (td_principal_org_count (p) == 1)
        snprintf (org, sizeof org, "%s", td_principal_org_at (p, 0, NULL));
    else {
        bool none = td_principal_org_count (p) == 0;
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_INVALID_INPUT, "org_id", "org_id is needed: the caller is "
                       "in %s org", none? "no": "more than one");
        return TD_ACTOR_OK;
    }
    td_principal_destroy (&p);
    char week [11], ends [11];
    int32_t w = td_ana_week_of (td_now_ms ());
    td_ana_format_date (w, week);
    td_ana_format_date (w + 7, ends);
    const char *pq [] = { org, user, week };
    bool failed;
    json_t *j = td_ana_query_json (self, call,
        "SELECT json_build_object("
        "  'tier', coalesce ((SELECT tier FROM analytics_league_tiers "
        "                     WHERE org_id = $1 AND user_id = $2), 0), "
        "  'group', (SELECT json_build_object('number', me.grp, 'tier', me.tier, 'members', "
        "       (SELECT json_agg (json_build_object('user_id', x.user_id, 'xp', x.xp) "
        "                         ORDER BY x.xp DESC, x.joined) "
        "        FROM analytics_league_members x WHERE x.org_id = $1 AND x.week = $3::date "
        "          AND x.tier = me.tier AND x.grp = me.grp)) "
        "     FROM analytics_league_members me "
        "     WHERE me.org_id = $1 AND me.week = $3::date AND me.user_id = $2), "
        "  'last', (SELECT json_build_object('week', to_char (l.week, 'YYYY-MM-DD'), "
        "       'outcome', l.outcome, 'rank', l.rank, 'tier', l.tier, 'xp', l.xp) "
        "     FROM analytics_league_members l WHERE l.org_id = $1 AND l.user_id = $2 "
        "       AND l.outcome IS NOT NULL ORDER BY l.week DESC LIMIT 1))::text", 3, pq, &failed);
    if (!j)
        return td_ana_db_down (call);
    int tier = (int) json_integer_value (json_object_get (j, "tier"));
    json_t *group = json_object_get (j, "group"), *me = json_null ();
    json_t *members = json_object_get (group, "members");
    int gtier = (int) json_integer_value (json_object_get (group, "tier"));
    size_t n = json_array_size (members);
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get (members, i);
        int64_t xp = json_integer_value (json_object_get (m, "xp"));
        json_object_set_new (m, "rank", json_integer ((json_int_t) i + 1));
        const char *zone = td_ana_league_zone ((int64_t) i + 1, (int64_t) n, xp, gtier,
                                               st->league_promote, st->league_demote);
        //  the zone the learner is in if the week ended now
        json_object_set_new (m, "zone", json_string (!strcmp (zone, "promoted")? "promotion":
                                                     !strcmp (zone, "demoted")? "demotion": "safe"));
        if (!strcmp (json_string_value (json_object_get (m, "user_id")), user)) {
            json_decref (me);
            me = json_pack ("{s:I, s:I, s:O}", "rank", (json_int_t) i + 1, "xp", (json_int_t) xp,
                            "zone", json_object_get (m, "zone"));
        }
    }
    json_t *body = json_pack ("{s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:i, s:O, s:o, s:O}",
        "org_id", org, "week", week, "ends_at", ends, "tier", tier, "tier_name",
        td_ana_tier_name (tier), "size", st->league_size, "promote", st->league_promote,
        "demote", st->league_demote, "group", group? group: json_null (), "me", me? me: json_null (),
        "last", json_object_get (j, "last"));
    json_decref (j);
    return td_ana_reply (call, 200, body);
}
