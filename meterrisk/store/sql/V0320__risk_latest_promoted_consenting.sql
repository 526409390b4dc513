-- The newest promoted risk list (latest as-of date, then the latest scoring of it), only
-- households whose consent is in force today (households_in_consent, V0310): a resident who
-- withdrew leaves the view at once, not at the next scoring. Ranks are renumbered over the
-- remaining scored households, so a gap does not show where someone left.
CREATE OR REPLACE VIEW v_risk_latest AS
WITH latest AS (
    SELECT as_of, model_version FROM risk_lists WHERE promoted
    ORDER BY as_of DESC, scored_at DESC LIMIT 1
), listed AS (
    SELECT h.pseudonym, h.district, r.* EXCLUDE (household_id)
    FROM risk_scores r JOIN latest USING (as_of, model_version)
    JOIN households_in_consent h USING (household_id)
)
SELECT pseudonym, district, as_of, model_version, status, not_scored_reason, risk_score, risk_tier,
       CASE WHEN status = 'scored'
            THEN CAST(row_number() OVER (PARTITION BY status = 'scored' ORDER BY rank) AS INTEGER) END AS rank,
       reasons, data_quality
FROM listed
ORDER BY rank NULLS LAST, pseudonym;
