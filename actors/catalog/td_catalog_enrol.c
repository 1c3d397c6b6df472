/*  td_catalog_enrol — enrolments: enrol, unenrol, the caller's courses with their progress, and
 *  the learner's srs cards of the courses they enrol in.
 *
 *  Only a signed-in user enrols (an API key or system is not a learner: 403, as for drafts and
 *  snippets), and only in a course they may read. Progress is the share of the course's units the
 *  learner completed (schema/0007's catalog_lesson_stats over catalog_item_progress, which
 *  td_catalog_progress.c derives from the grader's results and the learner's reads).
 *
 *  Cards (CATALOG.md "Cards on enrolment", issue 6): once an enrolment has committed and been
 *  answered, the catalog sends srs cards.from_items with the course's released vocabulary,
 *  grammar and exercise items (exam pools left out), asynchronously (td_actor_call.h): the enrol
 *  reply never waits on srs, and srs being down never fails it. What srs confirmed is recorded
 *  per enrolment (catalog_enrolment_cards: released modules and tree_version, schema/0015); a
 *  sweep on the tick sends again whatever is behind: enrolments srs missed, modules released
 *  later by drip, items added to the course. srs is idempotent, so a repeat makes nothing twice.
 *  Unenrolling removes the record with the enrolment and the sweep stops there; the cards stay.
 */
#include <stdlib.h>
#include <string.h>
#include "td_actor_call.h"
#include "td_catalog.h"
#include "td_catalog_enrol.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"

//  The caller's user id copied into user, or an answer (401) and false.
static bool
s_user (td_call_t *call, char *user, size_t size)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p) {
        td_cat_fail (call, &err);
        return false;
    }
    bool anonymous = td_principal_kind (p) == TD_PRINCIPAL_ANONYMOUS;
    bool ok = td_principal_kind (p) == TD_PRINCIPAL_USER && td_principal_user (p)
              && strlen (td_principal_user (p)) < size;
    if (ok)
        snprintf (user, size, "%s", td_principal_user (p));
    td_principal_destroy (&p);
    if (!ok)
        td_call_error (call, anonymous? TD_ERR_UNAUTHORIZED: TD_ERR_FORBIDDEN, NULL,
                       "enrolments belong to a signed-in user");
    return ok;
}

//  ---------------------------------------------------------------------------------------------
//  Cards on enrolment

#define S_CARDS_TIMEOUT_MS  30000       //  one cards.from_items (a whole course: ~850 cards)
#define S_SWEEP_MS          10000       //  default sweep period (TUTORD_CARDS_SWEEP_MS)
#define S_SWEEP_BATCH       20          //  enrolments sent per sweep
#define S_ITEMS_MAX         "5000"      //  items per batch (srs's limit)
#define S_SYSTEM_AUTH       "\x81\xa4" "kind" "\xa6" "system"   //  msgpack {"kind": "system"}

//  The srs client of this catalog actor. Thread-local because it belongs to the actor's thread
//  (init, handlers, tick and fini all run there, one actor per thread) and the actor's state
//  struct is td_catalog_progress.c's.
typedef struct {
    td_acall_t *srs;
    int64_t next_sweep;                 //  zclock_mono ms
    int sweep_ms;
} s_cards_t;
static _Thread_local s_cards_t *s_cards;

//  One send in flight: what it covered, recorded when srs answers.
typedef struct {
    char user [80];
    char course [40];
    int modules;
    long long version;
} s_sent_t;

