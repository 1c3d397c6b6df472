/*  td_peek — a zero-allocation request validator that reads the envelope in place (td_peek.h).
 *
 *  Why: the broker validates every request but needs only id, rid, type and deadline; doing that
 *  through td_msg_decode costs a copy of the bytes and an unpacked object tree per request.
 *
 *  How: one pass over the caller's bytes, nothing on the heap. The walker is td_mp_check_depth's
 *  (td_mp.c: same limits, same order of checks, same error messages, a fixed stack of
 *  TD_MAX_DEPTH + 1 counters), with one addition: while it is inside the top-level map it
 *  classifies each key and remembers where the value of every known envelope key starts and
 *  ends. After the walk, td_msg_decode's steps follow in its order: the top level must be a map,
 *  a repeated envelope key is refused (the first repeat in map order), then td_msg.c's request
 *  rules with its fields and messages. A first version ran td_mp_check and then a second,
 *  shallow walk of the top-level map; that second walk cost more than td_mp_check itself
 *  (120-byte request, Release: about 165 ns in two passes, 115 ns in this one, 70 ns for
 *  td_mp_check alone), hence one pass.
 *
 *  The verdict must stay identical to td_msg_decode (TD_MSG_REQUEST, ...), messages included:
 *  tests/fuzz/fuzz_peek.c checks that on arbitrary input, tests/unit/test_proto_peek.c on every
 *  rule. If td_mp_check, td_msg.c's envelope keys or its request rules change, this file must
 *  follow (the fuzz target will say so).
 *
 *  msgpack-c's view of an integer, which td_msg_decode sees through td_mp_int: every int
 *  encoding of a value in int64_t range counts, a uint64 above INT64_MAX does not, floats do not.
 */
#include <stdbool.h>
#include <string.h>
#include "td_peek.h"
#include "td_mp.h"
#include "td_limits.h"
#include "td_mp_walk.h"

//  Every key td_msg_decode knows (td_msg.c's s_field_names): a repeat of any of them is refused
//  in a request too, even of keys a request does not use.
typedef enum {
    K_V, K_ID, K_RID, K_TYPE, K_DEADLINE, K_AUTH, K_BODY, K_KIND, K_STATUS, K_SEQ, K_ERROR,
    K_SOURCE, K_TIME, K_ORG, K_USER, K_SUBJECT, K_DATA, K__COUNT
} s_key_t;

static const struct {
    const char *name;
    size_t len;
} s_keys [K__COUNT] = {
    { "v", 1 }, { "id", 2 }, { "rid", 3 }, { "type", 4 }, { "deadline", 8 }, { "auth", 4 },
    { "body", 4 }, { "kind", 4 }, { "status", 6 }, { "seq", 3 }, { "error", 5 },
    { "source", 6 }, { "time", 4 }, { "org", 3 }, { "user", 4 }, { "subject", 7 }, { "data", 4 }
};

//  Which known key s[0..len) is; K__COUNT when none. By length first, as it runs on every
//  top-level key.
static s_key_t
s_key_of (const uint8_t *s, size_t len)
{
    #define S_IS(k) (memcmp (s, s_keys [k].name, len) == 0)
    switch (len) {
        case 1: return S_IS (K_V) ? K_V : K__COUNT;
        case 2: return S_IS (K_ID) ? K_ID : K__COUNT;
        case 3: return S_IS (K_RID) ? K_RID : S_IS (K_SEQ) ? K_SEQ : S_IS (K_ORG) ? K_ORG
                     : K__COUNT;
        case 4: return S_IS (K_TYPE) ? K_TYPE : S_IS (K_BODY) ? K_BODY : S_IS (K_AUTH) ? K_AUTH
                     : S_IS (K_KIND) ? K_KIND : S_IS (K_TIME) ? K_TIME : S_IS (K_USER) ? K_USER
                     : S_IS (K_DATA) ? K_DATA : K__COUNT;
        case 5: return S_IS (K_ERROR) ? K_ERROR : K__COUNT;
        case 6: return S_IS (K_STATUS) ? K_STATUS : S_IS (K_SOURCE) ? K_SOURCE : K__COUNT;
        case 7: return S_IS (K_SUBJECT) ? K_SUBJECT : K__COUNT;
        case 8: return S_IS (K_DEADLINE) ? K_DEADLINE : K__COUNT;
        default: return K__COUNT;
    }
    #undef S_IS
}

