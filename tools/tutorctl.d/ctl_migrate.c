/*  ctl_migrate — `tutorctl migrate [DIR]`: apply pending schema migrations (td_migrate.c).
 *
 *  Run by tools/up and tools/check before tutord starts, and by operators before an upgrade.
 *  Safe to run from several hosts at once: the migrator holds an advisory lock.
 */
#include <stdio.h>
#include <string.h>
#include "td_migrate.h"
#include "tutorctl.h"

static void
s_applied (int version, const char *name, void *arg)
{
    (void) version;
    (void) arg;
    printf ("migrate: applied %s\n", name);
    fflush (stdout);
}

int
ctl_migrate (const ctl_config_t *cfg, int argc, char **argv)
{
    if (argc > 1 || (argc == 1 && argv [0][0] == '-')) {
        ctl_fail ("migrate", "usage: tutorctl migrate [DIR]");
        return 2;
    }
    const char *dir = argc == 1? argv [0]: cfg->schema;
    td_error_t err;
    td_error_clear (&err);
    int applied = td_migrate_run (cfg->db, dir, s_applied, NULL, &err);
    if (applied < 0) {
        ctl_fail ("migrate", "%s", err.message);
        return 1;
    }
    printf ("migrate: %d applied, database up to date\n", applied);
    return 0;
}