//  SQL: the enrolments whose cards are behind ($1/$2: one enrolment, NULL: any; $3 how many),
//  with the modules released to the learner and the tree version to send. Found course by course
//  through catalog_enrolment_cards' indexes (schema/0015), never by reading every enrolment:
//  a tree_version below the course's (never confirmed, or the course changed since), or, in a
//  course with drip links, fewer modules than the furthest cohort has (only those rows pay for
//  the learner's own release: their cohorts from identity, as progress.get reads them, since the
//  sweep has no caller).
#define S_BEHIND_SQL \
    "WITH cc AS MATERIALIZED (SELECT c.id, c.slug, c.tree_version," \
    "   (SELECT count (*) FROM catalog_modules m WHERE m.course_id = c.id)::int AS n," \
    "   (SELECT max (catalog_drip_count (k.start_at, k.every_days, now ()))" \
    "    FROM catalog_course_cohorts k WHERE k.course_id = c.id) AS dripmax" \
    "   FROM catalog_courses c WHERE " TD_CAT_RELEASED \
    "   AND ($2::uuid IS NULL OR c.id = $2::uuid))," \
    " b AS MATERIALIZED (SELECT s.user_id, s.course_id, s.modules, s.tree_version AS sent," \
    "   cc.slug, cc.tree_version, cc.n, cc.dripmax FROM cc JOIN catalog_enrolment_cards s" \
    "   ON s.course_id = cc.id AND s.tree_version < cc.tree_version" \
    "   WHERE $1::text IS NULL OR s.user_id = $1" \
    "  UNION SELECT s.user_id, s.course_id, s.modules, s.tree_version, cc.slug, cc.tree_version," \
    "   cc.n, cc.dripmax FROM cc JOIN catalog_enrolment_cards s ON s.course_id = cc.id" \
    "   AND cc.dripmax IS NOT NULL AND s.modules < least (cc.n, cc.dripmax)" \
    "   WHERE $1::text IS NULL OR s.user_id = $1)," \
    " r AS (SELECT b.*, CASE WHEN b.dripmax IS NULL THEN b.n ELSE least (coalesce (" \
    "   catalog_released_modules (b.course_id, ARRAY (SELECT k.cohort_id::text" \
    "     FROM identity_cohort_members k WHERE k.user_id = CASE WHEN b.user_id" \
    "     ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'" \
    "     THEN b.user_id::uuid END)), 2147483647), b.n) END AS released FROM b)" \
    " SELECT r.user_id, r.course_id::text, r.slug, r.tree_version::text, r.released::text" \
    " FROM r WHERE r.sent < r.tree_version OR r.modules < r.released" \
    " ORDER BY r.sent, r.user_id LIMIT $3::int"

//  SQL: cards.from_items's body for user $3 in deck $4: the items of the first $2 modules of
//  course $1 that make cards, with only what srs puts on them.
#define S_ITEMS_SQL \
    "SELECT json_build_object ('user_id', $3::text, 'deck', $4::text, 'items', coalesce ((" \
    "  SELECT json_agg (x.o ORDER BY x.mp, x.lp, x.ip) FROM (SELECT m.position AS mp," \
    "   l.position AS lp, i.position AS ip, json_build_object ('id', i.id, 'kind', i.kind," \
    "   'title', i.title, 'content', CASE WHEN i.kind = 'vocabulary' THEN json_build_object (" \
    "     'word', i.content -> 'word', 'article', i.content -> 'article'," \
    "     'translation', i.content -> 'translation') ELSE '{}'::json END) AS o" \
    "   FROM catalog_modules m JOIN catalog_lessons l ON l.module_id = m.id" \
    "   JOIN catalog_items i ON i.lesson_id = l.id" \
    "   WHERE m.course_id = $1::uuid AND m.position < $2::int" \
    "     AND i.kind IN ('vocabulary', 'grammar', 'exercise')" \
    "     AND NOT catalog_is_exam (i.kind, i.content)" \
    "   ORDER BY m.position, l.position, i.position LIMIT " S_ITEMS_MAX ") x), '[]'))::text"

static void
s_on_cards (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    s_sent_t *sent = arg;
    int status = reply? td_msg_status (reply): 0;
    if (status < 200 || status >= 500) {
        //  not recorded: the sweep sends it again
        td_debug ("catalog", NULL, "cards for %s in %s: %s", sent->user, sent->course,
                  reply? td_msg_error_message (reply): err? err->message: "no answer");
        free (sent);
        return;
    }
    if (status >= 300)                  //  refused: recorded, so a bad course is not retried forever
        td_warn ("catalog", NULL, "srs refused the cards of %s in %s: %d %s", sent->user,
                 sent->course, status, td_msg_error_message (reply));
    int64_t created = 0;
    td_mp_int (td_mp_get (td_msg_body (reply), "created"), &created);
    char modules [16], version [24], cards [24], st [8];
    snprintf (modules, sizeof modules, "%d", sent->modules);
    snprintf (version, sizeof version, "%lld", sent->version);
    snprintf (cards, sizeof cards, "%lld", (long long) created);
    snprintf (st, sizeof st, "%d", status);
    const char *params [] = { sent->user, sent->course, modules, version, cards, st };
    //  no row any more when the learner unenrolled meanwhile: nothing to record
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "UPDATE catalog_enrolment_cards SET modules = greatest (modules, $3::int),"
        " tree_version = greatest (tree_version, $4::bigint), cards = cards + $5::int,"
        " status = $6::int, synced_at = now () WHERE user_id = $1 AND course_id = $2::uuid",
        6, params);
    if (res)
        PQclear (res);
    free (sent);
}

