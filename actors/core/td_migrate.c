/*  td_migrate — the schema migrator (see td_migrate.h for the rules it enforces).
 *
 *  A run, in order:
 *    1. read schema_dir: every NNNN_name.sql, its bytes and sha256; refuse bad names/duplicates
 *    2. take the advisory lock (blocks while another migrator runs)
 *    3. create schema_migrations if missing, read what is applied, compare with the files
 *    4. for each pending file, in version order: BEGIN; file; INSERT its row; COMMIT
 *    5. release the lock
 *  Steps 1 and 3 refuse before anything is applied, so a run either finds a consistent history
 *  or changes nothing. A failing file is rolled back with its row, and the run stops there: the
 *  files before it stay applied (each was committed on its own), the ones after it are not tried.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "td_migrate.h"

#define S_MAX_FILE   (16 * 1024 * 1024)
#define S_MAX_NAME   128

typedef struct {
    int version;
    char name [S_MAX_NAME];         //  file name without ".sql", e.g. "0001_core"
    char *sql;                      //  file contents, NUL-terminated
    size_t size;
    char checksum [65];             //  sha256, lowercase hex
} s_file_t;

typedef struct {
    s_file_t *items;
    size_t count;
    size_t alloc;
} s_files_t;

static void
s_files_free (s_files_t *files)
{
    for (size_t i = 0; i < files->count; i++)
        free (files->items [i].sql);
    free (files->items);
    memset (files, 0, sizeof *files);
}

static int
s_cmp_version (const void *a, const void *b)
{
    const s_file_t *fa = a, *fb = b;
    return (fa->version > fb->version) - (fa->version < fb->version);
}

//  NNNN_name.sql -> version and stem; false when the name breaks the pattern.
static bool
s_parse_name (const char *fname, int *version, char *stem, size_t stemlen)
{
    size_t len = strlen (fname);
    if (len < 7 || len - 4 >= stemlen || strcmp (fname + len - 4, ".sql") != 0)
        return false;
    size_t i = 0;
    long v = 0;
    while (i < len && fname [i] >= '0' && fname [i] <= '9') {
        v = v * 10 + (fname [i] - '0');
        if (++i > 9)
            return false;
    }
    if (i == 0 || v <= 0 || fname [i] != '_' || i + 1 >= len - 4)
        return false;
    for (size_t j = i + 1; j < len - 4; j++) {
        char c = fname [j];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    *version = (int) v;
    memcpy (stem, fname, len - 4);
    stem [len - 4] = 0;
    return true;
}

static int
s_read_file (const char *path, s_file_t *file, td_error_t *err)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "%s: cannot open: %s", path, strerror (errno));
    struct stat st;
    if (fstat (fileno (f), &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > S_MAX_FILE) {
        fclose (f);
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                             "%s: not a regular file of at most 16 MiB", path);
    }
    file->sql = malloc ((size_t) st.st_size + 1);
    if (!file->sql) {
        fclose (f);
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory reading %s", path);
    }
    file->size = fread (file->sql, 1, (size_t) st.st_size, f);
    int failed = ferror (f) || file->size != (size_t) st.st_size;
    fclose (f);
    if (failed)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "%s: read error", path);
    file->sql [file->size] = 0;
    if (memchr (file->sql, 0, file->size))
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "%s: holds a NUL byte", path);

    unsigned char hash [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (hash, (const unsigned char *) file->sql, file->size);
    sodium_bin2hex (file->checksum, sizeof file->checksum, hash, sizeof hash);
    return 0;
}

//  Step 1: every migration file of dir, sorted by version.
static int
s_load_files (const char *dir, s_files_t *files, td_error_t *err)
{
    DIR *d = opendir (dir);
    if (!d)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "schema folder %s: %s", dir, strerror (errno));
    int rc = 0;
    struct dirent *ent;
    while (rc == 0 && (ent = readdir (d))) {
        const char *fname = ent->d_name;
        size_t len = strlen (fname);
        if (fname [0] == '.' || len < 4 || strcmp (fname + len - 4, ".sql") != 0)
            continue;               //  README.md, editor files: not migrations
        s_file_t file = { 0 };
        if (!s_parse_name (fname, &file.version, file.name, sizeof file.name)) {
            rc = td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                               "%s/%s: migration files are named NNNN_name.sql (name: a-z, 0-9, _)", dir, fname);
            break;
        }
        char path [4096];
        if (snprintf (path, sizeof path, "%s/%s", dir, fname) >= (int) sizeof path) {
            rc = td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "schema path too long");
            break;
        }
        if (files->count == files->alloc) {
            size_t alloc = files->alloc? files->alloc * 2: 16;
            s_file_t *items = realloc (files->items, alloc * sizeof *items);
            if (!items) {
                rc = td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
                break;
            }
            files->items = items;
            files->alloc = alloc;
        }
        rc = s_read_file (path, &file, err);
        files->items [files->count++] = file;      //  freed with the list, even on failure
    }
    closedir (d);
    if (rc)
        return -1;
    qsort (files->items, files->count, sizeof *files->items, s_cmp_version);
    for (size_t i = 1; i < files->count; i++)
        if (files->items [i].version == files->items [i - 1].version)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "%s and %s have the same version",
                                 files->items [i - 1].name, files->items [i].name);
    return 0;
}

//  Run a statement without parameters that must return PGRES_COMMAND_OK or TUPLES_OK.
static int
s_exec (PGconn *conn, const char *sql, td_error_t *err)
{
    PGresult *res = PQexec (conn, sql);
    ExecStatusType st = PQresultStatus (res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = td_error_set (err, PQstatus (conn) == CONNECTION_OK? TD_ERR_INTERNAL: TD_ERR_UNAVAILABLE,
                           NULL, "migrate: %s: %s", sql, PQerrorMessage (conn));
    PQclear (res);
    return rc;
}

//  Line number (1-based) of a 1-based character position in UTF-8 text.
static int
s_line_of (const char *text, long position)
{
    int line = 1;
    long chars = 0;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        if ((*p & 0xC0) != 0x80 && ++chars >= position)
            break;
        if (*p == '\n')
            line++;
    }
    return line;
}

//  Step 4 for one file. 0, or -1 with err naming the file, line and the server's message.
static int
s_apply (PGconn *conn, const s_file_t *file, td_error_t *err)
{
    if (s_exec (conn, "BEGIN", err))
        return -1;
    PGresult *res = PQexec (conn, file->sql);
    ExecStatusType st = PQresultStatus (res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *msg = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
        const char *pos = PQresultErrorField (res, PG_DIAG_STATEMENT_POSITION);
        if (pos)
            td_error_set (err, TD_ERR_INTERNAL, NULL, "%s.sql line %d: %s", file->name,
                          s_line_of (file->sql, atol (pos)), msg? msg: PQerrorMessage (conn));
        else
            td_error_set (err, TD_ERR_INTERNAL, NULL, "%s.sql: %s", file->name,
                          msg? msg: PQerrorMessage (conn));
        PQclear (res);
        td_error_t ignored;
        s_exec (conn, "ROLLBACK", &ignored);
        return -1;
    }
    PQclear (res);
    if (PQtransactionStatus (conn) != PQTRANS_INTRANS) {
        td_error_t ignored;
        s_exec (conn, "ROLLBACK", &ignored);
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                             "%s.sql ends the migrator's transaction: remove its BEGIN/COMMIT", file->name);
    }
    char version [16];
    snprintf (version, sizeof version, "%d", file->version);
    const char *params [3] = { version, file->name, file->checksum };
    res = PQexecParams (conn,
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, now())",
        3, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        rc = td_error_set (err, TD_ERR_INTERNAL, NULL, "recording %s: %s", file->name, PQerrorMessage (conn));
    PQclear (res);
    if (rc == 0)
        rc = s_exec (conn, "COMMIT", err);
    if (rc) {
        td_error_t ignored;
        s_exec (conn, "ROLLBACK", &ignored);
    }
    return rc;
}

static const s_file_t *
s_find (const s_files_t *files, int version)
{
    for (size_t i = 0; i < files->count; i++)
        if (files->items [i].version == version)
            return &files->items [i];
    return NULL;
}

//  Step 3: compare the applied history with the files; mark which are applied.
static int
s_check_history (PGconn *conn, const s_files_t *files, bool *applied, td_error_t *err)
{
    PGresult *res = PQexec (conn, "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "reading schema_migrations: %s", PQerrorMessage (conn));
        PQclear (res);
        return -1;
    }
    int rc = 0, highest = 0;
    for (int row = 0; rc == 0 && row < PQntuples (res); row++) {
        int version = atoi (PQgetvalue (res, row, 0));
        const char *name = PQgetvalue (res, row, 1);
        const char *checksum = PQgetvalue (res, row, 2);
        const s_file_t *file = s_find (files, version);
        if (!file)
            rc = td_error_set (err, TD_ERR_CONFLICT, NULL,
                               "migration %s is applied but its file is missing from the schema folder", name);
        else
        if (strcmp (file->name, name) != 0)
            rc = td_error_set (err, TD_ERR_CONFLICT, NULL,
                               "version %d was applied as %s but the file is now %s.sql", version, name, file->name);
        else
        if (strcmp (file->checksum, checksum) != 0)
            rc = td_error_set (err, TD_ERR_CONFLICT, NULL,
                               "%s.sql changed after it was applied (checksum differs): add a new migration instead",
                               name);
        else
            applied [file - files->items] = true;
        if (version > highest)
            highest = version;
    }
    PQclear (res);
    for (size_t i = 0; rc == 0 && i < files->count; i++)
        if (!applied [i] && files->items [i].version < highest)
            rc = td_error_set (err, TD_ERR_CONFLICT, NULL,
                               "%s.sql is pending but a later version (%d) is already applied: renumber it",
                               files->items [i].name, highest);
    return rc;
}

int
td_migrate_conn (PGconn *conn, const char *schema_dir,
                 td_migrate_fn *on_applied, void *arg, td_error_t *err)
{
    if (!conn || PQstatus (conn) != CONNECTION_OK)
        return td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "migrate: no database connection");
    if (sodium_init () < 0)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "migrate: libsodium failed to initialise");
    s_files_t files = { 0 };
    if (s_load_files (schema_dir, &files, err)) {
        s_files_free (&files);
        return -1;
    }
    if (s_exec (conn, "SELECT pg_advisory_lock(" TD_MIGRATE_LOCK_KEY ")", err)) {
        s_files_free (&files);
        return -1;
    }
    int applied_now = 0;
    bool *applied = calloc (files.count + 1, sizeof *applied);
    int rc = applied? 0: td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
    if (rc == 0)
        rc = s_exec (conn,
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version int PRIMARY KEY,"
            " name text NOT NULL,"
            " checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())", err);
    if (rc == 0)
        rc = s_check_history (conn, &files, applied, err);
    for (size_t i = 0; rc == 0 && i < files.count; i++) {
        if (applied [i])
            continue;
        rc = s_apply (conn, &files.items [i], err);
        if (rc == 0) {
            applied_now++;
            if (on_applied)
                on_applied (files.items [i].version, files.items [i].name, arg);
        }
    }
    td_error_t unlock_err;
    if (s_exec (conn, "SELECT pg_advisory_unlock(" TD_MIGRATE_LOCK_KEY ")", &unlock_err) && rc == 0)
        rc = td_error_set (err, unlock_err.code, NULL, "%s", unlock_err.message);
    free (applied);
    s_files_free (&files);
    return rc? -1: applied_now;
}

static void
s_notice_quiet (void *arg, const char *message)
{
    (void) arg;
    (void) message;                 //  "relation already exists, skipping" is not news
}

int
td_migrate_run (const char *conninfo, const char *schema_dir,
                td_migrate_fn *on_applied, void *arg, td_error_t *err)
{
    PGconn *conn = PQconnectdb (conninfo? conninfo: "");
    if (!conn)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "migrate: out of memory");
    if (PQstatus (conn) != CONNECTION_OK) {
        char msg [200];
        snprintf (msg, sizeof msg, "%s", PQerrorMessage (conn));
        msg [strcspn (msg, "\n")] = 0;
        PQfinish (conn);
        return td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "cannot connect to PostgreSQL: %s", msg);
    }
    PQsetNoticeProcessor (conn, s_notice_quiet, NULL);
    int rc = td_migrate_conn (conn, schema_dir, on_applied, arg, err);
    PQfinish (conn);
    return rc;
}
