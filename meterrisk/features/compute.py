"""Orchestration: which household-days and windows to (re)compute, in household batches.

Incremental rule. A day's features read its own half hours, the 6 days before it (7-day
baseload), the stored active profiles of the 28 days before (regularity norm) and the next
morning (bedtime). So when the day rows of days lo..hi change, days lo-1 .. hi+34 are
recomputed (a changed night moves 7 baseloads, whose active profiles feed 28 norms), and
every stored window whose 12-week history touches them (as_of in lo .. hi+34+83: a window
leaves out its as_of day's next-morning features, daily.NEXT_MORNING, the only ones of day
lo-1 that change). Which days changed comes from the day rows' versions
(:mod:`meterrisk.features.changes`). A full run recomputes every day and writes fresh tables
in one transaction.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timezone

import duckdb
import polars as pl

from meterrisk.features import activity as A
from meterrisk.features.catalog import catalog, window_columns
from meterrisk.features import ahead, changes, daily, store_io
from meterrisk.features.store_io import FreshTables
from meterrisk.features.windows import spans as window
from meterrisk.features.windows.frame import window_frame
from meterrisk.store import registered, setting

DEFAULT_BATCH = 500
WINDOW_BATCH_FACTOR = 2  # 1,000 requests a window batch: 2,000 raised the peak, not the speed
KEY = ["household_id", "as_of"]


def compute(con: duckdb.DuckDBPyConnection, *, as_of: date | None = None, full: bool = False,
            batch_size: int = DEFAULT_BATCH) -> dict:
    """Bring daily_features and household_features up to date with the readings.

    Incremental by default: only household-days whose readings changed since the last run
    (plus the days and windows that depend on them) are recomputed. ``full`` recomputes
    everything. Windows are computed as of ``as_of`` (default: the last local day most
    households covered, :func:`meterrisk.store.coverage.last_covered_day`; none if no day
    qualifies) for every household with readings in the 12 weeks before it, and as of each
    assessment date when an ``assessments(household_id, assessed_on)`` table exists.

    Returns a summary dict (counts and seconds).
    """
    started = time.perf_counter()
    store_io.replace_catalog(con, catalog())
    summary, stale = _sync(con, full=full, batch_size=batch_size)
    if as_of is None:
        as_of = _default_as_of(con)
    requests = _default_requests(con, as_of)
    if not full:
        existing = store_io.query(con, "SELECT household_id, as_of FROM household_features")
        requests = requests.join(existing, on=KEY, how="anti")
    # Stale and new windows in one pass: a window depends on daily rows only, never on
    # other windows, so the order does not matter and each batch's fixed cost is paid once.
    n = _compute_windows(con, pl.concat([stale, _normalise(requests)]), batch_size)
    summary.update(as_of=as_of, windows_computed=n, seconds=round(time.perf_counter() - started, 3))
    return summary


def _default_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last day most households covered, or None (no readings, or no such day): daily
    features are still brought up to date then, only the windows as of that day are skipped."""
    from meterrisk.errors import MeterriskError
    from meterrisk.store.coverage import last_covered_day

    try:
        return last_covered_day(con)
    except MeterriskError:
        return None


def window_features(con: duckdb.DuckDBPyConnection, requests: pl.DataFrame, *,
                    batch_size: int = DEFAULT_BATCH) -> pl.DataFrame:
    """Compute and store household_features for exactly the (household_id, as_of) pairs given.

    Daily features are brought up to date first. Returns the rows, one per distinct request,
    including 'insufficient_data' rows for households with too little data.
    """
    missing = {"household_id", "as_of"} - set(requests.columns)
    if missing:
        raise ValueError(f"requests needs columns household_id and as_of; missing {sorted(missing)}")
    requests = _normalise(requests)
    store_io.replace_catalog(con, catalog())
    _, stale = _sync(con, full=False, batch_size=batch_size)
    out = []
    _compute_windows(con, pl.concat([stale, requests]), batch_size, collect=out)
    out = [f.join(requests, on=KEY, how="semi") for f in out]
    cols = ["household_id", "as_of", *window_columns()]
    if not out:
        return pl.DataFrame(schema={c: pl.Float64 for c in cols}).with_columns(
            pl.col("household_id").cast(pl.String), pl.col("as_of").cast(pl.Date))
    return pl.concat(out).select(cols).sort(KEY)


