-- Kefu conversation list from the directory alone: GET /api/v1/conversations reads these rows and never asks the
-- conversations themselves (issue #13), so each row carries every field the list shows. The conversation writes them
-- with its summary (status, labels, rating: at once; read marks with its coalesced per-message writes). Rows written
-- before this script show no tags, rating or read marks until their conversation next writes its row.
ALTER TABLE kefu_conversation
    ADD COLUMN tags              TEXT         CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL COMMENT 'JSON array of the tags',
    ADD COLUMN queue_position    INT          NULL COMMENT 'while queued: its place in the queue when last written (1 = next)',
    ADD COLUMN snoozed_until     DATETIME(6)  NULL COMMENT 'while snoozed: when it reopens',
    ADD COLUMN first_response_at DATETIME(6)  NULL COMMENT 'time of the first agent message',
    ADD COLUMN resolved_at       DATETIME(6)  NULL COMMENT 'time of the latest resolution',
    ADD COLUMN csat_rating       TINYINT      NULL COMMENT 'the visitor''s rating, 1 to 5',
    ADD COLUMN csat_comment      VARCHAR(1000) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
    ADD COLUMN csat_at           DATETIME(6)  NULL,
    ADD COLUMN read_marks        TEXT         CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL COMMENT 'JSON object: participant key -> seq read through';

INSERT INTO kefu_schema_version (version, description) VALUES (8, 'conversation directory: everything the list shows');
