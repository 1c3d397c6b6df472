/*  bench_lws_ceiling — the ceiling for the web bridge's benchmark (tools/bench/bench_me.sh): a
 *  bare libwebsockets HTTP server that answers every request with one constant JSON body.
 *
 *  Why: GET /api/v1/me through tutord does real work (verify the token with identity, then ask
 *  identity, two broker round trips and two PostgreSQL queries); this server does nothing but
 *  HTTP on the same library, one thread, keep-alive, so the ratio of the two says what the
 *  bridge and the request plane cost on top of lws itself.
 *
 *  Usage: bench_lws_ceiling PORT   (listens on 127.0.0.1:PORT until SIGINT/SIGTERM)
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_body [] =
    "{\"user\":{\"id\":\"00000000-0000-0000-0000-000000000000\",\"email\":\"bench@example.org\","
    "\"name\":\"Bench\",\"created_at\":\"2026-01-01T00:00:00.000Z\"},\"orgs\":[],\"cohorts\":[]}";
static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

//  Per connection: 0 = write headers next, 1 = write body next.
typedef struct { int stage; } s_pss_t;

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    s_pss_t *pss = (s_pss_t *) user;
    (void) in, (void) len;
    switch (reason) {
        case LWS_CALLBACK_HTTP:
            pss->stage = 0;
            lws_callback_on_writable (wsi);
            return 0;
        case LWS_CALLBACK_HTTP_WRITEABLE: {
            unsigned char buf [LWS_PRE + 1024];
            unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
            if (pss->stage == 0) {          //  one lws_write per WRITEABLE: headers first
                if (lws_add_http_common_headers (wsi, HTTP_STATUS_OK, "application/json",
                                                 sizeof s_body - 1, &p, end)
                ||  lws_finalize_write_http_header (wsi, start, &p, end))
                    return 1;
                pss->stage = 1;
                lws_callback_on_writable (wsi);
                return 0;
            }
            memcpy (start, s_body, sizeof s_body - 1);
            if (lws_write (wsi, start, sizeof s_body - 1, LWS_WRITE_HTTP_FINAL)
                != (int) (sizeof s_body - 1))
                return 1;
            pss->stage = 0;
            return lws_http_transaction_completed (wsi) ? -1 : 0;
        }
        default:
            return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

static const struct lws_protocols s_protocols [] = {
    { "http", s_callback, sizeof (s_pss_t), 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

int
main (int argc, char *argv [])
{
    int port = argc == 2 ? atoi (argv [1]) : 0;
    if (port <= 0 || port > 65535) {
        fprintf (stderr, "usage: %s PORT\n", argv [0]);
        return 2;
    }
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);
    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = s_protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    struct lws_context *context = lws_create_context (&info);
    if (!context) {
        fprintf (stderr, "bench_lws_ceiling: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    while (!s_stop)
        if (lws_service (context, 0) < 0)
            break;
    lws_context_destroy (context);
    return 0;
}
