/*  td_peek — validate a request without allocating, and read its envelope in place.
 *
 *  Why: the broker must validate every request it routes (PROTOCOL.md §4.1) but needs only its
 *  envelope (id, rid, type, deadline). td_msg_decode copies the bytes and unpacks the whole tree
 *  into a msgpack zone (two mallocs per request), which showed up as the broker's main CPU cost.
 *  td_request_peek gives exactly the same verdict as td_msg_decode (TD_MSG_REQUEST, ...) - the
 *  same accept/refuse, error code, field and message - and returns the envelope as slices of
 *  the caller's bytes: no copy, no allocation, bounded time and stack.
 */
#ifndef TD_PEEK_H
#define TD_PEEK_H

#include <stddef.h>
#include <stdint.h>
#include "td_error.h"

//  Slices of the caller's buffer; valid as long as that buffer is. Strings are not
//  NUL-terminated, but a valid request's id/rid/type never contain NUL.
typedef struct {
    const char *id;     size_t id_len;      //  1..TD_MAX_ID bytes
    const char *rid;    size_t rid_len;     //  1..TD_MAX_ID bytes; the id when rid is absent
    const char *type;   size_t type_len;    //  a name (td_name_valid), 1..TD_MAX_NAME bytes
    int64_t deadline;                       //  unix ms, >= 0; 0 = none
    const void *auth;   size_t auth_size;   //  the encoded auth (map or nil); NULL, 0 when absent
    const void *body;   size_t body_size;   //  the encoded body (one object); NULL, 0 when absent
} td_request_view_t;

//  0 and *view filled when data holds a request that td_msg_decode (TD_MSG_REQUEST, ...) would
//  accept; else -1 with err set exactly as td_msg_decode sets it (invalid_input or too_large),
//  and *view undefined. view and err may be NULL.
int td_request_peek (const void *data, size_t size, td_request_view_t *view, td_error_t *err);

#endif
