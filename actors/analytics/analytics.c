/*  analytics — the analytics actor: XP, levels, streaks, achievements, leaderboards and the
 *  durable event log (ANALYTICS.md).
 *
 *  It serves the "analytics" service through the broker and listens to the event plane (a SUB
 *  socket polled in its loop: td_analytics_sub.c). This file holds the verb table, the actor's
 *  state and its life cycle: init loads the definitions (TUTORD_ANALYTICS_SEED, default
 *  <source>/seed/achievements.json; a bad file ends the start with one line naming the field),
 *  reads TUTORD_ANALYTICS_RETENTION_DAYS and the league settings, opens the SUB socket and the
 *  sockets it asks identity with; the tick retries events the database could not take, catches
 *  up from the event journal, applies retention and closes ended league weeks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "td_actor_call.h"
#include "td_analytics.h"
#include "td_log.h"

#ifndef TUTORD_SOURCE_DIR
#define TUTORD_SOURCE_DIR "."
#endif
#define LOG "analytics"

static const td_verb_t s_verbs [] = {
    { "stats",              td_ana_stats },
    { "heatmap",            td_ana_heatmap },
    { "achievements",       td_ana_achievements },
    { "report",             td_ana_report },
    { "progress",           td_ana_progress },
    { "settings.get",       td_ana_settings_get },
    { "settings.put",       td_ana_settings_put },
    { "events",             td_ana_events },
    { "leaderboard",        td_ana_leaderboard },
    { "org.leaderboard",    td_ana_org_leaderboard },
    { "cohort.metrics",     td_ana_cohort_metrics },
    { "org.activity",       td_ana_org_activity },
    { "league",             td_ana_league },
    { "league.close",       td_ana_league_close_verb },
    { "rebuild",            td_ana_rebuild },
    { "definitions.set",    td_ana_definitions_set },
    { "status",             td_ana_status },
    { "xapi",               td_ana_xapi },
    { NULL, NULL }
};

td_ana_state_t *
td_ana_state (td_actor_t *actor)
{
    return (td_ana_state_t *) td_actor_state (actor);
}

static void s_fini (td_actor_t *self);

static void
s_on_acall (td_actor_t *self, zsock_t *sock)
{
    (void) sock;
    td_acall_dispatch (td_ana_state (self)->acall, self);
}

static int
s_init_state (td_actor_t *self)
{
    td_ana_state_t *st = calloc (1, sizeof *st);
    if (!st)
        return -1;
    td_actor_set_state (self, st);
    st->retry = zlist_new ();
    st->seen = zhashx_new ();
    st->journal_cursor = -1;
    if (!st->retry || !st->seen)
        return -1;
    const char *path = getenv ("TUTORD_ANALYTICS_SEED");
    char def [PATH_MAX];
    snprintf (def, sizeof def, "%s/seed/achievements.json", TUTORD_SOURCE_DIR);
    td_error_t err;
    st->defs = td_ana_defs_load (path && *path? path: def, &err);
    if (!st->defs) {
        td_error (LOG, NULL, "TUTORD_ANALYTICS_SEED: %s%s%s", err.message,
                  *err.field? " at ": "", err.field);
        return -1;
    }
    const char *ret = getenv ("TUTORD_ANALYTICS_RETENTION_DAYS");
    if (ret && *ret) {
        char *end;
        errno = 0;
        long v = strtol (ret, &end, 10);
        if (errno || *end || v < 0 || v > 36500) {
            td_error (LOG, NULL, "TUTORD_ANALYTICS_RETENTION_DAYS must be 0 (keep forever) to "
                                 "36500 days");
            return -1;
        }
        st->retention_days = (int) v;
    }
    if (td_ana_league_config (st) != 0)
        return -1;
    st->client = td_client_new (td_config_broker_endpoint (td_actor_config (self)));
    if (!st->client || td_actor_watch (self, td_client_sock (st->client), td_ana_board_on_reply))
        return -1;
    st->acall = td_acall_new (td_config_broker_endpoint (td_actor_config (self)), LOG);
    if (!st->acall || td_actor_watch (self, td_acall_sock (st->acall), s_on_acall))
        return -1;
    if (td_ana_sub_start (self) != 0) {
        td_error (LOG, NULL, "cannot subscribe to the event plane");
        return -1;
    }
    td_info (LOG, NULL, "%zu XP rules, %zu achievements, retention %d days",
             st->defs->rule_count, st->defs->ach_count, st->retention_days);
    return 0;
}

//  The framework calls fini only after a successful init, so a failed one cleans up here.
static int
s_init (td_actor_t *self)
{
    int rc = s_init_state (self);
    if (rc != 0)
        s_fini (self);
    return rc;
}

static void
s_fini (td_actor_t *self)
{
    td_ana_state_t *st = td_ana_state (self);
    if (!st)
        return;
    td_ana_board_fini (self);
    td_acall_destroy (&st->acall, self);
    while (st->retry && zlist_size (st->retry)) {
        zchunk_t *c = (zchunk_t *) zlist_pop (st->retry);
        zchunk_destroy (&c);
    }
    zlist_destroy (&st->retry);
    zhashx_destroy (&st->seen);
    zsock_destroy (&st->sub);
    td_client_destroy (&st->client);
    td_ana_defs_destroy (&st->defs);
    free (st);
    td_actor_set_state (self, NULL);
}

static void
s_tick (td_actor_t *self)
{
    td_ana_retry_tick (self);
    td_ana_journal_tick (self);
    td_ana_retention_tick (self);
    td_ana_league_tick (self);
    td_ana_board_on_reply (self, NULL);     //  answers leaderboard calls identity never did
    td_acall_expire (td_ana_state (self)->acall, self);
}

const td_actor_spec_t td_analytics_actor = {
    .name = "analytics",
    .service = "analytics",
    .needs_db = true,
    .verbs = s_verbs,
    .init = s_init,
    .fini = s_fini,
    .tick = s_tick,
    .tick_ms = 1000,
};
