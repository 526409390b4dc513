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


def _value(v) -> str:
    """A value as a person reads it: a dict of counts as 'a 3, b 2' (never a Python repr)."""
    if isinstance(v, dict):
        return ", ".join(f"{n} {k}" for k, n in sorted(v.items(), key=lambda kv: str(kv[0]))) or "none"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v) or "none"
    return "n/a" if v is None else str(v)


def fields(summary: dict, skip: tuple[str, ...] = ()) -> str:
    """Markdown bullet lines ``- households updated: 12`` for a flow's summary dict."""
    return "\n".join(f"- {str(k).replace('_', ' ')}: {_value(v)}" for k, v in summary.items() if k not in skip)


def markdown(key: str, text: str, description: str) -> None:
    create_markdown_artifact(text, key=key, description=description)


def risk_list_table(rows: list[dict], key: str = "risk-list") -> None:
    create_table_artifact(rows, key=key, description="Risk list (pseudonyms), highest risk first")
