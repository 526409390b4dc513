-- One alert per episode (issue 13): consecutive days of the same household and kind are one
-- episode. Rebuilt from `alerts` after every alerts run (meterrisk.alerts.service.update_episodes),
-- so it never disagrees with the day rows. `alerts` keeps its meaning (one row per household,
-- local date and kind: the day's evidence), and now also holds the data-quality events
-- meter_outage / no_data with severity 'data' (an outage is not inactivity).
CREATE TABLE alert_episodes (
    household_id  VARCHAR   NOT NULL,
    kind          VARCHAR   NOT NULL,
    start_date    DATE      NOT NULL,   -- local date of the first alert of the episode
    severity      VARCHAR   NOT NULL,   -- high | medium | data (data-quality event, not an alert)
    started_at    TIMESTAMP NOT NULL,   -- local end of the half hour at which it was first seen
    last_date     DATE      NOT NULL,   -- last local date on which the rule fired
    last_seen_at  TIMESTAMP NOT NULL,   -- local end of the half hour at which it was last seen
    days          INTEGER   NOT NULL,   -- consecutive days on which it fired
    status        VARCHAR   NOT NULL,   -- open | closed (closed: a whole day passed without it)
    message       VARCHAR   NOT NULL,   -- the first alert's message
    PRIMARY KEY (household_id, kind, start_date)
);
