"""Monthly risk list: score every consenting household with the promoted model, export the care-staff list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from prefect import flow, task

from meterrisk import store
from meterrisk.model import registry
from pipelines.artifacts import fields, markdown, risk_list_table
from pipelines.retries import retry_on_transient_io
from pipelines.snapshot import publish_snapshot
from pipelines.workspace import Workspace, marks_run


def latest_reading_date(db: Path) -> date:
    """The default scoring date: the last local day most households covered
    (meterrisk.store.coverage), not the date of the latest stray reading."""
    from meterrisk.store.coverage import last_covered_day

    con = store.connect(db, create=False)
    try:
        return last_covered_day(con)
    finally:
        con.close()


@task(name="score", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def score_households(db: Path, as_of: date, model: Path, models_dir: Path) -> dict:
    from meterrisk.model.scoring import score

    con = store.connect(db, create=False)
    try:
        return score(con, as_of, model=model, models_dir=models_dir)
    finally:
        con.close()


@task(name="export-risk-list", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def export_risk_list(db: Path, as_of: date, out: Path, model_version: str, fmt: str = "parquet") -> dict:
    from meterrisk.export.parquet import COLUMNS, consenting_list, export

    con = store.connect(db, create=False)
    try:
        info = export(con, as_of, out, fmt=fmt, model_version=model_version, command="risk-list flow")
        listed = consenting_list(con, as_of, model_version)
    finally:
        con.close()
    # The file is for care staff (registry ids); the artifact is read by whoever sees the
    # Prefect UI, so it names households by pseudonym, as the analyst views do.
    top = (listed.filter(pl.col("risk_score").is_not_null()).sort("rank").head(50)
           .select("pseudonym", *[c for c in COLUMNS if c != "household_id"])
           .with_columns(pl.col("reasons").list.join("; "), pl.col("concern_reasons").list.join("; "),
                         pl.col("as_of").cast(pl.String)))
    risk_list_table(top.to_dicts())
    return {k: (str(v) if isinstance(v, (date, Path)) else v) for k, v in info.items()}


@task(name="report", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def write_report(db: Path, as_of: date, out: Path, model_version: str) -> dict:
    """The HTML report beside the export (meterrisk.report; docs/report.md)."""
    from meterrisk.report import write_report as write

    con = store.read_only(db)
    try:
        written = write(con, as_of, out, model_version=model_version)
    finally:
        con.close()
    return {"path": str(written.index.resolve()), "pages": len(written.pages)}


@flow(name="risk-list")
@marks_run
def risk_list_flow(db: Path | None = None, as_of: date | None = None, models_dir: Path | None = None,
                   out: Path | None = None, fmt: str = "parquet") -> dict:
    """Score as of ``as_of`` (default: the last day most households covered) with the promoted
    model; export the list and write the HTML report beside it."""
    ws = Workspace.default(db, models_dir=models_dir or "models").ensure()
    as_of = as_of or latest_reading_date(ws.db)
    model = registry.current(ws.models)
    scored = score_households(ws.db, as_of, model, ws.models)
    out = Path(out) if out else ws.exports / f"risk_list_{as_of:%Y-%m-%d}.{fmt}"
    info = export_risk_list(ws.db, as_of, out, model.name, fmt)
    report = write_report(ws.db, as_of, out.parent / f"report_{as_of:%Y-%m-%d}", model.name)
    markdown("risk-list-summary",
             f"# Risk list {as_of}\n\nModel `{model.name}`.\n\n"
             + fields(scored)
             + f"\n\nExported {info['rows']} rows to `{info['path']}`."
             + f"\n\nReport ({report['pages']} household pages): [{report['path']}](file://{report['path']})",
             "Households scored by tier")
    publish_snapshot(ws.db)
    return {"as_of": str(as_of), "model": model.name, "score": scored, "export": info, "report": report}
