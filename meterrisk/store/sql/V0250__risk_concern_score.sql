-- The new-concern list's own score and reasons (meterrisk/model/concern.py, docs/model.md).
-- concern_score: weighted sum of the resident's own-change statistics (recent 4 weeks against
-- days 28-139 before, in the directions frailty moves); NULL when not scored or too few days.
-- concern_reasons: the changes behind it, phrased with units and the period compared; set
-- for new_concern rows. new_concern (V0210) now comes from concern_score, not trend_score.
ALTER TABLE risk_scores ADD COLUMN concern_score DOUBLE;
ALTER TABLE risk_scores ADD COLUMN concern_reasons VARCHAR[];
