-- message.created events by reference (grains/Events/MySqlEventLog.cs): the event row of a message keeps the message's
-- seq in `message_seq` and no `data`; the events API builds the data from the message's own row in kefu_message when it
-- reads. A message is then written once per send instead of twice (once as the message, once again as the event's
-- JSON), which keeps the outbox off the chat path's cost. Rows written before this script keep their `data` and read
-- as before. Both columns change in place without rewriting existing rows' data.
ALTER TABLE kefu_event
    MODIFY COLUMN data MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN message_seq BIGINT NULL COMMENT 'message.created: the message''s seq in kefu_message (data is NULL)';

INSERT INTO kefu_schema_version (version, description) VALUES (9, 'outbox: message.created events by reference to the message row');
