/*  td_fdwatch — a plain descriptor dressed as a zpoller reader (see td_fdwatch.h for why).
 */
#include <stdlib.h>
#include "td_fdwatch.h"

//  libzmq's socket object is a few KiB; its tag probe must land inside zeroed memory.
#define TD_FDWATCH_PAD (64 * 1024)

struct td_fdwatch {
    int fd;                         //  first: zpoller reads *(SOCKET *) reader
    unsigned char pad [TD_FDWATCH_PAD];
};

td_fdwatch_t *
td_fdwatch_new (int fd)
{
    if (fd < 0)
        return NULL;
    td_fdwatch_t *self = (td_fdwatch_t *) calloc (1, sizeof *self);
    if (self)
        self->fd = fd;
    return self;
}

void
td_fdwatch_destroy (td_fdwatch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

zsock_t *
td_fdwatch_handle (td_fdwatch_t *self)
{
    return (zsock_t *) (void *) self;
}

int
td_fdwatch_fd (const td_fdwatch_t *self)
{
    return self? self->fd: -1;
}
