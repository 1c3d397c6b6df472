/*  ctl_seed — `tutorctl seed [--timeout MS] [--auth JSON] FILE|DIR...`: load seed data through
 *  the broker (CONTRACT.md §6), never straight into the database, so seed data passes the same
 *  validation and ownership rules as any other request.
 *
 *  A seed file is {"messages": [RECORD, ...]} (other top-level keys, e.g. "description", are
 *  ignored) or a bare [RECORD, ...]. A RECORD is
 *      {"service": NAME, "type": NAME, "body": ANY?, "auth": OBJECT?, "comment": STRING?}
 *  and is sent as one request; seeding twice changes nothing because seed verbs are upserts
 *  (the actors' side of the contract). A DIR contributes its *.json files, recursively, in sorted
 *  order (so 01_users.json loads before 02_courses.json). A bad file or record is reported as
 *  "FILE: record N: reason" (N counts from 1) and the rest still load; the last line is
 *  "seed: N loaded, N failed", and the exit status is 1 when anything failed.
 *
 *  Before sending anything, the broker is asked "ping", so a stopped tutord is one clear line
 *  instead of a timeout per record. No files or no records: nothing to do, no broker needed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "td_json.h"
#include "tutorctl.h"

#define S_MAX_SEED_FILE  (64 * 1024 * 1024)

typedef struct {
    char *path;
    json_t *root;                   //  NULL when the file failed to load
    json_t *records;                //  borrowed from root
} s_file_t;

typedef struct {
    s_file_t *items;
    size_t count, alloc;
    int failed;
    int loaded;
} s_seed_t;

static int
s_add_path (s_seed_t *seed, const char *path)
{
    if (seed->count == seed->alloc) {
        size_t alloc = seed->alloc? seed->alloc * 2: 32;
        s_file_t *items = realloc (seed->items, alloc * sizeof *items);
        if (!items)
            return -1;
        seed->items = items;
        seed->alloc = alloc;
    }
    seed->items [seed->count] = (s_file_t) { .path = strdup (path) };
    if (!seed->items [seed->count].path)
        return -1;
    seed->count++;
    return 0;
}

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t n = strlen (s), m = strlen (suffix);
    return n >= m && strcmp (s + n - m, suffix) == 0;
}

//  Every *.json under dir, depth first, entries in sorted (C locale) order.
static int
s_walk (s_seed_t *seed, const char *dir, int depth)
{
    if (depth > 16) {
        fprintf (stderr, "%s: folders nested too deep\n", dir);
        seed->failed++;
        return 0;
    }
    struct dirent **names = NULL;
    int n = scandir (dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf (stderr, "%s: cannot read: %s\n", dir, strerror (errno));
        seed->failed++;
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names [i]->d_name;
        char path [PATH_MAX];
        struct stat st;
        if (rc == 0 && name [0] != '.'
        &&  snprintf (path, sizeof path, "%s/%s", dir, name) < (int) sizeof path
        &&  stat (path, &st) == 0) {
            if (S_ISDIR (st.st_mode))
                rc = s_walk (seed, path, depth + 1);
            else
            if (S_ISREG (st.st_mode) && s_ends_with (name, ".json"))
                rc = s_add_path (seed, path);
        }
        free (names [i]);
    }
    free (names);
    return rc;
}

//  Read and parse one file; on failure report it and count one failure.
static void
s_load (s_seed_t *seed, s_file_t *file)
{
    td_error_t err;
    td_error_clear (&err);
    size_t size = 0;
    char *text = ctl_read_file (file->path, S_MAX_SEED_FILE, &size, &err);
    if (!text) {
        fprintf (stderr, "%s: %s\n", file->path, err.message);
        seed->failed++;
        return;
    }
    file->root = td_json_parse (text, size, S_MAX_SEED_FILE, &err);
    free (text);
    if (!file->root) {
        fprintf (stderr, "%s: %s\n", file->path, err.message);
        seed->failed++;
        return;
    }
    file->records = json_is_array (file->root)? file->root: json_object_get (file->root, "messages");
    if (!json_is_array (file->records)) {
        fprintf (stderr, "%s: expected {\"messages\": [...]} or an array of records\n", file->path);
        seed->failed++;
        json_decref (file->root);
        file->root = NULL;
        file->records = NULL;
    }
}

//  Check one record's shape. NULL when fine, else the reason (static text or into buf).
static const char *
s_check_record (json_t *rec, char *buf, size_t len)
{
    if (!json_is_object (rec))
        return "a record must be an object {\"service\", \"type\", \"body\"}";
    const char *key;
    json_t *value;
    json_object_foreach (rec, key, value) {
        if (strcmp (key, "service") && strcmp (key, "type") && strcmp (key, "body")
        &&  strcmp (key, "auth") && strcmp (key, "comment")) {
            snprintf (buf, len, "unknown field \"%.64s\" (expected service, type, body, auth, comment)", key);
            return buf;
        }
    }
    json_t *service = json_object_get (rec, "service");
    json_t *type = json_object_get (rec, "type");
    json_t *auth = json_object_get (rec, "auth");
    if (!json_is_string (service) || !td_name_valid (json_string_value (service)))
        return "\"service\" must be a service name such as \"catalog\"";
    if (!json_is_string (type) || !td_name_valid (json_string_value (type)))
        return "\"type\" must be a request type such as \"course.upsert\"";
    if (auth && !json_is_object (auth) && !json_is_null (auth))
        return "\"auth\" must be an object";
    return NULL;
}

static void
s_send_record (s_seed_t *seed, td_client_t *client, const s_file_t *file, size_t index,
               const json_t *default_auth, int timeout)
{
    json_t *rec = json_array_get (file->records, index);
    char buf [256];
    const char *reason = s_check_record (rec, buf, sizeof buf);
    if (reason) {
        fprintf (stderr, "%s: record %zu: %s\n", file->path, index + 1, reason);
        seed->failed++;
        return;
    }
    const char *service = json_string_value (json_object_get (rec, "service"));
    const char *type = json_string_value (json_object_get (rec, "type"));
    json_t *auth = json_object_get (rec, "auth");
    td_error_t err;
    td_error_clear (&err);
    td_msg_t *reply = ctl_request (client, service, type, json_object_get (rec, "body"),
                                   auth? auth: default_auth, timeout, &err);
    if (!reply) {
        if (err.code == TD_ERR_TIMEOUT)
            fprintf (stderr, "%s: record %zu: %s %s: no reply within %d ms\n",
                     file->path, index + 1, service, type, timeout);
        else
            fprintf (stderr, "%s: record %zu: %s %s: %s\n", file->path, index + 1, service, type, err.message);
        seed->failed++;
        return;
    }
    int status = td_msg_status (reply);
    if (status >= 400) {
        fprintf (stderr, "%s: record %zu: %s %s: %d %s: %s\n", file->path, index + 1, service, type,
                 status, td_errcode_name (td_msg_error (reply)), td_msg_error_message (reply));
        seed->failed++;
    }
    else
        seed->loaded++;
    td_msg_destroy (&reply);
}

static bool
s_broker_answers (td_client_t *client, int timeout)
{
    td_error_t err;
    td_error_clear (&err);
    td_msg_t *reply = ctl_request (client, "broker", "ping", NULL, NULL, timeout, &err);
    bool ok = reply && td_msg_status (reply) < 400;
    td_msg_destroy (&reply);
    return ok;
}

int
ctl_seed (const ctl_config_t *cfg, int argc, char **argv)
{
    long timeout = 10000;
    json_t *auth = NULL;
    s_seed_t seed = { 0 };
    int rc = 0, npaths = 0;
    for (int i = 0; rc == 0 && i < argc; i++) {
        if (!strcmp (argv [i], "--timeout")) {
            timeout = i + 1 < argc? ctl_parse_ms (argv [++i]): -1;
            if (timeout <= 0) {
                ctl_fail ("seed", "--timeout needs a positive number of milliseconds");
                rc = 2;
            }
        }
        else
        if (!strcmp (argv [i], "--auth")) {
            json_decref (auth);
            auth = i + 1 < argc? ctl_parse_json_arg ("seed", "--auth", argv [++i]): NULL;
            if (!json_is_object (auth)) {
                ctl_fail ("seed", "--auth needs a JSON object");
                rc = 2;
            }
        }
        else
        if (argv [i][0] == '-' && argv [i][1] != 0) {
            ctl_fail ("seed", "unknown option %s (tutorctl --help)", argv [i]);
            rc = 2;
        }
        else {
            npaths++;
            struct stat st;
            if (stat (argv [i], &st) != 0) {
                fprintf (stderr, "%s: cannot open: %s\n", argv [i], strerror (errno));
                seed.failed++;
            }
            else
            if (S_ISDIR (st.st_mode))
                rc = s_walk (&seed, argv [i], 0)? 1: 0;
            else
                rc = s_add_path (&seed, argv [i])? 1: 0;
        }
    }
    if (rc == 0 && npaths == 0) {
        ctl_fail ("seed", "usage: tutorctl seed [--timeout MS] [--auth JSON] FILE|DIR...");
        rc = 2;
    }
    //  Seeding is the operator's trusted path through the broker (CONTRACT.md §6): without a
    //  record's own auth or --auth, records go as the system caller (IDENTITY.md §2).
    if (rc == 0 && !auth) {
        auth = json_pack ("{s:s}", "kind", "system");
        if (!auth) {
            ctl_fail ("seed", "out of memory");
            rc = 1;
        }
    }
    size_t records = 0;
    for (size_t i = 0; rc == 0 && i < seed.count; i++) {
        s_load (&seed, &seed.items [i]);
        if (seed.items [i].records)
            records += json_array_size (seed.items [i].records);
    }
    if (rc == 0 && records > 0) {
        td_client_t *client = td_client_new (cfg->broker);
        if (!client || !s_broker_answers (client, timeout < 5000? (int) timeout: 5000)) {
            ctl_fail ("seed", "no broker answers at TUTORD_BROKER=%s (is tutord running?)", cfg->broker);
            seed.failed += (int) records;
        }
        else
            for (size_t i = 0; i < seed.count; i++)
                for (size_t r = 0; seed.items [i].records && r < json_array_size (seed.items [i].records); r++)
                    s_send_record (&seed, client, &seed.items [i], r, auth, (int) timeout);
        td_client_destroy (&client);
    }
    if (rc == 0) {
        printf ("seed: %d loaded, %d failed\n", seed.loaded, seed.failed);
        fflush (stdout);
        rc = seed.failed? 1: 0;
    }
    for (size_t i = 0; i < seed.count; i++) {
        free (seed.items [i].path);
        json_decref (seed.items [i].root);
    }
    free (seed.items);
    json_decref (auth);
    return rc;
}