static uint64_t
s_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

//  A str at p [0..end); sets *s and *len.
static bool
s_str (const uint8_t *p, size_t end, const char **s, size_t *len)
{
    uint8_t b = p [0];
    size_t hdr;
    if (b >= 0xa0 && b <= 0xbf)
        hdr = 1;
    else
    if (b == 0xd9)
        hdr = 2;
    else
    if (b == 0xda)
        hdr = 3;
    else
    if (b == 0xdb)
        hdr = 5;
    else
        return false;
    *s = (const char *) p + hdr;
    *len = end - hdr;               //  the object's extent is known: header + payload
    return true;
}

//  An integer as msgpack-c + td_mp_int see it: any int encoding whose value fits int64_t.
static bool
s_int (const uint8_t *p, int64_t *v)
{
    uint8_t b = p [0];
    if (b <= 0x7f)
        *v = b;
    else
    if (b >= 0xe0)
        *v = (int8_t) b;
    else
    switch (b) {
        case 0xcc: *v = p [1]; break;
        case 0xcd: *v = (int64_t) s_be (p + 1, 2); break;
        case 0xce: *v = (int64_t) s_be (p + 1, 4); break;
        case 0xcf: {
            uint64_t u = s_be (p + 1, 8);
            if (u > (uint64_t) INT64_MAX)
                return false;
            *v = (int64_t) u;
            break;
        }
        case 0xd0: *v = (int8_t) p [1]; break;
        case 0xd1: *v = (int16_t) (uint16_t) s_be (p + 1, 2); break;
        case 0xd2: *v = (int32_t) (uint32_t) s_be (p + 1, 4); break;
        case 0xd3: *v = (int64_t) s_be (p + 1, 8); break;
        default:
            return false;
    }
    return true;
}

//  Where each known key's value sits: [at, end) in the buffer; at == 0 when absent (no value
//  can start at byte 0, the map header is there).
typedef struct {
    size_t at [K__COUNT];
    size_t end [K__COUNT];
} s_fields_t;

static int
s_missing (const char *field, td_error_t *err)
{
    return td_error_set (err, TD_ERR_INVALID_INPUT, field, "field '%s' is required", field);
}

//  td_msg.c's s_get_str with nil not allowed: a str of min..max bytes without NUL.
static int
s_get_str (const uint8_t *p, const s_fields_t *f, s_key_t k, size_t min, size_t max,
           const char **s, size_t *len, td_error_t *err)
{
    const char *field = s_keys [k].name;
    if (!s_str (p + f->at [k], f->end [k] - f->at [k], s, len) || *len < min || *len > max)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
            "field '%s' must be a string of %zu to %zu bytes", field, min, max);
    if (*len && memchr (*s, 0, *len))
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
            "field '%s' must not contain NUL bytes", field);
    return 0;
}

