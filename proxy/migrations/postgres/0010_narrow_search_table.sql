-- The trigram index's candidates are rechecked against their rows. In `conversations` a row
-- carries the stored summary too, so a recheck reads a wide page (the table outgrows the buffer
-- cache at about 100,000 conversations); in a table of only (ord, search_text) the same
-- rechecks read about a sixth of the pages. Measured at 195,066 conversations: a term found
-- nowhere 308 -> 34 ms, a frequent one 149 -> 14 ms (the count of a search).
-- Triggers keep it equal to `conversations.search_text`, which the server writes (one home for
-- the text: `shared::list::search_text`).
CREATE TABLE conversation_search (
    ord BIGINT PRIMARY KEY,
    search_text TEXT NOT NULL
);

INSERT INTO conversation_search (ord, search_text) SELECT ord, search_text FROM conversations;

CREATE FUNCTION conversation_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM conversation_search WHERE ord = OLD.ord;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.ord = OLD.ord AND NEW.search_text = OLD.search_text THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.ord <> OLD.ord THEN
        DELETE FROM conversation_search WHERE ord = OLD.ord;
    END IF;
    INSERT INTO conversation_search (ord, search_text) VALUES (NEW.ord, NEW.search_text)
        ON CONFLICT (ord) DO UPDATE SET search_text = EXCLUDED.search_text;
    RETURN NEW;
END
$$;

CREATE TRIGGER conversation_search_sync
    AFTER INSERT OR UPDATE OF ord, search_text OR DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversation_search_sync();

-- The index moves to the narrow table (where pg_trgm exists; otherwise searches scan).
DROP INDEX IF EXISTS conversations_search_trgm;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX conversation_search_trgm
            ON conversation_search USING gin (search_text gin_trgm_ops);
    END IF;
END
$$;
ANALYZE conversation_search;
