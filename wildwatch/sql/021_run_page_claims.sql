-- Listing pages a shard of a run is about to fetch. Shards started together find many of the same listings
-- through different terms; the first to claim a page fetches it, the others leave it to that shard (a page
-- that fails is then tried, and counted as an error, once a run, not once per shard running at that moment).
-- A shard run again (a cleared task) keeps its own claims and fetches them again.
CREATE TABLE run_page_claims (
    run_id     bigint NOT NULL REFERENCES crawl_runs(id) ON DELETE CASCADE,
    url        text NOT NULL,
    shard      integer NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, url)
);
