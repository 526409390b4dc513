-- household_day_quality from the day rows (issue 15): the same rows as V0001's definition,
-- which aggregated every reading (160 M at 10,000 households x a year) each time it was
-- read: twice per snapshot publish (the table and v_data_quality). `reading_days` holds one
-- row per household-day with the day's readings as a list (V0004, kept in step with the
-- readings by every writer: meterrisk/ingest/days.py), so the counts come from a few million
-- short lists instead. A day whose readings all went keeps its day row with n_readings = 0;
-- it counts as no readings, as before (outside the household's span, or all slots missing).
-- tests/test_day_quality_view.py checks the two definitions agree.
CREATE OR REPLACE VIEW household_day_quality AS
WITH present AS (
    SELECT household_id, local_date,
           n_readings::BIGINT AS present_slots,
           len(list_filter(kwh, lambda x: x = 0))::BIGINT AS zero_slots,
           list_sum(kwh) AS kwh
    FROM reading_days WHERE n_readings > 0
), span AS (
    SELECT household_id, min(local_date) AS first_date, max(local_date) AS last_date
    FROM present GROUP BY household_id
), days AS (
    SELECT s.household_id, c.local_date, c.expected_slots
    FROM span s JOIN local_calendar c ON c.local_date BETWEEN s.first_date AND s.last_date
)
SELECT d.household_id, d.local_date, d.expected_slots,
       coalesce(c.present_slots, 0) AS present_slots,
       coalesce(c.zero_slots, 0) AS zero_slots,
       d.expected_slots - coalesce(c.present_slots, 0) AS missing_slots,
       coalesce(c.present_slots, 0) / d.expected_slots AS coverage,
       c.kwh
FROM days d LEFT JOIN present c USING (household_id, local_date);
