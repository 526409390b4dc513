"""Routine features over the whole 12-week window: rates too noisy to read from 4 weeks.

Night blips are rare events (a robust resident has a few a week), so their 28-day mean
(``night_blips_mean_28d``, a summarised daily feature) counts few of them; the mean over all
valid days of the 84 the window reads halves its noise. Each function takes the
:class:`~meterrisk.features.windows.sums.Window` and returns one expression.
"""

from __future__ import annotations

import polars as pl

from meterrisk.features.windows.spans import HISTORY
from meterrisk.features.windows.sums import Window


def night_blips_mean_84d(w: Window) -> pl.Expr:
    """Mean of daily night_blips over the valid days in the 84 up to as_of (the whole window):
    small night-time bumps per night, a day/night reversal sign.

    Unit: count (half hours per night)
    Edge cases: null on days without night_blips; the window as a whole needs 21 valid days
    in the last 28 (dq_flag).
    """
    return w.mean("night_blips", HISTORY)
