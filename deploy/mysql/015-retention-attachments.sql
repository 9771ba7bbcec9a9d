-- Retention policies and cluster attachment storage (issue #20 item 5b).
--
-- kefu_message.pruned: 1 on a conversation's newest message once retention emptied it (text, content and sender name
--   cleared, seq kept): the conversation grain rebuilds its last seq from the newest stored message, so that one row
--   stays as an anchor and the conversation continues at the next seq. Added at the end with a default: instant, no
--   existing row is rewritten.
-- ix_kefu_message_retention (tenant, pruned, created_at): the retention job finds a tenant's messages older than its
--   policy's cutoff, anchors left out by the index itself, without scanning the tenant's conversations. The job reads
--   a chunk of primary keys through it with a plain (non-locking) SELECT and deletes those rows by primary key, so it
--   never holds next-key locks on this index's range and never blocks appends. Built online from the existing rows.
--
-- kefu_attachment: the metadata of an attachment (Kefu:Attachments:Store = mysql or s3). Primary key attachment_id
--   (a ULID made at upload, as text: it is what URLs carry); (tenant, conversation_id) for a conversation's listing
--   (export, erasure); (created_at) for the retention job. `storage` says where the bytes are: 0 the chunk table below,
--   1 the S3 bucket (object key = attachment id). `complete` is 0 while the bytes are still being written: a row left
--   at 0 is an interrupted upload, removed by DeleteLeftoversAsync.
-- kefu_attachment_chunk: the bytes of a MySQL-stored attachment in chunks of Kefu:Attachments:MySqlChunkBytes
--   (default 1 MiB), so no row or statement comes near max_allowed_packet (16 MiB by default on MariaDB 10.11) and a
--   download streams chunk by chunk instead of loading a whole file.
ALTER TABLE kefu_message ADD COLUMN pruned TINYINT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE kefu_message ADD INDEX ix_kefu_message_retention (tenant, pruned, created_at), ALGORITHM = INPLACE, LOCK = NONE;

CREATE TABLE IF NOT EXISTS kefu_attachment
(
    attachment_id   VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    tenant          VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    conversation_id VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    name            VARCHAR(255) NOT NULL,
    content_type    VARCHAR(255) NOT NULL,
    size            BIGINT       NOT NULL,
    uploader_role   VARCHAR(32)  NOT NULL,
    uploader_id     VARCHAR(128) NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    storage         TINYINT UNSIGNED NOT NULL,
    complete        TINYINT UNSIGNED NOT NULL,
    PRIMARY KEY (attachment_id),
    KEY ix_kefu_attachment_conversation (tenant, conversation_id, created_at),
    KEY ix_kefu_attachment_created (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS kefu_attachment_chunk
(
    attachment_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    chunk_no      INT         NOT NULL,
    bytes         LONGBLOB    NOT NULL,
    PRIMARY KEY (attachment_id, chunk_no)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO kefu_schema_version (version, description) VALUES (15, 'retention: kefu_message.pruned and its (tenant, pruned, created_at) index; attachments in MySQL (kefu_attachment, kefu_attachment_chunk) or S3');
