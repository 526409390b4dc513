"""Forgetting a withdrawn household in the reports kept in the exports folder (called by the
withdrawal, meterrisk.consent.export_files).

A household's page is deleted; in any other report page each line naming it goes (the list
writes one household per line, meterrisk.report.html.table). A page that still names it after
that is deleted whole, so nothing is left behind by a layout this code did not foresee. Tier
counts on the index stay as written (they count people, not name them).
"""

from __future__ import annotations

import re
from pathlib import Path

from meterrisk.files import replace_atomically


def _pattern(needles: list[str]) -> re.Pattern:
    # Whole identifiers only: H0012 must not match H00123.
    return re.compile("|".join(rf"(?<![\w-]){re.escape(n)}(?![\w-])" for n in needles if n))


def erase_from_report_page(path: str | Path, needles: list[str]) -> tuple[int, bool]:
    """(lines removed, page deleted) for one HTML page of a report."""
    path = Path(path)
    pattern = _pattern(needles)
    if not pattern.pattern:
        return 0, False
    text = path.read_text(encoding="utf-8")
    if not pattern.search(text) and not pattern.fullmatch(path.stem):
        return 0, False
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not pattern.search(line)]
    if pattern.fullmatch(path.stem) or path.parent.name == "households" or any(pattern.search(k) for k in kept):
        path.unlink()
        return len(lines) - len(kept), True
    replace_atomically(path, lambda tmp: Path(tmp).write_text("".join(kept), encoding="utf-8"))
    return len(lines) - len(kept), False
