-- Accounts: users, their memberships in organizations, and refresh tokens.
-- Kept in step with the other backend's migration of the same name.
CREATE TABLE users (
    id                    TEXT PRIMARY KEY NOT NULL,
    email                 TEXT NOT NULL,
    -- Lower-cased email: one account per address whatever its case.
    email_key             TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    is_platform_operator  BOOLEAN NOT NULL DEFAULT FALSE,
    disabled              BOOLEAN NOT NULL DEFAULT FALSE,
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    deleted_at            TIMESTAMP
);

CREATE TABLE memberships (
    id               TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id),
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    role             TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'faculty')),
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    UNIQUE (user_id, organization_id)
);
CREATE INDEX memberships_organization ON memberships (organization_id);

-- Only a SHA-256 of each refresh token is stored. Tokens of one login form a family; reuse
-- of a spent token revokes the whole family.
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
