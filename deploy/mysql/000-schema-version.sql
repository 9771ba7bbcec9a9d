-- Kefu schema bookkeeping. Every script NNN-*.sql in this folder is applied once, in file-name order, and records
-- itself here as its last statement; an upgrade applies the scripts whose number is above MAX(version).
-- Scripts are plain SQL run as one multi-statement batch: no DELIMITER, no client-only commands.
CREATE TABLE IF NOT EXISTS kefu_schema_version
(
    version     INT          NOT NULL PRIMARY KEY,
    description VARCHAR(200) NOT NULL,
    applied_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT IGNORE INTO kefu_schema_version (version, description) VALUES (0, 'schema version table');
