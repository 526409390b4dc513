-- Change-aware second list on the monthly risk list (meterrisk/model/change.py, docs/model.md).
-- trend_score: calibrated probability from the household's own-deviation features only; NULL
-- when not scored or the model has no trend pipeline. new_concern: in the top capacity share by
-- trend_score among households not in the high tier on this list or an earlier one.
ALTER TABLE risk_scores ADD COLUMN trend_score DOUBLE;
ALTER TABLE risk_scores ADD COLUMN new_concern BOOLEAN;
