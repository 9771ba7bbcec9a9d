-- The outbox behind IEventLog in cluster mode (grains/Events/MySqlEventLog.cs): every domain event once, with a
-- per-tenant cursor that is strictly increasing and becomes visible in order (docs/integration.md).
--
-- kefu_event_counter: one row per tenant; `last` is the highest cursor handed out. A transaction that stores events
--   bumps it (INSERT ... ON DUPLICATE KEY UPDATE last = LAST_INSERT_ID(last + n)) and numbers its events from it, so
--   two transactions of one tenant serialize on this row until COMMIT: commit order = cursor order, and a reader that
--   has seen cursor N never later finds a new event below N. Readers read `last` BEFORE the events, so every event up
--   to it is committed and visible to the following SELECT.
-- kefu_event_pruned: how far retention has deleted (a separate row, so pruning never takes the counter's lock that
--   writers wait on). A reader asking for events after a cursor below pruned_through has missed some (410).
-- kefu_event: PRIMARY KEY (tenant, cursor_no) is the read order; ux_kefu_event_id makes appends idempotent (a
--   relayed event stored before is skipped; its cursor number is wasted, which is allowed: cursors have gaps).
--   event_id: the ULID's 16 bytes. conversation_id: the conversation's id as text, NULL for contact events.
--   created_at: the event's time in UTC (retention deletes by it, oldest cursors first, in small chunks).
--   data: the event's `data` object as JSON text (Kefu.Contracts.Events.EventJson), copied into the envelope as is.
CREATE TABLE IF NOT EXISTS kefu_event_counter
(
    tenant VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY,
    last   BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS kefu_event_pruned
(
    tenant         VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY,
    pruned_through BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS kefu_event
(
    tenant          VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    cursor_no       BIGINT       NOT NULL,
    event_id        BINARY(16)   NOT NULL,
    type            VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    conversation_id VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
    seq             BIGINT       NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    causation_kind  VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    causation_id    VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    causation_name  VARCHAR(255) NULL,
    data            MEDIUMTEXT   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (tenant, cursor_no),
    UNIQUE KEY ux_kefu_event_id (event_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO kefu_schema_version (version, description) VALUES (6, 'outbox: kefu_event with per-tenant cursors');
