/*  bench_lws_ceiling — the ceiling for the web bridge's benchmark (tools/bench/bench_me.sh): a
 *  bare libwebsockets HTTP server that answers every request with one constant JSON body.
 *
 *  Why: GET /api/v1/me through tutord does real work (verify the token with identity, then ask
 *  identity, two broker round trips and two PostgreSQL queries); this server does nothing but
 *  HTTP on the same library, one thread, keep-alive, so the ratio of the two says what the
 *  bridge and the request plane cost on top of lws itself.
 *
 *  Usage: bench_lws_ceiling PORT [--size BYTES | --file PATH]
 *  (listens on 127.0.0.1:PORT until SIGINT/SIGTERM). The body is a small constant JSON object,
 *  or a JSON object padded to BYTES, or the bytes of PATH (for issue 4's benchmark: the same
 *  79 KB course tree tutord answers, the fair ceiling for a reply that size). Large bodies go
 *  out in 32 KiB writes, one per WRITEABLE callback, as the bridge writes them (td_http.c).
 */
#include <libwebsockets.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_small [] =
    "{\"user\":{\"id\":\"00000000-0000-0000-0000-000000000000\",\"email\":\"bench@example.org\","
    "\"name\":\"Bench\",\"created_at\":\"2026-01-01T00:00:00.000Z\"},\"orgs\":[],\"cohorts\":[]}";
#define S_CHUNK     (32 * 1024)
#define S_MAX_BODY  (16 * 1024 * 1024)
static const char *s_body = s_small;
static size_t s_body_len = sizeof s_small - 1;
static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

//  Per connection: 0 = write headers next, 1 = write body next (from offset sent).
typedef struct { int stage; size_t sent; } s_pss_t;

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
            static unsigned char buf [LWS_PRE + S_CHUNK];     //  one thread: one buffer
            unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
            if (pss->stage == 0) {          //  one lws_write per WRITEABLE: headers first
                if (lws_add_http_common_headers (wsi, HTTP_STATUS_OK, "application/json",
                                                 s_body_len, &p, end)
                ||  lws_finalize_write_http_header (wsi, start, &p, end))
                    return 1;
                pss->stage = 1;
                pss->sent = 0;
                lws_callback_on_writable (wsi);
                return 0;
            }
            size_t left = s_body_len - pss->sent;
            size_t chunk = left > S_CHUNK ? S_CHUNK : left;
            bool last = chunk == left;
            memcpy (start, s_body + pss->sent, chunk);
            if (lws_write (wsi, start, chunk, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP)
                != (int) chunk)
                return 1;
            pss->sent += chunk;
            if (!last) {
                lws_callback_on_writable (wsi);
                return 0;
            }
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
    int port = argc == 2 || argc == 4 ? atoi (argv [1]) : 0;
    if (port <= 0 || port > 65535
    ||  (argc == 4 && strcmp (argv [2], "--size") != 0 && strcmp (argv [2], "--file") != 0)) {
        fprintf (stderr, "usage: %s PORT [--size BYTES | --file PATH]\n", argv [0]);
        return 2;
    }
    char *owned = NULL;
    if (argc == 4 && strcmp (argv [2], "--size") == 0) {
        //  {"pad":"xxx...x"}: valid JSON of exactly BYTES bytes
        char *endp = NULL;
        errno = 0;
        long long n = strtoll (argv [3], &endp, 10);
        if (errno || *endp || n < 12 || n > S_MAX_BODY) {
            fprintf (stderr, "bench_lws_ceiling: --size takes 12 to %d bytes\n", S_MAX_BODY);
            return 2;
        }
        owned = malloc ((size_t) n + 1);
        if (!owned)
            return 1;
        memset (owned, 'x', (size_t) n);
        memcpy (owned, "{\"pad\":\"", 8);
        memcpy (owned + n - 2, "\"}", 2);
        owned [n] = 0;
        s_body_len = (size_t) n;
    }
    else
    if (argc == 4) {
        FILE *f = fopen (argv [3], "rb");
        owned = f ? malloc (S_MAX_BODY) : NULL;
        size_t n = owned ? fread (owned, 1, S_MAX_BODY, f) : 0;
        bool whole = f && owned && !ferror (f) && feof (f) && n > 0;
        if (f)
            fclose (f);
        if (!whole) {
            fprintf (stderr, "bench_lws_ceiling: cannot read %s (1 byte to 16 MiB)\n", argv [3]);
            free (owned);
            return 2;
        }
        s_body_len = n;
    }
    if (owned)
        s_body = owned;
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
        free (owned);
        return 1;
    }
    while (!s_stop)
        if (lws_service (context, 0) < 0)
            break;
    lws_context_destroy (context);
    free (owned);
    return 0;
}
