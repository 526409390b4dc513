"""Window sums: the cumulative state every window feature is computed from.

Each request's household gets a dense daily frame (one row per local date, from 84 days before
its earliest as_of to its latest, with or without a daily row), in household order. A feature
asks :class:`Window` for the sum of a day-level expression over a span of ages; the engine
accumulates that expression per household (``cum_sum`` over the dense rows) and reads the
window as the difference of two cumulative rows: ages lo..hi-1 before as_of A are
``cum[A - lo] - cum[A - hi]``. Every household's frame starts 84 days before its first as_of,
so row A-84 always exists and a window never mixes households.

Floating point: values are accumulated relative to a per-household constant (the household's
median of that feature over the frame), or a constant series would give an SD of rounding noise
instead of 0, and a variance is clamped at 0 where it is within rounding of 0.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from meterrisk.features.windows import spans

H = "_h"  # household number in the batch
T = "_t"  # day index in the household's dense frame (0 = its first day)
VALID = pl.col("_valid")  # the day has a daily row with dq_flag 'ok'
HAS_ROW = pl.col("_row")  # the day has a daily row at all
WEEKEND = pl.col("_weekend")  # Saturday or Sunday
#: A centred sum of squares below this share of the cumulative sum it was read from is
#: rounding residue (the cumulative rows carry errors of that size), so it counts as 0.
ROUNDING = 1e-12


def known(feature: str) -> pl.Expr:
    """Day-level: the daily feature is known (valid day, not null)."""
    return VALID & pl.col(feature).is_not_null()


def centre(feature: str) -> str:
    """Name of the per-household constant ``feature`` is accumulated relative to."""
    return f"_c_{feature}"


def centred(feature: str) -> pl.Expr:
    """Day-level: the feature minus its household constant where known, else 0."""
    return pl.when(known(feature)).then(pl.col(feature) - pl.col(centre(feature))).otherwise(0.0)


class Window:
    """Sums over spans of days before as_of, as columns of the window frame.

    The methods return expressions over the window frame (one row per request); the sums they
    read are recorded in ``day_exprs`` / ``sums`` and computed by :func:`window_sums`. So the
    same feature functions list their columns (the catalogue) and compute them (the engine).
    """

    def __init__(self) -> None:
        self.day_exprs: dict[str, pl.Expr] = {}  # accumulated
        self.point_exprs: dict[str, pl.Expr] = {}  # read on the as_of day only
        self.sums: dict[str, tuple[str, int, int | None]] = {}  # column -> (day expr, lo, hi)
        self.centred: set[str] = set()  # features needing a household constant
        self.derived: list[dict[str, pl.Expr]] = []  # intermediate columns, by stage
        self._names: dict[str, dict] = {}  # short column names of the sums and points

    def derive(self, name: str, expr: pl.Expr, stage: int) -> pl.Expr:
        """``expr`` as an intermediate column of the window frame, computed in ``stage`` (1, 2,
        ...: a stage may read the columns of earlier ones). Features that reuse a big
        expression many times (circadian blocks) read it as a column instead of repeating it."""
        while len(self.derived) < stage:
            self.derived.append({})
        self.derived[stage - 1].setdefault(name, expr.alias(name))
        return pl.col(name)

    # -- the primitives
    def total(self, day_expr: pl.Expr, span: tuple[int, int]) -> pl.Expr:
        """Sum of ``day_expr`` (booleans count) over the days at ages span[0]..span[1]-1."""
        key = str(day_expr)
        self.day_exprs.setdefault(key, day_expr)
        names = self._names.setdefault("sums", {})
        name = names.setdefault((key, *span), f"_sum{len(names)}")
        self.sums[name] = (key, *span)
        return pl.col(name)

    def accumulated(self, day_expr: pl.Expr, span: tuple[int, int]) -> pl.Expr:
        """The cumulative sum ``total`` reads its top row from: every day up to age span[0].
        Its size bounds the rounding error of the window sum."""
        key = str(day_expr)
        self.day_exprs.setdefault(key, day_expr)
        names = self._names.setdefault("sums", {})
        name = names.setdefault((key, span[0], None), f"_sum{len(names)}")
        self.sums[name] = (key, span[0], None)
        return pl.col(name)

    def squares(self, day_expr: pl.Expr, span: tuple[int, int]) -> tuple[pl.Expr, pl.Expr]:
        """total() of a non-negative day expression and the size of its rounding error."""
        return self.total(day_expr, span), self.accumulated(day_expr, span) * ROUNDING

    def at_as_of(self, day_expr: pl.Expr) -> pl.Expr:
        """Value of ``day_expr`` on the as_of day itself (no accumulation)."""
        names = self._names.setdefault("points", {})
        name = names.setdefault(str(day_expr), f"_at{len(names)}")
        self.point_exprs.setdefault(name, day_expr)
        return pl.col(name)

    # -- daily features over a span (age 0 left out for NEXT_MORNING features)
    def n(self, f: str, span: tuple[int, int]) -> pl.Expr:
        """Days in the span where daily ``f`` is known."""
        return self.total(known(f), spans.of_feature(f, span))

    def sum(self, f: str, span: tuple[int, int]) -> pl.Expr:
        """Sum of (f - household constant) over the known days of the span."""
        self.centred.add(f)
        return self.total(centred(f), spans.of_feature(f, span))

    def constant(self, f: str) -> pl.Expr:
        self.centred.add(f)
        return self.at_as_of(pl.col(centre(f)))

    def mean(self, f: str, span: tuple[int, int]) -> pl.Expr:
        """Mean of daily ``f`` over its known days in the span; null when there is none."""
        n = self.n(f, span)
        return pl.when(n > 0).then(self.constant(f) + self.sum(f, span) / n)

    def sd(self, f: str, span: tuple[int, int]) -> pl.Expr:
        """Sample SD (ddof 1) of daily ``f`` over its known days; null with fewer than 2."""
        n, s = self.n(f, span), self.sum(f, span)
        sq, noise = self.squares(centred(f) ** 2, spans.of_feature(f, span))
        return pl.when(n > 1).then((residual(sq, s * s / n, noise) / (n - 1)).sqrt())

    def slope_per_week(self, f: str, span: tuple[int, int]) -> pl.Expr:
        """Least-squares slope of daily ``f`` on the date, per week, over its known days."""
        span = spans.of_feature(f, span)
        t = pl.when(known(f)).then(pl.col(T)).otherwise(0.0)
        n, s = self.n(f, span), self.sum(f, span)
        st, stt = self.total(t, span), self.total(t * t, span)
        sty = self.total(t * centred(f), span)
        # Sums of date index t and t*y, not of age: translation in t does not change a slope.
        return 7.0 * (sty - st * s / n) / (stt - st * st / n)


def _dense_height(req: pl.DataFrame, length: int) -> int:
    return (int(req[H].max()) + 1) * length


def residual(sum_sq: pl.Expr, correction: pl.Expr, noise: pl.Expr) -> pl.Expr:
    """sum_sq - correction (a centred sum of squares), 0 where it is within ``noise``."""
    r = sum_sq - correction
    return pl.when(r > noise).then(r).otherwise(0.0)


def dense_days(requests: pl.DataFrame, days: pl.DataFrame, profiles: pl.DataFrame,
               w: Window) -> tuple[pl.LazyFrame, pl.DataFrame, int]:
    """The dense daily frame with the segments' constants, and the requests with their
    segment number and day index (``_h``, ``_t``), in request order.

    A household's requests are cut into segments of as_of dates less than 84 days apart, each
    with its own dense frame from 84 days before its first as_of: assessments years apart do
    not fill the years between, and the cumulative sums (whose rounding grows with them)
    never span more than 168 days. Returns the frame, the requests and the segment length."""
    first = pl.col("as_of").min() - pl.duration(days=spans.HISTORY_DAYS)
    requests = requests.with_columns(
        _seg=(pl.col("as_of") - pl.col("as_of").min().over("household_id")).dt.total_days()
        // spans.HISTORY_DAYS)
    households = (requests.group_by("household_id", "_seg").agg(_first=first, _last=pl.col("as_of").max())
                  .sort("household_id", "_seg").with_row_index(H))
    # Every segment gets the length of the longest (earlier days are read by no window): the
    # dense frame is then a (segments, days) grid, accumulated along the days.
    length = int(((households["_last"] - households["_first"]).dt.total_days() + 1).max())
    # The padding days before a segment's own first day stay empty: they hold no window's
    # days, and filled they would enter its centring constant and cumulative sums, so a
    # household's values would depend (in the last bits) on who else is in the batch: a
    # shard and the whole town would disagree (tests/test_shards_feature_invariance.py).
    households = households.with_columns(
        _own_first=pl.col("_first"),
        _first=pl.col("_last") - pl.duration(days=length - 1), _start=pl.col(H).cast(pl.Int64) * length)
    n_rows = households.height * length
    seg_first = households["_first"].cast(pl.Int64).to_numpy()

    def placed(rows: pl.DataFrame) -> pl.DataFrame:
        """``rows`` with their dense row ``_pos``, once per segment whose days hold them."""
        placed = (rows.join(households.select(H, "household_id", "_first", "_own_first"), on="household_id")
                  .filter(pl.col("local_date") >= pl.col("_own_first"))
                  .with_columns(_t=(pl.col("local_date") - pl.col("_first")).dt.total_days())
                  .filter((pl.col("_t") >= 0) & (pl.col("_t") < length))
                  .with_columns(_pos=pl.col(H).cast(pl.Int64) * length + pl.col("_t")))
        if placed["_pos"].is_duplicated().any():  # a repeated row would double its day
            raise ValueError("daily rows or profiles repeat a (household_id, local_date)")
        return placed

    feature_cols = [c for c in days.columns if c not in ("household_id", "local_date", "dq_flag")]
    day_rows = placed(days.select(
        "household_id", "local_date", *(pl.col(c).cast(pl.Float64).fill_nan(None) for c in feature_cols),
        _row=pl.lit(True), _valid=(pl.col("dq_flag") == "ok").fill_null(False)))
    hourly = [pl.col("hourly_excess_kwh").arr.get(h).alias(f"_x{h}") for h in range(24)]
    hourly += [pl.col("hourly_active_slots").arr.get(h).alias(f"_a{h}") for h in range(24)]
    prof_rows = placed(profiles.select(
        "household_id", "local_date",
        pl.col("hourly_excess_kwh").cast(pl.Array(pl.Float64, 24)),
        pl.col("hourly_active_slots").cast(pl.Array(pl.Float64, 24))).select("household_id", "local_date", *hourly))
    # The dense frame is a regular (segment, day) grid: row = segment * length + day, so the
    # daily rows are scattered into place rather than joined on (household_id, local_date).
    pos = np.arange(n_rows)
    seg = pos // length
    # Day index from the segment's own first day (padding days negative, and empty): slopes
    # sum t * value, whose rounding would otherwise depend on the padding, hence the batch.
    pad = (households["_own_first"] - households["_first"]).dt.total_days().to_numpy()
    columns = {H: pl.Series(H, seg), T: pl.Series(T, (pos % length - pad[seg]).astype(np.float64)),
               "local_date": pl.Series("local_date", seg_first[seg] + pos % length).cast(pl.Date)}
    for rows, names in ((day_rows, [*feature_cols, "_row", "_valid"]),
                        (prof_rows, [f"_x{h}" for h in range(24)] + [f"_a{h}" for h in range(24)])):
        for c in names:
            empty = pl.Series(c, dtype=rows[c].dtype).extend_constant(None, n_rows)
            columns[c] = empty.scatter(rows["_pos"], rows[c])
    # Per segment: the constant each feature (and clock hour) is accumulated relative to,
    # its median over the segment's known values. A median, not a mean: Polars sums a group
    # in an order that depends on the other groups of the frame, so a mean's last bit (and
    # through it every centred sum) depended on who else was in the batch.
    constants = day_rows.lazy().with_columns(pl.col("_valid").alias("_valid")).group_by(H).agg(
        pl.when(known(f)).then(pl.col(f)).median().alias(centre(f)) for f in sorted(w.centred) if f in feature_cols)
    hour_constants = prof_rows.lazy().group_by(H).agg(
        pl.col(f"_x{h}").median().alias(f"_c_x{h}") for h in range(24))
    every = pl.LazyFrame({H: np.arange(households.height, dtype=np.int64)})
    constants = (every.join(constants.with_columns(pl.col(H).cast(pl.Int64)), on=H, how="left")
                 .join(hour_constants.with_columns(pl.col(H).cast(pl.Int64)), on=H, how="left")
                 .sort(H).drop(H).collect())
    dense = pl.DataFrame(columns).with_columns(
        _row=pl.col("_row").fill_null(False), _valid=pl.col("_valid").fill_null(False),
        _weekend=pl.col("local_date").dt.weekday() >= 6)
    dense = pl.concat([dense, constants[seg]], how="horizontal").lazy()
    req = (requests.select("household_id", "as_of", "_seg").with_row_index("_ri")
           .join(households.select(H, "household_id", "_seg", "_first", "_start"),
                 on=["household_id", "_seg"], maintain_order="left")
           .with_columns(_t=(pl.col("as_of") - pl.col("_first")).dt.total_days())
           .with_columns(_row=pl.col("_start") + pl.col("_t")))
    return dense, req.sort("_ri"), length


def window_sums(requests: pl.DataFrame, days: pl.DataFrame, profiles: pl.DataFrame,
                w: Window) -> pl.DataFrame:
    """One row per request (request order) with every sum recorded in ``w``."""
    dense, req, length = dense_days(requests, days, profiles, w)
    frame = dense.select(*(e.cast(pl.Float64).fill_null(0).alias(k) for k, e in w.day_exprs.items()),
                         *(e.alias(k) for k, e in w.point_exprs.items())).collect()
    if frame.height != _dense_height(req, length):  # a repeated daily row would shift every position
        raise ValueError("daily rows or profiles repeat a (household_id, local_date)")
    seg, t = req[H].to_numpy().astype(np.int64), req["_t"].to_numpy().astype(np.int64)
    wanted: dict[str, list[tuple[str, int, int | None]]] = {}
    for name, (key, lo, hi) in w.sums.items():
        wanted.setdefault(key, []).append((name, lo, hi))
    out = {}
    for key, sums in wanted.items():
        # Per segment, along its days: a segment's sums never mix with another's. Counts are
        # whole numbers in float64, exact far beyond any window.
        cum = frame[key].to_numpy().reshape(-1, length).cumsum(axis=1)
        for name, lo, hi in sums:
            top = cum[seg, t - lo]
            out[name] = top if hi is None else top - cum[seg, t - hi]
    rows = req["_row"]
    out.update({name: frame[name].gather(rows) for name in w.point_exprs})
    return pl.DataFrame(out).with_columns(household_id=req["household_id"], as_of=req["as_of"])
