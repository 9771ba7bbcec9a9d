-- Kefu schema 1: storage for the Orleans ADO.NET providers (invariant MySql.Data.MySqlConnector) on MariaDB/MySQL.
--   * clustering   Microsoft.Orleans.Clustering.AdoNet   (silo membership table, client gateway list)
--   * persistence  Microsoft.Orleans.Persistence.AdoNet  (grain state)
--   * reminders    Microsoft.Orleans.Reminders.AdoNet    (reminder table)
--
-- The providers run no SQL of their own: at start-up each one reads `SELECT QueryKey, QueryText FROM OrleansQuery`
-- and afterwards executes those texts with named parameters (@DeploymentId, @Version, @GrainIdHash, ...). The table
-- name OrleansQuery, its two column names and every QueryKey below are therefore fixed by Orleans; everything else
-- (our own tables, columns and how a query does its job) is ours. Result columns are read BY NAME, so every query
-- aliases its columns to the names the provider asks for.
--
-- Conventions used throughout:
--   * identifiers that Orleans compares exactly (cluster/service ids, grain ids, type names, reminder names) use
--     utf8mb4_bin, so `Grain/A` and `grain/a` are different rows, as they are for Orleans;
--   * timestamps are UTC DATETIME(6), written from the values Orleans passes in (UTC) or UTC_TIMESTAMP(6);
--   * no query text uses user variables (@x that is not a parameter): MySqlConnector would reject them unless the
--     connection string had AllowUserVariables=true, and production connection strings must not need that;
--   * a query that must report success returns exactly one row with exactly one column.

