-- Analyst views show only households whose consent is in force today (the store's local date),
-- and name households one way: `pseudonym` and `district` first, never the registry id
-- (v_household_daily carried daily_features.household_id before). v_risk_latest is the risk
-- list's and is left as it is here.

-- Households whose consent is in force on today's local date in the store's zone.
CREATE VIEW households_in_consent AS
WITH today AS (
    SELECT (now() AT TIME ZONE (SELECT value FROM settings WHERE key = 'timezone'))::DATE AS d
)
SELECT h.* FROM households h, today
WHERE h.consent_given_on <= today.d
  AND (h.consent_withdrawn_on IS NULL OR today.d < h.consent_withdrawn_on);

-- One row per household and local day: the daily features next to the data quality.
CREATE OR REPLACE VIEW v_household_daily AS
SELECT h.pseudonym, h.district, d.* EXCLUDE (household_id)
FROM daily_features d JOIN households_in_consent h USING (household_id);

-- Alerts nobody has acknowledged yet, newest first.
CREATE OR REPLACE VIEW v_alerts_open AS
SELECT h.pseudonym, h.district, a.local_date, a.detected_at, a.kind, a.severity, a.message, a.evidence
FROM alerts a JOIN households_in_consent h USING (household_id)
ANTI JOIN alert_acks k ON k.household_id = a.household_id AND k.local_date = a.local_date AND k.kind = a.kind
ORDER BY a.local_date DESC, a.detected_at DESC;

-- Per household: how complete its readings are.
CREATE OR REPLACE VIEW v_data_quality AS
SELECT h.pseudonym, h.district,
       min(q.local_date) AS first_date, max(q.local_date) AS last_date,
       count(*) AS days,
       count(*) FILTER (WHERE q.coverage >= 0.8) AS days_coverage_80,
       round(avg(q.coverage), 4) AS mean_coverage,
       sum(q.missing_slots) AS missing_slots,
       sum(q.zero_slots) AS zero_slots
FROM household_day_quality q JOIN households_in_consent h USING (household_id)
GROUP BY ALL;
