/*  td_analytics — what the analytics actor's files share (ANALYTICS.md).
 *
 *  The actor subscribes to the event plane, stores every event once in its durable log and, in
 *  the same transaction, turns it into figures (XP, counters, days, boards, achievements). The
 *  definitions (XP rules, levels, streak freezes, heatmap levels, achievements) are loaded at
 *  start from seed/achievements.json and can be replaced by `definitions.set`. Every figure can
 *  be recomputed from the log by `rebuild`.
 */
#ifndef TD_ANALYTICS_H
#define TD_ANALYTICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "td_access.h"
#include "td_actor.h"
#include "td_client.h"

#define TD_ANA_SOURCE     "tutord/analytics"
#define TD_ANA_MAX_RULES  64
#define TD_ANA_MAX_ACH    256
#define TD_ANA_MAX_LEVELS 100
#define TD_ANA_NAME       64
//  One logical upstream LLM call (any purpose): accounting for the org's activity only. It is
//  logged like every event but earns no XP, counts in no learner figure and is not exported
//  as xAPI (ANALYTICS.md §1 "LLM usage").
#define TD_ANA_USAGE_TYPE "llm.usage"

//  ---------------------------------------------------------------------------------------------
//  Definitions (td_analytics_defs.c)

typedef struct {
    char id [TD_ANA_NAME];          //  rule name, stored in analytics_activity.rule
    char type [TD_ANA_NAME];        //  event type it matches exactly
    json_t *when;                   //  object: data key -> value that must be equal (or NULL)
    int xp;                         //  0..100000
    char counter [TD_ANA_NAME];     //  counter it increments ("" none)
    char once_per [TD_ANA_NAME];    //  data key: pays once per distinct value ("" always)
} td_ana_rule_t;

typedef struct {
    char id [TD_ANA_NAME];
    int tier;                       //  1..9
    char title [128];
    char description [256];
    char metric [TD_ANA_NAME];      //  "xp", "level", "streak", "active_days" or a counter name
    int64_t threshold;              //  >= 1
} td_ana_ach_t;

typedef struct {
    td_ana_rule_t rules [TD_ANA_MAX_RULES];
    size_t rule_count;
    int64_t levels [TD_ANA_MAX_LEVELS]; //  XP needed for level i+1; levels[0] == 0, ascending
    size_t level_count;
    int freeze_every;               //  a freeze is earned every N streak days (0: never)
    int freeze_max;                 //  at most this many banked
    int heat [4];                   //  day count needed for heatmap levels 1..4, ascending
    td_ana_ach_t ach [TD_ANA_MAX_ACH];
    size_t ach_count;
} td_ana_defs_t;

//  Parse and validate definitions (the body of a `definitions.set` record). New, or NULL with
//  err set (invalid_input with the field, e.g. "achievements[3].metric").
td_ana_defs_t *td_ana_defs_parse (const json_t *body, td_error_t *err);
//  Read a seed file ({"messages": [records]} or [records]) and parse the body of its
//  analytics definitions.set record. NULL with err set.
td_ana_defs_t *td_ana_defs_load (const char *path, td_error_t *err);
void td_ana_defs_destroy (td_ana_defs_t **self_p);
//  Level (1-based) reached with xp.
int td_ana_level (const td_ana_defs_t *defs, int64_t xp);

//  ---------------------------------------------------------------------------------------------
//  Streaks and heatmap levels (td_analytics_streak.c): pure functions, unit-tested.

typedef struct {
    int current;                    //  as of `today`: counts today when active, else carries
    int longest;
    int freezes;                    //  banked at the end
    int frozen_days;                //  missed days a freeze covered
} td_ana_streak_t;

//  days: active days (days since 1970-01-01), ascending and unique; days after today ignored.
void td_ana_streak (const int32_t *days, size_t n, int32_t today, int freeze_every,
                    int freeze_max, td_ana_streak_t *out);
//  Heatmap level 0..4 of a day count, given the counts needed for levels 1..4.
int td_ana_heat_level (int count, const int heat [4]);
//  "YYYY-MM-DD" <-> days since 1970-01-01 (proleptic Gregorian). -1 / false when invalid.
bool td_ana_parse_date (const char *s, int32_t *day);
void td_ana_format_date (int32_t day, char buf [11]);

//  ---------------------------------------------------------------------------------------------
//  The actor's state (analytics.c)

typedef struct td_ana_pending td_ana_pending_t;
//  The next kept leaderboard call in the list (td_analytics_board.c).
const td_ana_pending_t *td_ana_pending_next (const td_ana_pending_t *w);

