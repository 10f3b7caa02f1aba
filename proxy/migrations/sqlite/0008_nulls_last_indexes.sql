-- The list puts empty values last in both directions. SQLite sorts NULL first, so a descending
-- sort is the (column, ord) index read backwards, but an ascending one needs NULL as a key of
-- its own: without these, sorting a million conversations by satisfaction ascending read and
-- sorted every row (1.7 s; 0.5 ms with the index). The ORDER BY repeats the expression exactly.
CREATE INDEX conversations_satisfaction_nulls_last
    ON conversations ((satisfaction_score IS NULL), satisfaction_score, ord);
CREATE INDEX conversations_sentiment_nulls_last
    ON conversations ((avg_sentiment IS NULL), avg_sentiment, ord);
CREATE INDEX conversations_response_nulls_last
    ON conversations ((avg_response_time IS NULL), avg_response_time, ord);
