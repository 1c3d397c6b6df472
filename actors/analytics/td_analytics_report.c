/*  td_analytics_report — a printable HTML progress report of one learner (ANALYTICS.md §4):
 *  GET /api/v1/me/report[?user_id=], answered as {user_id, generated_at, html}.
 *
 *  The learner's own report, or, with user_id, a learner of a cohort the caller mentors (the
 *  mentees of the auth map) or a member of an org the caller admins (identity is asked which orgs
 *  that user is in); anyone else is told there is no such learner (404). The HTML is one
 *  self-contained page (inline CSS, print-friendly, no scripts, no external resources) with the
 *  figures of /me/stats, the last 12 weeks of activity and the achievements; every text from data
 *  is HTML-escaped. The bridge answers JSON only, so the page travels in the `html` field.
 */
#include <string.h>
#include "td_actor_call.h"
#include "td_call_json.h"
#include "td_analytics.h"
#include "td_json.h"
#include "td_mp.h"

typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} s_buf_t;

static void
s_add (s_buf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap? b->cap * 2: 4096);
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc (b->data, cap);
        if (!d) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy (b->data + b->len, s, n);
    b->len += n;
    b->data [b->len] = 0;
}

static void
s_raw (s_buf_t *b, const char *s)
{
    s_add (b, s, strlen (s));
}

//  Text from data, escaped for HTML element content and attribute values.
static void
s_text (s_buf_t *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
            case '<': s_raw (b, "&lt;"); break;
            case '>': s_raw (b, "&gt;"); break;
            case '&': s_raw (b, "&amp;"); break;
            case '"': s_raw (b, "&quot;"); break;
            case '\'': s_raw (b, "&#39;"); break;
            default: s_add (b, s, 1);
        }
    }
}

static void
s_int (s_buf_t *b, int64_t v)
{
    char n [24];
    snprintf (n, sizeof n, "%lld", (long long) v);
    s_raw (b, n);
}

static void
s_row (s_buf_t *b, const char *label, int64_t v)
{
    s_raw (b, "<tr><th>");
    s_text (b, label);
    s_raw (b, "</th><td>");
    s_int (b, v);
    s_raw (b, "</td></tr>\n");
}

//  An org admin asking about another user: identity says which orgs that user is in ("me" as
//  that user, through the broker, without blocking); the report is rendered when one of them is
//  an org the caller admins, else the answer is 404 as for anyone else.
typedef struct {
    td_call_t *call;                //  kept
    char user [160];
    json_t *admin_orgs;             //  the caller's org ids where they are admin, owned
} s_ask_t;

static int s_render (td_actor_t *self, td_call_t *call, const char *user);

static void
s_on_orgs (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    s_ask_t *a = (s_ask_t *) arg;
    (void) err;
    bool found = false;
    if (reply && td_msg_status (reply) == 200) {
        const msgpack_object *orgs = td_mp_get (td_msg_body (reply), "orgs");
        for (uint32_t i = 0; orgs && orgs->type == MSGPACK_OBJECT_ARRAY
                             && i < orgs->via.array.size && !found; i++) {
            char id [64];
            if (!td_mp_strcpy (td_mp_get (&orgs->via.array.ptr [i], "id"), id, sizeof id))
                continue;
            for (size_t k = 0; k < json_array_size (a->admin_orgs); k++)
                if (!strcmp (id, json_string_value (json_array_get (a->admin_orgs, k))))
                    found = true;
        }
    }
    if (found)
        s_render (actor, a->call, a->user);
    else
    if (!reply || (td_msg_status (reply) >= 500))
        td_call_error_retry (a->call, TD_ERR_UNAVAILABLE, 1, NULL,
                             "identity could not say which orgs the learner is in");
    else
        td_call_error (a->call, TD_ERR_NOT_FOUND, "user_id", "there is no such learner of yours");
    json_decref (a->admin_orgs);
    free (a);
}

