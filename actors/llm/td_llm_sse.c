/*  td_llm_sse — the incremental event-stream parser (see td_llm_sse.h).
 */
#include <stdlib.h>
#include <string.h>
#include "td_llm_sse.h"

struct td_llm_sse {
    td_llm_sse_fn *fn;
    void *arg;
    size_t max;                     //  cap for line and data
    char *line;     size_t line_len;
    char *data;     size_t data_len;
    char event [64];
    bool has_data;
    bool last_cr;                   //  the previous byte ended a line with CR
    int failed;                     //  sticky result once non-zero
    size_t count;
};

td_llm_sse_t *
td_llm_sse_new (size_t max_event, td_llm_sse_fn *fn, void *arg)
{
    if (!fn || max_event == 0)
        return NULL;
    td_llm_sse_t *self = (td_llm_sse_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fn = fn;
    self->arg = arg;
    self->max = max_event;
    self->line = (char *) malloc (max_event + 1);
    self->data = (char *) malloc (max_event + 2);
    if (!self->line || !self->data)
        td_llm_sse_destroy (&self);
    return self;
}

void
td_llm_sse_destroy (td_llm_sse_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->line);
    free ((*self_p)->data);
    free (*self_p);
    *self_p = NULL;
}

size_t
td_llm_sse_count (const td_llm_sse_t *self)
{
    return self? self->count: 0;
}

static int
s_dispatch (td_llm_sse_t *self)
{
    int rc = 0;
    if (self->has_data) {
        //  the joined data ends in LF: drop it
        if (self->data_len > 0 && self->data [self->data_len - 1] == '\n')
            self->data_len--;
        self->data [self->data_len] = 0;
        self->count++;
        rc = self->fn (self->arg, self->event, self->data, self->data_len);
    }
    self->data_len = 0;
    self->has_data = false;
    self->event [0] = 0;
    return rc;
}

static int
s_line (td_llm_sse_t *self)
{
    char *line = self->line;
    size_t len = self->line_len;
    line [len] = 0;
    if (len == 0)
        return s_dispatch (self);
    if (line [0] == ':')
        return 0;                   //  comment (keep-alive)
    char *colon = memchr (line, ':', len);
    const char *value = "";
    size_t vlen = 0;
    if (colon) {
        *colon = 0;
        value = colon + 1;
        if (*value == ' ')
            value++;
        vlen = len - (size_t) (value - line);
    }
    if (strcmp (line, "data") == 0) {
        if (self->data_len + vlen + 1 > self->max)
            return TD_LLM_SSE_TOO_LARGE;
        memcpy (self->data + self->data_len, value, vlen);
        self->data_len += vlen;
        self->data [self->data_len++] = '\n';
        self->has_data = true;
    }
    else
    if (strcmp (line, "event") == 0) {
        if (vlen >= sizeof self->event)
            vlen = sizeof self->event - 1;
        memcpy (self->event, value, vlen);
        self->event [vlen] = 0;
    }
    //  "id", "retry" and unknown fields are ignored
    return 0;
}

int
td_llm_sse_feed (td_llm_sse_t *self, const char *bytes, size_t n)
{
    if (!self)
        return -1;
    if (self->failed)
        return self->failed;
    for (size_t i = 0; i < n; i++) {
        char c = bytes [i];
        if (c == '\n' && self->last_cr) {
            self->last_cr = false;  //  the LF of a CRLF
            continue;
        }
        self->last_cr = false;
        if (c == '\n' || c == '\r') {
            self->last_cr = c == '\r';
            int rc = s_line (self);
            self->line_len = 0;
            if (rc) {
                self->failed = rc;
                return rc;
            }
            continue;
        }
        if (self->line_len >= self->max) {
            self->failed = TD_LLM_SSE_TOO_LARGE;
            return self->failed;
        }
        self->line [self->line_len++] = c;
    }
    return 0;
}
