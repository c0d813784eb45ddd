-- Incremental surveys: what a listing's search card said when its detail page was last fetched, and the
-- detail page's fields as extracted then. A listing whose card is unchanged is re-read from these (and
-- re-matched with the current keyword lists and ranker) instead of fetching its page again.
ALTER TABLE listings ADD COLUMN card_hash text;
ALTER TABLE listings ADD COLUMN detail_fields jsonb;
ALTER TABLE listings ADD COLUMN detail_fetched_at timestamptz;
