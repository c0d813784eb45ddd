-- Forum sites: a thread is a listing, its first post the description; the author's later posts in the thread
-- (where traders leave a WeChat id or a phone number) are kept beside it, for contacts and for the analyst.
ALTER TABLE listings ADD COLUMN replies text;
