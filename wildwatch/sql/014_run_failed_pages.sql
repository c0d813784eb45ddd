-- Listing pages that failed in a run after Scrapy's retries. The run's other keyword shards find the same
-- listings through other terms; they skip these instead of failing on them again (a 500 page fetched and
-- counted once per run, not once per shard).
CREATE TABLE run_failed_pages (
    run_id    bigint NOT NULL REFERENCES crawl_runs(id) ON DELETE CASCADE,
    url       text NOT NULL,
    shard     integer NOT NULL,
    reason    text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, url)
);