//  td_name_valid on a slice already known to be 1..TD_MAX_NAME bytes without NUL.
static bool
s_name_valid (const char *s, size_t len)
{
    if (!(s [0] >= 'a' && s [0] <= 'z'))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = s [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        ||    c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

//  td_msg.c's s_decode_version_ids + s_decode_request, in the same order.
static int
s_request_rules (const uint8_t *p, const s_fields_t *f, td_request_view_t *view,
                 td_error_t *err)
{
    int64_t v;
    if (!f->at [K_V])
        return s_missing ("v", err);
    if (!s_int (p + f->at [K_V], &v) || v != TD_PROTOCOL_VERSION)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "v",
            "field 'v' must be the protocol version %d", TD_PROTOCOL_VERSION);
    if (!f->at [K_ID])
        return s_missing ("id", err);
    if (s_get_str (p, f, K_ID, 1, TD_MAX_ID, &view->id, &view->id_len, err))
        return -1;
    if (f->at [K_RID]) {
        if (s_get_str (p, f, K_RID, 1, TD_MAX_ID, &view->rid, &view->rid_len, err))
            return -1;
    }
    else {
        view->rid = view->id;
        view->rid_len = view->id_len;
    }
    if (!f->at [K_TYPE])
        return s_missing ("type", err);
    if (s_get_str (p, f, K_TYPE, 1, TD_MAX_NAME, &view->type, &view->type_len, err))
        return -1;
    if (!s_name_valid (view->type, view->type_len))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "type",
            "field 'type' must be a name of 1 to %d characters a-z 0-9 _ . - starting with a letter",
            TD_MAX_NAME);
    view->deadline = 0;
    if (f->at [K_DEADLINE]
    &&  (!s_int (p + f->at [K_DEADLINE], &view->deadline) || view->deadline < 0))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "deadline",
            "field '%s' must be an integer from %lld to %lld", "deadline",
            (long long) 0, (long long) INT64_MAX);
    view->auth = NULL;
    view->auth_size = 0;
    if (f->at [K_AUTH]) {
        uint8_t b = p [f->at [K_AUTH]];
        if (!((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf || b == 0xc0))
            return td_error_set (err, TD_ERR_INVALID_INPUT, "auth",
                "field 'auth' must be a map or nil");
        view->auth = p + f->at [K_AUTH];
        view->auth_size = f->end [K_AUTH] - f->at [K_AUTH];
    }
    view->body = NULL;
    view->body_size = 0;
    if (f->at [K_BODY]) {
        view->body = p + f->at [K_BODY];
        view->body_size = f->end [K_BODY] - f->at [K_BODY];
    }
    return 0;
}

int
td_request_peek (const void *data, size_t size, td_request_view_t *view, td_error_t *err)
{
    //  td_mp_check_depth (data, size, TD_MAX_DEPTH, err), by the same walker (td_mp_walk.h).
    if (size > TD_MAX_MESSAGE)
        return td_error_set (err, TD_ERR_TOO_LARGE, NULL,
            "message of %zu bytes exceeds the limit of %d bytes", size, TD_MAX_MESSAGE);
    if (size == 0 || !data)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "message is empty");

    const uint8_t *p = (const uint8_t *) data;
    td_mp_walk_t w;
    td_mp_walk_init (&w, p, size, TD_MAX_DEPTH);

    //  The envelope: where known keys' values sit, which key's value comes next (K__COUNT: an
    //  unknown key), whose value is still open, and the first repeated key.
    s_fields_t f;
    memset (f.at, 0, sizeof (f.at));
    uint32_t seen = 0;
    s_key_t next = K__COUNT, open = K__COUNT, repeated = K__COUNT;

    bool is_key;
    td_mp_elem_t e;
    int rc;
    while ((rc = td_mp_walk_begin (&w, &is_key, err)) == 1) {
        size_t at = w.pos;
        bool envelope = w.top == 1 && w.is_map [1];
        if (envelope) {
            if (is_key) {
                if (open != K__COUNT) {
                    f.end [open] = at;
                    open = K__COUNT;
                }
            }
            else
            if (next != K__COUNT) {
                if (seen & (1u << next)) {
                    if (repeated == K__COUNT)
                        repeated = next;
                }
                else {
                    seen |= 1u << next;
                    f.at [next] = at;
                    open = next;
                }
            }
        }
        if (td_mp_walk_elem (&w, is_key, &e, err))
            return -1;
        if (envelope && is_key)
            next = s_key_of (e.str, e.n);
    }
    if (rc < 0 || td_mp_walk_end (&w, err))
        return -1;
    if (open != K__COUNT)
        f.end [open] = size;

    //  td_msg_decode after td_mp_check: a map, no repeated envelope key, the request rules.
    if (!((p [0] >= 0x80 && p [0] <= 0x8f) || p [0] == 0xde || p [0] == 0xdf))
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "a message must be a msgpack map");
    if (repeated != K__COUNT)
        return td_error_set (err, TD_ERR_INVALID_INPUT, s_keys [repeated].name,
            "field '%s' appears more than once", s_keys [repeated].name);
    td_request_view_t scratch;
    return s_request_rules (p, &f, view ? view : &scratch, err);
}
