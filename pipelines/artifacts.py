"""Prefect artifacts a person can read: run summaries and the risk-list table."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact, create_table_artifact

_COUNTS = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_rejected_consent")


def ingest_summary(results: list[dict]) -> str:
    totals = {k: sum(r[k] for r in results) for k in _COUNTS}
    lines = [
        "# Ingest",
        f"{len(results)} files: " + ", ".join(f"{sum(r['status'] == s for r in results)} {s}"
                                             for s in sorted({r['status'] for r in results})) if results else "No new files.",
        "",
        "| rows read | loaded | quarantined | duplicate | rejected (consent) |",
        "|---|---|---|---|---|",
        "| " + " | ".join(str(totals[k]) for k in _COUNTS) + " |",
    ]
    if any(r["status"] == "failed" or r["rows_quarantined"] for r in results):
        lines += ["", "## Files needing attention", ""]
        lines += [f"- `{r['file']}` ({r['status']}): {r['message']}" for r in results
                  if r["status"] == "failed" or r["rows_quarantined"]]
    text = "\n".join(lines)
    create_markdown_artifact(text, key="ingest-summary", description="Files and rows ingested")
    return text


def markdown(key: str, text: str, description: str) -> None:
    create_markdown_artifact(text, key=key, description=description)


def risk_list_table(rows: list[dict], key: str = "risk-list") -> None:
    create_table_artifact(rows, key=key, description="Risk list (pseudonyms), highest risk first")
