/*  td_migrate — applies the numbered SQL files of schema/ to a PostgreSQL database, each once.
 *
 *  Files are named NNNN_name.sql (NNNN: the version, a positive number; name: [a-z0-9_]). They
 *  are applied in version order, each in its own transaction together with its row in
 *  schema_migrations (version, name, checksum, applied_at), so a file is either fully applied and
 *  recorded or not at all. The whole run holds a session advisory lock (TD_MIGRATE_LOCK_KEY), so
 *  two migrators racing (two hosts starting at once) apply each file once: the second waits, then
 *  finds nothing left to do.
 *
 *  Refused, with nothing applied: a *.sql file whose name breaks the pattern, two files with one
 *  version, an applied file whose content changed (sha256 checksum) or whose name changed, an
 *  applied version whose file is gone, and a pending version below the highest applied one.
 *  Migration files must not hold their own BEGIN/COMMIT: the migrator owns the transaction. A file
 *  that ends it is refused and not recorded, but what it committed before its COMMIT stays.
 *  The files' SQL is trusted project code (PQexec); everything else is parameterised.
 */
#ifndef TD_MIGRATE_H
#define TD_MIGRATE_H

#include <libpq-fe.h>
#include "td_error.h"

//  pg_advisory_lock key: 0x7475746f72640001, "tutord" in ASCII then 1 (decimal: PostgreSQL 15
//  has no hex integer literals).
#define TD_MIGRATE_LOCK_KEY  "8391741502684135425"

//  Called after each file is applied and committed.
typedef void (td_migrate_fn) (int version, const char *name, void *arg);

//  Apply the pending files of schema_dir to the database at conninfo. Returns the number of files
//  applied (0 when up to date), or -1 with err set: unavailable (cannot connect), conflict
//  (changed/missing applied file, out-of-order version), invalid_input (bad file name, unreadable
//  file), internal (a statement failed; the message names the file, line and server error).
int td_migrate_run (const char *conninfo, const char *schema_dir,
                    td_migrate_fn *on_applied, void *arg, td_error_t *err);

//  The same on an open connection (left open, idle, outside a transaction).
int td_migrate_conn (PGconn *conn, const char *schema_dir,
                     td_migrate_fn *on_applied, void *arg, td_error_t *err);

#endif
