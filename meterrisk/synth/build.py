"""Generate a synthetic cohort directory: readings, registry, assessments, truth, manifest."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from meterrisk.errors import MeterriskError
from meterrisk.synth import faults as fault_mod
from meterrisk.synth.events import draw_events
from meterrisk.synth.frailty import (Frailty, assessments, daily_truth_frame, onsets_frame,
                                     simulate_frailty)
from meterrisk.synth.households import KINDS, make_cohort, make_traits
from meterrisk.synth.load import chunk_kwh
from meterrisk.synth.meter import apply_spans, plan_spans
from meterrisk.synth.params import SynthParams
from meterrisk.synth.timegrid import HALF_HOUR_US, Grid
from meterrisk.synth.weather import clearness, temperature
from meterrisk.synth.writers import (PARQUET_OPTIONS, FaultLog, log_spans, write_long,
                                     write_register, write_wide)
from meterrisk.files import sha256_of

LAYOUTS = ("long", "csv", "wide", "register")
#: Independent random streams, so e.g. changing event rates leaves the registry unchanged.
#: Meter streams were added later; their own numbers keep every earlier stream's draws.
_STREAM = {"cohort": 1, "traits": 2, "frailty": 3, "weather": 4, "assess": 5, "meter": 6,
           "night": 7, "chunk": 100, "meter_chunk": 1_000_000, "night_chunk": 2_000_000,
           "stay_chunk": 3_000_000}


def _rng(seed: int, stream: str, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[stream] + index])


def _check(households, days, layout, faults, tz) -> None:
    if households < 1 or days < 1:
        raise MeterriskError("households and days must be at least 1")
    if layout not in LAYOUTS:
        raise MeterriskError(f"unknown layout {layout!r}", hint=f"use one of {', '.join(LAYOUTS)}")
    if not 0.0 <= faults <= 1.0:
        raise MeterriskError(f"faults rate {faults} is outside 0..1",
                             hint="it is the chance of one fault per household-day, e.g. 0.01")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MeterriskError(f"unknown time zone {tz!r}", hint="use an IANA name like Asia/Tokyo")


def _prepare(out: Path) -> None:
    ours = (out / "manifest.json").exists() or (out / "readings").is_dir()
    if out.exists() and any(out.iterdir()) and not ours:
        raise MeterriskError(f"{out} is not empty and holds no synthetic cohort",
                             hint="choose a new or empty directory")
    for sub in ("readings", "truth"):
        shutil.rmtree(out / sub, ignore_errors=True)
    for stale in ("households.csv", "assessments.csv", "temperature.csv", "manifest.json",
                  "realism.md"):
        (out / stale).unlink(missing_ok=True)
    (out / "readings").mkdir(parents=True)
    (out / "truth").mkdir()



def _write_csv(df: pl.DataFrame, path: Path) -> None:
    df.write_csv(path, date_format="%Y-%m-%d", float_precision=None)


def generate(out_dir: str | Path, *, households: int, days: int, start: date, seed: int,
             layout: str = "long", faults: float = 0.0, timezone: str = "Asia/Tokyo",
             compress: bool = False, params: SynthParams | None = None) -> dict:
    """Write a synthetic cohort to ``out_dir`` and return a summary.

    Parameters
    ----------
    households, days
        Cohort size; days are local calendar days from ``start`` (local midnight).
    seed
        Same seed and arguments give byte-identical files.
    layout
        "long" (Parquet, default), "csv" (long CSV), "wide" or "register" (CSV), see
        docs/CONTRACTS.md.
    faults
        Probability per household-day of one injected data-quality fault (0 = clean).
    timezone
        Local zone of the homes (wall clock that drives routines; CSV offsets).
    compress
        Write CSV layouts as ``.csv.gz``.

    Examples
    --------
    >>> generate("data/synthetic/demo", households=200, days=120,
    ...          start=date(2025, 4, 1), seed=7)  # doctest: +SKIP
    """
    params = params or SynthParams()
    _check(households, days, layout, faults, timezone)
    out = Path(out_dir)
    _prepare(out)
    grid = Grid(start, days, timezone)
    cohort = make_cohort(households, start, days, _rng(seed, "cohort"), params)
    traits = make_traits(cohort, _rng(seed, "traits"), params, _rng(seed, "meter"),
                         _rng(seed, "night"))
    fr = simulate_frailty(cohort, days, _rng(seed, "frailty"), params.frailty)
    wrng = _rng(seed, "weather")
    temp, clear = temperature(grid, wrng), clearness(grid, wrng)

    _write_csv(cohort.registry_frame(), out / "households.csv")
    _write_csv(pl.DataFrame({"date": grid.dates, "mean_temp_c": temp}), out / "temperature.csv")
    _write_csv(assessments(cohort, fr, start, days, _rng(seed, "assess"), params),
               out / "assessments.csv")
    _write_csv(onsets_frame(cohort, fr, start), out / "truth" / "onsets.csv")
    _write_csv(pl.DataFrame({
        "household_id": cohort.ids, "kind": [KINDS[k] for k in cohort.kind],
        "age": cohort.age, "all_electric": cohort.all_electric, "has_solar": cohort.has_solar,
        "activity_scale": np.round(traits.scale, 3), "wake_mean_h": np.round(traits.wake_mean, 2),
        "zero_propensity": traits.zero_propensity,
        "night_storage_heating": traits.storage_kw > 0,
        "night_air_conditioning": traits.night_ac_kw > 0,
    }), out / "truth" / "household_traits.csv")

    counts = _write_chunks(out, grid, cohort, traits, fr, temp, clear, seed, layout, faults,
                           compress, params)

    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"
                   and p.name != "realism.md")
    manifest = {
        "generator": "meterrisk.synth",
        "arguments": {"households": households, "days": days, "start": start.isoformat(),
                      "seed": seed, "layout": layout, "faults": faults, "timezone": timezone,
                      "compress": compress},
        "parameters": params.to_dict(),
        "counts": counts,
        "files": {str(p.relative_to(out)): sha256_of(p) for p in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True,
                                                  ensure_ascii=False, default=str) + "\n")
    return {"out_dir": str(out), **counts}


def _write_chunks(out, grid, cohort, traits, fr: Frailty, temp, clear, seed, layout, faults,
                  compress, params) -> dict:
    ext = {"long": ".parquet"}.get(layout, ".csv.gz" if compress else ".csv")
    event_rows: list[pl.DataFrame] = []
    log = FaultLog()
    n_rows = 0
    truth_writer = None
    step = params.chunk_households
    end_iso = grid.iso_at(int(grid.utc_us[-1] + HALF_HOUR_US))
    iso_end = np.append(grid.iso, end_iso)
    day_first = grid.day_first
    frail = fr.frail_from_mask()
    try:
        for c, lo in enumerate(range(0, cohort.n, step)):
            sl = slice(lo, min(lo + step, cohort.n))
            ids = cohort.ids[sl]
            rng = _rng(seed, "chunk", c)
            meter_rng = _rng(seed, "meter_chunk", c)
            level = fr.level[sl]
            ev = draw_events(grid, traits.take(sl), cohort.kind[sl], level, rng,
                             params.events, params.frailty.outing_reduction,
                             _rng(seed, "stay_chunk", c))
            kwh = chunk_kwh(grid, traits.take(sl), level, ev, temp, clear, rng,
                            params.load, params.frailty, meter_rng, params.meter,
                            _rng(seed, "night_chunk", c))
            # Readings exist only while consent is in force (docs/CONTRACTS.md).
            d = grid.day[None, :]
            consent = (d >= cohort.consent_day[sl, None]) & (d < cohort.withdraw_day[sl, None])
            present = consent.copy()
            # Meter outages, flat lines and gaps: the behaviour above goes on unseen.
            spans = apply_spans(kwh, present, plan_spans(meter_rng, consent, day_first,
                                                         params.meter))
            log_spans(log, spans, ids, iso_end)
            # --faults incidents keep off the spans, so each slot has one story in truth.
            spanned = np.zeros_like(consent)
            for sp in spans:
                spanned[sp.row, sp.start:sp.end] = True
            incidents = fault_mod.plan(rng, faults, present & ~spanned, day_first,
                                       cohort.has_solar[sl], layout, params.faults,
                                       force_all=(c == 0))
            fault_mod.apply_to_values(kwh, present, incidents, params.faults.spike_kwh, layout)
            path = out / "readings" / f"part-{c:05d}{ext}"
            if layout == "long":
                n_rows += write_long(path, ids, grid, kwh, present, incidents, rng, log, "parquet")
            elif layout == "csv":
                n_rows += write_long(path, ids, grid, kwh, present, incidents, rng, log, "csv",
                                     compress)
            elif layout == "wide":
                n_rows += write_wide(path, ids, grid, kwh, present, incidents, rng, log, compress)
            else:
                n_rows += write_register(path, ids, grid, kwh, present, incidents, rng, log,
                                         compress)
            # Events are behaviour: kept while consent is in force, even inside a data gap.
            event_rows.append(_events_frame(ev.records, ids, grid, end_iso, consent, sl, cohort))
            table = daily_truth_frame(ids, level, frail[sl], grid.start).to_arrow()
            if truth_writer is None:
                truth_writer = pq.ParquetWriter(out / "truth" / "frailty_daily.parquet",
                                                table.schema, **PARQUET_OPTIONS)
            truth_writer.write_table(table)
    finally:
        if truth_writer is not None:
            truth_writer.close()

    events = pl.concat(event_rows)
    _write_csv(events, out / "truth" / "events.csv")
    faults_df = pl.DataFrame(log.rows, schema=["household_id", "kind", "ts", "end_ts", "details"],
                             orient="row")
    _write_csv(faults_df.sort("household_id", "ts", "kind", maintain_order=True),
               out / "truth" / "faults.csv")
    return {
        "households": cohort.n,
        "households_with_readings": int(((cohort.consent_day < grid.days)
                                         & (cohort.withdraw_day > np.maximum(cohort.consent_day, 0))
                                         ).sum()),
        "days": grid.days,
        "readings_rows": int(n_rows),
        "reading_files": -(-cohort.n // step),
        "frail_throughout": int((fr.kind == 2).sum()),
        "declining": int((fr.kind == 1).sum()),
        "events": dict(sorted(events.group_by("kind").len().iter_rows())),
        "faults": dict(sorted(faults_df.group_by("kind").len().iter_rows())),
    }


def _events_frame(records, ids, grid, end_iso, present, sl, cohort) -> pl.DataFrame:
    """Events as local ISO spans, keeping only those that start while consent is in force."""
    schema = {"household_id": pl.String, "kind": pl.String, "start_ts": pl.String,
              "end_ts": pl.String, "details": pl.String}
    if not records:
        return pl.DataFrame(schema=schema)
    row, kind, s, e, det = (np.array(x, dtype=object) for x in zip(*records))
    s = s.astype(np.int64)
    e = e.astype(np.int64)
    keep = present[row.astype(np.int64), np.minimum(s, grid.n_slots - 1)] & (s < grid.n_slots)
    iso_end = np.append(grid.iso, end_iso)
    df = pl.DataFrame({
        "household_id": [ids[i] for i in row[keep]],
        "kind": kind[keep].tolist(), "start_ts": iso_end[s[keep]].tolist(),
        "end_ts": iso_end[np.minimum(e[keep], grid.n_slots)].tolist(),
        "details": det[keep].tolist(),
    }, schema=schema)
    return df.sort("household_id", "start_ts", "kind")
