"""Questionnaire files (Kihon Checklist), checked row by row like readings.

A file with bad rows loads its good rows and reports each bad one (file, line, column, reason),
as readings do, rather than failing whole as the registry does: each row is one resident's
questionnaire, independent of the others, so a typo in one says nothing about the rest,
whereas a registry row decides whose data may be processed at all. Nothing is stored for a
rejected row (the file stays with whoever sent it), and nothing about households without
consent, which are only counted.

Accounting: ``read = loaded + duplicate + rejected_invalid + rejected_no_consent``.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from meterrisk.errors import InputFileError
from meterrisk.store import transaction

FRAIL_CUTOFF = 8
MAX_SCORE = 25
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}

REASONS = {
    "malformed_line": "wrong number of fields",
    "missing_household_id": "empty household id",
    "bad_date": "not a YYYY-MM-DD date",
    "missing_value": "neither a checklist score nor frail",
    "score_not_integer": "the checklist score is not a whole number",
    "score_out_of_range": f"the checklist score is outside 0-{MAX_SCORE}",
    "bad_boolean": "frail is not true/false",
    "frail_contradicts_score": f"frail disagrees with the score (frail is a score of {FRAIL_CUTOFF} or more)",
    "conflicting_duplicate": "the same household and date with different values in this file",
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str | None
    reason: str
    message: str  # never the household id: these lines end up in logs and terminals

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column + ': ' if self.column else ''}{self.reason}: {self.message}"


def _score(text: str) -> tuple[int | None, str | None, str]:
    """(score, reason, message): an integer 0-25 ("7" or "7.0"); empty is None."""
    if not text:
        return None, None, ""
    try:
        value = float(text)
    except ValueError:
        return None, "score_not_integer", f"{text!r} is not a number"
    if value != value or value in (float("inf"), float("-inf")) or not value.is_integer():
        return None, "score_not_integer", f"{text!r} is not a whole number"
    if not 0 <= value <= MAX_SCORE:
        return None, "score_out_of_range", f"{text} is outside 0-{MAX_SCORE}"
    return int(value), None, ""


def read_assessments(path: str | Path) -> tuple[pl.DataFrame, list[Problem], dict]:
    """Valid rows (household_id, assessed_on, checklist_score, frail), the rejected rows'
    problems, and {read, duplicates: exact repeats (line, first_line), loaded once}."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no assessments file at {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            need = {"household_id", "assessed_on"}
            if not need <= set(header) or not ({"checklist_score", "frail"} & set(header)):
                raise InputFileError(path, "missing columns",
                                     expected="household_id, assessed_on, checklist_score[, frail]",
                                     found=", ".join(header) or "an empty file")
            col = {name: header.index(name) for name in header}
            rows, problems, n_read = [], [], 0
            for fields in reader:
                if not fields or all(not f.strip() for f in fields):
                    continue  # a blank line is not a row
                n_read += 1
                line = reader.line_num
                row, problem = _check(fields, col, len(header))
                if problem:
                    problems.append(Problem(str(path), line, *problem))
                else:
                    rows.append((line, *row))
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "not UTF-8 text", found=str(exc)) from exc
    except csv.Error as exc:
        raise InputFileError(path, f"cannot read as CSV ({exc})") from exc
    valid, duplicates = _one_per_key(path, rows, problems)
    return valid, sorted(problems, key=lambda p: p.line), {"read": n_read, "duplicates": duplicates}


