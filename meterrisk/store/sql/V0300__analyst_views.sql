-- Views for analysts (documented in the README). Pseudonyms only where a person could be named.

-- Acknowledged alerts: care staff record that an alert was seen and handled.
CREATE TABLE alert_acks (
    household_id VARCHAR   NOT NULL,
    local_date   DATE      NOT NULL,
    kind         VARCHAR   NOT NULL,
    acked_at     TIMESTAMP NOT NULL,
    note         VARCHAR,
    PRIMARY KEY (household_id, local_date, kind)
);

-- The newest risk list: latest as-of date, and for it the newest model version.
CREATE VIEW v_risk_latest AS
WITH latest AS (
    SELECT as_of, model_version FROM risk_scores
    ORDER BY as_of DESC, model_version DESC LIMIT 1
)
SELECT h.pseudonym, h.district, r.as_of, r.model_version, r.status, r.not_scored_reason,
       r.risk_score, r.risk_tier, r.rank, r.reasons, r.data_quality
FROM risk_scores r JOIN latest USING (as_of, model_version)
JOIN households h USING (household_id)
ORDER BY r.rank NULLS LAST, h.pseudonym;

-- One row per household and local day: the daily features next to the data quality.
CREATE VIEW v_household_daily AS
SELECT h.pseudonym, h.district, d.*
FROM daily_features d JOIN households h USING (household_id);

-- Alerts nobody has acknowledged yet, newest first.
CREATE VIEW v_alerts_open AS
SELECT h.pseudonym, h.district, a.local_date, a.detected_at, a.kind, a.severity, a.message, a.evidence
FROM alerts a JOIN households h USING (household_id)
ANTI JOIN alert_acks k ON k.household_id = a.household_id AND k.local_date = a.local_date AND k.kind = a.kind
ORDER BY a.local_date DESC, a.detected_at DESC;

-- Per household: how complete its readings are.
CREATE VIEW v_data_quality AS
SELECT h.pseudonym, h.district,
       min(q.local_date) AS first_date, max(q.local_date) AS last_date,
       count(*) AS days,
       count(*) FILTER (WHERE q.coverage >= 0.8) AS days_coverage_80,
       round(avg(q.coverage), 4) AS mean_coverage,
       sum(q.missing_slots) AS missing_slots,
       sum(q.zero_slots) AS zero_slots
FROM household_day_quality q JOIN households h USING (household_id)
GROUP BY ALL;
