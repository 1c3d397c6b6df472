-- 0018_analytics_leagues: weekly leagues of the analytics actor and the event journal the broker's
-- event proxy writes (actors/analytics/ANALYTICS.md §3 "Leagues" and §1 "The journal").

-- A learner's league tier per org: 0 bronze .. 4 diamond. Kept across weeks; changed only when a
-- week closes (promotion +1, demotion -1).
CREATE TABLE analytics_league_tiers (
    org_id  text NOT NULL,
    user_id text NOT NULL,
    tier    integer NOT NULL DEFAULT 0 CHECK (tier BETWEEN 0 AND 4),
    PRIMARY KEY (org_id, user_id)
);

-- Who is in which group of a week (week = the Monday it starts, UTC), with the XP earned in the
-- org that week. A learner joins on their first XP-earning event of the week, in the group of
-- their tier being filled (groups of TUTORD_ANALYTICS_LEAGUE_SIZE, join order). outcome is set
-- when the week closes: 'promoted', 'demoted' or 'stayed'.
CREATE TABLE analytics_league_members (
    org_id    text NOT NULL,
    week      date NOT NULL,
    user_id   text NOT NULL,
    tier      integer NOT NULL,
    grp       integer NOT NULL,
    joined    bigint NOT NULL,                      -- join order within (org, week, tier)
    xp        bigint NOT NULL DEFAULT 0,
    outcome   text,
    rank      integer,
    PRIMARY KEY (org_id, week, user_id)
);
CREATE INDEX analytics_league_members_group ON analytics_league_members (org_id, week, tier, grp, xp DESC);
CREATE INDEX analytics_league_members_open ON analytics_league_members (week) WHERE outcome IS NULL;

-- How many joined each (org, week, tier) so far: the next joiner's place, in O(1) (counting the
-- members instead would cost a scan of the tier per join).
CREATE TABLE analytics_league_fill (
    org_id  text NOT NULL,
    week    date NOT NULL,
    tier    integer NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (org_id, week, tier)
);

-- Weeks closed, once each: the insert of this row is what makes a close happen exactly once.
CREATE TABLE analytics_league_weeks (
    org_id    text NOT NULL,
    week      date NOT NULL,
    closed_at timestamptz NOT NULL DEFAULT now (),
    PRIMARY KEY (org_id, week)
);

-- An org's events by time: the org activity route (GET /api/v1/orgs/{id}/activity) reads the
-- last days of an org without walking its whole history.
CREATE INDEX analytics_events_org_at ON analytics_events (org_id, at);

-- The event journal: every event the broker's event proxy forwarded, appended in small batches
-- (actors/core/td_evproxy.c) when TUTORD_DB is set in the broker's process. Consumers read it after
-- a cursor of their own (analytics: analytics_meta 'journal_cursor'). Pruned with
-- TUTORD_ANALYTICS_RETENTION_DAYS.
CREATE TABLE events_journal (
    seq         bigserial PRIMARY KEY,
    topic       text NOT NULL,
    body        bytea NOT NULL,                     -- the msgpack envelope as published
    received_at timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX events_journal_received ON events_journal (received_at);
