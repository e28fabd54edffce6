-- +goose Up
-- Outbound SMS remember the template they were rendered from, its language
-- and its variables: a provider that sends only approved templates (Tencent
-- Cloud, Alibaba Cloud) is given those rather than the text.
ALTER TABLE messages
    ADD COLUMN template      text  NOT NULL DEFAULT '',
    ADD COLUMN template_lang text  NOT NULL DEFAULT '',
    ADD COLUMN params        jsonb NULL;

-- A provider's verdict on one template in one language, and the id it
-- gave the template.
CREATE TABLE template_approvals (
    template    text        NOT NULL,
    lang        text        NOT NULL,
    carrier     text        NOT NULL,
    status      text        NOT NULL CONSTRAINT template_approvals_status_known
                            CHECK (status IN ('pending', 'approved', 'rejected')),
    provider_id text        NOT NULL DEFAULT '',
    note        text        NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (template, lang, carrier),
    CONSTRAINT template_approvals_approved_has_id CHECK (status <> 'approved' OR provider_id <> '')
);

-- +goose Down
DROP TABLE template_approvals;
ALTER TABLE messages DROP COLUMN template, DROP COLUMN template_lang, DROP COLUMN params;
