-- Report rollups (issue #20, docs/reports.md "Tables"): counters per (tenant, dimension, key, level, metric, UTC period,
-- bucket), kept by the tenant's ReportProjectorGrain in the same transaction as the fact rows (old fact -> new fact
-- differences), so a year's report reads a few thousand counters instead of every conversation of the year.
--
-- dim: 'n' (no grouping: key ''), 'a' agent, 't' team, 'i' inbox. One row set per dimension, never (agent, team, inbox)
--   together: that would be about a row per conversation.
-- level: 0 hour, 1 day, 2 eight days, 3 sixty-four days; period_s: the period's start (unix seconds, aligned to the
--   epoch). Every counter exists at every level, so a range of whole hours is a few whole periods of each level.
-- metric: 'c' conversations by creation period, 'r' resolutions by resolution period, 'f' / 's' first-response /
--   resolution histogram bucket and 'q' rating (1-5), by creation period; bucket 0 for 'c' and 'r'.
-- n: may go back to 0 (a reassigned conversation leaves its old agent's counters); reads skip zeros.
-- Primary key (tenant, dim, gkey, level, metric, period_s, bucket): one key's counters of one level and metric over a
--   range are one range read.
CREATE TABLE kefu_report_rollup (
    tenant    VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    dim       CHAR(1)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    gkey      VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    level     TINYINT     NOT NULL,
    metric    CHAR(1)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    period_s  BIGINT      NOT NULL,
    bucket    SMALLINT    NOT NULL,
    n         BIGINT      NOT NULL,
    PRIMARY KEY (tenant, dim, gkey, level, metric, period_s, bucket)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The projector reads a page's stored facts by conversation id (FOR UPDATE) to compute the differences, and a
-- first response (message.created) knows only the id.
ALTER TABLE kefu_report_conversation ADD KEY ix_kefu_report_id (tenant, conversation_id);

-- Rows written before this version: a resolution never precedes its creation (the projector clamps it now; the
-- backlog's arithmetic relies on it), then the counters of the existing facts.
UPDATE kefu_report_conversation SET resolved_s = created_s WHERE resolved_s < created_s;

-- backfill: begin
INSERT INTO kefu_report_rollup (tenant, dim, gkey, level, metric, period_s, bucket, n)
SELECT f.tenant, d.dim,
       CASE d.dim WHEN 'a' THEN f.agent WHEN 't' THEN f.team WHEN 'i' THEN f.inbox ELSE '' END,
       l.level, m.metric,
       (CASE m.metric WHEN 'r' THEN f.resolved_s ELSE f.created_s END) DIV l.size * l.size,
       CASE m.metric WHEN 'f' THEN f.frt_bucket WHEN 's' THEN f.res_bucket WHEN 'q' THEN f.rating ELSE 0 END,
       COUNT(*)
FROM kefu_report_conversation f
CROSS JOIN (SELECT 'n' AS dim UNION ALL SELECT 'a' UNION ALL SELECT 't' UNION ALL SELECT 'i') d
CROSS JOIN (SELECT 0 AS level, 3600 AS size UNION ALL SELECT 1, 86400 UNION ALL SELECT 2, 691200 UNION ALL SELECT 3, 5529600) l
CROSS JOIN (SELECT 'c' AS metric UNION ALL SELECT 'r' UNION ALL SELECT 'f' UNION ALL SELECT 's' UNION ALL SELECT 'q') m
WHERE (CASE m.metric WHEN 'r' THEN f.resolved_s WHEN 'f' THEN f.frt_bucket WHEN 's' THEN f.res_bucket WHEN 'q' THEN f.rating ELSE 0 END) IS NOT NULL
GROUP BY f.tenant, d.dim, 3, l.level, m.metric, 6, 7;
-- backfill: end

INSERT INTO kefu_schema_version (version, description) VALUES (16, 'report rollups: kefu_report_rollup, kefu_report_conversation by id');
