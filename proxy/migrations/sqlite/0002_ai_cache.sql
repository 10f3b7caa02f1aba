-- Validated AI analyses by cache key (content as sent, model, prompt version), shared by the
-- job path and POST /api/analyze.
CREATE TABLE ai_cache (
    key TEXT PRIMARY KEY,
    analysis TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

-- A job from a forced re-upload bypasses the cache.
ALTER TABLE jobs ADD COLUMN force INTEGER NOT NULL DEFAULT 0;

-- Conversations answered from the cache instead of a call.
ALTER TABLE jobs ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
