-- The ranker: models learnt from review decisions (stored as data, never pickled), the score each listing
-- got from the active model, and the blind audit sample of listings the filter did not queue.

CREATE TABLE ranker_models (
    version          serial PRIMARY KEY,
    sha256           text NOT NULL UNIQUE,       -- of the model bytes: what was trained is what is loaded
    model            bytea NOT NULL,             -- gzip'd JSON (vocabularies, arrays), see wildwatch/ranker/model.py
    trained_at       timestamptz NOT NULL DEFAULT now(),
    trained_by       text NOT NULL,
    cutoff           timestamptz,                -- decisions up to here were used (NULL: all at training time)
    positives        integer NOT NULL,
    negatives        integer NOT NULL,
    last_decision_at timestamptz,
    threshold        real NOT NULL,              -- queue a listing when its score reaches this
    evaluation       jsonb NOT NULL DEFAULT '{}'::jsonb,
    active           boolean NOT NULL DEFAULT false,
    activated_at     timestamptz
);
-- At most one active model, whoever activates concurrently.
CREATE UNIQUE INDEX ranker_models_one_active ON ranker_models ((true)) WHERE active;

ALTER TABLE listings ADD COLUMN rank_score real;
ALTER TABLE listings ADD COLUMN rank_model integer REFERENCES ranker_models(version);

-- Why an item is in the queue: the keyword score, the ranker, or the blind audit sample (never shown to analysts).
ALTER TABLE review_queue ADD COLUMN reason text NOT NULL DEFAULT 'keywords'
    CHECK (reason IN ('keywords', 'ranker', 'audit'));
CREATE INDEX review_queue_run_reason_idx ON review_queue (run_id, reason);

-- Each monthly run's blind audit sample: how many stored listings were not queued (the population the
-- missed-offer estimate scales to) and how many of them were drawn into the queue.
CREATE TABLE audit_samples (
    run_id      bigint PRIMARY KEY REFERENCES crawl_runs(id) ON DELETE CASCADE,
    population  integer NOT NULL,
    sampled     integer NOT NULL,
    drawn_at    timestamptz NOT NULL DEFAULT now()
);
