-- Claims scan one index of everything claimable, highest priority first (10,000 items: a few ms per claim).
DROP INDEX IF EXISTS review_queue_pending_idx;
DROP INDEX IF EXISTS review_queue_second_idx;
CREATE INDEX review_queue_claimable_idx ON review_queue (priority DESC, id)
    WHERE status IN ('pending', 'second_review');
