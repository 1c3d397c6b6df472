/*  td_catalog_rows — what the access check of a course needs, kept by the catalog actor, and
 *  the LISTEN connection that keeps it true (CATALOG.md §8).
 *
 *  Why: every course.get checked access with one query (the course's org, status, publish_at,
 *  visibility, tree version and whether cohorts are linked): 17 % of the machine in PostgreSQL
 *  under the catalog benchmark, for a row that changes when an author edits the course. The
 *  caller's side of the check (memberships, roles, cohorts) comes in the request's auth map,
 *  which the bridge keeps true with identity's notifications; this keeps the course's side.
 *
 *  Why it is never stale (the proof, also in CATALOG.md §8):
 *    - schema/0020's triggers send pg_notify('tutord_catalog', 'c:<course id>') in the same
 *      transaction as every change of a course row or of its cohort links, and tree changes
 *      reach the course row (tree_version), whoever writes: this actor, another catalog worker,
 *      another tutord, psql;
 *    - an entry is stored right after the query that read it, in the same verb, and only while
 *      our LISTEN is registered; a commit after that query's snapshot notifies our listener, and
 *      we drain the listener (non-blocking) before every lookup, so the notification drops the
 *      entry before it can be served again -- as soon as it has reached us;
 *    - the writes of this actor also drop the course's entry directly (td_cat_rows_forget from
 *      the writing verbs, td_cat_gate with author), so a reader is never faster than our own
 *      write's notification;
 *    - while the listener is down (not yet connected, connection lost) nothing is served from
 *      here and everything is dropped; (re)connecting starts empty. It reconnects on the tick.
 *    - time is not cached: publish_at is kept and compared with the clock on every read; what
 *      drip released to a set of cohorts is kept with the instant of its next release (from
 *      the same SQL function that counts it) and read again from then on.
 *  What remains is the delivery time of a notification between processes (sub-millisecond on
 *  one host): a read in another process that lands within it sees the previous row.
 */
#include <czmq.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_catalog.h"
#include "td_log.h"

#define LOG          "catalog"
#define MAX_ROWS     4096
#define CHANNEL      "tutord_catalog"

typedef struct {
    td_cat_course_t c;          //  published and version as stored (published: status only)
    int64_t publish_at_us;      //  -1 when none
    zhashx_t *released;         //  cohorts literal -> s_released_t: what drip released to them
} s_row_t;

//  How many modules drip has released to a set of cohorts, valid until the next release instant
//  of any of their links (the count is a step function of time that moves only then).
typedef struct {
    int modules;
    int64_t until_us;           //  INT64_MAX: until a notification
} s_released_t;

#define MAX_RELEASED 64         //  cohort sets kept per course

