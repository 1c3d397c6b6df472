/*  td_health — GET /health and GET /metrics: answers built from several broker requests.
 *
 *  Runs on the bridge's lws thread (td_web_int.h). An aggregation (td_agg_t) sends its sub-requests at once — broker
 *  "status", and for health a "ping" to every domain service of td_names.h — each with a
 *  TD_WEB_PROBE_MS deadline, and answers when the last reply arrives or the deadline passes,
 *  whichever comes first; a missing reply counts as "down". So /health answers within about a
 *  second even when the broker or an actor is dead.
 *    health  200 {"status":"ok",...} when every actor answered its ping and the database is ok,
 *            else 503 {"status":"degraded",...}.
 *    metrics 200 Prometheus text with the broker gauges when the broker answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_msg.h"
#include "td_names.h"
#include "td_web_int.h"

#define S_ACTORS_MAX 16

enum { S_DB_UNKNOWN = 0, S_DB_OK, S_DB_DOWN, S_DB_NONE };

struct td_agg {
    td_job_kind_t kind;
    uint64_t serial;
    char *call_id;
    char rid [TD_WEB_RID_MAX + 1];
    int64_t deadline;
    int outstanding;
    char ids [S_ACTORS_MAX + 1][33];
    int nids;
    bool broker_ok;
    json_t *broker_status;
    bool actor_up [S_ACTORS_MAX];
    int db [S_ACTORS_MAX];
};

void
td_agg_destroy (td_agg_t **self_p)
{
    if (self_p && *self_p) {
        td_agg_t *self = *self_p;
        free (self->call_id);
        json_decref (self->broker_status);
        free (self);
        *self_p = NULL;
    }
}

static void
s_finish (td_web_t *web, td_agg_t *agg)
{
    //  Forget sub-requests still outstanding; their late replies are dropped as stale
    for (int i = 0; i < agg->nids; i++)
        zhashx_delete (web->pending, agg->ids [i]);

    if (agg->kind == TD_JOB_METRICS) {
        td_web_authcache_metrics (web);
        char *text = td_metrics_format (web->metrics, agg->broker_ok ? agg->broker_status : NULL);
        if (text) {
            td_web_answer (web, agg->serial, agg->call_id, agg->rid, 200, NULL,
                           "text/plain; version=0.0.4; charset=utf-8", text, strlen (text));
            free (text);
        }
        else
            td_web_answer_error (web, agg->serial, agg->call_id, agg->rid, TD_ERR_UNAVAILABLE,
                                 "Out of memory; retry later.", NULL);
    }
    else {
        json_t *j = json_object ();
        json_t *actors = json_object ();
        bool all_up = true, any_ok = false, any_down = false;
        size_t n = td_actor_names_count < S_ACTORS_MAX ? td_actor_names_count : S_ACTORS_MAX;
        for (size_t i = 0; i < n; i++) {
            json_object_set_new (actors, td_actor_names [i].actor,
                                 json_string (agg->actor_up [i] ? "up" : "down"));
            all_up &= agg->actor_up [i];
            any_ok |= agg->db [i] == S_DB_OK;
            any_down |= agg->db [i] == S_DB_DOWN;
        }
        bool db_ok = any_ok && !any_down;
        bool ok = all_up && db_ok;
        json_object_set_new (j, "status", json_string (ok ? "ok" : "degraded"));
        json_object_set_new (j, "db", json_string (db_ok ? "ok" : "down"));
        json_object_set_new (j, "broker", json_string (agg->broker_ok ? "ok" : "down"));
        json_object_set_new (j, "actors", actors);
        json_object_set_new (j, "llm", json_string (web->cfg->llm_provider));
        td_web_answer (web, agg->serial, agg->call_id, agg->rid, ok ? 200 : 503, j, NULL, NULL, 0);
    }
    void *handle = zlistx_find (web->aggs, agg);
    if (handle)
        zlistx_delete (web->aggs, handle);  //  destructor frees agg
}

static int
s_probe (td_web_t *web, td_agg_t *agg, int slot, const char *service, const char *type)
{
    td_pending_t *p = calloc (1, sizeof *p);
    if (!p)
        return -1;
    p->kind = agg->kind;
    p->serial = agg->serial;
    p->agg = agg;
    p->slot = slot;
    p->expire_ms = agg->deadline;
    snprintf (p->rid, sizeof p->rid, "%s", agg->rid);
    p->call_id = strdup ("");
    if (!p->call_id || td_web_send (web, p, service, type, NULL, 0, NULL, 0, agg->deadline, NULL)) {
        free (p->call_id);
        free (p);
        return -1;
    }
    snprintf (agg->ids [agg->nids++], 33, "%s", p->id);
    agg->outstanding++;
    return 0;
}

int
td_health_start (td_web_t *web, td_job_kind_t kind, uint64_t serial, const char *call_id,
                 const char *rid)
{
    td_agg_t *agg = calloc (1, sizeof *agg);
    if (agg)
        agg->call_id = strdup (call_id ? call_id : "");
    if (!agg || !agg->call_id || !zlistx_add_end (web->aggs, agg)) {
        if (agg)
            free (agg->call_id);
        free (agg);
        td_web_answer_error (web, serial, call_id, rid, TD_ERR_UNAVAILABLE,
                             "Out of memory; retry later.", NULL);
        return -1;
    }
    agg->kind = kind;
    agg->serial = serial;
    snprintf (agg->rid, sizeof agg->rid, "%s", rid);
    agg->deadline = td_now_ms () + TD_WEB_PROBE_MS;
    s_probe (web, agg, -1, TD_SERVICE_BROKER, "status");
    if (kind == TD_JOB_HEALTH) {
        size_t n = td_actor_names_count < S_ACTORS_MAX ? td_actor_names_count : S_ACTORS_MAX;
        for (size_t i = 0; i < n; i++)
            s_probe (web, agg, (int) i, td_actor_names [i].service, "ping");
    }
    if (agg->outstanding == 0)
        s_finish (web, agg);
    return 0;
}

void
td_health_reply (td_web_t *web, td_pending_t *pending, int status, const msgpack_object *body)
{
    td_agg_t *agg = pending->agg;
    int slot = pending->slot;
    zhashx_delete (web->pending, pending->id);     //  frees pending
    pending = NULL;
    if (slot < 0) {
        agg->broker_ok = status == 200;
        if (agg->broker_ok && body) {
            json_decref (agg->broker_status);
            agg->broker_status = td_mp_to_json (body, NULL);
        }
    }
    else
    if (slot < S_ACTORS_MAX) {
        agg->actor_up [slot] = status == 200;
        const msgpack_object *db = body ? td_mp_get (body, "db") : NULL;
        agg->db [slot] = !db ? S_DB_UNKNOWN
                       : td_mp_streq (db, "ok") ? S_DB_OK
                       : td_mp_streq (db, "none") ? S_DB_NONE : S_DB_DOWN;
    }
    if (--agg->outstanding <= 0)
        s_finish (web, agg);
}

void
td_health_expire (td_web_t *web, int64_t now_ms)
{
    td_agg_t *agg = (td_agg_t *) zlistx_first (web->aggs);
    while (agg) {
        td_agg_t *next = (td_agg_t *) zlistx_next (web->aggs);
        if (agg->deadline <= now_ms) {
            s_finish (web, agg);
            //  s_finish moved the list cursor; restart the walk from the start
            agg = (td_agg_t *) zlistx_first (web->aggs);
            continue;
        }
        agg = next;
    }
}
