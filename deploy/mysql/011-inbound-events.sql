-- The deduplication record of inbound business events (POST /api/v1/webhook, INTEGRATION.md §3), one row per sender
-- event id, instead of one Orleans grain state row per id (grains/Inbound/MySqlInboundRecordStore.cs). A silo's inbound
-- grains hand their records to one writer that stores a batch in one transaction together with the batch's
-- inbound.received events in kefu_event: an event exists if and only if its record does, and many events share one
-- commit. Lookups are batched the same way (one SELECT for many ids).
--   source_id: the sender's id, compared exactly (nopad_bin: 'a' and 'a ' are different ids).
--   body_hash: SHA-256 of the compact body; the same id with another body is refused (422).
--   event_id: the inbound.received event's ULID (16 bytes); the answer a repeat is given is rebuilt from this row.
--   accepted_at: UTC; a record older than Kefu:Inbound:DedupRetention counts as absent, and silos delete such rows in
--   chunks by this index.
CREATE TABLE IF NOT EXISTS kefu_inbound_event
(
    tenant          VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    source_id       VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    body_hash       BINARY(32)   NOT NULL,
    event_id        BINARY(16)   NOT NULL,
    conversation_id VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
    contact_id      VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL,
    accepted_at     DATETIME(6)  NOT NULL,
    PRIMARY KEY (tenant, source_id),
    KEY ix_kefu_inbound_event_accepted (accepted_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO kefu_schema_version (version, description) VALUES (11, 'inbound event deduplication records');
