-- Kefu contact centre: the conversation directory learns the team a conversation waits in (or was transferred to)
-- and its priority, so GET /api/v1/conversations can filter by team. Rows written before this script keep
-- team NULL and priority 'normal' until their conversation next changes.
ALTER TABLE kefu_conversation
    ADD COLUMN team     VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL COMMENT 'team queue it waits in or was transferred to',
    ADD COLUMN priority VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'normal' COMMENT 'low, normal, high, urgent',
    ADD KEY ix_kefu_conversation_team (tenant, team, conversation_id),
    ADD KEY ix_kefu_conversation_inbox (tenant, inbox, conversation_id);

INSERT INTO kefu_schema_version (version, description) VALUES (4, 'conversation directory: team and priority');
