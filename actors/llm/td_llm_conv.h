/*  td_llm_conv — conversation practice (issue 7 point 4, LLM.md §7): the structured analysis of
 *  each learner turn, the vocabulary snapshot a conversation session keeps, and the cards route.
 *
 *  Files: td_llm_conv.c (the analysis of a turn: model or offline, validated, stored, published;
 *  the vocabulary snapshot at session start), td_llm_conv_words.c (pure text rules: words, the
 *  course's vocabulary, article agreement, the offline analysis; unit-tested), td_llm_conv_cards.c
 *  (tutor.cards: detected words become SRS cards through srs), td_llm_schema.c (the validator).
 */
#ifndef TD_LLM_CONV_H
#define TD_LLM_CONV_H

#include "td_llm.h"

//  --- td_llm_conv_words.c (no state, no I/O) ---
//  A word lower-cased (ASCII, and the Latin-1 letters of UTF-8 such as Ä Ö Ü) into out.
void td_llm_word_fold (const char *in, size_t n, char *out, size_t outlen);
//  The vocabulary entries of a course tree (catalog course.get): [{item_id, title, content}],
//  at most max.
json_t *td_llm_vocab_from_course (const json_t *course, size_t max);
//  The entry of vocab whose word (or plural) is word, folded; *plural tells which. NULL: none.
const json_t *td_llm_vocab_find (const json_t *vocab, const char *word, bool *plural);
//  The rule-based analysis of text: {grammar_errors, vocabulary, level, note}, the shape of
//  prompts/analysis.schema.json. known: folded words the learner has cards for (or NULL);
//  level: the scenario's level (or NULL: estimated from sentence length).
json_t *td_llm_offline_analysis (const char *text, const json_t *vocab, const json_t *known,
                                 const char *level);

//  --- td_llm_conv.c ---
int td_llm_conv_start (td_actor_t *actor);
void td_llm_conv_tick (td_actor_t *actor);
//  Cancels the analyses in flight and fails the kept calls (503); before the gateway goes.
void td_llm_conv_stop (td_actor_t *actor);
//  Fetch the vocabulary of the item's course (course.get, system auth) for a conversation
//  session; fn gets the snapshot array (or NULL: none or the catalog failed) with call as given,
//  and owns arg. 0, or -1 (nothing sent, no callback).
int td_llm_conv_vocab_fetch (td_actor_t *actor, td_call_t *call, const json_t *item,
                             td_llm_item_fn *fn, void *arg);
//  The analysis of a learner turn (message: the learner's message row), after the 202: with a
//  model, a second, non-streamed call with its own usage and budget; offline, the rules. Ends in
//  an update of the message row and one llm.analysis event.
void td_llm_conv_analyze (td_actor_t *actor, const char *rid, const char *session,
                          const char *message, const char *user, const char *org,
                          const char *text, const json_t *item);
//  The conversation context of an item (content.conversation) as prompt text, malloc'd, or NULL.
char *td_llm_conv_context (td_llm_t *llm, const json_t *item);

//  --- td_llm_conv_cards.c ---
int td_llm_tutor_cards (td_actor_t *actor, td_call_t *call);
//  The send side of td_llm_conv.c's calls: service, type, packed auth (NULL: system), body
//  (a JSON value, taken). 0, or -1 (fn never runs).
typedef void (td_llm_conv_fn) (td_actor_t *actor, void *arg, int status, json_t *body);
int td_llm_conv_call (td_actor_t *actor, const char *service, const char *type, const void *auth,
                      size_t auth_size, json_t *body, td_llm_conv_fn *fn, void *arg);

//  --- td_llm_tutor.c ---
//  The caller's own session: the learner (401/403 otherwise) and the session's id into id; the
//  row (id, org_id, mode, item_id, item, vocabulary) or NULL when answered (404, 503) already.
PGresult *td_llm_tutor_own (td_actor_t *actor, td_call_t *call, char *user, size_t usize,
                            char *id, size_t size);

#endif