typedef struct {
    td_ana_defs_t *defs;            //  owned
    zsock_t *sub;                   //  SUB on the event plane, owned
    td_client_t *client;            //  requests to identity (leaderboard members), owned
    struct td_acall *acall;         //  other calls to identity (a learner's orgs), owned
    td_ana_pending_t *pending;      //  leaderboard calls waiting for identity (list head)
    zlist_t *retry;                 //  raw events whose apply failed (DB down), zchunk_t *
    int retention_days;             //  TUTORD_ANALYTICS_RETENTION_DAYS (0: keep forever)
    int64_t next_prune_ms;          //  when retention next runs
    uint64_t applied, duplicates, failed;
    int league_size, league_promote, league_demote;     //  TUTORD_ANALYTICS_LEAGUE_*
    int64_t next_league_ms;         //  when the tick next closes ended weeks
    zhashx_t *seen;                 //  "source\x1fid" of events taken lately (journal skips them)
    int64_t journal_cursor;         //  events_journal.seq read up to (-1: not loaded yet)
    int64_t next_journal_ms;        //  when the journal is next read
    uint64_t journal_taken;         //  events the journal gave that the plane had not
    bool journal_missing;           //  no events_journal table (warned once)
} td_ana_state_t;

td_ana_state_t *td_ana_state (td_actor_t *actor);

//  ---------------------------------------------------------------------------------------------
//  Applying events (td_analytics_apply.c)

typedef struct {
    int64_t seq;                    //  analytics_events.seq
    const char *type, *user, *org;
    const char *time;               //  RFC 3339
    const json_t *data;             //  may be NULL
} td_ana_event_t;

//  Apply one stored event to the figures, inside the caller's transaction on conn. With publish,
//  the analytics.* events it causes are logged and appended to out (json objects {type, user,
//  org, data, id}) for the caller to send after COMMIT. 0, or -1 (SQL failure; roll back).
int td_ana_apply (td_actor_t *actor, PGconn *conn, const td_ana_event_t *ev, json_t *out);
//  Log an analytics.* event caused by ev (its user and org) inside the transaction and append it
//  to out for td_ana_publish_all after COMMIT. Steals data. 0 or -1.
int td_ana_emit (PGconn *conn, json_t *out, const char *type, const td_ana_event_t *ev,
                 json_t *data);
//  Publish the events td_ana_emit collected (after COMMIT; best effort).
void td_ana_publish_all (td_actor_t *actor, json_t *out);
//  One parameterised statement on conn without reconnecting (inside a transaction). NULL on
//  failure (logged).
PGresult *td_ana_q (PGconn *conn, const char *sql, int n, const char *const *params);
bool td_ana_cmd (PGconn *conn, const char *sql);

//  ---------------------------------------------------------------------------------------------
//  The event plane (td_analytics_sub.c)

int td_ana_sub_start (td_actor_t *actor);
//  Store and apply packed event envelopes in one transaction (one by one if one fails). 0, or
//  -1 when the database is unreachable (the caller keeps them all for a retry).
int td_ana_ingest_batch (td_actor_t *actor, zchunk_t **chunks, size_t n);
void td_ana_retry_tick (td_actor_t *actor);
//  Whether the actor listens to an event of this topic: its types (exactly; a name ending in '.'
//  as a prefix) and the rules' types. The SUB socket filters by prefix only, so every event
//  received is checked with this too ("llm.usage" must not take "llm.usage_daily").
bool td_ana_wanted (td_actor_t *actor, const char *topic, size_t len);
#define TD_ANA_SEEN_MAX 200000
void td_ana_seen_key (const char *source, const char *id, char *key, size_t size);

//  ---------------------------------------------------------------------------------------------
//  The event journal (td_analytics_journal.c): catch up with what the plane did not deliver.
void td_ana_journal_tick (td_actor_t *actor);

//  ---------------------------------------------------------------------------------------------
//  Verbs

