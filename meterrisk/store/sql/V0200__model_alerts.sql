-- model, risk lists and inactivity alerts (issue 5)

-- Frailty questionnaire results (Kihon Checklist): the model's labels.
CREATE TABLE assessments (
    household_id    VARCHAR NOT NULL,
    assessed_on     DATE    NOT NULL,
    checklist_score INTEGER,
    frail           BOOLEAN NOT NULL,   -- checklist_score >= 8 when the score is known
    loaded_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (household_id, assessed_on)
);

-- One row per household, as-of date and model version; history is kept.
CREATE TABLE risk_scores (
    household_id      VARCHAR NOT NULL,
    as_of             DATE    NOT NULL,
    model_version     VARCHAR NOT NULL,
    risk_score        DOUBLE,             -- calibrated probability of frailty; NULL when not scored
    risk_tier         VARCHAR,            -- high | medium | low; NULL when not scored
    rank              INTEGER,            -- 1 = highest risk among scored households
    reasons           VARCHAR[],
    data_quality      VARCHAR,
    status            VARCHAR NOT NULL,   -- scored | not_scored
    not_scored_reason VARCHAR,
    scored_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (household_id, as_of, model_version)
);

-- Same-day inactivity alerts; one row per household, local date and kind.
CREATE TABLE alerts (
    household_id VARCHAR   NOT NULL,
    detected_at  TIMESTAMP NOT NULL,   -- local wall clock of the slot where the rule fired
    local_date   DATE      NOT NULL,
    kind         VARCHAR   NOT NULL,   -- no_activity_after_usual_wake | long_inactive_run | stuck_on
    severity     VARCHAR   NOT NULL,   -- high | medium
    message      VARCHAR   NOT NULL,
    evidence     JSON,
    PRIMARY KEY (household_id, local_date, kind)
);

-- Known absences (hospital stay, holiday): no inactivity alert on these dates.
CREATE TABLE absences (
    household_id VARCHAR NOT NULL,
    start_date   DATE    NOT NULL,
    end_date     DATE    NOT NULL,     -- inclusive
    note         VARCHAR,
    PRIMARY KEY (household_id, start_date)
);
