-- 0010_llm: the llm actor's tables: per-org model settings, token usage, tutor sessions
-- (actors/llm/LLM.md).
--
-- Why these shapes: org and user ids are text, as the verified auth map gives them, with no
-- foreign key into identity's tables (identity owns those; an org's deletion must not cascade
-- into accounting). Usage is one row per (org, user, model, day) bumped by one upsert per
-- completed request, so the monthly budget check is one indexed sum and the usage route reads
-- rows as they are. An org key is stored only as a libsodium secretbox (nonce + box) under a key
-- derived from TUTORD_SECRET; the plaintext never reaches the database.

CREATE TABLE llm_org_settings (
    org_id          text PRIMARY KEY,
    provider        text NOT NULL CHECK (provider IN ('offline', 'openai', 'anthropic', 'gemini')),
    base_url        text NOT NULL DEFAULT '' CHECK (char_length (base_url) <= 500),
    model           text NOT NULL DEFAULT '' CHECK (char_length (model) <= 120),
    fallback_models text[] NOT NULL DEFAULT '{}' CHECK (cardinality (fallback_models) <= 3),
    key_nonce       bytea,
    key_box         bytea,
    monthly_token_budget bigint CHECK (monthly_token_budget IS NULL OR monthly_token_budget >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- '' stands for "no org" (a user in no org) so the key needs no NULL.
CREATE TABLE llm_usage (
    org_id            text NOT NULL,
    user_id           text NOT NULL,
    model             text NOT NULL,
    day               date NOT NULL,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    requests          bigint NOT NULL DEFAULT 0,
    errors            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, day, user_id, model)
);

-- A tutor session: the learner, the mode, and the item as the catalog gave it when the session
-- began (with the reference solution, server-side only: exam mode checks answers against it).
CREATE TABLE llm_tutor_sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     text NOT NULL,
    org_id      text NOT NULL DEFAULT '',
    mode        text NOT NULL CHECK (mode IN ('tutor', 'conversation', 'exam')),
    item_id     text,
    context_id  text,
    item        jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_tutor_sessions_user ON llm_tutor_sessions (user_id, created_at);

-- One turn. An assistant row is created 'streaming' before the first token and ends 'done',
-- 'error' or 'cancelled'; seq orders the history.
CREATE TABLE llm_tutor_messages (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    session_id  uuid NOT NULL REFERENCES llm_tutor_sessions (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('user', 'assistant')),
    text        text NOT NULL DEFAULT '' CHECK (octet_length (text) <= 262144),
    status      text NOT NULL DEFAULT 'done'
                CHECK (status IN ('streaming', 'done', 'error', 'cancelled')),
    provider    text,
    model       text,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    error       jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_tutor_messages_session ON llm_tutor_messages (session_id, seq);
