-- 0005_catalog_user: the catalog's per-user data, code drafts and snippets (CATALOG.md §3).
--
-- Why these tables stand alone: drafts and snippets belong to a user, not to the course tree, so
-- they carry no foreign key to catalog items (deleting or re-seeding an item must never fail or
-- cascade because a learner had typed into it) nor to identity's users (identity owns those; the
-- actor takes the caller's id from the verified auth). Ids are text, as the auth map gives them.
--
-- pg_trgm gives snippet.similar its trigram similarity. CREATE EXTENSION needs a superuser (or,
-- on PostgreSQL 13+, a database owner for this trusted extension); when TUTORD_DB's role may not
-- create it, have an administrator run `CREATE EXTENSION pg_trgm;` in the database first, and
-- this statement then does nothing.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A learner's unsaved work on an exercise item, one row per (user, item). version counts saves:
-- a save names the version it started from and succeeds only while that is still the stored one
-- (optimistic concurrency, one atomic statement in td_catalog_draft.c), so two tabs cannot
-- silently overwrite each other.
CREATE TABLE catalog_drafts (
    user_id     text NOT NULL,
    item_id     text NOT NULL,
    code        text NOT NULL CHECK (octet_length (code) <= 65536),
    version     bigint NOT NULL CHECK (version >= 1),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, item_id)
);

-- A user's saved pieces of code. seq orders them (newest first) and is the list cursor: unlike a
-- timestamp it is unique and exact. search is the full-text document (title weight A, description
-- B, code C) with the 'simple' configuration: no stemming or stop words, because code identifiers
-- and learners' several natural languages are not English prose.
CREATE TABLE catalog_snippets (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    user_id     text NOT NULL,
    title       text NOT NULL CHECK (char_length (title) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (char_length (description) <= 2000),
    language    text NOT NULL,
    code        text NOT NULL CHECK (octet_length (code) BETWEEN 1 AND 65536),
    starred     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    search      tsvector GENERATED ALWAYS AS (
                    setweight (to_tsvector ('simple', title), 'A') ||
                    setweight (to_tsvector ('simple', description), 'B') ||
                    setweight (to_tsvector ('simple', code), 'C')) STORED
);
-- Listing a user's snippets newest first, and the starred ones.
CREATE INDEX catalog_snippets_user ON catalog_snippets (user_id, seq DESC);
CREATE INDEX catalog_snippets_starred ON catalog_snippets (user_id, seq DESC) WHERE starred;
-- Full-text search (snippet.list with q).
CREATE INDEX catalog_snippets_search ON catalog_snippets USING gin (search);
-- snippet.similar compares one snippet with the owner's others only, so it reads the owner's rows
-- through catalog_snippets_user and needs no trigram index over every user's code.
