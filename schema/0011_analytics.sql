-- 0011_analytics: the analytics actor's tables (actors/analytics/ANALYTICS.md).
--
-- analytics_events is the durable log: every consumed event once, keyed by (source, id), plus
-- the analytics.* events the actor published itself (for GET /api/v1/events catch-up; a rebuild
-- skips them). Every other table is derived from the log and is emptied and refilled by the
-- `rebuild` verb, so figures can always be recomputed.

CREATE TABLE analytics_events (
    seq         bigserial PRIMARY KEY,
    source      text NOT NULL,
    id          text NOT NULL,
    type        text NOT NULL,
    at          timestamptz NOT NULL,               -- the event's own time
    received_at timestamptz NOT NULL DEFAULT now (),
    org_id      text,
    user_id     text,
    subject     text,
    data        jsonb,
    UNIQUE (source, id)
);
CREATE INDEX analytics_events_user ON analytics_events (user_id, seq);
CREATE INDEX analytics_events_org ON analytics_events (org_id, seq);
CREATE INDEX analytics_events_received ON analytics_events (received_at);

-- One row per learner: settings and running totals.
CREATE TABLE analytics_learners (
    user_id         text PRIMARY KEY,
    timezone        text NOT NULL DEFAULT 'UTC',
    xp              bigint NOT NULL DEFAULT 0,
    longest_streak  integer NOT NULL DEFAULT 0,
    first_at        timestamptz,
    last_at         timestamptz
);

-- What each rule-matched event earned: the ledger XP, days and boards are sums of.
CREATE TABLE analytics_activity (
    event_seq   bigint NOT NULL,                    -- analytics_events.seq (kept when pruned)
    user_id     text NOT NULL,
    org_id      text,
    at          timestamptz NOT NULL,
    rule        text NOT NULL,
    xp          integer NOT NULL,
    once_key    text,                               -- set when the rule pays once per key
    PRIMARY KEY (event_seq, rule)
);
CREATE INDEX analytics_activity_user ON analytics_activity (user_id, at);
CREATE UNIQUE INDEX analytics_activity_once ON analytics_activity (user_id, rule, once_key)
    WHERE once_key IS NOT NULL;

-- Named counters per learner (accepted, reviews, lessons, turns, ...): what achievements test.
CREATE TABLE analytics_counters (
    user_id text NOT NULL,
    name    text NOT NULL,
    value   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, name)
);

-- Daily activity in the learner's timezone (recomputed when the timezone changes).
CREATE TABLE analytics_days (
    user_id text NOT NULL,
    day     date NOT NULL,
    count   integer NOT NULL DEFAULT 0,
    xp      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);

-- XP per org and learner for each period: kind 'w' (ISO week, UTC), 'm' (month, UTC), 'a' (all
-- time, start 1970-01-01).
CREATE TABLE analytics_board (
    org_id  text NOT NULL,
    kind    char(1) NOT NULL,
    start   date NOT NULL,
    user_id text NOT NULL,
    xp      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, kind, start, user_id)
);
CREATE INDEX analytics_board_rank ON analytics_board (org_id, kind, start, xp DESC, user_id);

-- Achievements unlocked, once each.
CREATE TABLE analytics_unlocks (
    user_id     text NOT NULL,
    achievement text NOT NULL,
    unlocked_at timestamptz NOT NULL,
    event_seq   bigint,
    PRIMARY KEY (user_id, achievement)
);

-- Facts about the log itself (e.g. 'pruned_before' once retention removed events).
CREATE TABLE analytics_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
