-- Kefu conversation list: the directory row carries what the list shows about a conversation's messages (the last
-- visitor or agent message as a preview, its time, the visitor messages no agent has read) and display names, and
-- the list sorts queued conversations by waiting time, the others by last activity. The conversation grain writes
-- these at most once a second per conversation (coalesced, see docs/architecture.md). Rows written before this
-- script get last_activity_at = created_at and no preview until their conversation next writes its row.
ALTER TABLE kefu_conversation
    ADD COLUMN preview          VARCHAR(140) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL COMMENT 'last visitor or agent message, one line, at most 140 characters',
    ADD COLUMN last_activity_at DATETIME(6)  NULL COMMENT 'time of the last visitor or agent message, else created_at',
    ADD COLUMN unread           INT          NOT NULL DEFAULT 0 COMMENT 'visitor messages after the agents'' read mark',
    ADD COLUMN assignee_name    VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL COMMENT 'display name of the assignee',
    ADD COLUMN queued_at        DATETIME(6)  NULL COMMENT 'while queued: when it entered the queue',
    ADD KEY ix_kefu_conversation_activity (tenant, last_activity_at);

UPDATE kefu_conversation SET last_activity_at = created_at WHERE last_activity_at IS NULL;
UPDATE kefu_conversation SET queued_at = created_at WHERE status = 'queued' AND queued_at IS NULL;

INSERT INTO kefu_schema_version (version, description) VALUES (5, 'conversation directory: preview, last activity, unread, names');
