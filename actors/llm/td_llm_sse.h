/*  td_llm_sse — an incremental Server-Sent Events parser (the WHATWG event-stream format).
 *
 *  Upstream LLM streams arrive as arbitrary byte slices; this turns them into whole events
 *  (event name + data) and calls back once per event. Lines end in LF, CRLF or CR (a CRLF split
 *  across two slices counts once); "data:" lines are joined with LF; ":" lines are comments; a
 *  blank line dispatches. Bounded: a line or an event's data longer than the caps is an error,
 *  so a hostile upstream cannot grow memory without limit.
 */
#ifndef TD_LLM_SSE_H
#define TD_LLM_SSE_H

#include <stdbool.h>
#include <stddef.h>

//  Called per event; event is "" when the record had no "event:" line. data is NUL-terminated.
//  A non-zero return stops the parser: td_llm_sse_feed returns it.
typedef int (td_llm_sse_fn) (void *arg, const char *event, const char *data, size_t len);

typedef struct td_llm_sse td_llm_sse_t;

//  max_event: cap on one event's data (bytes). NULL on allocation failure.
td_llm_sse_t *td_llm_sse_new (size_t max_event, td_llm_sse_fn *fn, void *arg);
void td_llm_sse_destroy (td_llm_sse_t **self_p);
//  Feed bytes. 0; -1 when a line or event is over the cap (TD_LLM_SSE_TOO_LARGE) or memory ran
//  out; else the callback's non-zero return. After a non-zero return the parser is spent.
#define TD_LLM_SSE_TOO_LARGE (-1)
int td_llm_sse_feed (td_llm_sse_t *self, const char *bytes, size_t n);
//  Events dispatched so far.
size_t td_llm_sse_count (const td_llm_sse_t *self);

#endif
