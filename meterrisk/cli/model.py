"""``meterrisk assessments | train | evaluate | score | export``: the frailty risk list."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from meterrisk import store
from meterrisk.cli._options import db_option
from meterrisk.progress import step

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


@click.command("assessments")
@db_option
@click.argument("file", type=click.Path(dir_okay=False))
def assessments(db, file):
    """Load frailty assessments (Kihon Checklist) from FILE into the store.

    FILE is a CSV with household_id, assessed_on, checklist_score[, frail]; the score is a
    whole number 0-25 and frail = checklist_score >= 8. Each row is checked: bad rows (and
    rows repeating a household and date with other values) are rejected with their line and
    column and the rest load; the counts add up (read = loaded + duplicate + rejected).
    Re-loading replaces rows with the same household and date. Rows of households that are
    not in the registry, or without consent on that date, are only counted. Exits 1 if any
    row was rejected as invalid.

    \b
    Example:
      meterrisk assessments data/synthetic/200x120-s7/assessments.csv
    """
    from meterrisk.model.assessments import REASONS, load_assessments

    con = store.connect(db, create=False)  # assessments need the registry's consent
    try:
        c = load_assessments(con, file)
    finally:
        con.close()
    reasons = ", ".join(f"{r} {n}" for r, n in c["rejected"].items())
    click.echo(f"{file}: {c['read']} read = {c['loaded']} loaded + {c['duplicate']} duplicate + "
               f"{c['rejected_invalid'] + c['rejected_no_consent']} rejected "
               f"({reasons + ', ' if reasons else ''}not in the registry or without consent {c['rejected_no_consent']})")
    shown = c["problems"][:_SHOWN_PROBLEMS]
    for p in shown:
        click.echo(f"  {p['file']}:{p['line']}: {p['column'] + ': ' if p['column'] else ''}{p['reason']}: {p['message']}")
    for d in c["duplicates"][:_SHOWN_PROBLEMS]:
        click.echo(f"  {d['file']}:{d['line']}: duplicate: repeats line {d['first_line']} exactly (loaded once)")
    if len(c["problems"]) > len(shown):
        click.echo(f"  ... and {len(c['problems']) - len(shown)} more rejected rows (reasons: "
                   + "; ".join(f"{r}: {REASONS[r]}" for r in c["rejected"]) + ")")
    if c["rejected_invalid"]:
        sys.exit(1)


#: Rejected rows listed one by one (the counts by reason are always complete).
_SHOWN_PROBLEMS = 50


@click.command("train")
@db_option
@click.option("--models-dir", default="models", show_default=True, type=click.Path(file_okay=False),
              help="Folder that receives models/<version>/.")
@click.option("--capacity", default=0.10, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Outreach capacity: share of residents the town can contact.")
@click.option("--truth", "truth_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="Synthetic truth/ folder: also measure lead time for declining residents.")
@click.option("--concern-capacity", default=0.03, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Size of the new-concern list (share of scored residents), recorded with the model.")
@click.option("--version", default=None, help="Model version name [default: UTC time YYYYMMDD-HHMMSS].")
@click.option("--seed", default=0, show_default=True, type=int, help="Split and model seed.")
@click.option("--refit/--no-refit", default=True, show_default=True,
              help="Save the model refitted on all examples (metrics are from the split either way).")
@click.option("--trend/--no-trend", default=False, show_default=True,
              help="Also fit the experimental trend model (stored as trend_score; it no longer sets the "
                   "new-concern list, which needs no flag: see docs/model.md).")
def train(db, models_dir, capacity, concern_capacity, truth_dir, version, seed, refit, trend):
    """Train the frailty risk model on the store's assessments and window features.

    Splits by household and time (train on earlier assessments, test on later ones of other
    households), reports the model against age-only and activity-rule baselines, and writes
    models/<version>/ with model.skops, manifest.json and MODEL_CARD.md.

    \b
    Example:
      meterrisk train --capacity 0.10 --truth data/synthetic/200x120-s7/truth
    """
    from meterrisk.model.training import train as run

    con = store.connect(db, create=False)
    try:
        with step("training: examples, split, model and baselines"):
            path, m = run(con, models_dir=models_dir, capacity=capacity, concern_capacity=concern_capacity,
                          truth_dir=truth_dir, version=version, seed=seed,
                          refit=refit, trend=trend)
    finally:
        con.close()
    met, base = m["metrics"], m["baselines"]
    click.echo(f"model {m['version']} -> {path}")
    from meterrisk.model.registry import POINTER, is_current

    if not is_current(path, models_dir):  # the train flow promotes by metrics; this command does not
        click.echo(f"  not promoted: `meterrisk score` uses the model {Path(models_dir) / POINTER} names; "
                   f"pass --model {path}, or promote it: echo {m['version']} > {Path(models_dir) / POINTER}")
    click.echo(f"split {m['split']['split']}: {m['split']['train_examples']} train / {m['split']['test_examples']} test examples")
    for name, r in (("model", met), ("age only", base["age_logistic"]), ("activity rule", base["activity_rule"])):
        click.echo(f"  {name:14s} ROC-AUC {_fmt(r['roc_auc'])}  PR-AUC {_fmt(r['pr_auc'])}  "
                   f"precision@{capacity:.0%} {_fmt(r['precision_at_capacity'])}  recall@{capacity:.0%} "
                   f"{_fmt(r['recall_at_capacity'])}  Brier {_fmt(r.get('brier'))}  ECE {_fmt(r.get('ece'))}")
    if met.get("lead_time_weeks_median") is not None:
        click.echo(f"  lead time (median weeks before frailty), high tier: {_fmt(met['lead_time_weeks_median'])}")
    if isinstance(met.get("new_concern"), dict) and "new_concern" in met["new_concern"]:
        _echo_concern(met["new_concern"])
    if met.get("lead_time_new_concern_weeks_median") is not None:
        rnd = met["lead_time"]["new_concern_random"]["lead_time_weeks_median"]
        click.echo(f"  lead time, new-concern list: {_fmt(met['lead_time_new_concern_weeks_median'])} "
                   f"(random list of the same size: {_fmt(rnd)}); either list: "
                   f"{_fmt(met['lead_time_either_list_weeks_median'])}")


def _echo_concern(r: dict) -> None:
    click.echo(f"  new-concern list ({r['capacity']:.0%} of scored, {r['list_dates']} list dates; precision = "
               f"frail within {r['new_concern']['horizon_days'] // 7} weeks of listing):")
    for name, label in (("new_concern", "own change"), ("random", "random list"),
                        ("current_risk_non_high", "current risk, non-high")):
        j = r[name]
        click.echo(f"    {label:24s} before onset {j['flagged_before_onset']} of {j['declining']}  median lead "
                   f"{_fmt(j['lead_weeks_median'])} weeks  precision {_fmt(j['precision_within_horizon'])} "
                   f"({j['precision_hits']} of {j['precision_entries']})  churn {_fmt(j['churn_mean'])}")


@click.command("evaluate")
@click.option("--model", "model_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="Model folder models/<version>.")
@click.option("--cohort", required=True, type=click.Path(file_okay=False, exists=True),
              help="Cohort folder written by `meterrisk synth` (readings/, households.csv, assessments.csv, truth/).")
@click.option("--capacity", default=None, type=click.FloatRange(0, 1, min_open=True),
              help="Outreach capacity [default: the model's].")
@click.option("--workdir", default=None, type=click.Path(file_okay=False, exists=True),
              help="Where the temporary store goes [default: system temp].")
@click.option("--lead-every-days", default=14, show_default=True, type=click.IntRange(min=1),
              help="Spacing of the as-of dates used for lead time.")
@click.option("--lead-sample", default=None, type=click.IntRange(min=10),
              help="Rank lead time within all declining residents plus a random sample of others "
                   "of this total size [default: every household] (bounds run time on big cohorts).")
@click.option("--concern-capacity", default=None, type=click.FloatRange(0, 1, min_open=True),
              help="Size of the new-concern list: share of scored residents [default: the model's, else 0.03].")
def evaluate(model_dir, cohort, capacity, workdir, lead_every_days, lead_sample, concern_capacity):
    """Score a generated cohort end to end in a temporary store and print metrics as JSON.

    \b
    Example:
      meterrisk synth --households 5000 --days 365 --seed 2026 --out /tmp/fresh
      meterrisk evaluate --model models/20250101-120000 --cohort /tmp/fresh
    """
    from meterrisk.model.cohort import evaluate_on_cohort, to_json

    click.echo(to_json(evaluate_on_cohort(model_dir, cohort, capacity=capacity, workdir=workdir,
                                          lead_every_days=lead_every_days, lead_sample=lead_sample,
                                          concern_capacity=concern_capacity)))


@click.command("score")
@db_option
@click.option("--as-of", "as_of", required=True, type=_DATE, help="Scoring date (local, YYYY-MM-DD).")
@click.option("--model", "model_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="Model folder [default: the one --models-dir/CURRENT names].")
@click.option("--models-dir", default="models", show_default=True, type=click.Path(file_okay=False))
@click.option("--capacity", default=None, type=click.FloatRange(0, 1, min_open=True),
              help="Share in the high tier [default: the model's capacity].")
@click.option("--concern-capacity", default=None, type=click.FloatRange(0, 1, min_open=True),
              help="Size of the new-concern list: share of scored residents [default: the model's, else 0.03].")
def score(db, as_of, model_dir, models_dir, capacity, concern_capacity):
    """Score every registry household as of a date into the risk_scores table.

    Eligible: consent in force, living alone, aged 65+, not certified for long-term care, no
    rooftop solar. Others, and households with too little data, are listed as not scored with
    the reason. Re-running the same date and model replaces its rows.

    Uses the promoted model, the one models/CURRENT names (a lone model counts as promoted);
    with several models and no CURRENT it refuses rather than guess. A list scored with
    another model (--model) is kept but is not the one v_risk_latest and export show.

    \b
    Example:
      meterrisk score --as-of 2025-07-31
    """
    from meterrisk.model.scoring import readings_span, score as run

    con = store.connect(db, create=False)
    try:
        with step(f"scoring households as of {as_of:%Y-%m-%d}"):
            s = run(con, as_of.date(), model=model_dir, models_dir=models_dir, capacity=capacity,
                    concern_capacity=concern_capacity)
        span = readings_span(con) if not s["scored"] else None
    finally:
        con.close()
    click.echo(f"{s['as_of']} model {s['model_version']}: {s['scored']} scored "
               f"({s['high']} high, {s['medium']} medium); new concern {s['new_concern']} "
               f"({s['concern_capacity']:.0%}: own routine moving the way frailty moves, not high)")
    if not s["promoted"]:
        click.echo(f"  not the promoted model ({Path(models_dir) / 'CURRENT'}): v_risk_latest and export show "
                   f"the promoted list; export this one with --model-version {s['model_version']}")
    for reason, n in s["not_scored"].items():
        click.echo(f"  not_scored: {reason}: {n}")
    if span:  # a list of nobody is written (it is what that day was), but say so plainly
        click.echo(f"warning: nothing scored as of {s['as_of']}: every household is not scored (reasons above); "
                   f"the store's readings run {span[0]} to {span[1]}", err=True)


@click.command("export")
@db_option
@click.option("--as-of", "as_of", required=True, type=_DATE, help="Scoring date to export.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output file.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default=None,
              help="File format [default: from the --out suffix, else parquet].")
@click.option("--model-version", default=None,
              help="Model version [default: the list scored that day with the promoted model].")
@click.option("--pseudonymize", is_flag=True,
              help="Research/vendor extract: HMAC-SHA256 ids (key from METERRISK_PSEUDONYM_KEY or a key file), "
                   "no district.")
@click.option("--key-file", type=click.Path(dir_okay=False), default=None, envvar="METERRISK_PSEUDONYM_KEY_FILE",
              show_envvar=True, help="File holding the --pseudonymize key; must be outside the data folder.")
def export(db, as_of, out, fmt, model_version, pseudonymize, key_file):
    """Write the risk list of a date: for care staff, or pseudonymised for research.

    The care-staff list names residents by the town's registry id (the town maps it to a
    person) and district: household_id, district, as_of, risk_score, risk_tier, rank,
    reasons, data_quality, model_version, new_concern, concern_reasons (the new-concern
    list: not high, own routine moving the way frailty moves). In CSV each reason has its own
    column (reason_1..3, concern_reason_1..3). With --pseudonymize household_id is
    HMAC-SHA256(key, registry id) and district is left out; the key comes from
    METERRISK_PSEUDONYM_KEY or a key file outside the data folder, and is never stored.

    Only households whose consent is in force today are listed. Every file is recorded in
    the store's exports table; it appears complete or not at all.

    \b
    Example:
      meterrisk export --as-of 2025-07-31 --out out/risk-2025-07.parquet
      meterrisk export --as-of 2025-07-31 --out out/risk-2025-07.csv --format csv
      METERRISK_PSEUDONYM_KEY_FILE=~/research.key meterrisk export --as-of 2025-07-31 --pseudonymize --out x.parquet
    """
    from meterrisk import config
    from meterrisk.export.parquet import export as run
    from meterrisk.privacy import research_key

    fmt = fmt or ("csv" if Path(out).suffix.lower() == ".csv" else "parquet")
    # The key first: a refusal leaves no file and no audit row.
    key = research_key(key_file, keep_out_of=[config.db_path(db).parent]) if pseudonymize else None
    command = " ".join(["meterrisk export", f"--as-of {as_of:%Y-%m-%d}", f"--out {out}", f"--format {fmt}",
                        *([f"--model-version {model_version}"] if model_version else []),
                        *(["--pseudonymize"] if pseudonymize else [])])
    con = store.connect(db, create=False)  # writes the audit row
    try:
        info = run(con, as_of.date(), out, fmt=fmt, model_version=model_version, key=key, command=command)
    finally:
        con.close()
    click.echo(json.dumps(info))


COMMANDS = [assessments, train, evaluate, score, export]
