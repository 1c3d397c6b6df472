-- 0012_identity_notify — tell every tutord process at once what changed about a caller
-- (actors/identity/IDENTITY.md §1, "Revocation is strict").
--
-- The web bridge keeps the auth map identity answered for a credential in a cache
-- (bridges/web/td_authcache.c). A cache is only allowed because nothing that changes an auth map
-- can be missed: every row change that revokes a session, changes what a user's map holds
-- (email, memberships, cohorts, mentees), changes what `me` shows (names of the user, of their
-- orgs and cohorts) or revokes an API key sends, in the same transaction,
-- pg_notify('tutord_auth', <what>) with <what> one of
--     s:<session id>   that session is revoked (or gone)
--     u:<user id>      drop everything cached for that user
--     k:<api key id>   that key is revoked (or gone)
-- Triggers, not the actor's code, so that no write path (another worker, a cascade, an operator
-- with psql) can change these rows without the notification. The bridge drops the matching
-- entries when the notification arrives, and bypasses its cache while it is not listening.
-- ("b:<unix us>:<random>" payloads are barriers identity sends after such a write, and
-- "a:<barrier>:<listener>" every listener's acknowledgement of one; they name nothing. See
-- actors/identity/td_identity_notify.c.)

CREATE FUNCTION identity_notify_session() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('tutord_auth', 's:' || OLD.id::text);
    ELSIF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
       OR NEW.expires_at < OLD.expires_at
       OR NEW.user_id <> OLD.user_id THEN
        PERFORM pg_notify('tutord_auth', 's:' || OLD.id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_sessions_notify
    AFTER UPDATE OR DELETE ON identity_sessions
    FOR EACH ROW EXECUTE FUNCTION identity_notify_session();

CREATE FUNCTION identity_notify_user() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('tutord_auth', 'u:' || OLD.id::text);
    ELSIF NEW.email IS DISTINCT FROM OLD.email
       OR NEW.name IS DISTINCT FROM OLD.name
       OR NEW.password_hash IS DISTINCT FROM OLD.password_hash
       OR NEW.id <> OLD.id THEN
        PERFORM pg_notify('tutord_auth', 'u:' || OLD.id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_users_notify
    AFTER UPDATE OR DELETE ON identity_users
    FOR EACH ROW EXECUTE FUNCTION identity_notify_user();

-- Memberships: the user's "memberships" list.
CREATE FUNCTION identity_notify_membership() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('tutord_auth', 'u:' || OLD.user_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('tutord_auth', 'u:' || NEW.user_id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_memberships_notify
    AFTER INSERT OR UPDATE OR DELETE ON identity_memberships
    FOR EACH ROW EXECUTE FUNCTION identity_notify_membership();

-- Cohort members: the member's "cohorts" list, and the "mentees" list of every mentor of the
-- cohort (a learner joining or leaving changes what its mentors may see).
CREATE FUNCTION identity_notify_cohort_member() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('tutord_auth', 'u:' || OLD.user_id::text);
        FOR r IN SELECT user_id FROM identity_cohort_members
                 WHERE cohort_id = OLD.cohort_id AND role = 'mentor' LOOP
            PERFORM pg_notify('tutord_auth', 'u:' || r.user_id::text);
        END LOOP;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('tutord_auth', 'u:' || NEW.user_id::text);
        FOR r IN SELECT user_id FROM identity_cohort_members
                 WHERE cohort_id = NEW.cohort_id AND role = 'mentor' LOOP
            PERFORM pg_notify('tutord_auth', 'u:' || r.user_id::text);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_cohort_members_notify
    AFTER INSERT OR UPDATE OR DELETE ON identity_cohort_members
    FOR EACH ROW EXECUTE FUNCTION identity_notify_cohort_member();

-- A cohort moved to another org changes the "org" of its members' "cohorts" entries; a renamed
-- one what their `me` shows.
CREATE FUNCTION identity_notify_cohort() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF NEW.org_id <> OLD.org_id OR NEW.id <> OLD.id OR NEW.name IS DISTINCT FROM OLD.name THEN
        FOR r IN SELECT user_id FROM identity_cohort_members WHERE cohort_id = OLD.id LOOP
            PERFORM pg_notify('tutord_auth', 'u:' || r.user_id::text);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_cohorts_notify
    AFTER UPDATE ON identity_cohorts
    FOR EACH ROW EXECUTE FUNCTION identity_notify_cohort();

-- A renamed org (name or slug): what its members' `me` shows.
CREATE FUNCTION identity_notify_org() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name OR NEW.slug IS DISTINCT FROM OLD.slug
       OR NEW.id <> OLD.id THEN
        FOR r IN SELECT user_id FROM identity_memberships WHERE org_id = OLD.id LOOP
            PERFORM pg_notify('tutord_auth', 'u:' || r.user_id::text);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_orgs_notify
    AFTER UPDATE ON identity_orgs
    FOR EACH ROW EXECUTE FUNCTION identity_notify_org();

CREATE FUNCTION identity_notify_api_key() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('tutord_auth', 'k:' || OLD.id::text);
    ELSIF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
       OR NEW.org_id <> OLD.org_id OR NEW.hash <> OLD.hash THEN
        PERFORM pg_notify('tutord_auth', 'k:' || OLD.id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_api_keys_notify
    AFTER UPDATE OR DELETE ON identity_api_keys
    FOR EACH ROW EXECUTE FUNCTION identity_notify_api_key();
