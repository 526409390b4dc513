"""Small builders for ingest tests: registries and export files with known contents."""

from __future__ import annotations

from pathlib import Path

REGISTRY_HEADER = ("household_id,birth_year,lives_alone,consent_given_on,consent_withdrawn_on,"
                   "care_certified,has_solar,district")


def write_registry(path: Path, rows: list[str] | None = None) -> Path:
    rows = rows if rows is not None else [
        "H1,1945,true,2025-01-01,,false,false,North",
        "H2,1950,true,2025-01-01,,false,true,South",
        "H3,1948,true,,,false,false,North",             # never consented
        "H4,1940,true,2025-01-01,2025-04-02,false,false,East",  # withdrew on 2 April
    ]
    path.write_text("\n".join([REGISTRY_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def write_long(path: Path, lines: list[str], header: str = "household_id,ts,kwh", encoding="utf-8") -> Path:
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


def day_lines(household: str, day: str, values: list[float], offset: str = "+09:00") -> list[str]:
    """One line per half hour of a 48-slot day, starting at local midnight."""
    return [f"{household},{day}T{i // 2:02d}:{30 * (i % 2):02d}:00{offset},{v}" for i, v in enumerate(values)]


def counts(con, file_id: int) -> dict:
    row = con.execute(
        "SELECT rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_rejected_consent, status "
        "FROM ingest_files WHERE file_id = ?", [file_id]).fetchall()[0]
    return dict(zip(["read", "loaded", "quarantined", "duplicate", "rejected", "status"], row))
