-- Analysts, leases on queue items, and an append-only audit trail of everything done in review.

CREATE TABLE users (
    id            serial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_.-]{2,64}$'),
    role          text NOT NULL CHECK (role IN ('analyst', 'supervisor', 'admin')),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE review_queue ADD COLUMN claimed_at timestamptz;
-- "unsure" sends an item to the supervisors instead of closing it.
ALTER TABLE review_queue DROP CONSTRAINT review_queue_status_check;
ALTER TABLE review_queue ADD CONSTRAINT review_queue_status_check
    CHECK (status IN ('pending', 'claimed', 'decided', 'escalated'));
-- Claims look for pending items and for claims whose lease ran out.
CREATE INDEX review_queue_lease_idx ON review_queue (lease_expires_at) WHERE status = 'claimed';

CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_name text NOT NULL,
    action    text NOT NULL,          -- claim, decide, release, export, user_add, ...
    entity    text NOT NULL,          -- review_queue, listing, user, export
    entity_id text,
    before    jsonb,
    after     jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);

-- The trail must not be rewritten, whoever asks: the database refuses UPDATE, DELETE and TRUNCATE.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
