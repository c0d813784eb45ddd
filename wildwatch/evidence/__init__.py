"""Evidence of what the crawler saw: WARC records and screenshots of candidate listings, kept in a
content-addressed store and recorded (hash, time, crawler version, crawl run) in PostgreSQL."""
