/*  td_routes — the bridge's route table: REST path + method -> what to do with the request.
 *
 *  The table is data, so a new REST route is one line in td_routes.c: a method, a path pattern
 *  whose `{name}` segments capture path parameters, and either a local handler kind (health,
 *  metrics, ...) or the service and request type the request is forwarded to. A service or type
 *  written "{param}" is taken from that path parameter (generic routes used by tests).
 *
 *  Forwarded requests carry a msgpack body built here: a map of the path parameters, then the
 *  query parameters (a path parameter wins over a query parameter of the same name), then
 *  "client_ip": the peer address, then "body": the JSON body (nil when none). Routes flagged TD_ROUTE_RAW forward the JSON body as
 *  the request body itself.
 *
 *  Every route is public (anonymous callers allowed) or protected (401 without a valid token);
 *  see TD_ROUTE_PUBLIC / TD_ROUTE_NOAUTH and IDENTITY.md §3.
 *
 *  Everything in this file is pure (no lws, no sockets) so it is unit-tested directly.
 */
#ifndef TD_ROUTES_H
#define TD_ROUTES_H

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include "td_error.h"

typedef enum {
    TD_METHOD_GET     = 1 << 0,
    TD_METHOD_POST    = 1 << 1,
    TD_METHOD_PUT     = 1 << 2,
    TD_METHOD_PATCH   = 1 << 3,
    TD_METHOD_DELETE  = 1 << 4,
    TD_METHOD_HEAD    = 1 << 5,
    TD_METHOD_OPTIONS = 1 << 6
} td_method_t;

typedef enum {
    TD_ROUTE_FORWARD = 1,           //  forward to service/type through the broker
    TD_ROUTE_HEALTH,                //  GET /health: broker status + ping every actor
    TD_ROUTE_METRICS,               //  GET /metrics: Prometheus text
    TD_ROUTE_OPENAPI,               //  GET /api/v1/openapi.json
    TD_ROUTE_WS                     //  GET /ws: WebSocket upgrade only
} td_route_kind_t;

#define TD_ROUTE_FAULTS   0x01      //  exists only when cfg->faults (TUTORD_FAULTS=1)
#define TD_ROUTE_RAW      0x02      //  the JSON body is the request body, no wrapping
#define TD_ROUTE_PUBLIC   0x04      //  anonymous callers allowed; a token given is still verified
#define TD_ROUTE_NOAUTH   0x08      //  public, and the bearer token is ignored: the route
                                    //  authenticates by its body (login, register, refresh,
                                    //  google), so a stale token never blocks signing in again

typedef struct {
    td_method_t method;
    const char *pattern;            //  "/api/v1/services/{service}/ping"; also the metrics label
    td_route_kind_t kind;
    const char *service;            //  TD_ROUTE_FORWARD: name, or "{param}"
    const char *type;               //  TD_ROUTE_FORWARD: name, or "{param}"
    unsigned flags;
} td_route_t;

extern const td_route_t td_routes [];
extern const size_t td_routes_count;

#define TD_PARAMS_MAX      32       //  path + query parameters per request
#define TD_PARAM_NAME_MAX  64       //  bytes in a parameter name
#define TD_PARAM_VALUE_MAX 1024     //  bytes in a parameter value

//  Name/value pairs (path or query parameters), NUL-terminated, valid UTF-8.
typedef struct {
    int count;
    char name [TD_PARAMS_MAX][TD_PARAM_NAME_MAX + 1];
    char value [TD_PARAMS_MAX][TD_PARAM_VALUE_MAX + 1];
} td_params_t;

typedef enum {
    TD_MATCH_OK = 0,
    TD_MATCH_NOT_FOUND,             //  no pattern matches the path
    TD_MATCH_METHOD                 //  a pattern matches, not with this method; see *allowed
} td_match_t;

//  "GET" -> TD_METHOD_GET ...; 0 when unknown.
td_method_t td_method_parse (const char *name);
const char *td_method_name (td_method_t method);
//  Allowed-methods mask as an Allow header value ("GET, POST"). Returns buf.
char *td_allow_format (unsigned allowed, char *buf, size_t size);

//  Find the route for method + path (path without query string, already percent-decoded).
//  HEAD matches GET routes (the response then has no body).
//  Routes flagged TD_ROUTE_FAULTS are skipped unless faults. On TD_MATCH_OK sets *route and fills
//  params with the path parameters; on TD_MATCH_METHOD sets *allowed (a method mask).
td_match_t td_route_match (const td_route_t *table, size_t count, td_method_t method,
                           const char *path, bool faults, const td_route_t **route,
                           td_params_t *params, unsigned *allowed);

//  Value of a parameter, NULL when absent.
const char *td_params_get (const td_params_t *params, const char *name);
//  Add one pair (copied). 0, or -1 with err set (too many, too long, bad UTF-8).
int td_params_add (td_params_t *params, const char *name, size_t name_len,
                   const char *value, size_t value_len, td_error_t *err);

//  Service and request type of a forward route, resolving "{param}". 0, or -1 with err set
//  (404 not_found when the name is not a valid service/type name).
int td_route_target (const td_route_t *route, const td_params_t *params,
                     const char **service, const char **type, td_error_t *err);

//  Percent-decode src[0..len) into dst (size bytes incl. NUL); '+' becomes a space when
//  plus_space. -1 on a bad escape, an embedded NUL or overflow.
int td_url_decode (const char *src, size_t len, char *dst, size_t size, bool plus_space);
//  Parse a query string "a=1&b=x%20y" (without '?') into params. 0, or -1 with err set.
int td_query_parse (const char *query, td_params_t *params, td_error_t *err);
//  Split a raw request target "/p/a%20th?x=1" into a decoded path and parsed query.
//  0, or -1 with err set (400 invalid_input).
int td_target_parse (const char *target, char *path, size_t path_size, td_params_t *query,
                     td_error_t *err);

//  Pack the forwarded request body (see top): path params, query params, "client_ip" (when
//  client_ip is not NULL; a query parameter of that name is dropped), "body". body may be NULL.
//  0, or -1 with err set.
int td_route_body_pack (msgpack_sbuffer *out, const td_route_t *route, const td_params_t *path,
                        const td_params_t *query, const char *client_ip, const json_t *body,
                        td_error_t *err);

//  True when anonymous callers may use the route: routes answered by the bridge itself
//  (health, metrics, openapi, ws upgrade) and forward routes flagged PUBLIC or NOAUTH.
bool td_route_public (const td_route_t *route);
//  True when the route ignores the bearer token (TD_ROUTE_NOAUTH, or answered by the bridge).
bool td_route_noauth (const td_route_t *route);

#endif