def _normalise(requests: pl.DataFrame) -> pl.DataFrame:
    return requests.select(pl.col("household_id").cast(pl.String), pl.col("as_of").cast(pl.Date)).unique()


def _sync(con, *, full: bool, batch_size: int) -> tuple[dict, pl.DataFrame]:
    """Update daily features for changed day rows; return a summary and the stored windows
    that depend on them (household_id, as_of), which the caller must recompute."""
    weather = changes.temperature_changed(con)  # before the sync records the new table
    ranges, detected_by = _update_daily(con, full=full, batch_size=batch_size)
    if detected_by == "full" or weather:
        stale = store_io.query(con, "SELECT household_id, as_of FROM household_features")
    elif ranges.height:
        with registered(con, _fx_changed=ranges):
            stale = store_io.query(con,
                f"""SELECT w.household_id, w.as_of FROM household_features w JOIN _fx_changed g
                    ON w.household_id = g.household_id
                   AND w.as_of BETWEEN g.lo + INTERVAL ({A.LOOKAHEAD_DAYS}) DAY
                                   AND g.hi + INTERVAL ({window.HISTORY_DAYS - 1}) DAY"""
            )
    else:
        stale = pl.DataFrame(schema={"household_id": pl.String, "as_of": pl.Date})
    summary = {
        "changes_found_by": detected_by,
        "households_updated": ranges.height,
        "days_recomputed": _count(con, "daily_features", ranges),
    }
    return summary, _normalise(stale)


def _count(con, table: str, ranges: pl.DataFrame) -> int:
    if ranges.height == 0:
        return 0
    with registered(con, _fx_counted=ranges):
        return store_io.scalar(con, f"""SELECT count(*) FROM {table} t JOIN _fx_counted g
            ON t.household_id = g.household_id AND t.local_date BETWEEN g.lo AND g.hi""")


