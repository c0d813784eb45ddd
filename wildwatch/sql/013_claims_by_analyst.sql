-- The items an analyst holds, found at once: they are let go whenever the analyst goes back to the queue.
CREATE INDEX review_queue_claimed_by_idx ON review_queue (claimed_by) WHERE status = 'claimed';
