-- E-mail: each user's language and unsubscribe token and when their last digests went out,
-- which notifications were mailed, and the mails waiting to be sent (an outbox, so that a
-- mail is written with what it reports and survives a restart). Kept in step with the other
-- backend's migration of the same name.
ALTER TABLE notifications ADD COLUMN mailed_at TIMESTAMP;

CREATE TABLE mail_preferences (
    user_id           TEXT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- `en`, `ko` or `zh-Hant`.
    language          TEXT NOT NULL,
    -- Random, for the unsubscribe link (no sign-in needed to stop mail).
    unsubscribe_token TEXT NOT NULL UNIQUE,
    daily_sent_at     TIMESTAMP,
    weekly_sent_at    TIMESTAMP
);

CREATE TABLE mail_outbox (
    id              TEXT NOT NULL PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- `immediate`, `daily` or `weekly`.
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_error      TEXT,
    runner          TEXT,
    lease_until     TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
