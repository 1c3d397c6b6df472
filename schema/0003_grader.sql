-- 0003_grader: the grader's submissions, a durable queue shared by every grader process.
--
-- A submission is written here before its 202 (status 'queued'). A grader claims the oldest
-- queued one with FOR UPDATE SKIP LOCKED (so graders in several processes share the load), sets a
-- fresh claim token and its own instance key, and runs it. Only the current claim may finish it
-- (status 'done'), so a submission finishes exactly once even if it was run twice. A running
-- submission whose grader died goes back to 'queued': its instance key's advisory lock is gone,
-- or its lease ran out.
CREATE TABLE grader_submissions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     text,
    org_id      text,           -- the org events name (one the submitter chose or belongs to alone)
    org_ids     text[] NOT NULL DEFAULT '{}',  -- every org the submitter was in: their admins may read it
    item_id     text,
    language    text NOT NULL CHECK (language IN ('python', 'c')),
    spec        jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
    verdict     text,
    score       double precision,
    result      jsonb,
    attempts    integer NOT NULL DEFAULT 0,
    claim       uuid,
    claimed_by  bigint,
    lease_until timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX grader_submissions_queued ON grader_submissions (created_at) WHERE status = 'queued';
CREATE INDEX grader_submissions_running ON grader_submissions (claimed_by) WHERE status = 'running';
CREATE INDEX grader_submissions_user ON grader_submissions (user_id, created_at DESC);
