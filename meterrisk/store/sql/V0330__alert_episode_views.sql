-- Acknowledging an alert episode (`meterrisk alerts ack`): an episode is keyed by
-- (household_id, kind, start_date), so its ack row has local_date = the episode's start_date.
-- Who acknowledged it is kept beside the note. (Here, not in V0241-V0249: alert_acks is made
-- by V0300.)
ALTER TABLE alert_acks ADD COLUMN acked_by VARCHAR;

-- Alert views by episode (issue 14): one row per episode, not per day. Only households whose
-- consent is in force today; pseudonym and district, never the registry id nor the episode id
-- (an md5 of the registry id could be reversed by trying every id). No note and no name of
-- the duty worker: the analyst snapshot holds no free text.

-- Open episodes nobody has acknowledged yet, newest first.
CREATE OR REPLACE VIEW v_alerts_open AS
SELECT h.pseudonym, h.district, e.kind, e.severity, e.severity = 'data' AS meter_problem,
       e.start_date, e.started_at, e.last_date, e.last_seen_at, e.days, e.message
FROM alert_episodes e JOIN households_in_consent h USING (household_id)
ANTI JOIN alert_acks k ON k.household_id = e.household_id AND k.local_date = e.start_date AND k.kind = e.kind
WHERE e.status = 'open'
ORDER BY e.started_at DESC;

-- Acknowledged episodes and when they were acknowledged.
CREATE OR REPLACE VIEW v_alerts_acknowledged AS
SELECT h.pseudonym, h.district, e.kind, e.severity, e.severity = 'data' AS meter_problem,
       e.start_date, e.started_at, e.last_date, e.days, e.status, e.message, k.acked_at,
       k.note IS NOT NULL AND k.note <> '' AS has_note
FROM alert_episodes e JOIN households_in_consent h USING (household_id)
JOIN alert_acks k ON k.household_id = e.household_id AND k.local_date = e.start_date AND k.kind = e.kind
ORDER BY k.acked_at DESC;
