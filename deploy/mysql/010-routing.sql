-- Routing rules (issue #15): an event caused by a routing rule names how many rules stand behind it
-- (`causation_depth`: 0 for anything not caused by a rule, the trigger's depth + 1 for a rule's action) and the event
-- the rule was handling (`causation_trigger`). The router reads the depth back to stop chains of rules (a rule never
-- reacts to an event of depth 3 or more). Added at the end with defaults, so existing rows are not rewritten and read
-- as depth 0. Silos of this version write both columns, so upgrade the database before the silos.
ALTER TABLE kefu_event
    ADD COLUMN causation_depth SMALLINT NOT NULL DEFAULT 0 COMMENT 'routing rules behind the event (loop guard)',
    ADD COLUMN causation_trigger VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'the event a rule handled when it caused this one';

INSERT INTO kefu_schema_version (version, description) VALUES (10, 'outbox: routing rule causation depth and trigger event');
