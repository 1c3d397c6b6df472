-- 0021_llm_usage_keys: each model call's usage is added to llm_usage once (actors/llm/LLM.md §3).
--
-- The llm actor writes usage through its write queue (td_llm_dbq); when a batch's connection
-- breaks, the queue writes it again one statement at a time. A batch whose COMMIT reached the
-- server but whose reply was lost would then be added twice. Each call carries a key of its own
-- (a random 128-bit id made when the call ends); the usage statement adds its figures only when
-- it could insert that key, in the same statement, so a repeat changes nothing. Keys older than
-- a week are deleted by the llm actor's daily tick (a repeat comes within seconds).
CREATE TABLE llm_usage_keys (
    key uuid PRIMARY KEY,
    at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_usage_keys_at ON llm_usage_keys (at);
