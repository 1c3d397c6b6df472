-- 0004_catalog: the catalog actor's content tree, enrolments and a minimal progress table.
--
-- A course belongs to an org by identity's org id, kept as text without a foreign key: the
-- built-in catalog org is the fixed id 'tutord' (seeds with "org_slug": null land there), which
-- has no identity_orgs row. Modules, lessons and items hang below with a dense 0-based position
-- per parent (no unique index on it: a reorder rewrites every position in one statement) and a
-- slug unique within the parent, which is what the seed upsert matches on. Deleting a parent
-- deletes its children. Progress is kept minimal (status per user and item); completion from
-- the grader's and session's events comes later.
CREATE TABLE catalog_courses (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      text NOT NULL,
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9-]{3,64}$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    language    text NOT NULL DEFAULT 'en',
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    visibility  text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'org')),
    publish_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, slug)
);
CREATE INDEX catalog_courses_list ON catalog_courses (created_at, id);

CREATE TABLE catalog_modules (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id   uuid NOT NULL REFERENCES catalog_courses (id) ON DELETE CASCADE,
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9-]{3,64}$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, slug)
);

CREATE TABLE catalog_lessons (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    module_id   uuid NOT NULL REFERENCES catalog_modules (id) ON DELETE CASCADE,
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9-]{3,64}$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (module_id, slug)
);

CREATE TABLE catalog_items (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lesson_id   uuid NOT NULL REFERENCES catalog_lessons (id) ON DELETE CASCADE,
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9-]{3,64}$'),
    kind        text NOT NULL CHECK (kind IN ('material', 'exercise', 'question', 'vocabulary', 'grammar')),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    content     jsonb NOT NULL DEFAULT '{}',
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (lesson_id, slug)
);

CREATE TABLE catalog_enrolments (
    user_id     text NOT NULL,
    course_id   uuid NOT NULL REFERENCES catalog_courses (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, course_id)
);

CREATE TABLE catalog_item_progress (
    user_id     text NOT NULL,
    item_id     uuid NOT NULL REFERENCES catalog_items (id) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('started', 'completed')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, item_id)
);
