-- A case about a need and the need itself are one concern followed up in
-- two places: referring or resolving either moves the other. A director
-- who marks the need from the field by USSD leaves that channel in the
-- case's timeline too.

-- +goose Up
ALTER TABLE case_events DROP CONSTRAINT case_events_channel_known;
ALTER TABLE case_events ADD CONSTRAINT case_events_channel_known CHECK (channel IN ('system', 'sms', 'ussd', 'console'));

-- +goose Down
UPDATE case_events SET channel = 'system' WHERE channel = 'ussd';
ALTER TABLE case_events DROP CONSTRAINT case_events_channel_known;
ALTER TABLE case_events ADD CONSTRAINT case_events_channel_known CHECK (channel IN ('system', 'sms', 'console'));
