-- 0017_llm_gen: generation jobs of the llm actor (actors/llm/LLM.md §8, issue 7 point 6).
--
-- A job is INSERTed before its 202 and this table is the queue every llm process claims from:
-- status moves queued -> running -> done | failed, and queued | running -> cancelled (the
-- creator's cancel). A process claims the oldest queued job, or a running one whose lease ran
-- out, with FOR UPDATE SKIP LOCKED, in its own name (owner), and renews the lease while it works;
-- a process that dies leaves the job running until the lease ends, then another one resumes it.
-- Progress is kept per piece (done, results, errors), and what a piece creates in the catalog has
-- a slug derived from the job and the piece, so a piece replayed after a restart finds what it
-- made instead of making it twice.
CREATE TABLE llm_gen_jobs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid (),
    org_id      uuid NOT NULL,
    created_by  uuid NOT NULL,
    auth        jsonb NOT NULL,                 -- the creator's auth map: catalog calls run as them
    kind        text NOT NULL CHECK (kind IN ('grammar_exercises', 'vocabulary_exercises',
                                              'code_exercise', 'course_outline')),
    course_id   uuid NOT NULL,
    target_id   uuid NOT NULL,
    params      jsonb NOT NULL,                 -- the request's parameters, defaults filled in
    context     jsonb NOT NULL,                 -- what the target held when the job was created
    offline     boolean NOT NULL DEFAULT false, -- made without a model (LLM.md §8)
    status      text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    total       int NOT NULL CHECK (total > 0),
    done        int NOT NULL DEFAULT 0,         -- pieces finished, kept or failed
    results     jsonb NOT NULL DEFAULT '[]',
    errors      jsonb NOT NULL DEFAULT '[]',
    error       text,                           -- why a whole job failed
    owner       text,                           -- the llm process working on it
    lease_until timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now (),
    updated_at  timestamptz NOT NULL DEFAULT now (),
    finished_at timestamptz
);
CREATE INDEX llm_gen_jobs_org ON llm_gen_jobs (org_id, created_at DESC);
CREATE INDEX llm_gen_jobs_active ON llm_gen_jobs (created_at, id)
    WHERE status IN ('queued', 'running');
