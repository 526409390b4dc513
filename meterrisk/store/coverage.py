"""The default date of the daily job: the last local day most households covered.

``max(local_date)`` is whatever the last stray reading says: four half hours of tomorrow, or a
meter stamping 2031, made features, alerts and the risk list work on a day nobody had data
for, so the real day's alerts were never raised. The default is instead

    the latest local date D on which at least half (MOST) of the households with readings in
    the 14 days up to D (RECENT_DAYS) have at least 80% (ADEQUATE_COVERAGE) of D's expected
    half hours (``local_calendar.expected_slots``: 46, 48 or 50).

"Households with readings in the 14 days up to D" rather than the registry: a household whose
meter stopped weeks ago should not hold the day back, and one that just started is counted.
The bar is the features' own (a day under 80% gets no behavioural features), so the default
day is one whose features and alerts mean something for most homes.
"""

from __future__ import annotations

from datetime import date

import duckdb

from meterrisk.errors import MeterriskError

#: A household-day with at least this share of its expected half hours is covered
#: (the same bar as meterrisk.features.activity.MIN_COVERAGE).
ADEQUATE_COVERAGE = 0.8
#: Share of the recently active households that must have covered the day.
MOST = 0.5
#: A household counts towards a day if it has readings in this many days up to it.
RECENT_DAYS = 14

_SQL = """
WITH per_day AS (
    -- The day table has one row per household-day already (ingest keeps it in step with
    -- readings): a scan of it, not a group-by over every reading.
    SELECT household_id, local_date, n_readings AS present FROM reading_days WHERE n_readings > 0
), dates AS (
    SELECT DISTINCT local_date FROM per_day
), active AS (  -- households with readings in the RECENT_DAYS days up to each date
    SELECT d.local_date, count(DISTINCT p.household_id) AS households
    FROM dates d JOIN per_day p ON p.local_date BETWEEN d.local_date - (? - 1) AND d.local_date
    GROUP BY ALL
), covered AS (
    SELECT p.local_date, count(*) AS households
    FROM per_day p JOIN local_calendar c USING (local_date)
    WHERE p.present >= ? * c.expected_slots
    GROUP BY ALL
)
SELECT max(a.local_date) FROM active a JOIN covered c USING (local_date)
WHERE c.households >= ? * a.households
"""


def last_covered_day(con: duckdb.DuckDBPyConnection) -> date:
    """The default date for features, alerts and the risk list (see the module docstring).

    Raises MeterriskError when the store has no readings, or no day meets the bar."""
    (day,) = con.execute(_SQL, [RECENT_DAYS, ADEQUATE_COVERAGE, MOST]).fetchall()[0]
    if day is not None:
        return day
    (any_reading,) = con.execute("SELECT count(*) > 0 FROM (SELECT 1 FROM readings LIMIT 1)").fetchall()[0]
    if not any_reading:
        raise MeterriskError("the store has no readings", hint="run `meterrisk ingest` first")
    raise MeterriskError(
        f"no local day has at least {ADEQUATE_COVERAGE:.0%} of its half hours for {MOST:.0%} of the "
        f"households with readings in the {RECENT_DAYS} days up to it",
        hint="pass the date explicitly (--date, --as-of); see the household_day_quality view")
