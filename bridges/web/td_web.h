/*  td_web — the web bridge: REST, WebSocket and static files over libwebsockets.
 *
 *  Start with zactor_new (td_web_actor, cfg); cfg (td_config_t) must outlive it. The actor
 *  answers zsock_signal 0 once listening on cfg->http_host:http_port, or signal -1 (and ends)
 *  when it cannot listen.
 *  Every caller is verified with identity's auth.verify before its request is forwarded (no
 *  cache: a revoked token is refused on the next request), requests are rate-limited per
 *  token (TUTORD_RATE_PER_TOKEN / TUTORD_RATE_BURST), and WebSocket events are filtered by
 *  the verified caller (IDENTITY.md §2-§5; td_web.c, td_webauth.h).
 *  Pipe commands: "DRAIN" -> stop taking new requests (503 unavailable with Retry-After), wait
 *  until the requests in flight are answered and written (at most TUTORD_DRAIN_MS), signal 0;
 *  "$TERM" -> close every connection and end.
 */
#ifndef TD_WEB_H
#define TD_WEB_H

#include <czmq.h>

void td_web_actor (zsock_t *pipe, void *args);

#endif