//  Ask identity for user's orgs on behalf of an admin; 0 when the call was kept, -1 when it
//  was answered here.
static int
s_ask_orgs (td_actor_t *self, td_call_t *call, const td_principal_t *p, const char *user)
{
    json_t *admin = json_array ();
    for (size_t i = 0; admin && i < td_principal_org_count (p); i++) {
        td_role_t role;
        const char *org = td_principal_org_at (p, i, &role);
        if (org && role == TD_ROLE_ADMIN)
            json_array_append_new (admin, json_string (org));
    }
    if (!admin || json_array_size (admin) == 0 || !td_uuid_valid (user)) {
        json_decref (admin);
        td_call_error (call, TD_ERR_NOT_FOUND, "user_id", "there is no such learner of yours");
        return -1;
    }
    s_ask_t *a = calloc (1, sizeof *a);
    msgpack_sbuffer ab;
    msgpack_sbuffer_init (&ab);
    msgpack_packer pa;
    msgpack_packer_init (&pa, &ab, msgpack_sbuffer_write);
    msgpack_pack_map (&pa, 2);
    td_mp_pack_kv_str (&pa, "kind", "user");
    td_mp_pack_kv_str (&pa, "user", user);
    td_request_spec_t spec = { .rid = td_call_rid (call), .type = "me",
                               .auth = ab.data, .auth_size = ab.size };
    td_error_t err;
    int rc = -1;
    if (a) {
        a->call = call;
        a->admin_orgs = admin;
        snprintf (a->user, sizeof a->user, "%s", user);
        td_call_keep (call);
        rc = td_acall_send (td_ana_state (self)->acall, "identity", &spec, 10000, s_on_orgs, a,
                            &err);
    }
    msgpack_sbuffer_destroy (&ab);
    if (rc != 0) {
        json_decref (admin);
        free (a);
        td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL, "identity cannot be asked now");
        return -1;
    }
    return 0;
}

int
td_ana_report (td_actor_t *self, td_call_t *call)
{
    td_principal_t *p = td_ana_principal (call);
    char me [160], user [160];
    if (!p || !td_ana_user (call, p, me, sizeof me)) {
        td_principal_destroy (&p);
        return TD_ACTOR_OK;
    }
    const msgpack_object *uo = td_mp_get (td_call_body (call), "user_id");
    snprintf (user, sizeof user, "%s", me);
    if (uo && uo->type != MSGPACK_OBJECT_NIL) {
        if (!td_mp_strcpy (uo, user, sizeof user)) {
            td_principal_destroy (&p);
            td_call_error (call, TD_ERR_NOT_FOUND, "user_id", "there is no such learner of yours");
            return TD_ACTOR_OK;
        }
        if (strcmp (user, me) && !td_principal_is_mentor_of (p, user)) {
            s_ask_orgs (self, call, p, user);
            td_principal_destroy (&p);
            return TD_ACTOR_OK;
        }
    }
    td_principal_destroy (&p);
    return s_render (self, call, user);
}

