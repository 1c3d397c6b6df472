-- 0014_session: practice sessions of the session actor (actors/session/SESSION.md).
--
-- Why these shapes: everything a session needs to continue lives here, nothing in an actor's
-- memory, so a restarted actor, a new process on the same database, or a second session actor
-- carries on exactly where the last answer left it. A session is created with all its questions
-- (prompt, choices and the expected answer, never shown before it is answered); `position` is the
-- next question to answer. An answer is written once (answer IS NULL guards it) together with the
-- session's counters; `review` holds the srs review it became (NULL while it is still to apply,
-- so a retried answer re-sends the review with the same client_review_id = the question's id).
-- user_id is text without a foreign key: identity owns users; the actor takes it from the auth.

CREATE TABLE practice_sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid (),
    user_id         text NOT NULL,
    type            text NOT NULL CHECK (type IN ('flashcards', 'vocabulary', 'grammar', 'placement')),
    deck            text,
    course_id       text,
    item_id         text,                       -- grammar: the topic (a catalog grammar item)
    fast_ms         integer NOT NULL DEFAULT 5000,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'finished')),
    position        integer NOT NULL DEFAULT 0,
    total           integer NOT NULL CHECK (total >= 0),
    answered        integer NOT NULL DEFAULT 0,
    correct         integer NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL DEFAULT now (),
    ended_at        timestamptz,
    result          jsonb                       -- placement: {level, levels: [{level, asked, right}]}
);
CREATE INDEX practice_sessions_user ON practice_sessions (user_id, started_at DESC);

CREATE TABLE practice_questions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid (),
    session_id      uuid NOT NULL REFERENCES practice_sessions (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('flashcard', 'choice', 'typed', 'exercise')),
    card_id         text,                       -- the srs card an answer reviews, if any
    prompt          jsonb NOT NULL,             -- what the learner sees: {prompt, choices?}
    expected        jsonb NOT NULL,             -- {display, choice?, question? (grammar: the whole key)}
    answer          text,
    correct         boolean,
    rating          smallint,
    duration_ms     integer,
    feedback        text,
    answered_at     timestamptz,
    review          jsonb,                      -- the srs review once applied
    UNIQUE (session_id, position)
);
