-- The data version of the write that last changed a conversation, so a server's snapshot of the
-- summaries reloads only what changed since the version it holds.
ALTER TABLE conversations ADD COLUMN changed_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_changed ON conversations (changed_version);