-- ---------------------------------------------------------------------------------------------------------------
-- The query catalogue the providers load at start-up.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE OrleansQuery
(
    QueryKey  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    QueryText TEXT                                               NOT NULL,
    CONSTRAINT pk_orleans_query PRIMARY KEY (QueryKey)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- ---------------------------------------------------------------------------------------------------------------
-- Clustering.
-- One row per cluster (Orleans calls the ClusterId "DeploymentId") holds the membership table version: every change
-- to membership rows (other than heartbeats) must name the version it was computed from and bumps it, which is
-- the optimistic concurrency the membership protocol is built on. All member rows carry that table version as ETag.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE orleans_membership_version
(
    deployment_id VARCHAR(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    version       INT          NOT NULL DEFAULT 0,
    created_at    DATETIME(6)  NOT NULL,
    changed_at    DATETIME(6)  NOT NULL,
    -- last time a silo initialised membership for this cluster (see InsertMembershipVersionKey)
    silo_init_at  DATETIME(6)  NOT NULL,
    CONSTRAINT pk_orleans_membership_version PRIMARY KEY (deployment_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One row per silo incarnation: (address, port, generation) is the Orleans SiloAddress. status holds
-- Orleans.Runtime.SiloStatus as a number (2 Joining, 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead).
-- suspect_times holds the suspicion votes as Orleans formats them: "silo,date|silo,date".
CREATE TABLE orleans_membership
(
    deployment_id   VARCHAR(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    address         VARCHAR(45)  CHARACTER SET ascii COLLATE ascii_bin     NOT NULL,
    port            INT          NOT NULL,
    generation      INT          NOT NULL,
    silo_name       VARCHAR(150) NOT NULL,
    host_name       VARCHAR(150) NOT NULL,
    status          INT          NOT NULL,
    proxy_port      INT          NOT NULL,
    suspect_times   TEXT         CHARACTER SET ascii COLLATE ascii_bin NULL,
    start_time      DATETIME(6)  NOT NULL,
    i_am_alive_time DATETIME(6)  NOT NULL,
    CONSTRAINT pk_orleans_membership PRIMARY KEY (deployment_id, address, port, generation),
    CONSTRAINT fk_orleans_membership_version FOREIGN KEY (deployment_id)
        REFERENCES orleans_membership_version (deployment_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Create the version row of a cluster when it is missing. Many silos start at once, so this must never fail on a
-- duplicate: an existing row only gets silo_init_at touched. Result: 1 when the row was created, 0 when it existed
-- (an insert counts 1 affected row, a changed duplicate counts 2, also in the found-rows mode of MySqlConnector).
('InsertMembershipVersionKey', '
INSERT INTO orleans_membership_version (deployment_id, version, created_at, changed_at, silo_init_at)
VALUES (@DeploymentId, 0, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE silo_init_at = UTC_TIMESTAMP(6);
SELECT ROW_COUNT() = 1 AS Created;
'),

-- The whole membership table of a cluster. Always at least one row (the version row, LEFT JOINed to the members),
-- because Orleans takes the table version from the first row; a row without a member has StartTime NULL.
('MembershipReadAllKey', '
SELECT v.version         AS Version,
       m.address         AS Address,
       m.port            AS Port,
       m.generation      AS Generation,
       m.silo_name       AS SiloName,
       m.host_name       AS HostName,
       m.status          AS Status,
       m.proxy_port      AS ProxyPort,
       m.suspect_times   AS SuspectTimes,
       m.start_time      AS StartTime,
       m.i_am_alive_time AS IAmAliveTime
FROM orleans_membership_version AS v
LEFT JOIN orleans_membership AS m
       ON m.deployment_id = v.deployment_id
WHERE v.deployment_id = @DeploymentId;
'),

-- One silo plus the table version, same shape and same always-one-row rule as MembershipReadAllKey.
('MembershipReadRowKey', '
SELECT v.version         AS Version,
       m.address         AS Address,
       m.port            AS Port,
       m.generation      AS Generation,
       m.silo_name       AS SiloName,
       m.host_name       AS HostName,
       m.status          AS Status,
       m.proxy_port      AS ProxyPort,
       m.suspect_times   AS SuspectTimes,
       m.start_time      AS StartTime,
       m.i_am_alive_time AS IAmAliveTime
FROM orleans_membership_version AS v
LEFT JOIN orleans_membership AS m
       ON m.deployment_id = v.deployment_id
      AND m.address = @Address
      AND m.port = @Port
      AND m.generation = @Generation
WHERE v.deployment_id = @DeploymentId;
'),

-- Add a silo, but only if the caller read the current table version (@Version) and the silo has no row yet; on
-- success the version moves on. Steps, in one transaction:
--   1. lock the version row, so concurrent membership writers of this cluster queue up instead of deadlocking;
--   2. insert the member when the version still matches and the silo is absent;
--   3. report whether step 2 inserted (the single result row);
--   4. bump the version when it still matches and the member is present: after a successful step 2, and also when
--      the silo already had a row (Orleans never inserts a silo twice; the extra bump only makes writers re-read).
('InsertMembershipKey', '
START TRANSACTION;
UPDATE orleans_membership_version
SET version = version
WHERE deployment_id = @DeploymentId;
INSERT INTO orleans_membership
    (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port, suspect_times,
     start_time, i_am_alive_time)
SELECT v.deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, NULL,
       @StartTime, @IAmAliveTime
FROM orleans_membership_version AS v
WHERE v.deployment_id = @DeploymentId
  AND v.version = @Version
  AND NOT EXISTS (SELECT 1
                  FROM orleans_membership AS m
                  WHERE m.deployment_id = @DeploymentId
                    AND m.address = @Address
                    AND m.port = @Port
                    AND m.generation = @Generation);
SELECT ROW_COUNT() > 0 AS Inserted;
UPDATE orleans_membership_version AS v
SET v.version = v.version + 1,
    v.changed_at = UTC_TIMESTAMP(6)
WHERE v.deployment_id = @DeploymentId
  AND v.version = @Version
  AND EXISTS (SELECT 1
              FROM orleans_membership AS m
              WHERE m.deployment_id = @DeploymentId
                AND m.address = @Address
                AND m.port = @Port
                AND m.generation = @Generation);
COMMIT;
'),

-- Change a silo (status, suspicion votes, heartbeat) and bump the table version, both only if the caller read the
-- current version. One multi-table UPDATE, so it is atomic without an explicit transaction. The heartbeat never
-- moves backwards. Result: 1 when applied, 0 on a version conflict or an unknown silo.
('UpdateMembershipKey', '
UPDATE orleans_membership_version AS v
JOIN orleans_membership AS m
  ON m.deployment_id = v.deployment_id
SET v.version = v.version + 1,
    v.changed_at = UTC_TIMESTAMP(6),
    m.status = @Status,
    m.suspect_times = @SuspectTimes,
    m.i_am_alive_time = GREATEST(m.i_am_alive_time, @IAmAliveTime)
WHERE v.deployment_id = @DeploymentId
  AND v.version = @Version
  AND m.address = @Address
  AND m.port = @Port
  AND m.generation = @Generation;
SELECT ROW_COUNT() > 0 AS Updated;
'),

-- Heartbeat. Deliberately outside the versioning: it is frequent and must not invalidate other writers.
('UpdateIAmAlivetimeKey', '
UPDATE orleans_membership
SET i_am_alive_time = GREATEST(i_am_alive_time, @IAmAliveTime)
WHERE deployment_id = @DeploymentId
  AND address = @Address
  AND port = @Port
  AND generation = @Generation;
'),

-- Gateways for clients: silos in status @Status (Orleans passes 3, Active) that listen for clients.
('GatewaysQueryKey', '
SELECT address    AS Address,
       proxy_port AS ProxyPort,
       generation AS Generation
FROM orleans_membership
WHERE deployment_id = @DeploymentId
  AND status = @Status
  AND proxy_port > 0;
'),

-- Forget a whole cluster (members first: they reference the version row).
('DeleteMembershipTableEntriesKey', '
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId;
DELETE FROM orleans_membership_version
WHERE deployment_id = @DeploymentId;
'),

-- Defunct-silo cleanup, one row at a time (Orleans 10 prefers this key when present): Orleans decides in .NET which
-- Dead rows are old enough and passes back the exact values it read; the row goes only if it is still unchanged.
('CleanupDefunctSiloEntryKey', '
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId
  AND address = @Address
  AND port = @Port
  AND generation = @Generation
  AND status = 6
  AND start_time = @StartTime
  AND i_am_alive_time = @IAmAliveTime
  AND COALESCE(suspect_times, '''') = COALESCE(@SuspectTimes, '''');
'),

-- Bulk form of the cleanup (required to be present; used only when CleanupDefunctSiloEntryKey is missing):
-- Dead rows that started and last heartbeated before the cutoff @IAmAliveTime and carry no suspicion votes.
('CleanupDefunctSiloEntriesKey', '
DELETE FROM orleans_membership
WHERE deployment_id = @DeploymentId
  AND status = 6
  AND start_time < @IAmAliveTime
  AND i_am_alive_time < @IAmAliveTime
  AND COALESCE(suspect_times, '''') = '''';
');

-- ---------------------------------------------------------------------------------------------------------------
-- Grain persistence.
-- Orleans identifies a state by ServiceId, the state name (passed as "GrainTypeString"; it is NOT the grain class,
-- and the storage provider name is not passed at all) and the grain key split into N0/N1 (Guid/integer keys) plus an
-- extension string (the whole key for string-keyed grains, NULL when absent). It also passes two 32-bit hashes of
-- those, which we index for lookups. The full identity is too long for one InnoDB index, so state_key is a SHA-256 of
-- an unambiguous (length-prefixed) encoding of it: a UNIQUE index on state_key guarantees one row per state, so a
-- read can never see two rows.
-- version is the ETag. A row with payload NULL is a cleared state (RecordExists = false, ETag kept).
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE orleans_grain_state
(
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    service_id      VARCHAR(150)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    grain_type      VARCHAR(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    grain_type_hash INT           NOT NULL,
    grain_id_hash   INT           NOT NULL,
    grain_id_n0     BIGINT        NOT NULL,
    grain_id_n1     BIGINT        NOT NULL,
    grain_id_ext    VARCHAR(2048) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    payload         LONGBLOB      NULL,
    version         INT           NOT NULL,
    written_at      DATETIME(6)   NOT NULL,
    state_key       BINARY(32) AS (UNHEX(SHA2(CONCAT_WS('|',
                        CHAR_LENGTH(service_id), service_id,
                        CHAR_LENGTH(grain_type), grain_type,
                        grain_id_n0, grain_id_n1,
                        IFNULL(CHAR_LENGTH(grain_id_ext), -1), IFNULL(grain_id_ext, '')), 256))) STORED,
    CONSTRAINT pk_orleans_grain_state PRIMARY KEY (id),
    CONSTRAINT ux_orleans_grain_state_key UNIQUE (state_key),
    INDEX ix_orleans_grain_state_hashes (grain_id_hash, grain_type_hash)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Read a state: zero rows (never written), or one row with PayloadBinary (NULL when cleared) and Version (the ETag).
('ReadFromStorageKey', '
SELECT payload AS PayloadBinary,
       version AS Version
FROM orleans_grain_state
WHERE grain_id_hash = @GrainIdHash
  AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId
  AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0
  AND grain_id_n1 = @GrainIdN1
  AND grain_id_ext <=> @GrainIdExtensionString;
'),

-- Write a state with optimistic concurrency. @GrainStateVersion is the ETag the grain holds: NULL means "I saw no
-- row". Result: exactly one row, NewGrainStateVersion = the new ETag, or NULL on a conflict (Orleans then throws
-- InconsistentStateException). Steps, in one transaction:
--   1. for a NULL ETag make sure a row exists: an empty version-0 row stands for "no state" (a duplicate is a no-op,
--      never an error, so two first writers race on the version check below instead of failing on the key);
--   2. store the payload if the row is still at the expected version (0 for a NULL ETag) and move the version on.
-- The payload parameter appears once, so a large state is sent once (it must fit in max_allowed_packet).
('WriteToStorageKey', '
START TRANSACTION;
INSERT INTO orleans_grain_state
    (service_id, grain_type, grain_type_hash, grain_id_hash, grain_id_n0, grain_id_n1, grain_id_ext,
     payload, version, written_at)
SELECT @ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
       NULL, 0, UTC_TIMESTAMP(6)
FROM DUAL
WHERE @GrainStateVersion IS NULL
ON DUPLICATE KEY UPDATE id = id;
UPDATE orleans_grain_state
SET payload = @PayloadBinary,
    version = version + 1,
    written_at = UTC_TIMESTAMP(6)
WHERE grain_id_hash = @GrainIdHash
  AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId
  AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0
  AND grain_id_n1 = @GrainIdN1
  AND grain_id_ext <=> @GrainIdExtensionString
  AND version = IFNULL(@GrainStateVersion, 0);
SELECT IF(ROW_COUNT() > 0, IFNULL(@GrainStateVersion, 0) + 1, NULL) AS NewGrainStateVersion;
COMMIT;
'),

-- ClearStateAsync (default, DeleteStateOnClear = false): drop the payload, keep the row and move the version on.
-- Result: one row, the new ETag, or NULL on a conflict.
('ClearStorageKey', '
UPDATE orleans_grain_state
SET payload = NULL,
    version = version + 1,
    written_at = UTC_TIMESTAMP(6)
WHERE grain_id_hash = @GrainIdHash
  AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId
  AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0
  AND grain_id_n1 = @GrainIdN1
  AND grain_id_ext <=> @GrainIdExtensionString
  AND version = @GrainStateVersion;
SELECT IF(ROW_COUNT() > 0, @GrainStateVersion + 1, NULL) AS NewGrainStateVersion;
'),

-- ClearStateAsync with DeleteStateOnClear = true: remove the row. Orleans then forgets the ETag, but still wants a
-- non-NULL value that differs from the old ETag as proof of success, or NULL on a conflict.
('DeleteStorageKey', '
DELETE FROM orleans_grain_state
WHERE grain_id_hash = @GrainIdHash
  AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId
  AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0
  AND grain_id_n1 = @GrainIdN1
  AND grain_id_ext <=> @GrainIdExtensionString
  AND version = @GrainStateVersion;
SELECT IF(ROW_COUNT() > 0, @GrainStateVersion + 1, NULL) AS NewGrainStateVersion;
');

-- ---------------------------------------------------------------------------------------------------------------
-- Reminders.
-- grain_hash is GrainId.GetUniformHashCode() as Orleans passes it: the uint reinterpreted as a signed INT. Silos own
-- ranges of the hash ring and read them with ReadRangeRows1Key / ReadRangeRows2Key. version is the ETag.
-- The primary key spans service, grain id and reminder name; their lengths keep it within the 3072-byte InnoDB key limit.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE orleans_reminder
(
    service_id    VARCHAR(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    grain_id      VARCHAR(400) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    reminder_name VARCHAR(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    grain_hash    INT          NOT NULL,
    start_time    DATETIME(6)  NOT NULL,
    period_ms     BIGINT       NOT NULL,
    version       INT          NOT NULL,
    CONSTRAINT pk_orleans_reminder PRIMARY KEY (service_id, grain_id, reminder_name),
    INDEX ix_orleans_reminder_ring (service_id, grain_hash)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- All reminders of one grain.
('ReadReminderRowsKey', '
SELECT grain_id      AS GrainId,
       reminder_name AS ReminderName,
       start_time    AS StartTime,
       period_ms     AS Period,
       version       AS Version
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND grain_id = @GrainId;
'),

-- One reminder of one grain (zero or one row).
('ReadReminderRowKey', '
SELECT grain_id      AS GrainId,
       reminder_name AS ReminderName,
       start_time    AS StartTime,
       period_ms     AS Period,
       version       AS Version
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND grain_id = @GrainId
  AND reminder_name = @ReminderName;
'),

-- Ring range (@BeginHash, @EndHash] when it does not wrap, i.e. when @BeginHash < @EndHash as signed numbers.
('ReadRangeRows1Key', '
SELECT grain_id      AS GrainId,
       reminder_name AS ReminderName,
       start_time    AS StartTime,
       period_ms     AS Period,
       version       AS Version
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND grain_hash > @BeginHash
  AND grain_hash <= @EndHash;
'),

-- Ring range (@BeginHash, @EndHash] that wraps past the largest hash (also the whole ring when begin = end).
('ReadRangeRows2Key', '
SELECT grain_id      AS GrainId,
       reminder_name AS ReminderName,
       start_time    AS StartTime,
       period_ms     AS Period,
       version       AS Version
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND (grain_hash > @BeginHash OR grain_hash <= @EndHash);
'),

-- Register or change a reminder; every write moves the version on. Result: one row, Version = the new ETag. The
-- transaction keeps the row locked from the write to the read-back, so the ETag returned is the one just written.
('UpsertReminderRowKey', '
START TRANSACTION;
INSERT INTO orleans_reminder
    (service_id, grain_id, reminder_name, grain_hash, start_time, period_ms, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @GrainHash, @StartTime, @Period, 1)
ON DUPLICATE KEY UPDATE
    grain_hash = @GrainHash,
    start_time = @StartTime,
    period_ms = @Period,
    version = version + 1;
SELECT version AS Version
FROM orleans_reminder
WHERE service_id = @ServiceId
  AND grain_id = @GrainId
  AND reminder_name = @ReminderName;
COMMIT;
'),

-- Unregister a reminder if it is still at the ETag the caller holds. Result: 1 removed, 0 conflict or gone.
('DeleteReminderRowKey', '
DELETE FROM orleans_reminder
WHERE service_id = @ServiceId
  AND grain_id = @GrainId
  AND reminder_name = @ReminderName
  AND version = @Version;
SELECT ROW_COUNT() > 0 AS Removed;
'),

-- Remove every reminder of a service (Orleans uses this in tests only).
('DeleteReminderRowsKey', '
DELETE FROM orleans_reminder
WHERE service_id = @ServiceId;
');

INSERT INTO kefu_schema_version (version, description) VALUES (1, 'Orleans clustering, persistence, reminders');
