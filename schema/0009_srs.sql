-- 0009_srs: the srs actor's tables (actors/srs/SRS.md): cards with their FSRS state, the review
-- log, per-learner settings, and the morning-notice bookkeeping.
--
-- Why these shapes: a card carries its whole scheduling state (state, step, stability,
-- difficulty, due, last_review), so answering "what is due" is one index range scan on
-- (user_id, due) and a review is one read and one atomic write. The review log keeps the state
-- before and after each review: undo restores the "before" exactly, a replayed client_review_id
-- answers the stored "after", and the optimizer (issue 6 point 4) reads ratings and elapsed time.
-- user_id is text with no foreign key: identity owns users; the actor takes the id from the
-- verified auth. item_id likewise points into the catalog without a key (the catalog owns items).

CREATE TABLE srs_cards (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid (),
    user_id         text NOT NULL,
    deck            text NOT NULL DEFAULT 'default' CHECK (char_length (deck) BETWEEN 1 AND 100),
    front           text NOT NULL CHECK (octet_length (front) <= 16384),
    back            text NOT NULL CHECK (octet_length (back) <= 16384),
    kind            text NOT NULL DEFAULT 'basic'
                    CHECK (kind IN ('basic', 'forward', 'reverse', 'item')),
    item_id         text,                       -- the catalog item it was made from, if any
    sibling_group   text,                       -- cards with the same group are siblings
    state           smallint NOT NULL DEFAULT 1 CHECK (state BETWEEN 1 AND 3),
    step            smallint NOT NULL DEFAULT 0,    -- -1 outside (re)learning
    stability       double precision NOT NULL DEFAULT 0,
    difficulty      double precision NOT NULL DEFAULT 0,
    due             timestamptz NOT NULL DEFAULT now (),
    last_review     timestamptz,
    reps            integer NOT NULL DEFAULT 0,     -- reviews so far; the optimistic-update token
    lapses          integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now (),
    UNIQUE (user_id, item_id, kind)             -- cards from an item are made once per learner
);
CREATE INDEX srs_cards_user_due ON srs_cards (user_id, due);
CREATE INDEX srs_cards_user_sibling ON srs_cards (user_id, sibling_group) WHERE sibling_group IS NOT NULL;
CREATE INDEX srs_cards_due ON srs_cards (due);

-- One row per review. log_id is id. prev_* is the card before the review (undo), the plain
-- columns the card after it (replies to a replayed client_review_id).
CREATE TABLE srs_reviews (
    id                  bigserial PRIMARY KEY,
    card_id             uuid NOT NULL REFERENCES srs_cards (id) ON DELETE CASCADE,
    user_id             text NOT NULL,
    rating              smallint NOT NULL CHECK (rating BETWEEN 1 AND 4),
    reviewed_at         timestamptz NOT NULL,
    duration_ms         integer CHECK (duration_ms >= 0),
    client_review_id    text,
    elapsed_days        integer NOT NULL,           -- whole days since the previous review, -1 first
    prev_state          smallint NOT NULL,
    prev_step           smallint NOT NULL,
    prev_stability      double precision NOT NULL,
    prev_difficulty     double precision NOT NULL,
    prev_due            timestamptz NOT NULL,
    prev_last_review    timestamptz,
    prev_reps           integer NOT NULL,
    prev_lapses         integer NOT NULL,
    state               smallint NOT NULL,
    step                smallint NOT NULL,
    stability           double precision NOT NULL,
    difficulty          double precision NOT NULL,
    due                 timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now (),
    UNIQUE (user_id, client_review_id)
);
CREATE INDEX srs_reviews_card ON srs_reviews (card_id, id);
CREATE INDEX srs_reviews_user_time ON srs_reviews (user_id, reviewed_at);

-- A learner's scheduler settings; absent row = the defaults (SRS.md §settings). weights is NULL
-- until the optimizer fits the learner's own 21 weights.
CREATE TABLE srs_settings (
    user_id             text PRIMARY KEY,
    desired_retention   double precision NOT NULL DEFAULT 0.9
                        CHECK (desired_retention > 0 AND desired_retention < 1),
    learning_steps      integer[] NOT NULL DEFAULT '{60,600}',
    relearning_steps    integer[] NOT NULL DEFAULT '{600}',
    maximum_interval    integer NOT NULL DEFAULT 36500 CHECK (maximum_interval BETWEEN 1 AND 36500),
    enable_fuzzing      boolean NOT NULL DEFAULT true,
    new_per_day         integer NOT NULL DEFAULT 20 CHECK (new_per_day BETWEEN 0 AND 10000),
    timezone            text NOT NULL DEFAULT 'UTC',
    weights             double precision[],
    updated_at          timestamptz NOT NULL DEFAULT now ()
);

-- One row per learner with cards: the local day of their last morning srs.due check (at most
-- one notice a day). The tick walks this small table in batches instead of scanning every due
-- card; a card's creation adds its learner (day 1970-01-01: never checked).
CREATE TABLE srs_notified (
    user_id     text PRIMARY KEY,
    day         date NOT NULL DEFAULT '1970-01-01'
);
