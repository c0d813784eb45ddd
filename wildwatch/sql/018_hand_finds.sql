-- Offers found by hand (social groups, messengers, pages analysts saved in their own browsers): stored as
-- listings like the crawled ones, on a site row per platform and country of kind 'hand'.
CREATE TABLE hand_platforms (
    slug     text PRIMARY KEY CHECK (slug ~ '^[a-z0-9_]{2,32}$'),
    title    text NOT NULL,
    added_by text NOT NULL DEFAULT 'wildwatch',
    added_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO hand_platforms (slug, title) VALUES
    ('facebook', 'Facebook'), ('zalo', 'Zalo'), ('wechat', 'WeChat'), ('telegram', 'Telegram'),
    ('tiktok', 'TikTok'), ('whatsapp', 'WhatsApp'), ('instagram', 'Instagram'), ('twitter', 'X (Twitter)'),
    ('youtube', 'YouTube'), ('other', 'Other');

ALTER TABLE sites ADD COLUMN kind text NOT NULL DEFAULT 'crawled' CHECK (kind IN ('crawled', 'hand'));
ALTER TABLE sites ADD COLUMN platform text;  -- hand sites: the platform's title

CREATE TABLE hand_finds (
    listing_id  bigint PRIMARY KEY REFERENCES listings(id) ON DELETE CASCADE,
    platform    text NOT NULL REFERENCES hand_platforms(slug),
    found_by    text NOT NULL,
    found_at    timestamptz NOT NULL DEFAULT now(),
    seen_on     date NOT NULL,                 -- when the analyst saw the post
    source      text NOT NULL CHECK (source IN ('address', 'html', 'mhtml', 'warc', 'wacz', 'pdf', 'image', 'text')),
    file_sha256 char(64),                      -- the uploaded file, in the evidence store
    file_name   text
);
CREATE INDEX hand_finds_platform_idx ON hand_finds (platform, seen_on);

ALTER TABLE evidence DROP CONSTRAINT evidence_kind_check;
ALTER TABLE evidence ADD CONSTRAINT evidence_kind_check CHECK (kind IN ('warc', 'screenshot', 'upload'));
ALTER TABLE review_queue DROP CONSTRAINT review_queue_reason_check;
ALTER TABLE review_queue ADD CONSTRAINT review_queue_reason_check
    CHECK (reason IN ('keywords', 'ranker', 'audit', 'hand'));
