-- 0015_catalog_enrolment_cards: which enrolments have had their srs cards made, and up to what
-- (issue 6 point 2; actors/catalog/CATALOG.md "Cards on enrolment", actors/srs/SRS.md §4).
--
-- Why: after an enrolment commits, the catalog asks srs (cards.from_items) for the learner's
-- cards of the course's released vocabulary, grammar and exercise items, without waiting for the
-- answer. srs may be down, and drip releases more modules later, so each enrolment has a row
-- here, made with it (trigger), saying what srs last confirmed: the released modules and the
-- course's tree_version it was sent (-1: nothing yet). The catalog's catch-up sweep sends again
-- the rows that are behind, found through the (course_id, ...) indexes course by course, never
-- by reading every enrolment: tree_version below the course's (never confirmed, or the course
-- changed), or, in a course with drip links, fewer modules than have been released. srs is
-- idempotent per (learner, item, direction), so sending twice never makes a second card.
-- Unenrolling deletes the row with the enrolment (the cards stay: the reviews are the learner's
-- history), so the sweep sends nothing more.
CREATE TABLE catalog_enrolment_cards (
    user_id       text NOT NULL,
    course_id     uuid NOT NULL,
    modules       integer NOT NULL DEFAULT -1,   -- released modules whose items srs confirmed
    tree_version  bigint NOT NULL DEFAULT -1,    -- the course's tree_version then (-1: never)
    cards         integer NOT NULL DEFAULT 0,    -- cards srs created for it, in total
    status        integer NOT NULL DEFAULT 0,    -- srs's last answer (2xx; 4xx: not retried)
    synced_at     timestamptz,
    PRIMARY KEY (user_id, course_id),
    FOREIGN KEY (user_id, course_id) REFERENCES catalog_enrolments (user_id, course_id)
        ON DELETE CASCADE
);
CREATE INDEX catalog_enrolment_cards_version ON catalog_enrolment_cards (course_id, tree_version);
CREATE INDEX catalog_enrolment_cards_modules ON catalog_enrolment_cards (course_id, modules);

CREATE FUNCTION catalog_enrolment_cards_new () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_enrolment_cards (user_id, course_id) VALUES (NEW.user_id, NEW.course_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER catalog_enrolments_cards AFTER INSERT ON catalog_enrolments
    FOR EACH ROW EXECUTE FUNCTION catalog_enrolment_cards_new ();

-- Enrolments made before this migration are owed their cards too.
INSERT INTO catalog_enrolment_cards (user_id, course_id)
    SELECT user_id, course_id FROM catalog_enrolments;
