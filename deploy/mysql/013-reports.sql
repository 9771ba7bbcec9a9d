-- Reports (issue #20, docs/reports.md): one fact row per conversation, projected from the conversation.* events by the
-- tenant's ReportProjectorGrain. Ids and numbers only: no visitor name, no message, no CSAT comment, so erasing a
-- contact never has to touch this table.
--
-- Primary key (tenant, created_s, conversation_id): every report reads the conversations created in a range, so the
--   clustered order makes that a sequential range scan. created_s never changes for a conversation, so the upsert by
--   the full key is still one row per conversation.
-- ix_kefu_report_resolved (tenant, resolved_s, created_s, agent, team, inbox): resolutions per day, and the backlog at the
--   start of a range (open now, resolved_s NULL, or resolved after the start): both bounded by the range and the open
--   conversations, never by the tenant's history. The grouping columns make it covering: grouped by agent, 145 000 open
--   conversations cost 2.7 s of row lookups without them (docs/performance.md "Reports").
-- frt_bucket / res_bucket: the log-scale histogram bucket (5 % wide) of the first-response and resolution time in
--   milliseconds, so percentiles are a GROUP BY over a few hundred buckets (grains/Reports/LogHistogram.cs).
-- event_seq: the conversation event seq the row was projected from; an older event never overwrites a newer row, so a
--   replay writes the same rows.
CREATE TABLE kefu_report_conversation (
    tenant            VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_s         BIGINT      NOT NULL,
    conversation_id   CHAR(26)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    inbox             VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    team              VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    agent             VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    status            VARCHAR(16) CHARACTER SET ascii NOT NULL,
    first_response_ms BIGINT      NULL,
    frt_bucket        SMALLINT    NULL,
    resolved_s        BIGINT      NULL,
    resolution_ms     BIGINT      NULL,
    res_bucket        SMALLINT    NULL,
    rating            TINYINT     NULL,
    event_seq         BIGINT      NOT NULL,
    PRIMARY KEY (tenant, created_s, conversation_id),
    KEY ix_kefu_report_resolved (tenant, resolved_s, created_s, agent, team, inbox)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO kefu_schema_version (version, description) VALUES (13, 'reports: kefu_report_conversation fact rows');
