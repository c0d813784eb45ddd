-- Review sessions live on the server: the cookie only names one, so logout, disabling an account, a role or
-- password change end it at once, and idle and absolute lifetimes hold even for a copied cookie.
CREATE TABLE review_sessions (
    id            text PRIMARY KEY,              -- sha256 of the token the cookie carries (never the token)
    user_id       integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          text NOT NULL,                 -- the role at login: a different role now ends the session
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    ended_reason  text,
    address       text,
    user_agent    text
);
CREATE INDEX review_sessions_user_idx ON review_sessions (user_id) WHERE ended_at IS NULL;

-- Login throttling: one row per key ('acct:<name>@<address>', 'addr:<address>'), locked for each attempt so
-- that attempts sent at once are counted one after another.
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,
    failures      integer NOT NULL DEFAULT 0,
    window_start  timestamptz NOT NULL DEFAULT now(),
    blocked_until timestamptz
);
DROP TABLE login_failures;

-- A password change is dated (sessions from before it end).
ALTER TABLE users ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();

-- A supervisor's correction of a settled decision is a new decision that names the one it corrects.
ALTER TABLE review_decisions ADD COLUMN correction_of bigint REFERENCES review_decisions(id);