//  Send cards.from_items for row r of an S_BEHIND_SQL result. 0 sent, -1 not.
static int
s_send_row (td_actor_t *actor, PGresult *rows, int r)
{
    const char *user = PQgetvalue (rows, r, 0), *course = PQgetvalue (rows, r, 1);
    const char *params [] = { course, PQgetvalue (rows, r, 4), user, PQgetvalue (rows, r, 2) };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL, S_ITEMS_SQL, 4, params);
    json_t *body = res && PQntuples (res) == 1? json_loads (PQgetvalue (res, 0, 0), 0, NULL): NULL;
    if (res)
        PQclear (res);
    s_sent_t *sent = calloc (1, sizeof *sent);
    msgpack_sbuffer bb;
    msgpack_sbuffer_init (&bb);
    msgpack_packer pb;
    msgpack_packer_init (&pb, &bb, msgpack_sbuffer_write);
    td_error_t err = { 0 };
    int rc = -1;
    if (body && sent && strlen (user) < sizeof sent->user && strlen (course) < sizeof sent->course
    &&  td_json_to_mp (body, &pb, &err) == 0) {
        snprintf (sent->user, sizeof sent->user, "%s", user);
        snprintf (sent->course, sizeof sent->course, "%s", course);
        sent->modules = atoi (PQgetvalue (rows, r, 4));
        sent->version = atoll (PQgetvalue (rows, r, 3));
        td_request_spec_t spec = { .type = "cards.from_items", .auth = S_SYSTEM_AUTH,
                                   .auth_size = sizeof S_SYSTEM_AUTH - 1,
                                   .body = bb.data, .body_size = bb.size };
        rc = td_acall_send (s_cards->srs, "srs", &spec, S_CARDS_TIMEOUT_MS, s_on_cards, sent, &err);
        if (rc == 0)
            sent = NULL;                //  s_on_cards's now
        else
            td_debug ("catalog", NULL, "cards.from_items not sent: %s", err.message);
    }
    free (sent);
    json_decref (body);
    msgpack_sbuffer_destroy (&bb);
    return rc;
}

//  Send the cards of the enrolments that are behind: user's in course (NULL: any), up to limit.
static void
s_cards_send (td_actor_t *actor, const char *user, const char *course, int limit)
{
    if (!s_cards || !s_cards->srs)
        return;                         //  the sweep catches up once the client opens
    char lim [16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params [] = { user, course, lim };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL, S_BEHIND_SQL, 3, params);
    if (!res)
        return;                         //  logged by td_db; the sweep tries again
    for (int r = 0; r < PQntuples (res); r++)
        s_send_row (actor, res, r);
    PQclear (res);
}

static void
s_on_srs (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    if (s_cards && s_cards->srs)
        td_acall_dispatch (s_cards->srs, actor);
}

int
td_catalog_cards_init (td_actor_t *actor)
{
    if (s_cards)
        return 0;
    s_cards_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    const char *env = getenv ("TUTORD_CARDS_SWEEP_MS");
    int ms = env? atoi (env): 0;
    self->sweep_ms = ms >= 100 && ms <= 3600000? ms: S_SWEEP_MS;
    self->srs = td_acall_new (td_config_broker_endpoint (td_actor_config (actor)), "catalog");
    if (!self->srs || td_actor_watch (actor, td_acall_sock (self->srs), s_on_srs) != 0) {
        td_warn ("catalog", NULL, "no srs client: enrolments get their cards later");
        td_acall_destroy (&self->srs, actor);
        free (self);
        return -1;
    }
    self->next_sweep = zclock_mono () + 2000;   //  once the broker knows srs
    s_cards = self;
    return 0;
}

