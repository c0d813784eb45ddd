-- Failed logins, per account name and per client address, to slow down password guessing.
CREATE TABLE login_failures (
    id  bigserial PRIMARY KEY,
    key text NOT NULL,              -- 'user:<name>' or 'ip:<address>'
    at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, at);
