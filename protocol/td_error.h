/*  td_error — the error codes of CONTRACT.md §3, one vocabulary for every layer.
 *
 *  Each code has a snake_case name (what clients see in {"error":{"code":…}}) and an HTTP-like
 *  status (what the reply's `status` carries). Validators fill a td_error_t and return -1; callers
 *  turn it into a reply. The contract's codes are fixed; codes beyond them (method_not_allowed,
 *  timeout, internal, not_implemented) extend it.
 */
#ifndef TD_ERROR_H
#define TD_ERROR_H

#include <stdarg.h>

typedef enum {
    TD_OK = 0,
    TD_ERR_INVALID_INPUT,           //  400 invalid_input
    TD_ERR_UNAUTHORIZED,            //  401 unauthorized
    TD_ERR_FORBIDDEN,               //  403 forbidden
    TD_ERR_NOT_FOUND,               //  404 not_found
    TD_ERR_METHOD_NOT_ALLOWED,      //  405 method_not_allowed
    TD_ERR_CONFLICT,                //  409 conflict
    TD_ERR_TOO_LARGE,               //  413 too_large
    TD_ERR_UNSUPPORTED_MEDIA_TYPE,  //  415 unsupported_media_type
    TD_ERR_RATE_LIMITED,            //  429 rate_limited
    TD_ERR_INTERNAL,                //  500 internal
    TD_ERR_NOT_IMPLEMENTED,         //  501 not_implemented
    TD_ERR_UNAVAILABLE,             //  503 unavailable
    TD_ERR_TIMEOUT,                 //  504 timeout
    TD_ERR_BUDGET_EXCEEDED,         //  429 budget_exceeded (an org's LLM token budget is spent)
    TD_ERR__COUNT
} td_errcode_t;

typedef struct {
    td_errcode_t code;
    char message [256];             //  a human sentence, no internals
    char field [64];                //  the offending field, "" when none
} td_error_t;

//  "invalid_input" etc.; "internal" for an out-of-range code.
const char *td_errcode_name (td_errcode_t code);
//  400 etc.; 500 for an out-of-range code.
int td_errcode_status (td_errcode_t code);
//  TD_ERR__COUNT when the name is unknown.
td_errcode_t td_errcode_from_name (const char *name);
//  Closest code for a status (e.g. 502 -> unavailable); TD_OK for 2xx.
td_errcode_t td_errcode_from_status (int status);
//  Fill err (may be NULL) and return -1, so `return td_error_set (...)` reads well.
//  field may be NULL. The message is truncated to fit.
int td_error_set (td_error_t *err, td_errcode_t code, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
void td_error_clear (td_error_t *err);
//  Added: a generic human sentence for a code ("The request is invalid." ...), used when a reply
//  carries no message of its own.
const char *td_errcode_message (td_errcode_t code);

#endif
