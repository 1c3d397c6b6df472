/*  td_analytics_board — leaderboards per cohort and per org, for this week, this month and all
 *  time (ANALYTICS.md §5).
 *
 *  Boards are sums kept per (org, period, learner) in analytics_board as events are applied;
 *  periods are UTC (ISO weeks from Monday, calendar months). Ties share a rank (1, 1, 3) and are
 *  listed by user id, so the order is the same on every call.
 *
 *  A cohort's members are identity's: the handler keeps the call and asks identity's `cohort.get`
 *  through the broker (as system) on a client socket the actor's loop polls, so the actor never
 *  blocks; the answer gives the cohort's org and members, and access is decided here as identity
 *  decides cohort visibility: its members (learners and mentors), the org's admins and API keys,
 *  and system; anyone else is told the cohort does not exist (404). Learners are ranked; mentors
 *  are not. A call identity does not answer within 12 s (15 s at most) is answered 503.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"

#define LOG "analytics"
#define WAIT_MS 15000                   //  identity gets WAIT_MS - 3 s (the broker answers 504 then)

struct td_ana_pending {
    char id [33];                   //  the request id sent to identity
    char cohort [64];
    char period;                    //  'w', 'm', 'a'
    bool metrics;                   //  cohort.metrics rather than the leaderboard
    int inactive_days;              //  cohort.metrics: days without events that make inactive
    int64_t since_ms;
    td_call_t *call;                //  kept
    td_principal_t *who;            //  owned
    td_ana_pending_t *next;
};

const td_ana_pending_t *
td_ana_pending_next (const td_ana_pending_t *w)
{
    return w->next;
}

//  period=week|month|all (default week) -> kind; -1 after answering 400.
static int
s_period (td_call_t *call, char *kind)
{
    char p [16];
    const msgpack_object *o = td_mp_get (td_call_body (call), "period");
    *kind = 'w';
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (!td_mp_strcpy (o, p, sizeof p)
    ||  !(strcmp (p, "week") == 0 || strcmp (p, "month") == 0 || strcmp (p, "all") == 0)) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "period", "period must be week, month or all");
        return -1;
    }
    *kind = p [0] == 'w'? 'w': p [0] == 'm'? 'm': 'a';
    return 0;
}

static const char *
s_period_name (char kind)
{
    return kind == 'w'? "week": kind == 'm'? "month": "all";
}

//  The first day of the period containing now (UTC) as YYYY-MM-DD: a constant for the query, so
//  PostgreSQL reads the board in index order (xp descending) and stops after the page.
static void
s_period_start (char kind, char buf [11])
{
    int32_t today = (int32_t) (td_now_ms () / 86400000);
    if (kind == 'w')
        td_ana_format_date (today - (today + 3) % 7, buf);      //  1970-01-01 was a Thursday
    else
    if (kind == 'm') {
        td_ana_format_date (today, buf);
        buf [8] = '0';
        buf [9] = '1';
    }
    else
        td_ana_format_date (0, buf);
}

//  Competition ranks over items ordered by xp descending: first_rank is the rank of items[0].
static void
s_rank (json_t *items, int64_t first_rank)
{
    int64_t rank = first_rank, prev = -1;
    for (size_t i = 0; i < json_array_size (items); i++) {
        json_t *it = json_array_get (items, i);
        int64_t xp = json_integer_value (json_object_get (it, "xp"));
        if (i > 0 && xp != prev)
            rank = first_rank + (int64_t) i;
        prev = xp;
        json_object_set_new (it, "rank", json_integer ((json_int_t) rank));
    }
}

//  ---------------------------------------------------------------------------------------------
//  Org boards: GET /api/v1/orgs/{id}/leaderboard

int
td_ana_org_leaderboard (td_actor_t *self, td_call_t *call)
{
    td_principal_t *p = td_ana_principal (call);
    if (!p)
        return TD_ACTOR_OK;
    char org [64], kind;
    if (!td_ana_param (call, "id", org, sizeof org) || !td_principal_in_org (p, org)) {
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such org");
        return TD_ACTOR_OK;
    }
    const char *me = td_principal_kind (p) == TD_PRINCIPAL_USER? td_principal_user (p): NULL;
    char me_buf [160] = "";
    if (me)
        snprintf (me_buf, sizeof me_buf, "%s", me);
    td_principal_destroy (&p);
    if (s_period (call, &kind))
        return TD_ACTOR_OK;
    int64_t limit = 20, offset = 0;
    if (td_ana_int_param (call, "limit", 1, 100, &limit)
    ||  td_ana_int_param (call, "cursor", 0, 100000000, &offset))
        return TD_ACTOR_OK;
    char ks [2] = { kind, 0 }, ls [24], os [24], start [11];
    s_period_start (kind, start);
    snprintf (ls, sizeof ls, "%lld", (long long) limit + 1);
    snprintf (os, sizeof os, "%lld", (long long) offset);
    const char *pq [] = { org, ks, ls, os, me_buf, start };
    bool failed;
    json_t *j = td_ana_query_json (self, call,
        "WITH page AS (SELECT b.user_id, b.xp FROM analytics_board b "
        "         WHERE b.org_id = $1 AND b.kind = $2 AND b.start = $6::date "
        "         ORDER BY b.xp DESC, b.user_id LIMIT $3::bigint OFFSET $4::bigint), "
        "mine AS (SELECT b.xp FROM analytics_board b WHERE b.org_id = $1 AND b.kind = $2 "
        "         AND b.start = $6::date AND b.user_id = $5) "
        "SELECT json_build_object('start', $6::date, "
        "  'items', coalesce ((SELECT json_agg (json_build_object('user_id', user_id, 'xp', xp) "
        "                      ORDER BY xp DESC, user_id) FROM page), '[]'), "
        "  'first_rank', 1 + (SELECT count (*) FROM analytics_board b WHERE b.org_id = $1 "
        "       AND b.kind = $2 AND b.start = $6::date "
        "       AND b.xp > coalesce ((SELECT max (xp) FROM page), 0)), "
        "  'me', (SELECT json_build_object('xp', m.xp, 'rank', 1 + (SELECT count (*) "
        "       FROM analytics_board b WHERE b.org_id = $1 AND b.kind = $2 "
        "       AND b.start = $6::date AND b.xp > m.xp)) FROM mine m))::text", 6, pq, &failed);
    if (!j)
        return td_ana_db_down (call);
    json_t *items = json_object_get (j, "items");
    bool more = json_array_size (items) > (size_t) limit;
    if (more)
        json_array_remove (items, (size_t) limit);
    s_rank (items, json_integer_value (json_object_get (j, "first_rank")));
    char next [24];
    snprintf (next, sizeof next, "%lld", (long long) (offset + limit));
    json_t *body = json_pack ("{s:s, s:s, s:O, s:O, s:O, s:s?}", "org_id", org, "period",
                              s_period_name (kind), "start", json_object_get (j, "start"),
                              "items", items, "me", json_object_get (j, "me"), "next_cursor",
                              more? next: NULL);
    json_decref (j);
    return td_ana_reply (call, 200, body);
}

//  ---------------------------------------------------------------------------------------------
//  Cohort boards: GET /api/v1/cohorts/{id}/leaderboard

static int s_ask (td_actor_t *self, td_call_t *call, bool metrics);

int
td_ana_leaderboard (td_actor_t *self, td_call_t *call)
{
    return s_ask (self, call, false);
}

int
td_ana_cohort_metrics (td_actor_t *self, td_call_t *call)
{
    return s_ask (self, call, true);
}

//  Keep the call and ask identity who is in the cohort; the answer comes to s_answer.
static int
s_ask (td_actor_t *self, td_call_t *call, bool metrics)
{
    td_ana_state_t *st = td_ana_state (self);
    td_principal_t *p = td_ana_principal (call);
    if (!p)
        return TD_ACTOR_OK;
    char cohort [64], kind = 'w';
    if (!td_ana_param (call, "id", cohort, sizeof cohort)) {
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such cohort");
        return TD_ACTOR_OK;
    }
    if (!metrics && s_period (call, &kind)) {
        td_principal_destroy (&p);
        return TD_ACTOR_OK;
    }
    int64_t inactive_days = 7;
    if (metrics && td_ana_int_param (call, "inactive_days", 1, 365, &inactive_days)) {
        td_principal_destroy (&p);
        return TD_ACTOR_OK;
    }
    td_ana_pending_t *w = calloc (1, sizeof *w);
    if (!w) {
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
        return TD_ACTOR_OK;
    }
    td_new_id (w->id);
    snprintf (w->cohort, sizeof w->cohort, "%s", cohort);
    w->period = kind;
    w->metrics = metrics;
    w->inactive_days = (int) inactive_days;
    w->since_ms = td_now_ms ();
    w->who = p;
    //  The request: cohort.get {id} as system.
    msgpack_sbuffer auth, body, req;
    msgpack_sbuffer_init (&auth);
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&req);
    msgpack_packer pa, pb;
    msgpack_packer_init (&pa, &auth, msgpack_sbuffer_write);
    msgpack_packer_init (&pb, &body, msgpack_sbuffer_write);
    msgpack_pack_map (&pa, 1);
    td_mp_pack_kv_str (&pa, "kind", "system");
    msgpack_pack_map (&pb, 1);
    td_mp_pack_kv_str (&pb, "id", cohort);
    td_request_spec_t spec = { .id = w->id, .rid = td_call_rid (call), .type = "cohort.get",
                               .deadline = td_now_ms () + WAIT_MS - 3000,
                               .auth = auth.data, .auth_size = auth.size,
                               .body = body.data, .body_size = body.size };
    td_error_t err;
    int rc = td_request_pack (&req, &spec, &err);
    if (rc == 0)
        rc = td_client_send (st->client, "identity", req.data, req.size);
    msgpack_sbuffer_destroy (&auth);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&req);
    if (rc != 0) {
        td_principal_destroy (&w->who);
        free (w);
        td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL, "identity cannot be asked now");
        return TD_ACTOR_OK;
    }
    td_call_keep (call);
    w->call = call;
    w->next = st->pending;
    st->pending = w;
    return TD_ACTOR_OK;
}

//  Answer a kept call once identity has told the cohort's org and members.
static void
s_answer (td_actor_t *self, td_ana_pending_t *w, const td_msg_t *reply)
{
    td_call_t *call = w->call;
    int status = td_msg_status (reply);
    if (status == 404 || status == 400) {
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such cohort");
        return;
    }
    if (status != 200) {
        td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL,
                             "identity could not say who is in the cohort (%d)", status);
        return;
    }
    const msgpack_object *b = td_msg_body (reply);
    char org [64];
    if (!td_mp_strcpy (td_mp_get (b, "org"), org, sizeof org)) {
        td_call_error (call, TD_ERR_INTERNAL, NULL, "identity's cohort has no org");
        return;
    }
    const td_principal_t *who = w->who;
    if (!(td_principal_kind (who) == TD_PRINCIPAL_SYSTEM || td_principal_is_org_admin (who, org)
          || td_principal_is_org_key (who, org)
          || (td_principal_in_org (who, org)
              && td_principal_cohort_role (who, w->cohort) != TD_ROLE_NONE))) {
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such cohort");
        return;
    }
    //  Metrics are for the cohort's mentors, the org's admins and keys: a learner sees the
    //  cohort but not their peers' details.
    if (w->metrics && td_principal_kind (who) != TD_PRINCIPAL_SYSTEM
    &&  !td_principal_is_org_admin (who, org) && !td_principal_is_org_key (who, org)
    &&  td_principal_cohort_role (who, w->cohort) != TD_ROLE_MENTOR) {
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "cohort metrics are for its mentors and "
                       "the org's admins");
        return;
    }
    //  Learners of the cohort, as a text array literal with their names on the side.
    json_t *names = json_object ();
    json_t *ids = json_array ();
    const msgpack_object *members = td_mp_get (b, "members");
    if (members && members->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; names && ids && i < members->via.array.size; i++) {
            const msgpack_object *m = &members->via.array.ptr [i];
            char uid [64], name [256] = "";
            if (!td_mp_streq (td_mp_get (m, "role"), "learner")
            ||  !td_mp_strcpy (td_mp_get (m, "user_id"), uid, sizeof uid))
                continue;
            td_mp_strcpy (td_mp_get (m, "name"), name, sizeof name);
            json_array_append_new (ids, json_string (uid));
            json_object_set_new (names, uid, json_string (name));
        }
    char *ids_text = ids? json_dumps (ids, JSON_COMPACT): NULL;
    if (w->metrics) {
        free (ids_text);
        td_ana_metrics_answer (self, call, w->cohort, org, ids, names, w->inactive_days);
        json_decref (ids);
        json_decref (names);
        return;
    }
    char ks [2] = { w->period, 0 }, start [11];
    s_period_start (w->period, start);
    const char *pq [] = { ids_text, org, ks, start };
    bool failed;
    json_t *j = ids_text? td_ana_query_json (self, call,
        "SELECT json_build_object('start', $4::date, "
        "  'items', coalesce ((SELECT json_agg (json_build_object('user_id', u.id, "
        "       'xp', coalesce (b.xp, 0)) ORDER BY coalesce (b.xp, 0) DESC, u.id) "
        "     FROM json_array_elements_text ($1::json) u (id) "
        "     LEFT JOIN analytics_board b ON b.org_id = $2 AND b.kind = $3 "
        "       AND b.start = $4::date AND b.user_id = u.id), '[]'))::text",
        4, pq, &failed): NULL;
    free (ids_text);
    json_decref (ids);
    if (!j) {
        json_decref (names);
        td_ana_db_down (call);
        return;
    }
    json_t *items = json_object_get (j, "items");
    s_rank (items, 1);
    const char *me = td_principal_user (who);
    json_t *mine = NULL;
    for (size_t i = 0; i < json_array_size (items); i++) {
        json_t *it = json_array_get (items, i);
        const char *uid = json_string_value (json_object_get (it, "user_id"));
        json_object_set (it, "name", json_object_get (names, uid));
        if (me && uid && !strcmp (me, uid))
            mine = it;
    }
    json_t *body = json_pack ("{s:s, s:s, s:s, s:O, s:O, s:O?, s:n}", "cohort_id", w->cohort,
                              "org_id", org, "period", s_period_name (w->period), "start",
                              json_object_get (j, "start"), "items", items, "me", mine,
                              "next_cursor");
    json_decref (j);
    json_decref (names);
    td_ana_reply (call, 200, body);
}

static void
s_unlink (td_ana_state_t *st, td_ana_pending_t *w)
{
    for (td_ana_pending_t **pp = &st->pending; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    td_principal_destroy (&w->who);
    free (w);
}

void
td_ana_board_on_reply (td_actor_t *self, zsock_t *sock)
{
    td_ana_state_t *st = td_ana_state (self);
    while (sock) {
        bool final = false;
        td_error_t err;
        td_msg_t *m = td_client_recv (st->client, 0, &final, &err);
        if (!m)
            break;
        td_ana_pending_t *w = st->pending;
        while (w && strcmp (w->id, td_msg_id (m)))
            w = w->next;
        if (w && final) {
            s_answer (self, w, m);
            s_unlink (st, w);
        }
        td_msg_destroy (&m);
    }
    //  Calls identity never answered.
    int64_t now = td_now_ms ();
    td_ana_pending_t *w = st->pending;
    while (w) {
        td_ana_pending_t *next = w->next;
        if (now - w->since_ms > WAIT_MS) {
            td_call_error_retry (w->call, TD_ERR_UNAVAILABLE, 1, NULL,
                                 "identity did not say who is in the cohort in time");
            s_unlink (st, w);
        }
        w = next;
    }
}

void
td_ana_board_fini (td_actor_t *self)
{
    td_ana_state_t *st = td_ana_state (self);
    while (st->pending) {
        td_call_error_retry (st->pending->call, TD_ERR_UNAVAILABLE, 1, NULL,
                             "analytics is stopping");
        s_unlink (st, st->pending);
    }
}
