/*  td_analytics_sub — the analytics actor on the event plane: a SUB socket on the broker's XPUB,
 *  polled in the actor's own loop (td_actor_watch), each event stored once and applied.
 *
 *  Exactly once: the log insert (unique on source + id) and the figures it causes are one
 *  transaction, so a duplicate, a replay or a redelivery after a restart changes nothing, and a
 *  crash between the two leaves neither. The events waiting on the socket (up to 256) share one
 *  transaction, so a burst costs one commit (one WAL flush) instead of one per event; if one of
 *  them fails, the batch is rolled back and taken again one event per transaction. When PostgreSQL is unreachable the raw event is kept in
 *  memory (bounded) and retried by the tick; an event PostgreSQL refuses for its content (a
 *  malformed time, say) is dropped with a warning, as retrying it would never succeed.
 *  The analytics.* events an event causes are published after COMMIT (best effort, like every
 *  event), and are in the log for GET /api/v1/events. The SUB filters by prefix, so each event
 *  is also checked against the exact types (td_ana_wanted): llm.usage, not llm.usage_daily.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"
#include "td_log.h"
#include "td_events.h"

#define LOG "analytics"
#define MAX_BATCH 256
#define MAX_RETRY 10000

//  Types the actor always listens to; the rules' types are added to these.
static const char *s_prefixes [] = {
    "grade.result", "srs.reviewed", "catalog.progress", "catalog.lesson_completed",
    "catalog.course_completed", "session.", "llm.done", TD_ANA_USAGE_TYPE, NULL
};

//  topic [0..len) is type (exactly), or starts with it when type ends with '.'.
static bool
s_matches (const char *type, const char *topic, size_t len)
{
    size_t n = strlen (type);
    if (n > 0 && type [n - 1] == '.')
        return n <= len && !memcmp (topic, type, n);
    return n == len && !memcmp (topic, type, n);
}

static void
s_on_event (td_actor_t *actor, zsock_t *sock)
{
    td_ana_state_t *st = td_ana_state (actor);
    zchunk_t *batch [MAX_BATCH];
    size_t n = 0;
    while (n < MAX_BATCH) {
        zframe_t *type, *body;
        zmsg_t *msg = td_events_recv (sock, n == 0, &type, &body);
        if (!msg)
            break;
        if (type && td_ana_wanted (actor, (const char *) zframe_data (type), zframe_size (type))) {
            batch [n] = zchunk_new (zframe_data (body), zframe_size (body));
            if (batch [n])
                n++;
        }
        zmsg_destroy (&msg);
    }
    //  Keep order: while older events wait for retry, newer ones queue behind them.
    int rc = n == 0 || zlist_size (st->retry)? -1: td_ana_ingest_batch (actor, batch, n);
    for (size_t i = 0; i < n; i++) {
        if (rc < 0 && zlist_size (st->retry) < MAX_RETRY)
            zlist_append (st->retry, batch [i]);
        else {
            if (rc < 0)
                st->failed++;
            zchunk_destroy (&batch [i]);
        }
    }
}

bool
td_ana_wanted (td_actor_t *actor, const char *topic, size_t len)
{
    td_ana_state_t *st = td_ana_state (actor);
    for (int i = 0; s_prefixes [i]; i++)
        if (s_matches (s_prefixes [i], topic, len))
            return true;
    for (size_t i = 0; st->defs && i < st->defs->rule_count; i++)
        if (s_matches (st->defs->rules [i].type, topic, len))
            return true;
    return false;
}

void
td_ana_seen_key (const char *source, const char *id, char *key, size_t size)
{
    snprintf (key, size, "%s\x1f%s", source? source: "", id? id: "");
}

int
td_ana_sub_start (td_actor_t *actor)
{
    td_ana_state_t *st = td_ana_state (actor);
    st->sub = zsock_new (ZMQ_SUB);
    if (!st->sub)
        return -1;
    zsock_set_rcvhwm (st->sub, 100000);
    if (zsock_connect (st->sub, "%s", td_config_events_endpoint (td_actor_config (actor))) != 0)
        return -1;
    for (int i = 0; s_prefixes [i]; i++)
        zsock_set_subscribe (st->sub, s_prefixes [i]);
    for (size_t i = 0; st->defs && i < st->defs->rule_count; i++)
        zsock_set_subscribe (st->sub, st->defs->rules [i].type);
    return td_actor_watch (actor, st->sub, s_on_event);
}

void
td_ana_publish_all (td_actor_t *actor, json_t *out)
{
    for (size_t i = 0; i < json_array_size (out); i++) {
        json_t *e = json_array_get (out, i);
        msgpack_sbuffer buf;
        msgpack_sbuffer_init (&buf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
        td_error_t err;
        if (td_json_to_mp (json_object_get (e, "data"), &pk, &err) == 0) {
            td_event_spec_t spec = {
                .id = json_string_value (json_object_get (e, "id")),
                .type = json_string_value (json_object_get (e, "type")),
                .time = json_integer_value (json_object_get (e, "time")),
                .org = json_string_value (json_object_get (e, "org")),
                .user = json_string_value (json_object_get (e, "user")),
                .data = buf.data, .data_size = buf.size };
            td_actor_publish (actor, &spec);
        }
        msgpack_sbuffer_destroy (&buf);
    }
}

typedef struct {
    uint64_t applied, duplicates, failed;
} s_counts_t;

//  Store and apply one event inside the open transaction. 0 (applied, duplicate, or not an
//  event: dropped), or -1 when a statement failed (the caller rolls back).
static int
s_one (td_actor_t *actor, PGconn *conn, const void *bytes, size_t size, json_t *out,
       s_counts_t *counts)
{
    td_error_t err;
    td_msg_t *m = td_msg_decode (TD_MSG_EVENT, bytes, size, &err);
    if (!m) {
        td_warn (LOG, NULL, "event dropped: %s", err.message);
        counts->failed++;
        return 0;
    }
    json_t *data = td_mp_to_json (td_msg_body (m), &err);
    char *text = data? json_dumps (data, JSON_COMPACT | JSON_ENCODE_ANY): NULL;
    int rc = -1;
    const char *p [] = { td_msg_source (m), td_msg_id (m), td_msg_type (m), td_msg_time (m),
                         td_msg_org (m), td_msg_user (m), td_msg_subject (m), text };
    td_ana_state_t *st = td_ana_state (actor);
    if (st->seen) {
        char key [512];
        td_ana_seen_key (td_msg_source (m), td_msg_id (m), key, sizeof key);
        if (zhashx_size (st->seen) >= TD_ANA_SEEN_MAX)
            zhashx_purge (st->seen);        //  crude but bounded: a miss only costs a duplicate
        zhashx_insert (st->seen, key, (void *) 1);
    }
    PGresult *res = td_ana_q (conn,
        "INSERT INTO analytics_events (source, id, type, at, org_id, user_id, subject, data) "
        "VALUES ($1, $2, $3, $4::timestamptz, nullif ($5, ''), nullif ($6, ''), nullif ($7, ''), "
        "        $8::jsonb) ON CONFLICT (source, id) DO NOTHING RETURNING seq", 8, p);
    if (res && PQntuples (res) == 0) {
        counts->duplicates++;
        rc = 0;
    }
    else
    if (res) {
        td_ana_event_t ev = { .seq = strtoll (PQgetvalue (res, 0, 0), NULL, 10),
                              .type = td_msg_type (m), .user = td_msg_user (m),
                              .org = td_msg_org (m), .time = td_msg_time (m), .data = data };
        rc = td_ana_apply (actor, conn, &ev, out);
        if (rc == 0)
            counts->applied++;
    }
    if (rc != 0)
        td_warn (LOG, NULL, "event %s (%s) not taken", td_msg_id (m), td_msg_type (m));
    PQclear (res);
    free (text);
    json_decref (data);
    td_msg_destroy (&m);
    return rc;
}

int
td_ana_ingest_batch (td_actor_t *actor, zchunk_t **chunks, size_t n)
{
    td_ana_state_t *st = td_ana_state (actor);
    PGconn *conn = td_db_conn (td_actor_db (actor));
    if (!conn)
        return -1;
    json_t *out = json_array ();
    if (!out)
        return -1;
    s_counts_t counts = { 0, 0, 0 };
    bool ok = td_ana_cmd (conn, "BEGIN");
    for (size_t i = 0; ok && i < n; i++)
        ok = s_one (actor, conn, zchunk_data (chunks [i]), zchunk_size (chunks [i]), out,
                    &counts) == 0;
    ok = ok && td_ana_cmd (conn, "COMMIT");
    if (ok) {
        st->applied += counts.applied;
        st->duplicates += counts.duplicates;
        st->failed += counts.failed;
        td_ana_publish_all (actor, out);
        json_decref (out);
        return 0;
    }
    json_decref (out);
    td_ana_cmd (conn, "ROLLBACK");
    if (PQstatus (conn) != CONNECTION_OK)
        return -1;                  //  the database went away: everything is retried
    if (n == 1) {
        //  A live database refusing one event refuses its content: retrying would not help.
        st->failed++;
        return 0;
    }
    //  One bad event spoiled the batch: take them one by one (those already taken are
    //  duplicates if they come again, so a retry of the whole batch is harmless).
    for (size_t i = 0; i < n; i++)
        if (td_ana_ingest_batch (actor, &chunks [i], 1) != 0)
            return -1;
    return 0;
}

void
td_ana_retry_tick (td_actor_t *actor)
{
    td_ana_state_t *st = td_ana_state (actor);
    while (zlist_size (st->retry)) {
        zchunk_t *batch [MAX_BATCH];
        size_t n = 0;
        for (zchunk_t *c = (zchunk_t *) zlist_first (st->retry); c && n < MAX_BATCH;
             c = (zchunk_t *) zlist_next (st->retry))
            batch [n++] = c;
        if (td_ana_ingest_batch (actor, batch, n) < 0)
            return;                 //  still down: try again on the next tick
        for (size_t i = 0; i < n; i++) {
            zchunk_t *c = (zchunk_t *) zlist_pop (st->retry);
            zchunk_destroy (&c);
        }
    }
}
