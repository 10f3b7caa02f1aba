-- A trigram index over each conversation's search text, so `q` of three characters or more
-- (`search_text LIKE '%q%'`) is answered from the index instead of a scan. pg_trgm ships with
-- PostgreSQL and is a trusted extension (a database owner may create it); where it cannot be
-- created, searches scan as before rather than the server refusing to start.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): searches scan the conversations', SQLERRM;
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS conversations_search_trgm
            ON conversations USING gin (search_text gin_trgm_ops);
    END IF;
END
$$;
