"""Placing the repeated hour of a fall-back day by file order (``fold = "order"``).

A naive local stamp in a fall-back hour (London 01:00-02:00 on the last Sunday of October)
names two instants. An export written in time order repeats that hour: 01:00, 01:30, 01:00,
01:30. Per household, the first occurrence of a repeated local time is the earlier instant and
the second the later. That needs the whole file (a chunk boundary can split the hour), so it
runs in SQL on the staged file, where such rows carry both instants (``ts_utc`` the earlier,
``fold_late`` the later).

What order cannot place is quarantined as ``ambiguous_local_time``, the whole repeated hour of
that household and day at once: a local time seen more than twice, or a repeated hour whose
rows do not run forward in time with the rows around them in the file.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from meterrisk import store
from meterrisk.ingest import parse
from meterrisk.ingest.reasons import Reason

# How far from the repeated hour a neighbouring row still counts as "around it" in the file.
_NEAR = "INTERVAL 2 DAY"


def resolve(con, file_id: int, zone: str, reasons: Counter) -> None:
    """Give each staged fold row its instant, or quarantine its household's repeated hour."""
    if con.execute("SELECT count(*) FROM _stage WHERE fold_late IS NOT NULL").fetchall()[0][0] == 0:
        return
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _fold AS
        SELECT line_number, household_id, local_date, ts_utc AS early, fold_late AS late,
               row_number() OVER (PARTITION BY household_id, ts_utc ORDER BY line_number) AS occurrence,
               count(*) OVER (PARTITION BY household_id, ts_utc) AS times
        FROM _stage WHERE fold_late IS NOT NULL""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _fold_bad AS
        WITH near AS (
            SELECT s.line_number, s.household_id, f.line_number IS NOT NULL AS is_fold, f.local_date, f.times,
                   CASE WHEN f.line_number IS NULL THEN s.ts_utc
                        WHEN f.occurrence = 1 THEN f.early WHEN f.occurrence = 2 THEN f.late END AS t
            FROM _stage s
            LEFT JOIN _fold f ON f.household_id = s.household_id AND f.line_number = s.line_number
            WHERE s.household_id IN (SELECT household_id FROM _fold)
              AND s.ts_utc BETWEEN (SELECT min(early) FROM _fold) - {_NEAR} AND (SELECT max(late) FROM _fold) + {_NEAR}
        ), ordered AS (
            SELECT *, lag(t) OVER w AS prev_t, lead(t) OVER w AS next_t
            FROM near WINDOW w AS (PARTITION BY household_id ORDER BY line_number)
        )
        SELECT household_id, local_date, max(times) AS times,
               bool_or(prev_t >= t OR next_t <= t) AS backwards
        FROM ordered WHERE is_fold
        GROUP BY household_id, local_date
        HAVING max(times) > 2 OR bool_or(prev_t >= t OR next_t <= t)""")
    bad = con.execute(f"""
        INSERT INTO quarantine
        SELECT ?, s.line_number, 'ts', '{Reason.AMBIGUOUS_LOCAL_TIME.value}',
               CASE WHEN b.times > 2
                    THEN printf('household %s: a local time of the repeated hour of %s appears %d times in this '
                                'file; fold = "order" places each repeated time only when it appears twice, so '
                                'this hour is quarantined', s.household_id, strftime(s.local_date, '%Y-%m-%d'), b.times)
                    ELSE printf('household %s: the repeated hour of %s (clocks went back) is not in file order; '
                                'fold = "order" takes the first occurrence as the earlier instant only when the '
                                'rows run forward in time, so this hour is quarantined',
                                s.household_id, strftime(s.local_date, '%Y-%m-%d'))
               END,
               s.raw_line
        FROM _stage s JOIN _fold f ON f.household_id = s.household_id AND f.line_number = s.line_number
        JOIN _fold_bad b ON b.household_id = f.household_id AND b.local_date = f.local_date""",
        [file_id]).fetchall()[0][0]
    if bad:
        reasons[Reason.AMBIGUOUS_LOCAL_TIME.value] += bad
        con.execute("""
            DELETE FROM _stage s USING _fold f, _fold_bad b
            WHERE f.household_id = s.household_id AND f.line_number = s.line_number
              AND b.household_id = f.household_id AND b.local_date = f.local_date""")
    # The second occurrences become the later instant, with their own local time and slot.
    later = store.frame(con, """
        SELECT f.household_id, f.line_number, f.late AS ts_utc FROM _fold f
        ANTI JOIN _fold_bad b ON b.household_id = f.household_id AND b.local_date = f.local_date
        WHERE f.occurrence = 2""")
    if later.height:
        later = parse.with_local_time(later.with_columns(pl.col("ts_utc").dt.replace_time_zone("UTC")), zone)
        con.register("_later", later.with_columns(pl.col("ts_utc").dt.replace_time_zone(None)).to_arrow())
        con.execute("""
            UPDATE _stage s SET ts_utc = l.ts_utc, local_ts = l.local_ts, local_date = l.local_date, slot = l.slot
            FROM _later l WHERE s.household_id = l.household_id AND s.line_number = l.line_number""")
        con.unregister("_later")
    con.execute("DROP TABLE _fold; DROP TABLE _fold_bad")
