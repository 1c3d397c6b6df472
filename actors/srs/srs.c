/*  srs — the srs actor: FSRS-6 spaced-repetition scheduling and due queues (SRS.md).
 *
 *  It serves the "srs" service through the broker. The backbone gives it its run loop
 *  (actors/core/td_actor.c): registration, heartbeats, its PostgreSQL connection, `ping` for
 *  /health, and supervision. This file is only the verb table: the scheduler is td_fsrs.c (pure
 *  functions), cards are td_srs_card.c, reviews and the due queue td_srs_review.c, settings and
 *  the morning srs.due notice td_srs_settings.c, the optimizer job td_srs_opt.c (td_fsrs_opt.c
 *  fits the weights), cards from catalog items td_srs_items.c, shared helpers td_srs_common.c
 *  (td_srs.h).
 */
#include "td_actor.h"
#include "srs/td_srs.h"

static const td_verb_t s_verbs [] = {
    { "card.create",        td_srs_card_create },
    { "card.get",           td_srs_card_get },
    { "card.preview",       td_srs_card_preview },
    { "card.undo",          td_srs_card_undo },
    { "cards.from_item",    td_srs_cards_from_item },
    { "cards.from_items",   td_srs_cards_from_items },
    { "review",             td_srs_review },
    { "due",                td_srs_due },
    { "settings.get",       td_srs_settings_get },
    { "settings.put",       td_srs_settings_put },
    { "due.notify",         td_srs_due_notify },
    { "optimize",           td_srs_optimize },
    { NULL, NULL }
};

const td_actor_spec_t td_srs_actor = {
    .name = "srs",
    .service = "srs",
    .needs_db = true,
    .verbs = s_verbs,
    .init = td_srs_init,                //  the optimizer job's return socket (td_srs_opt.c)
    .fini = td_srs_fini,
    .tick = td_srs_tick,                //  the morning srs.due notice (SRS.md §5)
    .tick_ms = 10000,
};
