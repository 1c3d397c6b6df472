/*  ctl_tap — `tutorctl tap [--count N] [--timeout MS] [--org ID] [--user ID] [PREFIX...]`: the
 *  event stream as JSON lines (--org / --user keep only events whose envelope names that org / user).
 *
 *  A ZeroMQ SUB socket on TUTORD_EVENTS, subscribed to each PREFIX (all events when none), prints
 *  each event's envelope (CONTRACT.md §5) as one compact JSON line and flushes, so it can be piped
 *  into jq or read line by line by a test. A message that is not [type][msgpack map] is reported
 *  on stderr and skipped. Ends on SIGINT/SIGTERM (status 0), after N events (0), or when MS pass
 *  (0 without --count; 1 with --count when fewer than N arrived).
 */
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include "td_json.h"
#include "td_limits.h"
#include "tutorctl.h"

static int64_t
s_now (void)
{
    return zclock_mono ();
}

//  Print one event; 0 printed, 1 filtered out (--org, --user), -1 skipped (reason on stderr).
static int
s_print_event (zmsg_t *msg, const char *org, const char *user)
{
    if (zmsg_size (msg) != 2) {
        ctl_fail ("tap", "skipped a message of %zu frames (expected [type][envelope])", zmsg_size (msg));
        return -1;
    }
    zframe_t *data = zmsg_last (msg);
    td_error_t err;
    td_error_clear (&err);
    json_t *j = td_mp_bytes_to_json (zframe_data (data), zframe_size (data), &err);
    if (!j || !json_is_object (j)) {
        ctl_fail ("tap", "skipped an invalid event: %s", j? "envelope is not a map": err.message);
        json_decref (j);
        return -1;
    }
    const char *eo = json_string_value (json_object_get (j, "org"));
    const char *eu = json_string_value (json_object_get (j, "user"));
    if ((org && (!eo || strcmp (eo, org))) || (user && (!eu || strcmp (eu, user)))) {
        json_decref (j);
        return 1;
    }
    char *line = json_dumps (j, JSON_COMPACT);
    json_decref (j);
    if (!line) {
        ctl_fail ("tap", "skipped an event that cannot be printed");
        return -1;
    }
    puts (line);
    fflush (stdout);
    free (line);
    return 0;
}

int
ctl_tap (const ctl_config_t *cfg, int argc, char **argv)
{
    long count = -1, timeout = -1;
    const char *org = NULL, *user = NULL;
    const char *prefixes [64];
    int nprefixes = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp (argv [i], "--count") || !strcmp (argv [i], "--timeout")) {
            long v = i + 1 < argc? ctl_parse_ms (argv [i + 1]): -1;
            if (v < 0 || (argv [i][2] == 'c' && v == 0)) {
                ctl_fail ("tap", "%s needs a positive number", argv [i]);
                return 2;
            }
            if (argv [i][2] == 'c')
                count = v;
            else
                timeout = v;
            i++;
        }
        else
        if (!strcmp (argv [i], "--org") || !strcmp (argv [i], "--user")) {
            if (i + 1 >= argc || !*argv [i + 1]) {
                ctl_fail ("tap", "%s needs an id", argv [i]);
                return 2;
            }
            if (argv [i][2] == 'o')
                org = argv [++i];
            else
                user = argv [++i];
        }
        else
        if (argv [i][0] == '-') {
            ctl_fail ("tap", "unknown option %s (tutorctl --help)", argv [i]);
            return 2;
        }
        else
        if (nprefixes == (int) (sizeof prefixes / sizeof prefixes [0])) {
            ctl_fail ("tap", "too many prefixes");
            return 2;
        }
        else
            prefixes [nprefixes++] = argv [i];
    }
    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (!sub) {
        ctl_fail ("tap", "cannot create a ZeroMQ socket");
        return 1;
    }
    zsock_set_rcvhwm (sub, 100000);
    zsock_set_maxmsgsize (sub, TD_MAX_MESSAGE + 65536);
    if (zsock_connect (sub, "%s", cfg->events)) {
        ctl_fail ("tap", "cannot connect to TUTORD_EVENTS=%s", cfg->events);
        zsock_destroy (&sub);
        return 1;
    }
    if (nprefixes == 0)
        zsock_set_subscribe (sub, "");
    for (int i = 0; i < nprefixes; i++)
        zsock_set_subscribe (sub, prefixes [i]);

    zpoller_t *poller = zpoller_new (sub, NULL);
    int64_t deadline = timeout >= 0? s_now () + timeout: -1;
    long printed = 0;
    int rc = 0;
    while (!zsys_interrupted && (count < 0 || printed < count)) {
        int wait = 1000;
        if (deadline >= 0) {
            int64_t left = deadline - s_now ();
            if (left <= 0) {
                rc = count >= 0? 1: 0;
                if (rc)
                    ctl_fail ("tap", "%ld of %ld events within %ld ms", printed, count, timeout);
                break;
            }
            if (left < wait)
                wait = (int) left;
        }
        void *which = zpoller_wait (poller, wait);
        if (!which)
            continue;               //  timeout or interrupted: the loop decides
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            continue;
        if (s_print_event (msg, org, user) == 0)
            printed++;
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    return rc;
}
