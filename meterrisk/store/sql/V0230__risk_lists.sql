-- One row per scored list (as-of date and model version): whether it was scored with the
-- promoted model (the one models/CURRENT named at scoring time, meterrisk.model.registry).
-- v_risk_latest and `meterrisk export` show a promoted list unless a version is named.
CREATE TABLE risk_lists (
    as_of             DATE      NOT NULL,
    model_version     VARCHAR   NOT NULL,
    promoted          BOOLEAN,            -- NULL: scored before this was recorded (re-score to list it)
    scored_at         TIMESTAMP NOT NULL,
    households_scored INTEGER   NOT NULL,
    PRIMARY KEY (as_of, model_version)
);

INSERT INTO risk_lists
SELECT as_of, model_version, NULL, max(scored_at), count(*) FILTER (WHERE status = 'scored')
FROM risk_scores GROUP BY as_of, model_version;
