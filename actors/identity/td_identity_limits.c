/*  td_identity_limits — failed-login limits per account and per client address (IDENTITY.md §4).
 *
 *  Failures are rows in identity_login_failures, so every identity worker in every process counts
 *  the same attempts. Before a password is checked, the failures of the account (lowercased email)
 *  and of the address within TUTORD_LOGIN_WINDOW_S are counted; at the limit the login is
 *  answered 429 without checking the password, with retry_after = the seconds until the oldest
 *  counted failure leaves the window. A refused attempt is not recorded (it would extend the
 *  block forever); a successful login clears its account's failures. The tick deletes rows
 *  older than the window.
 */
#include <stdio.h>
#include <stdlib.h>
#include "td_identity.h"
#include "td_log.h"

//  Seconds until scope/key is free again, 0 when under max; -1 on failure.
static int
s_wait (td_db_t *db, td_call_t *call, const char *scope, const char *key, int max, int window)
{
    char win [16], lim [16];
    snprintf (win, sizeof win, "%d", window);
    snprintf (lim, sizeof lim, "%d", max);
    const char *p [] = { scope, key, win, lim };
    //  The oldest of the newest `max` failures decides when one slot frees up.
    PGresult *res = id_exec (call, db,
        "SELECT count(*) >= $4::int, "
        "       greatest(1, ceil(extract(epoch FROM "
        "           (SELECT min(at) FROM (SELECT at FROM identity_login_failures "
        "                                  WHERE scope = $1 AND key = $2 "
        "                                    AND at > now() - make_interval(secs => $3::int) "
        "                                  ORDER BY at DESC LIMIT $4::int) t) "
        "           + make_interval(secs => $3::int) - now())))::int "
        "FROM identity_login_failures "
        "WHERE scope = $1 AND key = $2 AND at > now() - make_interval(secs => $3::int)", 4, p);
    if (!res)
        return -1;
    int wait = 0;
    if (PQntuples (res) == 1 && PQgetvalue (res, 0, 0) [0] == 't')
        wait = atoi (PQgetvalue (res, 0, 1));
    PQclear (res);
    return wait < 0? 1: wait;
}

int
id_limits_check (td_actor_t *self, td_call_t *call, const char *account, const char *ip)
{
    id_state_t *st = td_actor_state (self);
    int window = st->cfg->login_window_s > 0? st->cfg->login_window_s: 900;
    int per_account = st->cfg->login_max_per_account > 0? st->cfg->login_max_per_account: 5;
    int per_ip = st->cfg->login_max_per_ip > 0? st->cfg->login_max_per_ip: 50;
    int a = s_wait (td_actor_db (self), call, "account", account, per_account, window);
    if (a < 0)
        return -1;
    int b = 0;
    if (ip && *ip && (b = s_wait (td_actor_db (self), call, "ip", ip, per_ip, window)) < 0)
        return -1;
    return a > b? a: b;
}

void
id_limits_fail (td_actor_t *self, td_call_t *call, const char *account, const char *ip)
{
    const char *p [] = { account, ip && *ip? ip: NULL };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "INSERT INTO identity_login_failures (scope, key) "
        "SELECT 'account', $1 UNION ALL SELECT 'ip', $2 WHERE $2::text IS NOT NULL", 2, p);
    if (!res)
        td_warn (td_actor_name (self), td_call_rid (call), "cannot record a failed login");
    PQclear (res);
}

void
id_limits_clear (td_actor_t *self, td_call_t *call, const char *account)
{
    const char *p [] = { account };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "DELETE FROM identity_login_failures WHERE scope = 'account' AND key = $1", 1, p);
    PQclear (res);
}

void
id_limits_cleanup (td_actor_t *self)
{
    id_state_t *st = td_actor_state (self);
    char win [16];
    snprintf (win, sizeof win, "%d", st->cfg->login_window_s > 0? st->cfg->login_window_s: 900);
    const char *p [] = { win };
    PGresult *res = td_db_exec (td_actor_db (self), NULL,
        "DELETE FROM identity_login_failures WHERE at < now() - make_interval(secs => $1::int)",
        1, p);
    PQclear (res);
}
