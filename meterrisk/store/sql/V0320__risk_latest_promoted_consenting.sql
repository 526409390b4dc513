-- Today's date on the store's local clock (settings.timezone), for "consent in force today".
CREATE MACRO local_today() AS
    CAST(timezone((SELECT value FROM settings WHERE key = 'timezone'), now()) AS DATE);

-- The newest promoted risk list (latest as-of date, then the latest scoring of it), only
-- households whose consent is in force today: a resident who withdrew leaves the view at
-- once, not at the next scoring. Ranks are renumbered over the remaining scored households.
CREATE OR REPLACE VIEW v_risk_latest AS
WITH latest AS (
    SELECT as_of, model_version FROM risk_lists WHERE promoted
    ORDER BY as_of DESC, scored_at DESC LIMIT 1
), listed AS (
    SELECT h.pseudonym, h.district, r.*
    FROM risk_scores r JOIN latest USING (as_of, model_version)
    JOIN households h USING (household_id)
    WHERE h.consent_given_on <= local_today()
      AND (h.consent_withdrawn_on IS NULL OR local_today() < h.consent_withdrawn_on)
)
SELECT pseudonym, district, as_of, model_version, status, not_scored_reason, risk_score, risk_tier,
       CASE WHEN status = 'scored'
            THEN CAST(row_number() OVER (PARTITION BY status = 'scored' ORDER BY rank) AS INTEGER) END AS rank,
       reasons, data_quality
FROM listed
ORDER BY rank NULLS LAST, pseudonym;
