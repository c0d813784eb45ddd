-- wildwatch schema, version 1: survey runs, listings and their sightings, keyword matches, review queue.
-- Later changes go in new numbered files; never edit an applied migration.

CREATE TABLE sites (
    id            serial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    country       char(2) NOT NULL,            -- ISO 3166-1 alpha-2 of the country surveyed
    languages     text[] NOT NULL,
    base_url      text NOT NULL,
    needs_browser boolean NOT NULL DEFAULT false,
    enabled       boolean NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE keywords (
    id             serial PRIMARY KEY,
    term           text NOT NULL,
    language       text NOT NULL,
    product_group  text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('product', 'species', 'code_word', 'disguise', 'innocent')),
    species        text,
    cites_appendix text,
    source         text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (term, language, product_group, kind)
);

-- One survey: a monthly run, or a one-off country survey, or a manual `scrapy crawl`.
CREATE TABLE crawl_runs (
    id          bigserial PRIMARY KEY,
    run_key     text NOT NULL UNIQUE,          -- Airflow dag_run_id, or a generated key for manual crawls
    kind        text NOT NULL CHECK (kind IN ('monthly', 'adhoc', 'manual')),
    period      date NOT NULL,                 -- first day of the month surveyed
    params      jsonb NOT NULL DEFAULT '{}'::jsonb,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    summary     jsonb
);

-- What one site's crawl did within a run; the failure reason is kept so a site that went dark is visible.
CREATE TABLE site_crawls (
    id                bigserial PRIMARY KEY,
    run_id            bigint NOT NULL REFERENCES crawl_runs(id) ON DELETE CASCADE,
    site_id           integer NOT NULL REFERENCES sites(id),
    status            text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    reason            text,
    pages_fetched     integer NOT NULL DEFAULT 0,
    listings_seen     integer NOT NULL DEFAULT 0,
    candidates_queued integer NOT NULL DEFAULT 0,
    errors            integer NOT NULL DEFAULT 0,
    stats             jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    UNIQUE (run_id, site_id)
);

-- One row per canonical listing URL, whatever the number of runs that saw it.
CREATE TABLE listings (
    id            bigserial PRIMARY KEY,
    site_id       integer NOT NULL REFERENCES sites(id),
    url           text NOT NULL UNIQUE,
    external_id   text,
    title         text NOT NULL,
    description   text,
    price         numeric(18, 2),
    currency      char(3),
    seller        text,
    location      text,
    posted_at     date,
    image_urls    text[] NOT NULL DEFAULT '{}',
    language      text,
    score         real NOT NULL DEFAULT 0,
    score_reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
    first_run_id  bigint REFERENCES crawl_runs(id),
    last_run_id   bigint REFERENCES crawl_runs(id),
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX listings_site_idx ON listings (site_id);
CREATE INDEX listings_seller_idx ON listings (site_id, seller);

-- Each time a run saw a listing, with what it showed then (titles and prices change between months).
CREATE TABLE sightings (
    id           bigserial PRIMARY KEY,
    listing_id   bigint NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    run_id       bigint NOT NULL REFERENCES crawl_runs(id) ON DELETE CASCADE,
    seen_at      timestamptz NOT NULL DEFAULT now(),
    search_query text,
    search_url   text,
    title        text NOT NULL,
    price        numeric(18, 2),
    currency     char(3),
    queued       boolean NOT NULL DEFAULT false,
    UNIQUE (listing_id, run_id)
);
CREATE INDEX sightings_run_idx ON sightings (run_id);

-- Matches of the listing's current text; replaced whenever the listing is stored again.
CREATE TABLE keyword_matches (
    id            bigserial PRIMARY KEY,
    listing_id    bigint NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    keyword_id    integer REFERENCES keywords(id) ON DELETE SET NULL,
    term          text NOT NULL,
    language      text,
    product_group text NOT NULL,
    kind          text NOT NULL,
    field         text NOT NULL CHECK (field IN ('title', 'description')),
    span_start    integer NOT NULL,
    span_end      integer NOT NULL,
    matched_text  text NOT NULL,
    UNIQUE (listing_id, field, span_start, span_end, term)
);
CREATE INDEX keyword_matches_group_idx ON keyword_matches (product_group);

-- The review queue: one entry per listing, however often it is seen again.
CREATE TABLE review_queue (
    id               bigserial PRIMARY KEY,
    listing_id       bigint NOT NULL UNIQUE REFERENCES listings(id) ON DELETE CASCADE,
    run_id           bigint NOT NULL REFERENCES crawl_runs(id),
    priority         real NOT NULL DEFAULT 0,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'claimed', 'decided')),
    claimed_by       text,
    lease_expires_at timestamptz,
    queued_at        timestamptz NOT NULL DEFAULT now()
);
-- Analysts take work from the pending end only; a partial index keeps that scan small.
CREATE INDEX review_queue_pending_idx ON review_queue (priority DESC, id) WHERE status = 'pending';

CREATE TABLE review_decisions (
    id            bigserial PRIMARY KEY,
    queue_id      bigint NOT NULL REFERENCES review_queue(id),
    listing_id    bigint NOT NULL REFERENCES listings(id),
    decision      text NOT NULL CHECK (decision IN ('confirmed', 'legal', 'not_wildlife', 'unsure')),
    product_group text,
    species       text,
    note          text,
    decided_by    text NOT NULL,
    decided_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_decisions_listing_idx ON review_decisions (listing_id);
