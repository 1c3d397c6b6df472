/*  td_utf8 — strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF). */
#ifndef TD_UTF8_H
#define TD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool td_utf8_valid (const char *s, size_t len);

//  Added: make a NUL-terminated string safe for a JSON message, in place: every byte that does
//  not start a valid sequence becomes '?', every ASCII control character a space.
void td_utf8_sanitize (char *s);
//  Added: the same without touching control characters (valid UTF-8 out, newlines kept).
void td_utf8_repair (char *s);

#endif