void
td_catalog_cards_fini (td_actor_t *actor)
{
    if (!s_cards)
        return;
    td_acall_destroy (&s_cards->srs, actor);
    free (s_cards);
    s_cards = NULL;
}

void
td_catalog_cards_tick (td_actor_t *actor)
{
    if (!s_cards) {
        td_catalog_cards_init (actor);          //  init failed: try again
        return;
    }
    td_acall_expire (s_cards->srs, actor);
    if (zclock_mono () < s_cards->next_sweep)
        return;
    s_cards->next_sweep = zclock_mono () + s_cards->sweep_ms;
    //  nothing in flight: a slow srs is not sent the same enrolments again meanwhile
    if (td_acall_pending (s_cards->srs) == 0)
        s_cards_send (actor, NULL, NULL, S_SWEEP_BATCH);
}

int
td_catalog_enrol (td_actor_t *actor, td_call_t *call)
{
    char user [80];
    if (!s_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, false, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    const char *params [] = { user, c.id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "INSERT INTO catalog_enrolments (user_id, course_id) VALUES ($1, $2::uuid)"
        " ON CONFLICT DO NOTHING RETURNING created_at", 2, params);
    if (!res)
        return td_cat_db_down (call);
    bool created = PQntuples (res) == 1;
    PQclear (res);
    td_cat_reply (call, created? 201: 200,
                  json_pack ("{s:s, s:s, s:b}", "course_id", c.id, "user_id", user, "enrolled", 1));
    //  answered: now the cards, without waiting (a repeat enrol sends only what is behind)
    s_cards_send (actor, user, c.id, 1);
    return TD_ACTOR_OK;
}

int
td_catalog_unenrol (td_actor_t *actor, td_call_t *call)
{
    char user [80];
    if (!s_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, false, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    const char *params [] = { user, c.id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "DELETE FROM catalog_enrolments WHERE user_id = $1 AND course_id = $2::uuid", 2, params);
    if (!res)
        return td_cat_db_down (call);
    PQclear (res);
    td_call_reply (call, 204, NULL, 0);     //  unenrolling twice is fine
    return TD_ACTOR_OK;
}

//  Each enrolled course with its progress (CATALOG.md §6): items and completed count units
//  (items outside exam pools, one per lesson exam), started, completed, last accessed and the
//  next lesson among those released to the learner's cohorts.
int
td_catalog_enrolment_list (td_actor_t *actor, td_call_t *call)
{
    char user [80];
    if (!s_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    char *cohorts = p? td_cat_cohorts (p): NULL;
    td_principal_destroy (&p);
    if (!cohorts)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    const char *params [] = { user, cohorts };
    bool failed;
    json_t *items = td_cat_query_json (actor, call,
        "SELECT coalesce (json_agg (json_build_object (" TD_CAT_COURSE_FIELDS ","
        "   'enrolled_at', e.created_at, 'items', t.total, 'completed', t.done,"
        "   'progress', CASE WHEN t.total = 0 THEN 0 ELSE floor (100.0 * t.done / t.total)::int END,"
        "   'percent', CASE WHEN t.total = 0 THEN 0 ELSE floor (100.0 * t.done / t.total)::int END,"
        "   'started', t.touched > 0, 'course_completed', t.total > 0 AND t.done = t.total,"
        "   'last_accessed_at', t.last_accessed_at,"
        "   'next_lesson', catalog_next_lesson ($1, c.id, $2::text[]))"
        "   ORDER BY e.created_at, c.id), '[]')"
        " FROM catalog_enrolments e JOIN catalog_courses c ON c.id = e.course_id"
        " CROSS JOIN LATERAL (SELECT coalesce (sum (s.total), 0)::int AS total,"
        "   coalesce (sum (s.done), 0)::int AS done, coalesce (sum (s.touched), 0)::int AS touched,"
        "   max (s.last_accessed_at) AS last_accessed_at"
        "   FROM catalog_lesson_stats ($1, c.id) s) t"
        " WHERE e.user_id = $1", 2, params, &failed);
    free (cohorts);
    if (!items)
        return td_cat_db_down (call);
    return td_cat_reply (call, 200, json_pack ("{s:o}", "items", items));
}
