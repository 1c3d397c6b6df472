-- 0020_catalog_session: progress from practice sessions, and the catalog's change notifications
-- (actors/catalog/CATALOG.md §6 and §8).
--
-- 1. Every session answer applied to progress, by question id: an answer heard twice (the live
--    session.answered event, then the catch-up through the session actor's answer.list) is
--    applied once. No foreign key to the item: deleting an item must not fail because it was
--    practised. The rule that completes an item counts these rows (CATALOG.md §6).
CREATE TABLE catalog_session_answers (
    question_id text PRIMARY KEY,
    user_id     text NOT NULL,
    item_id     uuid NOT NULL,
    correct     boolean NOT NULL,
    answered_at timestamptz,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalog_session_answers_item ON catalog_session_answers (user_id, item_id);

-- The session actor's feed (answer.list) reads answered questions in (answered_at, id) order.
CREATE INDEX practice_questions_answered ON practice_questions (answered_at, id)
    WHERE answered_at IS NOT NULL;

-- 2. Whatever changes what course.get answers about a course outside its tree -- the course row
--    (status, publish_at, visibility, org, and tree_version, which triggers bump on every
--    module, lesson and item change) and its cohort links (drip) -- sends, in the same
--    transaction, pg_notify('tutord_catalog', 'c:<course id>'). Every catalog actor listens and
--    drops what it cached about that course, so a write from any process (another worker,
--    another tutord, psql) reaches every cache. Triggers, not actor code, so that no write path
--    can forget it. PostgreSQL folds identical notifications of one transaction into one.
CREATE FUNCTION catalog_notify_course () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'catalog_courses' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify ('tutord_catalog', 'c:' || OLD.id::text);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify ('tutord_catalog', 'c:' || NEW.id::text);
        END IF;
    ELSE
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify ('tutord_catalog', 'c:' || OLD.course_id::text);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify ('tutord_catalog', 'c:' || NEW.course_id::text);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER catalog_courses_notify
    AFTER INSERT OR UPDATE OR DELETE ON catalog_courses
    FOR EACH ROW EXECUTE FUNCTION catalog_notify_course ();
CREATE TRIGGER catalog_course_cohorts_notify
    AFTER INSERT OR UPDATE OR DELETE ON catalog_course_cohorts
    FOR EACH ROW EXECUTE FUNCTION catalog_notify_course ();
