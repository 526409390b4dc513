"""``meterrisk report``: the month's list and a page per flagged household, as HTML files.

Layout of the report folder::

    index.html                    tier counts and the list, flagged households linked
    households/<pseudonym>.html   one page per high-tier or new-concern household

Pages name households as the care-staff export does (registry id and district, for whom to
visit) next to the pseudonym; file names, the command's output and logs carry pseudonyms and
counts only. Every file is written atomically (temp file beside it, then rename).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from html import escape
from pathlib import Path

import polars as pl

from meterrisk import __version__
from meterrisk.errors import MeterriskError
from meterrisk.export.parquet import NEW_CONCERN_NOTE
from meterrisk.files import replace_atomically
from meterrisk.report import charts, data, html
from meterrisk.report.labels import LANGS, cjk_font, labels

log = logging.getLogger(__name__)

TIERS = ("high", "medium", "low")
HOUSEHOLDS = "households"


@dataclass
class Written:
    index: Path | None
    pages: list[Path] = field(default_factory=list)
    listed: int = 0
    warnings: list[str] = field(default_factory=list)


def _writable_folder(out: Path) -> Path:
    try:
        (out / HOUSEHOLDS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MeterriskError(f"cannot write the report to {out}: {exc.strerror or exc}",
                             hint="choose another --out folder, or grant this user write access") from None
    if not os.access(out, os.W_OK | os.X_OK) or not os.access(out / HOUSEHOLDS, os.W_OK | os.X_OK):
        raise MeterriskError(f"cannot write the report to {out}: permission denied",
                             hint="choose another --out folder, or grant this user write access")
    return out


def _write(path: Path, text: str) -> Path:
    return replace_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _chart_labels(lang: str, warnings: list[str]) -> tuple[dict, str | None]:
    """Labels for the charts and the font to draw them with: Japanese only if a CJK font is installed."""
    if lang != "ja":
        return labels(lang), None
    font = cjk_font()
    if font is None:
        warnings.append("no font with Japanese glyphs found (Debian: apt install fonts-noto-cjk): "
                        "chart labels are in English, the page text in Japanese")
        return labels("en"), None
    return labels("ja"), font


def _id_cells(row: dict, link: bool) -> list[str]:
    p = escape(row["pseudonym"])
    name = f'<a href="{HOUSEHOLDS}/{p}.html">{p}</a>' if link else p
    return [name, escape(row["household_id"]), escape(row["district"] or "")]


def index_page(listed: pl.DataFrame, as_of: date, model: str, L: dict, lang: str) -> str:
    counts = {t: listed.filter(pl.col("risk_tier") == t).height for t in TIERS}
    new = listed.filter(pl.col("new_concern")).height
    summary = html.table([L["tier"], L["households"]],
                         [[escape(L[t]), str(counts[t])] for t in TIERS] + [[escape(L["new_concern"]), str(new)]])
    rows, classes = [], []
    for r in listed.sort("rank").iter_rows(named=True):
        rows.append([str(r["rank"]), *_id_cells(r, r["flagged"]), escape(L.get(r["risk_tier"], r["risk_tier"] or "")),
                     escape(L["yes"]) if r["new_concern"] else "",
                     html.reasons_list(list(r["reasons"] or []) + list(r["concern_reasons"] or []))])
        classes.append("flagged" if r["flagged"] else "")
    note = f'<p class="note">{escape(L["new_concern_note"].format(note=NEW_CONCERN_NOTE))}</p>\n'
    table = html.table([L["rank"], L["pseudonym"], L["registry_id"], L["district"], L["tier"], L["new_concern"],
                        L["reasons"]], rows, classes)
    body = (f"<h1>{escape(L['title'].format(as_of=as_of))}</h1>\n"
            f"<p class=\"note\">{escape(L['model'].format(model=model))}</p>\n"
            f"<h2>{escape(L['tier_counts'])}</h2>\n{summary}\n{note}<h2>{escape(L['list'])}</h2>\n"
            f"<p class=\"note\">{escape(L['flagged_note'])}</p>\n{table}\n{_footer(L)}")
    return html.page(L["title"].format(as_of=as_of), body, lang)


def _footer(L: dict) -> str:
    at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return f'<p class="note">{escape(L["generated"].format(at=at, version=__version__))}</p>'


def _dates(days: list[date], L: dict, most: int = 14) -> str:
    shown = ", ".join(d.isoformat() for d in days[:most]) + (" ..." if len(days) > most else "")
    return f" ({escape(L['dates'].format(dates=shown))})" if days else ""


def caveats_html(c: data.Caveats, L: dict) -> str:
    items = [escape(L["gap_days"].format(n=len(c.gap_days), total=c.days)) + _dates(c.gap_days, L),
             escape(L["missing_days"].format(n=len(c.missing_days), total=c.days)) + _dates(c.missing_days, L),
             escape(L["flat_days"].format(n=len(c.flat_days))) + _dates(c.flat_days, L)]
    if c.absences:
        spans = ", ".join(f"{a:%Y-%m-%d} - {b:%Y-%m-%d}" for a, b in c.absences)
        items.append(escape(L["absences"].format(spans=spans)))
    else:
        items.append(escape(L["no_absences"]))
    lis = "".join(f"<li>{i}</li>" for i in items)
    return (f'<h2>{escape(L["caveats"])}</h2>\n<p class="cannot-tell">{escape(L["cannot_tell"])}</p>\n'
            f'<ul class="caveats">{lis}</ul>')


def household_page(con, row: dict, as_of: date, L: dict, CL: dict, font: str | None, lang: str) -> str:
    """One household's page: who (as on the list), heatmap, trends, caveats."""
    hid = row["household_id"]
    grid = data.heatmap(con, hid, as_of)
    features = data.daily_features(con, hid, as_of)
    wake, bed = data.usual_times(features, as_of)
    reasons, changed = list(row["reasons"] or []), list(row.get("concern_reasons") or [])
    topics = data.reason_topics(reasons + changed)
    with charts.style(font):
        heat = charts.to_svg(charts.heatmap_figure(grid, wake, bed, CL))
        trend = charts.to_svg(charts.trends_figure(data.trends(features, as_of), topics, CL))
    who = html.table([L["rank"], L["registry_id"], L["district"], L["tier"], L["new_concern"]],
                     [[str(row["rank"]), *_id_cells(row, False)[1:], escape(L.get(row["risk_tier"], "")),
                       escape(L["yes"]) if row["new_concern"] else ""]])
    title = L["household_title"].format(pseudonym=row["pseudonym"])
    changed_html = f'<h2>{escape(L["concern_reasons"])}</h2>\n{html.reasons_list(changed)}\n' if changed else ""
    body = (f'<p><a href="../index.html">{escape(L["back"])}</a></p>\n<h1>{escape(title)}</h1>\n{who}\n'
            f'<h2>{escape(L["reasons"])}</h2>\n{html.reasons_list(reasons) or escape(L["none"])}\n{changed_html}'
            f'<h2>{escape(L["heatmap"])}</h2>\n{html.figure(heat, L["heatmap_note"], "heatmap")}\n'
            f'<h2>{escape(L["trends"])}</h2>\n{html.figure(trend, L["trends_note"], "trends")}\n'
            f"{caveats_html(data.caveats(con, hid, grid), L)}\n{_footer(L)}")
    return html.page(f"{title} - {as_of}", body, lang)


