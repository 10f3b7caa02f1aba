-- A conversation is read back from its summary alone (the shared crate builds the record from
-- it); these copies of summary fields were neither filtered nor sorted by, and had to be kept in
-- step with it by hand on every upload and analysis.
ALTER TABLE conversations DROP COLUMN customer_messages;
ALTER TABLE conversations DROP COLUMN agent_messages;
ALTER TABLE conversations DROP COLUMN bot_messages;
ALTER TABLE conversations DROP COLUMN segments;
ALTER TABLE conversations DROP COLUMN satisfaction_confidence;
ALTER TABLE conversations DROP COLUMN fcr;
ALTER TABLE conversations DROP COLUMN first_response;
ALTER TABLE conversations DROP COLUMN last_message_ms;
ALTER TABLE conversations DROP COLUMN topics;
ALTER TABLE conversations DROP COLUMN agents;
ALTER TABLE conversations DROP COLUMN analyzer;
ALTER TABLE conversations DROP COLUMN ai_cache_key;
