-- Kefu conversation directory: one row per conversation, written by its conversation grain whenever status,
-- assignee or participants change (never per message). Serves GET /api/v1/conversations.
CREATE TABLE IF NOT EXISTS kefu_conversation
(
    tenant          VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    conversation_id BINARY(16)   NOT NULL COMMENT 'ULID bytes: sorts by creation time',
    inbox           VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    visitor_id      VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    visitor_name    VARCHAR(255) NULL,
    status          VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    assignee_id     VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL,
    agent_ids       TEXT         CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL COMMENT 'comma-separated agent ids that joined',
    last_seq        BIGINT       NOT NULL DEFAULT 0 COMMENT 'as of the last summary change; live value comes from the grain',
    created_at      DATETIME(6)  NOT NULL,
    updated_at      DATETIME(6)  NOT NULL,
    PRIMARY KEY (tenant, conversation_id),
    KEY ix_kefu_conversation_status (tenant, status, conversation_id),
    KEY ix_kefu_conversation_assignee (tenant, assignee_id, conversation_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO kefu_schema_version (version, description) VALUES (3, 'conversation directory');
