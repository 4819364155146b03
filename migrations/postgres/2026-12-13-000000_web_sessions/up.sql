-- Sessions of the web app: the browser holds a random token in an HttpOnly cookie, the
-- database its SHA-256 digest (a copy of this table signs nobody in), the user, the form
-- token that every form of the session must carry (CSRF), and when it lapses: a week after
-- sign-in, or after hours without use. Kept in step with the other backend's migration.
CREATE TABLE web_sessions (
    token_hash   TEXT NOT NULL PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
-- Lapsed sessions are forgotten at each sign-in and sign-out.
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
CREATE INDEX web_sessions_idle ON web_sessions (last_seen_at);
