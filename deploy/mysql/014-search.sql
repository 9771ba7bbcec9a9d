-- Conversation search (issue #20 item 3, docs/search.md): one row per message or internal note, written by the
-- tenant's search indexer from the event log. `tokens` holds the text's tokens made by the application
-- (grains/Search/SearchTokenizer.cs: words, and CJK characters and character pairs, each hashed with the tenant into a
-- 14-character ASCII word), so the default FULLTEXT parser needs no n-gram support and no server setting
-- (innodb_ft_min_token_size, stopwords) matters. Queried with MATCH(tokens) AGAINST('+t… +t…' IN BOOLEAN MODE) and joined
-- with kefu_conversation for status, tags, inbox and visibility (nothing of the directory is copied here).
CREATE TABLE IF NOT EXISTS kefu_search_message
(
    tenant          VARCHAR(64)   CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    conversation_id BINARY(16)    NOT NULL COMMENT 'ULID bytes',
    kind            TINYINT       NOT NULL COMMENT '0 message, 1 internal note',
    seq             BIGINT        NOT NULL COMMENT 'a message: its seq; a note: its event''s seq',
    created_at      DATETIME(6)   NOT NULL,
    sender_role     VARCHAR(16)   CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    excerpt         VARCHAR(1000) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL COMMENT 'the text''s first 1000 characters, for snippets',
    tokens          MEDIUMTEXT    CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL COMMENT 'hashed tokens, space-separated',
    PRIMARY KEY (tenant, conversation_id, kind, seq),
    KEY ix_kefu_search_message_created (tenant, created_at),
    FULLTEXT KEY ft_kefu_search_message_tokens (tokens)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO kefu_schema_version (version, description) VALUES (14, 'conversation search index');
