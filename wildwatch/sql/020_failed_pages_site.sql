-- Which site a failed listing page belongs to, so that `wildwatch runs show` can name a site's failed pages
-- and why (rows from before this migration name none).
ALTER TABLE run_failed_pages ADD COLUMN site_id bigint REFERENCES sites(id) ON DELETE CASCADE;
CREATE INDEX run_failed_pages_site_idx ON run_failed_pages (run_id, site_id);