def _check(fields: list[str], col: dict[str, int], width: int):
    """((household_id, assessed_on, score, frail), None) or (None, (column, reason, message))."""
    if len(fields) != width:
        return None, (None, "malformed_line", f"{len(fields)} fields, the header has {width}")
    value = {name: fields[i].strip() for name, i in col.items()}
    if not value["household_id"]:
        return None, ("household_id", "missing_household_id", REASONS["missing_household_id"])
    try:
        assessed_on = date.fromisoformat(value["assessed_on"])
    except ValueError:
        return None, ("assessed_on", "bad_date", f"{value['assessed_on']!r} is not a YYYY-MM-DD date")
    score, reason, message = _score(value.get("checklist_score", ""))
    if reason:
        return None, ("checklist_score", reason, message)
    given = value.get("frail", "").lower()
    if given and given not in _TRUE | _FALSE:
        return None, ("frail", "bad_boolean", f"{value['frail']!r} is not true/false")
    frail = None if not given else given in _TRUE
    if score is not None:
        if frail is not None and frail != (score >= FRAIL_CUTOFF):
            return None, ("frail", "frail_contradicts_score",
                          f"frail {value['frail']} with a score of {score} (frail is {FRAIL_CUTOFF} or more)")
        frail = score >= FRAIL_CUTOFF
    if frail is None:
        column = "checklist_score" if "checklist_score" in col else "frail"
        return None, (column, "missing_value", REASONS["missing_value"])
    return (value["household_id"], assessed_on, score, frail), None


def _one_per_key(path: Path, rows: list[tuple], problems: list[Problem]) -> tuple[pl.DataFrame, list[dict]]:
    """One row per (household, date): exact repeats load once (counted as duplicates);
    repeats with different values are all rejected (which one is right is not ours to guess)."""
    by_key: dict[tuple, list[tuple]] = {}
    for r in rows:
        by_key.setdefault((r[1], r[2]), []).append(r)
    keep, duplicates = [], []
    for key, group in by_key.items():
        if len({r[3:] for r in group}) == 1:
            keep.append(group[0][1:])
            duplicates += [{"file": str(path), "line": r[0], "first_line": group[0][0]} for r in group[1:]]
            continue
        lines = ", ".join(str(r[0]) for r in group)
        for r in group:
            problems.append(Problem(str(path), r[0], "checklist_score", "conflicting_duplicate",
                                    f"the same household and date with different values on lines {lines}"))
    frame = pl.DataFrame(keep, schema={"household_id": pl.String, "assessed_on": pl.Date,
                                       "checklist_score": pl.Int32, "frail": pl.Boolean}, orient="row")
    return frame, duplicates


def load_assessments(con: duckdb.DuckDBPyConnection, path: str | Path) -> dict:
    """Check ``path`` (household_id, assessed_on, checklist_score[, frail]) and upsert its valid
    rows of households whose consent is in force on the assessment date.

    Returns the accounting: read, loaded, duplicate, rejected_no_consent, rejected_invalid,
    rejected (invalid rows by reason), problems (one dict per rejected row: file, line,
    column, reason, message) and duplicates (exact repeats: file, line, first_line).
    Re-loading the same file changes nothing."""
    valid, problems, counts = read_assessments(path)
    with transaction(con, _assess_in=valid.to_arrow()):
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _assess_ok AS
            SELECT a.* FROM _assess_in a JOIN households h USING (household_id)
            WHERE h.consent_given_on <= a.assessed_on
              AND (h.consent_withdrawn_on IS NULL OR a.assessed_on < h.consent_withdrawn_on)
            """
        )
        (n_ok,) = con.execute("SELECT count(*) FROM _assess_ok").fetchall()[0]
        con.execute(
            """
            INSERT OR REPLACE INTO assessments
            SELECT household_id, assessed_on, checklist_score, frail, now()::TIMESTAMP FROM _assess_ok
            """
        )
        con.execute("DROP TABLE _assess_ok")
        out = {"read": counts["read"], "loaded": int(n_ok), "duplicate": len(counts["duplicates"]),
               "rejected_no_consent": valid.height - int(n_ok), "rejected_invalid": len(problems),
               "rejected": dict(sorted(Counter(p.reason for p in problems).items())),
               "problems": [asdict(p) for p in problems], "duplicates": counts["duplicates"]}
        if out["read"] != out["loaded"] + out["duplicate"] + out["rejected_invalid"] + out["rejected_no_consent"]:
            raise RuntimeError(f"assessment accounting does not add up for {path}: {out}")  # a bug: roll back
    return out
