-- Validated AI analyses by cache key (content as sent, model, prompt version), shared by the
-- job path and POST /api/analyze.
CREATE TABLE ai_cache (
    key TEXT PRIMARY KEY,
    analysis TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

-- A job from a forced re-upload bypasses the cache.
ALTER TABLE jobs ADD COLUMN force BOOLEAN NOT NULL DEFAULT FALSE;

-- Conversations answered from the cache instead of a call.
ALTER TABLE jobs ADD COLUMN cached BIGINT NOT NULL DEFAULT 0;
