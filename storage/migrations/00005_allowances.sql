-- Allowance records: what a family may check by SMS or USSD. One row per
-- child and scheme; the status moves as the county processes it.

-- +goose Up
CREATE TABLE allowances (
    id            bigserial PRIMARY KEY,
    child_id      bigint      NOT NULL REFERENCES children (id),
    scheme        text        NOT NULL CONSTRAINT allowances_scheme_known
                              CHECK (scheme IN ('living', 'orphan', 'disability', 'other')),
    status        text        NOT NULL CONSTRAINT allowances_status_known
                              CHECK (status IN ('applied', 'approved', 'paid', 'suspended', 'rejected')),
    -- Whole yuan: allowances are set in yuan, and a float would round.
    monthly_yuan  integer     NOT NULL DEFAULT 0 CONSTRAINT allowances_amount_positive CHECK (monthly_yuan >= 0),
    last_paid     date        NULL,
    next_payment  date        NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT allowances_child_scheme_key UNIQUE (child_id, scheme)
);

-- +goose Down
DROP TABLE allowances;
