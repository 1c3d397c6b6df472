/*  td_analytics_journal — catching up from the event journal (ANALYTICS.md §1 "The journal").
 *
 *  PUB/SUB loses what is published while analytics is down (or what overflows its queues). The
 *  broker's event proxy appends every event to events_journal (actors/core/td_evjournal.c), so
 *  every second, and at once after a start, the actor reads the journal after its cursor
 *  (analytics_meta 'journal_cursor'), keeps the events it listens to (the same prefixes as its
 *  SUB) that it has not just taken from the plane (a bounded set of recent source/id keys), and
 *  applies them through the same exactly-once path as live events (td_ana_ingest_batch: a
 *  duplicate finds its row in the log and changes nothing). The cursor moves only after the
 *  batch committed; a crash in between re-reads rows that are then duplicates. The journal has a
 *  single writer, so seq grows in commit order and the cursor never skips a late row.
 *  Without the table (migration 0018 not run) or with the journal off (TUTORD_DB unset in the
 *  broker's process) there is nothing to read and the plane alone feeds the actor.
 *  Retention: rows received more than TUTORD_ANALYTICS_RETENTION_DAYS ago are deleted with the
 *  log's (td_ana_retention_tick).
 */
#include <string.h>
#include "td_analytics.h"
#include "td_log.h"

#define LOG "analytics"
#define PAGE 256
#define PAGES_PER_TICK 40           //  ~10,000 events a second at most: the plane goes on meanwhile

static int64_t
s_be64 (const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (unsigned char) p [i];
    return (int64_t) v;
}

static int
s_load_cursor (td_actor_t *self)
{
    td_ana_state_t *st = td_ana_state (self);
    PGresult *res = td_db_exec (td_actor_db (self), NULL,
        "SELECT value FROM analytics_meta WHERE key = 'journal_cursor'", 0, NULL);
    if (!res)
        return -1;
    st->journal_cursor = PQntuples (res) == 1? strtoll (PQgetvalue (res, 0, 0), NULL, 10): 0;
    PQclear (res);
    return 0;
}

static int
s_save_cursor (td_actor_t *self, int64_t cursor)
{
    char c [24];
    snprintf (c, sizeof c, "%lld", (long long) cursor);
    const char *p [] = { c };
    PGresult *res = td_db_exec (td_actor_db (self), NULL,
        "INSERT INTO analytics_meta (key, value) VALUES ('journal_cursor', $1) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", 1, p);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

//  One page after the cursor. 1 more may follow, 0 caught up, -1 failed.
static int
s_page (td_actor_t *self)
{
    td_ana_state_t *st = td_ana_state (self);
    PGconn *conn = td_db_conn (td_actor_db (self));
    if (!conn)
        return -1;
    char c [24], lim [16];
    snprintf (c, sizeof c, "%lld", (long long) st->journal_cursor);
    snprintf (lim, sizeof lim, "%d", PAGE);
    const char *p [] = { c, lim };
    PGresult *res = PQexecParams (conn, "SELECT seq, topic, body FROM events_journal "
                                        "WHERE seq > $1::bigint ORDER BY seq LIMIT $2::int",
                                  2, NULL, p, NULL, NULL, 1);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
        if (state && !strcmp (state, "42P01")) {       //  undefined_table
            if (!st->journal_missing)
                td_warn (LOG, NULL, "no events_journal table: run the migrations to catch up "
                                    "with events published while analytics was away");
            st->journal_missing = true;
        }
        PQclear (res);
        return -1;
    }
    st->journal_missing = false;
    int n = PQntuples (res);
    zchunk_t *batch [PAGE];
    size_t nb = 0;
    int64_t last = st->journal_cursor;
    for (int i = 0; i < n; i++) {
        if (PQgetlength (res, i, 0) != 8)
            continue;
        last = s_be64 (PQgetvalue (res, i, 0));
        if (!td_ana_wanted (self, PQgetvalue (res, i, 1), (size_t) PQgetlength (res, i, 1)))
            continue;
        const char *body = PQgetvalue (res, i, 2);
        size_t size = (size_t) PQgetlength (res, i, 2);
        td_error_t err;
        td_msg_t *m = td_msg_decode (TD_MSG_EVENT, body, size, &err);
        if (!m)
            continue;
        char key [512];
        td_ana_seen_key (td_msg_source (m), td_msg_id (m), key, sizeof key);
        td_msg_destroy (&m);
        if (st->seen && zhashx_lookup (st->seen, key))
            continue;               //  the plane delivered it: already in the log
        batch [nb] = zchunk_new (body, size);
        if (batch [nb])
            nb++;
    }
    PQclear (res);
    int rc = nb? td_ana_ingest_batch (self, batch, nb): 0;
    for (size_t i = 0; i < nb; i++)
        zchunk_destroy (&batch [i]);
    if (rc != 0)
        return -1;
    if (last != st->journal_cursor) {
        if (s_save_cursor (self, last) != 0)
            return -1;
        st->journal_cursor = last;
        st->journal_taken += nb;
        if (nb)
            td_info (LOG, NULL, "%zu event(s) taken from the journal (cursor %lld)", nb,
                     (long long) last);
    }
    return n == PAGE? 1: 0;
}

void
td_ana_journal_tick (td_actor_t *self)
{
    td_ana_state_t *st = td_ana_state (self);
    int64_t now = td_now_ms ();
    if (now < st->next_journal_ms)
        return;
    st->next_journal_ms = now + (st->journal_missing? 60000: 1000);
    //  Live events waiting for the database go first: the journal would only add to them.
    if (zlist_size (st->retry))
        return;
    if (st->journal_cursor < 0 && s_load_cursor (self) != 0)
        return;
    for (int i = 0; i < PAGES_PER_TICK; i++)
        if (s_page (self) != 1)
            break;
}
