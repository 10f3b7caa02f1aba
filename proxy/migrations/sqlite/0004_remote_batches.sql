-- Jobs sent through a provider's asynchronous Batch API: the job's mode, when the provider
-- promises the results, what the batch price saved; each submitted batch with the chats of each
-- of its requests (so a restart collects the same batch instead of submitting again); items in
-- a submitted batch have status 'remote' and the batch's id.
ALTER TABLE jobs ADD COLUMN mode TEXT NOT NULL DEFAULT 'sync';
ALTER TABLE jobs ADD COLUMN expected_by_ms INTEGER;
ALTER TABLE jobs ADD COLUMN saved_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE job_items ADD COLUMN remote_batch TEXT;
CREATE INDEX job_items_remote ON job_items (remote_batch) WHERE remote_batch IS NOT NULL;
CREATE TABLE remote_batches (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    state TEXT NOT NULL,
    requests TEXT NOT NULL,
    submitted_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX remote_batches_job ON remote_batches (job_id, state);