struct td_cat_rows {
    char *conninfo;
    PGconn *listen;             //  NULL while down
    zhashx_t *rows;             //  course id -> s_row_t
    uint64_t hits, misses, drops;
};

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
s_free (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_row_free (void **item)
{
    s_row_t *r = (s_row_t *) *item;
    if (r)
        zhashx_destroy (&r->released);
    free (r);
    *item = NULL;
}

td_cat_rows_t *
td_cat_rows_new (const char *conninfo)
{
    td_cat_rows_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conninfo = strdup (conninfo? conninfo: "");
    self->rows = zhashx_new ();
    if (!self->conninfo || !self->rows) {
        td_cat_rows_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->rows, s_row_free);
    return self;
}

void
td_cat_rows_destroy (td_cat_rows_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_cat_rows_t *self = *self_p;
    if (self->listen)
        PQfinish (self->listen);
    zhashx_destroy (&self->rows);
    free (self->conninfo);
    free (self);
    *self_p = NULL;
}

static void
s_down (td_cat_rows_t *self, const char *why)
{
    if (self->listen) {
        td_warn (LOG, NULL, "course cache off: %s", why);
        PQfinish (self->listen);
        self->listen = NULL;
    }
    zhashx_purge (self->rows);
}

void
td_cat_rows_connect (td_cat_rows_t *self)
{
    if (!self || self->listen || !*self->conninfo)
        return;
    const char *keys [] = { "dbname", "connect_timeout", "application_name", "keepalives",
                            "keepalives_idle", "keepalives_interval", "keepalives_count", NULL };
    const char *vals [] = { self->conninfo, "2", "tutord-catalog-listen", "1", "5", "2", "2", NULL };
    PGconn *conn = PQconnectdbParams (keys, vals, 1);
    PGresult *res = conn && PQstatus (conn) == CONNECTION_OK? PQexec (conn, "LISTEN " CHANNEL): NULL;
    bool ok = res && PQresultStatus (res) == PGRES_COMMAND_OK && PQsetnonblocking (conn, 1) == 0;
    PQclear (res);
    if (!ok) {
        PQfinish (conn);
        return;
    }
    zhashx_purge (self->rows);  //  nothing read before the LISTEN may be kept
    self->listen = conn;
    td_info (LOG, NULL, "course cache on (listening on " CHANNEL ")");
}

//  Read what has arrived on the listener without blocking, dropping the courses it names.
//  false when the listener is down (then nothing may be served).
static bool
s_drain (td_cat_rows_t *self)
{
    if (!self->listen)
        return false;
    if (!PQconsumeInput (self->listen) || PQstatus (self->listen) != CONNECTION_OK) {
        s_down (self, PQerrorMessage (self->listen));
        return false;
    }
    PGnotify *n;
    while ((n = PQnotifies (self->listen))) {
        if (n->extra && strncmp (n->extra, "c:", 2) == 0)
            zhashx_delete (self->rows, n->extra + 2);
        else
            zhashx_purge (self->rows);  //  a payload we do not know: drop everything
        self->drops++;
        PQfreemem (n);
    }
    return true;
}

bool
td_cat_rows_get (td_cat_rows_t *self, const char *id, td_cat_course_t *out)
{
    if (!self || !s_drain (self))
        return false;
    s_row_t *r = (s_row_t *) zhashx_lookup (self->rows, id);
    if (!r) {
        self->misses++;
        return false;
    }
    self->hits++;
    *out = r->c;
    //  TD_CAT_RELEASED, with the clock of this read
    out->published = r->c.published || (r->publish_at_us >= 0 && r->publish_at_us <= s_now_us ());
    return true;
}

void
td_cat_rows_put (td_cat_rows_t *self, const td_cat_course_t *c, bool status_published,
                 int64_t publish_at_us)
{
    //  only while listening: an entry stored now is dropped by any later commit's notification
    if (!self || !self->listen)
        return;
    s_row_t *r = calloc (1, sizeof *r);
    if (!r)
        return;
    r->released = zhashx_new ();
    if (!r->released) {
        free (r);
        return;
    }
    zhashx_set_destructor (r->released, s_free);
    r->c = *c;
    r->c.published = status_published;
    r->publish_at_us = publish_at_us;
    if (zhashx_size (self->rows) >= MAX_ROWS && !zhashx_lookup (self->rows, c->id))
        zhashx_purge (self->rows);
    zhashx_update (self->rows, c->id, r);
}

bool
td_cat_rows_released_get (td_cat_rows_t *self, const char *id, const char *cohorts, int *modules)
{
    //  td_cat_rows_get has just drained the listener for this read
    s_row_t *r = self && self->listen? (s_row_t *) zhashx_lookup (self->rows, id): NULL;
    s_released_t *e = r? (s_released_t *) zhashx_lookup (r->released, cohorts): NULL;
    if (!e || s_now_us () >= e->until_us)
        return false;
    *modules = e->modules;
    return true;
}

void
td_cat_rows_released_put (td_cat_rows_t *self, const char *id, const char *cohorts, int modules,
                          int64_t until_us)
{
    s_row_t *r = self && self->listen? (s_row_t *) zhashx_lookup (self->rows, id): NULL;
    s_released_t *e = r? calloc (1, sizeof *e): NULL;
    if (!e)
        return;
    e->modules = modules;
    e->until_us = until_us;
    if (zhashx_size (r->released) >= MAX_RELEASED && !zhashx_lookup (r->released, cohorts))
        zhashx_purge (r->released);
    zhashx_update (r->released, cohorts, e);
}

void
td_cat_rows_forget (td_cat_rows_t *self, const char *id)
{
    if (!self)
        return;
    if (id)
        zhashx_delete (self->rows, id);
    else
        zhashx_purge (self->rows);
}

void
td_cat_rows_tick (td_cat_rows_t *self)
{
    if (!self)
        return;
    if (self->listen)
        s_drain (self);
    if (!self->listen)
        td_cat_rows_connect (self);
}
