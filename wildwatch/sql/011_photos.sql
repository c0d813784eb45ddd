-- Listing photos kept as evidence (candidates only), in the content-addressed evidence store: the original
-- bytes, a thumbnail for the review app, and a perceptual hash that finds the same photo re-used elsewhere.
CREATE TABLE listing_photos (
    id              bigserial PRIMARY KEY,
    listing_id      bigint NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    run_id          bigint REFERENCES crawl_runs(id),
    position        integer NOT NULL,                -- order on the listing page, from 1
    source_url      text NOT NULL,                   -- where it was fetched (never shown as a link or hot-linked)
    sha256          char(64),
    thumb_sha256    char(64),
    media_type      text,
    width           integer,
    height          integer,
    size_bytes      bigint,
    phash           bigint,                          -- 64-bit pHash, signed
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    missing_reason  text,                            -- timeout, too big, not an image, off-site host, ...
    CHECK ((sha256 IS NULL) <> (missing_reason IS NULL)),
    UNIQUE (listing_id, source_url)
);
CREATE INDEX listing_photos_sha_idx ON listing_photos (sha256);
CREATE INDEX listing_photos_phash_idx ON listing_photos (phash) WHERE phash IS NOT NULL;

-- Near-identical photos on listings of different networks: a possible link shown to analysts with its
-- evidence, never a merge (stock photos are shared by innocent sellers).
CREATE TABLE photo_links (
    listing_a   bigint NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    listing_b   bigint NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    photo_a     bigint NOT NULL REFERENCES listing_photos(id) ON DELETE CASCADE,
    photo_b     bigint NOT NULL REFERENCES listing_photos(id) ON DELETE CASCADE,
    distance    integer NOT NULL,                -- Hamming distance of the two pHashes
    PRIMARY KEY (listing_a, listing_b),
    CHECK (listing_a < listing_b)
);
CREATE INDEX photo_links_b_idx ON photo_links (listing_b);

-- An agency referral for a whole seller network: its confirmed listings are the items, and the package adds
-- every member's evidence, photos, contacts and the links between them.
ALTER TABLE referrals ADD COLUMN network_id bigint REFERENCES networks(id);
