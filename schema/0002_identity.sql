-- 0002_identity — the identity actor's tables (actors/identity/IDENTITY.md).
--
-- Only the identity actor writes them. Secrets are never stored in clear: passwords as argon2id
-- strings, refresh tokens and API keys as BLAKE2b-256 of the whole token (32 bytes), so a copy of
-- the database hands out no credential. Revocation is a timestamp, never a delete, so that reuse
-- of a rotated refresh token can be recognised and answered by revoking its family.

-- Accounts. Email is unique case-insensitively (the index on lower(email)); password_hash is NULL
-- for an account made by Google sign-in that never set a password.
CREATE TABLE identity_users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash  text,
    google_sub     text UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX identity_users_email ON identity_users (lower(email));

-- A session is one sign-in: access tokens name it (`sid`), and it is also the family of the
-- refresh tokens rotated from that sign-in. Revoking it refuses its access tokens at once.
CREATE TABLE identity_sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_why text
);
CREATE INDEX identity_sessions_user ON identity_sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens, one row per token ever issued. rotated_at is set when the token was exchanged;
-- presenting it again is reuse and revokes the session (the family).
CREATE TABLE identity_refresh_tokens (
    hash        bytea PRIMARY KEY CHECK (length(hash) = 32),
    session_id  uuid NOT NULL REFERENCES identity_sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz
);
CREATE INDEX identity_refresh_tokens_session ON identity_refresh_tokens (session_id);

CREATE TABLE identity_orgs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{3,64}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE identity_memberships (
    org_id      uuid NOT NULL REFERENCES identity_orgs (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('admin', 'mentor', 'learner')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX identity_memberships_user ON identity_memberships (user_id);

CREATE TABLE identity_cohorts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES identity_orgs (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_cohorts_org ON identity_cohorts (org_id);

-- Cohort members are org members: removing someone from the org removes them from its cohorts
-- (the actor does it in the same transaction).
CREATE TABLE identity_cohort_members (
    cohort_id   uuid NOT NULL REFERENCES identity_cohorts (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('mentor', 'learner')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, user_id)
);
CREATE INDEX identity_cohort_members_user ON identity_cohort_members (user_id);

-- Org API keys: the 8-character prefix is shown in lists and finds the row; hash checks the key.
CREATE TABLE identity_api_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES identity_orgs (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    prefix      text NOT NULL UNIQUE CHECK (prefix ~ '^[A-Za-z0-9_-]{8}$'),
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    created_by  uuid REFERENCES identity_users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX identity_api_keys_org ON identity_api_keys (org_id);

-- Failed logins, for the limits per account and per client address (IDENTITY.md §4). Kept in
-- PostgreSQL so that every identity worker, in any process, counts the same attempts. Rows older
-- than the window are deleted by the actor's tick.
CREATE TABLE identity_login_failures (
    scope       text NOT NULL CHECK (scope IN ('account', 'ip')),
    key         text NOT NULL CHECK (length(key) <= 254),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_login_failures_key ON identity_login_failures (scope, key, at);

-- Times in replies: RFC 3339 UTC with milliseconds, as td_time_format writes them.
CREATE FUNCTION identity_rfc3339(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
