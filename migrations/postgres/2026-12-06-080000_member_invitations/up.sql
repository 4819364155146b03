-- Invitations to join an organization. An organization's admin invites an email address; the
-- account with that address joins only by accepting (it may decline; the admin may revoke a
-- pending one). Nothing about the address's account is stored or revealed when inviting: the
-- invitation is matched to an account by `email_key` only when that account reads or answers it.
-- Kept in step with the other backend's migration of the same name.
CREATE TABLE member_invitations (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    email            TEXT NOT NULL,
    -- Lower-cased email, as users.email_key.
    email_key        TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'faculty')),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    invited_by       TEXT REFERENCES users (id),
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
-- One pending invitation per organization and address.
CREATE UNIQUE INDEX member_invitations_pending ON member_invitations (organization_id, email_key)
    WHERE status = 'pending';
CREATE INDEX member_invitations_email ON member_invitations (email_key);
