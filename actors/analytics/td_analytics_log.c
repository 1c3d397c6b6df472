/*  td_analytics_log — the durable event log's verbs: catch-up (`events`), `rebuild`,
 *  `definitions.set`, `status`, and retention (ANALYTICS.md §6).
 *
 *  rebuild empties every derived table and applies the stored events again in their arrival
 *  order (seq), in one transaction, without publishing: the figures come out as they were, and
 *  nothing is announced twice. Once retention has removed events the log no longer holds the
 *  whole history, so rebuild refuses (409) rather than produce smaller figures.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"

#define LOG "analytics"

static bool
s_system (td_call_t *call)
{
    td_principal_t *p = td_ana_principal (call);
    if (!p)
        return false;
    bool ok = td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
    td_principal_destroy (&p);
    if (!ok)
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "only the operator (tutorctl) may do this");
    return ok;
}

//  A loose RFC 3339 check before PostgreSQL reads it: YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM|-HH:MM).
bool
td_ana_rfc3339 (const char *s)
{
    size_t n = strlen (s);
    if (n < 20 || n > 40)
        return false;
    const char *shape = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < 19; i++)
        if (shape [i] == 'd'? (s [i] < '0' || s [i] > '9'): (s [i] != shape [i]
                                                             && !(i == 10 && s [i] == 't')))
            return false;
    size_t i = 19;
    if (s [i] == '.') {
        i++;
        size_t f = i;
        while (s [i] >= '0' && s [i] <= '9')
            i++;
        if (i == f || i - f > 9)
            return false;
    }
    if ((s [i] == 'Z' || s [i] == 'z') && s [i + 1] == 0)
        return true;
    return (s [i] == '+' || s [i] == '-') && n - i == 6 && s [i + 3] == ':'
        && s [i + 1] >= '0' && s [i + 1] <= '9' && s [i + 2] >= '0' && s [i + 2] <= '9'
        && s [i + 4] >= '0' && s [i + 4] <= '9' && s [i + 5] >= '0' && s [i + 5] <= '9';
}

//  GET /api/v1/events?since=&org_id=&cursor=&limit=
int
td_ana_events (td_actor_t *self, td_call_t *call)
{
    td_principal_t *p = td_ana_principal (call);
    if (!p)
        return TD_ACTOR_OK;
    char since [48] = "", org [64] = "", user [160] = "";
    const msgpack_object *so = td_mp_get (td_call_body (call), "since");
    if (so && so->type != MSGPACK_OBJECT_NIL
    &&  (!td_mp_strcpy (so, since, sizeof since) || !td_ana_rfc3339 (since))) {
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_INVALID_INPUT, "since",
                       "since must be an RFC 3339 time such as 2026-11-22T10:00:00Z");
        return TD_ACTOR_OK;
    }
    int64_t limit = 100, cursor = 0;
    if (td_ana_int_param (call, "limit", 1, 500, &limit)
    ||  td_ana_int_param (call, "cursor", 0, INT64_MAX, &cursor)) {
        td_principal_destroy (&p);
        return TD_ACTOR_OK;
    }
    const msgpack_object *oo = td_mp_get (td_call_body (call), "org_id");
    bool has_org = oo && oo->type != MSGPACK_OBJECT_NIL;
    if (has_org && !td_mp_strcpy (oo, org, sizeof org)) {
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_NOT_FOUND, "org_id", "there is no such org");
        return TD_ACTOR_OK;
    }
    td_principal_kind_t kind = td_principal_kind (p);
    //  Whose events: an org's (its admins, its API key, system), else the caller's own.
    if (has_org) {
        if (!td_principal_in_org (p, org)) {
            td_principal_destroy (&p);
            td_call_error (call, TD_ERR_NOT_FOUND, "org_id", "there is no such org");
            return TD_ACTOR_OK;
        }
        if (!td_principal_is_org_admin (p, org) && !td_principal_is_org_key (p, org)) {
            td_principal_destroy (&p);
            td_call_error (call, TD_ERR_FORBIDDEN, "org_id", "only the org's admins see its events");
            return TD_ACTOR_OK;
        }
    }
    else
    if (kind == TD_PRINCIPAL_API_KEY)
        snprintf (org, sizeof org, "%s", td_principal_key_org (p)? td_principal_key_org (p): "");
    else
    if (kind == TD_PRINCIPAL_USER)
        snprintf (user, sizeof user, "%s", td_principal_user (p)? td_principal_user (p): "");
    td_principal_destroy (&p);
    char ls [24], cs [24];
    snprintf (ls, sizeof ls, "%lld", (long long) limit + 1);
    snprintf (cs, sizeof cs, "%lld", (long long) cursor);
    const char *pq [] = { user, org, *since? since: NULL, cs, ls };
    bool failed;
    json_t *items = td_ana_query_json (self, call,
        "SELECT coalesce (json_agg (json_build_object('seq', e.seq, 'id', e.id, 'type', e.type, "
        "  'source', e.source, 'time', to_char (e.at AT TIME ZONE 'UTC', "
        "  'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'org', e.org_id, 'user', e.user_id, "
        "  'subject', e.subject, 'data', e.data) ORDER BY e.seq), '[]')::text FROM ("
        "  SELECT * FROM analytics_events WHERE seq > $4::bigint "
        "    AND ($1 = '' OR user_id = $1) AND ($2 = '' OR org_id = $2) "
        "    AND ($3::timestamptz IS NULL OR at > $3::timestamptz) "
        "  ORDER BY seq LIMIT $5::bigint) e", 5, pq, &failed);
    if (!items)
        return td_ana_db_down (call);
    bool more = json_array_size (items) > (size_t) limit;
    if (more)
        json_array_remove (items, (size_t) limit);
    char next [24] = "";
    json_t *last = json_array_get (items, json_array_size (items) - 1);
    if (more && last)
        snprintf (next, sizeof next, "%lld",
                  (long long) json_integer_value (json_object_get (last, "seq")));
    //  seq is the cursor; clients see it as an opaque string.
    for (size_t i = 0; i < json_array_size (items); i++)
        json_object_del (json_array_get (items, i), "seq");
    return td_ana_reply (call, 200, json_pack ("{s:o, s:s?}", "items", items, "next_cursor",
                                               *next? next: NULL));
}

int
td_ana_rebuild (td_actor_t *self, td_call_t *call)
{
    if (!s_system (call))
        return TD_ACTOR_OK;
    int64_t started = td_now_ms ();
    PGconn *conn = td_db_conn (td_actor_db (self));
    if (!conn || !td_ana_cmd (conn, "BEGIN"))
        return td_ana_db_down (call);
    PGresult *res = td_ana_q (conn, "SELECT value FROM analytics_meta WHERE key = 'pruned_before'",
                              0, NULL);
    if (!res) {
        td_ana_cmd (conn, "ROLLBACK");
        return td_ana_db_down (call);
    }
    bool pruned = PQntuples (res) > 0;
    PQclear (res);
    if (pruned) {
        td_ana_cmd (conn, "ROLLBACK");
        td_call_error (call, TD_ERR_CONFLICT, NULL, "retention removed events from the log; "
                       "a rebuild would lose their figures");
        return TD_ACTOR_OK;
    }
    bool ok = td_ana_cmd (conn, "TRUNCATE analytics_activity, analytics_counters, analytics_days, "
                                "analytics_board, analytics_unlocks")
           && td_ana_cmd (conn, "DELETE FROM analytics_league_members WHERE outcome IS NULL")
           && td_ana_cmd (conn, "DELETE FROM analytics_league_fill f WHERE NOT EXISTS (SELECT 1 "
                                "FROM analytics_league_weeks w WHERE w.org_id = f.org_id "
                                "AND w.week = f.week)")
           && td_ana_cmd (conn, "UPDATE analytics_learners SET xp = 0, longest_streak = 0, "
                                "first_at = NULL, last_at = NULL")
           && td_ana_cmd (conn, "DECLARE ana_replay NO SCROLL CURSOR FOR "
                                "SELECT seq, type, user_id, org_id, at::text, data::text "
                                "FROM analytics_events WHERE source <> '" TD_ANA_SOURCE "' "
                                "AND user_id IS NOT NULL ORDER BY seq");
    int64_t count = 0;
    while (ok) {
        res = td_ana_q (conn, "FETCH 1000 FROM ana_replay", 0, NULL);
        if (!res) {
            ok = false;
            break;
        }
        int n = PQntuples (res);
        for (int i = 0; ok && i < n; i++) {
            json_error_t jerr;
            json_t *data = PQgetisnull (res, i, 5)? NULL:
                           json_loads (PQgetvalue (res, i, 5), JSON_DECODE_ANY, &jerr);
            td_ana_event_t ev = { .seq = strtoll (PQgetvalue (res, i, 0), NULL, 10),
                                  .type = PQgetvalue (res, i, 1), .user = PQgetvalue (res, i, 2),
                                  .org = PQgetisnull (res, i, 3)? NULL: PQgetvalue (res, i, 3),
                                  .time = PQgetvalue (res, i, 4), .data = data };
            ok = td_ana_apply (self, conn, &ev, NULL) == 0;
            json_decref (data);
            count++;
        }
        PQclear (res);
        if (n == 0)
            break;
    }
    if (!ok || !td_ana_cmd (conn, "CLOSE ana_replay") || !td_ana_cmd (conn, "COMMIT")) {
        td_ana_cmd (conn, "ROLLBACK");
        return td_ana_db_down (call);
    }
    int64_t ms = td_now_ms () - started;
    td_info (LOG, td_call_rid (call), "rebuilt the figures from %lld events in %lld ms",
             (long long) count, (long long) ms);
    return td_ana_reply (call, 200, json_pack ("{s:I, s:I}", "events", (json_int_t) count,
                                               "ms", (json_int_t) ms));
}

int
td_ana_definitions_set (td_actor_t *self, td_call_t *call)
{
    if (!s_system (call))
        return TD_ACTOR_OK;
    td_error_t err;
    const msgpack_object *o = td_call_body (call);
    json_t *body = o? td_mp_to_json (o, &err): NULL;
    td_ana_defs_t *d = body? td_ana_defs_parse (body, &err): NULL;
    json_decref (body);
    if (!d) {
        td_call_error (call, err.code, *err.field? err.field: NULL, "%s", err.message);
        return TD_ACTOR_OK;
    }
    td_ana_state_t *st = td_ana_state (self);
    td_ana_defs_destroy (&st->defs);
    st->defs = d;
    for (size_t i = 0; st->sub && i < d->rule_count; i++)
        zsock_set_subscribe (st->sub, d->rules [i].type);
    return td_ana_reply (call, 200, json_pack ("{s:i, s:i}", "rules", (int) d->rule_count,
                                               "achievements", (int) d->ach_count));
}

int
td_ana_status (td_actor_t *self, td_call_t *call)
{
    if (!s_system (call))
        return TD_ACTOR_OK;
    td_ana_state_t *st = td_ana_state (self);
    //  With {source, id}: is that event in the log yet? (tests and scripts wait on it)
    char source [129], id [129];
    json_t *logged = json_null ();
    if (td_ana_param (call, "source", source, sizeof source)
    &&  td_ana_param (call, "id", id, sizeof id)) {
        const char *p [] = { source, id };
        PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
            "SELECT 1 FROM analytics_events WHERE source = $1 AND id = $2", 2, p);
        if (!res)
            return td_ana_db_down (call);
        logged = json_boolean (PQntuples (res) == 1);
        PQclear (res);
    }
    int pending = 0;
    for (const td_ana_pending_t *w = st->pending; w; w = td_ana_pending_next (w))
        pending++;
    return td_ana_reply (call, 200, json_pack ("{s:I, s:I, s:I, s:i, s:i, s:i, s:o, s:I, s:I}",
        "applied", (json_int_t) st->applied, "duplicates", (json_int_t) st->duplicates,
        "failed", (json_int_t) st->failed, "retry_queue", (int) zlist_size (st->retry),
        "pending_boards", pending, "retention_days", st->retention_days, "logged", logged,
        "journal_cursor", (json_int_t) st->journal_cursor,
        "journal_taken", (json_int_t) st->journal_taken));
}

void
td_ana_retention_tick (td_actor_t *self)
{
    td_ana_state_t *st = td_ana_state (self);
    if (st->retention_days <= 0 || td_now_ms () < st->next_prune_ms)
        return;
    st->next_prune_ms = td_now_ms () + 10000;       //  every 10 s: one indexed DELETE
    char days [16];
    snprintf (days, sizeof days, "%d", st->retention_days);
    const char *p [] = { days };
    PGresult *res = td_db_exec (td_actor_db (self), NULL,
        "WITH gone AS (DELETE FROM analytics_events "
        "  WHERE received_at < now () - make_interval (days => $1::int) RETURNING received_at) "
        "INSERT INTO analytics_meta (key, value) "
        "SELECT 'pruned_before', max (received_at)::text FROM gone HAVING count (*) > 0 "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", 1, p);
    PQclear (res);
    //  The journal shares the retention (a missing table is not an error worth a line).
    res = td_db_exec (td_actor_db (self), NULL, "DELETE FROM events_journal "
                      "WHERE received_at < now () - make_interval (days => $1::int)", 1, p);
    PQclear (res);
}
