-- 0013_trainer: the trainer actor's runs and their metrics history (actors/trainer/TRAINER.md).
--
-- trainer_runs is also the queue every trainer process claims from: status moves
--   queued -> running -> done | failed, and running -> stopping -> stopped (the owner's stop),
--   stopped | failed -> queued (resume); a running run whose lease ran out is claimed again and
--   continues from its checkpoint (td_ppo_save: weights, optimiser, generators, environments).
CREATE TABLE trainer_runs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid (),
    user_id         uuid NOT NULL,
    orgs            uuid[] NOT NULL DEFAULT '{}',      -- the owner's orgs when created (access)
    env             text NOT NULL,
    request         jsonb NOT NULL,                     -- env, algo, hyperparameters (all), total_steps, seed
    total_steps     bigint NOT NULL CHECK (total_steps > 0),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'stopping', 'stopped', 'done', 'failed')),
    step            bigint NOT NULL DEFAULT 0,
    checkpoint      bytea,
    checkpoint_step bigint NOT NULL DEFAULT 0,
    final           jsonb,                              -- the final evaluation of a done run
    error           text,
    owner           text,                               -- "host:pid" of the trainer running it
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now (),
    updated_at      timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX trainer_runs_user ON trainer_runs (user_id, created_at DESC);
CREATE INDEX trainer_runs_active ON trainer_runs (created_at, id)
    WHERE status IN ('queued', 'running', 'stopping');

CREATE TABLE trainer_metrics (
    run_id  uuid NOT NULL REFERENCES trainer_runs (id) ON DELETE CASCADE,
    update_no int NOT NULL,
    data    jsonb NOT NULL,
    PRIMARY KEY (run_id, update_no)
);
