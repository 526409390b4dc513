"""Cumulative register (meter index) readings -> half-hourly use.

Runs in SQL on the staged file so a whole household's series can be ordered whatever the
chunking. The use in [t, t + 30 min) is index(t + 30 min) - index(t), attributed to the row
of the later index. A drop in the index is a rollover when it wraps from near
``register_rollover`` to near zero (the use is then computed across the wrap); any other
drop is a meter reset, and that half hour is quarantined rather than turned into negative use.
"""

from __future__ import annotations

from collections import Counter

from meterrisk.ingest.dedup import collapse_repeats, drop_temps, raw_text
from meterrisk.ingest.profiles import Profile


def register_to_usage(con, file_id: int, profile: Profile, reasons: Counter, result) -> None:
    """Replace the staged index rows with staged use rows; quarantine what cannot be used."""
    wrap = profile.register_rollover
    collapse_repeats(con, file_id, column="register", reasons=reasons, result=result,
                     message="household %s has %d different meter indexes at %s UTC (%g to %g kWh); none used")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _series AS
        SELECT s.*,
               lag(s.ts_utc) OVER w AS prev_ts, lag(s.kwh) OVER w AS prev_idx,
               lag(s.local_ts) OVER w AS prev_local_ts, lag(s.local_date) OVER w AS prev_local_date,
               lag(s.slot) OVER w AS prev_slot
        FROM _keys s
        WINDOW w AS (PARTITION BY s.household_id ORDER BY s.ts_utc)""")
    drop_temps(con)  # _keys reads _stage, which is replaced below
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _use AS
        SELECT *,
            CASE WHEN kwh >= prev_idx THEN kwh - prev_idx
                 WHEN prev_idx >= 0.9 * {wrap} AND kwh <= 0.1 * {wrap} THEN kwh + {wrap} - prev_idx END AS use_kwh,
            CASE WHEN prev_ts IS NULL THEN 'register_baseline'
                 WHEN ts_utc - prev_ts <> INTERVAL 30 MINUTE THEN 'register_gap'
                 WHEN kwh < prev_idx AND NOT (prev_idx >= 0.9 * {wrap} AND kwh <= 0.1 * {wrap}) THEN 'meter_reset'
                 WHEN (CASE WHEN kwh >= prev_idx THEN kwh - prev_idx ELSE kwh + {wrap} - prev_idx END) > {profile.max_kwh_per_slot}
                      THEN 'implausible_value'
            END AS reason
        FROM _series""")
    rows = con.execute(f"""
        INSERT INTO quarantine
        SELECT ?, line_number, 'register', reason,
            CASE reason
              WHEN 'register_baseline' THEN printf('first meter index of household %s in this file (%g kWh at %s UTC): it starts the series', household_id, kwh, strftime(ts_utc, '%Y-%m-%d %H:%M'))
              WHEN 'register_gap' THEN printf('previous index of household %s is %s earlier: the use cannot be split into half hours', household_id, CAST(ts_utc - prev_ts AS VARCHAR))
              WHEN 'meter_reset' THEN printf('meter index of household %s fell from %g to %g kWh at %s UTC: a meter reset, the half hour is unknown', household_id, prev_idx, kwh, strftime(ts_utc, '%Y-%m-%d %H:%M'))
              ELSE printf('use of %g kWh in one half hour is above the plausible maximum {profile.max_kwh_per_slot} kWh', use_kwh)
            END, {raw_text('_use')}
        FROM _use WHERE reason IS NOT NULL""", [file_id]).fetchall()[0][0]
    if rows:
        for code, count in con.execute("SELECT reason, count(*) FROM _use WHERE reason IS NOT NULL GROUP BY reason").fetchall():
            reasons[code] += count
    # Use attributed to a half hour outside consent (the index on either side was kept).
    result.rows_rejected_consent += con.execute("""
        DELETE FROM _use u USING households h
        WHERE u.reason IS NULL AND u.household_id = h.household_id
          AND (u.prev_local_date < h.consent_given_on
               OR (h.consent_withdrawn_on IS NOT NULL AND u.prev_local_date >= h.consent_withdrawn_on))
    """).fetchall()[0][0]
    result.rollovers = con.execute(
        "SELECT count(*) FROM _use WHERE reason IS NULL AND kwh < prev_idx").fetchall()[0][0]
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _stage AS
        SELECT line_number, raw_line, household_id, prev_ts AS ts_utc, prev_local_ts AS local_ts,
               prev_local_date AS local_date, prev_slot AS slot, use_kwh AS kwh
        FROM _use WHERE reason IS NULL""")
    con.execute("DROP TABLE _series; DROP TABLE _use")
