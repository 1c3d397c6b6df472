/*  td_error — the table of error codes (CONTRACT.md §3) and the helpers that fill a td_error_t.
 *
 *  One table maps each code to its snake_case name and HTTP-like status, so the bridge, the broker
 *  and every actor answer with the same vocabulary. Messages are made safe to put into JSON here
 *  (valid UTF-8, no control characters), because a message may quote input that was rejected.
 */
#include <stdio.h>
#include <string.h>
#include "td_error.h"
#include "td_utf8.h"

typedef struct {
    const char *name;
    int status;
} s_code_t;

static const s_code_t s_codes [TD_ERR__COUNT] = {
    [TD_OK]                         = { "ok", 200 },
    [TD_ERR_INVALID_INPUT]          = { "invalid_input", 400 },
    [TD_ERR_UNAUTHORIZED]           = { "unauthorized", 401 },
    [TD_ERR_FORBIDDEN]              = { "forbidden", 403 },
    [TD_ERR_NOT_FOUND]              = { "not_found", 404 },
    [TD_ERR_METHOD_NOT_ALLOWED]     = { "method_not_allowed", 405 },
    [TD_ERR_CONFLICT]               = { "conflict", 409 },
    [TD_ERR_TOO_LARGE]              = { "too_large", 413 },
    [TD_ERR_UNSUPPORTED_MEDIA_TYPE] = { "unsupported_media_type", 415 },
    [TD_ERR_RATE_LIMITED]           = { "rate_limited", 429 },
    [TD_ERR_INTERNAL]               = { "internal", 500 },
    [TD_ERR_NOT_IMPLEMENTED]        = { "not_implemented", 501 },
    [TD_ERR_UNAVAILABLE]            = { "unavailable", 503 },
    [TD_ERR_TIMEOUT]                = { "timeout", 504 },
    [TD_ERR_BUDGET_EXCEEDED]        = { "budget_exceeded", 429 },
};

const char *
td_errcode_name (td_errcode_t code)
{
    if ((int) code < 0 || code >= TD_ERR__COUNT)
        return "internal";
    return s_codes [code].name;
}

int
td_errcode_status (td_errcode_t code)
{
    if ((int) code < 0 || code >= TD_ERR__COUNT)
        return 500;
    return s_codes [code].status;
}

td_errcode_t
td_errcode_from_name (const char *name)
{
    if (!name)
        return TD_ERR__COUNT;
    for (int i = 0; i < TD_ERR__COUNT; i++)
        if (strcmp (s_codes [i].name, name) == 0)
            return (td_errcode_t) i;
    return TD_ERR__COUNT;
}

td_errcode_t
td_errcode_from_status (int status)
{
    if (status >= 100 && status < 400)
        return TD_OK;
    for (int i = 1; i < TD_ERR__COUNT; i++)
        if (s_codes [i].status == status)
            return (td_errcode_t) i;
    //  No exact match: the closest family.
    switch (status) {
        case 402: case 407:             return TD_ERR_UNAUTHORIZED;
        case 406: case 411: case 412:
        case 416: case 417: case 422:   return TD_ERR_INVALID_INPUT;
        case 408:                       return TD_ERR_TIMEOUT;
        case 410:                       return TD_ERR_NOT_FOUND;
        case 414: case 431:             return TD_ERR_TOO_LARGE;
        case 423: case 424:             return TD_ERR_CONFLICT;
        case 502:                       return TD_ERR_UNAVAILABLE;
        default:
            break;
    }
    if (status >= 400 && status < 500)
        return TD_ERR_INVALID_INPUT;
    return TD_ERR_INTERNAL;
}

int
td_error_set (td_error_t *err, td_errcode_t code, const char *field, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    va_list args;
    va_start (args, fmt);
    int rc = vsnprintf (err->message, sizeof (err->message), fmt, args);
    va_end (args);
    if (rc < 0)
        snprintf (err->message, sizeof (err->message), "%s", td_errcode_name (code));
    td_utf8_sanitize (err->message);
    if (field) {
        snprintf (err->field, sizeof (err->field), "%s", field);
        td_utf8_sanitize (err->field);
    }
    else
        err->field [0] = 0;
    return -1;
}

void
td_error_clear (td_error_t *err)
{
    if (!err)
        return;
    err->code = TD_OK;
    err->message [0] = 0;
    err->field [0] = 0;
}

const char *
td_errcode_message (td_errcode_t code)
{
    switch (code) {
        case TD_OK:                         return "The request succeeded.";
        case TD_ERR_INVALID_INPUT:          return "The request is invalid.";
        case TD_ERR_UNAUTHORIZED:           return "Authentication is required.";
        case TD_ERR_FORBIDDEN:              return "You are not allowed to do this.";
        case TD_ERR_NOT_FOUND:              return "The resource was not found.";
        case TD_ERR_METHOD_NOT_ALLOWED:     return "This method is not allowed here.";
        case TD_ERR_CONFLICT:               return "The request conflicts with the current state.";
        case TD_ERR_TOO_LARGE:              return "The request is too large.";
        case TD_ERR_UNSUPPORTED_MEDIA_TYPE: return "The content type is not supported.";
        case TD_ERR_RATE_LIMITED:           return "Too many requests; try again later.";
        case TD_ERR_NOT_IMPLEMENTED:        return "This is not implemented.";
        case TD_ERR_UNAVAILABLE:            return "The service is unavailable; try again later.";
        case TD_ERR_TIMEOUT:                return "The request timed out.";
        default:                            return "An internal error occurred.";
    }
}
