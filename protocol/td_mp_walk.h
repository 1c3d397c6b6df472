/*  td_mp_walk — one msgpack walker for td_mp_check (td_mp.c) and td_request_peek (td_peek.c).
 *
 *  Why: the broker validates every request in place with td_request_peek, which must give the
 *  verdict td_mp_check + td_msg_decode would give (tests/fuzz/fuzz_peek.c checks that). Both
 *  walk the raw bytes the same way; this header is that walk, written once. It is static
 *  inline so the broker's hot path pays no call for it.
 *
 *  Invariants (the ones td_mp.c documents):
 *    - left[0] is a pseudo-container holding the one top-level object; left[d] counts the
 *      elements still to read in the container opened at depth d (2 per map entry);
 *    - an element of a map is a key when its container's remaining count is even before it;
 *    - a container's element count never exceeds the bytes that follow its header;
 *    - every str is valid UTF-8; keys are str of at most TD_MAX_KEY bytes; 0xc1 refused; ext
 *      refused except TD_MP_EXT_JSON (JSON text: a value, checked like a str);
 *    - a container beyond max_depth is refused even when empty.
 *
 *  Use:  td_mp_walk_init; while ((rc = td_mp_walk_begin (&w, &is_key)) == 1) { ... look at
 *  w.top / w.pos (the element's first byte) ...; td_mp_walk_elem (&w, is_key, &e, err) }; then
 *  td_mp_walk_end. Errors are td_error_set's -1, with the messages the tests expect.
 */
#ifndef TD_MP_WALK_H
#define TD_MP_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "td_error.h"
#include "td_limits.h"
#include "td_mp.h"
#include "td_utf8.h"

typedef struct {
    const uint8_t *p;
    size_t size;
    size_t pos;                     //  the next element's first byte
    int top;
    int max_depth;
    uint32_t left [TD_MAX_DEPTH + 1];
    bool is_map [TD_MAX_DEPTH + 1];
} td_mp_walk_t;

typedef struct {
    size_t at;                      //  the element's first byte
    const uint8_t *str;             //  a str or JSON-text ext: its bytes (else NULL)
    uint32_t n;                     //  its length
} td_mp_elem_t;

static inline uint32_t
td_mp_walk_be (const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

static inline void
td_mp_walk_init (td_mp_walk_t *w, const uint8_t *p, size_t size, int max_depth)
{
    w->p = p;
    w->size = size;
    w->pos = 0;
    w->top = 0;
    w->max_depth = max_depth;
    w->left [0] = 1;
    w->is_map [0] = false;
}

//  Is there another element? 1 (and *is_key), 0 when the object is complete, -1 when the bytes
//  end before it.
static inline int
td_mp_walk_begin (td_mp_walk_t *w, bool *is_key, td_error_t *err)
{
    while (w->top > 0 && w->left [w->top] == 0)
        w->top--;
    if (w->top == 0 && w->left [0] == 0)
        return 0;
    *is_key = w->is_map [w->top] && (w->left [w->top] % 2 == 0);
    w->left [w->top]--;
    if (w->pos >= w->size)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
            "malformed msgpack: message ends early at byte %zu", w->pos);
    return 1;
}

