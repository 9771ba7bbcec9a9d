-- The message log behind IMessageStore in cluster mode (grains/Storage/MySqlMessageStore.cs): one row per message.
--
-- Keys
--   PRIMARY KEY (tenant, conversation_id, seq): a conversation's messages sit together in the clustered index, so
--   "after seq N" and "newest N" are one short range scan; inserting a seq that exists fails with ER_DUP_ENTRY,
--   which the store reports as MessageStoreConflictException.
--   ux_kefu_message_client (tenant, conversation_id, sender_role, sender_id, client_msg_id): a client's retry is
--   detected durably, also after the grain's in-memory idempotency window is gone (DuplicateClientMessageException
--   carries the stored original). client_msg_id is NULL when there is none; a UNIQUE index admits any number of
--   NULLs, so those rows never collide.
--   MariaDB requires the partitioning column in every unique key: both keys contain conversation_id.
--
-- Columns
--   conversation_id, message_id: the ULID's 16 bytes (48-bit big-endian milliseconds, then 80 random bits), so byte
--   order is creation order. Text ids use utf8mb4_nopad_bin: exact like the grains' ordinal keys (the PAD SPACE
--   collations would make 'a' equal 'a ', and the _ci ones 'A' equal 'a').
--   sender_role: Kefu.Contracts.Messages.ParticipantRole (0 visitor, 1 agent, 2 system, 3 bot).
--   created_at: ChatMessage.Ts in UTC, microsecond precision.
--   body_codec 0: body is the text's UTF-8; 1: Brotli-compressed UTF-8 (used for texts above
--   MySqlMessageStoreOptions.CompressAboveBytes when it is smaller). body_size: the UTF-8 length before compression.
--   MEDIUMBLOB: the largest text the grains accept (65,536 UTF-16 units) is at most 196,608 UTF-8 bytes.
--
-- Partitioning: RANGE COLUMNS (conversation_id), one partition per UTC calendar month of the conversation's creation
-- (the ULID's time prefix). p<YYYYMM> holds the conversations created in that month; its bound is the smallest ULID
-- of the next month: the month's first millisecond as 6 big-endian bytes, then 10 zero bytes. A conversation stays
-- in one partition for life, so every read prunes to one partition, inserts go to the few recent (hot, cached)
-- partitions, and old months leave by ALTER TABLE ... DROP PARTITION or EXCHANGE PARTITION instead of a DELETE.
-- p_history holds anything before 2026-01; pmax (MAXVALUE) anything after the last month.
--
-- Maintenance: keep pmax EMPTY by splitting it ahead of time. Reorganizing an empty pmax copies no rows and takes a
-- moment; once it holds rows, the split copies them under a lock that blocks writes. One month:
--   ALTER TABLE kefu_message REORGANIZE PARTITION pmax INTO (
--       PARTITION p202801 VALUES LESS THAN (0x01AAC5E2240000000000000000000000),
--       PARTITION pmax VALUES LESS THAN (MAXVALUE));
-- The bound of month M is the first instant of month M+1 (time-zone independent):
--   SELECT CONCAT('0x', LPAD(HEX(TIMESTAMPDIFF(SECOND, '1970-01-01', '2028-02-01') * 1000), 12, '0'), REPEAT('0', 20));
-- MySqlMessageStore.EnsurePartitionsAsync(through) adds every missing month up to `through` this way; run it at silo
-- start and daily with a few months of lead. This script creates months up to 2027-12.
CREATE TABLE IF NOT EXISTS kefu_message
(
    tenant          VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    conversation_id BINARY(16)       NOT NULL,
    seq             BIGINT           NOT NULL,
    message_id      BINARY(16)       NOT NULL,
    sender_role     TINYINT UNSIGNED NOT NULL,
    sender_id       VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    sender_name     VARCHAR(255)     NULL,
    client_msg_id   VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL,
    created_at      DATETIME(6)      NOT NULL,
    body_codec      TINYINT UNSIGNED NOT NULL,
    body_size       INT UNSIGNED     NOT NULL,
    body            MEDIUMBLOB       NOT NULL,
    PRIMARY KEY (tenant, conversation_id, seq),
    UNIQUE KEY ux_kefu_message_client (tenant, conversation_id, sender_role, sender_id, client_msg_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
PARTITION BY RANGE COLUMNS (conversation_id)
(
    PARTITION p_history VALUES LESS THAN (0x019B76DAA80000000000000000000000),
    PARTITION p202601   VALUES LESS THAN (0x019C167FCC0000000000000000000000),
    PARTITION p202602   VALUES LESS THAN (0x019CA6B1DC0000000000000000000000),
    PARTITION p202603   VALUES LESS THAN (0x019D4657000000000000000000000000),
    PARTITION p202604   VALUES LESS THAN (0x019DE0D5C80000000000000000000000),
    PARTITION p202605   VALUES LESS THAN (0x019E807AEC0000000000000000000000),
    PARTITION p202606   VALUES LESS THAN (0x019F1AF9B40000000000000000000000),
    PARTITION p202607   VALUES LESS THAN (0x019FBA9ED80000000000000000000000),
    PARTITION p202608   VALUES LESS THAN (0x01A05A43FC0000000000000000000000),
    PARTITION p202609   VALUES LESS THAN (0x01A0F4C2C40000000000000000000000),
    PARTITION p202610   VALUES LESS THAN (0x01A19467E80000000000000000000000),
    PARTITION p202611   VALUES LESS THAN (0x01A22EE6B00000000000000000000000),
    PARTITION p202612   VALUES LESS THAN (0x01A2CE8BD40000000000000000000000),
    PARTITION p202701   VALUES LESS THAN (0x01A36E30F80000000000000000000000),
    PARTITION p202702   VALUES LESS THAN (0x01A3FE63080000000000000000000000),
    PARTITION p202703   VALUES LESS THAN (0x01A49E082C0000000000000000000000),
    PARTITION p202704   VALUES LESS THAN (0x01A53886F40000000000000000000000),
    PARTITION p202705   VALUES LESS THAN (0x01A5D82C180000000000000000000000),
    PARTITION p202706   VALUES LESS THAN (0x01A672AAE00000000000000000000000),
    PARTITION p202707   VALUES LESS THAN (0x01A71250040000000000000000000000),
    PARTITION p202708   VALUES LESS THAN (0x01A7B1F5280000000000000000000000),
    PARTITION p202709   VALUES LESS THAN (0x01A84C73F00000000000000000000000),
    PARTITION p202710   VALUES LESS THAN (0x01A8EC19140000000000000000000000),
    PARTITION p202711   VALUES LESS THAN (0x01A98697DC0000000000000000000000),
    PARTITION p202712   VALUES LESS THAN (0x01AA263D000000000000000000000000),
    PARTITION pmax      VALUES LESS THAN (MAXVALUE)
);

INSERT INTO kefu_schema_version (version, description) VALUES (2, 'message log: kefu_message, partitioned by conversation month');
