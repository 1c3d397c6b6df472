/*  td_llm_turn — one streamed answer of the tutor, or one one-shot helper's completion: the
 *  state shared by td_llm_turn.c (streaming, guard, recording) and td_llm_tutor.c (the verbs).
 */
#ifndef TD_LLM_TURN_H
#define TD_LLM_TURN_H

#include "td_llm.h"

struct td_llm_turn {
    td_llm_turn_t *next, *prev;     //  in llm->turns (doubly linked: O(1) unlink)
    td_llm_t *llm;
    char session [64], message [64], user [64], org [64], mode [16], rid [64];
    char provider [16], model [128];
    char purpose [16];              //  one-shot: hint, feedback, explain, complexity, evaluate
    json_t *item;                   //  full item or NULL
    char *text;     size_t len, cap;    //  the answer so far
    size_t sent;                    //  bytes of text already published (exam mode holds back)
    uint64_t stream;                //  0 for offline
    bool exam;                      //  hold text back to line ends and check it
    bool guard;                     //  check the answer against the reference solution
    td_call_t *call;                //  one-shot helper: the kept call answered at the end
    char *fallback;                 //  one-shot: the offline answer, used when withheld
    td_llm_post_fn *post;           //  one-shot: validates and shapes the answer (or NULL)
    //  a tutor turn waiting for the learner's draft before it starts (td_llm_tutor.c)
    td_llm_org_cfg_t *pending_cfg;  //  the org's settings (key included: zeroed when freed)
    char *pending_system;
    json_t *pending_history;
    bool cancel_requested;          //  cancelled while waiting: ends as cancelled, never starts
    bool storing;                   //  tutor.message: its rows are being written (no 202 yet)
    //  once the stream ended (stream 0): the outcome as reported (ok, code, message, model,
    //  usage), kept while its rows are written (td_llm_dbq), until llm.done / the reply and free
    td_llm_result_t end;
};

//  The turn streaming in session, or NULL.
td_llm_turn_t *td_llm_turn_of (td_llm_t *llm, const char *session);
//  Link into llm->turns (and the session index when t->session is set).
void td_llm_turn_link (td_llm_t *llm, td_llm_turn_t *t);
//  Unlink from llm->turns and free.
void td_llm_turn_free (td_llm_turn_t *t);
//  The gateway's callbacks for a turn (arg is the turn): text as it comes, and the end.
int td_llm_turn_delta (void *arg, const char *text, size_t len);
void td_llm_turn_done (void *arg, const td_llm_result_t *result);
//  Answer the turn with the offline provider at once.
void td_llm_turn_offline (td_llm_turn_t *t, const char *text, int turn);
//  Seconds until the next UTC month (Retry-After of a spent budget).
int td_llm_seconds_to_next_month (void);
//  End every streaming turn (recorded as cancelled).
void td_llm_turn_stop_all (td_llm_t *llm);
//  Free whatever turn is left (none, once the lookups are stopped too).
void td_llm_turn_free_all (td_llm_t *llm);

#endif
