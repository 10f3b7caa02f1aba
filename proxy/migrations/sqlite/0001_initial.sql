-- PowerPulse store, SQLite dialect (keep in step with ../postgres/0001_initial.sql).

-- Counters: data_version changes on every write that affects metrics; next_ord orders
-- conversations by first arrival (file order within an upload).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('data_version', 0), ('next_ord', 0);

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    chats_read INTEGER NOT NULL,
    messages_read INTEGER NOT NULL,
    conversations_processed INTEGER NOT NULL,
    conversations_skipped INTEGER NOT NULL,
    messages_processed INTEGER NOT NULL,
    filtered TEXT NOT NULL,
    job_id TEXT
);
CREATE INDEX uploads_file_hash ON uploads (file_hash);

CREATE TABLE conversations (
    chat_id TEXT PRIMARY KEY,
    ord INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    first_message_ms INTEGER NOT NULL,
    last_message_ms INTEGER NOT NULL,
    total_messages INTEGER NOT NULL,
    customer_messages INTEGER NOT NULL,
    agent_messages INTEGER NOT NULL,
    bot_messages INTEGER NOT NULL,
    segments INTEGER NOT NULL,
    satisfaction_score INTEGER,
    satisfaction_confidence REAL,
    avg_sentiment REAL,
    fcr INTEGER,
    avg_response_time REAL,
    first_response REAL,
    topics TEXT NOT NULL,
    agents TEXT NOT NULL,
    analyzer TEXT NOT NULL,
    analysis_status TEXT NOT NULL,
    ai_error TEXT,
    ai_cache_key TEXT,
    summary TEXT NOT NULL,
    search_text TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX conversations_ord ON conversations (ord);
CREATE INDEX conversations_first ON conversations (first_message_ms, ord);
CREATE INDEX conversations_updated ON conversations (updated_ms, ord);
CREATE INDEX conversations_satisfaction ON conversations (satisfaction_score, ord);
CREATE INDEX conversations_sentiment ON conversations (avg_sentiment, ord);
CREATE INDEX conversations_total ON conversations (total_messages, ord);
CREATE INDEX conversations_response ON conversations (avg_response_time, ord);
CREATE INDEX conversations_status ON conversations (analysis_status);

CREATE TABLE conversation_agents (
    agent TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    PRIMARY KEY (agent, chat_id)
);
CREATE INDEX conversation_agents_chat ON conversation_agents (chat_id);

CREATE TABLE conversation_topics (
    topic TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    PRIMARY KEY (topic, chat_id)
);
CREATE INDEX conversation_topics_chat ON conversation_topics (chat_id);

CREATE TABLE messages (
    chat_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    role TEXT NOT NULL,
    agent TEXT,
    text TEXT NOT NULL,
    sentiment REAL,
    reply_gap REAL,
    segment INTEGER NOT NULL,
    PRIMARY KEY (chat_id, seq)
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    upload_id TEXT,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    analyzer TEXT NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    error TEXT,
    paused_until_ms INTEGER,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX jobs_status ON jobs (status);

CREATE TABLE job_items (
    job_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_ms INTEGER,
    handled_count INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    PRIMARY KEY (job_id, chat_id)
);
CREATE INDEX job_items_queue ON job_items (job_id, status);
