-- Optional second review: a confirmation waits for a second analyst ('second_review') before it is final.
ALTER TABLE review_queue DROP CONSTRAINT review_queue_status_check;
ALTER TABLE review_queue ADD CONSTRAINT review_queue_status_check
    CHECK (status IN ('pending', 'claimed', 'second_review', 'decided', 'escalated'));
CREATE INDEX review_queue_second_idx ON review_queue (priority DESC, id) WHERE status = 'second_review';
CREATE INDEX review_decisions_queue_idx ON review_decisions (queue_id, id);
