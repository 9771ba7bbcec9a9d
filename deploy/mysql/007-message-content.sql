-- Typed message content (docs/protocol.md §6.2, grains/Storage/MessageContentColumns.cs). A message keeps its text in
-- body (for an attachment: the file name, which any client can show) and gains its content kind and payload:
--   content_kind  0 text (content NULL), 1 attachment (content = UTF-8 JSON {"attachmentId","contentType","name","size"});
--                 NULL for rows written before this script: they read as text, or as an attachment (size 0 = unknown)
--                 when their text is the legacy form "[attachment:{id}:{type}] {name}".
--   content       the kind's members as UTF-8 JSON; NULL for text. BLOB (64 KiB) leaves room for cards and templates.
-- Both columns are added at the end and nullable, so existing rows are not rewritten (MariaDB adds them instantly).
-- The application writes them, so upgrade the database before the silos.
ALTER TABLE kefu_message
    ADD COLUMN content_kind TINYINT UNSIGNED NULL COMMENT '0 text, 1 attachment; NULL: written before typed content',
    ADD COLUMN content      BLOB             NULL COMMENT 'the content as UTF-8 JSON; NULL for text';

INSERT INTO kefu_schema_version (version, description) VALUES (7, 'message log: typed content (kind and JSON)');