//  Answers: json replies steal body.
int td_ana_reply (td_call_t *call, int status, json_t *body);
int td_ana_db_down (td_call_t *call);
//  The caller; NULL after answering 401.
td_principal_t *td_ana_principal (td_call_t *call);
//  The signed-in user's id (copied into user); false after answering 401 / 403.
bool td_ana_user (td_call_t *call, td_principal_t *p, char *user, size_t size);
//  Top-level string parameter; false when absent or not a fitting string.
bool td_ana_param (td_call_t *call, const char *key, char *buf, size_t size);
//  The org of the route's `id` when the caller is its admin, its API key or system; else false
//  after answering 404 (may not know the org) or 403 ("<what> is for the org's admins").
bool td_ana_org_admin (td_call_t *call, char *org, size_t size, const char *what);
//  Optional integer query parameter (a decimal string) in lo..hi: 0 (value set when present), or
//  -1 after answering 400 invalid_input with the key as field.
int td_ana_int_param (td_call_t *call, const char *key, int64_t lo, int64_t hi, int64_t *value);
//  Run a query whose first row's first column is JSON text: parsed, or NULL (*failed set on error).
json_t *td_ana_query_json (td_actor_t *actor, td_call_t *call, const char *sql, int n,
                           const char *const *params, bool *failed);

//  A learner's stats / achievements as the routes answer them; NULL after answering an error.
json_t *td_ana_stats_json (td_actor_t *self, td_call_t *call, const char *user,
                           const int32_t *as_of);
json_t *td_ana_achievements_json (td_actor_t *self, td_call_t *call, const char *user);
int td_ana_report (td_actor_t *self, td_call_t *call);
int td_ana_progress (td_actor_t *self, td_call_t *call);
int td_ana_stats (td_actor_t *self, td_call_t *call);
int td_ana_heatmap (td_actor_t *self, td_call_t *call);
int td_ana_achievements (td_actor_t *self, td_call_t *call);
int td_ana_settings_get (td_actor_t *self, td_call_t *call);
int td_ana_settings_put (td_actor_t *self, td_call_t *call);
int td_ana_events (td_actor_t *self, td_call_t *call);
int td_ana_leaderboard (td_actor_t *self, td_call_t *call);
int td_ana_org_leaderboard (td_actor_t *self, td_call_t *call);
int td_ana_cohort_metrics (td_actor_t *self, td_call_t *call);
int td_ana_org_activity (td_actor_t *self, td_call_t *call);
//  Answer cohort.metrics for the cohort's learners (ids: JSON array, names: id -> name).
void td_ana_metrics_answer (td_actor_t *self, td_call_t *call, const char *cohort,
                            const char *org, const json_t *ids, const json_t *names,
                            int inactive_days);
int td_ana_rebuild (td_actor_t *self, td_call_t *call);
int td_ana_definitions_set (td_actor_t *self, td_call_t *call);
int td_ana_status (td_actor_t *self, td_call_t *call);
int td_ana_xapi (td_actor_t *self, td_call_t *call);
//  A loose RFC 3339 date-time check before PostgreSQL reads one.
bool td_ana_rfc3339 (const char *s);
//  Identity replies for leaderboards (watched client socket); pending calls timing out.
void td_ana_board_on_reply (td_actor_t *self, zsock_t *sock);
void td_ana_board_fini (td_actor_t *self);
//  Retention: prune the log (tick).
void td_ana_retention_tick (td_actor_t *self);
//  Recompute a learner's days and longest streak (after a timezone change). 0 or -1.
int td_ana_recompute_days (td_actor_t *actor, PGconn *conn, const char *user);

//  ---------------------------------------------------------------------------------------------
//  Weekly leagues (td_analytics_league.c)

//  Read TUTORD_ANALYTICS_LEAGUE_SIZE / _PROMOTE / _DEMOTE into st. 0, or -1 (logged).
int td_ana_league_config (td_ana_state_t *st);
//  Add XP gained by user in org at time (RFC 3339) to that week's league (joining it). 0 or -1.
int td_ana_league_add (td_actor_t *actor, PGconn *conn, const char *org, const char *user,
                       const char *time, int64_t gained);
//  Close every week that ended before the week of today (days since 1970-01-01), each once, in
//  one transaction; analytics.league events published after COMMIT. 0 or -1.
int td_ana_league_close (td_actor_t *actor, int32_t today, int *weeks, int *members);
//  The outcome for the member at pos (1-based) of n with xp in tier: "promoted", "demoted" or
//  "stayed".
const char *td_ana_league_zone (int64_t pos, int64_t n, int64_t xp, int tier, int promote,
                                int demote);
const char *td_ana_tier_name (int tier);
//  The Monday (UTC) of the week containing ms (unix ms), as days since 1970-01-01.
int32_t td_ana_week_of (int64_t ms);
void td_ana_league_tick (td_actor_t *self);
int td_ana_league_close_verb (td_actor_t *self, td_call_t *call);
int td_ana_league (td_actor_t *self, td_call_t *call);

#endif
