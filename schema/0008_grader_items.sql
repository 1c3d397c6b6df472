-- 0008_grader_items: submissions to catalog items (exercises and questions) and the results feed.
--
-- A submission now names what it answers: kind 'exercise' (code run against tests: the inline
-- form of issue 5, or an exercise item's tests) or 'question' (an answer to a question item,
-- graded at once; subjective ones wait as 'pending' for the llm grader). course_id is the item's
-- course. passed is the outcome consumers track progress by (verdict accepted / answer right).
-- A question has no language. The (finished_at, id) index serves result.list, the feed the
-- catalog catches up from after a restart (actors/grader/GRADER.md).
ALTER TABLE grader_submissions
    ADD COLUMN kind      text NOT NULL DEFAULT 'exercise' CHECK (kind IN ('exercise', 'question')),
    ADD COLUMN course_id text,
    ADD COLUMN passed    boolean,
    ALTER COLUMN language DROP NOT NULL;
ALTER TABLE grader_submissions DROP CONSTRAINT grader_submissions_status_check;
ALTER TABLE grader_submissions ADD CONSTRAINT grader_submissions_status_check
    CHECK (status IN ('queued', 'running', 'done', 'pending'));
UPDATE grader_submissions SET passed = (verdict = 'accepted') WHERE status = 'done';
CREATE INDEX grader_submissions_finished ON grader_submissions (finished_at, id) WHERE status = 'done';
CREATE INDEX grader_submissions_item ON grader_submissions (item_id, user_id) WHERE item_id IS NOT NULL;
