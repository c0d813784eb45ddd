-- Contacts found in listings (phones, messenger IDs, e-mail, outside shops) and the seller networks they
-- link: listings joined by a shared contact or the same seller account on one platform.

-- The seller's account on the platform (its profile path), where the site links one: a display name is not an
-- account.
ALTER TABLE listings ADD COLUMN seller_account text;

CREATE TABLE listing_contacts (
    listing_id  bigint NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('phone', 'wechat', 'qq', 'zalo', 'whatsapp', 'telegram', 'line',
                                              'email', 'url')),
    value       text NOT NULL,                   -- normalised: E.164, lower-case ID, host/path
    link_key    text NOT NULL,                   -- what links listings (a WhatsApp number links with that phone)
    field       text NOT NULL,                   -- title, description or seller
    span_start  integer NOT NULL,                -- where the analyst sees it, in that field's text
    span_end    integer NOT NULL,
    PRIMARY KEY (listing_id, field, span_start, kind)
);
CREATE INDEX listing_contacts_key_idx ON listing_contacts (link_key);

-- A network keeps its id while it grows; a network absorbed by an older one records where it went.
CREATE TABLE networks (
    id           bigserial PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    merged_into  bigint REFERENCES networks(id),
    listings     integer NOT NULL DEFAULT 0,
    sites        integer NOT NULL DEFAULT 0,
    countries    integer NOT NULL DEFAULT 0,
    months       integer NOT NULL DEFAULT 0
);

CREATE TABLE network_members (
    listing_id  bigint PRIMARY KEY REFERENCES listings(id) ON DELETE CASCADE,
    network_id  bigint NOT NULL REFERENCES networks(id)
);
CREATE INDEX network_members_network_idx ON network_members (network_id);

-- Why listings are in one network: each shared key with the listings that share it.
CREATE TABLE network_links (
    network_id   bigint NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
    link_key     text NOT NULL,                  -- phone:+255..., wechat:ivory_888, seller:<site>:<name>
    listing_ids  bigint[] NOT NULL,
    reason       text NOT NULL,                  -- "same WhatsApp +255 712 345 678 on demo_tz and demo_cm"
    PRIMARY KEY (network_id, link_key)
);
