-- 0016_llm_conversation: conversation practice (issue 7 point 4) and the per-org usage webhook
-- (issue 7 point 2) of the llm actor (actors/llm/LLM.md §7, §3).
--
-- Why these shapes: a learner turn's structured analysis is stored on that turn's own message row
-- (it is part of the history GET returns), and only after it passed the schema check
-- (prompts/analysis.schema.json); one that failed is stored as {"status": "unavailable",
-- "reason"}, never its content. A conversation session keeps a snapshot of its course's vocabulary
-- entries, taken when the session begins (the catalog owns the entries; the offline analysis and
-- the cards route match words against this snapshot with no lookup per turn). The words a learner
-- turned into SRS cards are remembered per learner (lower-cased word), so asking twice makes the
-- cards once; a row is claimed before srs is asked and dropped again when srs fails. The org's
-- webhook URL sits with its other llm settings.

ALTER TABLE llm_tutor_messages ADD COLUMN analysis jsonb;

ALTER TABLE llm_tutor_sessions ADD COLUMN vocabulary jsonb;

ALTER TABLE llm_org_settings ADD COLUMN webhook_url text NOT NULL DEFAULT ''
    CHECK (char_length (webhook_url) <= 500);

CREATE TABLE llm_word_cards (
    user_id     text NOT NULL,
    word        text NOT NULL CHECK (char_length (word) BETWEEN 1 AND 100),
    item_id     text,                       -- the catalog vocabulary item, or NULL: a plain card
    card_ids    jsonb NOT NULL DEFAULT '[]',
    done        boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (user_id, word)
);
