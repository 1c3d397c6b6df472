/*  td_utf8 — strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF). */
#ifndef TD_UTF8_H
#define TD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool td_utf8_valid (const char *s, size_t len);

#endif
