/*  td_llm_summary — the daily usage summary of issue 7 point 2 (LLM.md §3).
 *
 *  Once a UTC day has passed (checked by the actor's tick), each org's usage of that day is
 *  published as one `llm.usage_daily` event {org_id, day, prompt_tokens, completion_tokens,
 *  requests, errors, users}, and posted as Slack-compatible JSON {"text"} to the org's own
 *  webhook (its llm settings' webhook_url), else to TUTORD_LLM_USAGE_WEBHOOK when that is set,
 *  on the gateway's loop (fire and forget: nothing waits; a failing receiver is logged). The day is
 *  remembered in memory only: a restart across midnight skips that summary rather than sending
 *  it twice. `usage.summary` {day} (system only: tutorctl) sends the summary of a given day.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_llm.h"
#include "td_log.h"

static void
s_today (char buf [16])
{
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (buf, 16, "%Y-%m-%d", &tm);
}

//  Publish (and post) the summary of day; the number of orgs, or -1 when the database failed.
static int
s_summarize (td_actor_t *actor, const char *rid, const char *day)
{
    td_llm_t *llm = td_llm_state (actor);
    const char *params [] = { day };
    PGresult *res = td_db_exec (td_actor_db (actor), rid,
        "SELECT u.org_id, sum (prompt_tokens), sum (completion_tokens), sum (requests), sum (errors),"
        " count (DISTINCT user_id), coalesce (min (s.webhook_url), '')"
        " FROM llm_usage u LEFT JOIN llm_org_settings s ON s.org_id = u.org_id"
        " WHERE day = $1::date AND u.org_id <> '' GROUP BY u.org_id ORDER BY u.org_id", 1, params);
    if (!res)
        return -1;
    const char *global = getenv ("TUTORD_LLM_USAGE_WEBHOOK");
    int n = PQntuples (res);
    for (int i = 0; i < n; i++) {
        const char *org = PQgetvalue (res, i, 0);
        const char *own = PQgetvalue (res, i, 6);
        const char *hook = *own && td_llm_webhook_valid (own)? own: global;
        json_int_t v [5];
        for (int k = 0; k < 5; k++)
            v [k] = atoll (PQgetvalue (res, i, k + 1));
        json_t *data = json_pack ("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "org_id", org, "day", day,
                                  "prompt_tokens", v [0], "completion_tokens", v [1],
                                  "requests", v [2], "errors", v [3], "users", v [4]);
        td_llm_publish (actor, "llm.usage_daily", org, NULL, org, data);
        if (hook && (strncmp (hook, "http://", 7) == 0 || strncmp (hook, "https://", 8) == 0)) {
            char text [512];
            snprintf (text, sizeof text, "tutord LLM usage of org %s on %s: %lld requests "
                      "(%lld errors) by %lld users, %lld prompt + %lld completion tokens", org, day,
                      (long long) v [2], (long long) v [3], (long long) v [4], (long long) v [0],
                      (long long) v [1]);
            json_t *msg = json_pack ("{s:s}", "text", text);
            char *body = msg? json_dumps (msg, JSON_COMPACT): NULL;
            if (!body || td_llm_gw_post (llm->gw, hook, body) != 0)
                td_warn ("llm", rid, "cannot post the usage summary of org %s", org);
            free (body);
            json_decref (msg);
        }
    }
    PQclear (res);
    return n;
}

void
td_llm_summary_tick (td_actor_t *actor)
{
    td_llm_t *llm = td_llm_state (actor);
    char today [16];
    s_today (today);
    if (!*llm->summary_day)
        snprintf (llm->summary_day, sizeof llm->summary_day, "%s", today);
    else
    if (strcmp (llm->summary_day, today) != 0) {
        if (s_summarize (actor, NULL, llm->summary_day) < 0)
            return;                 //  database down: try again at the next tick
        snprintf (llm->summary_day, sizeof llm->summary_day, "%s", today);
        //  the usage keys of calls older than a week can no longer be repeated (schema/0021)
        PGresult *res = td_db_exec (td_actor_db (actor), NULL, "DELETE FROM llm_usage_keys"
                                    " WHERE at < now () - interval '7 days'", 0, NULL);
        if (!res)
            td_warn ("llm", NULL, "old usage keys could not be deleted; next day again");
        PQclear (res);
    }
}

int
td_llm_usage_summary (td_actor_t *actor, td_call_t *call)
{
    td_principal_t *p = td_llm_principal (call);
    if (!p)
        return TD_ACTOR_OK;
    bool system = td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
    td_principal_destroy (&p);
    if (!system)
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL, "only the system sends summaries"),
               TD_ACTOR_OK;
    char day [32] = "";
    if (!td_llm_param (call, "day", day, sizeof day)) {
        json_t *b = td_llm_body (call);
        const char *d = json_string_value (json_object_get (b, "day"));
        snprintf (day, sizeof day, "%s", d? d: "");
        json_decref (b);
    }
    int y, m, dd;
    char tail;
    if (strlen (day) != 10 || sscanf (day, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) != 3
    ||  m < 1 || m > 12 || dd < 1 || dd > 31)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "day", "day must be a date YYYY-MM-DD"),
               TD_ACTOR_OK;
    int n = s_summarize (actor, td_call_rid (call), day);
    if (n < 0)
        return td_llm_db_down (call);
    return td_llm_reply (call, 200, json_pack ("{s:s, s:i}", "day", day, "orgs", n));
}
