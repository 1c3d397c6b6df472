/*  ctl_call — `tutorctl call [--timeout MS] [--auth JSON] SERVICE TYPE [JSON|-]`: one request.
 *
 *  Sends TYPE to SERVICE through the broker with the JSON body (nil when absent; "-" reads it from
 *  stdin), waits for the final reply and prints the whole reply envelope as one JSON line
 *  ({"v","id","rid","kind","status","body"|"error"}). Exit 0 for a status below 400, 1 for an
 *  error reply or no reply (timeout, no broker), 2 for bad usage. Handy in scripts and tests:
 *      tutorctl call broker ping
 *      tutorctl call catalog course.get '{"id":"py101"}'
 */
#include <stdio.h>
#include <string.h>
#include "td_json.h"
#include "tutorctl.h"

int
ctl_call (const ctl_config_t *cfg, int argc, char **argv)
{
    long timeout = 10000;
    const char *auth_text = NULL;
    const char *pos [3];
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp (argv [i], "--timeout")) {
            timeout = i + 1 < argc? ctl_parse_ms (argv [++i]): -1;
            if (timeout <= 0) {
                ctl_fail ("call", "--timeout needs a positive number of milliseconds");
                return 2;
            }
        }
        else
        if (!strcmp (argv [i], "--auth")) {
            if (i + 1 >= argc) {
                ctl_fail ("call", "--auth needs a JSON object");
                return 2;
            }
            auth_text = argv [++i];
        }
        else
        if (argv [i][0] == '-' && argv [i][1] != 0) {
            ctl_fail ("call", "unknown option %s (tutorctl --help)", argv [i]);
            return 2;
        }
        else
        if (npos < 3)
            pos [npos++] = argv [i];
        else {
            ctl_fail ("call", "usage: tutorctl call SERVICE TYPE [JSON|-]");
            return 2;
        }
    }
    if (npos < 2) {
        ctl_fail ("call", "usage: tutorctl call SERVICE TYPE [JSON|-]");
        return 2;
    }
    json_t *body = npos == 3? ctl_parse_json_arg ("call", "the body", pos [2]): NULL;
    if (npos == 3 && !body)
        return 2;
    json_t *auth = auth_text? ctl_parse_json_arg ("call", "--auth", auth_text): NULL;
    if (auth_text && !auth) {
        json_decref (body);
        return 2;
    }
    int rc = 1;
    td_client_t *client = td_client_new (cfg->broker);
    if (!client)
        ctl_fail ("call", "cannot connect to TUTORD_BROKER=%s", cfg->broker);
    else {
        td_error_t err;
        td_error_clear (&err);
        td_msg_t *reply = ctl_request (client, pos [0], pos [1], body, auth, (int) timeout, &err);
        if (!reply) {
            if (err.code == TD_ERR_TIMEOUT)
                ctl_fail ("call", "no reply from %s within %ld ms (is tutord running at TUTORD_BROKER=%s?)",
                          pos [0], timeout, cfg->broker);
            else
                ctl_fail ("call", "%s", err.message);
        }
        else {
            if (ctl_print_msg (reply))
                ctl_fail ("call", "the reply cannot be printed as JSON");
            else
                rc = td_msg_status (reply) < 400? 0: 1;
            td_msg_destroy (&reply);
        }
        td_client_destroy (&client);
    }
    json_decref (body);
    json_decref (auth);
    return rc;
}
