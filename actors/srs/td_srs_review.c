/*  td_srs_review — review (POST /api/v1/reviews) and the due queue (GET /api/v1/reviews/due).
 *
 *  A review, for offline clients too:
 *    - reviewed_at (RFC 3339, optional) is when the learner answered; a review older than the
 *      card's last review answers 409 (the client must not rewrite history out of order);
 *    - client_review_id (optional) makes it idempotent: the same id again answers the first
 *      result (the card as that review left it, and its log_id), whatever happened since;
 *    - the card is written with an optimistic check (reps unchanged since it was read) in one
 *      statement that also appends the log row, so two racing reviews of one card cannot both
 *      apply, and a crash leaves either both writes or neither. A lost race is retried.
 *  The fuzz seed is (card id, reviewed_at), so the same review always lands on the same day.
 *  Load balancing: among the fuzz range's days, the one with the fewest of the learner's cards
 *  already due (a day holding a sibling counts as full), ties to the day fuzz picked.
 *
 *  The due queue: the caller's cards due now, ordered by due time then retrievability (least
 *  likely remembered first); new cards (never reviewed) only up to new_per_day minus the new
 *  cards already started today (the learner's timezone); at most one card of a sibling group,
 *  and none whose sibling was reviewed today.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_json.h"
#include "td_mp.h"
#include "srs/td_srs.h"

#define REVIEW_RETRIES      3
#define DUE_LIMIT_DEFAULT   20
#define DUE_LIMIT_MAX       200
#define FUTURE_SLACK_MS     (5 * 60 * 1000)     //  a client clock ahead by up to 5 minutes

//  ---------------------------------------------------------------------------------------------
//  Load balancing

typedef struct {
    td_actor_t *self;
    const char *rid, *user, *card_id, *group;
    int64_t now;
} balance_t;

static int
s_pick (void *ctx, int lo, int hi, int fuzzed)
{
    balance_t *b = ctx;
    char now [24], from [24], to [24];
    snprintf (now, sizeof now, "%lld", (long long) b->now);
    snprintf (from, sizeof from, "%lld", (long long) (b->now + (int64_t) lo * TD_FSRS_DAY_MS));
    snprintf (to, sizeof to, "%lld", (long long) (b->now + (int64_t) (hi + 1) * TD_FSRS_DAY_MS));
    const char *params [] = { b->user, now, from, to, b->group, b->card_id };
    PGresult *res = td_srs_exec (b->self, b->rid, TD_SRS_STMT_PICK,
        "SELECT floor ((extract (epoch FROM due) * 1000 - $2::bigint) / 86400000)::int::text,"
        " count (*)::text, bool_or (sibling_group = $5 AND id <> $6::uuid)::text"
        " FROM srs_cards WHERE user_id = $1"
        " AND due >= to_timestamp ($3::double precision / 1000)"
        " AND due < to_timestamp ($4::double precision / 1000) GROUP BY 1", 6, params);
    if (!res)
        return fuzzed;                              //  logged; keep fuzz's day
    long load [64] = { 0 };
    int span = hi - lo + 1 > 64? 64: hi - lo + 1;
    for (int r = 0; r < PQntuples (res); r++) {
        int d = atoi (PQgetvalue (res, r, 0)) - lo;
        if (d >= 0 && d < span)
            load [d] = atol (PQgetvalue (res, r, 1))
                     + (strcmp (PQgetvalue (res, r, 2), "true") == 0? 1000000L: 0);
    }
    PQclear (res);
    int best = fuzzed;
    long best_load = fuzzed - lo < span? load [fuzzed - lo]: 0;
    for (int d = 0; d < span; d++) {
        int day = lo + d;
        if (load [d] < best_load || (load [d] == best_load && abs (day - fuzzed) < abs (best - fuzzed))) {
            best = day;
            best_load = load [d];
        }
    }
    return best;
}

//  ---------------------------------------------------------------------------------------------
//  Review

//  The stored result of client_review_id for user: 1 answered, 0 none, -1 answered an error.
static int
s_replay (td_actor_t *self, td_call_t *call, const char *user, const char *crid,
          const char *card_id)
{
    const char *params [] = { user, crid };
    PGresult *res = td_srs_exec (self, td_call_rid (call), TD_SRS_STMT_REPLAY,
        "SELECT r.card_id::text, c.deck, c.kind, coalesce (c.item_id, ''), '', r.state::text,"
        " r.step::text, r.stability::text, r.difficulty::text,"
        " round (extract (epoch FROM r.due) * 1000)::bigint::text,"
        " round (extract (epoch FROM r.reviewed_at) * 1000)::bigint::text,"
        " (r.prev_reps + 1)::text,"
        " (r.prev_lapses + (r.rating = 1 AND r.prev_state = 2)::int)::text, '0', r.id::text"
        " FROM srs_reviews r JOIN srs_cards c ON c.id = r.card_id"
        " WHERE r.user_id = $1 AND r.client_review_id = $2", 2, params);
    if (!res) {
        td_srs_db_down (call);
        return -1;
    }
    if (PQntuples (res) != 1) {
        PQclear (res);
        return 0;
    }
    if (strcmp (PQgetvalue (res, 0, 0), card_id) != 0) {
        PQclear (res);
        td_call_error (call, TD_ERR_CONFLICT, "client_review_id",
                       "this client_review_id was already used for another card");
        return -1;
    }
    td_srs_card_t c;
    td_srs_card_read (res, 0, &c);
    long long log_id = atoll (PQgetvalue (res, 0, 14));
    PQclear (res);
    json_t *out = json_pack ("{s:o, s:I, s:b}", "card", td_srs_card_json (&c, NULL, NULL),
                             "log_id", log_id, "replayed", true);
    td_srs_reply (call, 200, out);
    return 1;
}

static void
s_announce (td_actor_t *self, const char *user, const td_srs_card_t *c, int rating,
            long long log_id, int64_t at)
{
    char when [40], due [40];
    td_srs_time_format (at, when, sizeof when);
    td_srs_time_format (c->f.due, due, sizeof due);
    json_t *data = json_pack ("{s:s, s:I, s:i, s:s, s:s, s:s, s:f, s:f, s:s}",
        "card_id", c->id, "log_id", log_id, "rating", rating,
        "state", td_fsrs_state_name (c->f.state), "due", due, "reviewed_at", when,
        "stability", c->f.stability, "difficulty", c->f.difficulty, "deck", c->deck);
    td_actor_publish_json (self, "srs.reviewed", user, NULL, c->id, data);
}

typedef struct {
    char card_id [64];
    int rating;
    int64_t at;                 //  0: now
    long long duration;         //  -1: absent
    char crid [TD_SRS_CRID_MAX + 1];
} review_in_t;

static bool
s_review_input (td_call_t *call, review_in_t *in)
{
    memset (in, 0, sizeof *in);
    in->duration = -1;
    json_t *body = td_srs_body (call);
    bool ok = false;
    const char *k;
    json_t *v;
    if (!body) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "body",
                       "a review is a JSON object {card_id, rating, reviewed_at, duration_ms}");
        return false;
    }
    json_object_foreach (body, k, v)
        if (strcmp (k, "card_id") && strcmp (k, "rating") && strcmp (k, "reviewed_at")
        &&  strcmp (k, "duration_ms") && strcmp (k, "client_review_id")) {
            char field [64];
            snprintf (field, sizeof field, "%s", k);
            td_call_error (call, TD_ERR_INVALID_INPUT, field, "unknown field %s", field);
            goto done;
        }
    v = json_object_get (body, "card_id");
    if (!json_is_string (v) || json_string_length (v) == 0 || json_string_length (v) >= sizeof in->card_id) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "card_id", "card_id must be a card's id");
        goto done;
    }
    snprintf (in->card_id, sizeof in->card_id, "%s", json_string_value (v));
    v = json_object_get (body, "rating");
    if (!json_is_integer (v) || json_integer_value (v) < 1 || json_integer_value (v) > 4) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "rating",
                       "rating must be 1 (again), 2 (hard), 3 (good) or 4 (easy)");
        goto done;
    }
    in->rating = (int) json_integer_value (v);
    v = json_object_get (body, "reviewed_at");
    if (v && !json_is_null (v)) {
        if (!json_is_string (v) || !td_srs_time_parse (json_string_value (v), &in->at)) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "reviewed_at",
                           "reviewed_at must be an RFC 3339 time");
            goto done;
        }
        if (in->at > td_srs_now_ms () + FUTURE_SLACK_MS) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "reviewed_at",
                           "reviewed_at is in the future");
            goto done;
        }
    }
    v = json_object_get (body, "duration_ms");
    if (v && !json_is_null (v)) {
        if (!json_is_integer (v) || json_integer_value (v) < 0
        ||  json_integer_value (v) > 86400000) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "duration_ms",
                           "duration_ms must be a whole number of milliseconds, 0 to 86400000");
            goto done;
        }
        in->duration = (long long) json_integer_value (v);
    }
    v = json_object_get (body, "client_review_id");
    if (v && !json_is_null (v)) {
        if (!json_is_string (v) || json_string_length (v) == 0
        ||  json_string_length (v) > TD_SRS_CRID_MAX
        ||  strlen (json_string_value (v)) != json_string_length (v)) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "client_review_id",
                           "client_review_id must be text of 1 to %d bytes", TD_SRS_CRID_MAX);
            goto done;
        }
        snprintf (in->crid, sizeof in->crid, "%s", json_string_value (v));
    }
    ok = true;
done:
    json_decref (body);
    return ok;
}

int
td_srs_review (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1];
    review_in_t in;
    if (!td_srs_user (call, user, sizeof user) || !s_review_input (call, &in))
        return TD_ACTOR_OK;
    if (!td_srs_uuid (in.card_id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, "card_id", "there is no such card");
        return TD_ACTOR_OK;
    }
    for (int attempt = 0; attempt < REVIEW_RETRIES; attempt++) {
        if (*in.crid && s_replay (self, call, user, in.crid, in.card_id) != 0)
            return TD_ACTOR_OK;
        td_srs_card_t c;
        td_srs_settings_t set;
        //  The card and the learner's settings in one round trip.
        const char *kp [] = { user, in.card_id };
        PGresult *kr = td_srs_exec (self, td_call_rid (call), TD_SRS_STMT_CARD_SETTINGS,
            "SELECT " TD_SRS_CARD_COLS ", " TD_SRS_SETTINGS_COLS " FROM srs_cards c"
            " LEFT JOIN srs_settings s ON s.user_id = c.user_id"
            " WHERE c.user_id = $1 AND c.id = $2::uuid", 2, kp);
        if (!kr)
            return td_srs_db_down (call);
        if (PQntuples (kr) != 1) {
            PQclear (kr);
            td_call_error (call, TD_ERR_NOT_FOUND, "card_id", "there is no such card");
            return TD_ACTOR_OK;
        }
        td_srs_card_read (kr, 0, &c);
        td_srs_settings_from_row (kr, 0, TD_SRS_CARD_NCOLS, &set);
        PQclear (kr);
        int64_t at = in.at? in.at: td_srs_now_ms ();
        if (c.f.last_review > 0 && at < c.f.last_review) {
            char last [40];
            td_srs_time_format (c.f.last_review, last, sizeof last);
            td_call_error (call, TD_ERR_CONFLICT, "reviewed_at",
                           "the card was last reviewed at %s, after this review", last);
            return TD_ACTOR_OK;
        }
        balance_t bal = { self, td_call_rid (call), user, c.id,
                          *c.sibling_group? c.sibling_group: NULL, at };
        td_fsrs_fuzz_t fz = { .seed = td_fsrs_seed (c.id, at), .pick = s_pick, .ctx = &bal };
        td_srs_card_t n = c;
        if (td_fsrs_review (&set.fsrs, &c.f, in.rating, at, &fz, &n.f) != 0) {
            td_call_error (call, TD_ERR_CONFLICT, "card_id", "this card's stored state cannot be scheduled");
            return TD_ACTOR_OK;
        }
        n.reps = c.reps + 1;
        n.lapses = c.lapses + (in.rating == TD_FSRS_AGAIN && c.f.state == TD_FSRS_REVIEW);
        int elapsed = c.f.last_review > 0? (int) ((at - c.f.last_review) / TD_FSRS_DAY_MS): -1;
        char s_at [24], s_dur [24], s_rating [4], s_reps [16], s_lapses [16], s_state [4],
             s_step [8], s_stab [40], s_diff [40], s_due [24], s_elapsed [16];
        snprintf (s_at, sizeof s_at, "%lld", (long long) at);
        snprintf (s_dur, sizeof s_dur, "%lld", in.duration);
        snprintf (s_rating, sizeof s_rating, "%d", in.rating);
        snprintf (s_reps, sizeof s_reps, "%d", c.reps);
        snprintf (s_lapses, sizeof s_lapses, "%d", n.lapses);
        snprintf (s_state, sizeof s_state, "%d", (int) n.f.state);
        snprintf (s_step, sizeof s_step, "%d", n.f.step);
        snprintf (s_stab, sizeof s_stab, "%.17g", n.f.stability);
        snprintf (s_diff, sizeof s_diff, "%.17g", n.f.difficulty);
        snprintf (s_due, sizeof s_due, "%lld", (long long) n.f.due);
        snprintf (s_elapsed, sizeof s_elapsed, "%d", elapsed);
        const char *params [] = { user, c.id, s_reps, s_state, s_step, s_stab, s_diff, s_due,
                                  s_at, s_lapses, s_rating, in.duration >= 0? s_dur: NULL,
                                  *in.crid? in.crid: NULL, s_elapsed };
        PGresult *res = td_srs_exec (self, td_call_rid (call), TD_SRS_STMT_REVIEW_WRITE,
            "WITH old AS (SELECT * FROM srs_cards WHERE id = $2::uuid AND user_id = $1"
            "   AND reps = $3::int),"
            " upd AS (UPDATE srs_cards k SET state = $4::smallint, step = $5::smallint,"
            "   stability = $6::float8, difficulty = $7::float8,"
            "   due = to_timestamp ($8::double precision / 1000),"
            "   last_review = to_timestamp ($9::double precision / 1000),"
            "   reps = k.reps + 1, lapses = $10::int"
            "   FROM old WHERE k.id = old.id AND k.reps = old.reps RETURNING k.id)"
            " INSERT INTO srs_reviews (card_id, user_id, rating, reviewed_at, duration_ms,"
            "   client_review_id, elapsed_days, prev_state, prev_step, prev_stability,"
            "   prev_difficulty, prev_due, prev_last_review, prev_reps, prev_lapses,"
            "   state, step, stability, difficulty, due)"
            " SELECT old.id, $1, $11::smallint, to_timestamp ($9::double precision / 1000),"
            "   $12::int, $13, $14::int, old.state, old.step, old.stability, old.difficulty,"
            "   old.due, old.last_review, old.reps, old.lapses, $4::smallint, $5::smallint,"
            "   $6::float8, $7::float8, to_timestamp ($8::double precision / 1000)"
            " FROM old JOIN upd ON upd.id = old.id RETURNING id::text", 14, params);
        if (!res) {
            if (strcmp (td_db_last_sqlstate (td_actor_db (self)), "23505") == 0)
                continue;                           //  the same client_review_id raced: replay
            return td_srs_db_down (call);
        }
        if (PQntuples (res) != 1) {                 //  the card changed since it was read
            PQclear (res);
            continue;
        }
        long long log_id = atoll (PQgetvalue (res, 0, 0));
        PQclear (res);
        s_announce (self, user, &n, in.rating, log_id, at);
        json_t *out = json_pack ("{s:o, s:I}", "card", td_srs_card_json (&n, NULL, NULL),
                                 "log_id", log_id);
        return td_srs_reply (call, 200, out);
    }
    td_call_error_retry (call, TD_ERR_CONFLICT, 1, "card_id",
                         "the card is being reviewed elsewhere; try again");
    return TD_ACTOR_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Due queue

int
td_srs_due (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], limit_s [16] = "", deck [TD_SRS_DECK_MAX * 4 + 1] = "";
    if (!td_srs_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    const msgpack_object *o = td_mp_get (td_call_body (call), "limit");
    int64_t lv = DUE_LIMIT_DEFAULT;
    if (o) {
        char *end = NULL;
        if (td_mp_strcpy (o, limit_s, sizeof limit_s) && *limit_s)
            lv = strtoll (limit_s, &end, 10);
        if (!*limit_s || (end && *end) || lv < 1 || lv > DUE_LIMIT_MAX) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "limit", "limit must be 1 to %d",
                           DUE_LIMIT_MAX);
            return TD_ACTOR_OK;
        }
    }
    o = td_mp_get (td_call_body (call), "deck");
    if (o && (!td_mp_strcpy (o, deck, sizeof deck) || !*deck)) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "deck", "deck must be a deck name");
        return TD_ACTOR_OK;
    }
    //  One statement: the learner's settings (new_per_day, timezone, decay w20) are joined in,
    //  so the queue costs one round trip.
    char lim [16], decay [40];
    snprintf (lim, sizeof lim, "%lld", (long long) lv);
    snprintf (decay, sizeof decay, "%.17g", td_fsrs_default_w [20]);
    const char *params [] = { user, *deck? deck: NULL, lim, decay };
    PGresult *res = td_srs_exec (self, td_call_rid (call), TD_SRS_STMT_DUE,
        "WITH st AS (SELECT coalesce (s.new_per_day, 20) AS npd, coalesce (s.timezone, 'UTC') AS tz,"
        "   coalesce (CASE WHEN array_length (s.weights, 1) = 21 THEN s.weights [21] END,"
        "     $4::float8) AS decay"
        "   FROM (SELECT 1) one LEFT JOIN srs_settings s ON s.user_id = $1),"
        " day0 AS (SELECT (date_trunc ('day', now () AT TIME ZONE st.tz) AT TIME ZONE st.tz) AS t,"
        "   st.npd, st.decay, power (0.9, 1 / -st.decay) - 1 AS factor FROM st),"
        " cand AS (SELECT c.*, CASE WHEN c.last_review IS NULL OR c.stability <= 0 THEN 0"
        "     ELSE power (1 + day0.factor * floor (greatest (0, extract (epoch FROM now () - c.last_review))"
        "       / 86400) / c.stability, -day0.decay) END AS r"
        "   FROM srs_cards c, day0 WHERE c.user_id = $1 AND c.due <= now ()"
        "   AND ($2::text IS NULL OR c.deck = $2)"
        "   AND NOT (c.sibling_group IS NOT NULL AND EXISTS (SELECT 1 FROM srs_cards o"
        "     WHERE o.user_id = $1 AND o.sibling_group = c.sibling_group AND o.id <> c.id"
        "     AND o.last_review >= day0.t))),"
        " one AS (SELECT DISTINCT ON (coalesce (sibling_group, id::text)) * FROM cand"
        "   ORDER BY coalesce (sibling_group, id::text), due, r),"
        " started AS (SELECT count (*) AS n FROM srs_reviews v, day0 WHERE v.user_id = $1"
        "   AND v.prev_reps = 0 AND v.reviewed_at >= day0.t),"
        " fresh AS (SELECT * FROM one WHERE reps = 0 ORDER BY due, created_at"
        "   LIMIT greatest (0, (SELECT npd FROM day0) - (SELECT n FROM started))),"
        " q AS (SELECT * FROM one WHERE reps > 0 UNION ALL SELECT * FROM fresh)"
        " SELECT " TD_SRS_CARD_COLS ", c.r::text"
        " FROM q c ORDER BY c.due, c.r LIMIT $3::int", 4, params);
    if (!res)
        return td_srs_db_down (call);
    json_t *items = json_array ();
    for (int r = 0; r < PQntuples (res); r++) {
        json_t *j = td_srs_card_row_json (res, r);
        json_object_set_new (j, "retrievability", json_real (strtod (PQgetvalue (res, r, 16), NULL)));
        json_array_append_new (items, j);
    }
    PQclear (res);
    json_t *out = json_pack ("{s:o, s:n}", "items", items, "next_cursor");
    return td_srs_reply (call, 200, out);
}
