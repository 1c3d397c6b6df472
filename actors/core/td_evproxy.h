/*  td_evproxy — the event plane's proxy: XSUB in, XPUB out, subscriptions upstream.
 *
 *  czmq's zproxy binds inside its own thread and asserts when a bind fails, which takes the
 *  whole process down over a port another process grabbed. Here the caller binds both sockets
 *  (a failure is an error code it can report), then hands them over: td_evproxy_new starts the
 *  thread that owns them from then on. td_evproxy_destroy stops it and closes them.
 */
#ifndef TD_EVPROXY_H
#define TD_EVPROXY_H

#include <czmq.h>
#include "td_evjournal.h"

typedef struct td_evproxy td_evproxy_t;

//  Bind an XSUB on events_in and an XPUB on events_out (zsock_attach lists, "@..." binds) and
//  start proxying. local_in (NULL: none): a second XSUB, for this process's publishers, whose
//  events go to the XPUB only; remote_out (NULL: none): a second XPUB, of what came in on
//  events_in only (the local event path, td_config_events_direct). journal_skip: comma-separated
//  type prefixes the journal leaves out (checked by td_config; NULL for TD_JOURNAL_SKIP_DEFAULT,
//  "" for none). NULL when a bind fails (nothing is left bound) or on out-of-memory.
td_evproxy_t *td_evproxy_new (const char *events_in, const char *events_out, const char *local_in,
                              const char *remote_out, const char *journal_skip);
void td_evproxy_destroy (td_evproxy_t **self_p);
//  The journal's figures (td_evjournal_stats); false when this proxy has no journal.
bool td_evproxy_journal_stats (td_evproxy_t *self, td_evjournal_stats_t *stats);

#endif
