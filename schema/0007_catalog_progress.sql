-- 0007_catalog_progress: drip per cohort, progress derived from events, exam assignments
-- (actors/catalog/CATALOG.md §5-§7).
--
-- Why here and in SQL: what a learner may see of a dripped course and how far they got are
-- asked on every read (course.get, item.get, progress.get, enrolment.list), so the rules live in
-- a few STABLE SQL functions the catalog's queries call, written once and exact to the request.

-- A course linked to a cohort releases its modules to that cohort one by one: module at position
-- k (0-based) from start_at + k * every_days days on. `announced` counts the modules already
-- announced with catalog.published by the release tick, so each release is announced once.
-- cohort_id is identity's cohort id, kept as text without a foreign key (identity owns cohorts;
-- a link to a deleted cohort simply matches no learner).
CREATE TABLE catalog_course_cohorts (
    course_id   uuid NOT NULL REFERENCES catalog_courses (id) ON DELETE CASCADE,
    cohort_id   text NOT NULL,
    start_at    timestamptz NOT NULL,
    every_days  integer NOT NULL CHECK (every_days BETWEEN 1 AND 365),
    announced   integer NOT NULL DEFAULT 0 CHECK (announced >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (course_id, cohort_id)
);
CREATE INDEX catalog_course_cohorts_cohort ON catalog_course_cohorts (cohort_id);

-- How many modules a link has released at a given time.
CREATE FUNCTION catalog_drip_count (p_start timestamptz, p_every integer, p_at timestamptz)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_at < p_start THEN 0
                ELSE floor (extract (epoch FROM p_at - p_start) / (p_every * 86400.0))::integer + 1 END
$$;

-- How many modules (by position) a learner in these cohorts sees of a course: the most any of
-- their linked cohorts has released (the union). NULL when none of the cohorts is linked to the
-- course (or the course has no link): the course's normal release rules apply, every module.
CREATE FUNCTION catalog_released_modules (p_course uuid, p_cohorts text[])
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT max (catalog_drip_count (k.start_at, k.every_days, now ()))
    FROM catalog_course_cohorts k WHERE k.course_id = p_course AND k.cohort_id = ANY (p_cohorts)
$$;

-- Progress per item: started when first opened or submitted, completed from a passing
-- grade.result (exercises) or when opened (material); the catalog never trusts the client.
ALTER TABLE catalog_item_progress
    ADD COLUMN started_at       timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN completed_at     timestamptz,
    ADD COLUMN last_accessed_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0);

-- Every grader result applied to progress, by submission id: a result heard twice (live event,
-- then the catch-up through result.list) is applied once. No foreign key to the item: deleting
-- an item must not fail because it was graded.
CREATE TABLE catalog_grade_results (
    submission_id text PRIMARY KEY,
    user_id       text NOT NULL,
    item_id       uuid NOT NULL,
    passed        boolean NOT NULL,
    finished_at   timestamptz,
    applied_at    timestamptz NOT NULL DEFAULT now()
);