def _update_daily(con, *, full: bool, batch_size: int) -> tuple[pl.DataFrame, str]:
    """Recompute the daily rows that changed; return their ranges and how they were found."""
    now = changes.current_version(con)
    synced = None if full else changes.last_synced(con)
    full = synced is None
    if full:
        ranges = changes.all_ranges(con)
    else:
        ranges = changes.changed_since(con, synced).with_columns(
            lo=pl.col("lo") - pl.duration(days=A.LOOKAHEAD_DAYS),
            hi=pl.col("hi") + pl.duration(days=A.DEPENDS_FORWARD),
        )
    detected_by = "full" if full else "version"
    if ranges.height == 0:
        if full:
            with FreshTables(con):
                pass
        changes.record_sync(con, now)
        return ranges.select("household_id", "lo", "hi"), detected_by
    ranges = ranges.with_columns(
        read_lo=pl.col("lo") - pl.duration(days=A.READ_BEFORE),
        read_hi=pl.col("hi") + pl.duration(days=A.LOOKAHEAD_DAYS),
    )
    cal = store_io.calendar(con)
    zone = setting(con, "timezone") or "Asia/Tokyo"

    def compute_batch(batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        cur = con.cursor()  # its own connection: worker threads read while the main one writes
        try:
            days = store_io.load_days(cur, batch)
            prior = None if full else store_io.load_prior_profiles(cur, batch, A.REGULARITY_DAYS)
        finally:
            cur.close()
        if days.height == 0:
            empty = pl.DataFrame(schema={"household_id": pl.String, "local_date": pl.Date})
            return empty, empty
        since = None if full else batch.select("household_id", "lo")
        days_out, profiles = daily.compute_daily(days, cal, zone, since=since, prior=prior)
        inside = (pl.col("local_date") >= pl.col("lo")) & (pl.col("local_date") <= pl.col("hi"))
        keep = batch.select("household_id", "lo", "hi")
        return (days_out.join(keep, on="household_id").filter(inside).drop("lo", "hi"),
                profiles.join(keep, on="household_id").filter(inside).drop("lo", "hi"))

    work = ahead.ordered(compute_batch, store_io.batches(ranges, _daily_batch(ranges, batch_size)))
    if full:
        with FreshTables(con) as fresh:
            for batch, (days_out, profiles) in work:
                fresh.write(batch, days_out, profiles)
    else:
        for batch, (days_out, profiles) in work:
            store_io.replace_daily(con, batch, days_out, profiles)
    changes.record_sync(con, now)
    return ranges.select("household_id", "lo", "hi"), detected_by


#: Day rows per daily batch: Polars' per-expression cost is paid once per batch, so batches are
#: large, but a batch holds ~450 working columns per day row (~3 KB a row with intermediates)
#: and two more are computed ahead. At 10,000 x 90 the daily stage peaked at 2.9 GiB with
#: 200,000 rows, 1.9 GiB with 100,000, 1.6 GiB with 50,000, and was no slower.
DAILY_BATCH_ROWS = 50_000


def _daily_batch(ranges: pl.DataFrame, batch_size: int) -> int:
    """Households per daily batch: ``batch_size``, or more while the batch stays under
    DAILY_BATCH_ROWS day rows (an incremental day reads ~10 rows a household, a full run all)."""
    days = ranges.select(((pl.col("read_hi") - pl.col("read_lo")).dt.total_days() + 1).mean()).item() or 1
    return max(batch_size, int(DAILY_BATCH_ROWS // max(days, 1)))


def _default_requests(con, as_of: date | None) -> pl.DataFrame:
    frames = []
    if as_of is not None:
        frames.append(store_io.query(con, 
            f"""SELECT DISTINCT household_id, ?::DATE AS as_of FROM daily_features
                WHERE local_date BETWEEN ?::DATE - INTERVAL ({window.HISTORY_DAYS - 1}) DAY AND ?::DATE""",
            [as_of, as_of, as_of]))
    if store_io.table_exists(con, "assessments"):
        frames.append(store_io.query(con, 
            "SELECT DISTINCT household_id::VARCHAR AS household_id, assessed_on::DATE AS as_of "
            "FROM assessments WHERE assessed_on IS NOT NULL"))
    if not frames:
        return pl.DataFrame(schema={"household_id": pl.String, "as_of": pl.Date})
    return _normalise(pl.concat(frames))


def _compute_windows(con, requests: pl.DataFrame, batch_size: int, collect: list | None = None) -> int:
    requests = _normalise(requests)
    if requests.height == 0:
        return 0
    # A window reads at most 84 daily rows, so a window batch can hold more requests than a
    # daily batch holds households. Batches are bounded by requests, not households (windows
    # are independent): memory then stays flat when households have several as-of dates.
    requests = requests.sort(KEY)
    size = batch_size * WINDOW_BATCH_FACTOR

    def compute_batch(batch: pl.DataFrame) -> pl.DataFrame:
        cur = con.cursor()  # its own connection: worker threads read while the main one writes
        try:
            days, profiles = store_io.load_window_inputs(cur, batch, window.HISTORY_DAYS)
        finally:
            cur.close()
        return window_frame(batch, days, profiles)

    batches = (requests.slice(start, size) for start in range(0, requests.height, size))
    for batch, features in ahead.ordered(compute_batch, batches):
        store_io.replace_windows(con, features.with_columns(
            computed_at=pl.lit(datetime.now(timezone.utc).replace(tzinfo=None))))
        if collect is not None:
            collect.append(features)
    return requests.height