//  Read the element at w->pos: its head, and a scalar's or string's bytes (checked); a
//  container is opened (its elements come next). 0, or -1.
static inline int
td_mp_walk_elem (td_mp_walk_t *w, bool is_key, td_mp_elem_t *e, td_error_t *err)
{
    const uint8_t *p = w->p;
    size_t size = w->size;
    size_t pos = w->pos;
    size_t at = pos;
    uint8_t b = p [pos++];
    size_t avail = size - pos;
    e->at = at;
    e->str = NULL;
    e->n = 0;

    int lenbytes = 0;               //  bytes of a length/count field that follows
    size_t payload = 0;             //  fixed payload of a scalar
    enum { K_SCALAR, K_STR, K_BIN, K_ARRAY, K_MAP, K_EXT } kind = K_SCALAR;
    uint32_t n = 0;

    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        ;
    else
    if (b <= 0x8f) { kind = K_MAP; n = b & 0x0f; }
    else
    if (b <= 0x9f) { kind = K_ARRAY; n = b & 0x0f; }
    else
    if (b <= 0xbf) { kind = K_STR; n = b & 0x1f; }
    else
    switch (b) {
        case 0xc4: kind = K_BIN; lenbytes = 1; break;
        case 0xc5: kind = K_BIN; lenbytes = 2; break;
        case 0xc6: kind = K_BIN; lenbytes = 4; break;
        case 0xca: payload = 4; break;
        case 0xcb: payload = 8; break;
        case 0xcc: case 0xd0: payload = 1; break;
        case 0xcd: case 0xd1: payload = 2; break;
        case 0xce: case 0xd2: payload = 4; break;
        case 0xcf: case 0xd3: payload = 8; break;
        case 0xd9: kind = K_STR; lenbytes = 1; break;
        case 0xda: kind = K_STR; lenbytes = 2; break;
        case 0xdb: kind = K_STR; lenbytes = 4; break;
        case 0xdc: kind = K_ARRAY; lenbytes = 2; break;
        case 0xdd: kind = K_ARRAY; lenbytes = 4; break;
        case 0xde: kind = K_MAP; lenbytes = 2; break;
        case 0xdf: kind = K_MAP; lenbytes = 4; break;
        case 0xc7: kind = K_EXT; lenbytes = 1; break;
        case 0xc8: kind = K_EXT; lenbytes = 2; break;
        case 0xc9: kind = K_EXT; lenbytes = 4; break;
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            kind = K_EXT;
            n = 1u << (b - 0xd4);
            break;
        default:                    //  0xc1, never used
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "malformed msgpack: invalid type byte 0x%02x at byte %zu", b, at);
    }
    if (is_key && kind != K_STR)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
            "map keys must be strings (byte %zu)", at);
    if (kind == K_EXT) {
        //  its type byte follows the length; only JSON text is taken
        size_t tpos = pos + (size_t) lenbytes;
        if (tpos >= size || p [tpos] != TD_MP_EXT_JSON)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "msgpack extension types are not accepted (byte %zu)", at);
    }
    if (lenbytes) {
        if (avail < (size_t) lenbytes)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "malformed msgpack: message ends early at byte %zu", size);
        n = td_mp_walk_be (p + pos, lenbytes);
        pos += lenbytes;
        avail -= lenbytes;
    }
    switch (kind) {
        case K_SCALAR:
            if (avail < payload)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "malformed msgpack: message ends early at byte %zu", size);
            pos += payload;
            break;
        case K_EXT:                 //  the payload is JSON text, checked as a str
        case K_STR:
        case K_BIN:
            if (kind == K_EXT) {
                pos++;              //  the type byte, checked above
                avail--;
            }
            if (n > TD_MAX_STRING)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a string or binary value of %u bytes exceeds the limit of %d bytes",
                    n, TD_MAX_STRING);
            if (is_key && n > TD_MAX_KEY)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a map key of %u bytes exceeds the limit of %d bytes", n, TD_MAX_KEY);
            if (avail < n)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "malformed msgpack: a value of %u bytes at byte %zu runs past the end",
                    n, at);
            if (kind != K_BIN) {
                if (!td_utf8_valid ((const char *) p + pos, n))
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a string at byte %zu is not valid UTF-8", at);
                e->str = p + pos;
                e->n = n;
            }
            pos += n;
            break;
        case K_ARRAY:
        case K_MAP: {
            if (n > TD_MAX_CONTAINER)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a map or array of %u entries exceeds the limit of %d", n,
                    TD_MAX_CONTAINER);
            uint64_t elements = kind == K_MAP ? 2 * (uint64_t) n : n;
            if (elements > avail)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "malformed msgpack: a container at byte %zu claims more entries "
                    "than bytes remain", at);
            if (w->top + 1 > w->max_depth)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "maps and arrays are nested deeper than %d levels", w->max_depth);
            if (elements > 0) {
                w->top++;
                w->left [w->top] = (uint32_t) elements;
                w->is_map [w->top] = kind == K_MAP;
            }
            break;
        }
    }
    w->pos = pos;
    return 0;
}

//  After the last element: one object, no trailing bytes. 0, or -1.
static inline int
td_mp_walk_end (const td_mp_walk_t *w, td_error_t *err)
{
    if (w->pos != w->size)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
            "malformed msgpack: %zu trailing bytes after the object", w->size - w->pos);
    return 0;
}

#endif