def write_report(con, as_of: date, out: str | Path, *, household: str | None = None, lang: str = "en",
                 model_version: str | None = None) -> Written:
    """Write the report of ``as_of`` to ``out``; with ``household`` (a pseudonym on the list)
    only that household's page. Raises MeterriskError for no list, an unknown household, or
    a folder this user cannot write."""
    if lang not in LANGS:
        raise MeterriskError(f"unknown language {lang!r}", hint=f"use one of {', '.join(LANGS)}")
    listed = data.monthly_list(con, as_of, model_version)  # MeterriskError when there is no list
    if household is not None:
        chosen = listed.filter(pl.col("pseudonym") == household)
        if chosen.is_empty():
            raise MeterriskError(f"household {household} is not on the list of {as_of}",
                                 hint="name it by its pseudonym as on the list (consenting households only)")
    else:
        chosen = listed.filter(pl.col("flagged"))
    out = _writable_folder(Path(out))
    L = labels(lang)
    written = Written(index=None, listed=listed.height)
    CL, font = _chart_labels(lang, written.warnings)
    model = listed["model_version"][0] if listed.height else (model_version or "")
    for row in chosen.sort("rank").iter_rows(named=True):
        written.pages.append(_write(out / HOUSEHOLDS / f"{row['pseudonym']}.html",
                                    household_page(con, row, as_of, L, CL, font, lang)))
    if household is None:
        written.index = _write(out / "index.html", index_page(listed, as_of, model, L, lang))
    log.info("report of %s: %d household pages in %s", as_of, len(written.pages), out)
    return written
