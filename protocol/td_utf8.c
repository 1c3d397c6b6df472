/*  td_utf8 — strict UTF-8 validation, on the hot path of every decoded message.
 *
 *  Accepts exactly the well-formed sequences of RFC 3629 / Unicode Table 3-7: no overlong forms,
 *  no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences. NUL is a
 *  valid code point here; callers that need C strings refuse it themselves. ASCII runs are
 *  skipped eight bytes at a time, since most protocol text is ASCII.
 */
#include <stdint.h>
#include <string.h>
#include "td_utf8.h"

//  Length of the valid sequence at s (at most len bytes), or 0 when it is not valid.
static size_t
s_sequence (const unsigned char *s, size_t len)
{
    unsigned char c = s [0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)                   //  continuation byte, or overlong 2-byte lead
        return 0;
    if (c < 0xE0) {
        if (len < 2 || (s [1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (c < 0xF0) {
        if (len < 3 || (s [1] & 0xC0) != 0x80 || (s [2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s [1] < 0xA0)      //  overlong
            return 0;
        if (c == 0xED && s [1] >= 0xA0)     //  surrogates
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (len < 4 || (s [1] & 0xC0) != 0x80 || (s [2] & 0xC0) != 0x80
        ||  (s [3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s [1] < 0x90)      //  overlong
            return 0;
        if (c == 0xF4 && s [1] >= 0x90)     //  above U+10FFFF
            return 0;
        return 4;
    }
    return 0;
}

bool
td_utf8_valid (const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t word;
            memcpy (&word, s + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        if (s [i] < 0x80) {
            i++;
            continue;
        }
        size_t n = s_sequence (s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

//  Replace each byte that does not start a valid sequence with '?'; with controls, also turn
//  ASCII control characters into spaces.
static void
s_repair (char *str, bool controls)
{
    unsigned char *s = (unsigned char *) str;
    size_t len = strlen (str);
    size_t i = 0;
    while (i < len) {
        if (s [i] < 0x80) {
            if (controls && (s [i] < 0x20 || s [i] == 0x7F))
                s [i] = ' ';
            i++;
            continue;
        }
        size_t n = s_sequence (s + i, len - i);
        if (n == 0)
            s [i++] = '?';
        else
            i += n;
    }
}

void
td_utf8_repair (char *str)
{
    s_repair (str, false);
}

void
td_utf8_sanitize (char *str)
{
    s_repair (str, true);
}
