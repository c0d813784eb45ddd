-- Text read from candidates' photos (wildwatch/ocr.py): per photo, and joined per listing, where contact
-- extraction reads it as a field of its own ('photo_text').
ALTER TABLE listing_photos ADD COLUMN ocr_text text;
ALTER TABLE listing_photos ADD COLUMN ocr_ms integer;
ALTER TABLE listing_photos ADD COLUMN ocr_at timestamptz;
ALTER TABLE listing_photos ADD COLUMN ocr_error text;
CREATE INDEX listing_photos_unread_idx ON listing_photos (listing_id) WHERE ocr_at IS NULL AND sha256 IS NOT NULL;
ALTER TABLE listings ADD COLUMN photo_text text;
-- Keywords written on a photo are matches of a field of their own.
ALTER TABLE keyword_matches DROP CONSTRAINT keyword_matches_field_check;
ALTER TABLE keyword_matches ADD CONSTRAINT keyword_matches_field_check
    CHECK (field IN ('title', 'description', 'photo_text'));
