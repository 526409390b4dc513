"""``meterrisk report``: the HTML report's data, charts, pages, command and flow (issue 14).

The page and command tests read the shared town (pipelines_conftest), whose monthly flow has
written a report already; the grid and chart tests build their few days by hand.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from pipelines_conftest import TOWN_DB, built_town, cohort, cwd, prefect_harness, town_copy  # noqa: F401

from meterrisk import store
from meterrisk.cli import main

AS_OF = date(2025, 3, 31)


# ---- the half-hour grid, from reading_days ----------------------------------------------------

def _day(con, hid: str, day: date, kwh: list, slots: int = 48) -> None:
    present = sum(v is not None for v in kwh)
    con.execute("INSERT INTO reading_days VALUES (?, ?, ?, ?, ?, [1], 1)", [hid, day, slots, present, kwh])


def test_heatmap_is_days_by_half_hours_with_gaps_apart_from_zeros(tokyo):
    from meterrisk.report.data import caveats, heatmap

    full = [0.0] * 10 + [0.2] * 38        # zeros are readings
    gappy = [None] * 4 + [0.1, 0.3] * 22  # four half hours missing
    flat = [0.0] * 48                     # an outage: every reading zero
    _day(tokyo, "h1", AS_OF, full)
    _day(tokyo, "h1", AS_OF - timedelta(days=1), gappy)
    _day(tokyo, "h1", AS_OF - timedelta(days=2), flat)
    _day(tokyo, "h1", AS_OF - timedelta(days=84), full)  # before the 12 weeks: left out
    tokyo.execute("INSERT INTO absences VALUES ('h1', ?, ?, 'in hospital')", [AS_OF - timedelta(days=10),
                                                                            AS_OF - timedelta(days=5)])
    grid = heatmap(tokyo, "h1", AS_OF)
    assert grid.kwh.shape == (84, 48)
    assert grid.days[0] == AS_OF - timedelta(days=83) and grid.days[-1] == AS_OF
    assert grid.kwh[-1, 0] == 0.0 and grid.kwh[-1, 10] == 0.2
    assert np.isnan(grid.kwh[-2, :4]).all() and grid.kwh[-2, 4] == 0.1
    assert np.isnan(grid.kwh[:-3]).all()  # no rows: gaps, not zeros
    c = caveats(tokyo, "h1", grid)
    assert c.gap_days == [AS_OF - timedelta(days=1)]
    assert c.flat_days == [AS_OF - timedelta(days=2)]
    assert len(c.missing_days) == 81
    assert c.absences == [(AS_OF - timedelta(days=10), AS_OF - timedelta(days=5))]  # the note is never read


def test_clock_change_day_maps_slots_to_the_local_clock(tmp_path):
    from meterrisk.report.data import heatmap

    con = store.connect(tmp_path / "london.duckdb", timezone="Europe/London")
    try:
        autumn = date(2025, 10, 26)  # 50 half hours: 01:00-01:30 and 01:30-02:00 happen twice
        _day(con, "h1", autumn, [1.0] * 50, slots=50)
        spring = date(2025, 3, 30)  # 46 half hours: 01:00-02:00 is skipped
        _day(con, "h1", spring, [1.0] * 46, slots=46)
        grid = heatmap(con, "h1", autumn)
        row = grid.kwh[-1]
        assert row[2] == 2.0 and row[3] == 2.0 and row[1] == 1.0 and row[4] == 1.0  # repeated hour summed
        assert grid.missing[-1] == 0
        spring_row = heatmap(con, "h1", spring).kwh[-1]
        assert np.isnan(spring_row[2:4]).all() and spring_row[1] == 1.0 and spring_row[4] == 1.0
    finally:
        con.close()


def _pixel(fig, ax, x: float, y: float) -> np.ndarray:
    fig.canvas.draw()
    px, py = ax.transData.transform((x, y))
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return rgba[int(round(rgba.shape[0] - py)), int(round(px)), :3] / 255


def test_gaps_are_drawn_light_and_zero_kwh_dark():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from meterrisk.report.charts import heatmap_figure, style
    from meterrisk.report.data import Heatmap
    from meterrisk.report.labels import labels

    days = [AS_OF - timedelta(days=i) for i in range(6, -1, -1)]
    kwh = np.full((7, 48), 0.5)
    kwh[2, :] = 0.0     # a day of zero readings
    kwh[4, :] = np.nan  # a day without readings
    with style():
        fig = heatmap_figure(Heatmap(days, kwh, np.zeros(7)), None, None, labels("en"))
        FigureCanvasAgg(fig)
        ax = fig.axes[0]
        zero, gap, used = (_pixel(fig, ax, 12.1, r + 0.5).mean() for r in (2, 4, 0))
    assert zero < 0.25 < used and gap > 0.5, (zero, gap, used)  # lightness, so it holds in greyscale too


def test_wake_time_ticks_fall_on_the_minutes_they_are_labelled():
    from meterrisk.report.charts import clock, style, trends_figure
    from meterrisk.report.data import Trend
    from meterrisk.report.labels import labels

    ends = [AS_OF - timedelta(days=7 * i) for i in range(11, -1, -1)]
    for weekly, baseline in (([7.0, 7.5] * 6, 7.4),  # 07:00-07:30: the default step was 0.2 h
                             ([6.5] * 12, 6.5),      # the same every week
                             ([5.0, 11.0] * 6, None)):
        with style():
            fig = trends_figure([Trend("wake_time_h", "wake", ends, weekly, baseline)], ["wake"], labels("en"))
            fig.draw_without_rendering()
        ax = fig.axes[0]
        low, high = ax.get_ylim()
        ticks = [v for v in ax.get_yticks() if low <= v <= high]
        assert 2 <= len(ticks) <= 6, ticks  # enough to read, few enough to fit a 1.7 in panel
        for v in ticks:  # each label is its tick's own time, not one rounded to 5 minutes
            assert abs(v * 60 - round(v * 60)) < 1e-6 and round(v * 60) % 5 == 0, ticks
            assert clock(v) == f"{int(v):02d}:{round(v * 60) % 60:02d}"


def test_reason_words_pick_the_trends_behind_them():
    from meterrisk.report.data import reason_topics

    assert reason_topics(["brief activity in the night (00:00-04:30) about 5 times a week",
                          "gets up about 08:00, most residents about 06:30",
                          "cooking energy at meal times about 0.8 kWh a day",
                          "electricity in use in 30% of the night (00:00-05:00), most residents 12%",
                          "electricity in use (above standby) for about 9.9 h a day"]) == \
        ["night", "wake", "cooking", "activity"]
    assert reason_topics(["up in the night more often than in weeks 5-12: brief activity about 6 times a week",
                          "wake-up time less regular than in weeks 5-12: varies by about 1 h",
                          "uses about 30% less electricity at mealtimes than in weeks 5-12"]) == \
        ["night", "wake", "cooking"]
    assert reason_topics(None) == []


# ---- the town's report, written by its monthly flow --------------------------------------------

class _Page(HTMLParser):
    """Tags, links and text of a page; raises on a closing tag that was never opened."""

    VOID = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.svg = 0
        self.svg_sizes: list[tuple[str, str]] = []
        self.svg_images: list[list[dict]] = []  # per top-level <svg>: its <image> elements' attributes

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "svg" and not any(t == "svg" for t in self.stack):
            self.svg += 1
            self.svg_sizes.append((a.get("width"), a.get("height")))
            self.svg_images.append([])
        if tag == "image" and "svg" in self.stack:
            self.svg_images[-1].append(a)
        for key in ("href", "src", "xlink:href"):
            if key in a:
                self.links.append(a[key])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> _Page:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "http://" not in text and "https://" not in text  # nothing to fetch, not even a namespace
    p = _Page()
    p.feed(text)
    p.close()
    assert p.stack == [], p.stack
    return p


def _flagged(town: Path, as_of: str) -> pl.DataFrame:
    from meterrisk.report.data import monthly_list

    con = store.read_only(town / TOWN_DB)
    try:
        return monthly_list(con, date.fromisoformat(as_of)).filter(pl.col("flagged"))
    finally:
        con.close()


def test_flow_report_is_html_with_one_page_per_flagged_household(built_town):
    town, results = built_town
    risk = results["risk_list"]
    index = Path(risk["report"]["path"])
    assert index.is_file() and index.parent == (town / "data" / "exports" / f"report_{risk['as_of']}").resolve()
    flagged = _flagged(town, risk["as_of"])
    assert flagged.height > 0 and risk["report"]["pages"] == flagged.height
    page = parse(index)
    assert {"table", "h1", "h2"} <= set(page.tags)
    linked = sorted(link for link in page.links if link.startswith("households/"))
    assert linked == sorted(f"households/{p}.html" for p in flagged["pseudonym"])
    assert sorted(p.name for p in (index.parent / "households").iterdir()) == sorted(Path(x).name for x in linked)
    text = " ".join(page.text)
    assert all(hid in text for hid in flagged["household_id"])  # as the care-staff export: whom to visit
    for link in linked:
        household = parse(index.parent / link)
        assert household.svg == 2  # heatmap and trends, inline
        local = ("../index.html", "data:image/png;base64,", "#")
        assert all(x.startswith(local) for x in household.links), household.links
        words = " ".join(household.text)
        assert "away or unwell cannot be told apart" in words
        assert "Days with some half hours missing" in words and "registered absences" in words.lower()


def test_flow_links_the_report_from_its_artifact(town_copy, prefect_harness):
    from prefect.artifacts import Artifact

    from pipelines.risk_list import risk_list_flow

    with cwd(town_copy):
        out = risk_list_flow(db=TOWN_DB, models_dir=Path("models"))
    index = Path(out["report"]["path"])
    assert index.is_file() and index.is_relative_to(town_copy.resolve())
    summary = Artifact.get("risk-list-summary")
    assert f"(file://{index})" in summary.data and f"{out['report']['pages']} household pages" in summary.data


# ---- the command ---------------------------------------------------------------------------

def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result, needle: str) -> None:
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and needle in lines[0], lines
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), lines
    assert "Traceback" not in result.output


def test_cli_household_writes_only_its_page(built_town, tmp_path):
    town, results = built_town
    as_of = results["risk_list"]["as_of"]
    row = _flagged(town, as_of).row(0, named=True)
    result = cli("report", "--db", town / TOWN_DB, "--as-of", as_of, "--out", tmp_path / "r",
                 "--household", row["pseudonym"])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(tmp_path / "r").as_posix() for p in (tmp_path / "r").rglob("*.html")) == \
        [f"households/{row['pseudonym']}.html"]
    assert row["household_id"] not in result.output  # the command prints pseudonyms and counts only
    assert parse(tmp_path / "r" / "households" / f"{row['pseudonym']}.html").svg == 2


def test_cli_japanese_labels(built_town, tmp_path):
    from meterrisk.report.labels import cjk_font

    town, results = built_town
    as_of = results["risk_list"]["as_of"]
    pseudonym = _flagged(town, as_of)["pseudonym"][0]
    result = cli("report", "--db", town / TOWN_DB, "--as-of", as_of, "--out", tmp_path, "--household", pseudonym,
                 "--lang", "ja")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "households" / f"{pseudonym}.html").read_text(encoding="utf-8")
    assert '<html lang="ja">' in text and "不在か体調不良かは区別できません" in text
    if cjk_font() is None:
        assert "warning: no font with Japanese glyphs found" in result.stderr and "fonts-noto-cjk" in result.stderr
    else:
        assert "warning" not in result.stderr


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_found(monkeypatch):
    """apt install fonts-noto-cjk after matplotlib's first run: its cached font list does not
    have the font, and `--lang ja` must still find it (before: it warned there was none)."""
    from matplotlib import font_manager

    from meterrisk.report.labels import CJK_FAMILIES, cjk_font

    on_disk = {font_manager.get_font(p).family_name for p in font_manager.findSystemFonts()}  # not the cached list
    if not on_disk & set(CJK_FAMILIES):
        pytest.skip("no font with Japanese glyphs on this machine (apt install fonts-noto-cjk)")
    cjk_font()
    cjk_files = {f.fname for f in font_manager.fontManager.ttflist if f.name in CJK_FAMILIES}
    stale = [f for f in font_manager.fontManager.ttflist if f.fname not in cjk_files]  # as cached before the install
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    assert cjk_font() in CJK_FAMILIES


def test_cli_errors_are_one_line(built_town, tmp_path):
    town, results = built_town
    db, as_of = town / TOWN_DB, results["risk_list"]["as_of"]
    one_line_error(cli("report", "--db", db, "--as-of", "2020-01-01", "--out", tmp_path / "a"),
                   "no risk scores for 2020-01-01")
    one_line_error(cli("report", "--db", db, "--as-of", as_of, "--out", tmp_path / "b", "--household", "PNOSUCH"),
                   "household PNOSUCH is not on the list")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    one_line_error(cli("report", "--db", db, "--as-of", as_of, "--out", blocker / "report"), "cannot write the report")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # errors come before any folder
    typo = tmp_path / "dta" / "meterrisk.duckdb"
    one_line_error(cli("report", "--db", typo, "--as-of", as_of, "--out", tmp_path / "c"), f"no store at {typo}")
    assert not typo.parent.exists() and not (tmp_path / "c").exists()


def test_withdrawal_erases_the_household_from_a_report(built_town, tmp_path):
    from meterrisk.consent.export_files import erase_from_exports

    town, results = built_town
    src = Path(results["risk_list"]["report"]["path"]).parent
    report = tmp_path / "exports" / src.name
    shutil.copytree(src, report)
    row = _flagged(town, results["risk_list"]["as_of"]).row(0, named=True)
    others = sorted(p.name for p in (report / "households").iterdir() if p.stem != row["pseudonym"])
    changes = erase_from_exports(tmp_path / "exports", [row["household_id"], row["pseudonym"]])
    assert sorted(p.name for p in (report / "households").iterdir()) == others
    index = (report / "index.html").read_text(encoding="utf-8")
    assert row["household_id"] not in index and row["pseudonym"] not in index
    parse(report / "index.html")  # still a whole page
    assert all(row["pseudonym"] not in c.path for c in changes) and len(changes) == 2


# ---- a browser's view ------------------------------------------------------------------------

#: Headless flags that work on a closed network: without the background-networking ones
#: chromium can hang trying to reach its update and sync services.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1"]


def _bluish(rgb: np.ndarray) -> np.ndarray:
    """The lower half of cividis (heatmap cells, colour bar); text, links and trends are grey."""
    return rgb[..., 2] > rgb[..., 0] + 25


def _bluish_size_pt(images: list[dict]) -> tuple[float, float]:
    """Width and height (pt) of the box around the bluish pixels of a figure's embedded images
    (the heatmap's cells and its colour bar), placed as the SVG places them."""
    import base64
    import io
    import re

    from PIL import Image

    boxes = []
    for a in images:
        png = np.asarray(Image.open(io.BytesIO(base64.b64decode(a["xlink:href"].split(",", 1)[1]))).convert("RGB"),
                         dtype=int)
        x, y, w, h = (float(a[k]) for k in ("x", "y", "width", "height"))
        sx, sy = w / png.shape[1], h / png.shape[0]
        ys, xs = np.nonzero(_bluish(png))
        assert ys.size, a["id"]
        r0, r1 = ys.min() * sy, (ys.max() + 1) * sy
        flip = re.fullmatch(r"scale\(1 -1\) translate\(0 (-?[\d.]+)\)", a.get("transform", ""))
        if flip:  # matplotlib stores the rows bottom-up and flips them: drawn at -t - (y + r)
            t = -float(flip[1])
            r0, r1 = t - y - r1, t - y - r0
        else:
            assert "transform" not in a, a["transform"]
            r0, r1 = y + r0, y + r1
        boxes.append((x + xs.min() * sx, r0, x + (xs.max() + 1) * sx, r1))
    x0, y0, x1, y1 = (f(b[i] for b in boxes) for i, f in enumerate((min, min, max, max)))
    return x1 - x0, y1 - y0


def test_chromium_screenshot_of_a_household_page(built_town, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's `chromium` is not on PATH: `make browser` installs it when run as root with apt-get "
                    "(`make test` and .ci/run do that), else apt-get install chromium")
    from PIL import Image

    from meterrisk.report.charts import HEATMAP_SIZE

    town, results = built_town
    index = Path(results["risk_list"]["report"]["path"])
    page = sorted((index.parent / "households").iterdir())[0]
    shot = tmp_path / "page.png"
    try:
        run = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                              "--window-size=1100,1400", f"--screenshot={shot}", page.as_uri()],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail("chromium took over 60 s to screenshot one page (hung? see CHROMIUM_FLAGS)")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    rgb = np.asarray(Image.open(shot).convert("RGB"), dtype=int)
    assert rgb.shape == (1400, 1100, 3)
    grey = rgb.mean(axis=2)
    assert grey.std() > 10 and (grey < 128).mean() > 0.02  # not blank
    # The heatmap's SVG says its size (pt); the browser draws pt x 4/3 px (CSS px, scale factor 1).
    # Its cells and colour bar are the only bluish pixels of the page, so the box around them in
    # the screenshot has the size of the box around them in the SVG's own embedded images.
    html_page = parse(page)
    assert html_page.svg_sizes[0] == (f"{HEATMAP_SIZE[0] * 72:g}pt", f"{HEATMAP_SIZE[1] * 72:g}pt")
    width_pt, height_pt = _bluish_size_pt(html_page.svg_images[0])
    ys, xs = np.nonzero(_bluish(rgb))
    assert ys.size, "no heatmap cells in the screenshot"
    box_w, box_h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert abs(box_w - width_pt * 4 / 3) <= 3 and abs(box_h - height_pt * 4 / 3) <= 3, \
        ((box_w, box_h), (width_pt * 4 / 3, height_pt * 4 / 3))
