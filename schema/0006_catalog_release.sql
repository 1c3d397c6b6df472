-- 0006_catalog_release: finding the drafts whose publish_at has come, for the catalog's release
-- tick (every 5 s), without scanning every course.
CREATE INDEX catalog_courses_release ON catalog_courses (publish_at)
    WHERE status = 'draft' AND publish_at IS NOT NULL;
