-- A trigram index over each conversation's search text (customer and agent messages,
-- lowercased), so `q` of three characters or more is answered from the index instead of a scan
-- of every conversation. External content: the text stays in `conversations` alone, keyed by
-- the stable `ord`; triggers keep the index in step with every insert, re-upload and delete.
CREATE VIRTUAL TABLE conversations_fts USING fts5(
    search_text, content = 'conversations', content_rowid = 'ord', tokenize = 'trigram'
);
CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversations_fts (rowid, search_text) VALUES (new.ord, new.search_text);
END;
CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, search_text)
    VALUES ('delete', old.ord, old.search_text);
END;
CREATE TRIGGER conversations_fts_update AFTER UPDATE OF search_text, ord ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, search_text)
    VALUES ('delete', old.ord, old.search_text);
    INSERT INTO conversations_fts (rowid, search_text) VALUES (new.ord, new.search_text);
END;
INSERT INTO conversations_fts (conversations_fts) VALUES ('rebuild');
