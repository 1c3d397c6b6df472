/*  td_fdwatch — let the actor loop poll a plain file descriptor (an epoll set, a timerfd).
 *
 *  Why: td_actor_watch takes a zsock_t, but libcurl (the llm actor) hands out raw sockets.
 *  czmq's zpoller documents that a reader may also be "a file handle": zsock_resolve first probes
 *  the pointer as a czmq socket and as a libzmq socket (reading a tag inside what it points at),
 *  then takes its first int as the descriptor. This class makes such a pointer that is safe to
 *  probe: the descriptor first, then a zeroed block larger than any libzmq socket object, so the
 *  probes read zeros that match no tag. Additive to the framework (actors/core/td_actor.c is not
 *  changed); a native td_actor_watch_fd in td_actor.c would make it unnecessary.
 *
 *  Use: td_actor_watch (actor, td_fdwatch_handle (w), fn); fn receives the same handle (never
 *  call zsock functions on it). The handle must outlive the actor loop: destroy it in fini.
 *  Only readability is polled (POLLIN), which is all an epoll set or a timerfd needs.
 */
#ifndef TD_FDWATCH_H
#define TD_FDWATCH_H

#include <czmq.h>

typedef struct td_fdwatch td_fdwatch_t;

//  fd is not owned. NULL on allocation failure or fd < 0.
td_fdwatch_t *td_fdwatch_new (int fd);
void td_fdwatch_destroy (td_fdwatch_t **self_p);
//  The pointer to give td_actor_watch.
zsock_t *td_fdwatch_handle (td_fdwatch_t *self);
int td_fdwatch_fd (const td_fdwatch_t *self);

#endif