static int
s_render (td_actor_t *self, td_call_t *call, const char *user)
{
    json_t *stats = td_ana_stats_json (self, call, user, NULL);
    if (!stats)
        return TD_ACTOR_OK;
    json_t *ach = td_ana_achievements_json (self, call, user);
    if (!ach) {
        json_decref (stats);
        return TD_ACTOR_OK;
    }
    const char *pu [] = { user };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT to_char (d.day, 'YYYY-MM-DD'), coalesce (a.count, 0) "
        "FROM (SELECT generate_series (t.today - 83, t.today, interval '1 day')::date AS day "
        "      FROM (SELECT (now () AT TIME ZONE coalesce ((SELECT timezone FROM analytics_learners "
        "            WHERE user_id = $1), 'UTC'))::date AS today) t) d "
        "LEFT JOIN analytics_days a ON a.user_id = $1 AND a.day = d.day ORDER BY d.day", 1, pu);
    if (!res) {
        json_decref (stats);
        json_decref (ach);
        return td_ana_db_down (call);
    }
    const td_ana_defs_t *d = td_ana_state (self)->defs;
    char now [32];
    td_time_format (td_now_ms (), now);
    s_buf_t b = { NULL, 0, 0, false };
    s_raw (&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>Progress report</title><style>"
               "body{font:14px/1.4 sans-serif;margin:2em;color:#222}"
               "table{border-collapse:collapse;margin:1em 0}th,td{padding:.2em .6em;text-align:left;"
               "border-bottom:1px solid #ddd}.heat td{width:1em;height:1em;padding:0;border:1px solid #fff}"
               ".l0{background:#eee}.l1{background:#c6e48b}.l2{background:#7bc96f}"
               ".l3{background:#239a3b}.l4{background:#196127}.locked{color:#999}"
               "@media print{body{margin:0}}</style></head><body>\n<h1>Progress report</h1>\n<p>Learner ");
    s_text (&b, user);
    s_raw (&b, " &middot; generated ");
    s_text (&b, now);
    s_raw (&b, " &middot; timezone ");
    s_text (&b, json_string_value (json_object_get (stats, "timezone")));
    s_raw (&b, "</p>\n<h2>Figures</h2>\n<table>\n");
    const json_t *streak = json_object_get (stats, "streak");
    s_row (&b, "XP", json_integer_value (json_object_get (stats, "xp")));
    s_row (&b, "Level", json_integer_value (json_object_get (stats, "level")));
    s_row (&b, "Current streak (days)", json_integer_value (json_object_get (streak, "current")));
    s_row (&b, "Longest streak (days)", json_integer_value (json_object_get (streak, "longest")));
    s_row (&b, "Streak freezes", json_integer_value (json_object_get (streak, "freezes")));
    s_row (&b, "Active days", json_integer_value (json_object_get (stats, "active_days")));
    const char *key;
    json_t *value;
    json_object_foreach (json_object_get (stats, "counters"), key, value)
        s_row (&b, key, json_integer_value (value));
    s_raw (&b, "</table>\n<h2>The last 12 weeks</h2>\n<table class=\"heat\"><tr>");
    for (int i = 0; i < PQntuples (res); i++) {
        int count = (int) strtol (PQgetvalue (res, i, 1), NULL, 10);
        char cell [96];
        snprintf (cell, sizeof cell, "<td class=\"l%d\" title=\"", td_ana_heat_level (count, d->heat));
        s_raw (&b, cell);
        s_text (&b, PQgetvalue (res, i, 0));
        s_raw (&b, ": ");
        s_int (&b, count);
        s_raw (&b, "\"></td>");
        if (i % 28 == 27)
            s_raw (&b, "</tr>\n<tr>");
    }
    PQclear (res);
    s_raw (&b, "</tr></table>\n<h2>Achievements (");
    s_int (&b, json_integer_value (json_object_get (ach, "unlocked")));
    s_raw (&b, " of ");
    s_int (&b, json_integer_value (json_object_get (ach, "total")));
    s_raw (&b, ")</h2>\n<table><tr><th>Tier</th><th>Achievement</th><th>Progress</th></tr>\n");
    const json_t *items = json_object_get (ach, "items");
    for (size_t i = 0; i < json_array_size (items); i++) {
        const json_t *a = json_array_get (items, i);
        bool un = json_is_true (json_object_get (a, "unlocked"));
        s_raw (&b, un? "<tr>": "<tr class=\"locked\">");
        s_raw (&b, "<td>");
        s_int (&b, json_integer_value (json_object_get (a, "tier")));
        s_raw (&b, "</td><td>");
        s_text (&b, json_string_value (json_object_get (a, "title")));
        s_raw (&b, " &mdash; ");
        s_text (&b, json_string_value (json_object_get (a, "description")));
        s_raw (&b, "</td><td>");
        if (un) {
            s_raw (&b, "unlocked ");
            s_text (&b, json_string_value (json_object_get (a, "unlocked_at")));
        }
        else {
            s_int (&b, json_integer_value (json_object_get (a, "progress")));
            s_raw (&b, " / ");
            s_int (&b, json_integer_value (json_object_get (a, "threshold")));
        }
        s_raw (&b, "</td></tr>\n");
    }
    s_raw (&b, "</table>\n</body></html>\n");
    json_decref (ach);
    if (b.failed) {
        free (b.data);
        json_decref (stats);
        td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
        return TD_ACTOR_OK;
    }
    json_t *body = json_pack ("{s:s, s:s, s:s, s:O}", "user_id", user, "generated_at", now,
                              "html", b.data, "stats", stats);
    free (b.data);
    json_decref (stats);
    return td_ana_reply (call, 200, body);
}