-- Small named cursors the catalog keeps between restarts (the grader result.list cursor).
CREATE TABLE catalog_sync (
    name        text PRIMARY KEY,
    cursor      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Exams: the exercises of a lesson with content.exam = true are its pool. A learner holds one
-- assignment at a time (outcome NULL) until they pass it or fail it five times; seq numbers the
-- assignments a learner got in a lesson. 'retired' ends one whose item left the pool.
CREATE TABLE catalog_exam_assignments (
    user_id     text NOT NULL,
    lesson_id   uuid NOT NULL REFERENCES catalog_lessons (id) ON DELETE CASCADE,
    seq         integer NOT NULL CHECK (seq >= 1),
    item_id     uuid NOT NULL REFERENCES catalog_items (id) ON DELETE CASCADE,
    failures    integer NOT NULL DEFAULT 0 CHECK (failures BETWEEN 0 AND 5),
    outcome     text CHECK (outcome IN ('passed', 'failed', 'retired')),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    PRIMARY KEY (user_id, lesson_id, seq)
);
CREATE UNIQUE INDEX catalog_exam_current ON catalog_exam_assignments (user_id, lesson_id)
    WHERE outcome IS NULL;
CREATE INDEX catalog_exam_item ON catalog_exam_assignments (user_id, item_id) WHERE outcome IS NULL;

-- True for an item of a lesson's exam pool.
CREATE FUNCTION catalog_is_exam (p_kind text, p_content jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_kind = 'exercise' AND coalesce (p_content -> 'exam' = 'true'::jsonb, false)
$$;

-- The units a learner's progress counts in a course, one row each: every item outside exam
-- pools, and one unit per lesson with an exam pool (completed when an exam of it was passed).
-- Lessons without any unit appear once with unit NULL, so every lesson is listed.
CREATE FUNCTION catalog_units (p_user text, p_course uuid)
RETURNS TABLE (module_id uuid, module_pos integer, lesson_id uuid, lesson_pos integer,
               unit_id uuid, unit_pos integer, is_exam boolean, status text,
               started_at timestamptz, completed_at timestamptz, last_accessed_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT m.id, m.position, l.id, l.position, i.id, i.position, false, p.status,
           p.started_at, p.completed_at, p.last_accessed_at
    FROM catalog_modules m JOIN catalog_lessons l ON l.module_id = m.id
    JOIN catalog_items i ON i.lesson_id = l.id AND NOT catalog_is_exam (i.kind, i.content)
    LEFT JOIN catalog_item_progress p ON p.item_id = i.id AND p.user_id = p_user
    WHERE m.course_id = p_course
  UNION ALL
    SELECT m.id, m.position, l.id, l.position, NULL, 2147483647, true,
           CASE WHEN e.passed THEN 'completed' WHEN e.n > 0 THEN 'started' END,
           e.first, e.passed_at, e.last
    FROM catalog_modules m JOIN catalog_lessons l ON l.module_id = m.id
    CROSS JOIN LATERAL (SELECT count (*) AS n, bool_or (x.outcome = 'passed') AS passed,
                               min (x.assigned_at) AS first,
                               max (x.ended_at) FILTER (WHERE x.outcome = 'passed') AS passed_at,
                               max (greatest (x.assigned_at, x.ended_at)) AS last
                        FROM catalog_exam_assignments x
                        WHERE x.lesson_id = l.id AND x.user_id = p_user) e
    WHERE m.course_id = p_course
      AND EXISTS (SELECT 1 FROM catalog_items i WHERE i.lesson_id = l.id
                  AND catalog_is_exam (i.kind, i.content))
  UNION ALL
    SELECT m.id, m.position, l.id, l.position, NULL, NULL, false, NULL, NULL, NULL, NULL
    FROM catalog_modules m JOIN catalog_lessons l ON l.module_id = m.id
    WHERE m.course_id = p_course AND NOT EXISTS (SELECT 1 FROM catalog_items i WHERE i.lesson_id = l.id)
$$;

-- Per lesson of a course: units, completed units, and the times (empty lessons count 0 of 0).
CREATE FUNCTION catalog_lesson_stats (p_user text, p_course uuid)
RETURNS TABLE (module_id uuid, module_pos integer, lesson_id uuid, lesson_pos integer,
               total integer, done integer, touched integer, started_at timestamptz,
               completed_at timestamptz, last_accessed_at timestamptz, units json)
LANGUAGE sql STABLE AS $$
    SELECT u.module_id, u.module_pos, u.lesson_id, u.lesson_pos,
           count (*) FILTER (WHERE u.unit_id IS NOT NULL OR u.is_exam)::integer,
           count (*) FILTER (WHERE u.status = 'completed')::integer,
           count (u.status)::integer,
           min (u.started_at), max (u.completed_at), max (u.last_accessed_at),
           coalesce (json_agg (json_build_object ('id', u.unit_id, 'exam', u.is_exam,
                         'status', coalesce (u.status, 'not_started'), 'started_at', u.started_at,
                         'completed_at', u.completed_at, 'last_accessed_at', u.last_accessed_at)
                     ORDER BY u.unit_pos) FILTER (WHERE u.unit_id IS NOT NULL OR u.is_exam), '[]')
    FROM catalog_units (p_user, p_course) u
    GROUP BY u.module_id, u.module_pos, u.lesson_id, u.lesson_pos
$$;

-- The learner's next lesson: the first released lesson (course order) with units not all
-- completed; NULL when there is none.
CREATE FUNCTION catalog_next_lesson (p_user text, p_course uuid, p_cohorts text[])
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object ('id', l.id, 'module_id', l.module_id, 'slug', l.slug,
                              'title', l.title, 'position', l.position)
    FROM catalog_lesson_stats (p_user, p_course) s JOIN catalog_lessons l ON l.id = s.lesson_id
    WHERE s.module_pos < coalesce (catalog_released_modules (p_course, p_cohorts), 2147483647)
      AND s.total > 0 AND s.done < s.total
    ORDER BY s.module_pos, s.lesson_pos LIMIT 1
$$;

-- The version of a course's tree: bumped by every change of its modules, lessons and items, so
-- the catalog may keep a rendered learner tree and know, from the one query that checks access
-- (td_cat_gate), whether it is still the tree (course.get's cache, td_catalog_cache.c).
ALTER TABLE catalog_courses ADD COLUMN tree_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION catalog_bump_tree () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- NEW is NULL on DELETE and OLD on INSERT (PostgreSQL 11+): one of the two names the row
    IF TG_TABLE_NAME = 'catalog_modules' THEN
        UPDATE catalog_courses SET tree_version = tree_version + 1
        WHERE id IN (NEW.course_id, OLD.course_id);
    ELSIF TG_TABLE_NAME = 'catalog_lessons' THEN
        UPDATE catalog_courses SET tree_version = tree_version + 1
        WHERE id IN (SELECT m.course_id FROM catalog_modules m WHERE m.id IN (NEW.module_id, OLD.module_id));
    ELSE
        UPDATE catalog_courses SET tree_version = tree_version + 1
        WHERE id IN (SELECT m.course_id FROM catalog_lessons l JOIN catalog_modules m ON m.id = l.module_id
                     WHERE l.id IN (NEW.lesson_id, OLD.lesson_id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER catalog_modules_tree AFTER INSERT OR UPDATE OR DELETE ON catalog_modules
    FOR EACH ROW EXECUTE FUNCTION catalog_bump_tree ();
CREATE TRIGGER catalog_lessons_tree AFTER INSERT OR UPDATE OR DELETE ON catalog_lessons
    FOR EACH ROW EXECUTE FUNCTION catalog_bump_tree ();
CREATE TRIGGER catalog_items_tree AFTER INSERT OR UPDATE OR DELETE ON catalog_items
    FOR EACH ROW EXECUTE FUNCTION catalog_bump_tree ();
