-- Reviews: a person's judgement of a conversation (the labels format, JSON), kept by chat id so
-- that it outlives re-uploads and re-analyses of the chat. The conversation's summary carries
-- the review in place (with the analyzer's own analysis beside it); this table is what a new
-- summary takes it from.
CREATE TABLE reviews (
    chat_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    reviewed_ms BIGINT NOT NULL
);
