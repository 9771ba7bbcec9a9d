-- The activity timeline (issue #18, GET /api/v1/conversations/{id}/activity): one conversation's events other than
-- messages and notes, found through an index instead of a scan of the tenant's outbox.
--
-- activity_conversation: a virtual generated column (computed, not stored; only the index holds it). A conversation's
--   own events carry its id in conversation_id; tenant-level events about a conversation name it in their data: a
--   route execution or an email result (data.conversationId), a CRM sync failure of a conversation record
--   (data.kind = 'conversation', data.recordId). message.created and note.created are NULL, so a long conversation's
--   messages never fill the index range the timeline reads. LEFT(…, 64): a value from a caller's data can never make
--   an insert fail for length. grains/Activity/ActivitySubject.cs is the same rule for the in-memory log.
-- ix_kefu_event_activity: (tenant, activity_conversation, cursor_no), the timeline's read order, bounded by LIMIT.
-- Adding a virtual column and its index builds the index online from the existing rows; nothing is rewritten.
ALTER TABLE kefu_event
    ADD COLUMN activity_conversation VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (
        CASE
            WHEN type IN ('message.created', 'note.created') THEN NULL
            WHEN conversation_id IS NOT NULL THEN conversation_id
            WHEN type = 'crm.sync_failed' THEN
                CASE WHEN JSON_VALUE(data, '$.kind') = 'conversation' THEN LEFT(JSON_VALUE(data, '$.recordId'), 64) END
            ELSE LEFT(JSON_VALUE(data, '$.conversationId'), 64)
        END) VIRTUAL,
    ADD KEY ix_kefu_event_activity (tenant, activity_conversation, cursor_no);

INSERT INTO kefu_schema_version (version, description) VALUES (12, 'activity timeline: kefu_event.activity_conversation and its index');
