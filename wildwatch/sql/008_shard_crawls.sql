-- A site's search terms split into shards, each crawled by its own task (possibly on another worker).
-- site_crawls keeps one row per site and run, summed from its shards once the last one has finished.
CREATE TABLE shard_crawls (
    id            bigserial PRIMARY KEY,
    run_id        bigint NOT NULL REFERENCES crawl_runs(id) ON DELETE CASCADE,
    site_id       integer NOT NULL REFERENCES sites(id),
    shard         integer NOT NULL CHECK (shard >= 0),
    shards        integer NOT NULL CHECK (shards >= 1 AND shard < shards),
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    reason        text,
    worker        text,
    stats         jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    UNIQUE (run_id, site_id, shard)
);
