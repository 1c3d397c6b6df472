-- 0001_core — the backbone's own table: deployment-wide settings.
--
-- Migrations are applied by tutorctl migrate (actors/core/td_migrate.c): in version order, each
-- file once, inside a transaction the migrator opens (so no BEGIN/COMMIT here), recorded in
-- schema_migrations with its checksum. An applied file is never edited: add a new NNNN_name.sql.
-- Each actor's tables come in the actor's own migrations; this file holds only what the core needs.

-- Key/value settings that must survive restarts and be the same on every host (e.g. a seed
-- marker, feature switches). Keys are names in the protocol's alphabet; values are any JSON.
CREATE TABLE system_settings (
    key         text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.-]{0,127}$'),
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
