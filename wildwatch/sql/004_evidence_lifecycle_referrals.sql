-- Evidence of what the crawler saw, the life of a listing across runs, referrals and takedown follow-up.

-- One artefact (a WARC record or a screenshot) kept for a candidate listing, or the reason it is missing.
-- Files live in a content-addressed store under their SHA-256; this row is what proves what was seen, when.
CREATE TABLE evidence (
    id              bigserial PRIMARY KEY,
    listing_id      bigint NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    run_id          bigint REFERENCES crawl_runs(id),
    purpose         text NOT NULL DEFAULT 'capture' CHECK (purpose IN ('capture', 'takedown_check')),
    kind            text NOT NULL CHECK (kind IN ('warc', 'screenshot')),
    sha256          char(64),
    size_bytes      bigint,
    media_type      text,
    page_url        text NOT NULL,
    captured_at     timestamptz NOT NULL DEFAULT now(),
    crawler_version text NOT NULL,
    missing_reason  text,
    CHECK ((sha256 IS NULL) <> (missing_reason IS NULL))
);
-- A re-run of the same crawl replaces its capture instead of piling up copies.
CREATE UNIQUE INDEX evidence_capture_uniq ON evidence (listing_id, run_id, kind) WHERE purpose = 'capture';
CREATE INDEX evidence_sha_idx ON evidence (sha256);

-- Lifecycle: active while runs keep finding it; gone when a full monthly run of its site no longer does,
-- or when the page says it was removed.
ALTER TABLE listings ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'gone'));
ALTER TABLE listings ADD COLUMN gone_run_id bigint REFERENCES crawl_runs(id);
ALTER TABLE listings ADD COLUMN gone_at timestamptz;
ALTER TABLE listings ADD COLUMN gone_reason text CHECK (gone_reason IN ('not_found', 'removed'));

CREATE TABLE referrals (
    id              bigserial PRIMARY KEY,
    recipient_kind  text NOT NULL CHECK (recipient_kind IN ('platform', 'agency')),
    recipient       text NOT NULL,          -- a site name for platforms, the agency's name otherwise
    period          date NOT NULL,          -- the survey month the confirmed items come from
    country         char(2),
    status          text NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'approved', 'sent', 'acknowledged', 'closed')),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    approved_by     text,
    package_file    text,                   -- path of the ZIP, relative to the referral folder
    package_sha256  char(64),
    dag_run_id      text                    -- the wildwatch_referrals run that assembled it
);
CREATE INDEX referrals_status_idx ON referrals (status);

CREATE TABLE referral_items (
    referral_id bigint NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    listing_id  bigint NOT NULL REFERENCES listings(id),
    decision_id bigint NOT NULL REFERENCES review_decisions(id),
    PRIMARY KEY (referral_id, listing_id)
);
CREATE INDEX referral_items_listing_idx ON referral_items (listing_id);

-- Each revisit of a referred listing: still live, removed, or could not tell (and why).
CREATE TABLE takedown_checks (
    id          bigserial PRIMARY KEY,
    listing_id  bigint NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    checked_at  timestamptz NOT NULL DEFAULT now(),
    outcome     text NOT NULL CHECK (outcome IN ('live', 'removed', 'error')),
    http_status integer,
    detail      text,
    evidence_id bigint REFERENCES evidence(id)
);
CREATE INDEX takedown_checks_listing_idx ON takedown_checks (listing_id, checked_at);
