-- The list puts empty values last in both directions. PostgreSQL sorts NULL last ascending, so
-- an ascending sort is the (column, ord) index, but a descending one with NULLS LAST needs an
-- index built that way; without these, sorting by satisfaction descending sorted every row.
CREATE INDEX conversations_satisfaction_nulls_last
    ON conversations (satisfaction_score DESC NULLS LAST, ord DESC);
CREATE INDEX conversations_sentiment_nulls_last
    ON conversations (avg_sentiment DESC NULLS LAST, ord DESC);
CREATE INDEX conversations_response_nulls_last
    ON conversations (avg_response_time DESC NULLS LAST, ord DESC);
