"""Label strings of the report in English and Japanese (``--lang ja``), and the CJK font check.

Charts are drawn with matplotlib, which needs a font with Japanese glyphs for Japanese chart
labels (Debian: ``fonts-noto-cjk``). Without one the charts keep English labels and a warning
says so; the HTML text stays Japanese (the browser has its own fonts).
"""

from __future__ import annotations

LANGS = ("en", "ja")

LABELS = {
    "en": {
        "title": "Risk list {as_of}",
        "household_title": "Household {pseudonym}",
        "tier_counts": "Households by tier", "list": "The list, highest risk first",
        "tier": "Tier", "rank": "Rank", "pseudonym": "Pseudonym", "registry_id": "Registry id",
        "district": "District", "reasons": "Reasons", "new_concern": "New concern", "households": "Households",
        "high": "high", "medium": "medium", "low": "low", "yes": "yes",
        "concern_reasons": "What changed (new-concern list)",
        "new_concern_note": "New-concern list: {note}.",
        "flagged_note": "Households in the high tier or on the new-concern list have their own page (linked).",
        "model": "Model {model}; consenting households only; ranks 1..n among them.",
        "back": "Back to the list",
        "heatmap": "Electricity use by half hour, last 12 weeks",
        "heatmap_x": "Time of day (local clock)", "heatmap_y": "Day",
        "heatmap_cbar": "kWh per half hour", "gap": "no reading (gap)",
        "usual_wake": "usual wake time {t}", "usual_bed": "usual bed time {t}",
        "heatmap_note": ("Darker = less electricity; the darkest cells are 0 kWh, which is a reading. "
                         "Hatched white cells have no reading. Lines: usual wake (dashed) and bed (dotted) "
                         "time, the median of the last 28 valid days."),
        "trends": "Changes behind the reasons, weekly medians",
        "trends_note": ("Solid line with dots: the median of each week's valid days. Dashed line: the median "
                        "of the 12 weeks before (this household's own earlier level). Marked with * when a "
                        "reason speaks of it."),
        "week_ending": "Week ending",
        "earlier": "earlier 12 weeks", "weekly": "weekly median",
        "wake_time_h": "Wake time (hour of day)", "active_share": "Active half hours (% of the day)",
        "night_activity_share": "Active at night 00:00-05:00 (% of half hours)",
        "regularity_corr": "Likeness to usual day (correlation, 1 = same)", "meal_kwh": "Cooking energy (kWh a day)",
        "longest_inactive_run_h": "Longest break in use while awake (hours)",
        "caveats": "What the data can and cannot tell",
        "cannot_tell": ("Electricity shows when appliances are used, not who uses them or why: a home that goes "
                        "quiet may be empty or its resident unwell; away or unwell cannot be told apart."),
        "gap_days": "Days with some half hours missing: {n} of {total}.",
        "missing_days": "Days with no reading at all: {n} of {total}.",
        "flat_days": "Days with every reading the same (all zero or flat; an outage or estimated values): {n}.",
        "absences": "Registered absences in these weeks: {spans}.",
        "no_absences": "No registered absences in these weeks.",
        "dates": "dates: {dates}",
        "none": "none",
        "no_data": "not enough valid days",
        "generated": "Generated {at} UTC by meterrisk {version}.",
    },
    "ja": {
        "title": "リスク一覧 {as_of}",
        "household_title": "世帯 {pseudonym}",
        "tier_counts": "区分ごとの世帯数", "list": "一覧（リスクの高い順）",
        "tier": "区分", "rank": "順位", "pseudonym": "仮名ID", "registry_id": "台帳ID",
        "district": "地区", "reasons": "理由", "new_concern": "新たな懸念", "households": "世帯数",
        "high": "高", "medium": "中", "low": "低", "yes": "あり",
        "concern_reasons": "変化したこと（新たな懸念）",
        "new_concern_note": "新たな懸念の一覧は試験的なものです。誰が虚弱になるかを偶然より良く見つけられるとはまだ言えません。優先順位ではなく、定期的な声かけのきっかけとしてお使いください。",
        "flagged_note": "区分「高」または新たな懸念の世帯には個別のページがあります（リンク）。",
        "model": "モデル {model}。同意のある世帯のみ。順位はその中での 1..n。",
        "back": "一覧に戻る",
        "heatmap": "30分ごとの電力使用量（直近12週間）",
        "heatmap_x": "時刻（現地時間）", "heatmap_y": "日付",
        "heatmap_cbar": "30分あたりの kWh", "gap": "データなし（欠測）",
        "usual_wake": "普段の起床時刻 {t}", "usual_bed": "普段の就寝時刻 {t}",
        "heatmap_note": ("濃いほど使用量が少なく、最も濃いマスは 0 kWh（これも計測値です）。斜線の白いマスは計測値なし。"
                         "線は普段の起床（破線）と就寝（点線）の時刻で、直近28日の有効日の中央値です。"),
        "trends": "理由に関わる変化（週ごとの中央値）",
        "trends_note": ("点付きの実線：各週の有効日の中央値。破線：それ以前の12週間の中央値（この世帯自身の以前の水準）。"
                        "理由に挙げられた項目には * が付きます。"),
        "week_ending": "週の最終日",
        "earlier": "以前の12週間", "weekly": "週の中央値",
        "wake_time_h": "起床時刻（時）", "active_share": "活動のある30分枠（1日の%）",
        "night_activity_share": "夜間 0-5時の活動（30分枠の%）",
        "regularity_corr": "普段の1日との類似度（相関、1 = 同じ）", "meal_kwh": "調理の電力（1日の kWh）",
        "longest_inactive_run_h": "起きている間の最長の無使用時間（時間）",
        "caveats": "データでわかること・わからないこと",
        "cannot_tell": ("電力データからわかるのは家電が使われた時間だけで、誰がなぜ使ったかはわかりません。"
                        "静かな家は留守かもしれず、体調不良かもしれません。不在か体調不良かは区別できません。"),
        "gap_days": "一部の30分枠が欠けている日：{total}日中{n}日。",
        "missing_days": "計測値がまったくない日：{total}日中{n}日。",
        "flat_days": "すべての値が同じ日（すべてゼロまたは一定。停電または推定値）：{n}日。",
        "absences": "この期間に登録された不在：{spans}。",
        "no_absences": "この期間に登録された不在はありません。",
        "dates": "日付：{dates}",
        "none": "なし",
        "no_data": "有効日が足りません",
        "generated": "{at} UTC に meterrisk {version} で作成。",
    },
}

#: Font families with Japanese glyphs, in order of preference (Debian fonts-noto-cjk first).
CJK_FAMILIES = ["Noto Sans CJK JP", "Noto Serif CJK JP", "IPAexGothic", "IPAGothic", "TakaoGothic",
                "VL Gothic", "Source Han Sans JP", "Hiragino Sans", "Yu Gothic", "MS Gothic"]


def cjk_font() -> str | None:
    """The first installed font family that can draw Japanese, or None.

    matplotlib reads the system's fonts once and caches the list (~/.cache/matplotlib), so a
    font installed after that (apt install fonts-noto-cjk) is not in it: then the font files
    not in the list are added, which takes a few hundredths of a second."""
    from matplotlib import font_manager

    def first() -> str | None:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FAMILIES if name in installed), None)

    found = first()
    if found is None:
        known = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read: not a font we can use
                    continue
        found = first()
    return found


def labels(lang: str) -> dict[str, str]:
    return LABELS[lang]
