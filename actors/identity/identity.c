/*  identity — the identity actor: accounts, tokens, organisations, cohorts, roles and API keys.
 *
 *  It serves the "identity" service through the broker; the verbs and their routes are in
 *  IDENTITY.md §3, and the handlers in the td_identity_*.c files beside this one (td_identity.h
 *  lists them). The backbone gives it its run loop (actors/core/td_actor.c): registration,
 *  heartbeats, its PostgreSQL connection, `ping` for /health, and supervision.
 *
 *  init makes the dummy password hash (so a login for an unknown account costs the same as one
 *  for a known account) and the Google key cache; the tick deletes expired login failures.
 */
#include <stdlib.h>
#include <string.h>
#include "td_identity.h"
#include "td_log.h"

static const td_verb_t s_verbs [] = {
    { "register",             id_register },
    { "login",                id_login },
    { "refresh",              id_refresh },
    { "logout",               id_logout },
    { "google",               id_google_signin },
    { "password.change",      id_password_change },
    { "me",                   id_me },
    { "auth.verify",          id_auth_verify },
    { "auth.user",            id_auth_user },
    { "org.create",           id_org_create },
    { "org.get",              id_org_get },
    { "org.members",          id_org_members },
    { "org.member.add",       id_org_member_add },
    { "org.member.role",      id_org_member_role },
    { "org.member.remove",    id_org_member_remove },
    { "cohort.list",          id_cohort_list },
    { "cohort.create",        id_cohort_create },
    { "cohort.get",           id_cohort_get },
    { "cohort.member.add",    id_cohort_member_add },
    { "cohort.member.remove", id_cohort_member_remove },
    { "apikey.list",          id_apikey_list },
    { "apikey.create",        id_apikey_create },
    { "apikey.revoke",        id_apikey_revoke },
    { "org.seed",             id_org_seed },
    { NULL, NULL }
};

static int
s_init (td_actor_t *self)
{
    if (sodium_init () < 0) {
        td_error (td_actor_name (self), NULL, "libsodium failed to initialise");
        return -1;
    }
    id_state_t *st = calloc (1, sizeof *st);
    if (!st)
        return -1;
    st->cfg = td_actor_config (self);
    unsigned char noise [16];
    char pw [33];
    randombytes_buf (noise, sizeof noise);
    sodium_bin2hex (pw, sizeof pw, noise, sizeof noise);
    if (id_password_hash (st->cfg, pw, st->dummy_hash) != 0) {
        td_error (td_actor_name (self), NULL, "cannot hash passwords (out of memory?)");
        free (st);
        return -1;
    }
    if (*st->cfg->google_jwks)
        st->google = id_google_new (st->cfg);
    //  The LISTEN thread; the `me` cache unless TUTORD_IDENTITY_ME_CACHE=0 (for comparisons)
    const char *mc = getenv ("TUTORD_IDENTITY_ME_CACHE");
    st->lsn = id_listen_start (st->cfg->db, !(mc && strcmp (mc, "0") == 0));
    if (!st->lsn)
        td_warn (td_actor_name (self), NULL, "no LISTEN thread: `me` is not cached and "
                 "revocations are answered without waiting for the bridges");
    td_actor_set_state (self, st);
    return 0;
}

static void
s_fini (td_actor_t *self)
{
    id_state_t *st = td_actor_state (self);
    if (st) {
        id_listen_stop (&st->lsn);
        id_google_destroy (&st->google);
        free (st);
        td_actor_set_state (self, NULL);
    }
}

static void
s_tick (td_actor_t *self)
{
    id_limits_cleanup (self);
}

const td_actor_spec_t td_identity_actor = {
    .name = "identity",
    .service = "identity",
    .needs_db = true,
    .verbs = s_verbs,
    .init = s_init,
    .fini = s_fini,
    .tick = s_tick,
    .tick_ms = 60000,
};
